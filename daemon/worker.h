/* A worker process forked from the daemon with clone3, reporting back through a pipe. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/pidref.h"

/* What a worker runs in the child: it writes its report to report_fd and never returns. */
typedef void (*worker_run_fn)(void *arg, int report_fd, pid_t parent);

/* Forks a worker with clone3 (a pidfd, SIGCHLD at exit) running run(arg, write end, parent);
 * returns it in *ret_proc and the pipe's read end in *ret_fd (non-blocking when nonblock), or
 * -errno with "starting the <what> worker" in *reterr. */
int worker_spawn(const char *what, worker_run_fn run, void *arg, bool nonblock, struct pidref *ret_proc, int *ret_fd,
		 char **reterr);
