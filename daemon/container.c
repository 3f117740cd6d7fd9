#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/parse.h"
#include "common/util.h"
#include "runtime/cgroup.h"
#include "daemon/container.h"
#include "daemon/image-store.h"
#include "daemon/server.h"
#include "daemon/spawn.h"

enum container_state { STATE_CREATED, STATE_RUNNING, STATE_EXITED };
static const char *const state_names[] = { "created", "running", "exited" };

enum waiter_kind { WAIT_EXIT, WAIT_REMOVE };

/* A client owed a reply when the container exits or is removed. */
struct waiter {
	enum waiter_kind kind;
	struct conn *conn;
	json_t *id;
	struct waiter *next;
};

struct container {
	struct registry *reg;
	char id[65];
	char *name;
	char *image_id;
	char *hostname;
	struct proto_run_params cfg;
	enum container_state state;

	pid_t pid;
	int pidfd, sync_fd, pty_master;
	struct event *ev_pid, *ev_sync, *ev_retry, *ev_cleaner;
	struct container_cgroup *cg;
	unsigned cleanup_tries;
	int cleaner_pidfd;     /* the process removing its cgroups (and files), or -1 */
	bool cleaner_files;    /* that process deletes the files too */
	bool files_deleted;

	int exit_code, signal;
	bool oom_killed;
	char *error;
	struct timespec created, started, finished;
	bool cleaned_up;      /* exited and its cgroup is gone */
	bool remove_pending;
	bool removing;        /* exited and being removed: no longer visible to clients */

	/* The run request's client: first owed the run reply, then the exit event. */
	struct conn *run_conn;
	json_t *run_id;
	bool run_replied, start_failed;
	struct waiter *waiters;

	struct container *prev, *next;
};

/* A container's init process started ahead of its container (see spawn_prepare). */
struct spare {
	struct registry *reg;
	char id[65];
	struct container_cgroup *cg;
	struct spawn_result proc;
	struct event *ev_pid; /* it died while idle */
	bool dirs;            /* <root>/containers/<id>/{upper,work} exist */
};

struct registry {
	struct event_base *base;
	char *root, *state;
	struct cgroup_manager *cgm;
	struct image_store *images;
	struct container *list;
	unsigned count;
	struct spare *spare;
	struct event *ev_refill;
	bool stopping;
	/* Where every container mounts its root: each does so in its own mount namespace, so one
	 * empty directory serves them all. */
	char *mountpoint;
};

#define REGISTRY_MAX_CONTAINERS 4096
#define CONTAINER_CONFIG "config.json"

static void container_on_sync(evutil_socket_t fd, short what, void *arg);
static void container_on_exit(evutil_socket_t fd, short what, void *arg);
static void container_cleanup(struct container *ct);
static void registry_schedule_refill(struct registry *reg);
static void registry_schedule_refill_in(struct registry *reg, long delay_us);

static char *container_dir(const struct registry *reg, const char *id)
{
	char *p;
	return asprintf(&p, "%s/containers/%s", reg->root, id) < 0 ? NULL : p;
}

/* A spare's directories wait under a hidden name until a container takes them. */
static char *spare_dir(const struct registry *reg, const char *id)
{
	char *p;
	return asprintf(&p, "%s/containers/.spare-%s", reg->root, id) < 0 ? NULL : p;
}


static void timestamp(const struct timespec *ts, char *buf, size_t size)
{
	if (ts->tv_sec == 0)
		buf[0] = '\0';
	else
		format_rfc3339(ts, buf, size);
}

json_t *container_info(const struct container *ct)
{
	char created[64], started[64], finished[64];
	timestamp(&ct->created, created, sizeof(created));
	timestamp(&ct->started, started, sizeof(started));
	timestamp(&ct->finished, finished, sizeof(finished));
	json_t *cmd = json_array();
	for (char **a = ct->cfg.cmd; cmd && a && *a; a++)
		json_array_append_new(cmd, json_string(*a));
	struct proto_container_info info = {
		.id = ct->id,
		.name = ct->name,
		.image = ct->cfg.image,
		.image_id = ct->image_id,
		.state = state_names[ct->state],
		.hostname = ct->hostname,
		.cmd = cmd,
		.pid = ct->state == STATE_RUNNING ? ct->pid : 0,
		.exit_code = ct->exit_code,
		.signal = ct->signal,
		.oom_killed = ct->oom_killed,
		.created_at = created[0] ? created : NULL,
		.started_at = started[0] ? started : NULL,
		.finished_at = ct->state == STATE_EXITED && finished[0] ? finished : NULL,
		.error = ct->error,
		.memory = ct->cfg.memory,
		.pids_limit = ct->cfg.pids_limit,
		.cpus_milli = ct->cfg.cpus_milli,
		.tty = ct->cfg.stdio == PROTO_STDIO_PTY,
	};
	json_t *o = proto_container_info_encode(&info);
	json_decref(cmd);
	return o;
}

/* Saves what `ps -a` and `inspect` show, so containers outlive a daemon restart. --rm containers
 * are never saved: they go away with their process. */
static void container_save(struct container *ct)
{
	if (ct->cfg.rm)
		return;
	json_auto_t *doc = json_pack("{s:o, s:o}", "info", container_info(ct), "params",
				     proto_run_params_encode(&ct->cfg));
	_cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	_cleanup_free_ char *dir = container_dir(ct->reg, ct->id);
	_cleanup_free_ char *path = NULL;
	if (!text || !dir || asprintf(&path, "%s/" CONTAINER_CONFIG, dir) < 0) {
		log_error("container %.12s: out of memory saving its state", ct->id);
		return;
	}
	int r = write_file_atomic(path, text, strlen(text));
	if (r < 0)
		log_errno(LOG_LEVEL_ERROR, r, "container %.12s: cannot save %s: %m", ct->id, path);
}

