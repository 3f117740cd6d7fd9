/* User namespace fds for a mapping, and idmapped mounts of image layers. See userns.h for the
 * order a container init follows. */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/userns.h"

#define USERNS_MSG_NEEDS_IDMAP "user namespace remapping needs idmapped mounts (Linux 5.19 or later)"

/* Formats a map as the kernel wants it: all lines in one write, "inside outside count\n". */
static int map_format(const struct userns_idmap *map, size_t n, char *buf, size_t size)
{
	size_t off = 0;

	if (n == 0 || n > USERNS_MAX_MAP_LINES)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(buf + off, size - off, "%u %u %u\n", map[i].inside, map[i].outside, map[i].count);
		if (k < 0 || (size_t)k >= size - off)
			return -E2BIG;
		off += (size_t)k;
	}
	return (int)off;
}

/* Opens /proc/<pid> and proves with the pidfd that it is still our process: a pid is only
 * reused once its process was reaped, and signal 0 through the pidfd fails with ESRCH from
 * then on. Opened before the check, the directory stays bound to that process. */
static int proc_dir_open(int pidfd, pid_t pid, int *ret, char **reterr)
{
	char path[32];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open %s: %m", path);
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return err_set(reterr, -errno, "process %d is gone: %m", (int)pid);
	*ret = TAKE_FD(fd);
	return 0;
}

