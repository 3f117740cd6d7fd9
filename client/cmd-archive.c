/* The image archive verbs: load (an OCI layout or docker save archive, passed as an fd) and save
 * (the daemon writes the archive to our fd: a file given with -o, or stdout). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/image-archive.h"
#include "protocol/protocol.h"

enum {
	ARCHIVE_OPT_INPUT = 1,
	ARCHIVE_OPT_OUTPUT,
	ARCHIVE_OPT_QUIET,
	ARCHIVE_OPT_HELP,
};

static void load_usage(void)
{
	fputs("Usage:  cctl load [OPTIONS]\n"
	      "\n"
	      "Load an image from a tar archive or STDIN (an OCI image layout or a docker save archive,\n"
	      "optionally gzip or zstd compressed)\n"
	      "\n"
	      "Options:\n"
	      "  -i, --input string   Read from tar archive file, instead of STDIN\n"
	      "  -q, --quiet          Suppress the load output\n"
	      "      --help           Print usage\n",
	      stdout);
}

/* Prints what docker load prints: a line per name, or the id of an image without one. */
static int load_print(json_t *result, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	json_t *items = proto_image_load_result_items(result, &err);
	struct proto_loaded_image li;

	if (!items)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_IMAGE_LOAD, err);
	for (size_t i = 0; i < json_array_size(items); i++) {
		if (proto_loaded_image_decode(json_array_get(items, i), &li, NULL) < 0)
			continue;
		if (json_array_size(li.names) == 0)
			printf("Loaded image ID: %s\n", li.id);
		for (size_t j = 0; j < json_array_size(li.names); j++)
			printf("Loaded image: %s\n", json_string_value(json_array_get(li.names, j)));
	}
	return 0;
}

int cmd_load(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ ARCHIVE_OPT_INPUT, 'i', "input", OPT_VALUE },
		{ ARCHIVE_OPT_QUIET, 'q', "quiet", OPT_FLAG },
		{ ARCHIVE_OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_close_ int fd = -1;
	const char *input = NULL;
	int key, r, send_fd = STDIN_FILENO;

	opts_init(&o, options, "load", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == ARCHIVE_OPT_INPUT) {
			input = o.arg;
		} else if (key == ARCHIVE_OPT_HELP && o.flag) {
			load_usage();
			return 0;
		}
		/* -q: there is no progress output to suppress; the "Loaded image" lines stay,
		 * as with docker load -q. */
	}
	if (key < 0)
		return key;
	if (o.n_operands != 0)
		return opts_usage_error(reterr, "load", "\"cctl load\" accepts no arguments.");
	/* The daemon reads the archive from our fd: it opens no path of ours. */
	if (input) {
		fd = open(input, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return err_set(reterr, -errno, "open %s: %m", input);
		send_fd = fd;
	} else if (isatty(STDIN_FILENO)) {
		cctl->error_exit = 1;
		return err_set(reterr, -EINVAL, "requested load from stdin, but stdin is empty");
	}
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	json_t *params = json_object();
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_call_ok(&conn, PROTO_M_IMAGE_LOAD, params, &send_fd, 1, &reply, reterr);
	if (r < 0)
		return r;
	return load_print(reply.msg.result, reterr);
}

static void save_usage(void)
{
	fputs("Usage:  cctl save [OPTIONS] IMAGE [IMAGE...]\n"
	      "\n"
	      "Save one or more images to a tar archive (streamed to STDOUT by default)\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output string   Write to a file, instead of STDOUT\n"
	      "      --help            Print usage\n",
	      stdout);
}

/* Opens a temporary file beside path, so that path appears only complete (as docker's CLI). */
static int save_open_temp(const char *path, char **ret_tmp, char **reterr)
{
	_cleanup_free_ char *tmp = NULL;
	mode_t mask = umask(0);
	int fd;

	umask(mask);
	if (asprintf(&tmp, "%s.cctl-XXXXXX", path) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_set(reterr, -errno, "failed to save image: unable to create %s: %m", path);
	if (fchmod(fd, 0666 & ~mask) < 0) {
		int r = -errno;
		unlink(tmp);
		close(fd);
		return err_set(reterr, r, "chmod %s: %m", tmp);
	}
	*ret_tmp = TAKE_PTR(tmp);
	return fd;
}

int cmd_save(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ ARCHIVE_OPT_OUTPUT, 'o', "output", OPT_VALUE },
		{ ARCHIVE_OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	const char *output = NULL;
	int key, r, send_fd = STDOUT_FILENO;

	opts_init(&o, options, "save", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == ARCHIVE_OPT_OUTPUT) {
			output = o.arg;
		} else if (key == ARCHIVE_OPT_HELP && o.flag) {
			save_usage();
			return 0;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands == 0)
		return opts_usage_error(reterr, "save", "\"cctl save\" requires at least 1 argument.");
	if (!output && isatty(STDOUT_FILENO)) {
		cctl->error_exit = 1;
		return err_set(reterr, -EINVAL, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
	}
	struct proto_image_save_params p = { .names = o.operands };
	json_t *params = proto_image_save_params_encode(&p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0) {
		json_decref(params);
		return r;
	}
	if (output) {
		fd = save_open_temp(output, &tmp, reterr);
		if (fd < 0) {
			json_decref(params);
			return fd;
		}
		send_fd = fd;
	}
	fflush(stdout);
	r = conn_call_ok(&conn, PROTO_M_IMAGE_SAVE, params, &send_fd, 1, &reply, reterr);
	if (r >= 0 && output && fsync(fd) < 0)
		r = err_set(reterr, -errno, "writing %s: %m", output);
	if (r >= 0 && output && rename(tmp, output) < 0)
		r = err_set(reterr, -errno, "failed to save image: unable to rename %s: %m", output);
	if (r < 0 && tmp)
		unlink(tmp);
	return r < 0 ? r : 0;
}
