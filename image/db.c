/* The image store's pure part: see db.h.
 *
 *   <root>/blobs/sha256/<hex>   verbatim blobs: manifests, configs, layer tarballs (blobs.c)
 *   <root>/ingest/              partial downloads (<hex>.partial), kept across restarts
 *   <root>/layers/<hex>/        an unpacked layer (hex: its diff_id), whiteouts in overlayfs'
 *                               form, used directly as an overlay lowerdir
 *   <root>/images/<hex>.json    an image record (hex: the config's digest, the image id)
 *   <root>/repositories.json    {"names": {"alpine:latest": "sha256:<hex>", ...}}
 *   <root>/tmp/                 work in progress; wiped at open
 *   <root>/trash/               trees being deleted in the background
 *
 * A layer appears under layers/ only by an atomic rename of a completely extracted directory, and
 * metadata files are replaced atomically, in the order layer, record, name. A crash in between
 * leaves at worst an unreferenced layer (removed at the next open) or an image without a name
 * (kept, listed with no names, removable by id). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/blobs.h"
#include "image/config.h"
#include "image/db.h"
#include "image/names.h"
#include "image/record.h"

#define ID_PREFIX_MIN 4

int image_db_init(struct image_db *db, const char *root, char **reterr)
{
	int r;

	memset(db, 0, sizeof(*db));
	db->names = json_object();
	if (!db->names || !(db->root = strdup(root)) || asprintf(&db->layers_dir, "%s/layers", root) < 0 ||
	    asprintf(&db->images_dir, "%s/images", root) < 0 || asprintf(&db->tmp_dir, "%s/tmp", root) < 0 ||
	    asprintf(&db->trash_dir, "%s/trash", root) < 0 ||
	    asprintf(&db->repos_path, "%s/repositories.json", root) < 0 ||
	    asprintf(&db->blobs_dir, "%s/blobs/sha256", root) < 0 || asprintf(&db->ingest_dir, "%s/ingest", root) < 0)
		return -ENOMEM;
	if ((r = mkdir_p(root, 0700)) < 0 || (r = mkdir_p(db->layers_dir, 0700)) < 0 ||
	    (r = mkdir_p(db->images_dir, 0700)) < 0 || (r = mkdir_p(db->blobs_dir, 0700)) < 0 ||
	    (r = mkdir_p(db->ingest_dir, 0700)) < 0)
		return err_set(reterr, r, "creating the image store in %s: %m", root);
	return 0;
}

int image_db_load(struct image_db *db, char **reterr)
{
	int r = image_record_load_all(db);
	if (r < 0)
		return err_set(reterr, r, "loading image records from %s: %m", db->images_dir);
	return image_names_load(db, reterr);
}

void image_db_done(struct image_db *db)
{
	for (size_t i = 0; i < db->n_images; i++)
		image_free(db->images[i]);
	free(db->images);
	json_decref(db->names);
	free(db->root);
	free(db->layers_dir);
	free(db->images_dir);
	free(db->tmp_dir);
	free(db->trash_dir);
	free(db->repos_path);
	free(db->blobs_dir);
	free(db->ingest_dir);
	memset(db, 0, sizeof(*db));
}

struct image *image_db_find_id(struct image_db *db, const char *id)
{
	for (size_t i = 0; i < db->n_images; i++)
		if (strcmp(db->images[i]->id, id) == 0)
			return db->images[i];
	return NULL;
}

bool image_db_layer_used(struct image_db *db, const char *digest, const struct image *except)
{
	for (size_t i = 0; i < db->n_images; i++) {
		if (db->images[i] == except)
			continue;
		for (char **l = db->images[i]->layers; *l; l++)
			if (strcmp(*l, digest) == 0)
				return true;
	}
	return false;
}

int image_db_add(struct image_db *db, struct image *img)
{
	struct image **n = realloc(db->images, (db->n_images + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	db->images = n;
	db->images[db->n_images++] = img;
	return 0;
}

void image_db_forget(struct image_db *db, struct image *img)
{
	size_t i;

	for (i = 0; i < db->n_images && db->images[i] != img; i++)
		;
	if (i < db->n_images)
		db->images[i] = db->images[--db->n_images];
}

/* Finds an image by id ("sha256:<hex>", or at least 4 hex digits of it, with or without the
 * prefix). Returns NULL with errno ENOENT, or EINVAL when the prefix is ambiguous. */
