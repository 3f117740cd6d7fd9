/* Framing of protocol messages on a stream socket: newline-delimited lines, each with the file
 * descriptors that arrived with it. Knows nothing about JSON or event loops. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "protocol/protocol.h"

/* One received line and the fds that came with it (owned by the caller once returned). */
struct wire_msg {
	char *line; /* NUL-terminated, without the newline; valid until the next wire_reader call */
	size_t len;
	int fds[PROTO_MAX_FDS];
	unsigned nfds;
	bool fds_truncated; /* more fds were sent than fit: the kernel closed the excess */
};

struct wire_fd_batch;

/* Accumulates bytes and fds from one socket.
 *
 * Where fds belong: the kernel attaches SCM_RIGHTS to the first skb of the sendmsg() that carried
 * them and a recvmsg() never reads past an skb that carries fds. So the fds a recvmsg() returns
 * belong to the message that holds the last byte that call read. Each batch is anchored at that
 * byte's stream offset, and a message takes every batch anchored inside it. */
struct wire_reader {
	char *buf;
	size_t start, len, cap; /* unread data is buf[start, len) */
	size_t consumed;      /* stream offset of buf[start] */
	bool skipping;        /* discarding the rest of an oversized line */
	struct wire_fd_batch *batches;
	unsigned nbatches;
	size_t pending;       /* bytes of the line last returned, released on the next call */
	bool eof;
	size_t max;           /* longest line accepted, newline included; 0: PROTO_MAX_MESSAGE */
};

void wire_reader_init(struct wire_reader *r);
/* Closes every fd the reader still holds and frees its memory. */
void wire_reader_done(struct wire_reader *r);

/* One recvmsg() (MSG_CMSG_CLOEXEC). Returns bytes read (0 at EOF) or -errno (-EAGAIN if none). */
int wire_reader_fill(struct wire_reader *r, int sockfd);

/* Extracts the next complete line. Returns 1 and fills ret, 0 if more bytes are needed, or
 * -EMSGSIZE when a line exceeded PROTO_MAX_MESSAGE (or r->max) (its bytes and fds are discarded up to the
 * next newline, so the stream stays usable). The fds in ret belong to the caller: it must close
 * them or set them to -1 (the reader does not touch them again). */
int wire_reader_next(struct wire_reader *r, struct wire_msg *ret);

/* Closes the fds of a message that the caller did not take (entries set to -1 are skipped). */
void wire_msg_close_fds(struct wire_msg *m);

/* Outgoing queue for a non-blocking socket. Takes ownership of fds and closes them once sent. */
struct wire_out;
struct wire_writer {
	struct wire_out *head, *tail;
	size_t queued_bytes;
};

void wire_writer_init(struct wire_writer *w);
void wire_writer_done(struct wire_writer *w);
/* Queues a copy of buf with fds (ownership of fds moves to the writer, even on failure). */
int wire_writer_push(struct wire_writer *w, const char *buf, size_t len, const int *fds, unsigned nfds);
/* Sends as much as the socket takes: 0 when empty, -EAGAIN when more is pending, -errno on error. */
int wire_writer_flush(struct wire_writer *w, int sockfd);
static inline bool wire_writer_pending(const struct wire_writer *w)
{
	return w->head != NULL;
}

/* Blocking send of one whole message with its fds (for clients). */
int wire_send(int sockfd, const char *buf, size_t len, const int *fds, unsigned nfds);
