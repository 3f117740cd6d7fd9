/* Published ports on the wire: the "ports", "publish_all" and "expose" members of container.run
 * and container.create params (docs/protocol.md), decoded into the domain's struct port_binding
 * (common/portspec.h) here, at the edge. Internal to protocol/ except for the limits. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/portspec.h"
#include "protocol/messages.h"

/* The most entries of "ports" and of "expose" in one request: a range such as 8000-8999:80
 * expands to a binding per port, and each published port costs the daemon a held socket. */
#define PROTO_MAX_PORTS 1024

/* "tcp" or "udp" of IPPROTO_TCP or IPPROTO_UDP. */
const char *proto_port_proto_name(int proto);
/* IPPROTO_TCP or IPPROTO_UDP of "tcp" or "udp"; -EINVAL otherwise. */
int proto_port_proto_parse(const char *s, int *ret);

/* One binding: {"proto": "tcp"|"udp", "host_ip": "A.B.C.D" (absent or "": every address),
 * "host_port": 0..65535 (0: the daemon picks one), "host_port_end" (optional: the daemon picks
 * one of host_port..host_port_end), "container_port": 1..65535}. */
json_t *proto_port_encode(const struct port_binding *b);
int proto_port_decode(json_t *o, struct port_binding *ret, char **reterr);

/* Decodes "ports", "publish_all" and "expose" (each {"proto", "container_port"}) into ret, whose
 * other members are left alone. */
int ports_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr);
/* Adds them to o when set: 0 or -ENOMEM. */
int ports_run_params_encode(const struct proto_run_params *p, json_t *o);
void ports_run_params_done(struct proto_run_params *p);

/* Docker's map of ports, as inspect shows NetworkSettings.Ports (requested false: the bound
 * ports, "HostIp": "0.0.0.0" for every address) and HostConfig.PortBindings (requested true:
 * "HostIp": "" and "HostPort": "" where the user named none): {"80/tcp": [{"HostIp": "...",
 * "HostPort": "8080"}, ...], "443/udp": null}. Each exposed container port without a binding maps
 * to null. NULL on ENOMEM. */
json_t *proto_ports_map_encode(const struct port_binding *v, size_t n, const struct port_binding *exposed,
			       size_t n_exposed, bool requested);
/* The bindings of such a map, in its order (null entries skipped); -EBADMSG with a message when
 * it is not one. *ret is NULL when there is none. */
int proto_ports_map_decode(json_t *map, struct port_binding **ret, size_t *ret_n, char **reterr);
