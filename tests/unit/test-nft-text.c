/* Unit tests for nft_ruleset_text (network/nft.c): the script containd applies, rule by rule and
 * chain by chain, and the names it refuses to print. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "network/nft.h"
#include "tests/tap.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Whether the script has exactly this line. */
static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

#define has(text, line)	    ok(has_line(text, line), "has: %s", line)
#define hasnt(text, needle) ok(!strstr(text, needle), "has no: %s", needle)

static const struct nft_bridge bridges[] = {
    {"containd0", {A(172, 17, 0, 0), 16}, true, false},
    {"br-0123456789ab", {A(172, 18, 0, 0), 16}, true, false},
    {"br-internal0", {A(172, 19, 0, 0), 16}, true, true},
};
static const struct nft_port ports[] = {
    {IPPROTO_TCP, 0, 8080, A(172, 17, 0, 2), 80, "containd0"},
    {IPPROTO_UDP, A(127, 0, 0, 1), 5353, A(172, 18, 0, 3), 53, "br-0123456789ab"},
    {IPPROTO_TCP, 0, 9090, A(10, 99, 0, 2), 90, "br-other"},
};

static void test_full(void)
{
	struct nft_ruleset rs = {"containd", bridges, 3, ports, 3, true};
	char *t = NULL;

	is_int(nft_ruleset_text(&rs, &t), 0, "a ruleset with three bridges and three ports");
	if (!t)
		return;
	/* The script in the log, as TAP comments, for when a check fails. */
	for (const char *l = t; *l; l = strchr(l, '\n') + 1)
		printf("# %.*s\n", (int)(strchr(l, '\n') - l), l);
	ok(strncmp(t, "add table ip containd\nflush table ip containd\n", 45) == 0, "starts: add table; flush table");
	has(t, "add chain ip containd prerouting-dnat { type nat hook prerouting priority -100; policy accept; }");
	has(t, "add chain ip containd output-dnat { type nat hook output priority -100; policy accept; }");
	has(t,
	    "add chain ip containd postrouting-masquerade { type nat hook postrouting priority 100; policy accept; }");
	has(t, "add chain ip containd forward-filter { type filter hook forward priority 0; policy accept; }");

	/* Published ports: four maps declared and flushed (flush table keeps elements), filled by
	 * protocol and by whether the port is on every local address or on one. */
	is_int(count(t, "add map ip containd "), 4, "four maps");
	has(t, "add map ip containd published-tcp { type inet_service : ipv4_addr . inet_service; }");
	has(t, "add map ip containd published-udp-by-address { type ipv4_addr . inet_service : ipv4_addr . "
	       "inet_service; }");
	has(t, "flush map ip containd published-tcp");
	has(t, "flush map ip containd published-udp-by-address");
	is_int(count(t, "flush map ip containd "), 4, "each map flushed");
	has(t, "add element ip containd published-tcp { 8080 : 172.17.0.2 . 80, 9090 : 10.99.0.2 . 90 }");
	has(t, "add element ip containd published-udp-by-address { 127.0.0.1 . 5353 : 172.18.0.3 . 53 }");
	is_int(count(t, "add element "), 2, "elements only in the two maps in use");
	ok(strstr(t, "add element") < strstr(t, "add rule"), "the maps are filled before the rules");

	/* DNAT: a rule per map in use, in prerouting (from outside) and output (the host itself). */
	has(t, "add rule ip containd prerouting-dnat fib daddr type local dnat to tcp dport map @published-tcp "
	       "comment \"tcp ports published on every local address\"");
	has(t, "add rule ip containd output-dnat fib daddr type local dnat to tcp dport map @published-tcp "
	       "comment \"tcp ports published on every local address\"");
	has(t, "add rule ip containd prerouting-dnat dnat to ip daddr . udp dport map @published-udp-by-address "
	       "comment \"udp ports published on one address\"");
	has(t, "add rule ip containd output-dnat dnat to ip daddr . udp dport map @published-udp-by-address "
	       "comment \"udp ports published on one address\"");
	is_int(count(t, "dnat to"), 4, "two DNAT rules per map in use");

	/* Masquerade: outbound per bridge (not internal), localhost per bridge, hairpin per bridge with ports. */
	has(t, "add rule ip containd postrouting-masquerade ip saddr 172.17.0.0/16 oifname != \"containd0\" masquerade "
	       "comment \"outbound from containd0\"");
	has(t, "add rule ip containd postrouting-masquerade ip saddr 172.18.0.0/16 oifname != \"br-0123456789ab\" "
	       "masquerade comment \"outbound from br-0123456789ab\"");
	hasnt(t, "ip saddr 172.19.0.0/16");
	has(t, "add rule ip containd postrouting-masquerade ip saddr 127.0.0.0/8 oifname \"containd0\" masquerade "
	       "comment \"localhost to published ports on containd0\"");
	has(t, "add rule ip containd postrouting-masquerade ip saddr 127.0.0.0/8 oifname \"br-other\" masquerade "
	       "comment \"localhost to published ports on br-other\"");
	is_int(count(t, "ip saddr 127.0.0.0/8"), 4, "localhost masquerade once per bridge (3 + br-other)");
	has(t, "add rule ip containd postrouting-masquerade ip saddr 172.17.0.0/16 oifname \"containd0\" ct status "
	       "dnat masquerade comment \"hairpin: containd0 to its published ports\"");
	has(t, "add rule ip containd postrouting-masquerade ip saddr 172.18.0.0/16 oifname \"br-0123456789ab\" ct "
	       "status dnat masquerade comment \"hairpin: br-0123456789ab to its published ports\"");
	hasnt(t, "hairpin: br-internal0");
	/* A port on a bridge the ruleset does not list: only the container itself is masqueraded. */
	has(t, "add rule ip containd postrouting-masquerade ip saddr 10.99.0.2 oifname \"br-other\" ct status dnat "
	       "ip daddr 10.99.0.2 tcp dport 90 masquerade comment \"hairpin to 10.99.0.2:90/tcp\"");

	/* Forward: internal first, then replies, published ports, isolation, the guard. */
	has(t, "add rule ip containd forward-filter iifname \"br-internal0\" oifname != \"br-internal0\" drop "
	       "comment \"br-internal0 is internal\"");
	has(t, "add rule ip containd forward-filter oifname \"br-internal0\" iifname != \"br-internal0\" drop "
	       "comment \"br-internal0 is internal\"");
	has(t, "add rule ip containd forward-filter ct state established,related accept comment \"replies\"");
	has(t, "add rule ip containd forward-filter ct status dnat accept comment \"published ports\"");
	has(t, "add rule ip containd forward-filter iifname \"containd0\" oifname { \"br-0123456789ab\", "
	       "\"br-internal0\" } drop comment \"isolation between networks\"");
	has(t, "add rule ip containd forward-filter iifname \"br-0123456789ab\" oifname { \"containd0\", "
	       "\"br-internal0\" } drop comment \"isolation between networks\"");
	has(t,
	    "add rule ip containd forward-filter iifname != { \"containd0\", \"br-0123456789ab\", \"br-internal0\" } "
	    "oifname != { \"containd0\", \"br-0123456789ab\", \"br-internal0\" } drop comment \"containd enabled "
	    "forwarding for its bridges only\"");
	const char *internal = strstr(t, "is internal"), *replies = strstr(t, "comment \"replies\""),
		   *iso = strstr(t, "isolation between"), *guard = strstr(t, "its bridges only");
	ok(internal && replies && iso && guard && internal < replies && replies < iso && iso < guard,
	   "forward rules in order: internal, replies, isolation, guard");
	/* Every rule names our table; nothing else is touched. */
	is_int(count(t, "ip containd"), count(t, "\n"), "every line addresses table ip containd");
	hasnt(t, "delete");
	free(t);
}

