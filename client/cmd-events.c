/* cctl events: subscribes to the daemon's event stream and prints each event as docker events
 * does, as JSON lines, or through a --format template. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "client/template.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/events.h"
#include "protocol/protocol.h"

static void usage(void)
{
	fputs("Usage:  cctl events [OPTIONS]\n"
	      "\n"
	      "Get real time events from the server\n"
	      "\n"
	      "Options:\n"
	      "  -f, --filter FILTER   Filter output based on conditions provided (repeatable):\n"
	      "                        container=NAME|ID, event=ACTION, type=container|image\n"
	      "      --format FORMAT   Format output using a template ({{.Action}} {{.Actor.ID}} ...) or \"json\"\n"
	      "      --since TIME      Show events created since TIME (RFC 3339, unix seconds, or a duration\n"
	      "                        before now: 10m, 1h30m)\n"
	      "      --until TIME      Stream events until TIME (as --since; 0s is now)\n"
	      "      --help            Print usage\n",
	      stdout);
}

/* A duration as docker takes for --since and --until ("10m", "1h30m", "45s", "0s"): whole
 * numbers, each with the unit h, m or s. Returns the seconds, or -1 when s is not one. */
static int64_t events_duration(const char *s)
{
	int64_t total = 0;
	if (!*s)
		return -1;
	while (*s) {
		int64_t n = 0;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (*s++ - '0');
			if (n > 100000000)
				return -1;
		}
		switch (*s++) {
		case 'h': total += n * 3600; break;
		case 'm': total += n * 60; break;
		case 's': total += n; break;
		default: return -1;
		}
		if (total > 1000000000)
			return -1;
	}
	return total;
}

/* --since/--until as sent: a duration becomes that long before now (in unix seconds, with
 * nanoseconds); anything else goes as written and the daemon parses it. */
json_t *cmd_events_time_param(const char *s)
{
	int64_t d = events_duration(s);
	struct timespec now;
	if (d < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0 || now.tv_sec < d)
		return json_string(s);
	return json_sprintf("%lld.%09ld", (long long)(now.tv_sec - d), now.tv_nsec);
}

/* Adds one --filter KEY=VALUE to the request's filters object, one array per key. */
static int events_filter_add(json_t *filters, const char *spec, char **reterr)
{
	const char *eq = strchr(spec, '=');
	static const char *const keys[] = { "container", "event", "type" };
	if (!eq || eq == spec || !eq[1])
		return err_set(reterr, -EINVAL, "bad format of filter (expected name=value): %s", spec);
	size_t klen = (size_t)(eq - spec);
	const char *key = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == klen && strncmp(keys[i], spec, klen) == 0)
			key = keys[i];
	if (!key)
		return err_set(reterr, -EINVAL, "invalid filter '%.*s' (container, event or type)", (int)klen, spec);
	json_t *a = json_object_get(filters, key);
	if (!a) {
		a = json_array();
		if (!a || json_object_set_new(filters, key, a) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (json_array_append_new(a, json_string(eq + 1)) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* The fields --format sees, named as docker's: Type, Action, Status, ID, From, Time, TimeNano,
 * Actor.ID, Actor.Attributes (name, image, exitCode). */
static json_t *events_fields(json_t *e)
{
	const char *id = json_string_value(json_object_get(e, "id"));
	const char *image = json_string_value(json_object_get(e, "image"));
	json_int_t ns = json_integer_value(json_object_get(e, "time_nano"));
	json_t *attrs = json_pack("{s:s, s:s}", "name", json_string_value(json_object_get(e, "name")) ?: "",
				  "image", image ?: "");
	json_t *code = json_object_get(e, "exit_code");
	if (attrs && code)
		json_object_set_new(attrs, "exitCode", json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(code)));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:{s:s, s:o}}", "Type",
			 json_string_value(json_object_get(e, "type")) ?: "", "Action",
			 json_string_value(json_object_get(e, "action")) ?: "", "Status",
			 json_string_value(json_object_get(e, "action")) ?: "", "ID", id ?: "", "From", image ?: "",
			 "Time", ns / 1000000000, "TimeNano", ns, "Actor", "ID", id ?: "", "Attributes", attrs);
}

/* docker events' line: TIME TYPE ACTION ID (exitCode=N, image=I, name=N); an image's has only
 * (name=N), as Docker's. */
