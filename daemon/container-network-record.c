/* A container's networks in its record and in inspect (see container-network.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "common/strv.h"
#include "daemon/container-etc.h"
#include "daemon/container-network-internal.h"
#include "daemon/container.h"
#include "daemon/network.h"
#include "network/ipam.h"
#include "network/ipam.h"

static const char *const config_lists[] = {"network_aliases", "extra_hosts", "dns", "dns_search", "dns_options"};

static char ***config_list(struct container_config *cfg, size_t i)
{
	char ***lists[] = {&cfg->network_aliases, &cfg->extra_hosts, &cfg->dns, &cfg->dns_search, &cfg->dns_options};
	return lists[i];
}

void container_network_config_done(struct container_config *cfg)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_lists); i++)
		strv_free(TAKE_PTR(*config_list(cfg, i)));
	free(TAKE_PTR(cfg->ip));
}

static json_t *endpoint_json(const struct container_endpoint *ep)
{
	char addr[16] = "";
	if (ep->addr)
		ipam_format_addr(ep->addr, addr);
	return json_pack("{s:s, s:s, s:i, s:s, s:b, s:o}", "network_id", ep->network_id, "endpoint_id", ep->id, "index",
			 (int)ep->index, "ip", addr, "static", ep->static_addr, "aliases", strv_to_json(ep->aliases));
}

int container_network_to_record(const struct container *ct, json_t *rec, json_t *config)
{
	json_t *a = json_array();
	if (!a || json_object_set_new(rec, "endpoints", a) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ct->n_endpoints; i++)
		if (json_array_append_new(a, endpoint_json(&ct->endpoints[i])) < 0)
			return -ENOMEM;
	struct container_config *cfg = (struct container_config *)&ct->cfg;
	for (size_t i = 0; config && i < ARRAY_SIZE(config_lists); i++)
		if (*config_list(cfg, i) &&
		    json_object_set_new(config, config_lists[i], strv_to_json(*config_list(cfg, i))) < 0)
			return -ENOMEM;
	if (config && cfg->ip && json_object_set_new(config, "ip", json_string(cfg->ip)) < 0)
		return -ENOMEM;
	return 0;
}

/* A list of the record: strings each a valid item, at most CONTAINER_ETC_MAX_ITEMS. */
static int list_from(json_t *a, char ***ret)
{
	*ret = NULL;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > CONTAINER_ETC_MAX_ITEMS)
		return -EBADMSG;
	_cleanup_strv_free_ char **v = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s || strlen(s) > CONTAINER_ETC_ITEM_MAX + 64)
			return -EBADMSG;
		if (!(v[i] = strdup(s)))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

static bool hex64(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* A record is the daemon's own output, but a disk can hand back anything: each endpoint is
 * checked (ids, index, address, aliases), and the record refused otherwise. */
int container_network_from_record(struct container *ct, json_t *rec, json_t *config)
{
	struct container_config *cfg = &ct->cfg;
	json_t *eps = json_object_get(rec, "endpoints"), *ip = json_object_get(config, "ip");
	int r;
	for (size_t i = 0; i < ARRAY_SIZE(config_lists); i++)
		if ((r = list_from(json_object_get(config, config_lists[i]), config_list(cfg, i))) < 0)
			return r;
	if (ip && !json_is_null(ip)) {
		if (!json_is_string(ip) || !(cfg->ip = strdup(json_string_value(ip))))
			return json_is_string(ip) ? -ENOMEM : -EBADMSG;
	}
	if (!eps || json_is_null(eps))
		return 0; /* a record from before networks: no endpoint */
	if (!json_is_array(eps) || json_array_size(eps) > 16)
		return -EBADMSG;
	if (json_array_size(eps) && !(ct->endpoints = calloc(json_array_size(eps), sizeof(*ct->endpoints))))
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(eps); i++) {
		const char *nid = NULL, *eid = NULL, *addr = NULL;
		int index = 0, st = 0;
		json_t *aliases = NULL;
		struct container_endpoint *ep = &ct->endpoints[ct->n_endpoints];
		if (json_unpack(json_array_get(eps, i), "{s:s, s:s, s:i, s:s, s:b, s?o}", "network_id", &nid,
				"endpoint_id", &eid, "index", &index, "ip", &addr, "static", &st, "aliases",
				&aliases) < 0 ||
		    !hex64(nid) || !hex64(eid) || index < 0 || index >= 100 ||
		    (addr[0] && ipam_parse_addr(addr, &ep->addr) < 0))
			return -EBADMSG;
		memcpy(ep->network_id, nid, 65);
		memcpy(ep->id, eid, 65);
		ep->index = (unsigned)index;
		ep->static_addr = st;
		ct->n_endpoints++;
		if ((r = list_from(aliases, &ep->aliases)) < 0)
			return r;
		for (size_t j = 0; j + 1 < ct->n_endpoints; j++)
			if (ct->endpoints[j].index == ep->index || strcmp(ct->endpoints[j].network_id, nid) == 0)
				return -EBADMSG;
	}
	return 0;
}

