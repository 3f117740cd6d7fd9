/* The reading side of a detached container's output: the read ends of its stdout and stderr
 * pipes (or the master of its pty), read non-blocking from the event loop and written to its
 * log (daemon/log-file.h). All of a container's output fds live here, so that they can be handed
 * to another process and back (output_take_fds(), output_adopt()). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/log-file.h"

struct container;
struct output;

/* The bytes one fd may move per wakeup of the loop: a chatty container cannot starve the rest
 * (the next wakeup comes after the other ready events were served). */
#define OUTPUT_BUDGET (1024 * 1024)
/* The size asked for each pipe (F_SETPIPE_SZ): a burst does not block the container. */
#define OUTPUT_PIPE_SIZE (1024 * 1024)

/* Output to the log of ct (its directory, its configuration): log_dirfd is the container's
 * directory (borrowed). The fds come with output_watch(). */
int output_new(struct container *ct, int log_dirfd, const struct log_file_opts *opts, struct output **ret,
	       char **reterr);
/* Makes two pipes for a container's stdout and stderr: their write ends go to *ret_write
 * (the container's fds 1 and 2), their read ends are watched. */
int output_pipes(struct output *o, int ret_write[2], char **reterr);
/* Watches fds already open: [stdout, stderr] pipes, or with pty the master in fds[0] (fds[1]
 * -1). Taken over, on failure too. */
int output_watch(struct output *o, const int fds[2], bool pty, char **reterr);
/* output_new() and output_watch() in one: a restarted daemon (or a supervisor) gives back the
 * fds of a running container; the log is re-opened from disk (repaired) and appended to. */
int output_adopt(struct container *ct, int log_dirfd, const struct log_file_opts *opts, const int fds[2], bool pty,
		 struct output **ret, char **reterr);
/* The read fds (borrowed; -1 when none): [stdout, stderr], or the terminal's master in fds[0]. */
void output_fds(const struct output *o, int fds[2]);
/* Hands the read fds over (to a supervisor): the output stops reading; fds[i] -1 when none. */
void output_take_fds(struct output *o, int fds[2], bool *ret_pty);
/* Reads everything the fds hold now (the container exited: what it wrote is in the pipes). */
void output_drain(struct output *o);
/* True once every fd reached EOF (or was never there): the log is complete. */
bool output_drained(const struct output *o);
/* Rotations of the log so far (log_file_generation()). */
uint64_t output_generation(const struct output *o);
void output_free(struct output *o);

/* The most clients attached to one container at once. */
#define OUTPUT_MAX_CLIENTS 64
/* Output queued for a client that does not read; past it the client is detached. */
#define OUTPUT_CLIENT_QUEUE (1024 * 1024)

/* Whether the container's output is a terminal (one stream, input possible). */
bool output_is_pty(const struct output *o);
/* Attaches a client (taken over, on failure too): with a terminal fds[0] is a stream socket
 * that gets the output and, with input, gives the container's input; without, fds[0] and fds[1]
 * get stdout and stderr (pipes). The client sees EOF once the output is complete. -EBUSY past
 * OUTPUT_MAX_CLIENTS, -ESRCH when the output is complete already. */
int output_attach(struct output *o, const int fds[2], bool input, char **reterr);
/* Gives the terminal a window size (an attached client's); no-op without a terminal. */
void output_resize(struct output *o, unsigned short rows, unsigned short cols);
