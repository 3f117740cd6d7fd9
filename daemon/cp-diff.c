/* The copy worker's diff: a container's changes as docker's `diff` lists them, from its overlay
 * upper dir against the image layers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/cp-worker-internal.h"

#define DIFF_MAX_DEPTH 512

struct change {
	char *path;
	char kind;
	bool implied; /* a parent recorded because a child was added or deleted */
};

struct diff {
	const int *layers;
	size_t n_layers;
	struct change *changes;
	size_t n, bytes;
};

static int diff_add(struct diff *d, const char *path, char kind, bool implied, char **reterr)
{
	struct change *nc;

	d->bytes += strlen(path) + 2;
	if (d->bytes > CP_DIFF_MAX_BYTES)
		return err_set(reterr, -E2BIG, "too many changes to list");
	nc = reallocarray(d->changes, d->n + 1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	d->changes = nc;
	if (!(nc[d->n].path = strdup(path)))
		return -ENOMEM;
	nc[d->n].kind = kind;
	nc[d->n].implied = implied;
	d->n++;
	return 0;
}

/* stat of path (absolute, in the container) in one layer, without following any symlink: a
 * path whose parents are not plain directories there does not exist in that layer. */
static bool diff_in_layer(int layer, const char *path, struct stat *st)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *parent = strndup(path + 1, slash > path ? (size_t)(slash - path - 1) : 0);
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	_cleanup_close_ int pfd = -1;

	if (!parent)
		return false;
	pfd = (int)syscall(SYS_openat2, layer, *parent ? parent : ".", &how, sizeof(how));
	return pfd >= 0 && fstatat(pfd, slash + 1, st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Whether the directory fd is an overlay opaque directory (its lower contents hidden). */
static bool diff_opaque(int fd)
{
	char v[2];
	ssize_t n = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

static int diff_walk(struct diff *d, int dir_fd, const char *dir_path, unsigned depth, char **reterr);

/* One entry of the upper dir, as moby's overlay changes() judges it. */
static int diff_entry(struct diff *d, int dir_fd, const char *name, const char *path, unsigned depth, char **reterr)
{
	_cleanup_close_ int fd = -1;
	struct stat st, lst;
	char kind = 'A';
	bool record = true;
	int r;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_set(reterr, -errno, "%s: %m", path);
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		kind = 'D'; /* a whiteout */
	if (S_ISDIR(st.st_mode)) {
		fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : err_set(reterr, -errno, "%s: %m", path);
	}
	if (kind == 'A' && fd >= 0 && diff_opaque(fd)) {
		/* Deleted and made again: a delete when a layer had it, else a plain add. */
		for (size_t i = 0; i < d->n_layers && kind == 'A'; i++)
			if (diff_in_layer(d->layers[i], path, &lst))
				kind = 'D';
	} else if (kind == 'A') {
		for (size_t i = 0; i < d->n_layers; i++) {
			if (!diff_in_layer(d->layers[i], path, &lst))
				continue;
			/* A directory only copied up (same size, mode and mtime) is no change. */
			if (S_ISDIR(st.st_mode) && S_ISDIR(lst.st_mode) && st.st_size == lst.st_size &&
			    st.st_mode == lst.st_mode && st.st_mtim.tv_sec == lst.st_mtim.tv_sec &&
			    st.st_mtim.tv_nsec == lst.st_mtim.tv_nsec)
				record = false;
			kind = 'C';
			break;
		}
	}
	if (record && (r = diff_add(d, path, kind, false, reterr)) < 0)
		return r;
	if (record && (kind == 'A' || kind == 'D')) {
		const char *slash = strrchr(path, '/');
		if (slash > path) {
			_cleanup_free_ char *parent = strndup(path, (size_t)(slash - path));
			if (!parent)
				return -ENOMEM;
			if ((r = diff_add(d, parent, 'C', true, reterr)) < 0)
				return r;
		}
	}
	if (fd >= 0 && depth < DIFF_MAX_DEPTH)
		return diff_walk(d, fd, path, depth + 1, reterr);
	return 0;
}

static int diff_walk(struct diff *d, int dir_fd, const char *dir_path, unsigned depth, char **reterr)
{
	int r = 0;
	DIR *dir = opendir_dup(dir_fd);

	if (!dir)
		return err_set(reterr, -errno, "%s: %m", dir_path);
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (!de) {
			if (errno)
				r = err_set(reterr, -errno, "reading %s: %m", dir_path);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s", strcmp(dir_path, "/") == 0 ? "" : dir_path, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if ((r = diff_entry(d, dirfd(dir), de->d_name, path, depth, reterr)) < 0)
			break;
	}
	closedir(dir);
	return r;
}

/* Walk order: by path with "/" below every other byte, so a directory's entries follow it
 * (as docker's walk lists them); for one path, what was found before what was implied. */
static int diff_compare(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->path, *q = (const unsigned char *)y->path;

	for (; *p && *p == *q; p++, q++)
		;
	if (*p != *q) {
		int cp = *p == '/' ? 1 : *p ? *p + 1 : 0, cq = *q == '/' ? 1 : *q ? *q + 1 : 0;
		return cp - cq;
	}
	return (int)x->implied - (int)y->implied;
}

int cp_diff(int upper_fd, const int *layer_fds, size_t n_layers, int out_fd, char **reterr)
{
	struct diff d = { .layers = layer_fds, .n_layers = n_layers };
	int r = diff_walk(&d, upper_fd, "/", 0, reterr);

	if (r >= 0 && d.n > 0) {
		qsort(d.changes, d.n, sizeof(*d.changes), diff_compare);
		for (size_t i = 0; i < d.n && r >= 0; i++) {
			if (i > 0 && strcmp(d.changes[i].path, d.changes[i - 1].path) == 0)
				continue;
			char kind[1] = { d.changes[i].kind };
			if ((r = cp_write_full(out_fd, kind, 1)) >= 0)
				r = cp_write_full(out_fd, d.changes[i].path, strlen(d.changes[i].path) + 1);
			if (r < 0)
				err_set(reterr, r, "writing the changes: %m");
		}
	}
	for (size_t i = 0; i < d.n; i++)
		free(d.changes[i].path);
	free(d.changes);
	return r;
}
