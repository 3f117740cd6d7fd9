/* Unit tests for runtime/cgroup-freeze.c against the real cgroups of this host (needs root): a
 * child in a test cgroup stops making progress while frozen and goes on once thawed, the freeze
 * is reported as complete, and a frozen cgroup can still be killed (kill, then thaw). Runs with
 * the freezer the module picks, and again with the v1 freezer where a hybrid host has both.
 *
 * The child counts in memory shared with the test, so its progress is read without it having to
 * run. Its cgroup is destroyed and the child killed even when an assertion fails, on a signal or
 * when the watchdog fires. */
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macros.h"
#include "runtime/cgroup-internal.h"
#include "tests/tap.h"

#define WATCHDOG_S 60

static volatile uint64_t *counter;
static volatile pid_t child = -1;
static struct container_cgroup *cg;

static void cleanup(void)
{
	if (child > 0)
		kill(child, SIGKILL);
	if (cg) {
		(void)cgroup_freeze(cg, false, NULL);
		for (int i = 0; i < 1000 && cgroup_destroy(cg) == -EBUSY; i++)
			usleep(2000);
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Waits up to 2 s until the freeze completed (the kernel stops tasks asynchronously). */
static bool wait_frozen(bool want)
{
	for (int i = 0; i < 200; i++) {
		bool f = !want;
		if (cgroup_frozen(cg, &f) == 0 && f == want)
			return true;
		sleep_ms(10);
	}
	return false;
}

/* Starts a child in the cgroup that counts for ever (cloned into the v2 cgroup if there is one,
 * attached to the v1 hierarchies before it starts counting). */
static int spawn_counter(void)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	int p[2];
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (cgroup_clone_fd(cg) >= 0) {
		args.flags = CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_clone_fd(cg);
	}
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		for (;;)
			(*counter)++;
	}
	child = (pid_t)pid;
	close(p[0]);
	int r = cgroup_attach(cg, child, NULL);
	if (write(p[1], "g", 1) != 1 && r == 0)
		r = -EIO;
	close(p[1]);
	return r;
}

/* One round: create a cgroup, freeze and thaw it empty, then with a counting child, then kill the
 * child while frozen and remove the cgroup. what names the freezer in the messages. */
static void test_freezer(struct cgroup_manager *m, const char *what)
{
	char *err = NULL, id[64];
	int r, status;

	*counter = 0;
	snprintf(id, sizeof(id), "test-freeze-%d-%s", (int)getpid(), what);
	r = cgroup_create(m, id, NULL, &cg, &err);
	is_int(r, 0, "%s: create %s (%s)", what, id, err ? err : "ok");
	free(err);
	err = NULL;
	if (r < 0)
		return;
	r = cgroup_freeze(cg, true, &err);
	if (r == -EOPNOTSUPP) {
		printf("ok %d # SKIP %s: %s\n", ++tap_count, what, err);
		free(err);
		cleanup();
		cgroup_free(cg);
		cg = NULL;
		return;
	}
	free(err);
	is_int(r, 0, "%s: freezing an empty cgroup", what);
	ok(wait_frozen(true), "%s: an empty cgroup is frozen at once", what);
	is_int(cgroup_freeze(cg, false, NULL), 0, "%s: thawing it", what);
	ok(wait_frozen(false), "%s: it is thawed", what);

	is_int(spawn_counter(), 0, "%s: a counting child in the cgroup (pid %d)", what, (int)child);
	for (int i = 0; i < 200 && *counter == 0; i++)
		sleep_ms(10);
	ok(*counter > 0, "%s: the child counts", what);

	is_int(cgroup_freeze(cg, true, NULL), 0, "%s: freeze", what);
	ok(wait_frozen(true), "%s: the freeze completes", what);
	uint64_t a = *counter;
	sleep_ms(200);
	uint64_t b = *counter;
	is_int((long long)(b - a), 0, "%s: no progress while frozen (%llu)", what, (unsigned long long)a);

	is_int(cgroup_freeze(cg, false, NULL), 0, "%s: thaw", what);
	ok(wait_frozen(false), "%s: the thaw completes", what);
	sleep_ms(100);
	ok(*counter > b, "%s: the child counts again after the thaw (%llu > %llu)", what,
	   (unsigned long long)*counter, (unsigned long long)b);

	/* A frozen container is killed, then thawed: on v1 the SIGKILL is acted on at the thaw. */
	is_int(cgroup_freeze(cg, true, NULL), 0, "%s: freeze again", what);
	ok(wait_frozen(true), "%s: frozen again", what);
	is_int(cgroup_kill(cg), 0, "%s: kill the frozen cgroup", what);
	is_int(cgroup_freeze(cg, false, NULL), 0, "%s: thaw after the kill", what);
	pid_t w = 0;
	for (int i = 0; i < 500 && (w = waitpid(child, &status, WNOHANG)) == 0; i++)
		sleep_ms(10);
	ok(w == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "%s: the child died of SIGKILL", what);
	if (w == child)
		child = -1;
	r = -EBUSY;
	for (int i = 0; i < 1000 && (r = cgroup_destroy(cg)) == -EBUSY; i++)
		sleep_ms(2);
	is_int(r, 0, "%s: the cgroup is removed", what);
	if (r == 0) {
		cgroup_free(cg);
		cg = NULL;
	}
}

int main(void)
{
	struct cgroup_manager *m = NULL;
	char *err = NULL;
	int r;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root to create cgroups\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_cleanup_on_signals(cleanup, WATCHDOG_S);
	atexit(cleanup);
	counter = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ok(counter != MAP_FAILED, "shared memory for the counter");
	if (counter == MAP_FAILED)
		return tap_done();
	r = cgroup_manager_new(&m, &err);
	is_int(r, 0, "manager: created (%s)", err ? err : "ok");
	free(err);
	if (r < 0)
		return tap_done();
	test_freezer(m, "default");
	/* A hybrid host has the v1 freezer next to the unified tree: test that path too. */
	if (strcmp(cgroup_manager_layout(m), "hybrid") == 0 && access("/sys/fs/cgroup/freezer", F_OK) == 0) {
		cgroup_testing_freezer_v1 = true;
		test_freezer(m, "v1");
		cgroup_testing_freezer_v1 = false;
	}
	if (!cg)
		cgroup_manager_free(m);
	return tap_done();
}
