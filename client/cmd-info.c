/* cctl info: what the daemon holds (containers, images) and how it runs, from system.info. */
#include <errno.h>
#include <stdio.h>

#include "client/commands.h"
#include "client/conn.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

int cmd_info(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_free_ char *err = NULL;
	struct proto_system_info info;

	int r = cmd_no_arguments(argc, argv, "info", "Display system-wide information", reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	r = conn_call_ok(&conn, PROTO_M_INFO, NULL, NULL, 0, &reply, reterr);
	if (r < 0)
		return r;
	if (proto_system_info_decode(reply.msg.result, &info, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_INFO, err);

	printf("Containers: %u\n"
	       " Running: %u\n"
	       " Stopped: %u\n"
	       "Images: %u\n"
	       "Server Version: %s\n"
	       "Cgroup Layout: %s\n",
	       info.containers, info.running, info.containers >= info.running ? info.containers - info.running : 0,
	       info.images, info.version ? info.version : "", info.cgroup_layout ? info.cgroup_layout : "");
	return 0;
}