static struct image *image_db_find_id_prefix(struct image_db *db, const char *ref, char **reterr)
{
	const char *hex = str_startswith(ref, DIGEST_PREFIX) ? ref + strlen(DIGEST_PREFIX) : ref;
	struct image *found = NULL;
	size_t len = strlen(hex);

	if (image_digest_is_hex(hex, ID_PREFIX_MIN, HEX_LEN)) {
		for (size_t i = 0; i < db->n_images; i++) {
			if (strncmp(db->images[i]->id + strlen(DIGEST_PREFIX), hex, len) != 0)
				continue;
			/* A removed image, kept for its containers, answers only to its full id. */
			if (db->images[i]->removed && len != HEX_LEN)
				continue;
			if (found) {
				err_set(reterr, -EINVAL, "image id prefix %s is ambiguous", ref);
				errno = EINVAL;
				return NULL;
			}
			found = db->images[i];
		}
	}
	if (!found) {
		err_set(reterr, -ENOENT, "no such image: %s", ref);
		errno = ENOENT;
	}
	return found;
}

/* Finds an image by name first (as Docker does: a name that looks like hex is still a name), then
 * by id. */
struct image *image_db_resolve(struct image_db *db, const char *ref, char **ret_name, char **reterr)
{
	_cleanup_free_ char *norm = NULL;
	struct image *img;
	json_t *id;

	if (!ref || !*ref) {
		err_set(reterr, -EINVAL, "empty image reference");
		errno = EINVAL;
		return NULL;
	}
	if (!str_startswith(ref, DIGEST_PREFIX) && image_name_normalize(ref, &norm, NULL) >= 0 &&
	    (id = json_object_get(db->names, norm)) && (img = image_db_find_id(db, json_string_value(id)))) {
		if (ret_name)
			*ret_name = TAKE_PTR(norm);
		return img;
	}
	return image_db_find_id_prefix(db, ref, reterr);
}

int image_db_layer_dir(struct image_db *db, const char *digest, char **ret)
{
	if (!image_digest_valid(digest))
		return -EINVAL;
	if (asprintf(ret, "%s/%s", db->layers_dir, image_digest_hex(digest)) < 0)
		return -ENOMEM;
	return 0;
}

int image_db_unused_layers(struct image_db *db, bool (*used)(const char *digest, void *userdata), void *userdata,
			   char ***ret)
{
	_cleanup_closedir_ DIR *d = opendir(db->layers_dir);
	_cleanup_strv_free_ char **v = NULL;
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return -errno;
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	while ((errno = 0, de = readdir(d))) {
		char digest[DIGEST_SIZE];

		if (strlen(de->d_name) != HEX_LEN || !image_digest_is_hex(de->d_name, HEX_LEN, HEX_LEN))
			continue;
		snprintf(digest, sizeof(digest), DIGEST_PREFIX "%s", de->d_name);
		if (image_db_layer_used(db, digest, NULL) || (used && used(digest, userdata)))
			continue;
		char **nv = reallocarray(v, n + 2, sizeof(char *));
		if (!nv)
			return -ENOMEM;
		v = nv;
		if (!(v[n] = strdup(digest)))
			return -ENOMEM;
		v[++n] = NULL;
	}
	if (errno)
		return -errno;
	*ret = TAKE_PTR(v);
	return 0;
}

/* Sums the unpacked sizes of the layers. */
static uint64_t image_db_layers_size(const struct image_layer *layers, size_t n)
{
	uint64_t size = 0;

	for (size_t i = 0; i < n; i++)
		size += layers[i].unpacked_size;
	return size;
}

/* Copies a layer entry. */
static int image_db_layer_copy(struct image_layer *dst, const struct image_layer *src)
{
	*dst = (struct image_layer){ .size = src->size, .unpacked_size = src->unpacked_size };
	if (!(dst->diff_id = strdup(src->diff_id)) || (src->digest && !(dst->digest = strdup(src->digest))) ||
	    (src->media_type && !(dst->media_type = strdup(src->media_type))))
		return -ENOMEM;
	return 0;
}

/* Adds s to the NULL-terminated *v unless it is there. */
static int image_db_strv_add(char ***v, const char *s)
{
	size_t n = 0;

	for (; *v && (*v)[n]; n++)
		if (strcmp((*v)[n], s) == 0)
			return 0;
	char **nv = reallocarray(*v, n + 2, sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[n] = strdup(s)))
		return -ENOMEM;
	nv[n + 1] = NULL;
	return 0;
}

