/* image.load and image.save on the event loop: see image-archive.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"
#include "daemon/image-archive.h"
#include "daemon/image-store-internal.h"
#include "daemon/worker.h"
#include "image/archive-json.h"
#include "image/archive-read.h"
#include "image/archive-write.h"
#include "image/blobs.h"

/* A worker: the child, its status pipe and the event on its pidfd. */
struct worker {
	struct pidref proc;
	int status_fd;
	struct event *ev;
};

struct image_load {
	struct image_store *store;
	struct worker w;
	char *dir;  /* ingest/load-<random>: the worker's directory */
	json_t *images; /* the worker's result: [{"manifest","names"}], names normalized */
	size_t next;    /* the image being registered */
	json_t *loaded; /* [{"id","names"}] */
	image_load_done_fn done;
	void *userdata;
};

struct image_save {
	struct image_store *store;
	struct worker w;
	image_save_done_fn done;
	void *userdata;
};

/* Kills (if still running) and reaps a worker, and releases what watches it. */
static void worker_done(struct worker *w)
{
	int r;

	if (w->ev)
		event_free(w->ev);
	w->ev = NULL;
	if (pidref_is_set(&w->proc) && (r = pidref_kill_and_wait(&w->proc)) < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image archive: killing worker %d: %m", (int)w->proc.pid);
	w->status_fd = safe_close(w->status_fd);
}

/* Forks a worker (daemon/worker.c) and watches its pidfd with cb. In the child,
 * run(arg, status_fd, parent) never returns. */
static int archive_worker_spawn(struct image_store *s, struct worker *w, worker_run_fn run, void *arg,
				event_callback_fn cb, void *cb_arg, char **reterr)
{
	int r = worker_spawn("archive", run, arg, true, &w->proc, &w->status_fd, reterr);

	if (r < 0)
		return r;
	/* Only the pidfd is watched: the worker writes its status (less than PIPE_BUF) before it
	 * exits, so once it has exited the pipe holds all there is to read. */
	w->ev = event_new(s->base, w->proc.pidfd, EV_READ | EV_PERSIST, cb, cb_arg);
	if (!w->ev || event_add(w->ev, NULL) < 0)
		return err_set(reterr, -ENOMEM, "watching the archive worker failed");
	return 0;
}

/* After the pidfd woke us: 1 when the worker exited (reaped) and its status was good, 0 when it
 * still runs (a spurious wakeup), or -errno with a message. status is an archive_read_status
 * or archive_write_status (same layout). */
static int worker_finish(struct worker *w, struct archive_read_status *st, char **reterr)
{
	siginfo_t si = { 0 };
	ssize_t n;
	int r = pidref_try_wait(&w->proc, &si);

	if (r == 0)
		return 0;
	if (r < 0)
		return err_set(reterr, r, "waiting for the archive worker: %m");
	pidref_done(&w->proc);
	event_free(TAKE_PTR(w->ev));
	if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
		return err_set(reterr, -EIO, "the archive worker was killed by signal %d", si.si_status);
	if (si.si_code != CLD_EXITED || si.si_status != 0)
		return err_set(reterr, -EIO, "the archive worker failed (exit status %d)", si.si_status);
	do
		n = read(w->status_fd, st, sizeof(*st));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*st))
		return err_set(reterr, -EIO, "the archive worker exited without a result");
	st->msg[sizeof(st->msg) - 1] = '\0';
	if (st->r < 0)
		return err_set(reterr, st->r >= -4095 ? st->r : -EIO, "%s",
			       st->msg[0] ? st->msg : "the archive worker failed");
	return 1;
}

_Static_assert(sizeof(struct archive_read_status) == sizeof(struct archive_write_status),
	       "both workers report the same status");

void image_load_free(struct image_load *l)
{
	if (!l)
		return;
	image_import_cancel_callbacks(l->store, l);
	worker_done(&l->w);
	if (l->dir)
		image_remove_tree(l->store, l->dir);
	free(l->dir);
	json_decref(l->images);
	json_decref(l->loaded);
	free(l);
}

static void image_load_freep(struct image_load **l)
{
	image_load_free(*l);
}

