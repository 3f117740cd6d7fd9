/* The cleaner: one long-lived helper process ("containd-cleaner", which ps shows cut to the
 * kernel's 15 characters: containd-cleane), forked once early while the daemon is still small,
 * that removes exited containers' cgroups and files. Forking the whole daemon at every exit
 * (daemon/offload.h) cost it a copy of its page tables and copy-on-write faults on its heap
 * afterwards; the cleaner forks itself instead, small and never growing. Jobs are plain data
 * over a private SOCK_SEQPACKET socketpair; the loop never blocks on it. If the cleaner dies, its
 * unfinished jobs and every later one run in offload children instead. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct cgroup_manager;
struct event_base;
struct registry;
struct cleaner;
struct cleaner_job;

/* Runs in the loop once the job is done: r is 0 or -errno. The job is freed after this returns.
 * Never called from within cleaner_submit(). */
typedef void (*cleaner_done_fn)(int r, void *arg);

/* After the cgroups: delete the container's record, then its directory. */
#define CLEANER_DELETE_FILES 0x1u

/* Forks the cleaner. It keeps reg (for reg->root: where container directories are) and cgm (to
 * open and remove cgroups) as they are now, in its own copy of the daemon's memory. */
int cleaner_new(struct event_base *base, const struct registry *reg, struct cgroup_manager *cgm,
		struct cleaner **ret, char **reterr);
/* Queues a job: remove the cgroups named cg_id (NULL: none), then, with CLEANER_DELETE_FILES, the
 * files of container ct_id. Both ids are 64 lowercase hex characters. handoff_fd (or -1) is taken
 * over: its last reference (a container's mount namespace) is released in the cleaner, before the
 * cgroups and files go. *ret holds the job until done runs. 0, or -EINVAL/-ENOMEM (handoff_fd
 * closed, done never called). */
int cleaner_submit(struct cleaner *c, const char *ct_id, const char *cg_id, unsigned flags, int handoff_fd,
		   cleaner_done_fn done, void *arg, struct cleaner_job **ret);
/* Waits for the job (blocking; for shutdown and container_free) and frees it without calling done. */
void cleaner_finish(struct cleaner_job *j);
/* The cleaner's pid, or 0 once it is gone (its jobs then run in offload children). */
pid_t cleaner_pid(const struct cleaner *c);
/* Finishes every job left (without calling done), closes the socket, on which the cleaner exits,
 * and reaps it. */
void cleaner_free(struct cleaner *c);
