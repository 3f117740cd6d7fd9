/* A container on its networks (see container-network.h): endpoints, their veth pairs and
 * addresses, network.connect and network.disconnect. The /etc files are in
 * container-network-etc.c, the record and inspect in container-network-record.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/strv.h"
#include "common/util.h"
#include "daemon/container-etc.h"
#include "daemon/container-network-internal.h"
#include "daemon/container-network.h"
#include "daemon/container-record.h"
#include "daemon/container.h"
#include "daemon/network.h"
#include "daemon/registry.h"
#include "network/ipam.h"
#include "network/netlink.h"

/* The most networks one container joins (ethN with N below this). */
#define ENDPOINTS_MAX 16

/* The daemon's own network namespace: one rtnetlink socket for its whole life, opened at the
 * first container that needs it (a socket per setup would cost a socket and a bind per start). */
static struct netlink *host_nl;

static int host_netlink(struct netlink **ret, char **reterr)
{
	if (!host_nl) {
		int r = netlink_open(&host_nl, reterr);
		if (r < 0)
			return r;
	}
	*ret = host_nl;
	return 0;
}

int container_network_host_netlink(struct netlink **ret, char **reterr)
{
	return host_netlink(ret, reterr);
}

void container_network_veth_name(const struct container *ct, const struct container_endpoint *ep, char buf[16])
{
	container_network_veth_name_of(ct->id, ep->index, buf);
}

void container_network_veth_name_of(const char *id, unsigned index, char buf[16])
{
	snprintf(buf, 16, "veth%.7s%u", id, index % 100);
}

/* Whether a network mode is one the namespaces module handles (no endpoint of ours). */
static bool mode_shared(const char *mode)
{
	return mode && (strcmp(mode, "none") == 0 || strcmp(mode, "host") == 0 || strncmp(mode, "container:", 10) == 0);
}

struct network *container_network_of(const struct container *ct, const struct container_endpoint *ep)
{
	return ct->reg->networks ? network_lookup(ct->reg->networks, ep->network_id) : NULL;
}

struct container_endpoint *container_network_find(const struct container *ct, const char *network_id)
{
	for (size_t i = 0; i < ct->n_endpoints; i++)
		if (strcmp(ct->endpoints[i].network_id, network_id) == 0)
			return &ct->endpoints[i];
	return NULL;
}

static void endpoint_done(struct container_endpoint *ep)
{
	strv_free(ep->aliases);
	ep->aliases = NULL;
}

/* Gives an endpoint's address back to its network, if this daemon holds it. */
static void endpoint_release(struct container *ct, struct container_endpoint *ep)
{
	struct network *n = container_network_of(ct, ep);
	if (ep->addr_held && n)
		network_address_release(n, ep->addr);
	ep->addr_held = false;
}

static int check_aliases(char *const *aliases, char **reterr)
{
	size_t n = 0;
	for (char *const *a = aliases; a && *a; a++, n++)
		if (!container_etc_name_valid(*a))
			return err_set(reterr, -EINVAL, "invalid network alias \"%.80s\"", *a);
	if (n > CONTAINER_ETC_MAX_ITEMS)
		return err_set(reterr, -EINVAL, "at most %d network aliases", CONTAINER_ETC_MAX_ITEMS);
	return 0;
}

/* A new endpoint of ct on n (not linked): aliases copied, --ip reserved. Docker refuses aliases
 * and a fixed address on a network that is not user-defined: its containers do not resolve
 * names, and its addresses are the daemon's to hand out. */
