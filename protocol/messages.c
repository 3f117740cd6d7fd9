#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

/* Field helpers: absent optional fields keep the caller's default. */
static int get_string(json_t *o, const char *key, bool required, const char **ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required)
			return err_set(reterr, -EINVAL, "missing parameter \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be a string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" contains a NUL byte", key);
	*ret = json_string_value(v);
	return 0;
}

static int dup_string(json_t *o, const char *key, bool required, char **ret, char **reterr)
{
	const char *s = NULL;
	int r = get_string(o, key, required, &s, reterr);
	if (r < 0 || !s)
		return r;
	*ret = strdup(s);
	return *ret ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

static int get_bool(json_t *o, const char *key, bool *ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be true or false", key);
	*ret = json_is_true(v);
	return 0;
}

static int get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be an integer", key);
	json_int_t i = json_integer_value(v);
	if (i < min || i > max)
		return err_set(reterr, -ERANGE, "parameter \"%s\" must be between %lld and %lld", key,
			       (long long)min, (long long)max);
	*ret = i;
	return 0;
}

/* Copies an array of strings; limits its length so one request cannot make us allocate much. */
static int get_strv(json_t *o, const char *key, size_t max_items, char ***ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be an array of strings", key);
	size_t n = json_array_size(v);
	if (n > max_items)
		return err_set(reterr, -E2BIG, "parameter \"%s\" has more than %zu items", key, max_items);
	_cleanup_strv_free_ char **strv = calloc(n + 1, sizeof(char *));
	if (!strv)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
			return err_set(reterr, -EINVAL, "parameter \"%s\" must be an array of strings", key);
		strv[i] = strdup(json_string_value(s));
		if (!strv[i])
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(strv);
	return 0;
}

static json_t *strv_to_json(char **strv)
{
	json_t *a = json_array();
	for (char **p = strv; a && p && *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}

static const char *const stdio_names[] = {
	[PROTO_STDIO_FDS] = "fds",
	[PROTO_STDIO_PTY] = "pty",
	[PROTO_STDIO_NULL] = "null",
};

int proto_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	ret->stdio = PROTO_STDIO_FDS;
	int r;
	const char *stdio = NULL;
	int64_t rows = 0, cols = 0, memory = 0, pids = 0, cpus = 0;

	if ((r = dup_string(params, "image", true, &ret->image, reterr)) < 0 ||
	    (r = get_strv(params, "cmd", 4096, &ret->cmd, reterr)) < 0 ||
	    (r = get_strv(params, "env", 4096, &ret->env, reterr)) < 0 ||
	    (r = dup_string(params, "workdir", false, &ret->workdir, reterr)) < 0 ||
	    (r = dup_string(params, "user", false, &ret->user, reterr)) < 0 ||
	    (r = dup_string(params, "hostname", false, &ret->hostname, reterr)) < 0 ||
	    (r = dup_string(params, "name", false, &ret->name, reterr)) < 0 ||
	    (r = get_string(params, "stdio", false, &stdio, reterr)) < 0 ||
	    (r = get_bool(params, "interactive", &ret->interactive, reterr)) < 0 ||
	    (r = get_bool(params, "rm", &ret->rm, reterr)) < 0 ||
	    (r = get_int(params, "tty_rows", 0, 65535, &rows, reterr)) < 0 ||
	    (r = get_int(params, "tty_cols", 0, 65535, &cols, reterr)) < 0 ||
	    (r = get_int(params, "memory", 0, INT64_MAX, &memory, reterr)) < 0 ||
	    (r = get_int(params, "pids_limit", -1, INT32_MAX, &pids, reterr)) < 0 ||
	    (r = get_int(params, "cpus_milli", 0, 1024 * 1000, &cpus, reterr)) < 0)
		goto fail;
	if (stdio) {
		bool found = false;
		for (size_t i = 0; i < ARRAY_SIZE(stdio_names); i++)
			if (strcmp(stdio, stdio_names[i]) == 0) {
				ret->stdio = (enum proto_stdio)i;
				found = true;
			}
		if (!found) {
			r = err_set(reterr, -EINVAL, "parameter \"stdio\" must be \"fds\", \"pty\" or \"null\"");
			goto fail;
		}
	}
	if (ret->cmd && !ret->cmd[0]) {
		r = err_set(reterr, -EINVAL, "parameter \"cmd\" must not be empty");
		goto fail;
	}
	for (char **e = ret->env; e && *e; e++)
		if (!strchr(*e, '=') || **e == '=') {
			r = err_set(reterr, -EINVAL, "environment entry \"%s\" is not KEY=VALUE", *e);
			goto fail;
		}
	ret->tty_rows = (unsigned short)rows;
	ret->tty_cols = (unsigned short)cols;
	ret->memory = (uint64_t)memory;
	ret->pids_limit = pids < 0 ? 0 : pids;
	ret->cpus_milli = (uint64_t)cpus;
	return 0;
fail:
	proto_run_params_done(ret);
	return r;
}

