/* A container: its configuration, the spec it runs with, its state and exit status, and its life
 * from start to removal. Publishes what happens on the registry's event bus; knows nothing of the
 * clients that asked for it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/pidref.h"
#include "daemon/log-file.h"
#include "daemon/peer.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"
#include "runtime/userns.h"

struct registry;
struct image;
struct offload;
struct cleaner_job;
struct output;
struct api_list_entry;
struct container_mount;
struct container_endpoint;
struct container_port;
struct port_binding;

enum container_state { CONTAINER_CREATED, CONTAINER_RUNNING, CONTAINER_EXITED };

enum container_stdio {
	CONTAINER_STDIO_FDS,  /* the client's own fds */
	CONTAINER_STDIO_PTY,  /* a pty whose master goes to the client */
	CONTAINER_STDIO_NULL, /* detached: /dev/null */
	CONTAINER_STDIO_LOG,  /* detached: stdout and stderr to its log driver, stdin /dev/null */
};

/* Where a detached container's output goes (docs/logs.md). */
enum container_log_driver {
	CONTAINER_LOG_FILE,     /* records in <container dir>/container.log (daemon/log-file.h) */
	CONTAINER_LOG_NONE,     /* nowhere */
	CONTAINER_LOG_JOURNALD, /* straight to systemd-journald's stream socket */
};

/* --restart: what happens when the container's command exits (Docker's policies). */
enum container_restart {
	CONTAINER_RESTART_NO,
	CONTAINER_RESTART_ON_FAILURE, /* a non-zero exit, at most restart_max times (0: no limit) */
	CONTAINER_RESTART_ALWAYS,
	CONTAINER_RESTART_UNLESS_STOPPED, /* as always, and not at daemon start after a stop */
};

struct container_ulimit {
	int resource;        /* RLIMIT_* */
	uint64_t soft, hard; /* RLIM_INFINITY for unlimited */
};

/* What a client asked for, in the domain's terms. Everything is owned (container_config_done). */
struct container_config {
	char *name, *image, *workdir, *user, *hostname;
	char **cmd; /* NULL: the image's */
	char **env; /* KEY=VALUE over the image's Env */
	enum container_stdio stdio;
	bool rm;
	bool init; /* PID 1 is containd-tini, bound at CONTAINER_TINI_PATH; the command its child */
	unsigned short tty_rows, tty_cols;
	struct cgroup_limits limits;
	/* Confinement: the defaults are hardened; each of these relaxes or tightens them. */
	bool privileged;
	char **cap_add, **cap_drop;
	bool no_new_privileges;
	enum rt_seccomp_mode seccomp;
	char *seccomp_profile; /* RT_SECCOMP_CUSTOM: Docker-format JSON */
	bool system_paths_unconfined;
	struct container_ulimit *ulimits;
	size_t n_ulimits;
	char **device_rules;
	char *userns; /* NULL: the daemon's default; "host" or "auto" */
	char **labels; /* "KEY=VALUE" sorted by key (checked by the protocol's decoder), or NULL */
	/* --entrypoint: replaces the image's Entrypoint and drops its Cmd (an empty vector: no
	 * entrypoint at all); unset, the image's are used (Docker's rules, container-spec.c). */
	char **entrypoint;
	bool entrypoint_set;
	char *stop_signal; /* the signal a stop sends; NULL: the image's, else SIGTERM */
	enum container_restart restart;
	unsigned restart_max;
	/* Logging: with CONTAINER_STDIO_LOG, or CONTAINER_STDIO_PTY and pty_detached (the daemon
	 * keeps the terminal's master and logs what it reads). */
	bool pty_detached;
	enum container_log_driver log_driver;
	struct log_file_opts log_opts;
	/* Mounts (daemon/container-mounts.h): -v, --mount, --tmpfs; --volumes-from until resolved
	 * (then its mounts are among these); --read-only. */
	struct container_mount *mounts;
	size_t n_mounts;
	char **volumes_from;
	bool mounts_resolved;
	bool read_only;
	/* Namespaces (daemon/container-ns.h): --network (endp's names too), --pid, --ipc, --uts,
	 * --cgroupns as given; NULL: the default. */
	char *network_mode, *pid_mode, *ipc_mode, *uts_mode, *cgroupns_mode;
	/* Who asked for the container (run or create): bind sources are looked up and created with
	 * their rights (daemon/peer.h). Not kept: mounts are resolved in that request. */
	struct peer_creds peer;
	/* Its networks (daemon/container-network.h): --network-alias and --ip of the first one,
	 * --add-host ("HOST:IP"), --dns, --dns-search, --dns-option. */
	char **network_aliases;
	char *ip;
	char **extra_hosts;
	char **dns, **dns_search, **dns_options;
	/* Published ports (daemon/container-ports.h): -p (host port 0: picked at each start), -P,
	 * and the exposed ports (the image's, --expose's and -p's, fixed at creation). */
	struct port_binding *ports;
	size_t n_ports;
	bool publish_all;
	struct port_binding *exposed;
	size_t n_exposed;
};

