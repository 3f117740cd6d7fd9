/* Unit tests for runtime/caps.c: name parsing (hostile names included), Docker's set arithmetic,
 * names for inspect, and, as root, applying sets in forked children whose /proc/self/status
 * (read in the child, and by a program it executes) is checked bit for bit.
 *
 * Expected masks are written out here, not taken from the module: 0xa80425fb is the CapEff every
 * Docker container shows, and the kernel's highest capability is read from /proc independently. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macros.h"
#include "runtime/caps.h"
#include "tests/tap.h"

#define DOCKER_DEFAULT UINT64_C(0xa80425fb)
#define BIT(c)	       (UINT64_C(1) << (c))
#define NOBODY	       65534

static uint64_t all_mask;
/* What this test process holds (permitted and bounding): a host may run it with less than
 * every capability, inside another container, and nothing can grant more than that. */
static uint64_t host, host_bnd;

/* The kernel's highest capability, read without the module. */
static int read_last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int v = -1;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void test_constants(void)
{
	int last = read_last_cap();

	is_int(caps_default(), DOCKER_DEFAULT, "the default set is Docker's 0xa80425fb");
	is_int(__builtin_popcountll(caps_default()), 14, "the default set has 14 capabilities");
	ok(last > 0, "cap_last_cap readable (%d)", last);
	is_int(caps_last_cap(), last, "caps_last_cap() is the kernel's");
	all_mask = last >= 63 ? UINT64_MAX : BIT(last + 1) - 1;
	is_int(caps_all(), all_mask, "caps_all() is every bit up to cap_last_cap");
	is_str(caps_name(CAP_SYS_ADMIN), "SYS_ADMIN", "name of CAP_SYS_ADMIN");
	ok(caps_name(-1) == NULL && caps_name(64) == NULL, "no name out of range");
}

static void parse_ok(const char *name, int want)
{
	char *err = NULL;
	int cap = -42;
	int r = caps_parse(name, &cap, &err);
	is_int(r, 0, "parse \"%s\" succeeds", name);
	is_int(cap, want, "parse \"%s\" gives %d", name, want);
	free(err);
}

/* A rejected name leaves *ret_cap alone and gives a message that quotes it. */
static void parse_bad(const char *name, int want_r, const char *want_in_msg, const char *what)
{
	char *err = NULL;
	int cap = -42;
	int r = caps_parse(name, &cap, &err);
	is_int(r, want_r, "reject %s", what);
	is_int(cap, -42, "%s: nothing returned", what);
	ok(err && strstr(err, want_in_msg), "%s: message '%s' contains '%s'", what, err ? err : "(null)", want_in_msg);
	free(err);
}

