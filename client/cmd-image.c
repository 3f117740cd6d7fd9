/* The image verbs: import (a tarball passed as an fd), images (the table) and rmi. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/format.h"
#include "client/opts.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

static void import_usage(void)
{
	fputs("Usage:  cctl import [OPTIONS] NAME[:TAG] FILE|-\n"
	      "\n"
	      "Import a root filesystem tarball (.tar, optionally compressed: .tar.gz, .tar.xz, ...)\n"
	      "as a one-layer image. \"-\" reads the tarball from stdin. cctl opens FILE itself and\n"
	      "passes the open file to containd, which never opens a path a client names.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --change INSTRUCTION   Apply a Dockerfile instruction to the image: CMD, ENTRYPOINT\n"
	      "                             (JSON array or shell form), ENV KEY=VALUE, WORKDIR, USER,\n"
	      "                             STOPSIGNAL (repeatable)\n"
	      "      --help                 Print usage\n",
	      stdout);
}

enum { IMAGE_OPT_HELP = 1, IMAGE_OPT_QUIET, IMAGE_OPT_NO_TRUNC, IMAGE_OPT_FORCE, IMAGE_OPT_CHANGE };

/* CMD and ENTRYPOINT as a Dockerfile has them: a JSON array of strings, or a shell command
 * (run with /bin/sh -c). */
