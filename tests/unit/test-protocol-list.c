/* Unit tests for container.list's fast path: the token scanner (protocol/jsonscan.c) accepts
 * exactly what jansson accepts and unescapes strings as jansson does, and the list reply the
 * daemon assembles from encoded entries (protocol/list.c) decodes back to the same fields, or is
 * left to the generic decoder when it is not a list result for the request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/macros.h"
#include "protocol/jsonscan.h"
#include "protocol/list.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"
#include "protocol/wire.h"
#include "tests/tap.h"

/* Valid and invalid documents: the scanner must agree with jansson on every one. */
static void test_scan_agrees(void)
{
	static const char *const docs[] = {
		"{}", "[]", " {\"a\" : [1, -2, 3.5e+2, true, false, null]} ", "\"x\"", "0", "-0.0e-1",
		"{\"k\":\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"}", "[\"caf\xc3\xa9\"]",
		/* invalid ones */
		"", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "tru", "nul",
		"{\"a\":1} x", "[\"\\x\"]", "[\"\\u12\"]", "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\u0000\"]",
		"[\"a\x01\"]", "[\"\xc3\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "[\"\xf5\x80\x80\x80\"]",
		"{1:2}", "[\"unterminated]",
	};
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		json_error_t jerr;
		json_t *j = json_loads(docs[i], JSON_DECODE_ANY, &jerr);
		char *buf = strdup(docs[i]), *err = NULL;
		struct jsonscan js;
		int r = jsonscan_parse(buf, strlen(buf), &js, &err);
		ok((r == 0) == (j != NULL), "scanner and jansson agree on %s (scanner: %s)", docs[i], err ? err : "ok");
		if (r == 0)
			jsonscan_done(&js);
		free(err);
		free(buf);
		json_decref(j);
	}
}

/* Escapes, surrogate pairs and raw UTF-8 come out as jansson's strings, NUL-terminated. */
static void test_scan_strings(void)
{
	const char *doc = "{\"k\":\"a\\u00e9\\ud83d\\ude00\\n\\\"q\\\" caf\xc3\xa9 \\/ end\","
			  "\"n\":-42,\"x\":[1,{\"y\":2}],\"z\":3}";
	json_t *j = json_loads(doc, 0, NULL);
	char *buf = strdup(doc), *err = NULL;
	struct jsonscan js;
	ok(jsonscan_parse(buf, strlen(buf), &js, &err) == 0, "document scans (%s)", err ? err : "ok");
	long k = jsonscan_member(&js, 0, "k"), n = jsonscan_member(&js, 0, "n"), z = jsonscan_member(&js, 0, "z");
	ok(k > 0 && js.tok[k].type == JSONSCAN_STRING, "member k found");
	if (k > 0) {
		is_str(js.tok[k].s, json_string_value(json_object_get(j, "k")), "k unescaped as jansson does");
		is_int((long)js.tok[k].len, (long)json_string_length(json_object_get(j, "k")), "its length");
	}
	int64_t v = 0;
	ok(n > 0 && jsonscan_int(&js.tok[n], &v) && v == -42, "n is -42");
	ok(z > 0 && jsonscan_int(&js.tok[z], &v) && v == 3, "z is found past the nested array (skipping works)");
	is_int(jsonscan_member(&js, 0, "y"), -1, "a nested member is not a top-level one");
	jsonscan_done(&js);
	free(buf);
	json_decref(j);
}

/* The scanner passes over plain ASCII eight bytes at a time: a byte of every other kind (quote,
 * backslash, control, UTF-8, invalid UTF-8) at each offset of strings of every length around a
 * word, and at the very end of the input, must still be seen exactly where it is. */
static void test_scan_word_offsets(void)
{
	static const char *const specials[] = { "\\\"", "\\n", "\xc3\xa9", "\x01", "\xc3", "\xff", "\\u00e9" };
	size_t bad = 0, checked = 0;
	for (size_t len = 0; len < 26; len++)
		for (size_t at = 0; at <= len; at++)
			for (size_t k = 0; k < ARRAY_SIZE(specials); k++) {
				char doc[128], *p = doc;
				p += sprintf(p, "[\"");
				for (size_t i = 0; i < len; i++) {
					if (i == at)
						p += sprintf(p, "%s", specials[k]);
					*p++ = (char)('a' + i % 26);
				}
				if (at == len)
					p += sprintf(p, "%s", specials[k]);
				p += sprintf(p, "\"]");
				*p = '\0';
				json_t *j = json_loads(doc, 0, NULL);
				char *buf = strdup(doc), *err = NULL;
				struct jsonscan js;
				int r = jsonscan_parse(buf, strlen(buf), &js, &err);
				checked++;
				if ((r == 0) != (j != NULL))
					bad++, printf("# disagree on %s: %s\n", doc, err ? err : "ok");
				else if (r == 0 && (js.tok[1].len != json_string_length(json_array_get(j, 0)) ||
						    memcmp(js.tok[1].s, json_string_value(json_array_get(j, 0)), js.tok[1].len)))
					bad++, printf("# different string from %s\n", doc);
				if (r == 0)
					jsonscan_done(&js);
				free(err);
				free(buf);
				json_decref(j);
			}
	is_int((long)bad, 0, "the scanner agrees with jansson on all %zu strings with a special byte at each offset", checked);
}

