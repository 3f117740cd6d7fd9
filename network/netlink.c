/* rtnetlink requests through libmnl: one request, its replies, the kernel's ACK. */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/macros.h"
#include "network/netlink.h"

/* Replies of a dump come in datagrams of up to 32 KiB (the kernel's default for a dump). */
#define NETLINK_RECV_SIZE 32768
/* Room for one request: a few attributes and names. */
#define NETLINK_REQ_SIZE 1024

struct netlink {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char ext_msg[256]; /* the kernel's extended ACK message of the last failed request, or "" */
	char buf[NETLINK_RECV_SIZE];
};

/* The kernel's rule for a link name (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/',
 * ':' or whitespace. Checked here so a bad name gets a clear message, not the kernel's EINVAL. */
static int netlink_name_check(const char *name, char **reterr)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strpbrk(name, "/: \t\n\r\v\f"))
		return err_set(reterr, -EINVAL,
			       "invalid interface name \"%.64s\" (1 to %d characters, no '/', ':' or spaces)",
			       name ? name : "", IFNAMSIZ - 1);
	return 0;
}

int netlink_open(struct netlink **ret, char **reterr)
{
	struct netlink *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return err_set(reterr, -ENOMEM, "out of memory");
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		r = -errno;
		free(nl);
		return err_set(reterr, r, "opening a netlink socket: %m");
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		netlink_close(nl);
		return err_set(reterr, r, "binding a netlink socket: %m");
	}
	/* Extended ACKs carry the kernel's own words on an error ("Invalid prefix for given prefix
	 * length"); capped ACKs leave out the echo of the request. Both are optional comforts. */
	int one = 1;
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	*ret = nl;
	return 0;
}

/* Why switching namespaces here is safe:
 * - A netlink socket belongs for its whole life to the netns of the task that created it, so the
 *   socket made while we stand in netns_fd's namespace talks to that namespace only, whatever the
 *   process does afterwards.
 * - setns(CLONE_NEWNET) changes only the calling thread's namespace. The daemon is single-threaded
 *   (one event loop) and does nothing else between the two setns calls, so no other code ever
 *   runs, opens a socket or reads /proc/sys/net in the container's namespace.
 * - We keep an fd of our own netns (/proc/thread-self/ns/net) from before the switch and go back
 *   through it. If going back fails we abort(): continuing would leave the daemon's every later
 *   socket, route and sysctl in a container's namespace, which is worse than a crash (the keeper
 *   keeps the containers running; a restarted daemon takes them over). */
int netlink_open_in(int netns_fd, struct netlink **ret, char **reterr)
{
	_cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int r;

	if (self < 0)
		return err_set(reterr, -errno, "opening the daemon's network namespace: %m");
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return err_set(reterr, -errno, "entering a network namespace: %m");
	r = netlink_open(ret, reterr);
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "containd: cannot return to the daemon's network namespace (%s): aborting\n",
			strerror(errno));
		abort();
	}
	return r;
}

void netlink_close(struct netlink *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

/* Collects the attributes of one level into tb (indexed by type, up to max). */
struct netlink_attrs {
	const struct nlattr **tb;
	uint16_t max;
};

static int netlink_attr_cb(const struct nlattr *attr, void *data)
{
	struct netlink_attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= a->max)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

/* What netlink_talk's callbacks share: the socket (for the extended ACK's message) and the
 * caller's callback. */
struct netlink_call {
	struct netlink *nl;
	mnl_cb_t cb;
	void *data;
};

static int netlink_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink_call *c = data;
	return c->cb ? c->cb(nlh, c->data) : MNL_CB_OK;
}

/* NLMSG_ERROR: 0 is the ACK; anything else sets errno and keeps the kernel's message (the
 * NLMSGERR_ATTR_MSG attribute after the error header and, unless capped, the echoed request). */
static int netlink_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink_call *c = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = sizeof(*err);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && err->msg.nlmsg_len >= sizeof(struct nlmsghdr))
			off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
		const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {0};
		struct netlink_attrs a = {tb, NLMSGERR_ATTR_MAX};
		if (off <= mnl_nlmsg_get_payload_len(nlh) &&
		    mnl_attr_parse(nlh, (unsigned)off, netlink_attr_cb, &a) >= 0 && tb[NLMSGERR_ATTR_MSG] &&
		    mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) >= 0)
			snprintf(c->nl->ext_msg, sizeof(c->nl->ext_msg), "%s", mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
	}
	errno = err->error < 0 ? -err->error : err->error;
	return MNL_CB_ERROR;
}