/* One network of NetworkSettings.Networks, as Docker's; the address only while it is linked
 * (Docker's shows none for a stopped container), the one asked for in IPAMConfig. */
static json_t *network_json(const struct container *ct, const struct container_endpoint *ep, char *addr, char *gateway,
			    char *mac, int *prefix)
{
	struct network *n = container_network_of(ct, ep);
	uint8_t m[6];
	addr[0] = gateway[0] = mac[0] = '\0';
	*prefix = 0;
	if (ep->linked && ep->addr) {
		ipam_format_addr(ep->addr, addr);
		ipam_mac_from_addr(ep->addr, m);
		snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		if (n) {
			ipam_format_addr(n->gateway, gateway);
			*prefix = n->subnet.prefix;
		}
	}
	json_t *ipam = json_null();
	if (ep->static_addr) {
		char fixed[16];
		ipam_format_addr(ep->addr, fixed);
		ipam = json_pack("{s:s}", "IPv4Address", fixed);
	}
	return json_pack("{s:o, s:o, s:s, s:s, s:s, s:s, s:i, s:s}", "IPAMConfig", ipam, "Aliases",
			 ep->aliases ? strv_to_json(ep->aliases) : json_null(), "NetworkID", ep->network_id,
			 "EndpointID", ep->linked ? ep->id : "", "Gateway", gateway, "IPAddress", addr, "IPPrefixLen",
			 *prefix, "MacAddress", mac);
}

json_t *container_network_inspect(const struct container *ct)
{
	json_t *nets = json_object();
	char addr[16] = "", gateway[16] = "", mac[18] = "", a[16], g[16], m[18];
	int prefix = 0, p;
	if (!nets)
		return NULL;
	for (size_t i = 0; i < ct->n_endpoints; i++) {
		const struct container_endpoint *ep = &ct->endpoints[i];
		struct network *n = container_network_of(ct, ep);
		json_t *o = network_json(ct, ep, a, g, m, &p);
		if (!o || json_object_set_new(nets, n ? n->name : ep->network_id, o) < 0) {
			json_decref(nets);
			return NULL;
		}
		/* The top-level fields are the default bridge's, as Docker's. */
		if (n && !n->user_defined && strcmp(n->driver, "bridge") == 0) {
			memcpy(addr, a, sizeof(a));
			memcpy(gateway, g, sizeof(g));
			memcpy(mac, m, sizeof(m));
			prefix = p;
		}
	}
	/* --network none, host, container:NAME: Docker names the mode with no address. */
	const char *mode = ct->cfg.network_mode;
	if (ct->n_endpoints == 0 && mode && strncmp(mode, "container:", 10) != 0 &&
	    json_object_set_new(nets, mode,
				json_pack("{s:s, s:s, s:s, s:i, s:s}", "NetworkID", "", "Gateway", "", "IPAddress", "",
					  "IPPrefixLen", 0, "MacAddress", "")) < 0) {
		json_decref(nets);
		return NULL;
	}
	return json_pack("{s:o, s:s, s:s, s:i, s:s}", "Networks", nets, "IPAddress", addr, "Gateway", gateway,
			 "IPPrefixLen", prefix, "MacAddress", mac);
}
