/* Unit tests for runtime/userns: the subid parser (strictness, overflow, garbage), the slice
 * allocator (first fit, exhaustion, release, re-reservation at restart), and, as root, user
 * namespace fds, idmapped layer mounts and the whole mount flow a container init follows:
 *
 *  - "flow": in a private mount namespace, idmapped read-only mounts of two root-owned layers are
 *    attached and an overlay is mounted on top; a process that joined the user namespace sees
 *    the layer files as uid 0 (and 1000 as 1000) while the host sees the slice's ids, and what
 *    it writes lands in the upper dir owned by the slice's root on the host;
 *  - "init flow": the order documented in userns.h, with a real init cloned with CLONE_NEWUSER
 *    and all other namespaces, maps written by the parent, layer mounts made by the parent and
 *    passed over a socket, overlay (userxattr), sethostname, a raw socket and /proc inside.
 *
 * Every check on ownership is made both from inside and from the host, and the layers are
 * checked untouched afterwards. Mounts live only in the children's mount namespaces, so they
 * vanish with them; the temp directory is removed at exit, on a signal and by the watchdog. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/util.h"
#include "runtime/userns.h"
#include "tests/tap.h"

#define WATCHDOG_S	  120
#define TIMING_ITERATIONS 50
#define BASE_UID	  300000u

static char base[64];

static void cleanup(void)
{
	if (base[0])
		(void)rm_rf(base);
	base[0] = '\0';
}

static void on_fatal_signal(int sig)
{
	static const char msg[] = "# interrupted: cleaning up\n";
	ssize_t n = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	cleanup();
	_exit(128 + sig);
}

static void skip(const char *reason)
{
	printf("ok %d # SKIP %s\n", ++tap_count, reason);
	fflush(stdout);
}

/* snprintf into a path buffer; truncation is the test's own bug. */
static void fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		abort();
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of n samples (sorts them). */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dbl_cmp);
	return n ? v[n / 2] : 0;
}

/* Whether the process has no child left to reap: catches a helper that was not reaped. */
static bool no_children(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 && errno == ECHILD;
}

/* Parses text for user "containd" (uid 999) and returns the count, or the error. */
static int parse(const char *text, struct userns_range **v, size_t *n)
{
	_cleanup_free_ char *err = NULL;

	free(*v);
	*v = NULL;
	*n = 0;
	return userns_subid_parse(text, "subuid", "containd", 999, v, n, &err);
}

static void test_parse(void)
{
	_cleanup_free_ struct userns_range *v = NULL;
	_cleanup_free_ char *err = NULL;
	size_t n = 0;

	is_int(parse("# comment containd:1:2\n"
		     "\n"
		     "garbage line\n"
		     "other:xyz:-1\n"
		     "containdx:100:100\n"
		     "xcontaind:100:100\n"
		     "containd:100000:65536\n"
		     "999:200000:131072\n"
		     "998:300000:65536\n"
		     "containd:400000:1",
		     &v, &n),
	       0, "parse: comments, garbage and other users' lines are skipped");
	is_int(n, 3, "parse: the name's and the uid's ranges are found, the last without a newline");
	if (n == 3) {
		is_int(v[0].start, 100000, "parse: first range start");
		is_int(v[0].count, 65536, "parse: first range count");
		is_int(v[1].start, 200000, "parse: numeric uid line");
		is_int(v[2].count, 1, "parse: a small range is returned as is");
	}
	is_int(parse("", &v, &n), 0, "parse: an empty file is not an error");
	is_int(n, 0, "parse: an empty file has no range");

	static const char *const bad[] = {
	    "containd:4294967295:1\n",	      /* the invalid id */
	    "containd:4294901760:65536\n",    /* ends past 4294967294 */
	    "containd:1:4294967295\n",	      /* start + count overflows */
	    "containd:99999999999:1\n",	      /* more than 32 bits */
	    "containd:00000000000100000:1\n", /* too many digits */
	    "containd:0:65536\n",	      /* maps host root */
	    "containd:100000:0\n",	      /* empty */
	    "containd:+100000:65536\n",	      /* sign */
	    "containd: 100000:65536\n",	      /* space */
	    "containd:-1:65536\n",	      /* negative */
	    "containd:100000:65536x\n",	      /* trailing garbage */
	    "containd:100000:65536:7\n",      /* extra field */
	    "containd:100000\n",	      /* missing field */
	    "containd::65536\n",	      /* empty field */
	    "containd:0x10000:65536\n",	      /* hex */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(parse(bad[i], &v, &n), -EINVAL, "parse: refuses %.*s", (int)strcspn(bad[i], "\n"), bad[i]);
	is_int(parse("containd:4294901759:65536\n", &v, &n), 0, "parse: a range ending at 4294967294 is fine");

	int r = userns_subid_parse("a:1:1\ncontaind:5:x\n", "/etc/subuid", "containd", (uid_t)-1, &v, &n, &err);
	is_int(r, -EINVAL, "parse: a malformed line of the user fails");
	ok(err && strstr(err, "/etc/subuid line 2"), "parse: the message names file and line (%s)", err ? err : "");
	free(v);
	v = NULL;
	is_int(userns_subid_parse("1000:100000:65536\n", "f", "containd", (uid_t)-1, &v, &n, NULL), 0,
	       "parse: without a uid, numeric lines are not matched");
	is_int(n, 0, "parse: no range for uid -1");
}

static void write_text(const char *path, const char *text, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, text, len) < 0)
		abort();
}

