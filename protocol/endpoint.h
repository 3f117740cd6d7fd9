/* A container on its networks, on the wire: the "network_aliases", "ip", "extra_hosts", "dns",
 * "dns_search" and "dns_options" members of container.run and container.create params, and
 * network.connect / network.disconnect (docs/protocol.md). The daemon checks the values. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "protocol/messages.h"

#define PROTO_M_NETWORK_CONNECT	   "network.connect"
#define PROTO_M_NETWORK_DISCONNECT "network.disconnect"

/* The most entries of each list (aliases, extra hosts, dns servers, search domains, options). */
#define PROTO_MAX_NET_ITEMS 64

/* Decodes the members above into ret (its other members are left alone). */
int endpoint_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr);
/* Adds them to o when set: 0 or -ENOMEM. */
int endpoint_run_params_encode(const struct proto_run_params *p, json_t *o);
void endpoint_run_params_done(struct proto_run_params *p);

/* network.connect: {"network": REF, "container": REF, "aliases": [...], "ip": "A.B.C.D"};
 * network.disconnect: {"network": REF, "container": REF, "force": bool}. The result is {}. */
struct proto_network_connect_params {
	char *network, *container;
	char **aliases; /* connect only */
	char *ip;	/* connect only, or NULL */
	bool force;	/* disconnect only */
};
int proto_network_connect_params_decode(json_t *params, bool connect, struct proto_network_connect_params *ret,
					char **reterr);
json_t *proto_network_connect_params_encode(const struct proto_network_connect_params *p, bool connect);
void proto_network_connect_params_done(struct proto_network_connect_params *p);
