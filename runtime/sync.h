/* The init's side of the channel to its starter (see runtime/process.h for the other side): reports
 * (ready, a pty master, a failure) out, the start message (spec + fds) in. */
#pragma once

#include "runtime/process.h"
#include "runtime/spec.h"

/* The start message is one datagram of JSON: {"spec": config.json, "stdio": [i,i,i], "seccomp": i,
 * "layers": i, "n_layers": n, "join": i, "joins": [[flags, i], ...]}, the integers indexing the fds
 * that ride along (-1: none); the layers are n consecutive fds from index "layers" on; "join" (an
 * exec process only) is the pidfd of the process whose namespaces it joins; "joins" (an init, at
 * most RT_MAX_JOINS, optional) the pidfds whose namespaces (CLONE_NEW* flags) the init joins. */
#define SYNC_MAX_START (1024 * 1024)
/* Layers of one container in a user namespace (each an fd in the start message). */
#define SYNC_MAX_LAYERS 100

/* Reports a setup failure to the starter and exits with Docker's codes (125, 126, 127). */
void sync_fail(int sync_fd, int exit_code, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
int sync_send_ready(int sync_fd);
/* Setup is done but for the steps a failure report still follows (credentials, seccomp, exec). */
int sync_send_exec(int sync_fd);
/* Hands the master of the container's terminal to the starter. */
int sync_send_pty(int sync_fd, int master);

struct sync_start_fds {
	int stdio[3];     /* -1 when absent */
	int seccomp_fd;   /* -1 when absent */
	int join_fd;      /* exec: the container's pidfd; -1 when absent */
	struct rt_ns_join joins[RT_MAX_JOINS]; /* an init: the namespaces it joins */
	size_t n_joins;
	int layers[SYNC_MAX_LAYERS];
	size_t n_layers;
};

/* Receives the start message (blocking). -EPIPE at EOF: the starter discarded this init. */
int sync_receive_start(int sync_fd, struct rt_spec *ret_spec, struct sync_start_fds *ret_fds, char **reterr);
