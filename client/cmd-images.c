/* cctl images: the table of image.list's result, as docker images prints it, with -q, --digests,
 * --no-trunc, --filter (dangling, reference, label, before, since; applied here) and --format
 * (json, or a template over docker's fields). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/format.h"
#include "client/opts.h"
#include "client/template.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

enum {
	IMAGES_OPT_HELP = 1,
	IMAGES_OPT_QUIET,
	IMAGES_OPT_NO_TRUNC,
	IMAGES_OPT_DIGESTS,
	IMAGES_OPT_FILTER,
	IMAGES_OPT_FORMAT,
	IMAGES_OPT_ALL
};

#define IMAGES_FILTERS_MAX 64

static void images_usage(void)
{
	fputs("Usage:  cctl images [OPTIONS]\n"
	      "\n"
	      "List images\n"
	      "\n"
	      "Options:\n"
	      "  -a, --all             Show all images (the default; there are no intermediate images)\n"
	      "      --digests         Show digests\n"
	      "  -f, --filter filter   Filter output based on conditions provided: dangling=true|false,\n"
	      "                        reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE\n"
	      "      --format string   Format output using a custom template:\n"
	      "                        'table':            Print output in table format with column headers (default)\n"
	      "                        'table TEMPLATE':   Print output in table format using the given Go template\n"
	      "                        'json':             Print in JSON format\n"
	      "                        'TEMPLATE':         Print output using the given Go template\n"
	      "      --no-trunc        Don't truncate output\n"
	      "  -q, --quiet           Only show image IDs\n"
	      "      --help            Print usage\n",
	      stdout);
}

/* One row: an image under one of its names (or <none>). */
struct images_row {
	const struct proto_image_info *info;
	char repo[512];
	const char *tag;
	const char *digest; /* "sha256:..." of a repo digest of that repository, or NULL */
};

/* Splits "repo:tag" at the last colon that is not part of a registry host:port. */
static void images_split_name(const char *name, char *repo, size_t repo_size, const char **tag)
{
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(slash ? slash : name, ':');

	*tag = colon ? colon + 1 : "<none>";
	snprintf(repo, repo_size, "%.*s", colon ? (int)(colon - name) : (int)strlen(name), name);
}

/* "sha256:<hex>" as docker shows it: 12 hex characters, or all of it with --no-trunc. */
static void images_short_id(const char *id, bool no_trunc, char *buf, size_t size)
{
	if (no_trunc)
		snprintf(buf, size, "%s", id);
	else
		snprintf(buf, size, "%.12s", str_startswith(id, "sha256:") ? id + 7 : id);
}

/* The digest of the repo digest recorded for repo, if any. */
static const char *images_digest_of(const struct proto_image_info *ii, const char *repo)
{
	size_t i;
	json_t *v;

	json_array_foreach(ii->repo_digests, i, v) {
		const char *rd = json_string_value(v), *at = rd ? strchr(rd, '@') : NULL;
		if (at && (size_t)(at - rd) == strlen(repo) && strncmp(rd, repo, strlen(repo)) == 0)
			return at + 1;
	}
	json_array_foreach(ii->repo_digests, i, v) {
		const char *rd = json_string_value(v), *at = rd ? strchr(rd, '@') : NULL;
		if (at && !strcmp(repo, "<none>"))
			return at + 1;
	}
	return NULL;
}

/* A parsed --filter. */
struct images_filter {
	int dangling; /* -1: no filter, else 0/1 */
	const char *references[IMAGES_FILTERS_MAX], *labels[IMAGES_FILTERS_MAX];
	size_t n_references, n_labels;
	const char *before, *since;
};

static int images_filter_add(struct images_filter *f, const char *arg, char **reterr)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	const char *value = eq ? eq + 1 : "";

	if (!eq)
		return opts_usage_error(reterr, "images", "bad format of filter (expected name=value)");
	if (klen == 8 && strncmp(arg, "dangling", 8) == 0) {
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0 && strcmp(value, "1") != 0 &&
		    strcmp(value, "0") != 0)
			return opts_usage_error(reterr, "images", "invalid filter 'dangling=%s'", value);
		f->dangling = strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
	} else if (klen == 9 && strncmp(arg, "reference", 9) == 0) {
		if (f->n_references == IMAGES_FILTERS_MAX)
			return opts_usage_error(reterr, "images", "too many reference filters");
		f->references[f->n_references++] = value;
	} else if (klen == 5 && strncmp(arg, "label", 5) == 0) {
		if (f->n_labels == IMAGES_FILTERS_MAX)
			return opts_usage_error(reterr, "images", "too many label filters");
		f->labels[f->n_labels++] = value;
	} else if (klen == 6 && strncmp(arg, "before", 6) == 0) {
		f->before = value;
	} else if (klen == 5 && strncmp(arg, "since", 5) == 0) {
		f->since = value;
	} else {
		return opts_usage_error(reterr, "images", "invalid filter '%.*s'", (int)klen, arg);
	}
	return 0;
}

