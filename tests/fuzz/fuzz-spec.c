/* Fuzz target for the JSON form of a container spec (runtime/spec-json.c), which the daemon reads
 * from its state files and the init from the daemon, and a future OCI runtime CLI from any
 * config.json. The input is a JSON document given to spec_from_json(). A refusal is -EINVAL (or
 * -ENOMEM) with a message; what is accepted validates, and spec_to_json() -> text ->
 * spec_from_json() gives back an equal spec (tests/spec-equal.h) whose JSON text is the same:
 * nothing a peer writes may change meaning between the daemon and the init. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec.h"
#include "tests/fuzz/fuzz.h"
#include "tests/spec-equal.h"

/* to_json as compact text (keys in insertion order, as sysctl keeps them): the form that crosses the sync socket,
 * compared byte for byte. */
static char *spec_text(const struct rt_spec *s)
{
	json_t *doc = spec_to_json(s);
	FUZZ_CHECK(doc != NULL);
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	FUZZ_CHECK(text != NULL);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	struct rt_spec a, b;
	char *err = NULL;
	if (!doc)
		return 0;
	int r = spec_from_json(doc, &a, &err);
	json_decref(doc);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
		FUZZ_CHECK(err != NULL && err[0] != '\0');
		free(err);
		return 0;
	}
	FUZZ_CHECK(err == NULL);
	FUZZ_CHECK(spec_validate(&a, &err) == 0);

	char *text = spec_text(&a);
	json_t *back = json_loads(text, 0, NULL);
	FUZZ_CHECK(back != NULL);
	r = spec_from_json(back, &b, &err);
	json_decref(back);
	if (r < 0)
		fprintf(stderr, "the spec's own JSON is refused: %s\n%s\n", err ? err : "", text);
	FUZZ_CHECK(r == 0);
	const char *diff = spec_equal_diff(&a, &b);
	if (diff)
		fprintf(stderr, "field %s changed in the round trip:\n%s\n", diff, text);
	FUZZ_CHECK(diff == NULL);
	char *text2 = spec_text(&b);
	FUZZ_CHECK(strcmp(text, text2) == 0);
	free(text);
	free(text2);
	spec_done(&a);
	spec_done(&b);
	return 0;
}
