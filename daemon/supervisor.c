#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/supervisor.h"
#include "runtime/cgroup.h"

/* How long a request to the keeper may take: it answers at once unless it is wedged. */
#define SUPERVISOR_TIMEOUT_S 5

struct watch {
	pid_t pid;
	uint64_t start_time;
	supervisor_exit_fn fn;
	void *arg;
};

/* A waitid() result as the keeper saw it. */
static siginfo_t si_make(int code, int status, pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGCHLD;
	si.si_code = code;
	si.si_pid = pid;
	si.si_status = status;
	return si;
}

struct supervisor {
	struct event_base *base;
	char *state;
	bool live_restore;
	int conn;
	pid_t keeper_pid;
	bool quit; /* told to exit: supervisor_free waits until it did */
	struct event *ev_conn;
	struct event *ev_pending; /* dispatches exits that came during a request */
	struct watch *watches;
	size_t n_watches, cap_watches;
	struct keeper_msg *pending; /* KEEPER_EXITED messages not dispatched yet */
	size_t n_pending, head_pending, cap_pending;
};

static struct watch *watch_find(struct supervisor *s, pid_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < s->n_watches; i++)
		if (s->watches[i].pid == pid && s->watches[i].start_time == start_time)
			return &s->watches[i];
	return NULL;
}

/* Sends a release for an exit nobody watches: a spare of an earlier daemon, say. */
static void supervisor_release_raw(struct supervisor *s, pid_t pid, uint64_t start_time)
{
	struct keeper_msg m = { .op = KEEPER_RELEASE, .pid = pid, .start_time = start_time };
	if (s->conn >= 0)
		(void)keeper_send(s->conn, &m, NULL);
}

static void supervisor_dispatch_exit(struct supervisor *s, const struct keeper_msg *m)
{
	struct watch *w = watch_find(s, m->pid, m->start_time);
	if (!w) {
		log_debug("process %d exited unwatched", (int)m->pid);
		supervisor_release_raw(s, m->pid, m->start_time);
		return;
	}
	supervisor_exit_fn fn = w->fn;
	void *arg = w->arg;
	*w = s->watches[--s->n_watches];
	siginfo_t si = si_make(m->wait_code, m->wait_status, m->pid);
	fn(arg, &si);
}

static int supervisor_queue(struct supervisor *s, const struct keeper_msg *m)
{
	if (s->n_pending == s->cap_pending) {
		size_t cap = s->cap_pending ? s->cap_pending * 2 : 16;
		struct keeper_msg *p = realloc(s->pending, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->pending = p;
		s->cap_pending = cap;
	}
	s->pending[s->n_pending++] = *m;
	if (s->ev_pending)
		event_active(s->ev_pending, EV_TIMEOUT, 0);
	return 0;
}

static void supervisor_on_pending(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *s = arg;
	/* A callback may queue more (a restart spawns): they are dispatched in this same pass. */
	while (s->head_pending < s->n_pending) {
		struct keeper_msg m = s->pending[s->head_pending++];
		supervisor_dispatch_exit(s, &m);
	}
	s->head_pending = s->n_pending = 0;
}

static int supervisor_connect(struct supervisor *s, char **reterr);

/* The keeper is gone, and its children with it (they die with their parent): each watched
 * process is reported killed, and a new keeper serves what comes next. */
static void supervisor_lost(struct supervisor *s)
{
	log_error("containd-keeper (pid %d) went away; its containers died with it", (int)s->keeper_pid);
	if (s->ev_conn)
		event_free(TAKE_PTR(s->ev_conn));
	s->conn = safe_close(s->conn);
	while (s->n_watches > 0) {
		struct watch w = s->watches[--s->n_watches];
		siginfo_t si = si_make(CLD_KILLED, SIGKILL, w.pid);
		w.fn(w.arg, &si);
	}
	_cleanup_free_ char *err = NULL;
	if (supervisor_connect(s, &err) < 0)
		log_error("cannot start a new containd-keeper: %s", err ? err : "unknown error");
}

static void supervisor_on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *s = arg;
	for (int i = 0; i < 64; i++) {
		struct keeper_msg m;
		int fds[KEEPER_MAX_FDS];
		int r = keeper_recv(s->conn, &m, fds, MSG_DONTWAIT);
		if (r == -EAGAIN)
			return;
		if (r <= 0) {
			supervisor_lost(s);
			return;
		}
		keeper_close_fds(fds, m.nfds);
		if (m.op == KEEPER_EXITED)
			supervisor_dispatch_exit(s, &m);
		else
			log_warning("unexpected message %u from containd-keeper", m.op);
	}
}

