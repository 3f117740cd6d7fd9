/* cctl ps: the container table as docker ps prints it, its filters, -n/-l and --format. */
#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/format.h"
#include "client/opts.h"
#include "client/ps-filter.h"
#include "client/template.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

#define PS_COMMAND_WIDTH 20

static void usage(void)
{
	fputs("Usage:  cctl ps [OPTIONS]\n"
	      "\n"
	      "List containers\n"
	      "\n"
	      "Options:\n"
	      "  -a, --all             Show all containers (default shows just running)\n"
	      "  -f, --filter FILTER   Filter output based on conditions provided (repeatable):\n"
	      "                        status=STATE, name=TEXT, label=KEY[=VALUE], id=TEXT, exited=CODE\n"
	      "      --format FORMAT   Format output using a template ({{.ID}} {{.Names}} ...) or \"json\"\n"
	      "  -n, --last N          Show N last created containers (includes all states)\n"
	      "  -l, --latest          Show the latest created container (includes all states)\n"
	      "      --no-trunc        Don't truncate output\n"
	      "  -q, --quiet           Only display container IDs\n"
	      "      --help            Print usage\n",
	      stdout);
}

/* Newest first, like docker. RFC 3339 UTC timestamps of one format sort as strings. */
static int ps_compare(const void *a, const void *b)
{
	const struct proto_container_summary *x = a, *y = b;
	return -strcmp(x->created_at ? x->created_at : "", y->created_at ? y->created_at : "");
}

/* Appends text at *p, cut at end - 1 (where the NUL goes). */
static void ps_append(char **p, char *end, const char *text)
{
	size_t room = (size_t)(end - *p) - 1, len = strlen(text);
	if (len > room)
		len = room;
	*p = mempcpy(*p, text, len);
	**p = '\0';
}

/* The STATUS column: "Up 3 seconds", "Up 3 seconds (Paused)", "Exited (0) 2 minutes ago",
 * "Restarting (1) 1 second ago", "Created". Without printf: it is formatted for every row. */
static void ps_status(const struct proto_container_summary *c, time_t now, char *buf, size_t size)
{
	char when[64], *p = buf, *end = buf + size;
	time_t t;
	bool paused = strcmp(c->state, "paused") == 0;

	*p = '\0';
	if (paused || strcmp(c->state, "running") == 0) {
		const char *since = c->started_at ? c->started_at : c->created_at;
		ps_append(&p, end, "Up");
		if (since && format_parse_time(since, &t) == 0) {
			format_duration(now > t ? (int64_t)(now - t) : 0, when, sizeof(when));
			ps_append(&p, end, " ");
			ps_append(&p, end, when);
		}
		if (paused)
			ps_append(&p, end, " (Paused)");
	} else if (c->finished_at) {
		char code[16];
		format_ago(c->finished_at, now, when, sizeof(when));
		snprintf(code, sizeof(code), " (%d) ", c->exit_code);
		ps_append(&p, end, strcmp(c->state, "restarting") == 0 ? "Restarting" : "Exited");
		ps_append(&p, end, code);
		ps_append(&p, end, when);
	} else {
		/* "created", or a state this client does not know: show it capitalized. */
		ps_append(&p, end, c->state);
		buf[0] = (char)toupper((unsigned char)buf[0]);
	}
}

/* The COMMAND column: the command line, quoted as docker ps quotes it, cut unless no_trunc. */
static int ps_command(const struct proto_container_summary *c, bool no_trunc, char **ret)
{
	*ret = format_command(c->cmd, c->n_cmd, no_trunc ? SIZE_MAX : PS_COMMAND_WIDTH);
	return *ret ? 0 : -ENOMEM;
}

