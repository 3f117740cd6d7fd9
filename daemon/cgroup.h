/* Container cgroups. Owns the daemon's cgroup subtree: finds the cgroup the daemon runs in (from
 * /proc/self/cgroup), and gives every container its own cgroup below it - on cgroup v2, after
 * moving the daemon itself into a <own>/supervisor leaf; on v1/hybrid hosts in every mounted v1
 * controller hierarchy plus the unified (v2) tree when it is mounted. Applies limits, reports
 * OOM kills, kills every process of a container and removes its cgroups. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup_limits {
	uint64_t memory;     /* bytes, 0 = unlimited; swap is limited to the same (no swap) */
	int64_t pids;        /* max tasks, 0 = unlimited */
	uint64_t cpus_milli; /* thousandths of a CPU, 0 = unlimited */
};

struct cgroup_manager;
struct container_cgroup;

/* Detects the layout and prepares the daemon's subtree. */
int cgroup_manager_new(struct cgroup_manager **ret, char **reterr);
void cgroup_manager_free(struct cgroup_manager *m);
/* "v2", "hybrid" or "v1", for logs and system.version. */
const char *cgroup_manager_layout(const struct cgroup_manager *m);

/* Checks limits against what this host supports; -EINVAL/-ERANGE with a message otherwise. */
int cgroup_limits_validate(const struct cgroup_manager *m, const struct cgroup_limits *limits, char **reterr);

/* Creates the container's cgroup(s) named id and writes the limits. On failure nothing is left. */
int cgroup_create(struct cgroup_manager *m, const char *id, const struct cgroup_limits *limits,
		  struct container_cgroup **ret, char **reterr);
/* A directory fd of the container's v2 cgroup for clone3(CLONE_INTO_CGROUP), or -1 if none. */
int cgroup_clone_fd(const struct container_cgroup *cg);
/* Moves pid into every hierarchy that CLONE_INTO_CGROUP did not cover (the v1 controllers). */
int cgroup_attach(struct container_cgroup *cg, pid_t pid, char **reterr);
/* Whether the kernel OOM-killed a process in this cgroup. */
bool cgroup_oom_killed(const struct container_cgroup *cg);
/* SIGKILLs every process in the container's cgroups (cgroup.kill where available). */
int cgroup_kill(struct container_cgroup *cg);
/* Kills what is left and removes the cgroups. Returns -EBUSY while exiting tasks still populate
 * them (the caller retries a little later); 0 once everything is gone. */
int cgroup_destroy(struct container_cgroup *cg);
void cgroup_free(struct container_cgroup *cg);
