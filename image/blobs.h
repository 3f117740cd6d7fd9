/* The content-addressed blobs under <root>/blobs/sha256: manifests, configs and layer tarballs,
 * verbatim, each named by the sha256 of its bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "image/digest.h"

struct image_db;

/* "<root>/blobs/sha256/<hex>" of a digest. Caller frees. -EINVAL for a malformed digest. */
int image_blob_path(struct image_db *db, const char *digest, char **ret);
/* Whether the blob is stored. */
bool image_blob_exists(struct image_db *db, const char *digest);
/* Reads a (small) blob, at most max bytes, and checks that its bytes match its digest: a blob
 * that was changed on disk is refused (-EBADMSG). Caller frees *ret (NUL-terminated). */
int image_blob_read(struct image_db *db, const char *digest, size_t max, char **ret, size_t *ret_len, char **reterr);
/* Stores data as a blob (atomically; a blob already there is kept) and gives its digest. */
int image_blob_write(struct image_db *db, const void *data, size_t len, char digest[DIGEST_SIZE], char **reterr);
/* Moves the file at path (on the same filesystem) into the store as the blob digest, which the
 * caller has verified; an existing blob is kept and path removed. */
int image_blob_commit(struct image_db *db, const char *path, const char *digest, char **reterr);
