/* Fuzz target for what a peer controls: one line through the request decoder, then through the
 * params decoder its method selects (as daemon/api.c does), then through the reply the daemon
 * would encode for it, which the client must be able to decode again.
 *
 * Input: the first byte is a selector, the rest is the line. The low bits pick one more decoder
 * that also runs over the params, so every decoder sees every shape a fuzzer finds; the high bit
 * reads the line as a daemon message instead, as cctl does. Whatever a decoder accepts must
 * survive encode and decode unchanged. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/macros.h"
#include "common/parse.h"
#include "protocol/events.h"
#include "protocol/exec.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"
#include "protocol/volume.h"
#include "protocol/network.h"
#include "tests/fuzz/fuzz.h"

/* Equal strings, or both NULL. */
static bool str_eq(const char *a, const char *b)
{
	return (a && b) ? strcmp(a, b) == 0 : a == b;
}

/* Equal string vectors, or both NULL. */
static bool strv_eq(char **a, char **b)
{
	if (!a || !b)
		return a == b;
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return !*a && !*b;
}

/* Equal string vectors where NULL equals the empty vector. */
static bool list_eq(char **a, char **b)
{
	static char *empty[] = {NULL};
	return strv_eq(a ? a : empty, b ? b : empty);
}

/* Checks the shape proto_encode promises: one line, newline-terminated, no NUL, within the cap. */
static void check_line(const char *line, size_t len)
{
	FUZZ_CHECK(len >= 1 && len <= PROTO_MAX_MESSAGE);
	FUZZ_CHECK(line[len - 1] == '\n' && line[len] == '\0');
	FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL);
	FUZZ_CHECK(strlen(line) == len);
}

/* Encodes a reply (taken) as conn_send() does and decodes it as cctl does. Every request must get
 * a reply, so a reply that cannot be built or encoded is a bug too. */
static void send_reply(json_t *msg, json_t *id, const char *want_code)
{
	FUZZ_CHECK(msg != NULL);
	size_t len = 0;
	char *line = proto_encode(msg, &len);
	json_decref(msg);
	FUZZ_CHECK(line != NULL);
	check_line(line, len);

	struct proto_message m;
	char *err = NULL;
	FUZZ_CHECK(proto_message_decode(line, len - 1, &m, &err) == 0);
	FUZZ_CHECK(m.event == NULL);
	FUZZ_CHECK(m.id == (json_is_integer(id) ? json_integer_value(id) : -1));
	if (want_code)
		FUZZ_CHECK(str_eq(m.error_code, want_code) && m.error_message && !m.result);
	else
		FUZZ_CHECK(!m.error_code && json_is_object(m.result));
	proto_message_done(&m);
	free(err);
	free(line);
}

/* The error reply for a params decoder's failure, as reply_params_error() in daemon/api.c. */
static void send_params_error(json_t *id, int r, char *err)
{
	FUZZ_CHECK(r < 0);
	FUZZ_CHECK(err != NULL);
	const char *code = r == -EBADF ? PROTO_E_FDS : PROTO_E_PARAMS;
	send_reply(proto_reply_error(id, code, err, NULL), id, code);
	free(err);
}

/* A params decoder's failure (r < 0): the daemon's error reply when reply, else nothing. Returns
 * whether the params were refused; err is freed either way. */
static bool params_refused(struct proto_request *req, bool reply, int r, char *err)
{
	if (r >= 0)
		return false;
	if (reply)
		send_params_error(req->id, r, err);
	else
		free(err);
	return true;
}

/* Sends params (taken) through the wire as cctl would: request line, encode, decode. */
static void reencode_request(const char *method, json_t *params, unsigned nfds, struct proto_request *ret)
{
	FUZZ_CHECK(params != NULL);
	json_t *msg = proto_request_new(7, method, params, nfds);
	FUZZ_CHECK(msg != NULL);
	size_t len = 0;
	char *line = proto_encode(msg, &len);
	json_decref(msg);
	FUZZ_CHECK(line != NULL);
	check_line(line, len);
	json_t *id;
	const char *code;
	char *err = NULL;
	FUZZ_CHECK(proto_request_decode(line, len - 1, ret, &id, &code, &err) == 0);
	FUZZ_CHECK(json_integer_value(ret->id) == 7 && strcmp(ret->method, method) == 0 && ret->nfds == nfds);
	free(line);
}

