/* See cp-archive.h. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "client/cp-archive.h"
#include "common/error.h"
#include "common/macros.h"

/* The libarchive functions cctl calls, resolved at run time. */
#define LA_FUNCS(X)                                                                                            \
	X(struct archive *, archive_read_new, (void))                                                          \
	X(int, archive_read_support_format_tar, (struct archive *))                                            \
	X(int, archive_read_open_fd, (struct archive *, int, size_t))                                          \
	X(int, archive_read_next_header, (struct archive *, struct archive_entry **))                          \
	X(int, archive_read_data_block, (struct archive *, const void **, size_t *, la_int64_t *))             \
	X(int, archive_read_free, (struct archive *))                                                          \
	X(struct archive *, archive_read_disk_new, (void))                                                     \
	X(int, archive_read_disk_set_symlink_physical, (struct archive *))                                     \
	X(int, archive_read_disk_set_symlink_hybrid, (struct archive *))                                       \
	X(int, archive_read_disk_open, (struct archive *, const char *))                                       \
	X(int, archive_read_next_header2, (struct archive *, struct archive_entry *))                          \
	X(int, archive_read_disk_descend, (struct archive *))                                                  \
	X(la_ssize_t, archive_read_data, (struct archive *, void *, size_t))                                   \
	X(struct archive *, archive_write_new, (void))                                                         \
	X(int, archive_write_set_format_pax_restricted, (struct archive *))                                    \
	X(int, archive_write_set_bytes_in_last_block, (struct archive *, int))                                 \
	X(int, archive_write_open_fd, (struct archive *, int))                                                 \
	X(int, archive_write_header, (struct archive *, struct archive_entry *))                               \
	X(la_ssize_t, archive_write_data, (struct archive *, const void *, size_t))                            \
	X(la_ssize_t, archive_write_data_block, (struct archive *, const void *, size_t, la_int64_t))          \
	X(int, archive_write_finish_entry, (struct archive *))                                                 \
	X(int, archive_write_close, (struct archive *))                                                        \
	X(int, archive_write_free, (struct archive *))                                                         \
	X(struct archive *, archive_write_disk_new, (void))                                                    \
	X(int, archive_write_disk_set_options, (struct archive *, int))                                        \
	X(const char *, archive_error_string, (struct archive *))                                              \
	X(struct archive_entry *, archive_entry_new, (void))                                                   \
	X(void, archive_entry_free, (struct archive_entry *))                                                  \
	X(struct archive_entry *, archive_entry_clear, (struct archive_entry *))                               \
	X(const char *, archive_entry_pathname, (struct archive_entry *))                                      \
	X(void, archive_entry_copy_pathname, (struct archive_entry *, const char *))                           \
	X(const char *, archive_entry_hardlink, (struct archive_entry *))                                      \
	X(void, archive_entry_copy_hardlink, (struct archive_entry *, const char *))                           \
	X(const char *, archive_entry_sourcepath, (struct archive_entry *))                                    \
	X(__LA_MODE_T, archive_entry_filetype, (struct archive_entry *))                                       \
	X(la_int64_t, archive_entry_size, (struct archive_entry *))                                            \
	X(struct archive_entry_linkresolver *, archive_entry_linkresolver_new, (void))                         \
	X(void, archive_entry_linkresolver_set_strategy, (struct archive_entry_linkresolver *, int))           \
	X(void, archive_entry_linkify,                                                                         \
	  (struct archive_entry_linkresolver *, struct archive_entry **, struct archive_entry **))             \
	X(void, archive_entry_linkresolver_free, (struct archive_entry_linkresolver *))

#define LA_MEMBER(ret, name, args) ret(*name) args;
static struct {
	LA_FUNCS(LA_MEMBER)
} la;
static bool la_loaded;

