/* The security part of container.run params and of container.inspect: the decoders and encoders
 * that messages.c calls for those members. Internal to protocol/. */
#pragma once

#include <jansson.h>

#include "protocol/messages.h"

/* The keys security_run_params_decode() reads, NULL-terminated (for the unknown-field check). */
extern const char *const security_run_params_keys[];

/* Decodes the security members of container.run params into ret (whose other members are
 * left alone). On failure the members decoded so far stay set: security_run_params_done()
 * frees them. */
int security_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr);
/* Adds the members that differ from the defaults to the params object o. Returns 0 or -ENOMEM. */
int security_run_params_encode(const struct proto_run_params *p, json_t *o);
void security_run_params_done(struct proto_run_params *p);