/* The summary a listing asks for has exactly the members the fast decoder reads, with their values. */
static void test_summary_members(void)
{
	json_t *info = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:[s,s], s:{s:s}, s:s, s:i, s:b, s:{s:i}}",
				 "id", "abc", "name", "web", "image", "alpine", "state", "exited", "created_at",
				 "2026-01-01T00:00:00Z", "started_at", "2026-01-01T00:00:01Z", "finished_at",
				 "2026-01-01T00:00:02Z", "exit_code", 3, "cmd", "sleep", "1", "labels", "a", "b", "image_id",
				 "sha256:00", "pid", 0, "tty", false, "limits", "memory", 0);
	json_t *sum = proto_container_summary_from_info(info);
	ok(sum != NULL, "a summary is made");
	is_int((long)json_object_size(sum), 10, "it has the ten listed members");
	ok(json_object_get(sum, "image_id") == NULL && json_object_get(sum, "limits") == NULL &&
		   json_object_get(sum, "tty") == NULL,
	   "and none of what ps never shows");
	ok(json_equal(json_object_get(sum, "labels"), json_object_get(info, "labels")) &&
		   json_integer_value(json_object_get(sum, "exit_code")) == 3,
	   "values are kept");
	json_decref(sum);
	json_decref(info);
}

static char *entry(const struct proto_container_info *ci, size_t *len)
{
	json_t *o = proto_container_info_encode(ci);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	*len = strlen(s);
	return s;
}

