/* cctl network connect [--alias NAME] [--ip ADDR] NETWORK CONTAINER and cctl network disconnect
 * [-f] NETWORK CONTAINER, as docker's: the daemon does the work (network.connect,
 * network.disconnect) and checks the values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/endpoint.h"

enum { NC_HELP = 1, NC_ALIAS, NC_IP, NC_FORCE, NC_IGNORED };

static const char connect_usage[] = "Usage:  cctl network connect [OPTIONS] NETWORK CONTAINER\n"
				    "\n"
				    "Connect a container to a network\n"
				    "\n"
				    "Options:\n"
				    "      --alias NAME   Add a network-scoped alias for the container (repeatable)\n"
				    "      --ip ADDRESS   IPv4 address\n"
				    "      --help         Print usage\n";

static const char disconnect_usage[] = "Usage:  cctl network disconnect [OPTIONS] NETWORK CONTAINER\n"
				       "\n"
				       "Disconnect a container from a network\n"
				       "\n"
				       "Options:\n"
				       "  -f, --force   Force the container to disconnect from a network\n"
				       "      --help    Print usage\n";

/* Both verbs: parse, then one call. The aliases array holds argv's strings (only it is ours). */
static int connect_verb(struct cctl *cctl, int argc, char **argv, bool connect, char **reterr)
{
	static const struct opt connect_options[] = {
	    {NC_ALIAS, 0, "alias", OPT_VALUE},
	    {NC_IP, 0, "ip", OPT_VALUE},
	    /* Docker's IPv6 and link options: containd's networks are IPv4 and have no links. */
	    {NC_IGNORED, 0, "ip6", OPT_VALUE},
	    {NC_HELP, 0, "help", OPT_FLAG},
	    {},
	};
	static const struct opt disconnect_options[] = {
	    {NC_FORCE, 'f', "force", OPT_FLAG},
	    {NC_HELP, 0, "help", OPT_FLAG},
	    {},
	};
	const char *verb = connect ? "network connect" : "network disconnect";
	_cleanup_(opts_done) struct opts o;
	_cleanup_free_ char **aliases = NULL;
	struct proto_network_connect_params p = {0};
	size_t n_aliases = 0;
	int key;
	opts_init(&o, connect ? connect_options : disconnect_options, verb, true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		switch (key) {
		case NC_HELP:
			if (o.flag) {
				fputs(connect ? connect_usage : disconnect_usage, stdout);
				return 0;
			}
			break;
		case NC_ALIAS: {
			if (n_aliases >= PROTO_MAX_NET_ITEMS)
				return opts_usage_error(reterr, verb, "too many aliases (at most %d)",
							PROTO_MAX_NET_ITEMS);
			char **v = reallocarray(aliases, n_aliases + 2, sizeof(char *));
			if (!v)
				return err_set(reterr, -ENOMEM, "out of memory");
			aliases = v;
			aliases[n_aliases++] = (char *)o.arg;
			aliases[n_aliases] = NULL;
			break;
		}
		case NC_IP:
			p.ip = (char *)o.arg;
			break;
		case NC_FORCE:
			p.force = o.flag;
			break;
		case NC_IGNORED:
			return opts_invalid_argument(&o, reterr, "containd's networks are IPv4 only");
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands != 2)
		return opts_usage_error(reterr, verb, "\"cctl %s\" requires exactly 2 arguments.", verb);
	p.network = o.operands[0];
	p.container = o.operands[1];
	p.aliases = aliases;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	json_t *params = proto_network_connect_params_encode(&p, connect);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0) {
		json_decref(params);
		return r;
	}
	return conn_call_ok(&conn, connect ? PROTO_M_NETWORK_CONNECT : PROTO_M_NETWORK_DISCONNECT, params, NULL, 0,
			    &reply, reterr);
}

int cmd_network_connect(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	return connect_verb(cctl, argc, argv, true, reterr);
}

int cmd_network_disconnect(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	return connect_verb(cctl, argc, argv, false, reterr);
}
