/* Unit tests for protocol/events.c: the times events.subscribe accepts and refuses, and its
 * params (unknown fields, filter values, since after until). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/events.h"
#include "tests/tap.h"

static int64_t parse(const char *s)
{
	int64_t ns = -1;
	return proto_events_parse_time(s, &ns) == 0 ? ns : -1;
}

static void test_times(void)
{
	is_int(parse("0"), 0, "unix seconds: the epoch");
	is_int(parse("1764472200"), 1764472200000000000LL, "unix seconds");
	is_int(parse("1764472200.25"), 1764472200250000000LL, "unix seconds with a fraction");
	is_int(parse("1764472200.123456789"), 1764472200123456789LL, "nanoseconds are kept");
	is_int(parse("1764472200.1234567891"), -1, "a tenth digit is refused, not rounded");
	is_int(parse("1970-01-01T00:00:00Z"), 0, "RFC 3339: the epoch");
	is_int(parse("2025-11-30T03:10:00Z"), 1764472200000000000LL, "RFC 3339 in UTC");
	is_int(parse("2025-11-30T03:10:00.5Z"), 1764472200500000000LL, "RFC 3339 with a fraction");
	is_int(parse("2025-11-30T04:10:00+01:00"), 1764472200000000000LL, "a positive offset is subtracted");
	is_int(parse("2025-11-29T23:10:00-04:00"), 1764472200000000000LL, "a negative offset is added");
	is_int(parse("2025-02-29T00:00:00Z"), -1, "a day the month does not have is refused");
	is_int(parse("2025-11-30T03:10:00"), -1, "a time without a zone is refused");
	is_int(parse("2025-11-30T25:10:00Z"), -1, "hour 25 is refused");
	is_int(parse("2025-11-30T03:10:00Zjunk"), -1, "trailing text is refused");
	is_int(parse(""), -1, "an empty time is refused");
	is_int(parse("-5"), -1, "negative seconds are refused");
	is_int(parse("12a"), -1, "letters in seconds are refused");
	is_int(parse("99999999999999999999"), -1, "seconds past int64 nanoseconds are refused");
	is_int(parse("92000000009"), -1, "one digit past the limit is refused (no overflow)");
	is_int(parse("9200000000"), 9200000000000000000LL, "the last second accepted");
	is_int(parse("2262-12-31T00:00:00Z"), -1, "RFC 3339 past int64 nanoseconds is refused");
}

static int decode(const char *text, struct proto_events_params *p)
{
	json_error_t jerr;
	json_t *params = json_loads(text, 0, &jerr);
	char *err = NULL;
	int r = proto_events_params_decode(params, p, &err);
	free(err);
	json_decref(params);
	return r;
}

static void test_params(void)
{
	struct proto_events_params p;
	is_int(decode("{}", &p), 0, "no params: everything from now on");
	ok(!p.has_since && !p.has_until && !p.containers && !p.actions && !p.types, "nothing is set");
	is_int(decode("{\"since\":10,\"until\":\"20\",\"filters\":{\"container\":[\"web\"],"
		      "\"event\":[\"die\",\"start\"],\"type\":[\"container\"]}}", &p),
	       0, "all params decode");
	ok(p.has_since && p.since_ns == 10000000000LL && p.has_until && p.until_ns == 20000000000LL,
	   "since and until in nanoseconds");
	ok(p.containers && strcmp(p.containers[0], "web") == 0 && !p.containers[1], "the container filter");
	ok(p.actions && strcmp(p.actions[1], "start") == 0 && !p.actions[2], "the event filter");
	ok(p.types && strcmp(p.types[0], "container") == 0, "the type filter");
	proto_events_params_done(&p);
	ok(!p.containers && !p.actions && !p.types, "done frees and clears the filters");

	is_int(decode("{\"sinse\":1}", &p), -EINVAL, "an unknown field is refused");
	is_int(decode("{\"filters\":{\"label\":[\"a\"]}}", &p), -EINVAL, "an unknown filter key is refused");
	is_int(decode("{\"filters\":{\"event\":[\"explode\"]}}", &p), -EINVAL, "an unknown action is refused");
	is_int(decode("{\"filters\":{\"type\":[\"network\"]}}", &p), -EINVAL, "an unknown type is refused");
	is_int(decode("{\"filters\":{\"container\":[\"\"]}}", &p), -EINVAL, "an empty container is refused");
	is_int(decode("{\"filters\":[]}", &p), -EINVAL, "filters must be an object");
	is_int(decode("{\"since\":-1}", &p), -EINVAL, "negative seconds are refused");
	is_int(decode("{\"since\":true}", &p), -EINVAL, "a boolean time is refused");
	is_int(decode("{\"since\":20,\"until\":10}", &p), -EINVAL, "until before since is refused");
	ok(proto_events_action_known("oom") && !proto_events_action_known("Die"), "actions are matched exactly");
}

int main(void)
{
	test_times();
	test_params();
	return tap_done();
}