static int netlink_noop_cb(const struct nlmsghdr *nlh, void *data)
{
	return MNL_CB_OK;
}

static int netlink_done_cb(const struct nlmsghdr *nlh, void *data)
{
	return MNL_CB_STOP;
}

static int netlink_overrun_cb(const struct nlmsghdr *nlh, void *data)
{
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

/* Sends one request and runs cb (may be NULL) on each reply until the ACK or the end of a dump.
 * Returns 0 or the kernel's -errno (its message, if any, in nl->ext_msg). */
static int netlink_talk(struct netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	/* libmnl runs none of its defaults once an array is given: DONE ends a dump, NOOP is skipped,
	 * OVERRUN (lost replies) is an error. */
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_NOOP] = netlink_noop_cb,
					[NLMSG_ERROR] = netlink_error_cb,
					[NLMSG_DONE] = netlink_done_cb,
					[NLMSG_OVERRUN] = netlink_overrun_cb};
	struct netlink_call call = {nl, cb, data};
	uint32_t seq = ++nl->seq;
	/* A dump (a GET with NLM_F_DUMP; the same bits mean EXCL and REPLACE on a NEW) ends with
	 * NLMSG_DONE; anything else asks for the ACK so its error comes back. */
	bool dump = (nlh->nlmsg_type == RTM_GETLINK || nlh->nlmsg_type == RTM_GETROUTE) &&
		    (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

	nl->ext_msg[0] = '\0';
	nlh->nlmsg_seq = seq;
	if (!dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		int r;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		errno = 0;
		r = mnl_cb_run2(nl->buf, (size_t)n, seq, nl->portid, netlink_data_cb, &call, ctl, ARRAY_SIZE(ctl));
		/* ESRCH: the rest of an earlier request's dump, left behind when that request stopped at
		 * an error; not ours, skipped. */
		if (r < 0 && errno == ESRCH)
			continue;
		if (r < 0)
			return errno > 0 ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* err_set() for a failed request: the message, then the kernel's own words when it sent some. */
static int netlink_err(struct netlink *nl, char **reterr, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int netlink_err(struct netlink *nl, char **reterr, int r, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	errno = -r;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return err_set(reterr, r, "out of memory");
	if (nl->ext_msg[0])
		return err_set(reterr, r, "%s (%s)", msg, nl->ext_msg);
	return err_set(reterr, r, "%s", msg);
}

/* A request header with its family header (size bytes, zeroed) in buf. */
static struct nlmsghdr *netlink_request(char *buf, uint16_t type, uint16_t flags, size_t size, void **ret_hdr)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	*ret_hdr = mnl_nlmsg_put_extra_header(nlh, size);
	return nlh;
}

struct netlink_index_reply {
	int index;
};

static int netlink_index_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink_index_reply *r = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK && mnl_nlmsg_get_payload_len(nlh) >= sizeof(*ifi))
		r->index = ifi->ifi_index;
	return MNL_CB_OK;
}

