/* cctl cp, diff and export: copies between a container and the local filesystem with docker's
 * rules, a container's changes, and its root filesystem as a tar stream. The streams go through
 * a pipe (or our stdin, stdout, the output file) passed to the daemon; the local side of a copy
 * runs here with the user's own privileges (cp-archive.c). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/cp-archive.h"
#include "client/opts.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/cp.h"
#include "protocol/protocol.h"

enum { CP_OPT_ARCHIVE = 1, CP_OPT_FOLLOW, CP_OPT_QUIET, CP_OPT_OUTPUT, CP_OPT_HELP };

static void cp_usage(void)
{
	fputs("Usage:  cctl cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
	      "\tcctl cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n"
	      "\n"
	      "Copy files/folders between a container and the local filesystem\n"
	      "\n"
	      "Use '-' as the source to read a tar archive from stdin\n"
	      "and extract it to a directory destination in a container.\n"
	      "Use '-' as the destination to stream a tar archive of a\n"
	      "container source to stdout.\n"
	      "\n"
	      "Options:\n"
	      "  -a, --archive       Archive mode (copy all uid/gid information)\n"
	      "  -L, --follow-link   Always follow symbol link in SRC_PATH\n"
	      "  -q, --quiet         Suppress progress output during copy (there is none)\n"
	      "      --help          Print usage\n",
	      stdout);
}

/* A copy operand: CONTAINER:PATH, or a local path (absolute, starting with ".", or without a
 * colon), as docker splits them. */
struct cp_arg {
	char *container; /* NULL: local */
	const char *path;
};

static int cp_arg_split(char *arg, struct cp_arg *ret)
{
	char *colon = strchr(arg, ':');

	ret->container = NULL;
	ret->path = arg;
	if (arg[0] == '/' || arg[0] == '.' || !colon)
		return 0;
	*colon = '\0';
	ret->container = arg;
	ret->path = colon + 1;
	return 0;
}

/* Sends a request and waits for its reply; an error reply becomes -errno with the daemon's
 * message, and the exit status 1 (as docker cp's). */
static int cp_wait(struct cctl *cctl, struct conn *conn, json_int_t id, struct conn_msg *ret, char **reterr)
{
	for (;;) {
		struct conn_msg m = CONN_MSG_INIT;
		int r = conn_receive(conn, &m, reterr);
		if (r < 0)
			return r;
		if (!m.msg.event && (m.msg.id == id || (m.msg.id < 0 && m.msg.error_code))) {
			*ret = m;
			r = conn_reply_check(ret, reterr);
			if (r < 0)
				cctl->error_exit = 1;
			return r;
		}
		conn_msg_done(&m);
	}
}

/* Sends method with fd (none: -1) and returns the request's id, without waiting for the reply. */
static int cp_send(struct conn *conn, const char *method, const struct proto_cp_params *p, int fd, json_int_t *ret_id,
		   char **reterr)
{
	json_t *params = proto_cp_params_encode(method, p);

	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	return conn_send(conn, method, params, &fd, fd >= 0 ? 1 : 0, ret_id, reterr);
}

/* Sends method with one end of a new pipe (the write end when the daemon writes the stream) and
 * returns the other in *ret_fd: the daemon's worker then holds the only copy of its end, so the
 * stream ends when the worker is done. */
static int cp_send_pipe(struct conn *conn, const char *method, const struct proto_cp_params *p, bool daemon_writes,
			int *ret_fd, json_int_t *ret_id, char **reterr)
{
	_cleanup_close_ int rd = -1, wr = -1;
	int pipefd[2], r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(reterr, -errno, "pipe: %m");
	rd = pipefd[0];
	wr = pipefd[1];
	r = cp_send(conn, method, p, daemon_writes ? wr : rd, ret_id, reterr);
	if (r < 0)
		return r;
	*ret_fd = daemon_writes ? TAKE_FD(rd) : TAKE_FD(wr);
	return 0;
}

