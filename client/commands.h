/* The verbs of cctl: one function per verb, each in the cmd-*.c file of its family.
 *
 * A verb gets argv with its own name in argv[0]. It returns the process exit status (>= 0) or
 * -errno with a message in *reterr; main() prints the message and exits with 125, like docker, or
 * with cctl->error_exit when the verb set it (a container that could not start: 126, 127). */
#pragma once

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
int cmd_ps(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_rm(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_kill(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_inspect(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_wait(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_import(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_images(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_rmi(struct cctl *cctl, int argc, char **argv, char **reterr);
int cmd_version(struct cctl *cctl, int argc, char **argv, char **reterr);

/* Sets a usage error: the message, then a pointer to the verb's --help. Returns -EINVAL. */
int cmd_usage_error(char **reterr, const char *verb, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reports the getopt_long() failure that returned c ('?' or ':') for argv as a usage error. */
int cmd_option_error(char **reterr, const char *verb, int c, char **argv);
