#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/mounts.h"
#include "runtime/rootfs.h"
#include "runtime/userns.h"

static int openat2_fd(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC, .resolve = resolve };
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

int rootfs_open_in_root(const char *path, int flags)
{
	return openat2_fd(AT_FDCWD, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

enum target_kind { TARGET_DIR, TARGET_FILE, TARGET_EXISTING };

/* Opens (O_PATH) the mount target dest inside the root, one component at a time, creating what is
 * missing when asked to. Safe against a hostile image: no component may be a symlink (an image's
 * /proc -> / or /dev -> /host would otherwise aim a mount at the host: a symlink is refused, not
 * followed), ".." is refused, and each step is relative to the directory fd of the step before,
 * so nothing is resolved against the host's root. Returns the fd, or -ENOENT for a missing
 * TARGET_EXISTING, or another -errno with err filled. */
static int open_target(int rootfd, const char *dest, enum target_kind kind, char *err, size_t errlen)
{
	/* The common case, a target that exists: one lookup confined to the root that fails on any
	 * symlink (ELOOP) or magic link on the way; the walk below then says which and why. */
	int direct = openat2_fd(rootfd, dest, O_PATH | O_NOFOLLOW, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
	if (direct >= 0) {
		struct stat st;
		if (fstat(direct, &st) == 0 && !S_ISLNK(st.st_mode))
			return direct;
		close(direct);
	}
	/* A missing component without any symlink on the way (that would be ELOOP). */
	if (direct == -ENOENT && kind == TARGET_EXISTING)
		return -ENOENT;
	_cleanup_free_ char *copy = strdup(dest);
	if (!copy)
		return err_buf(err, errlen, -ENOMEM, "out of memory");
	_cleanup_close_ int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return err_buf(err, errlen, -errno, "fcntl: %m");
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		bool last = !save || !*save || strspn(save, "/") == strlen(save);
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return err_buf(err, errlen, -EINVAL, "refusing the path %s: it contains \"..\"", dest);
		int fd = openat2_fd(cur, c, O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
		if (fd == -ENOENT && kind != TARGET_EXISTING) {
			if (last && kind == TARGET_FILE) {
				int f = openat(cur, c, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (f < 0 && errno != EEXIST)
					return err_buf(err, errlen, -errno, "cannot create the mount point %s: %m", dest);
				safe_close(f);
			} else if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
				return err_buf(err, errlen, -errno, "cannot create the mount point %s: %m", dest);
			}
			fd = openat2_fd(cur, c, O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
		}
		if (fd == -ENOENT && kind == TARGET_EXISTING)
			return -ENOENT;
		if (fd < 0)
			return err_buf(err, errlen, fd, "cannot open %s in the container's root: %m", dest);
		struct stat st;
		if (fstat(fd, &st) < 0) {
			int e = -errno;
			close(fd);
			return err_buf(err, errlen, e, "cannot stat %s: %m", dest);
		}
		if (S_ISLNK(st.st_mode)) {
			close(fd);
			return err_buf(err, errlen, -ELOOP,
				    "refusing to mount on %s: the image has a symbolic link there (a mount must not "
				    "follow a link out of the container's root)", dest);
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			close(fd);
			return err_buf(err, errlen, -ENOTDIR, "cannot mount on %s: a parent is not a directory", dest);
		}
		close(cur);
		cur = fd;
	}
	return TAKE_FD(cur);
}

static void fd_path(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* Attaches a bind mount with the new mount API: the source is opened once (open_tree clones its
 * mount, recursively for rbind) and that very object, never a path looked up again, is given its
 * flags and moved onto the target opened inside the root.
 *
 * Why this is safe: the source is a path of the host's mount namespace (the init has not pivoted
 * yet) that the daemon put in the spec: a bind a client asked for, which the daemon looked up with
 * that client's rights (daemon/peer.c; access to the daemon's socket is root-equivalent anyway,
 * docs/security.md, and a client could ask for a privileged container),
 * a volume's directory under the daemon's root, or the daemon's own helpers. The target is
 * resolved inside the container's root without following any symlink (open_target), so an image
 * with /evil -> /etc gets a refusal, not a mount on the host's /etc. The flags are set on the
 * detached copy before it is attached (no window where a "ro" bind is writable), and its
 * propagation is private, so nothing mounted later on either side crosses over. Flags are only
 * ever added: in a user namespace the kernel refuses to clear the locked flags of a host mount,
 * and setting more never needs that. */
static int mount_bind(int rootfd, const struct rt_mount *m, char *err, size_t errlen)
{
	unsigned int open_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m->flags & MS_REC) ? AT_RECURSIVE : 0);
	_cleanup_close_ int tree = open_tree(AT_FDCWD, m->source, open_flags);
	if (tree < 0)
		return err_buf(err, errlen, -errno, "cannot bind %s on %s: %m", m->source, m->destination);
	struct stat st;
	if (fstat(tree, &st) < 0)
		return err_buf(err, errlen, -errno, "cannot stat %s: %m", m->source);
	_cleanup_close_ int target = open_target(rootfd, m->destination, S_ISDIR(st.st_mode) ? TARGET_DIR : TARGET_FILE,
						 err, errlen);
	if (target < 0)
		return target;
	struct stat tst;
	if (fstat(target, &tst) < 0)
		return err_buf(err, errlen, -errno, "cannot stat %s: %m", m->destination);
	if (S_ISDIR(st.st_mode) != S_ISDIR(tst.st_mode))
		return err_buf(err, errlen, -ENOTDIR, "cannot bind %s on %s: one is a directory, the other is not",
			    m->source, m->destination);
	if (m->copy_up && S_ISDIR(st.st_mode)) {
		int r = mounts_copy_up(target, tree, err, errlen);
		if (r < 0)
			return r;
	}
	struct mount_attr attr = { .propagation = MS_PRIVATE };
	attr.attr_set = mounts_attr_from_flags(m->flags, &attr.attr_clr);
	if (mount_setattr(tree, "", AT_EMPTY_PATH | ((m->flags & MS_REC) ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
		return err_buf(err, errlen, -errno, "cannot set the mount options of %s: %m", m->destination);
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_buf(err, errlen, -errno, "cannot bind %s on %s: %m", m->source, m->destination);
	return 0;
}

/* Mounts one filesystem (or a bind, mount_bind) on a target opened inside the root. mount(2) on
 * /proc/self/fd/N acts on exactly the directory that fd holds, not on whatever a path names by
 * the time of the call. */
/* The detached /dev/shm of the IPC donor (rootfs_set_ipc_shm), or -1. */
static int ipc_shm_fd = -1;

void rootfs_set_ipc_shm(int fd)
{
	safe_close(ipc_shm_fd);
	ipc_shm_fd = fd;
}

static int mount_on(int rootfd, const struct rt_mount *m, char *err, size_t errlen)
{
	if (m->ipc_shared) {
		/* The donor's tmpfs itself, as Docker shares a shareable container's /dev/shm. */
		if (ipc_shm_fd < 0)
			return err_buf(err, errlen, -EINVAL, "no /dev/shm of the IPC namespace to share for %s", m->destination);
		_cleanup_close_ int target = open_target(rootfd, m->destination, TARGET_DIR, err, errlen);
		if (target < 0)
			return target;
		if (move_mount(ipc_shm_fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return err_buf(err, errlen, -errno, "cannot share the /dev/shm of the IPC namespace: %m");
		ipc_shm_fd = safe_close(ipc_shm_fd);
		return 0;
	}
	if (m->flags & MS_BIND) {
		if (!m->source)
			return err_buf(err, errlen, -EINVAL, "the bind mount on %s has no source", m->destination);
		return mount_bind(rootfd, m, err, errlen);
	}
	_cleanup_close_ int target = open_target(rootfd, m->destination, TARGET_DIR, err, errlen);
	if (target < 0)
		return target;
	char path[32];
	fd_path(target, path);
	if (mount(m->source ? m->source : m->type, path, m->type, m->flags, m->data) < 0)
		return err_buf(err, errlen, -errno, "cannot mount %s on %s: %m", m->type, m->destination);
	return 0;
}

static const struct {
	const char *name;
	unsigned maj, min;
} dev_nodes[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
	const char *target, *name;
} dev_links[] = {
	{ "pts/ptmx", "ptmx" },		  { "/proc/self/fd", "fd" },	     { "/proc/self/fd/0", "stdin" },
	{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" }, { "/proc/kcore", "core" },
};

/* --privileged: every device node of the host's /dev (and its subdirectories, but the
 * filesystems mounted there), as Docker gives them. The init still sees the host's /dev here. */
static int copy_host_devices(int hostdir, int dir, int depth, char *err, size_t errlen)
{
	_cleanup_closedir_ DIR *d = opendir_dup(hostdir);
	if (!d)
		return err_buf(err, errlen, -errno, "cannot read the host's /dev: %m");
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(hostdir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			if (mknodat(dir, de->d_name, st.st_mode, st.st_rdev) < 0 && errno != EEXIST)
				return err_buf(err, errlen, -errno, "cannot create /dev/%s: %m", de->d_name);
			(void)fchownat(dir, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
		} else if (S_ISDIR(st.st_mode) && depth < 2 && strcmp(de->d_name, "pts") != 0 &&
			   strcmp(de->d_name, "shm") != 0 && strcmp(de->d_name, "mqueue") != 0 &&
			   strcmp(de->d_name, "hugepages") != 0) {
			_cleanup_close_ int sub = openat(hostdir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			if (mkdirat(dir, de->d_name, 0755) < 0 && errno != EEXIST)
				return err_buf(err, errlen, -errno, "cannot create /dev/%s: %m", de->d_name);
			_cleanup_close_ int target = openat(dir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (target < 0)
				return err_buf(err, errlen, -errno, "cannot open /dev/%s: %m", de->d_name);
			int r = copy_host_devices(sub, target, depth + 1, err, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The standard nodes in the container's fresh /dev (a tmpfs from the spec's mounts): the
 * container sees no host device, and the device cgroup refuses any other it creates. A
 * privileged container gets the host's nodes too. */
static int populate_dev(int rootfd, bool host_devices, bool userns, char *err, size_t errlen)
{
	_cleanup_close_ int dev = open_target(rootfd, "/dev", TARGET_EXISTING, err, errlen);
	if (dev < 0)
		return dev == -ENOENT ? 0 : dev;
	/* The O_PATH handle cannot create entries; this one is opened through it. */
	char path[32];
	fd_path(dev, path);
	_cleanup_close_ int dir = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dir < 0)
		return err_buf(err, errlen, -errno, "cannot open /dev: %m");
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		if (!userns) {
			if (mknodat(dir, dev_nodes[i].name, S_IFCHR | 0666,
				    makedev(dev_nodes[i].maj, dev_nodes[i].min)) < 0 && errno != EEXIST)
				return err_buf(err, errlen, -errno, "cannot create /dev/%s: %m", dev_nodes[i].name);
			continue;
		}
		/* In a user namespace no device node can be made (a tmpfs there is nodev anyway): the
		 * host's node is bound over an empty file, as runc does. */
		char host[64], dest[64];
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i].name);
		snprintf(dest, sizeof(dest), "/dev/%s", dev_nodes[i].name);
		_cleanup_close_ int target = open_target(rootfd, dest, TARGET_FILE, err, errlen);
		if (target < 0)
			return target;
		char tpath[32];
		fd_path(target, tpath);
		if (mount(host, tpath, NULL, MS_BIND, NULL) < 0)
			return err_buf(err, errlen, -errno, "cannot bind %s: %m", host);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
		if (symlinkat(dev_links[i].target, dir, dev_links[i].name) < 0 && errno != EEXIST)
			return err_buf(err, errlen, -errno, "cannot create /dev/%s: %m", dev_links[i].name);
	if (host_devices) {
		_cleanup_close_ int host = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (host < 0)
			return err_buf(err, errlen, -errno, "cannot open the host's /dev: %m");
		return copy_host_devices(host, dir, 0, err, errlen);
	}
	return 0;
}

/* Hides a path: /dev/null over a file, an empty read-only tmpfs over a directory. A path the
 * kernel does not have is skipped; a symlink is refused (open_target). */
struct mask_sources {
	int null;  /* the container's /dev/null, bound over masked files */
	int empty; /* the first masked directory's empty read-only tmpfs, bound over the others */
};

static int mask_path(int rootfd, const char *p, struct mask_sources *src, char *err, size_t errlen)
{
	_cleanup_close_ int target = open_target(rootfd, p, TARGET_EXISTING, err, errlen);
	if (target == -ENOENT)
		return 0;
	if (target < 0)
		return target;
	struct stat st;
	if (fstat(target, &st) < 0)
		return err_buf(err, errlen, -errno, "cannot stat %s: %m", p);
	char path[32];
	fd_path(target, path);
	char from[32];
	if (S_ISDIR(st.st_mode)) {
		/* One empty tmpfs, read-only at the superblock, serves every masked directory: a bind of
		 * it is as empty and as read-only, and costs no new filesystem to set up and tear down. */
		if (src->empty >= 0) {
			fd_path(src->empty, from);
			if (mount(from, path, NULL, MS_BIND, NULL) < 0)
				return err_buf(err, errlen, -errno, "cannot mask %s: %m", p);
			return 0;
		}
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555") < 0)
			return err_buf(err, errlen, -errno, "cannot mask %s: %m", p);
		src->empty = open_target(rootfd, p, TARGET_EXISTING, err, errlen);
		return src->empty < 0 ? src->empty : 0;
	}
	if (src->null < 0 && (src->null = open_target(rootfd, "/dev/null", TARGET_EXISTING, err, errlen)) < 0)
		return err_buf(err, errlen, src->null, "cannot mask %s: no /dev/null in the container", p);
	fd_path(src->null, from);
	if (mount(from, path, NULL, MS_BIND, NULL) < 0)
		return err_buf(err, errlen, -errno, "cannot mask %s: %m", p);
	return 0;
}

/* Makes a path read-only: a recursive bind of it onto itself, read-only, nosuid, nodev and
 * noexec (nothing below /proc or /sys needs to be executed or opened as a device). */
static int readonly_path(int rootfd, const char *p, char *err, size_t errlen)
{
	_cleanup_close_ int target = open_target(rootfd, p, TARGET_EXISTING, err, errlen);
	if (target == -ENOENT)
		return 0;
	if (target < 0)
		return target;
	_cleanup_close_ int tree = open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0)
		return err_buf(err, errlen, -errno, "cannot make %s read-only: open_tree: %m", p);
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					       MOUNT_ATTR_NOEXEC };
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return err_buf(err, errlen, -errno, "cannot make %s read-only: mount_setattr: %m", p);
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return err_buf(err, errlen, -errno, "cannot make %s read-only: move_mount: %m", p);
	return 0;
}

static int mount_overlay(const struct rt_spec *spec, char *err, size_t errlen)
{
	const struct rt_overlay *o = &spec->overlay;
	char opts[8192];
	size_t off = (size_t)snprintf(opts, sizeof(opts), "lowerdir=");
	if (!o->lowerdirs || !o->lowerdirs[0] || !o->upperdir || !o->workdir)
		return err_buf(err, errlen, -EINVAL, "the root filesystem has no layers");
	for (char **l = o->lowerdirs; *l; l++) {
		int n = snprintf(opts + off, sizeof(opts) - off, "%s%s", l == o->lowerdirs ? "" : ":", *l);
		if (n < 0 || (size_t)n >= sizeof(opts) - off)
			return err_buf(err, errlen, -E2BIG, "too many image layers for one overlay mount");
		off += (size_t)n;
	}
	/* volatile only for an upper dir that dies with this run (--rm): it is never synced, so
	 * unmounting it at exit does not wait for a sync of the whole filesystem under --root.
	 * Every other container may be started again on the same upper dir, so it is mounted
	 * without: after a host crash a volatile upper dir may be torn, and overlayfs marks it
	 * (work/incompat/volatile) and refuses to mount it again precisely so that nobody runs on
	 * it. Clearing that mark before each start would silence the very check that protects a
	 * restarted container from a corrupt filesystem; the sync at unmount happens in the
	 * daemon's cleaner child, not in its loop. Kernels before 5.10 lack volatile: mount
	 * without. */
	const char *extra = o->ephemeral ? ",volatile" : "";
	int n = snprintf(opts + off, sizeof(opts) - off, ",upperdir=%s,workdir=%s%s", o->upperdir, o->workdir, extra);
	if (n < 0 || (size_t)n >= sizeof(opts) - off)
		return err_buf(err, errlen, -E2BIG, "overlay options too long");
	if (mount("overlay", spec->root_path, "overlay", 0, opts) < 0) {
		if (!o->ephemeral || errno != EINVAL)
			return err_buf(err, errlen, -errno, "cannot mount the overlay root filesystem: %m");
		opts[off + (size_t)n - strlen(extra)] = '\0';
		if (mount("overlay", spec->root_path, "overlay", 0, opts) < 0)
			return err_buf(err, errlen, -errno, "cannot mount the overlay root filesystem: %m");
	}
	return 0;
}

/* The spec's mounts, /dev's nodes, the masked and the read-only paths, below basefd: the new
 * root, or the prepared tree. */
static int build_tree(int basefd, const struct rt_spec *spec, bool userns, char *err, size_t errlen)
{
	int r = 0;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		if ((r = mount_on(basefd, &spec->mounts[i], err, errlen)) < 0)
			return r;
		if (strcmp(spec->mounts[i].destination, "/dev") == 0 &&
		    (r = populate_dev(basefd, spec->privileged, userns, err, errlen)) < 0)
			return r;
	}
	struct mask_sources src = { .null = -1, .empty = -1 };
	for (char **p = spec->masked_paths; p && *p; p++)
		if ((r = mask_path(basefd, *p, &src, err, errlen)) < 0)
			break;
	safe_close(src.null);
	safe_close(src.empty);
	if (r < 0)
		return r;
	for (char **p = spec->readonly_paths; p && *p; p++)
		if ((r = readonly_path(basefd, *p, err, errlen)) < 0)
			return r;
	return 0;
}

/* The prepared tree: the default /proc, /dev and /sys (with their submounts, masks and read-only
 * paths) built by the init while it waits, on a tmpfs of its own at a staging directory. */
static int prepared_fd = -1;
static bool prepared_userns;
static const char *const prepared_tops[] = { "/proc", "/dev", "/sys" };

int rootfs_prepare(const char *dir, bool userns, char *err, size_t errlen)
{
	struct rt_spec spec;
	_cleanup_close_ int fd = -1;
	char *msg = NULL;
	int r;
	/* Nothing we mount may propagate back to the host, and host mounts must not appear later. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_buf(err, errlen, -errno, "cannot make the mount tree private: %m");
	if ((r = spec_init_default(&spec, &msg)) < 0) {
		free(msg);
		return err_buf(err, errlen, r, "out of memory");
	}
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0) {
		r = err_buf(err, errlen, -errno, "cannot mount the staging tmpfs on %s: %m", dir);
		goto out;
	}
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = err_buf(err, errlen, -errno, "cannot open %s: %m", dir);
		goto out;
	}
	if ((r = build_tree(fd, &spec, userns, err, errlen)) < 0)
		goto out;
	prepared_fd = TAKE_FD(fd);
	prepared_userns = userns;
out:
	spec_done(&spec);
	return r;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Whether a spec asks for the tree rootfs_prepare() built: the default mounts (maybe followed by
 * mounts of its own outside /proc and /sys, which no mask or read-only path concerns: --init's
 * /dev/init), the default masked and read-only paths, not privileged, the same kind of namespace,
 * no namespace joined after the clone.
 * *ret_n_default: how many of its mounts the prepared tree holds. */
static bool spec_matches_prepared(const struct rt_spec *spec, bool userns, size_t *ret_n_default)
{
	static struct rt_spec def;
	static bool have_def;
	if (prepared_fd < 0 || userns != prepared_userns || spec->privileged)
		return false;
	/* The tree was built in the namespaces the init was cloned into: a network or ipc namespace
	 * joined since would not be what its /sys and /dev/mqueue show. */
	if ((spec->join_namespaces & ~CLONE_NEWPID) || spec->n_ns_paths)
		return false;
	if (!have_def) {
		if (spec_init_default(&def, NULL) < 0)
			return false;
		have_def = true;
	}
	if (spec->n_mounts < def.n_mounts)
		return false;
	for (size_t i = def.n_mounts; i < spec->n_mounts; i++)
		if (under(spec->mounts[i].destination, "/proc") || under(spec->mounts[i].destination, "/sys"))
			return false;
	*ret_n_default = def.n_mounts;
	for (size_t i = 0; i < def.n_mounts; i++) {
		const struct rt_mount *a = &spec->mounts[i], *b = &def.mounts[i];
		if (strcmp(a->destination, b->destination) || strcmp(a->type, b->type) || a->flags != b->flags ||
		    strcmp(a->source ? a->source : "", b->source ? b->source : "") ||
		    strcmp(a->data ? a->data : "", b->data ? b->data : ""))
			return false;
	}
	const char *const *lists[2][2] = { { (const char *const *)spec->masked_paths,
					     (const char *const *)def.masked_paths },
					   { (const char *const *)spec->readonly_paths,
					     (const char *const *)def.readonly_paths } };
	for (int l = 0; l < 2; l++) {
		const char *const *a = lists[l][0], *const *b = lists[l][1];
		size_t i = 0;
		for (; a && b && a[i] && b[i]; i++)
			if (strcmp(a[i], b[i]) != 0)
				return false;
		if ((a && a[i]) || (b && b[i]) || (!a != !b))
			return false;
	}
	return true;
}

/* Moves the prepared /proc, /dev and /sys, with everything mounted below them, into the root:
 * three move_mount() calls instead of some twenty mounts on the start path. The targets are
 * opened inside the root like any mount target (a symlink there is refused). */
static int move_prepared(int rootfd, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(prepared_tops); i++) {
		_cleanup_close_ int from = openat2_fd(prepared_fd, prepared_tops[i] + 1, O_PATH | O_NOFOLLOW,
						      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
		if (from < 0)
			return err_buf(err, errlen, from, "the prepared %s is gone: %m", prepared_tops[i]);
		_cleanup_close_ int to = open_target(rootfd, prepared_tops[i], TARGET_DIR, err, errlen);
		if (to < 0)
			return to;
		if (move_mount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return err_buf(err, errlen, -errno, "cannot move the prepared %s into the root: %m", prepared_tops[i]);
	}
	return 0;
}

int rootfs_setup(const struct rt_spec *spec, const int *layer_fds, size_t n_layers, char *err, size_t errlen)
{
	bool userns = (spec->namespaces & CLONE_NEWUSER) != 0;
	int r;
	/* Done by rootfs_prepare() when the init prepared a tree (idempotent otherwise). */
	if (prepared_fd < 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_buf(err, errlen, -errno, "cannot make the mount tree private: %m");
	if (userns) {
		/* The layers' idmapped mounts are staged and detached again by the overlay mount: none
		 * of them stays where container code could reach it (see runtime/userns.h, step 8). */
		_cleanup_free_ char *msg = NULL;
		const struct rt_overlay *o = &spec->overlay;
		if (n_layers == 0 || !o->staging || !o->upperdir || !o->workdir)
			return err_buf(err, errlen, -EINVAL, "a container in a user namespace needs its layers as idmapped mounts");
		if ((r = userns_overlay_mount(layer_fds, n_layers, o->staging, o->upperdir, o->workdir, o->ephemeral, spec->root_path,
					      &msg)) < 0)
			return err_buf(err, errlen, r, "%s", msg ? msg : "cannot mount the overlay root filesystem");
	} else if ((r = mount_overlay(spec, err, errlen)) < 0) {
		return r;
	}
	_cleanup_close_ int rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_buf(err, errlen, -errno, "cannot open the root filesystem: %m");
	/* The prepared tree serves a default spec; anything else is built here. What is left of the
	 * prepared tree stays under the old root, which pivot_root detaches below. */
	size_t n_default = 0;
	if (spec_matches_prepared(spec, userns, &n_default)) {
		if ((r = move_prepared(rootfd, err, errlen)) < 0)
			return r;
		for (size_t i = n_default; i < spec->n_mounts; i++)
			if ((r = mount_on(rootfd, &spec->mounts[i], err, errlen)) < 0)
				return r;
	} else if ((r = build_tree(rootfd, spec, userns, err, errlen)) < 0) {
		return r;
	}

	/* --read-only: the working directory is made now, while the root is still writable (Docker
	 * makes it at create), inside the root and through no symlink (open_target). Best effort: a
	 * path open_target refuses is left to the init, which reports what is still missing. */
	if (spec->root_readonly && spec->process.cwd) {
		char ignored[256];
		int cwd = open_target(rootfd, spec->process.cwd, TARGET_DIR, ignored, sizeof(ignored));
		if (cwd >= 0)
			close(cwd);
	}

	/* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves the
	 * container no path back to the host's filesystem (unlike chroot). */
	if (fchdir(rootfd) < 0)
		return err_buf(err, errlen, -errno, "cannot enter the root filesystem: %m");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return err_buf(err, errlen, -errno, "pivot_root: %m");
	if (umount2(".", MNT_DETACH) < 0)
		return err_buf(err, errlen, -errno, "cannot detach the old root: %m");
	if (chdir("/") < 0)
		return err_buf(err, errlen, -errno, "chdir /: %m");
	if (spec->root_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return err_buf(err, errlen, -errno, "cannot make the root read-only: %m");
	return 0;
}