/* Ends the load: its callback, then it is freed (the callback must not free it). */
static void load_end(struct image_load *l, int r, const char *err)
{
	image_load_done_fn done = l->done;
	void *userdata = l->userdata;

	l->done = NULL;
	if (r < 0)
		log_info("image store: load failed: %s", err ? err : strerror(-r));
	if (done)
		done(r, r < 0 ? NULL : l->loaded, r < 0 ? (err ? err : "load failed") : NULL, userdata);
	image_load_free(l);
}

static int load_register_next(struct image_load *l, char **reterr);

/* image_store_add_manifest() finished one image: note it, go on with the next. */
static void load_on_added(int r, json_t *info, const char *errmsg, void *userdata)
{
	struct image_load *l = userdata;
	_cleanup_free_ char *err = NULL;
	json_t *img = json_array_get(l->images, l->next);
	const char *id = info ? json_string_value(json_object_get(info, "id")) : NULL;

	if (r >= 0 && !id)
		r = err_set(&err, -EIO, "the store registered an image without an id");
	if (r < 0) {
		load_end(l, r, err ? err : errmsg);
		return;
	}
	if (json_array_append_new(l->loaded,
				  json_pack("{s:s, s:O}", "id", id, "names", json_object_get(img, "names"))) < 0) {
		load_end(l, -ENOMEM, "out of memory");
		return;
	}
	l->next++;
	r = load_register_next(l, &err);
	if (r < 0)
		load_end(l, r, err);
	else if (r > 0)
		load_end(l, 0, NULL);
}

/* Registers the next image; 1 when there is none left. */
static int load_register_next(struct image_load *l, char **reterr)
{
	json_t *img = json_array_get(l->images, l->next), *names;
	const char *argv[ARCHIVE_MAX_NAMES + 1];
	size_t i, n = 0;
	json_t *v;

	if (!img)
		return 1;
	names = json_object_get(img, "names");
	json_array_foreach(names, i, v)
	{
		argv[n++] = json_string_value(v);
	}
	argv[n] = NULL;
	return image_store_add_manifest(l->store, json_string_value(json_object_get(img, "manifest")), argv, NULL,
					load_on_added, l, reterr);
}

/* Reads the worker's result.json (a regular file, not followed if it is a link) and checks it:
 * digests, hex blob names, names that normalize. Fills l->images with normalized names. */
static int load_read_result(struct image_load *l, int dir_fd, json_t **ret_blobs, char **reterr)
{
	_cleanup_close_ int fd = openat(dir_fd, ARCHIVE_READ_RESULT, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	json_auto_t *root = NULL;
	json_t *images, *blobs, *img, *v;
	struct stat st;
	size_t i, j;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "reading the load worker's result: %m");
	if (!S_ISREG(st.st_mode) || st.st_size > ARCHIVE_READ_RESULT_MAX)
		return err_set(reterr, -EIO, "the load worker's result is malformed");
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return -ENOMEM;
	n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size)
		return err_set(reterr, -EIO, "reading the load worker's result: short read");
	root = json_loadb(text, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	images = json_object_get(root, "images");
	blobs = json_object_get(root, "blobs");
	if (!json_is_array(images) || !json_is_array(blobs) || json_array_size(images) > ARCHIVE_MAX_IMAGES)
		return err_set(reterr, -EIO, "the load worker's result is malformed");
	json_array_foreach(blobs, i, v)
	{
		const char *hex = json_string_value(v);
		if (!hex || !image_digest_is_hex(hex, HEX_LEN, HEX_LEN))
			return err_set(reterr, -EIO, "the load worker's result is malformed");
	}
	l->images = json_array();
	if (!l->images)
		return -ENOMEM;
	json_array_foreach(images, i, img)
	{
		const char *manifest = json_string_value(json_object_get(img, "manifest"));
		json_t *names = json_object_get(img, "names"), *norm = json_array();
		if (!norm ||
		    json_array_append_new(l->images, json_pack("{s:s?, s:o}", "manifest", manifest, "names", norm)) < 0)
			return -ENOMEM;
		if (!image_digest_valid(manifest) || !json_is_array(names) ||
		    json_array_size(names) > ARCHIVE_MAX_NAMES)
			return err_set(reterr, -EIO, "the load worker's result is malformed");
		json_array_foreach(names, j, v)
		{
			_cleanup_free_ char *name = NULL;
			char q[300];
			if (!json_is_string(v))
				return err_set(reterr, -EIO, "the load worker's result is malformed");
			if (image_name_normalize(json_string_value(v), &name, NULL) < 0)
				return err_set(reterr, -EINVAL,
					       "the archive names an image %s, which is not a valid name",
					       str_quote(json_string_value(v), 64, q, sizeof(q)));
			/* One name once, however many ways the archive spells it. */
			bool dup = false;
			for (size_t k = 0; k < json_array_size(norm); k++)
				dup = dup || strcmp(json_string_value(json_array_get(norm, k)), name) == 0;
			if (!dup && json_array_append_new(norm, json_string(name)) < 0)
				return -ENOMEM;
		}
	}
	*ret_blobs = json_incref(blobs);
	return 0;
}

