/* Networks on the wire: the network.* methods (docs/protocol.md, docs/networking.md). A network
 * is sent in Docker's own shape (the field names of `docker network inspect`), so cctl only
 * filters and formats it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#define PROTO_M_NETWORK_CREATE	"network.create"
#define PROTO_M_NETWORK_LIST	"network.list"
#define PROTO_M_NETWORK_INSPECT "network.inspect"
#define PROTO_M_NETWORK_REMOVE	"network.remove"
#define PROTO_M_NETWORK_PRUNE	"network.prune"

/* The longest network name, driver, subnet or gateway a peer may send. */
#define PROTO_NETWORK_NAME_MAX	64
#define PROTO_NETWORK_FIELD_MAX 64

/* network.create: {"name", "driver"?, "subnet"?, "gateway"?, "internal"?, "labels"?: {K: V}}.
 * Strings borrowed from the params; labels owned ("KEY=VALUE"). */
struct proto_network_create_params {
	const char *name, *driver, *subnet, *gateway;
	bool internal;
	char **labels;
};
int proto_network_create_params_decode(json_t *params, struct proto_network_create_params *ret, char **reterr);
json_t *proto_network_create_params_encode(const struct proto_network_create_params *p);
void proto_network_create_params_done(struct proto_network_create_params *p);

/* network.list: {"filters"?: {"name"|"id"|"driver"|"label"|"type"|"scope": [STRING, ...]}}, Docker's
 * filters (values of one key are alternatives, keys must all match; type is custom or builtin).
 * *ret_filters is borrowed from params (NULL: none); refusals carry Docker's message. */
#define PROTO_NETWORK_FILTERS_MAX 64
int proto_network_list_params_decode(json_t *params, json_t **ret_filters, char **reterr);
/* Adds "KEY=VALUE" (a --filter) to a filters object: -EINVAL for one that is not KEY=VALUE. */
int proto_network_filter_add(json_t *filters, const char *kv);

/* network.inspect and network.remove: {"name"} (a name, a full id or a unique id prefix).
 * network.list and network.prune take no params. */
int proto_network_ref_params_decode(const char *method, json_t *params, const char **ret_name, char **reterr);
json_t *proto_network_ref_params_encode(const char *name);
