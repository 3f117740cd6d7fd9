#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/logfmt.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/container.h"
#include "daemon/output.h"
#include "daemon/registry.h"

struct output_src {
	struct output *o;
	int fd;
	uint8_t stream;
	struct event *ev;
};

struct output_client {
	struct output *o;
	int fd[2];     /* stdout (with a terminal: the socket, both ways), stderr or -1 */
	bool input;    /* a terminal's input is read from fd[0] */
	struct event *ev_in, *ev_out[2], *ev_retry;
	char *q[2];    /* output it has not taken yet */
	size_t qlen[2];
	char in[4096]; /* input the terminal has not taken yet */
	size_t inlen;
	struct output_client *next;
};

struct output {
	struct container *ct;
	struct output_client *clients;
	unsigned n_clients;
	struct log_file *log;
	uint64_t generation; /* kept when the log is closed */
	bool pty;
	struct output_src src[2]; /* stdout (or the pty), stderr */
};

static void client_free(struct output_client *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->ev_out[i])
			event_free(c->ev_out[i]);
		safe_close(c->fd[i]);
		free(c->q[i]);
	}
	if (c->ev_in)
		event_free(c->ev_in);
	if (c->ev_retry)
		event_free(c->ev_retry);
	free(c);
}

/* Detaches a client: it sees EOF. */
static void client_close(struct output_client *c)
{
	struct output *o = c->o;
	for (struct output_client **p = &o->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			o->n_clients--;
			break;
		}
	client_free(c);
}

static void clients_close(struct output *o)
{
	while (o->clients)
		client_close(o->clients);
}

/* Writes what a client can take now and queues the rest; a client that does not read is
 * detached once its queue is full, rather than hold the container's output (or the daemon's
 * memory) back. Returns false when the client was closed. */
static bool client_send(struct output_client *c, int i, const char *buf, size_t len)
{
	if (c->qlen[i] == 0) {
		ssize_t n = write(c->fd[i], buf, len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_close(c);
			return false;
		}
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
	if (len == 0)
		return true;
	if (c->qlen[i] + len > OUTPUT_CLIENT_QUEUE) {
		log_debug("container %.12s: an attached client does not read: detached", c->o->ct->id);
		client_close(c);
		return false;
	}
	char *q = realloc(c->q[i], c->qlen[i] + len);
	if (!q) {
		client_close(c);
		return false;
	}
	memcpy(q + c->qlen[i], buf, len);
	c->q[i] = q;
	c->qlen[i] += len;
	event_add(c->ev_out[i], NULL);
	return true;
}

/* A client took some of its queue: the rest goes as far as it can. */
static void on_client_writable(evutil_socket_t fd, short what, void *arg)
{
	struct output_client *c = arg;
	int i = fd == c->fd[0] ? 0 : 1;
	ssize_t n = write(c->fd[i], c->q[i], c->qlen[i]);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	memmove(c->q[i], c->q[i] + n, c->qlen[i] - (size_t)n);
	c->qlen[i] -= (size_t)n;
	if (c->qlen[i] == 0)
		event_del(c->ev_out[i]);
}

/* Gives the terminal what a client typed; what it cannot take now is retried shortly, and the
 * client is not read meanwhile. */
static void client_push_input(struct output_client *c)
{
	int master = c->o->src[0].fd;
	if (master < 0) {
		c->inlen = 0;
		return;
	}
	ssize_t n = write(master, c->in, c->inlen);
	if (n > 0) {
		memmove(c->in, c->in + n, c->inlen - (size_t)n);
		c->inlen -= (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		c->inlen = 0;
	}
	if (c->inlen) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 10000 };
		event_del(c->ev_in);
		evtimer_add(c->ev_retry, &tv);
	} else {
		event_add(c->ev_in, NULL);
	}
}

static void on_client_retry(evutil_socket_t fd, short what, void *arg)
{
	client_push_input(arg);
}

/* What an attached client typed, or its leaving. */
static void on_client_input(evutil_socket_t fd, short what, void *arg)
{
	struct output_client *c = arg;
	ssize_t n = read(c->fd[0], c->in, sizeof(c->in));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* The client went away (or shut its side down: no more input, and it detached). */
	if (n <= 0) {
		client_close(c);
		return;
	}
	if (!c->input)
		return; /* --no-stdin: what it sends is not the container's */
	c->inlen = (size_t)n;
	client_push_input(c);
}

/* The log got a record: attached clients get its bytes, read back from the file (the page
 * cache), so that the path to the log stays free of copies when nobody is attached. */