static void waiter_reply_exit(struct container *ct, struct conn *c, json_t *id)
{
	char started[64], finished[64];
	timestamp(&ct->started, started, sizeof(started));
	timestamp(&ct->finished, finished, sizeof(finished));
	struct proto_exit e = { .id = ct->id, .exit_code = ct->exit_code, .signal = ct->signal,
				.oom_killed = ct->oom_killed, .started_at = started[0] ? started : NULL,
				.finished_at = finished };
	if (id)
		conn_send_result(c, id, proto_exit_encode(&e), NULL, 0);
	else
		conn_send_event(c, PROTO_EV_EXITED, proto_exit_encode(&e));
}

static void container_free(struct container *ct)
{
	if (!ct)
		return;
	if (ct->ev_pid)
		event_free(ct->ev_pid);
	if (ct->ev_sync)
		event_free(ct->ev_sync);
	if (ct->ev_retry)
		event_free(ct->ev_retry);
	if (ct->ev_cleaner)
		event_free(ct->ev_cleaner);
	if (ct->cleaner_pidfd >= 0) {
		/* Let it finish: a half-done removal would leave debris. */
		siginfo_t si;
		while (waitid(P_PIDFD, (id_t)ct->cleaner_pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		close(ct->cleaner_pidfd);
	}
	safe_close(ct->pidfd);
	safe_close(ct->sync_fd);
	safe_close(ct->pty_master);
	if (ct->cg)
		cgroup_free(ct->cg);
	while (ct->waiters) {
		struct waiter *w = ct->waiters;
		ct->waiters = w->next;
		conn_unref(w->conn);
		json_decref(w->id);
		free(w);
	}
	conn_unref(ct->run_conn);
	json_decref(ct->run_id);
	proto_run_params_done(&ct->cfg);
	free(ct->name);
	free(ct->image_id);
	free(ct->hostname);
	free(ct->error);
	free(ct);
}

static void registry_unlink(struct container *ct)
{
	struct registry *reg = ct->reg;
	if (ct->prev)
		ct->prev->next = ct->next;
	else if (reg->list == ct)
		reg->list = ct->next;
	if (ct->next)
		ct->next->prev = ct->prev;
	ct->prev = ct->next = NULL;
	reg->count--;
}

static void registry_link(struct registry *reg, struct container *ct)
{
	ct->next = reg->list;
	if (reg->list)
		reg->list->prev = ct;
	reg->list = ct;
	reg->count++;
}

/* Deletes the container's files. Its process and cgroups must be gone already. */
static int container_delete_files(struct container *ct)
{
	_cleanup_free_ char *dir = container_dir(ct->reg, ct->id);
	if (!dir)
		return -ENOMEM;
	int r = rm_rf(dir);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "container %.12s: cannot remove %s: %m", ct->id, dir);
	return r;
}

/* Tells the client that ran the container and every container.wait caller how it exited. */
static void container_notify_exit(struct container *ct)
{
	if (ct->run_conn && ct->run_replied && !ct->start_failed)
		waiter_reply_exit(ct, ct->run_conn, NULL);
	conn_unref(TAKE_PTR(ct->run_conn));
	for (struct waiter **w = &ct->waiters; *w;) {
		struct waiter *done = *w;
		if (done->kind != WAIT_EXIT) {
			w = &done->next;
			continue;
		}
		*w = done->next;
		waiter_reply_exit(ct, done->conn, done->id);
		conn_unref(done->conn);
		json_decref(done->id);
		free(done);
	}
}

/* The container is gone for good: answer the remove requests, then forget it. */
static void container_destroy(struct container *ct)
{
	container_notify_exit(ct);
	if (!ct->files_deleted)
		container_delete_files(ct);
	registry_unlink(ct);
	for (struct waiter *w = ct->waiters; w; w = w->next)
		conn_send_result(w->conn, w->id, NULL, NULL, 0);
	log_debug("container %.12s removed", ct->id);
	container_free(ct);
}

/* Exit processing is complete (cgroups gone): report, then remove if asked to. */
static void container_settled(struct container *ct)
{
	ct->cleaned_up = true;
	if (ct->cfg.rm || ct->remove_pending) {
		container_destroy(ct);
		return;
	}
	container_save(ct);
	container_notify_exit(ct);
}

static void container_on_retry(evutil_socket_t fd, short what, void *arg)
{
	container_cleanup(arg);
}

static void container_on_cleaner_exit(evutil_socket_t fd, short what, void *arg)
{
	struct container *ct = arg;
	siginfo_t si = { 0 };
	if (waitid(P_PIDFD, (id_t)ct->cleaner_pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0)
		return; /* spurious wakeup */
	event_free(ct->ev_cleaner);
	ct->ev_cleaner = NULL;
	ct->cleaner_pidfd = safe_close(ct->cleaner_pidfd);
	bool ok = si.si_code == CLD_EXITED && si.si_status == 0;
	if (!ok)
		log_warning("container %.12s: its cgroups or files could not all be removed", ct->id);
	/* The cleaner removed the cgroups; only our handle is left. */
	cgroup_free(TAKE_PTR(ct->cg));
	ct->files_deleted = ok && ct->cleaner_files;
	container_settled(ct);
}

/* Removes the cgroups (and, for a container that goes away, its files) in a short-lived child.
 * The kernel may hold cgroup_mutex across an RCU grace period while another process migrates
 * into a v1 cgroup (10-20 ms after an idle spell), and an rmdir waits for that mutex: the loop
 * must not. */
static int container_spawn_cleaner(struct container *ct)
{
	bool files = ct->cfg.rm || ct->remove_pending;
	int pidfd = -1;
	struct clone_args args = { .flags = CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Our signal handlers belong to the daemon's loop; this process has none of its own. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)prctl(PR_SET_NAME, "containd-clean");
		int r = 0;
		for (int i = 0; ct->cg && (r = cgroup_destroy(ct->cg)) == -EBUSY && i < 100; i++)
			usleep(i < 10 ? 1000 : 20000);
		if (r == 0 && files)
			r = container_delete_files(ct);
		_exit(r == 0 ? 0 : 1);
	}
	ct->cleaner_pidfd = pidfd;
	ct->cleaner_files = files;
	ct->ev_cleaner = event_new(ct->reg->base, pidfd, EV_READ | EV_PERSIST, container_on_cleaner_exit, ct);
	if (!ct->ev_cleaner || event_add(ct->ev_cleaner, NULL) < 0) {
		/* Cannot watch it: wait for it here instead. */
		container_on_cleaner_exit(pidfd, EV_READ, ct);
	}
	return 0;
}

/* Removes the cgroups; exiting tasks can keep them busy for a moment, so retry with backoff. */
static void container_cleanup(struct container *ct)
{
	if (ct->cleanup_tries == 0 && container_spawn_cleaner(ct) == 0)
		return;
	int r = ct->cg ? cgroup_destroy(ct->cg) : 0;
	if (r == -EBUSY && ct->cleanup_tries < 40) {
		unsigned ms = 1u << (ct->cleanup_tries < 7 ? ct->cleanup_tries : 7);
		struct timeval tv = { .tv_sec = 0, .tv_usec = (suseconds_t)ms * 1000 };
		ct->cleanup_tries++;
		if (!ct->ev_retry)
			ct->ev_retry = evtimer_new(ct->reg->base, container_on_retry, ct);
		if (ct->ev_retry && evtimer_add(ct->ev_retry, &tv) == 0)
			return;
	}
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "container %.12s: cannot remove its cgroups: %m", ct->id);
	cgroup_free(TAKE_PTR(ct->cg));
	container_settled(ct);
}

static void reply_start_failed(struct container *ct, int exit_code, const char *msg)
{
	registry_schedule_refill(ct->reg);
	ct->start_failed = true;
	ct->run_replied = true;
	if (ct->run_conn)
		conn_send_error(ct->run_conn, ct->run_id, PROTO_E_START, proto_start_error_data(exit_code), "%s", msg);
}

static void reply_started(struct container *ct)
{
	registry_schedule_refill_in(ct->reg, 3000);
	ct->run_replied = true;
	if (!ct->run_conn)
		return;
	struct proto_run_result res = { .id = ct->id, .name = ct->name, .pid = ct->pid };
	int fd = -1;
	if (ct->pty_master >= 0) {
		/* The client gets its own copy; ours keeps the terminal alive if the client goes. */
		fd = fcntl(ct->pty_master, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			conn_send_error(ct->run_conn, ct->run_id, PROTO_E_INTERNAL, NULL,
					"cannot pass the terminal: %s", strerror(errno));
			return;
		}
	}
	conn_send_result(ct->run_conn, ct->run_id, proto_run_result_encode(&res), &fd, fd >= 0 ? 1 : 0);
}

/* Reads the child's reports until EOF. */
static void container_drain_sync(struct container *ct)
{
	for (;;) {
		struct spawn_report rep;
		int fd;
		int r = spawn_read_report(ct->sync_fd, &rep, &fd);
		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r == 1 && rep.type == SPAWN_REPORT_READY)
			continue;
		if (r == 1 && rep.type == SPAWN_REPORT_PTY) {
			safe_close(ct->pty_master);
			ct->pty_master = fd;
			continue;
		}
		if (r == 1 && rep.type == SPAWN_REPORT_ERROR) {
			free(ct->error);
			ct->error = strdup(rep.message);
			log_debug("container %.12s failed to start: %s", ct->id, rep.message);
			if (!ct->run_replied)
				reply_start_failed(ct, rep.exit_code, rep.message);
			continue;
		}
		if (r < 0)
			log_errno(LOG_LEVEL_WARNING, r, "container %.12s: bad report from the child: %m", ct->id);
		/* EOF: the command was exec'd (or the child died; the exit handler tells which). */
		event_free(ct->ev_sync);
		ct->ev_sync = NULL;
		ct->sync_fd = safe_close(ct->sync_fd);
		if (!ct->error && ct->state == STATE_CREATED) {
			ct->state = STATE_RUNNING;
			clock_gettime(CLOCK_REALTIME, &ct->started);
			reply_started(ct);
		}
		return;
	}
}