static void test_parse(void)
{
	char long_name[200];

	parse_ok("chown", CAP_CHOWN);
	parse_ok("CHOWN", CAP_CHOWN);
	parse_ok("CAP_CHOWN", CAP_CHOWN);
	parse_ok("cap_chown", CAP_CHOWN);
	parse_ok("Cap_Net_Raw", CAP_NET_RAW);
	parse_ok("sys_admin", CAP_SYS_ADMIN);
	parse_ok("AUDIT_WRITE", CAP_AUDIT_WRITE);
	parse_ok("all", CAPS_PARSE_ALL);
	parse_ok("ALL", CAPS_PARSE_ALL);
	parse_ok("aLl", CAPS_PARSE_ALL);

	parse_bad("CAP_ALL", -EINVAL, "\"CAP_ALL\"", "CAP_ALL (Docker only knows ALL bare)");
	parse_bad("", -EINVAL, "empty", "an empty name");
	parse_bad(NULL, -EINVAL, "empty", "NULL");
	parse_bad("bogus", -EINVAL, "unknown capability: \"bogus\"", "an unknown name");
	parse_bad("CAP_", -EINVAL, "\"CAP_\"", "a bare prefix");
	parse_bad("CAPCHOWN", -EINVAL, "\"CAPCHOWN\"", "a prefix without underscore");
	parse_bad("CAP_CAP_CHOWN", -EINVAL, "\"CAP_CAP_CHOWN\"", "a doubled prefix");
	parse_bad("CHOWNX", -EINVAL, "\"CHOWNX\"", "a name with a suffix");
	parse_bad("CHOW", -EINVAL, "\"CHOW\"", "a truncated name");
	parse_bad(" chown", -EINVAL, "\" chown\"", "a leading space");
	parse_bad("chown ", -EINVAL, "\"chown \"", "a trailing space");
	parse_bad("chown\n", -EINVAL, "\"chown\\x0a\"", "a newline, escaped in the message");
	parse_bad("12", -EINVAL, "\"12\"", "a number (libcap would take it)");
	parse_bad("CAP_21", -EINVAL, "\"CAP_21\"", "a number with the prefix");
	parse_bad("cap-chown", -EINVAL, "\"cap-chown\"", "a dash");
	parse_bad("chown,kill", -EINVAL, "\"chown,kill\"", "a list in one name");
	parse_bad("\xc3\x87HOWN", -EINVAL, "\\xc3\\x87HOWN", "non-ASCII, escaped");
	parse_bad("x\x1b[31m", -EINVAL, "\\x1b[31m", "a terminal escape, escaped");
	memset(long_name, 'A', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	parse_bad(long_name, -EINVAL, "AAAAAAAA...\"", "a 199-character name, truncated");

	char *err = NULL;
	int cap;
	caps_parse("x\x1b[31m", &cap, &err);
	ok(err && !strchr(err, '\x1b'), "no raw control character reaches the message");
	free(err);
}

/* Runs caps_compute on two NULL-terminated lists given as arrays. */
static int compute(char *const *add, char *const *drop, bool privileged, uint64_t *ret, char **err)
{
	return caps_compute(add, drop, privileged, ret, err);
}

#define L(...) ((char *const[]){__VA_ARGS__, NULL})

static void compute_is(char *const *add, char *const *drop, bool privileged, uint64_t want, const char *what)
{
	char *err = NULL;
	uint64_t got = 0xdead;
	int r = compute(add, drop, privileged, &got, &err);
	is_int(r, 0, "%s: succeeds (%s)", what, err ? err : "");
	is_int(got, want, "%s: the set", what);
	free(err);
}

static void test_compute(void)
{
	uint64_t def = DOCKER_DEFAULT;
	char *err = NULL;
	uint64_t got;

	compute_is(NULL, NULL, false, def, "no add, no drop");
	compute_is(L(NULL), L(NULL), false, def, "empty lists");
	compute_is(L("NET_ADMIN"), NULL, false, def | BIT(CAP_NET_ADMIN), "add NET_ADMIN");
	compute_is(L("chown"), NULL, false, def, "add a default capability");
	compute_is(NULL, L("CAP_CHOWN"), false, def & ~BIT(CAP_CHOWN), "drop CHOWN");
	compute_is(NULL, L("SYS_ADMIN"), false, def, "drop one not in the default");
	compute_is(NULL, L("chown", "kill", "chown"), false, def & ~BIT(CAP_CHOWN) & ~BIT(CAP_KILL),
		   "drop with a duplicate");
	compute_is(L("CHOWN"), L("ALL"), false, BIT(CAP_CHOWN), "drop ALL, add CHOWN");
	compute_is(NULL, L("ALL"), false, 0, "drop ALL");
	compute_is(L("sys_admin", "net_admin"), L("all"), false, BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN),
		   "drop all, add two outside the default");
	compute_is(L("CHOWN"), L("KILL", "ALL"), false, BIT(CAP_CHOWN), "drop [KILL, ALL]: ALL wins");
	compute_is(L("CHOWN"), L("ALL", "KILL"), false, BIT(CAP_CHOWN), "drop [ALL, KILL]: same");
	compute_is(L("KILL"), L("ALL", "KILL"), false, BIT(CAP_KILL), "drop ALL+KILL, add KILL: add wins");
	compute_is(L("ALL"), L("CHOWN"), false, all_mask & ~BIT(CAP_CHOWN), "add ALL, drop CHOWN");
	compute_is(L("ALL"), L("SYS_ADMIN", "NET_ADMIN"), false, all_mask & ~BIT(CAP_SYS_ADMIN) & ~BIT(CAP_NET_ADMIN),
		   "add ALL, drop two");
	compute_is(L("ALL"), L("ALL"), false, all_mask, "add ALL and drop ALL: add wins, as Docker");
	compute_is(L("ALL"), NULL, false, all_mask, "add ALL");
	compute_is(L("CHOWN"), L("CHOWN"), false, def, "add and drop the same default capability");
	compute_is(L("SYS_ADMIN"), L("SYS_ADMIN"), false, def | BIT(CAP_SYS_ADMIN),
		   "add and drop the same other capability: add wins");
	compute_is(NULL, NULL, true, all_mask, "privileged");
	compute_is(L("CHOWN"), L("ALL"), true, all_mask, "privileged ignores add and drop");

	got = 0xdead;
	is_int(compute(L("CHOWN", "bogus"), NULL, false, &got, &err), -EINVAL, "a bad name in cap_add fails");
	ok(err && strstr(err, "\"bogus\""), "the message names it (%s)", err ? err : "(null)");
	is_int(got, 0xdead, "nothing returned on failure");
	free(err);
	err = NULL;
	is_int(compute(NULL, L("ALL", "CAP_ALL"), false, &got, &err), -EINVAL, "CAP_ALL in cap_drop fails");
	free(err);
	err = NULL;
	is_int(compute(L("nope"), NULL, true, &got, &err), -EINVAL,
	       "a bad name fails even with privileged (peer input is always checked)");
	free(err);
}