static int change_command(const char *arg, char ***ret, char **reterr)
{
	json_auto_t *a = NULL;
	strv_free(TAKE_PTR(*ret));
	if (*arg == '[') {
		json_error_t jerr;
		size_t i;
		json_t *v;
		a = json_loads(arg, 0, &jerr);
		if (!json_is_array(a))
			return opts_usage_error(reterr, "import", "invalid JSON array in --change: %s", arg);
		*ret = calloc(json_array_size(a) + 1, sizeof(char *));
		if (!*ret)
			return err_set(reterr, -ENOMEM, "out of memory");
		json_array_foreach(a, i, v) {
			if (!json_is_string(v))
				return opts_usage_error(reterr, "import", "--change: the array must hold strings: %s", arg);
			if (!((*ret)[i] = strdup(json_string_value(v))))
				return err_set(reterr, -ENOMEM, "out of memory");
		}
		return 0;
	}
	*ret = calloc(4, sizeof(char *));
	if (!*ret || !((*ret)[0] = strdup("/bin/sh")) || !((*ret)[1] = strdup("-c")) || !((*ret)[2] = strdup(arg)))
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* Appends entry (taken over) to a NULL-terminated vector. */
static int strv_push(char ***v, char *entry)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	char **nv = reallocarray(*v, n + 2, sizeof(char *));
	if (!nv) {
		free(entry);
		return -ENOMEM;
	}
	nv[n] = entry;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

/* ENV KEY=VALUE [KEY=VALUE...] or ENV KEY VALUE. */
static int change_env(const char *arg, char ***env, char **reterr)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *save = NULL;
	if (!copy)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (!strchr(arg, '=') || strcspn(arg, " \t") < strcspn(arg, "=")) {
		/* ENV KEY VALUE: the rest of the line is the value. */
		size_t k = strcspn(arg, " \t");
		const char *v = arg + k + strspn(arg + k, " \t");
		if (k == 0 || !*v)
			return opts_usage_error(reterr, "import", "--change ENV needs KEY=VALUE or KEY VALUE: %s", arg);
		_cleanup_free_ char *entry = NULL;
		if (asprintf(&entry, "%.*s=%s", (int)k, arg, v) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		return strv_push(env, TAKE_PTR(entry)) < 0 ? err_set(reterr, -ENOMEM, "out of memory") : 0;
	}
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (!strchr(w, '=') || *w == '=')
			return opts_usage_error(reterr, "import", "--change ENV: \"%s\" is not KEY=VALUE", w);
		char *dup = strdup(w);
		if (!dup || strv_push(env, TAKE_PTR(dup)) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	return 0;
}

/* One --change: a Dockerfile instruction the image config takes. */
int import_change(const char *arg, struct proto_image_config *c, char **reterr)
{
	size_t k = strcspn(arg, " \t");
	const char *rest = arg + k + strspn(arg + k, " \t");
	char **target = NULL;
	if (!*rest)
		return opts_usage_error(reterr, "import", "--change \"%s\": the instruction needs an argument", arg);
	if (k == 3 && strncasecmp(arg, "CMD", 3) == 0)
		return change_command(rest, &c->cmd, reterr);
	if (k == 10 && strncasecmp(arg, "ENTRYPOINT", 10) == 0)
		return change_command(rest, &c->entrypoint, reterr);
	if (k == 3 && strncasecmp(arg, "ENV", 3) == 0)
		return change_env(rest, &c->env, reterr);
	if (k == 7 && strncasecmp(arg, "WORKDIR", 7) == 0)
		target = &c->workdir;
	else if (k == 4 && strncasecmp(arg, "USER", 4) == 0)
		target = &c->user;
	else if (k == 10 && strncasecmp(arg, "STOPSIGNAL", 10) == 0)
		target = &c->stop_signal;
	else
		return opts_usage_error(reterr, "import",
					"--change \"%.*s\": expected CMD, ENTRYPOINT, ENV, WORKDIR, USER or STOPSIGNAL",
					(int)k, arg);
	free(*target);
	*target = strdup(rest);
	return *target ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

/* Parses a verb's options (anywhere on the line). Returns 1 when --help was printed, with
 * *flags holding the value of each flag option by key (bit 1 << key). */
static int image_parse(int argc, char **argv, const char *verb, const struct opt *table, void (*usage)(void),
		       unsigned *flags, struct opts *o, char **reterr)
{
	int key;

	*flags = 0;
	opts_init(o, table, verb, true, argc, argv);
	while ((key = opts_next(o, reterr)) > 0) {
		if (o->flag)
			*flags |= 1u << key;
		else
			*flags &= ~(1u << key);
	}
	if (key < 0)
		return key;
	if (*flags & (1u << IMAGE_OPT_HELP)) {
		usage();
		return 1;
	}
	return 0;
}

int cmd_import(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ IMAGE_OPT_CHANGE, 'c', "change", OPT_VALUE },
		{ IMAGE_OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_(proto_image_config_done) struct proto_image_config config = { .cmd = NULL };
	bool changed = false;
	int key, r;

	opts_init(&o, options, "import", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == IMAGE_OPT_CHANGE) {
			if ((r = import_change(o.arg, &config, reterr)) < 0)
				return r;
			changed = true;
		} else if (o.flag) {
			import_usage();
			return 0;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands != 2)
		return opts_usage_error(reterr, "import", "\"cctl import\" requires exactly 2 arguments.");
	const char *name = o.operands[0], *path = o.operands[1];

	/* The daemon reads the tarball from our fd, so it needs no access to our files, and it
	 * reads only what we could open. */
	_cleanup_close_ int fd = -1;
	int send_fd = STDIN_FILENO;
	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return err_set(reterr, -errno, "cannot open %s: %m", path);
		send_fd = fd;
	}

	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	json_auto_t *config_json = changed ? proto_image_config_encode(&config) : NULL;
	if (changed && !config_json)
		return err_set(reterr, -ENOMEM, "out of memory");
	struct proto_import_params p = { .name = name, .config = config_json };
	json_t *params = proto_import_params_encode(&p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_call_ok(&conn, PROTO_M_IMAGE_IMPORT, params, &send_fd, 1, &reply, reterr);
	if (r < 0)
		return r;

	_cleanup_free_ char *err = NULL;
	struct proto_image_info info;
	if (proto_image_info_decode(reply.msg.result, &info, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_IMAGE_IMPORT, err);
	printf("%s\n", info.id);
	return 0;
}

static void images_usage(void)
{
	fputs("Usage:  cctl images [OPTIONS]\n"
	      "\n"
	      "List images\n"
	      "\n"
	      "Options:\n"
	      "      --no-trunc   Don't truncate output\n"
	      "  -q, --quiet      Only show image IDs\n"
	      "      --help       Print usage\n",
	      stdout);
}

static int images_compare(const void *a, const void *b)
{
	const struct proto_image_info *x = a, *y = b;
	return -strcmp(x->created_at ? x->created_at : "", y->created_at ? y->created_at : "");
}

/* "sha256:<hex>" as docker shows it: 12 hex characters, or all of it with --no-trunc. */
static void images_short_id(const char *id, bool no_trunc, char *buf, size_t size)
{
	if (no_trunc)
		snprintf(buf, size, "%s", id);
	else
		snprintf(buf, size, "%.12s", str_startswith(id, "sha256:") ? id + 7 : id);
}

/* Splits "repo:tag" at the last colon that is not part of a registry host:port. */
static void images_split_name(const char *name, char *repo, size_t repo_size, const char **tag)
{
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(slash ? slash : name, ':');

	*tag = colon ? colon + 1 : "<none>";
	snprintf(repo, repo_size, "%.*s", colon ? (int)(colon - name) : (int)strlen(name), name);
}

int cmd_images(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ IMAGE_OPT_QUIET, 'q', "quiet", OPT_FLAG },
		{ IMAGE_OPT_NO_TRUNC, 0, "no-trunc", OPT_FLAG },
		{ IMAGE_OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	unsigned flags;
	int r;

	r = image_parse(argc, argv, "images", options, images_usage, &flags, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	if (o.n_operands > 0)
		return opts_usage_error(reterr, "images", "\"cctl images\" accepts no arguments.");
	bool quiet = flags & (1u << IMAGE_OPT_QUIET), no_trunc = flags & (1u << IMAGE_OPT_NO_TRUNC);

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
	size_t n = json_array_size(items);
	_cleanup_free_ struct proto_image_info *infos = calloc(n ? n : 1, sizeof(*infos));
	if (!infos)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *err = NULL;
		if (proto_image_info_decode(json_array_get(items, i), &infos[i], &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_IMAGE_LIST, err);
	}
	qsort(infos, n, sizeof(*infos), images_compare);

	if (quiet) {
		for (size_t i = 0; i < n; i++) {
			char id[128];
			images_short_id(infos[i].id, no_trunc, id, sizeof(id));
			printf("%s\n", id);
		}
		return 0;
	}

	_cleanup_table_ struct table *t = table_new(5);
	if (!t)
		return err_set(reterr, -ENOMEM, "out of memory");
	static const char *const header[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
	if (table_add_row(t, header) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");

	time_t now = time(NULL);
	for (size_t i = 0; i < n; i++) {
		const struct proto_image_info *ii = &infos[i];
		char id[128], created[80], size[32];

		images_short_id(ii->id, no_trunc, id, sizeof(id));
		format_ago(ii->created_at, now, created, sizeof(created));
		format_size(ii->size, size, sizeof(size));

		/* One row per name, like docker; an image without names shows as <none>. */
		size_t nnames = json_array_size(ii->names);
		for (size_t k = 0; k < (nnames ? nnames : 1); k++) {
			const char *name = nnames ? json_string_value(json_array_get(ii->names, k)) : NULL;
			char repo[512];
			const char *tag = "<none>";
			if (name)
				images_split_name(name, repo, sizeof(repo), &tag);
			else
				snprintf(repo, sizeof(repo), "<none>");
			const char *row[] = { repo, tag, id, created, size };
			if (table_add_row(t, row) < 0)
				return err_set(reterr, -ENOMEM, "out of memory");
		}
	}
	r = table_print(t, stdout);
	if (r < 0)
		return err_set(reterr, r, "cannot write to stdout: %m");
	return 0;
}

/* Prints what image.remove reports as docker does: a name that went is "Untagged", an image id
 * ("sha256:...", the image or a layer) is "Deleted". */
static void rmi_print_removed(json_t *result)
{
	json_t *items = proto_image_remove_result_items(result);
	size_t i;
	json_t *item;

	json_array_foreach(items, i, item) {
		const char *s = json_string_value(item);
		if (s)
			printf("%s: %s\n", str_startswith(s, "sha256:") ? "Deleted" : "Untagged", s);
	}
}

static void rmi_usage(void)
{
	fputs("Usage:  cctl rmi [OPTIONS] IMAGE [IMAGE...]\n"
	      "\n"
	      "Remove one or more images\n"
	      "\n"
	      "Options:\n"
	      "  -f, --force   Force removal of the image\n"
	      "      --help    Print usage\n",
	      stdout);
}

int cmd_rmi(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ IMAGE_OPT_FORCE, 'f', "force", OPT_FLAG },
		{ IMAGE_OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	unsigned flags;
	bool failed = false;
	int r;

	r = image_parse(argc, argv, "rmi", options, rmi_usage, &flags, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	if (o.n_operands < 1)
		return opts_usage_error(reterr, "rmi", "\"cctl rmi\" requires at least 1 argument.");
	bool force = flags & (1u << IMAGE_OPT_FORCE);

	_cleanup_conn_ struct conn conn = CONN_INIT;
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < o.n_operands; i++) {
		_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
		_cleanup_free_ char *err = NULL;
		struct proto_image_remove_params p = { .name = o.operands[i], .force = force };

		json_t *params = proto_image_remove_params_encode(&p);
		if (!params)
			return err_set(reterr, -ENOMEM, "out of memory");
		r = conn_call(&conn, PROTO_M_IMAGE_REMOVE, params, NULL, 0, &reply, reterr);
		if (r < 0)
			return r;
		/* rmi -f of an image that does not exist is no failure, as with docker. */
		if (force && reply.msg.error_code && strcmp(reply.msg.error_code, PROTO_E_NOT_FOUND) == 0)
			continue;
		r = conn_reply_check(&reply, &err);
		if (r < 0) {
			fflush(stdout);
			fprintf(stderr, "cctl: %s\n", err);
			failed = true;
			continue;
		}
		rmi_print_removed(reply.msg.result);
	}
	return failed ? 1 : 0;
}