static void test_read(void)
{
	char uidf[128], gidf[128];
	_cleanup_free_ struct userns_range *v = NULL;
	_cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL;
	struct userns_allocator *a = NULL;
	struct userns_slice s;
	size_t n = 0;

	fmt(uidf, sizeof(uidf), "%s/subuid", base);
	fmt(gidf, sizeof(gidf), "%s/subgid", base);
	write_text(uidf, "containd:100000:65536\0containd:200000:65536\n", 44);
	is_int(userns_subid_read(uidf, "containd", (uid_t)-1, &v, &n, &err), -EINVAL,
	       "read: a file with a NUL byte is refused");

	write_text(uidf, "root:100000:65536\ncontaind:1000000:131072\n", 42);
	write_text(gidf, "containd:2000000:65536\n", 23);
	is_int(userns_allocator_load(uidf, gidf, "containd", &a, &err2), 0, "load: subuid and subgid of a user");
	if (a) {
		is_int(userns_allocator_alloc(a, &s, NULL), 0, "load: one slice");
		is_int(s.uid, 1000000, "load: its uid comes from subuid");
		is_int(s.gid, 2000000, "load: its gid comes from subgid");
		is_int(userns_allocator_alloc(a, &s, NULL), -ENOSPC, "load: subgid has room for one slice only");
		userns_allocator_free(a);
		a = NULL;
	}
	is_int(userns_allocator_load(uidf, gidf, "nobody-here", &a, &err3), -ENOENT, "load: a user without ranges");
	ok(err3 && strstr(err3, "nobody-here"), "load: the message names the user (%s)", err3 ? err3 : "");
}

