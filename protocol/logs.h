/* container.logs: its params, its result, and the events that stream a log (docs/protocol.md).
 * Shared by the daemon, which decodes the params and encodes the records, and cctl. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_M_LOGS "container.logs"
#define PROTO_EV_LOGS_DATA "logs.data" /* one record (or a piece of one) */
#define PROTO_EV_LOGS_END "logs.end"   /* nothing more comes for this request */
/* The most bytes of a record one logs.data event carries (its base64 is 4/3 of that). */
#define PROTO_LOGS_CHUNK (96 * 1024)

enum proto_logs_mode {
	PROTO_LOGS_JSON, /* the records as logs.data events */
	PROTO_LOGS_FDS,  /* the log files themselves, read-only, with the reply (when they fit) */
};

struct proto_logs_params {
	const char *ref; /* borrowed */
	bool follow;
	long long tail; /* -1: all */
	bool has_since, has_until;
	int64_t since_ns, until_ns;
	enum proto_logs_mode mode;
};
int proto_logs_params_decode(json_t *params, struct proto_logs_params *ret, char **reterr);
/* since and until are sent as given (json strings or numbers), or left out when NULL. */
json_t *proto_logs_params_encode(const struct proto_logs_params *p, json_t *since, json_t *until);

/* The reply: the container's driver, and how the records come. */
struct proto_logs_result {
	const char *driver;     /* "file", "journald" */
	enum proto_logs_mode mode;
	unsigned files;         /* PROTO_LOGS_FDS: the fds the reply carries, oldest first */
	const char *identifier; /* journald: the SYSLOG_IDENTIFIER of its entries */
};
json_t *proto_logs_result_encode(const struct proto_logs_result *r);
int proto_logs_result_decode(json_t *result, struct proto_logs_result *ret, char **reterr);

/* logs.data: {"stream":"stdout"|"stderr","time_nano":N,"data":BASE64}. */
json_t *proto_logs_data_encode(int stream, uint64_t time_ns, const void *data, size_t len);
/* Decodes into a buffer of *len_inout bytes; *len_inout becomes the data's length. */
int proto_logs_data_decode(json_t *params, int *ret_stream, uint64_t *ret_time_ns, void *buf, size_t *len_inout,
			   char **reterr);

/* container.attach: {"id": REF, "stdin": bool}; the request carries, for a container with a
 * terminal, one end of a stream socket pair (output to it, input from it), else the write ends of
 * two pipes (stdout, stderr). The result: {"tty": bool}. */
#define PROTO_M_ATTACH "container.attach"
/* Sent to the client of `container.run` with "pty" when a first client attaches: from now on its
 * terminal's output comes on the socket this event carries (and input goes there), no longer
 * on the master it holds. Params: {"id": ID}. */
#define PROTO_EV_RELAY "container.relay"
struct proto_attach_params {
	const char *ref; /* borrowed */
	bool stdin;
	unsigned short tty_rows, tty_cols; /* the client's window: the terminal takes it (0: keep) */
};
int proto_attach_params_decode(json_t *params, struct proto_attach_params *ret, char **reterr);
json_t *proto_attach_params_encode(const struct proto_attach_params *p);

/* Base64 (RFC 4648, with padding). encode writes 4*ceil(len/3) chars and a NUL; decode returns
 * the bytes written or -EINVAL. */
void proto_base64_encode(const unsigned char *in, size_t len, char *out);
long proto_base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_max);
