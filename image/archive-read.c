/* The load worker: see archive-read.h. This half reads the tar stream: every regular file goes
 * to disk as a blob named by its sha256 (checked against the name for blobs/sha256/<hex>), the
 * small JSON documents stay in memory, and symlinks are kept as aliases, never created. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/archive-internal.h"
#include "image/archive-json.h"
#include "image/archive-read.h"

/* The fds a worker keeps, at fixed numbers; everything else is closed. */
#define READ_IN_FD 3
#define READ_STATUS_FD 4
#define READ_PATH_MAX 4096

/*
 * Security: the worker parses a hostile archive (tar headers, gzip/zstd streams, JSON). It is
 * confined so that a bug in that parsing cannot reach the host:
 *   - it keeps only the archive and the status pipe (fds 3 and 4), and its directory, an empty
 *     ingest/load-<random>/ the daemon made for it, into which it chroots;
 *   - it has its own, empty network namespace, no capabilities at all (it writes only files it
 *     creates in a directory owned by its uid), no_new_privs, no core dumps, and dies with the
 *     daemon;
 *   - no path of the archive is ever used as a path on disk: blobs are written under names the
 *     worker makes (blob.partial, blobs/<hex of their content>), symlinks are recorded as
 *     aliases among the archive's own files and never created, hard links and device nodes are
 *     refused, so "../", absolute names and symlinked directories have nothing to act on;
 *   - only tar formats are enabled (libarchive's mtree could name host files), JSON documents
 *     are capped at ARCHIVE_JSON_MAX before they are read, entries at ARCHIVE_MAX_ENTRIES.
 * What the daemon takes from here it checks again (names are hex, files are regular files).
 */

struct source {
	int fd;
	unsigned char buf[128 * 1024];
};

/* Reads the next chunk of the archive, waiting if the client handed over a non-blocking fd. */
static la_ssize_t source_read(struct archive *a, void *userdata, const void **buf)
{
	struct source *src = userdata;
	ssize_t n = fd_read_wait(src->fd, src->buf, sizeof(src->buf));

	if (n < 0) {
		archive_set_error(a, (int)-n, "reading the archive: %s", strerror((int)-n));
		return -1;
	}
	*buf = src->buf;
	return n;
}

void archive_files_done(struct archive_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].link);
	}
	free(f->v);
	free(f->index_json);
	free(f->manifest_json);
	f->v = NULL;
	f->n = f->cap = 0;
	f->index_json = f->manifest_json = NULL;
}

const struct archive_file *archive_files_find(const struct archive_files *f, const char *path)
{
	/* A chain of symlinks longer than this is a loop, or hostile. */
	for (int depth = 0; depth < 16; depth++) {
		const struct archive_file *hit = NULL;
		for (size_t i = 0; i < f->n; i++)
			if (strcmp(f->v[i].path, path) == 0) {
				hit = &f->v[i];
				break;
			}
		if (!hit || !hit->link)
			return hit;
		path = hit->link;
	}
	return NULL;
}

int archive_path_normalize(const char *path, const char *base, char **ret, char **reterr)
{
	_cleanup_free_ char *buf = NULL, *out = NULL;
	char q[64], *save = NULL;
	size_t len = 0;

	if (!path[0] || strlen(path) >= READ_PATH_MAX || (base && strlen(base) >= READ_PATH_MAX))
		return err_set(reterr, -EINVAL, "archive entry %s: empty or too long a path",
			       str_quote(path, 12, q, sizeof(q)));
	if (path[0] == '/')
		return err_set(reterr, -EINVAL, "archive entry %s: absolute paths are not allowed",
			       str_quote(base ? base : path, 12, q, sizeof(q)));
	if (base) {
		const char *slash = strrchr(base, '/');
		int dlen = slash ? (int)(slash - base) : 0;
		if (asprintf(&buf, "%.*s/%s", dlen, base, path) < 0)
			return -ENOMEM;
	} else if (!(buf = strdup(path))) {
		return -ENOMEM;
	}
	out = calloc(strlen(buf) + 1, 1);
	if (!out)
		return -ENOMEM;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			/* Lexically: an alias may go up within the archive (docker save's
			 * ../<id>/layer.tar), never above its root. */
			if (!base || len == 0)
				return err_set(reterr, -EINVAL, "archive entry %s: \"..\" leaves the archive",
					       str_quote(base ? base : path, 64, q, sizeof(q)));
			char *slash = strrchr(out, '/');
			len = slash ? (size_t)(slash - out) : 0;
			out[len] = '\0';
			continue;
		}
		if (len)
			out[len++] = '/';
		strcpy(out + len, c);
		len += strlen(c);
	}
	if (len == 0)
		return err_set(reterr, -EINVAL, "archive entry %s: the path names the archive's root",
			       str_quote(path, 64, q, sizeof(q)));
	*ret = TAKE_PTR(out);
	return 0;
}

