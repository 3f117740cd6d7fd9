#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/field.h"
#include "protocol/ports.h"

const char *proto_port_proto_name(int proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

int proto_port_proto_parse(const char *s, int *ret)
{
	if (strcmp(s, "tcp") == 0)
		*ret = IPPROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*ret = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

json_t *proto_port_encode(const struct port_binding *b)
{
	char ip[INET_ADDRSTRLEN] = "";
	struct in_addr a = {.s_addr = htonl(b->host_ip)};
	if (b->host_ip && !inet_ntop(AF_INET, &a, ip, sizeof(ip)))
		return NULL;
	json_t *o = json_pack("{s:s, s:s, s:i, s:i}", "proto", proto_port_proto_name(b->proto), "host_ip", ip,
			      "host_port", (int)b->host_port, "container_port", (int)b->ctr_port);
	if (o && b->host_port_end && json_object_set_new(o, "host_port_end", json_integer(b->host_port_end)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int proto_port_decode(json_t *o, struct port_binding *ret, char **reterr)
{
	static const char *const keys[] = {"proto", "host_ip", "host_port", "host_port_end", "container_port", NULL};
	const char *proto = "tcp", *ip = NULL;
	int64_t host_port = 0, host_port_end = 0, ctr_port = 0;
	int r;
	*ret = (struct port_binding){.proto = IPPROTO_TCP};
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "a port must be an object");
	if ((r = field_check_known(o, keys, NULL, "a port", reterr)) < 0 ||
	    (r = field_get_string(o, "proto", false, &proto, reterr)) < 0 ||
	    (r = field_get_string(o, "host_ip", false, &ip, reterr)) < 0 ||
	    (r = field_get_int(o, "host_port", 0, 65535, &host_port, reterr)) < 0 ||
	    (r = field_get_int(o, "host_port_end", 0, 65535, &host_port_end, reterr)) < 0 ||
	    (r = field_get_int(o, "container_port", 1, 65535, &ctr_port, reterr)) < 0)
		return r;
	if (!json_object_get(o, "container_port"))
		return err_set(reterr, -EINVAL, "missing parameter \"container_port\"");
	if (proto_port_proto_parse(proto, &ret->proto) < 0)
		return err_set(reterr, -EINVAL, "invalid proto: %.16s", proto);
	if (ip && ip[0]) {
		struct in_addr a;
		if (inet_pton(AF_INET, ip, &a) != 1)
			return err_set(reterr, -EINVAL, "invalid IP address: %.64s", ip);
		ret->host_ip = ntohl(a.s_addr);
	}
	if (host_port_end && (host_port == 0 || host_port_end <= host_port))
		return err_set(reterr, -EINVAL, "invalid host port range %d-%d", (int)host_port, (int)host_port_end);
	ret->host_port = (uint16_t)host_port;
	ret->host_port_end = (uint16_t)host_port_end;
	ret->ctr_port = (uint16_t)ctr_port;
	return 0;
}

/* An array of at most PROTO_MAX_PORTS port objects; expose's carry only proto and container_port. */
static int ports_decode(json_t *params, const char *key, bool expose, struct port_binding **ret, size_t *n,
			char **reterr)
{
	json_t *a = json_object_get(params, key);
	int r;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > PROTO_MAX_PORTS)
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be an array of at most %d ports", key,
			       PROTO_MAX_PORTS);
	if (json_array_size(a) == 0)
		return 0;
	*ret = calloc(json_array_size(a), sizeof(**ret));
	if (!*ret)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		struct port_binding *b = &(*ret)[*n];
		if ((r = proto_port_decode(json_array_get(a, i), b, reterr)) < 0)
			return r;
		if (expose && (b->host_ip || b->host_port))
			return err_set(reterr, -EINVAL, "parameter \"expose\" takes no host address or port");
		(*n)++;
	}
	return 0;
}

int ports_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr)
{
	int r;
	if ((r = field_get_bool(params, "publish_all", &ret->publish_all, reterr)) < 0 ||
	    (r = ports_decode(params, "ports", false, &ret->ports, &ret->n_ports, reterr)) < 0 ||
	    (r = ports_decode(params, "expose", true, &ret->expose, &ret->n_expose, reterr)) < 0)
		return r;
	return 0;
}

