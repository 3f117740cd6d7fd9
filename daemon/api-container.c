/* The container methods: run, list, inspect, rename, kill, stop, pause, unpause, remove, wait, top.
 * Requests are translated into the domain's types here, at the edge; replies owed to clients (the
 * run reply, the exit event, wait, stop and remove results) are kept here and answered from the
 * event bus, so the container domain never knows a connection. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/strv.h"
#include "common/util.h"
#include "daemon/api-internal.h"
#include "daemon/container-mounts.h"
#include "daemon/container-network.h"
#include "daemon/container-ns.h"
#include "daemon/container.h"
#include "daemon/events.h"
#include "daemon/image-store.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/list.h"
#include "protocol/messages.h"
#include "runtime/caps.h"
#include "runtime/procps.h"

struct api_wait {
	enum wait_kind kind;
	struct container *ct; /* valid until CONTAINER_EV_REMOVED */
	struct conn *conn;
	json_t *id;           /* NULL for WAIT_EXITED */
	bool dead;            /* its client went away during a dispatch; freed after it */
	struct api_wait *next;
};

static void wait_free(struct api_wait *w)
{
	conn_unref(w->conn);
	json_decref(w->id);
	free(w);
}

/* The container.wait and container.remove calls one connection may have pending: one per
 * container is all a client needs. Without a cap a peer could grow the daemon's memory (and the
 * walk every container event makes over the waits) without bound, one small request at a time. */
#define API_MAX_WAITS_PER_CONN REGISTRY_MAX_CONTAINERS

int api_wait_add(struct api *api, enum wait_kind kind, struct container *ct, struct conn *c, json_t *id)
{
	if (kind != WAIT_RUN && kind != WAIT_EXITED) {
		unsigned n = 0;
		for (struct api_wait *w = api->waits; w; w = w->next)
			n += !w->dead && w->conn == c && w->kind != WAIT_RUN && w->kind != WAIT_EXITED;
		if (n >= API_MAX_WAITS_PER_CONN)
			return -EUSERS;
	}
	struct api_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct api_wait){ .kind = kind, .ct = ct, .conn = conn_ref(c), .id = json_incref(id), .next = api->waits };
	api->waits = w;
	return 0;
}

void api_wait_add_failed(struct conn *c, json_t *id, int r)
{
	if (r == -EUSERS)
		conn_send_error(c, id, PROTO_E_LIMIT, NULL,
				"too many pending waits and removals on this connection (%d)", API_MAX_WAITS_PER_CONN);
	else
		conn_send_error(c, id, PROTO_E_INTERNAL, NULL, "out of memory");
}

static void timestamp(const struct timespec *ts, char *buf, size_t size)
{
	if (ts->tv_sec == 0)
		buf[0] = '\0';
	else
		format_rfc3339(ts, buf, size);
}

json_t *api_exit_json(const struct container *ct)
{
	char started[64], finished[64];
	timestamp(&ct->started, started, sizeof(started));
	timestamp(&ct->finished, finished, sizeof(finished));
	struct proto_exit e = { .id = ct->id, .exit_code = ct->exit_code, .signal = ct->signal,
				.oom_killed = ct->oom_killed, .started_at = started[0] ? started : NULL,
				.finished_at = finished };
	return proto_exit_encode(&e);
}