void container_config_done(struct container_config *cfg);

struct container {
	struct registry *reg;
	char id[65];
	char *name;
	char *image_id;
	struct container_config cfg;
	struct rt_spec spec; /* what it runs with (after defaults and options) */
	enum container_state state;
	bool paused; /* running, its cgroup frozen (container_pause) */

	struct pidref proc;
	bool watched;         /* the keeper tells us when proc exits (container_watch) */
	struct pidref reaped; /* proc after it exited (no pidfd): the keeper keeps its exit until saved */
	int sync_fd, pty_master;
	int mntns_fd; /* its mount namespace, held until the cleanup (see struct rt_init) */
	struct output *output; /* what reads its output into its log, or NULL (daemon/output.h) */
	struct event *ev_sync;
	struct event *ev_stop;          /* the end of a stop's grace period, or NULL */
	struct timespec stop_deadline;  /* CLOCK_MONOTONIC, while stop_armed */
	bool stop_armed;
	struct container_cgroup *cg;
	struct offload *cleaner; /* removing its cgroups (and files), or NULL */
	struct cleaner_job *cleaner_job; /* the same work, with the cleaner (daemon/cleaner.h) */
	bool cleaner_deletes_files;
	bool files_deleted;

	bool userns;                /* in a user namespace of its own, mapped to slice */
	bool slice_held;            /* the slice is ours until its processes are gone */
	struct userns_slice slice;

	int exit_code, signal;
	bool oom_killed;
	char *error;
	struct timespec created, started, finished;
	bool started_reported;
	bool exec_reported; /* its init finished setup (RT_REPORT_EXEC) */
	bool cleaned_up;     /* exited and its cleaner ran (a failure to remove its cgroups is logged) */
	bool remove_pending; /* remove once cleaned up */
	bool remove_volumes; /* and its anonymous volumes (rm -v; always with --rm) */
	bool removing;       /* exited and going away: invisible to lookups */
	struct api_list_entry *list_entry; /* its container.list entry, encoded (api-list.c) */
	/* Its published ports while it runs, and cctl ps's text of them (daemon/container-ports.h). */
	struct container_port *bound_ports;
	size_t n_bound_ports;
	char *ports_summary;

	/* The networks it joined, one endpoint each (daemon/container-network.h). */
	struct container_endpoint *endpoints;
	size_t n_endpoints;

	/* Restarts: by the policy (a timer with Docker's back-off) or asked for. */
	unsigned restart_count;   /* restarts by the policy since the last start a user asked for */
	unsigned restart_delay_ms; /* the back-off: 0, then 100 ms doubling, reset after 10 s up */
	bool user_stopped;        /* stopped by a user: the policy does not restart it (persisted) */
	struct event *ev_restart; /* the policy's restart timer, or NULL */
	bool policy_starting;     /* its policy started it again and its init is still setting up */
	bool start_deferred;      /* a start waits for the cleanup of its previous run */
	int start_stdio[3];       /* ... with these fds */

	struct container *prev, *next;
};

/* Creates and starts a container. stdio fds are taken over (on failure too). Failures before its
 * init took the spec are returned (-EINVAL/-EEXIST/-EUSERS/..., with a message; an init that was
 * adopted already is killed and cleaned up out of sight, as for --rm); after that, the outcome is
 * published: CONTAINER_EV_STARTED or CONTAINER_EV_START_FAILED, then EXITED. *ret is valid until
 * CONTAINER_EV_REMOVED. */
int container_run(struct registry *reg, struct container_config *cfg /* taken over */, const struct image *image,
		  int stdio_fds[3], struct container **ret, char **reterr);
/* Creates a container without starting it (state "created", no process, no spare taken): its
 * id, directories and record. cfg is taken over. */
int container_create(struct registry *reg, struct container_config *cfg, const struct image *image,
		     struct container **ret, char **reterr);