/* container.run as api_run() decodes it; with reply, the daemon's answers too. */
static void run_params(struct proto_request *req, bool reply)
{
	struct proto_run_params p;
	char *err = NULL;
	int r = proto_run_params_decode(req->params, &p, &err);
	if (params_refused(req, reply, r, err))
		return;
	FUZZ_CHECK(p.image != NULL && p.stdio <= PROTO_STDIO_NULL);
	FUZZ_CHECK(!p.cmd || p.cmd[0]);
	FUZZ_CHECK(p.cpus_milli <= 1024 * 1000 && p.pids_limit >= 0);
	for (char **e = p.env; e && *e; e++)
		FUZZ_CHECK(strchr(*e, '=') && **e != '=');
	size_t n_labels = 0, label_bytes = 0;
	for (char **l = p.labels; l && *l; l++, n_labels++) {
		label_bytes += strlen(*l) - 1;
		/* KEY=VALUE, the key not empty and without '=', within the caps, sorted by key. */
		const char *eq = strchr(*l, '=');
		FUZZ_CHECK(eq && eq != *l && (size_t)(eq - *l) <= PROTO_LABEL_KEY_MAX &&
			   strlen(eq + 1) <= PROTO_LABEL_VALUE_MAX);
		if (l != p.labels)
			FUZZ_CHECK(strcmp(l[-1], *l) != 0);
	}
	FUZZ_CHECK(n_labels <= PROTO_MAX_LABELS && label_bytes <= PROTO_LABELS_MAX_BYTES);
	unsigned nfds = proto_run_params_nfds(&p);
	FUZZ_CHECK(nfds <= 3 && nfds <= PROTO_MAX_FDS);

	struct proto_request again;
	struct proto_run_params q;
	reencode_request(PROTO_M_RUN, proto_run_params_encode(&p), nfds, &again);
	FUZZ_CHECK(proto_run_params_decode(again.params, &q, &err) == 0);
	FUZZ_CHECK(str_eq(p.image, q.image) && strv_eq(p.cmd, q.cmd) && strv_eq(p.env, q.env));
	FUZZ_CHECK(str_eq(p.workdir, q.workdir) && str_eq(p.user, q.user));
	FUZZ_CHECK(str_eq(p.hostname, q.hostname) && str_eq(p.name, q.name));
	FUZZ_CHECK(p.stdio == q.stdio && p.interactive == q.interactive && p.rm == q.rm);
	FUZZ_CHECK(p.memory == q.memory && p.pids_limit == q.pids_limit && p.cpus_milli == q.cpus_milli);
	/* The size travels only as a pair. */
	if (p.tty_rows && p.tty_cols)
		FUZZ_CHECK(q.tty_rows == p.tty_rows && q.tty_cols == p.tty_cols);
	else
		FUZZ_CHECK(q.tty_rows == 0 && q.tty_cols == 0);
	FUZZ_CHECK(proto_run_params_nfds(&q) == nfds);
	FUZZ_CHECK(p.privileged == q.privileged && p.no_new_privileges == q.no_new_privileges);
	FUZZ_CHECK(p.system_paths_unconfined == q.system_paths_unconfined && p.userns == q.userns);
	FUZZ_CHECK(strv_eq(p.cap_add, q.cap_add) && strv_eq(p.cap_drop, q.cap_drop));
	FUZZ_CHECK(strv_eq(p.device_cgroup_rules, q.device_cgroup_rules));
	FUZZ_CHECK(strv_eq(p.labels, q.labels));
	FUZZ_CHECK(p.seccomp == q.seccomp && (p.seccomp != PROTO_SECCOMP_CUSTOM) == !q.seccomp_profile);
	FUZZ_CHECK(p.seccomp != PROTO_SECCOMP_CUSTOM || json_equal(p.seccomp_profile, q.seccomp_profile));
	/* Lifecycle: an entrypoint given (even empty) stays given, a policy keeps its maximum,
	 * which only on-failure has, and never together with rm. */
	FUZZ_CHECK(p.entrypoint_set == q.entrypoint_set && strv_eq(p.entrypoint, q.entrypoint));
	FUZZ_CHECK(p.entrypoint_set == (p.entrypoint != NULL));
	FUZZ_CHECK(str_eq(p.stop_signal, q.stop_signal) && p.restart == q.restart && p.restart_max == q.restart_max);
	FUZZ_CHECK(p.restart <= PROTO_RESTART_UNLESS_STOPPED && p.restart_max <= PROTO_RESTART_MAX_RETRIES);
	FUZZ_CHECK(p.restart == PROTO_RESTART_ON_FAILURE || p.restart_max == 0);
	FUZZ_CHECK(!p.rm || p.restart == PROTO_RESTART_NO);
	FUZZ_CHECK(p.n_ulimits == q.n_ulimits && p.n_ulimits <= PROTO_MAX_SECURITY_ITEMS);
	for (size_t i = 0; i < p.n_ulimits; i++) {
		FUZZ_CHECK(str_eq(p.ulimits[i].name, q.ulimits[i].name));
		FUZZ_CHECK(p.ulimits[i].soft == q.ulimits[i].soft && p.ulimits[i].hard == q.ulimits[i].hard);
		FUZZ_CHECK(proto_ulimit_check(p.ulimits[i].name, p.ulimits[i].soft, p.ulimits[i].hard, NULL) == 0);
	}
	/* Mounts (protocol/volume.c): each one the daemon's check accepts, every target once, the
	 * same after the round trip. */
	FUZZ_CHECK(p.read_only == q.read_only && strv_eq(p.volumes_from, q.volumes_from));
	FUZZ_CHECK(p.n_mounts == q.n_mounts && p.n_mounts <= PROTO_MAX_MOUNTS);
	for (size_t i = 0; i < p.n_mounts; i++) {
		const struct proto_mount *a = &p.mounts[i], *b = &q.mounts[i];
		FUZZ_CHECK(proto_mount_check(a, NULL) == 0);
		FUZZ_CHECK(a->type == b->type && str_eq(a->source, b->source) && str_eq(a->target, b->target));
		FUZZ_CHECK(a->readonly == b->readonly && a->nocopy == b->nocopy && a->create_source == b->create_source);
		FUZZ_CHECK(a->tmpfs_size == b->tmpfs_size && a->tmpfs_mode == b->tmpfs_mode && a->tmpfs_exec == b->tmpfs_exec);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(p.mounts[j].target, a->target) != 0);
	}
	proto_run_params_done(&q);
	proto_request_done(&again);

	if (reply) {
		/* Either the container starts (a pty's master rides along) or it fails with a status. */
		struct proto_run_result res = {.id = "0123456789ab", .name = p.name ? p.name : "x", .pid = 42};
		send_reply(proto_reply_result(req->id, proto_run_result_encode(&res), p.stdio == PROTO_STDIO_PTY),
			   req->id, NULL);
		send_reply(proto_reply_error(req->id, PROTO_E_START, "exec failed", proto_start_error_data(127)),
			   req->id, PROTO_E_START);
	}
	proto_run_params_done(&p);
}

