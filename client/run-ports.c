#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/run-ports.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/ports.h"

/* Every -p is parsed here, so a bad spec fails before anything is sent; the daemon checks the
 * decoded bindings again (a peer need not be cctl). */
int run_ports_publish(struct run_ports *rp, const char *spec, char **reterr)
{
	int r = portspec_parse(spec, &rp->ports, &rp->n_ports, reterr);
	if (r < 0)
		return r;
	if (rp->n_ports > PROTO_MAX_PORTS)
		return err_set(reterr, -E2BIG, "too many published ports (at most %d)", PROTO_MAX_PORTS);
	return 0;
}

/* --expose takes what -p takes without a host part: "80", "80/udp", "8000-8010/tcp". */
int run_ports_expose(struct run_ports *rp, const char *spec, char **reterr)
{
	size_t before = rp->n_expose;
	int r = portspec_parse(spec, &rp->expose, &rp->n_expose, reterr);
	if (r < 0)
		return r;
	for (size_t i = before; i < rp->n_expose; i++)
		if (rp->expose[i].host_ip || rp->expose[i].host_port || strchr(spec, ':'))
			return err_set(reterr, -EINVAL,
				       "invalid range format for --expose: %s, error: expected PORT[-PORT][/PROTO]",
				       spec);
	if (rp->n_expose > PROTO_MAX_PORTS)
		return err_set(reterr, -E2BIG, "too many exposed ports (at most %d)", PROTO_MAX_PORTS);
	return 0;
}

int run_ports_apply(const struct run_ports *rp, struct proto_run_params *p, char **reterr)
{
	bool publishes = rp->n_ports || rp->publish_all;
	if (publishes && p->network && strncmp(p->network, "container:", 10) == 0)
		return err_set(reterr, -EINVAL,
			       "conflicting options: port publishing and the container type network mode");
	if (publishes && p->network && strcmp(p->network, "host") == 0) {
		fputs("WARNING: Published ports are discarded when using host network mode\n", stderr);
		return 0;
	}
	p->ports = rp->ports;
	p->n_ports = rp->n_ports;
	p->expose = rp->expose;
	p->n_expose = rp->n_expose;
	p->publish_all = rp->publish_all;
	return 0;
}

void run_ports_done(struct run_ports *rp)
{
	free(rp->ports);
	free(rp->expose);
	*rp = (struct run_ports){.ports = NULL};
}