/* Encoded entries joined by the daemon's builder decode to the fields they were made from. */
static void test_list_roundtrip(void)
{
	char *const labels[] = { "app=w\xc3\xa9" "b", "tier=\"front\"", NULL };
	char *const none[] = { NULL };
	json_t *cmd = json_pack("[s, s, i]", "sh", "-c \"echo\\n\"", 5);
	struct proto_container_info a = { .id = "aaaa", .name = "web", .image = "alpine", .image_id = "sha256:00",
					  .state = "running", .cmd = cmd, .pid = 12, .created_at = "2026-01-01T00:00:00Z",
					  .started_at = "2026-01-01T00:00:01Z", .labels = labels };
	struct proto_container_info b = { .id = "bbbb", .name = "db", .image = "alpine", .image_id = "sha256:00",
					  .state = "exited", .exit_code = 137, .signal = 9,
					  .created_at = "2026-01-02T00:00:00Z", .finished_at = "2026-01-02T00:00:05Z",
					  .labels = none };
	size_t lens[2];
	char *e[2] = { entry(&a, &lens[0]), entry(&b, &lens[1]) };
	json_t *id = json_integer(7);
	size_t len;
	char *line = proto_container_list_reply(id, (const char *const *)e, lens, 2, &len);
	ok(line && len > 0 && line[len - 1] == '\n', "the reply is one line");
	struct proto_message m;
	char *err = NULL;
	ok(line && proto_message_decode(line, len - 1, &m, &err) == 0 && m.id == 7 &&
		   json_array_size(proto_container_list_items(m.result)) == 2,
	   "the generic decoder reads it (%s)", err ? err : "ok");
	proto_message_done(&m);

	struct proto_container_list l;
	int r = line ? proto_container_list_decode(line, len - 1, 7, false, &l, &err) : -1;
	is_int(r, 1, "the fast decoder reads it (%s)", err ? err : "ok");
	if (r == 1) {
		is_int((long)l.n, 2, "two containers");
		is_str(l.items[0].id, "aaaa", "first id");
		is_str(l.items[0].state, "running", "first state");
		is_int((long)l.items[0].n_cmd, 3, "three command words");
		is_str(l.items[0].cmd[1], "-c \"echo\\n\"", "an escaped word");
		is_str(l.items[0].cmd[2], "", "a word that is not a string reads as empty");
		is_int((long)l.items[0].n_labels, 2, "two labels");
		is_str(l.items[0].labels[0], "app", "label key");
		is_str(l.items[0].labels[1], "w\xc3\xa9" "b", "label value in UTF-8");
		is_str(l.items[0].labels[3], "\"front\"", "label value with quotes");
		ok(!l.items[0].finished_at, "a running container has no finished_at");
		is_int(l.items[1].exit_code, 137, "the exit code");
		is_str(l.items[1].finished_at, "2026-01-02T00:00:05Z", "finished_at");
		is_int((long)l.items[1].n_labels, 0, "no labels");
		proto_container_list_done(&l);
	}
	free(err);
	err = NULL;
	free(line);

	/* The wrong id, an error reply: left to the generic decoder. */
	line = proto_container_list_reply(id, (const char *const *)e, lens, 2, &len);
	is_int(proto_container_list_decode(line, len - 1, 8, true, &l, &err), 0, "a reply to another request is not ours");
	free(line);
	char err_line[] = "{\"v\":1,\"id\":7,\"error\":{\"code\":\"internal\",\"message\":\"x\"}}";
	is_int(proto_container_list_decode(err_line, strlen(err_line), 7, true, &l, &err), 0, "an error reply is not a list");
	char bad[] = "{\"v\":1,\"id\":7,\"result\":{\"containers\":[{\"id\":\"a\",\"name\":\"n\",\"state\":\"running\"}]}}";
	ok(proto_container_list_decode(bad, strlen(bad), 7, false, &l, &err) < 0 && err && strstr(err, "image"),
	   "an entry without image is refused: %s", err ? err : "no message");
	free(err);
	err = NULL;
	char bad2[] = "{\"v\":1,\"id\":7,\"result\":{\"containers\":[{\"id\":\"a\",\"name\":\"n\",\"image\":\"i\","
		      "\"state\":\"s\",\"labels\":{\"k\":1}}]}}";
	ok(proto_container_list_decode(bad2, strlen(bad2), 7, false, &l, &err) < 0 && err,
	   "a label that is no string is refused: %s", err ? err : "no message");
	free(err);

	/* A list may be longer than any other message, up to PROTO_MAX_REPLY; beyond, no line at
	 * all (the daemon answers with an error). */
	size_t big = PROTO_MAX_REPLY / 2;
	char *huge = malloc(big + 1);
	memset(huge, ' ', big);
	huge[big] = '\0';
	const char *hs[] = { huge, huge, huge };
	size_t hl[] = { PROTO_MAX_MESSAGE, big - 64, big };
	line = proto_container_list_reply(id, hs, hl, 2, &len);
	ok(line && len > PROTO_MAX_MESSAGE, "a list reply may exceed the message limit (%zu bytes)", line ? len : 0);
	free(line);
	ok(!proto_container_list_reply(id, hs, hl, 3, &len), "a reply over PROTO_MAX_REPLY is not built");
	free(huge);
	json_decref(id);
	json_decref(cmd);
	free(e[0]);
	free(e[1]);
}

/* Another encoder's layout (keys reordered, spaces): left alone by the in-place reader, read by
 * the any-layout one. A truncated daemon layout is an error, not a silent short list. */
static void test_list_layouts(void)
{
	const char *other = "{\"id\": 3, \"v\": 1, \"result\": {\"containers\": [{\"state\": \"exited\", "
			    "\"name\": \"n\", \"image\": \"i\", \"id\": \"x\", \"cmd\": [\"a\\tb\"]}]}}";
	char *line = strdup(other), *err = NULL;
	struct proto_container_list l;
	is_int(proto_container_list_decode(line, strlen(line), 3, false, &l, &err), 0, "another layout is not read in place");
	is_str(line, other, "and the line is left as it was");
	int r = proto_container_list_decode(line, strlen(line), 3, true, &l, &err);
	is_int(r, 1, "the any-layout reader reads it (%s)", err ? err : "ok");
	if (r == 1) {
		ok(l.n == 1 && strcmp(l.items[0].id, "x") == 0 && l.items[0].n_cmd == 1 &&
			   strcmp(l.items[0].cmd[0], "a\tb") == 0,
		   "its entry: id and an unescaped command");
		proto_container_list_done(&l);
	}
	free(line);
	char empty[] = "{\"v\":1,\"id\":3,\"result\":{\"containers\":[]}}";
	r = proto_container_list_decode(empty, strlen(empty), 3, false, &l, &err);
	ok(r == 1 && l.n == 0, "an empty list decodes to no containers (%s)", err ? err : "ok");
	if (r == 1)
		proto_container_list_done(&l);
	char cut[] = "{\"v\":1,\"id\":3,\"result\":{\"containers\":[{\"id\":\"x\",\"name\":\"n\",\"image\":\"i\","
		     "\"state\":\"s\"}]}";
	ok(proto_container_list_decode(cut, strlen(cut), 3, false, &l, &err) < 0 && err, "a truncated reply is refused: %s",
	   err ? err : "no message");
	free(err);
	err = NULL;
	char junk[] = "{\"v\":1,\"id\":3,\"result\":{\"containers\":[{\"id\":\"x\",\"name\":\"n\",\"image\":\"i\","
		      "\"state\":\"s\"} {}]}}";
	ok(proto_container_list_decode(junk, strlen(junk), 3, false, &l, &err) < 0 && err,
	   "entries without a comma are refused: %s", err ? err : "no message");
	free(err);
}

