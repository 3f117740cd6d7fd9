/* A container on its networks, on the wire (see endpoint.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/endpoint.h"
#include "protocol/field.h"

int endpoint_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	int r;
	if ((r = field_get_strv(params, "network_aliases", PROTO_MAX_NET_ITEMS, &ret->network_aliases, reterr)) < 0 ||
	    (r = field_dup_string(params, "ip", false, &ret->ip, reterr)) < 0 ||
	    (r = field_get_strv(params, "extra_hosts", PROTO_MAX_NET_ITEMS, &ret->extra_hosts, reterr)) < 0 ||
	    (r = field_get_strv(params, "dns", PROTO_MAX_NET_ITEMS, &ret->dns, reterr)) < 0 ||
	    (r = field_get_strv(params, "dns_search", PROTO_MAX_NET_ITEMS, &ret->dns_search, reterr)) < 0 ||
	    (r = field_get_strv(params, "dns_options", PROTO_MAX_NET_ITEMS, &ret->dns_options, reterr)) < 0)
		return r;
	return 0;
}

static int set_strv(json_t *o, const char *key, char **v)
{
	return v && json_object_set_new(o, key, field_strv_to_json(v)) < 0 ? -ENOMEM : 0;
}

int endpoint_run_params_encode(const struct proto_run_params *p, json_t *o)
{
	if (set_strv(o, "network_aliases", p->network_aliases) < 0 || set_strv(o, "extra_hosts", p->extra_hosts) < 0 ||
	    set_strv(o, "dns", p->dns) < 0 || set_strv(o, "dns_search", p->dns_search) < 0 ||
	    set_strv(o, "dns_options", p->dns_options) < 0 ||
	    (p->ip && json_object_set_new(o, "ip", json_string(p->ip)) < 0))
		return -ENOMEM;
	return 0;
}

void endpoint_run_params_done(struct proto_run_params *p)
{
	strv_free(TAKE_PTR(p->network_aliases));
	free(TAKE_PTR(p->ip));
	strv_free(TAKE_PTR(p->extra_hosts));
	strv_free(TAKE_PTR(p->dns));
	strv_free(TAKE_PTR(p->dns_search));
	strv_free(TAKE_PTR(p->dns_options));
}

int proto_network_connect_params_decode(json_t *params, bool connect, struct proto_network_connect_params *ret,
					char **reterr)
{
	static const char *const connect_keys[] = {"network", "container", "aliases", "ip", NULL};
	static const char *const disconnect_keys[] = {"network", "container", "force", NULL};
	const char *what = connect ? PROTO_M_NETWORK_CONNECT " params" : PROTO_M_NETWORK_DISCONNECT " params";
	int r;
	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(params))
		return err_set(reterr, -EINVAL, "%s must be an object", what);
	if ((r = field_check_known(params, connect ? connect_keys : disconnect_keys, NULL, what, reterr)) < 0 ||
	    (r = field_dup_string(params, "network", true, &ret->network, reterr)) < 0 ||
	    (r = field_dup_string(params, "container", true, &ret->container, reterr)) < 0 ||
	    (connect && (r = field_get_strv(params, "aliases", PROTO_MAX_NET_ITEMS, &ret->aliases, reterr)) < 0) ||
	    (connect && (r = field_dup_string(params, "ip", false, &ret->ip, reterr)) < 0) ||
	    (!connect && (r = field_get_bool(params, "force", &ret->force, reterr)) < 0)) {
		proto_network_connect_params_done(ret);
		return r;
	}
	return 0;
}

json_t *proto_network_connect_params_encode(const struct proto_network_connect_params *p, bool connect)
{
	json_t *o = json_pack("{s:s, s:s}", "network", p->network, "container", p->container);
	if (o && connect &&
	    ((p->aliases && json_object_set_new(o, "aliases", field_strv_to_json(p->aliases)) < 0) ||
	     (p->ip && json_object_set_new(o, "ip", json_string(p->ip)) < 0))) {
		json_decref(o);
		return NULL;
	}
	if (o && !connect && p->force && json_object_set_new(o, "force", json_true()) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void proto_network_connect_params_done(struct proto_network_connect_params *p)
{
	free(p->network);
	free(p->container);
	strv_free(p->aliases);
	free(p->ip);
	memset(p, 0, sizeof(*p));
}