static void test_allocator(void)
{
	struct userns_range uids[] = {{100000, 65536}, {165536, 65536}, {500000, 65536}, {1, 1000}};
	struct userns_range gids[] = {{700000, 3 * 65536}};
	struct userns_allocator *a = NULL;
	struct userns_slice s[4], t;
	_cleanup_free_ char *err = NULL;

	is_int(userns_allocator_new(uids, 1, uids + 3, 1, &a, &err), -ENOSPC, "allocator: gid ranges too small");
	ok(err && strstr(err, "gid"), "allocator: the message says which side (%s)", err ? err : "");
	if (userns_allocator_new(uids, ARRAY_SIZE(uids), gids, 1, &a, NULL) < 0) {
		ok(false, "allocator: new");
		return;
	}
	for (int i = 0; i < 3; i++)
		is_int(userns_allocator_alloc(a, &s[i], NULL), 0, "allocator: slice %d", i);
	is_int(s[0].uid, 100000, "allocator: first fit starts at the lowest range");
	is_int(s[1].uid, 165536, "allocator: adjacent ranges are merged");
	is_int(s[2].uid, 500000, "allocator: then the next range");
	is_int(s[2].gid, 700000 + 2 * 65536, "allocator: gids are handed out independently");
	is_int(userns_allocator_alloc(a, &s[3], NULL), -ENOSPC, "allocator: full");
	is_int(userns_allocator_used(a), 3, "allocator: three in use");

	is_int(userns_allocator_release(a, &s[1]), 0, "allocator: release");
	is_int(userns_allocator_release(a, &s[1]), -ENOENT, "allocator: release twice");
	is_int(userns_allocator_alloc(a, &t, NULL), 0, "allocator: alloc after release");
	ok(t.uid == s[1].uid && t.gid == s[1].gid, "allocator: the released slice is reused (%u %u)", t.uid, t.gid);
	userns_allocator_free(a);

	/* A restart: the persisted slices are reserved first, then allocation goes around them. */
	struct userns_range big = {100000, 10 * 65536};
	if (userns_allocator_new(&big, 1, &big, 1, &a, NULL) < 0) {
		ok(false, "allocator: new");
		return;
	}
	t = (struct userns_slice){100000 + 65536 + 7, 100000};
	is_int(userns_allocator_reserve(a, &t, NULL), 0, "reserve: an unaligned slice inside the ranges");
	t = (struct userns_slice){100000 + 2 * 65536, 100000 + 65536};
	is_int(userns_allocator_reserve(a, &t, NULL), -EBUSY, "reserve: overlapping uids");
	t = (struct userns_slice){100000 + 3 * 65536, 100000 + 100};
	is_int(userns_allocator_reserve(a, &t, NULL), -EBUSY, "reserve: overlapping gids");
	t = (struct userns_slice){100000 + 9 * 65536 + 1, 100000 + 5 * 65536};
	is_int(userns_allocator_reserve(a, &t, NULL), -ERANGE, "reserve: past the end of the range");
	t = (struct userns_slice){99999, 100000 + 5 * 65536};
	is_int(userns_allocator_reserve(a, &t, NULL), -ERANGE, "reserve: before the range");
	is_int(userns_allocator_alloc(a, &t, NULL), 0, "reserve: alloc after");
	is_int(t.uid, 100000, "reserve: the room below the reserved slice is used");
	is_int(t.gid, 100000 + 65536, "reserve: the gid past the reserved one");
	is_int(userns_allocator_alloc(a, &t, NULL), 0, "reserve: alloc again");
	is_int(t.uid, 100000 + 2 * 65536 + 7, "reserve: next uid after the unaligned slice");
	userns_allocator_free(a);
}

