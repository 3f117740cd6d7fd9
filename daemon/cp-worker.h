/* The copy worker: the child process behind container.cp_stat, cp_from, cp_to, export and diff.
 * It reaches a container's files only from inside the container's root (see the security note
 * in cp-worker.c), streams tar through the client's own fd, and reports one result. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum cp_op {
	CP_OP_STAT,   /* stat of path */
	CP_OP_FROM,   /* path as a tar stream on stream_fd */
	CP_OP_TO,     /* the tar stream on stream_fd extracted into the directory path */
	CP_OP_EXPORT, /* the whole root as a tar stream on stream_fd */
	CP_OP_DIFF,   /* the changes of the upper dir against the layers, as records on out_fd */
	CP_OP_LAYER,  /* the upper dir as an image layer tar on stream_fd (commit) */
};

/* What the daemon asks of one worker; every string and fd is the daemon's (the child copies
 * nothing back). */
struct cp_job {
	enum cp_op op;
	int mntns_fd;        /* a running container's mount namespace (stat, from, to), or -1 */
	char **lowerdirs;    /* the image layers, topmost first */
	const char *upperdir, *workdir;
	const char *mountpoint; /* where a private overlay is mounted (the registry's mountpoint) */
	const char *path;    /* in the container */
	bool follow;         /* stat, from: follow a symlink named by path's last component */
	bool archive;        /* to: owners from the tar (else the container's root) */
	bool shifted;        /* the container runs in a user namespace: ids are shifted by base */
	uint32_t uid_base, gid_base;
	int stream_fd;       /* from, export: written; to: read */
	int out_fd;          /* diff: a memfd for the records ("K/path\0", K in A, C, D) */
};

/* What a worker writes to its result pipe, once, before it exits. The daemon treats it as
 * untrusted: the worker has read files a container controls. */
struct cp_worker_result {
	int32_t r;          /* 0 or -errno */
	uint32_t mode;      /* stat: st_mode */
	uint64_t size;      /* stat: st_size; from, to, export: bytes of file data */
	int64_t mtime;      /* stat: seconds */
	char name[256];     /* stat: the last component of path ("/" for the root) */
	char link[1024];    /* stat: a symlink's target */
	char digest[65];    /* layer: the sha256 of the layer tar, hex */
	char msg[1024];     /* r < 0: what went wrong */
};

/* The records a diff may produce at most (the reply must stay under PROTO_MAX_REPLY). */
#define CP_DIFF_MAX_BYTES (2 * 1024 * 1024)

/* Runs in the freshly forked child: does job and writes a struct cp_worker_result to result_fd.
 * Exits when parent (the daemon) dies. Never returns. */
_Noreturn void cp_worker_main(const struct cp_job *job, int result_fd, pid_t parent);