/* container.exec as api_exec() decodes it: a command, KEY=VALUE entries, an absolute working
 * directory, a user the daemon can resolve; it round-trips, and so do its reply and event. */
static void exec_params(struct proto_request *req, bool reply)
{
	struct proto_exec_params p, q;
	char *err = NULL;
	int r = proto_exec_params_decode(req->params, &p, &err);
	if (params_refused(req, reply, r, err))
		return;
	FUZZ_CHECK(p.ref && p.proc.cmd && p.proc.cmd[0] && p.proc.cmd[0][0] && p.proc.stdio <= PROTO_STDIO_NULL);
	FUZZ_CHECK(!p.proc.workdir || p.proc.workdir[0] == '/');
	FUZZ_CHECK(!p.proc.user || user_spec_valid(p.proc.user));
	for (char **e = p.proc.env; e && *e; e++)
		FUZZ_CHECK(strchr(*e, '=') && **e != '=');
	unsigned nfds = proto_exec_params_nfds(&p);
	FUZZ_CHECK(nfds <= 3);

	struct proto_request again;
	reencode_request(PROTO_M_EXEC, proto_exec_params_encode(&p), nfds, &again);
	FUZZ_CHECK(proto_exec_params_decode(again.params, &q, &err) == 0);
	FUZZ_CHECK(str_eq(p.ref, q.ref) && strv_eq(p.proc.cmd, q.proc.cmd) && strv_eq(p.proc.env, q.proc.env));
	FUZZ_CHECK(str_eq(p.proc.workdir, q.proc.workdir) && str_eq(p.proc.user, q.proc.user));
	FUZZ_CHECK(p.proc.stdio == q.proc.stdio && p.proc.interactive == q.proc.interactive);
	FUZZ_CHECK(p.privileged == q.privileged && p.detach == q.detach);
	if (p.proc.tty_rows && p.proc.tty_cols)
		FUZZ_CHECK(q.proc.tty_rows == p.proc.tty_rows && q.proc.tty_cols == p.proc.tty_cols);
	FUZZ_CHECK(proto_exec_params_nfds(&q) == nfds);
	proto_exec_params_done(&q);
	proto_request_done(&again);

	if (reply) {
		bool pty = p.proc.stdio == PROTO_STDIO_PTY;
		send_reply(proto_reply_result(req->id, proto_exec_result_encode(p.ref), pty), req->id, NULL);
		send_reply(proto_reply_error(req->id, PROTO_E_CONFLICT, "container x is not running", NULL), req->id,
			   PROTO_E_CONFLICT);
	}
	proto_exec_params_done(&p);
}

/* container.exec_exited as cctl exec reads it: what decodes re-encodes to itself. */
static void exec_exit_event(json_t *obj)
{
	struct proto_exec_exit a, b;
	char *err = NULL;
	if (proto_exec_exit_decode(obj, &a, &err) < 0) {
		FUZZ_CHECK(err != NULL);
		free(err);
		return;
	}
	FUZZ_CHECK(a.exec_id && a.id && a.exit_code >= 0 && a.exit_code <= 255 && a.signal >= 0 && a.signal <= 128);
	json_t *o = proto_exec_exit_encode(&a);
	FUZZ_CHECK(o != NULL);
	FUZZ_CHECK(proto_exec_exit_decode(o, &b, &err) == 0);
	FUZZ_CHECK(str_eq(a.exec_id, b.exec_id) && str_eq(a.id, b.id) && a.exit_code == b.exit_code &&
		   a.signal == b.signal);
	json_decref(o);
}

/* The methods that name a container, and container.list. */
static void ref_params(const char *method, struct proto_request *req, bool reply)
{
	struct proto_ref_params p;
	char *err = NULL;
	int r = proto_ref_params_decode(method, req->params, &p, &err);
	if (params_refused(req, reply, r, err))
		return;
	bool list = strcmp(method, PROTO_M_LIST) == 0;
	FUZZ_CHECK(list || (p.ref && p.ref[0]));
	bool stop = strcmp(method, PROTO_M_STOP) == 0 || strcmp(method, PROTO_M_RESTART) == 0;
	/* A stop without a signal leaves it to the daemon (0). */
	FUZZ_CHECK((stop && p.signal == 0) || (p.signal >= 1 && p.signal <= SIGRTMAX));
	FUZZ_CHECK(p.timeout <= PROTO_STOP_TIMEOUT_MAX);

	struct proto_request again;
	struct proto_ref_params q;
	reencode_request(method, proto_ref_params_encode(method, &p), 0, &again);
	FUZZ_CHECK(proto_ref_params_decode(method, again.params, &q, &err) == 0);
	FUZZ_CHECK(p.all == q.all && p.force == q.force && p.signal == q.signal && (!stop || p.timeout == q.timeout));
	FUZZ_CHECK(list || strcmp(p.ref, q.ref) == 0);
	proto_request_done(&again);

	if (reply) {
		json_t *res = list ? proto_container_list_encode(json_array()) : json_object();
		send_reply(proto_reply_result(req->id, res, 0), req->id, NULL);
	}
}

