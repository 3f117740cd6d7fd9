/* A process handle: pid, pidfd and start time, like systemd's PidRef. Every process containd
 * signals, waits for or identifies goes through one, so a recycled pid can never be hit: signals
 * and waits go through the pidfd, and the start time tells a restarted daemon whether a pid it
 * recorded is still the same process. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pidref {
	pid_t pid;
	int pidfd;           /* -1 when not held */
	uint64_t start_time; /* clock ticks after boot (/proc/PID/stat field 22); 0 = unknown */
};

#define PIDREF_NULL ((struct pidref){ .pid = 0, .pidfd = -1, .start_time = 0 })

static inline bool pidref_is_set(const struct pidref *p)
{
	return p->pidfd >= 0;
}

/* Forks with clone3 (CLONE_PIDFD and flags, SIGCHLD at exit): 0 in the child, the child's pid in
 * the parent with *ret holding it (start time not read: the caller knows it is its own child), or
 * -errno. */
pid_t pidref_fork(uint64_t flags, struct pidref *ret);
/* Reads a process's start time from /proc. */
int pidref_read_start_time(pid_t pid, uint64_t *ret);
/* Opens a handle on a running process (pidfd_open) and records its start time. */
int pidref_open(pid_t pid, struct pidref *ret);
/* Whether the handle's process is still the one that had start_time (pid not recycled). */
bool pidref_is_same(const struct pidref *p, uint64_t start_time);

int pidref_kill(const struct pidref *p, int sig);
/* Opens /proc/PID/ns/TYPE of p ("net", "mnt", ...), O_CLOEXEC. The pidfd pins nothing for a
 * process that is not our child: /proc names whatever has that pid when it is read. So the open
 * is checked afterwards through the pidfd: signal 0 succeeds only while the process lives, and
 * while it lives its pid names no other process, so the namespace opened is p's. An fd, or
 * -errno (-ESRCH: p is unset or exited). */
int pidref_open_ns(const struct pidref *p, const char *type);
/* Non-blocking: 1 with *ret filled once the process exited (and is reaped), 0 while it runs. */
int pidref_try_wait(const struct pidref *p, siginfo_t *ret);
/* Blocking wait. For processes known to die at once only (SIGKILLed, never ran container code). */
int pidref_wait(const struct pidref *p, siginfo_t *ret);
/* SIGKILL and reap. Blocking: only for a process that runs nothing that could hold it up. */
int pidref_kill_and_wait(struct pidref *p);
/* Closes the pidfd. */
void pidref_done(struct pidref *p);
static inline void pidref_donep(struct pidref *p)
{
	pidref_done(p);
}
#define _cleanup_pidref_ __attribute__((cleanup(pidref_donep)))

/* An exit as a shell reports it: the code, or 128+N for signal N (and *ret_signal = N). */
int pidref_exit_code(const siginfo_t *si, int *ret_signal);
