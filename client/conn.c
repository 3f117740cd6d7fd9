#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/conn.h"
#include "common/error.h"
#include "common/macros.h"

_Static_assert(PROTO_MAX_FDS == 4, "CONN_MSG_INIT lists PROTO_MAX_FDS fds");

int conn_open(const char *path, struct conn *ret, char **reterr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(sa.sun_path))
		return err_set(reterr, -ENAMETOOLONG, "cannot connect to containd at %s: socket path too long", path);
	memcpy(sa.sun_path, path, len + 1);

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot create a socket: %m");
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		if (errno != EINTR)
			return err_set(reterr, -errno, "cannot connect to containd at %s: %m; is the daemon running?",
				       path);

	memset(ret, 0, sizeof(*ret));
	wire_reader_init(&ret->reader);
	/* The daemon is trusted with more than a peer: a listing of thousands of containers. */
	ret->reader.max = PROTO_MAX_REPLY;
	ret->fd = TAKE_FD(fd);
	ret->next_id = 1;
	return 0;
}

void conn_close(struct conn *c)
{
	wire_reader_done(&c->reader);
	c->fd = safe_close(c->fd);
}

/* Error codes as errnos, so callers can tell "not found" from "busy" without comparing strings. */
static int error_code_to_errno(const char *code)
{
	static const struct {
		const char *code;
		int err;
	} map[] = {
		{ PROTO_E_NOT_FOUND, ENOENT }, { PROTO_E_CONFLICT, EBUSY },    { PROTO_E_PARAMS, EINVAL },
		{ PROTO_E_INVALID, EINVAL },   { PROTO_E_PARSE, EINVAL },      { PROTO_E_VERSION, EPROTONOSUPPORT },
		{ PROTO_E_METHOD, EOPNOTSUPP }, { PROTO_E_TOO_LARGE, E2BIG },  { PROTO_E_FDS, EBADF },
		{ PROTO_E_LIMIT, EAGAIN },     { PROTO_E_SHUTDOWN, ESHUTDOWN }, { PROTO_E_START, ECHILD },
		{ PROTO_E_IMPORT, EIO },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(code, map[i].code) == 0)
			return -map[i].err;
	return -EIO;
}

/* The daemon hung up while we were sending: it may have said why first (permission denied, too
 * many connections), in an error reply without an id. Returns that, or r as a send error. */
static int conn_rejection(struct conn *c, int r, char **reterr)
{
	/* Bounded: the daemon sends one rejection and closes, so a few rounds see all of it. */
	for (int i = 0; i < 16; i++) {
		struct conn_msg m = CONN_MSG_INIT;
		int k = conn_next(c, &m, NULL);
		if (k > 0) {
			if (!m.msg.event && m.msg.error_code) {
				k = err_set(reterr, error_code_to_errno(m.msg.error_code), "%s", m.msg.error_message);
				conn_msg_done(&m);
				return k;
			}
			conn_msg_done(&m);
			continue;
		}
		if (k < 0 || conn_fill(c, NULL) <= 0)
			break;
	}
	return err_set(reterr, r, "cannot send request to containd: %m");
}

int conn_send(struct conn *c, const char *method, json_t *params, const int *fds, unsigned nfds,
	      json_int_t *ret_id, char **reterr)
{
	json_int_t id = c->next_id++;
	json_auto_t *req = proto_request_new(id, method, params, nfds);
	if (!req)
		return err_set(reterr, -ENOMEM, "out of memory");
	size_t len;
	_cleanup_free_ char *line = proto_encode(req, &len);
	if (!line)
		return err_set(reterr, -E2BIG, "request %s is too large", method);
	int r = wire_send(c->fd, line, len, fds, nfds);
	if (r == -EPIPE || r == -ECONNRESET)
		return conn_rejection(c, r, reterr);
	if (r < 0)
		return err_set(reterr, r, "cannot send request to containd: %m");
	if (ret_id)
		*ret_id = id;
	return 0;
}

int conn_fill(struct conn *c, char **reterr)
{
	int r = wire_reader_fill(&c->reader, c->fd);
	if (r == -EAGAIN || r == -EINTR)
		return -EAGAIN;
	if (r == -ECONNRESET)
		return 0;
	if (r < 0)
		return err_set(reterr, r, "cannot read from containd: %m");
	return r;
}

void conn_msg_done(struct conn_msg *m)
{
	for (unsigned i = 0; i < m->nfds; i++)
		m->fds[i] = safe_close(m->fds[i]);
	m->nfds = 0;
	proto_message_done(&m->msg);
}

