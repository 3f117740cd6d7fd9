/* The control socket: listening (own socket or systemd's), peer checks, connections, framing and
 * replies. Hands each decoded request to the API; knows nothing about containers. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "protocol/protocol.h"
#include "protocol/wire.h"

struct event_base;
struct server;
struct conn;
struct api;

int server_new(struct event_base *base, struct api *api, const char *socket_path, const char *group,
	       struct server **ret, char **reterr);
/* Stops accepting and removes the socket file (when we created it). Open connections stay. */
void server_stop_listening(struct server *s);
/* Closes every connection and frees the server. */
void server_free(struct server *s);
unsigned server_connection_count(const struct server *s);
/* Peer deadlines in seconds (0: none): a new connection's first request, a started message and
 * queued replies, and an idle connection that is owed nothing. See the comment in server.c. */
void server_set_timeouts(struct server *s, unsigned handshake, unsigned request, unsigned idle);

/* Connections are reference counted so a container can keep the one it must report to; a closed
 * connection stays valid (conn_is_open() false) until the last reference goes. */
struct conn *conn_ref(struct conn *c);
void conn_unref(struct conn *c);
bool conn_is_open(const struct conn *c);
struct peer_creds;
/* The peer's credentials, read when it connected. */
const struct peer_creds *conn_peer(const struct conn *c);

/* Queue messages to a connection; silently dropped when it is closed. fds are taken over. */
void conn_send_result(struct conn *c, json_t *id, json_t *result /* stolen */, const int *fds, unsigned nfds);
void conn_send_error(struct conn *c, json_t *id, const char *code, json_t *data /* stolen */,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sends a reply the protocol encoded already (line NULL: it could not be; the peer gets an
 * internal error with the request's id). */
void conn_send_line(struct conn *c, json_t *id, char *line /* stolen */, size_t len);
void conn_send_event(struct conn *c, const char *event, json_t *params /* stolen */);
/* Bytes queued to a connection and not yet written: a stream of many messages (container.logs)
 * waits while it is large rather than have the client dropped. */
size_t conn_queued_bytes(const struct conn *c);
/* An event with fds (taken over): "fds" says how many. */
void conn_send_event_fds(struct conn *c, const char *event, json_t *params /* stolen */, const int *fds,
			 unsigned nfds);
