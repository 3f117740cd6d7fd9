/* Processes started inside a running container (container.exec, cctl exec): each joins every
 * namespace, the cgroups, the user namespace and the confinement of the container (runtime/exec.h),
 * is a child of the daemon watched through its pidfd like a container's init, and reports its
 * start and its exit to whoever started it through callbacks: the domain knows no connection. */
#pragma once

#include <stdbool.h>

#include "common/pidref.h"
#include "daemon/container.h"

struct registry;
struct event;

/* Execs at once in one container, and in the whole daemon. Each holds a process, a channel and
 * the client's fds, so a peer must not make them unbounded. */
#define CONTAINER_MAX_EXECS 64
#define REGISTRY_MAX_EXECS 1024

/* What a client asked to run. Everything owned (container_exec_config_done). */
struct container_exec_config {
	char **cmd;    /* not empty */
	char **env;    /* KEY=VALUE over the container's environment */
	char *workdir; /* NULL: the container's */
	char *user;    /* NULL: the container's */
	enum container_stdio stdio;
	unsigned short tty_rows, tty_cols;
	bool privileged; /* every capability (the container's seccomp filter stays) */
};

void container_exec_config_done(struct container_exec_config *cfg);

struct container_exec;

/* What the starter of an exec learns; ex is valid during each call. After start_failed or exited
 * the exec is freed. */
struct container_exec_ops {
	/* The command was exec'd; with a terminal, container_exec_pty() is its master. */
	void (*started)(struct container_exec *ex, void *userdata);
	/* It never ran: exit_code 125 (setup), 126 (cannot execute) or 127 (not found). */
	void (*start_failed)(struct container_exec *ex, int exit_code, const char *message, void *userdata);
	/* It ran and exited: exit_code as a shell reports it (128+N for signal N). */
	void (*exited)(struct container_exec *ex, int exit_code, void *userdata);
};

/* Starts cfg's command in ct. The stdio fds (-1: /dev/null) and cfg are taken over, on failure
 * too. Failures before the process took its configuration are returned: -ESRCH (not running),
 * -EBUSY (paused), -EUSERS (too many execs), -EINVAL, -ENOMEM, each with a message that names the
 * container as ref; later ones come through ops. */
int container_exec_start(struct container *ct, const char *ref, struct container_exec_config *cfg, int stdio_fds[3],
			 const struct container_exec_ops *ops, void *userdata, struct container_exec **ret,
			 char **reterr);

const char *container_exec_id(const struct container_exec *ex);
/* The container it runs in, or NULL once that was freed (the daemon's shutdown). */
struct container *container_exec_container(const struct container_exec *ex);
/* Its command, space-separated, as Docker's exec events name it. */
const char *container_exec_command(const struct container_exec *ex);
/* The master of its terminal (owned by the exec), or -1. */
int container_exec_pty(const struct container_exec *ex);
/* No more callbacks for this exec (its starter went away); it still runs and is reaped. */
void container_exec_detach(struct container_exec *ex);

/* The container is being freed: its execs forget it (they are reaped all the same). */
void container_exec_forget(struct container *ct);
/* Kills and frees every exec (the daemon's end). */
void container_exec_free_all(struct registry *reg);
