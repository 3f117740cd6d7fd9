/* container.commit: a new image from a container, as docker commit. A layer worker (api-cp.c,
 * cp-tar.c) writes the container's upper dir as an uncompressed layer tar into the store's
 * ingest dir and hashes it; the loop then names it a blob, writes the new config (the image's,
 * with the container's settings, the --change ones, a history entry and the new diff_id) and an
 * OCI manifest as blobs, and hands the manifest to image_store_add_manifest(), which unpacks the
 * layer (checking it against its digest) and registers the image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/api-internal.h"
#include "daemon/container.h"
#include "daemon/cp-worker.h"
#include "daemon/image-store.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "image/digest.h"
#include "protocol/cp.h"
#include "protocol/messages.h"

#define COMMIT_LAYER_TYPE "application/vnd.oci.image.layer.v1.tar"

struct api_commit {
	struct api_owed owed;
	struct api *api;
	char ct_id[65];
	bool unpause;     /* we paused the container: unpause it when the layer is written */
	char *layer_path; /* <ingest>/commit-<random>.tar until it is a blob */
	int layer_fd;
	json_t *config;   /* the new image's config, but for the new diff_id */
	json_t *layers;   /* the manifest's layer descriptors, the image's */
	char *repo;       /* normalized, or NULL */
};

static void commit_free(struct api_commit *c)
{
	if (!c)
		return;
	api_owed_unlink(&c->api->commits, &c->owed);
	if (c->layer_path && unlink(c->layer_path) < 0 && errno != ENOENT)
		log_errno(LOG_LEVEL_WARNING, -errno, "removing %s: %m", c->layer_path);
	free(c->layer_path);
	safe_close(c->layer_fd);
	json_decref(c->config);
	json_decref(c->layers);
	free(c->repo);
	free(c);
}

