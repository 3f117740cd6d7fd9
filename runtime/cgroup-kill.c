/* Container cgroups: killing every process of a container and removing its cgroups, also the
 * child cgroups a container may have created. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/cgroup-internal.h"

#define PROCS_FILE_MAX (8u << 20)    /* a cgroup.procs of a million pids */
#define KILL_ROUNDS 8
#define FREEZE_POLLS 100             /* times FREEZE_POLL_NS: at most 10 ms */
#define FREEZE_POLL_NS 100000
#define SUBTREE_DEPTH_MAX 16


static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Reads the cgroup.procs of the cgroup dirfd as a sorted array. */
int cgroup_read_pids(int dirfd, pid_t **ret, size_t *ret_n)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t len, n = 0, cap;
	int r = read_file_at(dirfd, "cgroup.procs", PROCS_FILE_MAX, &buf, &len);

	if (r < 0)
		return r;
	cap = len / 2 + 1; /* every pid takes at least two characters with its newline */
	pids = malloc(cap * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	for (char *p = buf, *end; *p; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0 && v <= INT_MAX && n < cap)
			pids[n++] = (pid_t)v;
	}
	qsort(pids, n, sizeof(*pids), cmp_pid);
	*ret = TAKE_PTR(pids);
	*ret_n = n;
	return 0;
}

/* Every hierarchy holds every process of the container (the init joins all of them before
 * anything of the container runs), so any one of them gives the full list; v2 is preferred as
 * the only one a container on a v2 host has. */
int cgroup_pids(const struct container_cgroup *cg, pid_t **ret, size_t *n, char **reterr)
{
	const struct cgroup_manager *m = cg->m;
	_cleanup_close_ int fd = -1;
	int dirfd = cg->v2fd;

	for (size_t i = 0; dirfd < 0 && i < m->n_hier; i++) {
		if (m->hier[i].v2 || !(cg->present & (1u << i)))
			continue;
		fd = openat(m->hier[i].fd, cg->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return err_set(reterr, -errno, "cannot open the cgroup %s in %s: %m", cg->id, m->hier[i].path);
		dirfd = fd;
	}
	if (dirfd < 0)
		return err_set(reterr, -ENOENT, "the container has no cgroup");
	int r = cgroup_read_pids(dirfd, ret, n);
	if (r < 0)
		return err_set(reterr, r, "cannot read the processes of the cgroup %s: %m", cg->id);
	return 0;
}

bool cgroup_pids_contain(const pid_t *pids, size_t n, pid_t pid)
{
	return n > 0 && bsearch(&pid, pids, n, sizeof(*pids), cmp_pid) != NULL;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };
	nanosleep(&ts, NULL);
}

/* SIGKILLs every process listed in the cgroup.procs of the cgroup dirfd, for up to rounds rounds
 * (what forks meanwhile shows up in the next one), until a round shows nothing new.
 *
 * A pid read from cgroup.procs may exit and be reused by an unrelated process before it is
 * signalled. So each pid is pinned with a pidfd first, and signalled only if cgroup.procs still
 * lists it afterwards: then the pidfd refers to the process in the cgroup, or to one that exited. */
static int kill_procs(int dirfd, unsigned rounds)
{
	_cleanup_free_ pid_t *signalled = NULL;
	size_t n_signalled = 0;

	for (unsigned round = 0; round < rounds; round++) {
		_cleanup_free_ pid_t *pids = NULL, *again = NULL;
		_cleanup_free_ int *fds = NULL;
		size_t n, n_again, fresh = 0;
		int r = cgroup_read_pids(dirfd, &pids, &n);

		if (r < 0)
			return r == -ENOENT ? 0 : r;
		for (size_t i = 0; i < n; i++)
			if (!cgroup_pids_contain(signalled, n_signalled, pids[i]))
				fresh++;
		if (fresh == 0)
			return 0;
		fds = malloc(n * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			long fd = syscall(SYS_pidfd_open, pids[i], 0);
			fds[i] = fd >= 0 ? (int)fd : -errno;
		}
		r = cgroup_read_pids(dirfd, &again, &n_again);
		for (size_t i = 0; i < n; i++) {
			if (r == 0 && cgroup_pids_contain(again, n_again, pids[i])) {
				if (fds[i] >= 0)
					syscall(SYS_pidfd_send_signal, fds[i], SIGKILL, NULL, 0);
				else if (fds[i] != -ESRCH)
					kill(pids[i], SIGKILL); /* no pidfds: the race above remains */
			}
			fds[i] = safe_close(fds[i]);
		}
		if (r < 0)
			return r == -ENOENT ? 0 : r;
		free(signalled);
		signalled = TAKE_PTR(pids);
		n_signalled = n;
	}
	return 0;
}

/* Freezes (or thaws) the container with cgroup.freeze (v2, Linux 5.2) or the v1 freezer, so
 * nothing in it can fork while it is being killed. Returns which one took the write (1 = v2,
 * 2 = v1), or 0 if neither did. */
static int cg_freeze(struct container_cgroup *cg, bool freeze, int which)
{
	const struct cgroup_manager *m = cg->m;

	if (which != 2 && cg->v2fd >= 0 && write_string_at(cg->v2fd, "cgroup.freeze", freeze ? "1" : "0") == 0)
		return 1;
	if (which != 1 && m->freezer >= 0 && (cg->present & (1u << m->freezer)) &&
	    cgroup_write(cg, &m->hier[m->freezer], "freezer.state", freeze ? "FROZEN" : "THAWED", false, NULL) == 0)
		return 2;
	return 0;
}

