/* cctl attach: shares a detached container's output from now on and, with a terminal, types
 * into it; the detach keys (ctrl-p ctrl-q) leave it running. Exits with the container's exit
 * code once its output is complete, or 0 when detached.
 *
 * The daemon writes the output to fds cctl passes with the request: one end of a socket pair for
 * a terminal (input goes back on it), two pipes otherwise (stdout, stderr): bytes, no framing. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "client/tty.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "protocol/logs.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

#define ATTACH_MAX_KEYS 16

static void usage(void)
{
	fputs("Usage:  cctl attach [OPTIONS] CONTAINER\n"
	      "\n"
	      "Attach local standard input, output, and error streams to a running container\n"
	      "\n"
	      "Options:\n"
	      "      --detach-keys KEYS   Override the key sequence for detaching a container\n"
	      "                           (default \"ctrl-p,ctrl-q\")\n"
	      "      --no-stdin           Do not attach STDIN\n"
	      "      --help               Print usage\n",
	      stdout);
}

/* Docker's --detach-keys: comma-separated "ctrl-X" (X a letter or one of @[\\]^_) or single
 * characters. */
static int parse_keys(const char *s, char *keys, size_t *n)
{
	*n = 0;
	for (const char *p = s; *p;) {
		size_t len = strcspn(p, ",");
		if (*n >= ATTACH_MAX_KEYS)
			return -EINVAL;
		if (len == 1) {
			keys[(*n)++] = *p;
		} else if (len == 6 && strncmp(p, "ctrl-", 5) == 0) {
			char c = p[5];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (!((c >= 'a' && c <= 'z') || strchr("@[\\]^_", c)))
				return -EINVAL;
			keys[(*n)++] = (char)(c & 0x1f);
		} else {
			return -EINVAL;
		}
		p += len;
		if (*p == ',' && *++p == '\0')
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

struct attach_session {
	bool tty, input;
	char keys[ATTACH_MAX_KEYS];
	size_t n_keys, matched; /* the detach keys typed so far, held back */
	int sock;               /* with a terminal: our end of the pair */
	int out[2];             /* without: the read ends of stdout and stderr */
};

/* Types what was read on stdin into the terminal, holding back a prefix of the detach keys.
 * Returns 1 when the whole sequence was typed. */
static int attach_input(struct attach_session *a, const char *buf, size_t len, char **reterr)
{
	char out[8192];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == a->keys[a->matched]) {
			if (++a->matched == a->n_keys)
				return 1;
			continue;
		}
		/* Not the sequence after all: what was held back goes first. */
		memcpy(out + n, a->keys, a->matched);
		n += a->matched;
		a->matched = 0;
		if (buf[i] == a->keys[0]) {
			a->matched = 1;
			continue;
		}
		out[n++] = buf[i];
	}
	int r = n ? write_all(a->sock, out, n) : 0;
	return r < 0 ? err_set(reterr, r, "cannot send input to the container: %m") : 0;
}

