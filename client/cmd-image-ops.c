/* The image verbs beyond import, images and rmi: tag, image inspect, image history, image prune
 * and system df, with docker's words and exit codes (1 when the daemon refuses). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/format.h"
#include "client/opts.h"
#include "client/template.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "protocol/image-store.h"
#include "protocol/protocol.h"

enum { OPS_HELP = 1, OPS_FORMAT, OPS_ALL, OPS_FORCE, OPS_NO_TRUNC, OPS_QUIET, OPS_HUMAN };

/* Parses options anywhere; each value option's argument goes to values[key]. Returns 1 when
 * --help was printed. */
static int ops_parse(int argc, char **argv, const char *verb, const struct opt *table, void (*usage)(void),
		     unsigned *flags, const char **values, struct opts *o, char **reterr)
{
	int key;

	*flags = 0;
	opts_init(o, table, verb, true, argc, argv);
	while ((key = opts_next(o, reterr)) > 0) {
		if (o->current->kind == OPT_VALUE) {
			if (values)
				values[key] = o->arg;
		} else if (o->flag)
			*flags |= 1u << key;
		else
			*flags &= ~(1u << key);
	}
	if (key < 0)
		return key;
	if (*flags & (1u << OPS_HELP)) {
		usage();
		return 1;
	}
	return 0;
}

/* One call; a refusal is printed by main with exit status 1, as docker's. */
static int ops_call(struct cctl *cctl, const char *method, json_t *params, struct conn_msg *reply, char **reterr)
{
	_cleanup_conn_ struct conn conn = CONN_INIT;
	int r = conn_open(cctl->socket_path, &conn, reterr);

	if (r < 0)
		return r;
	r = conn_call(&conn, method, params, NULL, 0, reply, reterr);
	if (r < 0)
		return r;
	r = conn_reply_check(reply, reterr);
	if (r < 0)
		cctl->error_exit = 1;
	return r;
}

static void tag_usage(void)
{
	fputs("Usage:  cctl tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n"
	      "\n"
	      "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n"
	      "\n"
	      "Options:\n"
	      "      --help   Print usage\n",
	      stdout);
}

int cmd_tag(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {{OPS_HELP, 0, "help", OPT_FLAG}, {}};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	unsigned flags;
	int r = ops_parse(argc, argv, "tag", options, tag_usage, &flags, NULL, &o, reterr);

	if (r != 0)
		return r > 0 ? 0 : r;
	if (o.n_operands != 2)
		return opts_usage_error(reterr, "tag", "\"cctl tag\" requires exactly 2 arguments.");
	struct proto_image_tag_params p = { .source = o.operands[0], .target = o.operands[1] };
	json_t *params = proto_image_tag_params_encode(&p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	return ops_call(cctl, PROTO_M_IMAGE_TAG, params, &reply, reterr);
}

static void inspect_usage(void)
{
	fputs("Usage:  cctl image inspect [OPTIONS] IMAGE [IMAGE...]\n"
	      "\n"
	      "Display detailed information on one or more images\n"
	      "\n"
	      "Options:\n"
	      "  -f, --format string   Format output using a custom template ('json' or a Go template)\n"
	      "      --help            Print usage\n",
	      stdout);
}

int cmd_image_inspect(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {OPS_FORMAT, 'f', "format", OPT_VALUE},
	    {OPS_HELP, 0, "help", OPT_FLAG},
	    {},
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_template_ struct template *tmpl = NULL;
	const char *values[OPS_HUMAN + 1] = { NULL };
	json_auto_t *array = json_array();
	unsigned flags;
	bool failed = false;
	int r = ops_parse(argc, argv, "image inspect", options, inspect_usage, &flags, values, &o, reterr);

	if (r != 0)
		return r > 0 ? 0 : r;
	if (o.n_operands < 1)
		return opts_usage_error(reterr, "image inspect",
					"\"cctl image inspect\" requires at least 1 argument.");
	const char *format = values[OPS_FORMAT];
	if (format && strcmp(format, "json") == 0)
		format = "{{json .}}";
	if (format && *format && (r = template_parse(format, &tmpl, reterr)) < 0) {
		cctl->error_exit = 1;
		return r;
	}
	if (!array)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < o.n_operands; i++) {
		_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
		_cleanup_free_ char *err = NULL, *line = NULL;
		struct proto_image_ref_params p = { .name = o.operands[i] };
		json_t *params = proto_image_ref_params_encode(&p);

		if (!params)
			return err_set(reterr, -ENOMEM, "out of memory");
		r = ops_call(cctl, PROTO_M_IMAGE_INSPECT, params, &reply, &err);
		if (r < 0) {
			fflush(stdout);
			fprintf(stderr, "Error: %s\n", err ? err : strerror(-r));
			failed = true;
			continue;
		}
		if (!tmpl) {
			json_array_append(array, reply.msg.result);
			continue;
		}
		r = template_render(tmpl, reply.msg.result, &line, reterr);
		if (r < 0) {
			cctl->error_exit = 1;
			return r;
		}
		printf("%s\n", line);
	}
	if (!tmpl) {
		_cleanup_free_ char *s = json_dumps(array, JSON_INDENT(4));
		if (!s)
			return err_set(reterr, -ENOMEM, "out of memory");
		puts(s);
	}
	return failed ? 1 : 0;
}

