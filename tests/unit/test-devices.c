/* Unit tests for runtime/devices.c and runtime/cgroup-devices.c: the rule parser (good, bad and
 * hostile input), and on the real cgroups of this host (as root) what a process in a container
 * cgroup may do with device nodes - under the default rules, with an added rule, allowed
 * everything, and back to the defaults - through the v1 devices controller where it is mounted
 * and through the BPF device program on the cgroup2 tree (forced on hybrid hosts with the
 * cgroup_testing_devices_bpf knob).
 *
 * The device nodes are made in a temporary directory; every cgroup, child and node the test
 * creates is removed even when assertions fail or on a signal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
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
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macros.h"
#include "runtime/cgroup-internal.h"
#include "runtime/devices.h"
#include "tests/tap.h"

#define WATCHDOG_S 120
#define MAX_DIRS   32

/* What to undo. The cgroup directories are every hierarchy's directory of each id made. */
static volatile pid_t kid;
static char tmpdir[64];
static char cg_dirs[MAX_DIRS][PATH_MAX];
static volatile int n_cg_dirs;
static char hier_paths[MAX_DIRS][PATH_MAX / 2];
static int n_hier_paths;

static const char *const node_names[] = { "blk", "kvm", "mem", "null", "kid-blk", "kid-kvm" };

static void skip(const char *reason)
{
	printf("ok %d # SKIP %s\n", ++tap_count, reason);
	fflush(stdout);
}

/* Kills the child, removes the nodes, the temp dir and the cgroups; async-signal-safe. */
static void cleanup(void)
{
	struct timespec ms = { 0, 1000000 };
	char p[PATH_MAX];

	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
		kid = 0;
	}
	if (tmpdir[0]) {
		for (size_t i = 0; i < ARRAY_SIZE(node_names); i++) {
			snprintf(p, sizeof(p), "%s/%s", tmpdir, node_names[i]);
			unlink(p);
		}
		rmdir(tmpdir);
		tmpdir[0] = '\0';
	}
	for (int i = n_cg_dirs - 1; i >= 0; i--)
		for (int tries = 0; tries < 1000; tries++) {
			if (rmdir(cg_dirs[i]) == 0 || errno != EBUSY)
				break;
			nanosleep(&ms, NULL);
		}
	n_cg_dirs = 0;
}

/* Finds the test's own cgroup in each hierarchy the module uses (standard mount points), to
 * know what to remove: v1 hierarchies at /sys/fs/cgroup/<controllers>, cgroup2 at /sys/fs/cgroup
 * or /sys/fs/cgroup/unified. */
static void find_hierarchies(void)
{
	char line[1024];
	struct statfs s;
	bool v2_root = statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n_hier_paths < MAX_DIRS) {
		char *ctrl = strchr(line, ':'), *path, mnt[PATH_MAX / 4];
		if (!ctrl || !(path = strchr(ctrl + 1, ':')))
			continue;
		*ctrl++ = '\0';
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (strcmp(path, "/") == 0)
			path = "";
		if (*ctrl == '\0') {
			snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup%s", v2_root ? "" : "/unified");
			/* On v2 the module moves us into <own>/supervisor: containers are its siblings. */
			size_t n = strlen(path);
			if (n >= 11 && strcmp(path + n - 11, "/supervisor") == 0)
				path[n - 11] = '\0';
		} else if (v2_root || strncmp(ctrl, "name=", 5) == 0) {
			continue;
		} else {
			snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%s", ctrl);
			if (access(mnt, F_OK) < 0)
				snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%.*s", (int)strcspn(ctrl, ","), ctrl);
		}
		snprintf(hier_paths[n_hier_paths++], sizeof(hier_paths[0]), "%s%s", mnt, path);
	}
	fclose(f);
}

