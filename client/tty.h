/* The local terminal side of "cctl run -t": raw mode that is always undone, window sizes, and a
 * relay between stdin/stdout and the container's pty master driven by the caller's poll(). */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

/* Puts the terminal on fd into raw mode (cfmakeraw) and arranges for tty_raw_restore() to run at
 * exit(). Only one terminal is ever made raw. */
int tty_raw_enter(int fd, char **reterr);
/* Puts the terminal back as tty_raw_enter() found it. Idempotent and async-signal-safe. */
void tty_raw_restore(void);

/* The window size of the terminal on fd; -ENOTTY or -EINVAL (a 0x0 size) when it has none. */
int tty_get_size(int fd, unsigned short *ret_rows, unsigned short *ret_cols);

/* The local terminal a pty follows (stdin's, else stdout's, else -1) and its size, or 24x80
 * without one: the size a new pty starts with. */
int tty_local_size(unsigned short *ret_rows, unsigned short *ret_cols);
/* Before attaching to a pty: SIGPIPE ignored, and raw mode when the relay reads input from the
 * terminal on term_fd. */
int tty_attach_prepare(int term_fd, bool interactive, char **reterr);

#define TTY_RELAY_NFDS 2

struct tty_relay {
	int master;       /* the container's pty master, or the daemon's relay socket (owned) */
	int pty;          /* after tty_relay_switch(): the master, kept for its size and settings */
	int in_fd;        /* where input comes from (stdin), -1 once it ended or without -i */
	int out_fd;       /* where output goes (stdout) */
	bool output_open; /* the master may still produce output */
	bool out_broken;  /* out_fd failed: output is read and discarded */
	int in_idx, master_idx; /* positions in the caller's pollfd array, or -1 */
	size_t len, off;  /* input read but not yet written to the master */
	char last;        /* the last byte written to the master */
	char buf[4096];
};

/* Takes over master (made non-blocking). in_fd is -1 when input is not relayed. */
int tty_relay_init(struct tty_relay *t, int master, int in_fd, int out_fd, char **reterr);
void tty_relay_done(struct tty_relay *t);

/* Appends the pollfds the relay needs now to pfds[*n] (room for TTY_RELAY_NFDS). */
void tty_relay_poll_fds(struct tty_relay *t, struct pollfd *pfds, size_t *n);
/* Moves bytes for whatever poll() reported on the relay's pollfds. */
void tty_relay_handle(struct tty_relay *t, const struct pollfd *pfds);
/* The daemon relays the terminal from now on (someone attached): output and input go through
 * sock (taken over); the master stays for the window size. */
int tty_relay_switch(struct tty_relay *t, int sock, char **reterr);
/* Copies output that is already in the master to out_fd, without waiting for more. */
void tty_relay_drain(struct tty_relay *t);
/* Copies the window size of the terminal on term_fd to the pty. */
int tty_relay_resize(struct tty_relay *t, int term_fd);
