/* Tests of network/netlink.c against the kernel, as root, in network namespaces of the test's own:
 * the process unshares a netns ("A", where it works) and makes a second one ("B", the container's
 * side) held only by an fd. Neither has a name, so everything the test creates disappears with the
 * process, even when it crashes; the host's links, routes and sysctls are never touched. Not root
 * (or no netns): the whole test is skipped. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "network/netlink.h"
#include "tests/tap.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int netns_b = -1;

/* The output of a shell command (in netns A unless it enters B itself), or "" on failure. */
static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...)
{
	static char out[65536];
	char cmd[512];
	va_list ap;
	size_t n = 0;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	f = popen(cmd, "r");
	if (!f)
		return out;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

/* The netns inode the process is in now (to check netlink_open_in came back). */
static ino_t current_netns(void)
{
	struct stat st;
	return stat("/proc/thread-self/ns/net", &st) == 0 ? st.st_ino : 0;
}

/* Unshares netns A, makes B and comes back to A. Returns false when that is not possible here. */
static bool setup_netns(void)
{
	int a;

	if (unshare(CLONE_NEWNET) < 0)
		return false;
	a = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (a < 0 || unshare(CLONE_NEWNET) < 0)
		return false;
	netns_b = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns_b < 0 || setns(a, CLONE_NEWNET) < 0)
		return false;
	close(a);
	return true;
}

struct seen {
	const char *name;
	const char *kind;
	bool found;
	bool kind_ok;
	char alias[64]; /* the link's alias as listed, "" for none */
};

static int link_cb(const char *name, int index, const char *kind, const char *alias, void *ud)
{
	struct seen *s = ud;
	if (strcmp(name, s->name) == 0 && index > 0) {
		s->found = true;
		s->kind_ok = (kind && s->kind && strcmp(kind, s->kind) == 0) || (!kind && !s->kind);
		snprintf(s->alias, sizeof(s->alias), "%s", alias ? alias : "");
	}
	return 0;
}

struct routes_seen {
	int n, dflt, r88, r77;
};

static int route_cb(const struct ipv4_net *dst, void *ud)
{
	struct routes_seen *s = ud;
	s->n++;
	if (dst->prefix == 0 && dst->addr == 0)
		s->dflt++;
	if (dst->prefix == 16 && dst->addr == A(10, 88, 0, 0))
		s->r88++;
	if (dst->prefix == 24 && dst->addr == A(10, 77, 0, 0))
		s->r77++;
	return 0;
}

static int stop_cb(const char *name, int index, const char *kind, const char *alias, void *ud)
{
	(*(int *)ud)++;
	return -ECANCELED;
}

