/* The containd wire protocol: the only module that knows field names and framing.
 *
 * Messages are JSON objects, one per line ("\n"-terminated, compact encoding), over a
 * SOCK_STREAM Unix socket. File descriptors ride as SCM_RIGHTS on the sendmsg() that carries a
 * message's first byte, and the message declares their number in "fds".
 *
 * Bump PROTOCOL_VERSION on any incompatible change, and document it in docs/protocol.md. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PROTOCOL_VERSION 1
/* Largest message, newline included. Requests are small; the cap bounds a peer's memory use. */
#define PROTO_MAX_MESSAGE (256 * 1024)
/* Largest reply a client accepts: container.list's, the one message that grows with the daemon's
 * containers (4096 of them, about 500 bytes each without labels), may be this long. Below the
 * 4 MiB the daemon queues for a client at most. */
#define PROTO_MAX_REPLY (3 * 1024 * 1024)
/* Longest string "id" (replies echo it). */
#define PROTO_MAX_ID 256
/* Longest error message a reply carries; longer ones (echoing peer input) are cut. */
#define PROTO_MAX_ERROR_MESSAGE 4096
/* Most fds one message may carry (stdin, stdout, stderr and one spare). */
#define PROTO_MAX_FDS 4

/* Stable error codes (the "code" of an error reply). */
#define PROTO_E_PARSE "parse_error"             /* not valid JSON, or not an object */
#define PROTO_E_INVALID "invalid_request"       /* envelope fields missing or of the wrong type */
#define PROTO_E_VERSION "unsupported_version"
#define PROTO_E_TOO_LARGE "message_too_large"
#define PROTO_E_METHOD "unknown_method"
#define PROTO_E_PARAMS "invalid_params"
#define PROTO_E_FDS "bad_fds"                   /* fd count differs from what the request needs */
#define PROTO_E_NOT_FOUND "not_found"
#define PROTO_E_CONFLICT "conflict"             /* name taken, image in use, container running */
#define PROTO_E_START "start_failed"            /* the container could not start; data.exit_code */
#define PROTO_E_IMPORT "import_failed"
#define PROTO_E_LIMIT "limit_reached"
#define PROTO_E_SHUTDOWN "shutting_down"
#define PROTO_E_PERMISSION "permission_denied"    /* the peer is not root or in the socket's group */
#define PROTO_E_INTERNAL "internal_error"

/* Methods. */
#define PROTO_M_VERSION "system.version"
#define PROTO_M_INFO "system.info"
#define PROTO_M_RUN "container.run"
#define PROTO_M_CREATE "container.create"
#define PROTO_M_START "container.start"
#define PROTO_M_RESTART "container.restart"
#define PROTO_M_LIST "container.list"
#define PROTO_M_INSPECT "container.inspect"
#define PROTO_M_KILL "container.kill"
#define PROTO_M_REMOVE "container.remove"
#define PROTO_M_WAIT "container.wait"
#define PROTO_M_PAUSE "container.pause"
#define PROTO_M_UNPAUSE "container.unpause"
#define PROTO_M_STOP "container.stop"
#define PROTO_M_RENAME "container.rename"
#define PROTO_M_TOP "container.top"
#define PROTO_M_IMAGE_IMPORT "image.import"
#define PROTO_M_IMAGE_LIST "image.list"
#define PROTO_M_IMAGE_REMOVE "image.remove"

/* Events the daemon pushes. */
#define PROTO_EV_EXITED "container.exited"

/* A decoded request. Pointers borrow from root. */
struct proto_request {
	json_t *root;
	json_t *id;          /* number, string or null; echoed in the reply */
	const char *method;
	json_t *params;      /* always an object (empty when absent) */
	unsigned nfds;       /* fds the request says it carries */
};

/* A decoded message from the daemon: a reply (id + result or error) or an event. */
struct proto_message {
	json_t *root;
	json_int_t id;          /* -1 for events */
	const char *event;      /* set for events */
	json_t *result;         /* replies: result object, or NULL on error */
	const char *error_code; /* replies: set on error */
	const char *error_message;
	json_t *error_data;     /* optional */
	json_t *params;         /* events */
	unsigned nfds;
};

/* Decodes one line. On failure returns -EINVAL and sets *ret_code to a PROTO_E_* code and
 * *reterr to a message; *ret_id is set to the request id when it could be read (else NULL), so
 * the error reply can still be matched. root is taken over in all cases via ret->root. */
int proto_request_decode(const char *line, size_t len, struct proto_request *ret, json_t **ret_id,
			 const char **ret_code, char **reterr);
void proto_request_done(struct proto_request *req);

int proto_message_decode(const char *line, size_t len, struct proto_message *ret, char **reterr);
void proto_message_done(struct proto_message *msg);

/* Builders. Arguments marked "stolen" are taken over. Never return NULL except on ENOMEM. */
json_t *proto_request_new(json_int_t id, const char *method, json_t *params /* stolen */, unsigned nfds);
json_t *proto_reply_result(json_t *id, json_t *result /* stolen, NULL = {} */, unsigned nfds);
json_t *proto_reply_error(json_t *id, const char *code, const char *message, json_t *data /* stolen */);
json_t *proto_event_new(const char *event, json_t *params /* stolen */);

/* Encodes a message as one compact line ending in "\n". Returns NULL on ENOMEM or if the result
 * would exceed PROTO_MAX_MESSAGE. */
char *proto_encode(const json_t *msg, size_t *ret_len);