int netlink_link_index(struct netlink *nl, const char *name)
{
	char buf[NETLINK_REQ_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct netlink_index_reply reply = {0};
	int r;

	if (netlink_name_check(name, NULL) < 0)
		return -ENODEV;
	nlh = netlink_request(buf, RTM_GETLINK, 0, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = netlink_talk(nl, nlh, netlink_index_cb, &reply);
	if (r < 0)
		return r;
	return reply.index > 0 ? reply.index : -ENODEV;
}

/* RTM_NEWLINK of a new link of a kind; peer (veth only) goes into peer_netns_fd (-1: here). */
static int netlink_link_new(struct netlink *nl, const char *name, const char *kind, const char *peer, int peer_netns_fd)
{
	char buf[NETLINK_REQ_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct nlattr *linkinfo;

	nlh = netlink_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	if (peer) {
		struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		struct nlattr *peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
		/* The peer's own ifinfomsg comes first in VETH_INFO_PEER, then its attributes. */
		struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
		pifi->ifi_family = AF_UNSPEC;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
		if (peer_netns_fd >= 0)
			mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
		mnl_attr_nest_end(nlh, peer_attr);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, linkinfo);
	return netlink_talk(nl, nlh, NULL, NULL);
}

int netlink_bridge_add(struct netlink *nl, const char *name, char **reterr)
{
	int r = netlink_name_check(name, reterr);

	if (r < 0)
		return r;
	r = netlink_link_new(nl, name, "bridge", NULL, -1);
	if (r == -EEXIST)
		return err_set(reterr, r, "creating bridge %s: a link of that name exists", name);
	if (r < 0)
		return netlink_err(nl, reterr, r, "creating bridge %s: %m", name);
	return 0;
}

int netlink_veth_add(struct netlink *nl, const char *name, const char *peer, int peer_netns_fd, char **reterr)
{
	int r = netlink_name_check(name, reterr);

	if (r < 0 || (r = netlink_name_check(peer, reterr)) < 0)
		return r;
	r = netlink_link_new(nl, name, "veth", peer, peer_netns_fd);
	if (r == -EEXIST)
		return err_set(reterr, r, "creating veth pair %s/%s: a link of one of those names exists", name, peer);
	if (r < 0)
		return netlink_err(nl, reterr, r, "creating veth pair %s/%s: %m", name, peer);
	return 0;
}

int netlink_link_del(struct netlink *nl, const char *name, char **reterr)
{
	char buf[NETLINK_REQ_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int r = netlink_name_check(name, reterr);

	if (r < 0)
		return r;
	nlh = netlink_request(buf, RTM_DELLINK, 0, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = netlink_talk(nl, nlh, NULL, NULL);
	if (r < 0)
		return netlink_err(nl, reterr, r, "deleting link %s: %m", name);
	return 0;
}

/* Hairpin mode of a bridge port: an AF_BRIDGE RTM_SETLINK with IFLA_BRPORT_MODE in IFLA_PROTINFO,
 * as `bridge link set dev NAME hairpin on` sends it. */
static int netlink_hairpin_set(struct netlink *nl, int index)
{
	char buf[NETLINK_REQ_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = netlink_request(buf, RTM_SETLINK, 0, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_BRIDGE;
	ifi->ifi_index = index;
	nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO | NLA_F_NESTED);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(nlh, nest);
	return netlink_talk(nl, nlh, NULL, NULL);
}

int netlink_link_set(struct netlink *nl, const char *name, const struct netlink_link_opts *o, char **reterr)
{
	char buf[NETLINK_REQ_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int index, master = 0, r;

	if ((r = netlink_name_check(name, reterr)) < 0)
		return r;
	if (o->new_name && (r = netlink_name_check(o->new_name, reterr)) < 0)
		return r;
	if (o->alias && strlen(o->alias) > NETLINK_ALIAS_MAX)
		return err_set(reterr, -EINVAL, "link %s: an alias is at most %d bytes", name, NETLINK_ALIAS_MAX);
	index = netlink_link_index(nl, name);
	if (index < 0)
		return err_set(reterr, index, "link %s: %m", name);
	if (o->master) {
		master = netlink_link_index(nl, o->master);
		if (master < 0)
			return err_set(reterr, master, "link %s: its bridge %s: %m", name, o->master);
	}
	/* One RTM_SETLINK: the kernel applies the address, MTU, name and master before the flags, so
	 * a down link is renamed and enslaved before it comes up. */
	nlh = netlink_request(buf, RTM_SETLINK, 0, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	if (o->up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (o->new_name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, o->new_name);
	if (o->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, o->mtu);
	if (o->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, o->mac);
	if (master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	if (o->alias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, o->alias);
	r = netlink_talk(nl, nlh, NULL, NULL);
	if (r < 0)
		return netlink_err(nl, reterr, r, "setting up link %s: %m", name);
	if (o->hairpin) {
		r = netlink_hairpin_set(nl, index);
		if (r < 0)
			return netlink_err(nl, reterr, r, "setting hairpin mode on link %s: %m",
					   o->new_name ? o->new_name : name);
	}
	return 0;
}

int netlink_addr_add(struct netlink *nl, const char *name, uint32_t addr, uint8_t prefix, char **reterr)
{
	char buf[NETLINK_REQ_SIZE], a[IPAM_ADDR_STRLEN];
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	int index, r;

	if ((r = netlink_name_check(name, reterr)) < 0)
		return r;
	ipam_format_addr(addr, a);
	if (prefix > 32)
		return err_set(reterr, -EINVAL, "address %s/%u on %s: invalid prefix", a, prefix, name);
	index = netlink_link_index(nl, name);
	if (index < 0)
		return err_set(reterr, index, "address %s/%u on link %s: %m", a, prefix, name);
	nlh = netlink_request(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa), (void **)&ifa);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)index;
	mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(addr));
	mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(addr));
	if (prefix < 31)
		mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(addr | ~ipam_mask(prefix)));
	r = netlink_talk(nl, nlh, NULL, NULL);
	if (r < 0)
		return netlink_err(nl, reterr, r, "adding address %s/%u to link %s: %m", a, prefix, name);
	return 0;
}

int netlink_route_add(struct netlink *nl, const char *dev, const struct ipv4_net *dst, uint32_t gateway, char **reterr)
{
	char buf[NETLINK_REQ_SIZE], d[IPAM_CIDR_STRLEN] = "default", g[IPAM_ADDR_STRLEN] = "on-link";
	struct rtmsg *rtm;
	struct nlmsghdr *nlh;
	int index, r;

	if ((r = netlink_name_check(dev, reterr)) < 0)
		return r;
	if (dst)
		ipam_format_cidr(dst, d);
	if (gateway)
		ipam_format_addr(gateway, g);
	if (dst && (dst->prefix > 32 || (dst->addr & ~ipam_mask(dst->prefix))))
		return err_set(reterr, -EINVAL, "route %s on %s: not a network address", d, dev);
	index = netlink_link_index(nl, dev);
	if (index < 0)
		return err_set(reterr, index, "route %s via %s on link %s: %m", d, g, dev);
	nlh = netlink_request(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = dst ? dst->prefix : 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (dst && dst->prefix)
		mnl_attr_put_u32(nlh, RTA_DST, htonl(dst->addr));
	if (gateway)
		mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	r = netlink_talk(nl, nlh, NULL, NULL);
	if (r < 0)
		return netlink_err(nl, reterr, r, "adding route %s via %s on link %s: %m", d, g, dev);
	return 0;
}

struct netlink_walk {
	netlink_link_cb link_cb;
	int (*route_cb)(const struct ipv4_net *dst, void *ud);
	void *ud;
	int r; /* the first negative return of the callback; later entries are skipped */
};

static int netlink_links_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink_walk *w = data;
	const struct nlattr *tb[IFLA_MAX + 1] = {0}, *info[IFLA_INFO_MAX + 1] = {0};
	struct netlink_attrs a = {tb, IFLA_MAX}, ai = {info, IFLA_INFO_MAX};
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const char *kind = NULL, *alias = NULL;
	int r;

	if (w->r < 0 || nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifi), netlink_attr_cb, &a) < 0)
		return MNL_CB_OK;
	if (!tb[IFLA_IFNAME] || mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	if (tb[IFLA_LINKINFO] && mnl_attr_parse_nested(tb[IFLA_LINKINFO], netlink_attr_cb, &ai) >= 0 &&
	    info[IFLA_INFO_KIND] && mnl_attr_validate(info[IFLA_INFO_KIND], MNL_TYPE_NUL_STRING) >= 0)
		kind = mnl_attr_get_str(info[IFLA_INFO_KIND]);
	if (tb[IFLA_IFALIAS] && mnl_attr_validate(tb[IFLA_IFALIAS], MNL_TYPE_NUL_STRING) >= 0)
		alias = mnl_attr_get_str(tb[IFLA_IFALIAS]);
	r = w->link_cb(mnl_attr_get_str(tb[IFLA_IFNAME]), ifi->ifi_index, kind, alias, w->ud);
	if (r < 0)
		w->r = r;
	return MNL_CB_OK;
}

int netlink_links(struct netlink *nl, netlink_link_cb cb, void *ud)
{
	char buf[NETLINK_REQ_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct netlink_walk w = {.link_cb = cb, .ud = ud};
	int r;

	nlh = netlink_request(buf, RTM_GETLINK, NLM_F_DUMP, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = netlink_talk(nl, nlh, netlink_links_cb, &w);
	return r < 0 ? r : w.r;
}

static int netlink_routes_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink_walk *w = data;
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	struct netlink_attrs a = {tb, RTA_MAX};
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct ipv4_net dst = {0};
	uint32_t table;
	int r;

	if (w->r < 0 || nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	if (rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_UNICAST || rtm->rtm_dst_len > 32)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), netlink_attr_cb, &a) < 0)
		return MNL_CB_OK;
	table = rtm->rtm_table;
	if (tb[RTA_TABLE] && mnl_attr_validate(tb[RTA_TABLE], MNL_TYPE_U32) >= 0)
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	if (table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	dst.prefix = rtm->rtm_dst_len;
	if (tb[RTA_DST] && mnl_attr_validate(tb[RTA_DST], MNL_TYPE_U32) >= 0)
		dst.addr = ntohl(mnl_attr_get_u32(tb[RTA_DST])) & ipam_mask(dst.prefix);
	r = w->route_cb(&dst, w->ud);
	if (r < 0)
		w->r = r;
	return MNL_CB_OK;
}

int netlink_routes(struct netlink *nl, int (*cb)(const struct ipv4_net *dst, void *ud), void *ud)
{
	char buf[NETLINK_REQ_SIZE];
	struct rtmsg *rtm;
	struct nlmsghdr *nlh;
	struct netlink_walk w = {.route_cb = cb, .ud = ud};
	int r;

	nlh = netlink_request(buf, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = AF_INET;
	r = netlink_talk(nl, nlh, netlink_routes_cb, &w);
	return r < 0 ? r : w.r;
}

struct netlink_addr_walk {
	int index;
	int (*cb)(uint32_t addr, uint8_t prefix, void *ud);
	void *ud;
	int r;
};

static int netlink_addrs_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netlink_addr_walk *w = data;
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	struct netlink_attrs a = {tb, IFA_MAX};
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	int r;

	if (w->r < 0 || nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != w->index || ifa->ifa_prefixlen > 32)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), netlink_attr_cb, &a) < 0)
		return MNL_CB_OK;
	const struct nlattr *at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!at || mnl_attr_validate(at, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	r = w->cb(ntohl(mnl_attr_get_u32(at)), ifa->ifa_prefixlen, w->ud);
	if (r < 0)
		w->r = r;
	return MNL_CB_OK;
}

int netlink_addrs(struct netlink *nl, const char *name, int (*cb)(uint32_t addr, uint8_t prefix, void *ud), void *ud)
{
	char buf[NETLINK_REQ_SIZE];
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	struct netlink_addr_walk w = {.cb = cb, .ud = ud};
	int r;

	w.index = netlink_link_index(nl, name);
	if (w.index < 0)
		return w.index;
	nlh = netlink_request(buf, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa), (void **)&ifa);
	ifa->ifa_family = AF_INET;
	r = netlink_talk(nl, nlh, netlink_addrs_cb, &w);
	return r < 0 ? r : w.r;
}

/* A key under /proc/sys/net/: letters, digits, '_', '-', '.' and '/' between components, never
 * ".." or an empty component, so the path cannot leave /proc/sys/net. */
static bool netlink_sysctl_key_valid(const char *key)
{
	size_t len = strlen(key);

	if (len == 0 || len > 200 || key[0] == '/' || key[len - 1] == '/' || strstr(key, "//") || strstr(key, ".."))
		return false;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_-./@", *p)))
			return false;
	return true;
}

int netlink_sysctl_set(const char *key, const char *value, char **reterr)
{
	char path[256];
	size_t len = strlen(value);
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (!netlink_sysctl_key_valid(key))
		return err_set(reterr, -EINVAL, "invalid sysctl key net.%s", key);
	snprintf(path, sizeof(path), "/proc/sys/net/%s", key);
	/* /proc/sys is procfs: O_NOFOLLOW keeps a symlink planted in a bind mount from redirecting
	 * the write. The file belongs to the netns of the opener (ours). */
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(reterr, -errno, "setting net.%s: %m", key);
	n = write(fd, value, len);
	if (n < 0)
		return err_set(reterr, -errno, "setting net.%s to %s: %m", key, value);
	if ((size_t)n != len)
		return err_set(reterr, -EIO, "setting net.%s to %s: short write", key, value);
	return 0;
}

int netlink_sysctl_get(const char *key, char *buf, size_t size)
{
	char path[256];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (size == 0 || !netlink_sysctl_key_valid(key))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/sys/net/%s", key);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}
