/* Docker's -p syntax ([IP:][HOSTPORT:]CONTAINERPORT[/PROTO], ports or ranges), shared by cctl and the
 * daemon. Pure code, fuzzed. IPv4 only; addresses are in HOST byte order. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The most bindings one vector may hold (a range expands to one binding per port). */
#define PORTSPEC_MAX 65536

struct port_binding {
	int proto;	    /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_ip;   /* 0: every address */
	uint16_t host_port; /* 0: pick one */
	uint16_t ctr_port;
	/* A host range with one container port ("8000-8010:80"): pick the host port from
	 * host_port..host_port_end. 0 when host_port is a single port (or 0). */
	uint16_t host_port_end;
};

/* "80", "8080:80", "127.0.0.1:8080:80", "127.0.0.1::80", "8000-8001:80-81/udp" (ranges expand;
 * equal lengths, or a host range with one container port), "/tcp" default. Appends to *v (realloc)
 * and *n; on error neither changes. -EINVAL with Docker's message ("invalid containerPort: x",
 * "Invalid hostPort: x", "invalid proto: x", "Invalid ranges specified for container and host
 * Ports: x and y", "Invalid ip address: x", "No port specified: x<empty>"); -E2BIG past PORTSPEC_MAX. */
int portspec_parse(const char *spec, struct port_binding **v, size_t *n, char **reterr);

/* "0.0.0.0:8080->80/tcp" ("0.0.0.0:8000-8010->80/tcp" for a host range). -ENOBUFS if size is too small. */
int portspec_format(const struct port_binding *b, char *buf, size_t size);

/* "tcp" or "udp" (NULL for another protocol). */
const char *portspec_proto_name(int proto);