/* A JSON array of strings, or null for NULL (and, with empty_null, for an empty vector). */
static json_t *strv_json(char **v, bool empty_null)
{
	json_t *a;

	if (!v || (empty_null && !v[0]))
		return json_null();
	if (!(a = json_array()))
		return NULL;
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* The words of v joined by spaces, as docker's history shows a command. */
static char *strv_join_words(char **v)
{
	size_t len = 1;
	char *out, *p;

	for (char **w = v; w && *w; w++)
		len += strlen(*w) + 1;
	if (!(out = p = malloc(len)))
		return NULL;
	*p = '\0';
	for (char **w = v; w && *w; w++)
		p += sprintf(p, "%s%s", w == v ? "" : " ", *w);
	return out;
}

/* Sets each KEY=VALUE of add in the Env array env, replacing an entry with the same key. */
static int env_merge(json_t *env, char **add)
{
	for (char **a = add; a && *a; a++) {
		size_t klen = strcspn(*a, "="), i;
		json_t *v;
		bool replaced = false;
		json_array_foreach(env, i, v) {
			const char *e = json_string_value(v);
			if (e && strncmp(e, *a, klen) == 0 && (e[klen] == '=' || e[klen] == '\0')) {
				json_array_set_new(env, i, json_string(*a));
				replaced = true;
			}
		}
		if (!replaced && json_array_append_new(env, json_string(*a)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The settings of the new image's config: the image's, then what the container was run with,
 * then the --change ones (docker commit's order). */
static int commit_settings(json_t *conf, const struct container *ct, const struct proto_image_config *chg)
{
	json_t *env = json_object_get(conf, "Env");
	int r;

	if (!json_is_array(env)) {
		env = json_array();
		if (!env || json_object_set_new(conf, "Env", env) < 0)
			return -ENOMEM;
	}
	if (ct->cfg.entrypoint_set) {
		json_object_set_new(conf, "Entrypoint", strv_json(ct->cfg.entrypoint, true));
		if (!ct->cfg.cmd)
			json_object_set_new(conf, "Cmd", json_null());
	}
	if (ct->cfg.cmd)
		json_object_set_new(conf, "Cmd", strv_json(ct->cfg.cmd, false));
	if ((r = env_merge(env, ct->cfg.env)) < 0)
		return r;
	if (ct->cfg.workdir)
		json_object_set_new(conf, "WorkingDir", json_string(ct->cfg.workdir));
	if (ct->cfg.user)
		json_object_set_new(conf, "User", json_string(ct->cfg.user));
	if (ct->cfg.stop_signal)
		json_object_set_new(conf, "StopSignal", json_string(ct->cfg.stop_signal));
	if (ct->cfg.labels && ct->cfg.labels[0]) {
		json_t *labels = json_object_get(conf, "Labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			if (!labels || json_object_set_new(conf, "Labels", labels) < 0)
				return -ENOMEM;
		}
		for (char **l = ct->cfg.labels; *l; l++) {
			_cleanup_free_ char *key = strndup(*l, strcspn(*l, "="));
			const char *eq = strchr(*l, '=');
			if (!key || json_object_set_new(labels, key, json_string(eq ? eq + 1 : "")) < 0)
				return -ENOMEM;
		}
	}
	if (chg->cmd)
		json_object_set_new(conf, "Cmd", strv_json(chg->cmd, false));
	if (chg->entrypoint)
		json_object_set_new(conf, "Entrypoint", strv_json(chg->entrypoint, true));
	if (chg->env && (r = env_merge(env, chg->env)) < 0)
		return r;
	if (chg->workdir)
		json_object_set_new(conf, "WorkingDir", json_string(chg->workdir));
	if (chg->user)
		json_object_set_new(conf, "User", json_string(chg->user));
	if (chg->stop_signal)
		json_object_set_new(conf, "StopSignal", json_string(chg->stop_signal));
	return 0;
}

/* The new image's config, without the new layer's diff_id (added once it is known). */
static int commit_config(const struct container *ct, const struct image *img, const struct proto_commit_params *p,
			 json_t **ret, char **reterr)
{
	_cleanup_(proto_image_config_done) struct proto_image_config chg = { .cmd = NULL };
	json_auto_t *cfg = NULL;
	_cleanup_free_ char *created_by = NULL;
	char now[64];
	struct timespec ts;
	struct tm tm;
	int r;

	if (!img->config)
		return err_set(reterr, -EINVAL, "the image of container %s predates content-addressed images: import it again",
			       p->ref);
	if (p->config && (r = proto_image_config_decode(p->config, &chg, reterr)) < 0)
		return r;
	if (!(cfg = json_deep_copy(img->config)))
		return -ENOMEM;
	json_t *conf = json_object_get(cfg, "config");
	if (!json_is_object(conf)) {
		conf = json_object();
		if (!conf || json_object_set_new(cfg, "config", conf) < 0)
			return -ENOMEM;
	}
	if ((r = commit_settings(conf, ct, &chg)) < 0)
		return err_set(reterr, r, "out of memory");

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(now + n, sizeof(now) - n, ".%09ldZ", ts.tv_nsec);
	created_by = strv_join_words(ct->spec.process.args);
	json_t *entry = json_pack("{s:s, s:s}", "created", now, "created_by", created_by ? created_by : "");
	json_t *history = json_object_get(cfg, "history");
	if (!entry)
		return -ENOMEM;
	if (p->message && *p->message)
		json_object_set_new(entry, "comment", json_string(p->message));
	if (p->author && *p->author)
		json_object_set_new(entry, "author", json_string(p->author));
	if (!json_is_array(history)) {
		history = json_array();
		if (!history || json_object_set_new(cfg, "history", history) < 0) {
			json_decref(entry);
			return -ENOMEM;
		}
	}
	if (json_array_append_new(history, entry) < 0)
		return -ENOMEM;
	json_object_set_new(cfg, "created", json_string(now));
	json_object_set_new(cfg, "container", json_string(ct->id));
	if (p->author && *p->author)
		json_object_set_new(cfg, "author", json_string(p->author));
	else
		json_object_del(cfg, "author");
	*ret = TAKE_PTR(cfg);
	return 0;
}

/* Stores data as a blob under the store's blobs dir (written beside it, synced, renamed) and
 * gives its digest. */
static int commit_blob_put(struct api *api, const char *data, size_t len, char digest[DIGEST_SIZE], char **reterr)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	char rnd[17];
	int r;

	if ((r = image_digest_sha256(data, len, digest)) < 0)
		return err_set(reterr, r, "computing sha256");
	if (asprintf(&path, "%s/%s", image_store_blobs_dir(api->images), image_digest_hex(digest)) < 0)
		return -ENOMEM;
	if (access(path, F_OK) == 0)
		return 0;
	if ((r = random_hex(rnd, 8)) < 0 ||
	    asprintf(&tmp, "%s/commit-%s.json", image_store_ingest_dir(api->images), rnd) < 0)
		return err_set(reterr, r < 0 ? r : -ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(reterr, -errno, "creating %s: %m", tmp);
	if ((r = write_all(fd, data, len)) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
		r = r < 0 ? r : -errno;
		unlink(tmp);
		return err_set(reterr, r, "writing blob %s: %m", digest);
	}
	return 0;
}

static void commit_reply_error(struct api_commit *c, const char *code, const char *msg)
{
	conn_send_error(c->owed.conn, c->owed.id, code, NULL, "%s", msg);
	commit_free(c);
}

/* image_store_add_manifest() is done: answer with the image. */
static void commit_added(int r, json_t *info, const char *errmsg, void *userdata)
{
	struct api_commit *c = userdata;
	struct container *ct = registry_find(c->api->reg, c->ct_id, NULL);

	if (r < 0) {
		commit_reply_error(c, PROTO_E_COPY, errmsg ? errmsg : "registering the image failed");
		return;
	}
	if (ct)
		api_events_emit(c->api, "commit", ct);
	conn_send_result(c->owed.conn, c->owed.id, json_incref(info), NULL, 0);
	commit_free(c);
}

/* The layer is written: make it a blob, write the config and the manifest, register the image. */
static void commit_layer_done(struct api *api, int r, const struct cp_worker_result *res, const char *msg,
			      void *userdata)
{
	struct api_commit *c = userdata;
	_cleanup_free_ char *blob = NULL, *err = NULL, *config_json = NULL, *manifest_json = NULL;
	char diff_id[DIGEST_SIZE], config_digest[DIGEST_SIZE], manifest_digest[DIGEST_SIZE];
	struct container *ct = registry_find(api->reg, c->ct_id, NULL);
	struct stat st;

	if (c->unpause && ct)
		(void)container_unpause(ct, NULL);
	if (r < 0) {
		commit_reply_error(c, r == -ECANCELED ? PROTO_E_SHUTDOWN : PROTO_E_COPY, msg ? msg : "commit failed");
		return;
	}
	/* The worker's digest names the blob; the store checks it against the bytes when it
	 * unpacks the layer, so a worker that lied fails the commit, nothing else. */
	if (!image_digest_is_hex(res->digest, HEX_LEN, HEX_LEN) || fstat(c->layer_fd, &st) < 0) {
		commit_reply_error(c, PROTO_E_INTERNAL, "the layer worker sent a malformed result");
		return;
	}
	snprintf(diff_id, sizeof(diff_id), "%s%s", DIGEST_PREFIX, res->digest);
	if (asprintf(&blob, "%s/%s", image_store_blobs_dir(api->images), res->digest) < 0 ||
	    rename(c->layer_path, blob) < 0) {
		commit_reply_error(c, PROTO_E_INTERNAL, "storing the layer failed");
		return;
	}
	free(TAKE_PTR(c->layer_path));

	json_t *rootfs = json_object_get(c->config, "rootfs"), *ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids) || json_array_append_new(ids, json_string(diff_id)) < 0 ||
	    json_array_append_new(c->layers, json_pack("{s:s, s:s, s:I}", "mediaType", COMMIT_LAYER_TYPE, "digest",
						       diff_id, "size", (json_int_t)st.st_size)) < 0 ||
	    !(config_json = json_dumps(c->config, JSON_COMPACT | JSON_SORT_KEYS))) {
		commit_reply_error(c, PROTO_E_INTERNAL, "the image's config has no rootfs.diff_ids");
		return;
	}
	if ((r = commit_blob_put(api, config_json, strlen(config_json), config_digest, &err)) < 0) {
		commit_reply_error(c, PROTO_E_INTERNAL, err ? err : "writing the config failed");
		return;
	}
	json_auto_t *manifest = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
					  "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
					  "application/vnd.oci.image.config.v1+json", "digest", config_digest, "size",
					  (json_int_t)strlen(config_json), "layers", c->layers);
	if (!manifest || !(manifest_json = json_dumps(manifest, JSON_COMPACT | JSON_SORT_KEYS)) ||
	    (r = commit_blob_put(api, manifest_json, strlen(manifest_json), manifest_digest, &err)) < 0) {
		commit_reply_error(c, PROTO_E_INTERNAL, err ? err : "writing the manifest failed");
		return;
	}
	const char *names[] = { c->repo, NULL };
	if ((r = image_store_add_manifest(api->images, manifest_digest, names, NULL, commit_added, c, &err)) < 0)
		commit_reply_error(c, PROTO_E_COPY, err ? err : "registering the image failed");
}

/* The base image's layers as manifest descriptors; every one must be a blob of the store. */
static json_t *commit_base_layers(const struct image *img, char **reterr)
{
	json_auto_t *layers = json_array();

	if (!layers)
		return NULL;
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct image_layer *l = &img->layer_info[i];
		if (!l->digest || !l->media_type) {
			err_set(reterr, -EINVAL, "the container's image predates content-addressed layers: import it again");
			return NULL;
		}
		if (json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", l->media_type, "digest",
							    l->digest, "size", (json_int_t)l->size)) < 0)
			return NULL;
	}
	return TAKE_PTR(layers);
}