/* Many entries: the arrays grow while entries are read, and every command and label still
 * points at its own entry's strings. */
static void test_list_many(void)
{
	enum { N = 300 };
	char *e[N], *err = NULL;
	size_t lens[N], len;
	for (int i = 0; i < N; i++) {
		char name[16], word[16], label[32];
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(word, sizeof(word), "w%d", i);
		snprintf(label, sizeof(label), "k=v%d", i);
		char *const labels[] = { label, NULL };
		json_t *cmd = json_pack("[s, s]", "sleep", word);
		struct proto_container_info ci = { .id = name, .name = name, .image = "alpine", .image_id = "x",
						   .state = "running", .cmd = cmd, .labels = labels };
		e[i] = entry(&ci, &lens[i]);
		json_decref(cmd);
	}
	json_t *id = json_integer(9);
	char *line = proto_container_list_reply(id, (const char *const *)e, lens, N, &len);
	struct proto_container_list l;
	int r = line ? proto_container_list_decode(line, len - 1, 9, false, &l, &err) : -1;
	is_int(r, 1, "%d entries decode (%s)", N, err ? err : "ok");
	if (r == 1) {
		int bad = 0;
		for (int i = 0; i < N; i++) {
			char want[16];
			snprintf(want, sizeof(want), "w%d", i);
			bad += l.items[i].n_cmd != 2 || strcmp(l.items[i].cmd[1], want) != 0;
			snprintf(want, sizeof(want), "v%d", i);
			bad += l.items[i].n_labels != 1 || strcmp(l.items[i].labels[1], want) != 0;
		}
		is_int(bad, 0, "every entry's command and label are its own");
		proto_container_list_done(&l);
	}
	for (int i = 0; i < N; i++)
		free(e[i]);
	free(line);
	free(err);
	json_decref(id);
}

/* Reads one line of len bytes sent through a socket pair by a reader accepting max. */
static int wire_roundtrip(size_t len, size_t max)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	char *line = malloc(len);
	memset(line, 'x', len - 1);
	line[len - 1] = '\n';
	struct wire_reader rd;
	struct wire_msg m;
	wire_reader_init(&rd);
	rd.max = max;
	size_t off = 0;
	int k = 0;
	while (k == 0) {
		if (off < len) {
			ssize_t n = send(sv[0], line + off, len - off, MSG_DONTWAIT);
			if (n > 0)
				off += (size_t)n;
		}
		wire_reader_fill(&rd, sv[1]);
		k = wire_reader_next(&rd, &m);
	}
	if (k == 1 && m.len != len - 1)
		k = -EBADMSG;
	wire_reader_done(&rd);
	close(sv[0]);
	close(sv[1]);
	free(line);
	return k;
}

/* The client's reader takes a list reply past the message limit; a default reader (the daemon's,
 * for requests) does not. */
static void test_wire_max(void)
{
	is_int(wire_roundtrip(PROTO_MAX_MESSAGE + 4096, PROTO_MAX_REPLY), 1,
	       "a reader with PROTO_MAX_REPLY takes a longer line");
	is_int(wire_roundtrip(PROTO_MAX_MESSAGE + 4096, 0), -EMSGSIZE, "a default reader refuses it");
	is_int(wire_roundtrip(PROTO_MAX_MESSAGE, 0), 1, "and takes one of exactly PROTO_MAX_MESSAGE");
}

int main(void)
{
	test_scan_agrees();
	test_scan_strings();
	test_scan_word_offsets();
	test_summary_members();
	test_list_roundtrip();
	test_list_layouts();
	test_list_many();
	test_wire_max();
	return tap_done();
}
