/* container.logs: a container's log, as its files (read-only fds in the reply, the fast path
 * cctl takes) or as logs.data events (JSON lines for any client), following a running container
 * until its output is complete. A stream reads the files in the loop a budget at a time, and
 * only while its connection's queue is short: a client that reads slowly slows its own stream,
 * never the daemon. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/logfmt.h"
#include "common/macros.h"
#include "daemon/api-internal.h"
#include "daemon/container.h"
#include "daemon/events.h"
#include "daemon/log-file.h"
#include "daemon/log-journald.h"
#include "daemon/output.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/logs.h"

/* A stream pauses while its connection has this much queued. */
#define LOGS_QUEUE_HIGH (1024 * 1024)
/* The bytes one stream sends per turn of the loop. */
#define LOGS_BUDGET (2 * 1024 * 1024)
/* How often a follower at the end looks for more (ms), and a paused one for room. */
#define LOGS_POLL_MS 50
#define LOGS_STREAMS_MAX 256

struct api_logs_stream {
	struct api *api;
	struct conn *conn;
	struct container *ct; /* valid until CONTAINER_EV_REMOVED, which ends the stream */
	bool follow;
	struct logfmt_filter filter;
	int fds[LOG_FILE_MAX_FILES]; /* oldest first; those behind pos are closed */
	size_t nfds;
	struct logfmt_pos pos;
	uint64_t generation; /* of the log when the newest of fds was its newest file */
	bool final_pass;     /* the output was complete at the last look: one more read, then end */
	struct event *timer;
	struct api_logs_stream *next;
};

static void stream_free(struct api_logs_stream *s)
{
	if (s->timer)
		event_free(s->timer);
	for (size_t i = 0; i < s->nfds; i++)
		safe_close(s->fds[i]);
	conn_unref(s->conn);
	free(s);
}

static void stream_unlink(struct api_logs_stream *s)
{
	for (struct api_logs_stream **p = &s->api->logs; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			return;
		}
}

static void stream_end(struct api_logs_stream *s)
{
	conn_send_event(s->conn, PROTO_EV_LOGS_END, json_object());
	stream_unlink(s);
	stream_free(s);
}

static void stream_arm(struct api_logs_stream *s, unsigned ms)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = (suseconds_t)ms * 1000 };
	evtimer_add(s->timer, &tv);
}

