/* containd-keeper: the one process that supervises every container while containd is away (see
 * keeper-proto.h). It is started by the first daemon on a state directory, outlives it, and
 * serves each daemon that comes after over <state>/keeper.sock. It clones each container's init,
 * so it is their parent: it reaps them, keeps each exit status until a daemon has recorded it, and
 * holds the fds of their output and terminals. It does nothing else, so that there is nothing in
 * it to go wrong while nobody is watching: no container output passes through it, no client ever
 * talks to it, and it keeps no state on disk. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "common/pidref.h"
#include "keeper/keeper-proto.h"
#include "runtime/process.h"

/* More than a daemon's containers (REGISTRY_MAX_CONTAINERS) plus its spares and exits not yet
 * recorded: the table cannot grow without bound even if a daemon never releases anything. */
#define KEEPER_MAX_CHILDREN 16384

struct child {
	struct pidref proc; /* pidfd -1 once it exited */
	bool exited;
	int32_t wait_code, wait_status;
	int64_t exit_time_ns;
	int fds[KEEPER_MAX_FDS];
	uint8_t tags[KEEPER_MAX_FDS];
	uint32_t nfds;
	char id[65];
};

struct keeper {
	int listen_fd, conn, sig_fd;
	bool hello;             /* the connected daemon said hello */
	bool kill_on_disconnect;
	bool quitting;
	struct child *children;
	size_t n, cap;
};

static size_t keeper_live(const struct keeper *k)
{
	size_t live = 0;
	for (size_t i = 0; i < k->n; i++)
		live += !k->children[i].exited;
	return live;
}

static struct child *keeper_find(struct keeper *k, pid_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->children[i].proc.pid == pid && k->children[i].proc.start_time == start_time)
			return &k->children[i];
	return NULL;
}

static void keeper_forget(struct keeper *k, struct child *c)
{
	keeper_close_fds(c->fds, c->nfds);
	pidref_done(&c->proc);
	*c = k->children[--k->n];
}

static void keeper_disconnect(struct keeper *k)
{
	k->conn = safe_close(k->conn);
	k->hello = false;
	if (!k->kill_on_disconnect)
		return;
	/* --live-restore=false: the containers die with their daemon, as they would without a keeper. */
	for (size_t i = 0; i < k->n; i++)
		if (!k->children[i].exited)
			(void)pidref_kill(&k->children[i].proc, SIGKILL);
}

static void keeper_reply(struct keeper *k, struct keeper_msg *m, const int *fds)
{
	if (k->conn < 0)
		return;
	int r = keeper_send(k->conn, m, fds);
	if (r < 0) {
		/* A daemon that does not read for seconds is as good as gone; the next one lists. */
		log_errno(LOG_LEVEL_WARNING, r, "cannot write to containd: %m; dropping the connection");
		keeper_disconnect(k);
	}
}

static void keeper_fail(struct keeper *k, int error, const char *text)
{
	struct keeper_msg m = { .op = KEEPER_FAILED, .error = error };
	snprintf(m.text, sizeof(m.text), "%s", text);
	keeper_reply(k, &m, NULL);
}

static void keeper_spawn(struct keeper *k, const struct keeper_msg *req, int *fds)
{
	bool has_cg = req->flags & KEEPER_F_CGROUP_FD, pid_join = req->flags & KEEPER_F_PID_JOIN;
	uint32_t fixed = 2 + (has_cg ? 1 : 0) + (pid_join ? 1 : 0);
	if (req->nfds < fixed) {
		keeper_fail(k, EINVAL, "a spawn needs the init's executable and channel");
		return;
	}
	if (k->n >= KEEPER_MAX_CHILDREN) {
		keeper_fail(k, EUSERS, "containd-keeper supervises too many processes");
		return;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		struct child *c = realloc(k->children, cap * sizeof(*c));
		if (!c) {
			keeper_fail(k, ENOMEM, "out of memory");
			return;
		}
		k->children = c;
		k->cap = cap;
	}
	struct rt_init_opts opts = {
		.exe_fd = fds[0],
		.cgroup_fd = has_cg ? fds[2] : -1,
		.join_fds = fds + fixed,
		.n_join_fds = req->nfds - fixed,
		.namespaces = req->namespaces,
		.pid_join = pid_join,
		.pid_join_fd = pid_join ? fds[fixed - 1] : -1,
		.prepare_dir = req->text[0] ? req->text : NULL,
	};
	struct pidref proc;
	char *err = NULL;
	int r = rt_init_clone(&opts, fds[1], &proc, &err);
	if (r < 0) {
		keeper_fail(k, -r, err ? err : strerror(-r));
		free(err);
		return;
	}
	struct child *c = &k->children[k->n++];
	*c = (struct child){ .proc = proc };
	struct keeper_msg m = { .op = KEEPER_SPAWNED, .pid = proc.pid, .start_time = proc.start_time, .nfds = 1 };
	keeper_reply(k, &m, &proc.pidfd);
}

