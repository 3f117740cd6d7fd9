/* Container cgroups. Owns the daemon's cgroup subtree: finds the cgroup the daemon runs in (from
 * /proc/self/cgroup), and gives every container its own cgroup below it - on cgroup v2, after
 * moving the daemon itself into a <own>/supervisor leaf; on v1/hybrid hosts in every mounted v1
 * controller hierarchy plus the unified (v2) tree when it is mounted. Applies limits, reports
 * OOM kills, freezes (pauses) a container, kills every process of it and removes its cgroups. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/devices.h"

struct cgroup_limits {
	uint64_t memory;     /* bytes, 0 = unlimited; swap is limited to the same (no swap) */
	int64_t pids;        /* max tasks, 0 = unlimited */
	uint64_t cpus_milli; /* thousandths of a CPU, 0 = unlimited */
};

struct cgroup_manager;
struct container_cgroup;

/* Detects the layout and prepares the daemon's subtree: the cgroup it runs in (on v2 it moves
 * itself into the leaf <own>/supervisor, containers go next to it). */
int cgroup_manager_new(struct cgroup_manager **ret, char **reterr);
/* The same with the cgroup of process pid (0: the caller), which is moved into the supervisor leaf
 * instead: containd-keeper in a systemd scope of its own (daemon/api.c). */
int cgroup_manager_new_for(pid_t pid, struct cgroup_manager **ret, char **reterr);
/* Must outlive every container_cgroup created from it. */
void cgroup_manager_free(struct cgroup_manager *m);
/* "v2", "hybrid" or "v1", for logs and system.version. */
const char *cgroup_manager_layout(const struct cgroup_manager *m);

/* How device rules are enforced: "v1" (devices controller), "bpf" (cgroup v2 device program) or
 * "none" (no devices controller on a v1 host: not restricted), for logs and system.version. */
const char *cgroup_manager_devices(const struct cgroup_manager *m);

/* Checks limits against what this host supports: -EINVAL/-ERANGE for a value out of range,
 * -EOPNOTSUPP when the controller a limit needs is missing; always with a message. */
int cgroup_limits_validate(const struct cgroup_manager *m, const struct cgroup_limits *limits, char **reterr);

/* Creates the container's cgroup(s) named id, writes the limits and applies Docker's default device
 * rules (devices_default_rules). On failure nothing is left.
 * id: 1-128 characters of [A-Za-z0-9_-], not "supervisor". limits may be NULL (none). */
int cgroup_create(struct cgroup_manager *m, const char *id, const struct cgroup_limits *limits,
		  struct container_cgroup **ret, char **reterr);
/* Writes limits into an existing container cgroup (one created ahead of its container). */
int cgroup_set_limits(struct container_cgroup *cg, const struct cgroup_limits *limits, char **reterr);
/* Replaces the device rules of a container cgroup; call it before the container's first process
 * enters the cgroup. allow_all (--privileged) lifts every restriction; otherwise the container
 * may use the default rules plus extra (--device-cgroup-rule; at most DEVICE_RULES_MAX rules,
 * each checked; a rule "a *:* rwm" among them means allow_all) and nothing else. No extra and
 * no allow_all restores the defaults. Cheap with the defaults; with extra rules on cgroup v2 it
 * loads a program for this container. After a failure the container must not be started. */
int cgroup_set_devices(struct container_cgroup *cg, const struct device_rule *extra, size_t n_extra, bool allow_all,
		       char **reterr);
/* A handle on the existing cgroups of a container a previous daemon started (live restore):
 * nothing is created or written. -ENOENT when none of its directories exists. */
int cgroup_open(struct cgroup_manager *m, const char *id, struct container_cgroup **ret, char **reterr);
/* For a process cloned by another (containd-keeper): the files a child writes "0" into to join
 * the hierarchies that clone3's CLONE_INTO_CGROUP (cgroup_clone_fd) does not cover. */
int cgroup_join_fds(const struct container_cgroup *cg, int *fds, size_t max, size_t *ret_n, char **reterr);
/* A directory fd of the container's v2 cgroup for clone3(CLONE_INTO_CGROUP), or -1 if none.
 * Owned by cg: valid until cgroup_destroy() removed the cgroup or cgroup_free(). */
int cgroup_clone_fd(const struct container_cgroup *cg);
/* Moves pid into every hierarchy that CLONE_INTO_CGROUP did not cover (the v1 controllers).
 * pid 0 moves the calling process, which must be single-threaded and have been cloned into
 * cgroup_clone_fd() (when there is one): a container's init attaches itself, so the daemon never waits for the kernel's
 * cgroup migration (an RCU grace period, 10-20 ms after an idle spell, on v1). */
int cgroup_attach(struct container_cgroup *cg, pid_t pid, char **reterr);
/* Whether the kernel OOM-killed a process in this cgroup. */
bool cgroup_oom_killed(const struct container_cgroup *cg);
/* Freezes (pauses) or thaws every process of the container: through cgroup.freeze of its v2
 * cgroup when it has one, else the v1 freezer controller; -EOPNOTSUPP (with a message) when
 * neither is there. Returns once the kernel took the request: freezing completes asynchronously
 * (a task in uninterruptible sleep delays it), see cgroup_frozen(). SIGKILL still reaches frozen
 * tasks on v2; on v1 they die only once thawed, so kill, then thaw. */
int cgroup_freeze(struct container_cgroup *cg, bool frozen, char **reterr);
/* Whether the freeze completed (every task stopped): 0 and *ret, or -errno (-EOPNOTSUPP without
 * a freezer). */
int cgroup_frozen(const struct container_cgroup *cg, bool *ret);
/* The pids (host pids, sorted) of the processes in the container's cgroup: the v2 cgroup (the
 * unified tree of a hybrid host) when it has one, else the first v1 hierarchy that holds it.
 * Processes in child cgroups the container made are not listed. A pid may have exited by the time
 * the caller looks at it. -ENOENT with a message when the cgroup is gone. */
int cgroup_pids(const struct container_cgroup *cg, pid_t **ret, size_t *n, char **reterr);
/* SIGKILLs every process in the container's cgroups (cgroup.kill where available). */
int cgroup_kill(struct container_cgroup *cg);
/* Kills what is left and removes the cgroups. Returns -EBUSY while exiting tasks still populate
 * them (the caller retries a little later); 0 once everything is gone. Idempotent. */
int cgroup_destroy(struct container_cgroup *cg);
/* The name of the container's cgroup directories (a spare's id for a container made from one). */
const char *cgroup_id(const struct container_cgroup *cg);
/* Frees cg without removing anything; call cgroup_destroy() first. */
void cgroup_free(struct container_cgroup *cg);
