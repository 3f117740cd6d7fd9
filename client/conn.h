/* The client side of one connection to containd: connect, send requests with fds, read replies
 * and events with the fds that came with them. Blocking, no event loop: cmd-run.c polls the
 * socket itself and uses conn_fill()/conn_next(). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "protocol/protocol.h"
#include "protocol/wire.h"

struct conn {
	int fd;
	json_int_t next_id;
	struct wire_reader reader;
};

/* One decoded message from the daemon and the fds that came with it (all owned). */
struct conn_msg {
	struct proto_message msg;
	int fds[PROTO_MAX_FDS];
	unsigned nfds;
};

/* Connects to the daemon's socket. On failure the message says where and suggests the daemon
 * may not be running. */
int conn_open(const char *path, struct conn *ret, char **reterr);
void conn_close(struct conn *c);

/* Sends one request. params is stolen (even on failure); fds are borrowed (the kernel duplicates
 * them into the daemon). Sets *ret_id to the request id when ret_id is non-NULL. */
int conn_send(struct conn *c, const char *method, json_t *params, const int *fds, unsigned nfds,
	      json_int_t *ret_id, char **reterr);

/* One non-blocking read from the socket. Returns bytes read, 0 when the daemon closed the
 * connection, -EAGAIN when nothing was ready, or -errno with a message. */
int conn_fill(struct conn *c, char **reterr);

/* Decodes the next complete buffered message: 1 and *ret filled, 0 when more bytes are needed,
 * or -EBADMSG with a message when the daemon sent something malformed. */
int conn_next(struct conn *c, struct conn_msg *ret, char **reterr);

/* Blocks until the next message. -ECONNRESET with a message when the daemon hung up first. */
int conn_receive(struct conn *c, struct conn_msg *ret, char **reterr);

/* Sends a request and waits for its reply, skipping events. Error replies are returned as
 * messages too (ret->msg.error_code set); conn_reply_check() turns them into -errno. */
int conn_call(struct conn *c, const char *method, json_t *params, const int *fds, unsigned nfds,
	      struct conn_msg *ret, char **reterr);

/* Sends a request without fds and hands the first line that comes back over undecoded, for a
 * decoder faster than jansson's (protocol/list.h): NUL-terminated, in the reader's buffer (the
 * caller may rewrite it), valid until the next read on c. The request's id goes to *ret_id. */
int conn_call_line(struct conn *c, const char *method, json_t *params, char **ret_line, size_t *ret_len,
		   json_int_t *ret_id, char **reterr);
/* For a line that was not the expected result: the daemon's error reply to id as -errno with its
 * message, as conn_call_ok() reports it, or -EBADMSG. */
int conn_line_check(const char *line, size_t len, json_int_t id, char **reterr);

/* 0 for a result reply; for an error reply -errno (from its code) and the daemon's message. */
int conn_reply_check(const struct conn_msg *m, char **reterr);

/* Like conn_call(), and an error reply becomes -errno with the daemon's message. */
int conn_call_ok(struct conn *c, const char *method, json_t *params, const int *fds, unsigned nfds,
		 struct conn_msg *ret, char **reterr);

/* Like conn_call(), for a verb that goes on with its next operand after a refusal: 0 with a
 * result reply, 1 when the daemon refused (its message printed as docker prints it), -errno when
 * the call itself failed. */
int conn_call_report(struct conn *c, const char *method, json_t *params, struct conn_msg *ret, char **reterr);

void conn_msg_done(struct conn_msg *m);

static inline void conn_msg_donep(struct conn_msg *m)
{
	conn_msg_done(m);
}

static inline void conn_closep(struct conn *c)
{
	conn_close(c);
}

#define _cleanup_conn_msg_ __attribute__((cleanup(conn_msg_donep)))
#define _cleanup_conn_ __attribute__((cleanup(conn_closep)))

/* An empty message, safe to pass to conn_msg_done(). */
#define CONN_MSG_INIT { .msg = { .id = -1 }, .fds = { -1, -1, -1, -1 }, .nfds = 0 }
#define CONN_INIT { .fd = -1 }
