/* container.exec: the handler, and what is owed to its client (the reply once the command runs,
 * the container.exec_exited event at its exit) and to the event stream (exec_create, exec_start,
 * exec_die). An exec outlives its client's connection: its events are still emitted, the rest
 * goes nowhere. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macros.h"
#include "daemon/api-internal.h"
#include "daemon/container-exec.h"
#include "daemon/container.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/exec.h"

struct api_exec {
	struct api *api;
	struct container_exec *ex;
	struct conn *conn; /* NULL once its client went away, or was answered for a detached exec */
	json_t *id;        /* the request, until it is answered */
	bool detach;
	struct api_exec *prev, *next;
};

static void api_exec_free(struct api_exec *ae)
{
	struct api *api = ae->api;
	if (ae->prev)
		ae->prev->next = ae->next;
	else
		api->execs = ae->next;
	if (ae->next)
		ae->next->prev = ae->prev;
	if (ae->conn)
		conn_unref(ae->conn);
	json_decref(ae->id);
	free(ae);
}

static void exec_emit(struct api_exec *ae, const char *action, bool with_command, int exit_code)
{
	struct container *ct = container_exec_container(ae->ex);
	if (ct)
		api_events_emit_exec(ae->api, action, ct, container_exec_id(ae->ex),
				     with_command ? container_exec_command(ae->ex) : NULL, exit_code);
}

/* The command runs: the reply (with its own copy of the terminal's master; the exec keeps one so
 * that the terminal outlives a client that goes), and exec_start. */
static void exec_started(struct container_exec *ex, void *userdata)
{
	struct api_exec *ae = userdata;
	int fd = -1;
	if (!ae->conn)
		;
	else if (container_exec_pty(ex) >= 0 && (fd = fcntl(container_exec_pty(ex), F_DUPFD_CLOEXEC, 3)) < 0)
		conn_send_error(ae->conn, ae->id, PROTO_E_INTERNAL, NULL, "cannot pass the terminal: %s",
				strerror(errno));
	else
		conn_send_result(ae->conn, ae->id, proto_exec_result_encode(container_exec_id(ex)), &fd,
				 fd >= 0 ? 1 : 0);
	json_decref(TAKE_PTR(ae->id));
	if (ae->detach)
		conn_unref(TAKE_PTR(ae->conn));
	exec_emit(ae, "exec_start", true, -1);
}

static void exec_start_failed(struct container_exec *ex, int exit_code, const char *message, void *userdata)
{
	struct api_exec *ae = userdata;
	if (ae->conn)
		conn_send_error(ae->conn, ae->id, PROTO_E_START, proto_start_error_data(exit_code), "%s", message);
	exec_emit(ae, "exec_die", false, exit_code);
	api_exec_free(ae);
}

static void exec_exited(struct container_exec *ex, int exit_code, void *userdata)
{
	struct api_exec *ae = userdata;
	struct container *ct = container_exec_container(ex);
	if (ae->conn && ct) {
		struct proto_exec_exit e = { .exec_id = container_exec_id(ex), .id = ct->id, .exit_code = exit_code,
					     .signal = exit_code > 128 ? exit_code - 128 : 0 };
		conn_send_event(ae->conn, PROTO_EV_EXEC_EXITED, proto_exec_exit_encode(&e));
	}
	exec_emit(ae, "exec_die", false, exit_code);
	api_exec_free(ae);
}

static const struct container_exec_ops exec_ops = {
	.started = exec_started,
	.start_failed = exec_start_failed,
	.exited = exec_exited,
};

static const char *exec_error_code(int r)
{
	switch (r) {
	case -ESRCH:
	case -EBUSY:
		return PROTO_E_CONFLICT;
	case -EUSERS:
		return PROTO_E_LIMIT;
	case -EINVAL:
		return PROTO_E_PARAMS;
	case -ENOMEM:
		return PROTO_E_INTERNAL;
	default:
		return PROTO_E_START;
	}
}

void api_exec(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_exec_params p;
	_cleanup_free_ char *err = NULL;
	int stdio[3] = { -1, -1, -1 };
	int r = proto_exec_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	unsigned want = proto_exec_params_nfds(&p);
	if (req->nfds != want) {
		const char *how = p.proc.stdio != PROTO_STDIO_FDS ? ""
				  : p.proc.interactive ? " and interactive" : " without interactive";
		conn_send_error(c, req->id, PROTO_E_FDS, NULL,
				PROTO_M_EXEC " with stdio \"%s\"%s needs %u file descriptor(s), got %u",
				proto_stdio_name(p.proc.stdio), how, want, req->nfds);
		goto out;
	}
	if (api->shutting_down) {
		conn_send_error(c, req->id, PROTO_E_SHUTDOWN, NULL, "containd is shutting down");
		goto out;
	}
	struct container *ct = registry_find(api->reg, p.ref, &err);
	if (!ct) {
		conn_send_error(c, req->id, PROTO_E_NOT_FOUND, NULL, "%s", err);
		goto out;
	}
	unsigned first = p.proc.interactive ? 0 : 1;
	for (unsigned i = 0; p.proc.stdio == PROTO_STDIO_FDS && i < want; i++) {
		if ((r = api_check_stdio_fd(msg->fds[i], (int)(first + i), &err)) < 0) {
			conn_send_error(c, req->id, PROTO_E_FDS, NULL, "%s", err);
			goto out;
		}
		stdio[first + i] = TAKE_FD(msg->fds[i]);
	}
	struct api_exec *ae = calloc(1, sizeof(*ae));
	if (!ae) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	struct container_exec_config cfg = {
		.cmd = TAKE_PTR(p.proc.cmd),
		.env = TAKE_PTR(p.proc.env),
		.workdir = TAKE_PTR(p.proc.workdir),
		.user = TAKE_PTR(p.proc.user),
		.stdio = p.proc.stdio == PROTO_STDIO_PTY ? CONTAINER_STDIO_PTY
			 : p.proc.stdio == PROTO_STDIO_FDS ? CONTAINER_STDIO_FDS
						       : CONTAINER_STDIO_NULL,
		.tty_rows = p.proc.tty_rows,
		.tty_cols = p.proc.tty_cols,
		.privileged = p.privileged,
	};
	*ae = (struct api_exec){ .api = api, .conn = conn_ref(c), .id = json_incref(req->id), .detach = p.detach };
	r = container_exec_start(ct, p.ref, &cfg, stdio, &exec_ops, ae, &ae->ex, &err);
	if (r < 0) {
		conn_unref(ae->conn);
		json_decref(ae->id);
		free(ae);
		const char *code = exec_error_code(r);
		conn_send_error(c, req->id, code, strcmp(code, PROTO_E_START) == 0 ? proto_start_error_data(125) : NULL,
				"%s", err ? err : "cannot start the exec process");
		goto out;
	}
	ae->next = api->execs;
	if (api->execs)
		api->execs->prev = ae;
	api->execs = ae;
	exec_emit(ae, "exec_create", true, -1);
out:
	for (int i = 0; i < 3; i++)
		safe_close(stdio[i]);
	proto_exec_params_done(&p);
}

void api_execs_conn_closed(struct api *api, struct conn *c)
{
	for (struct api_exec *ae = api->execs; ae; ae = ae->next)
		if (ae->conn == c) {
			conn_unref(TAKE_PTR(ae->conn));
			json_decref(TAKE_PTR(ae->id));
		}
}

void api_execs_free(struct api *api)
{
	while (api->execs) {
		container_exec_detach(api->execs->ex);
		api_exec_free(api->execs);
	}
}