int image_db_register(struct image_db *db, const char *config_digest, const struct image_layer *layers, size_t n,
		      const char *manifest_digest, const char *repo_digest, struct image **ret, bool *ret_new,
		      char **reterr)
{
	_cleanup_(image_freep) struct image *img = NULL;
	_cleanup_strv_free_ char **diff_ids = NULL;
	_cleanup_free_ char *config = NULL;
	struct image *existing;
	size_t len, i;
	int r;

	existing = image_db_find_id(db, config_digest);
	if (existing && !existing->legacy) {
		/* The same config is the same image: it gains the manifest's digests (and comes back
		 * if it had been removed while containers used it). */
		bool changed = existing->removed;
		if (manifest_digest && !existing->manifest_digest) {
			if (!(existing->manifest_digest = strdup(manifest_digest)))
				return -ENOMEM;
			changed = true;
		}
		if (repo_digest) {
			size_t before = 0;
			while (existing->repo_digests[before])
				before++;
			if (image_db_strv_add(&existing->repo_digests, repo_digest) < 0)
				return -ENOMEM;
			changed |= existing->repo_digests[before] != NULL;
		}
		existing->removed = false;
		if (changed && (r = image_record_write(db, existing, reterr)) < 0)
			return r;
		*ret = existing;
		*ret_new = false;
		return 0;
	}
	if (existing)
		return err_set(reterr, -EEXIST, "image %s exists in the previous store format", config_digest);

	img = calloc(1, sizeof(*img));
	if (!img || !(img->id = strdup(config_digest)))
		return -ENOMEM;
	r = image_blob_read(db, config_digest, IMAGE_CONFIG_MAX, &config, &len, reterr);
	if (r < 0)
		return r;
	r = image_config_parse(config, len, img, &diff_ids, reterr);
	if (r < 0)
		return r;
	for (i = 0; i < n && diff_ids[i]; i++)
		if (strcmp(diff_ids[i], layers[i].diff_id) != 0)
			break;
	if (i != n || diff_ids[i])
		return err_set(reterr, -EINVAL, "the image config's rootfs.diff_ids do not match its layers");
	img->layers = TAKE_PTR(diff_ids);
	img->layer_info = calloc(n, sizeof(*img->layer_info));
	if (!img->layer_info)
		return -ENOMEM;
	for (i = 0; i < n; i++, img->n_layers++)
		if (image_db_layer_copy(&img->layer_info[i], &layers[i]) < 0)
			return -ENOMEM;
	if ((manifest_digest && !(img->manifest_digest = strdup(manifest_digest))) ||
	    !(img->repo_digests = calloc(1, sizeof(char *))) ||
	    (repo_digest && image_db_strv_add(&img->repo_digests, repo_digest) < 0))
		return -ENOMEM;
	if (!img->created_at) {
		struct timespec now;
		char created[64];
		clock_gettime(CLOCK_REALTIME, &now);
		format_rfc3339(&now, created, sizeof(created));
		if (!(img->created_at = strdup(created)))
			return -ENOMEM;
	}
	img->size = image_db_layers_size(layers, n);
	r = image_record_write(db, img, reterr);
	if (r < 0)
		return r;
	r = image_db_add(db, img);
	if (r < 0) {
		image_record_remove(db, img, NULL);
		return r;
	}
	*ret = TAKE_PTR(img);
	*ret_new = true;
	return 0;
}

bool image_db_layer_unpacked_size(struct image_db *db, const char *diff_id, uint64_t *ret)
{
	for (size_t i = 0; i < db->n_images; i++)
		for (size_t k = 0; k < db->images[i]->n_layers; k++)
			if (strcmp(db->images[i]->layer_info[k].diff_id, diff_id) == 0) {
				*ret = db->images[i]->layer_info[k].unpacked_size;
				return true;
			}
	return false;
}

/* The store's files are written whole or not at all (write_file_atomic), so a crash mid-write
 * leaves the previous version, never half of one. */
int image_db_write_json(const char *path, const json_t *o, char **reterr)
{
	_cleanup_free_ char *data = NULL;
	int r;

	if (!o)
		return -ENOMEM;
	data = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!data)
		return -ENOMEM;
	r = write_file_atomic(path, data, strlen(data));
	if (r < 0)
		return err_set(reterr, r, "writing %s: %m", path);
	return 0;
}
