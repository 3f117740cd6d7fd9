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
};

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
	unsigned short tty_rows, tty_cols;
	uint64_t memory;       /* bytes; 0 = no limit */
	int64_t pids_limit;    /* 0 = no limit */
	uint64_t cpus_milli;   /* thousandths of a CPU; 0 = no limit */
};

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

/* Methods that name one container: kill, remove, inspect, wait. */
struct proto_ref_params {
	const char *ref; /* id, unique id prefix or name; borrowed */
	int signal;      /* kill: default SIGKILL */
	bool force;      /* remove */
	bool all;        /* list */
};
int proto_ref_params_decode(const char *method, json_t *params, struct proto_ref_params *ret, char **reterr);
json_t *proto_ref_params_encode(const char *method, const struct proto_ref_params *p);

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
};
json_t *proto_container_info_encode(const struct proto_container_info *c);
int proto_container_info_decode(json_t *obj, struct proto_container_info *ret, char **reterr);
/* container.list result: {"containers": [info...]} */
json_t *proto_container_list_encode(json_t *infos /* stolen array */);
json_t *proto_container_list_items(json_t *result);

/* image.import: the tarball travels as one fd, or the daemon opens "path". */
struct proto_import_params {
	const char *name;
	const char *path; /* NULL when the request carries the tarball's fd */
};
int proto_import_params_decode(json_t *params, unsigned nfds, struct proto_import_params *ret, char **reterr);
json_t *proto_import_params_encode(const struct proto_import_params *p);

struct proto_image_info {
	const char *id;
	json_t *names;   /* array of "name:tag" */
	json_t *layers;  /* array of "sha256:..." */
	const char *created_at;
	uint64_t size;
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