/* container.start as api_start() decodes it. */
static void start_params(struct proto_request *req, bool reply)
{
	struct proto_start_params p, q;
	char *err = NULL;
	int r = proto_start_params_decode(req->params, &p, &err);
	if (r < 0) {
		if (reply)
			send_params_error(req->id, r, err);
		else
			free(err);
		return;
	}
	FUZZ_CHECK(p.ref && p.ref[0] && (p.attach || !p.interactive));
	struct proto_request again;
	reencode_request(PROTO_M_START, proto_start_params_encode(&p), 0, &again);
	FUZZ_CHECK(proto_start_params_decode(again.params, &q, &err) == 0);
	FUZZ_CHECK(str_eq(p.ref, q.ref) && p.attach == q.attach && p.interactive == q.interactive);
	proto_request_done(&again);
	if (reply) {
		struct proto_run_result res = {.id = "0123456789ab", .name = "x", .pid = 42};
		send_reply(proto_reply_result(req->id, proto_run_result_encode(&res), 0), req->id, NULL);
	}
}

/* image.import, with the fd count the request declared (or another). */
static void import_params(struct proto_request *req, unsigned nfds, bool reply)
{
	struct proto_import_params p;
	char *err = NULL;
	int r = proto_import_params_decode(req->params, nfds, &p, &err);
	if (params_refused(req, reply, r, err))
		return;
	/* The name is optional (docs/protocol.md: an image without one, as docker import without a
	 * reference); the tarball's fd is not. */
	FUZZ_CHECK(nfds == 1);
	/* A config that was accepted decodes again, and encodes to what decodes the same. */
	struct proto_image_config c1 = {0}, c2 = {0};
	json_t *cj = NULL;
	if (p.config) {
		FUZZ_CHECK(proto_image_config_decode(p.config, &c1, &err) == 0);
		FUZZ_CHECK(!c1.workdir || c1.workdir[0] == '/');
		for (char **e = c1.env; e && *e; e++)
			FUZZ_CHECK(strchr(*e, '=') && **e != '=');
		cj = proto_image_config_encode(&c1);
		FUZZ_CHECK(cj && proto_image_config_decode(cj, &c2, &err) == 0);
		FUZZ_CHECK(strv_eq(c1.cmd, c2.cmd) && strv_eq(c1.entrypoint, c2.entrypoint) && strv_eq(c1.env, c2.env));
		FUZZ_CHECK(str_eq(c1.workdir, c2.workdir) && str_eq(c1.user, c2.user) &&
			   str_eq(c1.stop_signal, c2.stop_signal));
		proto_image_config_done(&c1);
		proto_image_config_done(&c2);
	}

	struct proto_request again;
	struct proto_import_params q;
	struct proto_import_params pe = {.name = p.name, .config = cj};
	reencode_request(PROTO_M_IMAGE_IMPORT, proto_import_params_encode(&pe), nfds, &again);
	json_decref(cj);
	FUZZ_CHECK(proto_import_params_decode(again.params, again.nfds, &q, &err) == 0);
	FUZZ_CHECK(str_eq(p.name, q.name) && !p.config == !q.config);
	proto_request_done(&again);

	if (reply)
		send_reply(proto_reply_error(req->id, PROTO_E_IMPORT, "not a tarball", NULL), req->id, PROTO_E_IMPORT);
}

/* image.remove. */
/* container.rename as api_rename() decodes it. */
static void rename_params(struct proto_request *req, bool reply)
{
	struct proto_rename_params p, q;
	char *err = NULL;
	int r = proto_rename_params_decode(req->params, &p, &err);
	if (params_refused(req, reply, r, err))
		return;
	FUZZ_CHECK(p.ref && p.ref[0] && p.name && p.name[0]);
	struct proto_request again;
	reencode_request(PROTO_M_RENAME, proto_rename_params_encode(&p), 0, &again);
	FUZZ_CHECK(proto_rename_params_decode(again.params, &q, &err) == 0);
	FUZZ_CHECK(strcmp(p.ref, q.ref) == 0 && strcmp(p.name, q.name) == 0);
	proto_request_done(&again);
	if (reply)
		send_reply(proto_reply_result(req->id, NULL, 0), req->id, NULL);
}

