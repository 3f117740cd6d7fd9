/* The networks on the host (the daemon's network namespace): bridges, the sysctls they need,
 * containd's nft table, and the reconcile of leftovers at start. Only what containd made is ever
 * removed: the links carrying its alias ("containd:<instance>", set on every link it creates)
 * and its own nft table. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/network-internal.h"
#include "network/netlink.h"
#include "network/nft.h"

/* In --state (a tmpfs, gone at reboot): containd turned net.ipv4.ip_forward on, so a restarted
 * daemon still knows the forwarding is its own and keeps the guard on it. */
#define FORWARD_NOTE "network-ip-forward"

int network_host_netlink(struct network_registry *nr, char **reterr)
{
	if (nr->nl)
		return 0;
	return netlink_open(&nr->nl, reterr);
}

/* IPv4 forwarding, turned on once the first bridge exists when it is off and --ip-forward says
 * so. Forwarding is a switch for every interface of the namespace; the nft table's forward_guard
 * (docs/networking.md) then lets only the bridges' traffic through, so turning it on does not
 * make this host a router for anything else. Per-interface forwarding
 * (net.ipv4.conf.X.forwarding) is not used: the kernel decides IPv4 forwarding on the incoming
 * interface's setting, which would need the uplinks' settings changed too. */
static int network_host_forwarding(struct network_registry *nr, char **reterr)
{
	_cleanup_free_ char *note = NULL;
	char value[8] = "";
	if (asprintf(&note, "%s/" FORWARD_NOTE, nr->state_dir) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (access(note, F_OK) == 0)
		nr->forward_guard = true;
	if (!nr->ip_forward)
		return 0;
	int r = netlink_sysctl_get("ipv4/ip_forward", value, sizeof(value));
	if (r < 0)
		return err_set(reterr, r, "cannot read net.ipv4.ip_forward: %s", strerror(-r));
	if (value[0] != '0')
		return 0;
	/* The note first: if the daemon dies between the two, the guard is on next time (the safe
	 * side), never the forwarding without the guard. */
	_cleanup_close_ int fd = open(note, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot create %s: %m", note);
	if ((r = netlink_sysctl_set("ipv4/ip_forward", "1", reterr)) < 0)
		return r;
	nr->forward_guard = true;
	log_info("turned net.ipv4.ip_forward on; only containd's bridges' traffic is forwarded");
	return 0;
}

int network_host_bridge_up(struct network_registry *nr, struct network *n, char **reterr)
{
	_cleanup_free_ char *key = NULL;
	int r;
	if ((r = network_host_netlink(nr, reterr)) < 0)
		return r;
	nr->host_touched = true;
	if ((r = network_host_forwarding(nr, reterr)) < 0)
		return r;
	r = netlink_bridge_add(nr->nl, n->bridge, reterr);
	if (r < 0 && r != -EEXIST)
		return r;
	if (r == -EEXIST && reterr)
		free(TAKE_PTR(*reterr));
	/* Marked at once, and only a bridge made here: an existing one (a --bridge NAME the admin
	 * made, a record's bridge of an older containd) stays unmarked, so reconcile never removes
	 * it. A crash between the two requests leaves an unmarked bridge: kept, the safe side. */
	if (r == 0 && (r = netlink_link_set(nr->nl, n->bridge, &(struct netlink_link_opts){.alias = nr->link_alias},
					    reterr)) < 0) {
		(void)netlink_link_del(nr->nl, n->bridge, NULL);
		return r;
	}
	r = netlink_addr_add(nr->nl, n->bridge, n->gateway, n->subnet.prefix, reterr);
	if (r < 0 && r != -EEXIST)
		return r;
	if (r == -EEXIST && reterr)
		free(TAKE_PTR(*reterr));
	if ((r = netlink_link_set(nr->nl, n->bridge, &(struct netlink_link_opts){.up = true}, reterr)) < 0)
		return r;
	/* route_localnet=1 on the bridge only, so that the host's own connections to a published
	 * port on 127.0.0.1, DNATed to a container, may leave through it with a loopback source
	 * (which postrouting then masquerades to the bridge's address). Safe: the setting concerns
	 * only packets routed out of this bridge; a 127/8 source can only come from the host's own
	 * loopback traffic, and only flows the nat table DNATed to a published port are sent to the
	 * bridge and masqueraded, so nothing else of the host's loopback reaches a container. */
	if (asprintf(&key, "ipv4/conf/%s/route_localnet", n->bridge) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return netlink_sysctl_set(key, "1", reterr);
}

int network_host_bridge_down(struct network_registry *nr, struct network *n, char **reterr)
{
	int r = network_host_netlink(nr, reterr);
	if (r < 0)
		return r;
	r = netlink_link_del(nr->nl, n->bridge, reterr);
	if (r == -ENODEV) {
		if (reterr)
			free(TAKE_PTR(*reterr));
		return 0;
	}
	return r;
}

struct routes_ctx {
	struct ipv4_net *v;
	size_t n;
	int r;
};

static int network_host_route_cb(const struct ipv4_net *dst, void *ud)
{
	struct routes_ctx *ctx = ud;
	/* A default route overlaps every subnet and says nothing about which are in use. */
	if (dst->prefix == 0)
		return 0;
	struct ipv4_net *v = reallocarray(ctx->v, ctx->n + 1, sizeof(*v));
	if (!v)
		return ctx->r = -ENOMEM;
	ctx->v = v;
	v[ctx->n++] = *dst;
	return 0;
}

static int network_host_first_addr_cb(uint32_t addr, uint8_t prefix, void *ud)
{
	struct ipv4_net *first = ud;
	if (first->prefix == 0 && prefix >= 1 && prefix <= 30) {
		first->addr = addr;
		first->prefix = prefix;
	}
	return 0;
}

int network_host_bridge_address(struct network_registry *nr, const char *bridge, struct ipv4_net *subnet,
				uint32_t *gateway)
{
	struct ipv4_net first = {0};
	int r = network_host_netlink(nr, NULL);
	if (r < 0)
		return r;
	if ((r = netlink_addrs(nr->nl, bridge, network_host_first_addr_cb, &first)) < 0)
		return r;
	if (first.prefix == 0)
		return -ENOENT;
	*gateway = first.addr;
	subnet->prefix = first.prefix;
	subnet->addr = first.addr & ipam_mask(first.prefix);
	return 0;
}

int network_host_routes(struct network_registry *nr, struct ipv4_net **taken, size_t *n, char **reterr)
{
	struct routes_ctx ctx = {.v = *taken, .n = *n};
	int r = network_host_netlink(nr, reterr);
	if (r < 0)
		return r;
	r = netlink_routes(nr->nl, network_host_route_cb, &ctx);
	*taken = ctx.v;
	*n = ctx.n;
	if (ctx.r < 0 || r < 0)
		return err_set(reterr, ctx.r < 0 ? ctx.r : r, "cannot read the host's routes: %s",
			       strerror(-(ctx.r < 0 ? ctx.r : r)));
	return 0;
}

int network_registry_apply_nft(struct network_registry *nr, char **reterr)
{
	_cleanup_free_ struct nft_bridge *bridges = NULL;
	_cleanup_free_ struct nft_port *ports = NULL;
	size_t n_bridges = 0, n_ports = 0;
	int r;
	/* A daemon that never had a bridge network (--bridge none) leaves the host's nftables
	 * alone, not even reading it. */
	if (!nr->host_touched)
		return 0;
	for (struct network *n = nr->list; n; n = n->next)
		n_bridges += n->bridge != NULL;
	if (n_bridges && !(bridges = calloc(n_bridges, sizeof(*bridges))))
		return err_set(reterr, -ENOMEM, "out of memory");
	n_bridges = 0;
	for (struct network *n = nr->list; n; n = n->next)
		if (n->bridge)
			bridges[n_bridges++] = (struct nft_bridge){.ifname = n->bridge,
								   .subnet = n->subnet,
								   .masquerade = nr->ip_masq && !n->internal,
								   .internal = n->internal};
	if (nr->ports_cb && (r = nr->ports_cb(nr->ports_userdata, &ports, &n_ports)) < 0)
		return err_set(reterr, r, "cannot list the published ports: %s", strerror(-r));
	if (!n_bridges && !n_ports)
		return nft_table_delete(nr->nft_table, reterr);
	struct nft_ruleset rs = {.table = nr->nft_table,
				 .bridges = bridges,
				 .n_bridges = n_bridges,
				 .ports = ports,
				 .n_ports = n_ports,
				 .forward_guard = nr->forward_guard};
	return nft_apply(&rs, reterr);
}

/* "veth", 7 lowercase hex, a decimal index: the name of a container's host veth (what the
 * ownership callback can read a container id from). */
static bool network_host_is_veth_name(const char *name)
{
	size_t len = strlen(name);
	if (strncmp(name, "veth", 4) != 0 || len < 12 || len > 15)
		return false;
	return strspn(name + 4, "0123456789abcdef") >= 7 && strspn(name + 11, "0123456789") == len - 11;
}

struct link_alias_ctx {
	const char *name;
	const char *alias;
	bool match;
};

static int network_host_alias_cb(const char *name, int index, const char *kind, const char *alias, void *ud)
{
	struct link_alias_ctx *ctx = ud;
	(void)index;
	(void)kind;
	if (strcmp(name, ctx->name) == 0)
		ctx->match = alias && strcmp(alias, ctx->alias) == 0;
	return 0;
}

bool network_link_is_ours(struct network_registry *nr, struct netlink *nl, const char *name)
{
	struct link_alias_ctx ctx = {.name = name, .alias = nr->link_alias};
	return netlink_links(nl, network_host_alias_cb, &ctx) >= 0 && ctx.match;
}

struct reconcile_ctx {
	struct network_registry *nr;
	network_veth_owned_cb owned;
	void *userdata;
	char (*doomed)[16];
	size_t n_doomed;
};

/* Why deleting here is safe: a link is a candidate only if it carries this daemon's alias, which
 * containd sets on the links it creates and on nothing else, so a link of Docker's, of the admin's
 * or of another containd (another root: another instance id) is never one, whatever its name. Of
 * the candidates, the default bridge (and containd0 always) and every network's bridge are kept,
 * and a veth is kept while a running container owns it. */
static int network_host_reconcile_cb(const char *name, int index, const char *kind, const char *alias, void *ud)
{
	struct reconcile_ctx *ctx = ud;
	struct network_registry *nr = ctx->nr;
	bool leftover = false;
	(void)index;
	if (!alias || strcmp(alias, nr->link_alias) != 0 || !kind)
		return 0;
	if (strcmp(kind, "bridge") == 0) {
		/* containd0 stays even when this daemon has another --bridge or none: the default
		 * network's record (kept for a daemon that has one) may still name it. */
		leftover = strcmp(name, NETWORK_DEFAULT_BRIDGE) != 0 &&
			   (!nr->default_bridge || strcmp(nr->default_bridge, name) != 0);
		for (struct network *n = nr->list; n; n = n->next)
			if (n->bridge && strcmp(n->bridge, name) == 0)
				leftover = false;
	} else if (strcmp(kind, "veth") == 0) {
		leftover = !network_host_is_veth_name(name) || !ctx->owned || !ctx->owned(ctx->userdata, name);
	}
	if (!leftover)
		return 0;
	/* Deleted after the walk: a dump is not the time to change the list. */
	char(*v)[16] = reallocarray(ctx->doomed, ctx->n_doomed + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ctx->doomed = v;
	snprintf(v[ctx->n_doomed++], 16, "%s", name);
	return 0;
}

void network_registry_reconcile(struct network_registry *nr, network_veth_owned_cb owned, void *userdata)
{
	_cleanup_free_ char *err = NULL;
	struct reconcile_ctx ctx = {.nr = nr, .owned = owned, .userdata = userdata};
	/* A --bridge none daemon without networks leaves the host's links alone. */
	if (!nr->host_touched)
		return;
	int r = netlink_links(nr->nl, network_host_reconcile_cb, &ctx);
	if (r < 0)
		log_error("cannot list the links to reconcile: %s", strerror(-r));
	for (size_t i = 0; i < ctx.n_doomed; i++) {
		_cleanup_free_ char *lerr = NULL;
		r = netlink_link_del(nr->nl, ctx.doomed[i], &lerr);
		if (r < 0 && r != -ENODEV)
			log_error("cannot remove the leftover link %s: %s", ctx.doomed[i], lerr ? lerr : strerror(-r));
		else
			log_info("removed the leftover link %s (no network or container of containd owns it)",
				 ctx.doomed[i]);
	}
	free(ctx.doomed);
	if (network_registry_apply_nft(nr, &err) < 0)
		log_error("cannot apply the nft table %s: %s", nr->nft_table, err);
}
