/* container.exec: a process started inside a running container (cctl exec). The reply comes once
 * its command was exec'd, with its exec id (and, with "stdio":"pty", the master of its terminal);
 * its exit follows as a container.exec_exited event unless it was detached. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "protocol/messages.h"

#define PROTO_M_EXEC "container.exec"
#define PROTO_EV_EXEC_EXITED "container.exec_exited"

struct proto_exec_params {
	char *ref; /* the container: id, unique id prefix or name */
	/* cmd required; workdir absolute, user NAME|UID[:GROUP|GID] (NULL: the container's) */
	struct proto_process_params proc;
	bool privileged; /* every capability */
	bool detach;     /* no container.exec_exited event: the client does not wait */
};

int proto_exec_params_decode(json_t *params, struct proto_exec_params *ret, char **reterr);
json_t *proto_exec_params_encode(const struct proto_exec_params *p);
void proto_exec_params_done(struct proto_exec_params *p);
/* How many fds an exec request with these params must carry. */
unsigned proto_exec_params_nfds(const struct proto_exec_params *p);

/* The reply {"exec_id": ID} and the event {"exec_id": ID, "id": CONTAINER, "exit_code": N}
 * (128+N for signal N, with "signal": N). Strings borrowed. */
struct proto_exec_exit {
	const char *exec_id, *id;
	int exit_code, signal;
};
json_t *proto_exec_result_encode(const char *exec_id);
int proto_exec_result_decode(json_t *result, const char **ret_exec_id, char **reterr);
json_t *proto_exec_exit_encode(const struct proto_exec_exit *e);
int proto_exec_exit_decode(json_t *params, struct proto_exec_exit *ret, char **reterr);
