/* Typed parameters and results of each method, with their JSON encoders and decoders. Decoders
 * validate types and ranges and say what is wrong; they copy what they keep. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* container.run */
enum proto_stdio {
	PROTO_STDIO_FDS,  /* the request carries [stdin,] stdout, stderr */
	PROTO_STDIO_PTY,  /* the container gets a pty; the reply carries its master */
	PROTO_STDIO_NULL, /* detached: everything is /dev/null */
	PROTO_STDIO_LOG,  /* detached: stdout and stderr go to the container's log driver */
};

/* "fds", "pty", "null": -EINVAL with a message for anything else. */
int proto_stdio_parse(const char *s, enum proto_stdio *ret, char **reterr);
const char *proto_stdio_name(enum proto_stdio s);
/* The fds a request with this stdio carries: [stdin,] stdout, stderr for "fds", else none. */
unsigned proto_stdio_nfds(enum proto_stdio stdio, bool interactive);

/* The process part container.run and container.exec share: "cmd", "env" (KEY=VALUE entries),
 * "workdir", "user", "stdio", "interactive", "tty_rows", "tty_cols". Decoding checks the types,
 * that cmd (when present) is not empty and every env entry is KEY=VALUE; it copies. */
struct proto_process_params {
	char **cmd;
	char **env;
	char *workdir;
	char *user;
	enum proto_stdio stdio;
	bool interactive; /* with PROTO_STDIO_FDS: the request carries stdin too */
	unsigned short tty_rows, tty_cols;
};
int proto_process_params_decode(json_t *params, struct proto_process_params *ret, char **reterr);
/* Adds the fields to o (borrowing nothing: strings are copied). */
void proto_process_params_encode(const struct proto_process_params *p, json_t *o);
void proto_process_params_done(struct proto_process_params *p);

/* The seccomp filter of a container: Docker's default profile, none, or the profile the client
 * sent (a Docker-format JSON object). */
enum proto_seccomp {
	PROTO_SECCOMP_DEFAULT,
	PROTO_SECCOMP_UNCONFINED,
	PROTO_SECCOMP_CUSTOM,
};

/* Whether a container gets a user namespace. DEFAULT: the daemon decides (its --userns). */
enum proto_userns {
	PROTO_USERNS_DEFAULT,
	PROTO_USERNS_HOST,
	PROTO_USERNS_AUTO,
};

/* One resource limit, by Docker's name ("nofile", "nproc", ...); -1 means unlimited. */
struct proto_ulimit {
	char *name;
	int64_t soft, hard;
};

/* Most entries in each of cap_add, cap_drop, ulimits and device_cgroup_rules. */
#define PROTO_MAX_SECURITY_ITEMS 64

/* Checks one ulimit as container.run accepts it: a known name, values >= -1, soft <= hard
 * (-1 being the largest). The message names what is wrong. */
int proto_ulimit_check(const char *name, int64_t soft, int64_t hard, char **reterr);
/* Docker's ulimit names, NULL-terminated. */
extern const char *const proto_ulimit_names[];

/* --restart (Docker's policies). */
enum proto_restart {
	PROTO_RESTART_NO,
	PROTO_RESTART_ON_FAILURE,
	PROTO_RESTART_ALWAYS,
	PROTO_RESTART_UNLESS_STOPPED,
};
/* The most on-failure:N may ask for. */
#define PROTO_RESTART_MAX_RETRIES 1000000

struct proto_mount;

struct proto_run_params {
	char *image;
	char **cmd;      /* NULL: the image's default command */
	char **env;      /* "KEY=VALUE", added over the image's Env */
	char *workdir;
	char *user;      /* "UID[:GID]" */
	char *hostname;
	char *name;
	enum proto_stdio stdio;
	bool interactive; /* with PROTO_STDIO_FDS: the request carries stdin too */
	bool rm;
	bool init;        /* PID 1 is containd-tini, the command its child (docker run --init) */
	unsigned short tty_rows, tty_cols;
	uint64_t memory;       /* bytes; 0 = no limit */
	int64_t pids_limit;    /* 0 = no limit */
	uint64_t cpus_milli;   /* thousandths of a CPU; 0 = no limit */

