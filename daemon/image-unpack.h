/* Unpacking a layer tarball into layers/<diff_id> in a confined worker (image/unpack.c), watched
 * from the event loop. Shared by imports (a client's stream) and manifests (blobs in the store). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "image/digest.h"

struct image_store;

/* What a finished unpack gives: the layer is in layers/<diff_id hex>, and with a blob copy the
 * tarball is the blob digest. */
struct image_unpack_info {
	char diff_id[DIGEST_SIZE];
	char digest[DIGEST_SIZE]; /* of the tarball as read */
	const char *media_type;	  /* the OCI layer type its compression gives, or NULL (unknown) */
	uint64_t size;		  /* bytes of regular file data */
	uint64_t blob_size;	  /* bytes of the tarball */
};

/* Called once from the loop: r 0 with info, or -errno with a message. */
typedef void (*image_unpack_done_fn)(struct image_store *s, int r, const struct image_unpack_info *info,
				     const char *errmsg, void *userdata);

/* Starts a worker on tar_fd (taken over, closed even on failure). keep_blob: the bytes read are
 * also stored as a blob. want_digest / want_diff_id (may be NULL): what the tarball and its
 * uncompressed form must hash to, else the layer is refused. 0 when started (done is called
 * later, never from inside this call), or -errno with a message. */
int image_unpack_start(struct image_store *s, int tar_fd, bool keep_blob, const char *want_digest,
		       const char *want_diff_id, image_unpack_done_fn done, void *userdata, char **reterr);
/* Forgets the callbacks with this userdata; their unpacks complete. */
void image_unpack_cancel(struct image_store *s, void *userdata);
/* Kills and reaps every worker and removes their directories; no callback runs. */
void image_unpack_free_all(struct image_store *s);
/* The OCI media type of a layer tarball with this libarchive filter code, or NULL. */
const char *image_unpack_media_type(int compression);
