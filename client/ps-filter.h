/* cctl ps --filter: Docker's container filters, applied by cctl to container.list's result (the
 * daemon has no filters of its own). Values of one key are alternatives (OR); different keys must
 * all match (AND), as in Docker, with Docker's exception: every label filter must match. name and
 * id match a substring (Docker: an unanchored regular expression). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "protocol/list.h"

/* Most --filter options one ps takes: each costs a pass over the list. */
#define PS_FILTER_MAX 64

enum ps_filter_key {
	PS_FILTER_STATUS,
	PS_FILTER_NAME,
	PS_FILTER_LABEL,
	PS_FILTER_ID,
	PS_FILTER_EXITED,
	PS_FILTER_KEYS
};

struct ps_filter {
	const char *values[PS_FILTER_KEYS][PS_FILTER_MAX]; /* borrowed from argv */
	size_t n[PS_FILTER_KEYS];
	int exited[PS_FILTER_MAX]; /* the parsed exited= codes */
};

/* Adds one "KEY=VALUE" (borrowed). -EINVAL with a message for an unknown key or a bad value. */
int ps_filter_add(struct ps_filter *f, const char *arg, char **reterr);
/* Whether a status filter was given: it lists stopped containers too, as Docker's does. */
bool ps_filter_wants_all(const struct ps_filter *f);
bool ps_filter_match(const struct ps_filter *f, const struct proto_container_summary *c);
