/* The image store's trash: see image-trash.h.
 *
 * Why a child process: deleting a layer of 150,000 files takes most of a second of unlink()
 * calls, and the daemon has one thread serving every client. The rename into the trash is one
 * syscall; the unlinks happen in a child the loop only watches through its pidfd.
 *
 * At most one remover runs at a time and it empties the whole trash, so removers never race each
 * other over the same tree. A tree put in while it runs may be missed by its directory listing;
 * the "dirty" flag starts another remover when the first one exits.
 *
 * Security: the remover runs as root but only ever deletes entries of the trash directory, which
 * only the daemon writes into (mode 0700 under --root). rm_rf() opens every directory with
 * O_NOFOLLOW, unlinks symlinks rather than following them and does not cross into other
 * filesystems, so a hostile layer (symlinks to /, mount points) cannot steer it outside the
 * tree. The child (daemon/offload.c) closes every inherited channel first: it must not keep a
 * client's socket open (the client would miss its EOF) nor hold the listening socket. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-trash.h"
#include "daemon/offload.h"

struct image_trash {
	struct event_base *base;
	char *dir;
	struct offload *remover; /* the running remover, or NULL */
	bool dirty;              /* something was put in while the remover ran */
};

/* Deletes every entry of the trash directory. Returns the first error, after trying them all. */
static int trash_empty(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		int r;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			return -ENOMEM;
		r = rm_rf(path);
		if (r < 0 && ret == 0)
			ret = r;
	}
	if (errno != 0 && ret == 0)
		ret = -errno;
	return ret;
}

/* The remover, in its child: deleting is never urgent, so it leaves the CPU to containers. */
static int trash_child(void *arg)
{
	struct image_trash *t = arg;
	(void)setpriority(PRIO_PROCESS, 0, 10);
	return trash_empty(t->dir);
}

static int trash_start(struct image_trash *t);

static void trash_done(int r, void *arg)
{
	struct image_trash *t = arg;
	t->remover = NULL;
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: emptying %s failed (%m); retrying at the next start", t->dir);
	if (t->dirty && trash_start(t) < 0)
		log_warning("image store: cannot start a remover for %s; retrying at the next start", t->dir);
}

/* Starts a remover. 0, or -errno when none could be started. */
static int trash_start(struct image_trash *t)
{
	t->dirty = false;
	return offload_run(t->base, "containd-trash", trash_child, t, trash_done, &t->remover, -1);
}

int image_trash_open(struct event_base *base, const char *dir, struct image_trash **ret, char **reterr)
{
	struct image_trash *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->base = base;
	t->dir = strdup(dir);
	if (!t->dir) {
		free(t);
		return -ENOMEM;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = err_set(reterr, -errno, "creating %s: %m", dir);
		image_trash_free(t);
		return r;
	}
	/* What a crash left behind. */
	r = trash_start(t);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: cannot start a remover for %s: %m", dir);
	*ret = t;
	return 0;
}

int image_trash_put(struct image_trash *t, const char *path)
{
	_cleanup_free_ char *dest = NULL;
	char rnd[33];
	int r;

	r = random_hex(rnd, 16);
	if (r >= 0 && asprintf(&dest, "%s/%s", t->dir, rnd) < 0)
		return -ENOMEM;
	if (r < 0 || rename(path, dest) < 0) {
		if (r >= 0 && errno == ENOENT)
			return 0;
		log_warning("image store: cannot move %s into %s, deleting it in place", path, t->dir);
		return rm_rf(path);
	}
	if (t->remover) {
		t->dirty = true;
		return 0;
	}
	r = trash_start(t);
	if (r < 0) {
		log_errno(LOG_LEVEL_WARNING, r, "image store: cannot start a remover, deleting %s in place: %m", dest);
		return rm_rf(dest);
	}
	return 0;
}

void image_trash_free(struct image_trash *t)
{
	if (!t)
		return;
	offload_finish(TAKE_PTR(t->remover));
	if (t->dirty) {
		int r = trash_empty(t->dir);
		if (r < 0)
			log_errno(LOG_LEVEL_WARNING, r, "image store: emptying %s: %m", t->dir);
	}
	free(t->dir);
	free(t);
}
