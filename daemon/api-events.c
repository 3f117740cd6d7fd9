/* events.subscribe: a stream of what happens to containers, built from the event bus (create,
 * start, die, destroy) and from the API's own handlers (rename, pause, unpause, kill, stop), and
 * to images (import, tag, untag, delete, from the image handlers), with a bounded ring of recent
 * events for "since".
 *
 * Backpressure: a subscriber's events go through its connection's output queue like any reply.
 * A subscriber that does not read is closed by the server once the queue stops draining for the
 * request timeout or grows past its cap (CONN_MAX_QUEUED), so it cannot grow the daemon's memory
 * without bound; the ring itself holds at most API_EVENTS_RING events. */
#include <errno.h>
#include <stdio.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/api-internal.h"
#include "daemon/container.h"
#include "daemon/events.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/events.h"

#define API_EVENTS_RING 1024
/* Subscribers at once: each holds a connection slot already; this keeps the fan-out bounded. */
#define API_EVENTS_MAX_SUBSCRIBERS 128

struct api_subscriber {
	struct api_events *evs;
	struct conn *conn;
	struct proto_events_params p;
	struct event *ev_until; /* fires at "until" when it is in the future */
	bool dead;
	struct api_subscriber *next;
};

struct api_events {
	struct api *api;
	json_t *ring[API_EVENTS_RING]; /* oldest at ring[first] */
	unsigned first, count;
	struct api_subscriber *subs;
	unsigned nsubs;
	unsigned dispatching; /* sending to subscribers: removals are only marked */
	struct event_sink *sink;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void subscriber_free(struct api_subscriber *s)
{
	if (s->ev_until)
		event_free(s->ev_until);
	proto_events_params_done(&s->p);
	conn_unref(s->conn);
	free(s);
}

static void subs_sweep(struct api_events *evs)
{
	for (struct api_subscriber **p = &evs->subs; *p;) {
		struct api_subscriber *s = *p;
		if (s->dead) {
			*p = s->next;
			evs->nsubs--;
			subscriber_free(s);
		} else {
			p = &s->next;
		}
	}
}

static bool strv_has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

/* Docker's fuzzy match for the actions that carry a command: the filter "exec_start" takes
 * "exec_start: ls -l". */
static bool action_has_prefix(char **actions, const char *action)
{
	for (; action && *actions; actions++) {
		size_t n = strlen(*actions);
		if (strncmp(action, *actions, n) == 0 && action[n] == ':')
			return true;
	}
	return false;
}

/* A container filter value matches the event's container by its name or a prefix of its id. */
static bool container_matches(char **refs, const char *id, const char *name)
{
	if (!refs)
		return true;
	for (; *refs; refs++)
		if ((name && strcmp(*refs, name) == 0) || (id && strncmp(*refs, id, strlen(*refs)) == 0))
			return true;
	return false;
}

/* Whether event e (in the subscriber's time window or not) passes its filters. */
static bool subscriber_wants(const struct api_subscriber *s, json_t *e)
{
	int64_t t = json_integer_value(json_object_get(e, "time_nano"));
	if ((s->p.has_since && t < s->p.since_ns) || (s->p.has_until && t > s->p.until_ns))
		return false;
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *action = json_string_value(json_object_get(e, "action"));
	if (s->p.types && !strv_has(s->p.types, type))
		return false;
	if (s->p.actions && !strv_has(s->p.actions, action) && !action_has_prefix(s->p.actions, action))
		return false;
	return container_matches(s->p.containers, json_string_value(json_object_get(e, "id")),
				 json_string_value(json_object_get(e, "name")));
}

/* Ends a subscription: the peer gets events.end and the connection is free for other requests.
 * The send may close the connection, which marks s dead: it is only freed after the send. */
static void subscriber_end(struct api_subscriber *s)
{
	struct api_events *evs = s->evs;
	evs->dispatching++;
	conn_send_event(s->conn, PROTO_EV_END, json_object());
	s->dead = true;
	if (--evs->dispatching == 0)
		subs_sweep(evs);
}

static void subscriber_on_until(evutil_socket_t fd, short what, void *arg)
{
	subscriber_end(arg);
}

/* Appends e to the ring (dropping the oldest when full) and sends it to every subscriber that
 * wants it. Takes e over. */
static void events_publish(struct api_events *evs, json_t *e)
{
	if (!e) {
		log_error("out of memory building an event");
		return;
	}
	if (evs->count == API_EVENTS_RING) {
		json_decref(evs->ring[evs->first]);
		evs->ring[evs->first] = NULL;
		evs->first = (evs->first + 1) % API_EVENTS_RING;
		evs->count--;
	}
	evs->ring[(evs->first + evs->count++) % API_EVENTS_RING] = e;
	/* A send can fail and close its connection, which lands in api_events_conn_closed() while
	 * this walks the list: subscribers are only marked there, and freed after the walk. */
	evs->dispatching++;
	for (struct api_subscriber *s = evs->subs; s; s = s->next)
		if (!s->dead && conn_is_open(s->conn) && subscriber_wants(s, e))
			conn_send_event(s->conn, PROTO_EV_EVENT, json_incref(e));
	if (--evs->dispatching == 0)
		subs_sweep(evs);
}

/* The event's JSON: type, action, the container's id, name and image, the time twice. */
static json_t *event_json(const char *action, const struct container *ct)
{
	struct timespec ts;
	char when[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	format_rfc3339(&ts, when, sizeof(when));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "type", "container", "action", action, "id", ct->id,
			 "name", ct->name ? ct->name : "", "image", ct->cfg.image ? ct->cfg.image : "", "time", when,
			 "time_nano", (json_int_t)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

void api_events_emit(struct api *api, const char *action, const struct container *ct)
{
	if (api->events)
		events_publish(api->events, event_json(action, ct));
}

void api_events_emit_exec(struct api *api, const char *action, const struct container *ct, const char *exec_id,
			  const char *command, int exit_code)
{
	_cleanup_free_ char *name = NULL;
	if (!api->events)
		return;
	if (command && asprintf(&name, "%s: %s", action, command) < 0)
		name = NULL;
	json_t *e = event_json(name ? name : action, ct);
	if (e)
		json_object_set_new(e, "exec_id", json_string(exec_id));
	if (e && exit_code >= 0)
		json_object_set_new(e, "exit_code", json_integer(exit_code));
	events_publish(api->events, e);
}

/* An image event has the fields of a container's: its id, and the name as both name and image. */
void api_events_emit_image(struct api *api, const char *action, const char *image_id, const char *name)
{
	struct timespec ts;
	char when[64];
	if (!api->events)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	format_rfc3339(&ts, when, sizeof(when));
	events_publish(api->events,
		       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "type", "image", "action", action, "id", image_id,
				 "name", name, "image", name, "time", when, "time_nano",
				 (json_int_t)ts.tv_sec * 1000000000LL + ts.tv_nsec));
}

/* The bus sink: start, oom then die (with the exit code), destroy. A start that failed has no
 * start event; its die follows. */
static void events_on_container_event(const struct container_event *ev, void *userdata)
{
	struct api_events *evs = userdata;
	json_t *e;
	switch (ev->type) {
	case CONTAINER_EV_STARTED:
		events_publish(evs, event_json("start", ev->ct));
		break;
	case CONTAINER_EV_START_FAILED:
		break;
	case CONTAINER_EV_EXITED:
		if (ev->ct->oom_killed)
			events_publish(evs, event_json("oom", ev->ct));
		if ((e = event_json("die", ev->ct))) {
			json_object_set_new(e, "exit_code", json_integer(ev->ct->exit_code));
			json_object_set_new(e, "oom_killed", json_boolean(ev->ct->oom_killed));
		}
		events_publish(evs, e);
		break;
	case CONTAINER_EV_REMOVED:
		events_publish(evs, event_json("destroy", ev->ct));
		break;
	case CONTAINER_EV_RESTART:
		events_publish(evs, event_json("restart", ev->ct));
		break;
	}
}

void api_events_subscribe(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct api_events *evs = api->events;
	_cleanup_free_ char *err = NULL;
	if (!api_expect_no_fds(c, req))
		return;
	struct api_subscriber *s = calloc(1, sizeof(*s));
	if (!s) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "out of memory");
		return;
	}
	int r = proto_events_params_decode(req->params, &s->p, &err);
	if (r < 0) {
		free(s);
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (evs->nsubs >= API_EVENTS_MAX_SUBSCRIBERS) {
		proto_events_params_done(&s->p);
		free(s);
		conn_send_error(c, req->id, PROTO_E_LIMIT, NULL, "too many event subscribers (at most %u)",
				API_EVENTS_MAX_SUBSCRIBERS);
		return;
	}
	s->evs = evs;
	s->conn = conn_ref(c);
	s->next = evs->subs;
	evs->subs = s;
	evs->nsubs++;
	conn_send_result(c, req->id, json_object(), NULL, 0);
	/* History first, in order; with no "since" only what happens from now on. */
	evs->dispatching++;
	if (s->p.has_since)
		for (unsigned i = 0; i < evs->count && conn_is_open(c); i++) {
			json_t *e = evs->ring[(evs->first + i) % API_EVENTS_RING];
			if (subscriber_wants(s, e))
				conn_send_event(c, PROTO_EV_EVENT, json_incref(e));
		}
	evs->dispatching--;
	if (!conn_is_open(c) || s->dead) {
		s->dead = true;
		subs_sweep(evs);
		return;
	}
	if (s->p.has_until) {
		int64_t left = s->p.until_ns - now_ns();
		if (left <= 0) {
			subscriber_end(s);
			return;
		}
		struct timeval tv = { .tv_sec = left / 1000000000LL, .tv_usec = (left % 1000000000LL) / 1000 + 1 };
		s->ev_until = evtimer_new(api->base, subscriber_on_until, s);
		if (!s->ev_until || evtimer_add(s->ev_until, &tv) < 0) {
			log_error("cannot arm the end of an event subscription; ending it now");
			subscriber_end(s);
		}
	}
}

void api_events_conn_closed(struct api *api, struct conn *c)
{
	struct api_events *evs = api->events;
	if (!evs)
		return;
	for (struct api_subscriber *s = evs->subs; s; s = s->next)
		if (s->conn == c)
			s->dead = true;
	if (!evs->dispatching)
		subs_sweep(evs);
}

int api_events_new(struct api *api)
{
	struct api_events *evs = calloc(1, sizeof(*evs));
	if (!evs)
		return -ENOMEM;
	evs->api = api;
	evs->sink = event_bus_subscribe(api->reg->bus, events_on_container_event, evs);
	if (!evs->sink) {
		free(evs);
		return -ENOMEM;
	}
	api->events = evs;
	return 0;
}

void api_events_free(struct api *api)
{
	struct api_events *evs = api->events;
	if (!evs)
		return;
	if (api->reg)
		event_bus_unsubscribe(api->reg->bus, evs->sink);
	for (struct api_subscriber *s = evs->subs; s; s = s->next)
		s->dead = true;
	evs->dispatching = 0;
	subs_sweep(evs);
	for (unsigned i = 0; i < evs->count; i++)
		json_decref(evs->ring[(evs->first + i) % API_EVENTS_RING]);
	free(evs);
	api->events = NULL;
}