/* events.subscribe: what decodes is within the caps and only names what exists. */
static void events_params(struct proto_request *req, bool reply)
{
	struct proto_events_params p;
	char *err = NULL;
	int r = proto_events_params_decode(req->params, &p, &err);
	if (r < 0) {
		FUZZ_CHECK(err != NULL);
		if (reply)
			send_params_error(req->id, r, err);
		else
			free(err);
		return;
	}
	FUZZ_CHECK(err == NULL);
	FUZZ_CHECK(!(p.has_since && p.has_until) || p.since_ns <= p.until_ns);
	char **lists[] = { p.containers, p.actions, p.types };
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		size_t n = 0;
		for (char **s = lists[l]; s && *s; s++, n++)
			FUZZ_CHECK(**s != '\0' || l == 0);
		FUZZ_CHECK(n <= PROTO_EVENTS_MAX_FILTER);
	}
	for (char **a = p.actions; a && *a; a++)
		FUZZ_CHECK(proto_events_action_known(*a));
	for (char **t = p.types; t && *t; t++)
		FUZZ_CHECK(strcmp(*t, "container") == 0 || strcmp(*t, "image") == 0);
	proto_events_params_done(&p);
	if (reply)
		send_reply(proto_reply_result(req->id, NULL, 0), req->id, NULL);
}

static void image_remove_params(struct proto_request *req, bool reply)
{
	struct proto_image_remove_params p;
	char *err = NULL;
	int r = proto_image_remove_params_decode(req->params, &p, &err);
	if (params_refused(req, reply, r, err))
		return;
	FUZZ_CHECK(p.name != NULL);

	struct proto_request again;
	struct proto_image_remove_params q;
	reencode_request(PROTO_M_IMAGE_REMOVE, proto_image_remove_params_encode(&p), 0, &again);
	FUZZ_CHECK(proto_image_remove_params_decode(again.params, &q, &err) == 0);
	FUZZ_CHECK(strcmp(p.name, q.name) == 0 && p.force == q.force);
	proto_request_done(&again);

	if (reply) {
		json_t *removed = json_array();
		json_array_append_new(removed, json_string(p.name));
		send_reply(proto_reply_result(req->id, proto_image_remove_result_encode(removed), 0), req->id, NULL);
	}
}

/* The decoders of what the daemon sends; each result that decodes must re-encode to itself. */
static void exit_result(json_t *obj)
{
	struct proto_exit e, f;
	char *err = NULL;
	if (proto_exit_decode(obj, &e, &err) < 0) {
		FUZZ_CHECK(err != NULL);
		free(err);
		return;
	}
	FUZZ_CHECK(e.id && e.exit_code >= 0 && e.exit_code <= 255 && e.signal >= 0 && e.signal <= 128);
	json_t *ev = proto_event_new(PROTO_EV_EXITED, proto_exit_encode(&e));
	FUZZ_CHECK(ev != NULL);
	size_t len = 0;
	char *line = proto_encode(ev, &len);
	json_decref(ev);
	FUZZ_CHECK(line != NULL);
	check_line(line, len);
	struct proto_message m;
	FUZZ_CHECK(proto_message_decode(line, len - 1, &m, &err) == 0);
	FUZZ_CHECK(str_eq(m.event, PROTO_EV_EXITED));
	FUZZ_CHECK(proto_exit_decode(m.params, &f, &err) == 0);
	FUZZ_CHECK(str_eq(e.id, f.id) && e.exit_code == f.exit_code && e.signal == f.signal);
	FUZZ_CHECK(e.oom_killed == f.oom_killed && str_eq(e.started_at, f.started_at));
	FUZZ_CHECK(str_eq(e.finished_at, f.finished_at));
	proto_message_done(&m);
	free(line);
}

/* The "security" part of container.inspect: what decodes re-encodes to itself. */
static void security_info(json_t *obj)
{
	struct proto_security_info a, b;
	char *err = NULL;
	if (proto_security_info_decode(obj, &a, &err) < 0) {
		FUZZ_CHECK(err != NULL);
		free(err);
		return;
	}
	FUZZ_CHECK(a.seccomp <= PROTO_SECCOMP_CUSTOM && a.userns <= PROTO_USERNS_AUTO);
	json_t *o = proto_security_info_encode(&a);
	FUZZ_CHECK(o != NULL);
	FUZZ_CHECK(proto_security_info_decode(o, &b, &err) == 0);
	FUZZ_CHECK(a.privileged == b.privileged && a.seccomp == b.seccomp && a.userns == b.userns);
	FUZZ_CHECK(a.no_new_privileges == b.no_new_privileges && a.n_ulimits == b.n_ulimits);
	/* These lists are always encoded, so an absent one comes back empty. */
	FUZZ_CHECK(list_eq(a.masked_paths, b.masked_paths) && list_eq(a.readonly_paths, b.readonly_paths));
	FUZZ_CHECK(list_eq(a.device_cgroup_rules, b.device_cgroup_rules) && list_eq(a.capabilities, b.capabilities));
	FUZZ_CHECK(strv_eq(a.uid_map, b.uid_map) && strv_eq(a.gid_map, b.gid_map));
	for (size_t i = 0; i < a.n_ulimits; i++)
		FUZZ_CHECK(str_eq(a.ulimits[i].name, b.ulimits[i].name) && a.ulimits[i].soft == b.ulimits[i].soft &&
			   a.ulimits[i].hard == b.ulimits[i].hard);
	proto_security_info_done(&a);
	proto_security_info_done(&b);
	json_decref(o);
}