static void keeper_hold(struct keeper *k, const struct keeper_msg *req, int *fds)
{
	struct child *c = keeper_find(k, req->pid, req->start_time);
	if (!c) {
		log_warning("containd asked to hold fds of process %d, which is not ours", (int)req->pid);
		return;
	}
	snprintf(c->id, sizeof(c->id), "%.64s", req->text);
	for (uint32_t i = 0; i < req->nfds; i++) {
		uint32_t j = 0;
		while (j < c->nfds && c->tags[j] != req->tags[i])
			j++;
		if (j == KEEPER_MAX_FDS || req->tags[i] == 0 || req->tags[i] >= KEEPER_TAG_MAX)
			continue; /* closed below */
		if (j < c->nfds)
			close(c->fds[j]);
		else
			c->nfds++;
		c->fds[j] = fds[i];
		c->tags[j] = req->tags[i];
		fds[i] = -1;
	}
}

static void keeper_list(struct keeper *k)
{
	for (size_t i = 0; i < k->n && k->conn >= 0; i++) {
		const struct child *c = &k->children[i];
		struct keeper_msg m = { .op = KEEPER_CHILD, .pid = c->proc.pid, .start_time = c->proc.start_time,
					.flags = c->exited ? KEEPER_F_EXITED : 0, .wait_code = c->wait_code,
					.wait_status = c->wait_status, .exit_time_ns = c->exit_time_ns, .nfds = c->nfds };
		memcpy(m.tags, c->tags, sizeof(m.tags));
		snprintf(m.text, sizeof(m.text), "%s", c->id);
		keeper_reply(k, &m, c->fds);
	}
	struct keeper_msg end = { .op = KEEPER_LIST_END };
	keeper_reply(k, &end, NULL);
}

static void keeper_on_message(struct keeper *k)
{
	struct keeper_msg m;
	int fds[KEEPER_MAX_FDS];
	int r = keeper_recv(k->conn, &m, fds, MSG_DONTWAIT);
	if (r == -EAGAIN)
		return;
	if (r <= 0) {
		if (r < 0)
			log_errno(LOG_LEVEL_WARNING, r, "bad message from containd: %m; dropping the connection");
		keeper_disconnect(k);
		return;
	}
	if (!k->hello && m.op != KEEPER_HELLO) {
		keeper_close_fds(fds, m.nfds);
		keeper_disconnect(k);
		return;
	}
	switch (m.op) {
	case KEEPER_HELLO:
		if (m.version != KEEPER_PROTO_VERSION) {
			keeper_fail(k, EPROTO, "containd and containd-keeper are of different releases");
			keeper_disconnect(k);
			break;
		}
		k->hello = true;
		k->kill_on_disconnect = m.flags & KEEPER_F_KILL_ON_DISCONNECT;
		struct keeper_msg hello = { .op = KEEPER_HELLO, .version = KEEPER_PROTO_VERSION, .pid = getpid() };
		keeper_reply(k, &hello, NULL);
		break;
	case KEEPER_SPAWN:
		keeper_spawn(k, &m, fds);
		break;
	case KEEPER_HOLD:
		keeper_hold(k, &m, fds);
		break;
	case KEEPER_RELEASE: {
		struct child *c = keeper_find(k, m.pid, m.start_time);
		if (c && c->exited)
			keeper_forget(k, c);
		break;
	}
	case KEEPER_LIST:
		keeper_list(k);
		break;
	case KEEPER_QUIT:
		k->quitting = true;
		break;
	default:
		log_warning("unknown request %u from containd", m.op);
	}
	keeper_close_fds(fds, m.nfds);
}

