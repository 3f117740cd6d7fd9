/* Image manifests (OCI image manifest, Docker image manifest v2 schema 2): the config and the
 * layer blobs of one image. */
#pragma once

#include <stddef.h>

#include "image/db.h"

struct image_manifest {
	char *config_digest;
	struct image_layer *layers; /* digest, media_type and size set; diff_id NULL */
	size_t n_layers;
};

/* Parses a manifest blob. Indexes and manifest lists, schema 1 manifests and layers that cannot
 * be unpacked (foreign, unknown media types) are refused with a message (-EINVAL). */
int image_manifest_parse(const char *data, size_t len, struct image_manifest *ret, char **reterr);
void image_manifest_done(struct image_manifest *m);
/* Frees the members of n layers (not the array). */
void image_layers_done(struct image_layer *layers, size_t n);