/* Moves the verified blobs from the worker's directory into the store.
 *
 * Security: the worker parsed hostile input, so what it left is checked as untrusted: result.json
 * is opened without following links and must be a regular file of bounded size; only blobs it
 * lists, with 64-hex names, that are regular files (lstat) are moved, by a rename inside the
 * store's filesystem (the worker, chrooted in its directory, can link nothing from outside it).
 * A worker subverted by a parser bug could still leave a blob whose bytes are not its name's
 * digest: the store reads manifests and configs through image_blob_read(), which checks the
 * digest, and the unpacking worker checks each layer blob against its digest and diff_id, so
 * such a blob fails the load instead of entering an image. The residual case: a layer whose
 * diff_id is unpacked already is not read again, so its new blob is trusted as the worker hashed
 * it (what a container sees is the verified layer; only a later save would carry the blob). */
static int load_commit_blobs(struct image_load *l, json_t *blobs, char **reterr)
{
	size_t i;
	json_t *v;

	json_array_foreach(blobs, i, v)
	{
		const char *hex = json_string_value(v);
		_cleanup_free_ char *path = NULL;
		char digest[DIGEST_SIZE];
		struct stat st;
		int r;
		if (asprintf(&path, "%s/" ARCHIVE_READ_BLOBS "/%s", l->dir, hex) < 0)
			return -ENOMEM;
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			return err_set(reterr, -EIO, "the load worker did not leave blob sha256:%s", hex);
		snprintf(digest, sizeof(digest), DIGEST_PREFIX "%s", hex);
		r = image_blob_commit(&l->store->db, path, digest, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The load worker's pidfd became readable: take its result and register the images. */
static void load_on_exit(evutil_socket_t fd, short what, void *userdata)
{
	struct image_load *l = userdata;
	_cleanup_free_ char *err = NULL;
	_cleanup_close_ int dir_fd = -1;
	json_auto_t *blobs = NULL;
	struct archive_read_status st;
	int r = worker_finish(&l->w, &st, &err);

	if (r == 0)
		return;
	if (r > 0) {
		dir_fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir_fd < 0)
			r = err_set(&err, -errno, "opening %s: %m", l->dir);
	}
	if (r > 0 && (r = load_read_result(l, dir_fd, &blobs, &err)) >= 0 &&
	    (r = load_commit_blobs(l, blobs, &err)) >= 0)
		r = load_register_next(l, &err);
	if (r != 0)
		load_end(l, r > 0 ? 0 : r, err);
}

void image_load_sweep(struct image_store *s)
{
	_cleanup_closedir_ DIR *d = opendir(s->db.ingest_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		if (!str_startswith(de->d_name, "load-") || asprintf(&path, "%s/%s", s->db.ingest_dir, de->d_name) < 0)
			continue;
		log_info("image store: removing %s, left by an interrupted load", path);
		image_remove_tree(s, path);
	}
}

/* The worker's entry: archive_read_main() with its arguments. */
struct load_args {
	int in_fd, dir_fd;
};

static void load_run(void *arg, int status_fd, pid_t parent)
{
	struct load_args *a = arg;
	archive_read_main(a->in_fd, status_fd, a->dir_fd, parent);
}

int image_load_start(struct image_store *s, int fd, image_load_done_fn done, void *userdata, struct image_load **ret,
		     char **reterr)
{
	_cleanup_close_ int in_fd = fd, dir_fd = -1;
	_cleanup_(image_load_freep) struct image_load *l = calloc(1, sizeof(*l));
	char rnd[33];
	int r;

	if (!l)
		return err_set(reterr, -ENOMEM, "out of memory");
	l->store = s;
	l->w = (struct worker){ .proc = PIDREF_NULL, .status_fd = -1 };
	l->loaded = json_array();
	if (!l->loaded)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = random_hex(rnd, 16)) < 0)
		return err_set(reterr, r, "getrandom: %m");
	if (asprintf(&l->dir, "%s/load-%s", s->db.ingest_dir, rnd) < 0) {
		l->dir = NULL;
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	/* Owned by root, 0700: the worker (root without capabilities) may write only here. */
	if (mkdir(l->dir, 0700) < 0) {
		r = -errno;
		free(TAKE_PTR(l->dir));
		return err_set(reterr, r, "creating a directory for the load: %m");
	}
	dir_fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0)
		return err_set(reterr, -errno, "opening %s: %m", l->dir);
	r = archive_worker_spawn(s, &l->w, load_run, &(struct load_args){ .in_fd = in_fd, .dir_fd = dir_fd },
				 load_on_exit, l, reterr);
	if (r < 0)
		return r;
	l->done = done;
	l->userdata = userdata;
	*ret = TAKE_PTR(l);
	return 0;
}