static void on_record(void *userdata, uint8_t stream, int fd, uint64_t off, uint32_t len)
{
	struct output *o = userdata;
	static char buf[65536];
	while (o->clients && len > 0) {
		ssize_t n = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf), (off_t)off);
		if (n <= 0)
			return;
		for (struct output_client *c = o->clients, *next; c; c = next) {
			next = c->next;
			(void)client_send(c, o->pty || stream != LOGFMT_STDERR ? 0 : 1, buf, (size_t)n);
		}
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
}

void output_resize(struct output *o, unsigned short rows, unsigned short cols)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	if (o->pty && o->src[0].fd >= 0 && rows && cols)
		(void)ioctl(o->src[0].fd, TIOCSWINSZ, &ws); /* best effort, as a terminal's resize */
}

bool output_is_pty(const struct output *o)
{
	return o->pty;
}

int output_attach(struct output *o, const int fds[2], bool input, char **reterr)
{
	struct output_client *c = calloc(1, sizeof(*c));
	if (!c) {
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	c->o = o;
	c->fd[0] = fds[0];
	c->fd[1] = o->pty ? -1 : fds[1];
	if (o->pty && fds[1] >= 0)
		close(fds[1]);
	c->input = o->pty && input;
	if (!o->log || output_drained(o)) {
		client_free(c);
		return err_set(reterr, -ESRCH, "the container's output is complete");
	}
	if (o->n_clients >= OUTPUT_MAX_CLIENTS) {
		client_free(c);
		return err_set(reterr, -EBUSY, "too many clients attached (%d)", OUTPUT_MAX_CLIENTS);
	}
	struct event_base *base = o->ct->reg->base;
	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0 && (fd_nonblock(c->fd[i], true) < 0 ||
				      !(c->ev_out[i] = event_new(base, c->fd[i], EV_WRITE | EV_PERSIST, on_client_writable, c)))) {
			client_free(c);
			return err_set(reterr, -ENOMEM, "cannot watch the attached client");
		}
	/* A terminal's socket is read too: for input, and to notice the client leaving. */
	if (o->pty && (!(c->ev_in = event_new(base, c->fd[0], EV_READ | EV_PERSIST, on_client_input, c)) ||
		       !(c->ev_retry = evtimer_new(base, on_client_retry, c)) || event_add(c->ev_in, NULL) < 0)) {
		client_free(c);
		return err_set(reterr, -ENOMEM, "cannot watch the attached client");
	}
	c->next = o->clients;
	o->clients = c;
	o->n_clients++;
	log_file_set_observer(o->log, on_record, o);
	return 0;
}

int output_new(struct container *ct, int log_dirfd, const struct log_file_opts *opts, struct output **ret,
	       char **reterr)
{
	struct output *o = calloc(1, sizeof(*o));
	if (!o)
		return err_set(reterr, -ENOMEM, "out of memory");
	o->ct = ct;
	for (int i = 0; i < 2; i++)
		o->src[i] = (struct output_src){ .o = o, .fd = -1, .stream = i == 0 ? LOGFMT_STDOUT : LOGFMT_STDERR };
	int r = log_file_open(log_dirfd, opts, &o->log, reterr);
	if (r < 0) {
		free(o);
		return r;
	}
	*ret = o;
	return 0;
}

static void src_close(struct output_src *s)
{
	if (s->ev)
		event_free(TAKE_PTR(s->ev));
	s->fd = safe_close(s->fd);
}

/* Once every source reached EOF the log is complete: its file is closed (readers open their own). */
static void maybe_done(struct output *o)
{
	if (o->src[0].fd >= 0 || o->src[1].fd >= 0 || !o->log)
		return;
	o->generation = log_file_generation(o->log);
	log_file_free(TAKE_PTR(o->log));
	clients_close(o);
	log_debug("container %.12s: output complete", o->ct->id);
}

/* A failure to write the log loses output, never the container: the source is read on (and
 * dropped) so that the container does not block on a full pipe. */
static void src_fail(struct output_src *s, int r)
{
	static char sink[65536];
	log_errno(LOG_LEVEL_WARNING, r, "container %.12s: cannot write its log: %m", s->o->ct->id);
	ssize_t n = read(s->fd, sink, sizeof(sink));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		src_close(s);
		maybe_done(s->o);
	}
}

