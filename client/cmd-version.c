/* cctl version: this client's version, then the daemon's. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/commands.h"
#include "client/conn.h"
#include "common/error.h"
#include "protocol/protocol.h"

int cmd_version(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	int r = cmd_no_arguments(argc, argv, "version", "Show the cctl and containd version information", reterr);
	if (r != 0)
		return r > 0 ? 0 : r;

	printf("Client:\n"
	       " %-16s %s\n"
	       " %-16s %d\n",
	       "Version:", CONTAIND_VERSION, "Protocol:", PROTOCOL_VERSION);
	/* Show the client part even when the daemon cannot be reached. */
	fflush(stdout);

	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	r = conn_call_ok(&conn, PROTO_M_VERSION, NULL, NULL, 0, &reply, reterr);
	if (r < 0)
		return r;

	/* Every field the daemon reports ("version", "protocol", "cgroup_layout", ...), in its order,
	 * so the client needs no change when the daemon reports more. */
	printf("\nServer:\n");
	const char *key;
	json_t *value;
	json_object_foreach(reply.msg.result, key, value) {
		if (!*key)
			continue;
		/* "cgroup_layout" becomes "Cgroup layout:". */
		char label[64];
		snprintf(label, sizeof(label), "%c%s:", toupper((unsigned char)key[0]), key + 1);
		for (char *p = label; *p; p++)
			if (*p == '_')
				*p = ' ';
		if (json_is_string(value))
			printf(" %-16s %s\n", label, json_string_value(value));
		else if (json_is_integer(value))
			printf(" %-16s %lld\n", label, (long long)json_integer_value(value));
	}
	return 0;
}
