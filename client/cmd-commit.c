/* cctl commit: a new image from a container's changes, as docker commit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/cp.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

enum { COMMIT_OPT_AUTHOR = 1, COMMIT_OPT_CHANGE, COMMIT_OPT_MESSAGE, COMMIT_OPT_PAUSE, COMMIT_OPT_HELP };

static void commit_usage(void)
{
	fputs("Usage:  cctl commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n"
	      "\n"
	      "Create a new image from a container's changes\n"
	      "\n"
	      "Options:\n"
	      "  -a, --author string    Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
	      "  -c, --change list      Apply Dockerfile instruction to the created image\n"
	      "  -m, --message string   Commit message\n"
	      "  -p, --pause            Pause container during commit (default true)\n"
	      "      --help             Print usage\n",
	      stdout);
}

int cmd_commit(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ COMMIT_OPT_AUTHOR, 'a', "author", OPT_VALUE },
		{ COMMIT_OPT_CHANGE, 'c', "change", OPT_VALUE },
		{ COMMIT_OPT_MESSAGE, 'm', "message", OPT_VALUE },
		{ COMMIT_OPT_PAUSE, 'p', "pause", OPT_FLAG },
		{ COMMIT_OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_(proto_image_config_done) struct proto_image_config config = { .cmd = NULL };
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	struct proto_commit_params p = { .pause = true };
	bool changed = false;
	int key, r;

	opts_init(&o, options, "commit", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		switch (key) {
		case COMMIT_OPT_AUTHOR:
			p.author = o.arg;
			break;
		case COMMIT_OPT_CHANGE:
			if ((r = import_change(o.arg, &config, reterr)) < 0)
				return r;
			changed = true;
			break;
		case COMMIT_OPT_MESSAGE:
			p.message = o.arg;
			break;
		case COMMIT_OPT_PAUSE:
			p.pause = o.flag;
			break;
		case COMMIT_OPT_HELP:
			if (o.flag) {
				commit_usage();
				return 0;
			}
			break;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands < 1 || o.n_operands > 2)
		return opts_usage_error(reterr, "commit", "\"cctl commit\" requires at least 1 and at most 2 arguments.");
	p.ref = o.operands[0];
	p.repo = o.n_operands == 2 ? o.operands[1] : NULL;
	json_auto_t *config_json = changed ? proto_image_config_encode(&config) : NULL;
	if (changed && !config_json)
		return err_set(reterr, -ENOMEM, "out of memory");
	p.config = config_json;
	json_t *params = proto_commit_params_encode(&p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	/* A refusal (no such container, an invalid name) exits 1, as docker commit does. */
	cctl->error_exit = 1;
	if ((r = conn_open(cctl->socket_path, &conn, reterr)) < 0) {
		json_decref(params);
		return r;
	}
	if ((r = conn_call_ok(&conn, PROTO_M_COMMIT, params, NULL, 0, &reply, reterr)) < 0)
		return r;
	_cleanup_free_ char *err = NULL;
	struct proto_image_info info;
	if (proto_image_info_decode(reply.msg.result, &info, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_COMMIT, err);
	printf("%s\n", info.id);
	return 0;
}