/* An array of the bindings; expose's without their host members. */
static json_t *ports_encode(const struct port_binding *v, size_t n, bool expose)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *p = expose ? json_pack("{s:s, s:i}", "proto", proto_port_proto_name(v[i].proto),
					       "container_port", (int)v[i].ctr_port)
				   : proto_port_encode(&v[i]);
		if (json_array_append_new(a, p) < 0 || !p) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int ports_run_params_encode(const struct proto_run_params *p, json_t *o)
{
	if (p->publish_all && json_object_set_new(o, "publish_all", json_true()) < 0)
		return -ENOMEM;
	if (p->n_ports && json_object_set_new(o, "ports", ports_encode(p->ports, p->n_ports, false)) < 0)
		return -ENOMEM;
	if (p->n_expose && json_object_set_new(o, "expose", ports_encode(p->expose, p->n_expose, true)) < 0)
		return -ENOMEM;
	return 0;
}

void ports_run_params_done(struct proto_run_params *p)
{
	free(p->ports);
	p->ports = NULL;
	p->n_ports = 0;
	free(p->expose);
	p->expose = NULL;
	p->n_expose = 0;
	p->publish_all = false;
}

/* "80/tcp": Docker's key of a container port. */
static void port_key(const struct port_binding *b, char buf[16])
{
	snprintf(buf, 16, "%u/%s", (unsigned)b->ctr_port, proto_port_proto_name(b->proto));
}

json_t *proto_ports_map_encode(const struct port_binding *v, size_t n, const struct port_binding *exposed,
			       size_t n_exposed, bool requested)
{
	json_t *m = json_object();
	char key[16], ip[INET_ADDRSTRLEN], port[8];
	for (size_t i = 0; m && i < n; i++) {
		port_key(&v[i], key);
		json_t *a = json_object_get(m, key);
		if (!a && (json_object_set_new(m, key, a = json_array()) < 0 || !a))
			goto fail;
		struct in_addr in = {.s_addr = htonl(v[i].host_ip)};
		if (!inet_ntop(AF_INET, &in, ip, sizeof(ip)))
			goto fail;
		snprintf(port, sizeof(port), "%u", (unsigned)v[i].host_port);
		if (requested && !v[i].host_ip)
			ip[0] = '\0';
		if (requested && !v[i].host_port)
			port[0] = '\0';
		if (json_array_append_new(a, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", port)) < 0)
			goto fail;
	}
	for (size_t i = 0; m && i < n_exposed; i++) {
		port_key(&exposed[i], key);
		if (!json_object_get(m, key) && json_object_set_new(m, key, json_null()) < 0)
			goto fail;
	}
	return m;
fail:
	json_decref(m);
	return NULL;
}

/* "80/tcp" back to a port and protocol. */
static int port_key_parse(const char *key, struct port_binding *b)
{
	char proto[8];
	unsigned port;
	int used = 0;
	if (sscanf(key, "%5u/%7[a-z]%n", &port, proto, &used) != 2 || key[used] || port < 1 || port > 65535 ||
	    proto_port_proto_parse(proto, &b->proto) < 0)
		return -EBADMSG;
	b->ctr_port = (uint16_t)port;
	return 0;
}

int proto_ports_map_decode(json_t *map, struct port_binding **ret, size_t *ret_n, char **reterr)
{
	_cleanup_free_ struct port_binding *v = NULL;
	size_t n = 0, cap = 0;
	const char *key;
	json_t *a;
	*ret = NULL;
	*ret_n = 0;
	if (!map || json_is_null(map))
		return 0;
	if (!json_is_object(map))
		return err_set(reterr, -EBADMSG, "the ports must be an object");
	json_object_foreach(map, key, a)
	{
		struct port_binding b = {.proto = IPPROTO_TCP};
		if (port_key_parse(key, &b) < 0 || (!json_is_null(a) && !json_is_array(a)))
			return err_set(reterr, -EBADMSG, "invalid port \"%.32s\"", key);
		size_t i;
		json_t *e;
		json_array_foreach(a, i, e)
		{
			const char *ip = json_string_value(json_object_get(e, "HostIp"));
			const char *port = json_string_value(json_object_get(e, "HostPort"));
			struct in_addr in = {0};
			char *end;
			unsigned long hp = port && *port ? strtoul(port, &end, 10) : 0;
			if (!ip || !port || (*ip && inet_pton(AF_INET, ip, &in) != 1) ||
			    (*port && (*end || hp > 65535)))
				return err_set(reterr, -EBADMSG, "invalid binding of port \"%.32s\"", key);
			if (n == cap) {
				struct port_binding *nv = reallocarray(v, cap ? 2 * cap : 8, sizeof(*nv));
				if (!nv)
					return err_set(reterr, -ENOMEM, "out of memory");
				v = nv;
				cap = cap ? 2 * cap : 8;
			}
			b.host_ip = ntohl(in.s_addr);
			b.host_port = (uint16_t)hp;
			v[n++] = b;
		}
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}
