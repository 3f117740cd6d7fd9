/* The image store under --root: content-addressed layers (layers/<hex>/, extracted, used as
 * overlay lower dirs), image configs (images/<hex>.json) and the name index (repositories.json).
 * Imports run in a worker process so a hostile tarball cannot hurt the daemon or block its loop. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/db.h"

struct event_base;
struct image_store;

/* Opens (creating if needed) the store under root: wipes tmp/, loads configs and names, removes
 * layers no image refers to. Import workers are watched on base. */
int image_store_open(struct event_base *base, const char *root, struct image_store **ret, char **reterr);
/* Kills running import workers, reaps them and removes their temporary directories; their done
 * callbacks are not called. */
void image_store_free(struct image_store *s);

/* Looks an image up by name ("alpine", "alpine:3.20") or id ("sha256:<hex>", or a unique prefix
 * of the hex of at least 4 chars, with or without "sha256:"); a name wins over an id prefix. NULL
 * with a message and errno ENOENT if not found (EINVAL: ambiguous prefix, empty ref). The pointer
 * stays valid until the image is removed. */
const struct image *image_store_lookup(struct image_store *s, const char *ref, char **reterr);
/* The image with exactly this id, also one rmi -f kept for stopped containers (what a container
 * that is started again looks its image up by), or NULL. */
const struct image *image_store_lookup_id(struct image_store *s, const char *id);

/* The directory holding a layer's files (for overlay lowerdir). Caller frees. -EINVAL for a
 * malformed digest, -ENOENT for a layer no image uses. */
int image_store_layer_path(struct image_store *s, const char *digest, char **ret);

/* image.list result items: an array of proto_image_info objects, each with its names sorted;
 * named images by first name, then unnamed ones. NULL on allocation failure. */
json_t *image_store_list(struct image_store *s);
/* How many images the store holds. */
size_t image_store_count(struct image_store *s);

/* What an image_usage_fn says about the containers created from an image. Any other non-zero
 * value counts as IMAGE_USED, so a plain "in use" predicate is a valid (conservative) answer. */
enum image_usage {
	IMAGE_UNUSED = 0,
	IMAGE_USED = 1,         /* by a running (or starting, or stopping) container */
	IMAGE_USED_STOPPED = 2, /* only by stopped containers */
};
typedef int (*image_usage_fn)(const char *image_id, void *userdata);

/* Removes an image reference, as docker rmi does:
 *   - a name of an image that has other names: only that name goes, whatever uses the image;
 *   - the last name, or an id: the image goes with all its names and its unused layers, unless
 *     containers use it: -EBUSY (conflict) when a running one does, even with force; when only
 *     stopped ones do, -EBUSY without force and removal with it (the stopped containers keep
 *     their records; they cannot be started again from the removed image).
 * usage(image_id, userdata) may be NULL (nothing uses images). -ENOENT (or -EINVAL for an
 * ambiguous id prefix) with a message when there is no such image; nothing changes on failure.
 * *ret_removed: the removed names and, when the image went, its id, e.g. ["alpine:latest",
 * "sha256:..."]. Layer files are deleted in the background (image-trash.h). */
int image_store_delete(struct image_store *s, const char *ref, bool force, image_usage_fn usage, void *userdata,
		       json_t **ret_removed, char **reterr);

/* image_store_delete() without force, for callers with an "in use" predicate. */
int image_store_remove(struct image_store *s, const char *ref, int (*in_use)(const char *image_id, void *userdata),
		       void *userdata, json_t **ret_removed, char **reterr);

/* Called once when an import finishes: r is 0 with info (a proto_image_info object, borrowed) or
 * -errno with a message. */
typedef void (*image_import_done_fn)(int r, json_t *info, const char *errmsg, void *userdata);

