#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"
#include "common/strv.h"
#include "protocol/field.h"
#include "protocol/lifecycle.h"
#include "protocol/protocol.h"

static const char *const restart_names[] = {
	[PROTO_RESTART_NO] = "no",
	[PROTO_RESTART_ON_FAILURE] = "on-failure",
	[PROTO_RESTART_ALWAYS] = "always",
	[PROTO_RESTART_UNLESS_STOPPED] = "unless-stopped",
};

const char *proto_restart_name(enum proto_restart r)
{
	return (size_t)r < ARRAY_SIZE(restart_names) ? restart_names[r] : "no";
}

static int restart_from_name(const char *name, size_t len, enum proto_restart *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(restart_names); i++)
		if (strlen(restart_names[i]) == len && strncmp(name, restart_names[i], len) == 0) {
			*ret = (enum proto_restart)i;
			return 0;
		}
	return -EINVAL;
}

/* Docker's syntax: a maximum only after on-failure, a decimal number of at most
 * PROTO_RESTART_MAX_RETRIES (0: no limit). */
int proto_restart_parse(const char *text, enum proto_restart *ret, unsigned *ret_max, char **reterr)
{
	const char *colon = strchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	enum proto_restart r;
	if (restart_from_name(text, len, &r) < 0)
		return err_set(reterr, -EINVAL,
			       "invalid restart policy \"%.64s\": expected no, on-failure[:MAX-RETRIES], always or unless-stopped",
			       text);
	unsigned max = 0;
	if (colon) {
		char *end;
		if (r != PROTO_RESTART_ON_FAILURE)
			return err_set(reterr, -EINVAL, "invalid restart policy \"%.64s\": only on-failure takes a maximum",
				       text);
		errno = 0;
		unsigned long v = strtoul(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || colon[1] == '-' || colon[1] == '+' || v > PROTO_RESTART_MAX_RETRIES)
			return err_set(reterr, -EINVAL,
				       "invalid restart policy \"%.64s\": the maximum must be a number from 0 to %d", text,
				       PROTO_RESTART_MAX_RETRIES);
		max = (unsigned)v;
	}
	*ret = r;
	*ret_max = max;
	return 0;
}

/* {"name": "on-failure", "maximum_retry_count": N} (Docker's RestartPolicy, in the protocol's
 * spelling); a maximum with another policy is refused, as docker does. */
static int restart_policy_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	static const char *const keys[] = { "name", "maximum_retry_count", NULL };
	json_t *o = json_object_get(params, "restart_policy");
	const char *name = NULL;
	int64_t max = 0;
	int r;
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "parameter \"restart_policy\" must be an object");
	if ((r = field_check_known(o, keys, NULL, "restart_policy", reterr)) < 0 ||
	    (r = field_get_string(o, "name", true, &name, reterr)) < 0 ||
	    (r = field_get_int(o, "maximum_retry_count", 0, PROTO_RESTART_MAX_RETRIES, &max, reterr)) < 0)
		return r;
	if (restart_from_name(name, strlen(name), &ret->restart) < 0)
		return err_set(reterr, -EINVAL,
			       "invalid restart policy \"%.64s\": expected no, on-failure, always or unless-stopped", name);
	if (max && ret->restart != PROTO_RESTART_ON_FAILURE)
		return err_set(reterr, -EINVAL, "maximum_retry_count is only for the on-failure restart policy");
	ret->restart_max = (unsigned)max;
	return 0;
}

int lifecycle_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	json_t *ep = json_object_get(params, "entrypoint");
	int r, sig;
	if (ep && !json_is_null(ep)) {
		if ((r = field_get_strv(params, "entrypoint", 4096, &ret->entrypoint, reterr)) < 0)
			return r;
		ret->entrypoint_set = true;
	}
	if ((r = field_dup_string(params, "stop_signal", false, &ret->stop_signal, reterr)) < 0)
		return r;
	if (ret->stop_signal && (parse_signal(ret->stop_signal, &sig) < 0 || sig <= 0))
		return err_set(reterr, -EINVAL, "parameter \"stop_signal\": unknown signal \"%.32s\"", ret->stop_signal);
	if ((r = restart_policy_decode(params, ret, reterr)) < 0)
		return r;
	if (ret->rm && ret->restart != PROTO_RESTART_NO)
		return err_set(reterr, -EINVAL, "conflicting options: a restart policy and rm");
	return 0;
}

int lifecycle_run_params_encode(const struct proto_run_params *p, json_t *o)
{
	if (p->entrypoint_set && json_object_set_new(o, "entrypoint", field_strv_to_json(p->entrypoint)) < 0)
		return -ENOMEM;
	if (p->stop_signal && json_object_set_new(o, "stop_signal", json_string(p->stop_signal)) < 0)
		return -ENOMEM;
	if (p->restart != PROTO_RESTART_NO &&
	    json_object_set_new(o, "restart_policy",
				json_pack("{s:s, s:i}", "name", proto_restart_name(p->restart), "maximum_retry_count",
					  (int)p->restart_max)) < 0)
		return -ENOMEM;
	return 0;
}