int archive_sha256_hex(const void *buf, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
		return -EIO;
	hex_encode(md, md_len, out);
	return 0;
}

/* Renames the verified ARCHIVE_PARTIAL to blobs/<hex>; the same content seen twice is one blob. */
static int blob_commit(int dir_fd, const char *hex, char **reterr)
{
	char path[80];

	snprintf(path, sizeof(path), ARCHIVE_READ_BLOBS "/%s", hex);
	if (renameat2(dir_fd, ARCHIVE_PARTIAL, dir_fd, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST)
		return err_set(reterr, -errno, "storing blob %s: %m", hex);
	if (unlinkat(dir_fd, ARCHIVE_PARTIAL, 0) < 0)
		return err_set(reterr, -errno, "removing a duplicate blob: %m");
	return 0;
}

int archive_write_blob(int dir_fd, const char *buf, size_t len, char *ret_hex, char **reterr)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (archive_sha256_hex(buf, len, ret_hex) < 0)
		return err_set(reterr, -EIO, "computing sha256");
	fd = openat(dir_fd, ARCHIVE_PARTIAL, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(reterr, -errno, "creating a blob: %m");
	r = write_all(fd, buf, len);
	if (r < 0)
		return err_set(reterr, r, "writing a blob: %m");
	return blob_commit(dir_fd, ret_hex, reterr);
}

/* Streams the current entry's data into ARCHIVE_PARTIAL, hashing it; returns its hex and size. */
static int entry_to_blob(struct archive *in, int dir_fd, const char *path, char *ret_hex, int64_t *ret_size,
			 char **reterr)
{
	_cleanup_close_ int fd = -1;
	unsigned char md[EVP_MAX_MD_SIZE], buf[64 * 1024];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = NULL;
	int64_t size = 0;
	char q[300];
	int r = 0;

	fd = openat(dir_fd, ARCHIVE_PARTIAL, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(reterr, -errno, "creating a blob: %m");
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = err_set(reterr, -ENOMEM, "initializing sha256");
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(in, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			r = err_set(reterr, -EIO, "reading %s from the archive: %s", str_quote(path, 64, q, sizeof(q)),
				    archive_error_string(in));
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			r = err_set(reterr, -EIO, "computing sha256");
			goto out;
		}
		if ((r = write_all(fd, buf, (size_t)n)) < 0) {
			r = err_set(reterr, r, "writing %s: %m", str_quote(path, 64, q, sizeof(q)));
			goto out;
		}
		size += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32) {
		r = err_set(reterr, -EIO, "computing sha256");
		goto out;
	}
	hex_encode(md, md_len, ret_hex);
	*ret_size = size;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Whether path is one of the documents read into memory rather than stored as a blob. */
static char **entry_document(struct archive_files *f, const char *path, size_t **ret_len)
{
	if (strcmp(path, "index.json") == 0) {
		*ret_len = &f->index_len;
		return &f->index_json;
	}
	if (strcmp(path, "manifest.json") == 0) {
		*ret_len = &f->manifest_len;
		return &f->manifest_json;
	}
	return NULL;
}

/* Reads a capped JSON document of the archive into memory. */
static int entry_read_document(struct archive *in, struct archive_entry *e, const char *path, char **ret,
			       size_t *ret_len, char **reterr)
{
	_cleanup_free_ char *buf = NULL;
	int64_t size = archive_entry_size(e);
	size_t got = 0;

	if (*ret)
		return err_set(reterr, -EINVAL, "the archive holds %s twice", path);
	if (size < 0 || size > ARCHIVE_JSON_MAX)
		return err_set(reterr, -EFBIG, "%s in the archive is larger than %d bytes", path, ARCHIVE_JSON_MAX);
	buf = malloc((size_t)size + 1);
	if (!buf)
		return err_set(reterr, -ENOMEM, "out of memory");
	while (got < (size_t)size) {
		la_ssize_t n = archive_read_data(in, buf + got, (size_t)size - got);
		if (n < 0)
			return err_set(reterr, -EIO, "reading %s from the archive: %s", path, archive_error_string(in));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = got;
	return 0;
}

/* Adds a file to the table; a path seen twice is refused (which one would count?). */
static int files_add(struct archive_files *f, char *path, char *link, const char *hex, int64_t size, char **reterr)
{
	_cleanup_free_ char *p = path, *l = link;
	char q[300];

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].path, p) == 0)
			return err_set(reterr, -EINVAL, "the archive holds %s twice", str_quote(p, 64, q, sizeof(q)));
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct archive_file *v = reallocarray(f->v, cap, sizeof(*v));
		if (!v)
			return err_set(reterr, -ENOMEM, "out of memory");
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n] = (struct archive_file){ .path = TAKE_PTR(p), .link = TAKE_PTR(l), .size = size };
	if (hex)
		memcpy(f->v[f->n].hex, hex, 65);
	f->n++;
	return 0;
}

