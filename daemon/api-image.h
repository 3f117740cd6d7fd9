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

/* The local volumes row of system.df. This file's definition is weak and reports none: the
 * volumes module defines the real one. */
void api_df_volumes(struct api *api, struct proto_df_row *row);
