/* What the daemon's files of the image store share, and no other module may use: the store
 * (the pure image_db of image/ plus the event-loop parts) and what each part provides to the
 * others (image-store.c: the store and lookups; image-remove.c: removal and layer collection;
 * image-import.c: imports). All of it runs on the event loop's thread. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/image-store.h"
#include "image/db.h"
#include "image/digest.h"
#include "image/names.h"
#include "image/record.h"

struct event_base;
struct image_trash;
struct import;
struct layer_job;
struct manifest_job;
struct unpack;

struct image_store {
	struct image_db db;
	struct event_base *base;
	struct image_trash *trash;
	struct import *imports;
	struct unpack *unpacks;
	struct manifest_job *manifests;
	struct layer_job *layer_jobs;
	unsigned n_unpacks_started; /* workers started, for tests */
};

/* image-store.c */

/* Registers an image (image_db_register) and points names at it; on failure a new record is
 * removed again. *ret_info: its proto_image_info. */
int image_store_commit(struct image_store *s, const char *config_digest, const struct image_layer *layers, size_t n,
		       const char *manifest_digest, const char *const *names, const char *repo_digest,
		       json_t **ret_info, char **reterr);
/* Whether a layer is used by an image or wanted by a manifest being added. */
bool image_store_layer_busy(struct image_store *s, const char *diff_id);

/* The proto_image_info object of an image, or NULL on allocation failure. */
json_t *image_store_info(struct image_store *s, const struct image *img);

/* image-remove.c */

/* Deletes a directory tree in the background (through the trash). */
void image_remove_tree(struct image_store *s, const char *path);
/* Deletes the directory of a layer in the background. */
void image_remove_layer(struct image_store *s, const char *digest);
/* Removes an image (whose names are gone) from memory and disk, with its now unused layers. */
int image_remove_image(struct image_store *s, struct image *img, char **reterr);
/* Removes the layer directories no image refers to. */
int image_remove_unused_layers(struct image_store *s);
/* Removes a blob unless an image or a manifest being added names it. */
void image_remove_blob(struct image_store *s, const char *digest);
/* Removes every blob no image names (at open, when nothing is being added). */
int image_remove_unused_blobs(struct image_store *s);
/* Removes the images rmi -f kept for stopped containers that no container uses any more. */
void image_remove_collect(struct image_store *s, image_usage_fn usage, void *userdata);

/* image-import.c */

/* Frees every pending import; no callback runs. */
void image_import_free_all(struct image_store *s);

/* image-manifest.c */

/* Frees every pending manifest and layer job; no callback runs. */
void image_manifest_free_all(struct image_store *s);
void image_manifest_cancel_callbacks(struct image_store *s, void *userdata);
/* Whether a manifest being added needs the layer. */
bool image_manifest_layer_pending(struct image_store *s, const char *diff_id);
/* Whether a manifest being added names the blob (manifest, config or layer). */
bool image_manifest_blob_pending(struct image_store *s, const char *digest);
