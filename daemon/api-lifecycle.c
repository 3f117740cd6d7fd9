/* The lifecycle methods: container.create (a container without a process), container.start
 * (detached, or attached like a run) and container.restart (stop, then start). Their replies
 * come from the event bus like a run's (api-container.c keeps what is owed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "daemon/api-internal.h"
#include "daemon/container.h"
#include "daemon/image-store.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/messages.h"

/* container.create: container.run's params; no fds, since a created container gets its stdio
 * when it starts (its tty, if it asked for one, is made then). */
void api_create(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_run_params p;
	struct container_config cfg;
	struct container *ct;
	_cleanup_free_ char *err = NULL;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_run_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (p.stdio == PROTO_STDIO_FDS && p.interactive) {
		proto_run_params_done(&p);
		conn_send_error(c, req->id, PROTO_E_PARAMS, NULL,
				"container.create takes no stdin: attach it with container.start (interactive)");
		return;
	}
	if (p.stdio == PROTO_STDIO_FDS)
		p.stdio = PROTO_STDIO_NULL;
	if (api->shutting_down) {
		proto_run_params_done(&p);
		conn_send_error(c, req->id, PROTO_E_SHUTDOWN, NULL, "containd is shutting down");
		return;
	}
	const struct image *image = image_store_lookup(api->images, p.image, &err);
	if (!image) {
		proto_run_params_done(&p);
		conn_send_error(c, req->id, PROTO_E_NOT_FOUND, NULL, "%s", err ? err : "no such image");
		return;
	}
	if ((r = api_config_from_params(api, &p, &cfg, &err)) < 0) {
		container_config_done(&cfg);
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	cfg.peer = *conn_peer(c);
	r = container_create(api->reg, &cfg, image, &ct, &err);
	if (r < 0) {
		conn_send_error(c, req->id, api_run_error_code(r), NULL, "%s", err ? err : "cannot create the container");
		return;
	}
	api_events_emit(api, "create", ct);
	struct proto_run_result res = { .id = ct->id, .name = ct->name, .pid = 0 };
	conn_send_result(c, req->id, proto_run_result_encode(&res), NULL, 0);
}

/* The fds of an attached start of a container without a tty: as a run's with stdio "fds". */
static int start_stdio(const struct proto_start_params *p, struct wire_msg *msg, unsigned nfds, int stdio[3],
		       char **reterr)
{
	unsigned first = p->interactive ? 0 : 1;
	for (unsigned i = 0; i < nfds; i++) {
		int r = api_check_stdio_fd(msg->fds[i], (int)(first + i), reterr);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < nfds; i++)
		stdio[first + i] = TAKE_FD(msg->fds[i]);
	return 0;
}

/* container.start: a created or exited container starts on its own filesystem; one that runs is
 * left alone (docker start succeeds). Attached, the client is then owed the exit event as after
 * a run; detached, the reply comes once it runs. */
void api_start(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_start_params p;
	_cleanup_free_ char *err = NULL;
	int stdio[3] = { -1, -1, -1 };
	int r = proto_start_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	struct container *ct = api_lookup(api, c, req, p.ref);
	if (!ct)
		return;
	if (pidref_is_set(&ct->proc) || ct->start_deferred) {
		/* docker start of a running container: nothing to do. Attaching to it would need its
		 * output, which went to the fds of whoever started it. */
		if (p.attach)
			conn_send_error(c, req->id, PROTO_E_CONFLICT, NULL,
					"container %s is running already: its output goes where it was started", ct->name);
		else
			conn_send_result(c, req->id, proto_run_result_encode(&(struct proto_run_result){
							     .id = ct->id, .name = ct->name, .pid = ct->proc.pid }),
					 NULL, 0);
		return;
	}
	bool tty = ct->cfg.stdio == CONTAINER_STDIO_PTY;
	unsigned want = p.attach && !tty ? (p.interactive ? 3 : 2) : 0;
	if (req->nfds != want) {
		conn_send_error(c, req->id, PROTO_E_FDS, NULL, "container.start of %s needs %u file descriptor(s), got %u",
				ct->name, want, req->nfds);
		return;
	}
	if (api->shutting_down) {
		conn_send_error(c, req->id, PROTO_E_SHUTDOWN, NULL, "containd is shutting down");
		return;
	}
	if ((r = start_stdio(&p, msg, want, stdio, &err)) < 0) {
		conn_send_error(c, req->id, PROTO_E_FDS, NULL, "%s", err);
		return;
	}
	/* Registered first: a start that waited for a cleanup is answered from the bus. */
	enum wait_kind kind = p.attach ? WAIT_RUN : WAIT_START;
	if ((r = api_wait_add(api, kind, ct, c, req->id)) < 0) {
		for (int i = 0; i < 3; i++)
			safe_close(stdio[i]);
		api_wait_add_failed(c, req->id, r);
		return;
	}
	r = container_start(ct, stdio, false, &err);
	if (r < 0) {
		api_waits_drop(api, kind, ct, c, req->id);
		const char *code = api_run_error_code(r);
		conn_send_error(c, req->id, code, strcmp(code, PROTO_E_START) == 0 ? proto_start_error_data(125) : NULL,
				"%s", err ? err : "cannot start the container");
	}
}

/* container.restart: stop's params. A running container is stopped with its stop signal and
 * grace period (no restart by its policy in between), then started; any other is started. */
void api_restart(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_ref_params p;
	_cleanup_free_ char *err = NULL;
	struct container *ct = api_find_container(api, c, req, &p);
	if (!ct)
		return;
	if (api->shutting_down) {
		conn_send_error(c, req->id, PROTO_E_SHUTDOWN, NULL, "containd is shutting down");
		return;
	}
	bool running = pidref_is_set(&ct->proc);
	int r = api_wait_add(api, running ? WAIT_RESTART : WAIT_START, ct, c, req->id);
	if (r < 0) {
		api_wait_add_failed(c, req->id, r);
		return;
	}
	container_restart_cancel(ct, true);
	if (running)
		r = container_stop(ct, p.signal, p.timeout, &err);
	else
		r = container_start(ct, (int[3]){ -1, -1, -1 }, false, &err);
	if (r < 0) {
		api_waits_drop(api, running ? WAIT_RESTART : WAIT_START, ct, c, req->id);
		conn_send_error(c, req->id, running ? PROTO_E_INTERNAL : api_run_error_code(r), NULL, "%s",
				err ? err : "cannot restart the container");
		return;
	}
	api_events_emit(api, "restart", ct);
}
