#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"
#include "protocol/field.h"
#include "protocol/lifecycle.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"
#include "protocol/security.h"
#include "protocol/endpoint.h"
#include "protocol/volume.h"

static const char *const stdio_names[] = {
	[PROTO_STDIO_FDS] = "fds",
	[PROTO_STDIO_PTY] = "pty",
	[PROTO_STDIO_NULL] = "null",
	[PROTO_STDIO_LOG] = "log",
};

int proto_stdio_parse(const char *s, enum proto_stdio *ret, char **reterr)
{
	for (size_t i = 0; i < ARRAY_SIZE(stdio_names); i++)
		if (strcmp(s, stdio_names[i]) == 0) {
			*ret = (enum proto_stdio)i;
			return 0;
		}
	return err_set(reterr, -EINVAL, "parameter \"stdio\" must be \"fds\", \"pty\", \"log\" or \"null\"");
}

const char *proto_stdio_name(enum proto_stdio s)
{
	return stdio_names[s];
}

int proto_process_params_decode(json_t *params, struct proto_process_params *ret, char **reterr)
{
	const char *stdio = NULL;
	int64_t rows = 0, cols = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->stdio = PROTO_STDIO_FDS;
	if ((r = field_get_strv(params, "cmd", 4096, &ret->cmd, reterr)) < 0 ||
	    (r = field_get_strv(params, "env", 4096, &ret->env, reterr)) < 0 ||
	    (r = field_dup_string(params, "workdir", false, &ret->workdir, reterr)) < 0 ||
	    (r = field_dup_string(params, "user", false, &ret->user, reterr)) < 0 ||
	    (r = field_get_string(params, "stdio", false, &stdio, reterr)) < 0 ||
	    (r = field_get_bool(params, "interactive", &ret->interactive, reterr)) < 0 ||
	    (r = field_get_int(params, "tty_rows", 0, 65535, &rows, reterr)) < 0 ||
	    (r = field_get_int(params, "tty_cols", 0, 65535, &cols, reterr)) < 0 ||
	    (stdio && (r = proto_stdio_parse(stdio, &ret->stdio, reterr)) < 0))
		goto fail;
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
	return 0;
fail:
	proto_process_params_done(ret);
	return r;
}

void proto_process_params_encode(const struct proto_process_params *p, json_t *o)
{
	json_object_set_new(o, "stdio", json_string(stdio_names[p->stdio]));
	json_object_set_new(o, "interactive", json_boolean(p->interactive));
	if (p->cmd)
		json_object_set_new(o, "cmd", field_strv_to_json(p->cmd));
	if (p->env)
		json_object_set_new(o, "env", field_strv_to_json(p->env));
	if (p->workdir)
		json_object_set_new(o, "workdir", json_string(p->workdir));
	if (p->user)
		json_object_set_new(o, "user", json_string(p->user));
	if (p->tty_rows && p->tty_cols) {
		json_object_set_new(o, "tty_rows", json_integer(p->tty_rows));
		json_object_set_new(o, "tty_cols", json_integer(p->tty_cols));
	}
}

