/* What the files of daemon/container-network*.c share. */
#pragma once

#include "daemon/container-network.h"

/* The network of an endpoint, or NULL when it is gone. */
struct network *container_network_of(const struct container *ct, const struct container_endpoint *ep);
/* ct's endpoint on the network of that id, or NULL. */
struct container_endpoint *container_network_find(const struct container *ct, const char *network_id);
/* Rewrites the hosts files of the running containers that share a user-defined network with ct
 * (only the network of that id, or all of ct's when NULL): ct joined or left it. */
void container_network_refresh_peers(struct container *ct, const char *network_id);
/* The daemon's own rtnetlink socket (opened at its first use, kept). */
struct netlink;
int container_network_host_netlink(struct netlink **ret, char **reterr);
