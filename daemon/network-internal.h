/* What daemon/network.c (the objects, their records) and daemon/network-host.c (their bridges,
 * sysctls and nft table on the host) share. */
#pragma once

#include "daemon/network.h"

/* Makes n's bridge on the host: created if missing, its gateway address, up, route_localnet;
 * IPv4 forwarding turned on the first time (network_options.ip_forward). */
int network_host_bridge_up(struct network_registry *nr, struct network *n, char **reterr);
/* Deletes n's bridge (gone already: fine). */
int network_host_bridge_down(struct network_registry *nr, struct network *n, char **reterr);
/* Adds the host's IPv4 routes (except default routes) to *taken (realloc'ed; *n grows). */
/* The first IPv4 address (/1 to /30) a bridge that exists already has: the default bridge takes
 * it as its gateway and subnet, as Docker does with an existing docker0, rather than stacking a
 * second address on it. -ENOENT: none; -ENODEV: no such link. */
int network_host_bridge_address(struct network_registry *nr, const char *bridge, struct ipv4_net *subnet,
				uint32_t *gateway);
int network_host_routes(struct network_registry *nr, struct ipv4_net **taken, size_t *n, char **reterr);
/* Opens the registry's rtnetlink socket the first time it is needed. */
int network_host_netlink(struct network_registry *nr, char **reterr);
