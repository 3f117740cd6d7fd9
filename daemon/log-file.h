/* The default log driver: the records of common/logfmt.h in <container dir>/container.log, rotated
 * to container.log.1 ... container.log.N-1 when it reaches max-size (docs/logs.md). Its state is
 * the files alone: a daemon that restarts re-opens the newest file, repairs a torn last record
 * and appends. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_FILE_NAME "container.log"
/* The most files a log keeps (--log-opt max-file). */
#define LOG_FILE_MAX_FILES 64
/* The smallest --log-opt max-size: a file must hold a header and some data. */
#define LOG_FILE_MIN_SIZE 1024

/* The configuration of one log, as --log-opt gives it: max-size 0 means no cap (no rotation). */
struct log_file_opts {
	uint64_t max_size;
	unsigned max_file; /* >= 1 */
};

/* Parses one "KEY=VALUE" of --log-opt (max-size=SIZE, max-file=N) into opts; -EINVAL with a
 * message naming the option otherwise. */
int log_file_opt_parse(struct log_file_opts *opts, const char *kv, char **reterr);

struct log_file;

/* Opens (creating) the newest file of the log in dirfd's directory for appending, after
 * repairing its end: a record whose data a crash cut short is closed with the bytes that made
 * it to the file; a partial header or garbage is cut off. */
int log_file_open(int dirfd, const struct log_file_opts *opts, struct log_file **ret, char **reterr);
void log_file_free(struct log_file *lf);

/* Moves up to max bytes (all of them available in the pipe now, as one record or more) from the
 * pipe pipe_fd to the log without copying them through user space. *ret_moved: how many; 0 with
 * return 0 means the pipe had nothing (EOF, if it was readable). */
int log_file_splice(struct log_file *lf, uint8_t stream, int pipe_fd, size_t max, size_t *ret_moved);
/* Appends buf as one record (or more, across a rotation). */
int log_file_write(struct log_file *lf, uint8_t stream, const void *buf, size_t len);
/* Called for every record written, with where its data lies in fd (a reader of the log: attached
 * clients get the bytes the log got). */
typedef void (*log_file_observer_fn)(void *userdata, uint8_t stream, int fd, uint64_t off, uint32_t len);
void log_file_set_observer(struct log_file *lf, log_file_observer_fn fn, void *userdata);
/* How many times the log was rotated since it was opened: readers notice the files moved. */
uint64_t log_file_generation(const struct log_file *lf);

/* Opens every file of the log in dirfd's directory for reading, oldest first, at most max
 * (the newest ones). Returns how many were opened (0: no log yet) or -errno. */
int log_file_open_readers(int dirfd, int *fds, size_t max);
/* Opens the log file of index i (0 the newest, i the suffix .i) for reading: -ENOENT when absent. */
int log_file_open_reader(int dirfd, unsigned i);
