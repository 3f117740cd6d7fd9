#include <errno.h>
#include <event2/event.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/peer.h"
#include "daemon/server.h"

/* A client that does not read its replies may make us queue this much before we drop it. */
#define CONN_MAX_QUEUED (4u * 1024 * 1024)
#define SERVER_MAX_CONNS 256
/* At the cap, a connection that has said nothing for this long may make room for a new one. */
#define SERVER_EVICT_AFTER_MS 1000

/*
 * Peer deadlines. A slot (one of SERVER_MAX_CONNS) is only held by a peer that is doing something:
 *   - handshake: a new connection must complete its first request in time, so a flood of
 *     connections that say nothing frees itself;
 *   - request: a message once started must be complete in time (bytes trickling in, the
 *     slow-loris attack), and queued replies must make progress (a peer that does not read);
 *   - idle: after its first request, a connection with no partial message, nothing queued and
 *     nothing owed to it is closed after a longer spell. "Owed" means someone else holds a
 *     reference (conn_ref()): a container.run waiting for its exit event, a container.wait, an
 *     import in progress. Those connections are rightly silent for as long as the container runs.
 * Why this is safe for real clients: cctl sends its request right after connecting and never
 * sends a partial line; while attached it talks to the container through its own fds, not this
 * socket, and its connection is owed the exit event.
 * All of them are measured on CLOCK_MONOTONIC in milliseconds; 0 disables one.
 */
struct conn {
	struct server *srv;
	int fd;
	struct event *ev_read, *ev_write, *ev_timer;
	uint64_t accepted_ms, active_ms, msg_started_ms, write_progress_ms;
	bool handshaken; /* a complete request arrived */
	bool partial;    /* a message has started and is not complete */
	struct wire_reader rd;
	struct wire_writer wr;
	unsigned refs;
	bool open;
	pid_t peer_pid;
	uid_t peer_uid;
	struct peer_creds peer;
	struct conn *prev, *next;
};

struct server {
	struct event_base *base;
	struct api *api;
	int listen_fd;
	struct event *ev_listen;
	char *socket_path; /* set when we created the socket file (and must remove it) */
	gid_t group;       /* members may connect; (gid_t)-1 for root only */
	struct conn *conns;
	unsigned nconns;
	uint64_t handshake_ms, request_ms, idle_ms; /* 0: no deadline */
};

static void conn_close(struct conn *c);

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Lowers *next to base + span when that deadline applies and comes sooner. */
static void deadline_min(uint64_t *next, uint64_t base, uint64_t span)
{
	if (span && base + span < *next)
		*next = base + span;
}

/* Arms the connection's timer for the earliest deadline that applies in its current state; the
 * timer re-evaluates the state when it fires, so a deadline that no longer applies is harmless. */
static void conn_arm_timer(struct conn *c)
{
	struct server *s = c->srv;
	uint64_t next = UINT64_MAX, now = now_ms();

	if (!c->open || !c->ev_timer)
		return;
	if (!c->handshaken)
		deadline_min(&next, c->accepted_ms, s->handshake_ms);
	if (c->partial)
		deadline_min(&next, c->msg_started_ms, s->request_ms);
	if (wire_writer_pending(&c->wr))
		deadline_min(&next, c->write_progress_ms, s->request_ms);
	if (c->handshaken)
		deadline_min(&next, c->active_ms, s->idle_ms);
	if (next == UINT64_MAX) {
		event_del(c->ev_timer);
		return;
	}
	uint64_t delay = next > now ? next - now : 0;
	struct timeval tv = { .tv_sec = (time_t)(delay / 1000), .tv_usec = (suseconds_t)(delay % 1000) * 1000 };
	evtimer_add(c->ev_timer, &tv);
}

