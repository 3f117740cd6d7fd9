/* Unit tests for runtime/rlimits.c: the default table (against values written out here and the
 * kernel's sysctls read independently), --ulimit parsing with hostile input, and applying a
 * table in a forked child whose getrlimit() results are checked, hard limits above the parent's
 * included (as root). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macros.h"
#include "runtime/rlimits.h"
#include "tests/tap.h"

#define INF RLIMITS_UNLIMITED
#define MIB (UINT64_C(1) << 20)

static uint64_t read_sysctl(const char *path)
{
	FILE *f = fopen(path, "re");
	unsigned long long v = 0;
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* Whether this process has CAP_SYS_RESOURCE effective (bit 24 of CapEff), read from /proc. */
static bool can_raise(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long eff = 0;
	bool found = false;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			found = true;
	fclose(f);
	return found && (eff & (1ull << 24));
}

/* Without CAP_SYS_RESOURCE the defaults stop at this process's own hard limits. */
static void default_is(const struct rlimits *r, int res, uint64_t soft, uint64_t hard, const char *name)
{
	struct rlimit own;
	if (!can_raise() && getrlimit(res, &own) == 0) {
		uint64_t max = own.rlim_max == RLIM_INFINITY ? INF : own.rlim_max;
		hard = hard > max ? max : hard;
		soft = soft > hard ? hard : soft;
	}
	is_int(r->limit[res].soft, soft, "default %s soft", name);
	is_int(r->limit[res].hard, hard, "default %s hard", name);
}

static void test_defaults(void)
{
	uint64_t nr_open = read_sysctl("/proc/sys/fs/nr_open");
	uint64_t threads = read_sysctl("/proc/sys/kernel/threads-max");
	uint64_t nofile = nr_open < 1048576 ? nr_open : 1048576;
	struct rlimits r;

	ok(nr_open > 0 && threads > 0, "sysctls readable (nr_open %llu, threads-max %llu)", (unsigned long long)nr_open,
	   (unsigned long long)threads);
	memset(&r, 0xa5, sizeof(r));
	rlimits_default(&r);
	default_is(&r, RLIMIT_NOFILE, nofile, nofile, "nofile");
	default_is(&r, RLIMIT_NPROC, INF, INF, "nproc");
	default_is(&r, RLIMIT_CORE, INF, INF, "core");
	default_is(&r, RLIMIT_STACK, 8 * MIB, INF, "stack");
	default_is(&r, RLIMIT_MEMLOCK, 8 * MIB, 8 * MIB, "memlock");
	default_is(&r, RLIMIT_MSGQUEUE, 819200, 819200, "msgqueue");
	default_is(&r, RLIMIT_SIGPENDING, threads / 2, threads / 2, "sigpending");
	default_is(&r, RLIMIT_NICE, 0, 0, "nice");
	default_is(&r, RLIMIT_RTPRIO, 0, 0, "rtprio");
	default_is(&r, RLIMIT_CPU, INF, INF, "cpu");
	default_is(&r, RLIMIT_FSIZE, INF, INF, "fsize");
	default_is(&r, RLIMIT_DATA, INF, INF, "data");
	default_is(&r, RLIMIT_RSS, INF, INF, "rss");
	default_is(&r, RLIMIT_AS, INF, INF, "as");
	default_is(&r, RLIMIT_LOCKS, INF, INF, "locks");
	default_is(&r, RLIMIT_RTTIME, INF, INF, "rttime");
}

static void test_names(void)
{
	static const struct {
		const char *name;
		int res;
	} names[] = {
	    {"core", RLIMIT_CORE},	   {"cpu", RLIMIT_CPU},
	    {"data", RLIMIT_DATA},	   {"fsize", RLIMIT_FSIZE},
	    {"locks", RLIMIT_LOCKS},	   {"memlock", RLIMIT_MEMLOCK},
	    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
	    {"nofile", RLIMIT_NOFILE},	   {"nproc", RLIMIT_NPROC},
	    {"rss", RLIMIT_RSS},	   {"rtprio", RLIMIT_RTPRIO},
	    {"rttime", RLIMIT_RTTIME},	   {"sigpending", RLIMIT_SIGPENDING},
	    {"stack", RLIMIT_STACK},
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		is_int(rlimits_from_name(names[i].name), names[i].res, "name %s", names[i].name);
		is_str(rlimits_name(names[i].res), names[i].name, "resource %d", names[i].res);
	}
	is_int(rlimits_from_name("as"), -1, "as cannot be named (not in Docker's list)");
	is_int(rlimits_from_name("NOFILE"), -1, "names are lower case");
	ok(rlimits_name(-1) == NULL && rlimits_name(16) == NULL && rlimits_name(RLIMIT_AS) == NULL,
	   "no name out of range or for as");
}

static void parse_ok(const char *s, int want_res, uint64_t soft, uint64_t hard)
{
	struct rlimits_value v = {1, 2};
	char *err = NULL;
	int res = -7;
	is_int(rlimits_parse(s, &res, &v, &err), 0, "parse \"%s\" (%s)", s, err ? err : "");
	is_int(res, want_res, "\"%s\": resource", s);
	is_int(v.soft, soft, "\"%s\": soft", s);
	is_int(v.hard, hard, "\"%s\": hard", s);
	free(err);
}

