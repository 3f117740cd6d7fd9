/* The daemon's side of containd-keeper (keeper/keeper-proto.h): it connects to the keeper of its
 * state directory or starts one, has it clone every container's init, learns their exits from it,
 * gives it the fds that must outlive the daemon, and, after a restart, lists what it kept. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/pidref.h"
#include "keeper/keeper-proto.h"
#include "runtime/process.h"

struct event_base;
struct supervisor;

/* Called once with the exit of a watched process (or, if the keeper itself died, a SIGKILL: its
 * children die with it). The watch is gone by then. */
typedef void (*supervisor_exit_fn)(void *arg, const siginfo_t *si);

/* A child of the keeper as it lists it after a daemon restart. */
struct supervisor_child {
	pid_t pid;
	uint64_t start_time;
	bool exited;
	siginfo_t si;     /* exited: how */
	struct timespec exited_at; /* exited: when the keeper reaped it */
	int fds[KEEPER_MAX_FDS];
	uint8_t tags[KEEPER_MAX_FDS];
	size_t nfds;
	char id[65];      /* the container it serves, as the daemon told it; "" for none */
};

/* Connects to the keeper of state, starting one if there is none. live_restore false: the keeper
 * kills every container when this daemon goes away. */
int supervisor_open(struct event_base *base, const char *state, bool live_restore, struct supervisor **ret,
		    char **reterr);
/* The keeper's pid, as it said in its hello. */
pid_t supervisor_keeper_pid(const struct supervisor *s);
/* Closes the connection; the keeper keeps the containers (or kills them, see supervisor_open). */
void supervisor_free(struct supervisor *s);
/* Every container is gone or going: the keeper exits once its last child did. */
void supervisor_quit(struct supervisor *s);

/* rt_init_prepare, done by the keeper: the init is its child, not ours. Blocks until the keeper
 * answers (it clones and replies at once). */
int supervisor_spawn(struct supervisor *s, const struct rt_init_opts *opts, struct rt_init *ret, char **reterr);
/* Calls fn once p exits. -ENOMEM. A process has at most one watch; a second replaces the first. */
int supervisor_watch(struct supervisor *s, const struct pidref *p, supervisor_exit_fn fn, void *arg);
void supervisor_unwatch(struct supervisor *s, const struct pidref *p);
/* The exit of p is recorded: the keeper may forget it. */
void supervisor_release(struct supervisor *s, const struct pidref *p);
/* Has the keeper hold fds (dups are sent) for p, which serves container id. */
int supervisor_hold(struct supervisor *s, const struct pidref *p, const char *id, const int *fds,
		    const uint8_t *tags, size_t n);
/* Every child the keeper has, with the fds it holds (owned by the caller: supervisor_child_done). */
int supervisor_list(struct supervisor *s, struct supervisor_child **ret, size_t *ret_n, char **reterr);
void supervisor_child_done(struct supervisor_child *c);