	/* Security options, as docker run's flags of the same names. */
	bool privileged;
	char **cap_add, **cap_drop;   /* capability names as the user typed them ("NET_ADMIN",
				       * "cap_net_admin", "ALL"); the daemon validates them */
	bool no_new_privileges;
	enum proto_seccomp seccomp;
	json_t *seccomp_profile;      /* with PROTO_SECCOMP_CUSTOM: the profile (own reference) */
	bool system_paths_unconfined; /* no masked or read-only /proc and /sys paths */
	struct proto_ulimit *ulimits; /* n_ulimits entries, distinct names */
	size_t n_ulimits;
	enum proto_userns userns;
	char **device_cgroup_rules;   /* "c 10:200 rwm"; the daemon parses them */

	char **labels; /* "KEY=VALUE", sorted by key, keys distinct; on the wire an object */

	/* Lifecycle (protocol/lifecycle.c): --entrypoint (entrypoint_set; an empty vector clears
	 * the image's), --stop-signal, --restart. */
	char **entrypoint;
	bool entrypoint_set;
	char *stop_signal;
	enum proto_restart restart;
	unsigned restart_max; /* on-failure:N; 0: no limit */

	/* Logging (docs/logs.md): with "pty", detach keeps the terminal's master in the daemon,
	 * which logs it (the reply carries no fd). NULL driver: the daemon's default. */
	bool detach;
	char *log_driver;
	char **log_opts; /* "KEY=VALUE"; on the wire an object of strings */

	/* Volumes and mounts (protocol/volume.h): -v, --mount, --tmpfs, --read-only, --volumes-from. */
	struct proto_mount *mounts;
	size_t n_mounts;
	bool read_only;
	char **volumes_from; /* "CONTAINER[:ro|rw]" */

	/* Namespaces (docs/networking.md): --network ("network": "none", "host", "container:NAME",
	 * or a network's name), --pid, --ipc, --uts, --cgroupns; NULL: the daemon's default. The
	 * daemon checks the values. */
	char *network, *pid_mode, *ipc_mode, *uts_mode, *cgroupns_mode;

	/* A container on its networks (protocol/endpoint.h): --network-alias, --ip, --add-host
	 * ("HOST:IP"), --dns, --dns-search, --dns-option. */
	char **network_aliases;
	char *ip;
	char **extra_hosts;
	char **dns, **dns_search, **dns_options;
};

/* Parses --restart's text ("no", "on-failure[:N]", "always", "unless-stopped"); the message says
 * what is wrong. */
int proto_restart_parse(const char *text, enum proto_restart *ret, unsigned *ret_max, char **reterr);
/* Docker's name of a policy. */
const char *proto_restart_name(enum proto_restart r);

/* container.start: {"id": REF, "attach": bool, "interactive": bool}. With attach, a container
 * without a tty takes the request's fds (stdout, stderr; stdin first with interactive), and one
 * with a tty gets its pty master with the reply. Borrowed. */
struct proto_start_params {
	const char *ref;
	bool attach, interactive;
};
int proto_start_params_decode(json_t *params, struct proto_start_params *ret, char **reterr);
json_t *proto_start_params_encode(const struct proto_start_params *p);

/* The most --log-opt entries, and their longest key or value. */
#define PROTO_MAX_LOG_OPTS 16
#define PROTO_LOG_OPT_MAX 256

/* Labels: at most this many, keys of at most PROTO_LABEL_KEY_MAX bytes (not empty, no '='),
 * values of at most PROTO_LABEL_VALUE_MAX, keys and values together at most
 * PROTO_LABELS_MAX_BYTES. They are kept in every record and sent with every container.list
 * item (one reply under PROTO_MAX_MESSAGE), so a peer must not make them unbounded. */
#define PROTO_MAX_LABELS 128
#define PROTO_LABEL_KEY_MAX 256
#define PROTO_LABEL_VALUE_MAX 4096
#define PROTO_LABELS_MAX_BYTES (16 * 1024)

/* Checks one label as container.run accepts it; the message names what is wrong. */
int proto_label_check(const char *key, const char *value, char **reterr);
/* {"KEY": "VALUE", ...} of a vector of "KEY=VALUE" (NULL: an empty object). */
json_t *proto_labels_to_json(char *const *labels);

int proto_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr);
json_t *proto_run_params_encode(const struct proto_run_params *p);
void proto_run_params_done(struct proto_run_params *p);
/* How many fds a run request with these params must carry. */
unsigned proto_run_params_nfds(const struct proto_run_params *p);

