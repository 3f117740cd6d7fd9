/* The copy worker: see cp-worker.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/cp-worker-internal.h"
#include "runtime/userns.h"

/* The fds a worker keeps, at fixed numbers; everything else is closed. */
#define WORKER_RESULT_FD 3
#define WORKER_STREAM_FD 4
#define WORKER_MNTNS_FD 5
#define WORKER_OUT_FD 6

/*
 * The copy worker.
 *
 * Security: the worker reads and writes files of a container as root (it must: a container's
 * files keep their owners and modes), and the container controls every name, symlink and file
 * type it meets, and may change them while the copy runs. What keeps it inside the container:
 *   - it reaches the files only from inside the container's root. For a running container it
 *     joins the container's mount namespace (setns makes the namespace's root, the container's
 *     pivoted root, its own root and working directory); for a stopped one (and for export,
 *     which wants the root filesystem without the mounts on it) it mounts the container's
 *     overlay in a private mount namespace of its own and chroots into it. A path that escaped
 *     every check below would still resolve inside that root: an absolute symlink or ".." ends
 *     at the container's "/", never at the host's;
 *   - the path a client names is resolved with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS):
 *     symlinks are followed as the container would see them, /proc/PID/root and /proc/self/fd/N
 *     never (they could name a file outside the root);
 *   - below that path nothing is followed: reading opens each entry relative to its directory's
 *     fd with O_NOFOLLOW and checks that the inode opened is the one stat'ed (a swap between the
 *     two is an error, not a copy of something else); only regular files and directories are
 *     ever opened (a device node is archived as a header, never read); extraction resolves each
 *     entry's parent with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV below the target
 *     directory, never opens an existing file for writing (it is unlinked and created anew with
 *     O_EXCL), creates symlinks as they are without following them, and refuses device nodes
 *     unless archive mode asks (and never the 0:0 device, an overlay whiteout);
 *   - kernel filesystems (proc, sysfs, cgroup, ...) are neither read nor written: the worker is
 *     root in the host's user namespace, which a container in a user namespace is not;
 *   - it gets only its result pipe, the client's stream fd and, for a running container, the
 *     mount namespace fd; every other fd of the daemon is closed. After entering the root it
 *     keeps only the capabilities file copying needs (chown, fowner, fsetid, dac_override and
 *     dac_read_search, mknod for archive mode), sets no_new_privs and no core dumps, and dies
 *     with the daemon (PR_SET_PDEATHSIG).
 * A running container is joined only once its init has pivoted into its root and exec'd (the
 * daemon marks it running then), never while the init's namespace still has the host's root; a
 * copy into a container that is starting is refused.
 * Residual: a start while a copy into the stopped container runs makes a second writable mount
 * of its upper dir (overlayfs allows it with a warning): the copy's files may show up late in
 * the started container.
 */

uint32_t cp_ids_to_container(uint32_t id, uint32_t base, bool shifted)
{
	if (shifted && id >= base && id - base < USERNS_SLICE_SIZE)
		return id - base;
	return id;
}

int cp_ids_to_host(uint32_t id, uint32_t base, bool shifted, uint32_t *ret)
{
	if (!shifted) {
		*ret = id;
		return 0;
	}
	if (id >= USERNS_SLICE_SIZE)
		return -ERANGE;
	*ret = base + id;
	return 0;
}

bool cp_fs_is_plain(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return false;
	switch ((unsigned long)sfs.f_type) {
	case OVERLAYFS_SUPER_MAGIC:
	case TMPFS_MAGIC:
	case EXT4_SUPER_MAGIC:
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}

int cp_open_in_root(int root_fd, const char *path, int flags, bool last_nofollow)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | (last_nofollow ? O_NOFOLLOW : 0)),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	do
		fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

int cp_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Mounts the container's overlay in a private mount namespace and makes it our root: writable
 * (its upper dir, for a copy into a stopped container) or read-only (the upper dir as the
 * topmost layer, which leaves the upper and work dirs to a start that may come meanwhile). */