static void history_usage(void)
{
	fputs("Usage:  cctl image history [OPTIONS] IMAGE\n"
	      "\n"
	      "Show the history of an image\n"
	      "\n"
	      "Options:\n"
	      "      --format string   Format output using a custom template ('json' or a Go template)\n"
	      "  -H, --human           Print sizes and dates in human readable format (default true)\n"
	      "      --no-trunc        Don't truncate output\n"
	      "  -q, --quiet           Only show image IDs\n"
	      "      --help            Print usage\n",
	      stdout);
}

int cmd_image_history(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {OPS_FORMAT, 0, "format", OPT_VALUE}, {OPS_NO_TRUNC, 0, "no-trunc", OPT_FLAG},
	    {OPS_QUIET, 'q', "quiet", OPT_FLAG},  {OPS_HUMAN, 'H', "human", OPT_FLAG},
	    {OPS_HELP, 0, "help", OPT_FLAG},	  {},
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_template_ struct template *tmpl = NULL;
	const char *values[OPS_HUMAN + 1] = { NULL };
	unsigned flags;
	int r = ops_parse(argc, argv, "image history", options, history_usage, &flags, values, &o, reterr);

	if (r != 0)
		return r > 0 ? 0 : r;
	if (o.n_operands != 1)
		return opts_usage_error(reterr, "image history", "\"cctl image history\" requires exactly 1 argument.");
	bool no_trunc = flags & (1u << OPS_NO_TRUNC), quiet = flags & (1u << OPS_QUIET);
	const char *format = values[OPS_FORMAT];
	if (format && strcmp(format, "json") == 0)
		format = "{{json .}}";
	if (format && (r = template_parse(format, &tmpl, reterr)) < 0)
		return r;
	struct proto_image_ref_params p = { .name = o.operands[0] };
	json_t *params = proto_image_ref_params_encode(&p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = ops_call(cctl, PROTO_M_IMAGE_HISTORY, params, &reply, reterr);
	if (r < 0)
		return r;
	json_t *rows = json_object_get(reply.msg.result, "history"), *row;
	if (!json_is_array(rows))
		return err_set(reterr, -EBADMSG, "invalid reply to %s", PROTO_M_IMAGE_HISTORY);

	_cleanup_table_ struct table *t = table_new(5);
	static const char *const header[] = {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"};
	time_t now = time(NULL);
	size_t i;
	if (!t || table_add_row(t, header) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *created_at = json_string_value(json_object_get(row, "created"));
		const char *by = json_string_value(json_object_get(row, "created_by"));
		const char *comment = json_string_value(json_object_get(row, "comment"));
		char sid[80], created[80], size[32];
		_cleanup_free_ char *cut = NULL;

		if (!id || !created_at || !by || !comment)
			return err_set(reterr, -EBADMSG, "invalid reply to %s", PROTO_M_IMAGE_HISTORY);
		snprintf(sid, sizeof(sid), "%.*s", no_trunc || !str_startswith(id, "sha256:") ? 80 : 12,
			 str_startswith(id, "sha256:") && !no_trunc ? id + 7 : id);
		if (quiet) {
			printf("%s\n", sid);
			continue;
		}
		format_ago(created_at, now, created, sizeof(created));
		format_size((uint64_t)json_integer_value(json_object_get(row, "size")), size, sizeof(size));
		if (tmpl) {
			_cleanup_free_ char *line = NULL;
			json_auto_t *o2 =
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", sid, "CreatedSince", created, "CreatedAt",
				      created_at, "CreatedBy", by, "Size", size, "Comment", comment);
			if (!o2 || (r = template_render(tmpl, o2, &line, reterr)) < 0)
				return o2 ? r : -ENOMEM;
			printf("%s\n", line);
			continue;
		}
		/* docker cuts CREATED BY to 45 characters with an ellipsis. */
		if (!no_trunc && strlen(by) > 45 && asprintf(&cut, "%.44s…", by) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		const char *cells[] = { sid, created, cut ? cut : by, size, comment };
		if (table_add_row(t, cells) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (!quiet && !tmpl && (r = table_print(t, stdout)) < 0)
		return err_set(reterr, r, "cannot write to stdout: %m");
	return 0;
}

static void prune_usage(void)
{
	fputs("Usage:  cctl image prune [OPTIONS]\n"
	      "\n"
	      "Remove unused images\n"
	      "\n"
	      "Options:\n"
	      "  -a, --all     Remove all unused images, not just dangling ones\n"
	      "  -f, --force   Do not prompt for confirmation\n"
	      "      --help    Print usage\n",
	      stdout);
}

int cmd_image_prune(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {OPS_ALL, 'a', "all", OPT_FLAG},
	    {OPS_FORCE, 'f', "force", OPT_FLAG},
	    {OPS_HELP, 0, "help", OPT_FLAG},
	    {},
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	unsigned flags;
	int r = ops_parse(argc, argv, "image prune", options, prune_usage, &flags, NULL, &o, reterr);

	if (r != 0)
		return r > 0 ? 0 : r;
	if (o.n_operands > 0)
		return opts_usage_error(reterr, "image prune", "\"cctl image prune\" accepts no arguments.");
	bool all = flags & (1u << OPS_ALL);
	if (!(flags & (1u << OPS_FORCE))) {
		char answer[16] = "";
		printf("WARNING! This will remove all %s.\nAre you sure you want to continue? [y/N] ",
		       all ? "images without at least one container associated to them" : "dangling images");
		fflush(stdout);
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
			if (!answer[0])
				putchar('\n');
			return 0;
		}
	}
	struct proto_image_prune_params p = { .all = all };
	json_t *params = proto_image_prune_params_encode(&p), *v;
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = ops_call(cctl, PROTO_M_IMAGE_PRUNE, params, &reply, reterr);
	if (r < 0)
		return r;
	json_t *deleted = json_object_get(reply.msg.result, "deleted");
	char size[32];
	size_t i;
	if (json_array_size(deleted) > 0) {
		printf("Deleted Images:\n");
		json_array_foreach(deleted, i, v) {
			const char *line = json_string_value(v);
			/* docker prints the lines of prune in lower case: "untagged: ", "deleted: ". */
			if (line && str_startswith(line, "Untagged: "))
				printf("untagged: %s\n", line + 10);
			else if (line && str_startswith(line, "Deleted: "))
				printf("deleted: %s\n", line + 9);
		}
		printf("\n");
	}
	format_size((uint64_t)json_integer_value(json_object_get(reply.msg.result, "space_reclaimed")), size,
		    sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	return 0;
}

static void df_usage(void)
{
	fputs("Usage:  cctl system df [OPTIONS]\n"
	      "\n"
	      "Show containd disk usage\n"
	      "\n"
	      "Options:\n"
	      "      --format string   Format output using a custom template ('json' or a Go template)\n"
	      "      --help            Print usage\n",
	      stdout);
}

int cmd_system_df(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {OPS_FORMAT, 0, "format", OPT_VALUE},
	    {OPS_HELP, 0, "help", OPT_FLAG},
	    {},
	};
	static const struct {
		const char *key, *type;
	} rows[] = {{"images", "Images"}, {"containers", "Containers"}, {"volumes", "Local Volumes"}};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_template_ struct template *tmpl = NULL;
	const char *values[OPS_HUMAN + 1] = { NULL };
	unsigned flags;
	int r = ops_parse(argc, argv, "system df", options, df_usage, &flags, values, &o, reterr);

	if (r != 0)
		return r > 0 ? 0 : r;
	if (o.n_operands > 0)
		return opts_usage_error(reterr, "system df", "\"cctl system df\" accepts no arguments.");
	const char *format = values[OPS_FORMAT];
	if (format && strcmp(format, "json") == 0)
		format = "{{json .}}";
	if (format && (r = template_parse(format, &tmpl, reterr)) < 0)
		return r;
	r = ops_call(cctl, PROTO_M_SYSTEM_DF, NULL, &reply, reterr);
	if (r < 0)
		return r;
	_cleanup_table_ struct table *t = table_new(5);
	static const char *const header[] = {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"};
	if (!t || table_add_row(t, header) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct proto_df_row row;
		char total[16], active[16], size[32], reclaim[32], reclaimable[48];
		_cleanup_free_ char *err = NULL;

		if (proto_df_row_decode(json_object_get(reply.msg.result, rows[i].key), &row, &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_SYSTEM_DF, err);
		snprintf(total, sizeof(total), "%u", row.total);
		snprintf(active, sizeof(active), "%u", row.active);
		format_size(row.size, size, sizeof(size));
		format_size(row.reclaimable, reclaim, sizeof(reclaim));
		/* As docker: the share of the images' size that could go, in percent. */
		if (row.size > 0)
			snprintf(reclaimable, sizeof(reclaimable), "%s (%u%%)", reclaim,
				 (unsigned)(row.reclaimable * 100 / row.size));
		else
			snprintf(reclaimable, sizeof(reclaimable), "%s", reclaim);
		if (tmpl) {
			_cleanup_free_ char *line = NULL;
			json_auto_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", rows[i].type, "TotalCount",
						     total, "Active", active, "Size", size, "Reclaimable", reclaimable);
			if (!obj || (r = template_render(tmpl, obj, &line, reterr)) < 0)
				return obj ? r : -ENOMEM;
			printf("%s\n", line);
			continue;
		}
		const char *cells[] = { rows[i].type, total, active, size, reclaimable };
		if (table_add_row(t, cells) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (!tmpl && (r = table_print(t, stdout)) < 0)
		return err_set(reterr, r, "cannot write to stdout: %m");
	return 0;
}
