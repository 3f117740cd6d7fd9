/* What the files of the image store share, and no other module may use: the store itself, the
 * layout constants, and what each part (image-store.c: the store and lookups; image-config.c:
 * image configs; image-names.c: the name index; image-remove.c: removal and layer collection;
 * image-import.c: imports) provides to the others. All of it runs on the event loop's thread. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/image-store.h"

#define DIGEST_PREFIX "sha256:"
#define HEX_LEN 64

struct event_base;
struct image_trash;
struct import;

struct image_store {
	struct event_base *base;
	char *root, *layers_dir, *images_dir, *tmp_dir, *trash_dir, *repos_path;
	struct image_trash *trash;
	struct image **images;
	size_t n_images;
	json_t *names;  /* "name:tag" -> "sha256:<hex>" */
	struct import *imports;
};

/* image-store.c */

/* The image with exactly this id ("sha256:<hex>"), or NULL. */
struct image *image_store_find_id(struct image_store *s, const char *id);
/* Whether an image other than except (may be NULL) has the layer digest. */
bool image_store_layer_used(struct image_store *s, const char *digest, const struct image *except);
/* Adds img to the in-memory list, which owns it on success. */
int image_store_add(struct image_store *s, struct image *img);
/* Finds an image by name first, then by id (prefix); *ret_name is set to the normalized name
 * when it matched by name. NULL with errno (and a message) when there is no such image. */
struct image *image_store_resolve(struct image_store *s, const char *ref, char **ret_name, char **reterr);
/* The proto_image_info object of an image, or NULL on allocation failure. */
json_t *image_store_info(struct image_store *s, const struct image *img);

/* image-config.c */

/* Whether s is between min and max lowercase hex digits. */
bool image_config_is_hex(const char *s, size_t min, size_t max);
/* Whether s is "sha256:" followed by 64 lowercase hex digits. */
bool image_config_digest_valid(const char *s);
/* A JSON array of the strings of the NULL-terminated v (NULL: empty), or NULL on failure. */
json_t *image_config_strv_to_json(char **v);
/* Frees an image and what it owns (NULL is fine); image_freep() is its _cleanup_ form. */
void image_free(struct image *img);
void image_freep(struct image **img);
/* The image config as JSON; with meta, also its creation time and size. */
json_t *image_config_json(const struct image *img, bool meta);
/* The image id computed from the content part of its config. */
int image_config_compute_id(const struct image *img, char **ret);
/* Writes images/<hex>.json atomically. */
int image_config_write(struct image_store *s, const struct image *img, char **reterr);
/* Loads every images/<hex>.json into the store, skipping unreadable ones. */
int image_config_load_all(struct image_store *s);

/* image-names.c */

/* The names pointing at id, sorted (borrowed strings, NULL-terminated; free the array). */
const char **image_names_of(struct image_store *s, const char *id, size_t *ret_n);
/* How many names point at id. */
size_t image_names_count(struct image_store *s, const char *id);
/* Writes the name index to repositories.json atomically. */
int image_names_save(struct image_store *s, char **reterr);
/* Loads repositories.json, dropping names that are malformed or point to unknown images. */
int image_names_load(struct image_store *s, char **reterr);

/* image-remove.c */

/* Deletes a directory tree in the background (through the trash). */
void image_remove_tree(struct image_store *s, const char *path);
/* Deletes the directory of a layer in the background. */
void image_remove_layer(struct image_store *s, const char *digest);
/* Removes an image (whose names are gone) from memory and disk, with its now unused layers. */
int image_remove_image(struct image_store *s, struct image *img, char **reterr);
/* Removes the layer directories no image refers to. */
int image_remove_unused_layers(struct image_store *s);

/* image-import.c */

/* Kills and reaps every running import worker and removes their directories; no callback runs. */
void image_import_free_all(struct image_store *s);
