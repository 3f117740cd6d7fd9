/* A process started inside a running container (cctl exec), seen from its starter. It is a child
 * of the starter, born in the container's pid namespace and cgroups, and runs containd-init from
 * the same sealed memfd as every container's init (never the starter's binary: CVE-2019-5736), in
 * exec mode: it receives the process part of a spec and the container's pidfd, joins the
 * container's other namespaces through that pidfd, and from there on does what the container's
 * init did for its command (terminal or fds, user, working directory, rlimits, seccomp,
 * no_new_privs, capabilities), with the same reports on the same kind of channel (struct rt_init,
 * runtime/process.h): EOF after RT_REPORT_EXEC and no error means the command runs. */
#pragma once

#include "common/pidref.h"
#include "runtime/process.h"
#include "runtime/spec.h"

struct container_cgroup;

struct rt_exec_opts {
	int exe_fd;                    /* sealed memfd of containd-init (rt_init_exe_open) */
	struct container_cgroup *cg;   /* the container's cgroup, or NULL */
	const struct pidref *target;   /* the container's init */
};

/* Clones the exec process into the target's pid namespace and the cgroups. -ESRCH when the
 * target is gone or its pid namespace takes no new process (its init is exiting). */
int rt_exec_prepare(const struct rt_exec_opts *opts, struct rt_init *ret, char **reterr);

/* Hands the process to run to an exec process. spec is the container's spec with the process
 * part it is to run (args, env, cwd, user, terminal, caps, rlimits, no_new_privileges), and its
 * namespaces: the exec process joins exactly those of target (its user namespace only when
 * spec->namespaces has CLONE_NEWUSER). fds: stdio and the container's seccomp program; no
 * layers. */
int rt_exec_start(const struct rt_init *proc, const struct pidref *target, const struct rt_spec *spec,
		  const struct rt_start_fds *fds, char **reterr);
