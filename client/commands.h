/* The verbs of cctl: one function per verb, each in the cmd-*.c file of its family.
 *
 * A verb gets argv with its own name in argv[0]. It returns the process exit status (>= 0) or
 * -errno with a message in *reterr; main() prints the message and exits with 125, like docker, or
 * with cctl->error_exit when the verb set it (a container that could not start: 126, 127). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* What the global options decided, shared by every verb. */
struct cctl {
	const char *socket_path;
	int error_exit; /* the exit status for an error a verb returns, when not CCTL_EXIT_ERROR */
};

/* The exit status for errors of cctl itself or of the daemon (docker uses the same). */
#define CCTL_EXIT_ERROR 125

typedef int (*cctl_verb_fn)(struct cctl *cctl, int argc, char **argv, char **reterr);

int cmd_run(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_exec(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_create(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_start(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_restart(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_ps(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_rm(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_kill(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_pause(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_unpause(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_stop(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_inspect(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_rename(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_top(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_wait(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_import(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_images(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_rmi(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_load(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_save(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_tag(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_image_inspect(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_image_history(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_image_prune(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_system_df(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_version(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_pull(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_login(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_logout(struct cctl *cctl, int argc, char **argv, char **reterr);

int cmd_info(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_events(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_logs(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_attach(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_cp(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_diff(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_export(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_commit(struct cctl *cctl, int argc, char **argv, char **reterr);
/* One --change of import and commit: a Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR,
 * USER, STOPSIGNAL) into c (cmd-image.c). */
struct proto_image_config;
int import_change(const char *arg, struct proto_image_config *c, char **reterr);
int cmd_volume_create(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_volume_ls(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_volume_inspect(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_volume_rm(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_volume_prune(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_network_create(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_network_ls(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_network_inspect(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_network_rm(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_network_prune(struct cctl *cctl, int argc, char **argv, char **reterr);
/* cctl network connect, cctl network disconnect (cmd-network-connect.c). */
int cmd_network_connect(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_network_disconnect(struct cctl *cctl, int argc, char **argv, char **reterr);
/* --since/--until of events and logs as sent: a duration ("10m") becomes unix seconds that long
 * before now; anything else goes as written (RFC 3339, unix seconds) for the daemon to parse. */
json_t *cmd_events_time_param(const char *s);

/* Parses a verb that takes no arguments and only --help (which prints "Usage:  cctl VERB" and
 * summary). Returns 1 when usage was printed, 0 to go on, or -EINVAL with a usage message. */
int cmd_no_arguments(int argc, char **argv, const char *verb, const char *summary, char **reterr);
