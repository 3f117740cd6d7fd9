/* The lifecycle part of container.run and container.create params (entrypoint, stop signal,
 * restart policy), container.start's params, and the restart fields of container.inspect: what
 * messages.c calls for those members. Internal to protocol/ (the public types are in
 * messages.h). */
#pragma once

#include <jansson.h>

#include "protocol/messages.h"

/* Decodes "entrypoint", "stop_signal" and "restart_policy" into ret (its other members are left
 * alone); on failure what was decoded stays set for proto_run_params_done(). */
int lifecycle_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr);
/* Adds the members that differ from the defaults to o: 0 or -ENOMEM. */
int lifecycle_run_params_encode(const struct proto_run_params *p, json_t *o);
/* "restart_count" and "restart_policy" of a container info: 0 or -ENOMEM. */
int lifecycle_info_encode(const struct proto_container_info *c, json_t *o);
/* Reads them back (absent: "no", 0, 0 from an older daemon). */
int lifecycle_info_decode(json_t *obj, struct proto_container_info *ret, char **reterr);