/* Handles one regular file: a document, or a blob (checked against its name under blobs/). */
static int entry_regular(struct archive *in, struct archive_entry *e, struct archive_files *f, char *path,
			 char **reterr)
{
	_cleanup_free_ char *p = path;
	char hex[65], q[300];
	struct statvfs vfs;
	int64_t size = 0;
	size_t *len;
	char **doc = entry_document(f, p, &len);
	int r;

	if (doc)
		return entry_read_document(in, e, p, doc, len, reterr);
	/* A huge entry is refused before it fills the disk (a compressed archive can claim much
	 * more than it is); what it really holds is counted while it streams. */
	if (fstatvfs(f->dir_fd, &vfs) == 0 && archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
	    (uint64_t)archive_entry_size(e) > (uint64_t)vfs.f_bavail * vfs.f_frsize)
		return err_set(reterr, -EFBIG, "archive entry %s is %lld bytes, more than the free space of the store",
			       str_quote(p, 64, q, sizeof(q)), (long long)archive_entry_size(e));
	r = entry_to_blob(in, f->dir_fd, p, hex, &size, reterr);
	if (r < 0)
		return r;
	if (str_startswith(p, "blobs/")) {
		const char *name = p + strlen("blobs/sha256/");
		if (!str_startswith(p, "blobs/sha256/") || strlen(name) != 64 || strspn(name, "0123456789abcdef") != 64)
			return err_set(reterr, -EINVAL,
				       "archive entry %s: only blobs/sha256/<64 hex digits> may be under blobs/",
				       str_quote(p, 64, q, sizeof(q)));
		if (strcmp(name, hex) != 0)
			return err_set(reterr, -EBADMSG,
				       "blob sha256:%.64s: digest mismatch (its content hashes to sha256:%s)", name,
				       hex);
	}
	r = blob_commit(f->dir_fd, hex, reterr);
	if (r < 0)
		return r;
	return files_add(f, TAKE_PTR(p), NULL, hex, size, reterr);
}

/* Reads every entry of the archive into the table. */
static int read_entries(struct archive *in, struct archive_files *f, char **reterr)
{
	struct archive_entry *e;
	size_t n = 0;
	char q[300];
	int r;

	for (;;) {
		_cleanup_free_ char *path = NULL, *link = NULL;
		const char *raw;

		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN && n == 0)
			return err_set(reterr, -EINVAL, "not a tar archive (%s)", archive_error_string(in));
		if (r < ARCHIVE_WARN)
			return err_set(reterr, -EINVAL, "reading the archive after %zu entries: %s", n,
				       archive_error_string(in));
		if (++n > ARCHIVE_MAX_ENTRIES)
			return err_set(reterr, -E2BIG, "the archive has more than %d entries", ARCHIVE_MAX_ENTRIES);
		raw = archive_entry_pathname(e);
		if (!raw)
			return err_set(reterr, -EINVAL, "an archive entry has no name");
		if (archive_entry_hardlink(e))
			return err_set(reterr, -EINVAL,
				       "archive entry %s: hard links are not allowed in an image archive",
				       str_quote(raw, 64, q, sizeof(q)));
		switch (archive_entry_filetype(e)) {
		case AE_IFDIR:
			/* Directories are implied by their files' paths; the root ("./") too. */
			continue;
		case AE_IFLNK:
			if ((r = archive_path_normalize(raw, NULL, &path, reterr)) < 0 ||
			    (r = archive_path_normalize(archive_entry_symlink(e) ? archive_entry_symlink(e) : "", path,
							&link, reterr)) < 0)
				return r;
			r = files_add(f, TAKE_PTR(path), TAKE_PTR(link), NULL, 0, reterr);
			break;
		case AE_IFREG:
			if ((r = archive_path_normalize(raw, NULL, &path, reterr)) < 0)
				return r;
			r = entry_regular(in, e, f, TAKE_PTR(path), reterr);
			break;
		default:
			return err_set(
			    reterr, -EINVAL,
			    "archive entry %s: only files, directories and symlinks may be in an image archive",
			    str_quote(raw, 64, q, sizeof(q)));
		}
		if (r < 0)
			return r;
	}
	if (n == 0)
		return err_set(reterr, -EINVAL, "not a tar archive (no entries)");
	return 0;
}

