/* A container's init process, seen from the side that starts it (the daemon, or an OCI runtime
 * CLI). It is prepared ahead of its container: cloned into fresh namespaces and born in the
 * container's cgroup, it joins the v1 hierarchies itself, creates its cgroup namespace and then
 * re-executes containd-init from a sealed memfd, so that no process that ever enters a container
 * runs (or can reach through /proc/PID/exe) a binary on the host's disk. It then reports ready and
 * waits for its spec; sending one (rt_init_start) makes it build the container and exec the command.
 * The channel is a SOCK_SEQPACKET pair: EOF on it without an error report means the command was
 * exec'd (the init's end is close-on-exec). */
#pragma once

#include <stdbool.h>

#include "common/pidref.h"
#include "runtime/spec.h"

struct container_cgroup;

struct rt_init {
	struct pidref proc;
	int sync_fd;  /* the starter's end of the channel */
	/* The init's mount namespace, held open: when the container exits, the kernel then tears
	 * its mounts down when the holder lets go (in the cleanup, off the exit path) instead of in
	 * the exit of its last process, which the exit report would wait for. */
	int mntns_fd;
};

struct rt_init_opts {
	int exe_fd;                  /* sealed memfd of containd-init (rt_init_exe_open) */
	struct container_cgroup *cg; /* the container's cgroup, or NULL */
	/* Or, without cg (a process that has no cgroup handle: containd-keeper), the same as fds:
	 * the v2 directory to clone into (-1: none) and the v1 "tasks" files the child writes itself
	 * into (cgroup_join_fds). */
	int cgroup_fd;
	const int *join_fds;
	size_t n_join_fds;
	int namespaces;              /* CLONE_NEW* flags; CLONE_NEWCGROUP is made after joining cg */
	/* The init is born in the pid namespace of the process pid_join_fd is a pidfd of (or of the
	 * namespace it is an fd of), instead of a new one or the cloner's: the container shares
	 * another's processes (namespaces then has no CLONE_NEWPID). The cloner's own pid namespace
	 * stays as it was (see rt_init_clone). */
	bool pid_join;
	int pid_join_fd;
	const char *prepare_dir;     /* an empty directory where the init builds the default /proc,
				      * /dev and /sys ahead of its spec (runtime/rootfs.h), or NULL */
	bool exec;                   /* an exec process (runtime/exec.h), not a container's init */
};

/* containd-init's first argument in exec mode (a prepare directory is an absolute path). */
#define RT_INIT_EXEC_MODE "exec"

/* Where a helper program of containd (containd-init, containd-tini) is: next to the running
 * binary if there is an executable of that name (a build tree), else in LIBEXECDIR. */
int rt_helper_path(const char *name, char *buf, size_t size);

/* Copies containd-init into a sealed, executable memfd once, for every prepared init to exec.
 * path NULL: containd-init next to the running binary, else in LIBEXECDIR. */
int rt_init_exe_open(const char *path, int *ret_fd, char **reterr);

/* Clones a prepared init. Never blocks on the child. */
int rt_init_prepare(const struct rt_init_opts *opts, struct rt_init *ret, char **reterr);
/* The clone itself, for a process that clones inits on another's behalf (containd-keeper): the
 * child gets child_fd as its channel (the caller keeps its copy and closes it); *ret is the
 * child's handle (pid, pidfd, start time). */
int rt_init_clone(const struct rt_init_opts *opts, int child_fd, struct pidref *ret, char **reterr);
/* The mount namespace of a running process that may not be our child (see process.c), or -1. */
int rt_init_open_mntns(const struct pidref *p);
/* Lets the starter's end of a channel hold a whole start message (the spec and its fds). */
void rt_init_channel_size(int parent_fd);
/* The starter's side of an init another process cloned: its channel and handle, plus its mount
 * namespace (opened through /proc, then checked to be that process's: see process.c). */
int rt_init_adopt(struct pidref *proc, int sync_fd, bool mntns, struct rt_init *ret);

/* For an init cloned with CLONE_NEWUSER: writes its uid and gid maps and lets it go on (it waits
 * for them before it re-executes, so that it is the namespace's root and keeps its capabilities
 * there). Needs CAP_SETUID and CAP_SETGID in the daemon's namespace. */
int rt_init_map_user(const struct rt_init *init, const struct rt_idmap *uid_map, size_t n_uid,
		     const struct rt_idmap *gid_map, size_t n_gid, char **reterr);

/* What travels with a spec besides it: the stdio fds (-1: /dev/null; ignored for a terminal),
 * the compiled seccomp program (a sealed memfd, or -1 for none) and, for a container in a user
 * namespace, its image layers as idmapped mounts (topmost first; see runtime/userns.h). */
struct rt_start_fds {
	int stdio[3];
	int seccomp_fd;
	const int *layer_fds;
	size_t n_layers;
	const struct rt_ns_join *joins; /* spec->join_namespaces but the pid namespace, by pidfd */
	size_t n_joins;
};

/* The namespaces (CLONE_NEW* flags, never CLONE_NEWPID) an init joins through the pidfd of a
 * process that is in them: setns(pidfd, flags) joins them all at once. */
struct rt_ns_join {
	int flags;
	int pidfd;
};
#define RT_MAX_JOINS 4

/* Hands the spec (and fds) to a prepared init. It may be sent before the init is ready. */
int rt_init_start(const struct rt_init *init, const struct rt_spec *spec, const struct rt_start_fds *fds,
		  char **reterr);

/* rt_init_start() for an init or, with join_pidfd >= 0, an exec process that joins the namespaces
 * of that process (runtime/exec.h). */
int rt_init_send_start(const struct rt_init *init, const struct rt_spec *spec, const struct rt_start_fds *fds,
		       int join_pidfd, char **reterr);

/* EXEC: setup is done; the channel's EOF after it (and no ERROR) means the command was exec'd.
 * An EOF without it means the init died during setup (killed from outside, the OOM killer). */
enum rt_report_type { RT_REPORT_READY = 1, RT_REPORT_PTY = 2, RT_REPORT_ERROR = 3, RT_REPORT_EXEC = 4 };

struct rt_report {
	int type;
	int exit_code; /* RT_REPORT_ERROR: 125, 126 or 127, as docker run */
	char message[1024];
};

/* Reads one report (non-blocking). 1 with a report (*ret_fd set to the pty master for
 * RT_REPORT_PTY, else -1), 0 at EOF (the command was exec'd if RT_REPORT_EXEC came first and no
 * error after it; else the init died), -EAGAIN, -errno. */
int rt_init_read_report(int sync_fd, struct rt_report *ret, int *ret_fd);

/* Kills and reaps an init that never ran container code (so the wait is short), closes it. */
void rt_init_discard(struct rt_init *init);

/* The init's side: containd-init's main. Receives the spec on fd 3, builds the container and
 * execs its command; never returns. */
void rt_init_main(const char *prepare_dir, bool userns) __attribute__((noreturn));
/* containd-init in exec mode: receives the process to run and the container's pidfd, joins the
 * container and execs the process; never returns (runtime/exec.h). */
void rt_exec_main(void) __attribute__((noreturn));
