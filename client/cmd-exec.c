/* cctl exec: run a command in a running container and, unless detached, stay until it exits with
 * its exit code. Its stdio is ours, passed to the daemon with the request as cctl run passes it,
 * or with -t a pty whose master comes back with the reply and which cctl relays. As docker exec,
 * cctl forwards no signal: ^C ends cctl (the process keeps running). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "client/tty.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"
#include "protocol/exec.h"
#include "protocol/protocol.h"

/* The status of a request the daemon refused (no such container, not running, paused), as
 * docker exec's: not a start failure of the command, not a misuse of cctl. */
#define EXEC_EXIT_REFUSED 1

struct exec {
	struct cctl *cctl;
	struct proto_exec_params p; /* strings borrowed from argv, except env */
	char **env;                 /* owned; p.env points here */
	bool detach, tty;

	struct conn conn;
	int sigfd;
	json_int_t req;
	char *exec_id; /* once it started */
	bool exited;
	int exit_code;

	int term_fd;
	struct tty_relay relay;
	bool have_relay;
};

static void exec_done(struct exec *e)
{
	if (e->have_relay)
		tty_relay_done(&e->relay);
	conn_close(&e->conn);
	e->sigfd = safe_close(e->sigfd);
	strv_free(e->env);
	free(e->exec_id);
}

static void usage(void)
{
	fputs("Usage:  cctl exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
	      "\n"
	      "Execute a command in a running container\n"
	      "\n"
	      "Options:\n"
	      "  -d, --detach               Detached mode: run command in the background\n"
	      "  -e, --env KEY=VALUE        Set environment variables (KEY alone: take it from cctl's)\n"
	      "  -i, --interactive          Keep STDIN open even if not attached\n"
	      "      --privileged           Give extended privileges to the command\n"
	      "  -t, --tty                  Allocate a pseudo-TTY\n"
	      "  -u, --user USER[:GROUP]    Username or UID (format: \"<name|uid>[:<group|gid>]\")\n"
	      "  -w, --workdir DIR          Working directory inside the container\n"
	      "      --help                 Print usage\n",
	      stdout);
}

enum {
	ARG_INTERACTIVE = 1,
	ARG_TTY,
	ARG_DETACH,
	ARG_ENV,
	ARG_WORKDIR,
	ARG_USER,
	ARG_PRIVILEGED,
	ARG_HELP,
};

static const struct opt exec_options[] = {
	{ ARG_INTERACTIVE, 'i', "interactive", OPT_FLAG },
	{ ARG_TTY, 't', "tty", OPT_FLAG },
	{ ARG_DETACH, 'd', "detach", OPT_FLAG },
	{ ARG_ENV, 'e', "env", OPT_VALUE },
	{ ARG_WORKDIR, 'w', "workdir", OPT_VALUE },
	{ ARG_USER, 'u', "user", OPT_VALUE },
	{ ARG_PRIVILEGED, 0, "privileged", OPT_FLAG },
	{ ARG_HELP, 0, "help", OPT_FLAG },
	{}
};

/* Options up to the container; what follows it is the command and its own options. Returns 1
 * when --help was printed. */
