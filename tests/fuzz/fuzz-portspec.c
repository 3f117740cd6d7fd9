/* Fuzz target for Docker's -p parser (common/portspec.c). The input is one spec as a peer or a
 * user gives it, cut at its first NUL. An accepted spec appends at least one binding, each of a
 * known protocol with a container port, formats, and (written back as IP:HOST:CTR/PROTO) parses to
 * the same binding; a refusal is -EINVAL or -E2BIG with a message and leaves the vector alone. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/portspec.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_PORTSPEC_INPUT_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[FUZZ_PORTSPEC_INPUT_MAX + 1];
	struct port_binding *v = NULL;
	size_t n = 0;
	char *err = NULL;
	int r;

	if (size > FUZZ_PORTSPEC_INPUT_MAX)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	r = portspec_parse(spec, &v, &n, &err);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -E2BIG);
		FUZZ_CHECK(err && *err && strlen(err) < 512);
		FUZZ_CHECK(n == 0 && v == NULL);
		free(err);
		return 0;
	}
	FUZZ_CHECK(!err && n >= 1 && n <= 65535);
	for (size_t i = 0; i < n; i++) {
		const struct port_binding *b = &v[i];
		char out[64], again[80];
		struct port_binding *w = NULL;
		size_t m = 0;
		FUZZ_CHECK(b->proto == IPPROTO_TCP || b->proto == IPPROTO_UDP);
		FUZZ_CHECK(b->ctr_port != 0);
		FUZZ_CHECK(b->host_port_end == 0 || (b->host_port != 0 && b->host_port_end > b->host_port));
		FUZZ_CHECK(i == 0 || b->ctr_port == v[i - 1].ctr_port + 1 || b->host_port_end);
		FUZZ_CHECK(portspec_format(b, out, sizeof(out)) == 0);
		FUZZ_CHECK(strstr(out, "->") && strchr(out, '/'));
		if (i > 2 && i < n - 1)
			continue;
		if (b->host_port_end)
			snprintf(again, sizeof(again), "%u.%u.%u.%u:%u-%u:%u/%s", b->host_ip >> 24,
				 (b->host_ip >> 16) & 255, (b->host_ip >> 8) & 255, b->host_ip & 255, b->host_port,
				 b->host_port_end, b->ctr_port, portspec_proto_name(b->proto));
		else
			snprintf(again, sizeof(again), "%u.%u.%u.%u:%u:%u/%s", b->host_ip >> 24,
				 (b->host_ip >> 16) & 255, (b->host_ip >> 8) & 255, b->host_ip & 255, b->host_port,
				 b->ctr_port, portspec_proto_name(b->proto));
		FUZZ_CHECK(portspec_parse(again, &w, &m, NULL) == 0 && m == 1);
		FUZZ_CHECK(w->proto == b->proto && w->host_ip == b->host_ip && w->host_port == b->host_port &&
			   w->ctr_port == b->ctr_port && w->host_port_end == b->host_port_end);
		free(w);
	}
	free(v);
	return 0;
}
