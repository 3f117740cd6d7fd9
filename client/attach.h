/* What cctl run and cctl exec share once attached: the choice of stdio for the request, the
 * signals read from a signalfd, the terminal relay, and one poll() loop over the connection, the
 * signals and the relay until the verb says it is over. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "client/conn.h"
#include "client/tty.h"
#include "protocol/messages.h"

struct attach {
	struct conn *conn;
	int sigfd;       /* -1 until attach_block_signals() */
	int term_fd;     /* the local terminal whose size the pty follows, or -1 */
	struct tty_relay relay;
	bool have_relay; /* relay is set up (attach_relay()) */
};

#define ATTACH_INIT(c) { .conn = (c), .sigfd = -1, .term_fd = -1 }

/* What the verb does with what arrives. */
struct attach_ops {
	/* One message from the daemon. */
	int (*message)(void *userdata, struct conn_msg *m, char **reterr);
	/* One signal to cctl: 0 to go on, 1 to leave at once, or -errno. */
	int (*signal)(void *userdata, int sig, char **reterr);
	/* Whether what the verb waits for came (the exit). */
	bool (*finished)(void *userdata);
	/* The daemon hung up before that: the error to return. */
	int (*hangup)(void *userdata, char **reterr);
};

void attach_done(struct attach *a);

/* The request's stdio for -t, -d and -i: a pty (even detached: the process keeps it as its
 * terminal), /dev/null when detached, else our own fds, stdin only with -i (main() made sure
 * 0-2 are open, so none is the socket); fds and *nfds get those to pass. */
enum proto_stdio attach_stdio(bool tty, bool detach, bool interactive, int fds[3], unsigned *nfds);

/* Blocks the n signals (read from a signalfd by the loop from then on, so none is lost). */
int attach_block_signals(struct attach *a, const int *sigs, size_t n, char **reterr);

/* Relays between the pty master (taken over) and stdout, and stdin when interactive. */
int attach_relay(struct attach *a, int master, bool interactive, char **reterr);

/* Copies the local terminal's window size to the pty (on SIGWINCH); best effort. */
void attach_resize(struct attach *a);

/* Polls until ops->finished() (then shows what the pty still holds) or a signal says to leave. */
int attach_loop(struct attach *a, const struct attach_ops *ops, void *userdata, char **reterr);