/* Moves what one source has (up to the budget) to the log; EOF closes it. */
static void src_pump(struct output_src *s)
{
	struct output *o = s->o;
	if (s->fd < 0 || !o->log)
		return;
	if (o->pty) {
		static char buf[65536];
		size_t done = 0;
		while (done < OUTPUT_BUDGET) {
			ssize_t n = read(s->fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				return;
			/* EIO: the last holder of the terminal closed it. */
			if (n <= 0) {
				src_close(s);
				maybe_done(o);
				return;
			}
			int r = log_file_write(o->log, s->stream, buf, (size_t)n);
			if (r < 0) {
				src_fail(s, r);
				return;
			}
			done += (size_t)n;
		}
		return;
	}
	size_t moved = 0;
	int r = log_file_splice(o->log, s->stream, s->fd, OUTPUT_BUDGET, &moved);
	if (r < 0) {
		src_fail(s, r);
		return;
	}
	if (moved > 0)
		return;
	/* Readable with nothing in it: EOF, unless bytes arrived just now. */
	char buf[4096];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	if (n > 0) {
		if ((r = log_file_write(o->log, s->stream, buf, (size_t)n)) < 0)
			src_fail(s, r);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	src_close(s);
	maybe_done(o);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	src_pump(arg);
}

int output_pipes(struct output *o, int ret_write[2], char **reterr)
{
	int rd[2] = { -1, -1 }, wr[2] = { -1, -1 };
	for (int i = 0; i < 2; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
			int r = -errno;
			for (int k = 0; k < i; k++) {
				safe_close(rd[k]);
				safe_close(wr[k]);
			}
			return err_set(reterr, r, "cannot create the output pipes: %m");
		}
		rd[i] = p[0];
		wr[i] = p[1];
		/* Best effort: a pipe keeps its default size past the user's pipe-max-size. */
		(void)fcntl(p[0], F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
		/* The container's end blocks as a pipe it made itself would. */
		if (fcntl(p[1], F_SETFL, O_WRONLY) < 0) {
			int r = -errno;
			for (int k = 0; k <= i; k++) {
				safe_close(rd[k]);
				safe_close(wr[k]);
			}
			return err_set(reterr, r, "cannot set up the output pipes: %m");
		}
	}
	int r = output_watch(o, rd, false, reterr);
	if (r < 0) {
		safe_close(wr[0]);
		safe_close(wr[1]);
		return r;
	}
	ret_write[0] = wr[0];
	ret_write[1] = wr[1];
	return 0;
}

int output_watch(struct output *o, const int fds[2], bool pty, char **reterr)
{
	o->pty = pty;
	for (int i = 0; i < 2; i++) {
		struct output_src *s = &o->src[i];
		s->fd = fds[i];
	}
	for (int i = 0; i < 2; i++) {
		struct output_src *s = &o->src[i];
		if (s->fd < 0)
			continue;
		if (fd_nonblock(s->fd, true) < 0 ||
		    !(s->ev = event_new(o->ct->reg->base, s->fd, EV_READ | EV_PERSIST, on_readable, s)) ||
		    event_add(s->ev, NULL) < 0) {
			src_close(&o->src[0]);
			src_close(&o->src[1]);
			return err_set(reterr, -ENOMEM, "cannot watch the container's output");
		}
	}
	return 0;
}

int output_adopt(struct container *ct, int log_dirfd, const struct log_file_opts *opts, const int fds[2], bool pty,
		 struct output **ret, char **reterr)
{
	struct output *o;
	int r = output_new(ct, log_dirfd, opts, &o, reterr);
	if (r < 0) {
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return r;
	}
	r = output_watch(o, fds, pty, reterr);
	if (r < 0) {
		output_free(o);
		return r;
	}
	*ret = o;
	return 0;
}

void output_fds(const struct output *o, int fds[2])
{
	fds[0] = o->src[0].fd;
	fds[1] = o->src[1].fd;
}

void output_take_fds(struct output *o, int fds[2], bool *ret_pty)
{
	for (int i = 0; i < 2; i++) {
		struct output_src *s = &o->src[i];
		if (s->ev)
			event_free(TAKE_PTR(s->ev));
		fds[i] = TAKE_FD(s->fd);
	}
	*ret_pty = o->pty;
}

void output_drain(struct output *o)
{
	/* Each pass moves a budget; what the pipes hold is bounded by their size. */
	for (int pass = 0; pass < 64 && (o->src[0].fd >= 0 || o->src[1].fd >= 0) && o->log; pass++) {
		int before[2] = { o->src[0].fd, o->src[1].fd };
		for (int i = 0; i < 2; i++)
			src_pump(&o->src[i]);
		int avail = 0;
		bool more = false;
		for (int i = 0; i < 2; i++)
			if (o->src[i].fd >= 0 && !o->pty && ioctl(o->src[i].fd, FIONREAD, &avail) == 0 && avail > 0)
				more = true;
		if (!more && before[0] == o->src[0].fd && before[1] == o->src[1].fd)
			break;
	}
}

bool output_drained(const struct output *o)
{
	return o->src[0].fd < 0 && o->src[1].fd < 0;
}

uint64_t output_generation(const struct output *o)
{
	return o->log ? log_file_generation(o->log) : o->generation;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	clients_close(o);
	src_close(&o->src[0]);
	src_close(&o->src[1]);
	log_file_free(o->log);
	free(o);
}
