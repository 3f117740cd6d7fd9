/* Unit tests for runtime/userns as root (skipped otherwise; the subid parser and the allocator
 * are in test-userns-subid.c): user namespace fds, idmapped layer mounts, their costs, and the
 * whole mount flow a container init follows:
 *
 *  - "flow": in a private mount namespace, idmapped read-only mounts of two root-owned layers are
 *    attached and an overlay is mounted on top; a process that joined the user namespace sees
 *    the layer files as uid 0 (and 1000 as 1000) while the host sees the slice's ids, and what
 *    it writes lands in the upper dir owned by the slice's root on the host;
 *  - "init flow": the order documented in userns.h, with a real init cloned with CLONE_NEWUSER
 *    and all other namespaces, maps written by the parent, layer mounts made by the parent and
 *    passed over a socket, userns_overlay_mount() inside (staging gone afterwards, also after a
 *    failure), then sethostname, a raw socket, lo up and /proc inside.
 *
 * Every check on ownership is made both from inside and from the host, and the layers are
 * checked untouched afterwards. Mounts live only in the children's mount namespaces, so they
 * vanish with them; the temp directory is removed at exit, on a signal and by the watchdog. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

static void write_text(const char *path, const char *text, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, text, len) < 0)
		abort();
}

/* Whether a map file holds exactly one line "inside outside count" (the kernel pads columns). */
static bool map_is(const char *path, unsigned inside, unsigned outside, unsigned count)
{
	_cleanup_free_ char *text = NULL;
	unsigned a, b, c;
	int n = 0;

	return read_file(path, 4096, &text, NULL) == 0 && sscanf(text, "%u %u %u %n", &a, &b, &c, &n) == 3 &&
	       text[n] == '\0' && a == inside && b == outside && c == count;
}

/* Whether a child that joins nsfd sees the slice's maps in /proc/self. */
static bool ns_maps_are(int nsfd, const struct userns_slice *s)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(setns(nsfd, CLONE_NEWUSER) == 0 && map_is("/proc/self/uid_map", 0, s->uid, USERNS_SLICE_SIZE) &&
			      map_is("/proc/self/gid_map", 0, s->gid, USERNS_SLICE_SIZE)
			  ? 0
			  : 1);
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_userns_fd(void)
{
	struct userns_slice s = {BASE_UID, BASE_UID + 65536};
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *err = NULL, *err2 = NULL;

	is_int(userns_create_for_slice(&s, &fd, &err), 0, "userns: created for a slice (%s)", err ? err : "");
	ok(fd >= 0 && ns_maps_are(fd, &s), "userns: a process that joins it sees the slice's maps");
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
	char link[128];
	_cleanup_free_ char *err4 = NULL;
	fmt(link, sizeof(link), "%s/l1-link", base);
	if (symlink(l1, link) < 0)
		abort();
	fd = -1;
	r = userns_idmap_mount(AT_FDCWD, link, nsfd, &fd, &err4);
	ok(r == -ENOTDIR && fd == -1, "idmap: a symlink to a layer is not followed (%d: %s)", r, err4 ? err4 : "");
	r = userns_idmap_mount(AT_FDCWD, "/nonexistent-layer", nsfd, &fd, &err2);
	ok(r == -ENOENT && fd == -1, "idmap: a missing layer fails with ENOENT (%s)", err2 ? err2 : "");
}

static void mkdir_or_die(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(path, mode) < 0 || chown(path, uid, gid) < 0)
		abort();
}

/* The two layers: l1 with root-owned files and one of uid 1000, l2 on top with one more file. */
static const struct layer_entry {
	const char *path;
	const char *text; /* NULL: a directory */
	uid_t owner;	  /* uid and gid */
} layer_entries[] = {
    {"l1", NULL, 0},	  {"l1/etc", NULL, 0}, {"l1/etc/hello", "one\n", 0}, {"l1/etc/user", "user\n", 1000},
    {"l1/proc", NULL, 0}, {"l2", NULL, 0},     {"l2/etc", NULL, 0},	     {"l2/etc/two", "two\n", 0},
};

static void make_layers(void)
{
	char p[256];

	for (size_t i = 0; i < ARRAY_SIZE(layer_entries); i++) {
		const struct layer_entry *e = &layer_entries[i];
		fmt(p, sizeof(p), "%s/%s", base, e->path);
		if (!e->text) {
			mkdir_or_die(p, 0755, e->owner, e->owner);
			continue;
		}
		write_text(p, e->text, strlen(e->text));
		if (chown(p, e->owner, e->owner) < 0)
			abort();
	}
}

