/* The unpacking worker: see unpack.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/unpack.h"
#include "image/tarsafe.h"

/* The fds a worker keeps, at fixed numbers; everything else is closed. */
#define WORKER_TAR_FD 3
#define WORKER_RESULT_FD 4
#define WORKER_OPAQUE_FD 5
#define WORKER_BLOB_FD 6
#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

/*
 * The import worker.
 *
 * Security: the worker parses an untrusted tarball as root (it must: layer files keep their
 * owners, modes, device numbers and file capabilities). It is confined so that a refusal in
 * tarsafe or libarchive is not the only thing between a hostile entry and the host:
 *   - it gets only the tarball and the result pipe (fds 3 and 4); every other fd of the daemon
 *     (client sockets, the listening socket, container pidfds) is closed;
 *   - it chroots into its extraction directory before reading a byte, so even a path that
 *     slipped past every check resolves inside the layer, and it drops every capability except
 *     those extraction needs (chown, fowner, fsetid, dac_override/read_search, mknod, setfcap):
 *     without CAP_SYS_CHROOT and CAP_SYS_ADMIN it cannot leave the chroot or mount anything;
 *   - only tar formats are enabled. libarchive's "all formats" includes mtree, whose entries
 *     can name files of the extracting machine to copy contents from;
 *   - archive_write_disk refuses "..", absolute paths and writes through symlinks, and every
 *     entry (and hard-link target) passes tarsafe first; any refusal fails the whole import;
 *   - trusted.* and user.overlay.* xattrs are dropped: they are overlayfs' own metadata
 *     (redirect, metacopy, opaque, origin) and a layer must not smuggle them into a lowerdir;
 *   - it dies with the daemon (PR_SET_PDEATHSIG), and the daemon wipes tmp/ at the next start.
 * The residual risk is CAP_MKNOD, needed for device nodes in layers (Docker allows them): code
 * execution inside the worker through a libarchive bug could create and open a disk device.
 *
 * Whiteouts become overlayfs' own form here: ".wh.NAME" a character device 0:0 named NAME (made
 * with mknodat() under a parent opened by openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so it
 * cannot land outside the layer or through a symlink of it), ".wh..wh..opq" the opaque mark of its
 * directory. That mark is the xattr trusted.overlay.opaque, which needs CAP_SYS_ADMIN, which the
 * worker must not have: it lists the directories (checked paths) on its opaque fd and the daemon
 * sets the xattr once the worker has exited (image-unpack.c), through the same kind of openat2().
 */

struct tar_source {
	int fd;
	int blob_fd;   /* a copy of every byte goes here, or -1 */
	EVP_MD_CTX *md;
	int error; /* errno of a failed read */
	unsigned char buf[128 * 1024];
};

/* Reads the next chunk of the tarball and hashes it. Every byte goes through here (there is no
 * skip callback), so the digest covers the file exactly as given. */
static ssize_t tar_source_fill(struct tar_source *src)
{
	/* The client may have handed over a non-blocking pipe: fd_read_wait waits on it. */
	ssize_t n = fd_read_wait(src->fd, src->buf, sizeof(src->buf));

	if (n < 0) {
		src->error = (int)-n;
		return -1;
	}
	if (n > 0 && EVP_DigestUpdate(src->md, src->buf, (size_t)n) != 1) {
		src->error = EIO;
		return -1;
	}
	if (n > 0 && src->blob_fd >= 0 && write_all(src->blob_fd, src->buf, (size_t)n) < 0) {
		src->error = errno ? errno : EIO;
		return -1;
	}
	return n;
}

static la_ssize_t tar_source_read(struct archive *a, void *userdata, const void **buf)
{
	struct tar_source *src = userdata;
	ssize_t n = tar_source_fill(src);

	if (n < 0) {
		archive_set_error(a, src->error, "reading the tarball: %s", strerror(src->error));
		return -1;
	}
	*buf = src->buf;
	return n;
}