/* Waits a little for a freeze to complete; tasks in uninterruptible sleep can delay it. */
static bool cg_wait_frozen(struct container_cgroup *cg, int which)
{
	const struct cgroup_manager *m = cg->m;
	char rel[ID_MAX + 32];

	snprintf(rel, sizeof(rel), "%s/freezer.state", cg->id);
	for (int i = 0; i < FREEZE_POLLS; i++) {
		_cleanup_free_ char *s = NULL;
		uint64_t v = 0;
		if (which == 1) {
			if (cgroup_read_trimmed(cg->v2fd, "cgroup.events", &s) < 0)
				return false;
			if (cgroup_keyed_u64(s, "frozen", &v) == 0 && v == 1)
				return true;
		} else {
			if (cgroup_read_trimmed(m->hier[m->freezer].fd, rel, &s) < 0)
				return false;
			if (strcmp(s, "FROZEN") == 0)
				return true;
		}
		sleep_ns(FREEZE_POLL_NS);
	}
	return false;
}

/* Kills by reading cgroup.procs, for kernels without cgroup.kill. */
static int cg_kill_procs(struct container_cgroup *cg)
{
	const struct cgroup_manager *m = cg->m;
	_cleanup_close_ int own = -1;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;
	int fd = cg->v2fd, r;

	/* Every process of the container is in the v2 cgroup if there is one, else in every v1
	 * hierarchy it was attached to, the first one at least. */
	for (size_t i = 0; fd < 0 && i < m->n_hier; i++) {
		if (!(cg->present & (1u << i)))
			continue;
		own = openat(m->hier[i].fd, cg->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (own < 0)
			return errno == ENOENT ? 0 : -errno;
		fd = own;
	}
	if (fd < 0)
		return 0;
	r = cgroup_read_pids(fd, &pids, &n);
	if (r < 0 || n == 0)
		return r == -ENOENT ? 0 : r;

	int which = cg_freeze(cg, true, 0);
	bool frozen = which && cg_wait_frozen(cg, which);
	r = kill_procs(fd, frozen ? 1 : KILL_ROUNDS);
	if (which)
		cg_freeze(cg, false, which);
	return r;
}

int cgroup_kill(struct container_cgroup *cg)
{
	if (!cg)
		return 0;
	/* cgroup.kill (Linux 5.14) kills the whole subtree at once: no pid reuse or fork races. */
	if (cg->v2fd >= 0 && !cgroup_testing_no_kill_file) {
		int r = write_string_at(cg->v2fd, "cgroup.kill", "1");
		if (r == 0)
			return 0;
		if (r != -ENOENT)
			log_errno(LOG_LEVEL_DEBUG, r, "cannot write cgroup.kill of cgroup %s: %m", cg->id);
	}
	return cg_kill_procs(cg);
}

/* Removes the cgroup name below parentfd and all cgroups below it, depth first, killing what
 * each holds (only cgroup.kill is recursive). A container that mounted its cgroupfs read-write
 * may have created such child cgroups; they are part of the container's. */
static int remove_subtree(int parentfd, const char *name, unsigned depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	int fd;

	if (depth > SUBTREE_DEPTH_MAX)
		return -EBUSY;
	fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)remove_subtree(dirfd(d), e->d_name, depth + 1);
	(void)kill_procs(dirfd(d), KILL_ROUNDS);
	if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0)
		return -errno;
	return 0;
}

/* Removes the container's directory wherever it still exists, the v2 one first; thorough also
 * removes child cgroups. Returns -EBUSY while any of them is populated. */
int cgroup_remove(struct container_cgroup *cg, bool thorough)
{
	const struct cgroup_manager *m = cg->m;
	bool busy = false;
	int ret = 0;

	for (size_t i = m->n_hier; i-- > 0;) {
		const struct hierarchy *h = &m->hier[i];
		int r = 0;

		if (!(cg->present & (1u << i)))
			continue;
		if (unlinkat(h->fd, cg->id, AT_REMOVEDIR) < 0)
			r = -errno;
		if (r == -EBUSY && thorough)
			r = remove_subtree(h->fd, cg->id, 0);
		if (r == 0 || r == -ENOENT) {
			cg->present &= ~(1u << i);
			if ((int)i == m->v2)
				cg->v2fd = safe_close(cg->v2fd);
		} else if (r == -EBUSY) {
			busy = true;
		} else {
			log_errno(LOG_LEVEL_WARNING, r, "cannot remove the cgroup %s/%s: %m", h->path, cg->id);
			if (ret == 0)
				ret = r;
		}
	}
	return busy ? -EBUSY : ret;
}

int cgroup_destroy(struct container_cgroup *cg)
{
	int r;

	if (!cg)
		return 0;
	/* Mostly the container's processes are gone by now and removing simply works: try that
	 * first, and kill only when something keeps a cgroup busy. */
	r = cgroup_remove(cg, false);
	if (r != -EBUSY)
		goto done;
	(void)cgroup_kill(cg);
	r = cgroup_remove(cg, true);
done:
	if (r == 0)
		log_debug("removed cgroup %s", cg->id);
	return r;
}