static bool owned(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_uid == uid && st.st_gid == gid;
}

/* Every layer entry keeps its owner and contents, and nothing was added to l1/etc. */
static bool layers_untouched(void)
{
	char p[256];
	bool good = true;

	for (size_t i = 0; i < ARRAY_SIZE(layer_entries); i++) {
		const struct layer_entry *e = &layer_entries[i];
		char *text = NULL;
		fmt(p, sizeof(p), "%s/%s", base, e->path);
		good = good && owned(p, e->owner, e->owner);
		if (e->text)
			good = good && read_file(p, 4096, &text, NULL) == 0 && strcmp(text, e->text) == 0;
		free(text);
	}
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
	bool fail_cleaned;  /* a failed overlay mount left no staged layer */
	bool ovl_opts_ok;   /* the overlay has userxattr and volatile */
	int in_hostname;    /* 0 or errno of sethostname() */
	int in_raw;	    /* 0 or errno of opening a raw ICMP socket */
	int in_lo_up;	    /* 0 or errno of bringing lo up */
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
	sn->in_hostname = sn->in_raw = sn->in_proc = sn->in_lo_up = -1;
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

/* The paths of one flow: the layers, and under base/<name> the staging points, the container's
 * upper and work dirs and the merged root. */
struct flow_paths {
	char l1[128], l2[128], s1[128], s2[128], up[128], wk[128], mg[128];
};

/* Fills the paths and creates the directories, all owned by host root except the container's own
 * empty upper and work dirs, the only things chowned (to the slice's root). */
static void flow_prepare(const char *name, const struct userns_slice *s, struct flow_paths *fp)
{
	char p[128];

	fmt(fp->l1, sizeof(fp->l1), "%s/l1", base);
	fmt(fp->l2, sizeof(fp->l2), "%s/l2", base);
	fmt(fp->s1, sizeof(fp->s1), "%s/%s/s1", base, name);
	fmt(fp->s2, sizeof(fp->s2), "%s/%s/s2", base, name);
	fmt(fp->up, sizeof(fp->up), "%s/%s/upper", base, name);
	fmt(fp->wk, sizeof(fp->wk), "%s/%s/work", base, name);
	fmt(fp->mg, sizeof(fp->mg), "%s/%s/merged", base, name);
	fmt(p, sizeof(p), "%s/%s", base, name);
	mkdir_or_die(p, 0755, 0, 0);
	mkdir_or_die(fp->s1, 0755, 0, 0);
	mkdir_or_die(fp->s2, 0755, 0, 0);
	mkdir_or_die(fp->mg, 0755, 0, 0);
	mkdir_or_die(fp->up, 0755, s->uid, s->gid);
	mkdir_or_die(fp->wk, 0700, s->uid, s->gid);
}

/* Mounts the overlay of the staged layers (l2 above l1) on the merged dir, as host root. */
static int flow_overlay(const struct flow_paths *fp)
{
	char opts[1024];

	fmt(opts, sizeof(opts), "lowerdir=%s:%s,upperdir=%s,workdir=%s", fp->s2, fp->s1, fp->up, fp->wk);
	return mount("overlay", fp->mg, "overlay", 0, opts);
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
static _Noreturn void flow_child(struct seen *sn, int nsfd, const struct flow_paths *fp)
{
	char p[256];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		seen_fail(sn, "private mount namespace");
	sn->mount_us = mount_idmapped(sn, fp->l1, nsfd, fp->s1);
	mount_idmapped(sn, fp->l2, nsfd, fp->s2);
	if (flow_overlay(fp) < 0)
		seen_fail(sn, "overlay");
	fmt(p, sizeof(p), "%s/etc/hello", fp->mg);
	sn->host_hello = uid_of(p);
	fmt(p, sizeof(p), "%s/etc/user", fp->mg);
	sn->host_user = uid_of(p);
	fmt(p, sizeof(p), "%s/etc/hello", fp->s1);
	sn->stage_hello = uid_of(p);

	/* A process that joins the user namespace (and keeps this mount namespace). */
	pid_t pid = fork();
	if (pid < 0)
		seen_fail(sn, "fork");
	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWUSER) < 0 || become_ns_root() < 0)
			seen_fail(sn, "join the user namespace");
		look_inside(sn, fp->mg, fp->s1);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		_exit(1);
	_exit(0);
}

