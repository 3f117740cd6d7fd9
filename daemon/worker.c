/* A worker process forked from the daemon with clone3, reporting back through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/worker.h"

/* The pipe and clone3 every daemon worker starts with; what it reads and watches is its owner's. */
int worker_spawn(const char *what, worker_run_fn run, void *arg, bool nonblock, struct pidref *ret_proc, int *ret_fd,
		 char **reterr)
{
	_cleanup_close_ int rd = -1, wr = -1;
	pid_t parent = getpid(), pid;
	int pipefd[2], r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(reterr, -errno, "pipe: %m");
	rd = pipefd[0];
	wr = pipefd[1];
	pid = pidref_fork(0, ret_proc);
	if (pid < 0)
		return err_set(reterr, pid, "starting the %s worker: %m", what);
	if (pid == 0)
		run(arg, wr, parent);
	wr = safe_close(wr);
	if (nonblock && (r = fd_nonblock(rd, true)) < 0)
		return err_set(reterr, r, "pipe: %m");
	*ret_fd = TAKE_FD(rd);
	return 0;
}