void image_save_free(struct image_save *sv)
{
	if (!sv)
		return;
	worker_done(&sv->w);
	free(sv);
}

static void image_save_freep(struct image_save **sv)
{
	image_save_free(*sv);
}

/* The save worker's pidfd became readable: it is done. */
static void save_on_exit(evutil_socket_t fd, short what, void *userdata)
{
	struct image_save *sv = userdata;
	_cleanup_free_ char *err = NULL;
	struct archive_read_status st;
	image_save_done_fn done;
	void *done_userdata;
	int r = worker_finish(&sv->w, &st, &err);

	if (r == 0)
		return;
	if (r < 0)
		log_info("image store: save failed: %s", err ? err : strerror(-r));
	done = sv->done;
	done_userdata = sv->userdata;
	image_save_free(sv);
	if (done)
		done(r < 0 ? r : 0, r < 0 ? (err ? err : "save failed") : NULL, done_userdata);
}

/* A normalized name fully qualified, as containerd's image name annotation wants it. */
static char *save_full_name(const char *name)
{
	const char *slash = strchr(name, '/');
	size_t first = slash ? (size_t)(slash - name) : 0;
	char *ret = NULL;

	if (slash && (memchr(name, '.', first) || memchr(name, ':', first) || strncmp(name, "localhost/", 10) == 0))
		return strdup(name);
	if (asprintf(&ret, slash ? "docker.io/%s" : "docker.io/library/%s", name) < 0)
		return NULL;
	return ret;
}

/* The manifest blob an image is saved with: its own, or for an imported image one written now
 * from its config and layer blobs (an OCI manifest, as a registry push would make). */
static int save_manifest(struct image_store *s, const struct image *img, char **ret, char **reterr)
{
	_cleanup_free_ struct archive_desc *layers = NULL;
	_cleanup_free_ char *text = NULL, *config_path = NULL;
	struct archive_desc config = { .media_type = (char *)ARCHIVE_MT_OCI_CONFIG };
	char digest[DIGEST_SIZE];
	struct stat st;
	int r;

	if (img->manifest_digest) {
		*ret = strdup(img->manifest_digest);
		return *ret ? 0 : -ENOMEM;
	}
	if (img->legacy || !img->config)
		return err_set(reterr, -EINVAL,
			       "image %s was stored by an older containd and has no image config to save; "
			       "import or load it again",
			       img->id);
	if ((r = image_blob_path(&s->db, img->id, &config_path)) < 0 || stat(config_path, &st) < 0)
		return err_set(reterr, r < 0 ? r : -errno, "the config of image %s: %m", img->id);
	snprintf(config.digest, sizeof(config.digest), "%s", img->id);
	config.size = st.st_size;
	layers = calloc(img->n_layers + 1, sizeof(*layers));
	if (!layers)
		return -ENOMEM;
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct image_layer *li = &img->layer_info[i];
		if (!li->digest || !li->media_type)
			return err_set(reterr, -EINVAL, "image %s: layer %s has no stored blob to save", img->id,
				       li->diff_id ? li->diff_id : "?");
		snprintf(layers[i].digest, sizeof(layers[i].digest), "%s", li->digest);
		layers[i].media_type = li->media_type;
		layers[i].size = (int64_t)li->size;
	}
	text = archive_json_manifest_write(&config, layers, img->n_layers);
	if (!text)
		return -ENOMEM;
	if ((r = image_blob_write(&s->db, text, strlen(text), digest, reterr)) < 0)
		return r;
	*ret = strdup(digest);
	return *ret ? 0 : -ENOMEM;
}