static int cp_call(struct cctl *cctl, struct conn *conn, const char *method, const struct proto_cp_params *p,
		   int fd, struct conn_msg *ret, char **reterr)
{
	json_int_t id;
	int r = cp_send(conn, method, p, fd, &id, reterr);

	if (r < 0)
		return r;
	return cp_wait(cctl, conn, id, ret, reterr);
}

/* container.cp_stat of path: 0 and *st, -ENOENT (with the daemon's message), or another error. */
static int cp_stat(struct cctl *cctl, struct conn *conn, const char *ctr, const char *path, bool follow,
		   struct conn_msg *reply, struct proto_cp_stat *st, char **reterr)
{
	struct proto_cp_params p = { .ref = ctr, .path = path, .follow_link = follow };
	_cleanup_free_ char *err = NULL;
	int r = cp_call(cctl, conn, PROTO_M_CP_STAT, &p, -1, reply, reterr);

	if (r < 0)
		return r;
	if (proto_cp_stat_decode(reply->msg.result, st, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_CP_STAT, err);
	return 0;
}

static bool ends_with_slash(const char *p)
{
	size_t n = strlen(p);
	return n > 0 && p[n - 1] == '/';
}

/* "DIR/." (or ".", or "/"): the contents of a directory rather than the directory. */
static bool names_contents(const char *p)
{
	size_t n = strlen(p);
	return strcmp(p, ".") == 0 || strcmp(p, "/") == 0 || (n >= 2 && strcmp(p + n - 2, "/.") == 0);
}

/* The directory part and last component of a path ("a/b/" is "a" and "b", "b" is "." and "b"). */
static int split_dir_base(const char *path, char **ret_dir, char **ret_base)
{
	_cleanup_free_ char *a = strdup(path), *b = strdup(path);

	if (!a || !b)
		return -ENOMEM;
	*ret_dir = strdup(dirname(a));
	*ret_base = strdup(basename(b));
	if (!*ret_dir || !*ret_base) {
		free(*ret_dir);
		free(*ret_base);
		return -ENOMEM;
	}
	return 0;
}

/* The end of a streamed copy: the daemon's reply first (a failed copy also ends the stream early,
 * and its reason is the better one), then local_r, the local side's result, with local_err. */
static int cp_finish(struct cctl *cctl, struct conn *conn, json_int_t id, struct conn_msg *reply, int local_r,
		     const char *local_err, char **reterr)
{
	int r = cp_wait(cctl, conn, id, reply, reterr);

	if (r < 0)
		return r;
	if (local_r < 0) {
		cctl->error_exit = 1;
		return err_set(reterr, local_r, "%s", local_err);
	}
	return 0;
}

/* Container to local (or to stdout with "-"). */
static int cp_from(struct cctl *cctl, struct conn *conn, const struct cp_arg *src, const char *dest, bool follow,
		   bool archive, char **reterr)
{
	_cleanup_conn_msg_ struct conn_msg stat_reply = CONN_MSG_INIT, reply = CONN_MSG_INIT;
	_cleanup_free_ char *dir = NULL, *base = NULL;
	_cleanup_close_ int rd = -1;
	struct proto_cp_params p = { .ref = src->container, .path = src->path, .follow_link = follow };
	struct proto_cp_stat st;
	const char *new_top;
	struct stat lst;
	int r;
	json_int_t id;

	r = cp_stat(cctl, conn, src->container, src->path, follow, &stat_reply, &st, reterr);
	if (r < 0)
		return r;
	if (strcmp(dest, "-") == 0)
		return cp_call(cctl, conn, PROTO_M_CP_FROM, &p, STDOUT_FILENO, &reply, reterr);

	bool src_dir = S_ISDIR(st.mode), contents = src_dir && names_contents(src->path);
	if (stat(dest, &lst) == 0 && S_ISDIR(lst.st_mode)) {
		/* Into the directory: as itself, or its contents for "SRC/.". */
		if (!(dir = strdup(dest)))
			return -ENOMEM;
		new_top = contents ? NULL : st.name;
		if (!contents && strcmp(st.name, "/") == 0)
			new_top = NULL;
	} else if (stat(dest, &lst) == 0) {
		if (src_dir)
			return err_set(reterr, -ENOTDIR, "cannot copy a directory to a file: \"%s\" is not a directory", dest);
		if ((r = split_dir_base(dest, &dir, &base)) < 0)
			return r;
		new_top = base;
	} else {
		if (errno != ENOENT)
			return err_set(reterr, -errno, "%s: %m", dest);
		if (ends_with_slash(dest) && !src_dir)
			return err_set(reterr, -ENOENT, "destination directory %s does not exist", dest);
		if ((r = split_dir_base(dest, &dir, &base)) < 0)
			return r;
		if (stat(dir, &lst) < 0 || !S_ISDIR(lst.st_mode))
			return err_set(reterr, -ENOENT, "destination directory %s does not exist", dir);
		new_top = base;
	}

	/* The worker holds the only write end: EOF comes when it is done. */
	if ((r = cp_send_pipe(conn, PROTO_M_CP_FROM, &p, true, &rd, &id, reterr)) < 0)
		return r;
	_cleanup_free_ char *xerr = NULL;
	int x = cp_archive_extract(rd, dir, new_top, archive && geteuid() == 0, &xerr);
	rd = safe_close(rd);
	return cp_finish(cctl, conn, id, &reply, x, xerr ? xerr : "extraction failed", reterr);
}

/* Local (or a tar stream on stdin with "-") to the container. */
static int cp_to(struct cctl *cctl, struct conn *conn, const char *src, const struct cp_arg *dest, bool follow,
		 bool archive, char **reterr)
{
	_cleanup_conn_msg_ struct conn_msg stat_reply = CONN_MSG_INIT, reply = CONN_MSG_INIT;
	_cleanup_free_ char *dir = NULL, *base = NULL, *src_clean = NULL, *src_dir = NULL, *src_base = NULL;
	_cleanup_close_ int wr = -1;
	struct proto_cp_params p = { .ref = dest->container, .path = dest->path, .archive = archive };
	struct proto_cp_stat st;
	struct stat sst;
	const char *top;
	int r;
	json_int_t id;

	r = cp_stat(cctl, conn, dest->container, dest->path, true, &stat_reply, &st, reterr);
	if (strcmp(src, "-") == 0) {
		if (r < 0)
			return r;
		if (!S_ISDIR(st.mode)) {
			cctl->error_exit = 1;
			return err_set(reterr, -ENOTDIR, "destination \"%s:%s\" must be a directory", dest->container,
				       dest->path);
		}
		return cp_call(cctl, conn, PROTO_M_CP_TO, &p, STDIN_FILENO, &reply, reterr);
	}
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT) {
		/* Not there yet: it will be, if its directory is (checked below). */
		free(*reterr);
		*reterr = NULL;
		cctl->error_exit = 0;
	}