static void track_cgroup(const char *id)
{
	for (int i = 0; i < n_hier_paths && n_cg_dirs < MAX_DIRS; i++) {
		int n = snprintf(cg_dirs[n_cg_dirs++], sizeof(cg_dirs[0]), "%s/%s", hier_paths[i], id);
		if (n < 0 || (size_t)n >= sizeof(cg_dirs[0]))
			abort(); /* a path this long is the test's own bug */
	}
}

static void test_parse_good(void)
{
	static const struct {
		const char *in, *out;
		char type;
		uint32_t major, minor;
		unsigned access;
	} good[] = {
		{ "c 10:232 rwm", "c 10:232 rwm", 'c', 10, 232, DEVICE_ACCESS_ALL },
		{ "b *:* m", "b *:* m", 'b', DEVICE_WILDCARD, DEVICE_WILDCARD, DEVICE_ACCESS_MKNOD },
		{ "a", "a *:* rwm", 'a', DEVICE_WILDCARD, DEVICE_WILDCARD, DEVICE_ACCESS_ALL },
		{ "a *:* rwm", "a *:* rwm", 'a', DEVICE_WILDCARD, DEVICE_WILDCARD, DEVICE_ACCESS_ALL },
		{ "c 136:* rw", "c 136:* rw", 'c', 136, DEVICE_WILDCARD, DEVICE_ACCESS_READ | DEVICE_ACCESS_WRITE },
		{ "c *:3 r", "c *:3 r", 'c', DEVICE_WILDCARD, 3, DEVICE_ACCESS_READ },
		{ "c 1:3 mwr", "c 1:3 rwm", 'c', 1, 3, DEVICE_ACCESS_ALL },
		{ "b 0:0 w", "b 0:0 w", 'b', 0, 0, DEVICE_ACCESS_WRITE },
		{ "c 4095:1048575 r", "c 4095:1048575 r", 'c', 4095, 1048575, DEVICE_ACCESS_READ },
		{ "c 010:0232 m", "c 10:232 m", 'c', 10, 232, DEVICE_ACCESS_MKNOD },
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct device_rule rule = { 0 };
		char *err = NULL, buf[DEVICE_RULE_STR_MAX];
		int r = devices_rule_parse(good[i].in, &rule, &err);

		is_int(r, 0, "parse \"%s\": accepted (%s)", good[i].in, err ? err : "ok");
		free(err);
		ok(rule.type == good[i].type && rule.major == good[i].major && rule.minor == good[i].minor &&
		       rule.access == good[i].access,
		   "parse \"%s\": fields", good[i].in);
		devices_rule_format(&rule, buf, sizeof(buf));
		is_str(buf, good[i].out, "parse \"%s\": formats back", good[i].in);
		is_int(devices_rule_validate(&rule, NULL), 0, "parse \"%s\": the result validates", good[i].in);
	}
}

