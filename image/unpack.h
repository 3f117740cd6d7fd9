/* The unpacking worker: the child process that extracts an untrusted tarball into a layer
 * directory, confined (see the security note in unpack.c), and reports one result. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define IMAGE_UNPACK_HEX_LEN 64

/* What a worker writes to its result pipe, in one write (smaller than PIPE_BUF, so atomic). The
 * daemon treats it as untrusted input: the worker has parsed hostile data. */
struct image_unpack_result {
	int32_t r;                             /* 0 or -errno */
	uint32_t reserved;
	uint64_t size;                         /* bytes of regular file data */
	char digest[IMAGE_UNPACK_HEX_LEN + 1]; /* sha256 of the tarball, lowercase hex */
	char msg[1024];                        /* error message when r < 0 */
};

/* Runs in the freshly forked child: extracts tar_fd into the directory dir_fd and writes a
 * struct image_unpack_result to result_fd. Exits when parent (the daemon) dies. Never returns. */
_Noreturn void image_unpack_main(int tar_fd, int result_fd, int dir_fd, pid_t parent);
