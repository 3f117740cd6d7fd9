/* The save worker: the child process that writes images from the store's blobs as one archive
 * in the dual layout (an OCI image layout that docker load also reads), streaming to a fd. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One image to save: its manifest blob and the names it is saved under (maybe none). */
struct archive_save_image {
	char *manifest;     /* "sha256:<hex>", a blob of the store */
	char **names;       /* normalized "repository:tag", NULL-terminated */
	char **full_names;  /* the same names fully qualified ("docker.io/library/alpine:3.20") */
};

/* What the worker writes to its status pipe, in one write (smaller than PIPE_BUF). */
struct archive_write_status {
	int32_t r;      /* 0 or -errno */
	uint32_t reserved;
	char msg[1024]; /* error message when r < 0 */
};

/* Runs in the freshly forked child: writes the archive of images[0..n) to out_fd, reading
 * blobs from blobs_fd (the store's blobs/sha256), then a struct archive_write_status to
 * status_fd. Dies with parent (the daemon). Never returns. */
_Noreturn void archive_write_main(int out_fd, int status_fd, int blobs_fd, const struct archive_save_image *images,
				  size_t n, pid_t parent);
