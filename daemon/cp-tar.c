/* The copy worker's reading side: a tree of the container as a tar stream (cp_from, export), or
 * a container's upper dir as an image layer (commit). Nothing below the named path is followed
 * (see the security note in cp-worker.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/cp-worker-internal.h"

/* Directories deeper than this are archived without their contents. */
#define TAR_MAX_DEPTH 512

struct tarw {
	struct archive *a;
	struct archive_entry_linkresolver *links;
	const struct cp_ids *ids;
	int fd;
	uint64_t size;
	/* A layer (commit): overlay whiteouts become ".wh." entries, opaque directories get a
	 * ".wh..wh..opq" entry, and the stream is hashed (its sha256 is the layer's diff_id). */
	bool layer;
	EVP_MD_CTX *md;
	char buf[64 * 1024];
};

static la_ssize_t tarw_write(struct archive *a, void *userdata, const void *buf, size_t len)
{
	struct tarw *w = userdata;
	int r = cp_write_full(w->fd, buf, len);

	if (r >= 0 && w->md && EVP_DigestUpdate(w->md, buf, len) != 1)
		r = -EIO;
	if (r < 0) {
		archive_set_error(a, -r, "writing the tar stream: %s", strerror(-r));
		return -1;
	}
	return (la_ssize_t)len;
}

/* Copies exactly st_size bytes of fd: a file that shrank meanwhile is padded with zeros, one
 * that grew is cut, so the header written before stays true. */
static int tarw_copy_data(struct tarw *w, int fd, int64_t size, const char *name, char **reterr)
{
	int64_t left = size;

	while (left > 0) {
		size_t want = left < (int64_t)sizeof(w->buf) ? (size_t)left : sizeof(w->buf);
		ssize_t n = fd_read_wait(fd, w->buf, want);
		if (n < 0)
			return err_set(reterr, (int)n, "reading %s: %m", name);
		if (n == 0) {
			memset(w->buf, 0, want);
			n = (ssize_t)want;
		}
		if (archive_write_data(w->a, w->buf, (size_t)n) < 0)
			return err_set(reterr, -EIO, "%s", archive_error_string(w->a));
		left -= n;
	}
	w->size += (uint64_t)size;
	return 0;
}

static int tarw_child(struct tarw *w, int dir_fd, const char *name, const char *tarname, unsigned depth,
		      char **reterr);

static int tarw_name_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An empty marker entry of a layer (a whiteout, an opaque directory's marker). */
static int tarw_marker(struct tarw *w, const char *tarname, const char *prefix, const char *name,
		       const struct stat *st, char **reterr)
{
	_cleanup_free_ char *path = NULL;
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e || asprintf(&path, "%s%s%s%s", tarname, *tarname ? "/" : "", prefix, name) < 0) {
		archive_entry_free(e);
		return -ENOMEM;
	}
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, 0);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	if (archive_write_header(w->a, e) < ARCHIVE_WARN)
		r = err_set(reterr, -EIO, "%s", archive_error_string(w->a));
	archive_entry_free(e);
	return r;
}

/* The xattrs a layer keeps of a file: file capabilities and user.* (not overlayfs' own). */
static int tarw_xattrs(struct archive_entry *e, int fd)
{
	char names[4096], value[4096];
	ssize_t len = flistxattr(fd, names, sizeof(names));

	for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(names + off) + 1) {
		const char *name = names + off;
		if (strcmp(name, "security.capability") != 0 &&
		    (strncmp(name, "user.", 5) != 0 || strncmp(name, "user.overlay.", 13) == 0))
			continue;
		ssize_t n = fgetxattr(fd, name, value, sizeof(value));
		if (n >= 0)
			archive_entry_xattr_add_entry(e, name, value, (size_t)n);
	}
	return 0;
}