/* The image a before/since filter names: by name ("alpine" is alpine:latest) or id prefix. */
static const struct proto_image_info *images_find(const struct proto_image_info *infos, size_t n, const char *ref)
{
	_cleanup_free_ char *latest = NULL;
	const char *hex = str_startswith(ref, "sha256:") ? ref + 7 : ref;

	const char *slash = strrchr(ref, '/');

	if (!strchr(slash ? slash : ref, ':') && asprintf(&latest, "%s:latest", ref) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *v;
		json_array_foreach(infos[i].names, k, v) {
			if (strcmp(json_string_value(v), ref) == 0 || (latest && strcmp(json_string_value(v), latest) == 0))
				return &infos[i];
		}
	}
	for (size_t i = 0; i < n; i++)
		if (strlen(hex) >= 4 && strncmp(infos[i].id + 7, hex, strlen(hex)) == 0)
			return &infos[i];
	return NULL;
}

/* Whether an image passes the label filters: each KEY or KEY=VALUE must be among its labels. */
static bool images_labels_match(const struct images_filter *f, const struct proto_image_info *ii)
{
	for (size_t i = 0; i < f->n_labels; i++) {
		const char *eq = strchr(f->labels[i], '=');
		_cleanup_free_ char *key =
		    strndup(f->labels[i], eq ? (size_t)(eq - f->labels[i]) : strlen(f->labels[i]));
		json_t *v = key && ii->labels ? json_object_get(ii->labels, key) : NULL;
		if (!v || (eq && strcmp(json_string_value(v), eq + 1) != 0))
			return false;
	}
	return true;
}

