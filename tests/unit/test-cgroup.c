/* Unit tests for runtime/cgroup.c against the real cgroups of this host (needs root): layout
 * detection, the limit files, attaching with and without CLONE_INTO_CGROUP, kill (cgroup.kill and
 * the cgroup.procs fallback), OOM and pids limits, removal with child cgroups, rollback of a failed
 * create, and what a container's cgroup lifecycle costs.
 *
 * The expected directories are worked out here independently of the module, from
 * /proc/self/cgroup and the standard mount points. Everything the test creates is recorded, so
 * it is removed (and every child killed) even when assertions fail, on a signal, or when the
 * watchdog fires. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macros.h"
#include "runtime/cgroup-internal.h"
#include "tests/tap.h"

#define MIB (1024ull * 1024)
#define MAX_HIER 32
#define MAX_TRACKED 256
#define WATCHDOG_S 300
#define TIMING_ITERATIONS 200

struct thier {
	char path[PATH_MAX / 2]; /* the test's own cgroup in this hierarchy */
	char ctrl[64];  /* controllers, "" for cgroup2 */
	bool v2;
};

static struct thier hier[MAX_HIER];
static int n_hier;
/* v1 hierarchies of controllers containd has no setting for (cpuset, blkio, ...): containers get
 * no cgroup there and stay in the daemon's. */
static struct thier unused_hier[MAX_HIER];
static int n_unused;
static const char *expected_layout;
static bool v2_root;

/* What to undo: children to kill, directories to remove (in reverse order). */
static volatile pid_t kids[MAX_TRACKED];
static char dirs[MAX_TRACKED][PATH_MAX];
static volatile int n_dirs;

/* snprintf that treats truncation as the test's own bug. */
static void fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "path too long: %s\n", buf);
		abort();
	}
}

static void skip(const char *reason)
{
	printf("ok %d # SKIP %s\n", ++tap_count, reason);
	fflush(stdout);
}

static void track_pid(pid_t pid)
{
	for (int i = 0; i < MAX_TRACKED; i++)
		if (kids[i] == 0) {
			kids[i] = pid;
			return;
		}
}