/* Whether the directory fd is an overlay opaque directory (its lower contents hidden). */
static bool tarw_opaque(int fd)
{
	char v[2];
	return fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

/* Adds the entries of the directory fd (its own entry is written already). A directory on a
 * kernel filesystem (a running container's /proc, /sys) is archived empty. */
static int tarw_dir(struct tarw *w, int fd, const char *tarname, unsigned depth, char **reterr)
{
	char **names = NULL;
	size_t n = 0;
	int r = 0;
	DIR *d;

	/* A layer is the daemon's own upper dir, whatever filesystem --root is on, with nothing
	 * mounted in it. */
	if (depth >= TAR_MAX_DEPTH || (!w->layer && !cp_fs_is_plain(fd)))
		return 0;
	d = opendir_dup(fd);
	if (!d)
		return err_set(reterr, -errno, "%s: %m", tarname);
	/* In name order, so the same tree gives the same stream (a layer's digest). */
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				r = err_set(reterr, -errno, "reading directory %s: %m", tarname);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char **nn = reallocarray(names, n + 1, sizeof(*names));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			r = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	if (r >= 0 && n > 0)
		qsort(names, n, sizeof(*names), tarw_name_compare);
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *child = NULL;
		if (asprintf(&child, "%s%s%s", tarname, *tarname ? "/" : "", names[i]) < 0)
			r = -ENOMEM;
		else
			r = tarw_child(w, dirfd(d), names[i], child, depth + 1, reterr);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

/* Writes the entry for st (fd: the regular file or directory opened, else -1; link: a symlink's
 * target) and, for a directory, its contents. */
static int tarw_add(struct tarw *w, const struct stat *st, int fd, const char *link, const char *tarname,
		    unsigned depth, char **reterr)
{
	struct archive_entry *e = archive_entry_new(), *spare = NULL;
	int r = 0;

	if (!e)
		return -ENOMEM;
	archive_entry_copy_stat(e, st);
	archive_entry_set_pathname(e, tarname);
	archive_entry_set_uid(e, cp_ids_to_container(st->st_uid, w->ids->uid_base, w->ids->shifted));
	archive_entry_set_gid(e, cp_ids_to_container(st->st_gid, w->ids->gid_base, w->ids->shifted));
	if (link)
		archive_entry_set_symlink(e, link);
	if (!S_ISREG(st->st_mode))
		archive_entry_set_size(e, 0);
	if (w->layer && fd >= 0)
		tarw_xattrs(e, fd);
	archive_entry_linkify(w->links, &e, &spare);
	if (e) {
		bool data = S_ISREG(st->st_mode) && !archive_entry_hardlink(e) && st->st_size > 0;
		if (archive_write_header(w->a, e) < ARCHIVE_WARN)
			r = err_set(reterr, -EIO, "%s", archive_error_string(w->a));
		else if (data)
			r = tarw_copy_data(w, fd, st->st_size, tarname, reterr);
		archive_entry_free(e);
	}
	archive_entry_free(spare);
	if (r >= 0 && S_ISDIR(st->st_mode) && w->layer && tarw_opaque(fd))
		r = tarw_marker(w, tarname, ".wh..wh..opq", "", st, reterr);
	if (r >= 0 && S_ISDIR(st->st_mode))
		r = tarw_dir(w, fd, tarname, depth, reterr);
	return r;
}

/* Whether fd is still the inode stat'ed by name a moment before. */
static bool same_inode(int fd, const struct stat *before, struct stat *now)
{
	return fstat(fd, now) == 0 && now->st_dev == before->st_dev && now->st_ino == before->st_ino &&
	       (now->st_mode & S_IFMT) == (before->st_mode & S_IFMT);
}

/* One entry of a directory, by name relative to it, never following a symlink; an entry that
 * vanished meanwhile is skipped, one that was swapped for something else fails the copy. */
static int tarw_child(struct tarw *w, int dir_fd, const char *name, const char *tarname, unsigned depth,
		      char **reterr)
{
	_cleanup_close_ int fd = -1;
	struct stat st, now;
	char link[4096];

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_set(reterr, -errno, "%s: %m", tarname);
	if (w->layer && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		/* An overlay whiteout: ".wh.NAME" in the same directory. */
		_cleanup_free_ char *dir = strndup(tarname, strlen(tarname) - strlen(name));
		if (!dir)
			return -ENOMEM;
		if (*dir)
			dir[strlen(dir) - 1] = '\0';
		return tarw_marker(w, dir, ".wh.", name, &st, reterr);
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		int flags = S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK | O_NOCTTY;
		fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			return 0;
		if (fd < 0 || !same_inode(fd, &st, &now))
			return err_set(reterr, -EAGAIN, "%s changed during the copy", tarname);
		/* A file of a kernel filesystem bound onto a plain directory is left out: the
		 * worker, root on the host, could read what the container cannot. */
		if (S_ISREG(now.st_mode) && !w->layer && !cp_fs_is_plain(fd))
			return 0;
		return tarw_add(w, &now, fd, NULL, tarname, depth, reterr);
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dir_fd, name, link, sizeof(link) - 1);
		if (n < 0)
			return errno == ENOENT ? 0 : err_set(reterr, -errno, "%s: readlink: %m", tarname);
		link[n] = '\0';
		return tarw_add(w, &st, -1, link, tarname, depth, reterr);
	}
	return tarw_add(w, &st, -1, NULL, tarname, depth, reterr);
}

/* The named path itself: resolved in the root, then opened again for reading only when it is a
 * regular file or a directory, and only if it is still the same inode. */
static int tarw_top(struct tarw *w, int root_fd, const char *path, bool follow, const char *top,
		    bool children_only, char **reterr)
{
	_cleanup_close_ int pfd = cp_open_in_root(root_fd, path, O_PATH, !follow), fd = -1;
	struct stat st, now;
	char link[4096];

	if (pfd < 0)
		return err_set(reterr, pfd, "%s: %m", path);
	if (fstat(pfd, &st) < 0)
		return err_set(reterr, -errno, "%s: %m", path);
	if (!cp_fs_is_plain(pfd))
		return err_set(reterr, -EPERM, "%s: copying from a kernel filesystem is not supported", path);
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		int flags = S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK | O_NOCTTY;
		fd = cp_open_in_root(root_fd, path, flags, !follow);
		if (fd < 0 || !same_inode(fd, &st, &now))
			return err_set(reterr, -EAGAIN, "%s changed during the copy", path);
		if (!cp_fs_is_plain(fd))
			return err_set(reterr, -EPERM, "%s: copying from a kernel filesystem is not supported", path);
		if (children_only)
			return S_ISDIR(now.st_mode) ? tarw_dir(w, fd, top, 0, reterr)
						    : err_set(reterr, -ENOTDIR, "%s: not a directory", path);
		return tarw_add(w, &now, fd, NULL, top, 0, reterr);
	}
	if (children_only)
		return err_set(reterr, -ENOTDIR, "%s: not a directory", path);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(pfd, "", link, sizeof(link) - 1);
		if (n < 0)
			return err_set(reterr, -errno, "%s: readlink: %m", path);
		link[n] = '\0';
		return tarw_add(w, &st, -1, link, top, 0, reterr);
	}
	return tarw_add(w, &st, -1, NULL, top, 0, reterr);
}