struct proto_run_result {
	const char *id;
	const char *name;
	int64_t pid;
};
json_t *proto_run_result_encode(const struct proto_run_result *r);
int proto_run_result_decode(json_t *result, struct proto_run_result *ret, char **reterr);

/* The exit of a container: event params of container.exited and the result of container.wait. */
struct proto_exit {
	const char *id;
	int exit_code;   /* as a shell reports it: 128+N when killed by signal N */
	int signal;      /* 0 unless killed by a signal */
	bool oom_killed;
	const char *started_at, *finished_at;
};
json_t *proto_exit_encode(const struct proto_exit *e);
int proto_exit_decode(json_t *params, struct proto_exit *ret, char **reterr);

/* Start failures carry {"exit_code": N} as error data: 125, 126 or 127, like docker run. */
json_t *proto_start_error_data(int exit_code);
int proto_start_error_exit_code(json_t *data);

/* container.stop: the grace period between its signal and SIGKILL, in seconds. */
#define PROTO_STOP_TIMEOUT_DEFAULT 10
#define PROTO_STOP_TIMEOUT_MAX 3600

/* Methods that name one container: kill, stop, restart, remove, inspect, wait, pause, unpause,
 * top. restart takes stop's params. */
struct proto_ref_params {
	const char *ref; /* id, unique id prefix or name; borrowed */
	int signal;      /* kill: default SIGKILL; stop: default 0, the container's stop signal */
	unsigned timeout; /* stop: seconds, default PROTO_STOP_TIMEOUT_DEFAULT */
	bool force;      /* remove */
	bool volumes;    /* remove: its anonymous volumes too (rm -v) */
	bool all;        /* list */
	bool summary;    /* list: only the fields a listing shows (proto_container_summary's) */
	const char *ps_args; /* top: ps options; only NULL or "" is accepted for now; borrowed */
};
int proto_ref_params_decode(const char *method, json_t *params, struct proto_ref_params *ret, char **reterr);
json_t *proto_ref_params_encode(const char *method, const struct proto_ref_params *p);

/* The security settings a container actually runs with, as container.inspect reports them
 * under "security". The daemon fills it for encoding (nothing is taken over); the decoder
 * copies everything, and proto_security_info_done() frees what it made. */
struct proto_security_info {
	bool privileged;
	char **capabilities;        /* bounding set, "CAP_CHOWN", ..., sorted */
	enum proto_seccomp seccomp; /* "default", "unconfined" or "custom" */
	bool no_new_privileges;
	char **masked_paths;
	char **readonly_paths;
	enum proto_userns userns;   /* HOST or AUTO ("host", "auto"); DEFAULT is not encoded */
	char **uid_map, **gid_map;  /* "0 100000 65536" lines; NULL without a user namespace */
	struct proto_ulimit *ulimits;
	size_t n_ulimits;
	char **device_cgroup_rules;
};
json_t *proto_security_info_encode(const struct proto_security_info *s);
int proto_security_info_decode(json_t *obj, struct proto_security_info *ret, char **reterr);
void proto_security_info_done(struct proto_security_info *s);

/* One container as list and inspect report it. Strings borrowed. */
struct proto_container_info {
	const char *id, *name, *image, *image_id, *state, *hostname;
	json_t *cmd;     /* array of strings */
	int64_t pid;     /* 0 unless running */
	int exit_code;
	int signal;
	bool oom_killed;
	const char *created_at, *started_at, *finished_at; /* may be NULL */
	const char *error;                                 /* start failure message, or NULL */
	uint64_t memory;
	int64_t pids_limit;
	uint64_t cpus_milli;
	bool tty;
	bool init; /* run with --init; absent (false) from an older daemon */
	/* The restart policy ("no" when absent) and how often it restarted the container. */
	const char *restart_policy;
	int64_t restart_max, restart_count;
	/* Encoding: "KEY=VALUE" entries or NULL. Decoding: the "labels" object (borrowed, its
	 * values checked to be strings), or NULL when absent. */
	char *const *labels;
	json_t *labels_json;
	/* Encoding: the settings to report, or NULL. Decoding: the "security" object, borrowed
	 * (checked with proto_security_info_decode()), or NULL: a record from an older daemon. */
	const struct proto_security_info *security;
	json_t *security_json;
};
json_t *proto_container_info_encode(const struct proto_container_info *c);
int proto_container_info_decode(json_t *obj, struct proto_container_info *ret, char **reterr);
/* container.rename: {"id": REF, "name": NEW}. The daemon checks the name as at run. */
struct proto_rename_params {
	const char *ref, *name; /* borrowed */
};
int proto_rename_params_decode(json_t *params, struct proto_rename_params *ret, char **reterr);
json_t *proto_rename_params_encode(const struct proto_rename_params *p);