/* What container root saw (look_inside()), and what the host sees afterwards. */
static void check_inside_and_host(const struct seen *sn, const struct flow_paths *fp, uid_t root, const char *label)
{
	char p[256];

	is_int(sn->in_hello, 0, "%s: inside, the layer's root file is owned by 0", label);
	is_int(sn->in_user, 1000, "%s: inside, uid 1000 stays 1000", label);
	is_int(sn->in_two, 0, "%s: inside, the upper layer's file is owned by 0 too", label);
	is_int(sn->in_write_new, 0, "%s: container root creates a file in a root-owned layer dir", label);
	is_int(sn->in_write_hello, 0, "%s: container root edits a root-owned layer file (copy-up)", label);
	ok(sn->in_write_layer == EROFS, "%s: the idmapped layer mount itself is read-only (%s)", label,
	   strerror(sn->in_write_layer));
	fmt(p, sizeof(p), "%s/etc/new", fp->up);
	ok(owned(p, root, root + 65536), "%s: a file created by container root is the slice root's on the host", label);
	fmt(p, sizeof(p), "%s/etc/hello", fp->up);
	ok(owned(p, root, root + 65536), "%s: the copied-up layer file is the slice root's on the host", label);
	ok(layers_untouched(), "%s: the layers on the host are untouched (owners, contents, no new file)", label);
}

static void test_flow(struct seen *sn, const struct userns_slice *s)
{
	_cleanup_close_ int nsfd = -1;
	_cleanup_free_ char *err = NULL;
	struct flow_paths fp;

	seen_reset(sn);
	if (userns_create_for_slice(s, &nsfd, &err) < 0) {
		ok(false, "flow: userns (%s)", err ? err : "");
		return;
	}
	flow_prepare("flow", s, &fp);
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0)
		flow_child(sn, nsfd, &fp);
	int st;
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !sn->error[0], "flow: the mounts were made (%s)", sn->error);
	is_int(sn->stage_hello, s->uid, "flow: from the host, the idmapped layer's root file is the slice root's");
	is_int(sn->host_hello, s->uid,
	       "flow: from the host, the overlay shows the layer's root file as the slice root's");
	is_int(sn->host_user, s->uid + 1000, "flow: from the host, uid 1000 in a layer shows as slice + 1000");
	printf("# cost: one idmapped layer mount (open_tree + mount_setattr) %.0f us\n", sn->mount_us);
	check_inside_and_host(sn, &fp, s->uid, "flow");
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

/* Brings lo up as the container's init does: 0 or the errno. */
static int lo_up(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return errno;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? errno : 0;
}

/* Whether the mount on path (in /proc/self/mountinfo) is an overlay with userxattr and volatile. */
static bool overlay_has_options(const char *path)
{
	_cleanup_free_ char *info = NULL;
	char needle[160];

	if (read_file("/proc/self/mountinfo", 1 << 20, &info, NULL) < 0)
		return false;
	fmt(needle, sizeof(needle), " %s ", path);
	for (char *line = strtok(info, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, needle) && strstr(line, " - overlay ") && strstr(line, "userxattr") &&
		    strstr(line, "volatile"))
			return true;
	return false;
}

/* The init of the "init flow": born in its own user namespace with all other namespaces, it
 * waits for the parent, then does what only the owner of its mount namespace can do. */
