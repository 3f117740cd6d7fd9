/* Unpacking workers: see image-unpack.h. A worker extracts into tmp/unpack-<random>/; once it has
 * exited the loop checks its result, marks the opaque directories it listed and renames the tree
 * to layers/<diff_id>, so a layer appears complete or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <event2/event.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"
#include "daemon/image-store-internal.h"
#include "daemon/image-unpack.h"
#include "daemon/worker.h"
#include "image/blobs.h"
#include "image/unpack.h"

_Static_assert(HEX_LEN == IMAGE_UNPACK_HEX_LEN, "the worker reports sha256 digests in hex");

#define OPAQUE_LIST_MAX (IMAGE_UNPACK_OPAQUE_MAX * 64)

struct unpack {
	struct unpack *next;
	struct image_store *store;
	struct pidref proc; /* the worker, until reaped */
	int result_fd;	    /* read end of the result pipe */
	int opaque_fd;	    /* the worker's list of opaque directories (a memfd) */
	struct event *ev;
	char *tmpdir;	/* tmp/unpack-<random>: the worker's extraction (and chroot) directory */
	char *blob_tmp; /* tmp/unpack-<random>.blob: the tarball's copy, or NULL */
	char *want_digest, *want_diff_id;
	image_unpack_done_fn done;
	void *userdata;
};

const char *image_unpack_media_type(int compression)
{
	switch (compression) {
	case ARCHIVE_FILTER_NONE:
		return "application/vnd.oci.image.layer.v1.tar";
	case ARCHIVE_FILTER_GZIP:
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	case ARCHIVE_FILTER_ZSTD:
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	default:
		return NULL;
	}
}

/* Frees an unpack; a worker still running is killed and reaped, and its files removed. */
static void image_unpack_free(struct unpack *u)
{
	int r;

	if (!u)
		return;
	if (u->ev)
		event_free(u->ev);
	/* Killed, it dies at once: extraction holds nothing that could keep it. */
	if (pidref_is_set(&u->proc) && (r = pidref_kill_and_wait(&u->proc)) < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: killing unpack worker %d: %m", (int)u->proc.pid);
	safe_close(u->result_fd);
	safe_close(u->opaque_fd);
	if (u->tmpdir)
		image_remove_tree(u->store, u->tmpdir);
	if (u->blob_tmp && unlink(u->blob_tmp) < 0 && errno != ENOENT)
		log_errno(LOG_LEVEL_WARNING, -errno, "image store: removing %s: %m", u->blob_tmp);
	free(u->tmpdir);
	free(u->blob_tmp);
	free(u->want_digest);
	free(u->want_diff_id);
	free(u);
}

static void image_unpack_freep(struct unpack **u)
{
	image_unpack_free(*u);
}

void image_unpack_free_all(struct image_store *s)
{
	while (s->unpacks) {
		struct unpack *u = s->unpacks;
		s->unpacks = u->next;
		image_unpack_free(u);
	}
}

void image_unpack_cancel(struct image_store *s, void *userdata)
{
	for (struct unpack *u = s->unpacks; u; u = u->next)
		if (u->userdata == userdata)
			u->done = NULL;
}

/* Reads and validates the worker's result after it exited. */
static int image_unpack_read_result(struct unpack *u, const siginfo_t *si, struct image_unpack_result *res,
				    char **reterr)
{
	ssize_t n;

	if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
		return err_set(reterr, -EIO, "unpack worker was killed by signal %d", si->si_status);
	if (si->si_code != CLD_EXITED || si->si_status != 0)
		return err_set(reterr, -EIO, "unpack worker failed (exit status %d)", si->si_status);
	do
		n = read(u->result_fd, res, sizeof(*res));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*res))
		return err_set(reterr, -EIO, "unpack worker exited without a result");
	res->msg[sizeof(res->msg) - 1] = '\0';
	res->digest[HEX_LEN] = '\0';
	res->diff_id[HEX_LEN] = '\0';
	if (res->r < 0) {
		int r = res->r >= -4095 ? res->r : -EIO;
		return err_set(reterr, r, "%s", res->msg[0] ? res->msg : "unpacking failed");
	}
	if (!image_digest_is_hex(res->digest, HEX_LEN, HEX_LEN) ||
	    !image_digest_is_hex(res->diff_id, HEX_LEN, HEX_LEN) || res->size > INT64_MAX)
		return err_set(reterr, -EIO, "unpack worker sent a malformed result");
	return 0;
}

