#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/logfmt.h"
#include "common/macros.h"
#include "common/parse.h"
#include "daemon/log-file.h"

struct log_file {
	int dirfd;
	int fd;        /* the newest file, without O_APPEND (splice refuses it) */
	uint64_t size; /* its end: where the next record goes */
	struct log_file_opts opts;
	uint64_t generation;
	log_file_observer_fn observer;
	void *observer_data;
};

void log_file_set_observer(struct log_file *lf, log_file_observer_fn fn, void *userdata)
{
	lf->observer = fn;
	lf->observer_data = userdata;
}

int log_file_opt_parse(struct log_file_opts *opts, const char *kv, char **reterr)
{
	const char *eq = strchr(kv, '=');
	if (!eq)
		return err_set(reterr, -EINVAL, "invalid log option \"%s\": expected KEY=VALUE", kv);
	size_t klen = (size_t)(eq - kv);
	const char *v = eq + 1;
	if (klen == 8 && strncmp(kv, "max-size", 8) == 0) {
		uint64_t size;
		if (strcmp(v, "-1") == 0) {
			opts->max_size = 0;
			return 0;
		}
		if (parse_size(v, &size) < 0 || (size != 0 && size < LOG_FILE_MIN_SIZE))
			return err_set(reterr, -EINVAL,
				       "invalid log option max-size=%s: expected a size of at least %d bytes such as 10m (-1: none)",
				       v, LOG_FILE_MIN_SIZE);
		opts->max_size = size;
		return 0;
	}
	if (klen == 8 && strncmp(kv, "max-file", 8) == 0) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(v, &end, 10);
		if (errno || end == v || *end || v[0] == '-' || n < 1 || n > LOG_FILE_MAX_FILES)
			return err_set(reterr, -EINVAL, "invalid log option max-file=%s: expected a number from 1 to %d", v,
				       LOG_FILE_MAX_FILES);
		opts->max_file = (unsigned)n;
		return 0;
	}
	return err_set(reterr, -EINVAL, "unknown log option \"%.*s\" for the file driver (max-size, max-file)",
		       (int)(klen > 64 ? 64 : klen), kv);
}

static void file_name(unsigned i, char buf[32])
{
	if (i == 0)
		snprintf(buf, 32, "%s", LOG_FILE_NAME);
	else
		snprintf(buf, 32, "%s.%u", LOG_FILE_NAME, i);
}

/* Closes the record a crash left open with the bytes that reached the file, or cuts off what
 * cannot be a record. Readers then find complete records up to the end, and appending resumes
 * on a record boundary. */
static int repair(int fd, uint64_t *ret_size, char **reterr)
{
	uint64_t end;
	enum logfmt_tail tail;
	struct stat st;
	int r = logfmt_scan(fd, &end, &tail);
	if (r < 0)
		return err_set(reterr, r, "cannot read the log file: %m");
	if (fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "cannot inspect the log file: %m");
	uint64_t size = (uint64_t)st.st_size;
	if (tail == LOGFMT_TAIL_OPEN && size - end - LOGFMT_HEADER_SIZE <= LOGFMT_MAX_RECORD) {
		uint8_t hdr[LOGFMT_HEADER_SIZE], patch[8];
		struct logfmt_header h;
		if (pread(fd, hdr, sizeof(hdr), (off_t)end) != (ssize_t)sizeof(hdr) || logfmt_header_decode(hdr, &h) != 1)
			return err_set(reterr, -EIO, "cannot read the log file's last record");
		h.length = (uint32_t)(size - end - LOGFMT_HEADER_SIZE);
		logfmt_header_encode_length(&h, patch);
		if (pwrite(fd, patch, sizeof(patch), (off_t)end + 8) != (ssize_t)sizeof(patch))
			return err_set(reterr, -errno, "cannot repair the log file: %m");
		end = size;
	} else if (end != size && ftruncate(fd, (off_t)end) < 0) {
		return err_set(reterr, -errno, "cannot cut the torn end of the log file: %m");
	}
	*ret_size = end;
	return 0;
}

/* The log lives in the container's own directory, which only the daemon writes: the names are
 * fixed, and O_NOFOLLOW refuses a symlink all the same. */
static int open_newest(int dirfd, bool truncate)
{
	char name[32];
	file_name(0, name);
	/* Read too: reopening scans the file for its last record (repair()). */
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0), 0640);
	return fd < 0 ? -errno : fd;
}

int log_file_open(int dirfd, const struct log_file_opts *opts, struct log_file **ret, char **reterr)
{
	_cleanup_free_ struct log_file *lf = calloc(1, sizeof(*lf));
	if (!lf)
		return err_set(reterr, -ENOMEM, "out of memory");
	lf->opts = *opts;
	if (lf->opts.max_file < 1)
		lf->opts.max_file = 1;
	lf->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (lf->dirfd < 0)
		return err_set(reterr, -errno, "cannot keep the log directory: %m");
	lf->fd = open_newest(dirfd, false);
	if (lf->fd < 0) {
		int r = lf->fd;
		close(lf->dirfd);
		return err_set(reterr, r, "cannot open the log file: %m");
	}
	int r = repair(lf->fd, &lf->size, reterr);
	if (r < 0) {
		close(lf->fd);
		close(lf->dirfd);
		return r;
	}
	*ret = TAKE_PTR(lf);
	return 0;
}

void log_file_free(struct log_file *lf)
{
	if (!lf)
		return;
	safe_close(lf->fd);
	safe_close(lf->dirfd);
	free(lf);
}

uint64_t log_file_generation(const struct log_file *lf)
{
	return lf->generation;
}

/* Shifts the files by one (the oldest goes) and starts an empty newest one. Readers that hold
 * a file keep reading it: its data stays until they close it. */