int conn_next(struct conn *c, struct conn_msg *ret, char **reterr)
{
	struct wire_msg wm;
	_cleanup_free_ char *err = NULL;

	int r = wire_reader_next(&c->reader, &wm);
	if (r == -EMSGSIZE)
		return err_set(reterr, -EBADMSG, "containd sent a message larger than %d bytes", PROTO_MAX_REPLY);
	if (r <= 0)
		return r;

	/* The fds are ours from here on: hand them over with the message or close them. */
	*ret = (struct conn_msg)CONN_MSG_INIT;
	memcpy(ret->fds, wm.fds, sizeof(wm.fds));
	ret->nfds = wm.nfds;

	r = proto_message_decode(wm.line, wm.len, &ret->msg, &err);
	if (r < 0) {
		conn_msg_done(ret);
		return err_set(reterr, -EBADMSG, "invalid message from containd: %s", err ? err : "?");
	}
	if (wm.fds_truncated || ret->msg.nfds != ret->nfds) {
		unsigned got = ret->nfds;
		unsigned want = ret->msg.nfds;
		conn_msg_done(ret);
		return err_set(reterr, -EBADMSG, "containd sent %u file descriptors with a message that declares %u",
			       got, want);
	}
	return 1;
}

/* Waits for more of the daemon's bytes and reads them: 0 when the reader may hold more (or a
 * signal interrupted the wait), -ECONNRESET when the daemon closed the connection. */
static int conn_wait(struct conn *c, char **reterr)
{
	if (c->reader.eof)
		return err_set(reterr, -ECONNRESET, "containd closed the connection");
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	if (poll(&p, 1, -1) < 0)
		return errno == EINTR ? 0 : err_set(reterr, -errno, "poll: %m");
	int r = conn_fill(c, reterr);
	if (r == 0)
		return err_set(reterr, -ECONNRESET, "containd closed the connection");
	return r < 0 && r != -EAGAIN ? r : 0;
}

int conn_receive(struct conn *c, struct conn_msg *ret, char **reterr)
{
	for (;;) {
		int r = conn_next(c, ret, reterr);
		if (r != 0)
			return r;
		if ((r = conn_wait(c, reterr)) < 0)
			return r;
	}
}

int conn_call(struct conn *c, const char *method, json_t *params, const int *fds, unsigned nfds,
	      struct conn_msg *ret, char **reterr)
{
	json_int_t id;
	int r = conn_send(c, method, params, fds, nfds, &id, reterr);
	if (r < 0)
		return r;
	for (;;) {
		struct conn_msg m = CONN_MSG_INIT;
		r = conn_receive(c, &m, reterr);
		if (r < 0)
			return r;
		/* Ours, or an error the daemon could not attribute to a request (a rejected
		 * connection): either way the answer to this call. */
		if (!m.msg.event && (m.msg.id == id || (m.msg.id < 0 && m.msg.error_code))) {
			*ret = m;
			return 0;
		}
		/* Events, and replies to nothing we wait for, are not ours to handle here. */
		conn_msg_done(&m);
	}
}

int conn_call_line(struct conn *c, const char *method, json_t *params, char **ret_line, size_t *ret_len,
		   json_int_t *ret_id, char **reterr)
{
	struct wire_msg wm;
	int r = conn_send(c, method, params, NULL, 0, ret_id, reterr);
	if (r < 0)
		return r;
	while ((r = wire_reader_next(&c->reader, &wm)) == 0)
		if ((r = conn_wait(c, reterr)) < 0)
			return r;
	if (r == -EMSGSIZE)
		return err_set(reterr, -EBADMSG, "containd sent a message larger than %d bytes", PROTO_MAX_REPLY);
	/* No reply of interest here carries fds: any that came are closed, not leaked. */
	wire_msg_close_fds(&wm);
	*ret_line = wm.line;
	*ret_len = wm.len;
	return 0;
}

int conn_line_check(const char *line, size_t len, json_int_t id, char **reterr)
{
	_cleanup_(proto_message_done) struct proto_message m = { .id = -1 };
	_cleanup_free_ char *err = NULL;
	if (proto_message_decode(line, len, &m, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid message from containd: %s", err ? err : "?");
	if (m.error_code && (m.id == id || m.id < 0))
		return err_set(reterr, error_code_to_errno(m.error_code), "%s", m.error_message);
	return err_set(reterr, -EBADMSG, "unexpected message from containd instead of the reply");
}

int conn_reply_check(const struct conn_msg *m, char **reterr)
{
	if (!m->msg.error_code)
		return 0;
	return err_set(reterr, error_code_to_errno(m->msg.error_code), "%s", m->msg.error_message);
}

int conn_call_report(struct conn *c, const char *method, json_t *params, struct conn_msg *ret, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	int r = conn_call(c, method, params, NULL, 0, ret, reterr);
	if (r < 0)
		return r;
	if (conn_reply_check(ret, &err) < 0) {
		fprintf(stderr, "cctl: %s\n", err);
		return 1;
	}
	return 0;
}

int conn_call_ok(struct conn *c, const char *method, json_t *params, const int *fds, unsigned nfds,
		 struct conn_msg *ret, char **reterr)
{
	struct conn_msg m = CONN_MSG_INIT;
	int r = conn_call(c, method, params, fds, nfds, &m, reterr);
	if (r < 0)
		return r;
	r = conn_reply_check(&m, reterr);
	if (r < 0) {
		conn_msg_done(&m);
		return r;
	}
	*ret = m;
	return 0;
}
