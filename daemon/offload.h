/* Work the event loop must not wait for (removing cgroups, whose rmdir can wait for the kernel's
 * cgroup_mutex across an RCU grace period; deleting a container's files, which can take seconds for
 * a big upper dir) runs in a short-lived child process. Its exit is an event like any other. */
#pragma once

#include <stdbool.h>

struct event_base;
struct offload;

/* Runs in the child, on a copy of the daemon's memory: returns 0 or -errno. */
typedef int (*offload_fn)(void *arg);
/* Runs in the loop once the child is gone: r is what fn returned (-EIO if it crashed). The
 * offload is freed after this returns. */
typedef void (*offload_done_fn)(int r, void *arg);

/* *ret (when not NULL) holds the offload until done runs. handoff_fd (or -1) is taken over: the
 * child closes it first, the daemon right after the clone, so that whatever dies with its last
 * reference (a container's mount namespace and all its mounts) dies in the child. */
int offload_run(struct event_base *base, const char *name, offload_fn fn, void *arg, offload_done_fn done,
		struct offload **ret, int handoff_fd);
/* Waits for the child (blocking; for shutdown only) and frees it without calling done. */
void offload_finish(struct offload *o);
/* In a child forked from the daemon: closes every inherited channel to someone else (sockets,
 * pipes, terminals, namespace fds) but keep (or -1), and keeps directories and files. */
void offload_close_channels(int keep);