static void parse_bad(const char *s, int want_r, const char *want_in_msg, const char *what)
{
	struct rlimits_value v = {1, 2};
	char *err = NULL;
	int res = -7;
	is_int(rlimits_parse(s, &res, &v, &err), want_r, "reject %s", what);
	ok(res == -7 && v.soft == 1 && v.hard == 2, "%s: nothing returned", what);
	ok(err && strstr(err, want_in_msg), "%s: message '%s' contains '%s'", what, err ? err : "(null)", want_in_msg);
	free(err);
}

static void test_parse(void)
{
	uint64_t nr_open = read_sysctl("/proc/sys/fs/nr_open");
	char buf[128];

	parse_ok("nofile=1024:4096", RLIMIT_NOFILE, 1024, 4096);
	parse_ok("nofile=1024", RLIMIT_NOFILE, 1024, 1024);
	parse_ok("core=0", RLIMIT_CORE, 0, 0);
	parse_ok("core=-1", RLIMIT_CORE, INF, INF);
	parse_ok("core=0:-1", RLIMIT_CORE, 0, INF);
	parse_ok("nproc=-1:-1", RLIMIT_NPROC, INF, INF);
	parse_ok("stack=8388608:16777216", RLIMIT_STACK, 8388608, 16777216);
	parse_ok("rttime=18446744073709551614", RLIMIT_RTTIME, UINT64_MAX - 1, UINT64_MAX - 1);
	snprintf(buf, sizeof(buf), "nofile=%llu", (unsigned long long)nr_open);
	parse_ok(buf, RLIMIT_NOFILE, nr_open, nr_open);

	parse_bad(NULL, -EINVAL, "empty", "NULL");
	parse_bad("", -EINVAL, "NAME=SOFT", "an empty string");
	parse_bad("nofile", -EINVAL, "\"nofile\"", "no =");
	parse_bad("=10", -EINVAL, "NAME=SOFT", "no name");
	parse_bad("bogus=1", -EINVAL, "unknown resource", "an unknown name");
	parse_bad("as=1", -EINVAL, "unknown resource", "as (not settable, as in Docker)");
	parse_bad("NOFILE=1", -EINVAL, "unknown resource", "an upper-case name");
	parse_bad("verylongresourcename=1", -EINVAL, "NAME=SOFT", "a name longer than any");
	parse_bad("nofile=", -EINVAL, "soft", "an empty soft limit");
	parse_bad("nofile=10:", -EINVAL, "hard", "an empty hard limit");
	parse_bad("nofile=:10", -EINVAL, "soft", "an empty soft limit before a hard one");
	parse_bad("nofile=10:20:30", -EINVAL, "hard", "three values");
	parse_bad("nofile=20:10", -EINVAL, "must not exceed", "soft above hard");
	parse_bad("core=-1:10", -EINVAL, "must not exceed", "unlimited soft under a finite hard");
	parse_bad("core=-2", -EINVAL, "soft", "-2");
	parse_bad("core=--1", -EINVAL, "soft", "--1");
	parse_bad("core=+5", -EINVAL, "soft", "a plus sign");
	parse_bad("core= 5", -EINVAL, "soft", "a leading space");
	parse_bad("core=5 ", -EINVAL, "soft", "a trailing space");
	parse_bad("core=0x10", -EINVAL, "soft", "hex");
	parse_bad("core=1e3", -EINVAL, "soft", "an exponent");
	parse_bad("core=18446744073709551615", -ERANGE, "soft", "UINT64_MAX spelled out");
	parse_bad("core=18446744073709551616", -ERANGE, "soft", "past UINT64_MAX");
	parse_bad("core=99999999999999999999999", -ERANGE, "soft", "far past UINT64_MAX");
	parse_bad("nofile=-1", -ERANGE, "fs.nr_open", "unlimited nofile (the kernel refuses it)");
	snprintf(buf, sizeof(buf), "nofile=1:%llu", (unsigned long long)nr_open + 1);
	parse_bad(buf, -ERANGE, "fs.nr_open", "nofile past nr_open");
	parse_bad("core=1\x1b[2J", -EINVAL, "\\x1b[2J", "a terminal escape, escaped in the message");

	struct rlimits r;
	char *err = NULL;
	rlimits_default(&r);
	is_int(rlimits_set(&r, "nofile=100:200", &err), 0, "set nofile");
	is_int(rlimits_set(&r, "nofile=300:400", &err), 0, "set nofile again");
	ok(r.limit[RLIMIT_NOFILE].soft == 300 && r.limit[RLIMIT_NOFILE].hard == 400, "the later one wins");
	is_int(rlimits_set(&r, "nofile=9:8", &err), -EINVAL, "a bad value");
	ok(r.limit[RLIMIT_NOFILE].soft == 300 && r.limit[RLIMIT_NOFILE].hard == 400, "leaves the entry alone");
	ok(r.limit[RLIMIT_CORE].soft == INF, "other entries untouched");
	free(err);
}

