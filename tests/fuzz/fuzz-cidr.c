/* Fuzz target for network/ipam.c. The input is "TEXT\0OPS": TEXT goes to ipam_parse_addr and
 * ipam_parse_cidr; what parses formats back to exactly TEXT (the parsers accept only the canonical
 * form) and parses again to the same value. When TEXT is a subnet a pool accepts (/22 to /30, to
 * keep the model small), OPS drive a pool with the subnet's second address as gateway: each byte
 * is an alloc, a reserve or a release of an address picked by the next byte, checked against a
 * model (a bool per address): allocations are free host addresses, -ENOSPC exactly when the model
 * is full, reserve and release agree with it. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "network/ipam.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_CIDR_TEXT_MAX 64

static void fuzz_pool(const struct ipv4_net *net, const uint8_t *ops, size_t n_ops)
{
	static bool used[1024];
	uint32_t size = UINT32_C(1) << (32 - net->prefix), gw = net->addr + 1, free_count = size - 3;
	struct ipam_pool *p;

	FUZZ_CHECK(ipam_pool_new(net, gw, &p) == 0);
	memset(used, 0, sizeof(used));
	for (size_t i = 0; i < n_ops; i += 2) {
		uint8_t op = ops[i] % 3, arg = i + 1 < n_ops ? ops[i + 1] : 0;
		/* An address from just below the subnet to just past it. */
		uint32_t addr = net->addr - 1 + (uint32_t)((arg * (uint32_t)(size + 2)) >> 8);
		uint32_t a;
		bool host = ipam_contains(net, addr) && addr != net->addr && addr != net->addr + size - 1 && addr != gw;
		int r;
		switch (op) {
		case 0:
			r = ipam_pool_alloc(p, &a);
			if (free_count == 0) {
				FUZZ_CHECK(r == -ENOSPC);
				break;
			}
			FUZZ_CHECK(r == 0);
			FUZZ_CHECK(ipam_contains(net, a) && a != net->addr && a != net->addr + size - 1 && a != gw);
			FUZZ_CHECK(!used[a - net->addr]);
			used[a - net->addr] = true;
			free_count--;
			break;
		case 1:
			r = ipam_pool_reserve(p, addr);
			if (!host)
				FUZZ_CHECK(r == -EINVAL);
			else if (used[addr - net->addr])
				FUZZ_CHECK(r == -EEXIST);
			else {
				FUZZ_CHECK(r == 0);
				used[addr - net->addr] = true;
				free_count--;
			}
			break;
		default:
			ipam_pool_release(p, addr);
			if (host && used[addr - net->addr]) {
				used[addr - net->addr] = false;
				free_count++;
			}
			break;
		}
		FUZZ_CHECK(ipam_pool_used(p) == size - 3 - free_count);
	}
	ipam_pool_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[FUZZ_CIDR_TEXT_MAX + 1];
	const uint8_t *nul = memchr(data, 0, size);
	size_t len = nul ? (size_t)(nul - data) : size;
	uint32_t addr;
	struct ipv4_net net;

	if (len > FUZZ_CIDR_TEXT_MAX)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';

	if (ipam_parse_addr(text, &addr) == 0) {
		char out[IPAM_ADDR_STRLEN];
		uint32_t again;
		ipam_format_addr(addr, out);
		FUZZ_CHECK(strcmp(out, text) == 0);
		FUZZ_CHECK(ipam_parse_addr(out, &again) == 0 && again == addr);
		FUZZ_CHECK(ipam_parse_cidr(text, &net) == -EINVAL);
	}
	if (ipam_parse_cidr(text, &net) == 0) {
		char out[IPAM_CIDR_STRLEN];
		struct ipv4_net again;
		FUZZ_CHECK(net.prefix <= 32 && (net.addr & ~ipam_mask(net.prefix)) == 0);
		ipam_format_cidr(&net, out);
		FUZZ_CHECK(strcmp(out, text) == 0);
		FUZZ_CHECK(ipam_parse_cidr(out, &again) == 0 && again.addr == net.addr && again.prefix == net.prefix);
		FUZZ_CHECK(ipam_overlaps(&net, &net) && ipam_contains(&net, net.addr));
		struct ipv4_net picked;
		if (ipam_pick_subnet(&net, 1, &picked) == 0)
			FUZZ_CHECK(!ipam_overlaps(&picked, &net));
		if (net.prefix >= 22 && net.prefix <= 30 && nul)
			fuzz_pool(&net, nul + 1, size - len - 1);
	}
	return 0;
}