/* A deadline passed (or a stale one fired): close the connection if it is overdue, else re-arm. */
static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct server *s = c->srv;
	uint64_t now = now_ms();
	const char *why = NULL;

	if (!c->handshaken && s->handshake_ms && now >= c->accepted_ms + s->handshake_ms)
		why = "sent no complete request in time after connecting";
	else if (c->partial && s->request_ms && now >= c->msg_started_ms + s->request_ms)
		why = "did not complete its message in time";
	else if (wire_writer_pending(&c->wr) && s->request_ms && now >= c->write_progress_ms + s->request_ms)
		why = "does not read its replies";
	else if (c->handshaken && s->idle_ms && now >= c->active_ms + s->idle_ms) {
		/* Someone holds a reference: a reply or an event is owed to this peer, which is
		 * right to wait quietly. Look again one idle period from now. */
		if (c->refs > 1 || c->partial || wire_writer_pending(&c->wr))
			c->active_ms = now;
		else
			why = "was idle too long";
	}
	if (why) {
		log_info("client pid %d %s; closing its connection", (int)c->peer_pid, why);
		conn_close(c);
		return;
	}
	conn_arm_timer(c);
}

struct conn *conn_ref(struct conn *c)
{
	c->refs++;
	return c;
}

void conn_unref(struct conn *c)
{
	if (!c || --c->refs > 0)
		return;
	wire_reader_done(&c->rd);
	wire_writer_done(&c->wr);
	free(c);
}

bool conn_is_open(const struct conn *c)
{
	return c && c->open;
}

static void conn_flush(struct conn *c)
{
	size_t before = c->wr.queued_bytes;
	int r = wire_writer_flush(&c->wr, c->fd);
	if (c->wr.queued_bytes != before)
		c->write_progress_ms = now_ms();
	if (r == -EAGAIN) {
		if (c->wr.queued_bytes > CONN_MAX_QUEUED) {
			log_warning("client pid %d does not read its replies; closing", (int)c->peer_pid);
			conn_close(c);
			return;
		}
		event_add(c->ev_write, NULL);
		conn_arm_timer(c);
	} else if (r < 0) {
		log_debug("write to client pid %d failed: %s", (int)c->peer_pid, strerror(-r));
		conn_close(c);
	} else {
		event_del(c->ev_write);
	}
}

/* Queues one encoded line (NULL: the reply could not be encoded; the peer gets an error matched
 * by id instead, and fds are closed) and starts writing it. */
static void conn_push(struct conn *c, json_t *id, char *line /* stolen */, size_t len, const int *fds, unsigned nfds)
{
	_cleanup_free_ char *owned = line;
	if (!owned && conn_is_open(c)) {
		/* Too large or not encodable: the peer still gets an answer, matched by its id. */
		json_t *fallback = proto_reply_error(json_is_integer(id) ? id : NULL, PROTO_E_INTERNAL,
						     "the reply could not be encoded (over the size limit?)", NULL);
		owned = fallback ? proto_encode(fallback, &len) : NULL;
		json_decref(fallback);
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		nfds = 0;
	}
	if (!conn_is_open(c) || !owned) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		if (conn_is_open(c))
			log_error("failed to encode a reply (out of memory or over the size limit)");
		return;
	}
	if (!wire_writer_pending(&c->wr))
		c->write_progress_ms = now_ms();
	if (wire_writer_push(&c->wr, owned, len, fds, nfds) < 0) {
		conn_close(c);
		return;
	}
	/* A reply or an event is activity: the idle clock restarts for the peer to act on it. */
	c->active_ms = now_ms();
	conn_ref(c);
	conn_flush(c);
	conn_arm_timer(c);
	conn_unref(c);
}

static void conn_send(struct conn *c, json_t *msg, const int *fds, unsigned nfds)
{
	size_t len = 0;
	char *line = msg ? proto_encode(msg, &len) : NULL;
	if (msg)
		conn_push(c, json_object_get(msg, "id"), line, len, fds, nfds);
	else
		conn_push(c, NULL, NULL, 0, fds, nfds);
	json_decref(msg);
}

void conn_send_line(struct conn *c, json_t *id, char *line, size_t len)
{
	conn_push(c, id, line, len, NULL, 0);
}

void conn_send_result(struct conn *c, json_t *id, json_t *result, const int *fds, unsigned nfds)
{
	conn_send(c, proto_reply_result(id, result, nfds), fds, nfds);
}

