/* cctl ps: the container table, as docker ps prints it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/format.h"
#include "client/opts.h"
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
	      "      --no-trunc        Don't truncate output\n"
	      "  -q, --quiet           Only display container IDs\n"
	      "      --help            Print usage\n",
	      stdout);
}

/* Newest first, like docker. RFC 3339 UTC timestamps of one format sort as strings. */
static int ps_compare(const void *a, const void *b)
{
	const struct proto_container_info *x = a, *y = b;
	return -strcmp(x->created_at ? x->created_at : "", y->created_at ? y->created_at : "");
}

/* The STATUS column: "Up 3 seconds", "Up 3 seconds (Paused)", "Exited (0) 2 minutes ago",
 * "Created". */
static void ps_status(const struct proto_container_info *c, time_t now, char *buf, size_t size)
{
	char when[64];
	time_t t;
	bool paused = strcmp(c->state, "paused") == 0;

	if (paused || strcmp(c->state, "running") == 0) {
		const char *since = c->started_at ? c->started_at : c->created_at;
		const char *suffix = paused ? " (Paused)" : "";
		if (since && format_parse_time(since, &t) == 0) {
			format_duration(now > t ? (int64_t)(now - t) : 0, when, sizeof(when));
			snprintf(buf, size, "Up %s%s", when, suffix);
		} else {
			snprintf(buf, size, "Up%s", suffix);
		}
	} else if (c->finished_at) {
		format_ago(c->finished_at, now, when, sizeof(when));
		snprintf(buf, size, "Exited (%d) %s", c->exit_code, when);
	} else {
		/* "created", or a state this client does not know: show it capitalized. */
		snprintf(buf, size, "%s", c->state);
		buf[0] = (char)toupper((unsigned char)buf[0]);
	}
}

/* The cmd array as a C vector of borrowed strings. */
static int ps_command(const struct proto_container_info *c, bool no_trunc, char **ret)
{
	size_t n = json_array_size(c->cmd);
	_cleanup_free_ const char **argv = calloc(n + 1, sizeof(char *));
	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		argv[i] = json_string_value(json_array_get(c->cmd, i));
		if (!argv[i])
			argv[i] = "";
	}
	*ret = format_command(argv, n, no_trunc ? SIZE_MAX : PS_COMMAND_WIDTH);
	return *ret ? 0 : -ENOMEM;
}

int cmd_ps(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	enum { ARG_ALL = 1, ARG_QUIET, ARG_NO_TRUNC, ARG_HELP };
	static const struct opt options[] = {
		{ ARG_ALL, 'a', "all", OPT_FLAG },
		{ ARG_QUIET, 'q', "quiet", OPT_FLAG },
		{ ARG_NO_TRUNC, 0, "no-trunc", OPT_FLAG },
		{ ARG_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	struct proto_ref_params ref = { .all = false };
	bool quiet = false, no_trunc = false, help = false;
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

	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	json_t *params = proto_ref_params_encode(PROTO_M_LIST, &ref);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0) {
		json_decref(params);
		return r;
	}
	r = conn_call_ok(&conn, PROTO_M_LIST, params, NULL, 0, &reply, reterr);
	if (r < 0)
		return r;

	json_t *items = proto_container_list_items(reply.msg.result);
	if (!items)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: no container list", PROTO_M_LIST);
	size_t n = json_array_size(items);
	_cleanup_free_ struct proto_container_info *infos = calloc(n ? n : 1, sizeof(*infos));
	if (!infos)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *err = NULL;
		if (proto_container_info_decode(json_array_get(items, i), &infos[i], &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_LIST, err);
	}
	qsort(infos, n, sizeof(*infos), ps_compare);

	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%.*s\n", no_trunc ? (int)strlen(infos[i].id) : 12, infos[i].id);
		return 0;
	}

	_cleanup_table_ struct table *t = table_new(6);
	if (!t)
		return err_set(reterr, -ENOMEM, "out of memory");
	static const char *const header[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES" };
	r = table_add_row(t, header);
	if (r < 0)
		return err_set(reterr, r, "out of memory");

	time_t now = time(NULL);
	for (size_t i = 0; i < n; i++) {
		const struct proto_container_info *ci = &infos[i];
		char id[13], created[80], status[128];
		_cleanup_free_ char *command = NULL;

		snprintf(id, sizeof(id), "%.12s", ci->id);
		if (ps_command(ci, no_trunc, &command) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		format_ago(ci->created_at, now, created, sizeof(created));
		ps_status(ci, now, status, sizeof(status));
		const char *row[] = { no_trunc ? ci->id : id, ci->image, command, created, status, ci->name };
		r = table_add_row(t, row);
		if (r < 0)
			return err_set(reterr, r, "out of memory");
	}
	r = table_print(t, stdout);
	if (r < 0)
		return err_set(reterr, r, "cannot write to stdout: %m");
	return 0;
}
