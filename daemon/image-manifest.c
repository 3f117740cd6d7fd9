/* image_store_add_manifest(): an image whose manifest, config and layer blobs are in blobs/ (put
 * there by a pull or a load) is registered once each of its layers is unpacked. A layer is
 * unpacked by one worker however many manifests need it at the same time: the first asks for it
 * (a "layer job"), the others wait on that job. A layer job's result is checked against both the
 * manifest's blob digest and the config's diff_id before it is moved into layers/. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-store-internal.h"
#include "daemon/image-unpack.h"
#include "image/blobs.h"
#include "image/config.h"
#include "image/manifest.h"

struct manifest_job {
	struct manifest_job *next;
	struct image_store *store;
	char *manifest_digest, *config_digest, *repo_digest;
	char **names;		    /* normalized */
	struct image_layer *layers; /* diff_id, digest, media type, sizes */
	size_t n_layers, pending;
	bool *started; /* layer i was unpacked for this job (removed again on failure) */
	int error;
	char *errmsg;
	struct event *ev; /* finishing a job that needed no unpacking, from the loop */
	image_import_done_fn done;
	void *userdata;
};

struct layer_waiter {
	struct manifest_job *job;
	size_t index;
};

struct layer_job {
	struct layer_job *next;
	char *diff_id;
	struct layer_waiter *waiters;
	size_t n_waiters;
};

static void manifest_job_free(struct manifest_job *job)
{
	if (!job)
		return;
	if (job->ev)
		event_free(job->ev);
	free(job->manifest_digest);
	free(job->config_digest);
	free(job->repo_digest);
	strv_free(job->names);
	image_layers_done(job->layers, job->n_layers);
	free(job->layers);
	free(job->started);
	free(job->errmsg);
	free(job);
}

static void manifest_job_freep(struct manifest_job **job)
{
	manifest_job_free(*job);
}

static void layer_job_free(struct layer_job *lj)
{
	if (!lj)
		return;
	free(lj->diff_id);
	free(lj->waiters);
	free(lj);
}

void image_manifest_free_all(struct image_store *s)
{
	while (s->layer_jobs) {
		struct layer_job *lj = s->layer_jobs;
		s->layer_jobs = lj->next;
		layer_job_free(lj);
	}
	while (s->manifests) {
		struct manifest_job *job = s->manifests;
		s->manifests = job->next;
		manifest_job_free(job);
	}
}

void image_manifest_cancel_callbacks(struct image_store *s, void *userdata)
{
	for (struct manifest_job *job = s->manifests; job; job = job->next)
		if (job->userdata == userdata)
			job->done = NULL;
}

bool image_manifest_layer_pending(struct image_store *s, const char *diff_id)
{
	for (struct manifest_job *job = s->manifests; job; job = job->next)
		for (size_t i = 0; i < job->n_layers; i++)
			if (strcmp(job->layers[i].diff_id, diff_id) == 0)
				return true;
	return false;
}

bool image_manifest_blob_pending(struct image_store *s, const char *digest)
{
	for (struct manifest_job *job = s->manifests; job; job = job->next) {
		if (strcmp(job->manifest_digest, digest) == 0 || strcmp(job->config_digest, digest) == 0)
			return true;
		for (size_t i = 0; i < job->n_layers; i++)
			if (strcmp(job->layers[i].digest, digest) == 0)
				return true;
	}
	return false;
}