static void untrack_pid(pid_t pid)
{
	for (int i = 0; i < MAX_TRACKED; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

static void track_dir(const char *path)
{
	if (n_dirs < MAX_TRACKED)
		fmt(dirs[n_dirs++], sizeof(dirs[0]), "%s", path);
}

/* Kills every recorded child and removes every recorded directory; async-signal-safe. */
static void cleanup(void)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < MAX_TRACKED; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	for (int i = 0; i < MAX_TRACKED; i++)
		if (kids[i] > 0) {
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans we reap as subreaper */
		;
	for (int i = n_dirs - 1; i >= 0; i--)
		for (int tries = 0; tries < 1000; tries++) {
			if (rmdir(dirs[i]) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY)
				break;
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			nanosleep(&ms, NULL);
		}
	n_dirs = 0;
}

static bool is_cgroup2(const char *path)
{
	struct statfs s;
	return statfs(path, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ',' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* Works out the hierarchies as the module should: v1 ones in /proc/self/cgroup order, then v2. */
static int find_hierarchies(void)
{
	char line[1024], v2own[512] = "";
	bool have_v2 = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return -errno;
	v2_root = is_cgroup2("/sys/fs/cgroup");
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *path;
		if (!ctrl || !(path = strchr(ctrl + 1, ':')))
			continue;
		*ctrl++ = '\0';
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (strcmp(path, "/") == 0)
			path = "";
		if (*ctrl == '\0') {
			fmt(v2own, sizeof(v2own), "%s", path);
			have_v2 = true;
			continue;
		}
		if (v2_root || strncmp(ctrl, "name=", 5) == 0 || n_hier >= MAX_HIER)
			continue;
		bool used = false;
		static const char *const used_ctrl[] = { "cpu", "memory", "pids", "freezer", "devices" };
		for (size_t i = 0; i < sizeof(used_ctrl) / sizeof(used_ctrl[0]); i++)
			used = used || has_word(ctrl, used_ctrl[i]);
		if (!used && n_unused >= MAX_HIER)
			continue;
		struct thier *h = used ? &hier[n_hier] : &unused_hier[n_unused];
		char mnt[PATH_MAX];
		fmt(mnt, sizeof(mnt), "/sys/fs/cgroup/%s", ctrl);
		if (access(mnt, F_OK) < 0)
			fmt(mnt, sizeof(mnt), "/sys/fs/cgroup/%.*s", (int)strcspn(ctrl, ","), ctrl);
		if (access(mnt, F_OK) < 0)
			continue;
		fmt(h->path, sizeof(h->path), "%s%s", mnt, path);
		fmt(h->ctrl, sizeof(h->ctrl), "%s", ctrl);
		if (used)
			n_hier++;
		else
			n_unused++;
	}
	fclose(f);
	if (have_v2 && v2_root) {
		/* The module moves itself into <own>/supervisor; a re-run finds us there already. */
		size_t n = strlen(v2own);
		if (n > 11 && strcmp(v2own + n - 11, "/supervisor") == 0)
			v2own[n - 11] = '\0';
		fmt(hier[n_hier].path, sizeof(hier[0].path), "/sys/fs/cgroup%s", v2own);
		hier[n_hier++].v2 = true;
		expected_layout = "v2";
	} else if (have_v2 && is_cgroup2("/sys/fs/cgroup/unified")) {
		fmt(hier[n_hier].path, sizeof(hier[0].path), "/sys/fs/cgroup/unified%s", v2own);
		hier[n_hier++].v2 = true;
		expected_layout = "hybrid";
	} else {
		expected_layout = "v1";
	}
	return 0;
}


static char *read_str(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

/* The hierarchy holding controller c for containers, or -1 (on v2: if enabled for children). */
static int hier_of(const char *c)
{
	for (int i = 0; i < n_hier; i++) {
		if (hier[i].v2 && v2_root) {
			char p[PATH_MAX];
			fmt(p, sizeof(p), "%s/cgroup.subtree_control", hier[i].path);
			const char *s = read_str(p);
			return s && has_word(s, c) ? i : -1;
		}
		if (!hier[i].v2 && has_word(hier[i].ctrl, c))
			return i;
	}
	return -1;
}

static void cg_path(char *buf, size_t size, int i, const char *id, const char *file)
{
	fmt(buf, size, "%s/%s%s%s", hier[i].path, id, file ? "/" : "", file ? file : "");
}

/* Records the container's directories for cleanup (before creating them, so a crash mid-way
 * is covered too). */
static void track_cgroup(const char *id)
{
	char p[PATH_MAX];
	for (int i = 0; i < n_hier; i++) {
		cg_path(p, sizeof(p), i, id, NULL);
		track_dir(p);
	}
}

static int count_existing(const char *id)
{
	char p[PATH_MAX];
	int n = 0;
	for (int i = 0; i < n_hier; i++) {
		cg_path(p, sizeof(p), i, id, NULL);
		n += access(p, F_OK) == 0;
	}
	return n;
}

static bool procs_has(const char *dir, pid_t pid)
{
	char p[PATH_MAX], want[32];
	fmt(p, sizeof(p), "%s/cgroup.procs", dir);
	fmt(want, sizeof(want), "%d", (int)pid);
	const char *s = read_str(p);
	for (const char *q = s; q && *q; q += strcspn(q, "\n"), q += *q == '\n') {
		size_t len = strcspn(q, "\n");
		if (len == strlen(want) && strncmp(q, want, len) == 0)
			return true;
	}
	return false;
}

static int procs_count(const char *dir)
{
	char p[PATH_MAX];
	int n = 0;
	fmt(p, sizeof(p), "%s/cgroup.procs", dir);
	const char *s = read_str(p);
	if (!s)
		return -1;
	for (const char *q = s; *q; q += strcspn(q, "\n"), q += *q == '\n')
		n++;
	return n;
}

static void check_file(int i, const char *id, const char *file, const char *want)
{
	char p[PATH_MAX];
	cg_path(p, sizeof(p), i, id, file);
	is_str(read_str(p), want, "%s contains %s", p, want);
}

/* Copies a file of <id> into <id>/inner. */
static void copy_file(int i, const char *id, const char *file)
{
	char src[PATH_MAX], dst[PATH_MAX + 64], val[256];
	cg_path(src, sizeof(src), i, id, file);
	fmt(val, sizeof(val), "%s", read_str(src) ? read_str(src) : "");
	fmt(dst, sizeof(dst), "%s/%s/inner/%s", hier[i].path, id, file);
	int fd = open(dst, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = write(fd, val, strlen(val));
		(void)n;
		close(fd);
	}
}

/* A child process, started with clone3() into cgfd (unless -1). It waits for the go byte, so the
 * parent can attach it first, then runs fn and exits with its result. */
struct kid {
	pid_t pid;
	int go_fd;
};

static int spawn(int cgfd, int (*fn)(void *), void *arg, struct kid *k)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	int p[2];
	long pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (cgfd >= 0) {
		args.flags = CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		int r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		char c;
		close(p[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		close(p[0]);
		_exit(fn ? fn(arg) : 0);
	}
	close(p[0]);
	track_pid((pid_t)pid);
	k->pid = (pid_t)pid;
	k->go_fd = p[1];
	return 0;
}

static void go(struct kid *k)
{
	if (k->go_fd >= 0) {
		ssize_t n = write(k->go_fd, "g", 1);
		(void)n;
		k->go_fd = safe_close(k->go_fd);
	}
}

/* Waits up to timeout_ms for the child; returns its status, or -1 on timeout. */
static int reap(pid_t pid, int timeout_ms)
{
	struct timespec ms = { 0, 1000000 };
	int status;

	if (pid <= 0)
		return -1;
	for (int t = 0; t <= timeout_ms; t++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			untrack_pid(pid);
			return status;
		}
		if (r < 0)
			return -1;
		nanosleep(&ms, NULL);
	}
	return -1;
}

static bool killed_by(int status, int sig)
{
	return status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

/* Destroys, retrying on -EBUSY like the daemon does; reaps orphans that reparented to us. */
static int destroy_retry(struct container_cgroup *cg, int *ret_tries)
{
	struct timespec ms = { 0, 1000000 };
	int r, tries = 0;

	while ((r = cgroup_destroy(cg)) == -EBUSY && tries < 3000) {
		tries++;
		nanosleep(&ms, NULL);
	}
	if (ret_tries)
		*ret_tries = tries;
	return r;
}

static int child_pause(void *arg)
{
	for (;;)
		pause();
	return 0;
}

/* Forks *(int *)arg children that sleep, then sleeps itself. */
static int child_forks(void *arg)
{
	for (int i = 0; i < *(int *)arg; i++) {
		pid_t p = fork();
		if (p == 0)
			for (;;)
				pause();
	}
	for (;;)
		pause();
	return 0;
}

static int child_oom(void *arg)
{
	size_t size = 100 * MIB;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 2;
	for (size_t off = 0; off < size; off += 4096)
		p[off] = 1;
	return 0; /* survived: the limit did not work */
}

/* Forks until fork() fails, and reports how many succeeded and the errno through a pipe. */
static int child_fork_until_fail(void *arg)
{
	int fd = *(int *)arg, res[2] = { 0, 0 };
	for (int i = 0; i < 16; i++) {
		pid_t p = fork();
		if (p == 0)
			for (;;)
				pause();
		if (p < 0) {
			res[1] = errno;
			break;
		}
		res[0]++;
	}
	if (write(fd, res, sizeof(res)) != sizeof(res))
		return 3;
	for (;;)
		pause();
	return 0;
}

static void make_id(char *buf, size_t size, const char *what)
{
	fmt(buf, size, "test-cgroup-%d-%s", (int)getpid(), what);
}

static void test_validate(struct cgroup_manager *m)
{
	char *err = NULL, want[128];
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct cgroup_limits l;
	int r;

	l = (struct cgroup_limits){ .memory = 1 * MIB };
	r = cgroup_limits_validate(m, &l, &err);
	is_int(r, -EINVAL, "validate: 1 MiB of memory is refused");
	ok(err && strstr(err, "6 MiB"), "validate: the message names the minimum: %s", err ? err : "(none)");
	free(err);
	err = NULL;

	l = (struct cgroup_limits){ .cpus_milli = (uint64_t)ncpus * 1000 + 1 };
	r = cgroup_limits_validate(m, &l, &err);
	is_int(r, -ERANGE, "validate: more CPUs than online are refused");
	fmt(want, sizeof(want), "range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available",
		 ncpus, ncpus);
	is_str(err, want, "validate: Docker's message for the CPU range");
	free(err);
	err = NULL;

	l = (struct cgroup_limits){ .cpus_milli = 5 };
	is_int(cgroup_limits_validate(m, &l, NULL), -ERANGE, "validate: 0.005 CPUs are refused");
	l = (struct cgroup_limits){ .pids = -5 };
	is_int(cgroup_limits_validate(m, &l, NULL), -EINVAL, "validate: a negative pids limit is refused");
	l = (struct cgroup_limits){ .pids = 5000000 };
	is_int(cgroup_limits_validate(m, &l, NULL), -ERANGE, "validate: a pids limit above PID_MAX_LIMIT is refused");
	l = (struct cgroup_limits){ 0 };
	is_int(cgroup_limits_validate(m, &l, NULL), 0, "validate: no limits are fine");
	/* A limit the host cannot enforce is refused, not ignored. */
	static const char *const ctrls[] = { "memory", "pids", "cpu" };
	for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
		if (hier_of(ctrls[i]) >= 0)
			continue;
		l = (struct cgroup_limits){ .memory = i == 0 ? 64 * MIB : 0, .pids = i == 1 ? 10 : 0,
					    .cpus_milli = i == 2 ? 500 : 0 };
		err = NULL;
		r = cgroup_limits_validate(m, &l, &err);
		is_int(r, -EOPNOTSUPP, "validate: no %s controller: refused (%s)", ctrls[i], err ? err : "no message");
		free(err);
	}
	if (hier_of("memory") >= 0 && hier_of("pids") >= 0 && hier_of("cpu") >= 0) {
		l = (struct cgroup_limits){ .memory = 6 * MIB, .pids = 1, .cpus_milli = (uint64_t)ncpus * 1000 };
		is_int(cgroup_limits_validate(m, &l, NULL), 0, "validate: the boundary values are accepted");
		l.cpus_milli = 10;
		is_int(cgroup_limits_validate(m, &l, NULL), 0, "validate: 0.01 CPUs are accepted");
	} else {
		skip("memory, pids or cpu controller missing");
		skip("memory, pids or cpu controller missing");
	}
}

static void test_create_invalid(struct cgroup_manager *m)
{
	static const char *const bad_ids[] = { "", "../escape", "a/b", "memory.max", "supervisor", ".hidden" };
	struct container_cgroup *cg = NULL;
	struct cgroup_limits l = { .memory = 1 * MIB };
	char id[80], *err = NULL;
	int r;

	make_id(id, sizeof(id), "invalid");
	track_cgroup(id);
	r = cgroup_create(m, id, &l, &cg, &err);
	is_int(r, -EINVAL, "create: invalid limits are refused (%s)", err ? err : "no message");
	ok(cg == NULL, "create: nothing returned on failure");
	is_int(count_existing(id), 0, "create: invalid limits leave no directory behind");
	free(err);
	for (size_t i = 0; i < ARRAY_SIZE(bad_ids); i++) {
		err = NULL;
		r = cgroup_create(m, bad_ids[i], NULL, &cg, &err);
		is_int(r, -EINVAL, "create: id \"%s\" is refused (%s)", bad_ids[i], err ? err : "no message");
		free(err);
	}
}

/* Limits, both ways of getting a process in, kill, removal. */
static void test_lifecycle(struct cgroup_manager *m)
{
	struct container_cgroup *cg = NULL;
	struct cgroup_limits l = { .memory = 64 * MIB, .pids = 64, .cpus_milli = 500 };
	struct kid a = { 0, -1 }, b = { 0, -1 };
	int mem = hier_of("memory"), pids = hier_of("pids"), cpu = hier_of("cpu"), cpuset = hier_of("cpuset");
	char id[80], p[PATH_MAX], *err = NULL;
	int r, fd;

	make_id(id, sizeof(id), "life");
	track_cgroup(id);
	if (mem < 0 || pids < 0 || cpu < 0) {
		skip("memory, pids or cpu controller missing: limits not tested");
		l = (struct cgroup_limits){ 0 };
	}
	r = cgroup_create(m, id, &l, &cg, &err);
	is_int(r, 0, "lifecycle: create with limits (%s)", err ? err : "ok");
	free(err);
	err = NULL;
	if (r < 0)
		return;
	is_int(count_existing(id), n_hier, "lifecycle: a directory in each of the %d hierarchies", n_hier);

	if (mem >= 0 && hier[mem].v2) {
		check_file(mem, id, "memory.max", "67108864");
		cg_path(p, sizeof(p), mem, id, "memory.swap.max");
		if (access(p, F_OK) == 0)
			check_file(mem, id, "memory.swap.max", "0");
	} else if (mem >= 0) {
		check_file(mem, id, "memory.limit_in_bytes", "67108864");
		cg_path(p, sizeof(p), mem, id, "memory.memsw.limit_in_bytes");
		if (access(p, F_OK) == 0)
			check_file(mem, id, "memory.memsw.limit_in_bytes", "67108864");
	}
	if (pids >= 0)
		check_file(pids, id, "pids.max", "64");
	if (cpu >= 0 && hier[cpu].v2) {
		check_file(cpu, id, "cpu.max", "50000 100000");
	} else if (cpu >= 0) {
		check_file(cpu, id, "cpu.cfs_period_us", "100000");
		check_file(cpu, id, "cpu.cfs_quota_us", "50000");
	}
	if (cpuset >= 0 && !hier[cpuset].v2) {
		char want[256];
		fmt(p, sizeof(p), "%s/cpuset.cpus", hier[cpuset].path);
		fmt(want, sizeof(want), "%s", read_str(p) ? read_str(p) : "?");
		check_file(cpuset, id, "cpuset.cpus", want);
		fmt(p, sizeof(p), "%s/cpuset.mems", hier[cpuset].path);
		fmt(want, sizeof(want), "%s", read_str(p) ? read_str(p) : "?");
		check_file(cpuset, id, "cpuset.mems", want);
	}

	fd = cgroup_clone_fd(cg);
	if (strcmp(expected_layout, "v1") == 0) {
		is_int(fd, -1, "lifecycle: no clone fd on v1");
	} else {
		char link[64], target[PATH_MAX];
		ssize_t n;
		fmt(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		cg_path(p, sizeof(p), n_hier - 1, id, NULL);
		is_str(target, p, "lifecycle: the clone fd is the v2 cgroup");
		is_int(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "lifecycle: the clone fd is close-on-exec");
	}

	/* a: cloned into the v2 cgroup, b: not (the fallback of a caller without clone3). */
	is_int(spawn(fd, child_pause, NULL, &a), 0, "lifecycle: clone3 into the cgroup");
	is_int(spawn(-1, child_pause, NULL, &b), 0, "lifecycle: plain child");
	if (a.pid > 0) {
		r = cgroup_attach(cg, a.pid, &err);
		is_int(r, 0, "lifecycle: attach the cloned child (%s)", err ? err : "ok");
		free(err);
		err = NULL;
	}
	if (b.pid > 0) {
		r = cgroup_attach(cg, b.pid, &err);
		is_int(r, 0, "lifecycle: attach the plain child (%s)", err ? err : "ok");
		free(err);
		err = NULL;
	}
	go(&a);
	go(&b);
	for (int i = 0; i < n_hier; i++) {
		cg_path(p, sizeof(p), i, id, NULL);
		ok(a.pid > 0 && procs_has(p, a.pid) && b.pid > 0 && procs_has(p, b.pid),
		   "lifecycle: both children are in %s", p);
	}
	for (int i = 0; i < n_unused; i++) {
		fmt(p, sizeof(p), "%s/%s", unused_hier[i].path, id);
		ok(access(p, F_OK) < 0 && errno == ENOENT, "lifecycle: no cgroup in %s, which has no setting", p);
		ok(a.pid > 0 && procs_has(unused_hier[i].path, a.pid) && b.pid > 0 && procs_has(unused_hier[i].path, b.pid),
		   "lifecycle: both children stay in %s", unused_hier[i].path);
	}
	ok(!cgroup_oom_killed(cg), "lifecycle: no OOM kill reported");

	is_int(cgroup_kill(cg), 0, "lifecycle: kill");
	ok(killed_by(reap(a.pid, 5000), SIGKILL), "lifecycle: the cloned child died of SIGKILL");
	ok(killed_by(reap(b.pid, 5000), SIGKILL), "lifecycle: the plain child died of SIGKILL");

	is_int(destroy_retry(cg, NULL), 0, "lifecycle: destroy");
	is_int(count_existing(id), 0, "lifecycle: every directory is gone");
	is_int(cgroup_destroy(cg), 0, "lifecycle: destroy again is fine");
	is_int(cgroup_clone_fd(cg), -1, "lifecycle: no clone fd after destroy");
	cgroup_free(cg);
}

/* A live container with a child cgroup of its own (as a container that mounted cgroupfs
 * read-write could make) is destroyed without an explicit kill. */
static void test_destroy_live(struct cgroup_manager *m)
{
	struct container_cgroup *cg = NULL;
	struct kid a = { 0, -1 };
	char id[80], inner[PATH_MAX], p[PATH_MAX], buf[32];
	int r, tries = 0;

	make_id(id, sizeof(id), "live");
	track_cgroup(id);
	r = cgroup_create(m, id, NULL, &cg, NULL);
	is_int(r, 0, "destroy live: create");
	if (r < 0)
		return;
	is_int(spawn(cgroup_clone_fd(cg), child_pause, NULL, &a), 0, "destroy live: clone3");
	is_int(cgroup_attach(cg, a.pid, NULL), 0, "destroy live: attach");
	go(&a);
	/* The child goes into <id>/inner of the first and of the last hierarchy. */
	for (int i = 0; i < n_hier; i += n_hier > 1 ? n_hier - 1 : 1) {
		cg_path(inner, sizeof(inner), i, id, "inner");
		track_dir(inner);
		ok(mkdir(inner, 0755) == 0, "destroy live: mkdir %s", inner);
		if (!hier[i].v2 && has_word(hier[i].ctrl, "cpuset")) {
			/* A v1 cpuset cgroup starts empty and would refuse the task. */
			copy_file(i, id, "cpuset.cpus");
			copy_file(i, id, "cpuset.mems");
		}
		fmt(p, sizeof(p), "%s/cgroup.procs", inner);
		fmt(buf, sizeof(buf), "%d", (int)a.pid);
		int fd = open(p, O_WRONLY | O_CLOEXEC);
		ok(fd >= 0 && write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf), "destroy live: child moved into %s",
		   inner);
		safe_close(fd);
	}
	r = destroy_retry(cg, &tries);
	is_int(r, 0, "destroy live: destroy kills and removes (%d retries)", tries);
	ok(killed_by(reap(a.pid, 5000), SIGKILL), "destroy live: the child died of SIGKILL");
	is_int(count_existing(id), 0, "destroy live: every directory is gone, child cgroups too");
	cgroup_free(cg);
}

/* The path for kernels without cgroup.kill: freeze, read cgroup.procs, pidfd, SIGKILL. */
static void test_kill_fallback(struct cgroup_manager *m)
{
	struct container_cgroup *cg = NULL;
	struct kid a = { 0, -1 };
	char id[80], p[PATH_MAX];
	int r, n = 5, count = -1;
	struct timespec ms = { 0, 1000000 };

	make_id(id, sizeof(id), "fallback");
	track_cgroup(id);
	r = cgroup_create(m, id, NULL, &cg, NULL);
	is_int(r, 0, "kill fallback: create");
	if (r < 0)
		return;
	is_int(spawn(cgroup_clone_fd(cg), child_forks, &n, &a), 0, "kill fallback: clone3");
	is_int(cgroup_attach(cg, a.pid, NULL), 0, "kill fallback: attach");
	go(&a);
	cg_path(p, sizeof(p), 0, id, NULL);
	for (int t = 0; t < 5000 && (count = procs_count(p)) < n + 1; t++)
		nanosleep(&ms, NULL);
	is_int(count, n + 1, "kill fallback: %d processes in %s", n + 1, p);

	cgroup_testing_no_kill_file = true;
	is_int(cgroup_kill(cg), 0, "kill fallback: kill without cgroup.kill");
	cgroup_testing_no_kill_file = false;
	ok(killed_by(reap(a.pid, 5000), SIGKILL), "kill fallback: the child died of SIGKILL");
	for (int t = 0; t < 5000 && (count = procs_count(p)) > 0; t++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		nanosleep(&ms, NULL);
	}
	is_int(count, 0, "kill fallback: all %d processes are gone", n + 1);
	if (strcmp(expected_layout, "v1") != 0) {
		cg_path(p, sizeof(p), n_hier - 1, id, "cgroup.freeze");
		is_str(read_str(p), "0", "kill fallback: the cgroup is thawed again");
	} else if (hier_of("freezer") >= 0) {
		cg_path(p, sizeof(p), hier_of("freezer"), id, "freezer.state");
		is_str(read_str(p), "THAWED", "kill fallback: the cgroup is thawed again");
	}
	is_int(destroy_retry(cg, NULL), 0, "kill fallback: destroy");
	cgroup_free(cg);
}

static void test_oom(struct cgroup_manager *m)
{
	struct container_cgroup *cg = NULL;
	struct cgroup_limits l = { .memory = 20 * MIB };
	struct kid a = { 0, -1 };
	char id[80];
	int r, status;

	if (hier_of("memory") < 0) {
		skip("no memory controller");
		return;
	}
	make_id(id, sizeof(id), "oom");
	track_cgroup(id);
	r = cgroup_create(m, id, &l, &cg, NULL);
	is_int(r, 0, "oom: create with a 20 MiB limit");
	if (r < 0)
		return;
	ok(!cgroup_oom_killed(cg), "oom: no OOM kill before");
	is_int(spawn(cgroup_clone_fd(cg), child_oom, NULL, &a), 0, "oom: clone3");
	is_int(cgroup_attach(cg, a.pid, NULL), 0, "oom: attach");
	go(&a);
	status = reap(a.pid, 30000);
	ok(killed_by(status, SIGKILL), "oom: touching 100 MiB gets SIGKILL (status %#x)", status);
	ok(cgroup_oom_killed(cg), "oom: reported as OOM-killed");
	is_int(destroy_retry(cg, NULL), 0, "oom: destroy");
	cgroup_free(cg);
}

static void test_pids(struct cgroup_manager *m)
{
	struct container_cgroup *cg = NULL;
	struct cgroup_limits l = { .pids = 4 };
	struct kid a = { 0, -1 };
	char id[80];
	int r, p[2], res[2] = { -1, -1 };

	if (hier_of("pids") < 0) {
		skip("no pids controller");
		return;
	}
	make_id(id, sizeof(id), "pids");
	track_cgroup(id);
	r = cgroup_create(m, id, &l, &cg, NULL);
	is_int(r, 0, "pids: create with pids 4");
	if (r < 0 || pipe2(p, O_CLOEXEC) < 0)
		goto out;
	is_int(spawn(cgroup_clone_fd(cg), child_fork_until_fail, &p[1], &a), 0, "pids: clone3");
	close(p[1]);
	is_int(cgroup_attach(cg, a.pid, NULL), 0, "pids: attach");
	go(&a);
	ok(read(p[0], res, sizeof(res)) == sizeof(res), "pids: the child reports");
	close(p[0]);
	is_int(res[0], 3, "pids: 3 forks succeed next to the child itself");
	is_int(res[1], EAGAIN, "pids: the next fork fails with EAGAIN");
	is_int(cgroup_kill(cg), 0, "pids: kill");
	ok(killed_by(reap(a.pid, 5000), SIGKILL), "pids: the child died of SIGKILL");
	is_int(destroy_retry(cg, NULL), 0, "pids: destroy");
out:
	cgroup_free(cg);
}

/* A failing create removes what it made, and leaves alone what it did not. */
static void test_rollback(struct cgroup_manager *m)
{
	struct container_cgroup *cg = NULL;
	char id[80], dir[PATH_MAX], inner[PATH_MAX], *err = NULL;
	int last = n_hier - 1, r;

	make_id(id, sizeof(id), "rollback");
	track_cgroup(id);
	cg_path(dir, sizeof(dir), last, id, NULL);
	cg_path(inner, sizeof(inner), last, id, "inner");
	track_dir(inner);
	ok(mkdir(dir, 0755) == 0 && mkdir(inner, 0755) == 0, "rollback: a busy cgroup %s exists", dir);
	r = cgroup_create(m, id, NULL, &cg, &err);
	is_int(r, -EEXIST, "rollback: create fails (%s)", err ? err : "no message");
	free(err);
	is_int(count_existing(id), 1, "rollback: only the busy cgroup remains");
	ok(access(inner, F_OK) == 0, "rollback: the busy cgroup is untouched");
	rmdir(inner);

	/* An empty leftover (a daemon crashed) is replaced. */
	err = NULL;
	r = cgroup_create(m, id, NULL, &cg, &err);
	is_int(r, 0, "rollback: an empty leftover is replaced (%s)", err ? err : "ok");
	free(err);
	if (r == 0) {
		is_int(count_existing(id), n_hier, "rollback: all directories exist");
		is_int(destroy_retry(cg, NULL), 0, "rollback: destroy");
		is_int(count_existing(id), 0, "rollback: all directories are gone");
		cgroup_free(cg);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static uint64_t median_us(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2] / 1000;
}

/* What the start/stop path pays: create with limits, clone3 + attach, exit, destroy. */
static void test_timing(struct cgroup_manager *m)
{
	static uint64_t t_create[TIMING_ITERATIONS], t_attach[TIMING_ITERATIONS], t_destroy[TIMING_ITERATIONS],
		t_total[TIMING_ITERATIONS], t_clone[TIMING_ITERATIONS];
	struct cgroup_limits l = { .memory = 64 * MIB, .pids = 64, .cpus_milli = 1000 };
	int failures = 0, busy = 0, done = 0, r;

	bool limits = hier_of("memory") >= 0 && hier_of("pids") >= 0 && hier_of("cpu") >= 0;

	if (!limits)
		l = (struct cgroup_limits){ 0 };
	for (int i = 0; i < TIMING_ITERATIONS; i++) {
		struct container_cgroup *cg = NULL;
		struct kid a = { 0, -1 };
		char id[80], what[16];
		uint64_t t0, t1, t2, t3, t4, t5;
		int tries = 0;

		fmt(what, sizeof(what), "time%d", i);
		make_id(id, sizeof(id), what);
		track_cgroup(id);
		t0 = now_ns();
		if (cgroup_create(m, id, &l, &cg, NULL) < 0) {
			failures++;
			continue;
		}
		t1 = now_ns();
		if (spawn(cgroup_clone_fd(cg), NULL, NULL, &a) < 0) {
			failures++;
			destroy_retry(cg, NULL);
			cgroup_free(cg);
			continue;
		}
		t2 = now_ns();
		if (cgroup_attach(cg, a.pid, NULL) < 0)
			failures++;
		t3 = now_ns();
		go(&a);
		if (reap(a.pid, 5000) != 0)
			failures++;
		t4 = now_ns();
		r = destroy_retry(cg, &tries);
		t5 = now_ns();
		busy += tries > 0;
		cgroup_free(cg);
		if (r < 0)
			failures++;
		else
			n_dirs -= n_hier; /* gone: keep the cleanup list short */
		t_create[done] = t1 - t0;
		t_clone[done] = t2 - t1;
		t_attach[done] = t3 - t2;
		t_destroy[done] = t5 - t4;
		t_total[done] = t_create[done] + t_attach[done] + t_destroy[done];
		done++;
	}
	is_int(failures, 0, "timing: %d create/clone3/attach/exit/destroy cycles", TIMING_ITERATIONS);
	if (done == 0)
		return;
	printf("# layout %s, %d hierarchies, %s, %d iterations (%d destroy retries)\n", expected_layout, n_hier,
	       limits ? "limits on memory, pids, cpu" : "no limits (controllers missing)", done, busy);
	printf("# median create %" PRIu64 " us, attach %" PRIu64 " us, destroy %" PRIu64 " us\n",
	       median_us(t_create, done), median_us(t_attach, done), median_us(t_destroy, done));
	uint64_t med = median_us(t_total, done);
	printf("# median create+attach+destroy %" PRIu64 " us (p90 %" PRIu64 " us); clone3 %" PRIu64 " us\n", med,
	       t_total[done * 9 / 10] / 1000, median_us(t_clone, done));
}

int main(void)
{
	struct cgroup_manager *m = NULL;
	char *err = NULL;
	int r;

	if (geteuid() != 0) {
		skip("needs root to create cgroups");
		return tap_done();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_cleanup_on_signals(cleanup, WATCHDOG_S);
	atexit(cleanup);
	/* Orphans of the pids and kill tests come to us, so they are reaped, not left as zombies. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	r = find_hierarchies();
	is_int(r, 0, "the test finds its own cgroups");
	r = cgroup_manager_new(&m, &err);
	is_int(r, 0, "manager: created (%s)", err ? err : "ok");
	free(err);
	if (r < 0)
		return tap_done();
	is_str(cgroup_manager_layout(m), expected_layout, "manager: layout");
	for (int i = 0; i < n_hier; i++)
		printf("# hierarchy %s: %s\n", hier[i].v2 ? "cgroup2" : hier[i].ctrl, hier[i].path);
	if (v2_root) {
		char want[PATH_MAX];
		fmt(want, sizeof(want), "0::%s/supervisor", hier[n_hier - 1].path + strlen("/sys/fs/cgroup"));
		const char *self = read_str("/proc/self/cgroup"), *v2line = self ? strstr(self, "0::") : NULL;
		while (v2line && v2line != self && v2line[-1] != '\n')
			v2line = strstr(v2line + 1, "0::");
		is_str(v2line, want, "manager: the daemon moved into its supervisor leaf");
	}

	test_validate(m);
	test_create_invalid(m);
	test_lifecycle(m);
	test_destroy_live(m);
	test_kill_fallback(m);
	test_oom(m);
	test_pids(m);
	test_rollback(m);
	test_timing(m);

	int left = 0;
	for (int i = 0; i < n_dirs; i++)
		if (access(dirs[i], F_OK) == 0) {
			printf("# left behind: %s\n", dirs[i]);
			left++;
		}
	is_int(left, 0, "no cgroup is left behind");
	cleanup();
	cgroup_manager_free(m);
	return tap_done();
}
