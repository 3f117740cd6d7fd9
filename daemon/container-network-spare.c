/* The network of a prepared init (a spare, daemon/pool.h), made ahead by the pool's refill so
 * that a run on the default bridge finds its veth pair, address and route ready: the start path
 * then makes no netlink call at all. A run that wants another network undoes it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "daemon/container-network-internal.h"
#include "daemon/container-network.h"
#include "daemon/container.h"
#include "daemon/network.h"
#include "daemon/pool.h"
#include "daemon/registry.h"
#include "network/netlink.h"

/* The host end's name: the one container-network.c gives endpoint 0 of the container the spare
 * becomes (the spare's id is the container's). */
static void spare_veth_name(const struct spare *sp, char buf[16])
{
	container_network_veth_name_of(sp->id, 0, buf);
}

/* Opens the spare's network namespace. Why it is the right one: sp->init is a process the
 * daemon cloned itself with a network namespace of its own, and no container code ever ran in
 * it (a spare waits for its spec); pidref_open_ns checks the process still lived after the open. */
static int spare_open_netns(const struct spare *sp, char **reterr)
{
	int fd = pidref_open_ns(&sp->init.proc, "net");
	if (fd == -ESRCH)
		return err_set(reterr, fd, "a prepared container exited while its network was set up");
	if (fd < 0)
		return err_set(reterr, fd, "cannot open the network namespace of a prepared container: %m");
	return fd;
}

int container_network_spare_prepare(void *userdata, struct spare *sp, char **reterr)
{
	struct registry *reg = userdata;
	struct network *n = reg->networks ? network_default(reg->networks) : NULL;
	struct netlink *hnl = NULL, *cnl = NULL;
	char veth[16];
	uint8_t mac[6];
	uint32_t addr;
	bool linked = false;
	int r;
	/* --bridge none: the default is --network none, which a bare spare serves (0 with nothing
	 * done: the pool stops asking). */
	if (!n || strcmp(n->driver, "bridge") != 0)
		return 0;
	if (!pidref_is_set(&sp->init.proc))
		return err_set(reterr, -ESRCH, "the prepared container has no process");
	/* The address is reserved first, so the IPAM never hands it to anybody else; the spare is
	 * not a container, so no network inspect lists it, and a discard gives it back. A full
	 * subnet leaves the spare bare for now (nothing made, 1: the pool tries again later): it
	 * still serves any run, the default bridge's with an address allocated then. */
	_cleanup_free_ char *aerr = NULL;
	if ((r = network_address_alloc(n, 0, &addr, &aerr)) < 0)
		return r == -ENOSPC ? 1 : err_set(reterr, r, "%s", aerr ? aerr : "cannot allocate an address");
	_cleanup_close_ int netns_fd = spare_open_netns(sp, reterr);
	if (netns_fd < 0) {
		r = netns_fd;
		goto fail;
	}
	if ((r = container_network_host_netlink(&hnl, reterr)) < 0 || (r = netlink_open_in(netns_fd, &cnl, reterr)) < 0)
		goto fail;
	spare_veth_name(sp, veth);
	/* The peer is born in the spare's namespace as eth0: its name never exists in the host's.
	 * The host end's name carries the spare's fresh random id, so it clashes with nothing. */
	if ((r = netlink_veth_add(hnl, veth, "eth0", netns_fd, reterr)) < 0)
		goto fail;
	linked = true;
	ipam_mac_from_addr(addr, mac);
	struct netlink_link_opts host = {.up = true, .master = n->bridge, .hairpin = true, .alias = n->nr->link_alias};
	struct netlink_link_opts inside = {.up = true, .mac = mac};
	if ((r = netlink_link_set(hnl, veth, &host, reterr)) < 0 ||
	    (r = netlink_link_set(cnl, "eth0", &inside, reterr)) < 0 ||
	    (r = netlink_addr_add(cnl, "eth0", addr, n->subnet.prefix, reterr)) < 0 ||
	    (!n->internal && (r = netlink_route_add(cnl, "eth0", NULL, n->gateway, reterr)) < 0))
		goto fail;
	sp->net.ready = true;
	sp->net.addr = addr;
	memcpy(sp->net.network_id, n->id, sizeof(sp->net.network_id));
	goto out;
fail:
	if (linked)
		(void)netlink_link_del(hnl, veth, NULL);
	network_address_release(n, addr);
out:
	netlink_close(cnl);
	return r;
}

void container_network_spare_release(void *userdata, struct spare *sp)
{
	struct registry *reg = userdata;
	struct network *n = reg->networks ? network_lookup(reg->networks, sp->net.network_id) : NULL;
	if (sp->net.ready && n)
		network_address_release(n, sp->net.addr);
	sp->net.ready = false;
}

bool container_network_wants_spare(const struct container *ct)
{
	const struct container_endpoint *ep = ct->n_endpoints == 1 ? &ct->endpoints[0] : NULL;
	struct network *n = ct->reg->networks ? network_default(ct->reg->networks) : NULL;
	return ep && n && ep->index == 0 && !ep->static_addr && !ep->addr_held && strcmp(ep->network_id, n->id) == 0;
}

int container_network_spare(struct container *ct, struct spare *sp, char **reterr)
{
	struct container_endpoint *ep = ct->n_endpoints == 1 ? &ct->endpoints[0] : NULL;
	struct netlink *hnl;
	char veth[16];
	int r;
	if (!sp->net.ready)
		return 0;
	/* Exactly what the spare has: one endpoint, eth0, on the same network, an address of the
	 * IPAM's choice. The address and links become the container's. */
	if (ep && ep->index == 0 && !ep->static_addr && !ep->addr_held &&
	    strcmp(ep->network_id, sp->net.network_id) == 0) {
		ep->addr = sp->net.addr;
		ep->addr_held = true;
		ep->prepared = true;
		sp->net.ready = false;
		return 0;
	}
	/* Anything else (--network none, a user network, --ip, several networks): the pair goes
	 * before the container's own setup, which then finds the spare as bare as a new init. Deleting
	 * the host end deletes eth0 with it. pool_take gives a prepared spare only to a run that
	 * wants it (the deletion waits about 17 ms for RCU), so this is the safety net that no
	 * spare's network ever reaches a container it does not belong to. */
	spare_veth_name(sp, veth);
	if ((r = container_network_host_netlink(&hnl, reterr)) < 0 ||
	    ((r = netlink_link_del(hnl, veth, reterr)) < 0 && r != -ENODEV))
		return r;
	container_network_spare_release(ct->reg, sp);
	return 0;
}
