/* Fuzz target for the log record reader (common/logfmt.c) and the repair of a log file when the
 * daemon reopens it (daemon/log-file.c). The input: one byte choosing --tail (255: all), then
 * the contents of a log file. Every record the reader hands out lies inside the file; selecting
 * all records agrees with the scan; the tail is a suffix of them; after the repair the file ends
 * clean, keeps every complete record, and a record appended then is read back last. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logfmt.h"
#include "daemon/log-file.h"
#include "tests/fuzz/fuzz.h"

struct seen {
	uint64_t size;
	unsigned records;
	uint64_t bytes;
	uint8_t last_stream;
	uint32_t last_len;
};

static int count(void *userdata, int fd, const struct logfmt_header *h, uint64_t off, uint32_t len)
{
	struct seen *s = userdata;
	FUZZ_CHECK(off >= LOGFMT_HEADER_SIZE && off + len <= s->size);
	FUZZ_CHECK(h->stream == LOGFMT_STDOUT || h->stream == LOGFMT_STDERR);
	FUZZ_CHECK(len <= h->length && len > 0);
	s->records++;
	s->bytes += len;
	s->last_stream = h->stream;
	s->last_len = len;
	return 0;
}

static char dir_path[] = "/tmp/fuzz-logfmt.XXXXXX";
static int dir_fd = -1;

static void workdir_remove(void)
{
	(void)unlinkat(dir_fd, LOG_FILE_NAME, 0);
	(void)rmdir(dir_path);
}

/* A directory of this process for the log the repair works on, removed at exit. */
static int workdir(void)
{
	if (dir_fd < 0) {
		FUZZ_CHECK(mkdtemp(dir_path));
		dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		FUZZ_CHECK(dir_fd >= 0);
		atexit(workdir_remove);
	}
	return dir_fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 20)
		return 0;
	long long tail = data[0] == 255 ? -1 : data[0];
	data++;
	size--;
	int dirfd = workdir();
	(void)unlinkat(dirfd, LOG_FILE_NAME, 0);
	int fd = openat(dirfd, LOG_FILE_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);

	uint64_t end;
	enum logfmt_tail kind;
	FUZZ_CHECK(logfmt_scan(fd, &end, &kind) == 0);
	FUZZ_CHECK(end <= size);
	FUZZ_CHECK(kind != LOGFMT_TAIL_CLEAN || end == size);

	struct logfmt_filter all = { .tail = -1 }, f = { .tail = tail };
	struct seen every = { .size = size }, tailed = { .size = size };
	FUZZ_CHECK(logfmt_select(&fd, 1, &all, count, &every) == 0);
	FUZZ_CHECK(logfmt_select(&fd, 1, &f, count, &tailed) == 0);
	FUZZ_CHECK(tailed.records <= every.records && tailed.bytes <= every.bytes);
	FUZZ_CHECK(tail != 0 || tailed.records == 0);
	if (tail < 0)
		FUZZ_CHECK(tailed.records == every.records && tailed.bytes == every.bytes);
	close(fd);

	/* The daemon's reopen: repair, then append. */
	struct log_file_opts o = { .max_file = 1 };
	struct log_file *lf;
	char *err = NULL;
	int r = log_file_open(dirfd, &o, &lf, &err);
	free(err);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(log_file_write(lf, LOGFMT_STDERR, "appended", 8) == 0);
	log_file_free(lf);
	fd = openat(dirfd, LOG_FILE_NAME, O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	struct stat st;
	FUZZ_CHECK(fstat(fd, &st) == 0);
	FUZZ_CHECK(logfmt_scan(fd, &end, &kind) == 0 && kind == LOGFMT_TAIL_CLEAN && end == (uint64_t)st.st_size);
	struct seen after = { .size = (uint64_t)st.st_size };
	FUZZ_CHECK(logfmt_select(&fd, 1, &all, count, &after) == 0);
	/* Every complete record stays; an open one may have been closed; the new one is last. */
	FUZZ_CHECK(after.records >= every.records + 1 && after.records <= every.records + 2);
	FUZZ_CHECK(after.last_stream == LOGFMT_STDERR && after.last_len == 8);
	close(fd);
	return 0;
}
