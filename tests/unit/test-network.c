/* Tests of daemon/network.c and network-host.c against the kernel, as root, in a network namespace
 * the process unshares (no name: whatever it makes goes with the process, even on a crash; the
 * host's links, sysctls and nft tables are never touched). The built-ins and the default bridge,
 * addresses, user networks and their refusals, records across a reopen, a tampered record, --bip,
 * --bridge none. Not root (or no netns): skipped. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/util.h"
#include "daemon/network.h"
#include "network/ipam.h"
#include "network/netlink.h"
#include "tests/tap.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static char tmp[] = "/tmp/test-network.XXXXXX";

static void cleanup(void)
{
	(void)rm_rf(tmp);
}

static int open_nr(const char *root, const char *bridge, const char *bip, struct network_registry **ret, char **err)
{
	_cleanup_free_ char *r = NULL, *s = NULL;
	if (asprintf(&r, "%s/%s", tmp, root) < 0 || asprintf(&s, "%s/state", tmp) < 0)
		return -ENOMEM;
	(void)mkdir(s, 0700);
	const struct network_options o = {.bridge = bridge, .bip = bip, .ip_forward = true, .ip_masq = true};
	return network_registry_open(r, s, &o, ret, err);
}

static bool link_exists(struct network_registry *nr, const char *name)
{
	return nr->nl && netlink_link_index(nr->nl, name) > 0;
}

static unsigned count_files(const char *root, const char *suffix)
{
	_cleanup_free_ char *cmd = NULL;
	unsigned n = 0;
	char line[256];
	if (asprintf(&cmd, "ls %s/%s/networks | grep -c '%s$'", tmp, root, suffix) < 0)
		return 0;
	FILE *f = popen(cmd, "r");
	if (f && fgets(line, sizeof(line), f))
		n = (unsigned)atoi(line);
	if (f)
		pclose(f);
	return n;
}

static void test_defaults(void)
{
	struct network_registry *nr = NULL;
	char *err = NULL;
	char buf[19];
	uint32_t a = 0, b = 0;

	is_int(open_nr("r1", "ctdt-t0", NULL, &nr, &err), 0, "a registry opens: %s", err ? err : "");
	if (!nr)
		return;
	struct network *br = network_lookup(nr, "bridge"), *host = network_lookup(nr, "host"),
		       *none = network_lookup(nr, "none");
	ok(br && host && none, "bridge, host and none exist");
	ok(network_default(nr) == br, "the default network is bridge");
	if (!br || !host || !none)
		goto out;
	ipam_format_cidr(&br->subnet, buf);
	is_str(buf, "172.17.0.0/16", "in an empty netns the default bridge gets 172.17.0.0/16");
	ok(br->gateway == A(172, 17, 0, 1), "its gateway is .1");
	is_str(br->bridge, "ctdt-t0", "its bridge is --bridge's name");
	ok(link_exists(nr, "ctdt-t0"), "the bridge exists in the netns");
	ok(!br->user_defined && !host->user_defined && !none->user_defined, "the built-ins are not user-defined");
	ok(!host->ipam && !none->ipam && !host->bridge, "host and none hand out no addresses");
	ok(network_lookup(nr, br->id) == br, "lookup by full id");
	char prefix[13];
	snprintf(prefix, sizeof(prefix), "%.12s", br->id);
	ok(network_lookup(nr, prefix) == br, "lookup by an id prefix");
	ok(network_lookup(nr, "nosuch") == NULL, "an unknown name: NULL");
	char fwd[8] = "";
	ok(netlink_sysctl_get("ipv4/ip_forward", fwd, sizeof(fwd)) >= 0 && strcmp(fwd, "1") == 0,
	   "ip_forward was turned on");
	ok(nr->forward_guard, "and the forward guard is on");
	ok(netlink_sysctl_get("ipv4/conf/ctdt-t0/route_localnet", fwd, sizeof(fwd)) >= 0 && strcmp(fwd, "1") == 0,
	   "route_localnet is on for the bridge");

	/* Addresses. */
	is_int(network_address_alloc(br, 0, &a, &err), 0, "an address of the default bridge");
	ok(a == A(172, 17, 0, 2), "the first one is .2");
	is_int(network_address_alloc(br, A(172, 17, 0, 2), &b, &err), -EEXIST, "the same one again: -EEXIST");
	ok(err && strstr(err, "Address already in use"), "Docker's words: %s", err ? err : "");
	free(err), err = NULL;
	is_int(network_address_alloc(br, A(10, 0, 0, 5), &b, &err), -EINVAL, "an address outside the subnet: -EINVAL");
	free(err), err = NULL;
	is_int(network_address_alloc(br, A(172, 17, 0, 1), &b, &err), -EINVAL, "the gateway is never handed out");
	free(err), err = NULL;
	is_int(network_address_alloc(host, 0, &b, &err), -EINVAL, "host hands out no address");
	free(err), err = NULL;
	network_address_release(br, a);
	is_int(network_address_alloc(br, A(172, 17, 0, 2), &b, &err), 0, "a released address can be reserved again");

	/* User networks. */
	struct network *u1 = NULL, *x = NULL;
	is_int(network_create(nr, &(struct network_create_opts){.name = "u1", .subnet = "10.5.0.0/24"}, &u1, &err), 0,
	       "create u1: %s", err ? err : "");
	if (!u1)
		goto out;
	char want[16];
	snprintf(want, sizeof(want), "cd-%.12s", u1->id);
	is_str(u1->bridge, want, "its bridge is cd-<12 hex of its id>");
	ok(link_exists(nr, want), "and exists");
	ok(u1->gateway == A(10, 5, 0, 1) && u1->user_defined, "gateway .1, user-defined");
	unsigned before = nr->count;
	is_int(network_create(nr, &(struct network_create_opts){.name = "u2", .subnet = "10.5.0.0/16"}, &x, &err),
	       -EEXIST, "an overlapping subnet: -EEXIST");
	ok(err && strstr(err, "Pool overlaps with other one on this address space"), "Docker's words: %s",
	   err ? err : "");
	free(err), err = NULL;
	is_int(network_create(nr, &(struct network_create_opts){.name = "u2", .subnet = "172.17.5.0/24"}, &x, &err),
	       -EEXIST, "overlapping the default bridge: -EEXIST");
	free(err), err = NULL;
	is_int(network_create(nr, &(struct network_create_opts){.name = "u1"}, &x, &err), -EEXIST,
	       "a name in use: -EEXIST");
	is_str(err, "network with name u1 already exists", "Docker's words");
	free(err), err = NULL;
	is_int(network_create(nr, &(struct network_create_opts){.name = "none"}, &x, &err), -EEXIST,
	       "a built-in's name: refused");
	free(err), err = NULL;
	is_int(network_create(nr, &(struct network_create_opts){.name = "u3", .driver = "host"}, &x, &err), -EEXIST,
	       "a second host network: refused");
	free(err), err = NULL;
	is_int(network_create(nr, &(struct network_create_opts){.name = "u3", .subnet = "10.6.0.1/24"}, &x, &err),
	       -EINVAL, "a subnet with host bits: -EINVAL");
	free(err), err = NULL;
	is_int(network_create(
		   nr, &(struct network_create_opts){.name = "u3", .subnet = "10.6.0.0/24", .gateway = "10.6.0.255"},
		   &x, &err),
	       -EINVAL, "the broadcast address as gateway: -EINVAL");
	free(err), err = NULL;
	is_int(network_create(nr, &(struct network_create_opts){.name = "-u3"}, &x, &err), -EINVAL,
	       "an invalid name: -EINVAL");
	free(err), err = NULL;
	ok(nr->count == before, "nothing was created by the refusals");
	is_int(count_files("r1", ".json"), 4, "four records: bridge, host, none, u1");
	is_int(network_remove(nr, br, &err), -EPERM, "a built-in is not removed");
	free(err), err = NULL;
	char u1_id[65];
	memcpy(u1_id, u1->id, sizeof(u1_id));
	struct ipv4_net sub = br->subnet;
	char br_id[65];
	memcpy(br_id, br->id, sizeof(br_id));
	network_registry_free(nr);
	nr = NULL;

	/* A reopen keeps the ids and subnets; a deleted bridge is made again. */
	struct netlink *nl = NULL;
	if (netlink_open(&nl, &err) == 0) {
		(void)netlink_link_del(nl, want, NULL);
		netlink_close(nl);
	}
	is_int(open_nr("r1", "ctdt-t0", NULL, &nr, &err), 0, "the registry opens again");
	if (!nr)
		return;
	br = network_lookup(nr, "bridge");
	u1 = network_lookup(nr, "u1");
	ok(br && strcmp(br->id, br_id) == 0 && br->subnet.addr == sub.addr, "bridge keeps its id and subnet");
	ok(u1 && strcmp(u1->id, u1_id) == 0 && u1->subnet.addr == A(10, 5, 0, 0), "u1 keeps its id and subnet");
	ok(link_exists(nr, want), "u1's deleted bridge is made again");
	if (u1) {
		is_int(network_remove(nr, u1, &err), 0, "u1 is removed");
		ok(!link_exists(nr, want), "with its bridge");
		is_int(count_files("r1", ".json"), 3, "and its record");
	}
	network_registry_free(nr);
	nr = NULL;

	/* A tampered record is moved aside, never half-loaded. */
	is_int(open_nr("r1", "ctdt-t0", NULL, &nr, &err), 0, "open before tampering");
	if (!nr)
		return;
	struct network *u4 = NULL;
	is_int(network_create(nr, &(struct network_create_opts){.name = "u4", .subnet = "10.7.0.0/24"}, &u4, &err), 0,
	       "create u4");
	char *path = NULL;
	if (u4 && asprintf(&path, "%s/r1/networks/%s.json", tmp, u4->id) >= 0) {
		FILE *f = fopen(path, "w");
		if (f) {
			fputs("{\"version\":2,\"id\":\"x\",\"name\":\"u4\",\"driver\":\"bridge\",\"bridge\":\"eth0; "
			      "rm\"}",
			      f);
			fclose(f);
		}
		free(path);
	}
	network_registry_free(nr);
	nr = NULL;
	is_int(open_nr("r1", "ctdt-t0", NULL, &nr, &err), 0, "the registry opens with a tampered record");
	ok(nr && !network_lookup(nr, "u4"), "the tampered network is not loaded");
	is_int(count_files("r1", ".json.bad"), 1, "its record is moved aside");
