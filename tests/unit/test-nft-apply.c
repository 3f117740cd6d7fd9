/* Tests of nft_apply and nft_table_delete (network/nft.c) against the kernel, as root, in a
 * network namespace the test unshares for itself: its nft tables vanish with the process, and the
 * host's are never touched. The table is read back with `nft -j list table`. Not root (or no
 * netns): skipped. */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "network/nft.h"
#include "tests/tap.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define TABLE	      "ctdtest"

/* The JSON of `nft -j list table ip <table>`, or NULL when the table is absent. */
static json_t *list_table(const char *table)
{
	char cmd[256], out[1 << 16];
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nft -j list table ip %s 2>/dev/null", table);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	if (pclose(f) != 0)
		return NULL;
	json_t *root = json_loads(out, 0, NULL);
	if (!json_is_array(json_object_get(root, "nftables"))) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Counts the rules of table ip <table> per chain (chain NULL: all); -1 when the table is absent. */
static int rules_in(const char *table, const char *chain)
{
	json_t *root = list_table(table), *it;
	size_t i;
	int count = 0;

	if (!root)
		return -1;
	json_array_foreach(json_object_get(root, "nftables"), i, it)
	{
		json_t *rule = json_object_get(it, "rule");
		if (rule && (!chain || strcmp(json_string_value(json_object_get(rule, "chain")) ?: "", chain) == 0))
			count++;
	}
	json_decref(root);
	return count;
}

/* Counts the elements of a map of table ip <table>; -1 when the table or the map is absent. */
static int elements_in(const char *table, const char *map)
{
	json_t *root = list_table(table), *it;
	size_t i;
	int count = -1;

	if (!root)
		return -1;
	json_array_foreach(json_object_get(root, "nftables"), i, it)
	{
		json_t *m = json_object_get(it, "map");
		if (m && strcmp(json_string_value(json_object_get(m, "name")) ?: "", map) == 0)
			count = (int)json_array_size(json_object_get(m, "elem"));
	}
	json_decref(root);
	return count;
}

static const struct nft_bridge bridges[] = {
    {"ctdt-br0", {A(10, 77, 0, 0), 24}, true, false},
    {"ctdt-br1", {A(10, 78, 0, 0), 24}, true, true},
};
static const struct nft_port ports[] = {
    {IPPROTO_TCP, 0, 8080, A(10, 77, 0, 2), 80, "ctdt-br0"},
    {IPPROTO_UDP, A(127, 0, 0, 1), 5353, A(10, 77, 0, 3), 53, "ctdt-br0"},
};

int main(void)
{
	char *err = NULL;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (network namespaces)\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..0 # SKIP cannot create a network namespace here\n");
		return 0;
	}
	tap_cleanup_on_signals(NULL, 60);

	/* A table that is not ours: it must come out of everything untouched. */
	is_int(system("nft 'add table ip ctdt-other; add chain ip ctdt-other c; add rule ip ctdt-other c accept'"), 0,
	       "another table with a rule");

	is_int(nft_table_delete(TABLE, &err), 0, "deleting an absent table is fine");
	free(err), err = NULL;
	is_int(rules_in(TABLE, NULL), -1, "and it is still absent");

	struct nft_ruleset rs = {TABLE, bridges, 2, ports, 2, true};
	is_int(nft_apply(&rs, &err), 0, "the ruleset applies (%s)", err ? err : "no error");
	free(err), err = NULL;
	int total = rules_in(TABLE, NULL);
	is_int(rules_in(TABLE, "prerouting-dnat"), 2, "two DNAT rules in prerouting-dnat");
	is_int(rules_in(TABLE, "output-dnat"), 2, "two DNAT rules in output-dnat");
	/* outbound br0 (br1 is internal), localhost br0 and br1, hairpin br0 */
	is_int(rules_in(TABLE, "postrouting-masquerade"), 4, "four masquerade rules");
	is_int(elements_in(TABLE, "published-tcp"), 1, "one port in published-tcp");
	is_int(elements_in(TABLE, "published-udp-by-address"), 1, "one port in published-udp-by-address");
	is_int(elements_in(TABLE, "published-udp"), 0, "published-udp is empty");
	/* internal x2, replies, published, isolation x2, guard */
	is_int(rules_in(TABLE, "forward-filter"), 7, "seven forward rules");

	is_int(nft_apply(&rs, &err), 0, "applying the same again");
	is_int(rules_in(TABLE, NULL), total, "replaces: still %d rules, no duplicates", total);
	is_int(elements_in(TABLE, "published-tcp"), 1, "and still one port in published-tcp");

	rs.n_ports = 1;
	is_int(nft_apply(&rs, &err), 0, "applying with one port");
	is_int(rules_in(TABLE, "prerouting-dnat"), 1, "one DNAT rule left in prerouting-dnat");
	is_int(elements_in(TABLE, "published-udp-by-address"), 0, "the map of the port gone was emptied");
	is_int(elements_in(TABLE, "published-tcp"), 1, "the other keeps its port");
	int one_port = rules_in(TABLE, NULL);

	/* Refused before nft runs: the previous table stays as it was. */
	struct nft_bridge bad = {"ctdt-bridge-name-too-long", {A(10, 79, 0, 0), 24}, true, false};
	struct nft_ruleset rs_bad = {TABLE, &bad, 1, NULL, 0, false};
	int r = nft_apply(&rs_bad, &err);
	ok(r == -EINVAL && err && strstr(err, "ctdt-bridge-name-too-long"), "a bridge name too long is an error: %s",
	   err ? err : "(none)");
	free(err), err = NULL;
	is_int(rules_in(TABLE, NULL), one_port, "the previous table is intact");

	/* Refused by nft half-way (a chain of ours exists with another type): the transaction,
	 * flush included, is undone as a whole. */
	is_int(system("nft 'add table ip ctdt-conflict; add chain ip ctdt-conflict prerouting-dnat "
		      "{ type filter hook prerouting priority 0; policy accept; }; "
		      "add rule ip ctdt-conflict prerouting-dnat accept'"),
	       0, "a table with a conflicting chain");
	struct nft_ruleset rs_conflict = {"ctdt-conflict", bridges, 2, ports, 2, true};
	r = nft_apply(&rs_conflict, &err);
	ok(r == -EOPNOTSUPP && err && strstr(err, "ctdt-conflict") && strstr(err, "Error") && !strchr(err, '\n'),
	   "nft's error comes back, its first line: %s", err ? err : "(none)");
	free(err), err = NULL;
	is_int(rules_in("ctdt-conflict", NULL), 1, "the failed transaction changed nothing (its flush neither)");

	is_int(rules_in("ctdt-other", NULL), 1, "the other table still has its rule");
	is_int(nft_table_delete(TABLE, &err), 0, "the table deleted");
	is_int(rules_in(TABLE, NULL), -1, "it is gone");
	is_int(nft_table_delete(TABLE, &err), 0, "deleting it again is fine");
	is_int(rules_in("ctdt-other", NULL), 1, "the other table still has its rule");
	is_int(nft_table_delete("bad name", &err), -EINVAL, "an invalid table name is refused");
	free(err), err = NULL;
	return tap_done();
}
