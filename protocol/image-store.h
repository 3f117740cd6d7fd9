/* The image store's methods beyond import, list and remove (protocol/image.c): image.inspect,
 * image.tag, image.prune, image.history and system.df. Their results are JSON objects in
 * Docker's shapes, documented in docs/protocol.md; the params are typed here. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#define PROTO_M_IMAGE_INSPECT "image.inspect"
#define PROTO_M_IMAGE_TAG     "image.tag"
#define PROTO_M_IMAGE_PRUNE   "image.prune"
#define PROTO_M_IMAGE_HISTORY "image.history"
#define PROTO_M_SYSTEM_DF     "system.df"

/* image.inspect and image.history: {"name": "alpine" | "sha256:..." | id prefix} */
struct proto_image_ref_params {
	const char *name;
};
int proto_image_ref_params_decode(const char *method, json_t *params, struct proto_image_ref_params *ret,
				  char **reterr);
json_t *proto_image_ref_params_encode(const struct proto_image_ref_params *p);

/* image.tag: {"source": image, "target": "NAME[:TAG]"} */
struct proto_image_tag_params {
	const char *source, *target;
};
int proto_image_tag_params_decode(json_t *params, struct proto_image_tag_params *ret, char **reterr);
json_t *proto_image_tag_params_encode(const struct proto_image_tag_params *p);

/* image.prune: {"all": bool}; result {"deleted": ["Untagged: ..."|"Deleted: sha256:..."],
 * "space_reclaimed": bytes} */
struct proto_image_prune_params {
	bool all;
};
int proto_image_prune_params_decode(json_t *params, struct proto_image_prune_params *ret, char **reterr);
json_t *proto_image_prune_params_encode(const struct proto_image_prune_params *p);

/* One row of system.df's result: {"images"|"containers"|"volumes": {"total", "active", "size",
 * "reclaimable"}}. */
struct proto_df_row {
	unsigned total, active;
	uint64_t size, reclaimable;
};
json_t *proto_df_row_encode(const struct proto_df_row *row);
int proto_df_row_decode(json_t *o, struct proto_df_row *ret, char **reterr);