/* Reads /proc/self/{uid,gid}_map after joining nsfd, in a child. */
static bool ns_maps_are(int nsfd, const char *want_uid, const char *want_gid)
{
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0) {
		char *u = NULL, *g = NULL;
		if (setns(nsfd, CLONE_NEWUSER) < 0 || read_file("/proc/self/uid_map", 4096, &u, NULL) < 0 ||
		    read_file("/proc/self/gid_map", 4096, &g, NULL) < 0)
			_exit(2);
		/* The kernel pads the columns; compare the numbers. */
		unsigned a, b, c, d, e, f, x, y, z, p, q, r;
		if (sscanf(u, "%u %u %u", &a, &b, &c) != 3 || sscanf(g, "%u %u %u", &d, &e, &f) != 3 ||
		    sscanf(want_uid, "%u %u %u", &x, &y, &z) != 3 || sscanf(want_gid, "%u %u %u", &p, &q, &r) != 3)
			_exit(3);
		_exit(a == x && b == y && c == z && d == p && e == q && f == r ? 0 : 1);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_userns_fd(void)
{
	struct userns_slice s = {BASE_UID, BASE_UID + 65536};
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *err = NULL, *err2 = NULL;
	char want_u[64], want_g[64];

	is_int(userns_create_for_slice(&s, &fd, &err), 0, "userns: created for a slice (%s)", err ? err : "");
	fmt(want_u, sizeof(want_u), "0 %u 65536", s.uid);
	fmt(want_g, sizeof(want_g), "0 %u 65536", s.gid);
	ok(fd >= 0 && ns_maps_are(fd, want_u, want_g), "userns: a process that joins it sees the slice's maps");
	ok(no_children(), "userns: the helper was reaped");

	struct userns_idmap twice[] = {{0, BASE_UID, 10}, {5, BASE_UID + 100, 10}};
	int bad = -1;
	int r = userns_create(twice, 2, twice, 1, &bad, &err2);
	ok(r < 0 && bad == -1, "userns: overlapping map lines are refused (%d: %s)", r, err2 ? err2 : "");
	ok(no_children(), "userns: the helper was reaped after a failure");

	double t[TIMING_ITERATIONS];
	int k = 0;
	for (; k < TIMING_ITERATIONS; k++) {
		int f = -1;
		double t0 = now_us();
		if (userns_create_for_slice(&s, &f, NULL) < 0)
			break;
		t[k] = now_us() - t0;
		close(f);
	}
	printf("# cost: userns_create_for_slice %.0f us per namespace (median of %d)\n", median(t, k), k);
}

/* What an idmapped mount costs, and what a filesystem without idmapping support gives. */
static void test_idmap_mount(const struct userns_slice *s)
{
	_cleanup_close_ int nsfd = -1;
	_cleanup_free_ char *err = NULL, *err2 = NULL;
	char l1[128];
	int fd = -1, r;

	fmt(l1, sizeof(l1), "%s/l1", base);
	if (userns_create_for_slice(s, &nsfd, NULL) < 0) {
		ok(false, "idmap: userns");
		return;
	}
	double t_make[TIMING_ITERATIONS], t_all[TIMING_ITERATIONS];
	int k = 0;
	for (; k < TIMING_ITERATIONS; k++) {
		double t0 = now_us();
		if (userns_idmap_mount(AT_FDCWD, l1, nsfd, &fd, NULL) < 0)
			break;
		t_make[k] = now_us() - t0;
		fd = safe_close(fd);
		t_all[k] = now_us() - t0;
	}
	printf("# cost: idmapped layer mount %.1f us to make, %.1f us with its release (medians of %d)\n",
	       median(t_make, k), median(t_all, k), k);

	/* proc has no idmapping support: the message must say so rather than "Invalid argument". */
	r = userns_idmap_mount(AT_FDCWD, "/proc", nsfd, &fd, &err);
	is_int(r, -EOPNOTSUPP, "idmap: a filesystem without idmapping support");
	ok(err && strstr(err, "does not support idmapped mounts"), "idmap: the message names the cause (%s)",
	   err ? err : "");
	if (r >= 0)
		close(fd);
	fd = -1;
	_cleanup_close_ int notns = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *err3 = NULL;
	r = userns_idmap_mount(AT_FDCWD, l1, notns, &fd, &err3);
	ok(r == -EINVAL && err3 && strstr(err3, "not a user namespace"), "idmap: an fd that is no user namespace (%s)",
	   err3 ? err3 : "");
	r = userns_idmap_mount(AT_FDCWD, "/nonexistent-layer", nsfd, &fd, &err2);
	ok(r == -ENOENT && fd == -1, "idmap: a missing layer fails with ENOENT (%s)", err2 ? err2 : "");
}

static void mkdir_or_die(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(path, mode) < 0 || chown(path, uid, gid) < 0)
		abort();
}

static void file_or_die(const char *path, const char *text, uid_t uid, gid_t gid)
{
	write_text(path, text, strlen(text));
	if (chown(path, uid, gid) < 0)
		abort();
}

/* Two layers: l1 with root-owned files and one of uid 1000, l2 on top with one more file. */
static void make_layers(void)
{
	char p[256];

	fmt(p, sizeof(p), "%s/l1", base);
	mkdir_or_die(p, 0755, 0, 0);
	fmt(p, sizeof(p), "%s/l1/etc", base);
	mkdir_or_die(p, 0755, 0, 0);
	fmt(p, sizeof(p), "%s/l1/etc/hello", base);
	file_or_die(p, "one\n", 0, 0);
	fmt(p, sizeof(p), "%s/l1/etc/user", base);
	file_or_die(p, "user\n", 1000, 1000);
	fmt(p, sizeof(p), "%s/l1/proc", base);
	mkdir_or_die(p, 0555, 0, 0);
	fmt(p, sizeof(p), "%s/l2", base);
	mkdir_or_die(p, 0755, 0, 0);
	fmt(p, sizeof(p), "%s/l2/etc", base);
	mkdir_or_die(p, 0755, 0, 0);
	fmt(p, sizeof(p), "%s/l2/etc/two", base);
	file_or_die(p, "two\n", 0, 0);
}

static bool owned(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_uid == uid && st.st_gid == gid;
}

