/* cctl run: start a container and, unless detached, stay until it exits with its exit code
 * (its options are parsed in run-parse.c).
 *
 * Without -t the container gets our stdin (with -i), stdout and stderr themselves: the fds travel
 * to the daemon with the request and no byte of output passes through cctl. Signals sent to cctl
 * are forwarded to the container as container.kill on the same connection. With -t the daemon
 * creates a pty and returns its master; cctl relays between it and the local terminal. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/mount-parse.h"
#include "client/attach.h"
#include "client/conn.h"
#include "client/run-ports.h"
#include "client/run-security.h"
#include "client/pull.h"
#include "client/run.h"
#include "client/tty.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/logs.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

void run_done(struct run *run)
{
	attach_done(&run->at);
	conn_close(&run->conn);
	strv_free(run->env);
	strv_free(run->labels);
	strv_free(run->entrypoint);
	strv_free(run->log_opts);
	for (size_t i = 0; i < run->n_mounts; i++)
		proto_mount_done(&run->mounts[i]);
	free(run->mounts);
	strv_free(run->volumes_from);
	/* The network lists are arrays of argv's strings: only the arrays are ours. */
	free(run->p.network_aliases);
	free(run->p.extra_hosts);
	free(run->p.dns);
	free(run->p.dns_search);
	free(run->p.dns_options);
	run_security_done(&run->sec);
	run_ports_done(&run->ports);
	free(run->id);
	free(run->pulled_image);
	json_decref(run->early_exits);
}

int run_connect(struct run *run, char **reterr)
{
	int r = conn_open(run->cctl->socket_path, &run->conn, reterr);
	if (r < 0)
		return r;
	/* An image not here yet is pulled first, as docker run and create do. */
	r = pull_ensure(run->cctl, &run->conn, run->pull, run->p.image, &run->pulled_image, reterr);
	if (r <= 0)
		return r;
	if (run->pulled_image)
		run->p.image = run->pulled_image;
	/* A long pull may have outlasted the daemon's idle deadline for this connection. */
	conn_close(&run->conn);
	return conn_open(run->cctl->socket_path, &run->conn, reterr);
}

/* The signals cctl forwards or reacts to. They are blocked and read from a signalfd, so the loop
 * handles them synchronously; blocking them before the request means none is lost. */
static const int run_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static int run_setup_signals(struct run *run, char **reterr)
{
	/* SIGWINCH is last: only a run with a tty follows the window size. */
	return attach_block_signals(&run->at, run_signals, ARRAY_SIZE(run_signals) - (run->tty ? 0 : 1), reterr);
}

static int run_forward_signal(struct run *run, int sig, char **reterr)
{
	struct proto_ref_params ref = { .ref = run->id, .signal = sig };
	json_t *params = proto_ref_params_encode(PROTO_M_KILL, &ref);

	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	/* The reply is ignored: the container may have exited in the meantime. */
	return conn_send(&run->conn, PROTO_M_KILL, params, NULL, 0, NULL, reterr);
}

/* Signals to cctl. Without a tty all of them go to the container, like docker's sig-proxy.
 * With a tty, SIGWINCH resizes the pty, and SIGTERM, SIGHUP and SIGQUIT make cctl restore the
 * terminal and leave (the container keeps running, as with docker, whose sig-proxy is off in
 * tty mode); SIGINT and SIGUSR1/2 are still forwarded, since in raw mode ^C is a byte for the
 * container and can only come from kill(1). Returns 1 when cctl should exit now. */
static int run_handle_signal(struct run *run, int sig, char **reterr)
{
	if (run->tty && (sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT)) {
		run->exit_code = 128 + sig;
		return 1;
	}
	if (!run->id) {
		run->pending_signals |= 1u << sig;
		return 0;
	}
	if (sig == SIGWINCH) {
		attach_resize(&run->at);
		return 0;
	}
	return run_forward_signal(run, sig, reterr);
}

