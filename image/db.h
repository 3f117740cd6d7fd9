/* The pure part of the image store: the on-disk layout under the root, the image records in
 * memory, lookups and the decisions of layer collection. No event loop, no wire format: the
 * daemon wraps it (daemon/image-store.h) with workers, trash and replies. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"

struct image {
	char *id;          /* "sha256:<hex>" */
	char **layers;     /* layer digests "sha256:<hex>", bottom first */
	char **env;        /* the image's Env ("PATH=..."), never NULL */
	char **cmd;        /* default command, or NULL */
	char *workdir;     /* or NULL */
	char **entrypoint; /* or NULL */
	char *user;        /* "NAME|UID[:GROUP|GID]", or NULL */
	char *stop_signal; /* "SIGQUIT", "3", ..., or NULL */
	char *created_at;
	uint64_t size;     /* bytes of the extracted layers */
};

struct image_db {
	char *root, *layers_dir, *images_dir, *tmp_dir, *trash_dir, *repos_path;
	struct image **images;
	size_t n_images;
	json_t *names; /* "name:tag" -> "sha256:<hex>" */
};

/* Creates the layout under root (mode 0700) and fills the paths; loads nothing. */
int image_db_init(struct image_db *db, const char *root, char **reterr);
/* Loads the image records and the name index. */
int image_db_load(struct image_db *db, char **reterr);
/* Frees what db holds (not db itself). */
void image_db_done(struct image_db *db);

/* The image with exactly this id ("sha256:<hex>"), or NULL. */
struct image *image_db_find_id(struct image_db *db, const char *id);
/* Finds an image by name first, then by id (prefix); *ret_name is set to the normalized name
 * when it matched by name. NULL with errno (and a message) when there is no such image. */
struct image *image_db_resolve(struct image_db *db, const char *ref, char **ret_name, char **reterr);
/* Adds img to the in-memory list, which owns it on success. */
int image_db_add(struct image_db *db, struct image *img);
/* Takes img out of the in-memory list (not freed). */
void image_db_forget(struct image_db *db, struct image *img);
/* Whether an image other than except (may be NULL) has the layer digest. */
bool image_db_layer_used(struct image_db *db, const char *digest, const struct image *except);
/* The directory of a layer, "<root>/layers/<hex>". Caller frees. -EINVAL for a bad digest. */
int image_db_layer_dir(struct image_db *db, const char *digest, char **ret);
/* The digests ("sha256:<hex>", NULL-terminated, caller frees) of the layer directories that
 * used(digest, userdata) says nobody uses. */
int image_db_unused_layers(struct image_db *db, bool (*used)(const char *digest, void *userdata), void *userdata,
			   char ***ret);
