/* cctl run and create: -p/--publish, -P/--publish-all and --expose, collected into the params'
 * port bindings (protocol/ports.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/portspec.h"
#include "protocol/messages.h"

struct run_ports {
	struct port_binding *ports; /* -p, every range expanded */
	size_t n_ports;
	struct port_binding *expose; /* --expose: container ports only */
	size_t n_expose;
	bool publish_all;
};

/* Adds one -p SPEC (Docker's syntax and messages, common/portspec.h). */
int run_ports_publish(struct run_ports *rp, const char *spec, char **reterr);
/* Adds one --expose PORT[-PORT][/PROTO]. */
int run_ports_expose(struct run_ports *rp, const char *spec, char **reterr);
/* Points p's port members at what rp holds (rp keeps them), as Docker takes them for p's network
 * mode: with --network host they are discarded (a warning says so), with container:NAME they
 * are refused. */
int run_ports_apply(const struct run_ports *rp, struct proto_run_params *p, char **reterr);
void run_ports_done(struct run_ports *rp);