static void container_on_sync(evutil_socket_t fd, short what, void *arg)
{
	container_drain_sync(arg);
}

static void container_on_exit(evutil_socket_t fd, short what, void *arg)
{
	struct container *ct = arg;
	siginfo_t si = { 0 };

	/* Reports written just before the exit must be read before the exit is reported. */
	if (ct->sync_fd >= 0)
		container_drain_sync(ct);

	if (waitid(P_PIDFD, (id_t)ct->pidfd, &si, WEXITED | WNOHANG) < 0) {
		log_warning("container %.12s: waitid: %m", ct->id);
		return;
	}
	if (si.si_pid == 0)
		return; /* spurious wakeup */
	clock_gettime(CLOCK_REALTIME, &ct->finished);
	if (si.si_code == CLD_EXITED) {
		ct->exit_code = si.si_status;
		ct->signal = 0;
	} else {
		ct->signal = si.si_status;
		ct->exit_code = 128 + si.si_status;
	}
	if (ct->cg)
		ct->oom_killed = cgroup_oom_killed(ct->cg);
	if (ct->sync_fd >= 0) {
		event_free(ct->ev_sync);
		ct->ev_sync = NULL;
		ct->sync_fd = safe_close(ct->sync_fd);
	}
	if (!ct->run_replied) {
		/* Died during setup without a word: killed from outside, or the OOM killer. */
		ct->error = strdup(ct->oom_killed ? "the container ran out of memory while starting"
						  : "the container process died while starting");
		reply_start_failed(ct, 125, ct->error ? ct->error : "start failed");
	}
	ct->state = STATE_EXITED;
	event_free(ct->ev_pid);
	ct->ev_pid = NULL;
	ct->pidfd = safe_close(ct->pidfd);
	ct->pty_master = safe_close(ct->pty_master);
	log_debug("container %.12s exited with %d", ct->id, ct->exit_code);
	/* Answer first, clean up after (in another process). A container that is going away is
	 * invisible to lookups, names and listings meanwhile. */
	if (ct->cfg.rm || ct->remove_pending)
		ct->removing = true;
	container_notify_exit(ct);
	registry_schedule_refill(ct->reg);
	container_cleanup(ct);
}

