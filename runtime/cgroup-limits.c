/* Container cgroups: validating and writing resource limits, and reading OOM kills. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/cgroup-internal.h"

#define MEMORY_MIN (6ull << 20)      /* as Docker: below this a container cannot even start */
#define PIDS_MAX_LIMIT 4194304       /* the kernel's PID_MAX_LIMIT on 64-bit */
#define CPU_PERIOD_US 100000u
#define CPU_MILLI_MIN 10             /* the kernel's minimum quota is 1 ms per 100 ms period */

/* The error for a limit whose controller this host does not give us. */
static int missing_controller(const struct cgroup_manager *m, const char *what, const char *controller,
			      char **reterr)
{
	if (m->layout == LAYOUT_V2)
		return err_set(reterr, -EOPNOTSUPP,
			       "cannot limit %s: the %s cgroup controller is not enabled in %s/cgroup.subtree_control "
			       "(is it delegated to containd?)",
			       what, controller, m->hier[m->v2].path);
	return err_set(reterr, -EOPNOTSUPP, "cannot limit %s: the %s cgroup controller is not mounted", what,
		       controller);
}

int cgroup_limits_validate(const struct cgroup_manager *m, const struct cgroup_limits *limits, char **reterr)
{
	if (limits->memory) {
		if (limits->memory < MEMORY_MIN)
			return err_set(reterr, -EINVAL,
				       "minimum memory limit allowed is 6 MiB (6291456 bytes), got %" PRIu64 " bytes",
				       limits->memory);
		if (limits->memory > INT64_MAX)
			return err_set(reterr, -ERANGE, "memory limit of %" PRIu64 " bytes is too large",
				       limits->memory);
		if (m->memory < 0)
			return missing_controller(m, "memory", "memory", reterr);
	}
	if (limits->pids) {
		if (limits->pids < 0)
			return err_set(reterr, -EINVAL, "invalid pids limit %" PRId64 ": must be positive (0 is unlimited)",
				       limits->pids);
		if (limits->pids > PIDS_MAX_LIMIT)
			return err_set(reterr, -ERANGE, "pids limit %" PRId64 " is above the kernel's maximum of %d",
				       limits->pids, PIDS_MAX_LIMIT);
		if (m->pids < 0)
			return missing_controller(m, "the number of processes", "pids", reterr);
	}
	if (limits->cpus_milli) {
		if (limits->cpus_milli < CPU_MILLI_MIN || limits->cpus_milli > (uint64_t)m->ncpus * 1000)
			return err_set(reterr, -ERANGE,
				       "range of CPUs is from 0.01 to %u.00, as there are only %u CPUs available",
				       m->ncpus, m->ncpus);
		if (m->cpu < 0)
			return missing_controller(m, "CPU time", "cpu", reterr);
	}
	return 0;
}



/* A new v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and moving a task into it
 * then fails with ENOSPC: give it the daemon's, re-read once in case they changed since.
 *
 * Setting the CPUs of a cpuset that balances load makes the kernel rebuild the scheduler's
 * domains for the whole machine (under the cpuset lock every cgroup operation waits for), and
 * removing it again does the same. When the daemon's own cpuset balances load over its CPUs, the
 * container's (a subset) is inside that domain already, so its own flag changes nothing for the
 * scheduler: it is turned off first, while its CPUs are still empty (no rebuild then either).
 * Under a daemon cpuset without balancing (CPU isolation) the container keeps the default. */
int cgroup_limits_copy_cpuset(struct container_cgroup *cg, char **reterr)
{
	struct cgroup_manager *m = cg->m;
	const struct hierarchy *h = &m->hier[m->cpuset];

	if (m->cpuset_balanced)
		(void)cgroup_write(cg, h, "cpuset.sched_load_balance", "0", false, NULL);
	for (int attempt = 0;; attempt++) {
		char **e = attempt ? reterr : NULL;
		int r = cgroup_write(cg, h, "cpuset.cpus", m->cpuset_cpus, false, e);
		if (r == 0)
			r = cgroup_write(cg, h, "cpuset.mems", m->cpuset_mems, false, e);
		if (r == 0 || attempt)
			return r;
		r = cgroup_manager_read_cpuset(m, reterr);
		if (r < 0)
			return r;
	}
}

int cgroup_limits_apply(struct container_cgroup *cg, const struct cgroup_limits *l, char **reterr)
{
	const struct cgroup_manager *m = cg->m;
	const struct hierarchy *h;
	char buf[64];
	int r;

	/* No swap beyond the limit: v2 accounts swap on its own, v1 memsw is memory plus swap. Where
	 * the kernel does not account swap, those files are missing and no swap is limited. */
	if (l->memory) {
		h = &m->hier[m->memory];
		snprintf(buf, sizeof(buf), "%" PRIu64, l->memory);
		if (h->v2) {
			if ((r = cgroup_write(cg, h, "memory.max", buf, false, reterr)) < 0 ||
			    (r = cgroup_write(cg, h, "memory.swap.max", "0", true, reterr)) < 0)
				return r;
		} else if ((r = cgroup_write(cg, h, "memory.limit_in_bytes", buf, false, reterr)) < 0 ||
			   (r = cgroup_write(cg, h, "memory.memsw.limit_in_bytes", buf, true, reterr)) < 0) {
			return r;
		}
	}
	if (l->pids) {
		h = &m->hier[m->pids];
		snprintf(buf, sizeof(buf), "%" PRId64, l->pids);
		if ((r = cgroup_write(cg, h, "pids.max", buf, false, reterr)) < 0)
			return r;
	}
	if (l->cpus_milli) {
		uint64_t quota = l->cpus_milli * (CPU_PERIOD_US / 1000);
		h = &m->hier[m->cpu];
		if (h->v2) {
			snprintf(buf, sizeof(buf), "%" PRIu64 " %u", quota, CPU_PERIOD_US);
			if ((r = cgroup_write(cg, h, "cpu.max", buf, false, reterr)) < 0)
				return r;
		} else {
			/* A new cgroup's cpu.cfs_period_us is always the kernel's default, 100000: on
			 * this path every write counts, so only the quota is written. */
			snprintf(buf, sizeof(buf), "%" PRIu64, quota);
			if ((r = cgroup_write(cg, h, "cpu.cfs_quota_us", buf, false, reterr)) < 0)
				return r;
		}
	}
	return 0;
}

int cgroup_set_limits(struct container_cgroup *cg, const struct cgroup_limits *limits, char **reterr)
{
	int r = cgroup_limits_validate(cg->m, limits, reterr);
	return r < 0 ? r : cgroup_limits_apply(cg, limits, reterr);
}


bool cgroup_oom_killed(const struct container_cgroup *cg)
{
	const struct cgroup_manager *m;
	const struct hierarchy *h;
	_cleanup_free_ char *s = NULL;
	char rel[ID_MAX + 32];
	uint64_t v = 0;

	if (!cg)
		return false;
	m = cg->m;
	if (m->memory < 0 || !(cg->present & (1u << m->memory)))
		return false;
	h = &m->hier[m->memory];
	/* v2 memory.events counts the whole subtree unless the memory_localevents mount option. */
	snprintf(rel, sizeof(rel), "%s/%s", cg->id, h->v2 ? "memory.events" : "memory.oom_control");
	if (cgroup_read_trimmed(h->fd, rel, &s) < 0)
		return false;
	return cgroup_keyed_u64(s, "oom_kill", &v) == 0 && v > 0;
}