static _Noreturn void init_child(struct seen *sn, int sock, const struct flow_paths *fp)
{
	_cleanup_free_ char *err = NULL;
	char p[256];
	int fds[3]; /* l2 (top), l1, and a spare clone of l1 for the failure path */

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		seen_fail(sn, "pdeathsig");
	if (recv_fds(sock, fds, 3) < 0)
		seen_fail(sn, "receive the layer mounts");
	if (become_ns_root() < 0)
		seen_fail(sn, "become root of the user namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		seen_fail(sn, "private mount tree");
	/* The layer mount refuses writes even as a dirfd, before anything is attached. */
	int wfd = openat(fds[1], "etc/hello", O_WRONLY | O_APPEND | O_CLOEXEC);
	sn->in_write_layer = wfd < 0 ? errno : 0;
	if (wfd >= 0)
		close(wfd);
	/* A failing overlay (no upper dir) must leave no staged layer behind either. */
	fmt(p, sizeof(p), "%s/0", fp->s2);
	sn->fail_cleaned = userns_overlay_mount(fds + 2, 1, fp->s2, "/nonexistent-upper", fp->wk, true, fp->mg, NULL) < 0 &&
			   access(p, F_OK) < 0 && errno == ENOENT;
	if (userns_overlay_mount(fds, 2, fp->s1, fp->up, fp->wk, true, fp->mg, &err) < 0) {
		snprintf(sn->error, sizeof(sn->error), "overlay: %s", err ? err : "?");
		_exit(1);
	}
	fmt(p, sizeof(p), "%s/0", fp->s1);
	sn->staged_gone = access(p, F_OK) < 0 && errno == ENOENT;
	sn->ovl_opts_ok = overlay_has_options(fp->mg);
	sn->in_pid = getpid();
	sn->in_hostname = err_of(sethostname("box", 3));
	int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	sn->in_raw = err_of(raw);
	if (raw >= 0)
		close(raw);
	sn->in_lo_up = lo_up();
	fmt(p, sizeof(p), "%s/proc", fp->mg);
	sn->in_proc = err_of(mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	look_inside(sn, fp->mg, NULL);
	_exit(0);
}

/* The order of userns.h, step by step: clone with every namespace, maps, layer mounts by the
 * privileged parent, fds to the init, overlay and the rest inside. */
static void test_init_flow(struct seen *sn, const struct userns_slice *s)
{
	_cleanup_close_ int parent_sock = -1, child_sock = -1, pidfd = -1, nsfd = -1, m1 = -1, m2 = -1, m3 = -1;
	_cleanup_free_ char *err = NULL;
	struct userns_idmap u, g;
	struct flow_paths fp;
	int sv[2], r;

	seen_reset(sn);
	flow_prepare("init", s, &fp);
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
		init_child(sn, child_sock, &fp);
	}
	child_sock = safe_close(child_sock);

	double t0 = now_us();
	userns_slice_maps(s, &u, &g);
	r = userns_set_maps(pidfd, (pid_t)pid, &u, 1, &g, 1, &err);
	if (r >= 0)
		r = userns_open_of(pidfd, (pid_t)pid, &nsfd, &err);
	if (r >= 0)
		r = userns_idmap_mount(AT_FDCWD, fp.l1, nsfd, &m1, &err);
	if (r >= 0)
		r = userns_idmap_mount(AT_FDCWD, fp.l2, nsfd, &m2, &err);
	if (r >= 0)
		r = userns_idmap_mount(AT_FDCWD, fp.l1, nsfd, &m3, &err);
	double t = now_us() - t0;
	is_int(r, 0, "init flow: maps, namespace fd and layer mounts by the parent (%s)", err ? err : "");
	int fds[3] = {m2, m1, m3};
	if (r < 0 || send_fds(parent_sock, fds, 3) < 0)
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	printf("# cost: init flow parent side (maps, ns fd, 3 idmapped mounts) %.0f us\n", t);
	ok(si.si_code == CLD_EXITED && si.si_status == 0 && !sn->error[0], "init flow: the init set up its root (%s)",
	   sn->error);
	is_int(sn->in_pid, 1, "init flow: the init is pid 1 of its pid namespace");
	ok(sn->staged_gone, "init flow: after the overlay mount, the staging path no longer shows the layers");
	ok(sn->ovl_opts_ok, "init flow: the overlay has userxattr and volatile");
	ok(sn->fail_cleaned, "init flow: a failed overlay mount fails and leaves no staged layer");
	is_int(sn->in_hostname, 0, "init flow: sethostname works (the uts namespace is the userns's)");
	is_int(sn->in_raw, 0, "init flow: a raw ICMP socket opens (NET_RAW over its own net namespace)");
	is_int(sn->in_lo_up, 0, "init flow: lo comes up (NET_ADMIN over its own net namespace)");
	is_int(sn->in_proc, 0, "init flow: proc mounts (its own pid namespace)");
	check_inside_and_host(sn, &fp, s->uid, "init flow");
}

int main(void)
{
	tap_cleanup_on_signals(cleanup, WATCHDOG_S);
	fmt(base, sizeof(base), "/tmp/test-userns.XXXXXX");
	if (!mkdtemp(base)) {
		base[0] = '\0';
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	atexit(cleanup);
	if (chmod(base, 0755) < 0)
		abort();

	if (geteuid() != 0) {
		skip("user namespaces and idmapped mounts need root");
		return tap_done();
	}
	_cleanup_free_ char *err = NULL;
	make_layers();
	char l1[128];
	fmt(l1, sizeof(l1), "%s/l1", base);
	int r = userns_idmap_check(l1, &err);
	/* Only a kernel too old is a reason to skip: on 5.19+ the temp dir's filesystem (ext4,
	 * xfs, btrfs, tmpfs since 6.3) supports idmapped mounts, and a failure is a bug. */
	if (r == -EOPNOTSUPP && err && strstr(err, "Linux 5.19")) {
		skip(err);
		return tap_done();
	}
	is_int(r, 0, "idmap check on the layers' filesystem (%s)", err ? err : "");
	if (r < 0)
		return tap_done();

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
