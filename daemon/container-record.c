/* A container's state record: what `ps -a` and `inspect` show, kept across daemon restarts. The
 * daemon's own format (not the wire protocol's): the domain configuration, the runtime spec as
 * OCI config.json, and the status, versioned and written atomically by persist.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/parse.h"
#include "common/strv.h"
#include "daemon/container-mounts.h"
#include "daemon/container-network.h"
#include "daemon/container-ns.h"
#include "daemon/container-record.h"
#include "daemon/container.h"
#include "daemon/persist.h"
#include "daemon/registry.h"
#include "protocol/messages.h"

#define RECORD_FILE "state.json"

static const char *const stdio_names[] = { "fds", "pty", "null", "log" };
static const char *const seccomp_names[] = { "default", "unconfined", "custom" };

static json_int_t ts_ns(const struct timespec *ts)
{
	return (json_int_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static json_int_t limit_json(uint64_t v)
{
	return v == RLIMITS_UNLIMITED || v > INT64_MAX ? -1 : (json_int_t)v;
}

static json_t *config_json(const struct container_config *c)
{
	json_t *ul = json_array();
	for (size_t i = 0; ul && i < c->n_ulimits; i++)
		json_array_append_new(ul, json_pack("{s:i, s:I, s:I}", "resource", c->ulimits[i].resource, "soft",
						    limit_json(c->ulimits[i].soft), "hard", limit_json(c->ulimits[i].hard)));
	json_t *o = json_pack("{s:s?, s:s?, s:o, s:o, s:s?, s:s?, s:s?, s:s, s:b, s:i, s:i, s:I, s:I, s:I, s:b, s:o, s:o, "
			 "s:b, s:s, s:s?, s:b, s:o, s:o, s:s?, s:o, s:b}",
			 "name", c->name, "image", c->image, "cmd", c->cmd ? strv_to_json(c->cmd) : json_null(), "env",
			 strv_to_json(c->env), "workdir", c->workdir, "user", c->user, "hostname", c->hostname, "stdio",
			 stdio_names[c->stdio], "rm", c->rm, "tty_rows", (int)c->tty_rows, "tty_cols", (int)c->tty_cols,
			 "memory", (json_int_t)c->limits.memory, "pids_limit", (json_int_t)c->limits.pids, "cpus_milli",
			 (json_int_t)c->limits.cpus_milli, "privileged", c->privileged, "cap_add", strv_to_json(c->cap_add),
			 "cap_drop", strv_to_json(c->cap_drop), "no_new_privileges", c->no_new_privileges, "seccomp",
			 seccomp_names[c->seccomp], "seccomp_profile", c->seccomp_profile, "system_paths_unconfined",
			 c->system_paths_unconfined, "ulimits", ul, "device_rules", strv_to_json(c->device_rules), "userns",
			 c->userns, "labels", strv_to_json(c->labels), "init", c->init);
	/* Logging (absent from older records: the file driver without options). */
	if (o && (json_object_set_new(o, "log_driver", json_string(container_log_driver_name(c->log_driver))) < 0 ||
		  json_object_set_new(o, "log_max_size", json_integer((json_int_t)c->log_opts.max_size)) < 0 ||
		  json_object_set_new(o, "log_max_file", json_integer(c->log_opts.max_file)) < 0 ||
		  json_object_set_new(o, "pty_detached", json_boolean(c->pty_detached)) < 0 ||
		  container_ns_record_save(c, o) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The logging settings of a record; an older record has none: the file driver, no rotation. */
static int log_config_from(json_t *o, struct container_config *c)
{
	json_t *d = json_object_get(o, "log_driver"), *size = json_object_get(o, "log_max_size"),
	       *files = json_object_get(o, "log_max_file"), *pd = json_object_get(o, "pty_detached");
	c->log_driver = CONTAINER_LOG_FILE;
	c->log_opts = (struct log_file_opts){ .max_file = 1 };
	if (d && (!json_is_string(d) || container_log_driver_from_name(json_string_value(d), &c->log_driver) < 0))
		return -EBADMSG;
	if (size && (!json_is_integer(size) || json_integer_value(size) < 0))
		return -EBADMSG;
	if (files && (!json_is_integer(files) || json_integer_value(files) < 1 ||
		      json_integer_value(files) > LOG_FILE_MAX_FILES))
		return -EBADMSG;
	if (pd && !json_is_boolean(pd))
		return -EBADMSG;
	if (size)
		c->log_opts.max_size = (uint64_t)json_integer_value(size);
	if (files)
		c->log_opts.max_file = (unsigned)json_integer_value(files);
	c->pty_detached = json_is_true(pd);
	return 0;
}

/* What version 2 added to the configuration: the entrypoint, the stop signal, the policy. */
static json_t *config_json_v2(const struct container_config *c)
{
	json_t *o = config_json(c);
	if (o && (json_object_set_new(o, "entrypoint", c->entrypoint_set ? strv_to_json(c->entrypoint) : json_null()) < 0 ||
		  json_object_set_new(o, "stop_signal", c->stop_signal ? json_string(c->stop_signal) : json_null()) < 0 ||
		  json_object_set_new(o, "restart", json_string(container_restart_name(c->restart))) < 0 ||
		  json_object_set_new(o, "restart_max", json_integer(c->restart_max)) < 0 ||
		  json_object_set_new(o, "mounts", container_mounts_to_json(c)) < 0 ||
		  json_object_set_new(o, "read_only", json_boolean(c->read_only)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void container_record_save(struct container *ct)
{
	/* --rm containers are never saved: they go away with their process. */
	if (ct->cfg.rm)
		return;
	_cleanup_free_ char *dir = registry_container_dir(ct->reg, ct->id), *path = NULL, *err = NULL;
	json_auto_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:s?, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
				     "id", ct->id, "name", ct->name, "image_id", ct->image_id, "state",
				     container_state_name(ct->state), "exit_code", ct->exit_code, "signal", ct->signal,
				     "oom_killed", ct->oom_killed, "error", ct->error, "created", ts_ns(&ct->created),
				     "started", ts_ns(&ct->started), "finished", ts_ns(&ct->finished), "pid",
				     (json_int_t)ct->proc.pid, "pid_start_time", (json_int_t)ct->proc.start_time, "config",
				     config_json_v2(&ct->cfg), "spec", spec_to_json(&ct->spec));
	if (rec && (json_object_set_new(rec, "restart_count", json_integer(ct->restart_count)) < 0 ||
		    json_object_set_new(rec, "user_stopped", json_boolean(ct->user_stopped)) < 0 ||
		    container_network_to_record(ct, rec, json_object_get(rec, "config")) < 0))
		json_decref(TAKE_PTR(rec));
	if (!rec || !dir || asprintf(&path, "%s/" RECORD_FILE, dir) < 0) {
		log_error("container %.12s: out of memory saving its state", ct->id);
		return;
	}
	if (persist_write(path, rec, &err) < 0)
		log_error("container %.12s: %s", ct->id, err);
}

int container_record_remove(const struct registry *reg, const char *id)
{
	_cleanup_free_ char *dir = registry_container_dir(reg, id), *path = NULL;
	if (!dir || asprintf(&path, "%s/" RECORD_FILE, dir) < 0)
		return -ENOMEM;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* Reading back. A record is the daemon's own output, but a disk can hand back anything: every
 * field is checked, and a record that does not check out is quarantined, not half-loaded. */

static int strv_from(json_t *a, char ***ret)
{
	*ret = NULL;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return -EBADMSG;
	char **v = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s || !(v[i] = strdup(s))) {
			strv_free(v);
			return s ? -ENOMEM : -EBADMSG;
		}
	}
	*ret = v;
	return 0;
}

static int str_from(json_t *o, const char *key, char **ret)
{
	json_t *v = json_object_get(o, key);
	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EBADMSG;
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

/* Labels as container.run accepted them ("KEY=VALUE", within the protocol's caps); a record
 * written before labels existed has none. */
static int labels_from(json_t *a, char ***ret)
{
	int r = strv_from(a, ret);
	if (r < 0)
		return r;
	size_t n = 0, bytes = 0;
	for (char **l = *ret; l && *l; l++, n++) {
		bytes += strlen(*l) - 1;
		_cleanup_free_ char *key = strndup(*l, strcspn(*l, "="));
		if (!key)
			return -ENOMEM;
		if (!strchr(*l, '=') || n >= PROTO_MAX_LABELS || bytes > PROTO_LABELS_MAX_BYTES ||
		    proto_label_check(key, strchr(*l, '=') + 1, NULL) < 0)
			return -EBADMSG;
	}
	return 0;
}

static int enum_from(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* The fields version 2 added; a version 1 record has none of them: no entrypoint of its own,
 * the default stop signal, no restart policy. */
static int config_from_v2(json_t *o, struct container_config *c)
{
	static const char *const restart_names[] = { "no", "on-failure", "always", "unless-stopped" };
	json_t *ep = json_object_get(o, "entrypoint"), *max = json_object_get(o, "restart_max");
	const char *restart = json_string_value(json_object_get(o, "restart"));
	int r, sig;
	if (ep && !json_is_null(ep)) {
		if ((r = strv_from(ep, &c->entrypoint)) < 0)
			return r;
		c->entrypoint_set = true;
	}
	if ((r = str_from(o, "stop_signal", &c->stop_signal)) < 0)
		return r;
	if (c->stop_signal && parse_signal(c->stop_signal, &sig) < 0)
		return -EBADMSG;
	if (json_object_get(o, "restart")) {
		int p = enum_from(restart, restart_names, ARRAY_SIZE(restart_names));
		if (p < 0 || !json_is_integer(max) || json_integer_value(max) < 0 ||
		    json_integer_value(max) > PROTO_RESTART_MAX_RETRIES)
			return -EBADMSG;
		c->restart = (enum container_restart)p;
		c->restart_max = (unsigned)json_integer_value(max);
	}
	return 0;
}

static int config_from(json_t *o, struct container_config *c)
{
	const char *stdio = NULL, *seccomp = NULL;
	json_int_t rows = 0, cols = 0, memory = 0, pids = 0, cpus = 0;
	int rm = 0, priv = 0, nnp = 0, unconfined = 0, r;
	json_t *ul = NULL;
	if (json_unpack(o, "{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:s, s:b, s:o}", "stdio", &stdio, "rm", &rm,
			"tty_rows", &rows, "tty_cols", &cols, "memory", &memory, "pids_limit", &pids, "cpus_milli", &cpus,
			"privileged", &priv, "no_new_privileges", &nnp, "seccomp", &seccomp, "system_paths_unconfined",
			&unconfined, "ulimits", &ul) < 0 ||
	    rows < 0 || rows > 65535 || cols < 0 || cols > 65535 || memory < 0 || pids < 0 || cpus < 0 ||
	    !json_is_array(ul) || json_array_size(ul) > RLIMITS_COUNT)
		return -EBADMSG;
	int st = enum_from(stdio, stdio_names, ARRAY_SIZE(stdio_names));
	int sc = enum_from(seccomp, seccomp_names, ARRAY_SIZE(seccomp_names));
	if (st < 0 || sc < 0)
		return -EBADMSG;
	c->stdio = (enum container_stdio)st;
	c->seccomp = (enum rt_seccomp_mode)sc;
	c->rm = rm;
	/* A record from before --init has no "init": false. */
	json_t *init = json_object_get(o, "init");
	if (init && !json_is_boolean(init))
		return -EBADMSG;
	c->init = json_is_true(init);
	if (log_config_from(o, c) < 0)
		return -EBADMSG;
	c->tty_rows = (unsigned short)rows;
	c->tty_cols = (unsigned short)cols;
	c->limits = (struct cgroup_limits){ .memory = (uint64_t)memory, .pids = pids, .cpus_milli = (uint64_t)cpus };
	c->privileged = priv;
	c->no_new_privileges = nnp;
	c->system_paths_unconfined = unconfined;
	if ((r = str_from(o, "name", &c->name)) < 0 || (r = str_from(o, "image", &c->image)) < 0 ||
	    (r = str_from(o, "workdir", &c->workdir)) < 0 || (r = str_from(o, "user", &c->user)) < 0 ||
	    (r = str_from(o, "hostname", &c->hostname)) < 0 || (r = str_from(o, "seccomp_profile", &c->seccomp_profile)) < 0 ||
	    (r = str_from(o, "userns", &c->userns)) < 0 || (r = strv_from(json_object_get(o, "cmd"), &c->cmd)) < 0 ||
	    (r = strv_from(json_object_get(o, "env"), &c->env)) < 0 ||
	    (r = strv_from(json_object_get(o, "cap_add"), &c->cap_add)) < 0 ||
	    (r = strv_from(json_object_get(o, "cap_drop"), &c->cap_drop)) < 0 ||
	    (r = strv_from(json_object_get(o, "device_rules"), &c->device_rules)) < 0 ||
	    (r = labels_from(json_object_get(o, "labels"), &c->labels)) < 0)
		return r;
	if ((r = config_from_v2(o, c)) < 0 || (r = container_ns_record_load(o, c)) < 0)
		return r;
	/* Mounts and --read-only (absent from older records: none). */
	json_t *ro = json_object_get(o, "read_only");
	if (ro && !json_is_boolean(ro))
		return -EBADMSG;
	c->read_only = json_is_true(ro);
	if ((r = container_mounts_from_json(json_object_get(o, "mounts"), c)) < 0)
		return r;
	if (json_array_size(ul) && !(c->ulimits = calloc(json_array_size(ul), sizeof(*c->ulimits))))
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(ul); i++) {
		json_int_t res, soft, hard;
		if (json_unpack(json_array_get(ul, i), "{s:I, s:I, s:I}", "resource", &res, "soft", &soft, "hard", &hard) < 0 ||
		    res < 0 || res >= RLIMITS_COUNT || soft < -1 || hard < -1)
			return -EBADMSG;
		c->ulimits[c->n_ulimits++] = (struct container_ulimit){
			.resource = (int)res,
			.soft = soft < 0 ? RLIMITS_UNLIMITED : (uint64_t)soft,
			.hard = hard < 0 ? RLIMITS_UNLIMITED : (uint64_t)hard,
		};
	}
	return 0;
}

static void ts_from(json_int_t ns, struct timespec *ts)
{
	if (ns < 0)
		ns = 0;
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
}

static int record_from(struct registry *reg, json_t *rec, int version, struct container *ct, char **reterr)
{
	const char *id = NULL, *name = NULL, *image_id = NULL, *state = NULL;
	json_int_t created = 0, started = 0, finished = 0;
	int exit_code = 0, sig = 0, oom = 0, r;
	json_t *cfg = NULL, *spec = NULL;
	if (json_unpack(rec, "{s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:I, s:I, s:I, s:o, s:o}", "id", &id, "name", &name,
			"image_id", &image_id, "state", &state, "exit_code", &exit_code, "signal", &sig, "oom_killed",
			&oom, "created", &created, "started", &started, "finished", &finished, "config", &cfg, "spec",
			&spec) < 0 ||
	    strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
		return err_set(reterr, -EBADMSG, "missing or invalid fields");
	int st = enum_from(state, (const char *const[]){ "created", "running", "exited" }, 3);
	if (st < 0)
		return err_set(reterr, -EBADMSG, "unknown state \"%s\"", state);
	if ((r = config_from(cfg, &ct->cfg)) < 0)
		return err_set(reterr, r, "invalid configuration");
	if ((r = container_network_from_record(ct, rec, cfg)) < 0)
		return err_set(reterr, r, "invalid network settings");
	if ((r = spec_from_json(spec, &ct->spec, reterr)) < 0)
		return r;
	memcpy(ct->id, id, 65);
	ct->name = strdup(name);
	ct->image_id = strdup(image_id);
	if ((r = str_from(rec, "error", &ct->error)) < 0 || !ct->name || !ct->image_id)
		return err_set(reterr, r < 0 ? r : -ENOMEM, "cannot load the record");
	ct->reg = reg;
	/* Not a field of its own: a container ran in a user namespace exactly when its spec maps ids. */
	ct->userns = ct->spec.n_uid_mappings > 0;
	ct->state = CONTAINER_EXITED;
	ct->exit_code = exit_code;
	ct->signal = sig;
	ct->oom_killed = oom;
	ct->cleaned_up = true;
	ts_from(created, &ct->created);
	ts_from(started, &ct->started);
	ts_from(finished, &ct->finished);
	if (version >= 2) {
		json_t *count = json_object_get(rec, "restart_count"), *stopped = json_object_get(rec, "user_stopped");
		json_t *pid = json_object_get(rec, "pid");
		if (!json_is_integer(count) || json_integer_value(count) < 0 || json_integer_value(count) > UINT32_MAX ||
		    !json_is_boolean(stopped) || !json_is_integer(pid))
			return err_set(reterr, -EBADMSG, "missing or invalid restart fields");
		ct->restart_count = (unsigned)json_integer_value(count);
		ct->user_stopped = json_is_true(stopped);
		/* Created and never given a process (version 1 had no such state: its "created" was a
		 * container in setup). */
		if (st == CONTAINER_CREATED && json_integer_value(pid) == 0) {
			ct->state = CONTAINER_CREATED;
			return 0;
		}
	}
	if (st != CONTAINER_EXITED) {
		/* It ran when the record was written: the keeper may still have it, or its exit (live
		 * restore, daemon/restore.c). The record names it by pid and start time. */
		json_int_t pid = 0, start_time = 0;
		if (json_unpack(rec, "{s?I, s?I}", "pid", &pid, "pid_start_time", &start_time) < 0 || pid < 0 ||
		    pid > INT32_MAX || start_time < 0)
			return err_set(reterr, -EBADMSG, "invalid pid");
		ct->proc = (struct pidref){ .pid = (pid_t)pid, .pidfd = -1, .start_time = (uint64_t)start_time };
		return 1;
	}
	return 0;
}

int container_record_load(struct registry *reg, const char *dir, struct container **ret, char **reterr)
{
	_cleanup_free_ char *path = NULL;
	json_auto_t *rec = NULL;
	if (asprintf(&path, "%s/" RECORD_FILE, dir) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	int version;
	int r = persist_read(path, &rec, &version, reterr);
	if (r < 0)
		return r;
	struct container *ct = calloc(1, sizeof(*ct));
	if (!ct)
		return err_set(reterr, -ENOMEM, "out of memory");
	ct->proc = PIDREF_NULL;
	ct->sync_fd = ct->pty_master = ct->mntns_fd = -1;
	_cleanup_free_ char *why = NULL;
	ct->start_stdio[0] = ct->start_stdio[1] = ct->start_stdio[2] = -1;
	r = record_from(reg, rec, version, ct, &why);
	if (r < 0) {
		container_free(ct);
		return err_set(reterr, -EBADMSG, "%s: %s", path, why ? why : "invalid record");
	}
	*ret = ct;
	return r;
}
