/* OCI image configs (application/vnd.oci.image.config.v1+json, Docker's container image JSON):
 * reading what run and create need from the verbatim blob, and writing the config of an import. */
#pragma once

#include <stddef.h>

struct image;

/* Parses a config blob into img's settings (env, cmd, entrypoint, workdir, user, stop_signal,
 * labels, exposed_ports, volumes, created_at) and img->config; *ret_diff_ids (may be NULL) gets
 * rootfs.diff_ids, each a valid digest, at least one. -EINVAL with a message for a bad config. */
int image_config_parse(const char *data, size_t len, struct image *img, char ***ret_diff_ids, char **reterr);
/* The config of an imported one-layer image: settings' env, cmd, entrypoint, workdir, user and
 * stop_signal (NULL members: absent), the layer's diff_id, its creation time and a history entry
 * with comment. Compact JSON with sorted keys, caller frees. */
int image_config_build(const struct image *settings, const char *diff_id, const char *created, const char *comment,
		       char **ret);
/* Adds the image's labels ("KEY=VALUE") to *labels (a container's, sorted, may be NULL) where the
 * container has no label of that key, keeping the result sorted. */
int image_labels_merge(char **image_labels, char ***labels);
