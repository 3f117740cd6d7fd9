#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "client/tty.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"

/* The terminal made raw and its previous settings. Kept in static storage so an atexit() handler
 * and signal handlers can restore it; raw_fd is -1 when nothing needs restoring. */
static struct termios saved_termios;
static volatile int raw_fd = -1;
static bool atexit_registered;

int tty_raw_enter(int fd, char **reterr)
{
	struct termios raw;

	if (raw_fd >= 0)
		return err_set(reterr, -EBUSY, "the terminal is already in raw mode");
	if (tcgetattr(fd, &saved_termios) < 0)
		return err_set(reterr, -errno, "cannot read the terminal's settings: %m");
	if (!atexit_registered) {
		if (atexit(tty_raw_restore) != 0)
			return err_set(reterr, -ENOMEM, "cannot register the terminal restore handler");
		atexit_registered = true;
	}
	raw = saved_termios;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	/* Set raw_fd first: a signal arriving in between then restores what we saved. */
	raw_fd = fd;
	if (tcsetattr(fd, TCSANOW, &raw) < 0) {
		raw_fd = -1;
		return err_set(reterr, -errno, "cannot put the terminal into raw mode: %m");
	}
	return 0;
}

void tty_raw_restore(void)
{
	int fd = raw_fd;
	if (fd < 0)
		return;
	raw_fd = -1;
	int saved = errno;
	(void)tcsetattr(fd, TCSANOW, &saved_termios);
	errno = saved;
}

int tty_get_size(int fd, unsigned short *ret_rows, unsigned short *ret_cols)
{
	struct winsize ws;

	if (fd < 0)
		return -ENOTTY;
	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return -errno;
	if (ws.ws_row == 0 || ws.ws_col == 0)
		return -EINVAL;
	*ret_rows = ws.ws_row;
	*ret_cols = ws.ws_col;
	return 0;
}

int tty_relay_init(struct tty_relay *t, int master, int in_fd, int out_fd, char **reterr)
{
	memset(t, 0, sizeof(*t));
	t->master = master;
	t->pty = -1;
	t->in_fd = in_fd;
	t->out_fd = out_fd;
	t->output_open = true;
	t->in_idx = t->master_idx = -1;
	/* Non-blocking, so a container that stops reading its input cannot stall its output. The
	 * daemon's copy of the master shares this flag; it does not block on the master either. */
	int r = fd_nonblock(master, true);
	if (r < 0)
		return err_set(reterr, r, "cannot make the pty non-blocking: %m");
	return 0;
}

void tty_relay_done(struct tty_relay *t)
{
	t->master = safe_close(t->master);
	t->pty = safe_close(t->pty);
}

int tty_relay_switch(struct tty_relay *t, int sock, char **reterr)
{
	int r = fd_nonblock(sock, true);
	if (r < 0) {
		close(sock);
		return err_set(reterr, r, "cannot use the daemon's relay: %m");
	}
	if (t->pty < 0)
		t->pty = t->master;
	else
		safe_close(t->master);
	t->master = sock;
	return 0;
}

void tty_relay_poll_fds(struct tty_relay *t, struct pollfd *pfds, size_t *n)
{
	t->in_idx = t->master_idx = -1;
	if (t->in_fd >= 0 && t->len == 0) {
		t->in_idx = (int)*n;
		pfds[(*n)++] = (struct pollfd){ .fd = t->in_fd, .events = POLLIN };
	}
	short events = (t->output_open ? POLLIN : 0) | (t->len > 0 ? POLLOUT : 0);
	if (t->master >= 0 && events) {
		t->master_idx = (int)*n;
		pfds[(*n)++] = (struct pollfd){ .fd = t->master, .events = events };
	}
}

/* Drops buffered input and reads no more: the container side cannot take it. */
static void relay_stop_input(struct tty_relay *t)
{
	t->in_fd = -1;
	t->len = t->off = 0;
}

/* Reads one chunk of output from the master. Returns false when there is nothing more now. */
static bool relay_output(struct tty_relay *t)
{
	char buf[16384];
	ssize_t n = read(t->master, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		/* 0 or EIO: every process closed the slave, nothing more will come. */
		t->output_open = false;
		return false;
	}
	if (!t->out_broken && write_all(t->out_fd, buf, (size_t)n) < 0)
		t->out_broken = true; /* keep reading so the container never blocks on a full pty */
	return true;
}

void tty_relay_handle(struct tty_relay *t, const struct pollfd *pfds)
{
	if (t->in_idx >= 0 && (pfds[t->in_idx].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
		ssize_t n = read(t->in_fd, t->buf, sizeof(t->buf));
		if (n > 0) {
			t->len = (size_t)n;
			t->off = 0;
		} else if (n == 0 && !isatty(t->in_fd)) {
			/* Piped input ended: tell the container as a person would, by typing the EOF
			 * character (twice after an unfinished line, which the first one only flushes).
			 * Output keeps flowing. */
			struct termios tio;
			char veof = tcgetattr(t->pty >= 0 ? t->pty : t->master, &tio) == 0 ? (char)tio.c_cc[VEOF] : 4;
			t->in_fd = -1;
			t->off = 0;
			t->len = 0;
			if (t->last != '\n' && t->last != '\0')
				t->buf[t->len++] = veof;
			t->buf[t->len++] = veof;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* End of input: stop reading, as docker does; output keeps flowing. */
			relay_stop_input(t);
		}
	}
	if (t->master_idx < 0)
		return;
	short rev = pfds[t->master_idx].revents;
	if ((rev & POLLOUT) && t->len > 0) {
		ssize_t n = write(t->master, t->buf + t->off, t->len - t->off);
		if (n > 0) {
			t->off += (size_t)n;
			t->last = t->buf[t->off - 1];
			if (t->off == t->len)
				t->len = t->off = 0;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			relay_stop_input(t);
		}
	}
	if ((rev & (POLLIN | POLLHUP | POLLERR)) && t->output_open)
		relay_output(t);
	else if ((rev & (POLLHUP | POLLERR)) && t->len > 0)
		relay_stop_input(t);
}

void tty_relay_drain(struct tty_relay *t)
{
	while (t->output_open && relay_output(t))
		;
}

int tty_relay_resize(struct tty_relay *t, int term_fd)
{
	struct winsize ws;

	if (t->master < 0 || term_fd < 0)
		return 0;
	if (ioctl(term_fd, TIOCGWINSZ, &ws) < 0)
		return -errno;
	if (ioctl(t->pty >= 0 ? t->pty : t->master, TIOCSWINSZ, &ws) < 0)
		return -errno;
	return 0;
}

int tty_local_size(unsigned short *ret_rows, unsigned short *ret_cols)
{
	int fd = isatty(STDIN_FILENO) ? STDIN_FILENO : isatty(STDOUT_FILENO) ? STDOUT_FILENO : -1;
	if (tty_get_size(fd, ret_rows, ret_cols) < 0) {
		*ret_rows = 24;
		*ret_cols = 80;
	}
	return fd;
}

int tty_attach_prepare(int term_fd, bool interactive, char **reterr)
{
	/* Writing to a closed stdout must end the relay with EPIPE, not kill us in raw mode. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return err_set(reterr, -errno, "cannot ignore SIGPIPE: %m");
	if (interactive && term_fd == STDIN_FILENO)
		return tty_raw_enter(STDIN_FILENO, reterr);
	return 0;
}
