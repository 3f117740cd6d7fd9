/* Unit tests for the logging parts of the protocol (protocol/logs.c, container.run's logging
 * params): container.logs and container.attach params, base64 both ways, logs.data events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/logs.h"
#include "protocol/messages.h"
#include "tests/tap.h"

static int decode_logs(const char *json, struct proto_logs_params *p)
{
	json_t *o = json_loads(json, 0, NULL);
	char *err = NULL;
	int r = o ? proto_logs_params_decode(o, p, &err) : -EBADMSG;
	free(err);
	json_decref(o);
	return r;
}

static void test_logs_params(void)
{
	struct proto_logs_params p;
	ok(decode_logs("{\"id\":\"web\"}", &p) == 0 && p.tail == -1 && !p.follow && p.mode == PROTO_LOGS_JSON &&
	   !p.has_since && !p.has_until,
	   "defaults: all lines, no follow, JSON, no time bounds");
	ok(decode_logs("{\"id\":\"web\",\"tail\":5,\"follow\":true,\"since\":\"2026-11-30T03:10:00.5Z\",\"until\":1764472300}",
		       &p) == 0 &&
	   p.tail == 5 && p.follow && p.has_since && p.since_ns == 1796008200500000000LL && p.has_until &&
	   p.until_ns == 1764472300000000000LL,
	   "tail, follow, since as RFC 3339, until as seconds");
	ok(decode_logs("{\"id\":\"web\",\"mode\":\"fds\"}", &p) == 0 && p.mode == PROTO_LOGS_FDS, "mode fds");
	static const char *const bad[] = {
		"{}", "{\"id\":\"web\",\"mode\":\"fds\",\"follow\":true}", "{\"id\":\"web\",\"mode\":\"raw\"}",
		"{\"id\":\"web\",\"tail\":-2}", "{\"id\":\"web\",\"since\":\"yesterday\"}", "{\"id\":\"web\",\"tial\":1}",
		"{\"id\":5}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(decode_logs(bad[i], &p) < 0, "refused: %s", bad[i]);

	json_t *since = json_string("10.5");
	p = (struct proto_logs_params){ .ref = "web", .tail = 3, .mode = PROTO_LOGS_FDS };
	json_t *enc = proto_logs_params_encode(&p, since, NULL);
	struct proto_logs_params q;
	char *err = NULL;
	ok(enc && proto_logs_params_decode(enc, &q, &err) == 0 && q.tail == 3 && q.mode == PROTO_LOGS_FDS &&
	   q.has_since && q.since_ns == 10500000000LL && strcmp(q.ref, "web") == 0,
	   "encode and decode agree");
	free(err);
	json_decref(enc);
	json_decref(since);
}

static void test_base64(void)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		char enc[16];
		unsigned char dec[16];
		proto_base64_encode((const unsigned char *)in[i], strlen(in[i]), enc);
		is_str(enc, out[i], "base64 of \"%s\" (RFC 4648)", in[i]);
		long n = proto_base64_decode(out[i], strlen(out[i]), dec, sizeof(dec));
		ok(n == (long)strlen(in[i]) && memcmp(dec, in[i], (size_t)n) == 0, "and back");
	}
	unsigned char dec[4];
	ok(proto_base64_decode("Zm9", 3, dec, sizeof(dec)) < 0, "a length not a multiple of 4 is refused");
	ok(proto_base64_decode("Zm=v", 4, dec, sizeof(dec)) < 0, "padding inside is refused");
	ok(proto_base64_decode("Zm9vYmFy", 8, dec, sizeof(dec)) < 0, "more bytes than the buffer holds are refused");
	ok(proto_base64_decode("Z!9v", 4, dec, sizeof(dec)) < 0, "a character outside the alphabet is refused");
}

static void test_data_event(void)
{
	const unsigned char bytes[] = { 'a', 0, 0xff, '\n' };
	json_t *ev = proto_logs_data_encode(2, 1234, bytes, sizeof(bytes));
	unsigned char buf[16];
	size_t len = sizeof(buf);
	int stream;
	uint64_t t;
	char *err = NULL;
	ok(ev && proto_logs_data_decode(ev, &stream, &t, buf, &len, &err) == 0 && stream == 2 && t == 1234 &&
	   len == sizeof(bytes) && memcmp(buf, bytes, len) == 0,
	   "a logs.data event carries any bytes (NUL, 0xff) and round-trips");
	free(err);
	json_decref(ev);
}

static void test_run_and_attach(void)
{
	json_t *o = json_loads("{\"image\":\"alpine\",\"stdio\":\"log\",\"log_driver\":\"file\","
			       "\"log_opts\":{\"max-size\":\"10m\",\"max-file\":\"3\"}}",
			       0, NULL);
	struct proto_run_params p;
	char *err = NULL;
	ok(proto_run_params_decode(o, &p, &err) == 0 && p.stdio == PROTO_STDIO_LOG && strcmp(p.log_driver, "file") == 0 &&
	   p.log_opts && p.log_opts[0] && p.log_opts[1] && !p.log_opts[2],
	   "container.run takes stdio log, log_driver and log_opts");
	json_t *enc = proto_run_params_encode(&p);
	is_str(json_string_value(json_object_get(json_object_get(enc, "log_opts"), "max-file")), "3",
	       "log_opts encode back as an object");
	json_decref(enc);
	proto_run_params_done(&p);
	json_decref(o);
	free(err);
	err = NULL;
	o = json_loads("{\"image\":\"alpine\",\"log_opts\":{\"max-size\":10}}", 0, NULL);
	ok(proto_run_params_decode(o, &p, &err) < 0 && err && strstr(err, "log_opts"), "a log option that is not a string is refused");
	json_decref(o);
	free(err);
	err = NULL;
	o = json_loads("{\"id\":\"box\",\"stdin\":true}", 0, NULL);
	struct proto_attach_params a;
	ok(proto_attach_params_decode(o, &a, &err) == 0 && a.stdin && strcmp(a.ref, "box") == 0, "container.attach params");
	json_decref(o);
	o = json_loads("{\"id\":\"box\",\"stdout\":true}", 0, NULL);
	ok(proto_attach_params_decode(o, &a, &err) < 0, "container.attach refuses unknown fields");
	json_decref(o);
	free(err);
}

int main(void)
{
	test_logs_params();
	test_base64();
	test_data_event();
	test_run_and_attach();
	return tap_done();
}