/* Whether a name matches a reference pattern, as docker's: the whole name, or its repository. */
static bool images_reference_match(const struct images_filter *f, const char *name)
{
	char repo[512];
	const char *tag;

	if (f->n_references == 0)
		return true;
	if (!name)
		return false;
	images_split_name(name, repo, sizeof(repo), &tag);
	for (size_t i = 0; i < f->n_references; i++)
		if (fnmatch(f->references[i], name, FNM_PATHNAME) == 0 ||
		    fnmatch(f->references[i], repo, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/* The object a --format template sees, in docker's field names. */
static json_t *images_row_json(const struct images_row *row, bool no_trunc, time_t now)
{
	char id[128], created[80], size[32];

	images_short_id(row->info->id, no_trunc, id, sizeof(id));
	format_ago(row->info->created_at, now, created, sizeof(created));
	format_size(row->info->size, size, sizeof(size));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers", "N/A", "CreatedAt",
			 row->info->created_at ? row->info->created_at : "", "CreatedSince", created, "Digest",
			 row->digest ? row->digest : "<none>", "ID", id, "Repository", row->repo, "SharedSize", "N/A",
			 "Size", size, "Tag", row->tag, "UniqueSize", "N/A", "VirtualSize", size);
}

static int images_compare(const void *a, const void *b)
{
	const struct proto_image_info *x = a, *y = b;
	return -strcmp(x->created_at ? x->created_at : "", y->created_at ? y->created_at : "");
}

/* Prints the rows as the table, a template's lines or JSON lines. */
static int images_print(const struct images_row *rows, size_t n, bool quiet, bool no_trunc, bool digests,
			const char *format, char **reterr)
{
	_cleanup_template_ struct template *tmpl = NULL;
	time_t now = time(NULL);
	int r;

	if (quiet) {
		/* One line per image, as docker -q: the same image under two names once. */
		for (size_t i = 0; i < n; i++) {
			char id[128];
			if (i > 0 && rows[i].info == rows[i - 1].info)
				continue;
			images_short_id(rows[i].info->id, no_trunc, id, sizeof(id));
			printf("%s\n", id);
		}
		return 0;
	}
	if (format && strcmp(format, "table") != 0) {
		bool table = str_startswith(format, "table ");
		if (strcmp(format, "json") == 0)
			format = "{{json .}}";
		r = template_parse(table ? format + 6 : format, &tmpl, reterr);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			json_auto_t *o = images_row_json(&rows[i], no_trunc, now);
			_cleanup_free_ char *line = NULL;
			if (!o)
				return err_set(reterr, -ENOMEM, "out of memory");
			r = template_render(tmpl, o, &line, reterr);
			if (r < 0)
				return r;
			printf("%s\n", line);
		}
		return 0;
	}

	_cleanup_table_ struct table *t = table_new(digests ? 6 : 5);
	if (!t)
		return err_set(reterr, -ENOMEM, "out of memory");
	static const char *const header[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
	static const char *const header_digests[] = {"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"};
	if (table_add_row(t, digests ? header_digests : header) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char id[128], created[80], size[32];
		images_short_id(rows[i].info->id, no_trunc, id, sizeof(id));
		format_ago(rows[i].info->created_at, now, created, sizeof(created));
		format_size(rows[i].info->size, size, sizeof(size));
		const char *row[] = { rows[i].repo, rows[i].tag, id, created, size };
		const char *row_digests[] = {rows[i].repo, rows[i].tag, rows[i].digest ? rows[i].digest : "<none>",
					     id,	   created,	size};
		if (table_add_row(t, digests ? row_digests : row) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	r = table_print(t, stdout);
	if (r < 0)
		return err_set(reterr, r, "cannot write to stdout: %m");
	return 0;
}

int cmd_images(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {IMAGES_OPT_QUIET, 'q', "quiet", OPT_FLAG},	    {IMAGES_OPT_ALL, 'a', "all", OPT_FLAG},
	    {IMAGES_OPT_NO_TRUNC, 0, "no-trunc", OPT_FLAG}, {IMAGES_OPT_DIGESTS, 0, "digests", OPT_FLAG},
	    {IMAGES_OPT_FILTER, 'f', "filter", OPT_VALUE},  {IMAGES_OPT_FORMAT, 0, "format", OPT_VALUE},
	    {IMAGES_OPT_HELP, 0, "help", OPT_FLAG},	    {}};
	_cleanup_(opts_done) struct opts o;
	struct images_filter f = { .dangling = -1 };
	bool quiet = false, no_trunc = false, digests = false;
	const char *format = NULL;
	int key, r;

	opts_init(&o, options, "images", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		switch (key) {
		case IMAGES_OPT_QUIET:
			quiet = o.flag;
			break;
		case IMAGES_OPT_NO_TRUNC:
			no_trunc = o.flag;
			break;
		case IMAGES_OPT_DIGESTS:
			digests = o.flag;
			break;
		case IMAGES_OPT_FILTER:
			if ((r = images_filter_add(&f, o.arg, reterr)) < 0)
				return r;
			break;
		case IMAGES_OPT_FORMAT:
			format = o.arg;
			break;
		case IMAGES_OPT_HELP:
			if (o.flag) {
				images_usage();
				return 0;
			}
			break;
		}
	}
	if (key < 0)
		return key;
	/* docker images [REPOSITORY[:TAG]]: a reference filter. */
	if (o.n_operands > 1)
		return opts_usage_error(reterr, "images", "\"cctl images\" requires at most 1 argument.");
	if (o.n_operands == 1 && (r = images_filter_add(&f, "reference=", reterr)) == 0)
		f.references[f.n_references - 1] = o.operands[0];

	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	r = conn_call_ok(&conn, PROTO_M_IMAGE_LIST, NULL, NULL, 0, &reply, reterr);
	if (r < 0)
		return r;
	json_t *items = proto_image_list_items(reply.msg.result);
	if (!items)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: no image list", PROTO_M_IMAGE_LIST);
	size_t n = json_array_size(items), n_rows = 0;
	_cleanup_free_ struct proto_image_info *infos = calloc(n ? n : 1, sizeof(*infos));
	if (!infos)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *err = NULL;
		if (proto_image_info_decode(json_array_get(items, i), &infos[i], &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_IMAGE_LIST, err);
	}
	qsort(infos, n, sizeof(*infos), images_compare);

	const struct proto_image_info *before = NULL, *since = NULL;
	if ((f.before && !(before = images_find(infos, n, f.before))) ||
	    (f.since && !(since = images_find(infos, n, f.since)))) {
		cctl->error_exit = 1;
		return err_set(reterr, -ENOENT, "No such image: %s", f.before && !before ? f.before : f.since);
	}
	size_t cap = 0;
	for (size_t i = 0; i < n; i++)
		cap += json_array_size(infos[i].names) ? json_array_size(infos[i].names) : 1;
	_cleanup_free_ struct images_row *rows = calloc(cap ? cap : 1, sizeof(*rows));
	if (!rows)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct proto_image_info *ii = &infos[i];
		size_t nnames = json_array_size(ii->names);
		if ((f.dangling >= 0 && (nnames == 0) != (f.dangling == 1)) || !images_labels_match(&f, ii) ||
		    (before && strcmp(ii->created_at, before->created_at) >= 0) ||
		    (since && strcmp(ii->created_at, since->created_at) <= 0))
			continue;
		/* One row per name, like docker; an image without names shows as <none>. */
		for (size_t k = 0; k < (nnames ? nnames : 1); k++) {
			const char *name = nnames ? json_string_value(json_array_get(ii->names, k)) : NULL;
			struct images_row *row = &rows[n_rows];
			if (!images_reference_match(&f, name))
				continue;
			row->info = ii;
			row->tag = "<none>";
			if (name)
				images_split_name(name, row->repo, sizeof(row->repo), &row->tag);
			else
				snprintf(row->repo, sizeof(row->repo), "<none>");
			row->digest = images_digest_of(ii, row->repo);
			n_rows++;
		}
	}
	return images_print(rows, n_rows, quiet, no_trunc, digests, format, reterr);
}
