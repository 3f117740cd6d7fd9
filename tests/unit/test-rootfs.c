/* Unit tests for runtime/rootfs.c as root (skipped otherwise): rootfs_setup() run for real in a
 * child with a private mount namespace, on an overlay of a temp directory, with spec mounts a
 * config.json can ask for. Each case reports from the child through its exit status, as bits,
 * so the parent asserts every one of them:
 *
 *  - a bind mount keeps its nosuid, nodev and noexec options (the kernel drops every flag but
 *    MS_REC on a new bind; only a remount sets them), and "ro" makes it read-only;
 *  - an image whose mount target is a symlink out of the root is refused with ELOOP;
 *  - in a user namespace, a "ro" bind of a mount whose nosuid, nodev and noexec are locked is
 *    made (keeping them) instead of failing with EPERM.
 *
 * The mounts live only in the children's mount namespaces; the temp directory is removed at exit,
 * on a signal and by the watchdog. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/util.h"
#include "runtime/rootfs.h"
#include "tests/tap.h"

#define WATCHDOG_S 60

static char base[64];

static void cleanup(void)
{
	if (base[0])
		(void)rm_rf(base);
	base[0] = '\0';
}

static void path(char *buf, const char *name)
{
	if ((size_t)snprintf(buf, 256, "%s/%s", base, name) >= 256)
		abort();
}

/* The bits a child sets in its exit status. */
enum {
	BIT_SETUP = 1 << 0,   /* rootfs_setup() failed (bind case) */
	BIT_NOSUID = 1 << 1,  /* the bind lost nosuid */
	BIT_NODEV = 1 << 2,   /* ... nodev */
	BIT_NOEXEC = 1 << 3,  /* ... noexec */
	BIT_RDONLY = 1 << 4,  /* the "ro" bind is writable */
	BIT_PLAIN = 1 << 5,   /* a bind without options became read-only or nosuid */
	BIT_REFUSED = 1 << 6, /* symlink case: rootfs_setup() did not fail with ELOOP */
	BIT_INTERNAL = 1 << 7,
};

/* A spec with the overlay of base/lower and the given mounts. */
static void spec_for(struct rt_spec *spec, struct rt_mount *mounts, size_t n, char **lowerdirs, char *upper, char *work,
		     char *root)
{
	memset(spec, 0, sizeof(*spec));
	spec->root_path = root;
	spec->overlay.lowerdirs = lowerdirs;
	spec->overlay.upperdir = upper;
	spec->overlay.workdir = work;
	spec->mounts = mounts;
	spec->n_mounts = n;
	spec->namespaces = CLONE_NEWNS;
}

/* In a child: a private mount namespace, then rootfs_setup(). The spec is never freed: the child
 * _exits. */
static int run_child(int (*fn)(void))
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0)
			_exit(BIT_INTERNAL);
		_exit(fn());
	}
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static char lower[256], upper[256], work[256], upper2[256], work2[256], upper3[256], work3[256], root[256],
    hostdir[256];
static char *lowerdirs[2];

static int child_bind_options(void)
{
	struct rt_mount mounts[] = {
	    {"/opts", "bind", hostdir, NULL, MS_BIND | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC, false, false},
	    {"/ro", "bind", hostdir, NULL, MS_BIND | MS_RDONLY, false, false},
	    {"/plain", "bind", hostdir, NULL, MS_BIND, false, false},
	};
	struct rt_spec spec;
	char err[512] = "";
	spec_for(&spec, mounts, ARRAY_SIZE(mounts), lowerdirs, upper, work, root);
	if (rootfs_setup(&spec, NULL, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "# rootfs_setup: %s\n", err);
		return BIT_SETUP;
	}
	int bits = 0;
	struct statvfs sv;
	if (statvfs("/opts", &sv) < 0)
		return BIT_INTERNAL;
	bits |= (sv.f_flag & ST_NOSUID) ? 0 : BIT_NOSUID;
	bits |= (sv.f_flag & ST_NODEV) ? 0 : BIT_NODEV;
	bits |= (sv.f_flag & ST_NOEXEC) ? 0 : BIT_NOEXEC;
	if (statvfs("/ro", &sv) < 0)
		return BIT_INTERNAL;
	bits |= (sv.f_flag & ST_RDONLY) ? 0 : BIT_RDONLY;
	if (statvfs("/plain", &sv) < 0)
		return BIT_INTERNAL;
	bits |= (sv.f_flag & (ST_RDONLY | ST_NOSUID)) ? BIT_PLAIN : 0;
	return bits;
}

