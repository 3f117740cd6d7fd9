/* Docker's -p parser (go-connections' nat.ParsePortSpec), with its messages, for IPv4. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/portspec.h"

/* Longest spec we look at: an address, two ranges and a protocol fit in far less. */
#define PORTSPEC_LEN_MAX 128

/* "80" or "80-81": decimal ports 0-65535 (at most 5 digits, no sign), start <= end. */
static int portspec_range(const char *s, unsigned *start, unsigned *end)
{
	unsigned v[2] = {0, 0};
	int k = 0;

	for (;;) {
		size_t n = 0;
		unsigned x = 0;
		while (s[n] >= '0' && s[n] <= '9') {
			if (n == 5)
				return -EINVAL;
			x = x * 10 + (unsigned)(s[n] - '0');
			n++;
		}
		if (n == 0 || x > 65535)
			return -EINVAL;
		v[k] = x;
		s += n;
		if (*s == '-' && k == 0) {
			s++;
			k = 1;
			continue;
		}
		if (*s)
			return -EINVAL;
		break;
	}
	if (k == 0)
		v[1] = v[0];
	if (v[0] > v[1])
		return -EINVAL;
	*start = v[0];
	*end = v[1];
	return 0;
}

const char *portspec_proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return NULL;
	}
}

int portspec_parse(const char *spec, struct port_binding **v, size_t *n, char **reterr)
{
	char buf[PORTSPEC_LEN_MAX];
	char *ip = NULL, *host = NULL, *ctr, *proto, *slash;
	unsigned cs, ce, hs = 0, he = 0;
	uint32_t host_ip = 0;
	int proto_num;
	size_t count;
	struct port_binding *nv;

	if (strlen(spec) >= sizeof(buf))
		return err_set(reterr, -EINVAL, "Invalid port spec: too long (%zu bytes)", strlen(spec));
	strcpy(buf, spec);

	/* IP:HOST:CTR, HOST:CTR or CTR; more colons than that would be an IPv6 address, which
	 * containd does not publish on. */
	ctr = strrchr(buf, ':');
	if (ctr) {
		*ctr++ = '\0';
		host = strrchr(buf, ':');
		if (host) {
			*host++ = '\0';
			ip = buf;
		} else {
			host = buf;
		}
	} else {
		ctr = buf;
	}

	/* "80/udp"; "80/" means tcp, as Docker's SplitProtoPort has it. */
	proto = "tcp";
	slash = strchr(ctr, '/');
	if (slash) {
		*slash = '\0';
		if (slash[1])
			proto = slash + 1;
	}
	if (ip && *ip) {
		struct in_addr a;
		if (inet_pton(AF_INET, ip, &a) != 1)
			return err_set(reterr, -EINVAL, "Invalid ip address: %s (containd publishes on IPv4 only)", ip);
		host_ip = ntohl(a.s_addr);
	}
	if (!*ctr)
		return err_set(reterr, -EINVAL, "No port specified: %s<empty>", spec);
	if (portspec_range(ctr, &cs, &ce) < 0 || cs == 0)
		return err_set(reterr, -EINVAL, "invalid containerPort: %s", ctr);
	if (host && *host) {
		/* Host port 0 only alone, meaning "pick one"; never as the end of a range. */
		if (portspec_range(host, &hs, &he) < 0 || (hs == 0 && he != 0))
			return err_set(reterr, -EINVAL, "Invalid hostPort: %s", host);
		if (he - hs != ce - cs && ce != cs)
			return err_set(reterr, -EINVAL,
				       "Invalid ranges specified for container and host Ports: %s and %s", ctr, host);
	}
	/* Docker lowercases the protocol before it checks it. */
	if (strcasecmp(proto, "tcp") == 0)
		proto_num = IPPROTO_TCP;
	else if (strcasecmp(proto, "udp") == 0)
		proto_num = IPPROTO_UDP;
	else
		return err_set(reterr, -EINVAL, "invalid proto: %s", proto);

	count = ce - cs + 1;
	if (*n > PORTSPEC_MAX || count > PORTSPEC_MAX - *n)
		return err_set(reterr, -E2BIG, "too many published ports (at most %d)", PORTSPEC_MAX);
	nv = realloc(*v, (*n + count) * sizeof(**v));
	if (!nv)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		struct port_binding *b = &nv[*n + i];
		*b = (struct port_binding){.proto = proto_num, .host_ip = host_ip, .ctr_port = (uint16_t)(cs + i)};
		if (hs && cs == ce && hs != he) {
			b->host_port = (uint16_t)hs;
			b->host_port_end = (uint16_t)he;
		} else if (hs) {
			b->host_port = (uint16_t)(hs + i);
		}
	}
	*v = nv;
	*n += count;
	return 0;
}

int portspec_format(const struct port_binding *b, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN], hp[16];
	struct in_addr a = {.s_addr = htonl(b->host_ip)};
	const char *proto = portspec_proto_name(b->proto);
	int r;

	if (!inet_ntop(AF_INET, &a, ip, sizeof(ip)))
		return -EINVAL;
	if (b->host_port_end && b->host_port_end != b->host_port)
		snprintf(hp, sizeof(hp), "%u-%u", (unsigned)b->host_port, (unsigned)b->host_port_end);
	else
		snprintf(hp, sizeof(hp), "%u", (unsigned)b->host_port);
	r = snprintf(buf, size, "%s:%s->%u/%s", ip, hp, (unsigned)b->ctr_port, proto ? proto : "?");
	if (r < 0 || (size_t)r >= size)
		return -ENOBUFS;
	return 0;
}
