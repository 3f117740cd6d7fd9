#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daemon/rootfs.h"
#include "daemon/spawn.h"

static int fail(char *err, size_t errlen, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	errno = -r;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* Makes sure a mount point exists in the (writable, overlay) rootfs. */
static int ensure_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int mount_at(const char *src, const char *target, const char *fstype, unsigned long flags,
		    const char *data, char *err, size_t errlen)
{
	int r = ensure_dir(target, 0755);
	if (r < 0)
		return fail(err, errlen, r, "cannot create mount point /%s: %m", target);
	if (mount(src, target, fstype, flags, data) < 0)
		return fail(err, errlen, -errno, "cannot mount %s on /%s: %m", fstype, target);
	return 0;
}

static const struct {
	const char *name;
	unsigned maj, min;
} dev_nodes[] = {
	{ "dev/null", 1, 3 },   { "dev/zero", 1, 5 }, { "dev/full", 1, 7 },
	{ "dev/random", 1, 8 }, { "dev/urandom", 1, 9 }, { "dev/tty", 5, 0 },
};

static const struct {
	const char *target, *name;
} dev_links[] = {
	{ "pts/ptmx", "dev/ptmx" },          { "/proc/self/fd", "dev/fd" },
	{ "/proc/self/fd/0", "dev/stdin" },  { "/proc/self/fd/1", "dev/stdout" },
	{ "/proc/self/fd/2", "dev/stderr" }, { "/proc/kcore", "dev/core" },
};

/* /dev is a fresh tmpfs with only the standard nodes: the container sees no host device. */
static int setup_dev(char *err, size_t errlen)
{
	int r = mount_at("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++)
		if (mknod(dev_nodes[i].name, S_IFCHR | 0666, makedev(dev_nodes[i].maj, dev_nodes[i].min)) < 0)
			return fail(err, errlen, -errno, "cannot create /%s: %m", dev_nodes[i].name);
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (symlink(dev_links[i].target, dev_links[i].name) < 0)
			return fail(err, errlen, -errno, "cannot create /%s: %m", dev_links[i].name);
	/* A new devpts instance: the container's ptys are its own, and its ptmx cannot reach the
	 * host's terminals. gid 5 is "tty" in Alpine and Debian alike. */
	r = mount_at("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5", err, errlen);
	if (r < 0)
		return r;
	r = mount_at("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", err,
		     errlen);
	if (r < 0)
		return r;
	return mount_at("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err, errlen);
}

int rootfs_setup(const struct spawn_config *cfg, char *err, size_t errlen)
{
	/* Nothing we mount may propagate back to the host, and host mounts must not appear later. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(err, errlen, -errno, "cannot make the mount tree private: %m");

	char opts[4096];
	size_t off = (size_t)snprintf(opts, sizeof(opts), "lowerdir=");
	for (char **l = cfg->lowerdirs; *l; l++) {
		int n = snprintf(opts + off, sizeof(opts) - off, "%s%s", l == cfg->lowerdirs ? "" : ":", *l);
		if (n < 0 || (size_t)n >= sizeof(opts) - off)
			return fail(err, errlen, -E2BIG, "too many image layers for one overlay mount");
		off += (size_t)n;
	}
	/* volatile: the upper layer is never synced, so unmounting it at exit does not wait for a
	 * sync of the whole filesystem under --root. A container's upper dir is never mounted
	 * again (it is deleted, or kept only for inspection), so losing its writes in a host crash
	 * costs nothing a restart would have kept. Kernels before 5.10 lack it: mount without. */
	int n = snprintf(opts + off, sizeof(opts) - off, ",upperdir=%s,workdir=%s,volatile", cfg->upperdir,
			 cfg->ovl_workdir);
	if (n < 0 || (size_t)n >= sizeof(opts) - off)
		return fail(err, errlen, -E2BIG, "overlay options too long");
	if (mount("overlay", cfg->rootfs, "overlay", 0, opts) < 0) {
		opts[off + (size_t)n - strlen(",volatile")] = '\0';
		if (errno != EINVAL || mount("overlay", cfg->rootfs, "overlay", 0, opts) < 0)
			return fail(err, errlen, -errno, "cannot mount the overlay root filesystem: %m");
	}
	if (chdir(cfg->rootfs) < 0)
		return fail(err, errlen, -errno, "cannot enter the root filesystem: %m");

	int r = mount_at("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err, errlen);
	if (r < 0)
		return r;
	/* Read-only: the container must not reconfigure host devices or kernel objects. */
	r = mount_at("sysfs", "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err, errlen);
	if (r < 0)
		return r;
	r = setup_dev(err, errlen);
	if (r < 0)
		return r;

	/* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves the
	 * container no path back to the host's filesystem (unlike chroot). */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(err, errlen, -errno, "pivot_root: %m");
	if (umount2(".", MNT_DETACH) < 0)
		return fail(err, errlen, -errno, "cannot detach the old root: %m");
	if (chdir("/") < 0)
		return fail(err, errlen, -errno, "chdir /: %m");
	return 0;
}
