/* The container log file format (docs/logs.md): a sequence of records, each a 24-byte header
 * (magic, stream, length, check, timestamp) followed by the bytes the container wrote. The
 * daemon writes it (daemon/log-file.c), cctl and the daemon read it; nothing here knows either.
 *
 * Header, little-endian:
 *   0  u32 magic    LOGFMT_MAGIC ("CDL1")
 *   4  u8  stream   1 stdout, 2 stderr
 *   5  u8  flags    0
 *   6  u16 reserved 0
 *   8  u32 length   bytes of data after the header; LOGFMT_OPEN while the daemon writes them
 *  12  u32 check    length ^ time (both halves) ^ stream ^ LOGFMT_CHECK_SALT
 *  16  u64 time     nanoseconds since the epoch (CLOCK_REALTIME) when the daemon read the bytes
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGFMT_HEADER_SIZE 24
#define LOGFMT_MAGIC 0x314c4443u /* "CDL1" in file order */
#define LOGFMT_CHECK_SALT 0x9e3779b9u
#define LOGFMT_OPEN 0xffffffffu /* the length of a record still being written */
/* The longest record a reader accepts: the daemon writes at most a pipe's worth (1 MiB). */
#define LOGFMT_MAX_RECORD (16u * 1024 * 1024)

enum logfmt_stream { LOGFMT_STDOUT = 1, LOGFMT_STDERR = 2 };

struct logfmt_header {
	uint8_t stream;
	uint32_t length; /* LOGFMT_OPEN: being written */
	uint64_t time_ns;
};

void logfmt_header_encode(const struct logfmt_header *h, uint8_t out[LOGFMT_HEADER_SIZE]);
/* The bytes at offset 8 that complete a record once its data is written (length and check). */
void logfmt_header_encode_length(const struct logfmt_header *h, uint8_t out[8]);
/* 0 for a complete header, 1 for a record still being written (length LOGFMT_OPEN), -EBADMSG
 * for anything else (bad magic, stream, check, or a length over LOGFMT_MAX_RECORD). */
int logfmt_header_decode(const uint8_t in[LOGFMT_HEADER_SIZE], struct logfmt_header *ret);

/* What is at the end of a log file after its last complete record. */
enum logfmt_tail {
	LOGFMT_TAIL_CLEAN, /* nothing */
	LOGFMT_TAIL_OPEN,  /* a record still being written (or cut short by a crash): its header is whole */
	LOGFMT_TAIL_TORN,  /* garbage: a partial header, a bad header, or data shorter than its length */
};

/* Walks the headers of a log file from offset 0 (pread only: the file position is not used).
 * *ret_end: the end of the last complete record; *ret_tail: what follows it. -errno on a read
 * error. */
int logfmt_scan(int fd, uint64_t *ret_end, enum logfmt_tail *ret_tail);

/* Reads the record header at off: 1 and *ret for a complete record whose data lies in the
 * file, 0 at the end (nothing more, a record still open, or a torn tail), -errno on an error. */
int logfmt_read_record(int fd, uint64_t off, struct logfmt_header *ret);

/* Which records to print: by time (inclusive bounds, 0 for none) and the last tail lines
 * (-1 for all). */
struct logfmt_filter {
	int64_t since_ns, until_ns;
	long long tail;
};

/* Called once per selected record, in order: data_len bytes from data_off of fd. */
typedef int (*logfmt_record_fn)(void *userdata, int fd, const struct logfmt_header *h, uint64_t data_off,
				uint32_t data_len);

/* A position in a list of log files (oldest first): where a reader starts or stands. */
struct logfmt_pos {
	size_t file;
	uint64_t off;  /* of a record header */
	uint32_t skip; /* bytes of that record's data already consumed */
};

/* The position of the first byte of the last `lines` lines of the records of fds selected by
 * time (the whole text: lines end with '\n', the last line may lack one). */
int logfmt_tail_position(const int *fds, size_t nfds, const struct logfmt_filter *f, struct logfmt_pos *ret);

/* Calls fn for every selected record of fds, oldest first. Stops at the first error fn returns. */
int logfmt_select(const int *fds, size_t nfds, const struct logfmt_filter *f, logfmt_record_fn fn, void *userdata);

/* Whether a record's time is within the filter's bounds. */
bool logfmt_time_selected(const struct logfmt_filter *f, uint64_t time_ns);