static void test_links(struct netlink *nl, struct netlink *nlb)
{
	char *err = NULL;
	static const uint8_t mac[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x07};

	ok(netlink_link_index(nl, "lo") > 0, "lo has an index");
	is_int(netlink_link_index(nl, "ctdt-nothing"), -ENODEV, "an absent link: -ENODEV");

	is_int(netlink_bridge_add(nl, "ctdt-br0", &err), 0, "bridge ctdt-br0 created");
	is_int(netlink_bridge_add(nl, "ctdt-br0", &err), -EEXIST, "again: -EEXIST");
	ok(err && strstr(err, "ctdt-br0"), "the message names the bridge: %s", err ? err : "(none)");
	free(err), err = NULL;
	is_int(netlink_bridge_add(nl, "ctdt-0123456789ab", &err), -EINVAL, "a 17-character name: -EINVAL");
	free(err), err = NULL;
	is_int(netlink_bridge_add(nl, "a/b", &err), -EINVAL, "a name with '/': -EINVAL");
	free(err), err = NULL;

	struct seen s = {"ctdt-br0", "bridge", false, false, ""};
	is_int(netlink_links(nl, link_cb, &s), 0, "links listed");
	ok(s.found && s.kind_ok, "ctdt-br0 is listed, of kind bridge");
	is_str(s.alias, "", "without an alias");
	struct netlink_link_opts mark = {.alias = "containd:0123abcd"};
	is_int(netlink_link_set(nl, "ctdt-br0", &mark, &err), 0, "an alias set");
	s = (struct seen){"ctdt-br0", "bridge", false, false, ""};
	netlink_links(nl, link_cb, &s);
	is_str(s.alias, "containd:0123abcd", "the walk reports the alias");
	char longer[NETLINK_ALIAS_MAX + 2];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	mark.alias = longer;
	is_int(netlink_link_set(nl, "ctdt-br0", &mark, &err), -EINVAL, "an alias of 256 bytes: -EINVAL");
	free(err), err = NULL;
	int calls = 0;
	is_int(netlink_links(nl, stop_cb, &calls), -ECANCELED, "a callback's error stops the walk");
	is_int(calls, 1, "after one call");
	ok(netlink_link_index(nl, "lo") > 0, "the socket still answers after a stopped dump");

	/* The veth's peer is made directly in B under its final name. */
	is_int(netlink_veth_add(nl, "ctdt-veth0", "eth0", netns_b, &err), 0, "veth ctdt-veth0 with eth0 in B");
	free(err), err = NULL;
	ok(netlink_link_index(nl, "ctdt-veth0") > 0, "ctdt-veth0 is here");
	is_int(netlink_link_index(nl, "eth0"), -ENODEV, "eth0 is not here");
	ok(netlink_link_index(nlb, "eth0") > 0, "eth0 is in B");
	s = (struct seen){"eth0", "veth", false, false, ""};
	netlink_links(nlb, link_cb, &s);
	ok(s.found && s.kind_ok, "B lists eth0 as a veth");
	is_int(netlink_veth_add(nl, "ctdt-veth1", "eth0", netns_b, &err), -EEXIST, "a second eth0 in B: -EEXIST");
	free(err), err = NULL;
	is_int(netlink_link_index(nl, "ctdt-veth1"), -ENODEV, "and no half-made pair is left");

	struct netlink_link_opts up = {.up = true};
	is_int(netlink_link_set(nl, "ctdt-br0", &up, &err), 0, "bridge up");
	struct netlink_link_opts port = {.up = true, .master = "ctdt-br0", .hairpin = true};
	is_int(netlink_link_set(nl, "ctdt-veth0", &port, &err), 0, "veth enslaved, hairpin, up");
	free(err), err = NULL;
	const char *j = run("ip -j -d link show ctdt-veth0");
	ok(strstr(j, "\"master\":\"ctdt-br0\""), "ip shows the master");
	ok(strstr(j, "\"hairpin\":true"), "ip shows hairpin mode on");
	ok(strstr(j, "\"UP\""), "ip shows it up");
	struct netlink_link_opts nomaster = {.master = "ctdt-nothing"};
	is_int(netlink_link_set(nl, "ctdt-veth0", &nomaster, &err), -ENODEV, "an absent master: -ENODEV");
	ok(err && strstr(err, "ctdt-veth0") && strstr(err, "ctdt-nothing"), "the message names both: %s",
	   err ? err : "(none)");
	free(err), err = NULL;

	/* In B: rename (down), MTU, MAC, up, in one call. */
	struct netlink_link_opts ctr = {.up = true, .new_name = "eth1", .mtu = 1400, .mac = mac};
	is_int(netlink_link_set(nlb, "eth0", &ctr, &err), 0, "eth0 renamed eth1 with an MTU and a MAC, up");
	free(err), err = NULL;
	is_int(netlink_link_index(nlb, "eth0"), -ENODEV, "eth0 is gone");
	ok(netlink_link_index(nlb, "eth1") > 0, "eth1 is there");
	j = run("nsenter --net=/proc/%d/fd/%d ip -j link show eth1", (int)getpid(), netns_b);
	ok(strstr(j, "\"mtu\":1400"), "ip in B shows the MTU");
	ok(strstr(j, "\"address\":\"02:42:ac:11:00:07\""), "ip in B shows the MAC");
	ok(strstr(j, "\"UP\""), "ip in B shows it up");
}

