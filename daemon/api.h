/* The methods of the protocol: validates each request and turns it into calls on the container
 * registry and the image store. Owns the daemon's long-lived state. */
#pragma once

#include "protocol/protocol.h"
#include "protocol/wire.h"

struct event_base;
struct conn;
struct daemon_options;
struct api;

int api_new(struct event_base *base, const struct daemon_options *opts, struct api **ret, char **reterr);
/* Serves one request. Takes the fds it uses out of msg (setting them to -1); the caller closes
 * the rest. Replies now or later. */
void api_dispatch(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
/* A connection is going away: forget what was waiting on it (containers keep running). */
void api_conn_closed(struct api *api, struct conn *c);
/* Begins shutdown (see registry_shutdown): stops the containers or leaves them to the keeper, and
 * stops import workers. Returns true once nothing is pending. */
bool api_shutdown(struct api *api, bool stop_containers, unsigned timeout);
void api_free(struct api *api);
