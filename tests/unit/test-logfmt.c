/* Unit tests for the log format (common/logfmt.c) and the file driver (daemon/log-file.c): the
 * header, a crash's open record closed and a torn end cut on reopen (and the next record then
 * readable), splicing from a pipe, rotation, --log-opt parsing, tail positions and selection. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logfmt.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/log-file.h"
#include "tests/tap.h"

static char tmpdir[] = "/tmp/test-logfmt.XXXXXX";

static void cleanup(void)
{
	(void)rm_rf(tmpdir);
}

/* Collects what the selected records hold, "o:" or "e:" before each record's bytes. */
struct collect {
	char buf[65536];
	size_t n;
	unsigned records;
};

static int collect_fn(void *userdata, int fd, const struct logfmt_header *h, uint64_t off, uint32_t len)
{
	struct collect *c = userdata;
	if (c->n + len + 2 >= sizeof(c->buf))
		return -E2BIG;
	c->buf[c->n++] = h->stream == LOGFMT_STDERR ? 'e' : 'o';
	c->buf[c->n++] = ':';
	if (pread(fd, c->buf + c->n, len, (off_t)off) != (ssize_t)len)
		return -EIO;
	c->n += len;
	c->buf[c->n] = '\0';
	c->records++;
	return 0;
}

/* Every record of the log in dirfd, oldest file first. */
static void read_all(int dirfd, const struct logfmt_filter *f, struct collect *c)
{
	int fds[LOG_FILE_MAX_FILES];
	int n = log_file_open_readers(dirfd, fds, LOG_FILE_MAX_FILES);
	memset(c, 0, sizeof(*c));
	if (n < 0)
		return;
	(void)logfmt_select(fds, (size_t)n, f, collect_fn, c);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static const struct logfmt_filter all = { .tail = -1 };

static void test_header(void)
{
	struct logfmt_header h = { .stream = LOGFMT_STDERR, .length = 1234, .time_ns = 1764472200123456789ull }, g;
	uint8_t b[LOGFMT_HEADER_SIZE];
	logfmt_header_encode(&h, b);
	ok(memcmp(b, "CDL1", 4) == 0, "the header starts with the magic CDL1");
	is_int(logfmt_header_decode(b, &g), 0, "a complete header decodes");
	ok(g.stream == h.stream && g.length == h.length && g.time_ns == h.time_ns, "stream, length and time round-trip");
	b[16] ^= 1;
	is_int(logfmt_header_decode(b, &g), -EBADMSG, "a changed time fails the check");
	b[16] ^= 1;
	b[4] = 3;
	is_int(logfmt_header_decode(b, &g), -EBADMSG, "an unknown stream is refused");
	h.length = LOGFMT_OPEN;
	logfmt_header_encode(&h, b);
	is_int(logfmt_header_decode(b, &g), 1, "an open record is told apart");
	h.length = LOGFMT_MAX_RECORD + 1;
	logfmt_header_encode(&h, b);
	is_int(logfmt_header_decode(b, &g), -EBADMSG, "a record longer than the limit is refused");
}

static int open_log(int dirfd, const struct log_file_opts *o, struct log_file **lf)
{
	char *err = NULL;
	int r = log_file_open(dirfd, o, lf, &err);
	if (r < 0)
		printf("# log_file_open: %s\n", err ? err : "?");
	free(err);
	return r;
}

static void test_repair(int dirfd)
{
	struct log_file_opts o = { .max_file = 1 };
	struct log_file *lf;
	struct collect c;
	ok(open_log(dirfd, &o, &lf) == 0, "a new log opens");
	ok(log_file_write(lf, LOGFMT_STDOUT, "one\n", 4) == 0 && log_file_write(lf, LOGFMT_STDERR, "two\n", 4) == 0,
	   "two records are written");
	log_file_free(lf);

	/* A crash while splicing: the header says open, part of the data made it. */
	int fd = openat(dirfd, LOG_FILE_NAME, O_WRONLY | O_APPEND | O_CLOEXEC);
	struct logfmt_header h = { .stream = LOGFMT_STDOUT, .length = LOGFMT_OPEN, .time_ns = 42 };
	uint8_t b[LOGFMT_HEADER_SIZE];
	logfmt_header_encode(&h, b);
	ok(fd >= 0 && write(fd, b, sizeof(b)) == (ssize_t)sizeof(b) && write(fd, "thr", 3) == 3, "an open record is planted");
	safe_close(fd);
	read_all(dirfd, &all, &c);
	is_str(c.buf, "o:one\ne:two\n", "readers stop before an open record");

	int r = open_log(dirfd, &o, &lf);
	ok(r == 0, "the log reopens after the crash");
	if (r < 0)
		return;
	ok(log_file_write(lf, LOGFMT_STDOUT, "four\n", 5) == 0, "and takes a record");
	log_file_free(lf);
	read_all(dirfd, &all, &c);
	is_str(c.buf, "o:one\ne:two\no:thro:four\n", "the open record was closed with its bytes; the next one follows");

	/* A torn header at the end: cut off on reopen. */
	fd = openat(dirfd, LOG_FILE_NAME, O_WRONLY | O_APPEND | O_CLOEXEC);
	ok(fd >= 0 && write(fd, "CDL1\x01garbage", 12) == 12, "a torn header is planted");
	safe_close(fd);
	ok(open_log(dirfd, &o, &lf) == 0 && log_file_write(lf, LOGFMT_STDERR, "five\n", 5) == 0,
	   "the log reopens and takes a record");
	log_file_free(lf);
	read_all(dirfd, &all, &c);
	is_str(c.buf, "o:one\ne:two\no:thro:four\ne:five\n", "the torn end was cut, the next record is readable");
	uint64_t end;
	enum logfmt_tail tail;
	fd = openat(dirfd, LOG_FILE_NAME, O_RDONLY | O_CLOEXEC);
	ok(fd >= 0 && logfmt_scan(fd, &end, &tail) == 0 && tail == LOGFMT_TAIL_CLEAN, "the file ends clean");
	/* Data shorter than its header says (a file truncated by hand). */
	ok(ftruncate(openat(dirfd, LOG_FILE_NAME, O_WRONLY | O_CLOEXEC), (off_t)end - 2) == 0, "the last record is cut short");
	ok(logfmt_scan(fd, &end, &tail) == 0 && tail == LOGFMT_TAIL_TORN, "scan reports a torn tail");
	read_all(dirfd, &all, &c);
	is_str(c.buf, "o:one\ne:two\no:thro:four\n", "readers skip the short record");
	safe_close(fd);
	(void)unlinkat(dirfd, LOG_FILE_NAME, 0);
}

static void test_splice(int dirfd)
{
	struct log_file_opts o = { .max_file = 1 };
	struct log_file *lf;
	struct collect c;
	int p[2];
	size_t moved = 0;
	ok(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0 && write(p[1], "spliced\n", 8) == 8, "a pipe holds 8 bytes");
	ok(open_log(dirfd, &o, &lf) == 0, "a new log opens");
	ok(log_file_splice(lf, LOGFMT_STDERR, p[0], 1 << 20, &moved) == 0 && moved == 8, "splice moved them (%zu)", moved);
	ok(log_file_splice(lf, LOGFMT_STDERR, p[0], 1 << 20, &moved) == 0 && moved == 0, "an empty pipe moves nothing");
	close(p[1]);
	ok(log_file_splice(lf, LOGFMT_STDERR, p[0], 1 << 20, &moved) == 0 && moved == 0, "EOF moves nothing");
	close(p[0]);
	log_file_free(lf);
	read_all(dirfd, &all, &c);
	is_str(c.buf, "e:spliced\n", "one record, no empty ones");
	(void)unlinkat(dirfd, LOG_FILE_NAME, 0);
}

static void test_rotation(int dirfd)
{
	struct log_file_opts o = { .max_size = 1024, .max_file = 3 };
	struct log_file *lf;
	struct collect c;
	char line[16];
	ok(open_log(dirfd, &o, &lf) == 0, "a capped log opens");
	int r = 0;
	for (int i = 0; i < 1000 && r == 0; i++) {
		int n = snprintf(line, sizeof(line), "%d\n", i);
		r = log_file_write(lf, LOGFMT_STDOUT, line, (size_t)n);
	}
	is_int(r, 0, "1000 records written");
	ok(log_file_generation(lf) > 2, "the log rotated (%llu times)", (unsigned long long)log_file_generation(lf));
	log_file_free(lf);
	struct stat st;
	ok(fstatat(dirfd, "container.log.2", &st, 0) == 0 && fstatat(dirfd, "container.log.3", &st, 0) < 0,
	   "max-file=3: container.log, .1 and .2, no .3");
	bool small = true;
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), i ? "container.log.%d" : "container.log", i);
		small &= fstatat(dirfd, name, &st, 0) == 0 && st.st_size <= 1024;
	}
	ok(small, "no file is over max-size");
	read_all(dirfd, &all, &c);
	ok(c.n > 6 && strcmp(c.buf + c.n - 6, "o:999\n") == 0, "the newest record is kept");
	struct logfmt_filter t = { .tail = 2 };
	read_all(dirfd, &t, &c);
	is_str(c.buf, "o:998\no:999\n", "--tail 2 across files");
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), i ? "container.log.%d" : "container.log", i);
		(void)unlinkat(dirfd, name, 0);
	}
}