/* Reads until the answer to a request comes (op want or also, or KEEPER_FAILED); exits that come
 * meanwhile are queued. The answer's fds go to fds. */
static int supervisor_answer(struct supervisor *s, struct keeper_msg *m, uint32_t want, uint32_t also, int *fds,
			     char **reterr)
{
	for (;;) {
		int r = keeper_recv(s->conn, m, fds, 0);
		if (r == 0)
			r = -ECONNRESET;
		if (r < 0)
			return err_set(reterr, r, "no answer from containd-keeper: %m");
		if (m->op == want || m->op == also)
			return 0;
		keeper_close_fds(fds, m->nfds);
		if (m->op == KEEPER_FAILED)
			return err_set(reterr, m->error > 0 ? -m->error : -EIO, "%s", m->text);
		if (m->op == KEEPER_EXITED && supervisor_queue(s, m) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
}

/* Sends a request and waits for its answer (see supervisor_answer). */
static int supervisor_call(struct supervisor *s, struct keeper_msg *m, const int *send_fds, uint32_t want,
			   int *fds, char **reterr)
{
	if (s->conn < 0)
		return err_set(reterr, -ENOTCONN, "containd-keeper is not running");
	int r = keeper_send(s->conn, m, send_fds);
	if (r < 0)
		return err_set(reterr, r, "cannot reach containd-keeper: %m");
	return supervisor_answer(s, m, want, want, fds, reterr);
}

/* Starts a keeper with one end of a socket pair as its connection. It is detached from us (a new
 * session, its parent gone), so it outlives this daemon, and it stays in our cgroup. */
static int supervisor_start_keeper(struct supervisor *s, int *ret_conn, char **reterr)
{
	char path[4096];
	int r = rt_helper_path(KEEPER_EXE_NAME, path, sizeof(path));
	if (r < 0)
		return err_set(reterr, r, "cannot locate " KEEPER_EXE_NAME ": %m");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(reterr, -errno, "socketpair: %m");
	_cleanup_close_ int ours = sv[0], theirs = sv[1];
	/* Its stderr is ours when that is a file, the journal or a terminal; a pipe it would hold
	 * open after we exit, keeping a reader (a shell's $(...)) waiting. */
	struct stat st;
	bool keep_stderr = fstat(STDERR_FILENO, &st) == 0 && !S_ISFIFO(st.st_mode);
	pid_t pid = fork();
	if (pid < 0)
		return err_set(reterr, -errno, "fork: %m");
	if (pid == 0) {
		signals_reset();
		if (setsid() < 0)
			_exit(1);
		pid_t k = fork();
		if (k != 0)
			_exit(k < 0);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || (!keep_stderr && dup2(null, 2) < 0) ||
		    dup2(theirs, 3) < 0 || syscall(SYS_close_range, 4, ~0U, 0) < 0)
			_exit(127);
		char *const argv[] = { KEEPER_EXE_NAME, s->state, NULL };
		execv(path, argv);
		_exit(127);
	}
	int status = 0, w;
	/* The intermediate child exits at once. */
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(reterr, -ECHILD, "cannot start %s", path);
	*ret_conn = TAKE_FD(ours);
	return 0;
}

/* The keeper of our state directory, if one runs: its socket, named through /proc so that a long
 * --state path fits in a sockaddr_un. */
static int supervisor_dial(struct supervisor *s, int *ret_conn)
{
	_cleanup_close_ int dir = open(s->state, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" KEEPER_SOCKET, dir);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	*ret_conn = TAKE_FD(fd);
	return 0;
}

static int supervisor_connect(struct supervisor *s, char **reterr)
{
	int conn = -1;
	int r = supervisor_dial(s, &conn);
	bool started = false;
	if (r == -ENOENT || r == -ECONNREFUSED) {
		if ((r = supervisor_start_keeper(s, &conn, reterr)) < 0)
			return r;
		started = true;
	} else if (r < 0) {
		return err_set(reterr, r, "cannot connect to containd-keeper in %s: %m", s->state);
	}
	s->conn = conn;
	struct timeval tv = { .tv_sec = SUPERVISOR_TIMEOUT_S };
	int size = 1 << 20;
	(void)setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(conn, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	struct keeper_msg m = { .op = KEEPER_HELLO,
				.version = KEEPER_PROTO_VERSION,
				.flags = s->live_restore ? 0 : KEEPER_F_KILL_ON_DISCONNECT };
	int fds[KEEPER_MAX_FDS];
	if ((r = supervisor_call(s, &m, NULL, KEEPER_HELLO, fds, reterr)) < 0) {
		s->conn = safe_close(s->conn);
		if (r == -EAGAIN)
			return err_set(reterr, r, "containd-keeper in %s does not answer: is another containd using it?",
				       s->state);
		return r;
	}
	keeper_close_fds(fds, m.nfds);
	s->keeper_pid = m.pid;
	s->ev_conn = event_new(s->base, s->conn, EV_READ | EV_PERSIST, supervisor_on_readable, s);
	if (!s->ev_conn || event_add(s->ev_conn, NULL) < 0) {
		s->conn = safe_close(s->conn);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	log_info("%s containd-keeper (pid %d)", started ? "started" : "reconnected to", (int)s->keeper_pid);
	return 0;
}

int supervisor_open(struct event_base *base, const char *state, bool live_restore, struct supervisor **ret,
		    char **reterr)
{
	struct supervisor *s = calloc(1, sizeof(*s));
	if (!s || !(s->state = strdup(state))) {
		free(s);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	s->base = base;
	s->live_restore = live_restore;
	s->conn = -1;
	s->ev_pending = event_new(base, -1, 0, supervisor_on_pending, s);
	int r = s->ev_pending ? supervisor_connect(s, reterr) : err_set(reterr, -ENOMEM, "out of memory");
	if (r < 0) {
		supervisor_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

pid_t supervisor_keeper_pid(const struct supervisor *s)
{
	return s->keeper_pid;
}

void supervisor_free(struct supervisor *s)
{
	if (!s)
		return;
	if (s->ev_conn)
		event_free(s->ev_conn);
	if (s->ev_pending)
		event_free(s->ev_pending);
	if (s->quit && s->conn >= 0) {
		/* The keeper exits right after its last child: wait for that (its end closing), so that
		 * the service manager finds nothing of ours left once the daemon has exited. */
		struct keeper_msg m;
		int fds[KEEPER_MAX_FDS];
		int r;
		while ((r = keeper_recv(s->conn, &m, fds, 0)) > 0)
			keeper_close_fds(fds, m.nfds);
	}
	safe_close(s->conn);
	free(s->watches);
	free(s->pending);
	free(s->state);
	free(s);
}

void supervisor_quit(struct supervisor *s)
{
	struct keeper_msg m = { .op = KEEPER_QUIT };
	if (s && s->conn >= 0 && !s->quit)
		s->quit = keeper_send(s->conn, &m, NULL) == 0;
}

int supervisor_spawn(struct supervisor *s, const struct rt_init_opts *opts, struct rt_init *ret, char **reterr)
{
	int send[KEEPER_MAX_FDS], fds[KEEPER_MAX_FDS];
	size_t n = 0, n_join = 0;
	struct keeper_msg m = { .op = KEEPER_SPAWN, .namespaces = opts->namespaces };
	if (opts->prepare_dir && strlen(opts->prepare_dir) >= sizeof(m.text))
		return err_set(reterr, -ENAMETOOLONG, "the state directory's path is too long");
	snprintf(m.text, sizeof(m.text), "%s", opts->prepare_dir ? opts->prepare_dir : "");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(reterr, -errno, "socketpair: %m");
	_cleanup_close_ int parent_fd = sv[0], child_fd = sv[1];
	rt_init_channel_size(parent_fd);
	send[n++] = opts->exe_fd;
	send[n++] = child_fd;
	int cgfd = opts->cg ? cgroup_clone_fd(opts->cg) : -1;
	if (cgfd >= 0) {
		send[n++] = cgfd;
		m.flags |= KEEPER_F_CGROUP_FD;
	}
	if (opts->pid_join) {
		send[n++] = opts->pid_join_fd;
		m.flags |= KEEPER_F_PID_JOIN;
	}
	int *join = send + n;
	if (opts->cg) {
		int r = cgroup_join_fds(opts->cg, join, KEEPER_MAX_FDS - n, &n_join, reterr);
		if (r < 0)
			return r;
	}
	m.nfds = (uint32_t)(n + n_join);
	int r = supervisor_call(s, &m, send, KEEPER_SPAWNED, fds, reterr);
	keeper_close_fds(join, (uint32_t)n_join);
	if (r < 0)
		return r;
	if (m.nfds != 1) {
		keeper_close_fds(fds, m.nfds);
		return err_set(reterr, -EBADMSG, "containd-keeper sent no process handle");
	}
	struct pidref proc = { .pid = m.pid, .pidfd = fds[0], .start_time = m.start_time };
	return rt_init_adopt(&proc, TAKE_FD(parent_fd), opts->namespaces & CLONE_NEWNS, ret);
}

int supervisor_watch(struct supervisor *s, const struct pidref *p, supervisor_exit_fn fn, void *arg)
{
	struct watch *w = watch_find(s, p->pid, p->start_time);
	if (!w) {
		if (s->n_watches == s->cap_watches) {
			size_t cap = s->cap_watches ? s->cap_watches * 2 : 64;
			struct watch *v = realloc(s->watches, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			s->watches = v;
			s->cap_watches = cap;
		}
		w = &s->watches[s->n_watches++];
	}
	*w = (struct watch){ .pid = p->pid, .start_time = p->start_time, .fn = fn, .arg = arg };
	return 0;
}

void supervisor_unwatch(struct supervisor *s, const struct pidref *p)
{
	struct watch *w = watch_find(s, p->pid, p->start_time);
	if (w)
		*w = s->watches[--s->n_watches];
}

void supervisor_release(struct supervisor *s, const struct pidref *p)
{
	supervisor_release_raw(s, p->pid, p->start_time);
}

int supervisor_hold(struct supervisor *s, const struct pidref *p, const char *id, const int *fds,
		    const uint8_t *tags, size_t n)
{
	if (n > KEEPER_MAX_FDS)
		return -E2BIG;
	struct keeper_msg m = { .op = KEEPER_HOLD, .pid = p->pid, .start_time = p->start_time, .nfds = (uint32_t)n };
	memcpy(m.tags, tags, n);
	snprintf(m.text, sizeof(m.text), "%s", id);
	return s->conn < 0 ? -ENOTCONN : keeper_send(s->conn, &m, fds);
}

void supervisor_child_done(struct supervisor_child *c)
{
	keeper_close_fds(c->fds, (uint32_t)c->nfds);
	c->nfds = 0;
}

int supervisor_list(struct supervisor *s, struct supervisor_child **ret, size_t *ret_n, char **reterr)
{
	struct supervisor_child *list = NULL;
	size_t n = 0, cap = 0;
	struct keeper_msg m = { .op = KEEPER_LIST };
	int fds[KEEPER_MAX_FDS];
	int r = s->conn < 0 ? err_set(reterr, -ENOTCONN, "containd-keeper is not running") : keeper_send(s->conn, &m, NULL);
	if (r < 0 && s->conn >= 0)
		err_set(reterr, r, "cannot reach containd-keeper: %m");
	while (r == 0 && (r = supervisor_answer(s, &m, KEEPER_CHILD, KEEPER_LIST_END, fds, reterr)) == 0 &&
	       m.op == KEEPER_CHILD) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct supervisor_child *l = reallocarray(list, cap, sizeof(*l));
			if (!l) {
				keeper_close_fds(fds, m.nfds);
				r = err_set(reterr, -ENOMEM, "out of memory");
				break;
			}
			list = l;
		}
		struct supervisor_child *c = &list[n++];
		*c = (struct supervisor_child){ .pid = m.pid, .start_time = m.start_time,
						.exited = m.flags & KEEPER_F_EXITED, .nfds = m.nfds };
		c->si = si_make(m.wait_code, m.wait_status, m.pid);
		c->exited_at = (struct timespec){ .tv_sec = m.exit_time_ns / 1000000000, .tv_nsec = m.exit_time_ns % 1000000000 };
		memcpy(c->fds, fds, m.nfds * sizeof(int));
		memcpy(c->tags, m.tags, sizeof(c->tags));
		snprintf(c->id, sizeof(c->id), "%.64s", m.text);
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			supervisor_child_done(&list[i]);
		free(list);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}