/* Enters the directory for good: network namespace, chroot, no capabilities. */
static int read_confine(char **reterr)
{
	if (unshare(CLONE_NEWNET) < 0)
		return err_set(reterr, -errno, "unshare(CLONE_NEWNET): %m");
	if (chroot(".") < 0 || chdir("/") < 0)
		return err_set(reterr, -errno, "chroot into the load directory: %m");
	return worker_drop_privileges(0, reterr);
}

/* Everything the worker does once its fds are in place. */
static int read_run(char **reterr)
{
	static struct source src = { .fd = READ_IN_FD };
	_cleanup_(archive_files_done) struct archive_files f = { .dir_fd = -1 };
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	json_auto_t *result = NULL;
	struct archive *in;
	int r;

	/* libarchive's decompressors and OpenSSL's configuration load before the chroot. */
	in = archive_read_new();
	if (!in || archive_read_support_filter_all(in) < ARCHIVE_WARN ||
	    archive_read_support_format_tar(in) != ARCHIVE_OK)
		return err_set(reterr, -EIO, "setting up libarchive");
	if (archive_sha256_hex("", 0, (char[65]){ 0 }) < 0)
		return err_set(reterr, -EIO, "initializing sha256");
	umask(022);
	r = read_confine(reterr);
	if (r < 0)
		return r;
	f.dir_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f.dir_fd < 0)
		return err_set(reterr, -errno, "opening the load directory: %m");
	if (mkdirat(f.dir_fd, ARCHIVE_READ_BLOBS, 0755) < 0)
		return err_set(reterr, -errno, "creating blobs/: %m");
	if (archive_read_open(in, &src, NULL, source_read, NULL) != ARCHIVE_OK)
		return err_set(reterr, -EINVAL, "not a tar archive (%s)", archive_error_string(in));
	r = read_entries(in, &f, reterr);
	archive_read_free(in);
	if (r < 0)
		return r;
	r = archive_resolve(&f, &result, reterr);
	if (r < 0)
		return r;
	text = json_dumps(result, JSON_COMPACT);
	if (!text)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (strlen(text) > ARCHIVE_READ_RESULT_MAX)
		return err_set(reterr, -E2BIG, "the archive names too many images");
	fd = openat(f.dir_fd, ARCHIVE_READ_RESULT, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || (r = write_all(fd, text, strlen(text))) < 0)
		return err_set(reterr, fd < 0 ? -errno : r, "writing the result: %m");
	/* The blobs must be on disk before the store's (fsync'ed) records name them. */
	if (syncfs(f.dir_fd) < 0)
		return err_set(reterr, -errno, "syncing the blobs: %m");
	return 0;
}

_Noreturn void archive_read_main(int in_fd, int status_fd, int dir_fd, pid_t parent)
{
	struct archive_read_status st = { 0 };
	char *err = NULL;
	int r, i, s;

	worker_child_setup(parent);
	if (fchdir(dir_fd) < 0)
		_exit(EXIT_FAILURE);
	/* Everything above the range first, so that neither lands on the other's number. */
	i = fcntl(in_fd, F_DUPFD_CLOEXEC, 10);
	s = fcntl(status_fd, F_DUPFD_CLOEXEC, 10);
	if (i < 0 || s < 0 || dup3(i, READ_IN_FD, O_CLOEXEC) < 0 || dup3(s, READ_STATUS_FD, O_CLOEXEC) < 0 ||
	    close_range(READ_STATUS_FD + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0)
		_exit(EXIT_FAILURE);

	r = read_run(&err);
	st.r = r < 0 ? r : 0;
	if (r < 0)
		snprintf(st.msg, sizeof(st.msg), "%s", err ? err : strerror(-r));
	if (write_all(READ_STATUS_FD, &st, sizeof(st)) < 0)
		_exit(EXIT_FAILURE);
	_exit(EXIT_SUCCESS);
}