static bool layers_untouched(void)
{
	char p[256], *text = NULL;
	bool good = true;
	static const char *const rootfiles[] = {"l1", "l1/etc", "l1/etc/hello", "l2", "l2/etc", "l2/etc/two"};

	for (size_t i = 0; i < ARRAY_SIZE(rootfiles); i++) {
		fmt(p, sizeof(p), "%s/%s", base, rootfiles[i]);
		good = good && owned(p, 0, 0);
	}
	fmt(p, sizeof(p), "%s/l1/etc/user", base);
	good = good && owned(p, 1000, 1000);
	fmt(p, sizeof(p), "%s/l1/etc/hello", base);
	good = good && read_file(p, 4096, &text, NULL) == 0 && strcmp(text, "one\n") == 0;
	free(text);
	fmt(p, sizeof(p), "%s/l1/etc/new", base);
	return good && access(p, F_OK) < 0 && errno == ENOENT;
}

/* What the processes of a flow saw, written into shared memory and asserted by the parent. */
struct seen {
	char error[256];   /* setup failure in a child, "" if none */
	uid_t host_hello;  /* l1/etc/hello via the overlay, seen from the host's user namespace */
	uid_t host_user;   /* l1/etc/user (1000 on disk) likewise */
	uid_t stage_hello; /* the idmapped layer itself, from the host */
	uid_t in_hello;	   /* the same file from inside the user namespace */
	uid_t in_user;
	uid_t in_two;	    /* l2's file, inside */
	int in_write_new;   /* 0 or errno of creating a file as container root */
	int in_write_hello; /* 0 or errno of appending to a layer file (copy-up) */
	int in_write_layer; /* 0 or errno of writing to the idmapped layer directly */
	bool staged_gone;   /* the staging path no longer shows the layer once detached */
	int in_hostname;    /* 0 or errno of sethostname() */
	int in_raw;	    /* 0 or errno of opening a raw ICMP socket */
	int in_proc;	    /* 0 or errno of mounting proc */
	pid_t in_pid;	    /* getpid() inside the new pid namespace */
	double mount_us;    /* one idmapped mount */
};

/* Sentinels that no check accepts, so a child that stopped early fails every later check
 * instead of leaving zeros that read as "uid 0" and "no error". */
static void seen_reset(struct seen *sn)
{
	memset(sn, 0, sizeof(*sn));
	sn->host_hello = sn->host_user = sn->stage_hello = (uid_t)-2;
	sn->in_hello = sn->in_user = sn->in_two = (uid_t)-2;
	sn->in_write_new = sn->in_write_hello = sn->in_write_layer = -1;
	sn->in_hostname = sn->in_raw = sn->in_proc = -1;
	sn->in_pid = -1;
	sn->staged_gone = false;
}

static void seen_fail(struct seen *sn, const char *what)
{
	snprintf(sn->error, sizeof(sn->error), "%s: %s", what, strerror(errno));
	_exit(1);
}

static uid_t uid_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_uid : (uid_t)-2;
}

static int err_of(int r)
{
	return r < 0 ? errno : 0;
}

/* Appends to a file, as container root would edit a layer's file. */
static int try_append(const char *path, int flags)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | flags, 0644);
	if (fd < 0)
		return errno;
	int r = write(fd, "x\n", 2) == 2 ? 0 : errno;
	close(fd);
	return r;
}

/* Becomes root of the user namespace it is in (root in it, host uid = the slice's root). */
static int become_ns_root(void)
{
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -errno;
	return setgroups(0, NULL) < 0 ? -errno : 0;
}

/* The checks made as container root on a merged tree. */
static void look_inside(struct seen *sn, const char *merged, const char *stage)
{
	char p[256];

	fmt(p, sizeof(p), "%s/etc/hello", merged);
	sn->in_hello = uid_of(p);
	fmt(p, sizeof(p), "%s/etc/user", merged);
	sn->in_user = uid_of(p);
	fmt(p, sizeof(p), "%s/etc/two", merged);
	sn->in_two = uid_of(p);
	fmt(p, sizeof(p), "%s/etc/new", merged);
	sn->in_write_new = try_append(p, O_CREAT);
	fmt(p, sizeof(p), "%s/etc/hello", merged);
	sn->in_write_hello = try_append(p, 0);
	if (stage) {
		fmt(p, sizeof(p), "%s/etc/hello", stage);
		sn->in_write_layer = try_append(p, 0);
	}
}