static void events_print_line(json_t *e)
{
	json_t *code = json_object_get(e, "exit_code");
	const char *type = json_string_value(json_object_get(e, "type")) ?: "";
	printf("%s %s %s %s (", json_string_value(json_object_get(e, "time")) ?: "", type,
	       json_string_value(json_object_get(e, "action")) ?: "", json_string_value(json_object_get(e, "id")) ?: "");
	if (strcmp(type, "image") == 0) {
		printf("name=%s)\n", json_string_value(json_object_get(e, "name")) ?: "");
		return;
	}
	if (code)
		printf("exitCode=%" JSON_INTEGER_FORMAT ", ", json_integer_value(code));
	printf("image=%s, name=%s)\n", json_string_value(json_object_get(e, "image")) ?: "",
	       json_string_value(json_object_get(e, "name")) ?: "");
}

/* Prints one event in the chosen form; a template that names a missing field is an error. */
static int events_print(json_t *e, const char *format, const struct template *tmpl, char **reterr)
{
	if (!format) {
		events_print_line(e);
	} else if (!tmpl) {
		_cleanup_free_ char *line = json_dumps(e, JSON_COMPACT);
		if (!line)
			return err_set(reterr, -ENOMEM, "out of memory");
		puts(line);
	} else {
		json_auto_t *fields = events_fields(e);
		_cleanup_free_ char *out = NULL;
		if (!fields)
			return err_set(reterr, -ENOMEM, "out of memory");
		int r = template_render(tmpl, fields, &out, reterr);
		if (r < 0)
			return r;
		puts(out);
	}
	/* Each event is seen as it happens, also through a pipe. */
	if (fflush(stdout) != 0)
		return err_set(reterr, -errno, "cannot write to stdout: %m");
	return 0;
}

int cmd_events(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	enum { ARG_FILTER = 1, ARG_FORMAT, ARG_SINCE, ARG_UNTIL, ARG_HELP };
	static const struct opt options[] = {
		{ ARG_FILTER, 'f', "filter", OPT_VALUE },
		{ ARG_FORMAT, 0, "format", OPT_VALUE },
		{ ARG_SINCE, 0, "since", OPT_VALUE },
		{ ARG_UNTIL, 0, "until", OPT_VALUE },
		{ ARG_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_template_ struct template *tmpl = NULL;
	_cleanup_conn_ struct conn c = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	json_auto_t *params = json_object(), *filters = json_object();
	const char *format = NULL;
	bool help = false;
	int key, r;

	if (!params || !filters)
		return err_set(reterr, -ENOMEM, "out of memory");
	opts_init(&o, options, "events", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		switch (key) {
		case ARG_FILTER:
			if ((r = events_filter_add(filters, o.arg, reterr)) < 0)
				return r;
			break;
		case ARG_FORMAT:
			format = o.arg;
			break;
		case ARG_SINCE:
		case ARG_UNTIL:
			/* The daemon parses the time: one parser, one set of accepted forms. */
			json_object_set_new(params, key == ARG_SINCE ? "since" : "until", cmd_events_time_param(o.arg));
			break;
		case ARG_HELP:
			help = o.flag;
			break;
		}
	}
	if (key < 0)
		return key;
	if (help) {
		usage();
		return 0;
	}
	if (o.n_operands > 0)
		return opts_usage_error(reterr, "events", "\"cctl events\" accepts no arguments.");
	if (format && strcmp(format, "json") != 0 && (r = template_parse(format, &tmpl, reterr)) < 0)
		return r;
	if (json_object_size(filters) > 0)
		json_object_set(params, "filters", filters);

	if ((r = conn_open(cctl->socket_path, &c, reterr)) < 0 ||
	    (r = conn_call_ok(&c, PROTO_M_EVENTS, json_incref(params), NULL, 0, &reply, reterr)) < 0)
		return r;
	for (;;) {
		_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
		if ((r = conn_receive(&c, &m, reterr)) < 0)
			return r;
		if (!m.msg.event)
			continue;
		if (strcmp(m.msg.event, PROTO_EV_END) == 0)
			return 0;
		if (strcmp(m.msg.event, PROTO_EV_EVENT) == 0 && json_is_object(m.msg.params) &&
		    (r = events_print(m.msg.params, format, tmpl, reterr)) < 0)
			return r;
	}
}