static int endpoint_add(struct container *ct, struct network *n, char *const *aliases, const char *ip,
			struct container_endpoint **ret, char **reterr)
{
	int r;
	if (container_network_find(ct, n->id))
		return err_set(reterr, -EEXIST, "endpoint with name %s already exists in network %s", ct->name,
			       n->name);
	if (ct->n_endpoints >= ENDPOINTS_MAX)
		return err_set(reterr, -E2BIG, "a container joins at most %d networks", ENDPOINTS_MAX);
	if (aliases && aliases[0] && !n->user_defined)
		return err_set(reterr, -EINVAL,
			       "network-scoped alias is supported only for containers in user defined networks");
	if (ip && !n->user_defined)
		return err_set(reterr, -EINVAL, "user specified IP address is supported on user defined networks only");
	if ((r = check_aliases(aliases, reterr)) < 0)
		return r;
	struct container_endpoint ep = {.index = 0};
	/* The lowest ethN free in the container. */
	for (bool taken = true; taken; ep.index++) {
		taken = false;
		for (size_t i = 0; i < ct->n_endpoints; i++)
			taken |= ct->endpoints[i].index == ep.index;
		if (!taken)
			break;
	}
	memcpy(ep.network_id, n->id, sizeof(ep.network_id));
	if ((r = random_hex(ep.id, 32)) < 0)
		return err_set(reterr, r, "cannot make an endpoint id: %m");
	if (aliases && !(ep.aliases = strv_copy((const char *const *)aliases, SIZE_MAX)))
		return err_set(reterr, -ENOMEM, "out of memory");
	if (ip) {
		uint32_t want;
		if (ipam_parse_addr(ip, &want) < 0) {
			endpoint_done(&ep);
			return err_set(reterr, -EINVAL, "invalid IPv4 address \"%.80s\"", ip);
		}
		if ((r = network_address_alloc(n, want, &ep.addr, reterr)) < 0) {
			endpoint_done(&ep);
			return r;
		}
		ep.static_addr = ep.addr_held = true;
	}
	struct container_endpoint *v = reallocarray(ct->endpoints, ct->n_endpoints + 1, sizeof(*v));
	if (!v) {
		if (ep.addr_held)
			network_address_release(n, ep.addr);
		endpoint_done(&ep);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	ct->endpoints = v;
	v[ct->n_endpoints] = ep;
	*ret = &v[ct->n_endpoints++];
	return 0;
}

/* Removes endpoint i from the list (released and unlinked already). */
static void endpoint_remove(struct container *ct, size_t i)
{
	endpoint_done(&ct->endpoints[i]);
	memmove(&ct->endpoints[i], &ct->endpoints[i + 1], (ct->n_endpoints - i - 1) * sizeof(ct->endpoints[0]));
	ct->n_endpoints--;
}

int container_network_init(struct container *ct, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	const char *mode = cfg->network_mode;
	int r;
	for (char **h = cfg->extra_hosts; h && *h; h++) {
		_cleanup_free_ char *host = NULL, *addr = NULL;
		if ((r = container_etc_extra_host_parse(*h, &host, &addr, reterr)) < 0)
			return r;
	}
	if ((r = container_etc_dns_check(cfg->dns, cfg->dns_search, cfg->dns_options, reterr)) < 0)
		return r;
	if (mode_shared(mode)) {
		/* Docker: aliases and addresses belong to an endpoint, which these modes have none of. */
		if ((cfg->network_aliases && cfg->network_aliases[0]) || cfg->ip)
			return err_set(reterr, -EINVAL,
				       "--network-alias and --ip need a bridge network, not --network %s", mode);
		return 0;
	}
	struct network_registry *nr = ct->reg->networks;
	/* "default" is Docker's other name of the default network. */
	if (mode && strcmp(mode, "default") == 0)
		mode = NULL;
	struct network *n = !nr ? NULL : mode ? network_lookup(nr, mode) : network_default(nr);
	if (!n && !mode && !nr)
		return 0;
	if (!n)
		return err_set(reterr, -ENOENT, "network %s not found", mode ? mode : "bridge");
	if (strcmp(n->driver, "bridge") != 0) {
		/* The default is "none" (containd --bridge none), or a built-in named by its id. */
		if ((cfg->network_aliases && cfg->network_aliases[0]) || cfg->ip)
			return err_set(reterr, -EINVAL, "--network-alias and --ip need a bridge network, not %s",
				       n->name);
		return 0;
	}
	struct container_endpoint *ep;
	return endpoint_add(ct, n, cfg->network_aliases, cfg->ip, &ep, reterr);
}

/* Opens the network namespace of a container's init. Why it is the right one: ct->proc is the
 * init the daemon itself cloned for this container, with a network namespace of its own; at a
 * start it has not received its spec yet, so no container code ran that could have changed it.
 * /proc/PID names whatever process has that pid when it is read, so the open is checked after
 * the fact through the pidfd: the signal 0 succeeds only while the process lives, and while it
 * lives its pid cannot name another one, so the namespace opened was its. (For a connect to a
 * running container the init is the container's PID 1: a namespace it moved itself to is one it
 * could reach anyway, and only it is affected.) */
static int open_netns(const struct container *ct, char **reterr)
{
	if (!pidref_is_set(&ct->proc))
		return err_set(reterr, -ESRCH, "container %s has no process", ct->name);
	int fd = pidref_open_ns(&ct->proc, "net");
	if (fd == -ESRCH)
		return err_set(reterr, fd, "container %s exited while its network was set up", ct->name);
	if (fd < 0)
		return err_set(reterr, fd, "cannot open the network namespace of container %s: %m", ct->name);
	return fd;
}

/* Whether another container (than except) has an endpoint whose host veth is named name. */
static bool veth_owned_by_other(struct registry *reg, const char *name, const struct container *except)
{
	for (struct container *o = reg->list; o; o = o->next)
		for (size_t i = 0; o != except && i < o->n_endpoints; i++) {
			char v[16];
			container_network_veth_name(o, &o->endpoints[i], v);
			if (strcmp(v, name) == 0)
				return true;
		}
	return false;
}

/* Makes one endpoint's veth pair, the peer straight in the container's namespace as ethN (never
 * in the host's, where a name could clash), the host end on the network's bridge with hairpin
 * (a container reaching a published port of its own bridge) and up; inside: MAC, address, up,
 * and the default route via the gateway for the first network (not an internal one). */
static int endpoint_link(struct container *ct, struct container_endpoint *ep, struct network *n, struct netlink *hnl,
			 struct netlink *cnl, int netns_fd, bool first, char **reterr)
{
	char veth[16], ifname[16];
	uint8_t mac[6];
	int r;
	container_network_veth_name(ct, ep, veth);
	snprintf(ifname, sizeof(ifname), "eth%u", ep->index);
	if (!ep->addr) {
		if ((r = network_address_alloc(n, 0, &ep->addr, reterr)) < 0)
			return r;
		ep->addr_held = true;
	}
	r = netlink_veth_add(hnl, veth, ifname, netns_fd, NULL);
	if (r == -EEXIST && !veth_owned_by_other(ct->reg, veth, ct) && network_link_is_ours(n->nr, hnl, veth)) {
		/* Left by a run of this container whose cleanup never came (a daemon killed meanwhile);
		 * a link of that name without containd's mark is someone else's and stays. */
		(void)netlink_link_del(hnl, veth, NULL);
		r = netlink_veth_add(hnl, veth, ifname, netns_fd, reterr);
	} else if (r < 0) {
		r = err_set(reterr, r, "cannot create the veth pair %s: %m", veth);
	}
	if (r < 0)
		return r;
	ep->linked = true;
	ipam_mac_from_addr(ep->addr, mac);
	/* The mark goes on with the first change after the creation: a crash in between leaves an
	 * unmarked veth, which reconcile keeps (the safe side) and which goes away with the
	 * container's network namespace. */
	struct netlink_link_opts host = {.up = true, .master = n->bridge, .hairpin = true, .alias = n->nr->link_alias};
	struct netlink_link_opts inside = {.up = true, .mac = mac};
	if ((r = netlink_link_set(hnl, veth, &host, reterr)) < 0 ||
	    (r = netlink_link_set(cnl, ifname, &inside, reterr)) < 0 ||
	    (r = netlink_addr_add(cnl, ifname, ep->addr, n->subnet.prefix, reterr)) < 0)
		return r;
	if (first && !n->internal && (r = netlink_route_add(cnl, ifname, NULL, n->gateway, reterr)) < 0)
		return r;
	return 0;
}

/* The endpoint with the lowest index: the one that gets the default route. */
static const struct container_endpoint *first_endpoint(const struct container *ct)
{
	const struct container_endpoint *first = NULL;
	for (size_t i = 0; i < ct->n_endpoints; i++)
		if (!first || ct->endpoints[i].index < first->index)
			first = &ct->endpoints[i];
	return first;
}

int container_network_setup(struct container *ct, char **reterr)
{
	struct netlink *hnl, *cnl = NULL;
	int r;
	for (size_t i = 0; i < ct->n_endpoints; i++)
		ct->endpoints[i].linked = false;
	if (ct->n_endpoints == 0)
		return container_network_write_etc(ct, reterr);
	/* Made with its spare (container-network-spare.c): no netlink call on the start path. */
	if (ct->n_endpoints == 1 && ct->endpoints[0].prepared) {
		ct->endpoints[0].prepared = false;
		ct->endpoints[0].linked = true;
		if ((r = container_network_write_etc(ct, reterr)) < 0)
			return r;
		container_network_refresh_peers(ct, NULL);
		return 0;
	}
	_cleanup_close_ int netns_fd = open_netns(ct, reterr);
	if (netns_fd < 0)
		return netns_fd;
	if ((r = host_netlink(&hnl, reterr)) < 0 || (r = netlink_open_in(netns_fd, &cnl, reterr)) < 0)
		return r;
	const struct container_endpoint *first = first_endpoint(ct);
	for (size_t i = 0; i < ct->n_endpoints; i++) {
		struct container_endpoint *ep = &ct->endpoints[i];
		struct network *n = container_network_of(ct, ep);
		if (!n) {
			r = err_set(reterr, -ENOENT, "network %.12s of container %s not found", ep->network_id,
				    ct->name);
			break;
		}
		if ((r = endpoint_link(ct, ep, n, hnl, cnl, netns_fd, ep == first, reterr)) < 0)
			break;
	}
	netlink_close(cnl);
	if (r < 0)
		return r;
	if ((r = container_network_write_etc(ct, reterr)) < 0)
		return r;
	container_network_refresh_peers(ct, NULL);
	return 0;
}

void container_network_teardown(struct container *ct)
{
	bool any = false;
	for (size_t i = 0; i < ct->n_endpoints; i++) {
		any |= ct->endpoints[i].linked;
		ct->endpoints[i].linked = false;
		ct->endpoints[i].prepared = false; /* a start that failed before its setup */
	}
	if (any)
		container_network_refresh_peers(ct, NULL);
}

int container_network_unlink_all(struct container *ct)
{
	struct netlink *nl = NULL;
	int ret = 0;
	if (ct->n_endpoints == 0)
		return 0;
	/* A socket of its own: this runs in a child, and the parent's would mix the replies. */
	int r = netlink_open(&nl, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ct->n_endpoints; i++) {
		char veth[16];
		container_network_veth_name(ct, &ct->endpoints[i], veth);
		r = netlink_link_del(nl, veth, NULL);
		if (r < 0 && r != -ENODEV)
			ret = r;
	}
	netlink_close(nl);
	return ret;
}

void container_network_release(struct container *ct)
{
	for (size_t i = 0; i < ct->n_endpoints; i++)
		endpoint_release(ct, &ct->endpoints[i]);
}

void container_network_free(struct container *ct)
{
	for (size_t i = 0; i < ct->n_endpoints; i++)
		endpoint_done(&ct->endpoints[i]);
	free(ct->endpoints);
	ct->endpoints = NULL;
	ct->n_endpoints = 0;
}

void container_network_restored(struct container *ct)
{
	for (size_t i = 0; i < ct->n_endpoints; i++)
		ct->endpoints[i].linked = true;
}

void container_network_start(struct registry *reg)
{
	if (!reg->networks)
		return;
	for (struct container *ct = reg->list; ct; ct = ct->next)
		for (size_t i = 0; i < ct->n_endpoints; i++) {
			struct container_endpoint *ep = &ct->endpoints[i];
			struct network *n = container_network_of(ct, ep);
			_cleanup_free_ char *err = NULL;
			uint32_t got;
			if (!ep->addr || ep->addr_held)
				continue;
			if (!n) {
				log_warning("container %.12s: its network %.12s is gone", ct->id, ep->network_id);
				continue;
			}
			if (network_address_alloc(n, ep->addr, &got, &err) < 0) {
				log_warning("container %.12s: cannot reserve its address again: %s", ct->id,
					    err ? err : "?");
				continue;
			}
			ep->addr_held = true;
		}
	network_registry_set_attached_cb(reg->networks, container_network_attached, reg);
}

/* Whether the container's init runs (or is being set up): its network namespace exists. */
static bool has_netns(const struct container *ct)
{
	return pidref_is_set(&ct->proc) && ct->state != CONTAINER_EXITED;
}

/* After a connect or a disconnect: the container's own /etc files while it runs, the hosts files
 * of that network's containers (peers), and the container's record. */
static void endpoints_changed(struct container *ct, const char *network_id, bool peers)
{
	if (has_netns(ct)) {
		_cleanup_free_ char *err = NULL;
		if (container_network_write_etc(ct, &err) < 0)
			log_warning("container %.12s: %s", ct->id, err);
	}
	if (peers)
		container_network_refresh_peers(ct, network_id);
	container_record_save(ct);
}

int container_network_connect(struct container *ct, struct network *n, char **aliases, const char *ip, char **reterr)
{
	struct container_endpoint *ep;
	struct netlink *hnl, *cnl = NULL;
	int r;
	if (mode_shared(ct->cfg.network_mode))
		return err_set(reterr, -EINVAL,
			       "container %s uses --network %s: it cannot be connected to another network", ct->name,
			       ct->cfg.network_mode);
	if (strcmp(n->driver, "bridge") != 0)
		return err_set(reterr, -EINVAL, "container cannot be connected to network %s (driver %s)", n->name,
			       n->driver);
	if ((r = endpoint_add(ct, n, aliases, ip, &ep, reterr)) < 0)
		return r;
	size_t idx = (size_t)(ep - ct->endpoints);
	if (has_netns(ct)) {
		_cleanup_close_ int netns_fd = open_netns(ct, reterr);
		r = netns_fd;
		if (netns_fd >= 0 && (r = host_netlink(&hnl, reterr)) >= 0 &&
		    (r = netlink_open_in(netns_fd, &cnl, reterr)) >= 0) {
			r = endpoint_link(ct, ep, n, hnl, cnl, netns_fd, first_endpoint(ct) == ep, reterr);
			netlink_close(cnl);
		}
		if (r < 0) {
			char veth[16];
			container_network_veth_name(ct, ep, veth);
			if (ep->linked && host_netlink(&hnl, NULL) == 0)
				(void)netlink_link_del(hnl, veth, NULL);
			endpoint_release(ct, ep);
			endpoint_remove(ct, idx);
			return r;
		}
	}
	/* A container that does not run joins at its next start; its peers learn of it then. */
	endpoints_changed(ct, n->id, has_netns(ct));
	return 0;
}

int container_network_disconnect(struct container *ct, struct network *n, bool force, char **reterr)
{
	struct container_endpoint *ep = container_network_find(ct, n->id);
	struct netlink *hnl;
	(void)force;
	if (!ep)
		return err_set(reterr, -ENOENT, "container %s is not connected to network %s", ct->name, n->name);
	if (ep->linked) {
		char veth[16];
		int r;
		container_network_veth_name(ct, ep, veth);
		/* The host end goes, its peer with it: the container sees its ethN vanish. */
		if ((r = host_netlink(&hnl, reterr)) < 0 ||
		    ((r = netlink_link_del(hnl, veth, reterr)) < 0 && r != -ENODEV))
			return r;
		ep->linked = false;
	}
	endpoint_release(ct, ep);
	endpoint_remove(ct, (size_t)(ep - ct->endpoints));
	endpoints_changed(ct, n->id, true);
	return 0;
}

unsigned container_network_attached(void *userdata, const struct network *n, json_t *containers)
{
	struct registry *reg = userdata;
	unsigned count = 0;
	for (struct container *ct = reg->list; ct; ct = ct->next) {
		struct container_endpoint *ep = ct->removing ? NULL : container_network_find(ct, n->id);
		if (!ep)
			continue;
		count++;
		if (!containers)
			continue;
		uint8_t m[6];
		char mac[18] = "", addr[IPAM_ADDR_STRLEN], cidr[IPAM_ADDR_STRLEN + 4] = "";
		if (ep->addr) {
			ipam_mac_from_addr(ep->addr, m);
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
			ipam_format_addr(ep->addr, addr);
			snprintf(cidr, sizeof(cidr), "%s/%u", addr, (unsigned)n->subnet.prefix);
		}
		(void)json_object_set_new(containers, ct->id,
					  json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", ct->name, "EndpointID", ep->id,
						    "MacAddress", mac, "IPv4Address", cidr, "IPv6Address", ""));
	}
	return count;
}
