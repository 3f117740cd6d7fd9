#include <errno.h>
#include <stdlib.h>

#include "daemon/events.h"

struct event_sink {
	event_sink_fn fn;
	void *userdata;
	unsigned long generation; /* the bus generation it was added in */
	bool dead;
	struct event_sink *next;
};

struct event_bus {
	struct event_sink *sinks; /* in subscription order */
	unsigned long generation;
	unsigned dispatching;     /* nesting depth: sinks may publish in turn */
};

int event_bus_new(struct event_bus **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void event_bus_free(struct event_bus *bus)
{
	if (!bus)
		return;
	while (bus->sinks) {
		struct event_sink *s = bus->sinks;
		bus->sinks = s->next;
		free(s);
	}
	free(bus);
}

struct event_sink *event_bus_subscribe(struct event_bus *bus, event_sink_fn fn, void *userdata)
{
	struct event_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fn = fn;
	s->userdata = userdata;
	s->generation = bus->generation;
	struct event_sink **tail = &bus->sinks;
	while (*tail)
		tail = &(*tail)->next;
	*tail = s;
	return s;
}

static void sweep(struct event_bus *bus)
{
	for (struct event_sink **p = &bus->sinks; *p;) {
		struct event_sink *s = *p;
		if (s->dead) {
			*p = s->next;
			free(s);
		} else {
			p = &s->next;
		}
	}
}

void event_bus_unsubscribe(struct event_bus *bus, struct event_sink *sink)
{
	if (!sink)
		return;
	sink->dead = true;
	if (!bus->dispatching)
		sweep(bus);
}

void event_bus_publish(struct event_bus *bus, const struct container_event *ev)
{
	/* Sinks subscribed from here on carry a newer generation and are skipped by this dispatch. */
	unsigned long gen = bus->generation++;
	bus->dispatching++;
	for (struct event_sink *s = bus->sinks; s; s = s->next)
		if (!s->dead && s->generation <= gen)
			s->fn(ev, s->userdata);
	if (--bus->dispatching == 0)
		sweep(bus);
}
