/* The image store: content-addressed layers, image configs and the name index under one root.
 *
 *   <root>/layers/<hex>/        the extracted layer (hex: sha256 of the tarball bytes), used
 *                               directly as an overlay lowerdir
 *   <root>/images/<hex>.json    an image config (hex: sha256 of its canonical form)
 *   <root>/repositories.json    {"names": {"alpine:latest": "sha256:<hex>", ...}}
 *   <root>/tmp/                 imports in progress; moved to the trash at open
 *   <root>/trash/               trees being deleted by a child process (image-trash.c)
 *
 * A layer appears under layers/ only by an atomic rename of a completely extracted directory, and
 * metadata files are replaced atomically, in the order layer, config, name. A crash in between
 * leaves at worst an unreferenced layer (removed at the next open) or an image without a name
 * (kept, listed with no names, removable by id).
 *
 * Imports run in a forked worker so that parsing a hostile tarball can neither block the event
 * loop nor run with the daemon's full privileges; see image-worker.c.
 *
 * This file holds the store itself: opening, freeing, lookups and the list. Image configs are in
 * image-config.c, the name index in image-names.c, removal in image-remove.c and imports in
 * image-import.c; image-store-internal.h is what they share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-store-internal.h"
#include "daemon/image-store.h"
#include "daemon/image-trash.h"
#include "protocol/messages.h"

#define ID_PREFIX_MIN 4

struct image *image_store_find_id(struct image_store *s, const char *id)
{
	for (size_t i = 0; i < s->n_images; i++)
		if (strcmp(s->images[i]->id, id) == 0)
			return s->images[i];
	return NULL;
}

bool image_store_layer_used(struct image_store *s, const char *digest, const struct image *except)
{
	for (size_t i = 0; i < s->n_images; i++) {
		if (s->images[i] == except)
			continue;
		for (char **l = s->images[i]->layers; *l; l++)
			if (strcmp(*l, digest) == 0)
				return true;
	}
	return false;
}

int image_store_add(struct image_store *s, struct image *img)
{
	struct image **n = realloc(s->images, (s->n_images + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->images = n;
	s->images[s->n_images++] = img;
	return 0;
}

/* The proto_image_info of an image. */
json_t *image_store_info(struct image_store *s, const struct image *img)
{
	_cleanup_free_ const char **names = image_names_of(s, img->id, NULL);
	json_auto_t *jnames = NULL, *jlayers = NULL;

	if (!names)
		return NULL;
	jnames = image_config_strv_to_json((char **)names);
	jlayers = image_config_strv_to_json(img->layers);
	if (!jnames || !jlayers)
		return NULL;
	return proto_image_info_encode(&(struct proto_image_info){
		.id = img->id,
		.names = jnames,
		.layers = jlayers,
		.created_at = img->created_at,
		.size = img->size,
	});
}

int image_store_open(struct event_base *base, const char *root, struct image_store **ret, char **reterr)
{
	struct image_store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base = base;
	s->names = json_object();
	if (!s->names || !(s->root = strdup(root)) || asprintf(&s->layers_dir, "%s/layers", root) < 0 ||
	    asprintf(&s->images_dir, "%s/images", root) < 0 || asprintf(&s->tmp_dir, "%s/tmp", root) < 0 ||
	    asprintf(&s->trash_dir, "%s/trash", root) < 0 ||
	    asprintf(&s->repos_path, "%s/repositories.json", root) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = mkdir_p(root, 0700)) < 0 || (r = mkdir_p(s->layers_dir, 0700)) < 0 ||
	    (r = mkdir_p(s->images_dir, 0700)) < 0) {
		r = err_set(reterr, r, "creating the image store in %s: %m", root);
		goto fail;
	}
	/* The trash is emptied in the background, including what a crash left in it. */
	r = image_trash_open(base, s->trash_dir, &s->trash, reterr);
	if (r < 0)
		goto fail;
	/* Nothing in tmp/ survives a restart: imports in progress died with the daemon. */
	r = image_trash_put(s->trash, s->tmp_dir);
	if (r < 0) {
		r = err_set(reterr, r, "cleaning %s: %m", s->tmp_dir);
		goto fail;
	}
	if (mkdir(s->tmp_dir, 0700) < 0) {
		r = err_set(reterr, -errno, "creating %s: %m", s->tmp_dir);
		goto fail;
	}
	r = image_config_load_all(s);
	if (r < 0) {
		r = err_set(reterr, r, "loading image configs from %s: %m", s->images_dir);
		goto fail;
	}
	r = image_names_load(s, reterr);
	if (r < 0)
		goto fail;
	r = image_remove_unused_layers(s);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: cleaning %s: %m", s->layers_dir);
	*ret = s;
	return 0;
