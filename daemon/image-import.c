/* Imports: a tarball is extracted by a confined worker process (image-worker.c) into tmp/, and
 * when the worker has exited its result is committed on the loop as a layer, an image config
 * and a name, in that order. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"
#include "daemon/image-store-internal.h"
#include "image/unpack.h"

_Static_assert(HEX_LEN == IMAGE_UNPACK_HEX_LEN, "the worker reports sha256 digests in hex");
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct import {
	struct import *next;
	struct image_store *store;
	struct pidref proc; /* the worker, until reaped */
	int result_fd;  /* read end of the result pipe */
	struct event *ev;
	char *tmpdir;   /* tmp/import-<random>: the worker's extraction (and chroot) directory */
	char *name;     /* normalized */
	struct image *config; /* what the image's config says besides its layer, or NULL */
	image_import_done_fn done;
	void *userdata;
};

/* Sets each KEY=VALUE of add in *env, replacing an entry with the same key. */
static int import_merge_env(char ***env, char **add)
{
	for (char **a = add; *a; a++) {
		size_t klen = strcspn(*a, "="), n = 0;
		bool replaced = false;
		for (; (*env)[n]; n++)
			if (strncmp((*env)[n], *a, klen + 1) == 0) {
				char *dup = strdup(*a);
				if (!dup)
					return -ENOMEM;
				free((*env)[n]);
				(*env)[n] = dup;
				replaced = true;
			}
		if (replaced)
			continue;
		char **nv = reallocarray(*env, n + 2, sizeof(char *));
		if (!nv)
			return -ENOMEM;
		*env = nv;
		if (!(nv[n] = strdup(*a)))
			return -ENOMEM;
		nv[n + 1] = NULL;
	}
	return 0;
}

/* Frees an import; a worker still running is killed and reaped, and its directory removed. */
static void image_import_free(struct import *imp)
{
	int r;

	if (!imp)
		return;
	if (imp->ev)
		event_free(imp->ev);
	/* Killed, it dies at once: extraction holds nothing that could keep it. */
	if (pidref_is_set(&imp->proc) && (r = pidref_kill_and_wait(&imp->proc)) < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: killing import worker %d: %m", (int)imp->proc.pid);
	safe_close(imp->result_fd);
	if (imp->tmpdir)
		image_remove_tree(imp->store, imp->tmpdir);
	free(imp->tmpdir);
	free(imp->name);
	image_free(imp->config);
	free(imp);
}

static void image_import_freep(struct import **imp)
{
	image_import_free(*imp);
}

void image_import_free_all(struct image_store *s)
{
	while (s->imports) {
		struct import *imp = s->imports;
		s->imports = imp->next;
		image_import_free(imp);
	}
}

/* Reads and validates the worker's result after it exited. */
static int image_import_read_result(struct import *imp, const siginfo_t *si, struct image_unpack_result *res,
				    char **reterr)
{
	ssize_t n;

	if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
		return err_set(reterr, -EIO, "import worker was killed by signal %d", si->si_status);
	if (si->si_code != CLD_EXITED || si->si_status != 0)
		return err_set(reterr, -EIO, "import worker failed (exit status %d)", si->si_status);
	do
		n = read(imp->result_fd, res, sizeof(*res));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*res))
		return err_set(reterr, -EIO, "import worker exited without a result");
	res->msg[sizeof(res->msg) - 1] = '\0';
	res->digest[HEX_LEN] = '\0';
	if (res->r < 0) {
		int r = res->r >= -4095 ? res->r : -EIO;
		return err_set(reterr, r, "%s", res->msg[0] ? res->msg : "import failed");
	}
	if (!image_digest_is_hex(res->digest, HEX_LEN, HEX_LEN) || res->size > INT64_MAX)
		return err_set(reterr, -EIO, "import worker sent a malformed result");
	return 0;
}