/* container.top result: {"titles": [...], "processes": [[...], ...], "truncated": bool}, every
 * row as long as titles. Encoding stops adding rows (and sets truncated) before the reply could
 * exceed PROTO_MAX_MESSAGE; the strings must be printable ASCII. Borrowed. */
struct proto_top_result {
	const char *const *titles;
	size_t n_cols;
	char *const *cells; /* n_rows * n_cols, row by row */
	size_t n_rows;
	bool truncated;
};
json_t *proto_top_result_encode(const struct proto_top_result *t);
/* Checks the shape of a container.top result and hands out its arrays (borrowed from result). */
int proto_top_result_decode(json_t *result, json_t **ret_titles, json_t **ret_processes, bool *ret_truncated,
			    char **reterr);

/* container.list result: {"containers": [info...]}, each info without "security". */
json_t *proto_container_list_encode(json_t *infos /* stolen array */);
json_t *proto_container_list_items(json_t *result);

/* image.import: the tarball travels as the request's one fd. The daemon never opens a path a
 * client names: it would do so with its own privileges (reading files the peer may not), and a
 * FIFO there would block its event loop. */
struct proto_import_params {
	const char *name; /* or NULL: the image gets no name */
	json_t *config; /* the "config" object (borrowed, checked), or NULL */
};

/* An image's config as image.import takes it, in Docker's names: "Cmd", "Entrypoint" and "Env"
 * (arrays of strings, Env's entries KEY=VALUE), "WorkingDir" (absolute), "User"
 * (NAME|UID[:GROUP|GID]), "StopSignal". Absent members stay NULL. Owned. */
struct proto_image_config {
	char **cmd, **entrypoint, **env;
	char *workdir, *user, *stop_signal;
};
int proto_image_config_decode(json_t *o, struct proto_image_config *ret, char **reterr);
json_t *proto_image_config_encode(const struct proto_image_config *c);
void proto_image_config_done(struct proto_image_config *c);
int proto_import_params_decode(json_t *params, unsigned nfds, struct proto_import_params *ret, char **reterr);
json_t *proto_import_params_encode(const struct proto_import_params *p);

struct proto_image_info {
	const char *id;
	json_t *names;   /* array of "name:tag" */
	json_t *layers;  /* array of "sha256:..." */
	const char *created_at;
	uint64_t size;
	json_t *repo_digests; /* array of "name@sha256:...", or NULL (absent) */
	json_t *labels;       /* object of strings, or NULL (absent) */
};
json_t *proto_image_info_encode(const struct proto_image_info *i);
int proto_image_info_decode(json_t *obj, struct proto_image_info *ret, char **reterr);
json_t *proto_image_list_encode(json_t *infos /* stolen array */);
json_t *proto_image_list_items(json_t *result);

struct proto_image_remove_params {
	const char *name;
	bool force;
};
int proto_image_remove_params_decode(json_t *params, struct proto_image_remove_params *ret, char **reterr);
json_t *proto_image_remove_params_encode(const struct proto_image_remove_params *p);
/* image.remove result: {"removed": [names and ids]} */
json_t *proto_image_remove_result_encode(json_t *removed /* stolen array */);
json_t *proto_image_remove_result_items(json_t *result);

json_t *proto_version_result_encode(const char *version);

/* Methods without params (system.version, system.info, image.list): any key is refused. */
int proto_no_params_decode(const char *method, json_t *params, char **reterr);

/* system.info */
struct proto_system_info {
	unsigned containers; /* every record the daemon holds, including ones being removed */
	unsigned running;
	unsigned images;
	const char *cgroup_layout;
	const char *version;
};
json_t *proto_system_info_encode(const struct proto_system_info *i);
int proto_system_info_decode(json_t *result, struct proto_system_info *ret, char **reterr);
