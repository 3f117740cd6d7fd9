/* container.list on its hot path: the daemon writes the reply from entries it keeps encoded,
 * the client decodes it with the token scanner (protocol/jsonscan) instead of jansson's tree. The
 * format is the one protocol/messages.h describes; these are only faster ways to it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/jsonscan.h"

/* The whole container.list reply line (newline included) from entries the caller encoded before
 * (compact JSON objects). NULL on ENOMEM or when the line would exceed PROTO_MAX_REPLY. */
char *proto_container_list_reply(json_t *id, const char *const *entries, const size_t *lens, size_t n,
				 size_t *ret_len);

/* One container of the list: what cctl ps shows and filters on. Strings point into the line. */
struct proto_container_summary {
	const char *id, *name, *image, *state;
	const char *created_at, *started_at, *finished_at; /* may be NULL */
	const char *ports; /* the PORTS column ("0.0.0.0:8080->80/tcp, 443/tcp"), or NULL */
	int exit_code;
	const char *const *cmd; /* n_cmd strings (a non-string element reads as "") */
	size_t n_cmd;
	const char *const *labels; /* n_labels key, value pairs, in the reply's order */
	size_t n_labels;
};

/* The entry container.list sends when asked for a summary: the members of a full entry (an
 * inspect result without "security") that proto_container_summary has, or NULL on allocation
 * failure. A new object; info is borrowed. */
json_t *proto_container_summary_from_info(json_t *info);

struct proto_container_list {
	struct jsonscan js;
	struct proto_container_summary *items;
	size_t n;
	const char **strs; /* what cmd and labels point into */
};

/* Decodes a reply line in place (line[len] must be writable). 1: the container.list result to
 * request id, in *ret; 0: not in the daemon's own layout ({"v":1,"id":ID,"result":{"containers":
 * [...]}} compact, which is read one entry at a time) and any_layout false, the line untouched;
 * with any_layout, 0 for any other message (an error reply, an event), the line rewritten all the
 * same. -EBADMSG with a message when it is malformed. */
int proto_container_list_decode(char *line, size_t len, int64_t id, bool any_layout,
				struct proto_container_list *ret, char **reterr);
void proto_container_list_done(struct proto_container_list *l);