/* Writes one map file of the process whose /proc directory is procfd. */
static int map_write(int procfd, const char *file, const struct userns_idmap *map, size_t n, char **reterr)
{
	char buf[USERNS_MAX_MAP_LINES * 33 + 1];
	_cleanup_close_ int fd = -1;
	int len = map_format(map, n, buf, sizeof(buf));

	if (len < 0)
		return err_set(reterr, len, "invalid %s (%zu lines)", file, n);
	fd = openat(procfd, file, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open %s: %m", file);
	/* The kernel takes a map in one write() only: a short write is a failure, not a retry. */
	ssize_t k = write(fd, buf, (size_t)len);
	if (k < 0)
		return err_set(reterr, -errno, "cannot write %s: %m", file);
	if (k != len)
		return err_set(reterr, -EIO, "short write to %s", file);
	return 0;
}

/* The writer has CAP_SETUID/CAP_SETGID in the parent namespace, so the kernel accepts any map
 * within the writer's own ids and does not require "setgroups deny" first. Which host ids are
 * mapped is the caller's decision: a slice from the subid ranges the admin set aside, which
 * the parser refuses when it would include host uid 0, and which the allocator never hands to
 * two containers at once; the kernel refuses maps that overlap within one file. gid_map goes first so a failure leaves
 * no half-usable namespace with uids but no gids. */
int userns_set_maps(int pidfd, pid_t pid, const struct userns_idmap *uid_map, size_t n_uid,
		    const struct userns_idmap *gid_map, size_t n_gid, char **reterr)
{
	_cleanup_close_ int procfd = -1;
	int r = proc_dir_open(pidfd, pid, &procfd, reterr);

	if (r < 0)
		return r;
	r = map_write(procfd, "gid_map", gid_map, n_gid, reterr);
	if (r < 0)
		return r;
	return map_write(procfd, "uid_map", uid_map, n_uid, reterr);
}

int userns_open_of(int pidfd, pid_t pid, int *ret_fd, char **reterr)
{
	_cleanup_close_ int procfd = -1;
	int r = proc_dir_open(pidfd, pid, &procfd, reterr);

	if (r < 0)
		return r;
	int fd = openat(procfd, "ns/user", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open the user namespace of process %d: %m", (int)pid);
	*ret_fd = fd;
	return 0;
}

/* The child of userns_create(): it only has to exist (its namespace is what we want) until the
 * parent kills it; it dies with the parent too. Thin syscall wrappers only: after clone3 in a
 * process that may hold locks (malloc's, ASan's), nothing else is safe. */
static _Noreturn void userns_child(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	for (;;)
		pause();
}

/* Kills and reaps the helper through its pidfd (never waitpid(-1): other children are not ours). */
static void helper_kill(int pidfd)
{
	siginfo_t si;

	(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
}

int userns_create(const struct userns_idmap *uid_map, size_t n_uid, const struct userns_idmap *gid_map, size_t n_gid,
		  int *ret_fd, char **reterr)
{
	_cleanup_close_ int pidfd = -1;
	pid_t parent = getpid();
	struct clone_args args = {
	    .flags = CLONE_NEWUSER | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	    .exit_signal = SIGCHLD,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0)
		return err_set(reterr, -errno, "cannot create a user namespace: %m");
	if (pid == 0)
		userns_child(parent);

	int fd = -1;
	int r = userns_set_maps(pidfd, (pid_t)pid, uid_map, n_uid, gid_map, n_gid, reterr);
	if (r >= 0)
		r = userns_open_of(pidfd, (pid_t)pid, &fd, reterr);
	helper_kill(pidfd);
	if (r < 0)
		return r;
	*ret_fd = fd;
	return 0;
}

void userns_slice_maps(const struct userns_slice *s, struct userns_idmap *ret_uid, struct userns_idmap *ret_gid)
{
	*ret_uid = (struct userns_idmap){.inside = 0, .outside = s->uid, .count = USERNS_SLICE_SIZE};
	*ret_gid = (struct userns_idmap){.inside = 0, .outside = s->gid, .count = USERNS_SLICE_SIZE};
}

int userns_create_for_slice(const struct userns_slice *s, int *ret_fd, char **reterr)
{
	struct userns_idmap u, g;

	userns_slice_maps(s, &u, &g);
	return userns_create(&u, 1, &g, 1, ret_fd, reterr);
}

/* Whether the running kernel is at least major.minor (uname's release, e.g. "6.1.0-13-amd64"). */
static bool kernel_at_least(unsigned major, unsigned minor)
{
	struct utsname u;
	unsigned ma, mi;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/* Turns a failure of open_tree/mount_setattr into the message a user can act on. */
static int idmap_error(int r, int dirfd, const char *path, char **reterr)
{
	struct statfs sf;

	/* ENOSYS: no new mount API; EINVAL from mount_setattr: no MOUNT_ATTR_IDMAP (before 5.12),
	 * a filesystem without idmapping support, or a namespace whose maps are incomplete. */
	if (r == -ENOSYS)
		return err_set(reterr, -EOPNOTSUPP, USERNS_MSG_NEEDS_IDMAP);
	if (r == -EINVAL && !kernel_at_least(5, 19))
		return err_set(reterr, -EOPNOTSUPP, USERNS_MSG_NEEDS_IDMAP);
	if (r == -EINVAL) {
		_cleanup_close_ int fd = openat(dirfd, path, O_PATH | O_CLOEXEC);
		unsigned long type = (fd >= 0 && fstatfs(fd, &sf) == 0) ? (unsigned long)sf.f_type : 0;
		return err_set(reterr, -EOPNOTSUPP,
			       "cannot make an idmapped mount of %s: its filesystem (type 0x%lx) does not support "
			       "idmapped mounts, which user namespace remapping needs, or the namespace lacks a "
			       "uid or gid map",
			       path, type);
	}
	return err_set(reterr, r, "cannot make an idmapped mount of %s: %m", path);
}

/* Security: the clone is read-only, so no process can write a shared layer through it even if
 * it got hold of the mount outside the overlay (see step 8 in userns.h for why the staging must
 * still go); it is not recursive, so mounts below the layer directory (there should be none)
 * are not carried into the container; and a final symlink is not followed and what was cloned
 * must be a directory, so a layer directory swapped for a link cannot redirect it.
 * The idmapping only changes how ownership appears through this one mount: the files on disk
 * and every other view of them stay as they are. */
int userns_idmap_mount(int dirfd, const char *path, int userns_fd, int *ret_fd, char **reterr)
{
	_cleanup_close_ int fd = -1;
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY,
	    .propagation = MS_PRIVATE,
	    .userns_fd = (uint64_t)userns_fd,
	};

	/* Checked first, so that EINVAL from mount_setattr can only mean "no idmapping here". */
	if (ioctl(userns_fd, NS_GET_NSTYPE) != CLONE_NEWUSER)
		return err_set(reterr, -EINVAL, "the idmapping of %s is not a user namespace fd", path);
	fd = open_tree(dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (fd < 0)
		return errno == ENOSYS ? idmap_error(-ENOSYS, dirfd, path, reterr)
				       : err_set(reterr, -errno, "cannot clone the mount of %s: %m", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "cannot stat %s: %m", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(reterr, -ENOTDIR, "the layer %s is not a directory", path);
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return idmap_error(-errno, dirfd, path, reterr);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The probe maps a single id: idmapped mounts work or not regardless of the map's size, and the
 * namespace and the mount are dropped right away. */
int userns_idmap_check(const char *path, char **reterr)
{
	struct userns_idmap one = {.inside = 0, .outside = 65534, .count = 1};
	_cleanup_close_ int nsfd = -1, mfd = -1;
	int r;

	if (!kernel_at_least(5, 19))
		return err_set(reterr, -EOPNOTSUPP, USERNS_MSG_NEEDS_IDMAP);
	r = userns_create(&one, 1, &one, 1, &nsfd, reterr);
	if (r < 0)
		return r;
	return userns_idmap_mount(AT_FDCWD, path, nsfd, &mfd, reterr);
}

/* Attaches each layer mount under the staging tmpfs as "<i>" and appends it to the lowerdir
 * option. */
static int overlay_stage_layers(const int *layer_fds, size_t n_layers, const char *staging, int tmpfd, char *opts,
				size_t size, size_t *off, char **reterr)
{
	for (size_t i = 0; i < n_layers; i++) {
		char name[24];
		snprintf(name, sizeof(name), "%zu", i);
		if (mkdirat(tmpfd, name, 0700) < 0)
			return err_set(reterr, -errno, "cannot create the staging point of layer %zu: %m", i);
		if (move_mount(layer_fds[i], "", tmpfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return err_set(reterr, -errno, "cannot attach layer %zu: %m", i);
		int k = snprintf(opts + *off, size - *off, "%s%s/%s", i ? ":" : "lowerdir=", staging, name);
		if (k < 0 || (size_t)k >= size - *off)
			return err_set(reterr, -E2BIG, "too many image layers for one overlay mount");
		*off += (size_t)k;
	}
	return 0;
}

/* Security (see step 8 in userns.h): the layer mounts are attached only inside a tmpfs on the
 * staging directory, and that tmpfs with everything under it is detached before returning, on
 * success and on failure alike; only the overlay, which holds its own private clones of its
 * lower layers, stays reachable. userxattr keeps overlay metadata in user.overlay.*, which the
 * image store strips from layers. */
int userns_overlay_mount(const int *layer_fds, size_t n_layers, const char *staging, const char *upperdir,
			 const char *workdir, bool ephemeral, const char *target, char **reterr)
{
	_cleanup_close_ int tmpfd = -1;
	char opts[4096];
	size_t off = 0;
	int r;

	if (n_layers == 0)
		return err_set(reterr, -EINVAL, "an overlay needs at least one layer");
	if (mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=700,size=16k") < 0)
		return err_set(reterr, -errno, "cannot mount the layer staging tmpfs on %s: %m", staging);
	tmpfd = open(staging, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tmpfd < 0)
		r = err_set(reterr, -errno, "cannot open %s: %m", staging);
	else
		r = overlay_stage_layers(layer_fds, n_layers, staging, tmpfd, opts, sizeof(opts), &off, reterr);
	/* volatile only when ephemeral, as in the root filesystem without remapping (rootfs.c
	 * says why a container that can start again must not have it). Before 5.10: without. */
	if (r >= 0) {
		const char *extra = ephemeral ? ",volatile" : "";
		int k = snprintf(opts + off, sizeof(opts) - off, ",upperdir=%s,workdir=%s,userxattr%s", upperdir, workdir,
				 extra);
		if (k < 0 || (size_t)k >= sizeof(opts) - off)
			r = err_set(reterr, -E2BIG, "overlay options too long");
		else if (mount("overlay", target, "overlay", 0, opts) < 0) {
			opts[off + (size_t)k - strlen(extra)] = '\0';
			if (!ephemeral || errno != EINVAL || mount("overlay", target, "overlay", 0, opts) < 0)
				r = err_set(reterr, -errno, "cannot mount the overlay root filesystem: %m");
		}
	}
	tmpfd = safe_close(tmpfd);
	if (umount2(staging, MNT_DETACH) < 0 && r >= 0)
		r = err_set(reterr, -errno, "cannot detach the layer staging on %s: %m", staging);
	return r < 0 ? r : 0;
}