static void test_parse_bad(void)
{
	static const struct {
		const char *in;
		int r;
	} bad[] = {
		{ "", -EINVAL },
		{ "x 1:3 rwm", -EINVAL },
		{ "C 1:3 rwm", -EINVAL },
		{ "c 1:3", -EINVAL },
		{ "c 1:3 ", -EINVAL },
		{ "c 1:3 rwmr", -EINVAL },
		{ "c 1:3 rr", -EINVAL },
		{ "c 1:3 x", -EINVAL },
		{ "c  1:3 rwm", -EINVAL },
		{ "c 1:3  rwm", -EINVAL },
		{ "c 1:3 rwm ", -EINVAL },
		{ " c 1:3 rwm", -EINVAL },
		{ "c 1 rwm", -EINVAL },
		{ "c 1:3: rwm", -EINVAL },
		{ "c :3 rwm", -EINVAL },
		{ "c 1: rwm", -EINVAL },
		{ "c -1:3 rwm", -EINVAL },
		{ "c +1:3 rwm", -EINVAL },
		{ "c 1:-3 rwm", -EINVAL },
		{ "c 0x1:3 rwm", -EINVAL },
		{ "c **:3 rwm", -EINVAL },
		{ "c 1:3 rwm\n", -EINVAL },
		{ "c\t1:3 rwm", -EINVAL },
		{ "a ", -EINVAL },
		{ "aa", -EINVAL },
		{ "c", -EINVAL },
		{ "c 4096:0 r", -ERANGE },
		{ "c 1:1048576 r", -ERANGE },
		{ "c 99999999:1 r", -ERANGE },
		{ "c 4294967295:1 r", -ERANGE },
		{ "c 1:18446744073709551617 r", -ERANGE },	    /* stops at the 8th digit */
		{ "c 1:3 rwmrwmrwmrwmrwmrwmrwmrwmrwm", -EINVAL }, /* 32 characters: too long to read */
		{ "c 1:3 rwm; a", -EINVAL },
		{ "c 1:3 r\xc3\xa9", -EINVAL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct device_rule rule = { 'z', 7, 7, 7 };
		char *err = NULL;
		int r = devices_rule_parse(bad[i].in, &rule, &err);

		is_int(r, bad[i].r, "parse \"%s\": refused", bad[i].in);
		ok(err && strstr(err, "device cgroup rule"), "parse \"%s\": message (%s)", bad[i].in,
		   err ? err : "none");
		ok(rule.type == 'z' && rule.major == 7, "parse \"%s\": the result is not touched", bad[i].in);
		free(err);
	}
	is_int(devices_rule_parse(NULL, &(struct device_rule){ 0 }, NULL), -EINVAL, "parse NULL: refused");
}

/* Input meant to hurt: very long, control characters and terminal escapes, which must not be
 * echoed back into a message a client prints. */
static void test_parse_hostile(void)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 1), *err = NULL;
	struct device_rule rule;

	if (!big)
		abort();
	memset(big, 'r', n);
	memcpy(big, "c 1:3 ", 6);
	big[n] = '\0';
	is_int(devices_rule_parse(big, &rule, &err), -EINVAL, "hostile: a 1 MiB rule is refused");
	ok(err && strlen(err) < 256 && !strstr(err, "rrrrrrrr"), "hostile: the message does not echo it (%s)",
	   err ? err : "none");
	free(err);
	err = NULL;
	free(big);
	is_int(devices_rule_parse("c 1:3 r\x1b]0;pwned\x07", &rule, &err), -EINVAL, "hostile: escape sequence refused");
	ok(err && !strchr(err, '\x1b'), "hostile: the message carries no escape character");
	free(err);
	err = NULL;

	static const struct device_rule invalid[] = {
		{ 'x', 1, 3, DEVICE_ACCESS_READ },
		{ 'c', 4096, 3, DEVICE_ACCESS_READ },
		{ 'c', 1, DEVICE_MINOR_MAX + 1, DEVICE_ACCESS_READ },
		{ 'c', 1, 3, 0 },
		{ 'c', 1, 3, 8 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++)
		ok(devices_rule_validate(&invalid[i], NULL) < 0, "validate: invalid rule %zu refused", i);
	ok(devices_rules_allow_all(&(struct device_rule){ 'a', DEVICE_WILDCARD, DEVICE_WILDCARD, DEVICE_ACCESS_ALL }, 1),
	   "allow_all: a *:* rwm allows all");
	ok(!devices_rules_allow_all(&(struct device_rule){ 'a', DEVICE_WILDCARD, DEVICE_WILDCARD, DEVICE_ACCESS_MKNOD },
				    1),
	   "allow_all: a *:* m does not");
	ok(!devices_rules_allow_all(devices_default_rules, devices_default_n), "allow_all: the defaults do not");
}

/* What the child found: 0 or -errno for each operation. */
struct probe {
	int null_rw, zero_r, copy_null_rw, mknod_blk, open_blk, mknod_chr, open_chr, open_mem, open_parent_blk;
};

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int try_mknod(const char *name, mode_t type, unsigned major, unsigned minor)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	unlink(p);
	return mknod(p, type | 0600, makedev(major, minor)) < 0 ? -errno : 0;
}

