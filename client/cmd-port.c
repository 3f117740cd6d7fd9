/* cctl port: the published ports of a container, from container.inspect's "ports" (Docker's
 * NetworkSettings.Ports), printed as docker port prints them; and the Docker names inspect
 * --format gives those members. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/messages.h"
#include "protocol/ports.h"
#include "protocol/protocol.h"

static void port_usage(void)
{
	fputs("Usage:  cctl port CONTAINER [PRIVATE_PORT[/PROTO]]\n"
	      "\n"
	      "List port mappings or a specific mapping for the container\n"
	      "\n"
	      "Options:\n"
	      "      --help   Print usage\n",
	      stdout);
}

/* By container port, then protocol (tcp first), then as the daemon listed them. */
static int port_compare(const void *a, const void *b)
{
	const struct port_binding *x = a, *y = b;
	if (x->ctr_port != y->ctr_port)
		return x->ctr_port < y->ctr_port ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto == IPPROTO_TCP ? -1 : 1;
	return 0;
}

/* "0.0.0.0:32768": where a binding is reached on the host. */
static void port_host(const struct port_binding *b, char buf[32])
{
	char ip[INET_ADDRSTRLEN] = "0.0.0.0";
	struct in_addr in = {.s_addr = htonl(b->host_ip)};
	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	snprintf(buf, 32, "%s:%u", ip, (unsigned)b->host_port);
}

/* PRIVATE_PORT[/PROTO] as docker port takes it: a port from 1 to 65535, tcp by default. */
static int port_filter_parse(const char *arg, struct port_binding *ret, char **reterr)
{
	const char *slash = strchr(arg, '/');
	char *end;
	errno = 0;
	unsigned long port = strtoul(arg, &end, 10);
	ret->proto = IPPROTO_TCP;
	if (end == arg || errno || port < 1 || port > 65535 || (slash ? end != slash : *end != '\0') ||
	    (slash && proto_port_proto_parse(slash + 1, &ret->proto) < 0))
		return err_set(reterr, -EINVAL, "Error: invalid port (%s): expected PORT[/PROTO]", arg);
	ret->ctr_port = (uint16_t)port;
	return 0;
}

int cmd_port(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	enum { ARG_HELP = 1 };
	static const struct opt options[] = {{ARG_HELP, 0, "help", OPT_FLAG}, {}};
	_cleanup_(opts_done) struct opts o;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_free_ struct port_binding *v = NULL;
	struct port_binding want = {.ctr_port = 0};
	size_t n;
	int key, r;

	opts_init(&o, options, "port", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0)
		if (key == ARG_HELP && o.flag) {
			port_usage();
			return 0;
		}
	if (key < 0)
		return key;
	if (o.n_operands < 1 || o.n_operands > 2)
		return opts_usage_error(reterr, "port", "\"cctl port\" requires at least 1 and at most 2 arguments.");
	if (o.n_operands == 2 && (r = port_filter_parse(o.operands[1], &want, reterr)) < 0)
		return r;

	if ((r = conn_open(cctl->socket_path, &conn, reterr)) < 0)
		return r;
	struct proto_ref_params rp = {.ref = o.operands[0]};
	json_t *params = proto_ref_params_encode(PROTO_M_INSPECT, &rp);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = conn_call_ok(&conn, PROTO_M_INSPECT, params, NULL, 0, &reply, reterr)) < 0)
		return r;
	if ((r = proto_ports_map_decode(json_object_get(reply.msg.result, "ports"), &v, &n, reterr)) < 0)
		return r;
	if (n)
		qsort(v, n, sizeof(*v), port_compare);

	bool found = false;
	for (size_t i = 0; i < n; i++) {
		char host[32];
		port_host(&v[i], host);
		if (!want.ctr_port)
			printf("%u/%s -> %s\n", (unsigned)v[i].ctr_port, proto_port_proto_name(v[i].proto), host);
		else if (v[i].ctr_port == want.ctr_port && v[i].proto == want.proto)
			printf("%s\n", host);
		else
			continue;
		found = true;
	}
	if (want.ctr_port && !found) {
		cctl->error_exit = 1;
		return err_set(reterr, -ENOENT, "Error: No public port '%u/%s' published for %s",
			       (unsigned)want.ctr_port, proto_port_proto_name(want.proto), o.operands[0]);
	}
	return fflush(stdout) == 0 ? 0 : err_set(reterr, -errno, "cannot write to stdout: %m");
}

/* inspect --format's Docker names of the ports: NetworkSettings.Ports (merged into a
 * NetworkSettings another part may have made), HostConfig.PortBindings, HostConfig.PublishAllPorts
 * and Config.ExposedPorts, from the daemon's "ports", "port_bindings", "publish_all" and
 * "exposed_ports". 0 or -ENOMEM. */
int port_inspect_fields(json_t *result, json_t *docker)
{
	json_t *ns = json_object_get(docker, "NetworkSettings");
	json_t *host = json_object_get(docker, "HostConfig"), *config = json_object_get(docker, "Config");
	json_t *ports = json_object_get(result, "ports"), *bindings = json_object_get(result, "port_bindings");
	json_t *exposed = json_object_get(result, "exposed_ports");
	if (!ns && (json_object_set_new(docker, "NetworkSettings", ns = json_object()) < 0 || !ns))
		return -ENOMEM;
	json_t *ex = json_object();
	size_t i;
	json_t *e;
	json_array_foreach(exposed, i,
			   e) if (!ex || (json_is_string(e) &&
					  json_object_set_new(ex, json_string_value(e), json_object()) < 0)) break;
	if (!ex || json_object_set_new(ns, "Ports", ports ? json_incref(ports) : json_object()) < 0 ||
	    (host && json_object_set_new(host, "PortBindings", bindings ? json_incref(bindings) : json_object()) < 0) ||
	    (host && json_object_set_new(host, "PublishAllPorts",
					 json_boolean(json_is_true(json_object_get(result, "publish_all")))) < 0) ||
	    (config && json_object_set(config, "ExposedPorts", ex) < 0)) {
		json_decref(ex);
		return -ENOMEM;
	}
	json_decref(ex);
	return 0;
}
