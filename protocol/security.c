#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/field.h"
#include "protocol/security.h"

const char *const proto_ulimit_names[] = {
	"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
	"nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack", NULL,
};

const char *const security_run_params_keys[] = {
	"privileged", "cap_add", "cap_drop", "no_new_privileges", "seccomp_profile",
	"system_paths_unconfined", "ulimits", "userns", "device_cgroup_rules", NULL,
};

static const char *const seccomp_names[] = {
	[PROTO_SECCOMP_DEFAULT] = "default",
	[PROTO_SECCOMP_UNCONFINED] = "unconfined",
	[PROTO_SECCOMP_CUSTOM] = "custom",
};

static const char *const userns_names[] = {
	[PROTO_USERNS_DEFAULT] = NULL,
	[PROTO_USERNS_HOST] = "host",
	[PROTO_USERNS_AUTO] = "auto",
};

int proto_ulimit_check(const char *name, int64_t soft, int64_t hard, char **reterr)
{
	bool known = false;
	for (const char *const *n = proto_ulimit_names; *n && !known; n++)
		known = strcmp(*n, name) == 0;
	if (!known)
		return err_set(reterr, -EINVAL, "unknown ulimit \"%.64s\" (one of core, cpu, data, fsize, locks, "
			       "memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)", name);
	if (soft < -1 || hard < -1)
		return err_set(reterr, -ERANGE, "ulimit %s: values must be -1 (unlimited) or more", name);
	/* -1 (unlimited) is above every number. */
	if (hard != -1 && (soft == -1 || soft > hard))
		return err_set(reterr, -ERANGE, "ulimit %s: soft limit %lld is above the hard limit %lld", name,
			       (long long)soft, (long long)hard);
	return 0;
}

static void ulimits_free(struct proto_ulimit *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(u[i].name);
	free(u);
}

/* Reads "ulimits": [{"name","soft","hard"}...]. strict: the run params' rules (every key known,
 * values checked, names distinct); otherwise a report from the daemon, read leniently. */
static int ulimits_decode(json_t *o, bool strict, struct proto_ulimit **ret, size_t *ret_n, char **reterr)
{
	static const char *const keys[] = { "name", "soft", "hard", NULL };
	json_t *a = json_object_get(o, "ulimits");
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return err_set(reterr, -EINVAL, "parameter \"ulimits\" must be an array of objects");
	size_t n = json_array_size(a);
	if (n > PROTO_MAX_SECURITY_ITEMS)
		return err_set(reterr, -E2BIG, "parameter \"ulimits\" has more than %d items", PROTO_MAX_SECURITY_ITEMS);
	struct proto_ulimit *u = calloc(n ? n : 1, sizeof(*u));
	if (!u)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);
		if (!json_is_object(e)) {
			r = err_set(reterr, -EINVAL, "parameter \"ulimits\" must be an array of objects");
			goto fail;
		}
		if ((strict && (r = field_check_known(e, keys, NULL, "a container.run ulimit", reterr)) < 0) ||
		    (r = field_dup_string(e, "name", true, &u[i].name, reterr)) < 0)
			goto fail;
		if (!json_is_integer(json_object_get(e, "soft")) || !json_is_integer(json_object_get(e, "hard"))) {
			r = err_set(reterr, -EINVAL, "ulimit %.64s needs integers \"soft\" and \"hard\"", u[i].name);
			goto fail;
		}
		u[i].soft = json_integer_value(json_object_get(e, "soft"));
		u[i].hard = json_integer_value(json_object_get(e, "hard"));
		if (strict && (r = proto_ulimit_check(u[i].name, u[i].soft, u[i].hard, reterr)) < 0)
			goto fail;
		for (size_t k = 0; strict && k < i; k++)
			if (strcmp(u[k].name, u[i].name) == 0) {
				r = err_set(reterr, -EINVAL, "ulimit %s is given twice", u[i].name);
				goto fail;
			}
	}
	*ret = u;
	*ret_n = n;
	return 0;
fail:
	ulimits_free(u, n);
	return r;
}

static json_t *ulimits_encode(const struct proto_ulimit *u, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "name", u[i].name, "soft",
						       (json_int_t)u[i].soft, "hard", (json_int_t)u[i].hard)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Reads a name of table (NULL entries never match) into *ret; absent keeps *ret. */