out:
	network_registry_free(nr);
	free(err);
}

static void test_bip_and_none(void)
{
	struct network_registry *nr = NULL;
	char *err = NULL;
	is_int(open_nr("r2", "ctdt-t1", "10.0.0.0/24", &nr, &err), -EINVAL, "--bip with the network address: refused");
	free(err), err = NULL;
	is_int(open_nr("r2", "ctdt-t1", "10.0.0.1", &nr, &err), -EINVAL, "--bip without a prefix: refused");
	free(err), err = NULL;
	is_int(open_nr("r2", "ctdt-t1", "10.0.0.1/31", &nr, &err), -EINVAL, "--bip /31: refused");
	free(err), err = NULL;
	is_int(open_nr("r2", "ctdt-t1", "10.9.0.1/24", &nr, &err), 0, "--bip 10.9.0.1/24");
	struct network *br = nr ? network_lookup(nr, "bridge") : NULL;
	ok(br && br->subnet.addr == A(10, 9, 0, 0) && br->subnet.prefix == 24 && br->gateway == A(10, 9, 0, 1),
	   "the default bridge has --bip's subnet and gateway");
	network_registry_free(nr);
	nr = NULL;
	is_int(open_nr("r2", "ctdt-t1", "10.9.1.1/24", &nr, &err), 0, "another --bip");
	br = nr ? network_lookup(nr, "bridge") : NULL;
	ok(br && br->subnet.addr == A(10, 9, 1, 0) && br->gateway == A(10, 9, 1, 1), "replaces the subnet");
	network_registry_free(nr);
	nr = NULL;

	is_int(open_nr("r3", "none", NULL, &nr, &err), 0, "--bridge none");
	if (!nr)
		return;
	ok(!network_lookup(nr, "bridge"), "no bridge network");
	ok(network_default(nr) == network_lookup(nr, "none") && network_default(nr), "the default network is none");
	ok(!nr->host_touched && !nr->nl, "the host's networking is not touched (no netlink socket)");
	is_int(network_registry_apply_nft(nr, &err), 0, "applying nft does nothing");
	network_registry_free(nr);
	free(err);
}

int main(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		printf("1..0 # SKIP needs root and network namespaces\n");
		return 0;
	}
	/* A new netns copies the host's net.ipv4 settings: forwarding starts off, as on a fresh
	 * host, whatever the host's own is (this netns only). */
	if (netlink_sysctl_set("ipv4/ip_forward", "0", NULL) < 0) {
		printf("1..0 # SKIP cannot turn forwarding off in the test's netns\n");
		return 0;
	}
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP no temp dir\n");
		return 0;
	}
	tap_cleanup_on_signals(cleanup, 120);
	test_defaults();
	test_bip_and_none();
	cleanup();
	return tap_done();
}