static void save_images_free(struct archive_save_image *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].manifest);
		strv_free(v[i].names);
		strv_free(v[i].full_names);
	}
	free(v);
}

static bool save_has_name(char **names, const char *name)
{
	for (; *names; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

/* The save plan: each image once, with every name the request gave it. */
static int save_plan(struct image_store *s, char **refs, struct archive_save_image **ret, size_t *ret_n, char **reterr)
{
	size_t n_refs = 0, n = 0;
	struct archive_save_image *v;
	const struct image **ids;
	int r = 0;

	while (refs[n_refs])
		n_refs++;
	v = calloc(n_refs + 1, sizeof(*v));
	ids = calloc(n_refs + 1, sizeof(*ids));
	if (!v || !ids) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_refs; i++) {
		_cleanup_free_ char *name = NULL, *full = NULL;
		const struct image *img = image_db_resolve(&s->db, refs[i], &name, reterr);
		size_t k = 0;
		if (!img) {
			r = errno > 0 ? -errno : -ENOENT;
			goto out;
		}
		while (k < n && ids[k] != img)
			k++;
		if (k == n) {
			ids[n] = img;
			v[n].names = calloc(n_refs + 1, sizeof(char *));
			v[n].full_names = calloc(n_refs + 1, sizeof(char *));
			n++;
			if (!v[k].names || !v[k].full_names) {
				r = -ENOMEM;
				goto out;
			}
			if ((r = save_manifest(s, img, &v[k].manifest, reterr)) < 0)
				goto out;
		}
		if (!name || save_has_name(v[k].names, name))
			continue;
		if (!(full = save_full_name(name))) {
			r = -ENOMEM;
			goto out;
		}
		size_t m = 0;
		while (v[k].names[m])
			m++;
		v[k].names[m] = TAKE_PTR(name);
		v[k].full_names[m] = TAKE_PTR(full);
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
out:
	if (v)
		save_images_free(v, n);
	free(ids);
	return r;
}

struct save_args {
	int out_fd, blobs_fd;
	const struct archive_save_image *images;
	size_t n;
};

static void save_run(void *arg, int status_fd, pid_t parent)
{
	struct save_args *a = arg;
	archive_write_main(a->out_fd, status_fd, a->blobs_fd, a->images, a->n, parent);
}

int image_save_start(struct image_store *s, char **refs, int fd, image_save_done_fn done, void *userdata,
		     struct image_save **ret, char **reterr)
{
	_cleanup_close_ int out_fd = fd, blobs_fd = -1;
	_cleanup_(image_save_freep) struct image_save *sv = calloc(1, sizeof(*sv));
	struct archive_save_image *images = NULL;
	size_t n = 0;
	int r;

	if (!sv)
		return err_set(reterr, -ENOMEM, "out of memory");
	sv->store = s;
	sv->w = (struct worker){ .proc = PIDREF_NULL, .status_fd = -1 };
	if ((r = save_plan(s, refs, &images, &n, reterr)) < 0)
		return r;
	blobs_fd = open(s->db.blobs_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (blobs_fd < 0)
		r = err_set(reterr, -errno, "opening %s: %m", s->db.blobs_dir);
	else
		r = archive_worker_spawn(s, &sv->w, save_run,
					 &(struct save_args){ .out_fd = out_fd, .blobs_fd = blobs_fd, .images = images, .n = n },
					 save_on_exit, sv, reterr);
	save_images_free(images, n);
	if (r < 0)
		return r;
	sv->done = done;
	sv->userdata = userdata;
	*ret = TAKE_PTR(sv);
	return 0;
}
