#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/mounts.h"

/* Deeper trees are refused: a hostile image must not exhaust the init's stack. */
#define COPY_MAX_DEPTH 128

unsigned long long mounts_attr_from_flags(unsigned long flags, unsigned long long *ret_clr)
{
	unsigned long long set = 0, clr = 0;
	if (flags & MS_RDONLY)
		set |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		set |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		set |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		set |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NODIRATIME)
		set |= MOUNT_ATTR_NODIRATIME;
	if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
		clr |= MOUNT_ATTR__ATIME;
		set |= flags & MS_NOATIME	? MOUNT_ATTR_NOATIME
		       : flags & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME
						: MOUNT_ATTR_RELATIME;
	}
	*ret_clr = clr;
	return set;
}

/* Copies the extended attributes of the open file from to the open file to (best effort for the
 * namespaces the kernel refuses us, such as security.* under some LSMs). */
static int copy_xattrs(int from, int to)
{
	char names[8192], value[8192];
	ssize_t n = flistxattr(from, names, sizeof(names));
	if (n < 0)
		return errno == ENOTSUP || errno == ERANGE ? 0 : -errno;
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		ssize_t len = fgetxattr(from, name, value, sizeof(value));
		if (len < 0)
			continue;
		if (fsetxattr(to, name, value, (size_t)len, 0) < 0 && errno != ENOTSUP && errno != EPERM)
			return -errno;
	}
	return 0;
}

/* Owner, mode and times of an entry already created in dir; the mode after the owner, since a
 * chown clears the setuid and setgid bits. */
static int copy_meta(int dir, const char *name, const struct stat *st)
{
	const struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st->st_mode) && fchmodat(dir, name, st->st_mode & 07777, 0) < 0)
		return -errno;
	if (utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/* One regular file: its bytes, extended attributes, owner, mode and times. */
static int copy_file(int srcdir, int dstdir, const char *name, const struct stat *st)
{
	_cleanup_close_ int in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return -errno;
	struct stat now;
	/* The entry may have been swapped since the fstatat (it is the image's, not ours). */
	if (fstat(in, &now) < 0 || !S_ISREG(now.st_mode))
		return -EINVAL;
	_cleanup_close_ int out = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	char buf[65536];
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
	int r = copy_xattrs(in, out);
	if (r < 0)
		return r;
	return copy_meta(dstdir, name, st);
}

static int copy_tree(int src, int dst, int depth, char *err, size_t errlen);

/* One directory entry of src into dst, as what it is (never followed), then its metadata. */
static int copy_entry(int src, int dst, const char *name, int depth, char *err, size_t errlen)
{
	struct stat st;
	int r = 0;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_buf(err, errlen, -errno, "cannot copy %s into the volume: %m", name);
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dst, name, 0700) < 0)
			return err_buf(err, errlen, -errno, "cannot copy %s into the volume: %m", name);
		_cleanup_close_ int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return err_buf(err, errlen, -errno, "cannot copy %s into the volume: %m", name);
		if ((r = copy_tree(s, d, depth + 1, err, errlen)) < 0)
			return r;
		if ((r = copy_xattrs(s, d)) < 0)
			return err_buf(err, errlen, r, "cannot copy the attributes of %s: %m", name);
	} else if (S_ISREG(st.st_mode)) {
		r = copy_file(src, dst, name, &st);
	} else if (S_ISLNK(st.st_mode)) {
		/* Kept as a link: it is resolved later inside the container, never here. */
		char target[4096];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return err_buf(err, errlen, -errno, "cannot copy %s into the volume: %m", name);
		target[n] = '\0';
		if (symlinkat(target, dst, name) < 0)
			r = -errno;
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		/* A device node is no more usable in the volume than it was in the image: the device
		 * cgroup decides what the container may open. */
		if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0)
			r = -errno;
	}
	if (r < 0)
		return err_buf(err, errlen, r, "cannot copy %s into the volume: %m", name);
	if (S_ISREG(st.st_mode))
		return 0;
	if ((r = copy_meta(dst, name, &st)) < 0)
		return err_buf(err, errlen, r, "cannot copy the owner and mode of %s: %m", name);
	return 0;
}

/* Every entry of the directory src into the directory dst, depth levels below the volume. */
static int copy_tree(int src, int dst, int depth, char *err, size_t errlen)
{
	if (depth > COPY_MAX_DEPTH)
		return err_buf(err, errlen, -ELOOP, "the image's directory is more than %d levels deep", COPY_MAX_DEPTH);
	_cleanup_closedir_ DIR *d = opendir_dup(src);
	if (!d)
		return err_buf(err, errlen, -errno, "cannot read the image's directory: %m");
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int r = copy_entry(src, dst, de->d_name, depth, err, errlen);
		if (r < 0)
			return r;
	}
	if (errno)
		return err_buf(err, errlen, -errno, "cannot read the image's directory: %m");
	return 0;
}

/* Whether the directory has no entry but "." and ".." (false when it cannot be read). */
static bool dir_empty(int dir)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)))
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

int mounts_copy_up(int src, int dst, char *err, size_t errlen)
{
	if (!dir_empty(dst))
		return 0;
	_cleanup_close_ int s = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int d = openat(dst, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s < 0 || d < 0)
		return err_buf(err, errlen, -errno, "cannot open the volume to copy the image's content: %m");
	int r = copy_tree(s, d, 0, err, errlen);
	if (r < 0)
		return r;
	/* The volume's root takes the owner and mode of the image's directory, as with Docker. */
	struct stat st;
	if (fstat(s, &st) < 0 || fchown(d, st.st_uid, st.st_gid) < 0 || fchmod(d, st.st_mode & 07777) < 0)
		return err_buf(err, errlen, -errno, "cannot set the owner and mode of the volume: %m");
	return 0;
}
