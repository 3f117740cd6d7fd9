/* The pure part of the image store: the on-disk layout under the root, the image records in
 * memory, lookups and the decisions of layer collection. No event loop, no wire format: the
 * daemon wraps it (daemon/image-store.h) with workers, trash and replies. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"

/* One layer of an image, as its record names it. */
struct image_layer {
	char *diff_id;		/* "sha256:<hex>" of the uncompressed tar: the key of layers/<hex> */
	char *digest;		/* the blob ("sha256:<hex>", compressed or not), or NULL (legacy store) */
	char *media_type;	/* the blob's media type, or NULL */
	uint64_t size;		/* bytes of the blob */
	uint64_t unpacked_size; /* bytes of regular file data in the layer */
};

struct image {
	char *id;			/* "sha256:<hex>": the config's digest (legacy: of the old record) */
	char **layers;			/* layer keys "sha256:<diff_id hex>", bottom first (layers/<hex>) */
	struct image_layer *layer_info; /* n_layers entries, same order */
	size_t n_layers;
	char *manifest_digest; /* or NULL (imported, or legacy) */
	char **repo_digests;   /* "name@sha256:<hex>", never NULL */
	json_t *config;	       /* the verbatim config blob, parsed; NULL for a legacy image */
	/* What run/create read, from the config ("Config" in OCI's image config): */
	char **env;	      /* the image's Env ("PATH=..."), never NULL */
	char **cmd;	      /* default command, or NULL */
	char *workdir;	      /* or NULL */
	char **entrypoint;    /* or NULL */
	char *user;	      /* "NAME|UID[:GROUP|GID]", or NULL */
	char *stop_signal;    /* "SIGQUIT", "3", ..., or NULL */
	char **labels;	      /* "KEY=VALUE" sorted by key, never NULL */
	char **exposed_ports; /* "80/tcp", ... sorted, never NULL */
	char **volumes;	      /* container paths of Config.Volumes, sorted, never NULL */
	char *created_at;     /* the config's "created", or when the record was written */
	uint64_t size;	      /* bytes of the extracted layers */
	bool legacy;	      /* a record of the previous store format (read, never written) */
	bool removed;	      /* rmi -f'd while containers use it: kept for them, listed nowhere */
};

struct image_db {
	char *root, *layers_dir, *images_dir, *tmp_dir, *trash_dir, *repos_path, *blobs_dir, *ingest_dir;
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
/* Registers the image whose config blob is config_digest (in blobs/) with its n layers (diff_id,
 * blob, sizes; each already unpacked), as the record images/<hex>.json. The config's diff_ids
 * must be exactly the layers'. An image with that config already there gains manifest_digest and
 * repo_digest (either may be NULL) and is returned with *ret_new false. Names are not touched. */
int image_db_register(struct image_db *db, const char *config_digest, const struct image_layer *layers, size_t n,
		      const char *manifest_digest, const char *repo_digest, struct image **ret, bool *ret_new,
		      char **reterr);
/* The unpacked size of a layer that some image's record knows; false if none does. */
bool image_db_layer_unpacked_size(struct image_db *db, const char *diff_id, uint64_t *ret);
/* Writes o (NULL: -ENOMEM) as indented JSON with sorted keys to path, atomically: a record or
 * repositories.json. */
int image_db_write_json(const char *path, const json_t *o, char **reterr);