/* Relays until the output ends (0) or the detach keys were typed (1). */
static int attach_loop(struct attach_session *a, char **reterr)
{
	bool in_open = a->input, open[2] = { true, !a->tty };
	char buf[65536];
	while (open[0] || open[1]) {
		struct pollfd p[3] = {
			{ .fd = open[0] ? (a->tty ? a->sock : a->out[0]) : -1, .events = POLLIN },
			{ .fd = open[1] ? a->out[1] : -1, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_set(reterr, -errno, "poll: %m");
		}
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				open[i] = false;
				continue;
			}
			int r = write_all(i == 0 ? STDOUT_FILENO : STDERR_FILENO, buf, (size_t)n);
			if (r < 0)
				return err_set(reterr, r, "cannot write the output: %m");
		}
		if (p[2].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				/* Our input ended: the container's terminal keeps running, we keep showing it. */
				in_open = false;
				continue;
			}
			int r = attach_input(a, buf, (size_t)n, reterr);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

int cmd_attach(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	enum { ARG_DETACH_KEYS = 1, ARG_NO_STDIN, ARG_SIG_PROXY, ARG_HELP };
	static const struct opt options[] = {
		{ ARG_DETACH_KEYS, 0, "detach-keys", OPT_VALUE },
		{ ARG_NO_STDIN, 0, "no-stdin", OPT_FLAG },
		{ ARG_SIG_PROXY, 0, "sig-proxy", OPT_FLAG },
		{ ARG_HELP, 0, "help", OPT_FLAG },
		{},
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg info = CONN_MSG_INIT, reply = CONN_MSG_INIT;
	struct attach_session a = { .keys = { 0x10, 0x11 }, .n_keys = 2, .sock = -1, .out = { -1, -1 } };
	bool no_stdin = false;
	int key, r;

	opts_init(&o, options, "attach", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == ARG_DETACH_KEYS && parse_keys(o.arg, a.keys, &a.n_keys) < 0)
			return opts_invalid_argument(&o, reterr, "expected keys such as ctrl-p,ctrl-q");
		if (key == ARG_NO_STDIN)
			no_stdin = o.flag;
		if (key == ARG_HELP && o.flag) {
			usage();
			return 0;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands != 1)
		return opts_usage_error(reterr, "attach", "\"cctl attach\" requires exactly 1 argument.");
	const char *ref = o.operands[0];

	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	struct proto_ref_params rp = { .ref = ref };
	json_t *params = proto_ref_params_encode(PROTO_M_INSPECT, &rp);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = conn_call_ok(&conn, PROTO_M_INSPECT, params, NULL, 0, &info, reterr)) < 0)
		return r;
	a.tty = json_is_true(json_object_get(info.msg.result, "tty"));
	a.input = a.tty && !no_stdin;

	int pass[2] = { -1, -1 };
	unsigned npass;
	if (a.tty) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return err_set(reterr, -errno, "cannot create a socket pair: %m");
		a.sock = sv[0];
		pass[0] = sv[1];
		npass = 1;
	} else {
		for (int i = 0; i < 2; i++) {
			int p[2];
			if (pipe2(p, O_CLOEXEC) < 0) {
				r = err_set(reterr, -errno, "cannot create a pipe: %m");
				goto out;
			}
			a.out[i] = p[0];
			pass[i] = p[1];
		}
		npass = 2;
	}
	struct proto_attach_params ap = { .ref = ref, .stdin = a.input };
	/* The container's terminal takes our window's size, as docker attach does. */
	if (a.tty) {
		int term = isatty(STDIN_FILENO) ? STDIN_FILENO : STDOUT_FILENO;
		if (tty_get_size(term, &ap.tty_rows, &ap.tty_cols) < 0)
			ap.tty_rows = ap.tty_cols = 0;
	}
	params = proto_attach_params_encode(&ap);
	if (!params) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	r = conn_call_ok(&conn, PROTO_M_ATTACH, params, pass, npass, &reply, reterr);
	/* The daemon has its copies: ours would keep the output from ending. */
	for (int i = 0; i < 2; i++)
		pass[i] = safe_close(pass[i]);
	if (r < 0)
		goto out;
	if (a.input && isatty(STDIN_FILENO)) {
		if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || (r = tty_raw_enter(STDIN_FILENO, reterr)) < 0)
			goto out;
	}
	r = attach_loop(&a, reterr);
	tty_raw_restore();
	if (r == 1) {
		r = 0; /* detached: the container runs on */
		goto out;
	}
	if (r < 0)
		goto out;
	/* The output ended: the container exited; its code is ours. */
	{
		_cleanup_conn_msg_ struct conn_msg w = CONN_MSG_INIT;
		json_t *wp = proto_ref_params_encode(PROTO_M_WAIT, &rp);
		if (!wp) {
			r = err_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		if ((r = conn_call_ok(&conn, PROTO_M_WAIT, wp, NULL, 0, &w, reterr)) < 0)
			goto out;
		json_t *code = json_object_get(w.msg.result, "exit_code");
		r = json_is_integer(code) ? (int)json_integer_value(code) : 0;
	}
out:
	safe_close(a.sock);
	for (int i = 0; i < 2; i++) {
		safe_close(a.out[i]);
		safe_close(pass[i]);
	}
	return r;
}