static int child_symlink_target(void)
{
	struct rt_mount mounts[] = {{"/escape/inside", "tmpfs", "tmpfs", NULL, MS_NOSUID, false, false}};
	struct rt_spec spec;
	char err[512] = "";
	/* An upper and work dir of its own: an overlay refuses those another overlay used. */
	spec_for(&spec, mounts, ARRAY_SIZE(mounts), lowerdirs, upper2, work2, root);
	int r = rootfs_setup(&spec, NULL, 0, err, sizeof(err));
	if (r != -ELOOP) {
		fprintf(stderr, "# rootfs_setup returned %d: %s\n", r, err);
		return BIT_REFUSED;
	}
	return 0;
}

static bool write_file(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	bool done = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	if (fd >= 0)
		close(fd);
	return done;
}

/* In a user namespace the flags of a mount made outside it are locked: a "ro" bind of a
 * nosuid,nodev,noexec tmpfs must keep them (a remount that clears them fails with EPERM). */
static int child_bind_locked(void)
{
	struct rt_mount mounts[] = {{"/locked", "bind", hostdir, NULL, MS_BIND | MS_RDONLY, false, false}};
	struct rt_spec spec;
	char err[512] = "";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", hostdir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k") < 0 ||
	    unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 || !write_file("/proc/self/setgroups", "deny") ||
	    !write_file("/proc/self/uid_map", "0 0 1") || !write_file("/proc/self/gid_map", "0 0 1"))
		return BIT_INTERNAL;
	spec_for(&spec, mounts, ARRAY_SIZE(mounts), lowerdirs, upper3, work3, root);
	if (rootfs_setup(&spec, NULL, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "# rootfs_setup: %s\n", err);
		return BIT_SETUP;
	}
	struct statvfs sv;
	if (statvfs("/locked", &sv) < 0)
		return BIT_INTERNAL;
	return ((sv.f_flag & ST_RDONLY) ? 0 : BIT_RDONLY) | ((sv.f_flag & ST_NOSUID) ? 0 : BIT_NOSUID);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("ok 1 # SKIP mounts need root\n1..1\n");
		return 0;
	}
	tap_cleanup_on_signals(cleanup, WATCHDOG_S);
	snprintf(base, sizeof(base), "/tmp/containd-test-rootfs-XXXXXX");
	if (!mkdtemp(base)) {
		base[0] = '\0';
		ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	atexit(cleanup);
	path(lower, "lower");
	path(upper, "upper");
	path(work, "work");
	path(upper2, "upper2");
	path(work2, "work2");
	path(upper3, "upper3");
	path(work3, "work3");
	path(root, "root");
	path(hostdir, "host");
	lowerdirs[0] = lower;
	char inside[300], escape[256];
	path(escape, "lower/escape");
	snprintf(inside, sizeof(inside), "%s/inside", hostdir);
	bool made = mkdir(lower, 0755) == 0 && mkdir(upper, 0755) == 0 && mkdir(work, 0755) == 0 &&
		    mkdir(upper2, 0755) == 0 && mkdir(work2, 0755) == 0 && mkdir(upper3, 0755) == 0 &&
		    mkdir(work3, 0755) == 0 && mkdir(root, 0755) == 0 && mkdir(hostdir, 0755) == 0 &&
		    mkdir(inside, 0755) == 0 && symlink(hostdir, escape) == 0;
	ok(made, "test tree created");
	if (!made)
		return tap_done();

	int bits = run_child(child_bind_options);
	ok(bits >= 0 && !(bits & (BIT_SETUP | BIT_INTERNAL)), "rootfs_setup with bind mounts (status %d)", bits);
	if (bits >= 0 && !(bits & (BIT_SETUP | BIT_INTERNAL))) {
		ok(!(bits & BIT_NOSUID), "a bind mount keeps nosuid");
		ok(!(bits & BIT_NODEV), "a bind mount keeps nodev");
		ok(!(bits & BIT_NOEXEC), "a bind mount keeps noexec");
		ok(!(bits & BIT_RDONLY), "a \"ro\" bind mount is read-only");
		ok(!(bits & BIT_PLAIN), "a bind mount without options is neither read-only nor nosuid");
	}

	bits = run_child(child_symlink_target);
	ok(bits == 0, "a mount target behind a symlink out of the root is refused with ELOOP (status %d)", bits);

	bits = run_child(child_bind_locked);
	if (bits == BIT_INTERNAL) {
		printf("ok %d # SKIP no user namespace with a self-written map here\n", ++tap_count);
	} else {
		ok(bits == 0,
		   "in a user namespace, a \"ro\" bind of a nosuid mount is made, read-only and nosuid "
		   "(status %d)",
		   bits);
	}
	return tap_done();
}
