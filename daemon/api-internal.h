/* What the API's files share: the api object and the method handlers. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "protocol/protocol.h"
#include "protocol/wire.h"
#include "daemon/container.h"

struct event_base;
struct cgroup_manager;
struct image_store;
struct registry;
struct conn;
struct api_wait;
struct event_sink;
struct container;
struct container_event;
struct api_events;
struct api_exec;

struct supervisor;
struct api_logs_stream;
struct image_puller;

/* A reply owed to a client for a request whose work outlives its handler (an import, a load or
 * save, a pull, a copy, a commit): the connection and the request's id, both held, on one of the
 * api's lists. Embedded as the member "owed" of what owes the reply. */
struct api_owed {
	struct conn *conn; /* NULL for a layer worker's copy, whose commit owes the reply */
	json_t *id;
	struct api_owed *prev, *next;
};

/* The struct of type that embeds the api_owed o as its member "owed". */
#define api_owed_entry(o, type) ((type *)(void *)((char *)(o) - offsetof(type, owed)))

/* What a client is owed about a container, answered from the event bus (api-container.c). */
enum wait_kind {
	WAIT_RUN,     /* owed the run (or attached start) reply, then the exit event */
	WAIT_EXITED,  /* owed the exit event (a run that was answered) */
	WAIT_EXIT,    /* container.wait and stop: owed a result at exit */
	WAIT_REMOVE,  /* container.remove: owed a result once it is gone */
	WAIT_START,   /* container.start (detached) and restart: owed the result once it runs */
	WAIT_RESTART, /* container.restart: owed a start once it exited */
};

struct api {
	struct event_base *base;
	struct cgroup_manager *cgm;
	struct supervisor *sup; /* containd-keeper, the containers' parent */
	struct image_store *images;
	struct registry *reg;
	struct event_sink *sink;
	struct api_wait *waits; /* replies owed to clients about containers */
	unsigned dispatching;   /* inside api_on_container_event() */
	struct api_owed *imports; /* image.import requests owed a reply (api.c) */
	bool shutting_down;
	struct api_events *events; /* events.subscribe: the ring and the subscribers */
	struct api_exec *execs;    /* container.exec: what is owed for each exec (api-exec.c) */
	struct api_logs_stream *logs; /* container.logs streams */
	/* The log driver and options of a container that names none (containd --log-driver,
	 * --log-opt). */
	enum container_log_driver log_driver;
	struct log_file_opts log_opts;
	struct api_owed *archive_ops; /* image.load and image.save in progress (api-archive.c) */
	struct api_owed *cps; /* copies whose workers run (api-cp.c) */
	struct api_owed *commits; /* commits under way (api-commit.c) */
	struct image_puller *puller; /* image.pull's workers (daemon/image-pull.c) */
	struct api_owed *pulls;  /* image.pull requests owed a reply (api-pull.c) */
};

void api_reply_params_error(struct conn *c, json_t *id, int r, const char *err);
/* Replies to a failure of the domain with the code its -errno means (not found, conflict, params,
 * limit, else internal) and its message (err, or the errno's text). */
void api_reply_errno(struct conn *c, json_t *id, int r, const char *err);
/* Replies shutting_down and returns true once the daemon stops, so a handler starts no work. */
bool api_refuse_shutting_down(struct api *api, struct conn *c, json_t *id);
/* Holds c (may be NULL) and id in o and links o at the head of *head. */
void api_owed_link(struct api_owed **head, struct api_owed *o, struct conn *c, json_t *id);
/* Unlinks o from *head (nothing if it was never linked) and drops what it held. */
void api_owed_unlink(struct api_owed **head, struct api_owed *o);
/* Answers each reply owed on *head with shutting_down and frees its owner with free_fn (which
 * unlinks it). */
void api_owed_shutdown(struct api_owed **head, void (*free_fn)(struct api_owed *o));
/* Methods that take no fds refuse any, so a confused client learns at once. */
bool api_expect_no_fds(struct conn *c, struct proto_request *req);
/* Replies the params error and returns false when a method without params got some. */
bool api_expect_no_params(struct conn *c, struct proto_request *req);

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

