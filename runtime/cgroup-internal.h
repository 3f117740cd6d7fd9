/* Internals shared by the files of the cgroup module (cgroup.c: manager, layout, create/attach;
 * cgroup-limits.c; cgroup-kill.c: kill and removal; cgroup-devices.c: device rules;
 * cgroup-freeze.c: pause and unpause). Nothing
 * outside runtime/cgroup*.c includes this header, except the module's unit tests for the
 * testing knobs at its end. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define SUPERVISOR "supervisor"
#define MAX_HIERARCHIES 32           /* one bit each in container_cgroup.present */
#define ID_MAX 128
#define SMALL_FILE_MAX (64u << 10)   /* cgroup interface files other than cgroup.procs */

enum {
	CTRL_CPU = 1u << 0,
	CTRL_CPUSET = 1u << 1,
	CTRL_MEMORY = 1u << 2,
	CTRL_PIDS = 1u << 3,
	CTRL_FREEZER = 1u << 4,
	CTRL_DEVICES = 1u << 5,
	/* The controllers a container's settings, its pause and its kill go through. */
	CTRL_USED = CTRL_CPU | CTRL_MEMORY | CTRL_PIDS | CTRL_FREEZER | CTRL_DEVICES,
};

enum cgroup_layout { LAYOUT_V1, LAYOUT_HYBRID, LAYOUT_V2 };

/* How a container's device access is restricted on this host. */
enum cgroup_devices_mode {
	DEVICES_NONE, /* no devices controller and no cgroup2 tree: nothing restricts devices */
	DEVICES_V1,   /* the v1 devices controller: devices.deny and devices.allow */
	DEVICES_BPF,  /* a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the v2 cgroup */
};

struct hierarchy {
	char *name;     /* the controllers ("cpu,cpuacct"), or "unified" for cgroup2 */
	char *path;     /* the daemon's own cgroup in this hierarchy, for messages */
	int fd;         /* O_DIRECTORY fd of path; every container path is relative to it */
	unsigned ctrl;  /* CTRL_* usable for containers through this hierarchy */
	bool v2;
	bool unused;    /* v1, none of its controllers has a setting: containers get no cgroup in it */
};

struct cgroup_manager {
	enum cgroup_layout layout;
	struct hierarchy hier[MAX_HIERARCHIES]; /* the v1 hierarchies, then the v2 one */
	size_t n_hier;
	/* Index into hier of the cgroup2 hierarchy and of the one holding each controller, or -1. */
	int v2, memory, pids, cpu, cpuset, freezer, devices;
	unsigned ncpus;
	/* v1 only: the daemon's cpuset, copied into every new cpuset cgroup. */
	char *cpuset_cpus, *cpuset_mems;
	/* v1 only: the daemon's cpuset balances load across its CPUs (cpuset.sched_load_balance). */
	bool cpuset_balanced;
	enum cgroup_devices_mode devices_mode;
	int devices_default_prog; /* DEVICES_BPF: the default rules' program, loaded once; else -1 */
};

struct container_cgroup {
	struct cgroup_manager *m;
	char *id;
	int v2fd;         /* the v2 cgroup directory, -1 if none or removed */
	uint32_t present; /* bit i: the directory in m->hier[i] exists */
	/* DEVICES_BPF: the program attached to v2fd (m->devices_default_prog or devices_prog), -1 if none. */
	int devices_attached;
	int devices_prog; /* a program of this container's own rules, owned by it; -1 if none */
	bool devices_default; /* the default rules are in force (nothing to do to restore them) */
};

/* Looks up "key <number>" in a flat-keyed file's contents (memory.events, memory.oom_control). */
int cgroup_keyed_u64(const char *text, const char *key, uint64_t *ret);
/* Reads a small interface file below dirfd and strips the trailing newline. */
int cgroup_read_trimmed(int dirfd, const char *file, char **ret);
/* Writes value to a file of the container's cgroup in hierarchy h; see cgroup.c. */
int cgroup_write(const struct container_cgroup *cg, const struct hierarchy *h, const char *file, const char *value,
		 bool optional, char **reterr);
/* Re-reads the daemon's v1 cpuset into m. */
int cgroup_manager_read_cpuset(struct cgroup_manager *m, char **reterr);

/* cgroup-limits.c: writes limits (already validated) into the container's cgroups. */
int cgroup_limits_apply(struct container_cgroup *cg, const struct cgroup_limits *l, char **reterr);
/* cgroup-limits.c: gives a new v1 cpuset cgroup the daemon's cpus and mems. */
int cgroup_limits_copy_cpuset(struct container_cgroup *cg, char **reterr);

/* cgroup-kill.c: reads the cgroup.procs of the cgroup dirfd as a sorted array. */
int cgroup_read_pids(int dirfd, pid_t **ret, size_t *ret_n);
/* cgroup-kill.c: whether the sorted array pids holds pid. */
bool cgroup_pids_contain(const pid_t *pids, size_t n, pid_t pid);
/* cgroup-kill.c: removes the container's directories; thorough also removes child cgroups. */
int cgroup_remove(struct container_cgroup *cg, bool thorough);

/* cgroup-devices.c: picks the device mode and loads what it needs, in cgroup_manager_new(). */
int cgroup_devices_setup(struct cgroup_manager *m, char **reterr);
/* cgroup-devices.c: releases what cgroup_devices_setup() acquired. */
void cgroup_devices_release(struct cgroup_manager *m);
/* cgroup-devices.c: applies the default device rules to a new container cgroup. */
int cgroup_devices_apply_default(struct container_cgroup *cg, char **reterr);

/* Testing knobs, for the unit tests only (the daemon never sets them): plain globals rather than
 * an #ifdef, so the tests link the same libruntime.a the daemon does.
 * - cgroup_testing_no_kill_file: cgroup_kill() takes the path of kernels without cgroup.kill
 *   (< 5.14), reading cgroup.procs.
 * - cgroup_testing_devices_bpf: managers created while it is set restrict devices with a BPF
 *   program on the cgroup2 tree even where the v1 devices controller is mounted (hybrid hosts),
 *   so the BPF path is tested on hosts that would use v1.
 * - cgroup_testing_freezer_v1: cgroup_freeze() and cgroup_frozen() use the v1 freezer even where
 *   the container has a v2 cgroup (hybrid hosts), so the v1 path is tested there. */
extern bool cgroup_testing_no_kill_file;
extern bool cgroup_testing_devices_bpf;
extern bool cgroup_testing_freezer_v1;
