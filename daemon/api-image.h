/* The image store's methods beyond import, list and remove: image.inspect, image.tag,
 * image.prune, image.history and system.df (api-image.c). */
#pragma once

#include "daemon/api-internal.h"
#include "protocol/image-store.h"

void api_image_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_image_tag(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_image_prune(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_image_history(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_system_df(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);

/* system.df's local volumes (api-volume.c): their counts into row, and each one's directory,
 * with whether no container uses it, through add() (0 or -errno), for the sizes measured in a
 * child. */
typedef int (*api_df_add_fn)(void *ctx, const char *path, bool reclaimable);
int api_df_volumes(struct api *api, struct proto_df_row *row, api_df_add_fn add, void *ctx);
