/* Unit tests for cgroup_pids() (runtime/cgroup-kill.c) and procps_cgroup() (runtime/procps.c)
 * against the real cgroups of this host (needs root): an empty cgroup lists nothing; three
 * children put in a test cgroup are listed, sorted, and nothing else (not the test itself); the
 * v1 path gives the same list where the cgroup also has a v2 directory; a child that exited is no
 * longer listed; procps describes exactly the listed processes with their pids, parent and
 * command line; a removed cgroup is an error.
 *
 * The children and the cgroup are removed even when an assertion fails, on a signal or when the
 * watchdog fires. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macros.h"
#include "runtime/cgroup-internal.h"
#include "runtime/procps.h"
#include "tests/tap.h"

#define WATCHDOG_S 60
#define N_KIDS 3

static volatile pid_t kids[N_KIDS];
static struct container_cgroup *cg;

static void cleanup(void)
{
	for (int i = 0; i < N_KIDS; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	if (cg)
		for (int i = 0; i < 1000 && cgroup_destroy(cg) == -EBUSY; i++)
			usleep(2000);
}

/* Starts a child in the cgroup that sleeps until killed (cloned into the v2 cgroup if there is
 * one, attached to the v1 hierarchies before the test goes on). */
static pid_t spawn_sleeper(void)
{
	struct clone_args args = { .exit_signal = SIGCHLD };

	if (cgroup_clone_fd(cg) >= 0) {
		args.flags = CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_clone_fd(cg);
	}
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (cgroup_attach(cg, (pid_t)pid, NULL) < 0) {
		kill((pid_t)pid, SIGKILL);
		waitpid((pid_t)pid, NULL, 0);
		return -EIO;
	}
	return (pid_t)pid;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Whether cgroup_pids() lists exactly the n pids of want (sorted). */
static bool lists_exactly(const pid_t *want, size_t n, const char *what)
{
	_cleanup_free_ pid_t *pids = NULL;
	char *err = NULL;
	size_t got = 0;
	int r = cgroup_pids(cg, &pids, &got, &err);

	is_int(r, 0, "%s: cgroup_pids (%s)", what, err ? err : "ok");
	free(err);
	if (r < 0)
		return false;
	is_int((long long)got, (long long)n, "%s: the number of pids", what);
	if (got != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pids[i] != want[i]) {
			printf("# %s: pid %zu is %d, expected %d\n", what, i, (int)pids[i], (int)want[i]);
			return false;
		}
	return true;
}

/* procps_cgroup() describes the n processes of want: their pids in order, the test as their
 * parent, the test's own command line (they did not exec), root as their user. */
static void test_procps(const pid_t *want, size_t n)
{
	struct procps_table t = { 0 };
	_cleanup_free_ char *self = NULL;
	char *err = NULL, ppid[16], cmdline[4096];
	FILE *f = fopen("/proc/self/cmdline", "re");
	size_t len = f ? fread(cmdline, 1, sizeof(cmdline) - 1, f) : 0;
	int r;

	if (f)
		fclose(f);
	while (len > 0 && cmdline[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
	cmdline[len] = '\0';
	snprintf(ppid, sizeof(ppid), "%d", (int)getpid());

	r = procps_cgroup(cg, PROCPS_MAX_PROCESSES, &t, &err);
	is_int(r, 0, "procps: described (%s)", err ? err : "ok");
	free(err);
	if (r < 0)
		return;
	is_int((long long)t.n_rows, (long long)n, "procps: one row per process");
	ok(!t.truncated, "procps: not truncated");
	for (size_t i = 0; i < t.n_rows && i < n; i++) {
		char *const *row = t.cells + i * PROCPS_COLUMNS;
		char pid[16];
		snprintf(pid, sizeof(pid), "%d", (int)want[i]);
		is_str(row[1], pid, "procps: row %zu PID", i);
		is_str(row[2], ppid, "procps: row %zu PPID is the test", i);
		is_str(row[0], "root", "procps: row %zu UID", i);
		is_str(row[7], cmdline, "procps: row %zu CMD is the command line", i);
		is_str(row[5], "?", "procps: row %zu TTY", i);
	}
	procps_table_done(&t);

	/* A max below the count: the first processes, marked truncated. */
	r = procps_cgroup(cg, 1, &t, NULL);
	is_int(r, 0, "procps: described with a max of 1");
	if (r == 0) {
		is_int((long long)t.n_rows, 1, "procps: one row");
		ok(t.truncated, "procps: marked truncated");
		procps_table_done(&t);
	}
}

int main(void)
{
	struct cgroup_manager *m = NULL;
	pid_t want[N_KIDS];
	char *err = NULL, id[64];
	int r, status;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root to create cgroups\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_cleanup_on_signals(cleanup, WATCHDOG_S);
	atexit(cleanup);
	r = cgroup_manager_new(&m, &err);
	is_int(r, 0, "manager: created (%s)", err ? err : "ok");
	free(err);
	err = NULL;
	if (r < 0)
		return tap_done();
	snprintf(id, sizeof(id), "test-pids-%d", (int)getpid());
	r = cgroup_create(m, id, NULL, &cg, &err);
	is_int(r, 0, "create %s (%s)", id, err ? err : "ok");
	free(err);
	err = NULL;
	if (r < 0)
		return tap_done();

	ok(lists_exactly(NULL, 0, "empty"), "an empty cgroup lists no pid");
	for (int i = 0; i < N_KIDS; i++) {
		kids[i] = spawn_sleeper();
		ok(kids[i] > 0, "child %d in the cgroup (pid %d)", i, (int)kids[i]);
		want[i] = kids[i];
	}
	qsort(want, N_KIDS, sizeof(*want), cmp_pid);
	ok(lists_exactly(want, N_KIDS, "three"), "the three children, sorted, and not the test");

	/* The v1 path: hide the v2 directory for a moment, where there are v1 hierarchies too. */
	bool has_v1 = false;
	for (size_t i = 0; i < m->n_hier; i++)
		has_v1 |= !m->hier[i].v2 && (cg->present & (1u << i));
	if (cg->v2fd >= 0 && has_v1) {
		int v2fd = cg->v2fd;
		cg->v2fd = -1;
		ok(lists_exactly(want, N_KIDS, "v1"), "a v1 hierarchy lists the same pids");
		cg->v2fd = v2fd;
	} else {
		printf("ok %d # SKIP no v1 hierarchy next to a v2 cgroup\n", ++tap_count);
	}

	test_procps(want, N_KIDS);

	/* One child exits: it is no longer listed. */
	kill(kids[0], SIGKILL);
	ok(waitpid(kids[0], &status, 0) == kids[0], "child 0 reaped");
	pid_t gone = kids[0];
	kids[0] = 0;
	pid_t left[N_KIDS - 1];
	size_t n_left = 0;
	for (int i = 0; i < N_KIDS; i++)
		if (want[i] != gone)
			left[n_left++] = want[i];
	ok(lists_exactly(left, n_left, "after an exit"), "an exited child is no longer listed");

	for (int i = 0; i < N_KIDS; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	r = -EBUSY;
	for (int i = 0; i < 1000 && (r = cgroup_destroy(cg)) == -EBUSY; i++)
		usleep(2000);
	is_int(r, 0, "the cgroup is removed");
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	r = cgroup_pids(cg, &pids, &n, &err);
	ok(r < 0 && err, "a removed cgroup is an error with a message (%d: %s)", r, err ? err : "none");
	free(err);
	cgroup_free(cg);
	cg = NULL;
	cgroup_manager_free(m);
	return tap_done();
}
