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

struct output {
	struct container *ct;
	struct log_file *log;
	uint64_t generation; /* kept when the log is closed */
	bool pty;
	struct output_src src[2]; /* stdout (or the pty), stderr */
};

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
	src_close(&o->src[0]);
	src_close(&o->src[1]);
	log_file_free(o->log);
	free(o);
}
