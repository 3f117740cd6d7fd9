#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logfmt.h"
#include "common/macros.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t check_of(const struct logfmt_header *h)
{
	return h->length ^ (uint32_t)h->time_ns ^ (uint32_t)(h->time_ns >> 32) ^ h->stream ^ LOGFMT_CHECK_SALT;
}

void logfmt_header_encode(const struct logfmt_header *h, uint8_t out[LOGFMT_HEADER_SIZE])
{
	memset(out, 0, LOGFMT_HEADER_SIZE);
	put32(out, LOGFMT_MAGIC);
	out[4] = h->stream;
	logfmt_header_encode_length(h, out + 8);
	put32(out + 16, (uint32_t)h->time_ns);
	put32(out + 20, (uint32_t)(h->time_ns >> 32));
}

void logfmt_header_encode_length(const struct logfmt_header *h, uint8_t out[8])
{
	put32(out, h->length);
	put32(out + 4, check_of(h));
}

int logfmt_header_decode(const uint8_t in[LOGFMT_HEADER_SIZE], struct logfmt_header *ret)
{
	struct logfmt_header h = {
		.stream = in[4],
		.length = get32(in + 8),
		.time_ns = (uint64_t)get32(in + 16) | (uint64_t)get32(in + 20) << 32,
	};
	if (get32(in) != LOGFMT_MAGIC || (h.stream != LOGFMT_STDOUT && h.stream != LOGFMT_STDERR) || in[5] || in[6] ||
	    in[7] || get32(in + 12) != check_of(&h))
		return -EBADMSG;
	if (h.length != LOGFMT_OPEN && h.length > LOGFMT_MAX_RECORD)
		return -EBADMSG;
	*ret = h;
	return h.length == LOGFMT_OPEN ? 1 : 0;
}

/* pread of exactly len bytes: 1, 0 when the file ends first, -errno. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		done += (size_t)n;
	}
	return 1;
}

/* The record at off of a file of the given size: 1 when it is complete (*ret set), 0 when there
 * is none (*ret_tail says what is there instead), -errno on a read error. */
static int record_at(int fd, uint64_t off, uint64_t size, struct logfmt_header *ret, enum logfmt_tail *ret_tail)
{
	uint8_t buf[LOGFMT_HEADER_SIZE];
	*ret_tail = LOGFMT_TAIL_CLEAN;
	if (off >= size)
		return 0;
	*ret_tail = LOGFMT_TAIL_TORN;
	if (size - off < LOGFMT_HEADER_SIZE)
		return 0;
	int r = pread_full(fd, buf, sizeof(buf), off);
	if (r <= 0)
		return r;
	r = logfmt_header_decode(buf, ret);
	if (r < 0)
		return 0;
	if (r == 1) {
		*ret_tail = LOGFMT_TAIL_OPEN;
		return 0;
	}
	if (size - off - LOGFMT_HEADER_SIZE < ret->length)
		return 0;
	return 1;
}

static int file_size(int fd, uint64_t *ret)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*ret = (uint64_t)st.st_size;
	return 0;
}

int logfmt_scan(int fd, uint64_t *ret_end, enum logfmt_tail *ret_tail)
{
	uint64_t size, off = 0;
	int r = file_size(fd, &size);
	if (r < 0)
		return r;
	for (;;) {
		struct logfmt_header h;
		r = record_at(fd, off, size, &h, ret_tail);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		off += LOGFMT_HEADER_SIZE + h.length;
	}
	*ret_end = off;
	return 0;
}

int logfmt_read_record(int fd, uint64_t off, struct logfmt_header *ret)
{
	uint64_t size;
	enum logfmt_tail tail;
	int r = file_size(fd, &size);
	if (r < 0)
		return r;
	return record_at(fd, off, size, ret, &tail);
}

bool logfmt_time_selected(const struct logfmt_filter *f, uint64_t time_ns)
{
	if (f->since_ns > 0 && time_ns < (uint64_t)f->since_ns)
		return false;
	if (f->until_ns > 0 && time_ns > (uint64_t)f->until_ns)
		return false;
	return true;
}

struct rec_ref {
	size_t file;
	uint64_t off;
	uint32_t len;
};