static void test_small(void)
{
	struct nft_ruleset rs = {"ctdtest", bridges, 1, NULL, 0, false};
	char *t = NULL;

	is_int(nft_ruleset_text(&rs, &t), 0, "one bridge, no ports, no guard");
	if (!t)
		return;
	hasnt(t, "isolation");
	hasnt(t, "dnat to");
	hasnt(t, "its bridges only");
	has(t, "add table ip ctdtest");
	free(t);

	rs = (struct nft_ruleset){"ctdtest", NULL, 0, NULL, 0, true};
	is_int(nft_ruleset_text(&rs, &t), 0, "no bridge, guard on");
	if (t)
		has(t, "add rule ip ctdtest forward-filter drop comment \"containd enabled forwarding for its bridges "
		       "only\"");
	free(t);

	struct nft_bridge b = bridges[0];
	b.masquerade = false;
	rs = (struct nft_ruleset){"ctdtest", &b, 1, NULL, 0, false};
	t = NULL;
	is_int(nft_ruleset_text(&rs, &t), 0, "a bridge without masquerade");
	if (t)
		hasnt(t, "outbound from");
	free(t);
}

static void test_many(void)
{
	static struct nft_port many[300];
	struct nft_bridge b = bridges[0];
	char *t = NULL;

	for (size_t i = 0; i < 300; i++)
		many[i] = (struct nft_port){IPPROTO_TCP, 0, (uint16_t)(10000 + i), A(172, 17, 1, 2), 80, "containd0"};
	struct nft_ruleset rs = {"containd", &b, 1, many, 300, false};
	is_int(nft_ruleset_text(&rs, &t), 0, "300 ports");
	if (t) {
		is_int(count(t, "add element ip containd published-tcp { "), 2,
		       "in two add element lines of at most 256");
		is_int(count(t, " : 172.17.1.2 . 80"), 300, "with every port");
		is_int(count(t, "hairpin"), 1, "one hairpin rule for the bridge");
	}
	free(t);

	/* The same host port twice (another container port) is refused; on another address or
	 * protocol it is not. */
	many[7].host_port = 10003;
	t = NULL;
	is_int(nft_ruleset_text(&rs, &t), -EINVAL, "a host port published twice is refused");
	ok(!t, "and no text");
	many[7].host_ip = A(127, 0, 0, 1);
	is_int(nft_ruleset_text(&rs, &t), 0, "on another address it is fine");
	free(t);
	many[7].host_ip = 0;
	many[7].proto = IPPROTO_UDP;
	t = NULL;
	is_int(nft_ruleset_text(&rs, &t), 0, "with another protocol too");
	free(t);
}

