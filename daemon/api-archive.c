/* image.load and image.save: the handlers, and the replies owed until the workers finish. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "daemon/api-internal.h"
#include "daemon/image-archive.h"
#include "daemon/image-store.h"
#include "daemon/server.h"
#include "protocol/image-archive.h"

/* A load or save in progress and the reply owed for it. */
struct api_archive_op {
	struct api_owed owed;
	struct api *api;
	struct image_load *load;
	struct image_save *save;
};

/* A new op owed to c for id, or NULL once c was told why not (the daemon stops, no memory). */
static struct api_archive_op *op_new(struct api *api, struct conn *c, json_t *id)
{
	struct api_archive_op *op;

	if (api_refuse_shutting_down(api, c, id))
		return NULL;
	if (!(op = calloc(1, sizeof(*op)))) {
		conn_send_error(c, id, PROTO_E_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	op->api = api;
	api_owed_link(&api->archive_ops, &op->owed, c, id);
	return op;
}

/* Unlinks and frees op; a worker still running is stopped. */
static void op_free(struct api_archive_op *op)
{
	api_owed_unlink(&op->api->archive_ops, &op->owed);
	image_load_free(op->load);
	image_save_free(op->save);
	free(op);
}

static void op_free_owed(struct api_owed *o)
{
	op_free(api_owed_entry(o, struct api_archive_op));
}

static void load_done(int r, json_t *images, const char *errmsg, void *userdata)
{
	struct api_archive_op *op = userdata;
	size_t i;
	json_t *img;

	op->load = NULL; /* it frees itself after this callback */
	if (r < 0) {
		conn_send_error(op->owed.conn, op->owed.id, PROTO_E_LOAD, NULL, "%s", errmsg ? errmsg : strerror(-r));
	} else {
		/* As Docker: a "load" event per image, its id as the name. */
		json_array_foreach(images, i, img)
		{
			const char *id = json_string_value(json_object_get(img, "id"));
			api_events_emit_image(op->api, "load", id, id);
		}
		conn_send_result(op->owed.conn, op->owed.id, proto_image_load_result_encode(json_incref(images)), NULL,
				 0);
	}
	op_free(op);
}

void api_image_load(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	_cleanup_free_ char *err = NULL;
	struct api_archive_op *op;
	int r = proto_image_load_params_decode(req->params, req->nfds, &err);

	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (!(op = op_new(api, c, req->id)))
		return;
	r = image_load_start(api->images, TAKE_FD(msg->fds[0]), load_done, op, &op->load, &err);
	if (r < 0) {
		conn_send_error(c, req->id, PROTO_E_LOAD, NULL, "%s", err ? err : strerror(-r));
		op_free(op);
	}
}

static void save_done(int r, const char *errmsg, void *userdata)
{
	struct api_archive_op *op = userdata;

	op->save = NULL; /* freed before this callback */
	if (r < 0)
		conn_send_error(op->owed.conn, op->owed.id, PROTO_E_SAVE, NULL, "%s", errmsg ? errmsg : strerror(-r));
	else
		conn_send_result(op->owed.conn, op->owed.id, json_object(), NULL, 0);
	op_free(op);
}

void api_image_save(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	_cleanup_(proto_image_save_params_done) struct proto_image_save_params p = { 0 };
	_cleanup_free_ char *err = NULL;
	struct api_archive_op *op;
	int r = proto_image_save_params_decode(req->params, req->nfds, &p, &err);

	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (!(op = op_new(api, c, req->id)))
		return;
	r = image_save_start(api->images, p.names, TAKE_FD(msg->fds[0]), save_done, op, &op->save, &err);
	if (r < 0) {
		conn_send_error(c, req->id, r == -ENOENT ? PROTO_E_NOT_FOUND : PROTO_E_SAVE, NULL, "%s",
				err ? err : strerror(-r));
		op_free(op);
	} else {
		/* Each image saved, as Docker logs it. */
		for (char **n = p.names; *n; n++) {
			const struct image *img = image_store_lookup(api->images, *n, NULL);
			if (img)
				api_events_emit_image(api, "save", img->id, img->id);
		}
	}
}

void api_archive_ops_free(struct api *api)
{
	api_owed_shutdown(&api->archive_ops, op_free_owed);
}
