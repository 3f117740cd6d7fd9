/* Published ports, the networks' side (daemon/container-ports.h): where a container's ports lead
 * (its endpoint's address, its network's bridge), the nft table applied through the network
 * registry, and the registry's callback that lists every published port for it. */
#include <errno.h>
#include <stdlib.h>

#include "daemon/container-network.h"
#include "daemon/container-ports.h"
#include "daemon/container.h"
#include "daemon/network.h"
#include "daemon/registry.h"
#include "network/nft.h"

/* The networks' side: where the ports lead, and the nft table. */

bool container_ports_target(const struct container *ct, uint32_t *ret_ip, const char **ret_bridge)
{
	struct network_registry *nr = ct->reg->networks;
	for (size_t i = 0; nr && i < ct->n_endpoints; i++) {
		const struct container_endpoint *e = &ct->endpoints[i];
		struct network *n = network_lookup(nr, e->network_id);
		if (!n || !n->bridge || !e->addr)
			continue;
		if (ret_ip)
			*ret_ip = e->addr;
		if (ret_bridge)
			*ret_bridge = n->bridge;
		return true;
	}
	return false;
}

/* The container whose start applies the table: not in the registry's list yet (a run links it
 * once its init took the spec), but its ports are in the table before its command runs. */
static struct container *ports_starting;

int container_ports_apply(struct registry *reg, char **reterr)
{
	return container_ports_apply_for(reg, NULL, reterr);
}

int container_ports_apply_for(struct registry *reg, struct container *starting, char **reterr)
{
	if (!reg->networks)
		return 0;
	ports_starting = starting;
	int r = network_registry_apply_nft(reg->networks, reterr);
	ports_starting = NULL;
	return r;
}

/* Appends the published ports of ct that lead somewhere. */
static void ports_nft_add(const struct container *ct, struct nft_port *v, size_t *k)
{
	uint32_t ip;
	const char *bridge;
	if (!ct->n_bound_ports || !container_ports_target(ct, &ip, &bridge))
		return;
	for (size_t i = 0; i < ct->n_bound_ports; i++) {
		const struct port_binding *b = &ct->bound_ports[i].b;
		v[(*k)++] = (struct nft_port){.proto = b->proto,
					      .host_ip = b->host_ip,
					      .host_port = b->host_port,
					      .ctr_ip = ip,
					      .ctr_port = b->ctr_port,
					      .bridge = bridge};
	}
}

int container_ports_nft(void *userdata, struct nft_port **ret, size_t *ret_n)
{
	struct registry *reg = userdata;
	bool linked = false;
	for (const struct container *ct = reg->list; ct && ports_starting; ct = ct->next)
		linked = linked || ct == ports_starting;
	const struct container *extra = ports_starting && !linked ? ports_starting : NULL;
	size_t n = container_ports_total(reg) + (extra ? extra->n_bound_ports : 0), k = 0;
	*ret = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	struct nft_port *v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (const struct container *ct = reg->list; ct; ct = ct->next)
		ports_nft_add(ct, v, &k);
	if (extra)
		ports_nft_add(extra, v, &k);
	*ret = v;
	*ret_n = k;
	return 0;
}
