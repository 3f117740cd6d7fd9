#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/field.h"
#include "protocol/volume.h"

static const char *const type_names[] = {
    [PROTO_MOUNT_BIND] = "bind",
    [PROTO_MOUNT_VOLUME] = "volume",
    [PROTO_MOUNT_TMPFS] = "tmpfs",
};

const char *proto_mount_type_name(enum proto_mount_type t)
{
	return (size_t)t < ARRAY_SIZE(type_names) ? type_names[t] : "bind";
}

bool proto_volume_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n < 2 || n > PROTO_VOLUME_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

/* An absolute path without "..", no longer than the limit: what a target (and a bind's source)
 * must be. The runtime refuses ".." and symlinks again when it opens a target. */
static bool path_ok(const char *p)
{
	if (p[0] != '/' || strlen(p) > PROTO_MOUNT_PATH_MAX)
		return false;
	for (const char *c = p; (c = strstr(c, "..")); c += 2)
		if (c[-1] == '/' && (c[2] == '/' || c[2] == '\0'))
			return false;
	return true;
}

/* Whether s can travel on the wire: a JSON string must be valid UTF-8 (jansson checks it). */
static bool utf8_ok(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	json_decref(j);
	return !s || j;
}

int proto_mount_check(const struct proto_mount *m, char **reterr)
{
	if (!utf8_ok(m->target) || !utf8_ok(m->source))
		return err_set(reterr, -EINVAL, "invalid mount config: the paths must be valid UTF-8");
	if (!m->target || !path_ok(m->target))
		return err_set(reterr, -EINVAL,
			       "invalid mount target \"%.64s\": it must be an absolute path without \"..\"",
			       m->target ? m->target : "");
	if (strspn(m->target, "/") == strlen(m->target))
		return err_set(reterr, -EINVAL, "invalid mount config: the destination cannot be \"/\"");
	switch (m->type) {
	case PROTO_MOUNT_BIND:
		if (!m->source || !path_ok(m->source))
			return err_set(reterr, -EINVAL,
				       "invalid mount config for type \"bind\": the source \"%.64s\" must be an "
				       "absolute path without \"..\"",
				       m->source ? m->source : "");
		break;
	case PROTO_MOUNT_VOLUME:
		if (m->source && !proto_volume_name_valid(m->source))
			return err_set(reterr, -EINVAL,
				       "\"%.64s\" includes invalid characters for a local volume name, only "
				       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
				       m->source);
		break;
	case PROTO_MOUNT_TMPFS:
		if (m->source)
			return err_set(reterr, -EINVAL,
				       "invalid mount config for type \"tmpfs\": source must be empty");
		if (m->tmpfs_mode < -1 || m->tmpfs_mode > 07777)
			return err_set(reterr, -EINVAL, "invalid tmpfs mode %o", (unsigned)m->tmpfs_mode);
		break;
	}
	if (m->type != PROTO_MOUNT_VOLUME && m->nocopy)
		return err_set(reterr, -EINVAL, "invalid mount config: nocopy applies to volumes only");
	if (m->type != PROTO_MOUNT_BIND && m->create_source)
		return err_set(reterr, -EINVAL, "invalid mount config: create_source applies to binds only");
	if (m->type != PROTO_MOUNT_TMPFS && (m->tmpfs_size || m->tmpfs_exec || m->tmpfs_mode != -1))
		return err_set(reterr, -EINVAL, "invalid mount config: the tmpfs options apply to tmpfs mounts only");
	return 0;
}

