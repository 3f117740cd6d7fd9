/* Copies between a client and a container's files: container.cp_stat, container.cp_from,
 * container.cp_to, container.export and container.diff (docs/protocol.md). The tar streams go
 * through an fd the client passes with the request (a pipe end, its stdout, a file), never
 * through the connection. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_M_CP_STAT "container.cp_stat" /* no fd */
#define PROTO_M_CP_FROM "container.cp_from" /* one fd: the tar stream is written to it */
#define PROTO_M_CP_TO "container.cp_to"     /* one fd: the tar stream is read from it */
#define PROTO_M_EXPORT "container.export"   /* one fd: the tar stream is written to it */
#define PROTO_M_DIFF "container.diff"       /* no fd */
/* A copy that failed in the container (a path that is not a directory, a refused entry). */
#define PROTO_E_COPY "copy_failed"

/* The longest container path a request may name. */
#define PROTO_CP_MAX_PATH 4096

struct proto_cp_params {
	const char *ref;  /* the container; borrowed */
	const char *path; /* cp_stat, cp_from: what; cp_to: the directory to extract into */
	bool follow_link; /* cp_stat, cp_from: follow a symlink named by path's last component */
	bool archive;     /* cp_to: keep the tar's owners (else the container's root owns all) */
};
/* The params of method (one of the five above); nfds: the fds that came with the request
 * (-EBADF with a message when the count is wrong). Unknown fields are refused. */
int proto_cp_params_decode(const char *method, json_t *params, unsigned nfds, struct proto_cp_params *ret,
			   char **reterr);
json_t *proto_cp_params_encode(const char *method, const struct proto_cp_params *p);
/* The fds method takes with its request. */
unsigned proto_cp_fds(const char *method);

/* container.cp_stat's result, as docker's archive stat. */
struct proto_cp_stat {
	const char *name;        /* the last component of the path ("/" for the root) */
	uint64_t size;
	uint32_t mode;           /* st_mode: the file type bits and the permissions */
	int64_t mtime;           /* seconds since the epoch */
	const char *link_target; /* a symlink's target, else "" */
};
json_t *proto_cp_stat_encode(const struct proto_cp_stat *s);
int proto_cp_stat_decode(json_t *result, struct proto_cp_stat *ret, char **reterr);

/* cp_from, cp_to and export answer {"size": N} (bytes of file data) once the stream ended. */
json_t *proto_cp_size_encode(uint64_t size);

/* container.diff's result: {"changes": [{"kind": "A"|"C"|"D", "path": "/..."}, ...]} in
 * docker's order. */
json_t *proto_diff_change_encode(char kind, const char *path);
/* One element of "changes". */
int proto_diff_change_decode(json_t *item, char *ret_kind, const char **ret_path, char **reterr);

/* The records of a diff worker ("K/path\0"..., K one of A, C, D; len bytes, untrusted) as
 * container.diff's result, or NULL with a message (-EBADMSG: a malformed record). */
json_t *proto_diff_records_to_result(const char *buf, size_t len, char **reterr);

/* container.commit: a new image from a container's changes (its upper dir as a new layer over its
 * image's), as docker commit. No fd. Result: the image, as in image.list. */
#define PROTO_M_COMMIT "container.commit"
struct proto_commit_params {
	const char *ref;     /* the container; borrowed */
	const char *repo;    /* NAME[:TAG] for the new image, or NULL (none) */
	const char *message; /* the history entry's comment, or NULL */
	const char *author;  /* or NULL */
	bool pause;          /* pause a running container while its layer is written (default true) */
	json_t *config;      /* borrowed: settings over the container's, as image.import's "config" */
};
int proto_commit_params_decode(json_t *params, unsigned nfds, struct proto_commit_params *ret, char **reterr);
json_t *proto_commit_params_encode(const struct proto_commit_params *p);