/* The fields of one container for --format, with Docker's names and Docker's renderings. */
static json_t *ps_fields(const struct proto_container_summary *c, bool no_trunc, time_t now)
{
	char id[13], created[80], running_for[80], status[128];
	_cleanup_free_ char *command = NULL, *labels = NULL;
	size_t labels_size = 0;
	time_t t;

	snprintf(id, sizeof(id), "%.12s", c->id);
	if (ps_command(c, no_trunc, &command) < 0)
		return NULL;
	created[0] = '\0';
	if (c->created_at && format_parse_time(c->created_at, &t) == 0) {
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	}
	format_ago(c->created_at, now, running_for, sizeof(running_for));
	ps_status(c, now, status, sizeof(status));
	/* Labels as docker ps shows them: KEY=VALUE joined by commas. */
	FILE *f = open_memstream(&labels, &labels_size);
	if (!f)
		return NULL;
	for (size_t i = 0; i < c->n_labels; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", c->labels[2 * i], c->labels[2 * i + 1]);
	if (fclose(f) != 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", no_trunc ? c->id : id, "Image",
			 c->image, "Command", command, "CreatedAt", created, "RunningFor", running_for, "Status", status,
			 "Names", c->name, "Labels", labels, "State", c->state, "Ports", c->ports ? c->ports : "");
}

/* Prints the containers through a template, or as one JSON object per line for "json". */
static int ps_print_format(const char *format, struct proto_container_summary *infos, size_t n, bool no_trunc,
			   struct cctl *cctl, char **reterr)
{
	_cleanup_template_ struct template *tmpl = NULL;
	bool json = strcmp(format, "json") == 0;
	time_t now = time(NULL);
	int r;

	if (!json && (r = template_parse(format, &tmpl, reterr)) < 0) {
		cctl->error_exit = 1;
		return r;
	}
	/* A template is checked against every field even when nothing is listed: a typo must fail
	 * the same way whether or not containers happen to run. */
	if (tmpl) {
		struct proto_container_summary empty = { .id = "", .name = "", .image = "", .state = "created" };
		json_auto_t *fields = ps_fields(&empty, no_trunc, now);
		_cleanup_free_ char *out = NULL;
		if (!fields)
			return err_set(reterr, -ENOMEM, "out of memory");
		if ((r = template_render(tmpl, fields, &out, reterr)) < 0) {
			cctl->error_exit = 1;
			return r;
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_auto_t *fields = ps_fields(&infos[i], no_trunc, now);
		_cleanup_free_ char *out = NULL;
		if (!fields)
			return err_set(reterr, -ENOMEM, "out of memory");
		if (json)
			out = json_dumps(fields, JSON_COMPACT);
		else if ((r = template_render(tmpl, fields, &out, reterr)) < 0)
			return r;
		if (!out)
			return err_set(reterr, -ENOMEM, "out of memory");
		puts(out);
	}
	if (fflush(stdout) != 0)
		return err_set(reterr, -errno, "cannot write to stdout: %m");
	return 0;
}

/* Prints the table docker ps prints. */
static int ps_print_table(struct proto_container_summary *infos, size_t n, bool no_trunc, char **reterr)
{
	_cleanup_table_ struct table *t = table_new(7);
	int r;
	if (!t)
		return err_set(reterr, -ENOMEM, "out of memory");
	static const char *const header[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES" };
	r = table_add_row(t, header);
	if (r < 0)
		return err_set(reterr, r, "out of memory");

	time_t now = time(NULL);
	for (size_t i = 0; i < n; i++) {
		const struct proto_container_summary *ci = &infos[i];
		char id[13], created[80], status[128];
		_cleanup_free_ char *command = NULL;

		strncpy(id, ci->id, 12);
		id[12] = '\0';
		if (ps_command(ci, no_trunc, &command) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		format_ago(ci->created_at, now, created, sizeof(created));
		ps_status(ci, now, status, sizeof(status));
		const char *row[] = { no_trunc ? ci->id : id, ci->image, command, created, status,
				      ci->ports ? ci->ports : "", ci->name };
		r = table_add_row(t, row);
		if (r < 0)
			return err_set(reterr, r, "out of memory");
	}
	r = table_print(t, stdout);
	if (r < 0)
		return err_set(reterr, r, "cannot write to stdout: %m");
	return 0;
}

int cmd_ps(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	enum { ARG_ALL = 1, ARG_QUIET, ARG_NO_TRUNC, ARG_LAST, ARG_LATEST, ARG_FILTER, ARG_FORMAT, ARG_HELP };
	static const struct opt options[] = {
		{ ARG_ALL, 'a', "all", OPT_FLAG },
		{ ARG_QUIET, 'q', "quiet", OPT_FLAG },
		{ ARG_NO_TRUNC, 0, "no-trunc", OPT_FLAG },
		{ ARG_LAST, 'n', "last", OPT_VALUE },
		{ ARG_LATEST, 'l', "latest", OPT_FLAG },
		{ ARG_FILTER, 'f', "filter", OPT_VALUE },
		{ ARG_FORMAT, 0, "format", OPT_VALUE },
		{ ARG_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	struct proto_ref_params ref = { .all = false };
	struct ps_filter filter = { .n = { 0 } };
	bool quiet = false, no_trunc = false, latest = false, help = false;
	const char *format = NULL;
	long last = -1;
	int key, r;

	opts_init(&o, options, "ps", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		switch (key) {
		case ARG_ALL:
			ref.all = o.flag;
			break;
		case ARG_QUIET:
			quiet = o.flag;
			break;
		case ARG_NO_TRUNC:
			no_trunc = o.flag;
			break;
		case ARG_LATEST:
			latest = o.flag;
			break;
		case ARG_LAST: {
			char *end;
			errno = 0;
			last = strtol(o.arg, &end, 10);
			if (!*o.arg || *end || errno || last < INT32_MIN || last > INT32_MAX)
				return opts_invalid_argument(&o, reterr, "not a number");
			break;
		}
		case ARG_FILTER:
			if ((r = ps_filter_add(&filter, o.arg, reterr)) < 0) {
				cctl->error_exit = 1;
				return r;
			}
			break;
		case ARG_FORMAT:
			format = o.arg;
			break;
		default:
			help = o.flag;
			break;
		}
	}
	if (key < 0)
		return key;
	if (help) {
		usage();
		return 0;
	}
	if (o.n_operands > 0)
		return opts_usage_error(reterr, "ps", "\"cctl ps\" accepts no arguments.");
	/* As docker: -l is -n 1; -n N (N > 0) and a status filter list stopped containers too. */
	if (latest && last == -1)
		last = 1;
	if (last > 0 || ps_filter_wants_all(&filter))
		ref.all = true;
	if (format && !*format)
		format = NULL;
	if (quiet && format) {
		fputs("WARNING: Ignoring custom format, because both --format and --quiet are set.\n", stderr);
		format = NULL;
	}

	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_free_ char *copy = NULL;
	char *line;
	_cleanup_(proto_container_list_done) struct proto_container_list list = { .n = 0 };
	size_t len;
	json_int_t id;
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	ref.summary = true; /* everything ps shows, filters on and formats is in the summary */
	json_t *params = proto_ref_params_encode(PROTO_M_LIST, &ref);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_call_line(&conn, PROTO_M_LIST, params, &line, &len, &id, reterr);
	if (r < 0)
		return r;
	/* The daemon's own layout is decoded in place; anything else (an error reply, another
	 * encoder's layout) from a copy, so that the generic decoder still has the line. */
	r = proto_container_list_decode(line, len, id, false, &list, reterr);
	if (r == 0) {
		if (!(copy = strndup(line, len)))
			return err_set(reterr, -ENOMEM, "out of memory");
		r = proto_container_list_decode(copy, len, id, true, &list, reterr);
		if (r == 0)
			return conn_line_check(line, len, id, reterr);
	}
	if (r < 0)
		return r;
	struct proto_container_summary *infos = list.items;
	size_t n = list.n;
	/* The daemon lists newest first already: sorting is then one pass of checks. */
	bool sorted = true;
	for (size_t i = 1; sorted && i < n; i++)
		sorted = ps_compare(&infos[i - 1], &infos[i]) <= 0;
	if (!sorted)
		qsort(infos, n, sizeof(*infos), ps_compare);
	/* The filters, then the limit: -n counts the containers that match, as docker's does. */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (ps_filter_match(&filter, &infos[i]))
			infos[kept++] = infos[i];
	if (last > 0 && kept > (size_t)last)
		kept = (size_t)last;

	if (quiet) {
		for (size_t i = 0; i < kept; i++)
			printf("%.*s\n", no_trunc ? (int)strlen(infos[i].id) : 12, infos[i].id);
		return 0;
	}
	if (format)
		return ps_print_format(format, infos, kept, no_trunc, cctl, reterr);
	return ps_print_table(infos, kept, no_trunc, reterr);
}
