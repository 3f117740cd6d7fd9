/* The image verbs: import (a tarball passed as an fd) and rmi (images is in cmd-images.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/wait.h>
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
	fputs("Usage:  cctl import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]\n"
	      "\n"
	      "Import the contents from a tarball to create a filesystem image: a root filesystem\n"
	      "tarball (.tar, optionally compressed: .tar.gz, .tar.xz, .tar.zst, ...) as a one-layer\n"
	      "image. \"-\" reads the tarball from stdin; a URL (http, https) is fetched by curl, run by\n"
	      "cctl. cctl opens FILE itself and passes the open file to containd, which never opens a\n"
	      "path a client names. Without a name the image\n"
	      "is listed as <none>. The old order (NAME FILE) still works, with a note on stderr.\n"
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
static int import_change(const char *arg, struct proto_image_config *c, char **reterr)
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

static bool import_is_url(const char *arg)
{
	return str_startswith(arg, "http://") || str_startswith(arg, "https://");
}

/* Whether an operand of import names a tarball: "-" (stdin), a URL or an existing file. */
static bool import_is_source(const char *arg)
{
	return strcmp(arg, "-") == 0 || import_is_url(arg) || access(arg, F_OK) == 0;
}

/* Starts curl on url with its output into a pipe; *ret_fd is the pipe's read end. curl runs as
 * the user of cctl, so the daemon never fetches what a client names. */
static int import_fetch(const char *url, pid_t *ret_pid, int *ret_fd, char **reterr)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(reterr, -errno, "pipe: %m");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_set(reterr, -errno, "fork: %m");
	}
	if (pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(127);
		execlp("curl", "curl", "-fsSL", "--proto", "=http,https", "--", url, (char *)NULL);
		fprintf(stderr, "cctl: cannot run curl to fetch %s: %m\n", url);
		_exit(127);
	}
	close(p[1]);
	*ret_pid = pid;
	*ret_fd = p[0];
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
	if (o.n_operands < 1 || o.n_operands > 2)
		return opts_usage_error(reterr, "import", "\"cctl import\" requires at least 1 and at most 2 arguments.");
	/* Docker's order is FILE [NAME]. The old order, NAME FILE, is recognized by its second
	 * operand being the source ("-" or a file that exists) while the first is neither. */
	const char *path = o.operands[0], *name = o.n_operands == 2 ? o.operands[1] : NULL;
	if (name && import_is_source(name) && !import_is_source(path)) {
		fprintf(stderr, "cctl: \"cctl import NAME FILE\" is deprecated: use \"cctl import FILE NAME\"\n");
		path = o.operands[1];
		name = o.operands[0];
	}

	/* The daemon reads the tarball from our fd, so it needs no access to our files, and it
	 * reads only what we could open. */
	_cleanup_close_ int fd = -1;
	int send_fd = STDIN_FILENO;
	pid_t curl = -1;
	if (import_is_url(path)) {
		if ((r = import_fetch(path, &curl, &fd, reterr)) < 0)
			return r;
		send_fd = fd;
	} else if (strcmp(path, "-") != 0) {
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
	if (curl > 0) {
		int status = 0;
		fd = safe_close(fd);
		while (waitpid(curl, &status, 0) < 0 && errno == EINTR)
			;
		/* A failed download may still have looked like a tarball to the daemon: curl's
		 * status decides. */
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			/* The daemon's complaint about what it got is the consequence, not the cause. */
			free(*reterr);
			*reterr = NULL;
			return err_set(reterr, -EIO, "downloading %s failed (curl exit status %d)", path,
				       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
	}
	if (r < 0)
		return r;

	_cleanup_free_ char *err = NULL;
	struct proto_image_info info;
	if (proto_image_info_decode(reply.msg.result, &info, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_IMAGE_IMPORT, err);
	printf("%s\n", info.id);
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