/* The settings a container runs with, from its spec: what inspect shows under "security". */
static void security_info(const struct container *ct, struct proto_security_info *si, char ***caps,
			  struct proto_ulimit *ul, size_t *n_ul, char names[][24], char **maps, char map_text[2][48])
{
	const struct rt_spec *spec = &ct->spec;
	*caps = NULL;
	(void)caps_names(spec->process.caps.bounding, caps);
	size_t n = 0;
	for (int i = 0; i < RLIMITS_COUNT; i++) {
		const char *name = rlimits_name(i);
		const struct rlimits_value *v = &spec->process.rlimits.limit[i];
		if (!name)
			continue;
		snprintf(names[n], 24, "%s", name);
		ul[n] = (struct proto_ulimit){ .name = names[n],
					       .soft = v->soft == RLIMITS_UNLIMITED ? -1 : (int64_t)v->soft,
					       .hard = v->hard == RLIMITS_UNLIMITED ? -1 : (int64_t)v->hard };
		n++;
	}
	*n_ul = n;
	/* One line each, as /proc/PID/uid_map shows it: inside, outside, count. */
	if (spec->n_uid_mappings && spec->n_gid_mappings) {
		snprintf(map_text[0], 48, "%u %u %u", spec->uid_mappings[0].container_id, spec->uid_mappings[0].host_id,
			 spec->uid_mappings[0].size);
		snprintf(map_text[1], 48, "%u %u %u", spec->gid_mappings[0].container_id, spec->gid_mappings[0].host_id,
			 spec->gid_mappings[0].size);
		maps[0] = map_text[0];
		maps[2] = map_text[1];
	}
	*si = (struct proto_security_info){
		.privileged = spec->privileged,
		.capabilities = *caps,
		.seccomp = spec->seccomp.mode == RT_SECCOMP_UNCONFINED ? PROTO_SECCOMP_UNCONFINED
			   : spec->seccomp.mode == RT_SECCOMP_CUSTOM   ? PROTO_SECCOMP_CUSTOM
								       : PROTO_SECCOMP_DEFAULT,
		.no_new_privileges = spec->process.no_new_privileges,
		.masked_paths = spec->masked_paths,
		.readonly_paths = spec->readonly_paths,
		.userns = ct->userns ? PROTO_USERNS_AUTO : PROTO_USERNS_HOST,
		.ulimits = ul,
		.n_ulimits = n,
		.device_cgroup_rules = spec->device_rules,
		.uid_map = maps[0] ? &maps[0] : NULL,
		.gid_map = maps[2] ? &maps[2] : NULL,
	};
}

