/* Image records: the in-memory struct image, its JSON form in images/<hex>.json, and its id, the
 * sha256 of the canonical JSON of its content. Records on disk are read back at open and checked
 * as untrusted input, since layer paths are built from them. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/blobs.h"
#include "image/config.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/record.h"

#define CONFIG_MAX (1024 * 1024)
#define IMAGE_RECORD_VERSION 2

json_t *image_record_strv_to_json(char **v)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (; v && *v; v++)
		if (json_array_append_new(a, json_string(*v)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Copies a JSON array of strings (at most max) into a strv. */
static int image_record_strv_from_json(json_t *a, size_t max, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	size_t i;
	json_t *e;

	if (!json_is_array(a) || json_array_size(a) > max)
		return -EINVAL;
	v = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e))
			return -EINVAL;
		v[i] = strdup(json_string_value(e));
		if (!v[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

void image_free(struct image *img)
{
	if (!img)
		return;
	free(img->id);
	strv_free(img->layers);
	image_layers_done(img->layer_info, img->n_layers);
	free(img->layer_info);
	free(img->manifest_digest);
	strv_free(img->repo_digests);
	json_decref(img->config);
	strv_free(img->env);
	strv_free(img->cmd);
	free(img->workdir);
	strv_free(img->entrypoint);
	free(img->user);
	free(img->stop_signal);
	strv_free(img->labels);
	strv_free(img->exposed_ports);
	strv_free(img->volumes);
	free(img->created_at);
	free(img);
}

void image_freep(struct image **img)
{
	image_free(*img);
}

/* A legacy record as JSON: the content part (what the id is computed from) and, with meta, the
 * creation time, size and removal mark, which describe this copy rather than the image. */
static json_t *image_record_legacy_json(const struct image *img, bool meta)
{
	json_t *o;

	o = json_pack("{s:o, s:o, s:o, s:o}", "layers", image_record_strv_to_json(img->layers), "env",
		      image_record_strv_to_json(img->env), "cmd",
		      img->cmd ? image_record_strv_to_json(img->cmd) : json_null(), "workdir",
		      img->workdir ? json_string(img->workdir) : json_null());
	/* Set only when present, so that the ids of images without them stay what they were. */
	if (o && ((img->entrypoint &&
		   json_object_set_new(o, "entrypoint", image_record_strv_to_json(img->entrypoint)) < 0) ||
		  (img->user && json_object_set_new(o, "user", json_string(img->user)) < 0) ||
		  (img->stop_signal && json_object_set_new(o, "stop_signal", json_string(img->stop_signal)) < 0))) {
		json_decref(o);
		return NULL;
	}
	if (!o || !meta)
		return o;
	if (json_object_set_new(o, "created_at", json_string(img->created_at)) < 0 ||
	    json_object_set_new(o, "size", json_integer((json_int_t)img->size)) < 0 ||
	    (img->removed && json_object_set_new(o, "removed", json_true()) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The id of a legacy image: sha256 of the canonical (sorted keys, compact, ASCII) content JSON. */
static int image_record_legacy_id(const struct image *img, char **ret)
{
	json_auto_t *o = image_record_legacy_json(img, false);
	_cleanup_free_ char *canon = NULL;
	char digest[DIGEST_SIZE];
	int r;

	if (!o)
		return -ENOMEM;
	canon = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!canon)
		return -ENOMEM;
	r = image_digest_sha256(canon, strlen(canon), digest);
	if (r < 0)
		return r;
	*ret = strdup(digest);
	return *ret ? 0 : -ENOMEM;
}

/* An optional string member (absent or null: NULL). */
static int image_record_opt_string(json_t *o, const char *key, char **ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(reterr, -EINVAL, "\"%s\" must be a string", key);
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

/* An empty NULL-terminated vector where v is NULL. */
static int image_record_strv_ensure(char ***v)
{
	if (!*v && !(*v = calloc(1, sizeof(char *))))
		return -ENOMEM;
	return 0;
}

/* What a legacy record lacks: layer entries without blobs, and empty lists. */
static int image_record_legacy_fill(struct image *img)
{
	size_t n = 0;

	while (img->layers[n])
		n++;
	img->layer_info = calloc(n, sizeof(*img->layer_info));
	if (!img->layer_info)
		return -ENOMEM;
	img->n_layers = n;
	for (size_t i = 0; i < n; i++)
		if (!(img->layer_info[i].diff_id = strdup(img->layers[i])))
			return -ENOMEM;
	if (image_record_strv_ensure(&img->repo_digests) < 0 || image_record_strv_ensure(&img->labels) < 0 ||
	    image_record_strv_ensure(&img->exposed_ports) < 0 || image_record_strv_ensure(&img->volumes) < 0)
		return -ENOMEM;
	return 0;
}

json_t *image_record_json(const struct image *img)
{
	json_auto_t *layers = json_array(), *o = NULL;

	if (!layers)
		return NULL;
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct image_layer *l = &img->layer_info[i];
		if (json_array_append_new(layers, json_pack("{s:s, s:s?, s:s?, s:I, s:I}", "diff_id", l->diff_id, "digest",
							    l->digest, "media_type", l->media_type, "size",
							    (json_int_t)l->size, "unpacked_size",
							    (json_int_t)l->unpacked_size)) < 0)
			return NULL;
	}
	o = json_pack("{s:i, s:s, s:s?, s:o, s:O, s:I, s:s, s:b}", "version", IMAGE_RECORD_VERSION, "id", img->id,
		      "manifest_digest", img->manifest_digest, "repo_digests",
		      image_record_strv_to_json(img->repo_digests), "layers", layers, "size", (json_int_t)img->size,
		      "created_at", img->created_at ? img->created_at : "", "removed", img->removed);
	return TAKE_PTR(o);
}

/* One layer entry of a record. */
static int image_record_layer_from_json(json_t *o, struct image_layer *l, char **reterr)
{
	json_t *digest = json_object_get(o, "digest"), *type = json_object_get(o, "media_type");
	json_t *size = json_object_get(o, "size"), *unpacked = json_object_get(o, "unpacked_size");

	if (!json_is_object(o) || !image_digest_valid(json_string_value(json_object_get(o, "diff_id"))) ||
	    (digest && !json_is_null(digest) && !image_digest_valid(json_string_value(digest))) ||
	    (type && !json_is_null(type) && !json_is_string(type)) || !json_is_integer(size) ||
	    json_integer_value(size) < 0 || !json_is_integer(unpacked) || json_integer_value(unpacked) < 0)
		return err_set(reterr, -EINVAL, "invalid layer entry");
	l->size = (uint64_t)json_integer_value(size);
	l->unpacked_size = (uint64_t)json_integer_value(unpacked);
	if (!(l->diff_id = strdup(json_string_value(json_object_get(o, "diff_id")))) ||
	    (json_is_string(digest) && !(l->digest = strdup(json_string_value(digest)))) ||
	    (json_is_string(type) && !(l->media_type = strdup(json_string_value(type)))))
		return -ENOMEM;
	return 0;
}

/* Parses images/<hex>.json and reads the config blob it names (its id): the settings come from
 * the verbatim config, whose diff_ids must be the record's layers. */
static int image_record_from_json(struct image_db *db, const char *id, json_t *o, struct image **ret, char **reterr)
{
	_cleanup_(image_freep) struct image *img = NULL;
	_cleanup_strv_free_ char **diff_ids = NULL;
	_cleanup_free_ char *config = NULL;
	json_t *layers = json_object_get(o, "layers"), *size = json_object_get(o, "size"), *l;
	json_t *manifest = json_object_get(o, "manifest_digest"), *created = json_object_get(o, "created_at");
	size_t len, i;
	int r;

	if (!json_is_integer(json_object_get(o, "version")) ||
	    json_integer_value(json_object_get(o, "version")) != IMAGE_RECORD_VERSION)
		return err_set(reterr, -EINVAL, "unknown record version");
	if (!json_is_array(layers) || json_array_size(layers) == 0 || json_array_size(layers) > 4096 ||
	    !json_is_integer(size) || json_integer_value(size) < 0 ||
	    (manifest && !json_is_null(manifest) && !image_digest_valid(json_string_value(manifest))))
		return err_set(reterr, -EINVAL, "malformed record");
	img = calloc(1, sizeof(*img));
	if (!img || !(img->id = strdup(id)))
		return -ENOMEM;
	r = image_blob_read(db, id, IMAGE_CONFIG_MAX, &config, &len, reterr);
	if (r < 0)
		return r;
	r = image_config_parse(config, len, img, &diff_ids, reterr);
	if (r < 0)
		return r;
	img->layer_info = calloc(json_array_size(layers), sizeof(*img->layer_info));
	if (!img->layer_info)
		return -ENOMEM;
	json_array_foreach(layers, i, l) {
		img->n_layers++;
		r = image_record_layer_from_json(l, &img->layer_info[i], reterr);
		if (r < 0)
			return r;
		if (!diff_ids[i] || strcmp(diff_ids[i], img->layer_info[i].diff_id) != 0)
			return err_set(reterr, -EINVAL, "the record's layers are not the config's rootfs.diff_ids");
	}
	if (diff_ids[img->n_layers])
		return err_set(reterr, -EINVAL, "the record's layers are not the config's rootfs.diff_ids");
	img->layers = TAKE_PTR(diff_ids);
	r = image_record_strv_from_json(json_object_get(o, "repo_digests"), 4096, &img->repo_digests);
	if (r < 0)
		return r == -ENOMEM ? r : err_set(reterr, r, "\"repo_digests\" must be an array of strings");
	if (json_is_string(manifest) && !(img->manifest_digest = strdup(json_string_value(manifest))))
		return -ENOMEM;
	if (!img->created_at && !(img->created_at = strdup(json_is_string(created) ? json_string_value(created) : "")))
		return -ENOMEM;
	img->size = (uint64_t)json_integer_value(size);
	img->removed = json_is_true(json_object_get(o, "removed"));
	*ret = TAKE_PTR(img);
	return 0;
}

/* Parses a legacy images/<hex>.json (the store before content-addressed configs): its settings
 * are in the record, its layers keyed by the sha256 of the tarball they came from. */
static int image_record_legacy_from_json(const char *id, json_t *o, struct image **ret, char **reterr)
{
	_cleanup_(image_freep) struct image *img = NULL;
	json_t *layers = json_object_get(o, "layers"), *cmd = json_object_get(o, "cmd");
	json_t *workdir = json_object_get(o, "workdir"), *created = json_object_get(o, "created_at");
	json_t *size = json_object_get(o, "size");
	int r;

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->id = strdup(id);
	if (!img->id)
		return -ENOMEM;
	r = image_record_strv_from_json(layers, 4096, &img->layers);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !img->layers[0])
		return err_set(reterr, -EINVAL, "\"layers\" must be a non-empty array of layer digests");
	/* Layer paths are built from these strings, so they must be exactly digests. */
	for (char **l = img->layers; *l; l++)
		if (!image_digest_valid(*l))
			return err_set(reterr, -EINVAL, "invalid layer digest \"%s\"", *l);
	r = image_record_strv_from_json(json_object_get(o, "env"), 4096, &img->env);
	if (r < 0)
		return r == -ENOMEM ? r : err_set(reterr, r, "\"env\" must be an array of strings");
	if (cmd && !json_is_null(cmd)) {
		r = image_record_strv_from_json(cmd, 4096, &img->cmd);
		if (r < 0)
			return r == -ENOMEM ? r : err_set(reterr, r, "\"cmd\" must be an array of strings");
	}
	if (workdir && !json_is_null(workdir)) {
		if (!json_is_string(workdir))
			return err_set(reterr, -EINVAL, "\"workdir\" must be a string");
		img->workdir = strdup(json_string_value(workdir));
		if (!img->workdir)
			return -ENOMEM;
	}
	json_t *entrypoint = json_object_get(o, "entrypoint");
	if (entrypoint && !json_is_null(entrypoint)) {
		r = image_record_strv_from_json(entrypoint, 4096, &img->entrypoint);
		if (r < 0)
			return r == -ENOMEM ? r : err_set(reterr, r, "\"entrypoint\" must be an array of strings");
	}
	if ((r = image_record_opt_string(o, "user", &img->user, reterr)) < 0 ||
	    (r = image_record_opt_string(o, "stop_signal", &img->stop_signal, reterr)) < 0)
		return r;
	img->created_at = strdup(json_is_string(created) ? json_string_value(created) : "");
	if (!img->created_at)
		return -ENOMEM;
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return err_set(reterr, -EINVAL, "\"size\" must be a non-negative integer");
	img->size = (uint64_t)json_integer_value(size);
	img->removed = json_is_true(json_object_get(o, "removed"));
	img->legacy = true;
	r = image_record_legacy_fill(img);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(img);
	return 0;
}

int image_record_write(struct image_db *s, const struct image *img, char **reterr)
{
	json_auto_t *o = img->legacy ? image_record_legacy_json(img, true) : image_record_json(img);
	_cleanup_free_ char *path = NULL;

	if (!o)
		return -ENOMEM;
	if (asprintf(&path, "%s/%s.json", s->images_dir, image_digest_hex(img->id)) < 0)
		return -ENOMEM;
	return image_db_write_json(path, o, reterr);
}

/* Loads every images/<hex>.json; a config that cannot be read is logged and skipped, so that one
 * bad file does not keep the daemon from starting. */
int image_record_load_all(struct image_db *s)
{
	_cleanup_closedir_ DIR *d = opendir(s->images_dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *data = NULL, *err = NULL, *id = NULL, *want = NULL;
		_cleanup_(image_freep) struct image *img = NULL;
		json_auto_t *o = NULL;
		size_t len = strlen(de->d_name);
		int r;

		if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
			/* A write_file_atomic() that did not finish. */
			if (unlinkat(dirfd(d), de->d_name, 0) < 0)
				log_errno(LOG_LEVEL_WARNING, -errno, "image store: removing %s/%s: %m", s->images_dir,
					  de->d_name);
			continue;
		}
		if (len != HEX_LEN + 5 || strcmp(de->d_name + HEX_LEN, ".json") != 0)
			continue;
		if (asprintf(&id, DIGEST_PREFIX "%.*s", HEX_LEN, de->d_name) < 0)
			return -ENOMEM;
		if (!image_digest_valid(id))
			continue;
		r = read_file_at(dirfd(d), de->d_name, CONFIG_MAX, &data, NULL);
		if (r < 0) {
			log_errno(LOG_LEVEL_WARNING, r, "image store: reading %s/%s: %m", s->images_dir, de->d_name);
			continue;
		}
		o = json_loads(data, 0, NULL);
		if (!json_is_object(o)) {
			log_warning("image store: %s/%s is not a JSON object, ignoring it", s->images_dir, de->d_name);
			continue;
		}
		if (json_object_get(o, "version"))
			r = image_record_from_json(s, id, o, &img, &err);
		else
			r = image_record_legacy_from_json(id, o, &img, &err);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			log_warning("image store: %s/%s: %s, ignoring it", s->images_dir, de->d_name,
				    err ? err : strerror(-r));
			continue;
		}
		if (img->legacy && image_record_legacy_id(img, &want) >= 0 && strcmp(want, id) != 0)
			log_warning("image store: %s/%s: content does not match its id (computed %s)", s->images_dir,
				    de->d_name, want);
		r = image_db_add(s, img);
		if (r < 0)
			return r;
		TAKE_PTR(img);
	}
	return errno ? -errno : 0;
}

int image_record_remove(struct image_db *db, const struct image *img, char **reterr)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s.json", db->images_dir, image_digest_hex(img->id)) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(reterr, -errno, "removing %s: %m", path);
	return 0;
}