static void test_names(void)
{
	static const char *const want[] = {
	    "CAP_AUDIT_WRITE", "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",	"CAP_FSETID",
	    "CAP_KILL",	       "CAP_MKNOD",   "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",	"CAP_SETFCAP",
	    "CAP_SETGID",      "CAP_SETPCAP", "CAP_SETUID",	      "CAP_SYS_CHROOT",
	};
	_cleanup_strv_free_ char **v = NULL, **none = NULL, **odd = NULL;
	size_t n = 0;

	is_int(caps_names(DOCKER_DEFAULT, &v), 0, "names of the default set");
	while (v && v[n])
		n++;
	is_int(n, ARRAY_SIZE(want), "14 names");
	for (size_t i = 0; i < ARRAY_SIZE(want) && i < n; i++)
		is_str(v[i], want[i], "name %zu in strcmp order", i);

	is_int(caps_names(0, &none), 0, "names of the empty set");
	ok(none && none[0] == NULL, "an empty vector");

	is_int(caps_names(BIT(63) | BIT(CAP_SYS_ADMIN), &odd), 0, "names with an unnamed bit");
	ok(odd && odd[0] && odd[1] && !odd[2], "two names");
	if (odd && odd[0] && odd[1]) {
		is_str(odd[0], "CAP_63", "an unnamed capability by number");
		is_str(odd[1], "CAP_SYS_ADMIN", "sorted after it");
	}
}

/* The five capability sets of a /proc/<pid>/status text. */
struct capsets {
	uint64_t inh, prm, eff, bnd, amb;
	int found;
};

static void parse_status(const char *text, struct capsets *c)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	    {"CapInh:", offsetof(struct capsets, inh)}, {"CapPrm:", offsetof(struct capsets, prm)},
	    {"CapEff:", offsetof(struct capsets, eff)}, {"CapBnd:", offsetof(struct capsets, bnd)},
	    {"CapAmb:", offsetof(struct capsets, amb)},
	};
	memset(c, 0, sizeof(*c));
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (strncmp(line, keys[i].key, strlen(keys[i].key)) == 0) {
				*(uint64_t *)((char *)c + keys[i].off) = strtoull(line + strlen(keys[i].key), NULL, 16);
				c->found++;
			}
}

/* Sets all three process sets at once (test setup only). */
static int set_proc(uint64_t eff, uint64_t prm, uint64_t inh)
{
	cap_t c = cap_init();
	int r = 0;
	if (!c)
		return -1;
	for (int cap = 0; cap <= 63 && r == 0; cap++) {
		cap_value_t v = cap;
		if ((eff & BIT(cap)) && cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0)
			r = -1;
		if ((prm & BIT(cap)) && cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET) < 0)
			r = -1;
		if ((inh & BIT(cap)) && cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET) < 0)
			r = -1;
	}
	if (r == 0)
		r = cap_set_proc(c);
	cap_free(c);
	return r;
}

enum scenario {
	ROOT_DEFAULT,	 /* plant I and ambient, apply the default set as root */
	ROOT_EXEC,	 /* the same, then execve cat /proc/self/status */
	NOBODY_DEFAULT,	 /* switch to 65534 between prepare and apply */
	NOBODY_KEEPCAPS, /* the same with KEEPCAPS and ambient planted after the switch */
	NOBODY_EXEC,	 /* NOBODY_KEEPCAPS, then execve cat */
	ROOT_PRIVILEGED, /* every capability */
	ROOT_ONLY_CHOWN, /* drop ALL, add CHOWN */
	ROOT_NOT_HELD,	 /* default + SYS_ADMIN, with SYS_ADMIN not in the init's permitted set */
};

/* In the child: sets up the scenario, applies, and writes a status text to stdout (fd 1 is the
 * pipe to the parent). Exit codes 10+ say which step failed. */