static void test_tail_and_time(int dirfd)
{
	struct log_file_opts o = { .max_file = 1 };
	struct log_file *lf;
	struct collect c;
	ok(open_log(dirfd, &o, &lf) == 0, "a new log opens");
	ok(log_file_write(lf, LOGFMT_STDOUT, "a\nb", 3) == 0 && log_file_write(lf, LOGFMT_STDOUT, "c\nd\n", 4) == 0 &&
	   log_file_write(lf, LOGFMT_STDERR, "e", 1) == 0,
	   "three records");
	log_file_free(lf);
	struct logfmt_filter f = { .tail = 1 };
	read_all(dirfd, &f, &c);
	is_str(c.buf, "e:e", "tail 1: the last (partial) line");
	f.tail = 2;
	read_all(dirfd, &f, &c);
	is_str(c.buf, "o:d\ne:e", "tail 2 starts inside a record");
	f.tail = 3;
	read_all(dirfd, &f, &c);
	is_str(c.buf, "o:bo:c\nd\ne:e", "tail 3: a line across two records");
	f.tail = 100;
	read_all(dirfd, &f, &c);
	is_str(c.buf, "o:a\nbo:c\nd\ne:e", "tail beyond the start: everything");
	f.tail = 0;
	read_all(dirfd, &f, &c);
	is_int((int)c.records, 0, "tail 0: nothing");
	struct logfmt_filter past = { .until_ns = 1000, .tail = -1 }, future = { .since_ns = INT64_MAX, .tail = -1 };
	read_all(dirfd, &past, &c);
	is_int((int)c.records, 0, "until in 1970: nothing");
	read_all(dirfd, &future, &c);
	is_int((int)c.records, 0, "since far ahead: nothing");
	(void)unlinkat(dirfd, LOG_FILE_NAME, 0);
}

static void test_opts(void)
{
	struct log_file_opts o = { .max_file = 1 };
	char *err = NULL;
	ok(log_file_opt_parse(&o, "max-size=10m", &err) == 0 && o.max_size == 10 << 20, "max-size=10m");
	ok(log_file_opt_parse(&o, "max-file=5", &err) == 0 && o.max_file == 5, "max-file=5");
	ok(log_file_opt_parse(&o, "max-size=-1", &err) == 0 && o.max_size == 0, "max-size=-1: no cap");
	static const char *const bad[] = { "max-size=10x", "max-size=100", "max-file=0", "max-file=65", "max-file=-1",
					   "max-file=", "mode=non-blocking", "max-size" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		free(err);
		err = NULL;
		ok(log_file_opt_parse(&o, bad[i], &err) == -EINVAL && err, "refused: %s (%s)", bad[i], err ? err : "");
	}
	free(err);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	tap_cleanup_on_signals(cleanup, 60);
	int dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	test_header();
	test_repair(dirfd);
	test_splice(dirfd);
	test_rotation(dirfd);
	test_tail_and_time(dirfd);
	test_opts();
	close(dirfd);
	cleanup();
	return tap_done();
}