int cp_tar_write(int root_fd, const char *path, bool follow, const char *top, bool children_only, int fd,
		 const struct cp_ids *ids, uint64_t *ret_size, char **reterr)
{
	static struct tarw w;
	int r;

	w.fd = fd;
	w.ids = ids;
	w.a = archive_write_new();
	w.links = archive_entry_linkresolver_new();
	if (!w.a || !w.links)
		return err_set(reterr, -ENOMEM, "out of memory");
	archive_entry_linkresolver_set_strategy(w.links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
	    archive_write_open(w.a, &w, NULL, tarw_write, NULL) != ARCHIVE_OK)
		return err_set(reterr, -EIO, "setting up the tar stream: %s", archive_error_string(w.a));
	r = tarw_top(&w, root_fd, path, follow, top, children_only, reterr);
	if (r < 0)
		return r;
	if (archive_write_close(w.a) != ARCHIVE_OK)
		return err_set(reterr, -EIO, "finishing the tar stream: %s", archive_error_string(w.a));
	*ret_size = w.size;
	return 0;
}

int cp_layer_write(int upper_fd, int fd, const struct cp_ids *ids, char digest_hex[65], uint64_t *ret_size,
		   char **reterr)
{
	static struct tarw w;
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int r;

	w.fd = fd;
	w.ids = ids;
	w.layer = true;
	w.md = EVP_MD_CTX_new();
	w.a = archive_write_new();
	w.links = archive_entry_linkresolver_new();
	if (!w.md || EVP_DigestInit_ex(w.md, EVP_sha256(), NULL) != 1 || !w.a || !w.links)
		return err_set(reterr, -ENOMEM, "out of memory");
	archive_entry_linkresolver_set_strategy(w.links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_open(w.a, &w, NULL, tarw_write, NULL) != ARCHIVE_OK)
		return err_set(reterr, -EIO, "setting up the layer: %s", archive_error_string(w.a));
	/* The root first: an unchanged container still gives a layer with an entry (an empty tar
	 * is no layer the store unpacks). */
	struct stat st;
	if (fstat(upper_fd, &st) < 0)
		return err_set(reterr, -errno, "the upper dir: %m");
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return -ENOMEM;
	archive_entry_copy_stat(e, &st);
	archive_entry_set_pathname(e, "./");
	archive_entry_set_uid(e, cp_ids_to_container(st.st_uid, ids->uid_base, ids->shifted));
	archive_entry_set_gid(e, cp_ids_to_container(st.st_gid, ids->gid_base, ids->shifted));
	r = archive_write_header(w.a, e) < ARCHIVE_WARN ? err_set(reterr, -EIO, "%s", archive_error_string(w.a)) : 0;
	archive_entry_free(e);
	if (r < 0 || (r = tarw_dir(&w, upper_fd, "", 0, reterr)) < 0)
		return r;
	if (archive_write_close(w.a) != ARCHIVE_OK)
		return err_set(reterr, -EIO, "finishing the layer: %s", archive_error_string(w.a));
	if (EVP_DigestFinal_ex(w.md, md, &md_len) != 1 || md_len != 32)
		return err_set(reterr, -EIO, "computing sha256");
	for (unsigned i = 0; i < md_len; i++) {
		digest_hex[2 * i] = hex[md[i] >> 4];
		digest_hex[2 * i + 1] = hex[md[i] & 15];
	}
	digest_hex[64] = '\0';
	*ret_size = w.size;
	return 0;
}
