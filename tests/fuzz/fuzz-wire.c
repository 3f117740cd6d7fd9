/* Fuzz target for the framing: bytes and fds go through a real socketpair in chunks the input
 * chooses and come out of wire_reader_fill()/wire_reader_next(), which must hand back exactly
 * the lines a simple model of the stream predicts, each with fds that were sent inside it, and
 * must never leak an fd.
 *
 * Input: a sequence of operations, each introduced by one byte h:
 *   h = 0b0ZLLLLLL, bytes       a chunk of L+1 input bytes through wire_send(); Z: queue it on
 *                               wire_writer instead and do not read until later, so several
 *                               messages queue up and meet in one read
 *   h = 0b10xZTNNN, n, bytes    a chunk of n+1 input bytes with N fds (0-7): up to 4 through
 *                               wire_writer, more with a raw sendmsg() so the kernel truncates
 *                               them; T: a newline ends the chunk; Z: as above
 *   h = 0b11TZKKKK, c           (K+1) * 4 KiB of byte c (only 4 KiB of newlines) through
 *                               wire_writer, and a newline if T is set: how lines cross
 *                               PROTO_MAX_MESSAGE without huge inputs (at most MAX_FILLER
 *                               bytes per input); Z: as above, so the socket fills up
 * Whenever the socket is full, and at the end (after shutdown()), the reader drains it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "protocol/wire.h"
#include "tests/fuzz/fuzz.h"

/* Most fd-carrying sends per input (more send no fds). */
#define MAX_FD_CHUNKS 64
/* Most filler bytes per input: room for two oversized lines and change. */
#define MAX_FILLER (3 * PROTO_MAX_MESSAGE)

/* A sendmsg() that carried fds: where its bytes sit in the stream and what it sent. */
struct fd_chunk {
	size_t start, end; /* stream offsets [start, end) */
	ino_t ino;	   /* every fd of the chunk is a copy of one pipe end */
	unsigned nfds, received;
};

struct state {
	int sv[2]; /* sv[0] writes, sv[1] reads */
	struct wire_writer wr;
	struct wire_reader rd;
	/* The model: every byte sent, and where the next expected line starts. */
	char *stream;
	size_t sent, cap, mpos, received;
	bool model_skipping; /* the reader reported the line at mpos as too large */
	bool dead;	     /* the reader failed (too many fd batches): the connection is over */
	struct fd_chunk chunks[MAX_FD_CHUNKS];
	unsigned nchunks;
	unsigned lines, oversized;
};

