#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/opts.h"
#include "client/run-security.h"
#include "common/error.h"
#include "common/macros.h"

int run_security_push(char ***v, char *s, char **reterr)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	char **nv = reallocarray(*v, n + 2, sizeof(char *));
	if (!nv)
		return err_set(reterr, -ENOMEM, "out of memory");
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

/* Reads a Docker-format seccomp profile. A file that cannot be read or is not a JSON object
 * is our error, before anything is sent. */
static int run_security_load_profile(struct run_security *s, const char *path, char **reterr)
{
	json_error_t jerr;
	json_t *profile = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!profile)
		return err_set(reterr, -EINVAL, "opening seccomp profile (%s) failed: %s", path, jerr.text);
	if (!json_is_object(profile)) {
		json_decref(profile);
		return err_set(reterr, -EINVAL, "seccomp profile %s is not a JSON object", path);
	}
	json_decref(s->seccomp_profile);
	s->seccomp_profile = profile;
	return 0;
}

/* Docker writes "key=value", and still accepts the older "key:value". */
static bool run_security_split(const char *opt, const char *key, const char **ret_value)
{
	size_t n = strlen(key);
	if (strncmp(opt, key, n) != 0)
		return false;
	if (opt[n] == '\0') {
		*ret_value = NULL;
		return true;
	}
	if (opt[n] != '=' && opt[n] != ':')
		return false;
	*ret_value = opt + n + 1;
	return true;
}

int run_security_opt(struct run_security *s, struct proto_run_params *p, const char *value, char **reterr)
{
	const char *v;

	if (run_security_split(value, "no-new-privileges", &v)) {
		bool b = true;
		if (v && opts_parse_bool(v, &b) < 0)
			return opts_usage_error(reterr, "run", "invalid --security-opt: \"%s\": expected "
						"no-new-privileges[=true|false]", value);
		p->no_new_privileges = b;
		return 0;
	}
	if (run_security_split(value, "seccomp", &v) && v && *v) {
		if (strcmp(v, "unconfined") == 0) {
			p->seccomp = PROTO_SECCOMP_UNCONFINED;
			json_decref(TAKE_PTR(s->seccomp_profile));
			return 0;
		}
		int r = run_security_load_profile(s, v, reterr);
		if (r < 0)
			return r;
		p->seccomp = PROTO_SECCOMP_CUSTOM;
		return 0;
	}
	if (run_security_split(value, "systempaths", &v) && v && strcmp(v, "unconfined") == 0) {
		p->system_paths_unconfined = true;
		return 0;
	}
	return opts_usage_error(reterr, "run", "invalid --security-opt: \"%s\" (supported: no-new-privileges[=true|false], "
				"seccomp=unconfined, seccomp=PROFILE.json, systempaths=unconfined)", value);
}

/* A ulimit value: an integer, -1 for unlimited. */
static int run_security_limit(const char *s, size_t len, int64_t *ret)
{
	char buf[32];
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno || *end || v < -1)
		return -EINVAL;
	*ret = v;
	return 0;
}

int run_security_ulimit(struct run_security *s, const char *value, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	const char *eq = strchr(value, '=');
	int64_t soft, hard;

	if (!eq || eq == value)
		return opts_usage_error(reterr, "run", "invalid argument \"%s\" for \"--ulimit\" flag: "
					"expected NAME=SOFT[:HARD]", value);
	const char *colon = strchr(eq + 1, ':');
	size_t soft_len = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
	if (run_security_limit(eq + 1, soft_len, &soft) < 0 ||
	    (colon && run_security_limit(colon + 1, strlen(colon + 1), &hard) < 0))
		return opts_usage_error(reterr, "run", "invalid argument \"%s\" for \"--ulimit\" flag: "
					"limits are integers, -1 for unlimited", value);
	if (!colon)
		hard = soft;
	_cleanup_free_ char *name = strndup(value, (size_t)(eq - value));
	if (!name)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (proto_ulimit_check(name, soft, hard, &err) < 0)
		return opts_usage_error(reterr, "run", "invalid argument \"%s\" for \"--ulimit\" flag: %s", value, err);

	for (size_t i = 0; i < s->n_ulimits; i++)
		if (strcmp(s->ulimits[i].name, name) == 0) {
			s->ulimits[i].soft = soft;
			s->ulimits[i].hard = hard;
			return 0;
		}
	struct proto_ulimit *n = reallocarray(s->ulimits, s->n_ulimits + 1, sizeof(*n));
	if (!n)
		return err_set(reterr, -ENOMEM, "out of memory");
	s->ulimits = n;
	int r = run_security_push(&s->names, name, reterr);
	if (r < 0)
		return r;
	n[s->n_ulimits++] = (struct proto_ulimit){ .name = TAKE_PTR(name), .soft = soft, .hard = hard };
	return 0;
}

void run_security_apply(struct run_security *s, struct proto_run_params *p)
{
	p->cap_add = s->cap_add;
	p->cap_drop = s->cap_drop;
	p->device_cgroup_rules = s->device_cgroup_rules;
	p->ulimits = s->ulimits;
	p->n_ulimits = s->n_ulimits;
	p->seccomp_profile = p->seccomp == PROTO_SECCOMP_CUSTOM ? s->seccomp_profile : NULL;
}

void run_security_done(struct run_security *s)
{
	free(s->cap_add);
	free(s->cap_drop);
	free(s->device_cgroup_rules);
	free(s->ulimits);
	strv_free(s->names);
	json_decref(s->seccomp_profile);
	memset(s, 0, sizeof(*s));
}