/* Applies r in a forked child and writes its getrlimit() values back through a pipe. */
static int apply_in_child(const struct rlimits *r, struct rlimit got[RLIMITS_COUNT], char *err_out, size_t size)
{
	int p[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rlimit out[RLIMITS_COUNT];
		char *err = NULL;
		if (rlimits_apply(r, &err) < 0) {
			snprintf(err_out, size, "%s", err ? err : "?");
			if (write(p[1], err_out, strlen(err_out)) < 0)
				_exit(3);
			_exit(2);
		}
		for (int i = 0; i < RLIMITS_COUNT; i++)
			if (getrlimit(i, &out[i]) < 0)
				_exit(4);
		_exit(write(p[1], out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 5);
	}
	close(p[1]);
	char buf[sizeof(struct rlimit) * RLIMITS_COUNT + 512];
	while (len < sizeof(buf) && (n = read(p[0], buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (!WIFEXITED(status))
		return 128;
	if (WEXITSTATUS(status) == 0 && len == sizeof(struct rlimit) * RLIMITS_COUNT)
		memcpy(got, buf, len);
	else
		snprintf(err_out, size, "%.*s", (int)len, buf);
	return WEXITSTATUS(status);
}

static void test_apply(void)
{
	struct rlimit got[RLIMITS_COUNT], mine;
	char err[256] = "";
	struct rlimits r;

	rlimits_default(&r);
	memset(got, 0, sizeof(got));
	if (!can_raise()) {
		/* Defaults were clamped to our own hard limits: they apply; an explicit value above
		 * them fails with a message saying why. */
		is_int(apply_in_child(&r, got, err, sizeof(err)), 0, "apply the clamped defaults (%s)", err);
		is_int(got[RLIMIT_NOFILE].rlim_max, r.limit[RLIMIT_NOFILE].hard, "nofile hard as computed");
		getrlimit(RLIMIT_NOFILE, &mine);
		r.limit[RLIMIT_NOFILE].hard = (uint64_t)mine.rlim_max + 1;
		err[0] = '\0';
		is_int(apply_in_child(&r, got, err, sizeof(err)), 2, "raising nofile's hard limit fails");
		ok(strstr(err, "nofile") && strstr(err, "CAP_SYS_RESOURCE"), "and says why (%s)", err);
		ok(1, "raising hard limits # SKIP needs CAP_SYS_RESOURCE");
		return;
	}
	/* Narrow the parent's own limits first: the child must not inherit them, and raising its
	 * hard limits again proves CAP_SYS_RESOURCE was used. */
	struct rlimit low_nofile = {256, 512}, low_core = {0, 0};
	if (getrlimit(RLIMIT_NOFILE, &mine) < 0 || setrlimit(RLIMIT_NOFILE, &low_nofile) < 0 ||
	    setrlimit(RLIMIT_CORE, &low_core) < 0) {
		ok(0, "narrow the parent's limits: %s", strerror(errno));
		return;
	}
	is_int(apply_in_child(&r, got, err, sizeof(err)), 0, "apply the defaults (%s)", err);
	for (int i = 0; i < RLIMITS_COUNT; i++) {
		rlim_t soft = r.limit[i].soft == INF ? RLIM_INFINITY : r.limit[i].soft;
		rlim_t hard = r.limit[i].hard == INF ? RLIM_INFINITY : r.limit[i].hard;
		is_int(got[i].rlim_cur, soft, "child's soft limit %d (%s)", i,
		       rlimits_name(i) ? rlimits_name(i) : "as");
		is_int(got[i].rlim_max, hard, "child's hard limit %d (%s)", i,
		       rlimits_name(i) ? rlimits_name(i) : "as");
	}

	char *perr = NULL;
	is_int(rlimits_set(&r, "nofile=64:128", &perr), 0, "set nofile=64:128");
	is_int(rlimits_set(&r, "core=-1", &perr), 0, "set core=-1");
	is_int(apply_in_child(&r, got, err, sizeof(err)), 0, "apply with --ulimit values (%s)", err);
	is_int(got[RLIMIT_NOFILE].rlim_cur, 64, "nofile soft 64");
	is_int(got[RLIMIT_NOFILE].rlim_max, 128, "nofile hard 128");
	ok(got[RLIMIT_CORE].rlim_cur == RLIM_INFINITY && got[RLIMIT_CORE].rlim_max == RLIM_INFINITY,
	   "core unlimited, above the parent's 0:0");

	/* A value the kernel refuses is reported with the resource's name. */
	r.limit[RLIMIT_NICE] = (struct rlimits_value){5, 1};
	err[0] = '\0';
	is_int(apply_in_child(&r, got, err, sizeof(err)), 2, "soft above hard fails in the kernel");
	ok(strstr(err, "nice") != NULL, "the message names nice (%s)", err);
	free(perr);
	if (setrlimit(RLIMIT_NOFILE, &mine) < 0)
		ok(0, "restore nofile: %s", strerror(errno));
}

int main(void)
{
	test_defaults();
	test_names();
	test_parse();
	test_apply();
	return tap_done();
}
