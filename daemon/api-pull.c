/* image.pull: starts (or joins) a pull, relays its progress to the client as events, answers
 * with the image once the store has it. A client that goes away leaves the pull running. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "daemon/api-internal.h"
#include "daemon/image-pull.h"
#include "daemon/server.h"
#include "protocol/image-pull.h"

/* Past this many bytes queued for a client, "Downloading" updates to it are dropped (the
 * others, a few per layer, always go): a slow reader does not make the daemon buffer them. */
#define PULL_QUEUE_HIGH (256u * 1024)

struct pending_pull {
	struct api_owed owed;
	struct api *api;
};

static void pending_pull_free(struct pending_pull *pp)
{
	api_owed_unlink(&pp->api->pulls, &pp->owed);
	free(pp);
}

static void pending_pull_free_owed(struct api_owed *o)
{
	pending_pull_free(api_owed_entry(o, struct pending_pull));
}

/* A reply owed to c for id, or NULL once c was told there is no memory for it. */
static struct pending_pull *pending_pull_new(struct api *api, struct conn *c, json_t *id)
{
	struct pending_pull *pp = calloc(1, sizeof(*pp));
	if (!pp) {
		conn_send_error(c, id, PROTO_E_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	pp->api = api;
	api_owed_link(&api->pulls, &pp->owed, c, id);
	return pp;
}

static void pull_progress(void *userdata, const char *layer, const char *status, uint64_t current, uint64_t total)
{
	struct pending_pull *pp = userdata;
	if (!conn_is_open(pp->owed.conn))
		return;
	if (strcmp(status, "Downloading") == 0 && conn_queued_bytes(pp->owed.conn) > PULL_QUEUE_HIGH)
		return;
	struct proto_pull_progress p = { .layer = layer, .status = status, .current = current, .total = total };
	json_t *ev = proto_pull_progress_encode(&p);
	if (ev)
		conn_send_event(pp->owed.conn, PROTO_EV_PULL_PROGRESS, ev);
}

static void pull_done(void *userdata, int r, const struct image_pull_outcome *o, const char *errmsg)
{
	struct pending_pull *pp = userdata;
	if (r < 0) {
		conn_send_error(pp->owed.conn, pp->owed.id, r == -ENOENT ? PROTO_E_NOT_FOUND : PROTO_E_PULL, NULL, "%s",
				errmsg ? errmsg : strerror(-r));
	} else {
		/* Docker's event: "pull" with the name pulled (the repo digest for a digest). */
		api_events_emit_image(pp->api, "pull", o->id, o->name ? o->name : o->repo_digest);
		struct proto_pull_result res = {
			.id = o->id,
			.digest = o->digest,
			.name = o->name,
			.repo_digest = o->repo_digest,
			.downloaded = o->downloaded,
		};
		conn_send_result(pp->owed.conn, pp->owed.id, proto_pull_result_encode(&res), NULL, 0);
	}
	pending_pull_free(pp);
}

void api_image_pull(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	static const struct image_pull_callbacks cbs = { .progress = pull_progress, .done = pull_done };
	struct proto_pull_params p;
	_cleanup_free_ char *err = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_pull_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (api_refuse_shutting_down(api, c, req->id))
		return;
	struct pending_pull *pp = pending_pull_new(api, c, req->id);
	if (!pp)
		return;
	/* The credentials travel to the worker in its memory only (never argv, env or disk). */
	r = image_pull_start(api->puller, p.ref, p.platform, p.username, p.password, &cbs, pp, &err);
	if (r < 0) {
		conn_send_error(c, req->id,
				r == -EINVAL ? PROTO_E_PARAMS : r == -EAGAIN ? PROTO_E_LIMIT : PROTO_E_PULL, NULL, "%s",
				err ? err : strerror(-r));
		pending_pull_free(pp);
	}
}

static void login_done(void *userdata, int r, const struct image_pull_outcome *o, const char *errmsg)
{
	struct pending_pull *pp = userdata;
	if (r < 0)
		conn_send_error(pp->owed.conn, pp->owed.id, r == -EACCES ? PROTO_E_PERMISSION : PROTO_E_PULL, NULL, "%s",
				errmsg ? errmsg : strerror(-r));
	else
		conn_send_result(pp->owed.conn, pp->owed.id, json_object(), NULL, 0);
	pending_pull_free(pp);
}

/* registry.login: the credentials are checked by a worker (a network round trip) and dropped. */
void api_registry_login(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	static const struct image_pull_callbacks cbs = { .done = login_done };
	struct proto_login_params p;
	_cleanup_free_ char *err = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_login_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	struct pending_pull *pp = pending_pull_new(api, c, req->id);
	if (!pp)
		return;
	r = image_login_start(api->puller, p.server, p.username, p.password, &cbs, pp, &err);
	if (r < 0) {
		conn_send_error(c, req->id, r == -EAGAIN ? PROTO_E_LIMIT : PROTO_E_INTERNAL, NULL, "%s",
				err ? err : strerror(-r));
		pending_pull_free(pp);
	}
}

void api_pulls_free(struct api *api)
{
	image_puller_free(api->puller);
	api->puller = NULL;
	api_owed_shutdown(&api->pulls, pending_pull_free_owed);
}
