/* The image store's pure part: see db.h.
 *
 *   <root>/layers/<hex>/        an extracted layer, used directly as an overlay lowerdir
 *   <root>/images/<hex>.json    an image record
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

#include "common/error.h"
#include "common/imagename.h"
#include "common/macros.h"
#include "common/util.h"
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
	    asprintf(&db->repos_path, "%s/repositories.json", root) < 0)
		return -ENOMEM;
	if ((r = mkdir_p(root, 0700)) < 0 || (r = mkdir_p(db->layers_dir, 0700)) < 0 ||
	    (r = mkdir_p(db->images_dir, 0700)) < 0)
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