/* One container of container.list or container.inspect. */
static void container_info(json_t *obj)
{
	struct proto_container_info c, d;
	char *err = NULL;
	if (proto_container_info_decode(obj, &c, &err) < 0) {
		FUZZ_CHECK(err != NULL);
		free(err);
		return;
	}
	FUZZ_CHECK(c.id && c.name && c.image && c.state);
	FUZZ_CHECK(c.pid >= 0 && c.exit_code >= 0 && c.exit_code <= 255 && c.signal >= 0 && c.signal <= 128);
	/* The daemon always sets image_id and cmd (daemon/container.c: container_info()). */
	if (!c.image_id || !c.cmd)
		return;
	json_t *o = proto_container_info_encode(&c);
	FUZZ_CHECK(o != NULL);
	FUZZ_CHECK(proto_container_info_decode(o, &d, &err) == 0);
	FUZZ_CHECK(str_eq(c.id, d.id) && str_eq(c.name, d.name) && str_eq(c.image, d.image));
	FUZZ_CHECK(str_eq(c.image_id, d.image_id) && str_eq(c.state, d.state) && str_eq(c.hostname, d.hostname));
	FUZZ_CHECK(json_equal(c.cmd, d.cmd) && c.pid == d.pid && c.tty == d.tty);
	FUZZ_CHECK(str_eq(c.created_at, d.created_at) && str_eq(c.started_at, d.started_at));
	FUZZ_CHECK(str_eq(c.finished_at, d.finished_at) && str_eq(c.error, d.error));
	/* The exit status travels only with finished_at. */
	if (c.finished_at)
		FUZZ_CHECK(c.exit_code == d.exit_code && c.signal == d.signal && c.oom_killed == d.oom_killed);
	FUZZ_CHECK(c.memory == d.memory && c.pids_limit == d.pids_limit && c.cpus_milli == d.cpus_milli);
	FUZZ_CHECK(c.restart_policy && str_eq(c.restart_policy, d.restart_policy));
	FUZZ_CHECK(c.restart_max == d.restart_max && c.restart_count == d.restart_count && c.restart_count >= 0);
	FUZZ_CHECK(!d.security_json && !d.labels_json);
	json_decref(o);
	if (c.labels_json) {
		const char *key;
		json_t *v;
		json_object_foreach(c.labels_json, key, v)
			FUZZ_CHECK(json_is_string(v));
	}
	if (c.security_json)
		security_info(c.security_json);
}

/* One image of image.list or image.import. */
static void image_info(json_t *obj)
{
	struct proto_image_info i, j;
	char *err = NULL;
	if (proto_image_info_decode(obj, &i, &err) < 0) {
		FUZZ_CHECK(err != NULL);
		free(err);
		return;
	}
	FUZZ_CHECK(i.id && json_is_array(i.names) && json_is_array(i.layers));
	json_t *o = proto_image_info_encode(&i);
	FUZZ_CHECK(o != NULL);
	FUZZ_CHECK(proto_image_info_decode(o, &j, &err) == 0);
	FUZZ_CHECK(str_eq(i.id, j.id) && str_eq(i.created_at ? i.created_at : "", j.created_at));
	FUZZ_CHECK(json_equal(i.names, j.names) && json_equal(i.layers, j.layers) && i.size == j.size);
	json_decref(o);
}

/* The result of container.run. */
static void run_result(json_t *obj)
{
	struct proto_run_result a, b;
	char *err = NULL;
	if (proto_run_result_decode(obj, &a, &err) < 0) {
		FUZZ_CHECK(err != NULL);
		free(err);
		return;
	}
	FUZZ_CHECK(a.id && a.pid >= 0);
	if (!a.name) /* the daemon always names the container */
		return;
	json_t *o = proto_run_result_encode(&a);
	FUZZ_CHECK(o != NULL);
	FUZZ_CHECK(proto_run_result_decode(o, &b, &err) == 0);
	FUZZ_CHECK(str_eq(a.id, b.id) && str_eq(a.name, b.name) && a.pid == b.pid);
	json_decref(o);
}

/* The results that carry arrays: container.list, image.list, image.remove. */
static void list_results(json_t *obj)
{
	json_t *a = proto_container_list_items(obj), *v;
	size_t i;
	json_array_foreach(a, i, v)
	{
		container_info(v);
	}
	a = proto_image_list_items(obj);
	json_array_foreach(a, i, v)
	{
		image_info(v);
	}
	a = proto_image_remove_result_items(obj);
	FUZZ_CHECK(!a || json_is_array(a));
}

/* The extra decoder the selector picks, run over any object. */
static void extra_decoder(unsigned which, struct proto_request *req)
{
	static const char *const ref_methods[] = {PROTO_M_LIST, PROTO_M_INSPECT, PROTO_M_KILL, PROTO_M_REMOVE,
						  PROTO_M_WAIT};
	switch (which % 13) {
	case 0:
		run_params(req, false);
		break;
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
		ref_params(ref_methods[which % 13 - 1], req, false);
		break;
	case 6:
		import_params(req, req->nfds, false);
		break;
	case 7:
		import_params(req, (which >> 4) & 3, false);
		break;
	case 8:
		image_remove_params(req, false);
		break;
	case 9:
		exit_result(req->params);
		break;
	case 10:
		container_info(req->params);
		break;
	case 11:
		image_info(req->params);
		break;
	default: {
		rename_params(req, false);
		exec_params(req, false);
		start_params(req, false);
		run_result(req->params);
		list_results(req->params);
		int code = proto_start_error_exit_code(req->params);
		FUZZ_CHECK(code >= 1 && code <= 255);
		break;
	}
	}
}