/* How many fds this process has open, to catch leaks across one input. */
static unsigned count_fds(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	FUZZ_CHECK(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Records bytes as sent, in order. */
static void model_append(struct state *s, const char *buf, size_t len)
{
	if (s->sent + len > s->cap) {
		size_t ncap = (s->sent + len) * 2;
		s->stream = realloc(s->stream, ncap);
		FUZZ_CHECK(s->stream != NULL);
		s->cap = ncap;
	}
	memcpy(s->stream + s->sent, buf, len);
	s->sent += len;
}

/* Where the line starting at pos ends (its newline), or -1 when its newline was not sent yet. */
static ssize_t model_newline(const struct state *s, size_t pos)
{
	if (pos >= s->sent)
		return -1;
	const char *nl = memchr(s->stream + pos, '\n', s->sent - pos);
	return nl ? nl - s->stream : -1;
}

/* Leaves the line the reader skipped as too large. */
static void model_skip_line(struct state *s)
{
	ssize_t nl = model_newline(s, s->mpos);
	FUZZ_CHECK(nl >= 0);
	s->mpos = (size_t)nl + 1;
	s->model_skipping = false;
}

/* Checks the reader's public bookkeeping after each call (the fd batches are private). */
static void check_reader(const struct state *s)
{
	const struct wire_reader *r = &s->rd;
	FUZZ_CHECK(r->len <= r->cap);
	FUZZ_CHECK(r->start <= r->len && r->consumed + (r->len - r->start) == s->received);
	FUZZ_CHECK(r->nbatches <= 8 && (r->nbatches == 0 || r->batches));
	FUZZ_CHECK(r->pending <= r->len - r->start);
}

/* Checks one returned line against the model, and that its fds were sent inside it. */
static void check_line(struct state *s, struct wire_msg *m)
{
	if (s->model_skipping)
		model_skip_line(s);
	ssize_t nl = model_newline(s, s->mpos);
	FUZZ_CHECK(nl >= 0);
	size_t start = s->mpos, len = (size_t)nl - start;
	FUZZ_CHECK(m->len == len && len + 1 <= PROTO_MAX_MESSAGE);
	FUZZ_CHECK(m->line[len] == '\0' && memcmp(m->line, s->stream + start, len) == 0);
	FUZZ_CHECK(memchr(m->line, '\n', len) == NULL);
	if (!memchr(m->line, '\0', len))
		FUZZ_CHECK(strlen(m->line) == len);
	FUZZ_CHECK(m->nfds <= PROTO_MAX_FDS);
	s->mpos = (size_t)nl + 1;

	/* Each fd must come from a chunk that overlaps this line (newline included). */
	for (unsigned i = 0; i < m->nfds; i++) {
		struct stat st;
		FUZZ_CHECK(m->fds[i] >= 0 && fstat(m->fds[i], &st) == 0);
		FUZZ_CHECK(fcntl(m->fds[i], F_GETFD) & FD_CLOEXEC);
		bool found = false;
		for (unsigned k = 0; k < s->nchunks && !found; k++) {
			struct fd_chunk *c = &s->chunks[k];
			if (c->ino != st.st_ino)
				continue;
			FUZZ_CHECK(c->start <= start + len && c->end > start);
			FUZZ_CHECK(c->received < c->nfds);
			c->received++;
			found = true;
		}
		FUZZ_CHECK(found);
	}
	/* Chunks that lie inside the line deliver all their fds to it, up to the cap. */
	unsigned inside = 0;
	bool partial = false, big = false;
	for (unsigned k = 0; k < s->nchunks; k++) {
		const struct fd_chunk *c = &s->chunks[k];
		if (c->start >= start && c->end <= start + len + 1) {
			inside += c->nfds;
			big |= c->nfds > PROTO_MAX_FDS;
		} else if (c->start <= start + len && c->end > start) {
			partial = true;
		}
	}
	if (inside > PROTO_MAX_FDS || big)
		FUZZ_CHECK(m->fds_truncated);
	else if (!partial)
		FUZZ_CHECK(m->nfds == inside && !m->fds_truncated);
	s->lines++;
	wire_msg_close_fds(m);
}

/* Reads everything the socket holds, taking lines out after every read as the daemon does. */
static void drain(struct state *s)
{
	while (!s->dead) {
		int n = wire_reader_fill(&s->rd, s->sv[1]);
		if (n == -EAGAIN)
			return;
		if (n == -ETOOMANYREFS) {
			/* A peer that sends fds in many pieces for one line; the daemon hangs up. */
			s->dead = true;
			return;
		}
		FUZZ_CHECK(n >= 0);
		s->received += (size_t)n;
		check_reader(s);
		for (;;) {
			struct wire_msg m;
			int k = wire_reader_next(&s->rd, &m);
			check_reader(s);
			if (k == 0)
				break;
			if (k == -EMSGSIZE) {
				FUZZ_CHECK(m.nfds == 0);
				if (s->model_skipping)
					model_skip_line(s);
				/* The line at mpos is at least PROTO_MAX_MESSAGE bytes long without its newline. */
				ssize_t nl = model_newline(s, s->mpos);
				FUZZ_CHECK(nl < 0 ? s->received - s->mpos >= PROTO_MAX_MESSAGE
						  : (size_t)nl - s->mpos + 1 > PROTO_MAX_MESSAGE);
				s->model_skipping = true;
				s->oversized++;
				continue;
			}
			FUZZ_CHECK(k == 1);
			check_line(s, &m);
		}
		/* What is left is part of one line, so a full-size line always fits. */
		FUZZ_CHECK(s->rd.len - s->rd.start < PROTO_MAX_MESSAGE);
		if (n == 0)
			return;
	}
}

/* Sends everything wire_writer holds, draining the reader whenever the socket is full. */
static void flush_writer(struct state *s)
{
	for (;;) {
		size_t queued = s->wr.queued_bytes;
		int r = wire_writer_flush(&s->wr, s->sv[0]);
		if (r == 0)
			break;
		FUZZ_CHECK(r == -EAGAIN);
		FUZZ_CHECK(wire_writer_pending(&s->wr) && s->wr.queued_bytes <= queued);
		drain(s);
		if (s->dead)
			return;
	}
	FUZZ_CHECK(!wire_writer_pending(&s->wr) && s->wr.queued_bytes == 0);
}

/* Queues bytes (and fds, which the writer takes) on wire_writer; unless lazy, sends them and
 * reads them at once. Lazy messages pile up in the queue, each to go out with its own fds. */
static void send_writer(struct state *s, const char *buf, size_t len, const int *fds, unsigned nfds, bool lazy)
{
	if (s->dead) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		return;
	}
	FUZZ_CHECK(wire_writer_push(&s->wr, buf, len, fds, nfds) == 0);
	model_append(s, buf, len);
	if (lazy && s->wr.queued_bytes < 65536)
		return;
	flush_writer(s);
	if (!lazy)
		drain(s);
}

/* The client's blocking wire_send(), on an empty socket so that it cannot block here. */
static void send_blocking(struct state *s, const char *buf, size_t len)
{
	flush_writer(s);
	drain(s);
	if (s->dead)
		return;
	model_append(s, buf, len);
	FUZZ_CHECK(wire_send(s->sv[0], buf, len, NULL, 0) == 0);
	drain(s);
}

/* A raw non-blocking sendmsg() loop for what wire_writer refuses (more than PROTO_MAX_FDS fds). */
static void send_raw(struct state *s, const char *buf, size_t len, int *fds, unsigned nfds)
{
	size_t off = 0;
	flush_writer(s);
	model_append(s, buf, len);
	while (off < len && !s->dead) {
		/* The fds go with the chunk's first byte only. */
		ssize_t n = fdpass_send(s->sv[0], buf + off, len - off, fds, off == 0 ? nfds : 0, MSG_DONTWAIT);
		if (n < 0) {
			FUZZ_CHECK(n == -EAGAIN);
			drain(s);
			continue;
		}
		off += (size_t)n;
	}
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	drain(s);
}

/* Sends a chunk carrying nfds copies of a fresh pipe's read end. */
static void send_with_fds(struct state *s, const char *buf, size_t len, unsigned nfds, bool lazy)
{
	int p[2], fds[8];
	struct stat st;
	if (s->nchunks == MAX_FD_CHUNKS)
		nfds = 0;
	FUZZ_CHECK(pipe2(p, O_CLOEXEC) == 0);
	FUZZ_CHECK(fstat(p[0], &st) == 0);
	close(p[1]);
	fds[0] = p[0];
	for (unsigned i = 1; i < nfds; i++)
		FUZZ_CHECK((fds[i] = fcntl(p[0], F_DUPFD_CLOEXEC, 3)) >= 0);
	if (nfds == 0) {
		close(p[0]);
	} else {
		s->chunks[s->nchunks++] = (struct fd_chunk){
		    .start = s->sent,
		    .end = s->sent + len,
		    .ino = st.st_ino,
		    .nfds = nfds,
		};
	}
	if (nfds <= PROTO_MAX_FDS) {
		send_writer(s, buf, len, fds, nfds, lazy);
		return;
	}
	/* wire_writer refuses more than it may send, and closes them all the same. */
	int extra[8];
	for (unsigned i = 0; i < nfds; i++)
		FUZZ_CHECK((extra[i] = fcntl(p[0], F_DUPFD_CLOEXEC, 3)) >= 0);
	FUZZ_CHECK(wire_writer_push(&s->wr, buf, len, extra, nfds) == -EINVAL);
	for (unsigned i = 0; i < nfds; i++)
		FUZZ_CHECK(fcntl(extra[i], F_GETFD) < 0 && errno == EBADF);
	send_raw(s, buf, len, fds, nfds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char filler[16 * 4096 + 1];
	unsigned fds_before = count_fds();
	struct state s = {.sv = {-1, -1}};
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s.sv) == 0);
	wire_writer_init(&s.wr);
	wire_reader_init(&s.rd);

	size_t i = 0, filler_total = 0;
	while (i < size && !s.dead) {
		uint8_t h = data[i++];
		if ((h & 0x80) == 0) {
			size_t len = (size_t)(h & 0x3f) + 1;
			if (len > size - i)
				len = size - i;
			if (len == 0)
				break;
			if (h & 0x40)
				send_writer(&s, (const char *)data + i, len, NULL, 0, true);
			else
				send_blocking(&s, (const char *)data + i, len);
			i += len;
		} else if ((h & 0xc0) == 0x80) {
			if (i >= size)
				break;
			size_t want = (size_t)data[i++] + 1;
			size_t len = want > size - i ? size - i : want;
			if (len == 0)
				break;
			char buf[258];
			memcpy(buf, data + i, len);
			i += len;
			if (h & 0x08)
				buf[len++] = '\n';
			send_with_fds(&s, buf, len, h & 7, h & 0x10);
		} else {
			if (i >= size)
				break;
			size_t len = ((size_t)(h & 0x0f) + 1) * 4096;
			char c = (char)data[i++];
			/* Enough for any oversized line, but bounded: big buffers full of short lines
			 * make the reader slow (it moves the rest of the buffer after each line). */
			if (c == '\n')
				len = 4096;
			if (filler_total + len > MAX_FILLER)
				break;
			filler_total += len;
			memset(filler, c, len);
			if (h & 0x20)
				filler[len++] = '\n';
			send_writer(&s, filler, len, NULL, 0, h & 0x10);
		}
	}

	/* The peer hangs up: every complete line must come out, then EOF. */
	if (!s.dead)
		flush_writer(&s);
	if (!s.dead) {
		FUZZ_CHECK(shutdown(s.sv[0], SHUT_WR) == 0);
		drain(&s);
	}
	if (!s.dead) {
		FUZZ_CHECK(s.rd.eof && s.received == s.sent);
		if (s.model_skipping && model_newline(&s, s.mpos) >= 0)
			model_skip_line(&s);
		if (!s.model_skipping) {
			FUZZ_CHECK(model_newline(&s, s.mpos) < 0);
			FUZZ_CHECK(s.sent - s.mpos < PROTO_MAX_MESSAGE);
		}
	}
	if (getenv("FUZZ_WIRE_VERBOSE"))
		fprintf(stderr, "sent %zu bytes: %u lines, %u oversized, %u fd chunks%s\n", s.sent, s.lines,
			s.oversized, s.nchunks, s.dead ? ", reader gave up (too many fd batches)" : "");
	wire_writer_done(&s.wr);
	wire_reader_done(&s.rd);
	close(s.sv[0]);
	close(s.sv[1]);
	free(s.stream);
	FUZZ_CHECK(count_fds() == fds_before);
	return 0;
}
