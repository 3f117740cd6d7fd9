/* The image store under --root: content-addressed layers (layers/<hex>/, extracted, used as
 * overlay lower dirs), image configs (images/<hex>.json) and the name index (repositories.json).
 * Imports run in a worker process so a hostile tarball cannot hurt the daemon or block its loop. */
#pragma once

#include <jansson.h>
#include <stdint.h>

struct event_base;
struct image_store;

struct image {
	char *id;          /* "sha256:<hex>" */
	char **layers;     /* layer digests "sha256:<hex>", bottom first */
	char **env;        /* the image's Env ("PATH=..."), never NULL */
	char **cmd;        /* default command, or NULL */
	char *workdir;     /* or NULL */
	char *created_at;
	uint64_t size;     /* bytes of the extracted layers */
};

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

/* The directory holding a layer's files (for overlay lowerdir). Caller frees. -EINVAL for a
 * malformed digest, -ENOENT for a layer no image uses. */
int image_store_layer_path(struct image_store *s, const char *digest, char **ret);

/* image.list result items: an array of proto_image_info objects, each with its names sorted;
 * named images by first name, then unnamed ones. NULL on allocation failure. */
json_t *image_store_list(struct image_store *s);
/* How many images the store holds. */
size_t image_store_count(struct image_store *s);

/* Removes a name; removes the image (and its unused layers) when no name is left, or when ref is
 * an id (then with all its names). in_use(image_id, userdata) is asked first, whatever would be
 * removed; when it says true, -EBUSY with a message and nothing changes. -ENOENT (or -EINVAL for an
 * ambiguous id prefix) with a message when there is no such image. *ret_removed: the removed
 * names and, when the image went, its id, e.g. ["alpine:latest", "sha256:..."]. */
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
/* Forgets a pending import's callback (the requesting client went away); the import completes. */
void image_import_cancel_callbacks(struct image_store *s, void *userdata);
