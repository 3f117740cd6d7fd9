/* Container cgroups: freezing and thawing a container (pause and unpause).
 *
 * The freeze goes through exactly one mechanism, chosen the same way every time so that freezing,
 * thawing and asking whether it is frozen all agree: cgroup.freeze of the container's v2 cgroup
 * (Linux 5.2) when it has one - on v2 hosts, and on hybrid hosts whose unified tree holds the
 * container -, else the v1 freezer controller when it is mounted. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/cgroup-internal.h"

enum freezer { FREEZER_NONE, FREEZER_V2, FREEZER_V1 };

bool cgroup_testing_freezer_v1;

/* Which freezer serves this container: the v2 one needs cgroup.freeze in its cgroup. */
static enum freezer freeze_pick(const struct container_cgroup *cg)
{
	const struct cgroup_manager *m = cg->m;

	if (!cgroup_testing_freezer_v1 && cg->v2fd >= 0 && faccessat(cg->v2fd, "cgroup.freeze", W_OK, 0) == 0)
		return FREEZER_V2;
	if (m->freezer >= 0 && (cg->present & (1u << m->freezer)))
		return FREEZER_V1;
	return FREEZER_NONE;
}

/* Freezing is asynchronous on both kinds: the write asks the kernel to stop every task at its
 * next return to user space (or at once when it sleeps interruptibly), and a task in
 * uninterruptible sleep (D state, waiting for I/O) holds the freeze back until it wakes. The
 * caller is an event loop, so this returns as soon as the kernel took the request and does not
 * wait for the freeze to complete; cgroup_frozen() tells whether it has. No user code of the
 * container runs after the freeze completed, and none can escape it: a task forked meanwhile is
 * born into the freezing cgroup and frozen too. */
int cgroup_freeze(struct container_cgroup *cg, bool frozen, char **reterr)
{
	const struct cgroup_manager *m = cg->m;
	int r;

	switch (freeze_pick(cg)) {
	case FREEZER_V2:
		r = write_string_at(cg->v2fd, "cgroup.freeze", frozen ? "1" : "0");
		if (r < 0)
			return err_set(reterr, r, "cannot write cgroup.freeze of the cgroup %s: %m", cg->id);
		return 0;
	case FREEZER_V1:
		return cgroup_write(cg, &m->hier[m->freezer], "freezer.state", frozen ? "FROZEN" : "THAWED", false,
				    reterr);
	case FREEZER_NONE:
		break;
	}
	return err_set(reterr, -EOPNOTSUPP,
		       "cannot %s the container: no cgroup freezer (cgroup v2 freeze or the v1 freezer controller)",
		       frozen ? "pause" : "unpause");
}

/* cgroup.events says "frozen 1" once every task of a v2 cgroup is frozen; freezer.state says
 * FREEZING until the v1 freeze completes, and FROZEN after. */
int cgroup_frozen(const struct container_cgroup *cg, bool *ret)
{
	const struct cgroup_manager *m = cg->m;
	_cleanup_free_ char *s = NULL;
	char rel[ID_MAX + 32];
	uint64_t v = 0;
	int r;

	switch (freeze_pick(cg)) {
	case FREEZER_V2:
		if ((r = cgroup_read_trimmed(cg->v2fd, "cgroup.events", &s)) < 0 ||
		    (r = cgroup_keyed_u64(s, "frozen", &v)) < 0)
			return r;
		*ret = v == 1;
		return 0;
	case FREEZER_V1:
		snprintf(rel, sizeof(rel), "%s/freezer.state", cg->id);
		if ((r = cgroup_read_trimmed(m->hier[m->freezer].fd, rel, &s)) < 0)
			return r;
		*ret = strcmp(s, "FROZEN") == 0;
		return 0;
	case FREEZER_NONE:
		break;
	}
	return -EOPNOTSUPP;
}
