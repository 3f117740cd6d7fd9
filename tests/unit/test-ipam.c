/* Unit tests for network/ipam.c: strict parsing, formatting, overlaps, Docker's default pools and a
 * subnet's address book. */
#include <errno.h>
#include <stdlib.h>

#include "network/ipam.h"
#include "tests/tap.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static void test_parse(void)
{
	static const struct {
		const char *in;
		uint32_t want;
	} good[] = {
	    {"10.0.0.1", A(10, 0, 0, 1)},
	    {"0.0.0.0", 0},
	    {"255.255.255.255", UINT32_MAX},
	    {"172.17.0.2", A(172, 17, 0, 2)},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t v = 0;
		int r = ipam_parse_addr(good[i].in, &v);
		ok(r == 0 && v == good[i].want, "ipam_parse_addr(\"%s\") = %08x (got %08x, r=%d)", good[i].in,
		   good[i].want, v, r);
	}
	static const char *const bad[] = {
	    "",		 "10",	    "10.0.0",	"10.0.0.1.",   "10.0.0.256", "010.0.0.1", "10.0.0.01",	" 10.0.0.1",
	    "10.0.0.1 ", "10..0.1", "-1.0.0.0", "10.0.0.1/24", "1.2.3.4.5",  "0x1.0.0.0", "1000.0.0.1", "10.0.0.1\t"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = 7;
		int r = ipam_parse_addr(bad[i], &v);
		ok(r == -EINVAL && v == 7, "ipam_parse_addr rejects \"%s\" (r=%d)", bad[i], r);
	}

	struct ipv4_net n = {0};
	is_int(ipam_parse_cidr("10.1.0.0/16", &n), 0, "10.1.0.0/16 parses");
	ok(n.addr == A(10, 1, 0, 0) && n.prefix == 16, "10.1.0.0/16 is 10.1.0.0 prefix 16");
	is_int(ipam_parse_cidr("0.0.0.0/0", &n), 0, "0.0.0.0/0 parses");
	ok(n.addr == 0 && n.prefix == 0, "0.0.0.0/0 is prefix 0");
	is_int(ipam_parse_cidr("192.168.1.7/32", &n), 0, "a /32 parses");
	static const char *const badc[] = {"10.1.0.1/16", "10.1.0.0/33", "10.1.0.0/",	"10.1.0.0",	"10.1.0.0/016",
					   "10.1.0.0/1a", "/16",	 "10.1.0.0/-1", "10.1.0.0/16/", "10.1.0.0 /16"};
	for (size_t i = 0; i < sizeof(badc) / sizeof(badc[0]); i++)
		is_int(ipam_parse_cidr(badc[i], &n), -EINVAL, "ipam_parse_cidr rejects \"%s\"", badc[i]);
}

static void test_format(void)
{
	char a[IPAM_ADDR_STRLEN], c[IPAM_CIDR_STRLEN];
	struct ipv4_net n = {A(255, 255, 255, 0), 24};

	ipam_format_addr(UINT32_MAX, a);
	is_str(a, "255.255.255.255", "format the longest address");
	ipam_format_addr(A(10, 0, 3, 4), a);
	is_str(a, "10.0.3.4", "format 10.0.3.4");
	ipam_format_cidr(&n, c);
	is_str(c, "255.255.255.0/24", "format the longest subnet");
	n = (struct ipv4_net){A(255, 255, 255, 255), 32};
	ipam_format_cidr(&n, c);
	is_str(c, "255.255.255.255/32", "format a /32");

	uint8_t mac[6];
	ipam_mac_from_addr(A(172, 17, 0, 2), mac);
	ok(mac[0] == 0x02 && mac[1] == 0x42 && mac[2] == 172 && mac[3] == 17 && mac[4] == 0 && mac[5] == 2,
	   "MAC of 172.17.0.2 is 02:42:ac:11:00:02 (got %02x:%02x:%02x:%02x:%02x:%02x)", mac[0], mac[1], mac[2], mac[3],
	   mac[4], mac[5]);
}

static void test_overlaps(void)
{
	struct ipv4_net a = {A(10, 0, 0, 0), 8}, b = {A(10, 5, 0, 0), 16}, c = {A(11, 0, 0, 0), 8}, d = {0, 0},
			e = {A(10, 5, 1, 0), 24}, f = {A(10, 5, 2, 0), 24};

	ok(ipam_overlaps(&a, &b) && ipam_overlaps(&b, &a), "10/8 and 10.5/16 overlap both ways");
	ok(!ipam_overlaps(&a, &c), "10/8 and 11/8 do not overlap");
	ok(ipam_overlaps(&d, &c), "the default route overlaps everything");
	ok(!ipam_overlaps(&e, &f), "adjacent /24s do not overlap");
	ok(ipam_contains(&b, A(10, 5, 255, 255)), "10.5/16 contains 10.5.255.255");
	ok(!ipam_contains(&b, A(10, 6, 0, 0)), "10.5/16 does not contain 10.6.0.0");
	is_int(ipam_mask(0), 0, "mask /0");
	is_int(ipam_mask(32), UINT32_MAX, "mask /32");
	is_int(ipam_mask(20), 0xfffff000u, "mask /20");
}