/* Loads libarchive (once). */
static int la_load(char **reterr)
{
	void *h;

	if (la_loaded)
		return 0;
	h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return err_set(reterr, -ENOENT, "cannot load libarchive (needed to copy files): %s", dlerror());
#define LA_LOAD(ret, name, args)                                                                               \
	if (!(*(void **)&la.name = dlsym(h, #name)))                                                          \
		return err_set(reterr, -ENOENT, "libarchive lacks %s", #name);
	LA_FUNCS(LA_LOAD)
#undef LA_LOAD
	la_loaded = true;
	return 0;
}

/* The name in the stream of a local path below src: src itself is top. */
static char *cp_archive_rename(const char *path, const char *src, const char *top)
{
	size_t n = strlen(src);
	const char *rest = path + n;
	char *out = NULL;

	if (strncmp(path, src, n) != 0)
		return NULL;
	if (n > 0 && src[n - 1] == '/' && *rest)
		rest--; /* src "/" : "/etc" is top + "/etc" */
	if (asprintf(&out, "%s%s", top, rest) < 0)
		return NULL;
	return out;
}

/* Copies the data of the regular file the entry came from. */
static int cp_archive_copy_file(struct archive *out, struct archive_entry *e, char **reterr)
{
	const char *path = la.archive_entry_sourcepath(e);
	_cleanup_close_ int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC) : -1;
	la_int64_t left = la.archive_entry_size(e);
	char buf[64 * 1024];

	if (fd < 0)
		return err_set(reterr, -errno, "cannot open %s: %m", path ? path : "?");
	while (left > 0) {
		ssize_t n = read(fd, buf, left < (la_int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(reterr, -errno, "reading %s: %m", path);
		if (n == 0) { /* it shrank: the header promised more */
			memset(buf, 0, sizeof(buf));
			n = left < (la_int64_t)sizeof(buf) ? (ssize_t)left : (ssize_t)sizeof(buf);
		}
		if (la.archive_write_data(out, buf, (size_t)n) < 0)
			return err_set(reterr, -EPIPE, "writing the tar stream: %s", la.archive_error_string(out));
		left -= n;
	}
	return 0;
}

int cp_archive_write(const char *src, bool follow, const char *top, int fd, char **reterr)
{
	struct archive *disk = NULL, *out = NULL;
	struct archive_entry_linkresolver *links = NULL;
	struct archive_entry *e = NULL;
	bool children_only = strcmp(top, ".") == 0;
	int r;

	if ((r = la_load(reterr)) < 0)
		return r;
	disk = la.archive_read_disk_new();
	out = la.archive_write_new();
	links = la.archive_entry_linkresolver_new();
	e = la.archive_entry_new();
	if (!disk || !out || !links || !e) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	la.archive_entry_linkresolver_set_strategy(links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	if ((follow ? la.archive_read_disk_set_symlink_hybrid(disk) : la.archive_read_disk_set_symlink_physical(disk)) !=
		    ARCHIVE_OK ||
	    la.archive_write_set_format_pax_restricted(out) != ARCHIVE_OK ||
	    la.archive_write_set_bytes_in_last_block(out, 1) != ARCHIVE_OK || la.archive_write_open_fd(out, fd) != ARCHIVE_OK) {
		r = err_set(reterr, -EIO, "setting up the tar stream: %s", la.archive_error_string(out));
		goto out;
	}
	if (la.archive_read_disk_open(disk, src) != ARCHIVE_OK) {
		r = err_set(reterr, -ENOENT, "%s", la.archive_error_string(disk));
		goto out;
	}
	for (bool first = true;; first = false) {
		la.archive_entry_clear(e);
		r = la.archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			r = err_set(reterr, -EIO, "%s", la.archive_error_string(disk));
			goto out;
		}
		(void)la.archive_read_disk_descend(disk);
		if (first && children_only)
			continue;
		_cleanup_free_ char *name = cp_archive_rename(la.archive_entry_pathname(e), src, top);
		if (!name) {
			r = err_set(reterr, -EINVAL, "unexpected path %s", la.archive_entry_pathname(e));
			goto out;
		}
		la.archive_entry_copy_pathname(e, name);
		struct archive_entry *w = e, *spare = NULL;
		la.archive_entry_linkify(links, &w, &spare);
		if (w) {
			if (la.archive_write_header(out, w) < ARCHIVE_WARN) {
				r = err_set(reterr, -EPIPE, "writing the tar stream: %s", la.archive_error_string(out));
				goto out;
			}
			if (la.archive_entry_filetype(w) == AE_IFREG && !la.archive_entry_hardlink(w) &&
			    la.archive_entry_size(w) > 0 && (r = cp_archive_copy_file(out, w, reterr)) < 0)
				goto out;
		}
		if (spare)
			la.archive_entry_free(spare);
	}
	if (la.archive_write_close(out) != ARCHIVE_OK) {
		r = err_set(reterr, -EPIPE, "writing the tar stream: %s", la.archive_error_string(out));
		goto out;
	}
	r = 0;
out:
	if (e)
		la.archive_entry_free(e);
	if (links)
		la.archive_entry_linkresolver_free(links);
	if (out)
		la.archive_write_free(out);
	if (disk)
		la.archive_read_free(disk);
	return r;
}

/* name with its first component replaced by new_top (NULL: removed; "" when nothing is left). */
static char *cp_archive_retop(const char *name, const char *new_top)
{
	const char *rest = name;
	char *out = NULL;

	while (*rest == '/')
		rest++;
	rest += strcspn(rest, "/");
	while (*rest == '/')
		rest++;
	if (!new_top)
		return strdup(rest);
	if (asprintf(&out, "%s%s%s", new_top, *rest ? "/" : "", rest) < 0)
		return NULL;
	return out;
}

int cp_archive_extract(int fd, const char *dir, const char *new_top, bool owners, char **reterr)
{
	static const int base = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
				ARCHIVE_EXTRACT_UNLINK;
	struct archive *in = NULL, *out = NULL;
	struct archive_entry *e;
	int r;

	if ((r = la_load(reterr)) < 0)
		return r;
	if (chdir(dir) < 0)
		return err_set(reterr, -errno, "%s: %m", dir);
	in = la.archive_read_new();
	out = la.archive_write_disk_new();
	if (!in || !out) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	if (la.archive_read_support_format_tar(in) != ARCHIVE_OK ||
	    la.archive_write_disk_set_options(out, base | (owners ? ARCHIVE_EXTRACT_OWNER : 0)) != ARCHIVE_OK ||
	    la.archive_read_open_fd(in, fd, 64 * 1024) != ARCHIVE_OK) {
		r = err_set(reterr, -EIO, "reading the tar stream: %s", la.archive_error_string(in));
		goto out;
	}
	for (;;) {
		r = la.archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			r = err_set(reterr, -EIO, "reading the tar stream: %s", la.archive_error_string(in));
			goto out;
		}
		_cleanup_free_ char *name = cp_archive_retop(la.archive_entry_pathname(e), new_top);
		_cleanup_free_ char *link = la.archive_entry_hardlink(e) ? cp_archive_retop(la.archive_entry_hardlink(e), new_top)
									 : NULL;
		if (!name || (la.archive_entry_hardlink(e) && !link)) {
			r = err_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		if (!*name)
			continue; /* the directory itself, when its contents go into dir */
		la.archive_entry_copy_pathname(e, name);
		if (link)
			la.archive_entry_copy_hardlink(e, link);
		if (la.archive_write_header(out, e) < ARCHIVE_WARN) {
			r = err_set(reterr, -EPERM, "cannot extract %s: %s", name, la.archive_error_string(out));
			goto out;
		}
		for (;;) {
			const void *buf;
			size_t size;
			la_int64_t off;
			r = la.archive_read_data_block(in, &buf, &size, &off);
			if (r == ARCHIVE_EOF)
				break;
			if (r < ARCHIVE_WARN || la.archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN) {
				r = err_set(reterr, -EIO, "extracting %s: %s", name,
					    r < ARCHIVE_WARN ? la.archive_error_string(in) : la.archive_error_string(out));
				goto out;
			}
		}
		if (la.archive_write_finish_entry(out) < ARCHIVE_WARN) {
			r = err_set(reterr, -EIO, "extracting %s: %s", name, la.archive_error_string(out));
			goto out;
		}
	}
	if (la.archive_write_close(out) < ARCHIVE_WARN) {
		r = err_set(reterr, -EIO, "finishing the extraction: %s", la.archive_error_string(out));
		goto out;
	}
	r = 0;
out:
	if (out)
		la.archive_write_free(out);
	if (in)
		la.archive_read_free(in);
	return r;
}