json_t *proto_run_params_encode(const struct proto_run_params *p)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "image", p->image, "stdio", stdio_names[p->stdio],
			      "interactive", p->interactive, "rm", p->rm);
	if (!o)
		return NULL;
	if (p->cmd)
		json_object_set_new(o, "cmd", strv_to_json(p->cmd));
	if (p->env)
		json_object_set_new(o, "env", strv_to_json(p->env));
	if (p->workdir)
		json_object_set_new(o, "workdir", json_string(p->workdir));
	if (p->user)
		json_object_set_new(o, "user", json_string(p->user));
	if (p->hostname)
		json_object_set_new(o, "hostname", json_string(p->hostname));
	if (p->name)
		json_object_set_new(o, "name", json_string(p->name));
	if (p->tty_rows && p->tty_cols) {
		json_object_set_new(o, "tty_rows", json_integer(p->tty_rows));
		json_object_set_new(o, "tty_cols", json_integer(p->tty_cols));
	}
	if (p->memory)
		json_object_set_new(o, "memory", json_integer((json_int_t)p->memory));
	if (p->pids_limit)
		json_object_set_new(o, "pids_limit", json_integer(p->pids_limit));
	if (p->cpus_milli)
		json_object_set_new(o, "cpus_milli", json_integer((json_int_t)p->cpus_milli));
	return o;
}