static int rotate(struct log_file *lf)
{
	char from[32], to[32];
	file_name(lf->opts.max_file - 1, to);
	if (lf->opts.max_file > 1 && unlinkat(lf->dirfd, to, 0) < 0 && errno != ENOENT)
		return -errno;
	for (unsigned i = lf->opts.max_file - 1; i > 0; i--) {
		file_name(i - 1, from);
		file_name(i, to);
		if (renameat(lf->dirfd, from, lf->dirfd, to) < 0 && errno != ENOENT)
			return -errno;
	}
	if (lf->opts.max_file == 1) {
		file_name(0, from);
		if (unlinkat(lf->dirfd, from, 0) < 0 && errno != ENOENT)
			return -errno;
	}
	int fd = open_newest(lf->dirfd, true);
	if (fd < 0)
		return fd;
	safe_close(lf->fd);
	lf->fd = fd;
	lf->size = 0;
	lf->generation++;
	return 0;
}

/* Room for the data of the next record: rotates first when the file is full. */
static int room(struct log_file *lf, size_t want, size_t *ret)
{
	if (lf->opts.max_size) {
		if (lf->size + LOGFMT_HEADER_SIZE >= lf->opts.max_size) {
			int r = rotate(lf);
			if (r < 0)
				return r;
		}
		uint64_t left = lf->opts.max_size - lf->size - LOGFMT_HEADER_SIZE;
		if (want > left)
			want = (size_t)left;
	}
	if (want > LOGFMT_MAX_RECORD)
		want = LOGFMT_MAX_RECORD;
	*ret = want;
	return 0;
}

/* The error of a write that returned n instead of all: a short write means a full disk. */
static int short_write(ssize_t n)
{
	return n < 0 ? -errno : -ENOSPC;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int log_file_splice(struct log_file *lf, uint8_t stream, int pipe_fd, size_t max, size_t *ret_moved)
{
	size_t moved = 0;
	int r = 0;
	while (moved < max) {
		int avail = 0;
		if (ioctl(pipe_fd, FIONREAD, &avail) < 0) {
			r = -errno;
			break;
		}
		if (avail <= 0)
			break;
		size_t want;
		if ((r = room(lf, (size_t)avail < max - moved ? (size_t)avail : max - moved, &want)) < 0)
			break;
		/* The header goes first with its length open: a reader stops there until it is
		 * closed, and a crash leaves a record the next open can close (repair()). */
		struct logfmt_header h = { .stream = stream, .length = LOGFMT_OPEN, .time_ns = now_ns() };
		uint8_t hdr[LOGFMT_HEADER_SIZE], patch[8];
		logfmt_header_encode(&h, hdr);
		ssize_t w = pwrite(lf->fd, hdr, sizeof(hdr), (off_t)lf->size);
		if (w != (ssize_t)sizeof(hdr)) {
			r = short_write(w);
			(void)ftruncate(lf->fd, (off_t)lf->size);
			break;
		}
		loff_t off = (loff_t)(lf->size + LOGFMT_HEADER_SIZE);
		ssize_t n = splice(pipe_fd, NULL, lf->fd, &off, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n <= 0) {
			r = n < 0 && errno != EAGAIN ? -errno : 0;
			/* Nothing came: the open header goes again. */
			(void)ftruncate(lf->fd, (off_t)lf->size);
			break;
		}
		h.length = (uint32_t)n;
		logfmt_header_encode_length(&h, patch);
		w = pwrite(lf->fd, patch, sizeof(patch), (off_t)lf->size + 8);
		if (w != (ssize_t)sizeof(patch)) {
			/* The record stays open: readers stop there, and a reopen closes it. */
			r = short_write(w);
			break;
		}
		if (lf->observer)
			lf->observer(lf->observer_data, stream, lf->fd, lf->size + LOGFMT_HEADER_SIZE, (uint32_t)n);
		lf->size += LOGFMT_HEADER_SIZE + (uint64_t)n;
		moved += (size_t)n;
	}
	*ret_moved = moved;
	return r;
}

int log_file_write(struct log_file *lf, uint8_t stream, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		size_t want;
		int r = room(lf, len, &want);
		if (r < 0)
			return r;
		struct logfmt_header h = { .stream = stream, .length = (uint32_t)want, .time_ns = now_ns() };
		uint8_t hdr[LOGFMT_HEADER_SIZE];
		logfmt_header_encode(&h, hdr);
		struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)p, want } };
		ssize_t n = pwritev(lf->fd, iov, 2, (off_t)lf->size);
		if (n < 0)
			return -errno;
		if ((size_t)n != sizeof(hdr) + want) {
			/* A full disk: the partial record is cut off again. */
			(void)ftruncate(lf->fd, (off_t)lf->size);
			return -ENOSPC;
		}
		if (lf->observer)
			lf->observer(lf->observer_data, stream, lf->fd, lf->size + LOGFMT_HEADER_SIZE, (uint32_t)want);
		lf->size += (uint64_t)n;
		p += want;
		len -= want;
	}
	return 0;
}

int log_file_open_reader(int dirfd, unsigned i)
{
	char name[32];
	file_name(i, name);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

int log_file_open_readers(int dirfd, int *fds, size_t max)
{
	int found[LOG_FILE_MAX_FILES];
	size_t n = 0;
	for (unsigned i = 0; i < LOG_FILE_MAX_FILES && n < max; i++) {
		int fd = log_file_open_reader(dirfd, i);
		if (fd == -ENOENT)
			break;
		if (fd < 0) {
			for (size_t k = 0; k < n; k++)
				close(found[k]);
			return fd;
		}
		found[n++] = fd;
	}
	for (size_t k = 0; k < n; k++)
		fds[k] = found[n - 1 - k];
	return (int)n;
}