/*
 * Marks the directories the worker listed as opaque: trusted.overlay.opaque for the daemon's own
 * overlay mounts, user.overlay.opaque for the "userxattr" mounts of --userns-remap.
 *
 * Security: the list is untrusted (the worker parsed hostile data) and so is the tree. The worker
 * has exited and the tree is under tmp/ (mode 0700), so nothing changes it meanwhile; each path
 * is opened one component at a time from the layer's root with O_NOFOLLOW | O_DIRECTORY and ".."
 * refused (image_unpack_open_dir), so the xattr can only land on a real directory inside the
 * layer. The list's size is bounded.
 */
static int image_unpack_mark_opaque(struct unpack *u, char **reterr)
{
	_cleanup_free_ char *list = NULL;
	_cleanup_close_ int root_fd = -1;
	struct stat st;
	ssize_t n;

	if (fstat(u->opaque_fd, &st) < 0)
		return err_set(reterr, -errno, "reading the opaque directories: %m");
	if (st.st_size == 0)
		return 0;
	if (st.st_size > OPAQUE_LIST_MAX)
		return err_set(reterr, -E2BIG, "the layer marks too many opaque directories");
	list = malloc((size_t)st.st_size + 1);
	if (!list)
		return -ENOMEM;
	n = pread(u->opaque_fd, list, (size_t)st.st_size, 0);
	if (n != st.st_size)
		return err_set(reterr, -EIO, "reading the opaque directories: %m");
	list[n] = '\0';
	root_fd = open(u->tmpdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root_fd < 0)
		return err_set(reterr, -errno, "opening %s: %m", u->tmpdir);
	for (char *p = list; p < list + n; p += strlen(p) + 1) {
		_cleanup_close_ int fd = image_unpack_open_dir(root_fd, p, false);
		if (fd < 0)
			return err_set(reterr, fd, "opaque directory \"%.200s\": %m", p);
		if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return err_set(reterr, -errno, "marking \"%.200s\" opaque: %m", p);
		/* Filesystems without user xattrs (tmpfs before 6.6) only lose the userns case. */
		if (fsetxattr(fd, "user.overlay.opaque", "y", 1, 0) < 0 && errno != EOPNOTSUPP)
			return err_set(reterr, -errno, "marking \"%.200s\" opaque: %m", p);
	}
	return 0;
}

/* Moves the checked layer into layers/ (an existing one is the same content, and stays) and the
 * blob copy into blobs/. */
static int image_unpack_commit(struct unpack *u, const struct image_unpack_result *res, struct image_unpack_info *info,
			       char **reterr)
{
	struct image_store *s = u->store;
	_cleanup_free_ char *layer_dir = NULL;
	struct stat st;
	int r;

	snprintf(info->digest, sizeof(info->digest), DIGEST_PREFIX "%s", res->digest);
	snprintf(info->diff_id, sizeof(info->diff_id), DIGEST_PREFIX "%s", res->diff_id);
	info->size = res->size;
	info->media_type = image_unpack_media_type(res->compression);
	if (u->want_digest && strcmp(u->want_digest, info->digest) != 0)
		return err_set(reterr, -EBADMSG, "layer %s: its content has digest %s", u->want_digest, info->digest);
	if (u->want_diff_id && strcmp(u->want_diff_id, info->diff_id) != 0)
		return err_set(reterr, -EBADMSG,
			       "layer %s: its uncompressed content has digest %s, not the config's diff_id %s",
			       u->want_digest ? u->want_digest : info->digest, info->diff_id, u->want_diff_id);
	r = image_unpack_mark_opaque(u, reterr);
	if (r < 0)
		return r;
	if (u->blob_tmp) {
		if (stat(u->blob_tmp, &st) < 0)
			return err_set(reterr, -errno, "the layer's blob: %m");
		info->blob_size = (uint64_t)st.st_size;
		r = image_blob_commit(&s->db, u->blob_tmp, info->digest, reterr);
		if (r < 0)
			return r;
		free(TAKE_PTR(u->blob_tmp));
	}
	r = image_db_layer_dir(&s->db, info->diff_id, &layer_dir);
	if (r < 0)
		return r;
	/* Only this single-threaded loop creates layer directories, and the same diff_id is the
	 * same content: an existing one is kept and this copy goes. */
	if (renameat2(AT_FDCWD, u->tmpdir, AT_FDCWD, layer_dir, RENAME_NOREPLACE) < 0) {
		if (errno != EEXIST)
			return err_set(reterr, -errno, "moving the layer into %s: %m", layer_dir);
		return 0; /* the tmpdir goes with the unpack */
	}
	free(TAKE_PTR(u->tmpdir));
	return 0;
}

