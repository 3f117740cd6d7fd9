/* Unit tests for protocol/: request decoding and validation, reply/event encoding, typed
 * messages, and the framing of lines with their file descriptors over a real socketpair. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macros.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"
#include "protocol/wire.h"
#include "tests/tap.h"

static const char *decode_code(const char *line)
{
	struct proto_request req;
	json_t *id;
	const char *code = NULL;
	char *err = NULL;
	int r = proto_request_decode(line, strlen(line), &req, &id, &code, &err);
	proto_request_done(&req);
	free(err);
	return r == 0 ? "ok" : code;
}

static void test_request_decode(void)
{
	is_str(decode_code("{\"v\":1,\"id\":1,\"method\":\"system.version\"}"), "ok", "minimal request decodes");
	is_str(decode_code("{\"v\":1,\"id\":\"abc\",\"method\":\"m\",\"params\":{}}"), "ok", "string ids are accepted");
	is_str(decode_code("{\"v\":1,"), PROTO_E_PARSE, "truncated JSON is a parse error");
	is_str(decode_code("[1,2]"), PROTO_E_PARSE, "a non-object is a parse error");
	is_str(decode_code("{\"v\":1,\"id\":1}"), PROTO_E_INVALID, "missing method is invalid");
	is_str(decode_code("{\"id\":1,\"method\":\"m\"}"), PROTO_E_INVALID, "missing version is invalid");
	is_str(decode_code("{\"v\":2,\"id\":1,\"method\":\"m\"}"), PROTO_E_VERSION, "unknown version is refused");
	is_str(decode_code("{\"v\":1,\"id\":1,\"method\":7}"), PROTO_E_INVALID, "non-string method is invalid");
	is_str(decode_code("{\"v\":1,\"id\":[1],\"method\":\"m\"}"), PROTO_E_INVALID, "array id is invalid");
	is_str(decode_code("{\"v\":1,\"id\":1,\"method\":\"m\",\"params\":[]}"), PROTO_E_INVALID, "array params are invalid");
	is_str(decode_code("{\"v\":1,\"id\":1,\"method\":\"m\",\"fds\":99}"), PROTO_E_INVALID, "fds above the cap are invalid");
	is_str(decode_code("{\"v\":1,\"id\":1,\"method\":\"m\",\"method\":\"n\"}"), PROTO_E_PARSE, "duplicate keys are refused");

	/* Found by fuzzing: a string id so long that every reply would exceed the size limit. */
	char *longid = malloc(PROTO_MAX_ID + 64);
	int n = sprintf(longid, "{\"v\":1,\"method\":\"m\",\"id\":\"");
	memset(longid + n, 'i', PROTO_MAX_ID + 1);
	strcpy(longid + n + PROTO_MAX_ID + 1, "\"}");
	is_str(decode_code(longid), PROTO_E_INVALID, "an over-long string id is refused");
	free(longid);

	/* Found by fuzzing: jansson's error text quotes half a UTF-8 sequence; the error message
	 * must still make a valid (encodable) reply. */
	{
		struct proto_request bad;
		json_t *bid;
		const char *bcode;
		char *berr = NULL;
		const char *raw = "{\"v\":1,\"id\":1,\"method\":\"\\\xc3\xa9\"}";
		ok(proto_request_decode(raw, strlen(raw), &bad, &bid, &bcode, &berr) < 0, "a bad escape before UTF-8 fails");
		json_t *reply = proto_reply_error(NULL, bcode, berr, NULL);
		size_t blen;
		char *line = reply ? proto_encode(reply, &blen) : NULL;
		ok(line != NULL, "and its error reply encodes: %s", line ? line : "(null)");
		free(line);
		json_decref(reply);
		free(berr);
		proto_request_done(&bad);
	}

	struct proto_request req;
	json_t *id;
	const char *code;
	char *err = NULL;
	const char *line = "{\"v\":1,\"id\":42,\"method\":\"container.run\",\"fds\":3}";
	ok(proto_request_decode(line, strlen(line), &req, &id, &code, &err) == 0, "request with fds decodes");
	is_int(req.nfds, 3, "declared fd count is read");
	is_int(json_integer_value(req.id), 42, "id is kept");
	ok(json_is_object(req.params), "absent params become an empty object");
	proto_request_done(&req);

	line = "{\"v\":1,\"id\":9,\"method\":";
	ok(proto_request_decode(line, strlen(line), &req, &id, &code, &err) < 0, "broken request fails");
	ok(err && strstr(err, "malformed JSON"), "the message says malformed JSON: %s", err ? err : "");
	free(err);
	proto_request_done(&req);
}

static void test_encode(void)
{
	size_t len;
	json_t *five = json_integer(5);
	json_t *m = proto_reply_error(five, PROTO_E_NOT_FOUND, "no such\ncontainer", NULL);
	json_decref(five);
	char *s = proto_encode(m, &len);
	ok(s && s[len - 1] == '\n' && !memchr(s, '\n', len - 1), "an encoded message is exactly one line");
	struct proto_message msg;
	char *err = NULL;
	ok(proto_message_decode(s, len - 1, &msg, &err) == 0, "the client decodes an error reply");
	is_str(msg.error_code, PROTO_E_NOT_FOUND, "error code survives");
	is_str(msg.error_message, "no such\ncontainer", "message with a newline survives");
	is_int(msg.id, 5, "reply id survives");
	proto_message_done(&msg);
	free(s);
	json_decref(m);

	json_t *big = json_object();
	char *huge = malloc(PROTO_MAX_MESSAGE + 10);
	memset(huge, 'x', PROTO_MAX_MESSAGE + 9);
	huge[PROTO_MAX_MESSAGE + 9] = '\0';
	json_object_set_new(big, "x", json_string(huge));
	ok(proto_encode(big, &len) == NULL, "an oversized message is not encoded");
	json_decref(big);
	free(huge);

	m = proto_event_new(PROTO_EV_EXITED, json_pack("{s:s, s:i}", "id", "abc", "exit_code", 3));
	s = proto_encode(m, &len);
	ok(proto_message_decode(s, len - 1, &msg, &err) == 0 && msg.event, "events decode");
	struct proto_exit e;
	ok(proto_exit_decode(msg.params, &e, &err) == 0, "exit params decode");
	is_int(e.exit_code, 3, "exit code survives");
	proto_message_done(&msg);
	free(s);
	json_decref(m);
}

