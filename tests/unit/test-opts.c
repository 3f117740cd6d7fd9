/* Unit tests for cctl's option parser (client/opts.c): Docker's syntax for values, flags,
 * clusters and "--", where operands go, and the messages of usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/opts.h"
#include "tests/tap.h"

enum { K_I = 1, K_T, K_D, K_RM, K_MEMORY, K_NAME, K_SIGNAL, K_ENV, K_HELP };

static const struct opt table[] = {
	{ K_I, 'i', "interactive", OPT_FLAG },
	{ K_T, 't', "tty", OPT_FLAG },
	{ K_D, 'd', "detach", OPT_FLAG },
	{ K_RM, 0, "rm", OPT_FLAG },
	{ K_MEMORY, 'm', "memory", OPT_VALUE },
	{ K_NAME, 0, "name", OPT_VALUE },
	{ K_SIGNAL, 's', "signal", OPT_VALUE },
	{ K_ENV, 'e', "env", OPT_VALUE },
	{ K_HELP, 0, "help", OPT_FLAG },
	{}
};

/* Parses a space-separated command line and describes the outcome as one string:
 * "i=true m=50m | op1 op2", or "error: MESSAGE" (first line). */
static char *parse(const char *line, bool interspersed)
{
	char *copy = strdup(line), *argv[32], *save = NULL;
	int argc = 0;
	for (char *w = strtok_r(copy, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = strcmp(w, "''") == 0 ? "" : w;
	argv[argc] = NULL;

	struct opts o;
	char out[512] = "", *err = NULL;
	int key;
	opts_init(&o, table, "run", interspersed, argc, argv);
	while ((key = opts_next(&o, &err)) > 0) {
		const char *name = "?";
		for (const struct opt *t = table; t->key; t++)
			if (t->key == key)
				name = t->long_name;
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s=%s ", name, o.arg);
	}
	char *ret;
	if (key < 0) {
		char *nl = err ? strchr(err, '\n') : NULL;
		if (nl)
			*nl = '\0';
		if (asprintf(&ret, "error: %s", err ? err : "(no message)") < 0)
			ret = NULL;
	} else {
		strcat(out, "|");
		for (size_t i = 0; i < o.n_operands; i++)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), " %s", o.operands[i]);
		ret = strdup(out);
	}
	free(err);
	opts_done(&o);
	free(copy);
	return ret;
}

static void check(const char *line, bool interspersed, const char *want)
{
	char *got = parse(line, interspersed);
	is_str(got, want, "%s", line);
	free(got);
}

int main(void)
{
	/* Values: separate, glued, with '='. */
	check("run --memory 50m alpine", false, "memory=50m | alpine");
	check("run --memory=50m alpine", false, "memory=50m | alpine");
	check("run -m 50m alpine", false, "memory=50m | alpine");
	check("run -m50m alpine", false, "memory=50m | alpine");
	check("run -m=50m alpine", false, "memory=50m | alpine");
	check("run --name= alpine", false, "name= | alpine");
	check("run --name '' alpine", false, "name= | alpine");
	check("run -s=TERM x", false, "signal=TERM | x");
	check("run -e A=1 -e B=2 x", false, "env=A=1 env=B=2 | x");

	/* Flags: bare, =true|false, never the next argument. */
	check("run --rm alpine", false, "rm=true | alpine");
	check("run --rm=false alpine", false, "rm=false | alpine");
	check("run --rm=0 alpine", false, "rm=0 | alpine");
	check("run -t=false alpine", false, "tty=false | alpine");
	check("run --rm false", false, "rm=true | false");
	check("run --rm=maybe alpine", false, "error: invalid argument \"maybe\" for \"--rm\" flag: expected true or false");

	/* Clusters. */
	check("run -dit alpine sh", false, "detach=true interactive=true tty=true | alpine sh");
	check("run -it alpine", false, "interactive=true tty=true | alpine");
	check("run -dt=false alpine", false, "detach=true tty=false | alpine");
	check("run -dm 50m alpine", false, "detach=true memory=50m | alpine");
	check("run -dm50m alpine", false, "detach=true memory=50m | alpine");
	check("run -ie A=1 x", false, "interactive=true env=A=1 | x");

	/* Operands: the command's own options stay its own; "--" ends options; "-" is an operand. */
	check("run -i alpine ls -l --rm", false, "interactive=true | alpine ls -l --rm");
	check("run -- -i alpine", false, "| -i alpine");
	check("run -i -- alpine -- x", false, "interactive=true | alpine -- x");
	check("run - -i", false, "| - -i");
	check("run", false, "|");
	/* Interspersed verbs take options anywhere (cctl rm web -f). */
	check("rm web -i db --rm", true, "interactive=true rm=true | web db");
	check("rm web -- -i", true, "| web -i");

	/* Usage errors name what is wrong, as docker does. */
	check("run --memroy 5 x", false, "error: unknown flag: --memroy");
	check("run -x alpine", false, "error: unknown shorthand flag: 'x' in -x");
	check("run -ix alpine", false, "error: unknown shorthand flag: 'x' in -x");
	check("run --memory", false, "error: flag needs an argument: --memory");
	check("run -m", false, "error: flag needs an argument: 'm' in -m");
	check("run -dm", false, "error: flag needs an argument: 'm' in -m");

	char *err = NULL;
	ok(opts_usage_error(&err, "image import", "bad %d", 1) == -EINVAL && err &&
	   strcmp(err, "bad 1\nSee 'cctl image import --help'.") == 0, "a usage error points to the verb's help");
	free(err);

	bool b = false;
	ok(opts_parse_bool("True", &b) == 0 && b, "True is true");
	ok(opts_parse_bool("F", &b) == 0 && !b, "F is false");
	ok(opts_parse_bool("yes", &b) < 0, "yes is not a boolean, as in Go's strconv.ParseBool");
	return tap_done();
}
