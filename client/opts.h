/* The one option parser of every cctl verb, with Docker's (pflag's) syntax:
 *
 *   --name VALUE, --name=VALUE     -m VALUE, -mVALUE, -m=VALUE
 *   --rm, --rm=true|false          -t, -t=false (a flag never takes the next argument)
 *   -dit (clustered short options; the last one may take a value: -dm 50m, -dm50m)
 *   --  ends the options; "-" alone is an operand.
 *
 * Verbs whose operands are a command line (run, import) stop at the first operand; the others
 * take options anywhere (cctl rm web -f). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum opt_kind {
	OPT_FLAG,  /* boolean: no argument, or =true|false */
	OPT_VALUE, /* takes an argument */
};

struct opt {
	int key;               /* returned by opts_next(); > 0 */
	char short_name;       /* 0: none */
	const char *long_name; /* NULL: none */
	enum opt_kind kind;
};

struct opts {
	const struct opt *table; /* ends with an entry whose key is 0 */
	const char *verb;        /* for messages: "run", "image import" */
	bool interspersed;       /* options may follow operands */
	int argc;
	char **argv;
	int next;                /* the next argv element to look at */
	const char *cluster;     /* the rest of a cluster of short options */
	bool ended;              /* after "--" or (not interspersed) the first operand */

	const struct opt *current; /* the option opts_next() returned last */
	/* The current option's value: its argument, or for a flag "true"/"false" and in flag. */
	const char *arg;
	bool flag;
	/* The option as the user wrote it ("--memory", "-m"), for messages. */
	char spelled[72];

	/* Once opts_next() returned 0: the operands in order (borrowed from argv). */
	char **operands;
	size_t n_operands;
};

/* argv[0] is the verb itself and is skipped. */
void opts_init(struct opts *o, const struct opt *table, const char *verb, bool interspersed, int argc, char **argv);
/* Returns the key of the next option, 0 when all were read, or -EINVAL with a usage message. */
int opts_next(struct opts *o, char **reterr);
void opts_done(struct opts *o);

/* Parses a boolean as Docker does (1, t, T, TRUE, true, True and the same for false). */
int opts_parse_bool(const char *s, bool *ret);

/* Sets a usage error: the message, then a pointer to the verb's --help. Returns -EINVAL. */
int opts_usage_error(char **reterr, const char *verb, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "invalid argument \"X\" for \"-m, --memory\" flag: WHY" for the current option. */
int opts_invalid_argument(const struct opts *o, char **reterr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What a verb's operands must be: any number, none, or at least one (Docker's messages). */
enum opts_operands { OPTS_OPERANDS_ANY, OPTS_OPERANDS_NONE, OPTS_OPERANDS_SOME };

/* Parses a verb's options, anywhere among its operands: help_key, when true, prints usage and
 * returns 1; each() gets every other option (a negative return stops); then the operand count is
 * checked as want says. Returns 0, 1 after --help, or -errno with a message. */
int opts_parse_verb(struct opts *o, const struct opt *table, const char *verb, int argc, char **argv, int help_key,
		    const char *usage, enum opts_operands want,
		    int (*each)(struct opts *o, int key, void *data, char **reterr), void *data, char **reterr);

/* Appends one -e KEY=VALUE to *env; "KEY" alone takes the value from cctl's environment, or is
 * dropped when cctl has none (as docker does). */
int opts_env_add(char ***env, const char *verb, const char *arg, char **reterr);
