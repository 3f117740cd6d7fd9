/* The verbs that act on containers named on the command line: rm, kill, stop, restart, pause, unpause,
 * inspect, rename, wait, top. Each
 * container gets its own request on one connection; a failure for one is reported and the rest
 * still run, and the exit status is then 1, as with docker. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/format.h"
#include "client/opts.h"
#include "client/template.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

/* What one verb does per container: the request, and what to do with a successful reply. */
struct container_verb {
	const char *method;
	/* Prints the outcome for ref; returns 0 or -errno with a message. */
	int (*done)(const char *ref, json_t *result, void *userdata, char **reterr);
	void *userdata;
	/* rm -f: a container that does not exist is no failure, and nothing is printed (docker). */
	bool ignore_missing;
};

/* Sends the verb's request for every ref in turn. Returns the exit status: 0, or 1 when any
 * container failed (its message is printed here so the others can go on); -errno only when the
 * connection itself fails. */
static int container_verb_run(struct cctl *cctl, const struct container_verb *v, const struct proto_ref_params *tmpl,
			      int nrefs, char **refs, char **reterr)
{
	_cleanup_conn_ struct conn conn = CONN_INIT;
	bool failed = false;
	int r;

	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;

	for (int i = 0; i < nrefs; i++) {
		_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
		_cleanup_free_ char *err = NULL;
		struct proto_ref_params ref = *tmpl;

		ref.ref = refs[i];
		json_t *params = proto_ref_params_encode(v->method, &ref);
		if (!params)
			return err_set(reterr, -ENOMEM, "out of memory");
		r = conn_call(&conn, v->method, params, NULL, 0, &reply, reterr);
		if (r < 0)
			return r; /* the connection is gone: nothing else can work */
		if (v->ignore_missing && reply.msg.error_code && strcmp(reply.msg.error_code, PROTO_E_NOT_FOUND) == 0)
			continue;
		r = conn_reply_check(&reply, &err);
		if (r == 0)
			r = v->done(refs[i], reply.msg.result, v->userdata, &err);
		if (r < 0) {
			fflush(stdout);
			fprintf(stderr, "cctl: %s\n", err ? err : strerror(-r));
			failed = true;
		}
	}
	return failed ? 1 : 0;
}

static int print_ref(const char *ref, json_t *result, void *userdata, char **reterr)
{
	printf("%s\n", ref);
	return 0;
}

static void rm_usage(void)
{
	fputs("Usage:  cctl rm [OPTIONS] CONTAINER [CONTAINER...]\n"
	      "\n"
	      "Remove one or more containers\n"
	      "\n"
	      "Options:\n"
	      "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
	      "  -v, --volumes   Remove anonymous volumes associated with the container\n"
	      "      --help      Print usage\n",
	      stdout);
}

/* Parses the options of a verb that acts on containers: options anywhere, at least one
 * operand. handle() gets each option; it returns 1 after printing usage. */
static int container_parse(int argc, char **argv, const char *verb, const struct opt *table,
			   int (*handle)(struct opts *o, int key, void *userdata, char **reterr), void *userdata,
			   struct opts *o, char **reterr)
{
	int key, r;

	opts_init(o, table, verb, true, argc, argv);
	while ((key = opts_next(o, reterr)) > 0) {
		r = handle(o, key, userdata, reterr);
		if (r != 0)
			return r;
	}
	if (key < 0)
		return key;
	if (o->n_operands < 1)
		return opts_usage_error(reterr, verb, "\"cctl %s\" requires at least 1 argument.", verb);
	return 0;
}

enum { OPT_KEY_HELP = 1, OPT_KEY_FORCE, OPT_KEY_SIGNAL, OPT_KEY_TIME, OPT_KEY_FORMAT, OPT_KEY_VOLUMES };

static int rm_option(struct opts *o, int key, void *userdata, char **reterr)
{
	struct proto_ref_params *tmpl = userdata;
	if (key == OPT_KEY_FORCE) {
		tmpl->force = o->flag;
		return 0;
	}
	if (key == OPT_KEY_VOLUMES) {
		tmpl->volumes = o->flag;
		return 0;
	}
	if (o->flag)
		rm_usage();
	return o->flag ? 1 : 0;
}

