/* The unpacking worker: the child process that extracts an untrusted tarball into a layer
 * directory, confined (see the security note in unpack.c), and reports one result. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define IMAGE_UNPACK_HEX_LEN 64
/* The most opaque directories one layer may mark. */
#define IMAGE_UNPACK_OPAQUE_MAX 65536

/* What a worker writes to its result pipe, in one write (smaller than PIPE_BUF, so atomic). The
 * daemon treats it as untrusted input: the worker has parsed hostile data. */
struct image_unpack_result {
	int32_t r;				/* 0 or -errno */
	int32_t compression;			/* libarchive's ARCHIVE_FILTER_* of the tarball */
	uint64_t size;				/* bytes of regular file data */
	char digest[IMAGE_UNPACK_HEX_LEN + 1];	/* sha256 of the tarball as given, lowercase hex */
	char diff_id[IMAGE_UNPACK_HEX_LEN + 1]; /* sha256 of the uncompressed tar, lowercase hex */
	char msg[1024];				/* error message when r < 0 */
};

/* Runs in the freshly forked child: extracts tar_fd (a tar, compressed or not) into the directory
 * dir_fd, whiteouts converted to overlayfs' form, copies every byte read to blob_fd (or -1),
 * writes the paths (NUL-terminated, relative to the layer) of the directories to make opaque to
 * opaque_fd and a struct image_unpack_result to result_fd. Exits when parent (the daemon) dies.
 * Never returns. */
_Noreturn void image_unpack_main(int tar_fd, int result_fd, int dir_fd, int opaque_fd, int blob_fd, pid_t parent);
/* Opens the directory path (relative, no "..") under root_fd one component at a time, never
 * following a symlink (O_NOFOLLOW on each), creating missing ones (mode 0755) when create is set.
 * Returns the fd (O_CLOEXEC) or -errno. */
int image_unpack_open_dir(int root_fd, const char *path, bool create);