/* The worker's pidfd became readable: it exited. Reap it, commit, and tell the requester. */
static void image_unpack_on_exit(evutil_socket_t fd, short what, void *userdata)
{
	_cleanup_(image_unpack_freep) struct unpack *u = userdata;
	struct image_store *s = u->store;
	_cleanup_free_ char *err = NULL;
	struct image_unpack_result res = { 0 };
	struct image_unpack_info info = { .size = 0 };
	image_unpack_done_fn done;
	siginfo_t si = { 0 };
	void *done_userdata;
	int r;

	r = pidref_try_wait(&u->proc, &si);
	if (r == 0) {
		u = NULL; /* a spurious wakeup: it still runs, and stays listed */
		return;
	}
	for (struct unpack **p = &s->unpacks; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	if (r < 0) {
		r = err_set(&err, r, "waiting for the unpack worker: %m");
	} else {
		pidref_done(&u->proc);
		r = image_unpack_read_result(u, &si, &res, &err);
		if (r >= 0)
			r = image_unpack_commit(u, &res, &info, &err);
	}
	if (r < 0 && !err)
		err_set(&err, r, "unpacking failed: %m");
	done = u->done;
	done_userdata = u->userdata;
	/* Free the unpack (and remove what is left of its files) before the callback. */
	image_unpack_free(TAKE_PTR(u));
	if (done)
		done(s, r, r < 0 ? NULL : &info, r < 0 ? (err ? err : "unpacking failed") : NULL, done_userdata);
}

/* What the worker's child runs (daemon/worker.c): the fds it works on. */
struct unpack_run_args {
	int tar_fd, dir_fd, opaque_fd, blob_fd;
};

static void unpack_run(void *arg, int report_fd, pid_t parent)
{
	const struct unpack_run_args *a = arg;

	image_unpack_main(a->tar_fd, report_fd, a->dir_fd, a->opaque_fd, a->blob_fd, parent);
}

int image_unpack_start(struct image_store *s, int tar_fd, bool keep_blob, const char *want_digest,
		       const char *want_diff_id, image_unpack_done_fn done, void *userdata, char **reterr)
{
	_cleanup_close_ int fd = tar_fd, dir_fd = -1, blob_fd = -1;
	_cleanup_(image_unpack_freep) struct unpack *u = NULL;
	char rnd[33];
	int r;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->proc = PIDREF_NULL;
	u->result_fd = u->opaque_fd = -1;
	u->store = s;
	if ((want_digest && !(u->want_digest = strdup(want_digest))) ||
	    (want_diff_id && !(u->want_diff_id = strdup(want_diff_id))))
		return -ENOMEM;
	r = random_hex(rnd, 16);
	if (r < 0)
		return err_set(reterr, r, "getrandom: %m");
	if (asprintf(&u->tmpdir, "%s/unpack-%s", s->db.tmp_dir, rnd) < 0) {
		u->tmpdir = NULL;
		return -ENOMEM;
	}
	if (mkdir(u->tmpdir, 0755) < 0) {
		r = -errno;
		free(TAKE_PTR(u->tmpdir));
		return err_set(reterr, r, "creating a directory for the layer: %m");
	}
	dir_fd = open(u->tmpdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0)
		return err_set(reterr, -errno, "opening %s: %m", u->tmpdir);
	/* The layer root's mode when the tarball has no "./" entry (mkdir applied the umask). */
	if (fchmod(dir_fd, 0755) < 0)
		return err_set(reterr, -errno, "chmod %s: %m", u->tmpdir);
	u->opaque_fd = memfd_create("containd-opaque", MFD_CLOEXEC);
	if (u->opaque_fd < 0)
		return err_set(reterr, -errno, "memfd_create: %m");
	if (keep_blob) {
		if (asprintf(&u->blob_tmp, "%s/unpack-%s.blob", s->db.tmp_dir, rnd) < 0) {
			u->blob_tmp = NULL;
			return -ENOMEM;
		}
		blob_fd = open(u->blob_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (blob_fd < 0) {
			r = -errno;
			free(TAKE_PTR(u->blob_tmp));
			return err_set(reterr, r, "creating a blob in %s: %m", s->db.tmp_dir);
		}
	}
	struct unpack_run_args a = {
		.tar_fd = fd, .dir_fd = dir_fd, .opaque_fd = u->opaque_fd, .blob_fd = blob_fd
	};
	if ((r = worker_spawn("unpack", unpack_run, &a, true, &u->proc, &u->result_fd, reterr)) < 0)
		return r;
	/* Only the pidfd is watched: the worker writes its result (less than PIPE_BUF) before it
	 * exits, so once it has exited the pipe holds all there is to read. */
	u->ev = event_new(s->base, u->proc.pidfd, EV_READ | EV_PERSIST, image_unpack_on_exit, u);
	if (!u->ev || event_add(u->ev, NULL) < 0)
		return err_set(reterr, -ENOMEM, "watching the unpack worker failed");
	u->done = done;
	u->userdata = userdata;
	u->next = s->unpacks;
	s->unpacks = TAKE_PTR(u);
	s->n_unpacks_started++;
	return 0;
}