int cmd_rm(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ OPT_KEY_FORCE, 'f', "force", OPT_FLAG },
		{ OPT_KEY_VOLUMES, 'v', "volumes", OPT_FLAG },
		{ OPT_KEY_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	struct proto_ref_params tmpl = { .force = false };

	int r = container_parse(argc, argv, "rm", options, rm_option, &tmpl, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	struct container_verb verb = { PROTO_M_REMOVE, print_ref, NULL, tmpl.force };
	return container_verb_run(cctl, &verb, &tmpl, (int)o.n_operands, o.operands, reterr);
}

static void kill_usage(void)
{
	fputs("Usage:  cctl kill [OPTIONS] CONTAINER [CONTAINER...]\n"
	      "\n"
	      "Kill one or more running containers\n"
	      "\n"
	      "Options:\n"
	      "  -s, --signal SIGNAL   Signal to send to the container (default \"KILL\")\n"
	      "      --help            Print usage\n",
	      stdout);
}

static int kill_option(struct opts *o, int key, void *userdata, char **reterr)
{
	struct proto_ref_params *tmpl = userdata;
	if (key == OPT_KEY_SIGNAL) {
		if (parse_signal(o->arg, &tmpl->signal) < 0)
			return opts_usage_error(reterr, "kill", "invalid signal: %s", o->arg);
		return 0;
	}
	if (o->flag)
		kill_usage();
	return o->flag ? 1 : 0;
}

int cmd_kill(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ OPT_KEY_SIGNAL, 's', "signal", OPT_VALUE },
		{ OPT_KEY_HELP, 0, "help", OPT_FLAG },
		{}
	};
	static const struct container_verb verb = { PROTO_M_KILL, print_ref, NULL, false };
	_cleanup_(opts_done) struct opts o;
	struct proto_ref_params tmpl = { .signal = SIGKILL };

	int r = container_parse(argc, argv, "kill", options, kill_option, &tmpl, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	return container_verb_run(cctl, &verb, &tmpl, (int)o.n_operands, o.operands, reterr);
}

static void pause_usage(void)
{
	fputs("Usage:  cctl pause CONTAINER [CONTAINER...]\n"
	      "\n"
	      "Pause all processes within one or more containers\n"
	      "\n"
	      "Options:\n"
	      "      --help   Print usage\n",
	      stdout);
}

static void unpause_usage(void)
{
	fputs("Usage:  cctl unpause CONTAINER [CONTAINER...]\n"
	      "\n"
	      "Unpause all processes within one or more containers\n"
	      "\n"
	      "Options:\n"
	      "      --help   Print usage\n",
	      stdout);
}

static int help_option(struct opts *o, int key, void *userdata, char **reterr);
static const struct opt help_only[];

