/* The copy worker's writing side: a client's tar stream extracted into a directory of the
 * container. Every entry's parent is resolved below the target directory without following
 * any symlink, and nothing existing is opened for writing (see the security note in
 * cp-worker.c). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/cp-worker-internal.h"
#include "image/tarsafe.h"

struct dir_time {
	char *path;
	struct timespec ts[2];
};

struct extract {
	int dir_fd; /* the target directory */
	int fd;     /* the tar stream */
	bool archive;
	const struct cp_ids *ids;
	uint64_t size;
	struct dir_time *dirs; /* directories whose times are set at the end */
	size_t n_dirs;
	char buf[64 * 1024];
};

static la_ssize_t extract_read(struct archive *a, void *userdata, const void **buf)
{
	struct extract *x = userdata;
	ssize_t n = fd_read_wait(x->fd, x->buf, sizeof(x->buf));

	if (n < 0) {
		archive_set_error(a, (int)-n, "reading the tar stream: %s", strerror((int)-n));
		return -1;
	}
	*buf = x->buf;
	return n;
}

/* The entry path without "." and empty components ("./a//b/" is "a/b"); "" for the root. */
static char *extract_clean(const char *path)
{
	char *out = malloc(strlen(path) + 1), *o = out;
	const char *p = path;

	if (!out)
		return NULL;
	while (*p) {
		size_t len = strcspn(p, "/");
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, p, len);
			o += len;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	*o = '\0';
	return out;
}

/* Opens the directory rel below the target, one component at a time: no symlink, no mount
 * crossing, nothing outside. create: missing directories are made (owned by the container's
 * root, as docker makes them). */
static int extract_open_dir(struct extract *x, const char *rel, bool create, char **reterr)
{
	int fd = fcntl(x->dir_fd, F_DUPFD_CLOEXEC, 3);
	const char *p = rel;

	if (fd < 0)
		return err_set(reterr, -errno, "dup: %m");
	while (*p) {
		size_t len = strcspn(p, "/");
		char comp[256];
		if (len >= sizeof(comp)) {
			close(fd);
			return err_set(reterr, -ENAMETOOLONG, "%s: name too long", rel);
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		struct open_how how = {
			.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
		};
		int nfd = (int)syscall(SYS_openat2, fd, comp, &how, sizeof(how));
		if (nfd < 0 && errno == ENOENT && create) {
			uint32_t uid, gid;
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				int r = -errno;
				close(fd);
				return err_set(reterr, r, "creating directory %s: %m", rel);
			}
			if (cp_ids_to_host(0, x->ids->uid_base, x->ids->shifted, &uid) == 0 &&
			    cp_ids_to_host(0, x->ids->gid_base, x->ids->shifted, &gid) == 0)
				(void)fchownat(fd, comp, uid, gid, AT_SYMLINK_NOFOLLOW);
			nfd = (int)syscall(SYS_openat2, fd, comp, &how, sizeof(how));
		}
		if (nfd < 0) {
			int r = -errno;
			close(fd);
			if (r == -ELOOP || r == -ENOTDIR || r == -EXDEV)
				return err_set(reterr, -EPERM, "%s: refusing to extract through a symlink, a non-directory or a mount", rel);
			return err_set(reterr, r, "%s: %m", rel);
		}
		close(fd);
		fd = nfd;
		p += len;
		while (*p == '/')
			p++;
	}
	return fd;
}

/* The host ids an entry's file gets: the tar's in archive mode, else the container's root. */
static int extract_owner(struct extract *x, struct archive_entry *e, uid_t *uid, gid_t *gid, const char *path,
			 char **reterr)
{
	uint32_t u = x->archive ? (uint32_t)archive_entry_uid(e) : 0, g = x->archive ? (uint32_t)archive_entry_gid(e) : 0;

	if (x->archive && (archive_entry_uid(e) < 0 || archive_entry_uid(e) > UINT32_MAX - 1 ||
			   archive_entry_gid(e) < 0 || archive_entry_gid(e) > UINT32_MAX - 1))
		return err_set(reterr, -ERANGE, "%s: owner out of range", path);
	if (cp_ids_to_host(u, x->ids->uid_base, x->ids->shifted, uid) < 0 ||
	    cp_ids_to_host(g, x->ids->gid_base, x->ids->shifted, gid) < 0)
		return err_set(reterr, -ERANGE, "%s: owner %u:%u is not mapped in the container's user namespace", path, u, g);
	return 0;
}