/* The uncompressed tar stream: what the outer reader (filters, raw format) decompresses, hashed
 * on its way to the tar reader: its sha256 is the layer's diff_id. */
struct tar_stream {
	struct archive *outer;
	EVP_MD_CTX *md;
	unsigned char buf[128 * 1024];
};

static la_ssize_t tar_stream_read(struct archive *a, void *userdata, const void **buf)
{
	struct tar_stream *st = userdata;
	la_ssize_t n = archive_read_data(st->outer, st->buf, sizeof(st->buf));

	if (n < 0) {
		archive_set_error(a, EIO, "decompressing: %s", archive_error_string(st->outer));
		return -1;
	}
	if (n > 0 && EVP_DigestUpdate(st->md, st->buf, (size_t)n) != 1) {
		archive_set_error(a, EIO, "hashing the layer");
		return -1;
	}
	*buf = st->buf;
	return n;
}

static bool xattr_refused(const char *name)
{
	return str_startswith(name, "trusted.") || str_startswith(name, "user.overlay.");
}

/* Drops xattrs in overlayfs' namespaces (see the security note above). The entry owns the xattr
 * strings, so the ones to keep are copied before the list is cleared and rebuilt. */
static int entry_filter_xattrs(struct archive_entry *e)
{
	struct kept {
		char *name;
		void *value;
		size_t size;
	} *kept = NULL;
	size_t n = 0, size, count;
	const void *value;
	const char *name;
	bool drop = false;
	int r = 0;

	if (archive_entry_xattr_reset(e) <= 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		drop = drop || xattr_refused(name);
	if (!drop)
		return 0;
	count = (size_t)archive_entry_xattr_reset(e);
	kept = calloc(count, sizeof(*kept));
	if (!kept)
		return -ENOMEM;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK && n < count) {
		if (xattr_refused(name))
			continue;
		kept[n].name = strdup(name);
		kept[n].value = malloc(size ? size : 1);
		kept[n].size = size;
		if (!kept[n].name || !kept[n].value) {
			n++;
			r = -ENOMEM;
			goto out;
		}
		memcpy(kept[n].value, value, size);
		n++;
	}
	archive_entry_xattr_clear(e);
	for (size_t i = 0; i < n; i++)
		archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
out:
	for (size_t i = 0; i < n; i++) {
		free(kept[i].name);
		free(kept[i].value);
	}
	free(kept);
	return r;
}

/* Copies an entry's data from the tarball to disk. */
static int copy_data(struct archive *in, struct archive *out, const char *path, char **reterr)
{
	const void *buf;
	size_t size;
	la_int64_t offset;

	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return err_set(reterr, -EIO, "reading \"%s\" from the tarball: %s", path,
				       archive_error_string(in));
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
			return err_set(reterr, -EIO, "writing \"%s\": %s", path, archive_error_string(out));
	}
}

int image_unpack_open_dir(int root_fd, const char *path, bool create)
{
	_cleanup_close_ int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return -errno;
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		int nfd;

		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		p += strspn(p, "/");
		if (len == 0 || strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0)
			return -EINVAL;
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				return -errno;
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0)
			return -errno;
		close(fd);
		fd = nfd;
	}
	return TAKE_FD(fd);
}

/* Splits an entry path into its directory (a copy, "." at the top) and its last component. */
static int whiteout_split(const char *path, char **ret_dir, char **ret_base)
{
	_cleanup_free_ char *copy = strdup(path);
	char *slash;
	size_t len;

	if (!copy)
		return -ENOMEM;
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		*ret_base = strdup(slash + 1);
		*ret_dir = strdup(*copy ? copy : ".");
	} else {
		*ret_base = strdup(copy);
		*ret_dir = strdup(".");
	}
	if (!*ret_base || !*ret_dir) {
		free(TAKE_PTR(*ret_base));
		free(TAKE_PTR(*ret_dir));
		return -ENOMEM;
	}
	return 0;
}