void conn_send_error(struct conn *c, json_t *id, const char *code, json_t *data, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	/* Messages may quote what the peer sent; keep them short, cut on a UTF-8 boundary. */
	if (msg && strlen(msg) > PROTO_MAX_ERROR_MESSAGE) {
		size_t cut = PROTO_MAX_ERROR_MESSAGE - 3;
		while (cut > 0 && ((unsigned char)msg[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(msg + cut, "...", 4);
	}
	conn_send(c, proto_reply_error(id, code, msg ? msg : code, data), NULL, 0);
}

size_t conn_queued_bytes(const struct conn *c)
{
	return c->wr.queued_bytes;
}

void conn_send_event_fds(struct conn *c, const char *event, json_t *params, const int *fds, unsigned nfds)
{
	json_t *m = proto_event_new(event, params);
	if (m && nfds > 0)
		json_object_set_new(m, "fds", json_integer(nfds));
	conn_send(c, m, fds, nfds);
}

void conn_send_event(struct conn *c, const char *event, json_t *params)
{
	conn_send(c, proto_event_new(event, params), NULL, 0);
}

/* Decodes and dispatches one line; fds that the API did not take are closed here. */
static void conn_handle_line(struct conn *c, struct wire_msg *m)
{
	struct proto_request req;
	json_t *id = NULL;
	const char *code = NULL;
	_cleanup_free_ char *err = NULL;

	if (proto_request_decode(m->line, m->len, &req, &id, &code, &err) < 0) {
		conn_send_error(c, id, code, NULL, "%s", err ? err : "invalid request");
	} else if (m->fds_truncated || req.nfds != m->nfds) {
		conn_send_error(c, req.id, PROTO_E_FDS, NULL,
				"the request declares %u file descriptor(s) but %u arrived%s", req.nfds, m->nfds,
				m->fds_truncated ? " (more than the limit)" : "");
	} else {
		api_dispatch(c->srv->api, c, &req, m);
	}
	proto_request_done(&req);
	wire_msg_close_fds(m);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = conn_ref(arg);
	int r = wire_reader_fill(&c->rd, c->fd);
	if (r < 0 && r != -EAGAIN && r != -EINTR) {
		log_debug("read from client pid %d failed: %s", (int)c->peer_pid, strerror(-r));
		conn_close(c);
		conn_unref(c);
		return;
	}
	if (r > 0)
		c->active_ms = now_ms();
	while (conn_is_open(c)) {
		struct wire_msg m;
		int k = wire_reader_next(&c->rd, &m);
		if (k == -EMSGSIZE) {
			conn_send_error(c, NULL, PROTO_E_TOO_LARGE, NULL,
					"message exceeds the limit of %d bytes", PROTO_MAX_MESSAGE);
			continue;
		}
		if (k <= 0)
			break;
		c->handshaken = true;
		c->partial = false;
		conn_handle_line(c, &m);
	}
	if (r == 0 && conn_is_open(c))
		conn_close(c);
	if (conn_is_open(c)) {
		/* Bytes left after the last complete line (or an oversized line being skipped) are a
		 * message in progress; its clock starts with its first read. */
		bool partial = c->rd.len > c->rd.start || c->rd.skipping;
		if (partial && !c->partial)
			c->msg_started_ms = now_ms();
		c->partial = partial;
		conn_arm_timer(c);
	}
	conn_unref(c);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	conn_flush(arg);
}

static void conn_close(struct conn *c)
{
	if (!c->open)
		return;
	c->open = false;
	struct server *s = c->srv;
	api_conn_closed(s->api, c);
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_timer);
	c->ev_read = c->ev_write = c->ev_timer = NULL;
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	log_debug("client pid %d disconnected", (int)c->peer_pid);
	conn_unref(c);
}

const struct peer_creds *conn_peer(const struct conn *c)
{
	return &c->peer;
}

/* Who may talk to us: root, or a member of the socket's group. The socket mode (0660) already
 * keeps others out; this check also covers sockets handed over by systemd with looser modes. */
static bool peer_allowed(struct server *s, int fd, struct ucred *cred)
{
	if (cred->uid == 0)
		return true;
	if (s->group == (gid_t)-1)
		return false;
	if (cred->gid == s->group)
		return true;
	gid_t groups[NGROUPS_MAX];
	socklen_t len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == s->group)
			return true;
	return false;
}

static void reject(int fd, const char *code, const char *message)
{
	size_t len;
	json_t *msg = proto_reply_error(NULL, code, message, NULL);
	_cleanup_free_ char *line = msg ? proto_encode(msg, &len) : NULL;
	json_decref(msg);
	if (line)
		(void)send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* The connection to close so a newcomer fits under the cap: the oldest one that has not completed
 * a request after SERVER_EVICT_AFTER_MS. Every real client sends its first request right after
 * connecting, so only a silent peer can be picked; without this, peers that reconnect as fast as
 * the handshake deadline closes them would keep everyone else out. NULL when there is none. */
static struct conn *server_pick_evictee(struct server *s)
{
	uint64_t now = now_ms();
	struct conn *victim = NULL;

	for (struct conn *c = s->conns; c; c = c->next)
		if (!c->handshaken && now >= c->accepted_ms + SERVER_EVICT_AFTER_MS &&
		    (!victim || c->accepted_ms < victim->accepted_ms))
			victim = c;
	return victim;
}

static void server_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning("accept failed: %m");
		return;
	}
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warning("SO_PEERCRED failed: %m");
		close(fd);
		return;
	}
	if (!peer_allowed(s, fd, &cred)) {
		log_warning("refused client pid %d uid %d: not root or in the socket's group", (int)cred.pid,
			    (int)cred.uid);
		reject(fd, PROTO_E_PERMISSION, "permission denied: containd accepts root and the socket's group");
		return;
	}
	struct conn *victim = s->nconns >= SERVER_MAX_CONNS ? server_pick_evictee(s) : NULL;
	if (victim) {
		log_info("client pid %d has sent nothing; closing it to make room for pid %d", (int)victim->peer_pid,
			 (int)cred.pid);
		conn_close(victim);
	}
	if (s->nconns >= SERVER_MAX_CONNS) {
		log_warning("refused client pid %d: %u connections already", (int)cred.pid, s->nconns);
		reject(fd, PROTO_E_LIMIT, "too many connections");
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	c->refs = 1;
	c->open = true;
	c->peer_pid = cred.pid;
	c->peer_uid = cred.uid;
	if (peer_creds_read(fd, &c->peer) < 0)
		c->peer = (struct peer_creds){ .known = true, .uid = cred.uid, .gid = cred.gid };
	wire_reader_init(&c->rd);
	wire_writer_init(&c->wr);
	c->ev_read = event_new(s->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	c->ev_write = event_new(s->base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
	c->ev_timer = evtimer_new(s->base, conn_on_timer, c);
	if (!c->ev_read || !c->ev_write || !c->ev_timer || event_add(c->ev_read, NULL) < 0) {
		if (c->ev_read)
			event_free(c->ev_read);
		if (c->ev_write)
			event_free(c->ev_write);
		if (c->ev_timer)
			event_free(c->ev_timer);
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	c->accepted_ms = c->active_ms = now_ms();
	conn_arm_timer(c);
	log_debug("client pid %d uid %d connected", (int)cred.pid, (int)cred.uid);
}

/* Binds our own socket: created under a restrictive umask so it is never briefly world-usable. */
static int server_bind(struct server *s, const char *path, char **reterr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(reterr, -ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);

	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int r = mkdir_p(dir, 0755);
		if (r < 0)
			return err_set(reterr, r, "cannot create %s: %m", dir);
	}

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(reterr, -errno, "socket: %m");
	/* A live daemon on this path must not be replaced; a stale file from a crash may be. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return err_set(reterr, -EADDRINUSE, "another daemon is listening on %s", path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(reterr, -errno, "socket: %m");
	/* The socket is made under a temporary name and renamed into place once it listens with
	 * its final owner and mode: a client never finds a file it cannot connect to yet, nor one
	 * with looser permissions. */
	_cleanup_free_ char *tmp = NULL;
	struct sockaddr_un tsa = { .sun_family = AF_UNIX };
	if (asprintf(&tmp, "%s.%d", path, (int)getpid()) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (strlen(tmp) >= sizeof(tsa.sun_path))
		return err_set(reterr, -ENAMETOOLONG, "socket path too long: %s", tmp);
	strcpy(tsa.sun_path, tmp);
	(void)unlink(tmp);
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&tsa, sizeof(tsa));
	umask(old);
	if (r < 0)
		return err_set(reterr, -errno, "cannot bind %s: %m", tmp);
	if (chown(tmp, 0, s->group == (gid_t)-1 ? 0 : s->group) < 0 || chmod(tmp, 0660) < 0) {
		r = err_set(reterr, -errno, "cannot set the owner and mode of %s: %m", tmp);
		unlink(tmp);
		return r;
	}
	if (listen(fd, 128) < 0) {
		r = err_set(reterr, -errno, "listen on %s: %m", tmp);
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		r = err_set(reterr, -errno, "cannot move the socket to %s: %m", path);
		unlink(tmp);
		return r;
	}
	s->socket_path = strdup(path);
	s->listen_fd = TAKE_FD(fd);
	return 0;
}

int server_new(struct event_base *base, struct api *api, const char *socket_path, const char *group,
	       struct server **ret, char **reterr)
{
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(reterr, -ENOMEM, "out of memory");
	s->base = base;
	s->api = api;
	s->listen_fd = -1;
	s->group = (gid_t)-1;
	server_set_timeouts(s, 0, 0, 0);
	int r = 0;

	if (group) {
		struct group *gr = getgrnam(group);
		if (!gr) {
			r = err_set(reterr, -ENOENT, "no such group: %s", group);
			goto fail;
		}
		s->group = gr->gr_gid;
	}

	int n = sd_listen_fds(true);
	if (n > 1) {
		r = err_set(reterr, -EINVAL, "systemd passed %d sockets; containd takes one", n);
		goto fail;
	}
	if (n == 1) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0) {
			r = err_set(reterr, -EINVAL, "the socket systemd passed is not a listening Unix stream socket");
			goto fail;
		}
		s->listen_fd = SD_LISTEN_FDS_START;
		if ((r = fd_nonblock(s->listen_fd, true)) < 0) {
			err_set(reterr, r, "cannot make the activation socket non-blocking: %m");
			goto fail;
		}
		log_info("using the socket passed by systemd");
	} else if ((r = server_bind(s, socket_path, reterr)) < 0) {
		goto fail;
	}

	s->ev_listen = event_new(base, s->listen_fd, EV_READ | EV_PERSIST, server_on_accept, s);
	if (!s->ev_listen || event_add(s->ev_listen, NULL) < 0) {
		r = err_set(reterr, -ENOMEM, "cannot watch the listening socket");
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	server_free(s);
	return r;
}

void server_stop_listening(struct server *s)
{
	if (s->ev_listen) {
		event_free(s->ev_listen);
		s->ev_listen = NULL;
	}
	if (s->socket_path) {
		if (unlink(s->socket_path) < 0 && errno != ENOENT)
			log_warning("cannot remove %s: %m", s->socket_path);
		free(s->socket_path);
		s->socket_path = NULL;
	}
	s->listen_fd = safe_close(s->listen_fd);
}

void server_free(struct server *s)
{
	if (!s)
		return;
	server_stop_listening(s);
	while (s->conns) {
		struct conn *c = s->conns;
		/* Deliver what is queued before going: best effort, the socket is non-blocking. */
		(void)wire_writer_flush(&c->wr, c->fd);
		conn_close(c);
	}
	free(s);
}

void server_set_timeouts(struct server *s, unsigned handshake, unsigned request, unsigned idle)
{
	s->handshake_ms = (uint64_t)handshake * 1000;
	s->request_ms = (uint64_t)request * 1000;
	s->idle_ms = (uint64_t)idle * 1000;
	for (struct conn *c = s->conns; c; c = c->next)
		conn_arm_timer(c);
}

unsigned server_connection_count(const struct server *s)
{
	return s->nconns;
}