static double mount_idmapped(struct seen *sn, const char *layer, int nsfd, const char *at)
{
	_cleanup_free_ char *err = NULL;
	int fd = -1;
	double t0 = now_us();

	if (userns_idmap_mount(AT_FDCWD, layer, nsfd, &fd, &err) < 0) {
		snprintf(sn->error, sizeof(sn->error), "idmap mount: %s", err ? err : "?");
		_exit(1);
	}
	double t = now_us() - t0;
	if (move_mount(fd, "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		seen_fail(sn, "move_mount");
	close(fd);
	return t;
}

/* The child of the "flow" test: a private mount namespace of the host's user namespace. */
static _Noreturn void flow_child(struct seen *sn, int nsfd, uid_t root)
{
	char l1[128], l2[128], s1[128], s2[128], up[128], wk[128], mg[128], opts[1024];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		seen_fail(sn, "private mount namespace");
	fmt(l1, sizeof(l1), "%s/l1", base);
	fmt(l2, sizeof(l2), "%s/l2", base);
	fmt(s1, sizeof(s1), "%s/flow/s1", base);
	fmt(s2, sizeof(s2), "%s/flow/s2", base);
	fmt(up, sizeof(up), "%s/flow/upper", base);
	fmt(wk, sizeof(wk), "%s/flow/work", base);
	fmt(mg, sizeof(mg), "%s/flow/merged", base);
	sn->mount_us = mount_idmapped(sn, l1, nsfd, s1);
	mount_idmapped(sn, l2, nsfd, s2);
	fmt(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s", s2, s1, up, wk);
	if (mount("overlay", mg, "overlay", 0, opts) < 0)
		seen_fail(sn, "overlay");

	char p[256];
	fmt(p, sizeof(p), "%s/etc/hello", mg);
	sn->host_hello = uid_of(p);
	fmt(p, sizeof(p), "%s/etc/user", mg);
	sn->host_user = uid_of(p);
	fmt(p, sizeof(p), "%s/etc/hello", s1);
	sn->stage_hello = uid_of(p);

	/* A process that joins the user namespace (and keeps this mount namespace). */
	pid_t pid = fork();
	if (pid < 0)
		seen_fail(sn, "fork");
	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWUSER) < 0 || become_ns_root() < 0)
			seen_fail(sn, "join the user namespace");
		look_inside(sn, mg, s1);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		_exit(1);
	(void)root;
	_exit(0);
}

static void check_upper(const char *upper, uid_t root, const char *label)
{
	char p[256];

	fmt(p, sizeof(p), "%s/etc/new", upper);
	ok(owned(p, root, root + 65536), "%s: a file created by container root is the slice root's on the host", label);
	fmt(p, sizeof(p), "%s/etc/hello", upper);
	ok(owned(p, root, root + 65536), "%s: the copied-up layer file is the slice root's on the host", label);
	ok(layers_untouched(), "%s: the layers on the host are untouched (owners, contents, no new file)", label);
}

static void test_flow(struct seen *sn, const struct userns_slice *s)
{
	_cleanup_close_ int nsfd = -1;
	_cleanup_free_ char *err = NULL;
	char p[256];

	seen_reset(sn);
	if (userns_create_for_slice(s, &nsfd, &err) < 0) {
		ok(false, "flow: userns (%s)", err ? err : "");
		return;
	}
	fmt(p, sizeof(p), "%s/flow", base);
	mkdir_or_die(p, 0755, 0, 0);
	static const char *const dirs[] = {"s1", "s2", "merged"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		fmt(p, sizeof(p), "%s/flow/%s", base, dirs[i]);
		mkdir_or_die(p, 0755, 0, 0);
	}
	/* Only the container's own, empty upper and work dirs are chowned. */
	fmt(p, sizeof(p), "%s/flow/upper", base);
	mkdir_or_die(p, 0755, s->uid, s->gid);
	fmt(p, sizeof(p), "%s/flow/work", base);
	mkdir_or_die(p, 0700, s->uid, s->gid);

	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0)
		flow_child(sn, nsfd, s->uid);
	int st;
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !sn->error[0], "flow: the mounts were made (%s)", sn->error);
	is_int(sn->stage_hello, s->uid, "flow: from the host, the idmapped layer's root file is the slice root's");
	is_int(sn->host_hello, s->uid,
	       "flow: from the host, the overlay shows the layer's root file as the slice root's");
	is_int(sn->host_user, s->uid + 1000, "flow: from the host, uid 1000 in a layer shows as slice + 1000");
	is_int(sn->in_hello, 0, "flow: inside, the layer's root file is owned by 0");
	is_int(sn->in_user, 1000, "flow: inside, uid 1000 stays 1000");
	is_int(sn->in_two, 0, "flow: inside, the upper layer's file is owned by 0 too");
	is_int(sn->in_write_new, 0, "flow: container root creates a file in a root-owned layer dir");
	is_int(sn->in_write_hello, 0, "flow: container root edits a root-owned layer file (copy-up)");
	ok(sn->in_write_layer == EROFS, "flow: the idmapped layer mount itself is read-only (%s)",
	   strerror(sn->in_write_layer));
	printf("# cost: one idmapped layer mount (open_tree + mount_setattr) %.0f us\n", sn->mount_us);
	fmt(p, sizeof(p), "%s/flow/upper", base);
	check_upper(p, s->uid, "flow");
}

