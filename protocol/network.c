#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/field.h"
#include "protocol/messages.h"
#include "protocol/network.h"

/* A string member of at most max bytes, with no control character: each of them ends up in an
 * error message or a record. */
static int proto_network_string(json_t *params, const char *key, bool required, size_t max, const char **ret,
				char **reterr)
{
	int r = field_get_string(params, key, required, ret, reterr);
	if (r < 0 || !*ret)
		return r;
	size_t len = strlen(*ret);
	if (len == 0 || len > max)
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be 1 to %zu bytes", key, max);
	for (const char *p = *ret; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(reterr, -EINVAL, "parameter \"%s\" holds a control character", key);
	return 0;
}

int proto_network_create_params_decode(json_t *params, struct proto_network_create_params *ret, char **reterr)
{
	static const char *const keys[] = {"name", "driver", "subnet", "gateway", "internal", "labels", NULL};
	int r;
	memset(ret, 0, sizeof(*ret));
	if ((r = field_check_known(params, keys, NULL, PROTO_M_NETWORK_CREATE " params", reterr)) < 0 ||
	    (r = proto_network_string(params, "name", true, PROTO_NETWORK_NAME_MAX, &ret->name, reterr)) < 0 ||
	    (r = proto_network_string(params, "driver", false, PROTO_NETWORK_FIELD_MAX, &ret->driver, reterr)) < 0 ||
	    (r = proto_network_string(params, "subnet", false, PROTO_NETWORK_FIELD_MAX, &ret->subnet, reterr)) < 0 ||
	    (r = proto_network_string(params, "gateway", false, PROTO_NETWORK_FIELD_MAX, &ret->gateway, reterr)) < 0 ||
	    (r = field_get_bool(params, "internal", &ret->internal, reterr)) < 0)
		return r;
	return field_get_kv_object(params, "labels", PROTO_MAX_LABELS, proto_label_check, &ret->labels, reterr);
}

json_t *proto_network_create_params_encode(const struct proto_network_create_params *p)
{
	json_t *o = json_pack("{s:s, s:b}", "name", p->name, "internal", p->internal);
	if (!o)
		return NULL;
	if ((p->driver && json_object_set_new(o, "driver", json_string(p->driver)) < 0) ||
	    (p->subnet && json_object_set_new(o, "subnet", json_string(p->subnet)) < 0) ||
	    (p->gateway && json_object_set_new(o, "gateway", json_string(p->gateway)) < 0) ||
	    (p->labels && json_object_set_new(o, "labels", proto_labels_to_json(p->labels)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void proto_network_create_params_done(struct proto_network_create_params *p)
{
	strv_free(p->labels);
	p->labels = NULL;
}

int proto_network_ref_params_decode(const char *method, json_t *params, const char **ret_name, char **reterr)
{
	static const char *const keys[] = {"name", NULL};
	char what[64];
	int r;
	snprintf(what, sizeof(what), "%s params", method);
	*ret_name = NULL;
	if ((r = field_check_known(params, keys, NULL, what, reterr)) < 0)
		return r;
	return proto_network_string(params, "name", true, PROTO_NETWORK_FIELD_MAX + 64, ret_name, reterr);
}

json_t *proto_network_ref_params_encode(const char *name)
{
	return json_pack("{s:s}", "name", name);
}

int proto_network_list_params_decode(json_t *params, json_t **ret_filters, char **reterr)
{
	static const char *const keys[] = {"filters", NULL};
	static const char *const fkeys[] = {"name", "id", "driver", "label", "type", "scope"};
	json_t *f = json_object_get(params, "filters"), *vals, *v;
	const char *key;
	size_t i, total = 0;
	int r;
	*ret_filters = NULL;
	if ((r = field_check_known(params, keys, NULL, PROTO_M_NETWORK_LIST " params", reterr)) < 0)
		return r;
	if (!f || json_is_null(f))
		return 0;
	if (!json_is_object(f))
		return err_set(reterr, -EINVAL, "parameter \"filters\" must be an object of arrays of strings");
	json_object_foreach(f, key, vals)
	{
		bool known = false;
		for (i = 0; i < ARRAY_SIZE(fkeys); i++)
			known |= strcmp(key, fkeys[i]) == 0;
		if (!known)
			return err_set(reterr, -EINVAL, "invalid filter '%.64s'", key);
		if (!json_is_array(vals) || (total += json_array_size(vals)) > PROTO_NETWORK_FILTERS_MAX)
			return err_set(reterr, -EINVAL, "filter '%s' must be an array of strings (at most %d in all)",
				       key, PROTO_NETWORK_FILTERS_MAX);
		json_array_foreach(vals, i, v)
		{
			const char *s = json_string_value(v);
			if (!s || strlen(s) > PROTO_LABEL_KEY_MAX + PROTO_LABEL_VALUE_MAX + 1)
				return err_set(reterr, -EINVAL, "filter '%s' must be an array of strings", key);
			if (strcmp(key, "type") == 0 && strcmp(s, "custom") != 0 && strcmp(s, "builtin") != 0)
				return err_set(reterr, -EINVAL, "invalid filter: 'type'='%.64s'", s);
		}
	}
	*ret_filters = f;
	return 0;
}

int proto_network_filter_add(json_t *filters, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -EINVAL;
	_cleanup_free_ char *key = strndup(kv, (size_t)(eq - kv));
	if (!key)
		return -ENOMEM;
	json_t *a = json_object_get(filters, key);
	if (!a) {
		a = json_array();
		if (!a || json_object_set_new(filters, key, a) < 0)
			return -ENOMEM;
	}
	return json_array_append_new(a, json_string(eq + 1)) < 0 ? -ENOMEM : 0;
}