static int open_dir(struct api *api, const struct container *ct)
{
	_cleanup_free_ char *dir = registry_container_dir(api->reg, ct->id);
	if (!dir)
		return -ENOMEM;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The newest file of the stream was rotated away: goes on with the file that followed it (a
 * reader so slow that it fell a whole rotation behind skips the files deleted meanwhile). */
static int stream_next_file(struct api_logs_stream *s, uint64_t now)
{
	_cleanup_close_ int dirfd = open_dir(s->api, s->ct);
	if (dirfd < 0)
		return dirfd;
	uint64_t behind = now - (s->generation + 1);
	int fd;
	for (;;) {
		fd = behind < LOG_FILE_MAX_FILES ? log_file_open_reader(dirfd, (unsigned)behind) : -ENOENT;
		if (fd != -ENOENT || behind == 0)
			break;
		behind--;
	}
	if (fd < 0)
		return fd;
	/* The stream is at the end of its newest file: everything it holds is read. */
	for (size_t i = 0; i < s->nfds; i++)
		safe_close(s->fds[i]);
	s->fds[0] = fd;
	s->nfds = 1;
	s->pos = (struct logfmt_pos){ 0 };
	s->generation = now - behind;
	return 0;
}

/* Sends what one turn allows; returns 1 when the stream ended, 0 when it continues. */
static int stream_pump(struct api_logs_stream *s)
{
	size_t sent = 0;
	static unsigned char buf[PROTO_LOGS_CHUNK];
	while (sent < LOGS_BUDGET) {
		if (!conn_is_open(s->conn))
			return 1;
		if (conn_queued_bytes(s->conn) > LOGS_QUEUE_HIGH) {
			stream_arm(s, 10);
			return 0;
		}
		struct logfmt_header h;
		int r = s->pos.file < s->nfds ? logfmt_read_record(s->fds[s->pos.file], s->pos.off, &h) : 0;
		if (r < 0)
			return 1;
		if (r == 1) {
			uint32_t left = h.length - s->pos.skip;
			if (left > 0 && logfmt_time_selected(&s->filter, h.time_ns)) {
				size_t n = left < sizeof(buf) ? left : sizeof(buf);
				ssize_t got = pread(s->fds[s->pos.file], buf, n,
						    (off_t)(s->pos.off + LOGFMT_HEADER_SIZE + s->pos.skip));
				if (got <= 0)
					return 1;
				json_t *ev = proto_logs_data_encode(h.stream, h.time_ns, buf, (size_t)got);
				if (!ev)
					return 1;
				conn_send_event(s->conn, PROTO_EV_LOGS_DATA, ev);
				sent += (size_t)got;
				s->pos.skip += (uint32_t)got;
				if (s->pos.skip < h.length)
					continue;
			}
			s->pos.off += LOGFMT_HEADER_SIZE + h.length;
			s->pos.skip = 0;
			s->final_pass = false;
			continue;
		}
		/* The end of a file: the next one, or the end of what there is. */
		if (s->pos.file + 1 < s->nfds) {
			s->fds[s->pos.file] = safe_close(s->fds[s->pos.file]);
			s->pos = (struct logfmt_pos){ .file = s->pos.file + 1 };
			continue;
		}
		if (!s->follow)
			return 1;
		uint64_t gen = s->ct->output ? output_generation(s->ct->output) : s->generation;
		if (gen != s->generation && s->nfds > 0) {
			if (stream_next_file(s, gen) < 0)
				return 1;
			continue;
		}
		bool complete = s->ct->state == CONTAINER_EXITED && (!s->ct->output || output_drained(s->ct->output));
		if (complete && s->final_pass)
			return 1;
		if (complete) {
			/* What the output wrote before it completed may have come after the read above. */
			s->final_pass = true;
			continue;
		}
		if (s->nfds == 0 && s->ct->output) {
			/* The container's first file appeared since the stream began. */
			_cleanup_close_ int dirfd = open_dir(s->api, s->ct);
			int fd = dirfd >= 0 ? log_file_open_reader(dirfd, 0) : -ENOENT;
			if (fd >= 0) {
				s->fds[s->nfds++] = fd;
				s->pos = (struct logfmt_pos){ 0 };
				continue;
			}
		}
		stream_arm(s, LOGS_POLL_MS);
		return 0;
	}
	stream_arm(s, 0);
	return 0;
}

static void on_stream_timer(evutil_socket_t fd, short what, void *arg)
{
	struct api_logs_stream *s = arg;
	if (stream_pump(s) == 1)
		stream_end(s);
}

static const char *logs_error_code(int r)
{
	return r == -EINVAL ? PROTO_E_PARAMS : r == -EUSERS ? PROTO_E_LIMIT : PROTO_E_INTERNAL;
}

void api_logs(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_logs_params p;
	_cleanup_free_ char *err = NULL;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_logs_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	struct container *ct = api_lookup(api, c, req, p.ref);
	if (!ct)
		return;
	struct proto_logs_result res = { .driver = container_log_driver_name(ct->cfg.log_driver), .mode = PROTO_LOGS_JSON };
	if (ct->cfg.log_driver == CONTAINER_LOG_NONE) {
		/* Docker's words, so that scripts written for it recognise the case. */
		conn_send_error(c, req->id, PROTO_E_CONFLICT, NULL,
				"configured logging driver does not support reading: container %s logs with \"none\"",
				ct->name);
		return;
	}
	if (ct->cfg.log_driver == CONTAINER_LOG_JOURNALD) {
		/* The daemon never sees this output: the client reads the journal by identifier. */
		char ident[32];
		log_journald_identifier(ct->id, ident, sizeof(ident));
		res.identifier = ident;
		conn_send_result(c, req->id, proto_logs_result_encode(&res), NULL, 0);
		conn_send_event(c, PROTO_EV_LOGS_END, json_object());
		return;
	}
	_cleanup_close_ int dirfd = open_dir(api, ct);
	int fds[LOG_FILE_MAX_FILES];
	r = dirfd < 0 ? dirfd : log_file_open_readers(dirfd, fds, LOG_FILE_MAX_FILES);
	if (r < 0) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "cannot open the log of %s: %s", ct->name,
				strerror(-r));
		return;
	}
	size_t n = (size_t)r;
	/* The fast path: the client reads the files itself. They are opened read-only by the daemon
	 * in the container's directory and carry nothing but what the container wrote: passing them
	 * gives the client the container's output, as the JSON stream would. A read-only fd cannot
	 * be turned into a writable one: reopening it through /proc/self/fd checks the file's mode
	 * (0640, root's), which only root passes, and root could write the file anyway. */
	if (p.mode == PROTO_LOGS_FDS && n <= PROTO_MAX_FDS) {
		res.mode = PROTO_LOGS_FDS;
		res.files = (unsigned)n;
		conn_send_result(c, req->id, proto_logs_result_encode(&res), fds, (unsigned)n);
		return;
	}
	struct api_logs_stream *s = NULL;
	unsigned count = 0;
	for (struct api_logs_stream *o = api->logs; o; o = o->next)
		count++;
	if (count >= LOGS_STREAMS_MAX)
		r = err_set(&err, -EUSERS, "too many log streams (%d)", LOGS_STREAMS_MAX);
	else if (!(s = calloc(1, sizeof(*s))) || !(s->timer = evtimer_new(api->base, on_stream_timer, s)))
		r = err_set(&err, -ENOMEM, "out of memory");
	if (r >= 0) {
		s->api = api;
		s->ct = ct;
		s->follow = p.follow;
		s->filter = (struct logfmt_filter){ .since_ns = p.has_since ? p.since_ns : 0,
						    .until_ns = p.has_until ? p.until_ns : 0,
						    .tail = p.tail };
		memcpy(s->fds, fds, n * sizeof(int));
		s->nfds = n;
		n = 0;
		s->generation = ct->output ? output_generation(ct->output) : 0;
		/* The tail is found once, over what is there now; a follower then gets what comes. */
		if (p.tail >= 0 && (r = logfmt_tail_position(s->fds, s->nfds, &s->filter, &s->pos)) < 0)
			err_set(&err, r, "cannot read the log of %s: %m", ct->name);
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		if (s)
			stream_free(s);
		conn_send_error(c, req->id, logs_error_code(r), NULL, "%s", err);
		return;
	}
	s->conn = conn_ref(c);
	s->next = api->logs;
	api->logs = s;
	conn_send_result(c, req->id, proto_logs_result_encode(&res), NULL, 0);
	stream_arm(s, 0);
}

