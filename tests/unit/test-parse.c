/* Unit tests for common/parse.c: the values users type on cctl's command line. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>

#include "common/parse.h"
#include "tests/tap.h"

static void test_size(void)
{
	static const struct {
		const char *in;
		uint64_t want;
	} good[] = {
		{ "0", 0 },		{ "1048576", 1048576 },	 { "50m", 50ull << 20 },  { "50M", 50ull << 20 },
		{ "50mb", 50ull << 20 }, { "1g", 1ull << 30 },	 { "512k", 512ull << 10 }, { "2t", 2ull << 40 },
		{ "7b", 7 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 0;
		int r = parse_size(good[i].in, &v);
		ok(r == 0 && v == good[i].want, "parse_size(\"%s\") = %llu (got %llu, r=%d)", good[i].in,
		   (unsigned long long)good[i].want, (unsigned long long)v, r);
	}
	static const char *const bad[] = { "", "m", "-1", "1.5g", "10x", "10 m", "1mm", "99999999999999999999",
					   "20000000000000t", " 5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v;
		ok(parse_size(bad[i], &v) < 0, "parse_size rejects \"%s\"", bad[i]);
	}
}

static void test_signal(void)
{
	int s = 0;
	ok(parse_signal("KILL", &s) == 0 && s == SIGKILL, "KILL");
	ok(parse_signal("SIGTERM", &s) == 0 && s == SIGTERM, "SIGTERM");
	ok(parse_signal("hup", &s) == 0 && s == SIGHUP, "lowercase hup");
	ok(parse_signal("9", &s) == 0 && s == 9, "9");
	ok(parse_signal("WINCH", &s) == 0 && s == SIGWINCH, "WINCH");
	ok(parse_signal("0", &s) < 0, "0 is not a signal");
	ok(parse_signal("65", &s) < 0, "65 is out of range");
	ok(parse_signal("SIGFOO", &s) < 0, "unknown name");
	ok(parse_signal("", &s) < 0, "empty");
	ok(parse_signal("9x", &s) < 0, "trailing junk");
	is_str(signal_name(SIGKILL), "KILL", "signal_name(9)");
}

static void test_user(void)
{
	ok(user_spec_valid("1000"), "UID");
	ok(user_spec_valid("1000:1001"), "UID:GID");
	ok(user_spec_valid("nobody"), "a name");
	ok(user_spec_valid("nobody:wheel"), "NAME:GROUP");
	ok(user_spec_valid("www-data:1001"), "NAME:GID");
	ok(user_spec_valid("host$"), "a machine account");
	ok(!user_spec_valid(""), "empty");
	ok(!user_spec_valid("1000:"), "empty group");
	ok(!user_spec_valid(":1000"), "empty user");
	ok(!user_spec_valid("1:2:3"), "two colons");
	ok(!user_spec_valid("-1"), "a leading dash");
	ok(!user_spec_valid("a b"), "a space");
	ok(!user_spec_valid("../etc"), "a slash");
	ok(!user_spec_valid("a\nb"), "a newline");
	ok(!user_spec_valid("$x"), "a leading dollar");
}

static void test_cpus(void)
{
	uint64_t m = 0;
	ok(parse_cpus("1", &m) == 0 && m == 1000, "1 CPU");
	ok(parse_cpus("0.5", &m) == 0 && m == 500, "0.5");
	ok(parse_cpus("1.25", &m) == 0 && m == 1250, "1.25");
	ok(parse_cpus("0.001", &m) == 0 && m == 1, "0.001");
	ok(parse_cpus("0", &m) < 0, "0 is refused");
	ok(parse_cpus("0.0001", &m) < 0, "more than 3 decimals");
	ok(parse_cpus("1.", &m) < 0, "a dot without decimals");
	ok(parse_cpus("-1", &m) < 0, "negative");
	ok(parse_cpus("2000", &m) < 0, "more than 1024 CPUs");
	ok(parse_cpus("abc", &m) < 0, "not a number");
}

int main(void)
{
	test_size();
	test_signal();
	test_user();
	test_cpus();
	return tap_done();
}
