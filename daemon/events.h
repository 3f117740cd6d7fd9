/* The event bus: the container domain publishes what happens to containers (started, failed to
 * start, exited, removed); connections, and later log writers, restart policies and the events
 * API, subscribe. The domain never knows who listens. */
#pragma once

#include <stdbool.h>

struct container;

enum container_event_type {
	CONTAINER_EV_STARTED,      /* the command was exec'd */
	CONTAINER_EV_START_FAILED, /* setup failed; the container exits with exit_code */
	CONTAINER_EV_EXITED,       /* exit status recorded (cleanup may still run) */
	CONTAINER_EV_REMOVED,      /* gone: the record is freed right after this event */
	CONTAINER_EV_RESTART,      /* its restart policy starts it again (STARTED or START_FAILED follow) */
};

struct container_event {
	enum container_event_type type;
	struct container *ct; /* valid for the duration of the dispatch */
	int exit_code;        /* START_FAILED: 125, 126 or 127 */
	const char *message;  /* START_FAILED: why */
};

typedef void (*event_sink_fn)(const struct container_event *ev, void *userdata);

struct event_bus;
struct event_sink;

int event_bus_new(struct event_bus **ret);
void event_bus_free(struct event_bus *bus);
/* A sink added while an event is dispatched does not see that event. */
struct event_sink *event_bus_subscribe(struct event_bus *bus, event_sink_fn fn, void *userdata);
/* Safe during a dispatch (even from the sink itself): the sink is only marked and freed after. */
void event_bus_unsubscribe(struct event_bus *bus, struct event_sink *sink);
void event_bus_publish(struct event_bus *bus, const struct container_event *ev);
