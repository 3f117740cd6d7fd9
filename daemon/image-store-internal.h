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

struct image_store {
	struct image_db db;
	struct event_base *base;
	struct image_trash *trash;
	struct import *imports;
};

/* image-store.c */

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

/* image-import.c */

/* Kills and reaps every running import worker and removes their directories; no callback runs. */
void image_import_free_all(struct image_store *s);