	if ((follow ? stat(src, &sst) : lstat(src, &sst)) < 0) {
		cctl->error_exit = 1;
		return err_set(reterr, -errno, "%s %s: %m", follow ? "stat" : "lstat", src);
	}
	bool is_dir = S_ISDIR(sst.st_mode), contents = is_dir && names_contents(src);
	/* The path to read: without a trailing "/." or "/" (but "/" stays). */
	if (!(src_clean = strdup(src)))
		return -ENOMEM;
	size_t n = strlen(src_clean);
	if (n >= 2 && strcmp(src_clean + n - 2, "/.") == 0)
		src_clean[n -= 2] = '\0';
	while (n > 1 && src_clean[n - 1] == '/')
		src_clean[--n] = '\0';
	if (!*src_clean)
		strcpy(src_clean, "/");
	if ((r = split_dir_base(src_clean, &src_dir, &src_base)) < 0)
		return r;

	if (stat_reply.msg.result && S_ISDIR(st.mode)) {
		top = contents ? "." : src_base;
		if (!(dir = strdup(dest->path)))
			return -ENOMEM;
	} else if (stat_reply.msg.result) {
		if (is_dir) {
			cctl->error_exit = 1;
			return err_set(reterr, -ENOTDIR, "cannot overwrite non-directory \"%s\" with directory \"%s\"",
				       dest->path, src);
		}
		if ((r = split_dir_base(dest->path, &dir, &base)) < 0)
			return r;
		top = base;
	} else {
		if (ends_with_slash(dest->path) && !is_dir) {
			cctl->error_exit = 1;
			return err_set(reterr, -ENOENT, "Could not find the file %s in container %s", dest->path,
				       dest->container);
		}
		if ((r = split_dir_base(dest->path, &dir, &base)) < 0)
			return r;
		top = base;
		/* Its directory must exist (an unknown container is reported here too). */
		_cleanup_conn_msg_ struct conn_msg dir_reply = CONN_MSG_INIT;
		struct proto_cp_stat dst;
		if ((r = cp_stat(cctl, conn, dest->container, dir, true, &dir_reply, &dst, reterr)) < 0)
			return r;
		if (!S_ISDIR(dst.mode)) {
			cctl->error_exit = 1;
			return err_set(reterr, -ENOTDIR, "%s is not a directory in container %s", dir, dest->container);
		}
	}
	if (contents && !stat_reply.msg.result)
		top = base; /* a new directory with the contents */

