/* The one SCM_RIGHTS implementation: a buffer with file descriptors attached, over a Unix socket.
 * The daemon, the container's init and protocol/ all pass fds through these two functions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The most fds one message may carry (the kernel allows 253). */
#define FDPASS_MAX_FDS 128

/* Sends len bytes of buf (len > 0) with nfds fds attached (nfds <= FDPASS_MAX_FDS), MSG_NOSIGNAL plus
 * flags. Returns the bytes sent or -errno. */
ssize_t fdpass_send(int sockfd, const void *buf, size_t len, const int *fds, size_t nfds, int flags);

/* Receives up to len bytes into buf and up to max_fds fds (close-on-exec) into fds. fds beyond
 * max_fds, or a truncated control message, are closed and reported through *ret_truncated: a peer
 * cannot make us keep descriptors we did not ask for. Returns the bytes received (0 at EOF, when
 * no fds are kept either) or -errno; *ret_nfds is always set. */
ssize_t fdpass_recv(int sockfd, void *buf, size_t len, int *fds, size_t max_fds, size_t *ret_nfds,
		    bool *ret_truncated, int flags);
