/* The container registry: every container's configuration, state and exit status, its files
 * under --root and --state, and its life from spawn to removal. Reports back to the clients that
 * wait on a container (the one that ran it, container.wait and container.remove callers). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "protocol/messages.h"

struct event_base;
struct conn;
struct cgroup_manager;
struct image_store;
struct image;
struct registry;
struct container;

int registry_new(struct event_base *base, const char *root, const char *state, struct cgroup_manager *cgm,
		 struct image_store *images, struct registry **ret, char **reterr);
/* Kills every running container. Returns true once all are reaped and cleaned up. */
bool registry_shutdown(struct registry *reg);
void registry_free(struct registry *reg);

/* Finds a container by full id, unique id prefix or name; NULL with a message otherwise. */
struct container *registry_find(struct registry *reg, const char *ref, char **reterr);
bool registry_image_in_use(struct registry *reg, const char *image_id);
/* container.list items. */
json_t *registry_list(struct registry *reg, bool all);
/* How many records the registry holds, including containers being removed. */
unsigned registry_count(struct registry *reg);

/* Creates and starts a container. params and stdio fds are taken over (on failure too). The
 * reply to the run request goes to c with request id req_id once the command was exec'd (or
 * failed); the exit is reported to c as an event afterwards. */
void container_run(struct registry *reg, struct proto_run_params *params, const struct image *image,
		   int stdio_fds[3], struct conn *c, json_t *req_id);

json_t *container_info(const struct container *ct);
int container_kill(struct container *ct, int sig, char **reterr);
/* Removes a container; a running one only with force (it is killed first). Replies to c. */
void container_remove(struct container *ct, bool force, struct conn *c, json_t *req_id);
/* Replies to c with the exit of the container, now or when it exits. */
void container_wait(struct container *ct, struct conn *c, json_t *req_id);

/* A client went away: forget replies owed to it. */
void registry_conn_closed(struct registry *reg, struct conn *c);