static void child_run(enum scenario s)
{
	uint64_t set = s == ROOT_PRIVILEGED   ? all_mask
		       : s == ROOT_ONLY_CHOWN ? BIT(CAP_CHOWN)
		       : s == ROOT_NOT_HELD   ? DOCKER_DEFAULT | BIT(CAP_SYS_ADMIN)
					      : DOCKER_DEFAULT;
	uint64_t held = s == ROOT_NOT_HELD ? host & ~BIT(CAP_SYS_ADMIN) : host;
	bool nobody = s == NOBODY_DEFAULT || s == NOBODY_KEEPCAPS || s == NOBODY_EXEC;
	bool keep = s == NOBODY_KEEPCAPS || s == NOBODY_EXEC;
	char *err = NULL;

	/* Plant what a careless parent might pass on: SYS_ADMIN and NET_ADMIN inheritable (SYS_ADMIN
	 * is outside every tested set, so only a non-cleared inheritable set can bring it back on
	 * execve) and NET_BIND_SERVICE ambient. */
	if (set_proc(held, held, BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN) | BIT(CAP_NET_BIND_SERVICE)) < 0)
		_exit(10);
	if (cap_set_ambient(CAP_NET_BIND_SERVICE, CAP_SET) < 0)
		_exit(11);

	if (caps_prepare(set, &err) < 0)
		_exit(12);
	if (nobody) {
		if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			_exit(13);
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(14);
		/* setuid() cleared ambient; raise it again so that caps_apply() must clear it. */
		if (keep && cap_set_ambient(CAP_NET_BIND_SERVICE, CAP_SET) < 0)
			_exit(15);
	}
	if (caps_apply(set, &err) < 0)
		_exit(16);
	if (s == ROOT_EXEC || s == NOBODY_EXEC) {
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(17);
	}
	char buf[8192];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		_exit(18);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			_exit(19);
	_exit(n < 0 ? 20 : 0);
}

/* Runs a scenario in a forked child and parses the status text it produced. */
static int run_scenario(enum scenario s, struct capsets *c)
{
	int p[2], status;
	char text[16384];
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
		if (dup2(p[1], 1) < 0)
			_exit(9);
		child_run(s);
	}
	close(p[1]);
	while (len < sizeof(text) - 1 && (n = read(p[0], text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	text[len] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	parse_status(text, c);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void check(enum scenario s, const char *what, uint64_t eff, uint64_t prm, uint64_t bnd)
{
	struct capsets c;
	int r = run_scenario(s, &c);
	is_int(r, 0, "%s: the child succeeded", what);
	is_int(c.found, 5, "%s: five Cap lines", what);
	is_int(c.eff, eff, "%s: CapEff", what);
	is_int(c.prm, prm, "%s: CapPrm", what);
	is_int(c.bnd, bnd, "%s: CapBnd", what);
	is_int(c.inh, 0, "%s: CapInh cleared", what);
	is_int(c.amb, 0, "%s: CapAmb cleared", what);
}

static void test_apply(void)
{
	char *err = NULL;

	const uint64_t need = DOCKER_DEFAULT | BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN);
	const uint64_t def = DOCKER_DEFAULT;
	struct capsets self;
	_cleanup_free_ char *text = NULL;
	FILE *f = fopen("/proc/self/status", "re");
	size_t len = 0;

	if (f) {
		if (getdelim(&text, &len, '\0', f) < 0) {
			free(text);
			text = NULL;
		}
		fclose(f);
	}
	parse_status(text ? text : "", &self);
	host = self.prm & self.bnd;
	host_bnd = self.bnd;
	if (geteuid() != 0 || self.found != 5 || (host & need) != need) {
		ok(1, "apply # SKIP needs root with the default set, SYS_ADMIN and NET_ADMIN");
		return;
	}
	check(ROOT_DEFAULT, "root, default set", def, def, def);
	check(ROOT_EXEC, "root, default set, after execve", def, def, def);
	check(NOBODY_DEFAULT, "nobody, default set", 0, 0, def);
	check(NOBODY_KEEPCAPS, "nobody with KEEPCAPS and ambient", 0, 0, def);
	check(NOBODY_EXEC, "nobody with KEEPCAPS, after execve", 0, 0, def);
	check(ROOT_PRIVILEGED, "root, privileged (all the host has)", all_mask & host, all_mask & host,
	      all_mask & host_bnd);
	check(ROOT_ONLY_CHOWN, "root, drop ALL add CHOWN", BIT(CAP_CHOWN), BIT(CAP_CHOWN), BIT(CAP_CHOWN));
	check(ROOT_NOT_HELD, "root, a capability the init lacks is left out", def, def, def | BIT(CAP_SYS_ADMIN));

	if (all_mask != UINT64_MAX) {
		is_int(caps_prepare(all_mask + 1, &err), -EINVAL, "prepare refuses a bit the kernel lacks");
		ok(err != NULL, "with a message (%s)", err ? err : "(null)");
		free(err);
		err = NULL;
		is_int(caps_apply(BIT(63), &err), -EINVAL, "apply refuses a bit the kernel lacks");
		free(err);
	}
}

int main(void)
{
	test_constants();
	test_parse();
	test_compute();
	test_names();
	test_apply();
	return tap_done();
}