/* Starts importing the tarball (.tar, .tar.gz, .tar.xz, .tar.zst, ...) read from tar_fd (taken
 * over, closed even on failure; a file or a pipe) under name. Returns 0 when the worker started
 * (done is called later from the event loop, never from inside this call), or -errno with a
 * message (done is not called): -EINVAL for an invalid name. The daemon must not set SIGCHLD to
 * SIG_IGN (workers are reaped through their pidfds). */
int image_import_start(struct image_store *s, int tar_fd, const char *name, image_import_done_fn done,
		       void *userdata, char **reterr);
/* As image_import_start(), and the new image gets config's cmd, entrypoint, env, workdir, user and
 * stop_signal (taken over; NULL members, or a NULL config: none, Env the default PATH). They are
 * part of the image's content, hence of its id. */
int image_import_start_config(struct image_store *s, int tar_fd, const char *name, struct image *config,
			      image_import_done_fn done, void *userdata, char **reterr);
/* Where blobs go: "<root>/blobs/sha256" (a blob is named by its hex digest and appears there only
 * by an atomic rename after its digest was verified), and partial downloads: "<root>/ingest". */
const char *image_store_blobs_dir(struct image_store *s);
const char *image_store_ingest_dir(struct image_store *s);

/* Whether the layer with this diff_id ("sha256:<hex>") is unpacked in the store (a pull may skip
 * downloading its blob; add_manifest then needs only the layer). */
bool image_store_layer_present(struct image_store *s, const char *diff_id);

/* Registers the image whose manifest blob (and its config and layer blobs) is already in blobs/:
 * unpacks the layers not yet in layers/ in the sandboxed worker (each layer once, even for
 * concurrent callers; checked against the blob digest and the config's diff_id), writes the
 * record, points names (NULL-terminated, may be NULL or empty) at it and records repo_digest
 * ("registry/name@sha256:..", or NULL). done() is called from the event loop, never from inside
 * this call, with the image's proto_image_info. A failure leaves no half-registered image. 0 when
 * started, or -errno with a message (done is not called then): a missing or corrupt blob, an
 * unsupported manifest, an invalid name. */
int image_store_add_manifest(struct image_store *s, const char *manifest_digest, const char *const *names,
			     const char *repo_digest, image_import_done_fn done, void *userdata, char **reterr);

/* Forgets a pending import's or add_manifest's callback (the requesting client went away); the
 * work completes. */
void image_import_cancel_callbacks(struct image_store *s, void *userdata);

/* image.inspect's result, Docker's shape (Id, RepoTags, RepoDigests, Created, Config from the
 * verbatim config with null for the keys it lacks, Architecture, Os, Size, RootFS), or NULL with
 * errno and a message. */
json_t *image_store_inspect(struct image_store *s, const char *ref, char **reterr);
/* image.history's result: {"history": [{"id", "created", "created_by", "size", "comment"}]},
 * newest first, or NULL with errno and a message. */
json_t *image_store_history(struct image_store *s, const char *ref, char **reterr);
/* Points the name target at the image source. *ret_id, *ret_name (may be NULL): the image's id
 * and the normalized name, for the tag event. */
int image_store_tag(struct image_store *s, const char *source, const char *target, char **ret_id, char **ret_name,
		    char **reterr);
/* Removes the dangling images (no name) that no container uses, with all every image no container
 * uses, and collects what rmi -f kept for containers gone since. *ret_deleted: "Untagged: NAME"
 * and "Deleted: ID" lines as docker prints them; *ret_reclaimed: bytes of the layers removed. */
int image_store_prune(struct image_store *s, bool all, image_usage_fn usage, void *userdata, json_t **ret_deleted,
		      uint64_t *ret_reclaimed, char **reterr);
/* The images row of system df: images, those containers use, bytes of their layers (each layer
 * once) and of the layers no container's image has. */
int image_store_df(struct image_store *s, image_usage_fn usage, void *userdata, unsigned *ret_total,
		   unsigned *ret_active, uint64_t *ret_size, uint64_t *ret_reclaimable);