/* Every layer is there (or one failed): register the image, or undo what this job unpacked. */
static void manifest_job_finish(struct manifest_job *job)
{
	struct image_store *s = job->store;
	_cleanup_free_ char *err = NULL;
	json_auto_t *info = NULL;
	image_import_done_fn done;
	void *userdata;
	int r = job->error;

	for (struct manifest_job **p = &s->manifests; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			break;
		}
	if (r >= 0)
		r = image_store_commit(s, job->config_digest, job->layers, job->n_layers, job->manifest_digest,
				       (const char *const *)job->names, job->repo_digest, &info, &err);
	else
		err = TAKE_PTR(job->errmsg);
	if (r < 0) {
		/* No half-registered image, and no layer left that only this image wanted. */
		for (size_t i = 0; i < job->n_layers; i++)
			if (job->started[i] && !image_store_layer_busy(s, job->layers[i].diff_id))
				image_remove_layer(s, job->layers[i].diff_id);
		log_info("image store: adding %s failed: %s", job->manifest_digest, err ? err : strerror(-r));
	}
	done = job->done;
	userdata = job->userdata;
	manifest_job_free(job);
	if (done)
		done(r, r < 0 ? NULL : info, r < 0 ? (err ? err : "adding the image failed") : NULL, userdata);
}

static void manifest_job_on_ready(evutil_socket_t fd, short what, void *arg)
{
	manifest_job_finish(arg);
}

/* A layer job ended: every manifest waiting on it learns the layer's size or its failure. */
static void layer_job_done(struct image_store *s, int r, const struct image_unpack_info *info, const char *errmsg,
			   void *userdata)
{
	struct layer_job *lj = userdata;

	for (struct layer_job **p = &s->layer_jobs; *p; p = &(*p)->next)
		if (*p == lj) {
			*p = lj->next;
			break;
		}
	for (size_t i = 0; i < lj->n_waiters; i++) {
		struct manifest_job *job = lj->waiters[i].job;
		if (r >= 0) {
			job->layers[lj->waiters[i].index].unpacked_size = info->size;
		} else if (job->error >= 0) {
			job->error = r;
			job->errmsg = strdup(errmsg ? errmsg : "unpacking a layer failed");
		}
	}
	if (r >= 0 && lj->n_waiters == 0 && !image_store_layer_busy(s, lj->diff_id))
		image_remove_layer(s, lj->diff_id);
	/* Finishing may free jobs; each job appears in this list at most once per layer, and a job
	 * is finished only by its last layer. */
	for (size_t i = 0; i < lj->n_waiters; i++) {
		struct manifest_job *job = lj->waiters[i].job;
		if (--job->pending == 0)
			manifest_job_finish(job);
	}
	layer_job_free(lj);
}