void proto_run_params_done(struct proto_run_params *p)
{
	free(p->image);
	strv_free(p->cmd);
	strv_free(p->env);
	free(p->workdir);
	free(p->user);
	free(p->hostname);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

unsigned proto_run_params_nfds(const struct proto_run_params *p)
{
	if (p->stdio != PROTO_STDIO_FDS)
		return 0;
	return p->interactive ? 3 : 2;
}

json_t *proto_run_result_encode(const struct proto_run_result *r)
{
	return json_pack("{s:s, s:s, s:I}", "id", r->id, "name", r->name, "pid", (json_int_t)r->pid);
}

int proto_run_result_decode(json_t *result, struct proto_run_result *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int r;
	if ((r = get_string(result, "id", true, &ret->id, reterr)) < 0 ||
	    (r = get_string(result, "name", false, &ret->name, reterr)) < 0 ||
	    (r = get_int(result, "pid", 0, INT32_MAX, &ret->pid, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_exit_encode(const struct proto_exit *e)
{
	json_t *o = json_pack("{s:s, s:i, s:b}", "id", e->id, "exit_code", e->exit_code, "oom_killed",
			      e->oom_killed);
	if (o && e->signal)
		json_object_set_new(o, "signal", json_integer(e->signal));
	if (o && e->started_at)
		json_object_set_new(o, "started_at", json_string(e->started_at));
	if (o && e->finished_at)
		json_object_set_new(o, "finished_at", json_string(e->finished_at));
	return o;
}

int proto_exit_decode(json_t *params, struct proto_exit *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int64_t code = 0, sig = 0;
	int r;
	if ((r = get_string(params, "id", true, &ret->id, reterr)) < 0 ||
	    (r = get_int(params, "exit_code", 0, 255, &code, reterr)) < 0 ||
	    (r = get_int(params, "signal", 0, 128, &sig, reterr)) < 0 ||
	    (r = get_bool(params, "oom_killed", &ret->oom_killed, reterr)) < 0 ||
	    (r = get_string(params, "started_at", false, &ret->started_at, reterr)) < 0 ||
	    (r = get_string(params, "finished_at", false, &ret->finished_at, reterr)) < 0)
		return r;
	if (!json_object_get(params, "exit_code"))
		return err_set(reterr, -EINVAL, "missing parameter \"exit_code\"");
	ret->exit_code = (int)code;
	ret->signal = (int)sig;
	return 0;
}

json_t *proto_start_error_data(int exit_code)
{
	return json_pack("{s:i}", "exit_code", exit_code);
}

int proto_start_error_exit_code(json_t *data)
{
	json_t *v = json_object_get(data, "exit_code");
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 255)
		return 125;
	return (int)json_integer_value(v);
}

int proto_ref_params_decode(const char *method, json_t *params, struct proto_ref_params *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	ret->signal = SIGKILL;
	int r;
	if (strcmp(method, PROTO_M_LIST) == 0)
		return get_bool(params, "all", &ret->all, reterr);
	if ((r = get_string(params, "id", true, &ret->ref, reterr)) < 0)
		return r;
	if (!ret->ref[0])
		return err_set(reterr, -EINVAL, "parameter \"id\" must not be empty");
	if (strcmp(method, PROTO_M_KILL) == 0) {
		int64_t sig = SIGKILL;
		if ((r = get_int(params, "signal", 1, SIGRTMAX, &sig, reterr)) < 0)
			return r;
		ret->signal = (int)sig;
	}
	if (strcmp(method, PROTO_M_REMOVE) == 0 && (r = get_bool(params, "force", &ret->force, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_ref_params_encode(const char *method, const struct proto_ref_params *p)
{
	if (strcmp(method, PROTO_M_LIST) == 0)
		return json_pack("{s:b}", "all", p->all);
	json_t *o = json_pack("{s:s}", "id", p->ref);
	if (o && strcmp(method, PROTO_M_KILL) == 0)
		json_object_set_new(o, "signal", json_integer(p->signal));
	if (o && strcmp(method, PROTO_M_REMOVE) == 0)
		json_object_set_new(o, "force", json_boolean(p->force));
	return o;
}

static void set_opt_string(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

json_t *proto_container_info_encode(const struct proto_container_info *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:I, s:b}", "id", c->id, "name", c->name,
			      "image", c->image, "image_id", c->image_id, "state", c->state, "cmd",
			      c->cmd ? c->cmd : json_array(), "pid", (json_int_t)c->pid, "tty", c->tty);
	if (!o)
		return NULL;
	set_opt_string(o, "hostname", c->hostname);
	set_opt_string(o, "created_at", c->created_at);
	set_opt_string(o, "started_at", c->started_at);
	set_opt_string(o, "finished_at", c->finished_at);
	set_opt_string(o, "error", c->error);
	if (c->finished_at) {
		json_object_set_new(o, "exit_code", json_integer(c->exit_code));
		json_object_set_new(o, "signal", json_integer(c->signal));
		json_object_set_new(o, "oom_killed", json_boolean(c->oom_killed));
	}
	json_object_set_new(o, "limits", json_pack("{s:I, s:I, s:I}", "memory", (json_int_t)c->memory,
						   "pids_limit", (json_int_t)c->pids_limit, "cpus_milli",
						   (json_int_t)c->cpus_milli));
	return o;
}

int proto_container_info_decode(json_t *obj, struct proto_container_info *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int64_t code = 0, sig = 0;
	int r;
	if (!json_is_object(obj))
		return err_set(reterr, -EINVAL, "container info must be an object");
	if ((r = get_string(obj, "id", true, &ret->id, reterr)) < 0 ||
	    (r = get_string(obj, "name", true, &ret->name, reterr)) < 0 ||
	    (r = get_string(obj, "image", true, &ret->image, reterr)) < 0 ||
	    (r = get_string(obj, "image_id", false, &ret->image_id, reterr)) < 0 ||
	    (r = get_string(obj, "state", true, &ret->state, reterr)) < 0 ||
	    (r = get_string(obj, "hostname", false, &ret->hostname, reterr)) < 0 ||
	    (r = get_string(obj, "created_at", false, &ret->created_at, reterr)) < 0 ||
	    (r = get_string(obj, "started_at", false, &ret->started_at, reterr)) < 0 ||
	    (r = get_string(obj, "finished_at", false, &ret->finished_at, reterr)) < 0 ||
	    (r = get_string(obj, "error", false, &ret->error, reterr)) < 0 ||
	    (r = get_int(obj, "pid", 0, INT32_MAX, &ret->pid, reterr)) < 0 ||
	    (r = get_int(obj, "exit_code", 0, 255, &code, reterr)) < 0 ||
	    (r = get_int(obj, "signal", 0, 128, &sig, reterr)) < 0 ||
	    (r = get_bool(obj, "oom_killed", &ret->oom_killed, reterr)) < 0 ||
	    (r = get_bool(obj, "tty", &ret->tty, reterr)) < 0)
		return r;
	ret->cmd = json_object_get(obj, "cmd");
	ret->exit_code = (int)code;
	ret->signal = (int)sig;
	json_t *limits = json_object_get(obj, "limits");
	if (json_is_object(limits)) {
		int64_t mem = 0, pids = 0, cpus = 0;
		if ((r = get_int(limits, "memory", 0, INT64_MAX, &mem, reterr)) < 0 ||
		    (r = get_int(limits, "pids_limit", 0, INT64_MAX, &pids, reterr)) < 0 ||
		    (r = get_int(limits, "cpus_milli", 0, INT64_MAX, &cpus, reterr)) < 0)
			return r;
		ret->memory = (uint64_t)mem;
		ret->pids_limit = pids;
		ret->cpus_milli = (uint64_t)cpus;
	}
	return 0;
}

json_t *proto_container_list_encode(json_t *infos)
{
	return json_pack("{s:o}", "containers", infos);
}

json_t *proto_container_list_items(json_t *result)
{
	json_t *a = json_object_get(result, "containers");
	return json_is_array(a) ? a : NULL;
}

int proto_import_params_decode(json_t *params, unsigned nfds, struct proto_import_params *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int r;
	if ((r = get_string(params, "name", true, &ret->name, reterr)) < 0 ||
	    (r = get_string(params, "path", false, &ret->path, reterr)) < 0)
		return r;
	if (ret->path && nfds != 0)
		return err_set(reterr, -EBADF, "send either \"path\" or the tarball's fd, not both");
	if (!ret->path && nfds != 1)
		return err_set(reterr, -EBADF, "image.import needs \"path\" or exactly one fd (the tarball), got %u fds", nfds);
	if (ret->path && ret->path[0] != '/')
		return err_set(reterr, -EINVAL, "parameter \"path\" must be absolute");
	return 0;
}

json_t *proto_import_params_encode(const struct proto_import_params *p)
{
	json_t *o = json_pack("{s:s}", "name", p->name);
	if (o && p->path)
		json_object_set_new(o, "path", json_string(p->path));
	return o;
}

json_t *proto_image_info_encode(const struct proto_image_info *i)
{
	return json_pack("{s:s, s:O, s:O, s:s, s:I}", "id", i->id, "names", i->names, "layers", i->layers,
			 "created_at", i->created_at ? i->created_at : "", "size", (json_int_t)i->size);
}

int proto_image_info_decode(json_t *obj, struct proto_image_info *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int64_t size = 0;
	int r;
	if (!json_is_object(obj))
		return err_set(reterr, -EINVAL, "image info must be an object");
	if ((r = get_string(obj, "id", true, &ret->id, reterr)) < 0 ||
	    (r = get_string(obj, "created_at", false, &ret->created_at, reterr)) < 0 ||
	    (r = get_int(obj, "size", 0, INT64_MAX, &size, reterr)) < 0)
		return r;
	ret->names = json_object_get(obj, "names");
	ret->layers = json_object_get(obj, "layers");
	if (!json_is_array(ret->names) || !json_is_array(ret->layers))
		return err_set(reterr, -EINVAL, "image info needs \"names\" and \"layers\" arrays");
	ret->size = (uint64_t)size;
	return 0;
}

json_t *proto_image_list_encode(json_t *infos)
{
	return json_pack("{s:o}", "images", infos);
}

json_t *proto_image_list_items(json_t *result)
{
	json_t *a = json_object_get(result, "images");
	return json_is_array(a) ? a : NULL;
}

int proto_image_remove_params_decode(json_t *params, struct proto_image_remove_params *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int r;
	if ((r = get_string(params, "name", true, &ret->name, reterr)) < 0 ||
	    (r = get_bool(params, "force", &ret->force, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_image_remove_params_encode(const struct proto_image_remove_params *p)
{
	return json_pack("{s:s, s:b}", "name", p->name, "force", p->force);
}

json_t *proto_image_remove_result_encode(json_t *removed)
{
	return json_pack("{s:o}", "removed", removed ? removed : json_array());
}

json_t *proto_image_remove_result_items(json_t *result)
{
	json_t *a = json_object_get(result, "removed");
	return json_is_array(a) ? a : NULL;
}

json_t *proto_version_result_encode(const char *version)
{
	return json_pack("{s:s, s:i}", "version", version, "protocol", PROTOCOL_VERSION);
}