/* pause and unpause: one request per container, printing each name that succeeded. */
static int pause_verb(struct cctl *cctl, int argc, char **argv, bool pause, char **reterr)
{
	_cleanup_(opts_done) struct opts o;
	void (*usage)(void) = pause ? pause_usage : unpause_usage;
	int r = container_parse(argc, argv, pause ? "pause" : "unpause", help_only, help_option, &usage, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	struct container_verb verb = { pause ? PROTO_M_PAUSE : PROTO_M_UNPAUSE, print_ref, NULL, false };
	struct proto_ref_params tmpl = { .ref = NULL };
	return container_verb_run(cctl, &verb, &tmpl, (int)o.n_operands, o.operands, reterr);
}

int cmd_pause(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	return pause_verb(cctl, argc, argv, true, reterr);
}

int cmd_unpause(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	return pause_verb(cctl, argc, argv, false, reterr);
}

/* HostConfig's NetworkMode, PidMode, IpcMode, UTSMode and CgroupnsMode from the daemon's
 * "namespaces" (absent from an older daemon: Docker's defaults). */
static int inspect_namespaces(json_t *host, json_t *ns)
{
	static const char *const keys[][3] = { { "network", "NetworkMode", "bridge" },
					       { "pid", "PidMode", "" },
					       { "ipc", "IpcMode", "private" },
					       { "uts", "UTSMode", "" },
					       { "cgroupns", "CgroupnsMode", "private" } };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = json_string_value(json_object_get(ns, keys[i][0]));
		if (json_object_set_new(host, keys[i][1], json_string(v ? v : keys[i][2])) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* inspect --format: the result as its template sees it. The daemon's own fields keep their names
 * (.id, .state, .labels, .security.capabilities, ...); Docker's names are added where containd
 * has the same thing: .Id .Name ("/NAME") .Created .Path .Args .Image (the image id) .RestartCount .State.*
 * .Config.* .HostConfig.* (docs/protocol.md lists them). */
static json_t *inspect_fields(json_t *result, char **reterr)
{
	struct proto_container_info c;
	int r = proto_container_info_decode(result, &c, reterr);
	if (r < 0)
		return NULL;
	json_auto_t *o = json_deep_copy(result);
	_cleanup_free_ char *slash_name = NULL;
	json_t *cmd = json_is_array(c.cmd) ? c.cmd : NULL;
	json_auto_t *args = json_array();
	for (size_t i = 1; args && cmd && i < json_array_size(cmd); i++)
		json_array_append(args, json_array_get(cmd, i));
	json_t *sec = c.security_json ? json_object_get(c.security_json, "privileged") : NULL;
	if (!o || !args || asprintf(&slash_name, "/%s", c.name) < 0) {
		err_set(reterr, -ENOMEM, "out of memory");
		return NULL;
	}
	json_t *policy = json_pack("{s:s, s:I}", "Name", c.restart_policy, "MaximumRetryCount", (json_int_t)c.restart_max);
	json_t *state = json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:I, s:i, s:s, s:s, s:s}", "Status", c.state,
				  "Running", strcmp(c.state, "running") == 0, "Paused", 0, "Restarting",
				  strcmp(c.state, "restarting") == 0, "OOMKilled",
				  c.oom_killed, "Dead", 0, "Pid", (json_int_t)c.pid, "ExitCode", c.exit_code, "Error",
				  c.error ? c.error : "", "StartedAt", c.started_at ? c.started_at : "", "FinishedAt",
				  c.finished_at ? c.finished_at : "");
	json_t *config = json_pack("{s:s, s:s, s:O, s:O, s:b}", "Hostname", c.hostname ? c.hostname : "", "Image",
				   c.image, "Cmd", cmd ? cmd : json_null(), "Labels",
				   c.labels_json ? c.labels_json : json_null(), "Tty", c.tty);
	json_t *host = json_pack("{s:I, s:I, s:I, s:b, s:b, s:o}", "Memory", (json_int_t)c.memory, "PidsLimit",
				 (json_int_t)c.pids_limit, "NanoCpus", (json_int_t)c.cpus_milli * 1000000, "Privileged",
				 json_is_true(sec), "Init", c.init, "RestartPolicy", policy);
	json_t *docker = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:o, s:o, s:o, s:I}", "Id", c.id, "Name", slash_name,
				   "Created", c.created_at ? c.created_at : "", "Path",
				   cmd && json_array_size(cmd) ? json_string_value(json_array_get(cmd, 0)) : "", "Args",
				   args, "Image", c.image_id ? c.image_id : "", "State", state, "Config", config,
				   "HostConfig", host, "RestartCount", (json_int_t)c.restart_count);
	/* Docker's Mounts and HostConfig.ReadonlyRootfs (absent from an older daemon). */
	json_t *mounts = json_object_get(result, "mounts");
	if (docker && (json_object_set_new(docker, "Mounts", mounts ? json_incref(mounts) : json_array()) < 0 ||
		       json_object_set_new(host, "ReadonlyRootfs", json_boolean(json_is_true(json_object_get(result, "read_only")))) < 0 ||
		       inspect_namespaces(host, json_object_get(result, "namespaces")) < 0)) {
		json_decref(docker);
		docker = NULL;
	}
	if (!docker || json_object_update(o, docker) < 0) {
		json_decref(docker);
		err_set(reterr, -ENOMEM, "out of memory");
		return NULL;
	}
	json_decref(docker);
	return json_incref(o);
}

struct inspect {
	json_t *array;             /* without --format: every result, printed at the end */
	struct template *tmpl;     /* with --format */
};

