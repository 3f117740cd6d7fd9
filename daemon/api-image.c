/* Handlers of the image store's methods: see api-image.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "daemon/api-image.h"
#include "daemon/image-store.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/messages.h"

static int api_image_usage(const char *image_id, void *userdata)
{
	struct api *api = userdata;
	return registry_image_usage(api->reg, image_id);
}

/* The error code of a store failure. */
static const char *api_image_code(int r)
{
	return r == -ENOENT   ? PROTO_E_NOT_FOUND
	       : r == -EINVAL ? PROTO_E_PARAMS
	       : r == -EBUSY  ? PROTO_E_CONFLICT
			      : PROTO_E_INTERNAL;
}

/* image.inspect and image.history: one image in, one object out. */
static void api_image_ref(struct api *api, struct conn *c, struct proto_request *req,
			  json_t *(*fn)(struct image_store *, const char *, char **))
{
	struct proto_image_ref_params p;
	_cleanup_free_ char *err = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_image_ref_params_decode(req->method, req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	errno = ENOMEM;
	json_t *res = fn(api->images, p.name, &err);
	if (!res) {
		conn_send_error(c, req->id, api_image_code(-errno), NULL, "%s", err ? err : strerror(errno));
		return;
	}
	conn_send_result(c, req->id, res, NULL, 0);
}

void api_image_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_image_ref(api, c, req, image_store_inspect);
}

void api_image_history(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_image_ref(api, c, req, image_store_history);
}

void api_image_tag(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_image_tag_params p;
	_cleanup_free_ char *err = NULL, *id = NULL, *name = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_image_tag_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	r = image_store_tag(api->images, p.source, p.target, &id, &name, &err);
	if (r < 0) {
		conn_send_error(c, req->id, api_image_code(r), NULL, "%s", err ? err : strerror(-r));
		return;
	}
	api_events_emit_image(api, "tag", id, name);
	conn_send_result(c, req->id, json_pack("{s:s, s:s}", "id", id, "name", name), NULL, 0);
}

void api_image_prune(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_image_prune_params p;
	_cleanup_free_ char *err = NULL;
	json_t *deleted = NULL, *v;
	uint64_t reclaimed = 0;
	size_t i;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_image_prune_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	r = image_store_prune(api->images, p.all, api_image_usage, api, &deleted, &reclaimed, &err);
	if (r < 0) {
		conn_send_error(c, req->id, api_image_code(r), NULL, "%s", err ? err : strerror(-r));
		return;
	}
	/* As Docker's prune: an untag per name, then the delete; the names of an image come right
	 * before its "Deleted" line. */
	size_t first_name = 0;
	json_array_foreach(deleted, i, v) {
		const char *line = json_string_value(v);
		if (!line || strncmp(line, "Deleted: ", 9) != 0)
			continue;
		for (size_t k = first_name; k < i; k++)
			api_events_emit_image(api, "untag", line + 9, json_string_value(json_array_get(deleted, k)) + 10);
		api_events_emit_image(api, "delete", line + 9, line + 9);
		first_name = i + 1;
	}
	conn_send_result(
	    c, req->id, json_pack("{s:o, s:I}", "deleted", deleted, "space_reclaimed", (json_int_t)reclaimed), NULL, 0);
}

__attribute__((weak)) void api_df_volumes(struct api *api, struct proto_df_row *row)
{
	*row = (struct proto_df_row){ 0 };
}

void api_system_df(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_df_row images = { 0 }, containers = { 0 }, volumes = { 0 };
	_cleanup_free_ char *err = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_no_params_decode(req->method, req->params, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	r = image_store_df(api->images, api_image_usage, api, &images.total, &images.active, &images.size,
			   &images.reclaimable);
	if (r < 0) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "%s", strerror(-r));
		return;
	}
	/* Containers: their writable layers are not measured (a walk of every upper dir is no work
	 * for the loop), so their sizes show as 0. */
	for (struct container *ct = api->reg->list; ct; ct = ct->next)
		if (!ct->removing) {
			containers.total++;
			containers.active += ct->state == CONTAINER_RUNNING;
		}
	api_df_volumes(api, &volumes);
	conn_send_result(c, req->id,
			 json_pack("{s:o, s:o, s:o}", "images", proto_df_row_encode(&images), "containers",
				   proto_df_row_encode(&containers), "volumes", proto_df_row_encode(&volumes)),
			 NULL, 0);
}