int proto_start_params_decode(json_t *params, struct proto_start_params *ret, char **reterr)
{
	static const char *const keys[] = { "id", "attach", "interactive", NULL };
	memset(ret, 0, sizeof(*ret));
	int r;
	if ((r = field_check_known(params, keys, NULL, PROTO_M_START " params", reterr)) < 0 ||
	    (r = field_get_string(params, "id", true, &ret->ref, reterr)) < 0 ||
	    (r = field_get_bool(params, "attach", &ret->attach, reterr)) < 0 ||
	    (r = field_get_bool(params, "interactive", &ret->interactive, reterr)) < 0)
		return r;
	if (!ret->ref[0])
		return err_set(reterr, -EINVAL, "parameter \"id\" must not be empty");
	if (ret->interactive && !ret->attach)
		return err_set(reterr, -EINVAL, "parameter \"interactive\" needs \"attach\"");
	return 0;
}

json_t *proto_start_params_encode(const struct proto_start_params *p)
{
	json_t *o = json_pack("{s:s}", "id", p->ref);
	if (o && p->attach)
		json_object_set_new(o, "attach", json_true());
	if (o && p->interactive)
		json_object_set_new(o, "interactive", json_true());
	return o;
}

int lifecycle_info_encode(const struct proto_container_info *c, json_t *o)
{
	json_t *policy = json_pack("{s:s, s:I}", "name", c->restart_policy ? c->restart_policy : "no",
				   "maximum_retry_count", (json_int_t)c->restart_max);
	if (!policy || json_object_set_new(o, "restart_policy", policy) < 0 ||
	    json_object_set_new(o, "restart_count", json_integer(c->restart_count)) < 0)
		return -ENOMEM;
	return 0;
}

int lifecycle_info_decode(json_t *obj, struct proto_container_info *ret, char **reterr)
{
	json_t *policy = json_object_get(obj, "restart_policy");
	int r;
	ret->restart_policy = "no";
	if ((r = field_get_int(obj, "restart_count", 0, UINT32_MAX, &ret->restart_count, reterr)) < 0)
		return r;
	if (!policy || json_is_null(policy))
		return 0;
	if (!json_is_object(policy))
		return err_set(reterr, -EINVAL, "\"restart_policy\" must be an object");
	if ((r = field_get_string(policy, "name", true, &ret->restart_policy, reterr)) < 0 ||
	    (r = field_get_int(policy, "maximum_retry_count", 0, PROTO_RESTART_MAX_RETRIES, &ret->restart_max, reterr)) < 0)
		return r;
	return 0;
}

int proto_image_config_decode(json_t *o, struct proto_image_config *ret, char **reterr)
{
	static const char *const keys[] = { "Cmd", "Entrypoint", "Env", "WorkingDir", "User", "StopSignal", NULL };
	int r, sig;
	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "parameter \"config\" must be an object");
	if ((r = field_check_known(o, keys, NULL, "config", reterr)) < 0 ||
	    (r = field_get_strv(o, "Cmd", 4096, &ret->cmd, reterr)) < 0 ||
	    (r = field_get_strv(o, "Entrypoint", 4096, &ret->entrypoint, reterr)) < 0 ||
	    (r = field_get_strv(o, "Env", 4096, &ret->env, reterr)) < 0 ||
	    (r = field_dup_string(o, "WorkingDir", false, &ret->workdir, reterr)) < 0 ||
	    (r = field_dup_string(o, "User", false, &ret->user, reterr)) < 0 ||
	    (r = field_dup_string(o, "StopSignal", false, &ret->stop_signal, reterr)) < 0)
		goto fail;
	for (char **e = ret->env; e && *e; e++)
		if (!strchr(*e, '=') || **e == '=') {
			r = err_set(reterr, -EINVAL, "config Env entry \"%.64s\" is not KEY=VALUE", *e);
			goto fail;
		}
	if (ret->workdir && ret->workdir[0] != '/') {
		r = err_set(reterr, -EINVAL, "config WorkingDir \"%.64s\" is not an absolute path", ret->workdir);
		goto fail;
	}
	if (ret->user && ret->user[0] && !user_spec_valid(ret->user)) {
		r = err_set(reterr, -EINVAL, "config User \"%.64s\": expected NAME|UID[:GROUP|GID]", ret->user);
		goto fail;
	}
	if (ret->stop_signal && (parse_signal(ret->stop_signal, &sig) < 0 || sig <= 0)) {
		r = err_set(reterr, -EINVAL, "config StopSignal: unknown signal \"%.32s\"", ret->stop_signal);
		goto fail;
	}
	return 0;
fail:
	proto_image_config_done(ret);
	return r;
}

json_t *proto_image_config_encode(const struct proto_image_config *c)
{
	json_t *o = json_object();
	if (!o || (c->cmd && json_object_set_new(o, "Cmd", field_strv_to_json(c->cmd)) < 0) ||
	    (c->entrypoint && json_object_set_new(o, "Entrypoint", field_strv_to_json(c->entrypoint)) < 0) ||
	    (c->env && json_object_set_new(o, "Env", field_strv_to_json(c->env)) < 0) ||
	    (c->workdir && json_object_set_new(o, "WorkingDir", json_string(c->workdir)) < 0) ||
	    (c->user && json_object_set_new(o, "User", json_string(c->user)) < 0) ||
	    (c->stop_signal && json_object_set_new(o, "StopSignal", json_string(c->stop_signal)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void proto_image_config_done(struct proto_image_config *c)
{
	strv_free(c->cmd);
	strv_free(c->entrypoint);
	strv_free(c->env);
	free(c->workdir);
	free(c->user);
	free(c->stop_signal);
	memset(c, 0, sizeof(*c));
}