/* The methods without params: any key is refused, else the daemon answers. */
static void no_params(struct proto_request *req)
{
	char *err = NULL;
	int r = proto_no_params_decode(req->method, req->params, &err);
	if (r < 0) {
		FUZZ_CHECK(json_object_size(req->params) > 0);
		send_params_error(req->id, r, err);
		return;
	}
	FUZZ_CHECK(json_object_size(req->params) == 0);
	json_t *res;
	if (strcmp(req->method, PROTO_M_VERSION) == 0) {
		res = proto_version_result_encode("0.0-fuzz");
	} else if (strcmp(req->method, PROTO_M_INFO) == 0) {
		struct proto_system_info in = {.containers = 3, .running = 1, .images = 2, .version = "0.0-fuzz"}, out;
		res = proto_system_info_encode(&in);
		FUZZ_CHECK(proto_system_info_decode(res, &out, &err) == 0);
		FUZZ_CHECK(out.containers == 3 && out.running == 1 && out.images == 2 && str_eq(out.version, "0.0-fuzz"));
	} else {
		res = proto_image_list_encode(json_array());
	}
	send_reply(proto_reply_result(req->id, res, 0), req->id, NULL);
}

/* volume.* as daemon/api-volume.c decodes them: a valid name when one is given, the same after
 * the round trip. */
static void volume_params(const char *m, struct proto_request *req)
{
	char *err = NULL;
	if (strcmp(m, PROTO_M_VOLUME_CREATE) == 0) {
		struct proto_volume_create_params p, q;
		int r = proto_volume_create_params_decode(req->params, &p, &err);
		if (params_refused(req, false, r, err))
			return;
		FUZZ_CHECK(!p.name || proto_volume_name_valid(p.name));
		json_t *o = proto_volume_create_params_encode(&p);
		FUZZ_CHECK(o && proto_volume_create_params_decode(o, &q, NULL) == 0);
		FUZZ_CHECK(str_eq(p.name, q.name) && strv_eq(p.labels, q.labels));
		strv_free(p.labels);
		strv_free(q.labels);
		json_decref(o);
		return;
	}
	struct proto_volume_ref_params p, q;
	int r = proto_volume_ref_params_decode(m, req->params, &p, &err);
	if (params_refused(req, false, r, err))
		return;
	json_t *o = proto_volume_ref_params_encode(m, &p);
	FUZZ_CHECK(o && proto_volume_ref_params_decode(m, o, &q, NULL) == 0);
	FUZZ_CHECK(str_eq(p.name, q.name) && p.force == q.force && p.all == q.all);
	json_decref(o);
}

/* network.* as daemon/api-network.c decodes them: a name of bounded length without control
 * characters, the same after the round trip. */
static void network_params(const char *m, struct proto_request *req)
{
	char *err = NULL;
	if (strcmp(m, PROTO_M_NETWORK_CREATE) == 0) {
		struct proto_network_create_params p, q;
		int r = proto_network_create_params_decode(req->params, &p, &err);
		if (params_refused(req, false, r, err))
			return;
		FUZZ_CHECK(p.name && strlen(p.name) <= PROTO_NETWORK_NAME_MAX && !strpbrk(p.name, "\n\r\t"));
		json_t *o = proto_network_create_params_encode(&p);
		FUZZ_CHECK(o && proto_network_create_params_decode(o, &q, NULL) == 0);
		FUZZ_CHECK(str_eq(p.name, q.name) && str_eq(p.driver, q.driver) && str_eq(p.subnet, q.subnet) &&
			   str_eq(p.gateway, q.gateway) && p.internal == q.internal && strv_eq(p.labels, q.labels));
		proto_network_create_params_done(&p);
		proto_network_create_params_done(&q);
		json_decref(o);
		return;
	}
	if (strcmp(m, PROTO_M_NETWORK_LIST) == 0) {
		json_t *f = NULL;
		int r = proto_network_list_params_decode(req->params, &f, &err);
		if (params_refused(req, false, r, err))
			return;
		FUZZ_CHECK(!f || json_is_object(f));
		return;
	}
	const char *name = NULL, *back = NULL;
	int r = proto_network_ref_params_decode(m, req->params, &name, &err);
	if (params_refused(req, false, r, err))
		return;
	json_t *o = proto_network_ref_params_encode(name);
	FUZZ_CHECK(o && proto_network_ref_params_decode(m, o, &back, NULL) == 0 && str_eq(name, back));
	json_decref(o);
}

