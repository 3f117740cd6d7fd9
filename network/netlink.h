/* rtnetlink through libmnl: links (bridges, veth pairs), addresses and routes of one network
 * namespace, and the net.* sysctls of the caller's. Every request asks for the kernel's ACK and
 * its error comes back as -errno with a message naming the link. IPv4 only; addresses in HOST byte
 * order. Blocking calls, no event loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "network/ipam.h"

/* One NETLINK_ROUTE socket, bound for its whole life to the netns it was created in. */
struct netlink;

/* What netlink_link_set changes; a zero field changes nothing (so a link cannot be set down here). */
struct netlink_link_opts {
	bool up;	      /* set IFF_UP */
	const char *master;   /* enslave to this bridge (by name), or NULL */
	const char *new_name; /* rename to this (the link must be down), or NULL */
	uint32_t mtu;	      /* 0: unchanged */
	const uint8_t *mac;   /* 6 bytes, or NULL */
	bool hairpin;	      /* as a bridge port: send frames back out the port they came in on */
	const char *alias;    /* the link's alias (IFLA_IFALIAS, at most 255 bytes), or NULL */
};

/* A socket in the caller's netns. */
int netlink_open(struct netlink **ret, char **reterr);
/* A socket in the netns netns_fd names (setns there and back; see netlink.c for why that is safe). */
int netlink_open_in(int netns_fd, struct netlink **ret, char **reterr);
void netlink_close(struct netlink *nl);

/* The index of a link by name: > 0, or -ENODEV (or another -errno). */
int netlink_link_index(struct netlink *nl, const char *name);
/* A bridge, down. -EEXIST if a link of that name exists. */
int netlink_bridge_add(struct netlink *nl, const char *name, char **reterr);
/* A veth pair: name in this netns, peer created directly in peer_netns_fd (-1: this netns) under
 * its final name, both down. -EEXIST if either name is taken. */
int netlink_veth_add(struct netlink *nl, const char *name, const char *peer, int peer_netns_fd, char **reterr);
/* Deletes a link (a veth's peer goes with it). -ENODEV when absent. */
int netlink_link_del(struct netlink *nl, const char *name, char **reterr);
int netlink_link_set(struct netlink *nl, const char *name, const struct netlink_link_opts *o, char **reterr);
/* addr/prefix on a link (with its broadcast address). -EEXIST if it is there already. */
int netlink_addr_add(struct netlink *nl, const char *name, uint32_t addr, uint8_t prefix, char **reterr);
/* A route in the main table: dst NULL for the default route, gateway 0 for on-link. */
int netlink_route_add(struct netlink *nl, const char *dev, const struct ipv4_net *dst, uint32_t gateway, char **reterr);
/* A link's alias is at most this long (the kernel's IFALIASZ - 1). */
#define NETLINK_ALIAS_MAX 255

/* What netlink_links reports of one link. */
typedef int (*netlink_link_cb)(const char *name, int index, const char *kind, const char *alias, void *ud);
/* Calls cb for every link (kind: "bridge", "veth", ... or NULL; alias: its IFLA_IFALIAS or NULL);
 * a negative return from cb stops the walk and is returned. */
int netlink_links(struct netlink *nl, netlink_link_cb cb, void *ud);
/* Calls cb for every IPv4 unicast route of the main table (the default route has prefix 0). */
int netlink_routes(struct netlink *nl, int (*cb)(const struct ipv4_net *dst, void *ud), void *ud);

/* Calls cb for every IPv4 address of link name (its local address and prefix); -ENODEV when there
 * is no such link. */
int netlink_addrs(struct netlink *nl, const char *name, int (*cb)(uint32_t addr, uint8_t prefix, void *ud), void *ud);

/* net.* sysctls of the netns the caller is in: key "ipv4/ip_forward" or
 * "ipv4/conf/containd0/route_localnet" under /proc/sys/net/. get returns the value without its
 * newline. */
int netlink_sysctl_set(const char *key, const char *value, char **reterr);
int netlink_sysctl_get(const char *key, char *buf, size_t size);