static int worker_mount_overlay(const struct cp_job *job, bool writable, char **reterr)
{
	char opts[8192];
	size_t off = 0;
	int n;

	if (!job->lowerdirs || !job->lowerdirs[0] || !job->upperdir || !job->workdir || !job->mountpoint)
		return err_set(reterr, -EINVAL, "the container has no root filesystem");
	n = snprintf(opts, sizeof(opts), "lowerdir=%s%s", writable ? "" : job->upperdir, writable ? "" : ":");
	off = (size_t)n;
	for (char **l = job->lowerdirs; *l; l++) {
		n = snprintf(opts + off, sizeof(opts) - off, "%s%s", l == job->lowerdirs ? "" : ":", *l);
		if (n < 0 || (size_t)n >= sizeof(opts) - off)
			return err_set(reterr, -E2BIG, "too many image layers for one overlay mount");
		off += (size_t)n;
	}
	if (writable) {
		n = snprintf(opts + off, sizeof(opts) - off, ",upperdir=%s,workdir=%s", job->upperdir, job->workdir);
		if (n < 0 || (size_t)n >= sizeof(opts) - off)
			return err_set(reterr, -E2BIG, "overlay options too long");
	}
	if (unshare(CLONE_NEWNS) < 0)
		return err_set(reterr, -errno, "unshare(CLONE_NEWNS): %m");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_set(reterr, -errno, "making the mount tree private: %m");
	if (mount("overlay", job->mountpoint, "overlay", writable ? 0 : MS_RDONLY, opts) < 0)
		return err_set(reterr, -errno, "mounting the container's root filesystem: %m");
	if (chdir(job->mountpoint) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return err_set(reterr, -errno, "entering the container's root filesystem: %m");
	return 0;
}

/* Makes the container's root our own "/" (see the security note above). */
static int worker_enter_root(const struct cp_job *job, char **reterr)
{
	if (job->mntns_fd < 0)
		return worker_mount_overlay(job, job->op == CP_OP_TO, reterr);
	if (setns(WORKER_MNTNS_FD, CLONE_NEWNS) < 0)
		return err_set(reterr, -errno, "entering the container's mount namespace: %m");
	if (chdir("/") < 0)
		return err_set(reterr, -errno, "chdir: %m");
	return 0;
}

/* The capabilities copying files needs. */
#define WORKER_CAPS                                                                                            \
	(1u << CAP_CHOWN | 1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH | 1u << CAP_FOWNER | 1u << CAP_FSETID)

/* Drops every capability but keep, for good. */
static int worker_confine(uint32_t keep, char **reterr)
{
	/* Not dumpable: nothing of the same uid may ptrace it or open its fds through /proc. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return err_set(reterr, -errno, "prctl(PR_SET_DUMPABLE): %m");
	return worker_drop_privileges(keep, reterr);
}

/* The last component of path, as docker's stat names it ("/" for the root). */
static void worker_basename(const char *path, char *out, size_t size)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		len--;
	size_t start = len;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (len == 0 || (len == 1 && path[0] == '/'))
		snprintf(out, size, "/");
	else
		snprintf(out, size, "%.*s", (int)(len - start), path + start);
}

static int worker_stat(const struct cp_job *job, int root_fd, struct cp_worker_result *res, char **reterr)
{
	_cleanup_close_ int fd = cp_open_in_root(root_fd, job->path, O_PATH, !job->follow);
	struct stat st;

	if (fd < 0)
		return err_set(reterr, fd, "%s: %m", job->path);
	if (fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "%s: %m", job->path);
	res->mode = st.st_mode;
	res->size = (uint64_t)st.st_size;
	res->mtime = st.st_mtim.tv_sec;
	worker_basename(job->path, res->name, sizeof(res->name));
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(fd, "", res->link, sizeof(res->link) - 1);
		if (n < 0)
			return err_set(reterr, -errno, "%s: readlink: %m", job->path);
		res->link[n] = '\0';
	}
	return 0;
}

/* The name a copied path's top entry gets in the tar: its last component, or "." for the
 * contents of a directory ("DIR/." and "/"), as docker names them. */
static void worker_top_name(const char *path, char *out, size_t size, bool *ret_contents)
{
	size_t len = strlen(path);

	*ret_contents = (len >= 2 && strcmp(path + len - 2, "/.") == 0) || strcmp(path, ".") == 0;
	worker_basename(path, out, size);
	if (*ret_contents || strcmp(out, "/") == 0) {
		*ret_contents = true;
		snprintf(out, size, ".");
	}
}

/* Opens the upper dir and the layers by the daemon's own paths (no root to enter for a diff or a
 * layer: only the daemon's own directories are opened, nothing in them is followed). */