static int get_enum(json_t *o, const char *key, const char *const *table, size_t n, int *ret, char **reterr)
{
	const char *s = NULL;
	int r = field_get_string(o, key, false, &s, reterr);
	if (r < 0 || !s)
		return r;
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0) {
			*ret = (int)i;
			return 0;
		}
	return err_set(reterr, -EINVAL, "parameter \"%s\" has an unknown value \"%.64s\"", key, s);
}

/* The profile is the client's: the daemon gets it as data and never opens a file for it. Only
 * its outer shape is checked here (an object with a "defaultAction"); the daemon parses the rest. */
static int seccomp_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	json_t *v = json_object_get(params, "seccomp_profile");
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v) && strcmp(json_string_value(v), "unconfined") == 0) {
		ret->seccomp = PROTO_SECCOMP_UNCONFINED;
		return 0;
	}
	if (!json_is_object(v))
		return err_set(reterr, -EINVAL, "parameter \"seccomp_profile\" must be \"unconfined\" or a "
			       "seccomp profile (an object)");
	if (!json_is_string(json_object_get(v, "defaultAction")))
		return err_set(reterr, -EINVAL, "parameter \"seccomp_profile\" needs a string \"defaultAction\"");
	ret->seccomp_profile = json_deep_copy(v);
	if (!ret->seccomp_profile)
		return err_set(reterr, -ENOMEM, "out of memory");
	ret->seccomp = PROTO_SECCOMP_CUSTOM;
	return 0;
}

int security_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	int userns = ret->userns, r;
	if ((r = field_get_bool(params, "privileged", &ret->privileged, reterr)) < 0 ||
	    (r = field_get_strv(params, "cap_add", PROTO_MAX_SECURITY_ITEMS, &ret->cap_add, reterr)) < 0 ||
	    (r = field_get_strv(params, "cap_drop", PROTO_MAX_SECURITY_ITEMS, &ret->cap_drop, reterr)) < 0 ||
	    (r = field_get_bool(params, "no_new_privileges", &ret->no_new_privileges, reterr)) < 0 ||
	    (r = seccomp_decode(params, ret, reterr)) < 0 ||
	    (r = field_get_bool(params, "system_paths_unconfined", &ret->system_paths_unconfined, reterr)) < 0 ||
	    (r = ulimits_decode(params, true, &ret->ulimits, &ret->n_ulimits, reterr)) < 0 ||
	    (r = get_enum(params, "userns", userns_names, ARRAY_SIZE(userns_names), &userns, reterr)) < 0 ||
	    (r = field_get_strv(params, "device_cgroup_rules", PROTO_MAX_SECURITY_ITEMS, &ret->device_cgroup_rules,
				reterr)) < 0)
		return r;
	ret->userns = (enum proto_userns)userns;
	for (char **c = ret->cap_add; c && *c; c++)
		if (!**c)
			return err_set(reterr, -EINVAL, "parameter \"cap_add\" has an empty name");
	for (char **c = ret->cap_drop; c && *c; c++)
		if (!**c)
			return err_set(reterr, -EINVAL, "parameter \"cap_drop\" has an empty name");
	return 0;
}

/* Sets key to a copy of the vector, unless it is NULL. */
static int set_strv(json_t *o, const char *key, char **strv)
{
	if (!strv)
		return 0;
	return json_object_set_new(o, key, field_strv_to_json(strv)) < 0 ? -ENOMEM : 0;
}

static int set_true(json_t *o, const char *key, bool v)
{
	return v && json_object_set_new(o, key, json_true()) < 0 ? -ENOMEM : 0;
}

int security_run_params_encode(const struct proto_run_params *p, json_t *o)
{
	int r;
	if ((r = set_true(o, "privileged", p->privileged)) < 0 || (r = set_strv(o, "cap_add", p->cap_add)) < 0 ||
	    (r = set_strv(o, "cap_drop", p->cap_drop)) < 0 ||
	    (r = set_true(o, "no_new_privileges", p->no_new_privileges)) < 0 ||
	    (r = set_true(o, "system_paths_unconfined", p->system_paths_unconfined)) < 0 ||
	    (r = set_strv(o, "device_cgroup_rules", p->device_cgroup_rules)) < 0)
		return r;
	if (p->seccomp == PROTO_SECCOMP_UNCONFINED &&
	    json_object_set_new(o, "seccomp_profile", json_string("unconfined")) < 0)
		return -ENOMEM;
	if (p->seccomp == PROTO_SECCOMP_CUSTOM && p->seccomp_profile &&
	    json_object_set(o, "seccomp_profile", p->seccomp_profile) < 0)
		return -ENOMEM;
	if (p->n_ulimits && json_object_set_new(o, "ulimits", ulimits_encode(p->ulimits, p->n_ulimits)) < 0)
		return -ENOMEM;
	if (p->userns != PROTO_USERNS_DEFAULT &&
	    json_object_set_new(o, "userns", json_string(userns_names[p->userns])) < 0)
		return -ENOMEM;
	return 0;
}

