/* IPv4 address management for containd's networks: parsing and formatting addresses and subnets,
 * picking a free subnet from Docker's default pools, and a subnet's address book. Pure code (no
 * syscalls), fuzzed. IPv4 only: containd's networks have no IPv6. Every address here is in HOST
 * byte order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipv4_net {
	uint32_t addr;	/* host byte order, host bits zero */
	uint8_t prefix; /* 0..32 */
};

/* Room for the text of an address ("255.255.255.255") and of a subnet (".../32"), NUL included. */
#define IPAM_ADDR_STRLEN 16
#define IPAM_CIDR_STRLEN 19

/* The smallest and largest subnet a pool accepts: /8 (a 2 MiB bitmap at most) to /30 (2 hosts). */
#define IPAM_POOL_MIN_PREFIX 8
#define IPAM_POOL_MAX_PREFIX 30

/* "10.0.0.1": exactly four decimal numbers 0-255 without leading zeros or signs; -EINVAL otherwise. */
int ipam_parse_addr(const char *s, uint32_t *ret);
/* "10.0.0.0/24": an address, '/', a prefix 0-32 without leading zeros; host bits set -> -EINVAL. */
int ipam_parse_cidr(const char *s, struct ipv4_net *ret);
void ipam_format_addr(uint32_t addr, char buf[IPAM_ADDR_STRLEN]);
void ipam_format_cidr(const struct ipv4_net *n, char buf[IPAM_CIDR_STRLEN]);

/* Docker's MAC address for a container address: 02:42 then the four bytes of addr (a locally
 * administered unicast address, unique on a bridge since the address is). */
void ipam_mac_from_addr(uint32_t addr, uint8_t mac[6]);

/* The netmask of a prefix length (0 for /0). */
uint32_t ipam_mask(uint8_t prefix);
bool ipam_contains(const struct ipv4_net *n, uint32_t addr);
bool ipam_overlaps(const struct ipv4_net *a, const struct ipv4_net *b);

/* Picks the first subnet of Docker's default pools (172.17.0.0/16 .. 172.31.0.0/16, then
 * 192.168.0.0/20 .. 192.168.240.0/20) overlapping none of taken[] (other networks AND the host's
 * routes: leave the default route, prefix 0, out of taken[], it overlaps everything). -ENOSPC when
 * every one is taken. */
int ipam_pick_subnet(const struct ipv4_net *taken, size_t n_taken, struct ipv4_net *ret);

/* A subnet's address book: the network address, the gateway and the broadcast address are never
 * handed out. Allocation goes round-robin (the next free address after the last one given, as
 * Docker does), so a released address is not reused at once. */
struct ipam_pool;
/* -EINVAL if the prefix is outside IPAM_POOL_MIN_PREFIX..IPAM_POOL_MAX_PREFIX or the gateway is not
 * a host address of the subnet (0: no gateway). */
int ipam_pool_new(const struct ipv4_net *subnet, uint32_t gateway, struct ipam_pool **ret);
void ipam_pool_free(struct ipam_pool *p);
/* The next free address after the last one given; -ENOSPC when the subnet is full. */
int ipam_pool_alloc(struct ipam_pool *p, uint32_t *ret);
/* Marks a given address (--ip, or one restored from a record) as used: -EEXIST if it is already,
 * -EINVAL outside the subnet's host addresses or on the gateway. */
int ipam_pool_reserve(struct ipam_pool *p, uint32_t addr);
/* Gives an address back; one not in use (or outside the pool) is ignored. */
void ipam_pool_release(struct ipam_pool *p, uint32_t addr);
/* How many addresses are handed out (reserved or allocated). */
size_t ipam_pool_used(const struct ipam_pool *p);
