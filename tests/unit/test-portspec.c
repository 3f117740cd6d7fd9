/* Unit tests for common/portspec.c: Docker's -p syntax, its expansions and its error messages. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "common/portspec.h"
#include "tests/tap.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Parses one spec into a fresh vector and checks it formats as want (bindings joined by ' '). */
static void check(const char *spec, const char *want)
{
	struct port_binding *v = NULL;
	size_t n = 0;
	char *err = NULL, out[512] = "", one[64];
	int r = portspec_parse(spec, &v, &n, &err);

	for (size_t i = 0; r == 0 && i < n; i++) {
		if (portspec_format(&v[i], one, sizeof(one)) < 0) {
			r = -ENOBUFS;
			break;
		}
		if (i)
			strcat(out, " ");
		strcat(out, one);
	}
	ok(r == 0 && err == NULL, "\"%s\" parses (r=%d, %s)", spec, r, err ? err : "no message");
	is_str(out, want, "\"%s\" gives %s", spec, want);
	free(v);
	free(err);
}

/* A spec that must fail with exactly this message and leave the vector alone. */
static void check_bad(const char *spec, const char *msg)
{
	struct port_binding *v = NULL;
	size_t n = 0;
	char *err = NULL;
	int r;

	r = portspec_parse("1", &v, &n, NULL);
	r = portspec_parse(spec, &v, &n, &err);
	ok(r == -EINVAL && n == 1, "\"%s\" is refused (r=%d, n=%zu)", spec, r, n);
	is_str(err, msg, "\"%s\": Docker's message", spec);
	free(v);
	free(err);
}

int main(void)
{
	check("80", "0.0.0.0:0->80/tcp");
	check("8080:80", "0.0.0.0:8080->80/tcp");
	check("127.0.0.1:8080:80", "127.0.0.1:8080->80/tcp");
	check("127.0.0.1::80", "127.0.0.1:0->80/tcp");
	check(":8080:80", "0.0.0.0:8080->80/tcp");
	check("53/udp", "0.0.0.0:0->53/udp");
	check("80/", "0.0.0.0:0->80/tcp");
	check("53/UDP", "0.0.0.0:0->53/udp");
	check("0:80", "0.0.0.0:0->80/tcp");
	check("65535:65535/udp", "0.0.0.0:65535->65535/udp");
	check("8000-8001:80-81/udp", "0.0.0.0:8000->80/udp 0.0.0.0:8001->81/udp");
	check("80-82", "0.0.0.0:0->80/tcp 0.0.0.0:0->81/tcp 0.0.0.0:0->82/tcp");
	check("10.1.2.3:8000-8010:80", "10.1.2.3:8000-8010->80/tcp");
	check("9000-9000:90", "0.0.0.0:9000->90/tcp");

	check_bad("0", "invalid containerPort: 0");
	check_bad("65536", "invalid containerPort: 65536");
	check_bad("8080:x", "invalid containerPort: x");
	check_bad("8080:81-80", "invalid containerPort: 81-80");
	check_bad("8080:+80", "invalid containerPort: +80");
	check_bad("x:80", "Invalid hostPort: x");
	check_bad("70000:80", "Invalid hostPort: 70000");
	check_bad("0-5:80", "Invalid hostPort: 0-5");
	check_bad("80/sctp", "invalid proto: sctp");
	check_bad("80/TCP/x", "invalid proto: TCP/x");
	check_bad("8000-8002:80-81", "Invalid ranges specified for container and host Ports: 80-81 and 8000-8002");
	check_bad("8000:80-81", "Invalid ranges specified for container and host Ports: 80-81 and 8000");
	check_bad("300.1.1.1:80:80", "Invalid ip address: 300.1.1.1 (containd publishes on IPv4 only)");
	check_bad("::1:80:80", "Invalid ip address: ::1 (containd publishes on IPv4 only)");
	check_bad("8080:", "No port specified: 8080:<empty>");
	check_bad("", "No port specified: <empty>");

	/* Appending: two specs in one vector, the fields themselves. */
	struct port_binding *v = NULL;
	size_t n = 0;
	is_int(portspec_parse("127.0.0.1:8080:80", &v, &n, NULL), 0, "first spec");
	is_int(portspec_parse("53:5353/udp", &v, &n, NULL), 0, "second spec appends");
	is_int(n, 2, "two bindings");
	ok(v[0].proto == IPPROTO_TCP && v[0].host_ip == A(127, 0, 0, 1) && v[0].host_port == 8080 &&
	       v[0].ctr_port == 80 && v[0].host_port_end == 0,
	   "the first binding's fields");
	ok(v[1].proto == IPPROTO_UDP && v[1].host_ip == 0 && v[1].host_port == 53 && v[1].ctr_port == 5353,
	   "the second binding's fields");
	char small[8];
	is_int(portspec_format(&v[0], small, sizeof(small)), -ENOBUFS, "format into a small buffer: -ENOBUFS");
	free(v);

	/* The whole port range is one spec; past PORTSPEC_MAX the vector stays as it was. */
	v = NULL;
	n = 0;
	is_int(portspec_parse("1-65535/udp", &v, &n, NULL), 0, "1-65535 expands");
	is_int(n, 65535, "to 65535 bindings");
	char *err = NULL;
	is_int(portspec_parse("1-2", &v, &n, &err), -E2BIG, "two more is past PORTSPEC_MAX");
	is_int(n, 65535, "the vector is unchanged");
	free(err);
	free(v);
	return tap_done();
}