void api_commit(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	_cleanup_free_ char *err = NULL;
	struct proto_commit_params p;
	struct api_commit *cm;
	char rnd[17];
	int r = proto_commit_params_decode(req->params, req->nfds, &p, &err);

	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (api_refuse_shutting_down(api, c, req->id))
		return;
	struct container *ct = api_lookup(api, c, req, p.ref);
	if (!ct)
		return;
	const struct image *img = image_store_lookup(api->images, ct->image_id, NULL);
	if (!img) {
		conn_send_error(c, req->id, PROTO_E_CONFLICT, NULL, "the image of container %s was removed", p.ref);
		return;
	}
	if (!(cm = calloc(1, sizeof(*cm)))) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "out of memory");
		return;
	}
	cm->api = api;
	cm->layer_fd = -1;
	snprintf(cm->ct_id, sizeof(cm->ct_id), "%s", ct->id);
	api_owed_link(&api->commits, &cm->owed, c, req->id);
	if ((p.repo && (r = image_name_normalize(p.repo, &cm->repo, &err)) < 0) ||
	    (r = commit_config(ct, img, &p, &cm->config, &err)) < 0 || !(cm->layers = commit_base_layers(img, &err))) {
		commit_reply_error(cm, PROTO_E_PARAMS, err ? err : "out of memory");
		return;
	}
	if ((r = random_hex(rnd, 8)) < 0 ||
	    asprintf(&cm->layer_path, "%s/commit-%s.tar", image_store_ingest_dir(api->images), rnd) < 0) {
		cm->layer_path = NULL;
		commit_reply_error(cm, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	cm->layer_fd = open(cm->layer_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (cm->layer_fd < 0) {
		free(TAKE_PTR(cm->layer_path));
		commit_reply_error(cm, PROTO_E_INTERNAL, "creating the layer file failed");
		return;
	}
	/* docker commit pauses a running container (unless --pause=false), so that the layer is
	 * one moment of its files. A host without a freezer commits it running. */
	if (p.pause && ct->state == CONTAINER_RUNNING && !ct->paused) {
		r = container_pause(ct, NULL);
		cm->unpause = r >= 0;
		if (r < 0 && r != -EOPNOTSUPP) {
			commit_reply_error(cm, PROTO_E_INTERNAL, "pausing the container failed");
			return;
		}
	}
	r = api_cp_layer_start(api, c, ct, cm->layer_fd, commit_layer_done, cm, &err);
	if (r < 0) {
		if (cm->unpause)
			(void)container_unpause(ct, NULL);
		commit_reply_error(cm, PROTO_E_INTERNAL, err ? err : "starting the layer worker failed");
	}
}

/* A commit the daemon gives up as it stops: the store calls it back no more. */
static void commit_free_owed(struct api_owed *o)
{
	struct api_commit *c = api_owed_entry(o, struct api_commit);

	image_import_cancel_callbacks(c->api->images, c);
	commit_free(c);
}

void api_commit_free(struct api *api)
{
	api_owed_shutdown(&api->commits, commit_free_owed);
}
