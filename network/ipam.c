/* IPv4 address management: strict parsers, Docker's default pools, a bitmap per subnet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network/ipam.h"

/* One number of a dotted quad or a prefix: 1-3 decimal digits, no leading zero, at most max.
 * Advances *p past it. */
static int ipam_parse_number(const char **p, unsigned max, unsigned *ret)
{
	const char *s = *p;
	unsigned v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 3)
			return -EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > max)
		return -EINVAL;
	*ret = v;
	*p = s + n;
	return 0;
}

/* The dotted quad at *p, which is advanced past it. */
static int ipam_parse_quad(const char **p, uint32_t *ret)
{
	const char *s = *p;
	uint32_t addr = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v;
		if (i > 0) {
			if (*s != '.')
				return -EINVAL;
			s++;
		}
		if (ipam_parse_number(&s, 255, &v) < 0)
			return -EINVAL;
		addr = addr << 8 | v;
	}
	*ret = addr;
	*p = s;
	return 0;
}

int ipam_parse_addr(const char *s, uint32_t *ret)
{
	uint32_t addr;

	if (!s || ipam_parse_quad(&s, &addr) < 0 || *s)
		return -EINVAL;
	*ret = addr;
	return 0;
}

int ipam_parse_cidr(const char *s, struct ipv4_net *ret)
{
	uint32_t addr;
	unsigned prefix;

	if (!s || ipam_parse_quad(&s, &addr) < 0 || *s++ != '/')
		return -EINVAL;
	if (ipam_parse_number(&s, 32, &prefix) < 0 || *s)
		return -EINVAL;
	if (addr & ~ipam_mask((uint8_t)prefix))
		return -EINVAL;
	*ret = (struct ipv4_net){.addr = addr, .prefix = (uint8_t)prefix};
	return 0;
}

