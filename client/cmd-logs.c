/* cctl logs: a container's log, stdout records to our stdout and stderr records to our stderr.
 *
 * The daemon passes the log files themselves (read-only) when they fit in one message: cctl
 * reads them and hands each record's bytes to the kernel (sendfile), so a large log is never
 * copied through the daemon nor through cctl's memory. Following a running container (-f), or a
 * log of more files than one message carries, comes as logs.data events instead; a journald log
 * is read from the journal (client/logs-journal.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/logs-journal.h"
#include "client/opts.h"
#include "common/error.h"
#include "common/logfmt.h"
#include "common/macros.h"
#include "common/util.h"
#include "protocol/logs.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

/* Where records go: stdout and stderr, buffered together so that their order survives when
 * both are the same file. */
struct logs_out {
	bool timestamps;
	bool at_line_start[3]; /* per stream: the next byte starts a line (-t prefixes it) */
	int buffered_fd;
	size_t n;
	char buf[65536];
	char copy[1 << 20]; /* what sendfile cannot move goes through here */
};

static int out_flush(struct logs_out *o)
{
	int r = o->n ? write_all(o->buffered_fd, o->buf, o->n) : 0;
	o->n = 0;
	return r;
}

static int out_write(struct logs_out *o, int fd, const char *p, size_t len)
{
	if (fd != o->buffered_fd || o->n + len > sizeof(o->buf)) {
		int r = out_flush(o);
		if (r < 0)
			return r;
		o->buffered_fd = fd;
		if (len > sizeof(o->buf))
			return write_all(fd, p, len);
	}
	memcpy(o->buf + o->n, p, len);
	o->n += len;
	return 0;
}

/* Writes data of one stream, each line prefixed with the record's time with -t (as Docker:
 * RFC 3339 with nanoseconds). */
static int out_data(struct logs_out *o, int stream, uint64_t time_ns, const char *p, size_t len)
{
	int fd = stream == LOGFMT_STDERR ? STDERR_FILENO : STDOUT_FILENO;
	if (!o->timestamps)
		return out_write(o, fd, p, len);
	char ts[64];
	struct timespec t = { .tv_sec = (time_t)(time_ns / 1000000000u), .tv_nsec = (long)(time_ns % 1000000000u) };
	format_rfc3339(&t, ts, sizeof(ts));
	size_t tslen = strlen(ts);
	ts[tslen++] = ' ';
	while (len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t seg = nl ? (size_t)(nl - p) + 1 : len;
		int r;
		if (o->at_line_start[stream] && (r = out_write(o, fd, ts, tslen)) < 0)
			return r;
		if ((r = out_write(o, fd, p, seg)) < 0)
			return r;
		o->at_line_start[stream] = nl != NULL;
		p += seg;
		len -= seg;
	}
	return 0;
}

