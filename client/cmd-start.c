/* cctl create and cctl start: a container made without a process, and started later (detached,
 * or attached like cctl run with -a). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "client/run.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

/* cctl create: run's options, no -d (there is nothing to detach from); prints the full id. A
 * created container gets its stdio when it starts: -i is for start -a -i. */
int cmd_create(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_(run_done) struct run run = RUN_INIT(cctl, run);
	_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
	_cleanup_free_ char *err = NULL;
	struct proto_run_result res;
	int r = run_parse(&run, "create", argc, argv, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	if (run.detach)
		return opts_usage_error(reterr, "create", "unknown flag: --detach (cctl start starts it detached)");
	run.p.interactive = false;
	/* Started without -a, its output goes to its log driver, as a `run -d`'s. */
	run.p.stdio = run.tty ? PROTO_STDIO_PTY : PROTO_STDIO_LOG;
	if (run.tty)
		run_tty_size(&run);
	r = run_connect(&run, reterr);
	if (r < 0)
		return r;
	json_t *params = proto_run_params_encode(&run.p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_call_ok(&run.conn, PROTO_M_CREATE, params, NULL, 0, &m, reterr);
	if (r < 0)
		return r;
	if (proto_run_result_decode(m.msg.result, &res, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_CREATE, err);
	printf("%s\n", res.id);
	return 0;
}

static void start_usage(void)
{
	fputs("Usage:  cctl start [OPTIONS] CONTAINER [CONTAINER...]\n"
	      "\n"
	      "Start one or more created or stopped containers\n"
	      "\n"
	      "Options:\n"
	      "  -a, --attach        Attach STDOUT/STDERR and forward signals; exit with the container's status\n"
	      "  -i, --interactive   Attach container's STDIN\n"
	      "      --help          Print usage\n",
	      stdout);
}

enum { START_ATTACH = 1, START_INTERACTIVE, START_HELP };

/* Whether the container has a terminal: an attached start then relays its pty, else it passes
 * our fds. */
static int start_has_tty(struct conn *conn, const char *ref, bool *ret, bool *ret_running, char **reterr)
{
	_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
	_cleanup_free_ char *err = NULL;
	struct proto_ref_params p = { .ref = ref };
	struct proto_container_info info;
	json_t *params = proto_ref_params_encode(PROTO_M_INSPECT, &p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = conn_call_ok(conn, PROTO_M_INSPECT, params, NULL, 0, &m, reterr);
	if (r < 0)
		return r;
	if (proto_container_info_decode(m.msg.result, &info, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_INSPECT, err);
	*ret = info.tty;
	*ret_running = strcmp(info.state, "running") == 0 || strcmp(info.state, "paused") == 0;
	return 0;
}

/* start -a: one container, attached as cctl run is, exiting with its status. */
static int start_attached(struct cctl *cctl, const char *ref, bool interactive, char **reterr)
{
	_cleanup_(run_done) struct run run = RUN_INIT(cctl, run);
	int fds[3];
	unsigned nfds = 0;
	int r = conn_open(cctl->socket_path, &run.conn, reterr);
	if (r < 0)
		return r;
	bool running = false;
	if ((r = start_has_tty(&run.conn, ref, &run.tty, &running, reterr)) < 0)
		return r;
	if (running) {
		/* docker start -a of a running container attaches to it. */
		char *av[4] = { "attach" };
		int n = 1;
		if (!interactive)
			av[n++] = "--no-stdin";
		av[n++] = (char *)ref;
		return cmd_attach(cctl, n, av, reterr);
	}
	run.p.interactive = interactive;
	if (!run.tty)
		for (int fd = interactive ? 0 : 1; fd <= 2; fd++)
			fds[nfds++] = fd;
	struct proto_start_params p = { .ref = ref, .attach = true, .interactive = interactive };
	json_t *params = proto_start_params_encode(&p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	return run_attached(&run, PROTO_M_START, params, fds, nfds, reterr);
}

int cmd_start(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ START_ATTACH, 'a', "attach", OPT_FLAG },
		{ START_INTERACTIVE, 'i', "interactive", OPT_FLAG },
		{ START_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	bool attach = false, interactive = false, failed = false;
	int key, r;

	opts_init(&o, options, "start", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == START_ATTACH)
			attach = o.flag;
		else if (key == START_INTERACTIVE)
			interactive = o.flag;
		else if (o.flag) {
			start_usage();
			return 0;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands < 1)
		return opts_usage_error(reterr, "start", "\"cctl start\" requires at least 1 argument.");
	/* As docker: one container to attach to (its output and exit status are ours). */
	if ((attach || interactive) && o.n_operands > 1)
		return opts_usage_error(reterr, "start", "you cannot start and attach multiple containers at once");
	if (attach || interactive)
		return start_attached(cctl, o.operands[0], interactive, reterr);

	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < o.n_operands; i++) {
		_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
		_cleanup_free_ char *err = NULL;
		struct proto_start_params p = { .ref = o.operands[i] };
		json_t *params = proto_start_params_encode(&p);
		if (!params)
			return err_set(reterr, -ENOMEM, "out of memory");
		if ((r = conn_call(&conn, PROTO_M_START, params, NULL, 0, &m, reterr)) < 0)
			return r;
		if (conn_reply_check(&m, &err) < 0) {
			fflush(stdout);
			fprintf(stderr, "cctl: %s\n", err ? err : "start failed");
			failed = true;
			continue;
		}
		printf("%s\n", o.operands[i]);
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
