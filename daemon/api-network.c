/* network.create, network.list, network.inspect, network.remove, network.prune: the networks of
 * daemon/network.h in Docker's shape (the field names of `docker network inspect`). Which
 * containers are attached comes from the containers' side (network_attached). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/api-internal.h"
#include "daemon/network.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "network/ipam.h"
#include "protocol/messages.h"
#include "protocol/network.h"

/* A network as `docker network inspect` shows it. */
static json_t *api_network_json(struct network_registry *nr, const struct network *n)
{
	char created[64];
	format_rfc3339(&n->created, created, sizeof(created));
	json_t *containers = json_object(), *config = json_array(), *options = json_object();
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:o*}, s:b, s:b, s:b, s:{s:s}, s:b, s:o*, "
		      "s:o*, s:o*}",
		      "Name", n->name, "Id", n->id, "Created", created, "Scope", "local", "Driver", n->driver,
		      "EnableIPv6", false, "IPAM", "Driver", "default", "Options", "Config", config, "Internal",
		      n->internal, "Attachable", false, "Ingress", false, "ConfigFrom", "Network", "", "ConfigOnly",
		      false, "Containers", containers, "Options", options, "Labels", proto_labels_to_json(n->labels));
	if (!o)
		return NULL;
	(void)network_attached(nr, n, containers);
	if (n->bridge) {
		char subnet[19], gateway[16];
		ipam_format_cidr(&n->subnet, subnet);
		ipam_format_addr(n->gateway, gateway);
		if (json_array_append_new(config, json_pack("{s:s, s:s}", "Subnet", subnet, "Gateway", gateway)) < 0 ||
		    json_object_set_new(options, "com.docker.network.bridge.name", json_string(n->bridge)) < 0 ||
		    json_object_set_new(options, "com.docker.network.bridge.enable_ip_masquerade",
					json_string(nr->ip_masq ? "true" : "false")) < 0 ||
		    (!n->user_defined && json_object_set_new(options, "com.docker.network.bridge.default_bridge",
							     json_string("true")) < 0)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

void api_network_create(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_network_create_params p;
	_cleanup_free_ char *err = NULL;
	struct network *n;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_network_create_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (api_refuse_shutting_down(api, c, req->id)) {
		proto_network_create_params_done(&p);
		return;
	}
	struct network_create_opts o = {.name = p.name,
					.driver = p.driver,
					.subnet = p.subnet,
					.gateway = p.gateway,
					.internal = p.internal,
					.labels = p.labels};
	r = network_create(api->reg->networks, &o, &n, &err);
	proto_network_create_params_done(&p);
	if (r < 0) {
		api_reply_errno(c, req->id, r, err);
		return;
	}
	log_info("network %s created (%.12s)", n->name, n->id);
	conn_send_result(c, req->id, json_pack("{s:s, s:s}", "id", n->id, "name", n->name), NULL, 0);
}

static int api_network_cmp(const void *a, const void *b)
{
	const struct network *x = *(const struct network *const *)a, *y = *(const struct network *const *)b;
	return strcmp(x->name, y->name);
}

/* Whether n has the label "KEY" or "KEY=VALUE" (kv). */
static bool api_network_has_label(const struct network *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	for (char **l = n->labels; l && *l; l++)
		if (strncmp(*l, kv, klen) == 0 && (*l)[klen] == '=' && (!eq || strcmp(*l + klen + 1, eq + 1) == 0))
			return true;
	return false;
}

/* Docker's network filters: the values of one key are alternatives, every key must match, and
 * every label filter must; name and id match a part. */
static bool api_network_match(const struct network *n, json_t *filters)
{
	const char *key;
	json_t *vals, *v;
	size_t i;
	json_object_foreach(filters, key, vals)
	{
		bool label = strcmp(key, "label") == 0, hit = json_array_size(vals) == 0 || label;
		json_array_foreach(vals, i, v)
		{
			const char *s = json_string_value(v);
			bool m = strcmp(key, "name") == 0     ? strstr(n->name, s) != NULL
				 : strcmp(key, "id") == 0     ? strstr(n->id, s) != NULL
				 : strcmp(key, "driver") == 0 ? strcmp(n->driver, s) == 0
				 : strcmp(key, "type") == 0   ? n->user_defined == (strcmp(s, "custom") == 0)
				 : strcmp(key, "scope") == 0  ? strcmp(s, "local") == 0
							      : api_network_has_label(n, s);
			if (label && !m)
				return false;
			hit |= m;
		}
		if (!hit)
			return false;
	}
	return true;
}

void api_network_list(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct network_registry *nr = api->reg->networks;
	_cleanup_free_ char *err = NULL;
	_cleanup_free_ struct network **v = NULL;
	json_t *filters;
	size_t n = 0;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_network_list_params_decode(req->params, &filters, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	json_t *a = json_array();
	if (!a || (nr->count && !(v = calloc(nr->count, sizeof(*v))))) {
		json_decref(a);
		api_reply_errno(c, req->id, -ENOMEM, NULL);
		return;
	}
	for (struct network *x = nr->list; x && n < nr->count; x = x->next)
		if (!filters || api_network_match(x, filters))
			v[n++] = x;
	/* By name, as `docker network ls` lists them. */
	if (n)
		qsort(v, n, sizeof(*v), api_network_cmp);
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(a, api_network_json(nr, v[i])) < 0) {
			json_decref(a);
			api_reply_errno(c, req->id, -ENOMEM, NULL);
			return;
		}
	conn_send_result(c, req->id, json_pack("{s:o}", "networks", a), NULL, 0);
}

/* The network a ref params names, or NULL after answering the error. */
static struct network *api_network_ref(struct api *api, struct conn *c, struct proto_request *req)
{
	_cleanup_free_ char *err = NULL;
	const char *name;
	if (!api_expect_no_fds(c, req))
		return NULL;
	int r = proto_network_ref_params_decode(req->method, req->params, &name, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return NULL;
	}
	struct network *n = network_lookup(api->reg->networks, name);
	if (!n)
		conn_send_error(c, req->id, PROTO_E_NOT_FOUND, NULL, "network %s not found", name);
	return n;
}

void api_network_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct network *n = api_network_ref(api, c, req);
	if (!n)
		return;
	json_t *o = api_network_json(api->reg->networks, n);
	if (!o) {
		api_reply_errno(c, req->id, -ENOMEM, NULL);
		return;
	}
	conn_send_result(c, req->id, o, NULL, 0);
}

/* Removes n unless a container is attached (Docker's message) or it is a built-in. */
static int api_network_remove_one(struct api *api, struct network *n, char **reterr)
{
	if (!n->user_defined)
		return err_set(reterr, -EPERM, "%s is a pre-defined network and cannot be removed", n->name);
	if (network_attached(api->reg->networks, n, NULL) > 0)
		return err_set(reterr, -EBUSY, "error while removing network: network %s id %s has active endpoints",
			       n->name, n->id);
	_cleanup_free_ char *name = strdup(n->name);
	char id[13];
	snprintf(id, sizeof(id), "%.12s", n->id);
	int r = network_remove(api->reg->networks, n, reterr);
	if (r == 0)
		log_info("network %s removed (%s)", name ? name : "?", id);
	return r;
}

void api_network_remove(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	_cleanup_free_ char *err = NULL;
	struct network *n = api_network_ref(api, c, req);
	if (!n || api_refuse_shutting_down(api, c, req->id))
		return;
	int r = api_network_remove_one(api, n, &err);
	if (r < 0) {
		api_reply_errno(c, req->id, r, err);
		return;
	}
	conn_send_result(c, req->id, json_object(), NULL, 0);
}

void api_network_prune(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct network_registry *nr = api->reg->networks;
	if (!api_expect_no_fds(c, req) || !api_expect_no_params(c, req) || api_refuse_shutting_down(api, c, req->id))
		return;
	json_t *deleted = json_array();
	if (!deleted) {
		api_reply_errno(c, req->id, -ENOMEM, NULL);
		return;
	}
	for (struct network *n = nr->list, *next; n; n = next) {
		_cleanup_free_ char *rerr = NULL;
		next = n->next;
		if (!n->user_defined || network_attached(nr, n, NULL) > 0)
			continue;
		json_t *name = json_string(n->name);
		if (api_network_remove_one(api, n, &rerr) < 0) {
			log_error("network prune: %s", rerr ? rerr : "cannot remove a network");
			json_decref(name);
			continue;
		}
		json_array_append_new(deleted, name);
	}
	conn_send_result(c, req->id, json_pack("{s:o}", "deleted", deleted), NULL, 0);
}
