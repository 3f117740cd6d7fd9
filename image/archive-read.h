/* The load worker: the child process that reads an untrusted image archive (an OCI image layout
 * or a `docker save` archive, a tar, maybe gzip or zstd compressed), verifies every blob, and
 * leaves in its directory what the daemon moves into the store. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* What the worker leaves in its directory (the daemon's ingest/load-<random>/):
 *   blobs/<hex>   every blob the archive's images need, its sha256 verified (the archive's own
 *                 blobs/sha256/<hex> against <hex>, docker-save files hashed as they streamed),
 *                 plus the manifests synthesized for `docker save` images;
 *   result.json   {"images":[{"manifest":"sha256:<hex>","names":["alpine:3.20",...]},...],
 *                  "blobs":["<hex>",...]}: the images in archive order with the names the
 *                 archive gives them (unnormalized), and the blobs to move into the store. */
#define ARCHIVE_READ_RESULT "result.json"
#define ARCHIVE_READ_BLOBS "blobs"
/* The largest result.json the daemon reads. */
#define ARCHIVE_READ_RESULT_MAX (1024 * 1024)

/* What the worker writes to its status pipe, in one write (smaller than PIPE_BUF, so atomic).
 * Untrusted: the worker has parsed hostile data. */
struct archive_read_status {
	int32_t r;      /* 0 or -errno */
	uint32_t reserved;
	char msg[1024]; /* error message when r < 0 */
};

/* Runs in the freshly forked child: reads the archive from in_fd into the directory dir_fd
 * (confined there, see archive-read.c) and writes a struct archive_read_status to status_fd.
 * Dies with parent (the daemon). Never returns. */
_Noreturn void archive_read_main(int in_fd, int status_fd, int dir_fd, pid_t parent);