static bool name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 128 || !isalnum((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

static bool hostname_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 64 || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

/* KEY=VALUE lists: later entries replace earlier ones with the same key. */
static int env_set(char ***env, size_t *n, const char *entry)
{
	size_t klen = (size_t)(strchr(entry, '=') - entry);
	char *dup = strdup(entry);
	if (!dup)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		if (strncmp((*env)[i], entry, klen + 1) == 0) {
			free((*env)[i]);
			(*env)[i] = dup;
			return 0;
		}
	char **nv = realloc(*env, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(dup);
		return -ENOMEM;
	}
	nv[(*n)++] = dup;
	nv[*n] = NULL;
	*env = nv;
	return 0;
}

static bool env_has(char **env, const char *key)
{
	size_t len = strlen(key);
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, key, len) == 0 && (*e)[len] == '=')
			return true;
	return false;
}

/* The container's environment as Docker builds it: image Env, then -e, plus HOSTNAME, HOME and
 * TERM when a tty is used. */
static int build_env(const struct container *ct, const struct image *image, char ***ret)
{
	char **env = NULL;
	size_t n = 0;
	int r = 0;
	char *hostname_entry = NULL;
	if (asprintf(&hostname_entry, "HOSTNAME=%s", ct->hostname) < 0)
		return -ENOMEM;
	r = env_set(&env, &n, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (r == 0)
		r = env_set(&env, &n, hostname_entry);
	free(hostname_entry);
	for (char **e = image->env; r == 0 && e && *e; e++)
		if (strchr(*e, '='))
			r = env_set(&env, &n, *e);
	for (char **e = ct->cfg.env; r == 0 && e && *e; e++)
		r = env_set(&env, &n, *e);
	if (r == 0 && ct->cfg.stdio == PROTO_STDIO_PTY && !env_has(env, "TERM"))
		r = env_set(&env, &n, "TERM=xterm");
	if (r == 0 && !env_has(env, "HOME"))
		r = env_set(&env, &n, "HOME=/root");
	if (r < 0) {
		strv_free(env);
		return r;
	}
	*ret = env;
	return 0;
}

static bool name_taken(struct registry *reg, const char *name)
{
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (!ct->removing && strcmp(ct->name, name) == 0)
			return true;
	return false;
}

static char **strv_copy(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **c = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; c && i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			strv_free(c);
			return NULL;
		}
	return c;
}

/* Kills a spare that will not be used and removes its cgroups. Blocking is fine: a spare never
 * ran container code, so it dies at once. */