/* Turns a whiteout entry into overlayfs' form (see the security note above). Returns 1 when the
 * entry was a whiteout (and is done), 0 when it is an ordinary entry. */
static int whiteout_apply(const char *path, size_t *n_opaque, char **reterr)
{
	_cleanup_free_ char *dir = NULL, *base = NULL;
	_cleanup_close_ int root_fd = -1, dir_fd = -1;
	const char *name;
	int r;

	r = whiteout_split(path, &dir, &base);
	if (r < 0)
		return r;
	if (!str_startswith(base, WHITEOUT_PREFIX))
		return 0;
	name = base + strlen(WHITEOUT_PREFIX);
	/* Other ".wh..wh." names are aufs' own bookkeeping (hard link dirs): nothing to apply. */
	if (strcmp(base, WHITEOUT_OPAQUE) != 0 && str_startswith(name, WHITEOUT_PREFIX))
		return 1;
	if (strcmp(base, WHITEOUT_OPAQUE) != 0 && (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
		return err_set(reterr, -EINVAL, "refusing tar entry \"%s\": a whiteout of nothing", path);
	root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return err_set(reterr, -errno, "opening the layer: %m");
	dir_fd = image_unpack_open_dir(root_fd, dir, true);
	if (dir_fd < 0)
		return err_set(reterr, dir_fd, "whiteout \"%s\": its directory cannot be opened: %m", path);
	if (strcmp(base, WHITEOUT_OPAQUE) == 0) {
		if (++*n_opaque > IMAGE_UNPACK_OPAQUE_MAX)
			return err_set(reterr, -E2BIG, "more than %d opaque directories in one layer",
				       IMAGE_UNPACK_OPAQUE_MAX);
		if (write_all(WORKER_OPAQUE_FD, dir, strlen(dir) + 1) < 0)
			return err_set(reterr, -errno, "listing opaque directories: %m");
		return 1;
	}
	if (mknodat(dir_fd, name, S_IFCHR, makedev(0, 0)) < 0)
		return err_set(reterr, -errno, "whiteout \"%s\": %m", path);
	return 1;
}

/* Extracts every entry; fails on the first refused or unwritable one. */
static int worker_extract(struct archive *in, struct archive *out, uint64_t *ret_size, char **reterr)
{
	struct archive_entry *entry;
	uint64_t size = 0, n = 0;
	size_t n_opaque = 0;
	int r;

	for (;;) {
		const char *path, *hardlink;
		unsigned type;

		r = archive_read_next_header(in, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (n == 0)
				return err_set(reterr, -EINVAL, "not a tar archive (%s)", archive_error_string(in));
			return err_set(reterr, -EINVAL, "reading the tarball after %" PRIu64 " entries: %s", n,
				       archive_error_string(in));
		}
		n++;
		path = archive_entry_pathname(entry);
		hardlink = archive_entry_hardlink(entry);
		type = archive_entry_filetype(entry);
		r = tarsafe_check_entry(path, hardlink, reterr);
		if (r < 0)
			return r;
		r = tarsafe_check_type(path, type, hardlink != NULL, reterr);
		if (r < 0)
			return r;
		r = tarsafe_check_rootfs_entry(path, hardlink ? 0 : type, reterr);
		if (r < 0)
			return r;
		r = whiteout_apply(path, &n_opaque, reterr);
		if (r < 0)
			return r;
		if (r > 0) {
			if (archive_read_data_skip(in) < ARCHIVE_WARN)
				return err_set(reterr, -EIO, "reading the tarball: %s", archive_error_string(in));
			continue;
		}
		r = entry_filter_xattrs(entry);
		if (r < 0)
			return r;
		if (!hardlink && type == AE_IFREG && archive_entry_size(entry) > 0)
			size += (uint64_t)archive_entry_size(entry);
		r = archive_write_header(out, entry);
		if (r < ARCHIVE_WARN)
			return err_set(reterr, -EPERM, "cannot extract tar entry \"%s\": %s", path,
				       archive_error_string(out));
		r = copy_data(in, out, path, reterr);
		if (r < 0)
			return r;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN)
			return err_set(reterr, -EIO, "writing \"%s\": %s", path, archive_error_string(out));
	}
	if (n == 0)
		return err_set(reterr, -EINVAL, "not a tar archive (no entries)");
	/* Directory modes and times are applied here, after their contents. */
	if (archive_write_close(out) < ARCHIVE_WARN)
		return err_set(reterr, -EIO, "finishing the extraction: %s", archive_error_string(out));
	*ret_size = size;
	return 0;
}

/* Chroots into the current directory (the extraction directory) and drops privileges. */
static int worker_confine(char **reterr)
{
	const uint32_t keep = 1u << CAP_CHOWN | 1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH |
			      1u << CAP_FOWNER | 1u << CAP_FSETID | 1u << CAP_MKNOD | 1u << CAP_SETFCAP;

	if (chroot(".") < 0)
		return err_set(reterr, -errno, "chroot into the extraction directory: %m");
	if (chdir("/") < 0)
		return err_set(reterr, -errno, "chdir: %m");
	return worker_drop_privileges(keep, reterr);
}

/* Everything the worker does after its fds are in place; fills res. */
static int worker_run(bool has_blob, struct image_unpack_result *res, char **reterr)
{
	static const int flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_OWNER |
				 ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR;
	static struct tar_source src = { .fd = WORKER_TAR_FD };
	static struct tar_stream stream;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	struct archive *outer, *in, *out;
	struct archive_entry *raw;
	uint64_t size = 0;
	int r, root_fd;

	src.blob_fd = has_blob ? WORKER_BLOB_FD : -1;
	/* Set up everything that might load files (OpenSSL configuration, libarchive's
	 * decompressors) before the chroot. */
	src.md = EVP_MD_CTX_new();
	stream.md = EVP_MD_CTX_new();
	if (!src.md || EVP_DigestInit_ex(src.md, EVP_sha256(), NULL) != 1 || !stream.md ||
	    EVP_DigestInit_ex(stream.md, EVP_sha256(), NULL) != 1)
		return err_set(reterr, -ENOMEM, "initializing sha256");
	/* Two readers: the outer one only decompresses (any filter, the "raw" format), the inner
	 * one reads tar, and nothing else, from what the outer one gives. The bytes in between are
	 * the uncompressed layer, whose digest is the diff_id. */
	outer = archive_read_new();
	in = archive_read_new();
	out = archive_write_disk_new();
	if (!outer || !in || !out)
		return -ENOMEM;
	stream.outer = outer;
	/* Immutable/append-only flags (FFLAGS) are left out on purpose: the daemon must be able
	 * to delete what it extracted. ACLs too; rootfs tarballs have none. Owners are numeric
	 * (no archive_write_disk_set_standard_lookup), as in every container image format. */
	if (archive_read_support_filter_all(outer) < ARCHIVE_WARN || archive_read_support_format_raw(outer) != ARCHIVE_OK ||
	    archive_read_support_format_tar(in) != ARCHIVE_OK || archive_write_disk_set_options(out, flags) != ARCHIVE_OK)
		return err_set(reterr, -EIO, "setting up libarchive: %s", archive_error_string(outer));
	umask(022);

	r = worker_confine(reterr);
	if (r < 0)
		return r;

	if (archive_read_open(outer, &src, NULL, tar_source_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(outer, &raw) != ARCHIVE_OK)
		return err_set(reterr, -EINVAL, "not a tar archive (%s)", archive_error_string(outer));
	res->compression = archive_filter_code(outer, 0);
	if (archive_read_open(in, &stream, NULL, tar_stream_read, NULL) != ARCHIVE_OK)
		return err_set(reterr, -EINVAL, "not a tar archive (%s)", archive_error_string(in));
	r = worker_extract(in, out, &size, reterr);
	if (r < 0)
		return r;
	/* Both digests cover everything, including what follows the end-of-archive marker that
	 * the tar reader did not need. */
	for (;;) {
		la_ssize_t n = tar_stream_read(in, &stream, &(const void *){ NULL });
		if (n < 0)
			return err_set(reterr, -EIO, "reading the tarball: %s", archive_error_string(in));
		if (n == 0)
			break;
	}
	for (;;) {
		ssize_t n = tar_source_fill(&src);
		if (n < 0)
			return err_set(reterr, -src.error, "reading the tarball: %m");
		if (n == 0)
			break;
	}
	if (EVP_DigestFinal_ex(src.md, md, &md_len) != 1 || md_len != 32)
		return err_set(reterr, -EIO, "computing sha256");
	hex_encode(md, md_len, res->digest);
	if (EVP_DigestFinal_ex(stream.md, md, &md_len) != 1 || md_len != 32)
		return err_set(reterr, -EIO, "computing sha256");
	hex_encode(md, md_len, res->diff_id);
	res->size = size;

	/* One syncfs instead of an fsync per file: the layer's data must be on disk before the
	 * daemon's (fsync'ed) metadata refers to it. The blob copy is fsync'ed for the same reason. */
	if (has_blob && fsync(WORKER_BLOB_FD) < 0)
		return err_set(reterr, -errno, "syncing the blob: %m");
	root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return err_set(reterr, -errno, "opening the layer directory: %m");
	if (syncfs(root_fd) < 0) {
		r = -errno;
		close(root_fd);
		return err_set(reterr, r, "syncing the layer: %m");
	}
	close(root_fd);
	return 0;
}

/* Moves the worker's fds to their fixed numbers (some of which may be taken by one of the others:
 * everything is first duplicated above the range in use) and closes every other fd. */
static int worker_move_fds(int tar_fd, int result_fd, int opaque_fd, int blob_fd)
{
	int t = fcntl(tar_fd, F_DUPFD_CLOEXEC, 10), p = fcntl(result_fd, F_DUPFD_CLOEXEC, 10);
	int o = fcntl(opaque_fd, F_DUPFD_CLOEXEC, 10), b = blob_fd >= 0 ? fcntl(blob_fd, F_DUPFD_CLOEXEC, 10) : -1;

	if (t < 0 || p < 0 || o < 0 || (blob_fd >= 0 && b < 0))
		return -errno;
	if (dup3(t, WORKER_TAR_FD, O_CLOEXEC) < 0 || dup3(p, WORKER_RESULT_FD, O_CLOEXEC) < 0 ||
	    dup3(o, WORKER_OPAQUE_FD, O_CLOEXEC) < 0 || (b >= 0 && dup3(b, WORKER_BLOB_FD, O_CLOEXEC) < 0))
		return -errno;
	if (close_range(b >= 0 ? WORKER_BLOB_FD + 1 : WORKER_OPAQUE_FD + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0)
		return -errno;
	return 0;
}

_Noreturn void image_unpack_main(int tar_fd, int result_fd, int dir_fd, int opaque_fd, int blob_fd, pid_t parent)
{
	struct image_unpack_result res = { 0 };
	char *err = NULL;
	int r;

	worker_child_setup(parent);
	if (fchdir(dir_fd) < 0 || worker_move_fds(tar_fd, result_fd, opaque_fd, blob_fd) < 0)
		_exit(EXIT_FAILURE);

	r = worker_run(blob_fd >= 0, &res, &err);
	res.r = r < 0 ? r : 0;
	if (r < 0)
		snprintf(res.msg, sizeof(res.msg), "%s", err ? err : strerror(-r));
	if (write_all(WORKER_RESULT_FD, &res, sizeof(res)) < 0)
		_exit(EXIT_FAILURE);
	_exit(EXIT_SUCCESS);
}