static void test_addresses(struct netlink *nl, struct netlink *nlb)
{
	char *err = NULL;
	struct ipv4_net n88 = {A(10, 88, 0, 0), 16}, bad = {A(10, 88, 0, 1), 16};

	is_int(netlink_addr_add(nl, "ctdt-br0", A(10, 77, 0, 1), 24, &err), 0, "10.77.0.1/24 on the bridge");
	is_int(netlink_addr_add(nl, "ctdt-br0", A(10, 77, 0, 1), 24, &err), -EEXIST, "again: -EEXIST");
	ok(err && strstr(err, "10.77.0.1/24") && strstr(err, "ctdt-br0") && strstr(err, " ("),
	   "the message names both, with the kernel's extended ACK: %s", err ? err : "(none)");
	free(err), err = NULL;
	const char *j = run("ip -j addr show ctdt-br0");
	ok(strstr(j, "\"local\":\"10.77.0.1\",\"prefixlen\":24"), "ip shows the address");
	ok(strstr(j, "\"broadcast\":\"10.77.0.255\""), "and its broadcast address");
	is_int(netlink_addr_add(nl, "ctdt-nothing", A(10, 77, 0, 9), 24, &err), -ENODEV, "on an absent link: -ENODEV");
	free(err), err = NULL;

	is_int(netlink_addr_add(nlb, "eth1", A(10, 77, 0, 2), 24, &err), 0, "10.77.0.2/24 in B");
	is_int(netlink_route_add(nlb, "eth1", NULL, A(10, 77, 0, 1), &err), 0, "default route via the bridge in B");
	free(err), err = NULL;
	is_int(netlink_route_add(nlb, "eth1", &n88, 0, &err), 0, "an on-link route to 10.88.0.0/16 in B");
	is_int(netlink_route_add(nlb, "eth1", &n88, 0, &err), -EEXIST, "again: -EEXIST");
	ok(err && strstr(err, "10.88.0.0/16") && strstr(err, "eth1"), "the message names both: %s",
	   err ? err : "(none)");
	free(err), err = NULL;
	is_int(netlink_route_add(nlb, "eth1", &bad, 0, &err), -EINVAL, "a destination with host bits: -EINVAL");
	free(err), err = NULL;
	is_int(netlink_route_add(nlb, "eth1", NULL, A(10, 99, 0, 1), &err), -ENETUNREACH,
	       "a gateway not on the link: -ENETUNREACH");
	free(err), err = NULL;

	struct routes_seen s = {0};
	is_int(netlink_routes(nlb, route_cb, &s), 0, "B's routes listed");
	ok(s.dflt == 1 && s.r88 == 1 && s.r77 == 1 && s.n == 3, "default, 10.88/16 and 10.77.0/24 (%d %d %d of %d)",
	   s.dflt, s.r88, s.r77, s.n);
	j = run("nsenter --net=/proc/%d/fd/%d ip -j route show default", (int)getpid(), netns_b);
	ok(strstr(j, "\"gateway\":\"10.77.0.1\"") && strstr(j, "\"dev\":\"eth1\""), "ip in B shows the default route");
	/* The bridge and the veth carry traffic: a TCP connection from B to the bridge's address is
	 * refused (a RST came back), not timed out. */
	j = run("nsenter --net=/proc/%d/fd/%d python3 -c 'import socket\n"
		"s = socket.socket(); s.settimeout(3)\n"
		"try: s.connect((\"10.77.0.1\", 9))\n"
		"except ConnectionRefusedError: print(\"reached\")' 2>&1",
		(int)getpid(), netns_b);
	is_str(j, "reached\n", "B reaches the bridge through the veth");
}

static void test_delete(struct netlink *nl, struct netlink *nlb)
{
	char *err = NULL;

	is_int(netlink_link_del(nl, "ctdt-veth0", &err), 0, "the veth deleted");
	is_int(netlink_link_index(nlb, "eth1"), -ENODEV, "its peer in B went with it");
	is_int(netlink_link_del(nl, "ctdt-veth0", &err), -ENODEV, "again: -ENODEV");
	ok(err && strstr(err, "ctdt-veth0"), "the message names it: %s", err ? err : "(none)");
	free(err), err = NULL;
	is_int(netlink_link_del(nl, "ctdt-br0", &err), 0, "the bridge deleted");
	is_int(netlink_link_index(nl, "ctdt-br0"), -ENODEV, "it is gone");
}

static void test_sysctl(void)
{
	char buf[64], *err = NULL;

	/* The test's own netns A: these are not the host's sysctls. */
	is_int(netlink_sysctl_set("ipv4/ip_forward", "1", &err), 0, "ip_forward set in A");
	is_int(netlink_sysctl_get("ipv4/ip_forward", buf, sizeof(buf)), 0, "read back");
	is_str(buf, "1", "ip_forward is 1");
	is_int(netlink_sysctl_set("ipv4/ip_forward", "0", &err), 0, "ip_forward reset in A");
	is_int(netlink_sysctl_get("ipv4/ip_forward", buf, sizeof(buf)), 0, "read back");
	is_str(buf, "0", "ip_forward is 0");
	is_int(netlink_sysctl_set("../kernel/hostname", "x", &err), -EINVAL, "a key leaving net.*: -EINVAL");
	free(err), err = NULL;
	is_int(netlink_sysctl_set("ipv4/conf/ctdt-nothing/route_localnet", "1", &err), -ENOENT,
	       "an absent interface's key: -ENOENT");
	ok(err && strstr(err, "ctdt-nothing"), "the message names the key: %s", err ? err : "(none)");
	free(err), err = NULL;
}

int main(void)
{
	struct netlink *nl = NULL, *nlb = NULL;
	char *err = NULL;
	ino_t here;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (network namespaces)\n");
		return 0;
	}
	if (!setup_netns()) {
		printf("1..0 # SKIP cannot create network namespaces here\n");
		return 0;
	}
	tap_cleanup_on_signals(NULL, 60);
	here = current_netns();
	is_int(netlink_open(&nl, &err), 0, "a socket in A");
	is_int(netlink_open_in(netns_b, &nlb, &err), 0, "a socket in B");
	is_int(current_netns(), here, "back in A after netlink_open_in");
	struct netlink *x = NULL;
	ok(netlink_open_in(-1, &x, &err) < 0 && !x && err, "netlink_open_in(-1) fails with a message");
	free(err), err = NULL;
	is_int(current_netns(), here, "still in A");
	if (!nl || !nlb)
		return tap_done();
	test_links(nl, nlb);
	test_addresses(nl, nlb);
	test_delete(nl, nlb);
	test_sysctl();
	netlink_close(nl);
	netlink_close(nlb);
	return tap_done();
}
