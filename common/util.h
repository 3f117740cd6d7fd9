/* Small fd, file and string helpers used by both the daemon and the client. All return 0 (or a
 * count) on success and -errno on failure. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int fd_nonblock(int fd, bool nonblock);
int fd_cloexec(int fd, bool cloexec);

/* Writes all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* One read(2) of at most len bytes, retried on EINTR and waiting in poll() while a non-blocking
 * fd (a client's pipe) has nothing yet: the bytes read, 0 at the end, or -errno. */
ssize_t fd_read_wait(int fd, void *buf, size_t len);

/* Reads a whole (small) file into a NUL-terminated buffer; fails with -EFBIG past max bytes. */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
static inline int read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	return read_file_at(-100 /* AT_FDCWD */, path, max, ret, ret_len);
}

/* Writes a string to an existing file (sysfs/cgroupfs style: no create, no truncate). */
int write_string_at(int dirfd, const char *path, const char *s);
static inline int write_string(const char *path, const char *s)
{
	return write_string_at(-100, path, s);
}

/* Atomically replaces path with the given contents (write to a temp file, fsync, rename). */
int write_file_atomic(const char *path, const char *data, size_t len);

int mkdir_p(const char *path, mode_t mode);

/* Removes a tree without following symlinks or crossing into other mounts. */
/* A DIR stream over a duplicate of the directory fd (which stays the caller's), or NULL with
 * errno set; nothing is left open on failure. */
DIR *opendir_dup(int fd);
int rm_rf(const char *path);
/* The disk space (allocated blocks) of the directory tree at path, symlinks not followed, as du
 * counts it; -errno when path is not a directory that opens. Walks the tree: not for the loop. */
int disk_usage(const char *path, uint64_t *ret_bytes);

/* Fills buf with 2*nbytes lowercase hex characters from getrandom() and a NUL. */
int random_hex(char *buf, size_t nbytes);

/* Converts bytes to lowercase hex; out must have room for 2*len+1 chars. */
void hex_encode(const unsigned char *in, size_t len, char *out);

bool str_startswith(const char *s, const char *prefix);

/* Copies untrusted input into buf as a quoted C-like string of at most max characters of it
 * ("..." when cut), so that an error message quoting it carries no control character to a
 * client's terminal. buf should hold 4 * max + 8 bytes. Returns buf. */
const char *str_quote(const char *s, size_t max, char *buf, size_t size);

/* Default handlers for every signal and an empty mask: for a child of the daemon, whose
 * handlers (libevent's signal pipe) and mask mean nothing there. */
void signals_reset(void);
/* A forked worker's first step: killed with its parent (and gone at once if the parent already
 * is), default signal handling, SIGPIPE ignored so that a closed peer is an EPIPE. */
void worker_child_setup(pid_t parent);
/* Drops a worker's privileges for good: no core dumps, no_new_privs, and of its capabilities only
 * keep (a mask of the first 32) left effective and permitted, none inheritable. */
int worker_drop_privileges(uint32_t keep, char **reterr);

/* Current wall-clock time as RFC 3339 with nanoseconds, UTC, into buf (>= 40 bytes). */
void format_rfc3339(const struct timespec *ts, char *buf, size_t size);