/* Turns a finished extraction into a layer, an image and a name. */
static int image_import_commit(struct import *imp, const struct image_unpack_result *res, json_t **ret_info,
			       char **reterr)
{
	struct image_store *s = imp->store;
	_cleanup_(image_freep) struct image *img = NULL;
	_cleanup_free_ char *layer_dir = NULL, *id = NULL;
	json_auto_t *old_name = NULL;
	struct image *existing, *target;
	bool new_image = false;
	struct timespec now;
	char created[64];
	json_t *info;
	int r;

	if (asprintf(&layer_dir, "%s/%s", s->db.layers_dir, res->digest) < 0)
		return -ENOMEM;
	/* A layer that exists already is the same content (same tarball digest): keep it. Without
	 * RENAME_NOREPLACE (EINVAL), the existence check and rename are still safe: only this
	 * single-threaded loop creates layer directories. */
	r = renameat2(AT_FDCWD, imp->tmpdir, AT_FDCWD, layer_dir, RENAME_NOREPLACE);
	if (r < 0 && errno == EINVAL) {
		if (access(layer_dir, F_OK) == 0)
			errno = EEXIST;
		else
			r = rename(imp->tmpdir, layer_dir);
	}
	if (r < 0) {
		if (errno != EEXIST)
			return err_set(reterr, -errno, "moving the layer into %s: %m", layer_dir);
		image_remove_tree(s, imp->tmpdir);
	}

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->layers = calloc(2, sizeof(char *));
	img->env = calloc(2, sizeof(char *));
	if (!img->layers || !img->env || asprintf(&img->layers[0], DIGEST_PREFIX "%s", res->digest) < 0 ||
	    !(img->env[0] = strdup(DEFAULT_PATH)))
		goto nomem;
	if (imp->config) {
		/* The settings the import was given replace the defaults; Env's variables are set
		 * over the default PATH, as docker import --change ENV does. */
		struct image *c = imp->config;
		if (c->env && (r = import_merge_env(&img->env, c->env)) < 0)
			goto fail;
		img->cmd = TAKE_PTR(c->cmd);
		img->entrypoint = TAKE_PTR(c->entrypoint);
		img->workdir = TAKE_PTR(c->workdir);
		img->user = TAKE_PTR(c->user);
		img->stop_signal = TAKE_PTR(c->stop_signal);
	}
	img->size = res->size;
	r = image_record_compute_id(img, &id);
	if (r < 0)
		goto fail;

	existing = image_db_find_id(&s->db, id);
	if (existing) {
		target = existing;
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		format_rfc3339(&now, created, sizeof(created));
		img->id = TAKE_PTR(id);
		img->created_at = strdup(created);
		if (!img->created_at)
			goto nomem;
		r = image_record_write(&s->db, img, reterr);
		if (r < 0)
			goto fail;
		r = image_db_add(&s->db, img);
		if (r < 0)
			goto fail;
		target = TAKE_PTR(img);
		new_image = true;
	}

	old_name = json_incref(json_object_get(s->db.names, imp->name));
	if (json_object_set_new(s->db.names, imp->name, json_string(target->id)) < 0)
		goto nomem_named;
	r = image_names_save(&s->db, reterr);
	if (r < 0) {
		if (old_name)
			json_object_set(s->db.names, imp->name, old_name);
		else
			json_object_del(s->db.names, imp->name);
		goto fail_named;
	}
	info = image_store_info(s, target);
	if (!info)
		return -ENOMEM;
	*ret_info = info;
	return 0;

nomem_named:
	r = -ENOMEM;
fail_named:
	if (new_image)
		image_remove_image(s, target, NULL);
	return r;
nomem:
	r = -ENOMEM;
fail:
	/* The layer was moved into place for an image that does not exist. */
	if (img && img->layers && img->layers[0] && !image_db_layer_used(&s->db, img->layers[0], NULL))
		image_remove_layer(s, img->layers[0]);
	return r;
}

/* The worker's pidfd became readable: it exited. Reap it, commit, and tell the requester. */
static void image_import_on_exit(evutil_socket_t fd, short what, void *userdata)
{
	_cleanup_(image_import_freep) struct import *imp = userdata;
	struct image_store *s = imp->store;
	_cleanup_free_ char *err = NULL;
	json_auto_t *info = NULL;
	struct image_unpack_result res = { 0 };
	image_import_done_fn done;
	siginfo_t si = { 0 };
	void *done_userdata;
	int r;

	r = pidref_try_wait(&imp->proc, &si);
	if (r == 0) {
		imp = NULL; /* a spurious wakeup: it still runs, and stays listed */
		return;
	}
	for (struct import **p = &s->imports; *p; p = &(*p)->next)
		if (*p == imp) {
			*p = imp->next;
			break;
		}
	if (r < 0) {
		r = err_set(&err, r, "waiting for the import worker: %m");
	} else {
		pidref_done(&imp->proc);
		r = image_import_read_result(imp, &si, &res, &err);
		if (r >= 0)
			r = image_import_commit(imp, &res, &info, &err);
	}
	if (r < 0 && !err)
		err_set(&err, r, "import failed: %m");
	if (r < 0)
		log_info("image store: import of %s failed: %s", imp->name, err ? err : strerror(-r));

	done = imp->done;
	done_userdata = imp->userdata;
	/* Free the import (and remove what is left of its directory) before the callback, which
	 * may well free the store. */
	image_import_free(TAKE_PTR(imp));
	if (done)
		done(r, r < 0 ? NULL : info, r < 0 ? (err ? err : "import failed") : NULL, done_userdata);
}