struct rec_index {
	struct rec_ref *v;
	size_t n, cap;
};

static int index_add(void *userdata, int fd, const struct logfmt_header *h, uint64_t data_off, uint32_t data_len)
{
	struct rec_index *ix = userdata;
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 256;
		struct rec_ref *v = reallocarray(ix->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		ix->v = v;
		ix->cap = cap;
	}
	/* The file index travels in the slot the walk below gives it (see select_from). */
	ix->v[ix->n++] = (struct rec_ref){ .file = (size_t)fd, .off = data_off - LOGFMT_HEADER_SIZE, .len = data_len };
	return 0;
}

/* The records of fds from pos on, by time; fn gets the file's index instead of its fd when
 * by_index (for the tail index). */
static int select_from(const int *fds, size_t nfds, const struct logfmt_filter *f, struct logfmt_pos pos,
		       bool by_index, logfmt_record_fn fn, void *userdata)
{
	for (size_t i = pos.file; i < nfds; i++) {
		uint64_t size, off = i == pos.file ? pos.off : 0;
		uint32_t skip = i == pos.file ? pos.skip : 0;
		int r = file_size(fds[i], &size);
		if (r < 0)
			return r;
		for (;;) {
			struct logfmt_header h;
			enum logfmt_tail tail;
			r = record_at(fds[i], off, size, &h, &tail);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			if (skip < h.length && logfmt_time_selected(f, h.time_ns)) {
				r = fn(userdata, by_index ? (int)i : fds[i], &h, off + LOGFMT_HEADER_SIZE + skip,
				       h.length - skip);
				if (r < 0)
					return r;
			}
			skip = 0;
			off += LOGFMT_HEADER_SIZE + h.length;
		}
	}
	return 0;
}

int logfmt_tail_position(const int *fds, size_t nfds, const struct logfmt_filter *f, struct logfmt_pos *ret)
{
	struct rec_index ix = { 0 };
	struct logfmt_filter all = *f;
	all.tail = -1;
	int r = select_from(fds, nfds, &all, (struct logfmt_pos){ 0 }, true, index_add, &ix);
	if (r < 0) {
		free(ix.v);
		return r;
	}
	/* The end: nothing selected, unless lines are wanted and found below. */
	*ret = (struct logfmt_pos){ .file = nfds, .off = 0, .skip = 0 };
	if (ix.n == 0 || f->tail == 0) {
		free(ix.v);
		return 0;
	}
	*ret = (struct logfmt_pos){ .file = ix.v[0].file, .off = ix.v[0].off, .skip = 0 };
	long long newlines = 0;
	bool last_byte = true;
	char buf[65536];
	for (size_t k = ix.n; k-- > 0;) {
		const struct rec_ref *rec = &ix.v[k];
		uint32_t end = rec->len;
		while (end > 0) {
			uint32_t chunk = end < sizeof(buf) ? end : (uint32_t)sizeof(buf);
			uint32_t start = end - chunk;
			r = pread_full(fds[rec->file], buf, chunk, rec->off + LOGFMT_HEADER_SIZE + start);
			if (r <= 0) {
				free(ix.v);
				return r < 0 ? r : -EIO;
			}
			for (uint32_t j = chunk; j-- > 0;) {
				/* The newline that ends the text ends the last line; it starts none. */
				if (last_byte) {
					last_byte = false;
					if (buf[j] == '\n')
						continue;
				}
				if (buf[j] == '\n' && ++newlines == f->tail) {
					*ret = (struct logfmt_pos){ .file = rec->file, .off = rec->off, .skip = start + j + 1 };
					free(ix.v);
					return 0;
				}
			}
			end = start;
		}
	}
	free(ix.v);
	return 0;
}

int logfmt_select(const int *fds, size_t nfds, const struct logfmt_filter *f, logfmt_record_fn fn, void *userdata)
{
	struct logfmt_pos pos = { 0 };
	if (f->tail >= 0) {
		int r = logfmt_tail_position(fds, nfds, f, &pos);
		if (r < 0)
			return r;
	}
	return select_from(fds, nfds, f, pos, false, fn, userdata);
}
