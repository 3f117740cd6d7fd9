/* The image store's daemon side: the pure store (image/db.c) with the trash, the workers and the
 * wire form of its lookups. Removal is in image-remove.c and imports in image-import.c;
 * image-store-internal.h is what they share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-store-internal.h"
#include "daemon/image-store.h"
#include "daemon/image-trash.h"
#include "daemon/image-unpack.h"
#include "protocol/messages.h"

/* The proto_image_info of an image. */
json_t *image_store_info(struct image_store *s, const struct image *img)
{
	_cleanup_free_ const char **names = image_names_of(&s->db, img->id, NULL);
	json_auto_t *jnames = NULL, *jlayers = NULL, *jdigests = NULL, *jlabels = json_object();

	if (!names || !jlabels)
		return NULL;
	jnames = image_record_strv_to_json((char **)names);
	jlayers = image_record_strv_to_json(img->layers);
	jdigests = image_record_strv_to_json(img->repo_digests);
	if (!jnames || !jlayers || !jdigests)
		return NULL;
	for (char **l = img->labels; l && *l; l++) {
		size_t klen = strcspn(*l, "=");
		_cleanup_free_ char *key = strndup(*l, klen);
		if (!key || json_object_set_new(jlabels, key, json_string(*l + klen + ((*l)[klen] ? 1 : 0))) < 0)
			return NULL;
	}
	return proto_image_info_encode(&(struct proto_image_info){
		.id = img->id,
		.names = jnames,
		.layers = jlayers,
		.created_at = img->created_at,
		.size = img->size,
		.repo_digests = jdigests,
		.labels = jlabels,
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
	r = image_db_init(&s->db, root, reterr);
	if (r < 0)
		goto fail;
	/* The trash is emptied in the background, including what a crash left in it. */
	r = image_trash_open(base, s->db.trash_dir, &s->trash, reterr);
	if (r < 0)
		goto fail;
	/* Nothing in tmp/ survives a restart: imports in progress died with the daemon. */
	r = image_trash_put(s->trash, s->db.tmp_dir);
	if (r < 0) {
		r = err_set(reterr, r, "cleaning %s: %m", s->db.tmp_dir);
		goto fail;
	}
	if (mkdir(s->db.tmp_dir, 0700) < 0) {
		r = err_set(reterr, -errno, "creating %s: %m", s->db.tmp_dir);
		goto fail;
	}
	r = image_db_load(&s->db, reterr);
	if (r < 0)
		goto fail;
	r = image_remove_unused_layers(s);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: cleaning %s: %m", s->db.layers_dir);
	r = image_remove_unused_blobs(s);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: cleaning %s: %m", s->db.blobs_dir);
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
	image_unpack_free_all(s);
	image_manifest_free_all(s);
	image_import_free_all(s);
	image_trash_free(s->trash);
	image_db_done(&s->db);
	free(s);
}

const struct image *image_store_lookup(struct image_store *s, const char *ref, char **reterr)
{
	const struct image *img = image_db_resolve(&s->db, ref, NULL, reterr);

	/* An image rmi -f kept for its stopped containers is gone for everyone else. */
	if (img && img->removed) {
		err_set(reterr, -ENOENT, "no such image: %s", ref);
		errno = ENOENT;
		return NULL;
	}
	return img;
}

const struct image *image_store_lookup_id(struct image_store *s, const char *id)
{
	return image_digest_valid(id) ? image_db_find_id(&s->db, id) : NULL;
}

int image_store_layer_path(struct image_store *s, const char *digest, char **ret)
{
	if (!digest || !image_digest_valid(digest))
		return -EINVAL;
	if (!image_db_layer_used(&s->db, digest, NULL))
		return -ENOENT;
	return image_db_layer_dir(&s->db, digest, ret);
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
	_cleanup_free_ struct list_item *items = calloc(s->db.n_images + 1, sizeof(*items));
	json_t *list = json_array();
	size_t i, n = 0;

	if (!items || !list)
		goto fail;
	/* Removed images kept for their containers are listed nowhere. */
	for (i = 0; i < s->db.n_images; i++) {
		if (s->db.images[i]->removed)
			continue;
		items[n].img = s->db.images[i];
		items[n].names = image_names_of(&s->db, s->db.images[i]->id, NULL);
		if (!items[n++].names)
			goto fail;
	}
	qsort(items, n, sizeof(*items), image_store_cmp_list_item);
	for (i = 0; i < n; i++)
		if (json_array_append_new(list, image_store_info(s, items[i].img)) < 0)
			goto fail;
	for (i = 0; i < n; i++)
		free(items[i].names);
	return list;
fail:
	for (i = 0; items && i < n; i++)
		free(items[i].names);
	json_decref(list);
	return NULL;
}

size_t image_store_count(struct image_store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->db.n_images; i++)
		n += !s->db.images[i]->removed;
	return n;
}

const char *image_store_blobs_dir(struct image_store *s)
{
	return s->db.blobs_dir;
}

const char *image_store_ingest_dir(struct image_store *s)
{
	return s->db.ingest_dir;
}

bool image_store_layer_present(struct image_store *s, const char *diff_id)
{
	_cleanup_free_ char *dir = NULL;

	return image_db_layer_dir(&s->db, diff_id, &dir) >= 0 && access(dir, F_OK) == 0;
}

bool image_store_layer_busy(struct image_store *s, const char *diff_id)
{
	return image_db_layer_used(&s->db, diff_id, NULL) || image_manifest_layer_pending(s, diff_id);
}

int image_store_commit(struct image_store *s, const char *config_digest, const struct image_layer *layers, size_t n,
		       const char *manifest_digest, const char *const *names, const char *repo_digest,
		       json_t **ret_info, char **reterr)
{
	struct image *img;
	bool created;
	json_t *info;
	int r;

	r = image_db_register(&s->db, config_digest, layers, n, manifest_digest, repo_digest, &img, &created, reterr);
	if (r < 0)
		return r;
	r = image_names_set(&s->db, names, img->id, reterr);
	if (r < 0) {
		if (created)
			image_remove_image(s, img, NULL);
		return r;
	}
	info = image_store_info(s, img);
	if (!info)
		return -ENOMEM;
	*ret_info = info;
	return 0;
}