void api_logs_on_event(struct api *api, const struct container_event *ev)
{
	if (ev->type != CONTAINER_EV_REMOVED)
		return;
	for (struct api_logs_stream *s = api->logs, *next; s; s = next) {
		next = s->next;
		if (s->ct == ev->ct)
			stream_end(s);
	}
}

void api_logs_conn_closed(struct api *api, struct conn *c)
{
	for (struct api_logs_stream *s = api->logs, *next; s; s = next) {
		next = s->next;
		if (s->conn == c) {
			stream_unlink(s);
			stream_free(s);
		}
	}
}

void api_logs_free(struct api *api)
{
	while (api->logs) {
		struct api_logs_stream *s = api->logs;
		api->logs = s->next;
		stream_free(s);
	}
}

/* A first client attaches to a container whose terminal its run client holds (cctl run -it):
 * the daemon starts reading the master into a log (from now on) and fanning it out, and the run
 * client gets its share through a socket (container.relay), as any attached client. Until then
 * the terminal went from the container to its client with no copy in between. */
static int take_over_pty(struct api *api, struct container *ct, char **reterr)
{
	_cleanup_close_ int dirfd = open_dir(api, ct);
	if (dirfd < 0)
		return err_set(reterr, dirfd, "cannot open the container's directory: %m");
	int r = output_new(ct, dirfd, &ct->cfg.log_opts, &ct->output, reterr);
	if (r < 0)
		return r;
	int fds[2] = { fcntl(ct->pty_master, F_DUPFD_CLOEXEC, 3), -1 };
	if (fds[0] < 0)
		return err_set(reterr, -errno, "cannot read the terminal: %m");
	if ((r = output_watch(ct->output, fds, true, reterr)) < 0)
		return r;
	/* The run client reads the master until it gets the event: what it reads meanwhile it shows
	 * itself, and only the clients attached now miss it. */
	struct conn *run = api_run_conn(api, ct);
	int sv[2];
	if (!run)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(reterr, -errno, "cannot create a socket pair: %m");
	if ((r = output_attach(ct->output, (int[2]){ sv[0], -1 }, true, reterr)) < 0) {
		safe_close(sv[1]);
		return r;
	}
	conn_send_event_fds(run, PROTO_EV_RELAY, json_pack("{s:s}", "id", ct->id), &sv[1], 1);
	return 0;
}