void api_create(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_start(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_restart(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);

/* Shared by the container handlers (api-container.c, api-lifecycle.c). */
struct proto_run_params;
struct proto_ref_params;
struct container_config;
/* Registers a reply owed about ct; -EUSERS past the per-connection cap, -ENOMEM. */
int api_wait_add(struct api *api, enum wait_kind kind, struct container *ct, struct conn *c, json_t *id);
void api_wait_add_failed(struct conn *c, json_t *id, int r);
/* Forgets the wait just added for a request that failed after all. */
void api_waits_drop(struct api *api, enum wait_kind kind, struct container *ct, struct conn *c, json_t *id);
/* Refuses a stdio fd a container must not get (a directory, an O_PATH handle). */
int api_check_stdio_fd(int fd, int i, char **reterr);
/* container.run params into the domain's configuration (strings taken over, p freed). */
int api_config_from_params(const struct api *api, struct proto_run_params *p, struct container_config *cfg,
			   char **reterr);
/* The error code for a -errno of container_run()/create()/start(). */
const char *api_run_error_code(int r);
/* Decodes ref params (no fds allowed) and finds the container, or replies with the error. */
struct container *api_find_container(struct api *api, struct conn *c, struct proto_request *req,
				     struct proto_ref_params *p);
/* Finds the container ref names, or replies not_found (with the reason) and returns NULL. */
struct container *api_lookup(struct api *api, struct conn *c, struct proto_request *req, const char *ref);
json_t *api_exit_json(const struct container *ct);
json_t *api_container_info(const struct container *ct);
/* The same, with security (inspect) or without (the list entries of api-list.c). */
json_t *api_container_info_full(const struct container *ct, bool security);
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
/* An image event (Docker's actions: import, tag, untag, delete): the image's id and the name the
 * action concerns (for delete, the id again). */
void api_events_emit_image(struct api *api, const char *action, const char *image_id, const char *name);

/* image.load and image.save (api-archive.c). */
void api_image_load(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_image_save(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
/* Answers the loads and saves in progress with shutting_down and stops their workers. */
void api_archive_ops_free(struct api *api);
/* container.cp_stat, cp_from, cp_to, export, diff (api-cp.c). */
void api_cp_stat(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_cp_from(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_cp_to(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_export(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_diff(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_cp_conn_closed(struct api *api, struct conn *c);
void api_cp_free(struct api *api);
/* The end of a layer worker (container.commit): r 0 with res (the layer's digest and size), or
 * -errno with a message (-ECANCELED: its client went away or the daemon stops). */
struct cp_worker_result;
typedef void (*api_cp_layer_fn)(struct api *api, int r, const struct cp_worker_result *res, const char *msg,
				void *userdata);
/* Forks a worker writing ct's upper dir as a layer tar to fd (kept by the caller); done is called
 * from the loop, once, unless this fails (-errno with a message). Killed when c closes. */
int api_cp_layer_start(struct api *api, struct conn *c, struct container *ct, int fd, api_cp_layer_fn done,
		       void *userdata, char **reterr);
/* container.commit (api-commit.c). */
void api_commit(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_commit_free(struct api *api);
/* volume.* (api-volume.c), and the mounts of container.run params into the domain's
 * configuration (strings taken over). */
void api_volume_create(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_volume_list(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_volume_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_volume_remove(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_volume_prune(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);

/* network.* (api-network.c). */
void api_network_create(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_network_list(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_network_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_network_remove(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_network_prune(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
int api_mounts_from_params(struct proto_run_params *p, struct container_config *cfg, char **reterr);
/* network.connect, network.disconnect (api-endpoint.c), and the network settings of
 * container.run params into the domain's configuration (strings taken over). */
void api_network_connect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_network_disconnect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_endpoint_config_from_params(struct proto_run_params *p, struct container_config *cfg);
/* image.pull (api-pull.c). */
void api_image_pull(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
void api_registry_login(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);
/* Kills the pull workers and answers their clients. */
void api_pulls_free(struct api *api);