static int inspect_collect(const char *ref, json_t *result, void *userdata, char **reterr)
{
	struct inspect *in = userdata;
	if (in->tmpl) {
		json_auto_t *fields = inspect_fields(result, reterr);
		_cleanup_free_ char *out = NULL;
		if (!fields)
			return -EBADMSG;
		int r = template_render(in->tmpl, fields, &out, reterr);
		if (r < 0)
			return r;
		puts(out);
		return 0;
	}
	if (json_array_append(in->array, result) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

static void inspect_usage(void)
{
	fputs("Usage:  cctl inspect [OPTIONS] CONTAINER [CONTAINER...]\n"
	      "\n"
	      "Return low-level information on containers, as a JSON array\n"
	      "\n"
	      "Options:\n"
	      "  -f, --format FORMAT   Format output using a template ({{.State.Status}}, {{json .Config}} ...)\n"
	      "                        or \"json\" (one line of JSON per container)\n"
	      "      --help            Print usage\n",
	      stdout);
}

/* For the verbs whose only option is --help: userdata points to their usage function. */
static int help_option(struct opts *o, int key, void *userdata, char **reterr)
{
	void (**usage)(void) = userdata;
	if (o->flag)
		(*usage)();
	return o->flag ? 1 : 0;
}

static const struct opt help_only[] = {
	{ OPT_KEY_HELP, 0, "help", OPT_FLAG },
	{}
};

static int inspect_option(struct opts *o, int key, void *userdata, char **reterr)
{
	const char **format = userdata;
	if (key == OPT_KEY_FORMAT) {
		*format = o->arg;
		return 0;
	}
	if (o->flag)
		inspect_usage();
	return o->flag ? 1 : 0;
}

int cmd_inspect(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ OPT_KEY_FORMAT, 'f', "format", OPT_VALUE },
		{ OPT_KEY_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_template_ struct template *tmpl = NULL;
	const char *format = NULL;
	int r = container_parse(argc, argv, "inspect", options, inspect_option, &format, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	/* "json", as newer docker CLIs take it: each container as one line of JSON. */
	if (format && strcmp(format, "json") == 0)
		format = "{{json .}}";
	if (format && *format && (r = template_parse(format, &tmpl, reterr)) < 0) {
		cctl->error_exit = 1;
		return r;
	}

	json_auto_t *array = json_array();
	if (!array)
		return err_set(reterr, -ENOMEM, "out of memory");
	struct inspect in = { .array = array, .tmpl = tmpl };
	struct container_verb verb = { PROTO_M_INSPECT, inspect_collect, &in, false };
	struct proto_ref_params ref = { .ref = NULL };
	int status = container_verb_run(cctl, &verb, &ref, (int)o.n_operands, o.operands, reterr);
	if (status < 0 || tmpl)
		return status;

	_cleanup_free_ char *s = json_dumps(array, JSON_INDENT(4));
	if (!s)
		return err_set(reterr, -ENOMEM, "out of memory");
	puts(s);
	return status;
}

static void rename_usage(void)
{
	fputs("Usage:  cctl rename CONTAINER NEW_NAME\n"
	      "\n"
	      "Rename a container\n"
	      "\n"
	      "Options:\n"
	      "      --help   Print usage\n",
	      stdout);
}

int cmd_rename(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_(opts_done) struct opts o;
	void (*usage)(void) = rename_usage;
	int r = container_parse(argc, argv, "rename", help_only, help_option, &usage, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	if (o.n_operands != 2)
		return opts_usage_error(reterr, "rename", "\"cctl rename\" requires exactly 2 arguments.");

	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	struct proto_rename_params p = { .ref = o.operands[0], .name = o.operands[1] };
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	json_t *params = proto_rename_params_encode(&p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_call(&conn, PROTO_M_RENAME, params, NULL, 0, &reply, reterr);
	if (r < 0)
		return r;
	/* The daemon refused (no such container, a name in use or invalid): 1, as docker. */
	r = conn_reply_check(&reply, reterr);
	if (r < 0)
		cctl->error_exit = 1;
	return r;
}

static int wait_print(const char *ref, json_t *result, void *userdata, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	struct proto_exit e;

	if (proto_exit_decode(result, &e, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_WAIT, err);
	printf("%d\n", e.exit_code);
	/* One line per container as it exits, not all at the end. */
	fflush(stdout);
	return 0;
}

static void wait_usage(void)
{
	fputs("Usage:  cctl wait CONTAINER [CONTAINER...]\n"
	      "\n"
	      "Block until one or more containers stop, then print their exit codes\n"
	      "\n"
	      "Options:\n"
	      "      --help   Print usage\n",
	      stdout);
}

int cmd_wait(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_(opts_done) struct opts o;
	void (*usage)(void) = wait_usage;
	int r = container_parse(argc, argv, "wait", help_only, help_option, &usage, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;

	static const struct container_verb verb = { PROTO_M_WAIT, wait_print, NULL, false };
	struct proto_ref_params tmpl = { .ref = NULL };
	return container_verb_run(cctl, &verb, &tmpl, (int)o.n_operands, o.operands, reterr);
}

/* stop and restart share their options; restart stops first. */
struct stop_options {
	const char *verb;
	struct proto_ref_params tmpl;
};

static void stop_usage(const char *verb)
{
	if (strcmp(verb, "restart") == 0)
		fputs("Usage:  cctl restart [OPTIONS] CONTAINER [CONTAINER...]\n"
		      "\n"
		      "Restart one or more containers (stop a running one, then start it)\n",
		      stdout);
	else
		fputs("Usage:  cctl stop [OPTIONS] CONTAINER [CONTAINER...]\n"
		      "\n"
		      "Stop one or more running containers\n",
		      stdout);
	fputs("\n"
	      "Options:\n"
	      "  -s, --signal SIGNAL   Signal to send to the container (default: its stop signal, else \"TERM\")\n"
	      "  -t, --time SECONDS    Seconds to wait before killing the container (default 10, at most 3600)\n"
	      "      --help            Print usage\n",
	      stdout);
}

static int stop_option(struct opts *o, int key, void *userdata, char **reterr)
{
	struct stop_options *so = userdata;
	struct proto_ref_params *tmpl = &so->tmpl;
	char *end;
	long v;

	switch (key) {
	case OPT_KEY_SIGNAL:
		if (parse_signal(o->arg, &tmpl->signal) < 0)
			return opts_usage_error(reterr, so->verb, "invalid signal: %s", o->arg);
		return 0;
	case OPT_KEY_TIME:
		errno = 0;
		v = strtol(o->arg, &end, 10);
		if (errno || end == o->arg || *end)
			return opts_invalid_argument(o, reterr, "not a number of seconds");
		if (v < 0 || v > PROTO_STOP_TIMEOUT_MAX)
			return opts_invalid_argument(o, reterr, "must be between 0 and %d", PROTO_STOP_TIMEOUT_MAX);
		tmpl->timeout = (unsigned)v;
		return 0;
	}
	if (o->flag)
		stop_usage(so->verb);
	return o->flag ? 1 : 0;
}

/* Prints the outcome of the stops in the order they were asked for, as far as replies arrived:
 * the name as given, or the daemon's message on stderr. Returns whether one failed. */
static bool stop_report(char **refs, struct conn_msg *replies, bool *answered, int nrefs, int *next)
{
	bool failed = false;
	for (; *next < nrefs && answered[*next]; (*next)++) {
		_cleanup_free_ char *err = NULL;
		if (conn_reply_check(&replies[*next], &err) < 0) {
			fflush(stdout);
			fprintf(stderr, "cctl: %s\n", err ? err : "stop failed");
			failed = true;
		} else {
			printf("%s\n", refs[*next]);
			fflush(stdout);
		}
	}
	return failed;
}

/* The stops are all sent before any reply is read: the daemon runs their grace periods side by
 * side, so stopping n containers takes the longest period, not their sum (docker stops them in
 * parallel too). */
static int stop_run(struct cctl *cctl, const char *method, const struct proto_ref_params *tmpl, int nrefs, char **refs,
		    char **reterr)
{
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_free_ json_int_t *ids = calloc((size_t)nrefs, sizeof(*ids));
	_cleanup_free_ bool *answered = calloc((size_t)nrefs, sizeof(*answered));
	_cleanup_free_ struct conn_msg *replies = calloc((size_t)nrefs, sizeof(*replies));
	bool failed = false;
	int r, next = 0, pending = 0;

	if (!ids || !answered || !replies)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (int i = 0; i < nrefs; i++)
		replies[i] = (struct conn_msg)CONN_MSG_INIT;
	r = conn_open(cctl->socket_path, &conn, reterr);
	for (int i = 0; r >= 0 && i < nrefs; i++) {
		struct proto_ref_params ref = *tmpl;
		ref.ref = refs[i];
		json_t *params = proto_ref_params_encode(method, &ref);
		if (!params)
			r = err_set(reterr, -ENOMEM, "out of memory");
		else if ((r = conn_send(&conn, method, params, NULL, 0, &ids[i], reterr)) >= 0)
			pending++;
	}
	while (r >= 0 && pending > 0) {
		struct conn_msg m = CONN_MSG_INIT;
		if ((r = conn_receive(&conn, &m, reterr)) < 0)
			break;
		int i = 0;
		while (i < nrefs && (m.msg.event || answered[i] || ids[i] != m.msg.id))
			i++;
		if (i == nrefs) {
			conn_msg_done(&m); /* an event, or a reply to nothing we asked */
			continue;
		}
		replies[i] = m;
		answered[i] = true;
		pending--;
		failed |= stop_report(refs, replies, answered, nrefs, &next);
	}
	for (int i = 0; i < nrefs; i++)
		conn_msg_done(&replies[i]);
	if (r < 0)
		return r;
	return failed ? 1 : 0;
}

/* stop and restart: all requests first, the replies in order (see stop_run). */
static int stop_verb(struct cctl *cctl, const char *verb, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ OPT_KEY_SIGNAL, 's', "signal", OPT_VALUE },
		{ OPT_KEY_TIME, 't', "time", OPT_VALUE },
		{ OPT_KEY_TIME, 0, "timeout", OPT_VALUE },
		{ OPT_KEY_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	struct stop_options so = { .verb = verb, .tmpl = { .signal = 0, .timeout = PROTO_STOP_TIMEOUT_DEFAULT } };

	int r = container_parse(argc, argv, verb, options, stop_option, &so, &o, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	return stop_run(cctl, strcmp(verb, "restart") == 0 ? PROTO_M_RESTART : PROTO_M_STOP, &so.tmpl,
			(int)o.n_operands, o.operands, reterr);
}

int cmd_stop(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	return stop_verb(cctl, "stop", argc, argv, reterr);
}

int cmd_restart(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	return stop_verb(cctl, "restart", argc, argv, reterr);
}

static void top_usage(void)
{
	fputs("Usage:  cctl top CONTAINER [ps OPTIONS]\n"
	      "\n"
	      "Display the running processes of a container\n"
	      "\n"
	      "Options:\n"
	      "      --help   Print usage\n",
	      stdout);
}

/* Prints container.top's result as docker does: the titles, then one aligned row per process. */
static int top_print(const char *ref, json_t *result, void *userdata, char **reterr)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_table_ struct table *t = NULL;
	_cleanup_free_ const char **cells = NULL;
	json_t *titles, *rows, *row;
	bool truncated;
	size_t i, ncols;

	if (proto_top_result_decode(result, &titles, &rows, &truncated, &err) < 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_TOP, err);
	ncols = json_array_size(titles);
	if (ncols == 0)
		return err_set(reterr, -EBADMSG, "invalid reply to %s: no titles", PROTO_M_TOP);
	t = table_new(ncols);
	cells = calloc(ncols, sizeof(*cells));
	if (!t || !cells)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t k = 0; k < ncols; k++)
		cells[k] = json_string_value(json_array_get(titles, k));
	if (table_add_row(t, cells) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(rows, i, row) {
		for (size_t k = 0; k < ncols; k++)
			cells[k] = json_string_value(json_array_get(row, k));
		if (table_add_row(t, cells) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	int r = table_print(t, stdout);
	if (r < 0)
		return err_set(reterr, r, "cannot write the table: %m");
	if (truncated)
		fprintf(stderr, "cctl: the container has more processes than shown\n");
	return 0;
}

/* cctl top CONTAINER [ps OPTIONS]: options end at the container, as in docker; what follows is
 * handed to the daemon as ps_args, which it refuses for now (the columns are ps -ef's). */
int cmd_top(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	_cleanup_(opts_done) struct opts o;
	_cleanup_free_ char *ps_args = NULL;
	void (*usage)(void) = top_usage;
	int key, r;

	opts_init(&o, help_only, "top", false, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0)
		if ((r = help_option(&o, key, &usage, reterr)) != 0)
			return r > 0 ? 0 : r;
	if (key < 0)
		return key;
	if (o.n_operands < 1)
		return opts_usage_error(reterr, "top", "\"cctl top\" requires at least 1 argument.");
	for (size_t i = 1; i < o.n_operands; i++) {
		char *joined = NULL;
		if (asprintf(&joined, "%s%s%s", ps_args ? ps_args : "", ps_args ? " " : "", o.operands[i]) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		free(ps_args);
		ps_args = joined;
	}
	static const struct container_verb verb = { PROTO_M_TOP, top_print, NULL, false };
	struct proto_ref_params tmpl = { .ps_args = ps_args };
	return container_verb_run(cctl, &verb, &tmpl, 1, o.operands, reterr);
}
