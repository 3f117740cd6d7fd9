#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <errno.h>
#include <event2/event.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"
#include "daemon/offload.h"

struct offload {
	struct pidref proc;
	struct event *ev;
	offload_done_fn done;
	void *arg;
};

static void offload_free(struct offload *o)
{
	if (o->ev)
		event_free(o->ev);
	pidref_done(&o->proc);
	free(o);
}

static void on_exit_event(evutil_socket_t fd, short what, void *arg)
{
	struct offload *o = arg;
	siginfo_t si;
	int r = pidref_try_wait(&o->proc, &si);
	if (r == 0)
		return; /* spurious wakeup */
	int status = r < 0 ? r : si.si_code == CLD_EXITED ? -si.si_status : -EIO;
	o->done(status, o->arg);
	offload_free(o);
}

/* The child starts with copies of every fd the daemon holds. It keeps directories and files (the
 * cgroup hierarchies, the store) and closes every channel to someone else: a client's socket kept
 * open here would hide the daemon's close from that client, a copy of the listening socket or of
 * a container's pty master or setup channel would keep them alive past the daemon's own close,
 * and a copy of another container's namespace would make that one's teardown wait for this child. */
void offload_close_channels(int keep)
{
	_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
	if (!d) {
		/* Without /proc nothing tells them apart: keep stdio (and keep) only. */
		if (keep < 3) {
			(void)syscall(SYS_close_range, 3, ~0U, 0);
			return;
		}
		if (keep > 3)
			(void)syscall(SYS_close_range, 3, (unsigned)keep - 1, 0);
		(void)syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0);
		return;
	}
	int self = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		struct stat st;
		struct statfs sfs;
		if (fd < 3 || fd == self || fd == keep || fstat(fd, &st) < 0)
			continue;
		if (S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) ||
		    (fstatfs(fd, &sfs) == 0 && sfs.f_type == NSFS_MAGIC))
			close(fd);
	}
}

static void offload_child_setup(const char *name)
{
	signals_reset();
	/* It works for the daemon only: it dies with it. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)prctl(PR_SET_NAME, name);
	offload_close_channels(-1);
}

int offload_run(struct event_base *base, const char *name, offload_fn fn, void *arg, offload_done_fn done,
		struct offload **ret, int handoff_fd)
{
	struct offload *o = calloc(1, sizeof(*o));
	if (!o) {
		safe_close(handoff_fd);
		return -ENOMEM;
	}
	o->proc = PIDREF_NULL;
	o->done = done;
	o->arg = arg;
	/* Whoever closes the handed-off fd last does what its release does: the daemon's copy goes
	 * first, and the child waits for that (EOF on this pipe once the daemon closed its end)
	 * before it closes its own. */
	int order[2] = { -1, -1 };
	if (handoff_fd >= 0 && pipe2(order, O_CLOEXEC) < 0) {
		int r = -errno;
		free(o);
		safe_close(handoff_fd);
		return r;
	}
	pid_t pid = pidref_fork(0, &o->proc);
	if (pid < 0) {
		free(o);
		safe_close(handoff_fd);
		safe_close(order[0]);
		safe_close(order[1]);
		return pid;
	}
	if (pid == 0) {
		if (handoff_fd >= 0) {
			char c;
			safe_close(order[1]);
			while (read(order[0], &c, 1) < 0 && errno == EINTR)
				;
			safe_close(order[0]);
			safe_close(handoff_fd);
		}
		offload_child_setup(name);
		int r = fn(arg);
		/* The exit status carries -r (errno values fit in 8 bits). */
		_exit(r < 0 ? (-r & 0xff) : 0);
	}
	safe_close(handoff_fd);
	safe_close(order[1]); /* the child may close its copy now */
	safe_close(order[0]);
	o->ev = event_new(base, o->proc.pidfd, EV_READ | EV_PERSIST, on_exit_event, o);
	if (!o->ev || event_add(o->ev, NULL) < 0) {
		/* Cannot watch it: let it finish here rather than leave its work half done. */
		siginfo_t si;
		int r = pidref_wait(&o->proc, &si);
		offload_free(o);
		if (ret)
			*ret = NULL;
		done(r < 0 ? r : si.si_code == CLD_EXITED ? -si.si_status : -EIO, arg);
		return 0;
	}
	if (ret)
		*ret = o;
	return 0;
}


void offload_finish(struct offload *o)
{
	siginfo_t si;
	if (!o)
		return;
	(void)pidref_wait(&o->proc, &si);
	offload_free(o);
}