static int node_open(const char *name, int flags)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return try_open(p, flags);
}

/* Runs in the container cgroup: tries each operation. */
static void probe_run(struct probe *pr)
{
	pr->null_rw = try_open("/dev/null", O_RDWR);
	pr->zero_r = try_open("/dev/zero", O_RDONLY);
	pr->copy_null_rw = node_open("null", O_RDWR);
	pr->mknod_blk = try_mknod("kid-blk", S_IFBLK, 7, 0);
	pr->open_blk = pr->mknod_blk == 0 ? node_open("kid-blk", O_RDONLY) : 1;
	pr->mknod_chr = try_mknod("kid-kvm", S_IFCHR, 10, 232);
	pr->open_chr = pr->mknod_chr == 0 ? node_open("kid-kvm", O_RDWR) : 1;
	pr->open_mem = node_open("mem", O_RDONLY);
	pr->open_parent_blk = node_open("blk", O_RDONLY);
}

/* Starts a child in cg (cloned into its v2 cgroup, attached to the v1 ones) that probes. */
static int probe_in(struct container_cgroup *cg, struct probe *ret)
{
	struct probe *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct clone_args args = { .exit_signal = SIGCHLD };
	int p[2], status = -1, cgfd = cgroup_clone_fd(cg);
	char *err = NULL;
	long pid;

	if (shared == MAP_FAILED)
		return -errno;
	memset(shared, 0x7f, sizeof(*shared));
	if (pipe2(p, O_CLOEXEC) < 0) {
		munmap(shared, sizeof(*shared));
		return -errno;
	}
	if (cgfd >= 0) {
		args.flags = CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		char c;
		close(p[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		probe_run(shared);
		_exit(0);
	}
	close(p[0]);
	if (pid > 0) {
		kid = (pid_t)pid;
		int r = cgroup_attach(cg, (pid_t)pid, &err);
		if (r < 0)
			printf("# attach: %s\n", err ? err : "?");
		free(err);
		if (r == 0 && write(p[1], "g", 1) != 1)
			r = -EIO;
		close(p[1]);
		if (r < 0)
			kill((pid_t)pid, SIGKILL);
		waitpid((pid_t)pid, &status, 0);
		kid = 0;
	} else {
		close(p[1]);
	}
	*ret = *shared;
	munmap(shared, sizeof(*shared));
	return pid < 0 ? -errno : WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* The same operations from the test itself, which no device rule restricts. */
static void baseline(struct probe *b)
{
	probe_run(b);
}

static void expect_default(const char *what, const struct probe *p)
{
	is_int(p->null_rw, 0, "%s: /dev/null opens read-write", what);
	is_int(p->zero_r, 0, "%s: /dev/zero opens", what);
	is_int(p->copy_null_rw, 0, "%s: a copy of /dev/null (1:3) opens", what);
	is_int(p->mknod_blk, 0, "%s: mknod of a block node (7:0) is allowed", what);
	is_int(p->open_blk, -EPERM, "%s: opening it is refused", what);
	is_int(p->mknod_chr, 0, "%s: mknod of a char node not in the list (10:232) is allowed", what);
	is_int(p->open_chr, -EPERM, "%s: opening it is refused", what);
	is_int(p->open_mem, -EPERM, "%s: opening a copy of /dev/mem (1:1) is refused", what);
	is_int(p->open_parent_blk, -EPERM, "%s: opening a block node the host made is refused", what);
}

/* Checks the rules of cg through the device operations of a child, in one mode. */
static void test_mode(struct cgroup_manager *m, const char *mode, const struct probe *base)
{
	struct container_cgroup *cg = NULL;
	struct probe p;
	struct device_rule kvm, many[DEVICE_RULES_MAX + 1];
	char id[64], what[64], *err = NULL;
	int r;

	snprintf(id, sizeof(id), "test-devices-%d-%s", (int)getpid(), mode);
	track_cgroup(id);
	r = cgroup_create(m, id, NULL, &cg, &err);
	is_int(r, 0, "%s: cgroup created (%s)", mode, err ? err : "ok");
	free(err);
	err = NULL;
	if (r < 0)
		return;

	if (strcmp(mode, "v1") == 0) {
		/* The kernel's own view of the exceptions, in the order they were added. */
		char path[PATH_MAX], want[1024] = "", line[DEVICE_RULE_STR_MAX + 1];
		for (size_t i = 0; i < devices_default_n; i++) {
			devices_rule_format(&devices_default_rules[i], line, sizeof(line) - 1);
			strcat(line, "\n");
			strcat(want, line);
		}
		want[strlen(want) - 1] = '\0';
		_cleanup_free_ char *list = NULL;
		snprintf(path, sizeof(path), "%s/devices.list", id);
		r = cgroup_read_trimmed(cg->m->hier[cg->m->devices].fd, path, &list);
		is_str(r == 0 ? list : NULL, want, "v1: devices.list holds exactly the defaults");
	}

	snprintf(what, sizeof(what), "%s defaults", mode);
	is_int(probe_in(cg, &p), 0, "%s: the child ran", what);
	expect_default(what, &p);

	is_int(devices_rule_parse("a 10:232 rw", &kvm, NULL), 0, "%s: a 10:232 rw parses", mode);
	is_int(cgroup_set_devices(cg, &kvm, 1, false, &err), 0, "%s: add a 10:232 rw (%s)", mode, err ? err : "ok");
	free(err);
	err = NULL;
	snprintf(what, sizeof(what), "%s +a 10:232 rw", mode);
	is_int(probe_in(cg, &p), 0, "%s: the child ran", what);
	is_int(p.open_chr, base->open_chr, "%s: 10:232 opens as on the host", what);
	ok(base->open_chr != -EPERM, "%s: (the host may open it: the test means something)", what);
	/* To the v1 kernel "a 10:232 rw" would mean "a": everything. */
	is_int(p.open_mem, -EPERM, "%s: 1:1 still refused", what);
	is_int(p.open_blk, -EPERM, "%s: 7:0 still refused", what);
	is_int(p.null_rw, 0, "%s: /dev/null still opens", what);

	is_int(cgroup_set_devices(cg, NULL, 0, true, &err), 0, "%s: allow all (%s)", mode, err ? err : "ok");
	free(err);
	err = NULL;
	snprintf(what, sizeof(what), "%s allow all", mode);
	is_int(probe_in(cg, &p), 0, "%s: the child ran", what);
	is_int(p.open_chr, base->open_chr, "%s: 10:232 as on the host", what);
	is_int(p.open_mem, base->open_mem, "%s: 1:1 as on the host", what);
	is_int(p.open_blk, base->open_blk, "%s: 7:0 as on the host", what);
	ok(base->open_blk != -EPERM, "%s: (the host may open 7:0: the test means something)", what);
	is_int(p.open_parent_blk, base->open_parent_blk, "%s: the host's 7:0 node as on the host", what);

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = kvm;
	r = cgroup_set_devices(cg, many, ARRAY_SIZE(many), false, &err);
	is_int(r, -E2BIG, "%s: more than %d extra rules refused (%s)", mode, DEVICE_RULES_MAX, err ? err : "none");
	free(err);
	err = NULL;
	many[3].access = 0;
	is_int(cgroup_set_devices(cg, many, 5, false, NULL), -EINVAL, "%s: an invalid rule refused", mode);

	is_int(cgroup_set_devices(cg, NULL, 0, false, &err), 0, "%s: back to the defaults (%s)", mode,
	       err ? err : "ok");
	free(err);
	err = NULL;
	snprintf(what, sizeof(what), "%s defaults again", mode);
	is_int(probe_in(cg, &p), 0, "%s: the child ran", what);
	expect_default(what, &p);

	is_int(cgroup_set_devices(cg, &(struct device_rule){ 'a', DEVICE_WILDCARD, DEVICE_WILDCARD, DEVICE_ACCESS_ALL },
				  1, false, NULL),
	       0, "%s: a rule a *:* rwm", mode);
	is_int(probe_in(cg, &p), 0, "%s a *:* rwm: the child ran", mode);
	is_int(p.open_chr, base->open_chr, "%s a *:* rwm: allows all", mode);

	for (int tries = 0; (r = cgroup_destroy(cg)) == -EBUSY && tries < 1000; tries++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	is_int(r, 0, "%s: cgroup destroyed", mode);
	cgroup_free(cg);
}

/* Makes the host-side nodes: a copy of /dev/null, of /dev/mem and a block node 7:0 (loop0). */
static int make_nodes(void)
{
	struct statvfs sv;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-devices-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return -errno;
	}
	if (statvfs(tmpdir, &sv) == 0 && (sv.f_flag & ST_NODEV))
		return -EOPNOTSUPP;
	if (try_mknod("null", S_IFCHR, 1, 3) < 0 || try_mknod("mem", S_IFCHR, 1, 1) < 0 ||
	    try_mknod("blk", S_IFBLK, 7, 0) < 0)
		return -errno;
	return 0;
}

int main(void)
{
	struct cgroup_manager *m = NULL;
	struct probe base;
	char *err = NULL;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_parse_good();
	test_parse_bad();
	test_parse_hostile();

	if (geteuid() != 0) {
		skip("needs root for cgroups and device nodes");
		return tap_done();
	}
	tap_cleanup_on_signals(cleanup, WATCHDOG_S);
	atexit(cleanup);
	find_hierarchies();

	r = make_nodes();
	if (r < 0) {
		printf("# cannot make device nodes in %s: %s\n", tmpdir, strerror(-r));
		skip("device nodes");
		return tap_done();
	}
	baseline(&base);
	is_int(base.open_chr == -EPERM || base.open_blk == -EPERM, 0, "the host itself opens 10:232 and 7:0");

	r = cgroup_manager_new(&m, &err);
	is_int(r, 0, "manager created (%s)", err ? err : "ok");
	free(err);
	err = NULL;
	if (r < 0)
		return tap_done();
	printf("# layout %s, device rules through %s\n", cgroup_manager_layout(m), cgroup_manager_devices(m));
	if (strcmp(cgroup_manager_devices(m), "v1") == 0)
		test_mode(m, "v1", &base);
	else
		skip("no v1 devices controller: the v1 path is not tested here");
	bool bpf = strcmp(cgroup_manager_devices(m), "bpf") == 0;
	if (bpf)
		test_mode(m, "bpf", &base);
	cgroup_manager_free(m);
	m = NULL;

	/* On a hybrid host the module picks v1; force the program on the unified tree too. */
	if (!bpf) {
		cgroup_testing_devices_bpf = true;
		r = cgroup_manager_new(&m, &err);
		cgroup_testing_devices_bpf = false;
		if (r == 0 && strcmp(cgroup_manager_devices(m), "bpf") == 0) {
			printf("# forced: layout %s, device rules through %s\n", cgroup_manager_layout(m),
			       cgroup_manager_devices(m));
			test_mode(m, "bpf", &base);
		} else if (r == 0) {
			skip("no cgroup2 tree: the BPF path is not tested here");
		} else {
			is_int(r, 0, "manager with BPF device rules (%s)", err ? err : "?");
		}
		free(err);
		cgroup_manager_free(m);
	}

	int left = 0;
	for (int i = 0; i < n_cg_dirs; i++)
		if (access(cg_dirs[i], F_OK) == 0) {
			printf("# left behind: %s\n", cg_dirs[i]);
			left++;
		}
	is_int(left, 0, "no cgroup is left behind");
	cleanup();
	return tap_done();
}