static int extract_data(struct extract *x, struct archive *in, int fd, const char *path, char **reterr)
{
	const void *buf;
	size_t size;
	la_int64_t offset, pos = 0;

	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return err_set(reterr, -EIO, "reading %s from the tar stream: %s", path, archive_error_string(in));
		if (offset != pos && lseek(fd, offset, SEEK_SET) < 0)
			return err_set(reterr, -errno, "%s: %m", path);
		if ((r = cp_write_full(fd, buf, size)) < 0)
			return err_set(reterr, r, "writing %s: %m", path);
		pos = offset + (la_int64_t)size;
		x->size += size;
	}
	if (ftruncate(fd, pos) < 0)
		return err_set(reterr, -errno, "%s: %m", path);
	return 0;
}

/* Creates one non-directory entry as name in pfd (anything there that is not a directory is
 * replaced; a directory is not). */
static int extract_file(struct extract *x, struct archive *in, struct archive_entry *e, int pfd, const char *name,
			const char *path, uid_t uid, gid_t gid, char **reterr)
{
	mode_t mode = archive_entry_perm(e) & 07777, type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return err_set(reterr, -EISDIR, "cannot overwrite directory \"%s\" with non-directory", path);
		if (unlinkat(pfd, name, 0) < 0)
			return err_set(reterr, -errno, "replacing %s: %m", path);
	}
	if (hardlink) {
		_cleanup_free_ char *target = extract_clean(hardlink);
		if (!target)
			return -ENOMEM;
		char *slash = strrchr(target, '/');
		const char *tname = slash ? slash + 1 : target;
		if (slash)
			*slash = '\0';
		_cleanup_close_ int tdir = extract_open_dir(x, slash ? target : "", false, reterr);
		if (tdir < 0)
			return tdir;
		_cleanup_close_ int tfd = openat(tdir, tname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (tfd < 0 || fstat(tfd, &st) < 0)
			return err_set(reterr, -errno, "%s: hard link target %s: %m", path, hardlink);
		if (S_ISDIR(st.st_mode))
			return err_set(reterr, -EPERM, "%s: hard link to a directory", path);
		if (linkat(tfd, "", pfd, name, AT_EMPTY_PATH) < 0)
			return err_set(reterr, -errno, "%s: link: %m", path);
		return 0;
	}
	switch (type) {
	case AE_IFREG: {
		_cleanup_close_ int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		int r;
		if (fd < 0)
			return err_set(reterr, -errno, "creating %s: %m", path);
		if ((r = extract_data(x, in, fd, path, reterr)) < 0)
			return r;
		/* Owner first: a chown clears the set-id bits the chmod then sets. */
		if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
			return err_set(reterr, -errno, "%s: %m", path);
		break;
	}
	case AE_IFLNK:
		if (symlinkat(archive_entry_symlink(e) ? archive_entry_symlink(e) : "", pfd, name) < 0)
			return err_set(reterr, -errno, "creating symlink %s: %m", path);
		break;
	case AE_IFCHR:
	case AE_IFBLK:
		if (!x->archive)
			return err_set(reterr, -EPERM, "%s: device nodes are copied only in archive mode (-a)", path);
		if (type == AE_IFCHR && archive_entry_rdev(e) == makedev(0, 0))
			return err_set(reterr, -EPERM, "%s: refusing the 0:0 device (an overlay whiteout)", path);
		/* fallthrough */
	case AE_IFIFO:
		/* The mode at creation (umask 0): a chmod by name would follow a symlink put there
		 * meanwhile. */
		if (mknodat(pfd, name, type | mode, type == AE_IFIFO ? 0 : archive_entry_rdev(e)) < 0)
			return err_set(reterr, -errno, "creating %s: %m", path);
		break;
	default:
		return err_set(reterr, -EINVAL, "%s: unsupported file type", path);
	}
	if (type != AE_IFREG && fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(reterr, -errno, "%s: %m", path);
	return 0;
}

/* Extracts one entry; the root entry ("." of a directory's contents) is skipped. */
static int extract_entry(struct extract *x, struct archive *in, struct archive_entry *e, char **reterr)
{
	const char *path = archive_entry_pathname(e), *hardlink = archive_entry_hardlink(e);
	unsigned type = archive_entry_filetype(e);
	_cleanup_free_ char *clean = NULL;
	_cleanup_close_ int pfd = -1;
	uid_t uid;
	gid_t gid;
	int r;

	if (!path)
		return err_set(reterr, -EINVAL, "a tar entry without a name");
	if ((r = tarsafe_check_entry(path, hardlink, reterr)) < 0 ||
	    (r = tarsafe_check_type(path, type, hardlink != NULL, reterr)) < 0)
		return r;
	if (!(clean = extract_clean(path)))
		return -ENOMEM;
	if (!*clean)
		return 0;
	if ((r = extract_owner(x, e, &uid, &gid, path, reterr)) < 0)
		return r;
	char *slash = strrchr(clean, '/');
	const char *name = slash ? slash + 1 : clean;
	if (slash)
		*slash = '\0';
	pfd = extract_open_dir(x, slash ? clean : "", true, reterr);
	if (pfd < 0)
		return pfd;
	if (slash)
		*slash = '/';

	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
	if (archive_entry_mtime_is_set(e)) {
		ts[0] = ts[1] = (struct timespec){ archive_entry_mtime(e), archive_entry_mtime_nsec(e) };
		if (archive_entry_atime_is_set(e))
			ts[0] = (struct timespec){ archive_entry_atime(e), archive_entry_atime_nsec(e) };
	}
	if (type == AE_IFDIR && !hardlink) {
		struct stat st;
		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
			return err_set(reterr, -ENOTDIR, "cannot overwrite non-directory \"%s\" with directory", clean);
		if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST)
			return err_set(reterr, -errno, "creating directory %s: %m", clean);
		/* Not across a mount: a directory entry named like a mount point (proc, sys) must
		 * not chown or chmod the root of a kernel filesystem. */
		struct open_how how = {
			.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
		};
		_cleanup_close_ int dfd = (int)syscall(SYS_openat2, pfd, name, &how, sizeof(how));
		if (dfd < 0 && errno == EXDEV)
			return err_set(reterr, -EPERM, "%s: refusing to extract onto a mount point", clean);
		if (dfd < 0 || fchown(dfd, uid, gid) < 0 || fchmod(dfd, archive_entry_perm(e) & 07777) < 0)
			return err_set(reterr, -errno, "%s: %m", clean);
		/* Its times once its contents are written (they change its mtime). */
		struct dir_time *nd = reallocarray(x->dirs, x->n_dirs + 1, sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		x->dirs = nd;
		nd[x->n_dirs].path = TAKE_PTR(clean);
		memcpy(nd[x->n_dirs].ts, ts, sizeof(ts));
		x->n_dirs++;
		return 0;
	}
	if ((r = extract_file(x, in, e, pfd, name, clean, uid, gid, reterr)) < 0)
		return r;
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(reterr, -errno, "%s: %m", clean);
	return 0;
}

/* Sets the extracted directories' times, deepest last-written first; one that is gone or was
 * swapped for something else is left alone. */
static void extract_dir_times(struct extract *x)
{
	for (size_t i = x->n_dirs; i-- > 0;) {
		char *err = NULL;
		int fd = extract_open_dir(x, x->dirs[i].path, false, &err);
		free(err);
		if (fd >= 0) {
			(void)futimens(fd, x->dirs[i].ts);
			close(fd);
		}
	}
}

int cp_extract(int dir_fd, int fd, bool archive, const struct cp_ids *ids, uint64_t *ret_size, char **reterr)
{
	static struct extract x;
	struct archive_entry *e;
	struct archive *in;
	size_t n = 0;
	int r = 0;

	x = (struct extract){ .dir_fd = dir_fd, .fd = fd, .archive = archive, .ids = ids };
	umask(0);
	in = archive_read_new();
	if (!in)
		return -ENOMEM;
	/* Plain tar, and the compressions libarchive does itself: a filter it would run as an
	 * external program (ARCHIVE_WARN) is not enabled, since the program would be looked up in
	 * the container. */
	if (archive_read_support_format_tar(in) != ARCHIVE_OK)
		return err_set(reterr, -EIO, "setting up libarchive: %s", archive_error_string(in));
	static int (*const filters[])(struct archive *) = {
		archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
		archive_read_support_filter_xz, archive_read_support_filter_zstd,
	};
	for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
		struct archive *probe = archive_read_new();
		bool builtin = probe && filters[i](probe) == ARCHIVE_OK;
		archive_read_free(probe);
		if (builtin)
			(void)filters[i](in);
	}
	if (archive_read_open(in, &x, NULL, extract_read, NULL) != ARCHIVE_OK) {
		r = err_set(reterr, -EINVAL, "not a tar archive (%s)", archive_error_string(in));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF) {
			r = 0;
			break;
		}
		if (r < ARCHIVE_WARN) {
			r = err_set(reterr, -EINVAL, "%s (%s)", n == 0 ? "not a tar archive" : "reading the tar stream",
				    archive_error_string(in));
			break;
		}
		n++;
		if ((r = extract_entry(&x, in, e, reterr)) < 0)
			break;
	}
	if (r >= 0)
		extract_dir_times(&x);
	*ret_size = x.size;
out:
	archive_read_free(in);
	for (size_t i = 0; i < x.n_dirs; i++)
		free(x.dirs[i].path);
	free(x.dirs);
	return r;
}
