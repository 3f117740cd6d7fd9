/* What the API's files share: the api object and the method handlers. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "protocol/protocol.h"
#include "protocol/wire.h"

struct event_base;
struct cgroup_manager;
struct image_store;
struct registry;
struct conn;
struct api_wait;
struct pending_import;
struct event_sink;
struct container;
struct container_event;
struct api_events;

struct api {
	struct event_base *base;
	struct cgroup_manager *cgm;
	struct image_store *images;
	struct registry *reg;
	struct event_sink *sink;
	struct api_wait *waits; /* replies owed to clients about containers */
	unsigned dispatching;   /* inside api_on_container_event() */
	struct pending_import *imports;
	bool shutting_down;
	struct api_events *events; /* events.subscribe: the ring and the subscribers */
};

void api_reply_params_error(struct conn *c, json_t *id, int r, const char *err);
/* Methods that take no fds refuse any, so a confused client learns at once. */
bool api_expect_no_fds(struct conn *c, struct proto_request *req);

void api_run(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_list(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_rename(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_kill(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_stop(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_remove(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_wait(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_top(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_pause(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_unpause(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);

json_t *api_container_info(const struct container *ct);
/* The event bus sink: answers what is owed to clients. */
void api_on_container_event(const struct container_event *ev, void *userdata);
void api_waits_conn_closed(struct api *api, struct conn *c);
void api_waits_free(struct api *api);

/* events.subscribe (api-events.c). */
int api_events_new(struct api *api);
void api_events_free(struct api *api);
void api_events_subscribe(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_events_conn_closed(struct api *api, struct conn *c);
/* Records an event about ct ("rename", "pause", ...) and sends it to the subscribers. */
void api_events_emit(struct api *api, const char *action, const struct container *ct);
/* An image event (Docker's actions: import, tag, untag, delete): the image's id and the name the
 * action concerns (for delete, the id again). */
void api_events_emit_image(struct api *api, const char *action, const char *image_id, const char *name);
