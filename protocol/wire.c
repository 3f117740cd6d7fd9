#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macros.h"
#include "protocol/wire.h"

struct wire_fd_batch {
	size_t anchor; /* stream offset of the last byte read with these fds */
	int fds[PROTO_MAX_FDS];
	unsigned nfds;
	bool truncated;
};

/* At most this many fd-carrying recvmsg() results may wait for their line to complete. */
#define WIRE_MAX_BATCHES 8

void wire_reader_init(struct wire_reader *r)
{
	memset(r, 0, sizeof(*r));
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

void wire_reader_done(struct wire_reader *r)
{
	for (unsigned i = 0; i < r->nbatches; i++)
		close_fds(r->batches[i].fds, r->batches[i].nfds);
	free(r->batches);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static void drop_batch(struct wire_reader *r, unsigned i, bool close_them)
{
	if (close_them)
		close_fds(r->batches[i].fds, r->batches[i].nfds);
	memmove(&r->batches[i], &r->batches[i + 1], (r->nbatches - i - 1) * sizeof(r->batches[0]));
	r->nbatches--;
}

int wire_reader_fill(struct wire_reader *r, int sockfd)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	if (r->cap - r->len < 4096) {
		/* Room for one more max-size line plus slack, never more. */
		size_t max = r->max ? r->max : PROTO_MAX_MESSAGE;
		size_t ncap = r->cap ? r->cap * 2 : 8192;
		if (ncap > max + 8192)
			ncap = max + 8192;
		if (ncap <= r->cap)
			return -ENOBUFS; /* caller must consume lines first */
		char *n = realloc(r->buf, ncap + 1);
		if (!n)
			return -ENOMEM;
		r->buf = n;
		r->cap = ncap;
	}

	struct wire_fd_batch batch = { .nfds = 0 };
	size_t nfds;
	ssize_t n = fdpass_recv(sockfd, r->buf + r->len, r->cap - r->len, batch.fds, PROTO_MAX_FDS, &nfds,
				&batch.truncated, MSG_DONTWAIT);
	if (n < 0)
		return (int)n;
	batch.nfds = (unsigned)nfds;
	if (n == 0) {
		r->eof = true;
		close_fds(batch.fds, batch.nfds);
		return 0;
	}
	r->len += (size_t)n;
	if (batch.nfds > 0 || batch.truncated) {
		if (r->nbatches >= WIRE_MAX_BATCHES) {
			close_fds(batch.fds, batch.nfds);
			return -ETOOMANYREFS;
		}
		struct wire_fd_batch *nb = realloc(r->batches, (r->nbatches + 1) * sizeof(*nb));
		if (!nb) {
			close_fds(batch.fds, batch.nfds);
			return -ENOMEM;
		}
		r->batches = nb;
		batch.anchor = r->consumed + r->len - 1;
		r->batches[r->nbatches++] = batch;
	}
	return (int)n;
}

/* Drops the first n bytes of unread data (cheaply: the buffer is compacted once per read). */
static void consume(struct wire_reader *r, size_t n)
{
	r->start += n;
	r->consumed += n;
	if (r->start == r->len)
		r->start = r->len = 0;
}

/* Moves the fds of batches anchored at or before end into ret (or closes them when ret is NULL). */
static void take_batches(struct wire_reader *r, size_t end, struct wire_msg *ret)
{
	while (r->nbatches > 0 && r->batches[0].anchor <= end) {
		struct wire_fd_batch *b = &r->batches[0];
		if (ret) {
			ret->fds_truncated |= b->truncated;
			for (unsigned i = 0; i < b->nfds; i++) {
				if (ret->nfds < PROTO_MAX_FDS)
					ret->fds[ret->nfds++] = b->fds[i];
				else {
					close(b->fds[i]);
					ret->fds_truncated = true;
				}
				b->fds[i] = -1;
			}
		}
		drop_batch(r, 0, true);
	}
}

int wire_reader_next(struct wire_reader *r, struct wire_msg *ret)
{
	size_t max = r->max ? r->max : PROTO_MAX_MESSAGE;
	memset(ret, 0, sizeof(*ret));
	for (unsigned i = 0; i < PROTO_MAX_FDS; i++)
		ret->fds[i] = -1;

	/* The previous line's bytes are released only now, so ret->line stayed valid until here. */
	if (r->pending) {
		consume(r, r->pending);
		r->pending = 0;
	}

	for (;;) {
		char *data = r->buf + r->start;
		size_t avail = r->len - r->start;
		char *nl = avail ? memchr(data, '\n', avail) : NULL;
		if (r->skipping) {
			size_t upto = nl ? (size_t)(nl - data) + 1 : avail;
			if (upto)
				take_batches(r, r->consumed + upto - 1, NULL);
			consume(r, upto);
			if (!nl)
				return 0;
			r->skipping = false;
			continue;
		}
		if (!nl) {
			if (avail >= max) {
				r->skipping = true;
				take_batches(r, r->consumed + avail - 1, NULL);
				consume(r, avail);
				return -EMSGSIZE;
			}
			return 0;
		}
		size_t linelen = (size_t)(nl - data);
		if (linelen + 1 > max) {
			take_batches(r, r->consumed + linelen, NULL);
			consume(r, linelen + 1);
			return -EMSGSIZE;
		}
		take_batches(r, r->consumed + linelen, ret);
		*nl = '\0';
		ret->line = data;
		ret->len = linelen;
		r->pending = linelen + 1;
		return 1;
	}
}

void wire_msg_close_fds(struct wire_msg *m)
{
	close_fds(m->fds, m->nfds);
}

struct wire_out {
	struct wire_out *next;
	size_t len, off;
	int fds[PROTO_MAX_FDS];
	unsigned nfds;
	char data[];
};

void wire_writer_init(struct wire_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void wire_writer_done(struct wire_writer *w)
{
	struct wire_out *o = w->head;
	while (o) {
		struct wire_out *next = o->next;
		close_fds(o->fds, o->nfds);
		free(o);
		o = next;
	}
	memset(w, 0, sizeof(*w));
}

int wire_writer_push(struct wire_writer *w, const char *buf, size_t len, const int *fds, unsigned nfds)
{
	if (nfds > PROTO_MAX_FDS) {
		close_fds((int *)fds, nfds);
		return -EINVAL;
	}
	struct wire_out *o = malloc(sizeof(*o) + len);
	if (!o) {
		close_fds((int *)fds, nfds);
		return -ENOMEM;
	}
	o->next = NULL;
	o->len = len;
	o->off = 0;
	o->nfds = nfds;
	for (unsigned i = 0; i < nfds; i++)
		o->fds[i] = fds[i];
	memcpy(o->data, buf, len);
	if (w->tail)
		w->tail->next = o;
	else
		w->head = o;
	w->tail = o;
	w->queued_bytes += len;
	return 0;
}

int wire_writer_flush(struct wire_writer *w, int sockfd)
{
	while (w->head) {
		struct wire_out *o = w->head;
		/* fds go with the message's first byte only. */
		ssize_t n = fdpass_send(sockfd, o->data + o->off, o->len - o->off, o->fds,
					o->off == 0 ? o->nfds : 0, MSG_DONTWAIT);
		if (n < 0)
			return (int)n;
		if (o->off == 0)
			close_fds(o->fds, o->nfds);
		o->off += (size_t)n;
		w->queued_bytes -= (size_t)n;
		if (o->off < o->len)
			return -EAGAIN;
		w->head = o->next;
		if (!w->head)
			w->tail = NULL;
		free(o);
	}
	return 0;
}

int wire_send(int sockfd, const char *buf, size_t len, const int *fds, unsigned nfds)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = fdpass_send(sockfd, buf + off, len - off, fds, off == 0 ? nfds : 0, 0);
		if (n == -EAGAIN) {
			struct pollfd p = { .fd = sockfd, .events = POLLOUT };
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (n < 0)
			return (int)n;
		off += (size_t)n;
	}
	return 0;
}