fail:
	image_store_free(s);
	return r;
}

void image_store_free(struct image_store *s)
{
	if (!s)
		return;
	image_import_free_all(s);
	image_trash_free(s->trash);
	for (size_t i = 0; i < s->n_images; i++)
		image_free(s->images[i]);
	free(s->images);
	json_decref(s->names);
	free(s->root);
	free(s->layers_dir);
	free(s->images_dir);
	free(s->tmp_dir);
	free(s->trash_dir);
	free(s->repos_path);
	free(s);
}

/* Finds an image by id ("sha256:<hex>", or at least 4 hex digits of it, with or without the
 * prefix). Returns NULL with errno ENOENT, or EINVAL when the prefix is ambiguous. */
static struct image *image_store_find_id_prefix(struct image_store *s, const char *ref, char **reterr)
{
	const char *hex = str_startswith(ref, DIGEST_PREFIX) ? ref + strlen(DIGEST_PREFIX) : ref;
	struct image *found = NULL;
	size_t len = strlen(hex);

	if (image_config_is_hex(hex, ID_PREFIX_MIN, HEX_LEN)) {
		for (size_t i = 0; i < s->n_images; i++) {
			if (strncmp(s->images[i]->id + strlen(DIGEST_PREFIX), hex, len) != 0)
				continue;
			if (found) {
				err_set(reterr, -EINVAL, "image id prefix %s is ambiguous", ref);
				errno = EINVAL;
				return NULL;
			}
			found = s->images[i];
		}
	}
	if (!found) {
		err_set(reterr, -ENOENT, "no such image: %s", ref);
		errno = ENOENT;
	}
	return found;
}

/* Finds an image by name first (as Docker does: a name that looks like hex is still a name), then
 * by id. Sets *ret_name to the normalized name when it matched by name. NULL with errno set when
 * there is no such image. */
struct image *image_store_resolve(struct image_store *s, const char *ref, char **ret_name, char **reterr)
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
	    (id = json_object_get(s->names, norm)) && (img = image_store_find_id(s, json_string_value(id)))) {
		if (ret_name)
			*ret_name = TAKE_PTR(norm);
		return img;
	}
	return image_store_find_id_prefix(s, ref, reterr);
}

const struct image *image_store_lookup(struct image_store *s, const char *ref, char **reterr)
{
	return image_store_resolve(s, ref, NULL, reterr);
}

int image_store_layer_path(struct image_store *s, const char *digest, char **ret)
{
	char *path;

	if (!digest || !image_config_digest_valid(digest))
		return -EINVAL;
	if (!image_store_layer_used(s, digest, NULL))
		return -ENOENT;
	if (asprintf(&path, "%s/%s", s->layers_dir, digest + strlen(DIGEST_PREFIX)) < 0)
		return -ENOMEM;
	*ret = path;
	return 0;
}

struct list_item {
	const struct image *img;
	const char **names;
};

/* Named images first, by their first name; then the unnamed ones by id. */
static int image_store_cmp_list_item(const void *a, const void *b)
{
	const struct list_item *x = a, *y = b;

	if (x->names[0] && y->names[0])
		return strcmp(x->names[0], y->names[0]);
	if (x->names[0] || y->names[0])
		return x->names[0] ? -1 : 1;
	return strcmp(x->img->id, y->img->id);
}

json_t *image_store_list(struct image_store *s)
{
	_cleanup_free_ struct list_item *items = calloc(s->n_images + 1, sizeof(*items));
	json_t *list = json_array();
	size_t i;

	if (!items || !list)
		goto fail;
	for (i = 0; i < s->n_images; i++) {
		items[i].img = s->images[i];
		items[i].names = image_names_of(s, s->images[i]->id, NULL);
		if (!items[i].names)
			goto fail;
	}
	qsort(items, s->n_images, sizeof(*items), image_store_cmp_list_item);
	for (i = 0; i < s->n_images; i++)
		if (json_array_append_new(list, image_store_info(s, items[i].img)) < 0)
			goto fail;
	for (i = 0; i < s->n_images; i++)
		free(items[i].names);
	return list;
fail:
	for (i = 0; items && i < s->n_images; i++)
		free(items[i].names);
	json_decref(list);
	return NULL;
}

size_t image_store_count(struct image_store *s)
{
	return s->n_images;
}
