/* cctl exec: run a command in a running container and, unless detached, stay until it exits with
 * its exit code. Its stdio is ours, passed to the daemon with the request as cctl run passes it,
 * or with -t a pty whose master comes back with the reply and which cctl relays. As docker exec,
 * cctl forwards no signal: ^C ends cctl (the process keeps running). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/attach.h"
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
	struct attach at;
	json_int_t req;
	char *exec_id; /* once it started */
	bool exited;
	int exit_code;
};

static void exec_done(struct exec *e)
{
	attach_done(&e->at);
	conn_close(&e->conn);
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
			e->p.proc.interactive = o.flag;
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
			e->p.proc.workdir = (char *)arg;
			break;
		case ARG_USER:
			if (!user_spec_valid(arg))
				return opts_invalid_argument(&o, reterr, "expected NAME|UID[:GROUP|GID]");
			e->p.proc.user = (char *)arg;
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
	e->p.proc.cmd = argv + (argc - (int)o.n_operands) + 1;
	e->p.proc.env = e->env;
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
	if (e->tty && !e->detach)
		return attach_relay(&e->at, TAKE_FD(m->fds[0]), e->p.proc.interactive, reterr);
	return 0;
}

static int exec_on_message(void *userdata, struct conn_msg *m, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	struct exec *e = userdata;
	struct proto_exec_exit x;

	if (m->msg.event) {
		if (strcmp(m->msg.event, PROTO_EV_EXEC_EXITED) != 0)
			return 0;
		if (proto_exec_exit_decode(m->msg.params, &x, &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid %s event from containd: %s", PROTO_EV_EXEC_EXITED,
				       err);
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

/* A window size change goes to the pty; the signals that end cctl leave the process running,
 * as with docker exec. */
static int exec_on_signal(void *userdata, int sig, char **reterr)
{
	struct exec *e = userdata;
	if (sig == SIGWINCH) {
		attach_resize(&e->at);
		return 0;
	}
	e->exit_code = 128 + sig;
	return 1;
}

static bool exec_finished(void *userdata)
{
	return ((struct exec *)userdata)->exited;
}

static int exec_hangup(void *userdata, char **reterr)
{
	struct exec *e = userdata;
	return err_set(reterr, -ECONNRESET, "containd closed the connection before the command %s",
		       e->exec_id ? "exited" : "started");
}

static const struct attach_ops exec_attach_ops = {
	.message = exec_on_message,
	.signal = exec_on_signal,
	.finished = exec_finished,
	.hangup = exec_hangup,
};

int cmd_exec(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_(exec_done) struct exec e = {
		.cctl = cctl,
		.conn = CONN_INIT,
		.at = ATTACH_INIT(&e.conn),
	};
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
	int fds[3];
	unsigned nfds;
	int r;

	r = exec_parse(&e, argc, argv, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	e.p.proc.stdio = attach_stdio(e.tty, e.detach, e.p.proc.interactive, fds, &nfds);
	if (e.tty)
		e.at.term_fd = tty_local_size(&e.p.proc.tty_rows, &e.p.proc.tty_cols);
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
	if ((r = attach_block_signals(&e.at, sigs, ARRAY_SIZE(sigs), reterr)) < 0)
		return r;
	if (e.tty && (r = tty_attach_prepare(e.at.term_fd, e.p.proc.interactive, reterr)) < 0)
		return r;
	json_t *params = proto_exec_params_encode(&e.p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = conn_send(&e.conn, PROTO_M_EXEC, params, fds, nfds, &e.req, reterr)) < 0)
		return r;
	if ((r = attach_loop(&e.at, &exec_attach_ops, &e, reterr)) < 0)
		return r;
	tty_raw_restore();
	return e.exit_code;
}