int image_import_start(struct image_store *s, int tar_fd, const char *name, image_import_done_fn done,
		       void *userdata, char **reterr)
{
	return image_import_start_config(s, tar_fd, name, NULL, done, userdata, reterr);
}

int image_import_start_config(struct image_store *s, int tar_fd, const char *name, struct image *config,
			      image_import_done_fn done, void *userdata, char **reterr)
{
	_cleanup_(image_freep) struct image *cfg = config;
	_cleanup_close_ int fd = tar_fd, dir_fd = -1, pipe_rd = -1, pipe_wr = -1;
	_cleanup_(image_import_freep) struct import *imp = NULL;
	_cleanup_free_ char *norm = NULL;
	pid_t parent = getpid(), pid;
	int pipefd[2], r;
	char rnd[33];

	r = image_name_normalize(name, &norm, reterr);
	if (r < 0)
		return r;
	imp = calloc(1, sizeof(*imp));
	if (!imp)
		return -ENOMEM;
	imp->proc = PIDREF_NULL;
	imp->result_fd = -1;
	imp->store = s;
	r = random_hex(rnd, 16);
	if (r < 0)
		return err_set(reterr, r, "getrandom: %m");
	if (asprintf(&imp->tmpdir, "%s/import-%s", s->db.tmp_dir, rnd) < 0) {
		imp->tmpdir = NULL;
		return -ENOMEM;
	}
	if (mkdir(imp->tmpdir, 0755) < 0) {
		r = -errno;
		free(TAKE_PTR(imp->tmpdir));
		return err_set(reterr, r, "creating a directory for the import: %m");
	}
	dir_fd = open(imp->tmpdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0)
		return err_set(reterr, -errno, "opening %s: %m", imp->tmpdir);
	/* The layer root's mode when the tarball has no "./" entry (mkdir applied the umask). */
	if (fchmod(dir_fd, 0755) < 0)
		return err_set(reterr, -errno, "chmod %s: %m", imp->tmpdir);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(reterr, -errno, "pipe: %m");
	pipe_rd = pipefd[0];
	pipe_wr = pipefd[1];

	int pidfd = -1;
	struct clone_args args = { .flags = CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD };
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return err_set(reterr, -errno, "starting the import worker: %m");
	if (pid == 0)
		image_unpack_main(fd, pipe_wr, dir_fd, parent);
	imp->proc = (struct pidref){ .pid = pid, .pidfd = pidfd };
	pipe_wr = safe_close(pipe_wr);
	r = fd_nonblock(pipe_rd, true);
	if (r < 0)
		return err_set(reterr, r, "pipe: %m");
	imp->result_fd = TAKE_FD(pipe_rd);
	/* Only the pidfd is watched: the worker writes its result (less than PIPE_BUF) before it
	 * exits, so once it has exited the pipe holds all there is to read. */
	imp->ev = event_new(s->base, imp->proc.pidfd, EV_READ | EV_PERSIST, image_import_on_exit, imp);
	if (!imp->ev || event_add(imp->ev, NULL) < 0)
		return err_set(reterr, -ENOMEM, "watching the import worker failed");
	imp->name = TAKE_PTR(norm);
	imp->config = TAKE_PTR(cfg);
	imp->done = done;
	imp->userdata = userdata;
	imp->next = s->imports;
	s->imports = TAKE_PTR(imp);
	return 0;
}

void image_import_cancel_callbacks(struct image_store *s, void *userdata)
{
	for (struct import *imp = s->imports; imp; imp = imp->next)
		if (imp->userdata == userdata)
			imp->done = NULL;
}
