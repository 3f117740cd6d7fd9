/* What cctl run, create and start -a share: the parsed options of a container (run's flags),
 * and the attached session (the request with the client's fds, signals forwarded, the pty
 * relayed, waiting for the exit event). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "client/attach.h"
#include "client/commands.h"
#include "client/conn.h"
#include "client/run-ports.h"
#include "client/run-security.h"
#include "client/tty.h"
#include "protocol/messages.h"

/* Exit events that arrive before the run reply are kept (up to this many) until we know our id. */
#define RUN_MAX_EARLY_EXITS 64

struct run {
	struct cctl *cctl;
	struct proto_run_params p; /* strings borrowed from argv, except env */
	char **env;                /* owned; p.env points here */
	char **labels;             /* owned "KEY=VALUE"; p.labels points here */
	char **entrypoint;         /* owned; p.entrypoint points here */
	char **log_opts;           /* owned "KEY=VALUE"; p.log_opts points here */
	struct proto_mount *mounts; /* owned: -v, --mount, --tmpfs; p.mounts points here */
	size_t n_mounts;
	char **volumes_from;       /* owned; p.volumes_from points here */
	const char *verb;          /* "run" or "create", for messages */
	struct run_security sec;   /* what the security flags collected; p points into it */
	struct run_ports ports;    /* -p, -P, --expose; p points into it */
	bool detach, tty;
	const char *pull;          /* --pull: "missing" (default), "always", "never" */
	char *pulled_image;        /* owned: what p.image became after a pull by digest */

	struct conn conn;
	struct attach at;         /* signals, the terminal relay, the loop (client/attach.h) */
	json_int_t run_req;       /* id of the container.run (or start) request */
	char *id;                 /* the container's id, once it started */
	unsigned pending_signals; /* signals to forward as soon as the id is known */
	json_t *early_exits;      /* container.exited params that came before the run reply */

	bool exited;
	int exit_code;
};

/* RUN_INIT(cctl, var): var is the variable being initialized (its attach points at its conn). */
#define RUN_INIT(c, var) { .cctl = (c), .conn = CONN_INIT, .at = ATTACH_INIT(&(var).conn) }

void run_done(struct run *run);
/* Parses verb's options ("run" or "create": run's flags) up to the image, whose operands become
 * the image and the command. Returns 1 when --help was printed. */
int run_parse(struct run *run, const char *verb, int argc, char **argv, char **reterr);
/* Connects run->conn and, by --pull, pulls the image first when the daemon lacks it. */
int run_connect(struct run *run, char **reterr);
/* The attached part of run, for a request (method, params taken over) that starts a container
 * and is answered like container.run: sends it with fds, forwards signals, relays the pty
 * (run->tty), and returns the container's exit status once it exited. */
int run_attached(struct run *run, const char *method, json_t *params, int *fds, unsigned nfds, char **reterr);
/* The pty size for a request with a terminal: the local terminal's, else 24x80. */
void run_tty_size(struct run *run);