static void test_run_params(void)
{
	char *argv[] = { "/bin/echo", "hi", NULL }, *env[] = { "A=1", NULL };
	struct proto_run_params in = { .image = "alpine", .cmd = argv, .env = env, .stdio = PROTO_STDIO_PTY,
				       .interactive = true, .rm = true, .memory = 50 << 20, .pids_limit = 10,
				       .cpus_milli = 500, .tty_rows = 24, .tty_cols = 80 };
	json_t *j = proto_run_params_encode(&in);
	struct proto_run_params out;
	char *err = NULL;
	ok(proto_run_params_decode(j, &out, &err) == 0, "run params round-trip");
	is_str(out.image, "alpine", "image");
	is_str(out.cmd[1], "hi", "cmd");
	is_int(out.stdio, PROTO_STDIO_PTY, "stdio");
	is_int(out.memory, 50 << 20, "memory");
	is_int(out.pids_limit, 10, "pids limit");
	is_int(out.cpus_milli, 500, "cpus");
	is_int(out.tty_cols, 80, "tty cols");
	is_int(proto_run_params_nfds(&out), 0, "pty runs carry no fds");
	ok(!out.init && !json_object_get(j, "init"), "init is false and not sent unless asked for");
	proto_run_params_done(&out);
	json_decref(j);
	in.init = true;
	j = proto_run_params_encode(&in);
	ok(json_is_true(json_object_get(j, "init")) && proto_run_params_decode(j, &out, &err) == 0 && out.init,
	   "init: true round-trips");
	proto_run_params_done(&out);
	json_decref(j);
	/* The namespace modes travel as strings under their own keys; unset ones are not sent. */
	j = proto_run_params_encode(&in);
	ok(j && !json_object_get(j, "network") && !json_object_get(j, "pid"), "unset namespace modes are not sent");
	json_decref(j);
	in.network = "container:a";
	in.pid_mode = "host";
	in.ipc_mode = "shareable";
	in.uts_mode = "host";
	in.cgroupns_mode = "private";
	j = proto_run_params_encode(&in);
	is_str(json_string_value(json_object_get(j, "network")), "container:a", "network on the wire");
	is_int(proto_run_params_decode(j, &out, &err), 0, "namespace modes decode");
	is_str(out.network, "container:a", "network round-trips");
	is_str(out.pid_mode, "host", "pid round-trips");
	is_str(out.ipc_mode, "shareable", "ipc round-trips");
	is_str(out.uts_mode, "host", "uts round-trips");
	is_str(out.cgroupns_mode, "private", "cgroupns round-trips");
	proto_run_params_done(&out);
	json_decref(j);
	in.network = in.pid_mode = in.ipc_mode = in.uts_mode = in.cgroupns_mode = NULL;

	struct {
		const char *json, *why;
	} bad[] = {
		{ "{}", "image is required" },
		{ "{\"image\":5}", "image must be a string" },
		{ "{\"image\":\"a\",\"cmd\":[]}", "empty cmd" },
		{ "{\"image\":\"a\",\"cmd\":[1]}", "non-string cmd" },
		{ "{\"image\":\"a\",\"env\":[\"NOEQUALS\"]}", "env without =" },
		{ "{\"image\":\"a\",\"memory\":-1}", "negative memory" },
		{ "{\"image\":\"a\",\"memory\":\"50m\"}", "memory as string" },
		{ "{\"image\":\"a\",\"stdio\":\"tcp\"}", "unknown stdio" },
		{ "{\"image\":\"a\",\"rm\":1}", "non-boolean rm" },
		{ "{\"image\":\"a\",\"init\":\"yes\"}", "non-boolean init" },
		{ "{\"image\":\"a\",\"cpus_milli\":99999999}", "too many cpus" },
		{ "{\"image\":\"a\",\"network\":5}", "non-string network" },
		{ "{\"image\":\"a\",\"ipc\":[\"host\"]}", "non-string ipc" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *p = json_loads(bad[i].json, 0, NULL);
		err = NULL;
		int r = proto_run_params_decode(p, &out, &err);
		ok(r < 0 && err, "rejected: %s (%s)", bad[i].why, err ? err : "no message");
		free(err);
		json_decref(p);
	}
	struct proto_run_params fds = { .image = "a", .stdio = PROTO_STDIO_FDS };
	is_int(proto_run_params_nfds(&fds), 2, "non-interactive runs carry stdout and stderr");
	fds.interactive = true;
	is_int(proto_run_params_nfds(&fds), 3, "interactive runs carry stdin too");
}

/* Decodes params for a method as daemon/api.c does; returns the error message (caller frees),
 * or NULL when they were accepted. */
static char *params_error(const char *method, const char *json, unsigned nfds)
{
	json_t *p = json_loads(json, 0, NULL);
	char *err = NULL;
	int r;
	if (!p)
		return strdup("(test bug: bad JSON)");
	if (strcmp(method, PROTO_M_RUN) == 0) {
		struct proto_run_params rp;
		r = proto_run_params_decode(p, &rp, &err);
		if (r == 0)
			proto_run_params_done(&rp);
	} else if (strcmp(method, PROTO_M_IMAGE_IMPORT) == 0) {
		struct proto_import_params ip;
		r = proto_import_params_decode(p, nfds, &ip, &err);
	} else if (strcmp(method, PROTO_M_IMAGE_REMOVE) == 0) {
		struct proto_image_remove_params ir;
		r = proto_image_remove_params_decode(p, &ir, &err);
	} else if (strcmp(method, PROTO_M_VERSION) == 0 || strcmp(method, PROTO_M_INFO) == 0 ||
		   strcmp(method, PROTO_M_IMAGE_LIST) == 0) {
		r = proto_no_params_decode(method, p, &err);
	} else {
		struct proto_ref_params rf;
		r = proto_ref_params_decode(method, p, &rf, &err);
	}
	json_decref(p);
	if (r == 0) {
		free(err);
		return NULL;
	}
	return err ? err : strdup("(no message)");
}

static void test_security_params(void)
{
	char *add[] = { "NET_ADMIN", "cap_sys_time", NULL }, *drop[] = { "ALL", NULL };
	char *rules[] = { "c 10:200 rwm", NULL };
	struct proto_ulimit ul[] = { { "nofile", 1024, 2048 }, { "core", -1, -1 } };
	json_t *profile = json_pack("{s:s, s:[]}", "defaultAction", "SCMP_ACT_ERRNO", "syscalls");
	struct proto_run_params in = { .image = "alpine", .privileged = true, .cap_add = add, .cap_drop = drop,
				       .no_new_privileges = true, .seccomp = PROTO_SECCOMP_CUSTOM,
				       .seccomp_profile = profile, .system_paths_unconfined = true,
				       .ulimits = ul, .n_ulimits = 2, .userns = PROTO_USERNS_AUTO,
				       .device_cgroup_rules = rules };
	json_t *j = proto_run_params_encode(&in);
	struct proto_run_params out;
	char *err = NULL;
	ok(j && proto_run_params_decode(j, &out, &err) == 0, "security params round-trip (%s)", err ? err : "ok");
	ok(out.privileged && out.no_new_privileges && out.system_paths_unconfined, "the booleans survive");
	ok(out.cap_add && out.cap_add[1] && strcmp(out.cap_add[1], "cap_sys_time") == 0 && !out.cap_add[2],
	   "cap_add keeps the names as typed");
	ok(out.cap_drop && strcmp(out.cap_drop[0], "ALL") == 0 && !out.cap_drop[1], "cap_drop");
	is_int(out.seccomp, PROTO_SECCOMP_CUSTOM, "a profile object is a custom seccomp filter");
	ok(json_equal(out.seccomp_profile, profile) && out.seccomp_profile != profile, "the profile is copied");
	is_int(out.n_ulimits, 2, "two ulimits");
	ok(out.n_ulimits == 2 && strcmp(out.ulimits[0].name, "nofile") == 0 && out.ulimits[0].soft == 1024 &&
	   out.ulimits[0].hard == 2048 && out.ulimits[1].soft == -1, "ulimit values survive");
	is_int(out.userns, PROTO_USERNS_AUTO, "userns auto");
	ok(out.device_cgroup_rules && strcmp(out.device_cgroup_rules[0], "c 10:200 rwm") == 0, "device rules");
	proto_run_params_done(&out);
	json_decref(j);
	json_decref(profile);

	struct proto_run_params plain = { .image = "alpine" };
	j = proto_run_params_encode(&plain);
	ok(j && json_object_size(j) == 4, "default security options add no field (%zu fields)", json_object_size(j));
	ok(proto_run_params_decode(j, &out, &err) == 0 && out.seccomp == PROTO_SECCOMP_DEFAULT &&
	   out.userns == PROTO_USERNS_DEFAULT && !out.privileged && !out.cap_add && !out.n_ulimits,
	   "absent options decode as the defaults");
	proto_run_params_done(&out);
	json_decref(j);

	char *e = params_error(PROTO_M_RUN, "{\"image\":\"a\",\"seccomp_profile\":\"unconfined\",\"userns\":\"host\"}", 0);
	ok(!e, "seccomp unconfined and userns host are accepted (%s)", e ? e : "ok");
	free(e);

	struct {
		const char *json, *want, *why;
	} bad[] = {
		{ "{\"image\":\"a\",\"memroy\":5}", "unknown field \"memroy\" in container.run params", "a misspelt field" },
		{ "{\"image\":\"a\",\"privileged\":1}", "\"privileged\" must be true or false", "privileged as a number" },
		{ "{\"image\":\"a\",\"cap_add\":\"NET_ADMIN\"}", "\"cap_add\" must be an array", "cap_add as a string" },
		{ "{\"image\":\"a\",\"cap_drop\":[\"\"]}", "empty name", "an empty capability" },
		{ "{\"image\":\"a\",\"seccomp_profile\":\"/etc/profile.json\"}", "\"unconfined\" or a seccomp profile",
		  "a path as seccomp profile" },
		{ "{\"image\":\"a\",\"seccomp_profile\":{\"syscalls\":[]}}", "defaultAction", "a profile without defaultAction" },
		{ "{\"image\":\"a\",\"userns\":\"private\"}", "unknown value \"private\"", "an unknown userns" },
		{ "{\"image\":\"a\",\"ulimits\":[{\"name\":\"nofiles\",\"soft\":1,\"hard\":1}]}", "unknown ulimit \"nofiles\"",
		  "an unknown ulimit" },
		{ "{\"image\":\"a\",\"ulimits\":[{\"name\":\"nofile\",\"soft\":10,\"hard\":5}]}", "soft limit 10 is above the hard limit 5",
		  "soft above hard" },
		{ "{\"image\":\"a\",\"ulimits\":[{\"name\":\"nofile\",\"soft\":-1,\"hard\":5}]}", "soft limit -1 is above",
		  "unlimited soft under a hard limit" },
		{ "{\"image\":\"a\",\"ulimits\":[{\"name\":\"nofile\",\"soft\":-2,\"hard\":5}]}", "-1 (unlimited) or more",
		  "a value below -1" },
		{ "{\"image\":\"a\",\"ulimits\":[{\"name\":\"nofile\",\"soft\":1}]}", "needs integers", "no hard value" },
		{ "{\"image\":\"a\",\"ulimits\":[{\"name\":\"nproc\",\"soft\":1,\"hard\":1,\"max\":2}]}",
		  "unknown field \"max\" in a container.run ulimit", "an unknown key in a ulimit" },
		{ "{\"image\":\"a\",\"ulimits\":[{\"name\":\"nproc\",\"soft\":1,\"hard\":1},{\"name\":\"nproc\",\"soft\":2,\"hard\":2}]}",
		  "given twice", "a ulimit given twice" },
		{ "{\"image\":\"a\",\"device_cgroup_rules\":[5]}", "array of strings", "a device rule that is not a string" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		e = params_error(PROTO_M_RUN, bad[i].json, 0);
		ok(e && strstr(e, bad[i].want), "refused: %s (%s)", bad[i].why, e ? e : "accepted");
		free(e);
	}

	/* The lists are capped. */
	json_t *caps = json_array();
	for (int i = 0; i <= PROTO_MAX_SECURITY_ITEMS; i++)
		json_array_append_new(caps, json_string("CHOWN"));
	json_t *p = json_pack("{s:s, s:O}", "image", "a", "cap_add", caps);
	err = NULL;
	ok(proto_run_params_decode(p, &out, &err) == -E2BIG, "%d capabilities are too many (%s)",
	   PROTO_MAX_SECURITY_ITEMS + 1, err ? err : "accepted");
	free(err);
	json_array_remove(caps, 0);
	json_object_set(p, "cap_add", caps);
	err = NULL;
	ok(proto_run_params_decode(p, &out, &err) == 0, "%d are fine", PROTO_MAX_SECURITY_ITEMS);
	proto_run_params_done(&out);
	json_decref(p);
	json_decref(caps);

	ok(proto_ulimit_check("rttime", 5, -1, NULL) == 0, "a soft limit under an unlimited hard one is fine");
	ok(proto_ulimit_check("stack", 5, 5, NULL) == 0, "soft equal to hard is fine");
}

/* Every method refuses a field it does not know, and names it. */
static void test_unknown_fields(void)
{
	struct {
		const char *method, *json, *field;
		unsigned nfds;
	} cases[] = {
		{ PROTO_M_LIST, "{\"all\":true,\"quiet\":true}", "quiet", 0 },
		{ PROTO_M_INSPECT, "{\"id\":\"web\",\"size\":true}", "size", 0 },
		{ PROTO_M_KILL, "{\"id\":\"web\",\"sig\":9}", "sig", 0 },
		{ PROTO_M_KILL, "{\"id\":\"web\",\"force\":true}", "force", 0 },
		{ PROTO_M_REMOVE, "{\"id\":\"web\",\"link\":true}", "link", 0 },
		{ PROTO_M_WAIT, "{\"id\":\"web\",\"signal\":9}", "signal", 0 },
		{ PROTO_M_STOP, "{\"id\":\"web\",\"force\":true}", "force", 0 },
		{ PROTO_M_STOP, "{\"id\":\"web\",\"time\":5}", "time", 0 },
		{ PROTO_M_IMAGE_IMPORT, "{\"name\":\"a\",\"path\":\"/tmp/x.tar\"}", "path", 0 },
		{ PROTO_M_IMAGE_IMPORT, "{\"name\":\"a\",\"path\":\"/tmp/x.tar\"}", "path", 1 },
		{ PROTO_M_IMAGE_REMOVE, "{\"name\":\"a\",\"prune\":true}", "prune", 0 },
		{ PROTO_M_VERSION, "{\"verbose\":true}", "verbose", 0 },
		{ PROTO_M_INFO, "{\"format\":\"json\"}", "format", 0 },
		{ PROTO_M_IMAGE_LIST, "{\"all\":true}", "all", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char want[128];
		snprintf(want, sizeof(want), "unknown field \"%s\" in %s params", cases[i].field, cases[i].method);
		char *e = params_error(cases[i].method, cases[i].json, cases[i].nfds);
		is_str(e ? e : "accepted", want, "%s refuses \"%s\"", cases[i].method, cases[i].field);
		free(e);
	}
	struct {
		const char *method, *json;
		unsigned nfds;
	} good[] = {
		{ PROTO_M_LIST, "{\"all\":true}", 0 },
		{ PROTO_M_KILL, "{\"id\":\"web\",\"signal\":15}", 0 },
		{ PROTO_M_REMOVE, "{\"id\":\"web\",\"force\":true}", 0 },
		{ PROTO_M_WAIT, "{\"id\":\"web\"}", 0 },
		{ PROTO_M_STOP, "{\"id\":\"web\",\"timeout\":0,\"signal\":\"SIGTERM\"}", 0 },
		{ PROTO_M_IMAGE_IMPORT, "{\"name\":\"a\"}", 1 },
		{ PROTO_M_IMAGE_REMOVE, "{\"name\":\"a\",\"force\":false}", 0 },
		{ PROTO_M_INFO, "{}", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		char *e = params_error(good[i].method, good[i].json, good[i].nfds);
		ok(!e, "%s accepts %s (%s)", good[i].method, good[i].json, e ? e : "ok");
		free(e);
	}
	char *e = params_error(PROTO_M_IMAGE_IMPORT, "{\"name\":\"a\"}", 0);
	ok(e && strstr(e, "exactly one fd"), "image.import without its fd is refused (%s)", e ? e : "accepted");
	free(e);

	/* A long unknown key is cut at a character boundary: the message must stay valid UTF-8. */
	char json[256] = "{\"all\":true,\"";
	for (int i = 0; i < 40; i++)
		strcat(json, "\xc3\xa9");
	strcat(json, "\":1}");
	e = params_error(PROTO_M_LIST, json, 0);
	json_t *msg = e ? json_string(e) : NULL;
	ok(msg != NULL, "the message about a long non-ASCII key is valid UTF-8");
	json_decref(msg);
	free(e);
}

static void test_security_info(void)
{
	char *caps[] = { "CAP_CHOWN", "CAP_KILL", NULL }, *masked[] = { "/proc/kcore", NULL };
	char *ro[] = { "/proc/sys", NULL }, *map[] = { "0 100000 65536", NULL };
	struct proto_ulimit ul[] = { { "nofile", 1024, 1024 } };
	struct proto_security_info in = { .capabilities = caps, .seccomp = PROTO_SECCOMP_UNCONFINED,
					  .no_new_privileges = true, .masked_paths = masked, .readonly_paths = ro,
					  .userns = PROTO_USERNS_AUTO, .uid_map = map, .gid_map = map,
					  .ulimits = ul, .n_ulimits = 1 };
	json_t *argv = json_pack("[s]", "sh");
	struct proto_container_info ci = { .id = "abc", .name = "web", .image = "alpine", .image_id = "sha256:00",
					   .state = "running", .cmd = argv, .pid = 7, .security = &in };
	json_t *o = proto_container_info_encode(&ci);
	json_t *sec = json_object_get(o, "security");
	is_str(json_string_value(json_object_get(sec, "seccomp")), "unconfined", "inspect says seccomp unconfined");
	is_str(json_string_value(json_object_get(sec, "userns")), "auto", "and userns auto");
	struct proto_container_info out;
	char *err = NULL;
	ok(proto_container_info_decode(o, &out, &err) == 0 && out.security_json == sec, "info with security decodes");
	ok(json_is_false(json_object_get(o, "init")) && !out.init, "inspect says init: false");
	struct proto_security_info si;
	ok(proto_security_info_decode(out.security_json, &si, &err) == 0, "the security part decodes");
	ok(si.capabilities && strcmp(si.capabilities[1], "CAP_KILL") == 0 && !si.capabilities[2], "capabilities");
	ok(si.no_new_privileges && !si.privileged && si.seccomp == PROTO_SECCOMP_UNCONFINED, "flags");
	ok(si.masked_paths && strcmp(si.masked_paths[0], "/proc/kcore") == 0, "masked paths");
	ok(si.readonly_paths && strcmp(si.readonly_paths[0], "/proc/sys") == 0, "read-only paths");
	ok(si.uid_map && strcmp(si.uid_map[0], "0 100000 65536") == 0 && si.gid_map, "id maps");
	ok(si.n_ulimits == 1 && si.ulimits[0].soft == 1024, "ulimits");
	is_int(si.userns, PROTO_USERNS_AUTO, "userns");
	proto_security_info_done(&si);
	json_decref(o);

	/* A record an older daemon wrote has no "security". */
	ci.security = NULL;
	o = proto_container_info_encode(&ci);
	ok(o && !json_object_get(o, "security"), "no security part when the daemon gives none");
	ok(proto_container_info_decode(o, &out, &err) == 0 && !out.security_json, "and its absence decodes");
	json_decref(o);
	ci.init = true;
	o = proto_container_info_encode(&ci);
	ok(proto_container_info_decode(o, &out, &err) == 0 && out.init && json_is_true(json_object_get(o, "init")),
	   "inspect says init: true");
	json_object_set_new(o, "security", json_pack("{s:s}", "seccomp", "strict"));
	ok(proto_container_info_decode(o, &out, &err) < 0 && err && strstr(err, "strict"),
	   "a broken security part is refused (%s)", err ? err : "accepted");
	free(err);
	json_decref(o);
	json_decref(argv);

	struct proto_system_info sys = { .containers = 4, .running = 2, .images = 1, .cgroup_layout = "hybrid",
					 .version = "1.0" }, back;
	o = proto_system_info_encode(&sys);
	err = NULL;
	ok(proto_system_info_decode(o, &back, &err) == 0 && back.containers == 4 && back.running == 2 &&
	   back.images == 1 && strcmp(back.cgroup_layout, "hybrid") == 0, "system.info round-trips");
	json_decref(o);
}

static int send_line(int fd, const char *line, int *fds, unsigned nfds)
{
	return wire_send(fd, line, strlen(line), fds, nfds);
}

static int open_count(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_wire(void)
{
	int sv[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	int baseline = open_count();
	struct wire_reader rd;
	struct wire_msg m;
	wire_reader_init(&rd);

	/* Two messages, the second with two fds, read in one go. */
	int p[2];
	ok(pipe2(p, O_CLOEXEC) == 0, "pipe");
	send_line(sv[0], "{\"a\":1}\n", NULL, 0);
	send_line(sv[0], "{\"b\":2}\n", p, 2);
	close(p[0]);
	close(p[1]);
	int total = 0, n;
	while ((n = wire_reader_fill(&rd, sv[1])) > 0)
		total += n;
	ok(total == 16, "read both lines (%d bytes)", total);
	is_int(wire_reader_next(&rd, &m), 1, "first line");
	is_str(m.line, "{\"a\":1}", "first line content");
	is_int(m.nfds, 0, "first line has no fds");
	is_int(wire_reader_next(&rd, &m), 1, "second line");
	is_str(m.line, "{\"b\":2}", "second line content");
	is_int(m.nfds, 2, "second line carries its two fds");
	ok(fcntl(m.fds[0], F_GETFD) & FD_CLOEXEC, "received fds are close-on-exec");
	wire_msg_close_fds(&m);
	is_int(wire_reader_next(&rd, &m), 0, "no third line");

	/* A line in pieces, fds on the first piece. */
	ok(pipe2(p, O_CLOEXEC) == 0, "pipe");
	wire_send(sv[0], "{\"c\":", 5, p, 1);
	close(p[0]);
	close(p[1]);
	wire_reader_fill(&rd, sv[1]);
	is_int(wire_reader_next(&rd, &m), 0, "incomplete line waits");
	send_line(sv[0], "3}\n", NULL, 0);
	wire_reader_fill(&rd, sv[1]);
	is_int(wire_reader_next(&rd, &m), 1, "completed line");
	is_int(m.nfds, 1, "fd sent with the first piece belongs to the line");
	wire_msg_close_fds(&m);

	/* An oversized line is discarded with its fds, and the stream recovers. */
	char *huge = malloc(PROTO_MAX_MESSAGE + 100);
	memset(huge, 'x', PROTO_MAX_MESSAGE + 99);
	huge[PROTO_MAX_MESSAGE + 98] = '\n';
	huge[PROTO_MAX_MESSAGE + 99] = '\0';
	ok(pipe2(p, O_CLOEXEC) == 0, "pipe");
	int flags = fcntl(sv[0], F_GETFL);
	fcntl(sv[0], F_SETFL, flags | O_NONBLOCK);
	size_t off = 0;
	int got_too_large = 0, good = 0;
	const char *tail = "{\"after\":1}\n";
	bool sent_tail = false;
	while (!good) {
		if (off < strlen(huge)) {
			ssize_t k = send(sv[0], huge + off, strlen(huge) - off, MSG_DONTWAIT);
			if (k > 0)
				off += (size_t)k;
		} else if (!sent_tail) {
			send_line(sv[0], tail, NULL, 0);
			sent_tail = true;
		}
		wire_reader_fill(&rd, sv[1]);
		for (;;) {
			int k = wire_reader_next(&rd, &m);
			if (k == -EMSGSIZE)
				got_too_large++;
			else if (k == 1) {
				good = strcmp(m.line, "{\"after\":1}") == 0;
				wire_msg_close_fds(&m);
			} else
				break;
		}
		if (sent_tail && !good && wire_reader_fill(&rd, sv[1]) == -EAGAIN)
			break;
	}
	fcntl(sv[0], F_SETFL, flags);
	close(p[0]);
	close(p[1]);
	is_int(got_too_large, 1, "oversized line reported once");
	ok(good, "the next line after an oversized one is read");
	free(huge);

	/* Writer queue with fds. */
	struct wire_writer w;
	wire_writer_init(&w);
	int d = fcntl(0, F_DUPFD_CLOEXEC, 3);
	ok(wire_writer_push(&w, "{\"x\":1}\n", 8, &d, 1) == 0, "queue a message with an fd");
	is_int(wire_writer_flush(&w, sv[0]), 0, "flush sends everything");
	ok(!wire_writer_pending(&w), "queue empty");
	wire_reader_fill(&rd, sv[1]);
	is_int(wire_reader_next(&rd, &m), 1, "queued message arrives");
	is_int(m.nfds, 1, "with its fd");
	wire_msg_close_fds(&m);
	wire_writer_done(&w);

	/* EOF */
	close(sv[0]);
	is_int(wire_reader_fill(&rd, sv[1]), 0, "EOF reads 0");
	wire_reader_done(&rd);
	close(sv[1]);
	is_int(open_count(), baseline - 2, "no fd leaked by reader or writer");
}

/* container.stop: defaults, signals by name and number, the timeout's range, and the encoding
 * cctl sends decodes to the same values. */
static void test_stop_params(void)
{
	struct proto_ref_params p;
	char *err = NULL;
	json_t *j = json_pack("{s:s}", "id", "web");
	ok(proto_ref_params_decode(PROTO_M_STOP, j, &p, &err) == 0, "stop with only an id is accepted");
	is_int(p.signal, 0, "the default signal is the container's (0)");
	is_int(p.timeout, PROTO_STOP_TIMEOUT_DEFAULT, "the default timeout is 10 s");
	json_decref(j);

	struct {
		const char *json;
		int sig;
		unsigned timeout;
	} good[] = {
		{ "{\"id\":\"a\",\"signal\":\"KILL\",\"timeout\":0}", SIGKILL, 0 },
		{ "{\"id\":\"a\",\"signal\":\"sigusr1\",\"timeout\":3600}", SIGUSR1, 3600 },
		{ "{\"id\":\"a\",\"signal\":\"15\"}", SIGTERM, 10 },
		{ "{\"id\":\"a\",\"signal\":2,\"timeout\":null}", SIGINT, 10 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		j = json_loads(good[i].json, 0, NULL);
		int r = proto_ref_params_decode(PROTO_M_STOP, j, &p, &err);
		ok(r == 0 && p.signal == good[i].sig && p.timeout == good[i].timeout, "stop accepts %s (%s)", good[i].json,
		   r < 0 ? err : "ok");
		free(TAKE_PTR(err));
		json_decref(j);
	}

	struct {
		const char *json, *want;
	} bad[] = {
		{ "{\"id\":\"a\",\"timeout\":-1}", "\"timeout\" must be between 0 and 3600" },
		{ "{\"id\":\"a\",\"timeout\":3601}", "\"timeout\" must be between 0 and 3600" },
		{ "{\"id\":\"a\",\"timeout\":1.5}", "\"timeout\" must be an integer" },
		{ "{\"id\":\"a\",\"signal\":\"NOPE\"}", "unknown signal \"NOPE\"" },
		{ "{\"id\":\"a\",\"signal\":0}", "\"signal\" must be between 1" },
		{ "{\"id\":\"a\",\"signal\":[9]}", "\"signal\" must be a signal number or name" },
		{ "{\"signal\":9}", "\"id\"" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		j = json_loads(bad[i].json, 0, NULL);
		int r = proto_ref_params_decode(PROTO_M_STOP, j, &p, &err);
		ok(r < 0 && err && strstr(err, bad[i].want), "stop refuses %s (%s)", bad[i].json, err ? err : "accepted");
		free(TAKE_PTR(err));
		json_decref(j);
	}

	struct proto_ref_params in = { .ref = "web", .signal = SIGQUIT, .timeout = 0 };
	j = proto_ref_params_encode(PROTO_M_STOP, &in);
	ok(j && proto_ref_params_decode(PROTO_M_STOP, j, &p, &err) == 0 && p.signal == SIGQUIT && p.timeout == 0 &&
		   strcmp(p.ref, "web") == 0,
	   "an encoded stop decodes to the same id, signal and timeout 0");
	json_decref(j);
	in.signal = 0;
	j = proto_ref_params_encode(PROTO_M_STOP, &in);
	ok(j && !json_object_get(j, "signal"), "stop without a signal leaves the choice to the daemon");
	json_decref(j);
	free(err);
}

/* Labels: an object on the wire, sorted KEY=VALUE entries once decoded, within the caps; the
 * list/inspect item carries them back; container.rename's params. */
static void test_labels_rename(void)
{
	struct proto_run_params p;
	char *err = NULL;
	json_t *o = json_loads("{\"image\":\"a\",\"labels\":{\"z\":\"1\",\"app\":\"web\",\"k\":\"\"}}", 0, NULL);
	ok(proto_run_params_decode(o, &p, &err) == 0, "labels decode");
	ok(p.labels && strcmp(p.labels[0], "app=web") == 0 && strcmp(p.labels[1], "k=") == 0 &&
		   strcmp(p.labels[2], "z=1") == 0 && !p.labels[3],
	   "as KEY=VALUE sorted by key");
	json_t *back = proto_run_params_encode(&p);
	char *text = json_dumps(json_object_get(back, "labels"), JSON_SORT_KEYS | JSON_COMPACT);
	is_str(text, "{\"app\":\"web\",\"k\":\"\",\"z\":\"1\"}", "and encode back to the object");
	free(text);
	json_decref(back);
	proto_run_params_done(&p);
	json_decref(o);

	static const struct {
		const char *json, *want;
	} bad[] = {
		{ "{\"image\":\"a\",\"labels\":[\"a=b\"]}", "must be an object" },
		{ "{\"image\":\"a\",\"labels\":{\"a\":1}}", "must be a string" },
		{ "{\"image\":\"a\",\"labels\":{\"\":\"x\"}}", "must not be empty" },
		{ "{\"image\":\"a\",\"labels\":{\"a=b\":\"x\"}}", "must not contain" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_loads(bad[i].json, 0, NULL);
		err = NULL;
		ok(proto_run_params_decode(o, &p, &err) == -EINVAL && err && strstr(err, bad[i].want), "refused: %s (%s)",
		   bad[i].json, err ? err : "accepted");
		free(err);
		json_decref(o);
	}
	/* The caps: 128 labels pass, 129 do not; a key of 257 bytes and a value of 4097 do not. */
	o = json_pack("{s:s, s:{}}", "image", "a", "labels");
	json_t *l = json_object_get(o, "labels");
	char key[PROTO_LABEL_VALUE_MAX + 2];
	for (int i = 0; i < PROTO_MAX_LABELS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		json_object_set_new(l, key, json_string("v"));
	}
	err = NULL;
	ok(proto_run_params_decode(o, &p, &err) == 0, "%d labels are fine", PROTO_MAX_LABELS);
	proto_run_params_done(&p);
	json_object_set_new(l, "one-more", json_string("v"));
	ok(proto_run_params_decode(o, &p, &err) == -EINVAL && err && strstr(err, "too many"), "one more is refused");
	free(err);
	json_decref(o);
	/* Five values of 4000 bytes pass one by one, not together. */
	o = json_pack("{s:s, s:{}}", "image", "a", "labels");
	l = json_object_get(o, "labels");
	memset(key, 'v', 4000);
	key[4000] = '\0';
	for (int i = 0; i < 5; i++) {
		char k[8];
		snprintf(k, sizeof(k), "k%d", i);
		json_object_set_new(l, k, json_string(key));
	}
	err = NULL;
	ok(proto_run_params_decode(o, &p, &err) == -EINVAL && err && strstr(err, "together"),
	   "labels over %d bytes together are refused", PROTO_LABELS_MAX_BYTES);
	free(err);
	json_decref(o);
	memset(key, 'k', PROTO_LABEL_KEY_MAX + 1);
	key[PROTO_LABEL_KEY_MAX + 1] = '\0';
	err = NULL;
	ok(proto_label_check(key, "", &err) == -EINVAL && err && strstr(err, "longer than"), "a long key is refused");
	free(err);
	key[PROTO_LABEL_KEY_MAX] = '\0';
	ok(proto_label_check(key, "", NULL) == 0, "a key at the cap is fine");
	memset(key, 'v', PROTO_LABEL_VALUE_MAX + 1);
	key[PROTO_LABEL_VALUE_MAX + 1] = '\0';
	err = NULL;
	ok(proto_label_check("k", key, &err) == -EINVAL && err, "a long value is refused");
	free(err);
	/* A key cut in a message stays valid UTF-8 (the reply would not encode otherwise). */
	char utf8[PROTO_LABEL_KEY_MAX + 8] = "";
	for (int i = 0; i < 40; i++)
		strcat(utf8, "\xc3\xa9");
	strcat(utf8, "=");
	err = NULL;
	ok(proto_label_check(utf8, "", &err) < 0 && err, "a key with '=' is refused");
	json_t *msg = err ? json_string(err) : NULL;
	ok(msg != NULL, "and the message naming it is valid UTF-8");
	json_decref(msg);
	free(err);

	/* The info item carries labels as an object of strings. */
	char *labels[] = { "app=web", "k=", NULL };
	struct proto_container_info ci = { .id = "i", .name = "n", .image = "a", .image_id = "x", .state = "running",
					   .labels = labels };
	o = proto_container_info_encode(&ci);
	struct proto_container_info d;
	err = NULL;
	ok(o && proto_container_info_decode(o, &d, &err) == 0 && d.labels_json, "info carries labels");
	is_str(json_string_value(json_object_get(d.labels_json, "k")), "", "an empty value survives");
	json_object_set_new(json_object_get(o, "labels"), "bad", json_integer(1));
	ok(proto_container_info_decode(o, &d, &err) < 0, "a label that is not a string is refused");
	free(err);
	json_decref(o);

	struct proto_rename_params rp;
	o = json_loads("{\"id\":\"web\",\"name\":\"web2\"}", 0, NULL);
	ok(proto_rename_params_decode(o, &rp, &err) == 0 && strcmp(rp.ref, "web") == 0 && strcmp(rp.name, "web2") == 0,
	   "rename params decode");
	json_decref(o);
	static const char *const bad_rename[] = { "{\"id\":\"web\"}", "{\"name\":\"x\"}", "{\"id\":\"\",\"name\":\"x\"}",
						  "{\"id\":\"w\",\"name\":\"\"}", "{\"id\":\"w\",\"name\":\"x\",\"force\":true}" };
	for (size_t i = 0; i < sizeof(bad_rename) / sizeof(bad_rename[0]); i++) {
		o = json_loads(bad_rename[i], 0, NULL);
		err = NULL;
		ok(proto_rename_params_decode(o, &rp, &err) == -EINVAL && err, "rename refuses %s (%s)", bad_rename[i],
		   err ? err : "accepted");
		free(err);
		json_decref(o);
	}
}

/* Lifecycle: --restart's text, the restart_policy, entrypoint and stop_signal params of run and
 * create, container.start's params, container.restart as stop, image.import's config. */
static void test_lifecycle(void)
{
	enum proto_restart pol;
	unsigned max;
	char *err = NULL;
	ok(proto_restart_parse("on-failure:5", &pol, &max, NULL) == 0 && pol == PROTO_RESTART_ON_FAILURE && max == 5,
	   "on-failure:5 parses");
	ok(proto_restart_parse("unless-stopped", &pol, &max, NULL) == 0 && pol == PROTO_RESTART_UNLESS_STOPPED && max == 0,
	   "unless-stopped parses");
	ok(proto_restart_parse("on-failure", &pol, &max, NULL) == 0 && max == 0, "on-failure alone: no limit");
	const char *bad_text[] = { "sometimes", "always:2", "on-failure:", "on-failure:-1", "on-failure:+1",
				   "on-failure:1x", "on-failure:1000001", "", "ALWAYS" };
	for (size_t i = 0; i < ARRAY_SIZE(bad_text); i++) {
		ok(proto_restart_parse(bad_text[i], &pol, &max, &err) < 0 && err && strstr(err, "invalid restart policy"),
		   "--restart %s is refused (%s)", bad_text[i], err ? err : "accepted");
		free(TAKE_PTR(err));
	}

	struct proto_run_params p, q;
	json_t *j = json_loads("{\"image\":\"a\",\"entrypoint\":[],\"stop_signal\":\"QUIT\","
			       "\"restart_policy\":{\"name\":\"on-failure\",\"maximum_retry_count\":4}}",
			       0, NULL);
	ok(proto_run_params_decode(j, &p, &err) == 0 && p.entrypoint_set && p.entrypoint && !p.entrypoint[0] &&
		   strcmp(p.stop_signal, "QUIT") == 0 && p.restart == PROTO_RESTART_ON_FAILURE && p.restart_max == 4,
	   "run params: an empty entrypoint, a stop signal, a policy (%s)", err ? err : "ok");
	json_decref(j);
	j = proto_run_params_encode(&p);
	ok(j && proto_run_params_decode(j, &q, &err) == 0 && q.entrypoint_set && !q.entrypoint[0] &&
		   strcmp(q.stop_signal, "QUIT") == 0 && q.restart == PROTO_RESTART_ON_FAILURE && q.restart_max == 4,
	   "and they survive encode and decode (an empty entrypoint stays given)");
	json_decref(j);
	proto_run_params_done(&q);
	proto_run_params_done(&p);
	j = json_loads("{\"image\":\"a\"}", 0, NULL);
	ok(proto_run_params_decode(j, &p, NULL) == 0 && !p.entrypoint_set && p.restart == PROTO_RESTART_NO &&
		   !p.stop_signal,
	   "without them: the image's entrypoint, no policy, the default stop signal");
	proto_run_params_done(&p);
	json_decref(j);

	struct {
		const char *json, *want;
	} bad[] = {
		{ "{\"image\":\"a\",\"restart_policy\":{\"name\":\"always\",\"maximum_retry_count\":1}}", "only for the on-failure" },
		{ "{\"image\":\"a\",\"restart_policy\":{\"name\":\"never\"}}", "invalid restart policy \"never\"" },
		{ "{\"image\":\"a\",\"restart_policy\":{\"Name\":\"always\"}}", "unknown field \"Name\"" },
		{ "{\"image\":\"a\",\"restart_policy\":\"always\"}", "must be an object" },
		{ "{\"image\":\"a\",\"restart_policy\":{\"name\":\"on-failure\",\"maximum_retry_count\":-1}}",
		  "parameter \"maximum_retry_count\" must be between 0" },
		{ "{\"image\":\"a\",\"rm\":true,\"restart_policy\":{\"name\":\"always\"}}", "conflicting options" },
		{ "{\"image\":\"a\",\"stop_signal\":\"NOPE\"}", "unknown signal \"NOPE\"" },
		{ "{\"image\":\"a\",\"entrypoint\":\"/bin/sh\"}", "\"entrypoint\"" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		j = json_loads(bad[i].json, 0, NULL);
		int r = proto_run_params_decode(j, &p, &err);
		ok(r < 0 && err && strstr(err, bad[i].want), "run refuses %s (%s)", bad[i].json, err ? err : "accepted");
		free(TAKE_PTR(err));
		json_decref(j);
	}

	struct proto_start_params sp, sq;
	j = json_loads("{\"id\":\"web\",\"attach\":true,\"interactive\":true}", 0, NULL);
	ok(proto_start_params_decode(j, &sp, NULL) == 0 && sp.attach && sp.interactive && strcmp(sp.ref, "web") == 0,
	   "start params decode");
	json_t *e = proto_start_params_encode(&sp);
	ok(e && proto_start_params_decode(e, &sq, NULL) == 0 && sq.attach && sq.interactive, "and round-trip");
	json_decref(e);
	json_decref(j);
	const char *bad_start[] = { "{\"id\":\"web\",\"interactive\":true}", "{\"id\":\"\"}", "{\"id\":\"w\",\"detach\":1}",
				    "{\"attach\":true}" };
	for (size_t i = 0; i < ARRAY_SIZE(bad_start); i++) {
		j = json_loads(bad_start[i], 0, NULL);
		ok(proto_start_params_decode(j, &sp, &err) == -EINVAL && err, "start refuses %s (%s)", bad_start[i],
		   err ? err : "accepted");
		free(TAKE_PTR(err));
		json_decref(j);
	}

	struct proto_ref_params rp;
	j = json_loads("{\"id\":\"web\",\"timeout\":2,\"signal\":\"QUIT\"}", 0, NULL);
	ok(proto_ref_params_decode(PROTO_M_RESTART, j, &rp, NULL) == 0 && rp.timeout == 2 && rp.signal == SIGQUIT,
	   "restart takes stop's params");
	json_decref(j);
	j = json_loads("{\"id\":\"web\",\"force\":true}", 0, NULL);
	ok(proto_ref_params_decode(PROTO_M_RESTART, j, &rp, &err) < 0, "and no others (%s)", err ? err : "accepted");
	free(TAKE_PTR(err));
	json_decref(j);

	struct proto_image_config c;
	j = json_loads("{\"Cmd\":[\"sh\"],\"Entrypoint\":[\"/e\"],\"Env\":[\"A=1\"],\"WorkingDir\":\"/w\",\"User\":\"u:g\","
		       "\"StopSignal\":\"SIGUSR1\"}",
		       0, NULL);
	ok(proto_image_config_decode(j, &c, &err) == 0 && strcmp(c.cmd[0], "sh") == 0 && strcmp(c.entrypoint[0], "/e") == 0 &&
		   strcmp(c.workdir, "/w") == 0 && strcmp(c.user, "u:g") == 0 && strcmp(c.stop_signal, "SIGUSR1") == 0,
	   "an image config decodes (%s)", err ? err : "ok");
	e = proto_image_config_encode(&c);
	ok(e && json_equal(e, j), "and encodes to the same object");
	json_decref(e);
	proto_image_config_done(&c);
	json_decref(j);
	const char *bad_config[] = { "{\"WorkingDir\":\"w\"}", "{\"Env\":[\"NOVALUE\"]}", "{\"StopSignal\":\"NOPE\"}",
				     "{\"User\":\"a b\"}", "{\"Shell\":[\"sh\"]}", "{\"Cmd\":\"sh\"}" };
	for (size_t i = 0; i < ARRAY_SIZE(bad_config); i++) {
		j = json_loads(bad_config[i], 0, NULL);
		ok(proto_image_config_decode(j, &c, &err) == -EINVAL && err, "an image config %s is refused (%s)",
		   bad_config[i], err ? err : "accepted");
		free(TAKE_PTR(err));
		json_decref(j);
	}
}

int main(void)
{
	test_request_decode();
	test_encode();
	test_run_params();
	test_security_params();
	test_unknown_fields();
	test_stop_params();
	test_security_info();
	test_wire();
	test_labels_rename();
	test_lifecycle();
	return tap_done();
}