json_t *proto_mount_encode(const struct proto_mount *m)
{
	json_t *o = json_pack("{s:s, s:s, s:b}", "type", proto_mount_type_name(m->type), "target", m->target,
			      "readonly", m->readonly);
	if (!o)
		return NULL;
	if ((m->source && json_object_set_new(o, "source", json_string(m->source)) < 0) ||
	    (m->nocopy && json_object_set_new(o, "nocopy", json_true()) < 0) ||
	    (m->create_source && json_object_set_new(o, "create_source", json_true()) < 0) ||
	    (m->tmpfs_size && json_object_set_new(o, "tmpfs_size", json_integer((json_int_t)m->tmpfs_size)) < 0) ||
	    (m->tmpfs_mode >= 0 && json_object_set_new(o, "tmpfs_mode", json_integer(m->tmpfs_mode)) < 0) ||
	    (m->tmpfs_exec && json_object_set_new(o, "tmpfs_exec", json_true()) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int proto_mount_decode(json_t *o, struct proto_mount *ret, char **reterr)
{
	static const char *const keys[] = {"type",	    "source",	  "target",	"readonly",   "nocopy",
					   "create_source", "tmpfs_size", "tmpfs_mode", "tmpfs_exec", NULL};
	const char *type = NULL;
	int64_t size = 0, mode = -1;
	int r;
	memset(ret, 0, sizeof(*ret));
	ret->tmpfs_mode = -1;
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "every entry of \"mounts\" must be an object");
	if ((r = field_check_known(o, keys, NULL, "a mount", reterr)) < 0 ||
	    (r = field_get_string(o, "type", true, &type, reterr)) < 0 ||
	    (r = field_dup_string(o, "source", false, &ret->source, reterr)) < 0 ||
	    (r = field_dup_string(o, "target", true, &ret->target, reterr)) < 0 ||
	    (r = field_get_bool(o, "readonly", &ret->readonly, reterr)) < 0 ||
	    (r = field_get_bool(o, "nocopy", &ret->nocopy, reterr)) < 0 ||
	    (r = field_get_bool(o, "create_source", &ret->create_source, reterr)) < 0 ||
	    (r = field_get_int(o, "tmpfs_size", 0, INT64_MAX, &size, reterr)) < 0 ||
	    (r = field_get_int(o, "tmpfs_mode", 0, 07777, &mode, reterr)) < 0 ||
	    (r = field_get_bool(o, "tmpfs_exec", &ret->tmpfs_exec, reterr)) < 0)
		goto fail;
	ret->tmpfs_size = (uint64_t)size;
	ret->tmpfs_mode = (int)mode;
	size_t i;
	for (i = 0; i < ARRAY_SIZE(type_names); i++)
		if (strcmp(type, type_names[i]) == 0)
			break;
	if (i == ARRAY_SIZE(type_names)) {
		r = err_set(reterr, -EINVAL, "invalid mount type \"%.32s\": expected bind, volume or tmpfs", type);
		goto fail;
	}
	ret->type = (enum proto_mount_type)i;
	if ((r = proto_mount_check(ret, reterr)) < 0)
		goto fail;
	return 0;
fail:
	proto_mount_done(ret);
	return r;
}

void proto_mount_done(struct proto_mount *m)
{
	free(m->source);
	free(m->target);
	memset(m, 0, sizeof(*m));
}

const char *const volume_run_params_keys[] = {"mounts", "read_only", "volumes_from", NULL};

int volume_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	json_t *a = json_object_get(params, "mounts");
	int r;
	if ((r = field_get_bool(params, "read_only", &ret->read_only, reterr)) < 0 ||
	    (r = field_get_strv(params, "volumes_from", PROTO_MAX_MOUNTS, &ret->volumes_from, reterr)) < 0)
		return r;
	for (char **v = ret->volumes_from; v && *v; v++) {
		const char *colon = strchr(*v, ':');
		if (!**v || colon == *v || (colon && strcmp(colon, ":ro") != 0 && strcmp(colon, ":rw") != 0))
			return err_set(reterr, -EINVAL, "invalid --volumes-from \"%.64s\": expected CONTAINER[:ro|rw]",
				       *v);
	}
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > PROTO_MAX_MOUNTS)
		return err_set(reterr, -EINVAL, "parameter \"mounts\" must be an array of at most %d mounts",
			       PROTO_MAX_MOUNTS);
	if (json_array_size(a) == 0)
		return 0;
	ret->mounts = calloc(json_array_size(a), sizeof(*ret->mounts));
	if (!ret->mounts)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		if ((r = proto_mount_decode(json_array_get(a, i), &ret->mounts[i], reterr)) < 0)
			return r;
		ret->n_mounts++;
		/* Two mounts on one target: Docker's "Duplicate mount point". */
		for (size_t j = 0; j < i; j++)
			if (strcmp(ret->mounts[j].target, ret->mounts[i].target) == 0)
				return err_set(reterr, -EINVAL, "Duplicate mount point: %.64s", ret->mounts[i].target);
	}
	return 0;
}

