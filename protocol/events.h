/* events.subscribe: its params (time bounds and filters) and the names of the events it streams.
 * Shared by the daemon, which decodes and applies them, and cctl, which encodes them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define PROTO_M_EVENTS "events.subscribe"
#define PROTO_EV_EVENT "event"     /* one event: its params are the event */
#define PROTO_EV_END "events.end"  /* "until" passed: nothing more comes on this subscription */

/* The latest time accepted, in unix seconds: its nanoseconds still fit an int64. */
#define PROTO_EVENTS_MAX_SECONDS 9200000000LL
/* The most values one filter key may list. */
#define PROTO_EVENTS_MAX_FILTER 64

struct proto_events_params {
	bool has_since, has_until;
	int64_t since_ns, until_ns; /* nanoseconds since the epoch */
	char **containers;          /* names or id prefixes; NULL: any */
	char **actions;             /* "create", "die", ...; NULL: any */
	char **types;               /* "container", "image"; NULL: any */
};

/* Decodes the params of events.subscribe, refusing unknown fields, unknown event names and
 * types, and times that are not RFC 3339 or unix seconds. */
int proto_events_params_decode(json_t *params, struct proto_events_params *ret, char **reterr);
void proto_events_params_done(struct proto_events_params *p);
/* Parses a time as RFC 3339 ("2026-11-30T03:10:00.5Z", "...+01:00") or unix seconds ("1700000000",
 * "1700000000.25") into nanoseconds since the epoch. */
int proto_events_parse_time(const char *s, int64_t *ret_ns);
/* Reads the time param key (a string as proto_events_parse_time() takes, or integer seconds)
 * into *ret_ns and sets *has; absent or null leaves both. Also container.logs' since and until. */
int proto_events_time_field(json_t *params, const char *key, bool *has, int64_t *ret_ns, char **reterr);
/* True when name is an event action the daemon may send ("create", "start", "die", ...). */
bool proto_events_action_known(const char *name);
