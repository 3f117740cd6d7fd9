/* The cleaner (see cleaner.h): the daemon's side queues jobs and dispatches replies from the
 * loop; the cleaner's side (cleaner_main) runs each job in a short-lived grandchild.
 *
 * Why a grandchild per job rather than an event loop with retry timers in the cleaner: a job
 * blocks in places no timer can cut short (rmdir of a cgroup waits for the kernel's cgroup_mutex
 * across an RCU grace period; rm_rf of a big upper dir takes seconds; closing a mount namespace's
 * last fd unmounts its whole tree synchronously), so one slow job would hold up every other.
 * A fork of the cleaner is cheap: it was forked from the daemon before any container, spare or
 * image was loaded and allocates nothing per job (fixed slots, messages on the stack), so its
 * page tables stay small and the daemon pays no copy-on-write for it. In all: one process for the
 * daemon's lifetime, plus one short-lived grandchild per job.
 *
 * Security: the cleaner runs as root with the daemon's privileges. It takes jobs only from its
 * end of a socketpair made before the fork; no other process holds an end (both are CLOEXEC, the
 * daemon's children close every inherited socket), so every job comes from the daemon. A job is
 * data: ids, which the cleaner checks again (64 lowercase hex, nothing else) before it builds a
 * path, and flags. The paths are built from its own copy of --root (taken at the fork, never from
 * a job) as <root>/containers/<id>, and cgroup_open() takes the cgroup id only below the daemon's
 * own subtree (the manager's hierarchy fds, also from the fork): no "..", "/" or empty id gets
 * through, so no job can make it remove anything outside the daemon's root or cgroup subtree. The
 * fd a job may carry is only closed, never used. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"
#include "daemon/cleaner.h"
#include "daemon/container-record.h"
#include "daemon/offload.h"
#include "daemon/registry.h"
#include "runtime/cgroup.h"

#define CLEANER_ID_LEN 64
/* Jobs the cleaner holds at once; past that it stops reading and the daemon queues. */
#define CLEANER_SLOTS 32

enum cleaner_msg_type {
	CLEANER_MSG_JOB = 1,
	CLEANER_MSG_GO = 2, /* the daemon closed its copy of the job's fd: the job may run */
};

/* A job's fd comes with it (SCM_RIGHTS); the job waits for its GO. */
#define CLEANER_MSG_FD 0x100u

struct cleaner_msg {
	uint32_t type;
	uint32_t flags;
	uint64_t job;
	char ct_id[CLEANER_ID_LEN + 1];
	char cg_id[CLEANER_ID_LEN + 1];
};

struct cleaner_reply {
	uint64_t job;
	int32_t result;
	uint32_t reserved;
};

enum cleaner_job_state {
	JOB_QUEUED,    /* not sent yet */
	JOB_SENT,      /* sent with its fd; its GO is not */
	JOB_RUNNING,   /* with the cleaner */
	JOB_OFFLOADED, /* in an offload child (the cleaner is gone) */
	JOB_COMPLETED, /* result known, done not called yet */
};

struct cleaner_job {
	struct cleaner *c;
	struct cleaner_job *prev, *next;
	struct cleaner_msg msg;
	int fd;
	enum cleaner_job_state state;
	int result;
	struct offload *offload;
	cleaner_done_fn done;
	void *arg;
};

struct cleaner {
	struct event_base *base;
	const struct registry *reg;
	struct cgroup_manager *cgm;
	struct pidref proc;
	int sock;
	struct event *ev_read, *ev_write, *ev_proc, *ev_complete;
	struct cleaner_job *head, *tail; /* every job not yet handed to done, in submission order */
	uint64_t next_id;
	bool dead;
};