/* The daemon's side: daemon/server.c conn_handle_line() and daemon/api.c api_dispatch(). */
static void fuzz_request(unsigned sel, const char *line, size_t len)
{
	struct proto_request req;
	json_t *id = NULL;
	const char *code = NULL;
	char *err = NULL;
	int r = proto_request_decode(line, len, &req, &id, &code, &err);
	if (r < 0) {
		FUZZ_CHECK(code != NULL && err != NULL);
		FUZZ_CHECK(!id || json_is_integer(id) || json_is_string(id) || json_is_null(id));
		send_reply(proto_reply_error(id, code, err, NULL), id, code);
		free(err);
		proto_request_done(&req);
		return;
	}
	FUZZ_CHECK(code == NULL && err == NULL);
	FUZZ_CHECK(req.root && req.method && json_is_object(req.params) && req.nfds <= PROTO_MAX_FDS);
	FUZZ_CHECK(json_is_integer(req.id) || json_is_string(req.id) || json_is_null(req.id));

	const char *m = req.method;
	if (strcmp(m, PROTO_M_RUN) == 0 || strcmp(m, PROTO_M_CREATE) == 0) {
		run_params(&req, true);
	} else if (strcmp(m, PROTO_M_START) == 0) {
		start_params(&req, true);
	} else if (strcmp(m, PROTO_M_LIST) == 0 || strcmp(m, PROTO_M_INSPECT) == 0 || strcmp(m, PROTO_M_KILL) == 0 ||
		   strcmp(m, PROTO_M_REMOVE) == 0 || strcmp(m, PROTO_M_WAIT) == 0 ||
		   strcmp(m, PROTO_M_STOP) == 0 || strcmp(m, PROTO_M_PAUSE) == 0 || strcmp(m, PROTO_M_UNPAUSE) == 0 ||
		   strcmp(m, PROTO_M_TOP) == 0 || strcmp(m, PROTO_M_RESTART) == 0) {
		ref_params(m, &req, true);
	} else if (strcmp(m, PROTO_M_EVENTS) == 0) {
		events_params(&req, true);
	} else if (strcmp(m, PROTO_M_EXEC) == 0) {
		exec_params(&req, true);
	} else if (strcmp(m, PROTO_M_IMAGE_IMPORT) == 0) {
		import_params(&req, req.nfds, true);
	} else if (strcmp(m, PROTO_M_IMAGE_REMOVE) == 0) {
		image_remove_params(&req, true);
	} else if (strcmp(m, PROTO_M_RENAME) == 0) {
		rename_params(&req, true);
	} else if (strcmp(m, PROTO_M_VOLUME_CREATE) == 0 || strcmp(m, PROTO_M_VOLUME_INSPECT) == 0 ||
		   strcmp(m, PROTO_M_VOLUME_REMOVE) == 0 || strcmp(m, PROTO_M_VOLUME_PRUNE) == 0) {
		volume_params(m, &req);
	} else if (strcmp(m, PROTO_M_NETWORK_CREATE) == 0 || strcmp(m, PROTO_M_NETWORK_INSPECT) == 0 ||
		   strcmp(m, PROTO_M_NETWORK_REMOVE) == 0 || strcmp(m, PROTO_M_NETWORK_LIST) == 0) {
		network_params(m, &req);
	} else if (strcmp(m, PROTO_M_VERSION) == 0 || strcmp(m, PROTO_M_INFO) == 0 || strcmp(m, PROTO_M_IMAGE_LIST) == 0 ||
		   strcmp(m, PROTO_M_VOLUME_LIST) == 0 || strcmp(m, PROTO_M_NETWORK_PRUNE) == 0) {
		no_params(&req);
	} else {
		char *msg = NULL;
		FUZZ_CHECK(asprintf(&msg, "unknown method \"%s\"", m) >= 0);
		send_reply(proto_reply_error(req.id, PROTO_E_METHOD, msg, NULL), req.id, PROTO_E_METHOD);
		free(msg);
	}
	extra_decoder(sel, &req);
	proto_request_done(&req);
}

/* The client's side: client/conn.c and the verbs that read results. */
static void fuzz_message(unsigned sel, const char *line, size_t len)
{
	struct proto_message m;
	char *err = NULL;
	if (proto_message_decode(line, len, &m, &err) < 0) {
		FUZZ_CHECK(err != NULL);
		free(err);
		proto_message_done(&m);
		return;
	}
	FUZZ_CHECK(m.nfds <= PROTO_MAX_FDS);
	if (m.event) {
		FUZZ_CHECK(json_is_object(m.params) && m.id == -1);
		exit_result(m.params);
		exec_exit_event(m.params);
	} else if (m.error_code) {
		FUZZ_CHECK(m.error_message && !m.result);
		int code = proto_start_error_exit_code(m.error_data);
		FUZZ_CHECK(code >= 1 && code <= 255);
	} else {
		FUZZ_CHECK(json_is_object(m.result));
		switch ((sel & 0x7f) % 5) {
		case 0:
			run_result(m.result);
			break;
		case 1:
			exit_result(m.result);
			break;
		case 2:
			container_info(m.result);
			break;
		case 3:
			image_info(m.result);
			break;
		default:
			list_results(m.result);
			break;
		}
	}
	proto_message_done(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > PROTO_MAX_MESSAGE)
		return 0;
	unsigned sel = data[0];
	/* A line as wire_reader_next() hands it over: NUL-terminated, without the newline. */
	char *line = malloc(size);
	if (!line)
		return 0;
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	if (sel & 0x80)
		fuzz_message(sel, line, size - 1);
	else
		fuzz_request(sel, line, size - 1);
	free(line);
	return 0;
}
