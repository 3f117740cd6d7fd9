/* Unit tests for container.exec in protocol/exec.c: what its params decoder accepts and refuses
 * (with a message), the fds each stdio needs, the round trip through encode, and the reply and
 * the container.exec_exited event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/exec.h"
#include "protocol/protocol.h"
#include "tests/tap.h"

static void test_decode(void)
{
	static const struct {
		const char *json;
		const char *error; /* NULL: accepted; else a part of the message */
	} cases[] = {
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"]}", NULL },
		{ "{\"id\":\"web\",\"cmd\":[\"sh\"],\"stdio\":\"pty\",\"tty_rows\":24,\"tty_cols\":80}", NULL },
		{ "{\"id\":\"web\",\"cmd\":[\"id\"],\"user\":\"nobody:nogroup\",\"workdir\":\"/tmp\","
		  "\"env\":[\"A=b\"]}",
		  NULL },
		{ "{\"id\":\"web\",\"cmd\":[\"true\"],\"stdio\":\"null\",\"detach\":true,\"privileged\":true}", NULL },
		{ "{\"cmd\":[\"ls\"]}", "\"id\"" },
		{ "{\"id\":\"web\"}", "\"cmd\" is required" },
		{ "{\"id\":\"web\",\"cmd\":[]}", "\"cmd\"" },
		{ "{\"id\":\"web\",\"cmd\":[\"\"]}", "\"cmd\"" },
		{ "{\"id\":\"web\",\"cmd\":\"ls\"}", "\"cmd\"" },
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"],\"tty\":true}", "unknown field \"tty\"" },
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"],\"image\":\"alpine\"}", "unknown field \"image\"" },
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"],\"workdir\":\"tmp\"}", "not an absolute path" },
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"],\"user\":\"a:b:c\"}", "invalid user" },
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"],\"env\":[\"NOEQUALS\"]}", "KEY=VALUE" },
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"],\"stdio\":\"file\"}", "\"stdio\"" },
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"],\"detach\":1}", "\"detach\"" },
		{ "{\"id\":\"web\",\"cmd\":[\"ls\"],\"tty_rows\":70000}", "\"tty_rows\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_exec_params p;
		char *err = NULL;
		json_t *j = json_loads(cases[i].json, 0, NULL);
		int r = proto_exec_params_decode(j, &p, &err);
		if (!cases[i].error)
			is_int(r, 0, "accepted: %s (%s)", cases[i].json, err ? err : "ok");
		else
			ok(r < 0 && err && strstr(err, cases[i].error), "refused: %s (%s)", cases[i].json,
			   err ? err : "accepted");
		if (r == 0)
			proto_exec_params_done(&p);
		free(err);
		json_decref(j);
	}
}

static void test_round_trip(void)
{
	char *cmd[] = { "sh", "-c", "echo hi", NULL }, *env[] = { "FOO=bar", NULL };
	struct proto_exec_params p = {
		.ref = "web",
		.proc = { .cmd = cmd, .env = env, .workdir = "/srv", .user = "1000:1000", .stdio = PROTO_STDIO_FDS,
			  .interactive = true },
		.privileged = true,
	}, q;
	char *err = NULL;
	is_int(proto_exec_params_nfds(&p), 3, "interactive fds: stdin, stdout, stderr");
	p.proc.interactive = false;
	is_int(proto_exec_params_nfds(&p), 2, "without -i: stdout and stderr");
	p.proc.stdio = PROTO_STDIO_PTY;
	is_int(proto_exec_params_nfds(&p), 0, "a pty: none");
	p.proc.tty_rows = 30;
	p.proc.tty_cols = 90;
	json_t *o = proto_exec_params_encode(&p);
	ok(o != NULL, "encode");
	is_int(proto_exec_params_decode(o, &q, &err), 0, "what cctl encodes decodes (%s)", err ? err : "ok");
	is_str(q.ref, "web", "id");
	is_str(q.proc.cmd[2], "echo hi", "cmd");
	ok(q.proc.cmd[3] == NULL, "cmd length");
	is_str(q.proc.env[0], "FOO=bar", "env");
	is_str(q.proc.workdir, "/srv", "workdir");
	is_str(q.proc.user, "1000:1000", "user");
	ok(q.proc.stdio == PROTO_STDIO_PTY && q.proc.tty_rows == 30 && q.proc.tty_cols == 90, "pty and its size");
	ok(q.privileged && !q.detach, "privileged, not detached");
	ok(!json_object_get(o, "detach"), "detach is not sent unless asked for");
	proto_exec_params_done(&q);
	json_decref(o);
	free(err);
}

static void test_results(void)
{
	const char *id = NULL;
	char *err = NULL;
	json_t *o = proto_exec_result_encode("abc123");
	is_int(proto_exec_result_decode(o, &id, &err), 0, "the reply decodes");
	is_str(id, "abc123", "with the exec id");
	json_decref(o);

	struct proto_exec_exit e = { .exec_id = "abc123", .id = "c0ffee", .exit_code = 137, .signal = 9 }, f;
	o = proto_exec_exit_encode(&e);
	is_int(proto_exec_exit_decode(o, &f, &err), 0, "the exit event decodes");
	ok(strcmp(f.exec_id, "abc123") == 0 && strcmp(f.id, "c0ffee") == 0 && f.exit_code == 137 && f.signal == 9,
	   "exec id, container, exit code and signal survive");
	json_decref(o);
	o = json_pack("{s:s, s:s}", "exec_id", "a", "id", "b");
	ok(proto_exec_exit_decode(o, &f, &err) < 0 && err && strstr(err, "exit_code"),
	   "an event without exit_code is refused");
	free(err);
	err = NULL;
	json_decref(o);
	o = json_pack("{s:s, s:s, s:i}", "exec_id", "a", "id", "b", "exit_code", 300);
	ok(proto_exec_exit_decode(o, &f, &err) < 0, "an exit code above 255 is refused");
	free(err);
	json_decref(o);
}

int main(void)
{
	test_decode();
	test_round_trip();
	test_results();
	return tap_done();
}
