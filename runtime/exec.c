#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/exec.h"

/* The clone is born in the container's pid namespace: setns(CLONE_NEWPID) changes only where the
 * caller's next children go (pid_for_children), never the caller's own pid namespace, so the
 * starter stays where it is and sets it back to its own namespace right after the clone. Both
 * happen in this one call of a single-threaded starter, so no other child of it can be created
 * in between. A starter that could not set it back would create every later child inside the
 * container: it stops rather than go on so. Entering through the pidfd cannot hit a recycled pid.
 *
 * The clone runs nothing of the container until it joined it: until its exec of containd-init it
 * holds a copy of the starter's memory and fds, and is visible in the container's /proc; it is
 * the host's root with every capability, so no process of the container (whose capabilities are
 * a subset, or are only over a user namespace of its own) may ptrace it or open its /proc files,
 * and it makes itself non-dumpable first thing (runtime/process.c). */
int rt_exec_prepare(const struct rt_exec_opts *opts, struct rt_init *ret, char **reterr)
{
	if (!pidref_is_set(opts->target))
		return err_set(reterr, -ESRCH, "the container has no process to join");
	_cleanup_close_ int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return err_set(reterr, -errno, "cannot open the pid namespace of containd: %m");
	if (setns(opts->target->pidfd, CLONE_NEWPID) < 0)
		return err_set(reterr, -errno, "cannot enter the container's pid namespace: %m");
	struct rt_init_opts o = { .exe_fd = opts->exe_fd, .cg = opts->cg, .exec = true };
	_cleanup_free_ char *why = NULL;
	int r = rt_init_prepare(&o, ret, &why);
	if (setns(own, CLONE_NEWPID) < 0)
		abort();
	/* A pid namespace whose init has exited takes no new process (ENOMEM from the clone). */
	if (r == -ENOMEM)
		return err_set(reterr, -ESRCH, "the container is exiting");
	if (r < 0)
		return err_set(reterr, r, "%s", why ? why : "cannot start the exec process");
	return 0;
}

int rt_exec_start(const struct rt_init *proc, const struct pidref *target, const struct rt_spec *spec,
		  const struct rt_start_fds *fds, char **reterr)
{
	if (fds->n_layers > 0)
		return err_set(reterr, -EINVAL, "an exec process takes no image layers");
	return rt_init_send_start(proc, spec, fds, target->pidfd, reterr);
}