int volume_run_params_encode(const struct proto_run_params *p, json_t *o)
{
	if (p->read_only && json_object_set_new(o, "read_only", json_true()) < 0)
		return -ENOMEM;
	if (p->volumes_from && json_object_set_new(o, "volumes_from", field_strv_to_json(p->volumes_from)) < 0)
		return -ENOMEM;
	if (!p->n_mounts)
		return 0;
	json_t *a = json_array();
	if (!a || json_object_set_new(o, "mounts", a) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_mounts; i++)
		if (json_array_append_new(a, proto_mount_encode(&p->mounts[i])) < 0)
			return -ENOMEM;
	return 0;
}

void volume_run_params_done(struct proto_run_params *p)
{
	for (size_t i = 0; i < p->n_mounts; i++)
		proto_mount_done(&p->mounts[i]);
	free(p->mounts);
	p->mounts = NULL;
	p->n_mounts = 0;
	strv_free(p->volumes_from);
	p->volumes_from = NULL;
}

int proto_volume_create_params_decode(json_t *params, struct proto_volume_create_params *ret, char **reterr)
{
	static const char *const keys[] = {"name", "labels", NULL};
	int r;
	memset(ret, 0, sizeof(*ret));
	if ((r = field_check_known(params, keys, NULL, PROTO_M_VOLUME_CREATE " params", reterr)) < 0 ||
	    (r = field_get_string(params, "name", false, &ret->name, reterr)) < 0)
		return r;
	if (ret->name && !proto_volume_name_valid(ret->name))
		return err_set(reterr, -EINVAL,
			       "create %.64s: \"%.64s\" includes invalid characters for a local volume name, only "
			       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, "
			       "use absolute path",
			       ret->name, ret->name);
	return field_get_kv_object(params, "labels", PROTO_MAX_LABELS, proto_label_check, &ret->labels, reterr);
}

json_t *proto_volume_create_params_encode(const struct proto_volume_create_params *p)
{
	json_t *o = json_object();
	if (o && p->name && json_object_set_new(o, "name", json_string(p->name)) < 0)
		goto fail;
	if (o && p->labels && json_object_set_new(o, "labels", proto_labels_to_json(p->labels)) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

int proto_volume_ref_params_decode(const char *method, json_t *params, struct proto_volume_ref_params *ret,
				   char **reterr)
{
	static const char *const ref_keys[] = {"name", "force", NULL}, *const prune_keys[] = {"all", NULL};
	bool prune = strcmp(method, PROTO_M_VOLUME_PRUNE) == 0;
	char what[64];
	int r;
	memset(ret, 0, sizeof(*ret));
	snprintf(what, sizeof(what), "%s params", method);
	if (prune)
		return field_check_known(params, prune_keys, NULL, what, reterr) < 0
			   ? -EINVAL
			   : field_get_bool(params, "all", &ret->all, reterr);
	if ((r = field_check_known(params, ref_keys, NULL, what, reterr)) < 0 ||
	    (r = field_get_string(params, "name", true, &ret->name, reterr)) < 0 ||
	    (r = field_get_bool(params, "force", &ret->force, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_volume_ref_params_encode(const char *method, const struct proto_volume_ref_params *p)
{
	if (strcmp(method, PROTO_M_VOLUME_PRUNE) == 0)
		return json_pack("{s:b}", "all", p->all);
	if (strcmp(method, PROTO_M_VOLUME_REMOVE) == 0)
		return json_pack("{s:s, s:b}", "name", p->name, "force", p->force);
	return json_pack("{s:s}", "name", p->name);
}