void proto_process_params_done(struct proto_process_params *p)
{
	strv_free(p->cmd);
	strv_free(p->env);
	free(p->workdir);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

static const char *const run_params_keys[] = {
	"image", "cmd", "env", "workdir", "user", "hostname", "name", "stdio", "interactive", "rm",
	"tty_rows", "tty_cols", "memory", "pids_limit", "cpus_milli", "labels", "init", "entrypoint",
	"stop_signal", "restart_policy", "detach", "log_driver", "log_opts", "mounts", "read_only", "volumes_from",
	"network_aliases", "ip", "extra_hosts", "dns", "dns_search", "dns_options",
	"network", "pid", "ipc", "uts", "cgroupns", NULL,
};

/* The namespace modes: wire key and field, in the order of ns_keys. */
static const char *const ns_keys[] = { "network", "pid", "ipc", "uts", "cgroupns" };

static char **ns_field(struct proto_run_params *p, size_t i)
{
	char **fields[] = { &p->network, &p->pid_mode, &p->ipc_mode, &p->uts_mode, &p->cgroupns_mode };
	return fields[i];
}

/* How many bytes of s, at most 64, to echo in a message: cut at a character boundary so the
 * message stays valid UTF-8 (jansson refuses to encode anything else, and the reply with it). */
static int echo_len(const char *s)
{
	size_t n = strlen(s);
	if (n <= 64)
		return (int)n;
	n = 64;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

int proto_label_check(const char *key, const char *value, char **reterr)
{
	if (!key[0])
		return err_set(reterr, -EINVAL, "a label key must not be empty");
	if (strchr(key, '='))
		return err_set(reterr, -EINVAL, "label key \"%.*s\" must not contain \"=\"", echo_len(key), key);
	if (strlen(key) > PROTO_LABEL_KEY_MAX)
		return err_set(reterr, -EINVAL, "label key \"%.*s...\" is longer than %d bytes", echo_len(key), key,
			       PROTO_LABEL_KEY_MAX);
	if (strlen(value) > PROTO_LABEL_VALUE_MAX)
		return err_set(reterr, -EINVAL, "the value of label \"%.*s\" is longer than %d bytes", echo_len(key), key,
			       PROTO_LABEL_VALUE_MAX);
	return 0;
}

static int label_compare(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t nx = strcspn(x, "="), ny = strcspn(y, "=");
	int c = strncmp(x, y, nx < ny ? nx : ny);
	return c ? c : (nx > ny) - (nx < ny);
}

/* The "labels" object of container.run params as "KEY=VALUE" entries sorted by key. */
static int labels_decode(json_t *params, char ***ret, char **reterr)
{
	json_t *o = json_object_get(params, "labels"), *v;
	const char *key;
	*ret = NULL;
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "parameter \"labels\" must be an object of strings");
	if (json_object_size(o) > PROTO_MAX_LABELS)
		return err_set(reterr, -EINVAL, "too many labels (at most %d)", PROTO_MAX_LABELS);
	_cleanup_strv_free_ char **l = calloc(json_object_size(o) + 1, sizeof(char *));
	if (!l)
		return err_set(reterr, -ENOMEM, "out of memory");
	size_t n = 0, bytes = 0;
	json_object_foreach(o, key, v) {
		int r;
		if (!json_is_string(v))
			return err_set(reterr, -EINVAL, "the value of label \"%.*s\" must be a string", echo_len(key), key);
		if ((r = proto_label_check(key, json_string_value(v), reterr)) < 0)
			return r;
		bytes += strlen(key) + strlen(json_string_value(v));
		if (bytes > PROTO_LABELS_MAX_BYTES)
			return err_set(reterr, -EINVAL, "the labels are longer than %d bytes together",
				       PROTO_LABELS_MAX_BYTES);
		if (asprintf(&l[n], "%s=%s", key, json_string_value(v)) < 0) {
			l[n] = NULL;
			return err_set(reterr, -ENOMEM, "out of memory");
		}
		n++;
	}
	qsort(l, n, sizeof(char *), label_compare);
	*ret = TAKE_PTR(l);
	return 0;
}

json_t *proto_labels_to_json(char *const *labels)
{
	json_t *o = json_object();
	for (; o && labels && *labels; labels++) {
		const char *eq = strchr(*labels, '=');
		_cleanup_free_ char *key = strndup(*labels, eq ? (size_t)(eq - *labels) : strlen(*labels));
		if (!key || json_object_set_new(o, key, json_string(eq ? eq + 1 : "")) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* The "log_opts" object as "KEY=VALUE" entries; the daemon knows which keys its drivers take. */
static int log_opts_decode(json_t *params, char ***ret, char **reterr)
{
	json_t *o = json_object_get(params, "log_opts"), *v;
	const char *key;
	*ret = NULL;
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "parameter \"log_opts\" must be an object of strings");
	if (json_object_size(o) > PROTO_MAX_LOG_OPTS)
		return err_set(reterr, -EINVAL, "too many log options (at most %d)", PROTO_MAX_LOG_OPTS);
	char **v_out = calloc(json_object_size(o) + 1, sizeof(char *));
	if (!v_out)
		return err_set(reterr, -ENOMEM, "out of memory");
	size_t n = 0;
	json_object_foreach(o, key, v) {
		if (!json_is_string(v) || strlen(key) > PROTO_LOG_OPT_MAX || !key[0] || strchr(key, '=') ||
		    json_string_length(v) > PROTO_LOG_OPT_MAX) {
			strv_free(v_out);
			return err_set(reterr, -EINVAL,
				       "parameter \"log_opts\": \"%.*s\" must be a key without \"=\" with a string value (at most %d bytes each)",
				       echo_len(key), key, PROTO_LOG_OPT_MAX);
		}
		if (asprintf(&v_out[n], "%s=%s", key, json_string_value(v)) < 0) {
			v_out[n] = NULL;
			strv_free(v_out);
			return err_set(reterr, -ENOMEM, "out of memory");
		}
		n++;
	}
	*ret = v_out;
	return 0;
}

int proto_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	struct proto_process_params proc = { 0 };
	memset(ret, 0, sizeof(*ret));
	ret->stdio = PROTO_STDIO_FDS;
	int r;
	int64_t memory = 0, pids = 0, cpus = 0;

	if (!json_is_object(params))
		return err_set(reterr, -EINVAL, "container.run params must be an object");
	if ((r = field_check_known(params, run_params_keys, security_run_params_keys, PROTO_M_RUN " params",
				     reterr)) < 0 ||
	    (r = security_run_params_decode(params, ret, reterr)) < 0 ||
	    (r = field_dup_string(params, "image", true, &ret->image, reterr)) < 0 ||
	    (r = proto_process_params_decode(params, &proc, reterr)) < 0 ||
	    (r = field_dup_string(params, "hostname", false, &ret->hostname, reterr)) < 0 ||
	    (r = field_dup_string(params, "name", false, &ret->name, reterr)) < 0 ||
	    (r = field_get_bool(params, "rm", &ret->rm, reterr)) < 0 ||
	    (r = field_get_bool(params, "init", &ret->init, reterr)) < 0 ||
	    (r = field_get_int(params, "memory", 0, INT64_MAX, &memory, reterr)) < 0 ||
	    (r = field_get_int(params, "pids_limit", -1, INT32_MAX, &pids, reterr)) < 0 ||
	    (r = field_get_int(params, "cpus_milli", 0, 1024 * 1000, &cpus, reterr)) < 0 ||
	    (r = labels_decode(params, &ret->labels, reterr)) < 0 ||
	    (r = lifecycle_run_params_decode(params, ret, reterr)) < 0 ||
	    (r = field_get_bool(params, "detach", &ret->detach, reterr)) < 0 ||
	    (r = field_dup_string(params, "log_driver", false, &ret->log_driver, reterr)) < 0 ||
	    (r = log_opts_decode(params, &ret->log_opts, reterr)) < 0 ||
	    (r = volume_run_params_decode(params, ret, reterr)) < 0 ||
	    (r = endpoint_run_params_decode(params, ret, reterr)) < 0)
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(ns_keys); i++)
		if ((r = field_dup_string(params, ns_keys[i], false, ns_field(ret, i), reterr)) < 0)
			goto fail;
	ret->cmd = TAKE_PTR(proc.cmd);
	ret->env = TAKE_PTR(proc.env);
	ret->workdir = TAKE_PTR(proc.workdir);
	ret->user = TAKE_PTR(proc.user);
	ret->stdio = proc.stdio;
	ret->interactive = proc.interactive;
	ret->tty_rows = proc.tty_rows;
	ret->tty_cols = proc.tty_cols;
	ret->memory = (uint64_t)memory;
	ret->pids_limit = pids < 0 ? 0 : pids;
	ret->cpus_milli = (uint64_t)cpus;
	return 0;
fail:
	proto_process_params_done(&proc);
	proto_run_params_done(ret);
	return r;
}

json_t *proto_run_params_encode(const struct proto_run_params *p)
{
	json_t *o = json_pack("{s:s, s:b}", "image", p->image, "rm", p->rm);
	if (!o)
		return NULL;
	const struct proto_process_params proc = { .cmd = p->cmd, .env = p->env, .workdir = p->workdir,
						   .user = p->user, .stdio = p->stdio, .interactive = p->interactive,
						   .tty_rows = p->tty_rows, .tty_cols = p->tty_cols };
	proto_process_params_encode(&proc, o);
	if (p->hostname)
		json_object_set_new(o, "hostname", json_string(p->hostname));
	if (p->name)
		json_object_set_new(o, "name", json_string(p->name));
	if (p->memory)
		json_object_set_new(o, "memory", json_integer((json_int_t)p->memory));
	if (p->pids_limit)
		json_object_set_new(o, "pids_limit", json_integer(p->pids_limit));
	if (p->cpus_milli)
		json_object_set_new(o, "cpus_milli", json_integer((json_int_t)p->cpus_milli));
	if (p->init)
		json_object_set_new(o, "init", json_true());
	if (p->detach)
		json_object_set_new(o, "detach", json_true());
	if (p->log_driver)
		json_object_set_new(o, "log_driver", json_string(p->log_driver));
	if (p->log_opts) {
		json_t *lo = json_object();
		for (char **kv = p->log_opts; lo && *kv; kv++) {
			const char *eq = strchr(*kv, '=');
			_cleanup_free_ char *k = strndup(*kv, eq ? (size_t)(eq - *kv) : strlen(*kv));
			if (!k || json_object_set_new(lo, k, json_string(eq ? eq + 1 : "")) < 0) {
				json_decref(lo);
				lo = NULL;
			}
		}
		if (!lo || json_object_set_new(o, "log_opts", lo) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	if ((p->labels && json_object_set_new(o, "labels", proto_labels_to_json(p->labels)) < 0) ||
	    security_run_params_encode(p, o) < 0 || lifecycle_run_params_encode(p, o) < 0 ||
	    volume_run_params_encode(p, o) < 0 || endpoint_run_params_encode(p, o) < 0) {
		json_decref(o);
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ns_keys); i++) {
		const char *v = *ns_field((struct proto_run_params *)p, i);
		if (v && json_object_set_new(o, ns_keys[i], json_string(v)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
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
	strv_free(p->labels);
	strv_free(p->entrypoint);
	free(p->stop_signal);
	free(p->log_driver);
	strv_free(p->log_opts);
	security_run_params_done(p);
	volume_run_params_done(p);
	endpoint_run_params_done(p);
	for (size_t i = 0; i < ARRAY_SIZE(ns_keys); i++)
		free(*ns_field(p, i));
	memset(p, 0, sizeof(*p));
}

unsigned proto_stdio_nfds(enum proto_stdio stdio, bool interactive)
{
	if (stdio != PROTO_STDIO_FDS)
		return 0;
	return interactive ? 3 : 2;
}

unsigned proto_run_params_nfds(const struct proto_run_params *p)
{
	return proto_stdio_nfds(p->stdio, p->interactive);
}

json_t *proto_run_result_encode(const struct proto_run_result *r)
{
	return json_pack("{s:s, s:s, s:I}", "id", r->id, "name", r->name, "pid", (json_int_t)r->pid);
}

int proto_run_result_decode(json_t *result, struct proto_run_result *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int r;
	if ((r = field_get_string(result, "id", true, &ret->id, reterr)) < 0 ||
	    (r = field_get_string(result, "name", false, &ret->name, reterr)) < 0 ||
	    (r = field_get_int(result, "pid", 0, INT32_MAX, &ret->pid, reterr)) < 0)
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
	if ((r = field_get_string(params, "id", true, &ret->id, reterr)) < 0 ||
	    (r = field_get_int(params, "exit_code", 0, 255, &code, reterr)) < 0 ||
	    (r = field_get_int(params, "signal", 0, 128, &sig, reterr)) < 0 ||
	    (r = field_get_bool(params, "oom_killed", &ret->oom_killed, reterr)) < 0 ||
	    (r = field_get_string(params, "started_at", false, &ret->started_at, reterr)) < 0 ||
	    (r = field_get_string(params, "finished_at", false, &ret->finished_at, reterr)) < 0)
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

/* container.stop's timeout and signal; the signal may be a number or a name ("TERM", "SIGTERM",
 * "15"), absent or null for the container's stop signal. */
static int stop_params_decode(json_t *params, struct proto_ref_params *ret, char **reterr)
{
	int64_t timeout = PROTO_STOP_TIMEOUT_DEFAULT, sig = 0;
	json_t *v = json_object_get(params, "signal");
	int r;
	if ((r = field_get_int(params, "timeout", 0, PROTO_STOP_TIMEOUT_MAX, &timeout, reterr)) < 0)
		return r;
	ret->timeout = (unsigned)timeout;
	if (json_is_string(v)) {
		int s;
		if (parse_signal(json_string_value(v), &s) < 0)
			return err_set(reterr, -EINVAL, "parameter \"signal\": unknown signal \"%s\"",
				       json_string_value(v));
		ret->signal = s;
		return 0;
	}
	if (v && !json_is_null(v) && !json_is_integer(v))
		return err_set(reterr, -EINVAL, "parameter \"signal\" must be a signal number or name");
	if ((r = field_get_int(params, "signal", 1, SIGRTMAX, &sig, reterr)) < 0)
		return r;
	ret->signal = (int)sig;
	return 0;
}

int proto_ref_params_decode(const char *method, json_t *params, struct proto_ref_params *ret, char **reterr)
{
	static const char *const list_keys[] = { "all", "summary", NULL };
	static const char *const id_keys[] = { "id", NULL };
	static const char *const kill_keys[] = { "id", "signal", NULL };
	static const char *const remove_keys[] = { "id", "force", "volumes", NULL };
	static const char *const stop_keys[] = { "id", "timeout", "signal", NULL };
	static const char *const top_keys[] = { "id", "ps_args", NULL };
	_cleanup_free_ char *what = NULL;
	memset(ret, 0, sizeof(*ret));
	bool stop = strcmp(method, PROTO_M_STOP) == 0 || strcmp(method, PROTO_M_RESTART) == 0;
	ret->signal = stop ? 0 : SIGKILL;
	ret->timeout = PROTO_STOP_TIMEOUT_DEFAULT;
	int r;
	if (asprintf(&what, "%s params", method) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = field_check_known(params,
			      strcmp(method, PROTO_M_LIST) == 0	   ? list_keys
			      : strcmp(method, PROTO_M_KILL) == 0   ? kill_keys
			      : strcmp(method, PROTO_M_REMOVE) == 0 ? remove_keys
			      : stop				    ? stop_keys
			      : strcmp(method, PROTO_M_TOP) == 0    ? top_keys
								    : id_keys,
			      NULL, what, reterr);
	if (r < 0)
		return r;
	if (strcmp(method, PROTO_M_LIST) == 0) {
		if ((r = field_get_bool(params, "all", &ret->all, reterr)) < 0)
			return r;
		return field_get_bool(params, "summary", &ret->summary, reterr);
	}
	if ((r = field_get_string(params, "id", true, &ret->ref, reterr)) < 0)
		return r;
	if (!ret->ref[0])
		return err_set(reterr, -EINVAL, "parameter \"id\" must not be empty");
	if (strcmp(method, PROTO_M_KILL) == 0) {
		int64_t sig = SIGKILL;
		if ((r = field_get_int(params, "signal", 1, SIGRTMAX, &sig, reterr)) < 0)
			return r;
		ret->signal = (int)sig;
	}
	if (strcmp(method, PROTO_M_REMOVE) == 0 && ((r = field_get_bool(params, "force", &ret->force, reterr)) < 0 ||
						    (r = field_get_bool(params, "volumes", &ret->volumes, reterr)) < 0))
		return r;
	if (stop)
		return stop_params_decode(params, ret, reterr);
	if (strcmp(method, PROTO_M_TOP) == 0) {
		if ((r = field_get_string(params, "ps_args", false, &ret->ps_args, reterr)) < 0)
			return r;
		/* The columns are fixed (ps -ef's); options of ps are not interpreted yet. */
		if (ret->ps_args && ret->ps_args[0])
			return err_set(reterr, -EINVAL, "parameter \"ps_args\" is not supported yet: it must be empty");
	}
	return 0;
}

json_t *proto_ref_params_encode(const char *method, const struct proto_ref_params *p)
{
	if (strcmp(method, PROTO_M_LIST) == 0)
		return p->summary ? json_pack("{s:b, s:b}", "all", p->all, "summary", true) : json_pack("{s:b}", "all", p->all);
	json_t *o = json_pack("{s:s}", "id", p->ref);
	if (o && strcmp(method, PROTO_M_KILL) == 0)
		json_object_set_new(o, "signal", json_integer(p->signal));
	if (o && strcmp(method, PROTO_M_REMOVE) == 0)
		json_object_set_new(o, "force", json_boolean(p->force));
	if (o && strcmp(method, PROTO_M_REMOVE) == 0 && p->volumes)
		json_object_set_new(o, "volumes", json_true());
	if (o && strcmp(method, PROTO_M_TOP) == 0 && p->ps_args)
		json_object_set_new(o, "ps_args", json_string(p->ps_args));
	if (o && (strcmp(method, PROTO_M_STOP) == 0 || strcmp(method, PROTO_M_RESTART) == 0)) {
		json_object_set_new(o, "timeout", json_integer(p->timeout));
		if (p->signal)
			json_object_set_new(o, "signal", json_integer(p->signal));
	}
	return o;
}

static void set_opt_string(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

json_t *proto_container_info_encode(const struct proto_container_info *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:b}", "id", c->id, "name", c->name,
			      "image", c->image, "image_id", c->image_id, "state", c->state, "cmd",
			      c->cmd ? json_incref(c->cmd) : json_array(), "pid", (json_int_t)c->pid, "tty", c->tty);
	if (o)
		json_object_set_new(o, "init", json_boolean(c->init));
	if (!o)
		return NULL;
	if (lifecycle_info_encode(c, o) < 0) {
		json_decref(o);
		return NULL;
	}
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
	if (c->labels && json_object_set_new(o, "labels", proto_labels_to_json(c->labels)) < 0) {
		json_decref(o);
		return NULL;
	}
	if (c->security && json_object_set_new(o, "security", proto_security_info_encode(c->security)) < 0) {
		json_decref(o);
		return NULL;
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
	if ((r = field_get_string(obj, "id", true, &ret->id, reterr)) < 0 ||
	    (r = field_get_string(obj, "name", true, &ret->name, reterr)) < 0 ||
	    (r = field_get_string(obj, "image", true, &ret->image, reterr)) < 0 ||
	    (r = field_get_string(obj, "image_id", false, &ret->image_id, reterr)) < 0 ||
	    (r = field_get_string(obj, "state", true, &ret->state, reterr)) < 0 ||
	    (r = field_get_string(obj, "hostname", false, &ret->hostname, reterr)) < 0 ||
	    (r = field_get_string(obj, "created_at", false, &ret->created_at, reterr)) < 0 ||
	    (r = field_get_string(obj, "started_at", false, &ret->started_at, reterr)) < 0 ||
	    (r = field_get_string(obj, "finished_at", false, &ret->finished_at, reterr)) < 0 ||
	    (r = field_get_string(obj, "error", false, &ret->error, reterr)) < 0 ||
	    (r = field_get_int(obj, "pid", 0, INT32_MAX, &ret->pid, reterr)) < 0 ||
	    (r = field_get_int(obj, "exit_code", 0, 255, &code, reterr)) < 0 ||
	    (r = field_get_int(obj, "signal", 0, 128, &sig, reterr)) < 0 ||
	    (r = field_get_bool(obj, "oom_killed", &ret->oom_killed, reterr)) < 0 ||
	    (r = field_get_bool(obj, "tty", &ret->tty, reterr)) < 0 ||
	    (r = field_get_bool(obj, "init", &ret->init, reterr)) < 0)
		return r;
	if ((r = lifecycle_info_decode(obj, ret, reterr)) < 0)
		return r;
	ret->cmd = json_object_get(obj, "cmd");
	ret->exit_code = (int)code;
	ret->signal = (int)sig;
	json_t *limits = json_object_get(obj, "limits");
	if (json_is_object(limits)) {
		int64_t mem = 0, pids = 0, cpus = 0;
		if ((r = field_get_int(limits, "memory", 0, INT64_MAX, &mem, reterr)) < 0 ||
		    (r = field_get_int(limits, "pids_limit", 0, INT64_MAX, &pids, reterr)) < 0 ||
		    (r = field_get_int(limits, "cpus_milli", 0, INT64_MAX, &cpus, reterr)) < 0)
			return r;
		ret->memory = (uint64_t)mem;
		ret->pids_limit = pids;
		ret->cpus_milli = (uint64_t)cpus;
	}
	/* Labels: an object of strings; a daemon older than labels sends none. */
	json_t *labels = json_object_get(obj, "labels"), *lv;
	const char *lk;
	if (labels && !json_is_null(labels)) {
		if (!json_is_object(labels))
			return err_set(reterr, -EINVAL, "\"labels\" must be an object");
		json_object_foreach(labels, lk, lv)
			if (!json_is_string(lv))
				return err_set(reterr, -EINVAL, "the value of label \"%.*s\" must be a string", echo_len(lk), lk);
		ret->labels_json = labels;
	}
	/* Records written by an older daemon have no "security". */
	json_t *sec = json_object_get(obj, "security");
	if (sec && !json_is_null(sec)) {
		struct proto_security_info si;
		if ((r = proto_security_info_decode(sec, &si, reterr)) < 0)
			return r;
		proto_security_info_done(&si);
		ret->security_json = sec;
	}
	return 0;
}

int proto_rename_params_decode(json_t *params, struct proto_rename_params *ret, char **reterr)
{
	static const char *const keys[] = { "id", "name", NULL };
	memset(ret, 0, sizeof(*ret));
	int r;
	if ((r = field_check_known(params, keys, NULL, PROTO_M_RENAME " params", reterr)) < 0 ||
	    (r = field_get_string(params, "id", true, &ret->ref, reterr)) < 0 ||
	    (r = field_get_string(params, "name", true, &ret->name, reterr)) < 0)
		return r;
	if (!ret->ref[0])
		return err_set(reterr, -EINVAL, "parameter \"id\" must not be empty");
	if (!ret->name[0])
		return err_set(reterr, -EINVAL, "parameter \"name\" must not be empty");
	return 0;
}

json_t *proto_rename_params_encode(const struct proto_rename_params *p)
{
	return json_pack("{s:s, s:s}", "id", p->ref, "name", p->name);
}

/* What a string costs in the encoded reply at most: printable ASCII escapes only '"' and '\\'
 * (two bytes), plus its quotes and comma. */
static size_t top_cost(const char *s)
{
	return 2 * strlen(s) + 3;
}

json_t *proto_top_result_encode(const struct proto_top_result *t)
{
	/* Room for the envelope (an id of PROTO_MAX_ID bytes among it) and the titles. */
	size_t budget = PROTO_MAX_MESSAGE - 4 * PROTO_MAX_ID - 1024, used = 0;
	json_auto_t *titles = json_array(), *rows = json_array();
	bool truncated = t->truncated;

	if (!titles || !rows)
		return NULL;
	for (size_t i = 0; i < t->n_cols; i++) {
		if (json_array_append_new(titles, json_string(t->titles[i])) < 0)
			return NULL;
		used += top_cost(t->titles[i]);
	}
	for (size_t r = 0; r < t->n_rows; r++) {
		char *const *row = t->cells + r * t->n_cols;
		size_t cost = 3;
		for (size_t i = 0; i < t->n_cols; i++)
			cost += top_cost(row[i]);
		if (used + cost > budget) {
			truncated = true;
			break;
		}
		json_t *a = json_array();
		if (!a || json_array_append_new(rows, a) < 0)
			return NULL;
		for (size_t i = 0; i < t->n_cols; i++)
			if (json_array_append_new(a, json_string(row[i])) < 0)
				return NULL;
		used += cost;
	}
	return json_pack("{s:O, s:O, s:b}", "titles", titles, "processes", rows, "truncated", truncated);
}

int proto_top_result_decode(json_t *result, json_t **ret_titles, json_t **ret_processes, bool *ret_truncated,
			    char **reterr)
{
	json_t *titles = json_object_get(result, "titles"), *rows = json_object_get(result, "processes");
	json_t *truncated = json_object_get(result, "truncated"), *v, *row;
	size_t i, k;

	if (!json_is_array(titles) || !json_is_array(rows))
		return err_set(reterr, -EBADMSG, "\"titles\" and \"processes\" must be arrays");
	json_array_foreach(titles, i, v)
		if (!json_is_string(v))
			return err_set(reterr, -EBADMSG, "\"titles\" must hold strings");
	json_array_foreach(rows, i, row) {
		if (!json_is_array(row) || json_array_size(row) != json_array_size(titles))
			return err_set(reterr, -EBADMSG, "every process must have as many fields as there are titles");
		json_array_foreach(row, k, v)
			if (!json_is_string(v))
				return err_set(reterr, -EBADMSG, "the fields of a process must be strings");
	}
	*ret_titles = titles;
	*ret_processes = rows;
	*ret_truncated = json_is_true(truncated);
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

json_t *proto_version_result_encode(const char *version)
{
	return json_pack("{s:s, s:i}", "version", version, "protocol", PROTOCOL_VERSION);
}

int proto_no_params_decode(const char *method, json_t *params, char **reterr)
{
	static const char *const none[] = { NULL };
	_cleanup_free_ char *what = NULL;
	if (asprintf(&what, "%s params", method) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return field_check_known(params, none, NULL, what, reterr);
}

json_t *proto_system_info_encode(const struct proto_system_info *i)
{
	return json_pack("{s:I, s:I, s:I, s:s, s:s}", "containers", (json_int_t)i->containers, "running",
			 (json_int_t)i->running, "images", (json_int_t)i->images, "cgroup_layout",
			 i->cgroup_layout ? i->cgroup_layout : "", "version", i->version ? i->version : "");
}

int proto_system_info_decode(json_t *result, struct proto_system_info *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int64_t containers = 0, running = 0, images = 0;
	int r;
	if ((r = field_get_int(result, "containers", 0, UINT32_MAX, &containers, reterr)) < 0 ||
	    (r = field_get_int(result, "running", 0, UINT32_MAX, &running, reterr)) < 0 ||
	    (r = field_get_int(result, "images", 0, UINT32_MAX, &images, reterr)) < 0 ||
	    (r = field_get_string(result, "cgroup_layout", false, &ret->cgroup_layout, reterr)) < 0 ||
	    (r = field_get_string(result, "version", false, &ret->version, reterr)) < 0)
		return r;
	if (!json_object_get(result, "containers"))
		return err_set(reterr, -EINVAL, "missing parameter \"containers\"");
	ret->containers = (unsigned)containers;
	ret->running = (unsigned)running;
	ret->images = (unsigned)images;
	return 0;
}
