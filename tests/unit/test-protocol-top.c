/* Unit tests for container.top in protocol/messages.c: its params (id, an empty ps_args only,
 * no other field), the result's encoding (titles, rows, truncated; cut before the reply could
 * exceed the message limit) and the client's shape checks of a result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"
#include "tests/tap.h"

static void test_params(void)
{
	static const struct {
		const char *json;
		int ok;
	} cases[] = {
		{ "{\"id\":\"web\"}", 1 },
		{ "{\"id\":\"web\",\"ps_args\":\"\"}", 1 },
		{ "{\"id\":\"web\",\"ps_args\":\"aux\"}", 0 },
		{ "{\"id\":\"web\",\"ps_args\":5}", 0 },
		{ "{\"id\":\"web\",\"force\":true}", 0 },
		{ "{\"ps_args\":\"\"}", 0 },
		{ "{\"id\":\"\"}", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_ref_params p;
		char *err = NULL;
		json_t *j = json_loads(cases[i].json, 0, NULL);
		int r = proto_ref_params_decode(PROTO_M_TOP, j, &p, &err);
		if (cases[i].ok)
			is_int(r, 0, "top params %s accepted (%s)", cases[i].json, err ? err : "ok");
		else
			ok(r < 0 && err, "top params %s refused: %s", cases[i].json, err ? err : "no message");
		if (r == 0)
			is_str(p.ref, "web", "the id of %s", cases[i].json);
		free(err);
		json_decref(j);
	}

	struct proto_ref_params in = { .ref = "web", .ps_args = "" }, out;
	json_t *j = proto_ref_params_encode(PROTO_M_TOP, &in);
	ok(j && proto_ref_params_decode(PROTO_M_TOP, j, &out, NULL) == 0 && out.ps_args && !out.ps_args[0],
	   "an empty ps_args round-trips");
	json_decref(j);
	in.ps_args = "-ef";
	j = proto_ref_params_encode(PROTO_M_TOP, &in);
	is_str(json_string_value(json_object_get(j, "ps_args")), "-ef", "cctl sends its ps options for the daemon to judge");
	json_decref(j);
}

static const char *const titles[] = { "UID", "PID", "CMD" };

static void test_result(void)
{
	char *cells[] = { "root", "10", "sleep 1", "nobody", "11", "sh -c \"x\"" };
	struct proto_top_result t = { titles, 3, cells, 2, false };
	json_t *titles_j, *rows;
	bool truncated = true;
	char *err = NULL;
	json_t *o = proto_top_result_encode(&t);

	ok(o != NULL, "a result encodes");
	is_int(proto_top_result_decode(o, &titles_j, &rows, &truncated, &err), 0, "and decodes (%s)", err ? err : "ok");
	is_int((long long)json_array_size(titles_j), 3, "three titles");
	is_int((long long)json_array_size(rows), 2, "two rows");
	is_str(json_string_value(json_array_get(json_array_get(rows, 1), 2)), "sh -c \"x\"", "a cell survives");
	ok(!truncated, "not truncated");
	json_decref(o);

	t.truncated = true;
	o = proto_top_result_encode(&t);
	ok(proto_top_result_decode(o, &titles_j, &rows, &truncated, NULL) == 0 && truncated,
	   "truncated passes through");
	json_decref(o);

	/* Rows of 4 KiB: far more than fit in one message are cut, and the reply stays in bounds. */
	enum { N = 200 };
	_cleanup_free_ char **many = calloc(N * 3, sizeof(*many));
	_cleanup_free_ char *big = malloc(4097);
	ok(many && big, "memory for the big table");
	if (!many || !big)
		return;
	memset(big, '"', 4096);
	big[4096] = '\0';
	for (size_t i = 0; i < N; i++) {
		many[i * 3] = "root";
		many[i * 3 + 1] = "1";
		many[i * 3 + 2] = big;
	}
	t = (struct proto_top_result){ titles, 3, many, N, false };
	o = proto_top_result_encode(&t);
	ok(o && proto_top_result_decode(o, &titles_j, &rows, &truncated, NULL) == 0, "the big table encodes");
	_cleanup_free_ char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	ok(truncated, "the big table is marked truncated");
	ok(json_array_size(rows) > 0 && json_array_size(rows) < N, "it is cut (%zu rows)", json_array_size(rows));
	ok(s && strlen(s) < PROTO_MAX_MESSAGE - 1024, "the result fits in a message (%zu bytes)", s ? strlen(s) : 0);
	json_decref(o);
}

static void test_result_shape(void)
{
	static const char *const bad[] = {
		"{}",
		"{\"titles\":[\"A\"],\"processes\":{}}",
		"{\"titles\":[1],\"processes\":[]}",
		"{\"titles\":[\"A\",\"B\"],\"processes\":[[\"x\"]]}",
		"{\"titles\":[\"A\"],\"processes\":[[2]]}",
		"{\"titles\":[\"A\"],\"processes\":[\"x\"]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL), *a, *b;
		char *err = NULL;
		bool tr;
		ok(proto_top_result_decode(j, &a, &b, &tr, &err) < 0 && err, "result %s refused: %s", bad[i],
		   err ? err : "no message");
		free(err);
		json_decref(j);
	}
}

int main(void)
{
	test_params();
	test_result();
	test_result_shape();
	return tap_done();
}