/* container.attach: a client shares a running container's output from now on (and types into
 * its terminal). Only a container started detached can be attached to: the output of one run
 * attached went to its client's own fds, which the daemon never reads. What a client may do here
 * it could do with container.logs -f and, for input, with the terminal's master that a detached
 * run hands to nobody: the same peers are trusted with both. */
void api_attach(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_attach_params p;
	_cleanup_free_ char *err = NULL;
	int r = proto_attach_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	struct container *ct = api_lookup(api, c, req, p.ref);
	if (!ct)
		return;
	if (ct->state == CONTAINER_RUNNING && !ct->output && ct->cfg.stdio == CONTAINER_STDIO_PTY &&
	    ct->cfg.log_driver == CONTAINER_LOG_FILE && ct->pty_master >= 0 && (r = take_over_pty(api, ct, &err)) < 0) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "%s", err);
		return;
	}
	if (ct->state != CONTAINER_RUNNING || !ct->output || output_drained(ct->output)) {
		conn_send_error(c, req->id, PROTO_E_CONFLICT, NULL,
				ct->state != CONTAINER_RUNNING ? "container %s is not running"
				: ct->output ? "container %s is exiting"
					     : "container %s was not started detached (or logs to journald or none): "
					       "nothing to attach to",
				ct->name);
		return;
	}
	bool pty = output_is_pty(ct->output);
	unsigned want = pty ? 1 : 2;
	if (req->nfds != want) {
		conn_send_error(c, req->id, PROTO_E_FDS, NULL,
				"container.attach to a container %s needs %u file descriptor(s), got %u",
				pty ? "with a terminal" : "without a terminal", want, req->nfds);
		return;
	}
	/* The daemon writes the container's output to these fds and reads a terminal's input from
	 * the socket, without ever blocking (it makes them non-blocking): only a socket or pipes
	 * are taken, never a file or a directory that would put the daemon's writes somewhere a
	 * client chose on the host. */
	for (unsigned i = 0; i < want; i++) {
		struct stat st;
		if (fstat(msg->fds[i], &st) < 0 || (pty ? !S_ISSOCK(st.st_mode) : !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))) {
			conn_send_error(c, req->id, PROTO_E_FDS, NULL, "container.attach takes %s",
					pty ? "a stream socket" : "pipes or sockets");
			return;
		}
	}
	int fds[2] = { TAKE_FD(msg->fds[0]), pty ? -1 : TAKE_FD(msg->fds[1]) };
	r = output_attach(ct->output, fds, p.stdin, &err);
	if (r < 0) {
		conn_send_error(c, req->id, r == -EBUSY ? PROTO_E_LIMIT : r == -ESRCH ? PROTO_E_CONFLICT : PROTO_E_INTERNAL,
				NULL, "%s", err);
		return;
	}
	output_resize(ct->output, p.tty_rows, p.tty_cols);
	conn_send_result(c, req->id, json_pack("{s:b}", "tty", pty), NULL, 0);
}