/* What inspect reports of a container; container.list's entries leave "security" out. */
json_t *api_container_info_full(const struct container *ct, bool security)
{
	struct proto_security_info si = { .privileged = false };
	struct proto_ulimit ul[RLIMITS_COUNT];
	char ul_names[RLIMITS_COUNT][24];
	size_t n_ul;
	_cleanup_strv_free_ char **caps = NULL;
	char *maps[4] = { NULL }, map_text[2][48];
	if (security)
		security_info(ct, &si, &caps, ul, &n_ul, ul_names, maps, map_text);
	char created[64], started[64], finished[64];
	timestamp(&ct->created, created, sizeof(created));
	timestamp(&ct->started, started, sizeof(started));
	timestamp(&ct->finished, finished, sizeof(finished));
	/* With --init the command is what follows [CONTAINER_TINI_PATH, "--"], as with Docker. */
	char **args = ct->spec.process.args;
	if (ct->cfg.init && args && args[0] && args[1] && args[2])
		args += 2;
	json_t *cmd = strv_to_json(args);
	struct proto_container_info info = {
		.id = ct->id,
		.name = ct->name,
		.image = ct->cfg.image,
		.image_id = ct->image_id,
		.state = container_state_label(ct),
		.hostname = ct->spec.hostname,
		.cmd = cmd,
		.pid = ct->state == CONTAINER_RUNNING ? ct->proc.pid : 0,
		.exit_code = ct->exit_code,
		.signal = ct->signal,
		.oom_killed = ct->oom_killed,
		.created_at = created[0] ? created : NULL,
		.started_at = started[0] ? started : NULL,
		.finished_at = ct->state == CONTAINER_EXITED && finished[0] ? finished : NULL,
		.error = ct->error,
		.memory = ct->cfg.limits.memory,
		.pids_limit = ct->cfg.limits.pids,
		.cpus_milli = ct->cfg.limits.cpus_milli,
		.tty = ct->cfg.stdio == CONTAINER_STDIO_PTY,
		.init = ct->cfg.init,
		.labels = ct->cfg.labels,
		.security = security ? &si : NULL,
		.restart_policy = container_restart_name(ct->cfg.restart),
		.restart_max = ct->cfg.restart_max,
		.restart_count = ct->restart_count,
	};
	json_t *o = proto_container_info_encode(&info);
	json_decref(cmd);
	/* Inspect only: Docker's "Mounts" (daemon/container-mounts.h) and --read-only. */
	if (o && security && (json_object_set_new(o, "mounts", container_mounts_inspect(ct)) < 0 ||
			      json_object_set_new(o, "read_only", json_boolean(ct->cfg.read_only)) < 0 ||
			      json_object_set_new(o, "NetworkSettings", container_network_inspect(ct)) < 0 ||
			      json_object_set_new(o, "namespaces", container_ns_inspect(ct)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *api_container_info(const struct container *ct)
{
	return api_container_info_full(ct, true);
}

static void reply_started(struct api_wait *w)
{
	struct container *ct = w->ct;
	struct proto_run_result res = { .id = ct->id, .name = ct->name, .pid = ct->proc.pid };
	int fd = -1;
	/* A detached terminal stays with the daemon, which logs it. */
	if (ct->pty_master >= 0 && w->kind == WAIT_RUN && !ct->cfg.pty_detached) {
		/* The client gets its own copy; ours keeps the terminal alive if the client goes. */
		fd = fcntl(ct->pty_master, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			conn_send_error(w->conn, w->id, PROTO_E_INTERNAL, NULL, "cannot pass the terminal: %s",
					strerror(errno));
			return;
		}
	}
	conn_send_result(w->conn, w->id, proto_run_result_encode(&res), &fd, fd >= 0 ? 1 : 0);
}

/* container.restart: the container exited, now it starts again (once its cleanup is done) and
 * the wait becomes the start's. Returns true when the wait is done (the start failed). */
static bool restart_after_exit(struct api_wait *w)
{
	_cleanup_free_ char *err = NULL;
	int none[3] = { -1, -1, -1 };
	int r = container_start(w->ct, none, false, &err);
	if (r < 0) {
		conn_send_error(w->conn, w->id, PROTO_E_START, proto_start_error_data(125), "%s",
				err ? err : "cannot start the container");
		return true;
	}
	if (r == 1) {
		reply_started(w);
		return true;
	}
	w->kind = WAIT_START;
	return false;
}

/* Answers what is owed for one event; returns true when the wait is done. */
static bool wait_on_event(struct api_wait *w, const struct container_event *ev)
{
	switch (ev->type) {
	case CONTAINER_EV_STARTED:
		if (w->kind == WAIT_START) {
			reply_started(w);
			return true;
		}
		if (w->kind != WAIT_RUN)
			return false;
		reply_started(w);
		w->kind = WAIT_EXITED;
		json_decref(TAKE_PTR(w->id));
		return false;
	case CONTAINER_EV_START_FAILED:
		if (w->kind != WAIT_RUN && w->kind != WAIT_START)
			return false;
		conn_send_error(w->conn, w->id, PROTO_E_START, proto_start_error_data(ev->exit_code), "%s",
				ev->message ? ev->message : "start failed");
		return true;
	case CONTAINER_EV_EXITED:
		if (w->kind == WAIT_RESTART)
			return restart_after_exit(w);
		if (w->kind == WAIT_EXITED)
			conn_send_event(w->conn, PROTO_EV_EXITED, api_exit_json(ev->ct));
		else if (w->kind == WAIT_EXIT)
			conn_send_result(w->conn, w->id, api_exit_json(ev->ct), NULL, 0);
		else
			return false;
		return true;
	case CONTAINER_EV_REMOVED:
		if (w->kind == WAIT_REMOVE)
			conn_send_result(w->conn, w->id, NULL, NULL, 0);
		else if (w->kind == WAIT_START || w->kind == WAIT_RESTART)
			conn_send_error(w->conn, w->id, PROTO_E_NOT_FOUND, NULL, "container %s was removed before it started",
					ev->ct->name);
		/* Nothing can be owed for a container that is gone. */
		return true;
	case CONTAINER_EV_RESTART:
		return false;
	}
	return false;
}

static void waits_sweep(struct api *api)
{
	for (struct api_wait **p = &api->waits; *p;) {
		struct api_wait *w = *p;
		if (w->dead) {
			*p = w->next;
			wait_free(w);
		} else {
			p = &w->next;
		}
	}
}

/* Forgets the wait just added for a request that failed after all. */
void api_waits_drop(struct api *api, enum wait_kind kind, struct container *ct, struct conn *c, json_t *id)
{
	for (struct api_wait *w = api->waits; w; w = w->next)
		if (w->kind == kind && w->ct == ct && w->conn == c && w->id == id && !w->dead) {
			w->dead = true;
			break;
		}
	if (!api->dispatching)
		waits_sweep(api);
}

void api_on_container_event(const struct container_event *ev, void *userdata)
{
	struct api *api = userdata;
	/* A reply can fail and close its connection, which lands in api_waits_conn_closed() while
	 * this walks the list: waits are only marked there, and freed after the walk. */
	api->dispatching++;
	for (struct api_wait *w = api->waits; w; w = w->next)
		if (!w->dead && w->ct == ev->ct && wait_on_event(w, ev))
			w->dead = true;
	if (--api->dispatching == 0)
		waits_sweep(api);
	api_logs_on_event(api, ev);
}

struct conn *api_run_conn(struct api *api, const struct container *ct)
{
	for (struct api_wait *w = api->waits; w; w = w->next)
		if (!w->dead && w->ct == ct && w->kind == WAIT_EXITED && conn_is_open(w->conn))
			return w->conn;
	return NULL;
}

void api_waits_conn_closed(struct api *api, struct conn *c)
{
	for (struct api_wait *w = api->waits; w; w = w->next)
		if (w->conn == c)
			w->dead = true;
	if (!api->dispatching)
		waits_sweep(api);
}

void api_waits_free(struct api *api)
{
	while (api->waits) {
		struct api_wait *w = api->waits;
		api->waits = w->next;
		wait_free(w);
	}
}

/* Peer-supplied stdio fds become the container's fds 0-2, in a process that is root inside the
 * container: a directory (or an O_PATH handle on anything) would hand it a handle on the host's
 * filesystem that openat() and fchdir() resolve outside its root (a member of --group could read
 * /etc/shadow through it). Only files, pipes, sockets and devices are accepted. */
int api_check_stdio_fd(int fd, int i, char **reterr)
{
	static const char *const names[] = { "stdin", "stdout", "stderr" };
	struct stat st;
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return err_set(reterr, -errno, "cannot inspect the %s file descriptor: %m", names[i]);
	if (flags & O_PATH)
		return err_set(reterr, -EBADF, "the %s file descriptor is an O_PATH handle, not an open file", names[i]);
	if (fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "cannot inspect the %s file descriptor: %m", names[i]);
	if (S_ISDIR(st.st_mode))
		return err_set(reterr, -EBADF, "the %s file descriptor is a directory", names[i]);
	return 0;
}

/* The log driver and options a container runs with: the request's over the daemon's defaults.
 * Checked here, before anything is created, so that a bad option leaves nothing behind. */
static int log_config(const struct api *api, const struct proto_run_params *p, struct container_config *cfg,
		      char **reterr)
{
	cfg->log_driver = api->log_driver;
	cfg->log_opts = api->log_opts;
	if (p->log_driver) {
		if (container_log_driver_from_name(p->log_driver, &cfg->log_driver) < 0)
			return err_set(reterr, -EINVAL, "unknown log driver \"%.64s\" (file, journald, none)", p->log_driver);
		/* Options belong to a driver: another driver starts from its own defaults. */
		if (cfg->log_driver != api->log_driver)
			cfg->log_opts = (struct log_file_opts){ .max_file = 1 };
	}
	for (char **kv = p->log_opts; kv && *kv; kv++) {
		if (cfg->log_driver != CONTAINER_LOG_FILE)
			return err_set(reterr, -EINVAL, "the %s log driver takes no options (got \"%.64s\")",
				       container_log_driver_name(cfg->log_driver), *kv);
		int r = log_file_opt_parse(&cfg->log_opts, *kv, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Translates container.run params into the domain's configuration, taking the strings over. */
int api_config_from_params(const struct api *api, struct proto_run_params *p, struct container_config *cfg,
			   char **reterr)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = TAKE_PTR(p->name);
	cfg->image = TAKE_PTR(p->image);
	cfg->workdir = TAKE_PTR(p->workdir);
	cfg->user = TAKE_PTR(p->user);
	cfg->hostname = TAKE_PTR(p->hostname);
	cfg->cmd = TAKE_PTR(p->cmd);
	cfg->env = TAKE_PTR(p->env);
	cfg->stdio = p->stdio == PROTO_STDIO_PTY   ? CONTAINER_STDIO_PTY
		     : p->stdio == PROTO_STDIO_FDS ? CONTAINER_STDIO_FDS
		     : p->stdio == PROTO_STDIO_LOG ? CONTAINER_STDIO_LOG
						   : CONTAINER_STDIO_NULL;
	cfg->pty_detached = p->stdio == PROTO_STDIO_PTY && p->detach;
	cfg->rm = p->rm;
	cfg->init = p->init;
	cfg->tty_rows = p->tty_rows;
	cfg->tty_cols = p->tty_cols;
	cfg->limits = (struct cgroup_limits){ .memory = p->memory, .pids = p->pids_limit, .cpus_milli = p->cpus_milli };
	cfg->privileged = p->privileged;
	cfg->cap_add = TAKE_PTR(p->cap_add);
	cfg->cap_drop = TAKE_PTR(p->cap_drop);
	cfg->no_new_privileges = p->no_new_privileges;
	cfg->seccomp = p->seccomp == PROTO_SECCOMP_UNCONFINED ? RT_SECCOMP_UNCONFINED
		       : p->seccomp == PROTO_SECCOMP_CUSTOM   ? RT_SECCOMP_CUSTOM
							      : RT_SECCOMP_DEFAULT;
	cfg->system_paths_unconfined = p->system_paths_unconfined;
	cfg->device_rules = TAKE_PTR(p->device_cgroup_rules);
	cfg->labels = TAKE_PTR(p->labels);
	cfg->entrypoint = TAKE_PTR(p->entrypoint);
	cfg->entrypoint_set = p->entrypoint_set;
	cfg->stop_signal = TAKE_PTR(p->stop_signal);
	cfg->restart = p->restart == PROTO_RESTART_ON_FAILURE	  ? CONTAINER_RESTART_ON_FAILURE
		       : p->restart == PROTO_RESTART_ALWAYS	  ? CONTAINER_RESTART_ALWAYS
		       : p->restart == PROTO_RESTART_UNLESS_STOPPED ? CONTAINER_RESTART_UNLESS_STOPPED
								  : CONTAINER_RESTART_NO;
	cfg->restart_max = p->restart_max;
	cfg->userns = p->userns == PROTO_USERNS_HOST ? strdup("host") : p->userns == PROTO_USERNS_AUTO ? strdup("auto") : NULL;
	cfg->network_mode = TAKE_PTR(p->network);
	cfg->pid_mode = TAKE_PTR(p->pid_mode);
	cfg->ipc_mode = TAKE_PTR(p->ipc_mode);
	cfg->uts_mode = TAKE_PTR(p->uts_mode);
	cfg->cgroupns_mode = TAKE_PTR(p->cgroupns_mode);
	int r = log_config(api, p, cfg, reterr);
	if (r == 0 && p->seccomp == PROTO_SECCOMP_CUSTOM && !(cfg->seccomp_profile = json_dumps(p->seccomp_profile, JSON_COMPACT)))
		r = -ENOMEM;
	if (r == 0 && p->n_ulimits && !(cfg->ulimits = calloc(p->n_ulimits, sizeof(*cfg->ulimits))))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < p->n_ulimits; i++) {
		const struct proto_ulimit *u = &p->ulimits[i];
		int res = rlimits_from_name(u->name);
		if (res < 0) {
			r = err_set(reterr, -EINVAL, "unknown ulimit \"%s\"", u->name);
			break;
		}
		cfg->ulimits[cfg->n_ulimits++] = (struct container_ulimit){
			.resource = res,
			.soft = u->soft < 0 ? RLIMITS_UNLIMITED : (uint64_t)u->soft,
			.hard = u->hard < 0 ? RLIMITS_UNLIMITED : (uint64_t)u->hard,
		};
	}
	if (r == 0)
		r = api_mounts_from_params(p, cfg, reterr);
	if (r == 0)
		api_endpoint_config_from_params(p, cfg);
	if (r == -ENOMEM)
		err_set(reterr, r, "out of memory");
	proto_run_params_done(p);
	return r;
}

const char *api_run_error_code(int r)
{
	switch (r) {
	case -EEXIST:
		return PROTO_E_CONFLICT;
	case -EUSERS:
		return PROTO_E_LIMIT;
	case -EINVAL:
	case -ERANGE:
	case -EOPNOTSUPP:
	case -ENOENT:
		return PROTO_E_PARAMS;
	case -ENOMEM:
		return PROTO_E_INTERNAL;
	default:
		return PROTO_E_START;
	}
}

void api_run(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_run_params p;
	_cleanup_free_ char *err = NULL;
	int r = proto_run_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	unsigned want = proto_run_params_nfds(&p);
	if (req->nfds != want) {
		conn_send_error(c, req->id, PROTO_E_FDS, NULL,
				"container.run with stdio \"%s\"%s needs %u file descriptor(s), got %u",
				p.stdio == PROTO_STDIO_FDS ? "fds" : p.stdio == PROTO_STDIO_PTY ? "pty" : "null",
				p.stdio == PROTO_STDIO_FDS ? (p.interactive ? " and interactive" : " without interactive") : "",
				want, req->nfds);
		proto_run_params_done(&p);
		return;
	}
	if (api->shutting_down) {
		conn_send_error(c, req->id, PROTO_E_SHUTDOWN, NULL, "containd is shutting down");
		proto_run_params_done(&p);
		return;
	}
	const struct image *image = image_store_lookup(api->images, p.image, &err);
	if (!image) {
		conn_send_error(c, req->id, PROTO_E_NOT_FOUND, NULL, "%s", err ? err : "no such image");
		proto_run_params_done(&p);
		return;
	}
	int stdio[3] = { -1, -1, -1 };
	if (p.stdio == PROTO_STDIO_FDS) {
		unsigned first = p.interactive ? 0 : 1;
		for (unsigned i = 0; i < want; i++) {
			if ((r = api_check_stdio_fd(msg->fds[i], (int)(first + i), &err)) < 0) {
				conn_send_error(c, req->id, PROTO_E_FDS, NULL, "%s", err);
				for (unsigned k = 0; k < 3; k++)
					stdio[k] = safe_close(stdio[k]);
				proto_run_params_done(&p);
				return;
			}
			stdio[first + i] = TAKE_FD(msg->fds[i]);
		}
	}
	struct container_config cfg;
	struct container *ct;
	r = api_config_from_params(api, &p, &cfg, &err);
	cfg.peer = *conn_peer(c);
	if (r < 0) {
		container_config_done(&cfg);
		for (unsigned k = 0; k < 3; k++)
			stdio[k] = safe_close(stdio[k]);
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	r = container_run(api->reg, &cfg, image, stdio, &ct, &err);
	if (r < 0) {
		const char *code = api_run_error_code(r);
		conn_send_error(c, req->id, code, strcmp(code, PROTO_E_START) == 0 ? proto_start_error_data(125) : NULL,
				"%s", err ? err : "cannot create the container");
		return;
	}
	/* Its start (or die) comes from the monitor later, through the bus. */
	api_events_emit(api, "create", ct);
	if (api_wait_add(api, WAIT_RUN, ct, c, req->id) < 0)
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "out of memory (the container runs: %s)", ct->name);
}

struct container *api_find_container(struct api *api, struct conn *c, struct proto_request *req,
					struct proto_ref_params *p)
{
	_cleanup_free_ char *err = NULL;
	if (!api_expect_no_fds(c, req))
		return NULL;
	int r = proto_ref_params_decode(req->method, req->params, p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return NULL;
	}
	return api_lookup(api, c, req, p->ref);
}

struct container *api_lookup(struct api *api, struct conn *c, struct proto_request *req, const char *ref)
{
	_cleanup_free_ char *err = NULL;
	struct container *ct = registry_find(api->reg, ref, &err);
	if (!ct)
		conn_send_error(c, req->id, PROTO_E_NOT_FOUND, NULL, "%s", err);
	return ct;
}

void api_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_ref_params p;
	struct container *ct = api_find_container(api, c, req, &p);
	if (ct)
		conn_send_result(c, req->id, api_container_info(ct), NULL, 0);
}

void api_kill(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_ref_params p;
	_cleanup_free_ char *err = NULL;
	struct container *ct = api_find_container(api, c, req, &p);
	if (!ct)
		return;
	/* docker kill: SIGKILL or the container's stop signal ends it for good, so its restart
	 * policy is off until a user starts it again; another signal (USR1, HUP) leaves the policy
	 * alone. A container waiting for its restart has no process: the kill only cancels it. */
	bool fatal = p.signal == SIGKILL || p.signal == container_stop_signal(ct);
	if (fatal && ct->ev_restart && !pidref_is_set(&ct->proc)) {
		container_restart_cancel(ct, true);
		api_events_emit(api, "kill", ct);
		conn_send_result(c, req->id, NULL, NULL, 0);
		return;
	}
	int r = container_kill(ct, p.signal, &err);
	if (r < 0) {
		conn_send_error(c, req->id, r == -ESRCH ? PROTO_E_CONFLICT : PROTO_E_INTERNAL, NULL, "%s", err);
	} else {
		if (fatal)
			container_restart_cancel(ct, true);
		api_events_emit(api, "kill", ct);
		conn_send_result(c, req->id, NULL, NULL, 0);
	}
}

/* container.pause and container.unpause: conflict when the container is not in the state the
 * method needs (running, paused); a host without a cgroup freezer cannot pause at all. */
static void pause_or_unpause(struct api *api, struct conn *c, struct proto_request *req, bool pause)
{
	struct proto_ref_params p;
	_cleanup_free_ char *err = NULL;
	struct container *ct = api_find_container(api, c, req, &p);
	if (!ct)
		return;
	int r = pause ? container_pause(ct, &err) : container_unpause(ct, &err);
	if (r < 0) {
		conn_send_error(c, req->id, r == -ESRCH ? PROTO_E_CONFLICT : PROTO_E_INTERNAL, NULL, "%s", err);
	} else {
		api_events_emit(api, pause ? "pause" : "unpause", ct);
		conn_send_result(c, req->id, NULL, NULL, 0);
	}
}

void api_rename(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_rename_params p;
	_cleanup_free_ char *err = NULL;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_rename_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	struct container *ct = api_lookup(api, c, req, p.ref);
	if (!ct)
		return;
	r = container_rename(ct, p.name, &err);
	if (r < 0) {
		conn_send_error(c, req->id, r == -EEXIST ? PROTO_E_CONFLICT : r == -EINVAL ? PROTO_E_PARAMS : PROTO_E_INTERNAL,
				NULL, "%s", err);
	} else {
		api_events_emit(api, "rename", ct);
		conn_send_result(c, req->id, NULL, NULL, 0);
	}
}

void api_pause(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	pause_or_unpause(api, c, req, true);
}

void api_unpause(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	pause_or_unpause(api, c, req, false);
}

void api_remove(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_ref_params p;
	_cleanup_free_ char *err = NULL;
	struct container *ct = api_find_container(api, c, req, &p);
	if (!ct)
		return;
	/* Registered first: the removal may complete before container_remove returns. */
	int r = api_wait_add(api, WAIT_REMOVE, ct, c, req->id);
	if (r < 0) {
		api_wait_add_failed(c, req->id, r);
		return;
	}
	ct->remove_volumes |= p.volumes;
	r = container_remove(ct, p.force, &err);
	if (r < 0) {
		ct->remove_volumes = false;
		api_waits_drop(api, WAIT_REMOVE, ct, c, req->id);
		conn_send_error(c, req->id, r == -EBUSY ? PROTO_E_CONFLICT : PROTO_E_INTERNAL, NULL, "%s", err);
	}
}

/* container.stop answers with the exit record once the container has exited, like
 * container.wait; a container that is not running is answered at once (docker stop exits 0). */
void api_stop(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_ref_params p;
	_cleanup_free_ char *err = NULL;
	struct container *ct = api_find_container(api, c, req, &p);
	if (!ct)
		return;
	/* docker stop: the restart policy leaves the container alone from now on, also when it
	 * exited already and waits for a restart. */
	container_restart_cancel(ct, true);
	if (!pidref_is_set(&ct->proc)) {
		conn_send_result(c, req->id, api_exit_json(ct), NULL, 0);
		return;
	}
	/* Registered first, as for removals: the answer must not depend on when the exit comes. */
	int r = api_wait_add(api, WAIT_EXIT, ct, c, req->id);
	if (r < 0) {
		api_wait_add_failed(c, req->id, r);
		return;
	}
	r = container_stop(ct, p.signal, p.timeout, &err);
	if (r < 0) {
		api_waits_drop(api, WAIT_EXIT, ct, c, req->id);
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "%s", err);
	} else {
		api_events_emit(api, "stop", ct);
	}
}

void api_wait(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_ref_params p;
	struct container *ct = api_find_container(api, c, req, &p);
	if (!ct)
		return;
	int r;
	if (ct->state == CONTAINER_EXITED)
		conn_send_result(c, req->id, api_exit_json(ct), NULL, 0);
	else if ((r = api_wait_add(api, WAIT_EXIT, ct, c, req->id)) < 0)
		api_wait_add_failed(c, req->id, r);
}

/* container.top: the processes of a running (or paused) container's cgroup as ps -ef shows them.
 * Reading /proc of a few thousand processes at most is quick enough for the event loop; the
 * strings a container controls (command lines) arrive here cut to printable ASCII. */
void api_top(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_ref_params p;
	_cleanup_free_ char *err = NULL;
	struct procps_table t = { 0 };
	struct container *ct = api_find_container(api, c, req, &p);
	if (!ct)
		return;
	if (ct->state != CONTAINER_RUNNING || !ct->cg) {
		conn_send_error(c, req->id, PROTO_E_CONFLICT, NULL, "container %s is not running", ct->name);
		return;
	}
	int r = procps_cgroup(ct->cg, PROCPS_MAX_PROCESSES, &t, &err);
	if (r < 0) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "%s", err ? err : strerror(-r));
		return;
	}
	struct proto_top_result res = {
		.titles = procps_titles,
		.n_cols = PROCPS_COLUMNS,
		.cells = t.cells,
		.n_rows = t.n_rows,
		.truncated = t.truncated,
	};
	json_t *o = proto_top_result_encode(&res);
	procps_table_done(&t);
	if (!o)
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "out of memory");
	else
		conn_send_result(c, req->id, o, NULL, 0);
}