static void spare_discard(struct spare *sp)
{
	if (!sp)
		return;
	if (sp->ev_pid)
		event_free(sp->ev_pid);
	if (sp->proc.pidfd >= 0) {
		siginfo_t si;
		syscall(SYS_pidfd_send_signal, sp->proc.pidfd, SIGKILL, NULL, 0);
		while (waitid(P_PIDFD, (id_t)sp->proc.pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
	}
	safe_close(sp->proc.pidfd);
	safe_close(sp->proc.sync_fd);
	if (sp->cg) {
		/* Its last task may still be leaving the cgroup for a moment. */
		for (int i = 0; i < 200 && cgroup_destroy(sp->cg) == -EBUSY; i++)
			usleep(500);
		cgroup_free(sp->cg);
	}
	if (sp->dirs) {
		_cleanup_free_ char *dir = spare_dir(sp->reg, sp->id);
		if (dir)
			rm_rf(dir);
	}
	free(sp);
}

static void spare_on_death(evutil_socket_t fd, short what, void *arg)
{
	struct spare *sp = arg;
	struct registry *reg = sp->reg;
	log_warning("the prepared container process %d died; a new one is made on the next run", (int)sp->proc.pid);
	if (reg->spare == sp)
		reg->spare = NULL;
	spare_discard(sp);
}

static int spare_new(struct registry *reg, struct spare **ret, char **reterr)
{
	struct spare *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return err_set(reterr, -ENOMEM, "out of memory");
	sp->reg = reg;
	sp->proc.pidfd = sp->proc.sync_fd = -1;
	int r = random_hex(sp->id, 32);
	if (r < 0) {
		free(sp);
		return err_set(reterr, r, "cannot generate an id: %m");
	}
	/* The container's directories are made now too: three mkdirs less on the run path. */
	_cleanup_free_ char *dir = spare_dir(reg, sp->id), *upper = NULL, *work = NULL;
	if (!dir || asprintf(&upper, "%s/upper", dir) < 0 || asprintf(&work, "%s/work", dir) < 0) {
		free(sp);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (mkdir(dir, 0700) < 0 || mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
		r = err_set(reterr, -errno, "cannot create the container's directories: %m");
		rm_rf(dir);
		free(sp);
		return r;
	}
	sp->dirs = true;
	if ((r = cgroup_create(reg->cgm, sp->id, NULL, &sp->cg, reterr)) < 0 ||
	    (r = spawn_prepare(sp->cg, &sp->proc, reterr)) < 0) {
		spare_discard(sp);
		return r;
	}
	*ret = sp;
	return 0;
}

/* Keeps one spare ready while idle, so a run only has to hand over its configuration. */
static void registry_on_refill(evutil_socket_t fd, short what, void *arg)
{
	struct registry *reg = arg;
	_cleanup_free_ char *err = NULL;
	if (reg->spare || reg->stopping)
		return;
	struct spare *sp;
	if (spare_new(reg, &sp, &err) < 0) {
		log_warning("cannot prepare a container process ahead of time: %s", err ? err : "unknown error");
		return;
	}
	sp->ev_pid = event_new(reg->base, sp->proc.pidfd, EV_READ, spare_on_death, sp);
	if (!sp->ev_pid || event_add(sp->ev_pid, NULL) < 0) {
		spare_discard(sp);
		return;
	}
	reg->spare = sp;
}

/* Prepares the next spare after delay_us. A run schedules it a little later than its reply, so
 * that a short command's exit is not kept waiting behind the clone (the exit reschedules it to
 * right after its report). */
static void registry_schedule_refill_in(struct registry *reg, long delay_us)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = delay_us };
	if (!reg->spare && !reg->stopping && reg->ev_refill)
		evtimer_add(reg->ev_refill, &tv);
}

static void registry_schedule_refill(struct registry *reg)
{
	registry_schedule_refill_in(reg, 0);
}

/* The spare for a new container: the idle one, or one made now. */
static struct spare *spare_take(struct registry *reg, char **reterr)
{
	struct spare *sp = reg->spare;
	if (sp) {
		reg->spare = NULL;
		event_free(sp->ev_pid);
		sp->ev_pid = NULL;
		return sp;
	}
	return spare_new(reg, &sp, reterr) < 0 ? NULL : sp;
}

/* A run that failed before using its spare gives it back (a clean one is as good as new). */
static void spare_return(struct registry *reg, struct spare *sp)
{
	if (!sp)
		return;
	if (!reg->spare && !reg->stopping) {
		sp->ev_pid = event_new(reg->base, sp->proc.pidfd, EV_READ, spare_on_death, sp);
		if (sp->ev_pid && event_add(sp->ev_pid, NULL) == 0) {
			reg->spare = sp;
			return;
		}
	}
	spare_discard(sp);
}

void container_run(struct registry *reg, struct proto_run_params *params, const struct image *image,
		   int stdio_fds[3], struct conn *c, json_t *req_id)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_strv_free_ char **env = NULL;
	_cleanup_strv_free_ char **lowerdirs = NULL;
	_cleanup_free_ char *dir = NULL, *upper = NULL, *work = NULL, *from = NULL;
	const char *code = PROTO_E_PARAMS;
	struct spare *sp = NULL;
	int r;

	struct container *ct = calloc(1, sizeof(*ct));
	if (!ct) {
		proto_run_params_done(params);
		conn_send_error(c, req_id, PROTO_E_INTERNAL, NULL, "out of memory");
		goto close_fds;
	}
	ct->reg = reg;
	ct->cfg = *params;
	memset(params, 0, sizeof(*params));
	ct->pidfd = ct->sync_fd = ct->pty_master = ct->cleaner_pidfd = -1;
	clock_gettime(CLOCK_REALTIME, &ct->created);

	if (reg->count >= REGISTRY_MAX_CONTAINERS) {
		code = PROTO_E_LIMIT;
		r = err_set(&err, -EUSERS, "too many containers (%d); remove some", REGISTRY_MAX_CONTAINERS);
		goto fail;
	}
	sp = spare_take(reg, &err);
	if (!sp) {
		code = PROTO_E_START;
		r = -EIO;
		goto fail;
	}
	memcpy(ct->id, sp->id, sizeof(ct->id));
	if (ct->cfg.name) {
		if (!name_valid(ct->cfg.name)) {
			r = err_set(&err, -EINVAL, "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				    ct->cfg.name);
			goto fail;
		}
		if (name_taken(reg, ct->cfg.name)) {
			code = PROTO_E_CONFLICT;
			r = err_set(&err, -EEXIST, "the container name \"%s\" is already in use", ct->cfg.name);
			goto fail;
		}
	}
	ct->name = strndup(ct->cfg.name ? ct->cfg.name : ct->id, ct->cfg.name ? strlen(ct->cfg.name) : 12);
	ct->hostname = ct->cfg.hostname ? strdup(ct->cfg.hostname) : strndup(ct->id, 12);
	ct->image_id = strdup(image->id);
	if (!ct->name || !ct->hostname || !ct->image_id) {
		code = PROTO_E_INTERNAL;
		r = err_set(&err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (!hostname_valid(ct->hostname)) {
		r = err_set(&err, -EINVAL, "invalid hostname \"%.80s\": at most 64 letters, digits, '-' and '.'",
			    ct->hostname);
		goto fail;
	}
	if (!ct->cfg.cmd) {
		ct->cfg.cmd = strv_copy(image->cmd);
		if (!ct->cfg.cmd || !ct->cfg.cmd[0]) {
			r = err_set(&err, -EINVAL, "no command specified and the image has no default command");
			goto fail;
		}
	}
	const char *workdir = ct->cfg.workdir ? ct->cfg.workdir : image->workdir ? image->workdir : "/";
	if (workdir[0] != '/') {
		r = err_set(&err, -EINVAL, "the working directory \"%s\" is not an absolute path", workdir);
		goto fail;
	}
	struct spawn_config sc = {
		.hostname = ct->hostname,
		.argv = ct->cfg.cmd,
		.workdir = workdir,
		.stdio = ct->cfg.stdio,
		.tty_rows = ct->cfg.tty_rows,
		.tty_cols = ct->cfg.tty_cols,
		.stdio_fds = { stdio_fds[0], stdio_fds[1], stdio_fds[2] },
	};
	if (ct->cfg.user) {
		r = parse_user(ct->cfg.user, &sc.uid, &sc.gid);
		if (r < 0) {
			err_set(&err, r, "invalid user \"%s\": expected UID[:GID] (numbers)", ct->cfg.user);
			goto fail;
		}
		sc.set_user = true;
	}
	struct cgroup_limits limits = { .memory = ct->cfg.memory, .pids = ct->cfg.pids_limit,
					.cpus_milli = ct->cfg.cpus_milli };
	if ((r = cgroup_limits_validate(reg->cgm, &limits, &err)) < 0)
		goto fail;
	if ((r = build_env(ct, image, &env)) < 0) {
		code = PROTO_E_INTERNAL;
		err_set(&err, r, "out of memory");
		goto fail;
	}
	sc.env = env;

	size_t nlayers = 0;
	while (image->layers && image->layers[nlayers])
		nlayers++;
	lowerdirs = calloc(nlayers + 1, sizeof(char *));
	if (!lowerdirs || nlayers == 0) {
		code = PROTO_E_INTERNAL;
		r = err_set(&err, nlayers ? -ENOMEM : -EINVAL, nlayers ? "out of memory" : "the image has no layers");
		goto fail;
	}
	for (size_t i = 0; i < nlayers; i++)
		if ((r = image_store_layer_path(reg->images, image->layers[nlayers - 1 - i], &lowerdirs[i])) < 0) {
			code = PROTO_E_INTERNAL;
			err_set(&err, r, "image layer %s is missing: %m", image->layers[nlayers - 1 - i]);
			goto fail;
		}

	/* From here on, failures must undo what was created: container_delete_files does. */
	code = PROTO_E_START;
	dir = container_dir(reg, ct->id);
	if (!dir || asprintf(&upper, "%s/upper", dir) < 0 || asprintf(&work, "%s/work", dir) < 0) {
		r = err_set(&err, -ENOMEM, "out of memory");
		goto fail;
	}
	sc.lowerdirs = lowerdirs;
	sc.upperdir = upper;
	sc.ovl_workdir = work;
	sc.rootfs = reg->mountpoint;

	/* The spare is used from here on: on failure it is discarded, not given back. */
	from = spare_dir(reg, sp->id);
	if (!from || rename(from, dir) < 0) {
		r = err_set(&err, from ? -errno : -ENOMEM, "cannot create the container's directories: %m");
		spare_discard(TAKE_PTR(sp));
		goto fail;
	}
	sp->dirs = false; /* now the container's */
	ct->cg = TAKE_PTR(sp->cg);
	struct spawn_result sr = sp->proc;
	sp->proc.pidfd = sp->proc.sync_fd = -1;
	spare_discard(TAKE_PTR(sp));
	ct->pidfd = sr.pidfd;
	ct->sync_fd = sr.sync_fd;
	if ((r = cgroup_set_limits(ct->cg, &limits, &err)) < 0 || (r = spawn_start(sr.sync_fd, &sc, &err)) < 0) {
		siginfo_t si;
		syscall(SYS_pidfd_send_signal, ct->pidfd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, (id_t)ct->pidfd, &si, WEXITED);
		cgroup_destroy(ct->cg);
		goto fail_files;
	}
	for (int i = 0; i < 3; i++)
		stdio_fds[i] = safe_close(stdio_fds[i]);
	ct->pid = sr.pid;
	ct->run_conn = conn_ref(c);
	ct->run_id = json_incref(req_id);
	ct->ev_pid = event_new(reg->base, ct->pidfd, EV_READ | EV_PERSIST, container_on_exit, ct);
	ct->ev_sync = event_new(reg->base, ct->sync_fd, EV_READ | EV_PERSIST, container_on_sync, ct);
	if (!ct->ev_pid || !ct->ev_sync || event_add(ct->ev_pid, NULL) < 0 || event_add(ct->ev_sync, NULL) < 0) {
		/* Cannot watch it, so it must not live: kill it and wait synchronously. */
		siginfo_t si;
		syscall(SYS_pidfd_send_signal, ct->pidfd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, (id_t)ct->pidfd, &si, WEXITED);
		cgroup_destroy(ct->cg);
		conn_unref(TAKE_PTR(ct->run_conn));
		r = err_set(&err, -ENOMEM, "cannot watch the container process");
		goto fail_files;
	}
	registry_link(reg, ct);
	container_save(ct);
	log_debug("container %s started as pid %d", ct->id, (int)ct->pid);
	return;

fail_files:
	container_delete_files(ct);
fail:
	spare_return(reg, sp);
	if (strcmp(code, PROTO_E_START) == 0)
		conn_send_error(c, req_id, code, proto_start_error_data(125), "%s", err ? err : "start failed");
	else
		conn_send_error(c, req_id, code, NULL, "%s", err ? err : "cannot create the container");
	container_free(ct);
close_fds:
	for (int i = 0; i < 3; i++)
		stdio_fds[i] = safe_close(stdio_fds[i]);
}

struct container *registry_find(struct registry *reg, const char *ref, char **reterr)
{
	struct container *found = NULL;
	size_t len = strlen(ref);
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (!ct->removing && (strcmp(ct->name, ref) == 0 || strcmp(ct->id, ref) == 0))
			return ct;
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (!ct->removing && len >= 1 && strncmp(ct->id, ref, len) == 0) {
			if (found) {
				err_set(reterr, -ENOTUNIQ, "\"%s\" matches more than one container", ref);
				return NULL;
			}
			found = ct;
		}
	if (!found)
		err_set(reterr, -ENOENT, "no such container: %s", ref);
	return found;
}

bool registry_image_in_use(struct registry *reg, const char *image_id)
{
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (strcmp(ct->image_id, image_id) == 0)
			return true;
	return false;
}

json_t *registry_list(struct registry *reg, bool all)
{
	json_t *a = json_array();
	for (struct container *ct = reg->list; a && ct; ct = ct->next)
		if (!ct->removing && (all || ct->state == STATE_RUNNING))
			json_array_append_new(a, container_info(ct));
	return a;
}

int container_kill(struct container *ct, int sig, char **reterr)
{
	if (ct->state == STATE_EXITED || ct->pidfd < 0)
		return err_set(reterr, -ESRCH, "container %s is not running", ct->name);
	if (syscall(SYS_pidfd_send_signal, ct->pidfd, sig, NULL, 0) < 0)
		return err_set(reterr, -errno, "cannot signal container %s: %m", ct->name);
	return 0;
}

static int add_waiter(struct container *ct, enum waiter_kind kind, struct conn *c, json_t *id)
{
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->kind = kind;
	w->conn = conn_ref(c);
	w->id = json_incref(id);
	w->next = ct->waiters;
	ct->waiters = w;
	return 0;
}

void container_remove(struct container *ct, bool force, struct conn *c, json_t *req_id)
{
	if (ct->cleaned_up) {
		container_destroy(ct);
		conn_send_result(c, req_id, NULL, NULL, 0);
		return;
	}
	if (ct->state != STATE_EXITED && !force) {
		conn_send_error(c, req_id, PROTO_E_CONFLICT, NULL,
				"container %s is running: stop it first or remove it with force", ct->name);
		return;
	}
	if (add_waiter(ct, WAIT_REMOVE, c, req_id) < 0) {
		conn_send_error(c, req_id, PROTO_E_INTERNAL, NULL, "out of memory");
		return;
	}
	ct->remove_pending = true;
	if (ct->state != STATE_EXITED) {
		if (ct->cg)
			cgroup_kill(ct->cg);
		if (ct->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, ct->pidfd, SIGKILL, NULL, 0);
	}
}

void container_wait(struct container *ct, struct conn *c, json_t *req_id)
{
	if (ct->state == STATE_EXITED) {
		waiter_reply_exit(ct, c, req_id);
		return;
	}
	if (add_waiter(ct, WAIT_EXIT, c, req_id) < 0)
		conn_send_error(c, req_id, PROTO_E_INTERNAL, NULL, "out of memory");
}

void registry_conn_closed(struct registry *reg, struct conn *c)
{
	for (struct container *ct = reg->list; ct; ct = ct->next) {
		if (ct->run_conn == c) {
			conn_unref(ct->run_conn);
			ct->run_conn = NULL;
		}
		for (struct waiter **w = &ct->waiters; *w;) {
			if ((*w)->conn == c) {
				struct waiter *dead = *w;
				*w = dead->next;
				conn_unref(dead->conn);
				json_decref(dead->id);
				free(dead);
			} else {
				w = &(*w)->next;
			}
		}
	}
}

/* Removes the cgroups a killed daemon left for container id (its processes died with it). */
static void registry_remove_leftover_cgroup(struct registry *reg, const char *id)
{
	struct container_cgroup *cg;
	_cleanup_free_ char *err = NULL;
	/* An empty cgroup of that name is taken over; a populated one is refused and left. */
	if (cgroup_create(reg->cgm, id, NULL, &cg, &err) < 0) {
		log_warning("cannot clean up the cgroups of container %.12s: %s", id, err ? err : "unknown error");
		return;
	}
	for (int i = 0; i < 100 && cgroup_destroy(cg) == -EBUSY; i++)
		usleep(1000);
	cgroup_free(cg);
}

/* Restores the containers a previous daemon saved. Any that were still running then are gone
 * now (they die with the daemon), so they come back as exited. */
static void registry_load(struct registry *reg)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/containers", reg->root) < 0)
		return;
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ".spare-", 7) == 0) {
			/* A prepared container a previous daemon did not use. */
			_cleanup_free_ char *leftover = NULL;
			if (asprintf(&leftover, "%s/%s", path, de->d_name) >= 0)
				rm_rf(leftover);
			if (strlen(de->d_name + 7) == 64)
				registry_remove_leftover_cgroup(reg, de->d_name + 7);
			continue;
		}
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = NULL, *text = NULL, *err = NULL;
		if (asprintf(&dir, "%s/%s", path, de->d_name) < 0)
			return;
		_cleanup_free_ char *cfg_path = NULL;
		if (asprintf(&cfg_path, "%s/" CONTAINER_CONFIG, dir) < 0)
			return;
		if (read_file(cfg_path, 1 << 20, &text, NULL) < 0) {
			/* A --rm container or a half-created one from a crash: nothing to keep. */
			if (strlen(de->d_name) == 64) {
				rm_rf(dir);
				registry_remove_leftover_cgroup(reg, de->d_name);
			}
			continue;
		}
		json_auto_t *doc = json_loads(text, 0, NULL);
		struct proto_container_info info;
		struct container *ct = calloc(1, sizeof(*ct));
		if (!ct)
			return;
		ct->reg = reg;
		ct->pidfd = ct->sync_fd = ct->pty_master = ct->cleaner_pidfd = -1;
		if (!doc || proto_container_info_decode(json_object_get(doc, "info"), &info, &err) < 0 ||
		    proto_run_params_decode(json_object_get(doc, "params"), &ct->cfg, &err) < 0 ||
		    strlen(info.id) != 64) {
			log_warning("ignoring container state %s: %s", cfg_path, err ? err : "unreadable");
			container_free(ct);
			continue;
		}
		memcpy(ct->id, info.id, 65);
		ct->name = strdup(info.name);
		ct->image_id = strdup(info.image_id ? info.image_id : "");
		ct->hostname = strdup(info.hostname ? info.hostname : "");
		ct->state = STATE_EXITED;
		ct->exit_code = info.exit_code;
		ct->signal = info.signal;
		ct->oom_killed = info.oom_killed;
		ct->cleaned_up = true;
		if (info.error)
			ct->error = strdup(info.error);
		struct tm tm;
		const char *stamps[] = { info.created_at, info.started_at, info.finished_at };
		struct timespec *dst[] = { &ct->created, &ct->started, &ct->finished };
		for (int i = 0; i < 3; i++)
			if (stamps[i] && strptime(stamps[i], "%Y-%m-%dT%H:%M:%S", &tm))
				dst[i]->tv_sec = timegm(&tm);
		if (strcmp(info.state, "exited") != 0) {
			registry_remove_leftover_cgroup(reg, ct->id);
			ct->exit_code = 255;
			if (!ct->finished.tv_sec)
				clock_gettime(CLOCK_REALTIME, &ct->finished);
			if (!ct->error)
				ct->error = strdup("containd stopped while the container was running");
		}
		if (!ct->name || !ct->image_id || !ct->hostname) {
			container_free(ct);
			continue;
		}
		registry_link(reg, ct);
		if (strcmp(info.state, "exited") != 0)
			container_save(ct);
	}
}