static void test_refused(void)
{
	static const char *const bad_tables[] = {"",
						 "1abc",
						 "con tainD",
						 "x;flush ruleset",
						 "a\"b",
						 "ip/x",
						 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad_tables) / sizeof(bad_tables[0]); i++) {
		struct nft_ruleset rs = {bad_tables[i], NULL, 0, NULL, 0, false};
		char *t = NULL;
		is_int(nft_ruleset_text(&rs, &t), -EINVAL, "table name \"%s\" refused", bad_tables[i]);
		ok(!t, "and no text");
	}
	static const char *const bad_if[] = {"", "br\"; flush ruleset; \"", "a-very-long-bridge-name", "br 0", "br\\0"};
	for (size_t i = 0; i < sizeof(bad_if) / sizeof(bad_if[0]); i++) {
		struct nft_bridge b = {bad_if[i], {A(10, 0, 0, 0), 8}, true, false};
		struct nft_port p = {IPPROTO_TCP, 0, 80, A(10, 0, 0, 2), 80, bad_if[i]};
		struct nft_ruleset rs = {"containd", &b, 1, NULL, 0, false};
		char *t = NULL;
		is_int(nft_ruleset_text(&rs, &t), -EINVAL, "bridge name \"%s\" refused", bad_if[i]);
		rs = (struct nft_ruleset){"containd", NULL, 0, &p, 1, false};
		is_int(nft_ruleset_text(&rs, &t), -EINVAL, "port bridge name \"%s\" refused", bad_if[i]);
	}
	struct nft_bridge twice[] = {bridges[0], bridges[1], bridges[0]};
	struct nft_ruleset rs2 = {"containd", twice, 3, NULL, 0, false};
	char *t2 = NULL;
	is_int(nft_ruleset_text(&rs2, &t2), -EINVAL, "a bridge listed twice is refused");
	struct nft_port p[] = {
	    {IPPROTO_SCTP, 0, 80, A(10, 0, 0, 2), 80, NULL},
	    {IPPROTO_TCP, 0, 0, A(10, 0, 0, 2), 80, NULL},
	    {IPPROTO_TCP, 0, 80, A(10, 0, 0, 2), 0, NULL},
	    {IPPROTO_TCP, 0, 80, 0, 80, NULL},
	};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		struct nft_ruleset rs = {"containd", NULL, 0, &p[i], 1, false};
		char *t = NULL;
		is_int(nft_ruleset_text(&rs, &t), -EINVAL,
		       "bad port %zu refused (sctp, host port 0, ctr port 0, no ip)", i);
	}
}

int main(void)
{
	test_full();
	test_small();
	test_many();
	test_refused();
	return tap_done();
}
