/* The pool of prepared inits ("spares"): while idle the daemon keeps a few (two by default, more
 * under load) container inits already cloned into fresh namespaces and its own cgroup, with the
 * container's directories made, so a run only hands over a spec. A spare that is not used is
 * killed and its cgroups and directories removed, outside the event loop. */
#pragma once

#include <stdbool.h>

#include "runtime/process.h"
#include "runtime/userns.h"

struct event_base;
struct event;
struct cgroup_manager;
struct pool;
struct supervisor;
struct offload;

#define POOL_MAX_IDLE 8
#define POOL_DEFAULT_IDLE 2

/* A spare's network made ahead (daemon/container-network-spare.c): its veth pair on the default
 * bridge (eth0 inside, configured) and the address it holds in that network's IPAM. Transient:
 * never persisted, released when the spare is discarded or its container does not use it. */
struct spare_net {
	bool ready;
	uint32_t addr;		/* host byte order */
	char network_id[65];	/* the default network's, at the time it was made */
};

struct spare {
	struct pool *pool;
	char id[65];                 /* the container id it will serve */
	struct container_cgroup *cg; /* its cgroups, created with the default device rules */
	struct rt_init init;
	bool watched;                /* the keeper reports its death: while idle, or (discarding) at last */
	struct offload *cleaner;     /* discarding: removing its cgroups and directories */
	struct spare *next_discarding;
	bool dirs;                   /* its hidden directories exist */
	bool userns;                 /* in a user namespace of its own, mapped to slice */
	struct userns_slice slice;
	struct spare_net net;
};

/* Prepares a spare's network (0 and nothing done when there is nothing to prepare; 1 and nothing
 * done when it cannot be now, no address being free, and may be later; < 0: it failed, the spare
 * is discarded), and gives
 * back what a prepared one holds (its address; its links die with its network namespace). */
typedef int (*pool_net_prepare_fn)(void *userdata, struct spare *sp, char **reterr);
typedef void (*pool_net_release_fn)(void *userdata, struct spare *sp);

/* userns: the allocator of slices for spares in a user namespace (NULL: none can be made);
 * userns_default: idle spares are made in one (--userns-remap). */
/* target: how many spares to keep ready while idle (--prepared, at most POOL_MAX_IDLE), the
 * floor: the pool grows above it while runs find it empty, up to POOL_MAX_IDLE, and drops back
 * after a while without runs. 0: none, ever. */
int pool_new(struct event_base *base, const char *root, const char *prepare_dir, struct cgroup_manager *cgm,
	     struct supervisor *sup, int exe_fd,
	     struct userns_allocator *userns, bool userns_default, unsigned target, struct pool **ret, char **reterr);
/* The network hooks: a spare made by the refill (off the start path) gets its network prepared
 * through prepare; release runs whenever a spare with a prepared network is discarded. */
void pool_set_net(struct pool *pool, pool_net_prepare_fn prepare, pool_net_release_fn release, void *userdata);
/* Discards the idle spares (blocking: shutdown only) and frees the pool. */
void pool_free(struct pool *pool);
/* No more spares from now on; the idle ones are discarded. */
void pool_stop(struct pool *pool);
/* Whether discarded spares are still being cleaned up. */
bool pool_busy(const struct pool *pool);

/* The oldest idle spare, or a new one; in a user namespace or not. net: the run wants the
 * network a spare has prepared (the default bridge, no --ip): the oldest spare with it first,
 * else the oldest bare one. !net: the oldest bare one, else a new one (undoing a prepared
 * network costs more than a new init). */
struct spare *pool_take(struct pool *pool, bool userns, bool net, char **reterr);
/* A run that failed before it used its spare gives it back (a clean one is as good as new). */
void pool_give_back(struct pool *pool, struct spare *sp);
/* Kills a spare that will not be used; its cleanup finishes in the background. */
void pool_discard(struct spare *sp);
/* Moves the spare's directories to the container's (one rename) and frees the spare, handing its
 * cgroup and init over to the caller. Its prepared network, if any, must have been taken over or
 * undone before (container_network_spare). */
int pool_adopt(struct spare *sp, const char *container_dir, struct container_cgroup **ret_cg,
	       struct rt_init *ret_init, struct userns_slice *ret_slice, char **reterr);
/* An init made now for a container that has its id and directories already (a start after
 * create, a restart, or a run that shares a namespace): its cgroup is named after id, and with
 * slice (NULL: none) it is in a user namespace mapped to that slice. namespaces: the CLONE_NEW*
 * flags it is cloned with (0: every one new, as a spare); pid_join_fd >= 0: a pidfd of the
 * process whose pid namespace it is born in (struct rt_init_opts). The idle
 * spares cannot serve: their cgroups and directories carry ids of their own. */
int pool_prepare(struct pool *pool, const char *id, const struct userns_slice *slice,
		 int namespaces, int pid_join_fd, struct container_cgroup **ret_cg, struct rt_init *ret_init,
		 char **reterr);
/* Prepares the next spare after delay_us. */
void pool_schedule_refill(struct pool *pool, long delay_us);
/* Removes what a killed daemon left of its spares. */
void pool_remove_leftovers(struct pool *pool);
/* Removes the (empty) cgroups of a container a killed daemon left; blocking, at start-up only. */
void pool_remove_leftover_cgroup(struct pool *pool, const char *id);