int registry_new(struct event_base *base, const char *root, const char *state, struct cgroup_manager *cgm,
		 struct image_store *images, struct registry **ret, char **reterr)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return err_set(reterr, -ENOMEM, "out of memory");
	reg->base = base;
	reg->cgm = cgm;
	reg->images = images;
	reg->root = strdup(root);
	reg->state = strdup(state);
	_cleanup_free_ char *a = NULL;
	if (!reg->root || !reg->state || asprintf(&a, "%s/containers", root) < 0 ||
	    asprintf(&reg->mountpoint, "%s/rootfs", state) < 0) {
		registry_free(reg);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	int r = mkdir_p(a, 0700);
	if (r == 0)
		r = mkdir_p(reg->mountpoint, 0700);
	if (r < 0) {
		err_set(reterr, r, "cannot create %s: %m", a);
		registry_free(reg);
		return r;
	}
	registry_load(reg);
	reg->ev_refill = evtimer_new(base, registry_on_refill, reg);
	registry_schedule_refill(reg);
	*ret = reg;
	return 0;
}

bool registry_shutdown(struct registry *reg)
{
	bool done = true;
	reg->stopping = true;
	spare_discard(TAKE_PTR(reg->spare));
	for (struct container *ct = reg->list; ct; ct = ct->next) {
		if (ct->cleaned_up)
			continue;
		done = false;
		if (ct->state != STATE_EXITED && ct->pidfd >= 0) {
			if (ct->cg)
				cgroup_kill(ct->cg);
			syscall(SYS_pidfd_send_signal, ct->pidfd, SIGKILL, NULL, 0);
		}
	}
	return done;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	reg->stopping = true;
	spare_discard(TAKE_PTR(reg->spare));
	if (reg->ev_refill)
		event_free(reg->ev_refill);
	while (reg->list) {
		struct container *ct = reg->list;
		registry_unlink(ct);
		container_free(ct);
	}
	free(reg->root);
	free(reg->state);
	free(reg->mountpoint);
	free(reg);
}

unsigned registry_count(struct registry *reg)
{
	return reg->count;
}
