/* Fuzz target for container.list's fast path (protocol/jsonscan.c, protocol/list.c): cctl reads
 * the daemon's reply in place with its own JSON scanner. The scanner must agree with jansson on
 * what is JSON (but for its depth limit and jansson's number ranges), unescape a string as
 * jansson does, and the list decoder must hand out only complete entries, in either layout. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "protocol/jsonscan.h"
#include "protocol/list.h"
#include "tests/fuzz/fuzz.h"

/* The scanner against jansson on the same bytes. */
static void fuzz_scan(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *err = NULL;
	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	json_error_t jerr;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	struct jsonscan js;
	int r = jsonscan_parse(buf, size, &js, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM || r == -E2BIG);
	/* jansson ends its input at a NUL byte; the scanner refuses what follows the value. */
	if (j && r < 0 && !memchr(data, '\0', size))
		FUZZ_CHECK(err && strstr(err, "nested too deeply"));
	if (!j && r == 0)
		FUZZ_CHECK(strstr(jerr.text, "too big") || strstr(jerr.text, "overflow"));
	if (j && r == 0) {
		FUZZ_CHECK(js.n > 0 && js.tok[0].next == js.n);
		if (json_is_string(j))
			FUZZ_CHECK(js.tok[0].len == json_string_length(j) &&
				   memcmp(js.tok[0].s, json_string_value(j), js.tok[0].len) == 0);
		for (size_t i = 0; i < js.n; i++)
			FUZZ_CHECK(js.tok[i].type != JSONSCAN_STRING || strlen(js.tok[i].s) == js.tok[i].len);
	}
	if (r == 0)
		jsonscan_done(&js);
	json_decref(j);
	free(err);
	free(buf);
}

/* Every decoded entry has its four required strings, and every command word and label is one. */
static void check_list(const struct proto_container_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct proto_container_summary *c = &l->items[i];
		FUZZ_CHECK(c->id && c->name && c->image && c->state);
		FUZZ_CHECK(c->exit_code >= 0 && c->exit_code <= 255);
		for (size_t k = 0; k < c->n_cmd; k++)
			FUZZ_CHECK(c->cmd[k]);
		for (size_t k = 0; k < 2 * c->n_labels; k++)
			FUZZ_CHECK(c->labels[k]);
	}
}

/* The decoder in both modes; request id 1, the id cctl's first request has. */
static void fuzz_decode(const uint8_t *data, size_t size, bool any_layout)
{
	char *buf = malloc(size + 1), *err = NULL;
	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	struct proto_container_list l;
	int r = proto_container_list_decode(buf, size, 1, any_layout, &l, &err);
	FUZZ_CHECK(r == 1 || r == 0 || r == -EBADMSG || r == -ENOMEM);
	FUZZ_CHECK(r >= 0 || err);
	if (r == 0 && !any_layout)
		FUZZ_CHECK(memcmp(buf, data, size) == 0); /* left for the generic decoder */
	if (r == 1) {
		check_list(&l);
		proto_container_list_done(&l);
	}
	free(err);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_scan(data, size);
	fuzz_decode(data, size, false);
	fuzz_decode(data, size, true);
	return 0;
}