/* Notes an exit event if it is ours, or keeps it for later while we do not know our id yet. */
static int run_handle_exit(struct run *run, json_t *params, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	struct proto_exit e;

	if (proto_exit_decode(params, &e, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid %s event from containd: %s", PROTO_EV_EXITED, err);
	if (!run->id) {
		if (!run->early_exits && !(run->early_exits = json_array()))
			return err_set(reterr, -ENOMEM, "out of memory");
		if (json_array_size(run->early_exits) >= RUN_MAX_EARLY_EXITS)
			json_array_remove(run->early_exits, 0);
		json_array_append(run->early_exits, params);
		return 0;
	}
	if (strcmp(e.id, run->id) == 0) {
		run->exited = true;
		run->exit_code = e.exit_code;
	}
	return 0;
}

/* The reply to container.run: the container started (and, with a tty, here is its pty master)
 * or it did not, and why. */
static int run_handle_reply(struct run *run, struct conn_msg *m, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	struct proto_run_result res;
	unsigned want = run->tty && !run->detach ? 1 : 0; /* the pty master; a detached one stays with the daemon */
	int r;

	if (m->msg.error_code) {
		/* A container that could not start exits 125, 126 or 127, as docker run does. */
		if (strcmp(m->msg.error_code, PROTO_E_START) == 0)
			run->cctl->error_exit = proto_start_error_exit_code(m->msg.error_data);
		return conn_reply_check(m, reterr);
	}
	if (proto_run_result_decode(m->msg.result, &res, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_RUN, err);
	if (m->nfds != want)
		return err_set(reterr, -EBADMSG, "containd replied to %s with %u fds instead of %u", PROTO_M_RUN,
			       m->nfds, want);
	run->id = strdup(res.id);
	if (!run->id)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (run->detach)
		return 0;

	if (run->tty) {
		r = attach_relay(&run->at, TAKE_FD(m->fds[0]), run->p.interactive, reterr);
		if (r < 0)
			return r;
	}

	/* What happened while we waited: signals to forward, a resize, an exit already reported. */
	unsigned pending = run->pending_signals;
	run->pending_signals = 0;
	for (int sig = 1; sig < 32; sig++)
		if (pending & (1u << sig)) {
			r = run_handle_signal(run, sig, reterr);
			if (r < 0)
				return r;
		}
	size_t i;
	json_t *params;
	json_array_foreach(run->early_exits, i, params) {
		r = run_handle_exit(run, params, reterr);
		if (r < 0)
			return r;
	}
	json_decref(TAKE_PTR(run->early_exits));
	return 0;
}

static int run_handle_message(struct run *run, struct conn_msg *m, char **reterr)
{
	if (m->msg.event) {
		if (strcmp(m->msg.event, PROTO_EV_EXITED) == 0)
			return run_handle_exit(run, m->msg.params, reterr);
		/* Someone attached: the daemon relays our terminal from now on. */
		if (strcmp(m->msg.event, PROTO_EV_RELAY) == 0 && run->at.have_relay && m->nfds == 1)
			return tty_relay_switch(&run->at.relay, TAKE_FD(m->fds[0]), reterr);
		return 0;
	}
	if (m->msg.id == run->run_req)
		return run_handle_reply(run, m, reterr);
	if (m->msg.id < 0)
		return conn_reply_check(m, reterr); /* an error about the connection itself */
	return 0; /* replies to container.kill */
}

/* The attach loop's view of a run (client/attach.h). */
static int run_on_message(void *userdata, struct conn_msg *m, char **reterr)
{
	return run_handle_message(userdata, m, reterr);
}

static int run_on_signal(void *userdata, int sig, char **reterr)
{
	return run_handle_signal(userdata, sig, reterr);
}

static bool run_finished(void *userdata)
{
	return ((struct run *)userdata)->exited;
}

static int run_hangup(void *userdata, char **reterr)
{
	struct run *run = userdata;
	if (run->id)
		return err_set(reterr, -ECONNRESET, "containd closed the connection before container %.12s exited",
			       run->id);
	return err_set(reterr, -ECONNRESET, "containd closed the connection before the container started");
}

static const struct attach_ops run_attach_ops = {
	.message = run_on_message,
	.signal = run_on_signal,
	.finished = run_finished,
	.hangup = run_hangup,
};

void run_tty_size(struct run *run)
{
	run->at.term_fd = tty_local_size(&run->p.tty_rows, &run->p.tty_cols);
}

static int run_setup_tty(struct run *run, char **reterr)
{
	run_tty_size(run);
	return tty_attach_prepare(run->at.term_fd, run->p.interactive, reterr);
}

int run_attached(struct run *run, const char *method, json_t *params, int *fds, unsigned nfds, char **reterr)
{
	int r = run_setup_signals(run, reterr);
	if (r == 0 && run->tty)
		r = run_setup_tty(run, reterr);
	if (r < 0) {
		json_decref(params);
		return r;
	}
	r = conn_send(&run->conn, method, params, fds, nfds, &run->run_req, reterr);
	if (r < 0)
		return r;
	r = attach_loop(&run->at, &run_attach_ops, run, reterr);
	if (r < 0)
		return r;
	tty_raw_restore();
	return run->exit_code;
}

int cmd_run(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_(run_done) struct run run = RUN_INIT(cctl, run);
	int fds[3];
	unsigned nfds = 0;
	int r;

	r = run_parse(&run, "run", argc, argv, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;

	/* -t asks for a pty even when detached (-dit): the container keeps it as its terminal, the
	 * daemon keeps its master and logs it, and cctl does not attach. -d without -t sends the
	 * container's stdout and stderr to its log driver (cctl logs). */
	run.p.stdio = attach_stdio(run.tty, run.detach, run.p.interactive, fds, &nfds);
	if (run.detach && !run.tty)
		run.p.stdio = PROTO_STDIO_LOG;
	run.p.detach = run.detach && run.tty;

	r = run_connect(&run, reterr);
	if (r < 0)
		return r;

	if (run.detach) {
		_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
		if (run.tty)
			run_tty_size(&run);
		json_t *params = proto_run_params_encode(&run.p);
		if (!params)
			return err_set(reterr, -ENOMEM, "out of memory");
		r = conn_call(&run.conn, PROTO_M_RUN, params, NULL, 0, &m, reterr);
		if (r < 0)
			return r;
		r = run_handle_reply(&run, &m, reterr);
		if (r < 0)
			return r;
		printf("%s\n", run.id);
		return 0;
	}

	/* The pty's size goes with the request. */
	if (run.tty)
		run_tty_size(&run);
	json_t *params = proto_run_params_encode(&run.p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	return run_attached(&run, PROTO_M_RUN, params, fds, nfds, reterr);
}