	p.path = dir;
	if ((r = cp_send_pipe(conn, PROTO_M_CP_TO, &p, false, &wr, &id, reterr)) < 0)
		return r;
	_cleanup_free_ char *werr = NULL;
	int w = cp_archive_write(src_clean, follow, strcmp(top, ".") == 0 ? "." : top, wr, &werr);
	wr = safe_close(wr);
	return cp_finish(cctl, conn, id, &reply, w, werr ? werr : "copy failed", reterr);
}

int cmd_cp(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ CP_OPT_ARCHIVE, 'a', "archive", OPT_FLAG },
		{ CP_OPT_FOLLOW, 'L', "follow-link", OPT_FLAG },
		{ CP_OPT_QUIET, 'q', "quiet", OPT_FLAG },
		{ CP_OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	bool archive = false, follow = false;
	struct cp_arg src, dest;
	int key, r;

	opts_init(&o, options, "cp", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == CP_OPT_ARCHIVE)
			archive = o.flag;
		else if (key == CP_OPT_FOLLOW)
			follow = o.flag;
		else if (key == CP_OPT_HELP && o.flag) {
			cp_usage();
			return 0;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands != 2)
		return opts_usage_error(reterr, "cp", "\"cctl cp\" requires exactly 2 arguments.");
	cp_arg_split(o.operands[0], &src);
	cp_arg_split(o.operands[1], &dest);
	if (src.container && dest.container)
		return opts_usage_error(reterr, "cp", "copying between containers is not supported");
	if (!src.container && !dest.container)
		return opts_usage_error(reterr, "cp", "must specify at least one container source");
	if ((src.container && !*src.container) || (dest.container && !*dest.container))
		return opts_usage_error(reterr, "cp", "empty container name");
	if (!*(src.container ? src.path : dest.path))
		return opts_usage_error(reterr, "cp", "empty path in the container");
	/* Every failure from here on exits 1, as docker cp's do. */
	cctl->error_exit = 1;
	/* A reader that went away (head, a failed extraction in the container) is an error to
	 * report, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	if (src.container)
		return cp_from(cctl, &conn, &src, dest.path, follow, archive, reterr);
	return cp_to(cctl, &conn, src.path, &dest, follow, archive, reterr);
}

/* One container named on the command line and optional -o: diff's and export's parsing. */
static int one_container(int argc, char **argv, const char *verb, const char *usage, bool output, const char **ret_ref,
			 const char **ret_output, char **reterr)
{
	static const struct opt with_output[] = {
		{ CP_OPT_OUTPUT, 'o', "output", OPT_VALUE },
		{ CP_OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	int key;

	opts_init(&o, output ? with_output : with_output + 1, verb, true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == CP_OPT_OUTPUT)
			*ret_output = o.arg;
		else if (key == CP_OPT_HELP && o.flag) {
			fputs(usage, stdout);
			return 1;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands != 1)
		return opts_usage_error(reterr, verb, "\"cctl %s\" requires exactly 1 argument.", verb);
	/* The operands point into argv, which outlives o. */
	*ret_ref = o.operands[0];
	return 0;
}

int cmd_diff(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const char usage[] = "Usage:  cctl diff CONTAINER\n"
				    "\n"
				    "Inspect changes to files or directories on a container's filesystem\n"
				    "\n"
				    "Options:\n"
				    "      --help   Print usage\n";
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	const char *ref = NULL, *output = NULL;
	int r = one_container(argc, argv, "diff", usage, false, &ref, &output, reterr);

	if (r != 0)
		return r > 0 ? 0 : r;
	if ((r = conn_open(cctl->socket_path, &conn, reterr)) < 0)
		return r;
	struct proto_cp_params p = { .ref = ref };
	if ((r = cp_call(cctl, &conn, PROTO_M_DIFF, &p, -1, &reply, reterr)) < 0)
		return r;
	json_t *changes = json_object_get(reply.msg.result, "changes"), *item;
	size_t i;
	if (!json_is_array(changes))
		return err_set(reterr, -EBADMSG, "invalid reply to %s: no changes", PROTO_M_DIFF);
	json_array_foreach(changes, i, item) {
		_cleanup_free_ char *err = NULL;
		const char *path;
		char kind;
		if (proto_diff_change_decode(item, &kind, &path, &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_DIFF, err);
		printf("%c %s\n", kind, path);
	}
	return 0;
}

int cmd_export(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const char usage[] = "Usage:  cctl export [OPTIONS] CONTAINER\n"
				    "\n"
				    "Export a container's filesystem as a tar archive\n"
				    "\n"
				    "Options:\n"
				    "  -o, --output string   Write to a file, instead of STDOUT\n"
				    "      --help            Print usage\n";
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	const char *ref = NULL, *output = NULL;
	int r = one_container(argc, argv, "export", usage, true, &ref, &output, reterr);

	if (r != 0)
		return r > 0 ? 0 : r;
	if (!output && isatty(STDOUT_FILENO)) {
		cctl->error_exit = 1;
		return err_set(reterr, -EINVAL, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
	}
	if (output) {
		/* Written beside it and renamed when complete: a failed export leaves no torn file. */
		if (asprintf(&tmp, "%s.XXXXXX", output) < 0) {
			tmp = NULL;
			return -ENOMEM;
		}
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0)
			return err_set(reterr, -errno, "cannot create %s: %m", output);
		mode_t mask = umask(0);
		umask(mask);
		if (fchmod(fd, 0666 & ~mask) < 0) {
			r = err_set(reterr, -errno, "chmod %s: %m", tmp);
			goto fail;
		}
	}
	if ((r = conn_open(cctl->socket_path, &conn, reterr)) < 0)
		goto fail;
	struct proto_cp_params p = { .ref = ref };
	if ((r = cp_call(cctl, &conn, PROTO_M_EXPORT, &p, output ? fd : STDOUT_FILENO, &reply, reterr)) < 0)
		goto fail;
	if (output) {
		if (fsync(fd) < 0 || rename(tmp, output) < 0) {
			r = err_set(reterr, -errno, "cannot write %s: %m", output);
			goto fail;
		}
	}
	return 0;
fail:
	if (tmp && fd >= 0)
		unlink(tmp);
	return r;
}