void security_run_params_done(struct proto_run_params *p)
{
	strv_free(p->cap_add);
	strv_free(p->cap_drop);
	json_decref(p->seccomp_profile);
	ulimits_free(p->ulimits, p->n_ulimits);
	strv_free(p->device_cgroup_rules);
}

json_t *proto_security_info_encode(const struct proto_security_info *s)
{
	json_t *o = json_pack("{s:b, s:o, s:s, s:b, s:o, s:o, s:o, s:o}", "privileged", s->privileged,
			      "capabilities", field_strv_to_json(s->capabilities), "seccomp",
			      seccomp_names[s->seccomp <= PROTO_SECCOMP_CUSTOM ? s->seccomp : 0], "no_new_privileges",
			      s->no_new_privileges, "masked_paths", field_strv_to_json(s->masked_paths),
			      "readonly_paths", field_strv_to_json(s->readonly_paths), "ulimits",
			      ulimits_encode(s->ulimits, s->n_ulimits), "device_cgroup_rules",
			      field_strv_to_json(s->device_cgroup_rules));
	if (!o)
		return NULL;
	if ((s->userns == PROTO_USERNS_HOST || s->userns == PROTO_USERNS_AUTO) &&
	    json_object_set_new(o, "userns", json_string(userns_names[s->userns])) < 0)
		goto fail;
	if (set_strv(o, "uid_map", s->uid_map) < 0 || set_strv(o, "gid_map", s->gid_map) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* Enough for every capability, path list and map a daemon reports, small enough to bound what a
 * broken reply makes cctl allocate. */
#define SECURITY_INFO_MAX_ITEMS 1024

int proto_security_info_decode(json_t *obj, struct proto_security_info *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int seccomp = PROTO_SECCOMP_DEFAULT, userns = PROTO_USERNS_DEFAULT, r;
	if (!json_is_object(obj))
		return err_set(reterr, -EINVAL, "\"security\" must be an object");
	if ((r = field_get_bool(obj, "privileged", &ret->privileged, reterr)) < 0 ||
	    (r = field_get_strv(obj, "capabilities", SECURITY_INFO_MAX_ITEMS, &ret->capabilities, reterr)) < 0 ||
	    (r = get_enum(obj, "seccomp", seccomp_names, ARRAY_SIZE(seccomp_names), &seccomp, reterr)) < 0 ||
	    (r = field_get_bool(obj, "no_new_privileges", &ret->no_new_privileges, reterr)) < 0 ||
	    (r = field_get_strv(obj, "masked_paths", SECURITY_INFO_MAX_ITEMS, &ret->masked_paths, reterr)) < 0 ||
	    (r = field_get_strv(obj, "readonly_paths", SECURITY_INFO_MAX_ITEMS, &ret->readonly_paths, reterr)) < 0 ||
	    (r = get_enum(obj, "userns", userns_names, ARRAY_SIZE(userns_names), &userns, reterr)) < 0 ||
	    (r = field_get_strv(obj, "uid_map", SECURITY_INFO_MAX_ITEMS, &ret->uid_map, reterr)) < 0 ||
	    (r = field_get_strv(obj, "gid_map", SECURITY_INFO_MAX_ITEMS, &ret->gid_map, reterr)) < 0 ||
	    (r = ulimits_decode(obj, false, &ret->ulimits, &ret->n_ulimits, reterr)) < 0 ||
	    (r = field_get_strv(obj, "device_cgroup_rules", SECURITY_INFO_MAX_ITEMS, &ret->device_cgroup_rules,
				reterr)) < 0) {
		proto_security_info_done(ret);
		return r;
	}
	ret->seccomp = (enum proto_seccomp)seccomp;
	ret->userns = (enum proto_userns)userns;
	return 0;
}

void proto_security_info_done(struct proto_security_info *s)
{
	strv_free(s->capabilities);
	strv_free(s->masked_paths);
	strv_free(s->readonly_paths);
	strv_free(s->uid_map);
	strv_free(s->gid_map);
	ulimits_free(s->ulimits, s->n_ulimits);
	strv_free(s->device_cgroup_rules);
	memset(s, 0, sizeof(*s));
}
