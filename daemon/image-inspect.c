/* What the store answers beyond lookups: image inspect and history in Docker's shapes (from the
 * verbatim config), tag, prune and the images row of system df. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "daemon/image-store-internal.h"

/* The settings of a legacy image in the config's shape. */
static json_t *image_inspect_legacy_config(const struct image *img)
{
	return json_pack("{s:o, s:o*, s:o*, s:s?, s:s?, s:s?}", "Env", image_record_strv_to_json(img->env), "Cmd",
			 img->cmd ? image_record_strv_to_json(img->cmd) : NULL, "Entrypoint",
			 img->entrypoint ? image_record_strv_to_json(img->entrypoint) : NULL, "WorkingDir",
			 img->workdir, "User", img->user, "StopSignal", img->stop_signal);
}

/* The image's "Config" as Docker's inspect shows it: the config's own object, with null for the
 * keys it leaves out, so templates may name any of them. */
static json_t *image_inspect_config(const struct image *img)
{
	static const char *const keys[] = {"User",	 "ExposedPorts", "Env",	   "Cmd",	 "Volumes",
					   "WorkingDir", "Entrypoint",	 "Labels", "StopSignal", NULL};
	json_t *c = img->config ? json_object_get(img->config, "config") : NULL;
	json_t *o = json_is_object(c) ? json_deep_copy(c)
		    : img->legacy     ? image_inspect_legacy_config(img)
				      : json_object();

	for (const char *const *k = keys; o && *k; k++)
		if (!json_object_get(o, *k) && json_object_set_new(o, *k, json_null()) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/* A string member of the config, or dflt. */
static const char *image_inspect_config_str(const struct image *img, const char *key, const char *dflt)
{
	json_t *v = img->config ? json_object_get(img->config, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : dflt;
}

/* The image ref names, but not one that is removed and kept only for its containers: NULL with
 * errno ENOENT (and a message) then, as for no image at all. */
static const struct image *image_inspect_lookup(struct image_store *s, const char *ref, char **reterr)
{
	const struct image *img = image_store_lookup(s, ref, reterr);

	if (!img || img->removed) {
		if (img)
			err_set(reterr, -ENOENT, "no such image: %s", ref);
		errno = ENOENT;
		return NULL;
	}
	return img;
}

json_t *image_store_inspect(struct image_store *s, const char *ref, char **reterr)
{
	_cleanup_free_ const char **names = NULL;
	json_t *history = NULL, *last;
	const char *comment = "";
	const struct image *img;

	if (!(img = image_inspect_lookup(s, ref, reterr)))
		return NULL;
	names = image_names_of(&s->db, img->id, NULL);
	if (!names)
		return NULL;
	if (img->config)
		history = json_object_get(img->config, "history");
	last = json_is_array(history) ? json_array_get(history, json_array_size(history) - 1) : NULL;
	if (json_is_string(json_object_get(last, "comment")))
		comment = json_string_value(json_object_get(last, "comment"));
	return json_pack(
	    "{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:{s:s, s:o}, s:s*}", "Id", img->id, "RepoTags",
	    image_record_strv_to_json((char **)names), "RepoDigests", image_record_strv_to_json(img->repo_digests),
	    "Parent", "", "Comment", comment, "Created", img->created_at ? img->created_at : "", "Author",
	    image_inspect_config_str(img, "author", ""), "Config", image_inspect_config(img), "Architecture",
	    image_inspect_config_str(img, "architecture", "amd64"), "Os", image_inspect_config_str(img, "os", "linux"),
	    "Size", (json_int_t)img->size, "RootFS", "Type", "layers", "Layers", image_record_strv_to_json(img->layers),
	    "ManifestDigest", img->manifest_digest);
}

json_t *image_store_history(struct image_store *s, const char *ref, char **reterr)
{
	json_auto_t *rows = json_array();
	const struct image *img;
	json_t *history = NULL, *h;
	size_t i, layer = 0;

	if (!(img = image_inspect_lookup(s, ref, reterr)))
		return NULL;
	if (!rows)
		return NULL;
	if (img->config)
		history = json_object_get(img->config, "history");
	if (json_is_array(history) && json_array_size(history) > 0) {
		/* Each entry that made a layer has that layer's size, in order. */
		json_array_foreach(history, i, h) {
			json_t *created = json_object_get(h, "created"), *by = json_object_get(h, "created_by");
			json_t *comment = json_object_get(h, "comment");
			uint64_t size = 0;
			if (!json_is_true(json_object_get(h, "empty_layer")) && layer < img->n_layers)
				size = img->layer_info[layer++].unpacked_size;
			if (json_array_insert_new(
				rows, 0,
				json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", "<missing>", "created",
					  json_is_string(created) ? json_string_value(created) : "", "created_by",
					  json_is_string(by) ? json_string_value(by) : "", "size", (json_int_t)size,
					  "comment", json_is_string(comment) ? json_string_value(comment) : "")) < 0)
				return NULL;
		}
	} else {
		/* No history (a legacy image): a row per layer. */
		for (i = 0; i < img->n_layers; i++)
			if (json_array_insert_new(rows, 0,
						  json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", "<missing>", "created",
							    img->created_at ? img->created_at : "", "created_by", "",
							    "size", (json_int_t)img->layer_info[i].unpacked_size,
							    "comment", "")) < 0)
				return NULL;
	}
	/* The newest row is the image itself, as docker history shows it. */
	if (json_array_size(rows) > 0 && json_object_set_new(json_array_get(rows, 0), "id", json_string(img->id)) < 0)
		return NULL;
	return json_pack("{s:O}", "history", rows);
}

int image_store_tag(struct image_store *s, const char *source, const char *target, char **ret_id, char **ret_name,
		    char **reterr)
{
	_cleanup_free_ char *norm = NULL;
	const struct image *img;
	int r;

	img = image_store_lookup(s, source, reterr);
	if (!img || img->removed) {
		if (img)
			return err_set(reterr, -ENOENT, "no such image: %s", source);
		return -errno;
	}
	r = image_name_normalize(target, &norm, reterr);
	if (r < 0)
		return r;
	r = image_names_set(&s->db, (const char *const[]){ norm, NULL }, img->id, reterr);
	if (r < 0)
		return r;
	if (ret_id && !(*ret_id = strdup(img->id)))
		return -ENOMEM;
	if (ret_name)
		*ret_name = TAKE_PTR(norm);
	return 0;
}

/* Bytes the layers of img would free if it went: those no other image uses or a manifest wants. */
static uint64_t image_prune_layer_bytes(struct image_store *s, const struct image *img)
{
	uint64_t size = 0;

	for (size_t i = 0; i < img->n_layers; i++) {
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen |= strcmp(img->layers[k], img->layers[i]) == 0;
		if (!seen && !image_db_layer_used(&s->db, img->layers[i], img) &&
		    !image_manifest_layer_pending(s, img->layers[i]))
			size += img->layer_info[i].unpacked_size;
	}
	return size;
}

int image_store_prune(struct image_store *s, bool all, image_usage_fn usage, void *userdata, json_t **ret_deleted,
		      uint64_t *ret_reclaimed, char **reterr)
{
	json_auto_t *deleted = json_array();
	uint64_t reclaimed = 0;
	int r;

	if (!deleted)
		return -ENOMEM;
	image_remove_collect(s, usage, userdata);
	for (size_t i = 0; i < s->db.n_images;) {
		struct image *img = s->db.images[i];
		_cleanup_free_ const char **names = NULL;
		size_t n = 0;

		/* Dangling (no name) images, or with all, every image no container uses. */
		names = image_names_of(&s->db, img->id, &n);
		if (!names)
			return -ENOMEM;
		if (img->removed || (n > 0 && !all) || (usage && usage(img->id, userdata) != IMAGE_UNUSED)) {
			i++;
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			_cleanup_free_ char *line = NULL;
			if (asprintf(&line, "Untagged: %s", names[k]) < 0 ||
			    json_array_append_new(deleted, json_string(line)) < 0)
				return -ENOMEM;
			json_object_del(s->db.names, names[k]);
		}
		if (n > 0 && (r = image_names_save(&s->db, reterr)) < 0)
			return r;
		_cleanup_free_ char *line = NULL;
		if (asprintf(&line, "Deleted: %s", img->id) < 0 ||
		    json_array_append_new(deleted, json_string(line)) < 0)
			return -ENOMEM;
		reclaimed += image_prune_layer_bytes(s, img);
		r = image_remove_image(s, img, reterr);
		if (r < 0)
			return r;
		/* The last image took its place: look at index i again. */
	}
	*ret_deleted = TAKE_PTR(deleted);
	*ret_reclaimed = reclaimed;
	return 0;
}

int image_store_df(struct image_store *s, image_usage_fn usage, void *userdata, unsigned *ret_total,
		   unsigned *ret_active, uint64_t *ret_size, uint64_t *ret_reclaimable)
{
	_cleanup_free_ bool *active = calloc(s->db.n_images + 1, sizeof(bool));
	unsigned total = 0, n_active = 0;
	uint64_t size = 0, reclaimable = 0;

	if (!active)
		return -ENOMEM;
	for (size_t i = 0; i < s->db.n_images; i++) {
		const struct image *img = s->db.images[i];
		active[i] = img->removed || (usage && usage(img->id, userdata) != IMAGE_UNUSED);
		if (!img->removed) {
			total++;
			n_active += active[i];
		}
	}
	/* Each layer counts once, however many images share it; it is reclaimable when no image a
	 * container uses has it. */
	for (size_t i = 0; i < s->db.n_images; i++) {
		const struct image *img = s->db.images[i];
		for (size_t l = 0; l < img->n_layers; l++) {
			bool first = true, used = false;
			for (size_t k = 0; k < s->db.n_images && first; k++)
				for (size_t m = 0; m < s->db.images[k]->n_layers; m++) {
					if (strcmp(s->db.images[k]->layers[m], img->layers[l]) != 0)
						continue;
					if (k < i || (k == i && m < l))
						first = false;
					used |= active[k];
				}
			if (!first)
				continue;
			size += img->layer_info[l].unpacked_size;
			if (!used)
				reclaimable += img->layer_info[l].unpacked_size;
		}
	}
	*ret_total = total;
	*ret_active = n_active;
	*ret_size = size;
	*ret_reclaimable = reclaimable;
	return 0;
}
