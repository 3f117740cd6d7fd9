/* What the API's files share: the api object and the method handlers. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "protocol/protocol.h"
#include "protocol/wire.h"
#include "daemon/container.h"

struct event_base;
struct cgroup_manager;
struct image_store;
struct registry;
struct conn;
struct api_wait;
struct pending_import;
struct event_sink;
struct container;
struct container_event;
struct api_events;
struct api_exec;

struct supervisor;
struct api_logs_stream;

struct api {
	struct event_base *base;
	struct cgroup_manager *cgm;
	struct supervisor *sup; /* containd-keeper, the containers' parent */
	struct image_store *images;
	struct registry *reg;
	struct event_sink *sink;
	struct api_wait *waits; /* replies owed to clients about containers */
	unsigned dispatching;   /* inside api_on_container_event() */
	struct pending_import *imports;
	bool shutting_down;
	struct api_events *events; /* events.subscribe: the ring and the subscribers */
	struct api_exec *execs;    /* container.exec: what is owed for each exec (api-exec.c) */
	struct api_logs_stream *logs; /* container.logs streams */
	/* The log driver and options of a container that names none (containd --log-driver,
	 * --log-opt). */
	enum container_log_driver log_driver;
	struct log_file_opts log_opts;
};

void api_reply_params_error(struct conn *c, json_t *id, int r, const char *err);
/* Methods that take no fds refuse any, so a confused client learns at once. */
bool api_expect_no_fds(struct conn *c, struct proto_request *req);

void api_run(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_list(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_rename(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_kill(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_stop(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_remove(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_wait(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_top(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_pause(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_unpause(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);

/* container.exec (api-exec.c). */
void api_exec(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_execs_conn_closed(struct api *api, struct conn *c);
void api_execs_free(struct api *api);
/* Checks a stdio fd a peer passed (i: 0 stdin, 1 stdout, 2 stderr) before it becomes a container
 * process's: no directories, no O_PATH handles (see api-container.c). */
int api_check_stdio_fd(int fd, int i, char **reterr);

json_t *api_container_info(const struct container *ct);
/* The event bus sink: answers what is owed to clients. */
void api_on_container_event(const struct container_event *ev, void *userdata);
void api_waits_conn_closed(struct api *api, struct conn *c);
void api_waits_free(struct api *api);

/* container.logs (api-logs.c). */
void api_logs(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
/* The connection that ran ct and is owed its exit (a run client still there), or NULL. */
struct conn *api_run_conn(struct api *api, const struct container *ct);
void api_attach(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
/* Ends the streams of a container that is removed. */
void api_logs_on_event(struct api *api, const struct container_event *ev);
void api_logs_conn_closed(struct api *api, struct conn *c);
void api_logs_free(struct api *api);

/* events.subscribe (api-events.c). */
int api_events_new(struct api *api);
void api_events_free(struct api *api);
void api_events_subscribe(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_events_conn_closed(struct api *api, struct conn *c);
/* Records an event about ct ("rename", "pause", ...) and sends it to the subscribers. */
void api_events_emit(struct api *api, const char *action, const struct container *ct);
/* An exec's event: "exec_create" and "exec_start" with the command ("exec_start: ls -l", as
 * Docker names them), "exec_die" with exit_code (-1: none); each with "exec_id". */
void api_events_emit_exec(struct api *api, const char *action, const struct container *ct, const char *exec_id,
			  const char *command, int exit_code);