void ipam_format_addr(uint32_t addr, char buf[IPAM_ADDR_STRLEN])
{
	snprintf(buf, IPAM_ADDR_STRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
}

void ipam_format_cidr(const struct ipv4_net *n, char buf[IPAM_CIDR_STRLEN])
{
	char a[IPAM_ADDR_STRLEN];

	ipam_format_addr(n->addr, a);
	snprintf(buf, IPAM_CIDR_STRLEN, "%s/%u", a, (unsigned)(n->prefix > 32 ? 32 : n->prefix));
}

void ipam_mac_from_addr(uint32_t addr, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x42;
	mac[2] = (uint8_t)(addr >> 24);
	mac[3] = (uint8_t)(addr >> 16);
	mac[4] = (uint8_t)(addr >> 8);
	mac[5] = (uint8_t)addr;
}

uint32_t ipam_mask(uint8_t prefix)
{
	if (prefix == 0)
		return 0;
	if (prefix >= 32)
		return UINT32_MAX;
	return UINT32_MAX << (32 - prefix);
}

bool ipam_contains(const struct ipv4_net *n, uint32_t addr)
{
	uint32_t m = ipam_mask(n->prefix);
	return (addr & m) == (n->addr & m);
}

bool ipam_overlaps(const struct ipv4_net *a, const struct ipv4_net *b)
{
	/* Two prefixes overlap exactly when the shorter one contains the other's network address. */
	uint8_t p = a->prefix < b->prefix ? a->prefix : b->prefix;
	uint32_t m = ipam_mask(p);
	return (a->addr & m) == (b->addr & m);
}

/* Whether candidate overlaps any of taken[]. */
static bool ipam_taken(const struct ipv4_net *candidate, const struct ipv4_net *taken, size_t n_taken)
{
	for (size_t i = 0; i < n_taken; i++)
		if (ipam_overlaps(candidate, &taken[i]))
			return true;
	return false;
}

int ipam_pick_subnet(const struct ipv4_net *taken, size_t n_taken, struct ipv4_net *ret)
{
	/* Docker's default address pools, in its order: 172.17-31.0.0/16, then 192.168.x.0/20. */
	for (uint32_t b = 17; b <= 31; b++) {
		struct ipv4_net c = {.addr = 172u << 24 | b << 16, .prefix = 16};
		if (!ipam_taken(&c, taken, n_taken)) {
			*ret = c;
			return 0;
		}
	}
	for (uint32_t c3 = 0; c3 < 256; c3 += 16) {
		struct ipv4_net c = {.addr = 192u << 24 | 168u << 16 | c3 << 8, .prefix = 20};
		if (!ipam_taken(&c, taken, n_taken)) {
			*ret = c;
			return 0;
		}
	}
	return -ENOSPC;
}

/* The pool keeps one bit per address of the subnet (offset from the network address); the network
 * address, the broadcast address and the gateway are set from the start and never cleared. */
struct ipam_pool {
	struct ipv4_net subnet;
	uint32_t gateway;
	uint32_t size; /* addresses in the subnet */
	uint32_t last; /* offset of the last address handed out by alloc */
	size_t used;   /* handed out (not counting network, broadcast, gateway) */
	uint64_t bits[];
};

static bool ipam_bit(const struct ipam_pool *p, uint32_t off)
{
	return p->bits[off / 64] >> (off % 64) & 1;
}

static void ipam_bit_set(struct ipam_pool *p, uint32_t off, bool v)
{
	if (v)
		p->bits[off / 64] |= UINT64_C(1) << (off % 64);
	else
		p->bits[off / 64] &= ~(UINT64_C(1) << (off % 64));
}

int ipam_pool_new(const struct ipv4_net *subnet, uint32_t gateway, struct ipam_pool **ret)
{
	struct ipam_pool *p;
	uint32_t size;

	if (subnet->prefix < IPAM_POOL_MIN_PREFIX || subnet->prefix > IPAM_POOL_MAX_PREFIX ||
	    (subnet->addr & ~ipam_mask(subnet->prefix)))
		return -EINVAL;
	size = UINT32_C(1) << (32 - subnet->prefix);
	if (gateway &&
	    (!ipam_contains(subnet, gateway) || gateway == subnet->addr || gateway == subnet->addr + size - 1))
		return -EINVAL;
	p = calloc(1, sizeof(*p) + (size + 63) / 64 * sizeof(uint64_t));
	if (!p)
		return -ENOMEM;
	p->subnet = *subnet;
	p->gateway = gateway;
	p->size = size;
	ipam_bit_set(p, 0, true);
	ipam_bit_set(p, size - 1, true);
	if (gateway)
		ipam_bit_set(p, gateway - subnet->addr, true);
	*ret = p;
	return 0;
}

void ipam_pool_free(struct ipam_pool *p)
{
	free(p);
}

int ipam_pool_alloc(struct ipam_pool *p, uint32_t *ret)
{
	for (uint32_t i = 1; i <= p->size; i++) {
		uint32_t off = (p->last + i) % p->size;
		if (!ipam_bit(p, off)) {
			ipam_bit_set(p, off, true);
			p->last = off;
			p->used++;
			*ret = p->subnet.addr + off;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Whether addr is one the pool may hand out: a host address of the subnet, not the gateway. */
static bool ipam_pool_assignable(const struct ipam_pool *p, uint32_t addr)
{
	return ipam_contains(&p->subnet, addr) && addr != p->subnet.addr && addr != p->subnet.addr + p->size - 1 &&
	       addr != p->gateway;
}

int ipam_pool_reserve(struct ipam_pool *p, uint32_t addr)
{
	if (!ipam_pool_assignable(p, addr))
		return -EINVAL;
	if (ipam_bit(p, addr - p->subnet.addr))
		return -EEXIST;
	ipam_bit_set(p, addr - p->subnet.addr, true);
	p->used++;
	return 0;
}

void ipam_pool_release(struct ipam_pool *p, uint32_t addr)
{
	if (!ipam_pool_assignable(p, addr) || !ipam_bit(p, addr - p->subnet.addr))
		return;
	ipam_bit_set(p, addr - p->subnet.addr, false);
	p->used--;
}

size_t ipam_pool_used(const struct ipam_pool *p)
{
	return p->used;
}