/* One record of a file: moved by the kernel when no line needs a prefix. */
static int out_record(void *userdata, int fd, const struct logfmt_header *h, uint64_t off, uint32_t len)
{
	struct logs_out *o = userdata;
	int outfd = h->stream == LOGFMT_STDERR ? STDERR_FILENO : STDOUT_FILENO;
	int r;
	if (!o->timestamps) {
		if ((r = out_flush(o)) < 0)
			return r;
		off_t pos = (off_t)off;
		while (len > 0) {
			ssize_t n = sendfile(outfd, fd, &pos, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* not a file sendfile writes to: copy what is left */
			len -= (uint32_t)n;
		}
		off = (uint64_t)pos;
	}
	while (len > 0) {
		size_t want = len < sizeof(o->copy) ? len : sizeof(o->copy);
		ssize_t n = pread(fd, o->copy, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		if ((r = out_data(o, h->stream, h->time_ns, o->copy, (size_t)n)) < 0)
			return r;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	return 0;
}

static void usage(void)
{
	fputs("Usage:  cctl logs [OPTIONS] CONTAINER\n"
	      "\n"
	      "Fetch the logs of a container\n"
	      "\n"
	      "Options:\n"
	      "  -f, --follow          Follow log output (ends when the container exits)\n"
	      "      --since TIME      Show logs since TIME (RFC 3339, unix seconds, or a duration such as 10m)\n"
	      "  -n, --tail N          Number of lines to show from the end of the logs (default \"all\")\n"
	      "  -t, --timestamps      Show timestamps\n"
	      "      --until TIME      Show logs before TIME (as --since)\n"
	      "      --help            Print usage\n",
	      stdout);
}

struct logs_cmd {
	struct proto_logs_params p;
	json_t *since, *until;
	struct logs_out *out;
};

/* The records as events, until logs.end. */
static int logs_events(struct conn *conn, struct logs_out *o, char **reterr)
{
	_cleanup_free_ unsigned char *buf = malloc(PROTO_LOGS_CHUNK * 2);
	if (!buf)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (;;) {
		_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
		_cleanup_free_ char *err = NULL;
		int r = conn_receive(conn, &m, reterr);
		if (r < 0)
			return r;
		if (!m.msg.event) {
			if (m.msg.error_code)
				return conn_reply_check(&m, reterr);
			continue;
		}
		if (strcmp(m.msg.event, PROTO_EV_LOGS_END) == 0)
			return out_flush(o);
		if (strcmp(m.msg.event, PROTO_EV_LOGS_DATA) != 0)
			continue;
		int stream;
		uint64_t t;
		size_t len = PROTO_LOGS_CHUNK * 2;
		if (proto_logs_data_decode(m.msg.params, &stream, &t, buf, &len, &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid %s event from containd: %s", PROTO_EV_LOGS_DATA, err);
		/* A follower shows each record as it comes. */
		if ((r = out_data(o, stream, t, (const char *)buf, len)) < 0 || (r = out_flush(o)) < 0)
			return err_set(reterr, r, "cannot write the logs: %m");
	}
}

static int journal_emit(void *userdata, int stream, uint64_t time_ns, const char *p, size_t len)
{
	return out_data(userdata, stream, time_ns, p, len);
}

/* A journald log: read from the journal; a follower stops once container.wait is answered. */
static int logs_journal(struct conn *conn, struct logs_cmd *l, const struct logfmt_filter *f, const char *identifier,
			char **reterr)
{
	int wait_fd = -1;
	if (l->p.follow) {
		struct proto_ref_params ref = { .ref = l->p.ref };
		json_t *params = proto_ref_params_encode(PROTO_M_WAIT, &ref);
		if (!params)
			return err_set(reterr, -ENOMEM, "out of memory");
		int r = conn_send(conn, PROTO_M_WAIT, params, NULL, 0, NULL, reterr);
		if (r < 0)
			return r;
		wait_fd = conn->fd;
	}
	int r = logs_journal_read(identifier, f, l->p.follow, wait_fd, journal_emit, l->out, reterr);
	int q = out_flush(l->out);
	return r < 0 ? r : q < 0 ? err_set(reterr, q, "cannot write the logs: %m") : 0;
}

static int logs_parse(struct logs_cmd *l, int argc, char **argv, char **reterr)
{
	enum { ARG_FOLLOW = 1, ARG_SINCE, ARG_UNTIL, ARG_TAIL, ARG_TIMESTAMPS, ARG_HELP };
	static const struct opt options[] = {
		{ ARG_FOLLOW, 'f', "follow", OPT_FLAG },
		{ ARG_SINCE, 0, "since", OPT_VALUE },
		{ ARG_UNTIL, 0, "until", OPT_VALUE },
		{ ARG_TAIL, 'n', "tail", OPT_VALUE },
		{ ARG_TIMESTAMPS, 't', "timestamps", OPT_FLAG },
		{ ARG_HELP, 0, "help", OPT_FLAG },
		{},
	};
	_cleanup_(opts_done) struct opts o;
	int key;
	opts_init(&o, options, "logs", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		switch (key) {
		case ARG_FOLLOW: l->p.follow = o.flag; break;
		case ARG_TIMESTAMPS: l->out->timestamps = o.flag; break;
		case ARG_SINCE:
		case ARG_UNTIL: {
			json_t **dst = key == ARG_SINCE ? &l->since : &l->until;
			json_decref(*dst);
			*dst = cmd_events_time_param(o.arg);
			if (!*dst)
				return err_set(reterr, -ENOMEM, "out of memory");
			break;
		}
		case ARG_TAIL: {
			char *end;
			if (strcmp(o.arg, "all") == 0) {
				l->p.tail = -1;
				break;
			}
			errno = 0;
			long long n = strtoll(o.arg, &end, 10);
			if (errno || end == o.arg || *end)
				return opts_invalid_argument(&o, reterr, "expected a number of lines or \"all\"");
			/* Docker takes a negative number for all. */
			l->p.tail = n < 0 ? -1 : n;
			break;
		}
		case ARG_HELP:
			if (o.flag) {
				usage();
				return 1;
			}
			break;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands != 1)
		return opts_usage_error(reterr, "logs", "\"cctl logs\" requires exactly 1 argument.");
	l->p.ref = o.operands[0];
	return 0;
}

int cmd_logs(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_free_ struct logs_out *out = calloc(1, sizeof(*out));
	_cleanup_free_ char *err = NULL;
	struct logs_cmd l = { .p = { .tail = -1 }, .out = out };
	int r;

	if (!out)
		return err_set(reterr, -ENOMEM, "out of memory");
	out->buffered_fd = STDOUT_FILENO;
	out->at_line_start[1] = out->at_line_start[2] = true;
	r = logs_parse(&l, argc, argv, reterr);
	if (r == 0) {
		l.p.mode = l.p.follow ? PROTO_LOGS_JSON : PROTO_LOGS_FDS;
		r = conn_open(cctl->socket_path, &conn, reterr);
	}
	json_t *params = r == 0 ? proto_logs_params_encode(&l.p, l.since, l.until) : NULL;
	json_decref(l.since);
	json_decref(l.until);
	if (r != 0)
		return r > 0 ? 0 : r;
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	/* The times as the daemon reads them: cctl filters the files it reads itself. */
	struct proto_logs_params sent;
	if (proto_logs_params_decode(params, &sent, &err) < 0) {
		json_decref(params);
		return opts_usage_error(reterr, "logs", "%s", err);
	}
	struct logfmt_filter f = { .since_ns = sent.has_since ? sent.since_ns : 0,
				   .until_ns = sent.has_until ? sent.until_ns : 0,
				   .tail = l.p.tail };
	r = conn_call(&conn, PROTO_M_LOGS, params, NULL, 0, &reply, reterr);
	if (r < 0)
		return r;
	if (reply.msg.error_code) {
		/* As docker logs: the daemon's message, exit status 1. */
		(void)conn_reply_check(&reply, &err);
		fprintf(stderr, "cctl: %s\n", err ? err : "error");
		return 1;
	}
	struct proto_logs_result res;
	if (proto_logs_result_decode(reply.msg.result, &res, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_LOGS, err);
	if (strcmp(res.driver, "journald") == 0 && res.identifier)
		return logs_journal(&conn, &l, &f, res.identifier, reterr);
	if (res.mode == PROTO_LOGS_JSON)
		return logs_events(&conn, out, reterr);
	if (reply.nfds != res.files)
		return err_set(reterr, -EBADMSG, "containd sent %u log files instead of %u", reply.nfds, res.files);
	r = logfmt_select(reply.fds, reply.nfds, &f, out_record, out);
	if (r == 0)
		r = out_flush(out);
	if (r < 0)
		return err_set(reterr, r, "cannot read the logs: %m");
	return 0;
}