static void test_pick(void)
{
	struct ipv4_net got, taken[32];
	size_t n = 0;

	is_int(ipam_pick_subnet(NULL, 0, &got), 0, "a subnet with nothing taken");
	ok(got.addr == A(172, 17, 0, 0) && got.prefix == 16, "the first is 172.17.0.0/16");
	/* A host route inside 172.17/16 (e.g. a VPN's /24) takes the whole /16. */
	taken[n++] = (struct ipv4_net){A(172, 17, 3, 0), 24};
	taken[n++] = (struct ipv4_net){A(172, 18, 0, 0), 16};
	is_int(ipam_pick_subnet(taken, n, &got), 0, "a subnet past two taken ones");
	ok(got.addr == A(172, 19, 0, 0) && got.prefix == 16, "172.19.0.0/16 next (got %08x/%u)", got.addr, got.prefix);
	/* A 172.16.0.0/12 route covers every 172 pool: 192.168.0.0/20 comes next. */
	taken[n++] = (struct ipv4_net){A(172, 16, 0, 0), 12};
	taken[n++] = (struct ipv4_net){A(192, 168, 1, 0), 24};
	is_int(ipam_pick_subnet(taken, n, &got), 0, "a 192.168 subnet");
	ok(got.addr == A(192, 168, 16, 0) && got.prefix == 20, "192.168.16.0/20 (192.168.0/20 taken) (got %08x/%u)",
	   got.addr, got.prefix);
	taken[n++] = (struct ipv4_net){A(192, 168, 0, 0), 16};
	is_int(ipam_pick_subnet(taken, n, &got), -ENOSPC, "every pool taken: -ENOSPC");
}

static void test_pool(void)
{
	struct ipv4_net net = {A(10, 9, 0, 0), 29}; /* .0 network, .7 broadcast, .1 gateway: 5 hosts */
	struct ipam_pool *p = NULL;
	uint32_t a;

	is_int(ipam_pool_new(&net, A(10, 9, 0, 1), &p), 0, "a /29 pool");
	is_int(ipam_pool_alloc(p, &a), 0, "first allocation");
	is_int(a, A(10, 9, 0, 2), "the first address is .2 (after the gateway)");
	is_int(ipam_pool_alloc(p, &a), 0, "second allocation");
	is_int(a, A(10, 9, 0, 3), "then .3");
	is_int(ipam_pool_reserve(p, A(10, 9, 0, 5)), 0, "reserve .5");
	is_int(ipam_pool_reserve(p, A(10, 9, 0, 5)), -EEXIST, "reserve .5 again: -EEXIST");
	is_int(ipam_pool_reserve(p, A(10, 9, 0, 1)), -EINVAL, "the gateway cannot be reserved");
	is_int(ipam_pool_reserve(p, A(10, 9, 0, 0)), -EINVAL, "the network address cannot be reserved");
	is_int(ipam_pool_reserve(p, A(10, 9, 0, 7)), -EINVAL, "the broadcast address cannot be reserved");
	is_int(ipam_pool_reserve(p, A(10, 9, 0, 8)), -EINVAL, "an address outside cannot be reserved");
	is_int(ipam_pool_alloc(p, &a), 0, "third allocation");
	is_int(a, A(10, 9, 0, 4), "then .4");
	ipam_pool_release(p, A(10, 9, 0, 2));
	is_int(ipam_pool_alloc(p, &a), 0, "fourth allocation");
	is_int(a, A(10, 9, 0, 6), "round-robin: .6 before the released .2");
	is_int(ipam_pool_alloc(p, &a), 0, "fifth allocation wraps");
	is_int(a, A(10, 9, 0, 2), "the released .2 comes back after a wrap");
	is_int(ipam_pool_alloc(p, &a), -ENOSPC, "full: -ENOSPC");
	is_int(ipam_pool_used(p), 5, "five addresses used");
	ipam_pool_release(p, A(10, 9, 0, 1));
	ipam_pool_release(p, A(10, 9, 0, 100));
	is_int(ipam_pool_used(p), 5, "releasing the gateway or an outside address changes nothing");
	ipam_pool_release(p, A(10, 9, 0, 3));
	ipam_pool_release(p, A(10, 9, 0, 3));
	is_int(ipam_pool_used(p), 4, "a double release counts once");
	ipam_pool_free(p);

	struct ipv4_net bad = {A(10, 9, 0, 1), 24};
	is_int(ipam_pool_new(&bad, 0, &p), -EINVAL, "a subnet with host bits is refused");
	bad = (struct ipv4_net){A(10, 0, 0, 0), 7};
	is_int(ipam_pool_new(&bad, 0, &p), -EINVAL, "a /7 is too large");
	bad = (struct ipv4_net){A(10, 0, 0, 0), 31};
	is_int(ipam_pool_new(&bad, 0, &p), -EINVAL, "a /31 has no room");
	is_int(ipam_pool_new(&net, A(10, 9, 1, 1), &p), -EINVAL, "a gateway outside the subnet is refused");
	is_int(ipam_pool_new(&net, A(10, 9, 0, 7), &p), -EINVAL, "the broadcast address as gateway is refused");

	/* A /16 without gateway: the first address is .0.1, and 65534 fit. */
	net = (struct ipv4_net){A(172, 20, 0, 0), 16};
	is_int(ipam_pool_new(&net, 0, &p), 0, "a /16 pool without gateway");
	is_int(ipam_pool_alloc(p, &a), 0, "allocation");
	is_int(a, A(172, 20, 0, 1), "the first is .0.1");
	size_t count = 1;
	while (ipam_pool_alloc(p, &a) == 0)
		count++;
	is_int(count, 65534, "65534 host addresses in a /16");
	ipam_pool_free(p);
}

int main(void)
{
	test_parse();
	test_format();
	test_overlaps();
	test_pick();
	test_pool();
	return tap_done();
}
