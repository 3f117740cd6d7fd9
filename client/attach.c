#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "client/attach.h"
#include "common/error.h"
#include "common/macros.h"

void attach_done(struct attach *a)
{
	if (a->have_relay)
		tty_relay_done(&a->relay);
	a->have_relay = false;
	a->sigfd = safe_close(a->sigfd);
}

enum proto_stdio attach_stdio(bool tty, bool detach, bool interactive, int fds[3], unsigned *nfds)
{
	*nfds = 0;
	if (tty)
		return PROTO_STDIO_PTY;
	if (detach)
		return PROTO_STDIO_NULL;
	for (int fd = interactive ? 0 : 1; fd <= 2; fd++)
		fds[(*nfds)++] = fd;
	return PROTO_STDIO_FDS;
}

int attach_block_signals(struct attach *a, const int *sigs, size_t n, char **reterr)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return err_set(reterr, -errno, "cannot block signals: %m");
	a->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->sigfd < 0)
		return err_set(reterr, -errno, "cannot create a signalfd: %m");
	return 0;
}

int attach_relay(struct attach *a, int master, bool interactive, char **reterr)
{
	a->have_relay = true;
	return tty_relay_init(&a->relay, master, interactive ? STDIN_FILENO : -1, STDOUT_FILENO, reterr);
}

void attach_resize(struct attach *a)
{
	if (a->have_relay)
		(void)tty_relay_resize(&a->relay, a->term_fd);
}

/* Every signal that is pending: 1 when one of them says to leave. */
static int attach_read_signals(struct attach *a, const struct attach_ops *ops, void *userdata, char **reterr)
{
	struct signalfd_siginfo si;

	for (;;) {
		ssize_t n = read(a->sigfd, &si, sizeof(si));
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			return err_set(reterr, -errno, "cannot read signals: %m");
		}
		if ((size_t)n != sizeof(si))
			return err_set(reterr, -EIO, "short read from signalfd");
		int r = ops->signal(userdata, (int)si.ssi_signo, reterr);
		if (r != 0)
			return r;
	}
}

/* Reads what the daemon sent and hands every complete message to the verb. */
static int attach_read_conn(struct attach *a, const struct attach_ops *ops, void *userdata, char **reterr)
{
	int r = conn_fill(a->conn, reterr);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	bool eof = r == 0;

	for (;;) {
		_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
		r = conn_next(a->conn, &m, reterr);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		r = ops->message(userdata, &m, reterr);
		if (r < 0)
			return r;
		if (ops->finished(userdata))
			return 0;
	}
	return eof ? ops->hangup(userdata, reterr) : 0;
}

int attach_loop(struct attach *a, const struct attach_ops *ops, void *userdata, char **reterr)
{
	while (!ops->finished(userdata)) {
		struct pollfd pfds[2 + TTY_RELAY_NFDS] = {
			{ .fd = a->conn->fd, .events = POLLIN },
			{ .fd = a->sigfd, .events = POLLIN },
		};
		size_t n = 2;
		if (a->have_relay)
			tty_relay_poll_fds(&a->relay, pfds, &n);

		if (poll(pfds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_set(reterr, -errno, "poll: %m");
		}
		int r;
		if (pfds[1].revents) {
			r = attach_read_signals(a, ops, userdata, reterr);
			if (r < 0)
				return r;
			if (r > 0)
				return 0; /* leaving on a signal */
		}
		if (a->have_relay)
			tty_relay_handle(&a->relay, pfds);
		if (pfds[0].revents) {
			r = attach_read_conn(a, ops, userdata, reterr);
			if (r < 0)
				return r;
		}
	}
	/* It is over; show what it wrote last before we exit. */
	if (a->have_relay)
		tty_relay_drain(&a->relay);
	return 0;
}