static int exec_parse(struct exec *e, int argc, char **argv, char **reterr)
{
	_cleanup_(opts_done) struct opts o;
	int key;

	opts_init(&o, exec_options, "exec", false, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		const char *arg = o.arg;
		switch (key) {
		case ARG_INTERACTIVE:
			e->p.interactive = o.flag;
			break;
		case ARG_TTY:
			e->tty = o.flag;
			break;
		case ARG_DETACH:
			e->detach = o.flag;
			break;
		case ARG_PRIVILEGED:
			e->p.privileged = o.flag;
			break;
		case ARG_ENV:
			if (opts_env_add(&e->env, "exec", arg, reterr) < 0)
				return -EINVAL;
			break;
		case ARG_WORKDIR:
			if (arg[0] != '/')
				return opts_usage_error(reterr, "exec", "the working directory '%s' is invalid, "
							"it needs to be an absolute path", arg);
			e->p.workdir = (char *)arg;
			break;
		case ARG_USER:
			if (!user_spec_valid(arg))
				return opts_invalid_argument(&o, reterr, "expected NAME|UID[:GROUP|GID]");
			e->p.user = (char *)arg;
			break;
		case ARG_HELP:
			if (o.flag) {
				usage();
				return 1;
			}
			break;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands < 2)
		return opts_usage_error(reterr, "exec", "\"cctl exec\" requires at least 2 arguments.");
	/* The operands are the tail of argv, which is NULL-terminated. */
	e->p.ref = o.operands[0];
	e->p.cmd = argv + (argc - (int)o.n_operands) + 1;
	e->p.env = e->env;
	return 0;
}

/* The daemon refused or the command could not start: docker exec's status for each. */
static int exec_refused(struct exec *e, const struct conn_msg *m, char **reterr)
{
	if (strcmp(m->msg.error_code, PROTO_E_START) == 0)
		e->cctl->error_exit = proto_start_error_exit_code(m->msg.error_data);
	else if (strcmp(m->msg.error_code, PROTO_E_NOT_FOUND) == 0 || strcmp(m->msg.error_code, PROTO_E_CONFLICT) == 0)
		e->cctl->error_exit = EXEC_EXIT_REFUSED;
	return conn_reply_check(m, reterr);
}

/* The reply: the command runs (with -t, here is its terminal) or it does not, and why. */
static int exec_handle_reply(struct exec *e, struct conn_msg *m, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	const char *id;
	unsigned want = e->tty ? 1 : 0;

	if (m->msg.error_code)
		return exec_refused(e, m, reterr);
	if (proto_exec_result_decode(m->msg.result, &id, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_EXEC, err);
	if (m->nfds != want)
		return err_set(reterr, -EBADMSG, "containd replied to %s with %u fds instead of %u", PROTO_M_EXEC,
			       m->nfds, want);
	if (!(e->exec_id = strdup(id)))
		return err_set(reterr, -ENOMEM, "out of memory");
	if (e->tty && !e->detach) {
		e->have_relay = true;
		return tty_relay_init(&e->relay, TAKE_FD(m->fds[0]), e->p.interactive ? STDIN_FILENO : -1,
				      STDOUT_FILENO, reterr);
	}
	return 0;
}

static int exec_handle_message(struct exec *e, struct conn_msg *m, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	struct proto_exec_exit x;

	if (m->msg.event) {
		if (strcmp(m->msg.event, PROTO_EV_EXEC_EXITED) != 0)
			return 0;
		if (proto_exec_exit_decode(m->msg.params, &x, &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid %s event from containd: %s", PROTO_EV_EXEC_EXITED, err);
		if (e->exec_id && strcmp(x.exec_id, e->exec_id) == 0) {
			e->exited = true;
			e->exit_code = x.exit_code;
		}
		return 0;
	}
	if (m->msg.id == e->req)
		return exec_handle_reply(e, m, reterr);
	return conn_reply_check(m, reterr);
}

/* Everything the daemon sent so far. */
static int exec_read_conn(struct exec *e, char **reterr)
{
	int r = conn_fill(&e->conn, reterr);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	bool eof = r == 0;
	while (!e->exited) {
		_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
		r = conn_next(&e->conn, &m, reterr);
		if (r <= 0) {
			if (r < 0)
				return r;
			break;
		}
		if ((r = exec_handle_message(e, &m, reterr)) < 0)
			return r;
	}
	if (eof && !e->exited)
		return err_set(reterr, -ECONNRESET, "containd closed the connection before the command %s",
			       e->exec_id ? "exited" : "started");
	return 0;
}

/* A window size change goes to the pty; the signals that end cctl leave the process running,
 * as with docker exec. Returns 1 when cctl should exit now (exit_code set). */
static int exec_read_signals(struct exec *e, char **reterr)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(e->sigfd, &si, sizeof(si))) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH) {
			if (e->have_relay)
				(void)tty_relay_resize(&e->relay, e->term_fd); /* best effort */
			continue;
		}
		e->exit_code = 128 + (int)si.ssi_signo;
		return 1;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return err_set(reterr, -errno, "cannot read signals: %m");
	return 0;
}

/* Waits for the reply and then for the exit, relaying the pty meanwhile. */
static int exec_loop(struct exec *e, char **reterr)
{
	while (!e->exited) {
		struct pollfd pfds[2 + TTY_RELAY_NFDS] = {
			{ .fd = e->conn.fd, .events = POLLIN },
			{ .fd = e->sigfd, .events = POLLIN },
		};
		size_t n = 2;
		int r;
		if (e->have_relay)
			tty_relay_poll_fds(&e->relay, pfds, &n);
		if (poll(pfds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_set(reterr, -errno, "poll: %m");
		}
		if (pfds[1].revents && (r = exec_read_signals(e, reterr)) != 0)
			return r < 0 ? r : 0;
		if (e->have_relay)
			tty_relay_handle(&e->relay, pfds);
		if (pfds[0].revents && (r = exec_read_conn(e, reterr)) < 0)
			return r;
	}
	if (e->have_relay)
		tty_relay_drain(&e->relay);
	return 0;
}

static int exec_setup_signals(struct exec *e, char **reterr)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return err_set(reterr, -errno, "cannot block signals: %m");
	e->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (e->sigfd < 0)
		return err_set(reterr, -errno, "cannot create a signalfd: %m");
	return 0;
}

int cmd_exec(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_(exec_done) struct exec e = {
		.cctl = cctl,
		.conn = CONN_INIT,
		.sigfd = -1,
		.term_fd = -1,
	};
	int fds[3];
	unsigned nfds = 0;
	int r;

	r = exec_parse(&e, argc, argv, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	/* As with run: -t a pty (-dt: the process keeps it, cctl does not attach), -d alone
	 * /dev/null, else our own fds (stdin only with -i). */
	if (e.tty) {
		e.p.stdio = PROTO_STDIO_PTY;
		e.term_fd = tty_local_size(&e.p.tty_rows, &e.p.tty_cols);
	} else if (e.detach) {
		e.p.stdio = PROTO_STDIO_NULL;
	} else {
		e.p.stdio = PROTO_STDIO_FDS;
		for (int fd = e.p.interactive ? 0 : 1; fd <= 2; fd++)
			fds[nfds++] = fd;
	}
	e.p.detach = e.detach;
	if ((r = conn_open(cctl->socket_path, &e.conn, reterr)) < 0)
		return r;
	if (e.detach) {
		_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
		json_t *params = proto_exec_params_encode(&e.p);
		if (!params)
			return err_set(reterr, -ENOMEM, "out of memory");
		if ((r = conn_call(&e.conn, PROTO_M_EXEC, params, NULL, 0, &m, reterr)) < 0)
			return r;
		r = exec_handle_reply(&e, &m, reterr);
		return r < 0 ? r : 0;
	}
	if ((r = exec_setup_signals(&e, reterr)) < 0)
		return r;
	if (e.tty && (r = tty_attach_prepare(e.term_fd, e.p.interactive, reterr)) < 0)
		return r;
	json_t *params = proto_exec_params_encode(&e.p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = conn_send(&e.conn, PROTO_M_EXEC, params, fds, nfds, &e.req, reterr)) < 0)
		return r;
	if ((r = exec_loop(&e, reterr)) < 0)
		return r;
	tty_raw_restore();
	return e.exit_code;
}