/* Starts a created or exited container on its own filesystem with a fresh init. stdio fds are
 * taken over (-1: /dev/null; a tty container has its pty). Returns 1 when it runs already (a
 * no-op, as docker start), 0 when the start is under way: its outcome is published
 * (CONTAINER_EV_STARTED or CONTAINER_EV_START_FAILED, maybe after a previous run's cleanup);
 * -errno with a message when it cannot start at all. A start by a user (policy false) resets
 * the restart policy's count and back-off. */
int container_start(struct container *ct, int stdio_fds[3], bool policy, char **reterr);
/* The restart policy, once an exited container is cleaned up: schedules a restart with
 * Docker's back-off, or nothing. */
void container_restart_check(struct container *ct);
/* A stop by a user: no restart by the policy until a user starts it again. */
void container_restart_cancel(struct container *ct, bool user_stopped);
/* Docker's names of the policies ("no", "on-failure", "always", "unless-stopped"). */
const char *container_restart_name(enum container_restart r);
/* Gives a container a new name: the rules and uniqueness of a name at run (-EINVAL, -EEXIST);
 * its record is saved with it. Running or exited alike: the name is only a handle. */
int container_rename(struct container *ct, const char *name, char **reterr);
int container_kill(struct container *ct, int sig, char **reterr);

/* The signal a stop sends when it names none and neither --stop-signal nor the image does. */
#define CONTAINER_STOP_SIGNAL SIGTERM
/* The stop signal of a container: its own, else SIGTERM. */
int container_stop_signal(const struct container *ct);
/* Where --init binds containd-tini in the container: /dev is a fresh tmpfs of every container,
 * so the file never shadows one of the image's (Docker's /sbin/docker-init could). */
#define CONTAINER_TINI_PATH "/dev/init"
/* Sends sig (0: container_stop_signal()) to the container's init and SIGKILLs its cgroups if it
 * still runs timeout seconds later; stops of one container share the earliest deadline. -ESRCH
 * when it is not running. The exit is published as usual (CONTAINER_EV_EXITED). */
int container_stop(struct container *ct, int sig, unsigned timeout, char **reterr);
/* Frees the stop timer: at the container's exit and when it is freed. */
void container_stop_cancel(struct container *ct);
/* Removes a container; a running one only with force (it is killed first). -EBUSY without force
 * while it runs. Done when CONTAINER_EV_REMOVED is published (maybe before this returns). */
int container_remove(struct container *ct, bool force, char **reterr);
const char *container_state_name(enum container_state s);
/* "file" (also as "json-file" and "local", Docker's names), "none", "journald"; -EINVAL otherwise. */
int container_log_driver_from_name(const char *name, enum container_log_driver *ret);
const char *container_log_driver_name(enum container_log_driver d);
/* The state clients see: container_state_name(), "paused" for a paused running container, or
 * "restarting" for an exited one its restart policy is about to start again. */
const char *container_state_label(const struct container *ct);
/* Freezes every process of a running container (its cgroup), or thaws a paused one. -ESRCH with
 * a message when it is not running (pause) or not paused (unpause); -EOPNOTSUPP without a cgroup
 * freezer. A paused container can still be killed and removed with force. */
int container_pause(struct container *ct, char **reterr);
int container_unpause(struct container *ct, char **reterr);

/* SIGKILLs every process of a container that has not exited, and thaws it if it was paused
 * (removal with force, the daemon's shutdown). */
void container_kill_all(struct container *ct);
/* Thaws a paused container after SIGKILL was sent to it or it exited, so that its frozen tasks
 * die (see container.c); no-op unless paused. */
void container_thaw_killed(struct container *ct);

/* A re-adopted container's output (restore.c): the pipes' read ends the keeper held (taken
 * over), or its terminal's master (ct->pty_master) for a detached terminal, go to a new output
 * that repairs and appends to its log. */
void container_adopt_output(struct container *ct, int pipes[2]);

/* The exit monitor's entry points (daemon/monitor.c). */
int container_watch(struct container *ct);
/* Handles an exit learnt otherwise than from a watch (a container that exited while the daemon
 * was away, whose exit the keeper kept at when). */
void container_exit_now(struct container *ct, const siginfo_t *si, const struct timespec *when);
void container_settled(struct container *ct);
void container_destroy(struct container *ct);
void container_free(struct container *ct);
/* Deletes the container's record, then its directory (in an offload child): 0 or -errno. */
int container_delete_files(void *arg);
/* Whether deleting the container's files deletes anonymous volumes too (--rm, rm -v). */
bool container_deletes_volumes(const struct container *ct);
/* Gives the container's user namespace slice back, once its processes are gone. */
void container_release_slice(struct container *ct);