/* Makes layer i of job present: already unpacked, being unpacked for another job, or started. */
static int manifest_job_layer(struct manifest_job *job, size_t i, char **reterr)
{
	struct image_store *s = job->store;
	struct image_layer *l = &job->layers[i];
	_cleanup_free_ char *dir = NULL, *blob = NULL;
	struct layer_job *lj;
	int r, fd;

	r = image_db_layer_dir(&s->db, l->diff_id, &dir);
	if (r < 0)
		return r;
	if (access(dir, F_OK) == 0) {
		if (!image_db_layer_unpacked_size(&s->db, l->diff_id, &l->unpacked_size))
			l->unpacked_size = 0;
		return 0;
	}
	for (lj = s->layer_jobs; lj; lj = lj->next)
		if (strcmp(lj->diff_id, l->diff_id) == 0)
			break;
	if (!lj) {
		r = image_blob_path(&s->db, l->digest, &blob);
		if (r < 0)
			return err_set(reterr, r, "layer %s: invalid digest", l->digest);
		fd = open(blob, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_set(reterr, -errno, "layer %s is not in the store: %m", l->digest);
		lj = calloc(1, sizeof(*lj));
		if (!lj || !(lj->diff_id = strdup(l->diff_id))) {
			close(fd);
			layer_job_free(lj);
			return -ENOMEM;
		}
		r = image_unpack_start(s, fd, false, l->digest, l->diff_id, layer_job_done, lj, reterr);
		if (r < 0) {
			layer_job_free(lj);
			return r;
		}
		lj->next = s->layer_jobs;
		s->layer_jobs = lj;
		job->started[i] = true;
	}
	struct layer_waiter *w = reallocarray(lj->waiters, lj->n_waiters + 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	lj->waiters = w;
	lj->waiters[lj->n_waiters++] = (struct layer_waiter){ .job = job, .index = i };
	job->pending++;
	return 0;
}

/* Reads and checks the manifest and its config, filling job's layers. */
static int manifest_job_load(struct manifest_job *job, char **reterr)
{
	struct image_store *s = job->store;
	_cleanup_(image_manifest_done) struct image_manifest m = { 0 };
	_cleanup_(image_freep) struct image *cfg = calloc(1, sizeof(*cfg));
	_cleanup_strv_free_ char **diff_ids = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len, n = 0;
	int r;

	if (!cfg)
		return -ENOMEM;
	r = image_blob_read(&s->db, job->manifest_digest, IMAGE_CONFIG_MAX, &data, &len, reterr);
	if (r < 0)
		return r;
	r = image_manifest_parse(data, len, &m, reterr);
	if (r < 0)
		return r;
	free(TAKE_PTR(data));
	r = image_blob_read(&s->db, m.config_digest, IMAGE_CONFIG_MAX, &data, &len, reterr);
	if (r < 0)
		return r;
	r = image_config_parse(data, len, cfg, &diff_ids, reterr);
	if (r < 0)
		return r;
	while (diff_ids[n])
		n++;
	if (n != m.n_layers)
		return err_set(reterr, -EINVAL, "the manifest has %zu layers, its config %zu diff_ids", m.n_layers, n);
	job->config_digest = TAKE_PTR(m.config_digest);
	for (size_t i = 0; i < n; i++)
		m.layers[i].diff_id = TAKE_PTR(diff_ids[i]);
	job->layers = TAKE_PTR(m.layers);
	job->n_layers = n;
	m.n_layers = 0;
	job->started = calloc(n, sizeof(bool));
	return job->started ? 0 : -ENOMEM;
}

int image_store_add_manifest(struct image_store *s, const char *manifest_digest, const char *const *names,
			     const char *repo_digest, image_import_done_fn done, void *userdata, char **reterr)
{
	_cleanup_(manifest_job_freep) struct manifest_job *job = NULL;
	size_t n = 0;
	int r;

	if (!image_digest_valid(manifest_digest))
		return err_set(reterr, -EINVAL, "invalid manifest digest");
	job = calloc(1, sizeof(*job));
	if (!job || !(job->manifest_digest = strdup(manifest_digest)) ||
	    (repo_digest && !(job->repo_digest = strdup(repo_digest))))
		return -ENOMEM;
	job->store = s;
	while (names && names[n])
		n++;
	job->names = calloc(n + 1, sizeof(char *));
	if (!job->names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = image_name_normalize(names[i], &job->names[i], reterr);
		if (r < 0)
			return r;
	}
	r = manifest_job_load(job, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < job->n_layers; i++) {
		r = manifest_job_layer(job, i, reterr);
		if (r < 0) {
			/* Layers already started finish for nobody: they stay only if another image
			 * or job needs them (collected otherwise). Detach this job from them. */
			for (struct layer_job *lj = s->layer_jobs; lj; lj = lj->next)
				for (size_t k = 0; k < lj->n_waiters; k++)
					if (lj->waiters[k].job == job)
						lj->waiters[k--] = lj->waiters[--lj->n_waiters];
			return r;
		}
	}
	job->done = done;
	job->userdata = userdata;
	if (job->pending == 0) {
		/* Nothing to unpack: done is still called from the loop, never from this call. */
		job->ev = event_new(s->base, -1, 0, manifest_job_on_ready, job);
		if (!job->ev || event_add(job->ev, &(struct timeval){ 0, 0 }) < 0)
			return -ENOMEM;
	}
	job->next = s->manifests;
	s->manifests = TAKE_PTR(job);
	return 0;
}