static bool cleaner_id_valid(const char *id)
{
	size_t n = strnlen(id, CLEANER_ID_LEN + 1);
	if (n != CLEANER_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

/* Checks a job as the cleaner reads it: the ids are the only input that reaches a path. */
static bool cleaner_msg_valid(const struct cleaner_msg *m)
{
	if ((m->flags & ~(CLEANER_DELETE_FILES | CLEANER_MSG_FD)) != 0)
		return false;
	if (m->cg_id[0] && !cleaner_id_valid(m->cg_id))
		return false;
	return !(m->flags & CLEANER_DELETE_FILES) || cleaner_id_valid(m->ct_id);
}

/* The work of one job, in a grandchild of the daemon (or an offload child): the cgroups, retrying
 * while exiting tasks still populate them, then the record and the directory. Each step is
 * idempotent, so a job cut short (its cleaner killed) can run again from the start. */
static int cleaner_job_run(const struct registry *reg, struct cgroup_manager *cgm, const struct cleaner_msg *m)
{
	int r = 0;
	if (m->cg_id[0]) {
		struct container_cgroup *cg = NULL;
		_cleanup_free_ char *err = NULL;
		r = cgroup_open(cgm, m->cg_id, &cg, &err);
		if (r == -ENOENT)
			r = 0; /* gone already */
		else if (r == 0) {
			for (int i = 0; (r = cgroup_destroy(cg)) == -EBUSY && i < 100; i++)
				usleep(i < 10 ? 1000 : 20000);
			cgroup_free(cg);
		}
	}
	if (r < 0 || !(m->flags & CLEANER_DELETE_FILES))
		return r;
	/* The record first: see container_delete_files(). */
	_cleanup_free_ char *dir = registry_container_dir(reg, m->ct_id);
	r = container_record_remove(reg, m->ct_id);
	int q = dir ? rm_rf(dir) : -ENOMEM;
	return r < 0 ? r : q;
}

/* ---- The cleaner's side. ---- */

struct cleaner_slot {
	bool used, started;
	struct cleaner_msg msg;
	int fd;
	struct pidref proc;
};

static void cleaner_reply_send(int sock, uint64_t job, int r)
{
	struct cleaner_reply rep = { .job = job, .result = r };
	/* Blocking: the daemon reads replies whenever its loop turns. An error means it is gone. */
	while (send(sock, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			_exit(0);
}

static void cleaner_slot_clear(struct cleaner_slot *s)
{
	s->fd = safe_close(s->fd);
	pidref_done(&s->proc);
	s->used = s->started = false;
}

/* Starts a slot's job in a grandchild; the cleaner goes on with the others. */
static void cleaner_slot_start(int sock, struct cleaner_slot *slots, struct cleaner_slot *s,
			       const struct registry *reg, struct cgroup_manager *cgm)
{
	pid_t cleaner = getpid();
	struct pidref proc = PIDREF_NULL;
	pid_t pid = pidref_fork(0, &proc);
	if (pid == 0) {
		/* It dies with the cleaner (which dies with the daemon). */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != cleaner)
			_exit(EIO);
		(void)prctl(PR_SET_NAME, "containd-clean");
		safe_close(sock);
		/* Other jobs' namespaces must not wait for this one. */
		for (int i = 0; i < CLEANER_SLOTS; i++)
			if (&slots[i] != s)
				safe_close(slots[i].fd);
		/* The last reference to the container's mount namespace: its mounts go now, before
		 * its upper dir is deleted. */
		s->fd = safe_close(s->fd);
		int r = cleaner_job_run(reg, cgm, &s->msg);
		_exit(r < 0 ? (-r & 0xff) : 0);
	}
	/* The grandchild holds the fd now (or nobody: see below). */
	s->fd = safe_close(s->fd);
	if (pid < 0) {
		/* Cannot fork: do it here rather than lose it; the other jobs wait meanwhile. */
		cleaner_reply_send(sock, s->msg.job, cleaner_job_run(reg, cgm, &s->msg));
		cleaner_slot_clear(s);
		return;
	}
	s->proc = proc;
	s->started = true;
}

/* Reads one message; false on EOF or an error (the daemon is gone) or a message that is not the
 * daemon's protocol. */
static bool cleaner_read(int sock, struct cleaner_slot *slots, const struct registry *reg,
			 struct cgroup_manager *cgm)
{
	/* One byte more than a message: a longer one shows as such, not cut to size. */
	union {
		struct cleaner_msg m;
		char buf[sizeof(struct cleaner_msg) + 1];
	} in;
	int fd = -1;
	size_t nfds = 0;
	bool truncated = false;
	ssize_t n = fdpass_recv(sock, &in, sizeof(in), &fd, 1, &nfds, &truncated, 0);
	if (n < 0)
		return n == -EAGAIN;
	if (n == 0)
		return false;
	if (nfds == 0)
		fd = -1;
	if ((size_t)n != sizeof(in.m) || truncated) {
		safe_close(fd);
		return false;
	}
	struct cleaner_msg m = in.m;
	if (m.type == CLEANER_MSG_GO) {
		safe_close(fd);
		for (int i = 0; i < CLEANER_SLOTS; i++)
			if (slots[i].used && !slots[i].started && slots[i].msg.job == m.job) {
				cleaner_slot_start(sock, slots, &slots[i], reg, cgm);
				break;
			}
		return true;
	}
	/* Whatever does not check out is answered -EINVAL and never acted on. */
	m.ct_id[CLEANER_ID_LEN] = m.cg_id[CLEANER_ID_LEN] = '\0';
	bool want_fd = m.flags & CLEANER_MSG_FD;
	if (m.type != CLEANER_MSG_JOB || !cleaner_msg_valid(&m) || want_fd != (fd >= 0)) {
		safe_close(fd);
		cleaner_reply_send(sock, m.job, -EINVAL);
		return true;
	}
	struct cleaner_slot *s = NULL;
	for (int i = 0; i < CLEANER_SLOTS && !s; i++)
		if (!slots[i].used)
			s = &slots[i];
	if (!s) { /* the daemon sent past what we read: cannot happen, we stop reading when full */
		safe_close(fd);
		cleaner_reply_send(sock, m.job, -EBUSY);
		return true;
	}
	*s = (struct cleaner_slot){ .used = true, .msg = m, .fd = fd, .proc = PIDREF_NULL };
	if (!want_fd)
		cleaner_slot_start(sock, slots, s, reg, cgm);
	return true;
}

/* The cleaner's loop: jobs in, a grandchild per job, its result out when it exits. Returns once
 * the daemon closed its end and every started job is done. */
static _Noreturn void cleaner_main(int sock, const struct registry *reg, struct cgroup_manager *cgm)
{
	struct cleaner_slot slots[CLEANER_SLOTS];
	bool open = true;
	for (int i = 0; i < CLEANER_SLOTS; i++)
		slots[i] = (struct cleaner_slot){ .fd = -1, .proc = PIDREF_NULL };
	for (;;) {
		struct pollfd pfd[CLEANER_SLOTS + 1];
		int idx[CLEANER_SLOTS + 1];
		nfds_t n = 0;
		bool room = false;
		for (int i = 0; i < CLEANER_SLOTS; i++) {
			room |= !slots[i].used;
			if (slots[i].started) {
				pfd[n] = (struct pollfd){ .fd = slots[i].proc.pidfd, .events = POLLIN };
				idx[n++] = i;
			}
		}
		if (!open && n == 0)
			_exit(0);
		if (open) {
			pfd[n] = (struct pollfd){ .fd = sock, .events = room ? POLLIN : 0 };
			idx[n++] = -1;
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(EIO);
		}
		for (nfds_t k = 0; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			if (idx[k] < 0) {
				/* EOF (after the last message) or an error: the daemon closed its end. */
				if (pfd[k].revents & POLLIN)
					open = cleaner_read(sock, slots, reg, cgm);
				else if (pfd[k].revents & (POLLHUP | POLLERR | POLLNVAL))
					open = false;
				continue;
			}
			struct cleaner_slot *s = &slots[idx[k]];
			siginfo_t si;
			int r = pidref_try_wait(&s->proc, &si);
			if (r == 0)
				continue;
			cleaner_reply_send(sock, s->msg.job, r < 0 ? r : si.si_code == CLD_EXITED ? -si.si_status : -EIO);
			cleaner_slot_clear(s);
		}
		if (!open) /* jobs still waiting for their GO never get it */
			for (int i = 0; i < CLEANER_SLOTS; i++)
				if (slots[i].used && !slots[i].started)
					cleaner_slot_clear(&slots[i]);
	}
}

/* ---- The daemon's side. ---- */

static void cleaner_unlink(struct cleaner_job *j)
{
	struct cleaner *c = j->c;
	if (j->prev)
		j->prev->next = j->next;
	else
		c->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		c->tail = j->prev;
	j->prev = j->next = NULL;
}

static void cleaner_job_free(struct cleaner_job *j)
{
	cleaner_unlink(j);
	safe_close(j->fd);
	free(j);
}

/* Calls done for every job whose result is known. A done may submit or finish jobs: the list is
 * walked again from the start after each. */
static void cleaner_dispatch(struct cleaner *c)
{
	for (;;) {
		struct cleaner_job *j = c->head;
		while (j && j->state != JOB_COMPLETED)
			j = j->next;
		if (!j)
			return;
		cleaner_done_fn done = j->done;
		void *arg = j->arg;
		int r = j->result;
		cleaner_job_free(j);
		done(r, arg);
	}
}

static void on_complete(evutil_socket_t fd, short what, void *arg)
{
	cleaner_dispatch(arg);
}

static void cleaner_complete_later(struct cleaner_job *j, int r)
{
	j->state = JOB_COMPLETED;
	j->result = r;
	event_active(j->c->ev_complete, EV_TIMEOUT, 0);
}

static int job_offload_run(void *arg)
{
	struct cleaner_job *j = arg;
	return cleaner_job_run(j->c->reg, j->c->cgm, &j->msg);
}

static void job_offload_done(int r, void *arg)
{
	struct cleaner_job *j = arg;
	j->offload = NULL;
	cleaner_complete_later(j, r);
}

/* Without a cleaner: the job runs in an offload child, which takes over its fd if it still has
 * it. done is called from the loop later, whatever happens here. */
static void cleaner_job_offload(struct cleaner_job *j)
{
	struct cleaner *c = j->c;
	j->state = JOB_OFFLOADED;
	if (offload_run(c->base, "containd-clean", job_offload_run, j, job_offload_done, &j->offload,
			TAKE_FD(j->fd)) < 0)
		cleaner_complete_later(j, cleaner_job_run(c->reg, c->cgm, &j->msg));
}

/* The cleaner died (or broke the protocol): it is killed and reaped, and every job it had not
 * answered runs again in an offload child; each step of a job is idempotent. A job whose fd was
 * already sent lost it with the cleaner (its namespace went when the cleaner's copy or the
 * socket closed), so its cgroups and files may go in the fallback before the mounts did; they
 * are deleted all the same. Later jobs go to offload children for the rest of the daemon's life:
 * a new cleaner forked now would copy the daemon as it is now, which is what it is there to
 * avoid. */
static void cleaner_lost(struct cleaner *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	if (c->ev_read)
		event_free(TAKE_PTR(c->ev_read));
	if (c->ev_write)
		event_free(TAKE_PTR(c->ev_write));
	if (c->ev_proc)
		event_free(TAKE_PTR(c->ev_proc));
	c->sock = safe_close(c->sock);
	/* SIGKILL and reap: it runs nothing that could hold it up (its jobs are in grandchildren,
	 * which die with it). */
	if (pidref_is_set(&c->proc))
		(void)pidref_kill_and_wait(&c->proc);
	unsigned n = 0;
	for (struct cleaner_job *j = c->head; j; j = j->next)
		if (j->state == JOB_QUEUED || j->state == JOB_SENT || j->state == JOB_RUNNING) {
			cleaner_job_offload(j);
			n++;
		}
	log_warning("the cleaner is gone (%s): its %u unfinished jobs and every later one run in offload children", why,
		    n);
}

static int cleaner_send(struct cleaner *c, const struct cleaner_msg *m, int fd)
{
	ssize_t n = fdpass_send(c->sock, m, sizeof(*m), &fd, fd >= 0 ? 1 : 0, MSG_DONTWAIT);
	if (n == -EWOULDBLOCK || n == -ENOBUFS)
		return -EAGAIN;
	return n < 0 ? (int)n : 0;
}

/* Sends what is queued, in order: -EAGAIN when the socket is full (the rest waits for EV_WRITE).
 * Whoever closes a handed-off fd last does what its release does: the daemon closes its copy right
 * after the send, and only then sends the GO the cleaner waits for before its grandchild closes
 * its own; so the teardown happens there, as offload_run orders it with its pipe. */
static int cleaner_flush(struct cleaner *c)
{
	for (struct cleaner_job *j = c->head; j; j = j->next) {
		int r;
		if (j->state == JOB_QUEUED) {
			if ((r = cleaner_send(c, &j->msg, j->fd)) < 0)
				return r;
			j->state = j->fd >= 0 ? JOB_SENT : JOB_RUNNING;
			j->fd = safe_close(j->fd);
		}
		if (j->state == JOB_SENT) {
			struct cleaner_msg go = { .type = CLEANER_MSG_GO, .job = j->msg.job };
			if ((r = cleaner_send(c, &go, -1)) < 0)
				return r;
			j->state = JOB_RUNNING;
		}
	}
	return 0;
}

static void cleaner_kick(struct cleaner *c)
{
	int r = cleaner_flush(c);
	if (r == -EAGAIN && event_add(c->ev_write, NULL) < 0)
		r = -ENOMEM;
	if (r < 0 && r != -EAGAIN)
		cleaner_lost(c, strerror(-r));
}

/* Reads every reply there is and marks its job completed; false when the cleaner is gone. */
static bool cleaner_read_replies(struct cleaner *c)
{
	for (;;) {
		struct cleaner_reply rep;
		ssize_t n = recv(c->sock, &rep, sizeof(rep), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n < 0) {
			cleaner_lost(c, strerror(errno));
			return false;
		}
		if (n != sizeof(rep)) {
			cleaner_lost(c, n == 0 ? "it exited" : "a bad reply");
			return false;
		}
		int r = rep.result <= 0 && rep.result > -4096 ? rep.result : -EIO;
		for (struct cleaner_job *j = c->head; j; j = j->next)
			if (j->msg.job == rep.job && j->state == JOB_RUNNING) {
				j->state = JOB_COMPLETED;
				j->result = r;
				break;
			}
	}
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct cleaner *c = arg;
	(void)cleaner_read_replies(c);
	cleaner_dispatch(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	cleaner_kick(arg);
}

static void on_proc(evutil_socket_t fd, short what, void *arg)
{
	struct cleaner *c = arg;
	/* Its last replies may still be in the socket: they count. */
	(void)cleaner_read_replies(c);
	cleaner_lost(c, "it exited");
	cleaner_dispatch(c);
}

int cleaner_new(struct event_base *base, const struct registry *reg, struct cgroup_manager *cgm,
		struct cleaner **ret, char **reterr)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(reterr, -errno, "cannot create the cleaner's socket: %m");
	_cleanup_close_ int ours = sv[0], theirs = sv[1];
	struct cleaner *c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(reterr, -ENOMEM, "out of memory");
	c->base = base;
	c->reg = reg;
	c->cgm = cgm;
	c->proc = PIDREF_NULL;
	c->sock = -1;
	c->next_id = 1;
	pid_t daemon = getpid();
	pid_t pid = pidref_fork(0, &c->proc);
	if (pid < 0) {
		free(c);
		return err_set(reterr, pid, "cannot start the cleaner: %m");
	}
	if (pid == 0) {
		signals_reset();
		/* It works for the daemon only: it dies with it. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != daemon)
			_exit(0);
		(void)prctl(PR_SET_NAME, "containd-cleaner");
		offload_close_channels(theirs);
		cleaner_main(theirs, reg, cgm);
	}
	c->sock = TAKE_FD(ours);
	int fl = fcntl(c->sock, F_GETFL);
	if (fl < 0 || fcntl(c->sock, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    !(c->ev_read = event_new(base, c->sock, EV_READ | EV_PERSIST, on_read, c)) ||
	    !(c->ev_write = event_new(base, c->sock, EV_WRITE, on_write, c)) ||
	    !(c->ev_proc = event_new(base, c->proc.pidfd, EV_READ, on_proc, c)) ||
	    !(c->ev_complete = event_new(base, -1, 0, on_complete, c)) || event_add(c->ev_read, NULL) < 0 ||
	    event_add(c->ev_proc, NULL) < 0) {
		cleaner_free(c);
		return err_set(reterr, -ENOMEM, "cannot watch the cleaner");
	}
	log_debug("cleaner started (pid %d)", (int)pid);
	*ret = c;
	return 0;
}

int cleaner_submit(struct cleaner *c, const char *ct_id, const char *cg_id, unsigned flags, int handoff_fd,
		   cleaner_done_fn done, void *arg, struct cleaner_job **ret)
{
	_cleanup_close_ int fd = handoff_fd;
	if ((flags & ~CLEANER_DELETE_FILES) || (cg_id && !cleaner_id_valid(cg_id)) ||
	    ((flags & CLEANER_DELETE_FILES) && (!ct_id || !cleaner_id_valid(ct_id))))
		return -EINVAL;
	struct cleaner_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->c = c;
	j->done = done;
	j->arg = arg;
	j->msg = (struct cleaner_msg){ .type = CLEANER_MSG_JOB, .flags = flags, .job = c->next_id++ };
	if (ct_id)
		memcpy(j->msg.ct_id, ct_id, strnlen(ct_id, CLEANER_ID_LEN));
	if (cg_id)
		memcpy(j->msg.cg_id, cg_id, CLEANER_ID_LEN);
	j->fd = TAKE_FD(fd);
	if (j->fd >= 0)
		j->msg.flags |= CLEANER_MSG_FD;
	j->state = JOB_QUEUED;
	j->prev = c->tail;
	if (c->tail)
		c->tail->next = j;
	else
		c->head = j;
	c->tail = j;
	if (c->dead)
		cleaner_job_offload(j);
	else
		cleaner_kick(c);
	if (ret)
		*ret = j;
	return 0;
}

void cleaner_finish(struct cleaner_job *j)
{
	if (!j)
		return;
	struct cleaner *c = j->c;
	while (j->state != JOB_COMPLETED) {
		if (j->state == JOB_OFFLOADED) {
			offload_finish(TAKE_PTR(j->offload));
			break;
		}
		/* With the cleaner: the others' replies read meanwhile are dispatched by the loop. */
		int r = cleaner_flush(c);
		if (r < 0 && r != -EAGAIN) {
			cleaner_lost(c, strerror(-r));
			continue;
		}
		struct pollfd pfd = { .fd = c->sock, .events = POLLIN | (r == -EAGAIN ? POLLOUT : 0) };
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			cleaner_lost(c, strerror(errno));
			continue;
		}
		if (cleaner_read_replies(c))
			event_active(c->ev_complete, EV_TIMEOUT, 0);
	}
	cleaner_job_free(j);
}

pid_t cleaner_pid(const struct cleaner *c)
{
	return c && !c->dead ? c->proc.pid : 0;
}

void cleaner_free(struct cleaner *c)
{
	if (!c)
		return;
	while (c->head)
		cleaner_finish(c->head);
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_write)
		event_free(c->ev_write);
	if (c->ev_proc)
		event_free(c->ev_proc);
	if (c->ev_complete)
		event_free(c->ev_complete);
	/* Its end sees EOF; nothing is left running in it: it exits at once. */
	safe_close(c->sock);
	if (pidref_is_set(&c->proc)) {
		siginfo_t si;
		(void)pidref_wait(&c->proc, &si);
		pidref_done(&c->proc);
	}
	free(c);
}
