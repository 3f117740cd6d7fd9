#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/opts.h"
#include "common/error.h"
#include "common/macros.h"

void opts_init(struct opts *o, const struct opt *table, const char *verb, bool interspersed, int argc, char **argv)
{
	*o = (struct opts){
		.table = table,
		.verb = verb,
		.interspersed = interspersed,
		.argc = argc,
		.argv = argv,
		.next = 1,
	};
}

void opts_done(struct opts *o)
{
	free(o->operands);
	o->operands = NULL;
	o->n_operands = 0;
}

int opts_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int opts_usage_error(char **reterr, const char *verb, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	return err_set(reterr, -EINVAL, "%s\nSee 'cctl%s%s --help'.", msg ? msg : "invalid usage",
		       verb && *verb ? " " : "", verb ? verb : "");
}

/* "-m, --memory" or "--name": how Docker names a flag in its messages. */
static void opts_flag_names(const struct opt *opt, char *buf, size_t size)
{
	if (opt->short_name && opt->long_name)
		snprintf(buf, size, "-%c, --%s", opt->short_name, opt->long_name);
	else if (opt->long_name)
		snprintf(buf, size, "--%s", opt->long_name);
	else
		snprintf(buf, size, "-%c", opt->short_name);
}

int opts_invalid_argument(const struct opts *o, char **reterr, const char *fmt, ...)
{
	_cleanup_free_ char *why = NULL;
	char names[80] = "";
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	if (o->current)
		opts_flag_names(o->current, names, sizeof(names));
	return opts_usage_error(reterr, o->verb, "invalid argument \"%s\" for \"%s\" flag: %s", o->arg ? o->arg : "",
				names, why ? why : "invalid value");
}

static int opts_add_operand(struct opts *o, char *arg, char **reterr)
{
	char **n = reallocarray(o->operands, o->n_operands + 2, sizeof(char *));
	if (!n)
		return err_set(reterr, -ENOMEM, "out of memory");
	o->operands = n;
	n[o->n_operands++] = arg;
	n[o->n_operands] = NULL;
	return 0;
}

/* Sets the value of the option opt found with inline value v (after '=' or glued to a short
 * option; NULL when none); takes the next argument when a value option has none. */
static int opts_take_value(struct opts *o, const struct opt *opt, const char *v, char **reterr)
{
	o->current = opt;
	if (opt->kind == OPT_FLAG) {
		o->flag = true;
		o->arg = "true";
		if (v) {
			o->arg = v;
			if (opts_parse_bool(v, &o->flag) < 0)
				return opts_invalid_argument(o, reterr, "expected true or false");
		}
		return opt->key;
	}
	if (!v) {
		if (o->next >= o->argc) {
			if (o->spelled[1] == '-')
				return opts_usage_error(reterr, o->verb, "flag needs an argument: %s", o->spelled);
			return opts_usage_error(reterr, o->verb, "flag needs an argument: '%c' in %s", opt->short_name,
						o->spelled);
		}
		v = o->argv[o->next++];
	}
	o->arg = v;
	return opt->key;
}

static int opts_long(struct opts *o, const char *s, char **reterr)
{
	const char *eq = strchr(s, '=');
	size_t len = eq ? (size_t)(eq - s) : strlen(s);

	snprintf(o->spelled, sizeof(o->spelled), "--%.*s", len > 64 ? 64 : (int)len, s);
	for (const struct opt *opt = o->table; opt->key; opt++)
		if (opt->long_name && strlen(opt->long_name) == len && strncmp(opt->long_name, s, len) == 0)
			return opts_take_value(o, opt, eq ? eq + 1 : NULL, reterr);
	return opts_usage_error(reterr, o->verb, "unknown flag: %s", o->spelled);
}

/* The next option of the cluster o->cluster ("dit", "m50m", "t=false"). */
static int opts_short(struct opts *o, char **reterr)
{
	char c = *o->cluster++;

	snprintf(o->spelled, sizeof(o->spelled), "-%c", c);
	for (const struct opt *opt = o->table; opt->key; opt++) {
		if (opt->short_name != c)
			continue;
		const char *v = NULL;
		if (*o->cluster == '=') {
			/* -t=false, -m=50m: the rest is the value. */
			v = o->cluster + 1;
			o->cluster = NULL;
		} else if (opt->kind == OPT_VALUE && *o->cluster) {
			/* -m50m */
			v = o->cluster;
			o->cluster = NULL;
		}
		if (o->cluster && !*o->cluster)
			o->cluster = NULL;
		return opts_take_value(o, opt, v, reterr);
	}
	return opts_usage_error(reterr, o->verb, "unknown shorthand flag: '%c' in -%c", c, c);
}

int opts_next(struct opts *o, char **reterr)
{
	int r;

	o->arg = NULL;
	o->flag = false;
	if (o->cluster)
		return opts_short(o, reterr);
	while (o->next < o->argc) {
		char *a = o->argv[o->next];
		if (o->ended || a[0] != '-' || a[1] == '\0') {
			/* An operand ("-" alone is one: stdin). */
			o->next++;
			if (!o->interspersed)
				o->ended = true;
			r = opts_add_operand(o, a, reterr);
			if (r < 0)
				return r;
			continue;
		}
		o->next++;
		if (strcmp(a, "--") == 0) {
			o->ended = true;
			continue;
		}
		if (a[1] == '-')
			return opts_long(o, a + 2, reterr);
		o->cluster = a + 1;
		return opts_short(o, reterr);
	}
	/* An empty vector rather than NULL, so callers can always index it. */
	if (!o->operands && !(o->operands = calloc(1, sizeof(char *))))
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

int opts_parse_verb(struct opts *o, const struct opt *table, const char *verb, int argc, char **argv, int help_key,
		    const char *usage, enum opts_operands want,
		    int (*each)(struct opts *o, int key, void *data, char **reterr), void *data, char **reterr)
{
	int key, r;
	opts_init(o, table, verb, true, argc, argv);
	while ((key = opts_next(o, reterr)) > 0) {
		if (key == help_key) {
			if (o->flag) {
				fputs(usage, stdout);
				return 1;
			}
			continue;
		}
		if ((r = each(o, key, data, reterr)) < 0)
			return r;
	}
	if (key < 0)
		return key;
	if (want == OPTS_OPERANDS_NONE && o->n_operands)
		return opts_usage_error(reterr, verb, "\"cctl %s\" accepts no arguments.", verb);
	if (want == OPTS_OPERANDS_SOME && o->n_operands < 1)
		return opts_usage_error(reterr, verb, "\"cctl %s\" requires at least 1 argument.", verb);
	return 0;
}

int opts_env_add(char ***env, const char *verb, const char *arg, char **reterr)
{
	_cleanup_free_ char *entry = NULL;

	if (!*arg || *arg == '=')
		return opts_usage_error(reterr, verb, "invalid argument \"%s\" for \"-e, --env\" flag: "
					"variable name is empty", arg);
	if (strchr(arg, '=')) {
		entry = strdup(arg);
	} else {
		const char *v = getenv(arg);
		if (!v)
			return 0;
		if (asprintf(&entry, "%s=%s", arg, v) < 0)
			entry = NULL;
	}
	if (!entry)
		return err_set(reterr, -ENOMEM, "out of memory");

	size_t n = 0;
	while (*env && (*env)[n])
		n++;
	char **nv = reallocarray(*env, n + 2, sizeof(char *));
	if (!nv)
		return err_set(reterr, -ENOMEM, "out of memory");
	nv[n] = TAKE_PTR(entry);
	nv[n + 1] = NULL;
	*env = nv;
	return 0;
}