/* Reaps every child that exited and tells the daemon (or keeps it for the next one). */
static void keeper_reap(struct keeper *k)
{
	struct signalfd_siginfo ssi;
	while (read(k->sig_fd, &ssi, sizeof(ssi)) == sizeof(ssi))
		;
	for (;;) {
		siginfo_t si = { 0 };
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
			return;
		struct child *c = NULL;
		for (size_t i = 0; i < k->n && !c; i++)
			if (k->children[i].proc.pid == si.si_pid && !k->children[i].exited)
				c = &k->children[i];
		if (!c)
			continue;
		c->exited = true;
		c->wait_code = si.si_code;
		c->wait_status = si.si_status;
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		c->exit_time_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
		c->proc.pidfd = safe_close(c->proc.pidfd);
		struct keeper_msg m = { .op = KEEPER_EXITED, .pid = c->proc.pid, .start_time = c->proc.start_time,
					.wait_code = c->wait_code, .wait_status = c->wait_status,
					.exit_time_ns = c->exit_time_ns };
		if (k->hello)
			keeper_reply(k, &m, NULL);
	}
}

static void keeper_on_connect(struct keeper *k)
{
	_cleanup_close_ int fd = accept4(k->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* Only a process of our own user (root) may drive us, and one daemon at a time: a second
	 * would be a second daemon on the same state directory. */
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid() || k->conn >= 0 ||
	    k->quitting)
		return;
	k->conn = TAKE_FD(fd);
}

static int keeper_listen(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Relative to the state directory (our working directory): any length of --state fits. */
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = KEEPER_SOCKET };
	(void)unlink(KEEPER_SOCKET);
	mode_t old = umask(0077);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 8) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void keeper_setup_conn(int fd)
{
	/* Exits are small; a daemon that lets a megabyte of them pile up has stopped reading. */
	int size = 1 << 20;
	struct timeval tv = { .tv_sec = 5 };
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int main(int argc, char **argv)
{
	struct keeper k = { .listen_fd = -1, .conn = 3, .sig_fd = -1 };
	log_setup("containd-keeper", LOG_LEVEL_INFO, false);
	if (argc != 2 || argv[1][0] != '/' || fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
		log_error("usage: containd-keeper STATE-DIR, started by containd with its connection as fd 3");
		return EXIT_FAILURE;
	}
	(void)prctl(PR_SET_NAME, KEEPER_EXE_NAME);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (chdir(argv[1]) < 0 || sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (k.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 || (k.listen_fd = keeper_listen()) < 0) {
		log_error("containd-keeper cannot start in %s: %s", argv[1], strerror(errno));
		return EXIT_FAILURE;
	}
	keeper_setup_conn(k.conn);
	for (;;) {
		size_t live = keeper_live(&k);
		if ((k.quitting && live == 0) || (k.conn < 0 && (k.n == 0 || (k.kill_on_disconnect && live == 0))))
			break;
		struct pollfd p[3] = { { .fd = k.conn, .events = POLLIN },
				       { .fd = k.sig_fd, .events = POLLIN },
				       { .fd = k.conn >= 0 ? -1 : k.listen_fd, .events = POLLIN } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			break;
		}
		/* The old connection first: a daemon that died and was started again has hung up
		 * before its successor connects. */
		if (p[0].revents)
			keeper_on_message(&k);
		if (p[1].revents)
			keeper_reap(&k);
		if (p[2].revents) {
			keeper_on_connect(&k);
			if (k.conn >= 0)
				keeper_setup_conn(k.conn);
		}
	}
	/* Whoever comes next starts a keeper of its own. */
	(void)unlink(KEEPER_SOCKET);
	while (k.n > 0)
		keeper_forget(&k, &k.children[k.n - 1]);
	free(k.children);
	return EXIT_SUCCESS;
}