/* Receives the layer mount fds; the message also means "your maps are written". */
static int recv_fds(int sock, int *fds, size_t n)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int) * n))
		return -1;
	memcpy(fds, CMSG_DATA(c), sizeof(int) * n);
	return 0;
}

static int send_fds(int sock, const int *fds, size_t n)
{
	char byte = 'g';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* The init of the "init flow": born in its own user namespace with all other namespaces, it
 * waits for the parent, then does what only the owner of its mount namespace can do. */
static _Noreturn void init_child(struct seen *sn, int sock)
{
	char s1[128], s2[128], up[128], wk[128], mg[128], pr[160], opts[1024];
	int fds[2];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		seen_fail(sn, "pdeathsig");
	if (recv_fds(sock, fds, 2) < 0)
		seen_fail(sn, "receive the layer mounts");
	if (become_ns_root() < 0)
		seen_fail(sn, "become root of the user namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		seen_fail(sn, "private mount tree");
	fmt(s1, sizeof(s1), "%s/init/s1", base);
	fmt(s2, sizeof(s2), "%s/init/s2", base);
	fmt(up, sizeof(up), "%s/init/upper", base);
	fmt(wk, sizeof(wk), "%s/init/work", base);
	fmt(mg, sizeof(mg), "%s/init/merged", base);
	if (move_mount(fds[0], "", AT_FDCWD, s1, MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    move_mount(fds[1], "", AT_FDCWD, s2, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		seen_fail(sn, "attach the layer mounts");
	fmt(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s,userxattr", s2, s1, up, wk);
	if (mount("overlay", mg, "overlay", 0, opts) < 0)
		seen_fail(sn, "overlay in the user namespace");
	sn->in_pid = getpid();
	sn->in_hostname = err_of(sethostname("box", 3));
	int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	sn->in_raw = err_of(raw);
	if (raw >= 0)
		close(raw);
	fmt(pr, sizeof(pr), "%s/proc", mg);
	sn->in_proc = err_of(mount("proc", pr, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	fmt(pr, sizeof(pr), "%s/etc/hello", s1);
	sn->in_write_layer = try_append(pr, 0);
	/* The staged layer mounts go away before container code runs (pivot_root does it with the
	 * old root); the overlay keeps its own private clones of its lower layers. */
	if (umount2(s1, MNT_DETACH) < 0 || umount2(s2, MNT_DETACH) < 0)
		seen_fail(sn, "detach the staged layers");
	sn->staged_gone = access(pr, F_OK) < 0 && errno == ENOENT;
	look_inside(sn, mg, NULL);
	_exit(0);
}

/* The order of userns.h, step by step: clone with every namespace, maps, layer mounts by the
 * privileged parent, fds to the init, overlay and the rest inside. */
static void test_init_flow(struct seen *sn, const struct userns_slice *s)
{
	static const char *const dirs[] = {"s1", "s2", "merged"};
	_cleanup_close_ int parent_sock = -1, child_sock = -1, pidfd = -1, nsfd = -1, m1 = -1, m2 = -1;
	_cleanup_free_ char *err = NULL;
	struct userns_idmap u, g;
	char p[256], l1[128], l2[128];
	int sv[2], r;

	seen_reset(sn);
	fmt(p, sizeof(p), "%s/init", base);
	mkdir_or_die(p, 0755, 0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		fmt(p, sizeof(p), "%s/init/%s", base, dirs[i]);
		mkdir_or_die(p, 0755, 0, 0);
	}
	fmt(p, sizeof(p), "%s/init/upper", base);
	mkdir_or_die(p, 0755, s->uid, s->gid);
	fmt(p, sizeof(p), "%s/init/work", base);
	mkdir_or_die(p, 0700, s->uid, s->gid);
	fmt(l1, sizeof(l1), "%s/l1", base);
	fmt(l2, sizeof(l2), "%s/l2", base);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	parent_sock = sv[0];
	child_sock = sv[1];

	struct clone_args args = {
	    .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
		     CLONE_NEWCGROUP | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	    .exit_signal = SIGCHLD,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		ok(false, "init flow: clone3: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		parent_sock = safe_close(parent_sock);
		init_child(sn, child_sock);
	}
	child_sock = safe_close(child_sock);

	double t0 = now_us();
	userns_slice_maps(s, &u, &g);
	r = userns_set_maps(pidfd, (pid_t)pid, &u, 1, &g, 1, &err);
	if (r >= 0)
		r = userns_open_of(pidfd, (pid_t)pid, &nsfd, &err);
	if (r >= 0)
		r = userns_idmap_mount(AT_FDCWD, l1, nsfd, &m1, &err);
	if (r >= 0)
		r = userns_idmap_mount(AT_FDCWD, l2, nsfd, &m2, &err);
	double t = now_us() - t0;
	is_int(r, 0, "init flow: maps, namespace fd and layer mounts by the parent (%s)", err ? err : "");
	int fds[2] = {m1, m2};
	if (r < 0 || send_fds(parent_sock, fds, 2) < 0)
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	printf("# cost: init flow parent side (maps, ns fd, 2 idmapped mounts) %.0f us\n", t);
	ok(si.si_code == CLD_EXITED && si.si_status == 0 && !sn->error[0], "init flow: the init set up its root (%s)",
	   sn->error);
	is_int(sn->in_pid, 1, "init flow: the init is pid 1 of its pid namespace");
	is_int(sn->in_hello, 0, "init flow: inside, after the staging is gone, the layer's root file is owned by 0");
	is_int(sn->in_user, 1000, "init flow: inside, uid 1000 stays 1000");
	is_int(sn->in_two, 0, "init flow: inside, the upper layer's file is owned by 0");
	is_int(sn->in_write_new, 0, "init flow: container root creates a file in a layer dir");
	is_int(sn->in_write_hello, 0, "init flow: container root edits a layer file (copy-up)");
	ok(sn->in_write_layer == EROFS, "init flow: the layer mount itself is read-only (%s)",
	   strerror(sn->in_write_layer));
	ok(sn->staged_gone, "init flow: once detached, the staging path no longer shows the layer");
	is_int(sn->in_hostname, 0, "init flow: sethostname works (the uts namespace is the userns's)");
	is_int(sn->in_raw, 0, "init flow: a raw ICMP socket opens (NET_RAW over its own net namespace)");
	is_int(sn->in_proc, 0, "init flow: proc mounts (its own pid namespace)");
	fmt(p, sizeof(p), "%s/init/upper", base);
	check_upper(p, s->uid, "init flow");
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_fatal_signal};

	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	alarm(WATCHDOG_S);
	fmt(base, sizeof(base), "/tmp/test-userns.XXXXXX");
	if (!mkdtemp(base)) {
		base[0] = '\0';
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	atexit(cleanup);
	if (chmod(base, 0755) < 0)
		abort();

	test_parse();
	test_read();
	test_allocator();

	if (geteuid() != 0) {
		skip("user namespaces and idmapped mounts need root");
		return tap_done();
	}
	_cleanup_free_ char *err = NULL;
	make_layers();
	char l1[128];
	fmt(l1, sizeof(l1), "%s/l1", base);
	int r = userns_idmap_check(l1, &err);
	if (r == -EOPNOTSUPP) {
		skip(err);
		return tap_done();
	}
	is_int(r, 0, "idmap check on the layers' filesystem (%s)", err ? err : "");

	test_userns_fd();
	struct userns_slice s = {BASE_UID, BASE_UID + 65536};
	test_idmap_mount(&s);

	struct seen *sn = mmap(NULL, sizeof(*sn), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sn == MAP_FAILED)
		abort();
	test_flow(sn, &s);
	test_init_flow(sn, &s);
	munmap(sn, sizeof(*sn));
	return tap_done();
}