static int worker_diff(const struct cp_job *job, struct cp_worker_result *res, char **reterr)
{
	struct cp_ids ids = { .shifted = job->shifted, .uid_base = job->uid_base, .gid_base = job->gid_base };
	_cleanup_close_ int upper = -1;
	int fds[128], r;
	size_t n = 0;

	upper = open(job->upperdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (upper < 0)
		return err_set(reterr, -errno, "opening the container's upper dir: %m");
	if (job->op == CP_OP_LAYER) {
		/* As for the diff below; file capabilities are read as plain xattrs. */
		if ((r = worker_confine(1u << CAP_SYS_ADMIN | 1u << CAP_DAC_READ_SEARCH, reterr)) < 0)
			return r;
		r = cp_layer_write(upper, WORKER_STREAM_FD, &ids, res->digest, &res->size, reterr);
		/* On disk before the daemon names it a blob (fsync here, not in the daemon's loop). */
		if (r >= 0 && fsync(WORKER_STREAM_FD) < 0)
			r = err_set(reterr, -errno, "syncing the layer: %m");
		return r;
	}
	for (char **l = job->lowerdirs; l && *l; l++) {
		if (n >= ARRAY_SIZE(fds))
			return err_set(reterr, -E2BIG, "too many image layers");
		fds[n] = open(*l, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fds[n] < 0)
			return err_set(reterr, -errno, "opening an image layer: %m");
		n++;
	}
	/* Reading overlayfs' trusted.overlay.opaque takes CAP_SYS_ADMIN; this worker enters no
	 * container root and opens only below the daemon's own directories, without following
	 * a symlink, and writes nothing but its records. Nothing to write with: no chown, fowner,
	 * dac_override. */
	r = worker_confine(1u << CAP_SYS_ADMIN | 1u << CAP_DAC_READ_SEARCH, reterr);
	if (r >= 0)
		r = cp_diff(upper, fds, n, WORKER_OUT_FD, reterr);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return r;
}

/* Everything the worker does once its fds are in place; fills res. */
static int worker_run(const struct cp_job *job, struct cp_worker_result *res, char **reterr)
{
	struct cp_ids ids = { .shifted = job->shifted, .uid_base = job->uid_base, .gid_base = job->gid_base };
	_cleanup_close_ int root_fd = -1, dir_fd = -1;
	char top[256];
	bool contents;
	int r;

	if (job->op == CP_OP_DIFF || job->op == CP_OP_LAYER)
		return worker_diff(job, res, reterr);
	if ((r = worker_enter_root(job, reterr)) < 0)
		return r;
	root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return err_set(reterr, -errno, "opening the container's root: %m");
	/* A running container in a user namespace has its root mounted in that namespace: a file
	 * created there must belong to an id the namespace maps (else EOVERFLOW), so the worker
	 * creates as the container's root. setfsuid clears the effective file capabilities;
	 * worker_confine sets them again from the permitted set. */
	if (job->mntns_fd >= 0 && job->shifted) {
		(void)setfsgid(job->gid_base);
		(void)setfsuid(job->uid_base);
		if ((uid_t)setfsuid((uid_t)-1) != job->uid_base || (gid_t)setfsgid((gid_t)-1) != job->gid_base)
			return err_set(reterr, -EPERM, "cannot take the container's root ids");
	}
	if ((r = worker_confine(WORKER_CAPS | (job->op == CP_OP_TO && job->archive ? 1u << CAP_MKNOD : 0), reterr)) < 0)
		return r;

	switch (job->op) {
	case CP_OP_STAT:
		return worker_stat(job, root_fd, res, reterr);
	case CP_OP_FROM:
		worker_top_name(job->path, top, sizeof(top), &contents);
		return cp_tar_write(root_fd, job->path, job->follow, top, false, WORKER_STREAM_FD, &ids, &res->size,
				    reterr);
	case CP_OP_EXPORT:
		return cp_tar_write(root_fd, "/", true, "", true, WORKER_STREAM_FD, &ids, &res->size, reterr);
	case CP_OP_TO:
		dir_fd = cp_open_in_root(root_fd, job->path, O_RDONLY | O_DIRECTORY, false);
		if (dir_fd < 0)
			return err_set(reterr, dir_fd, "%s: %m", job->path);
		if (!cp_fs_is_plain(dir_fd))
			return err_set(reterr, -EPERM, "%s: copying into a kernel filesystem is not supported", job->path);
		return cp_extract(dir_fd, WORKER_STREAM_FD, job->archive, &ids, &res->size, reterr);
	default:
		return err_set(reterr, -EINVAL, "unknown copy operation");
	}
}

/* Moves the fds the worker keeps to their fixed numbers (duplicating everything above the range
 * first, since one may sit on another's number) and closes every other. */
static int worker_move_fds(const struct cp_job *job, int result_fd)
{
	const int src[] = { result_fd, job->stream_fd, job->mntns_fd, job->out_fd };
	int tmp[ARRAY_SIZE(src)];

	for (size_t i = 0; i < ARRAY_SIZE(src); i++) {
		tmp[i] = -1;
		if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10)) < 0)
			return -errno;
	}
	for (size_t i = 0; i < ARRAY_SIZE(src); i++)
		if (tmp[i] >= 0 && dup3(tmp[i], WORKER_RESULT_FD + (int)i, O_CLOEXEC) < 0)
			return -errno;
	if (close_range(WORKER_OUT_FD + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(src); i++)
		if (tmp[i] < 0)
			close(WORKER_RESULT_FD + (int)i);
	return 0;
}

_Noreturn void cp_worker_main(const struct cp_job *job, int result_fd, pid_t parent)
{
	static struct cp_worker_result res;
	char *err = NULL;
	int r;

	worker_child_setup(parent);
	if (worker_move_fds(job, result_fd) < 0)
		_exit(EXIT_FAILURE);

	r = worker_run(job, &res, &err);
	res.r = r < 0 ? r : 0;
	if (r < 0)
		snprintf(res.msg, sizeof(res.msg), "%s", err ? err : strerror(-r));
	/* The stream ends before the result: the client sees EOF, then the reply. */
	close(WORKER_STREAM_FD);
	if (write_all(WORKER_RESULT_FD, &res, sizeof(res)) < 0)
		_exit(EXIT_FAILURE);
	_exit(EXIT_SUCCESS);
}
