/* containd's nftables table: the script (text) and running it through libnftables. */
#include <errno.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/portspec.h"
#include "network/nft.h"

/* Why running a generated script is safe: nft scripts can include files and name any table, so
 * nothing a user typed may reach the text unchecked. Everything printed into it is either a fixed
 * word of ours, a number, an address formatted by ipam_format_*, or a name checked here first: a
 * table name of letters, digits, '_' and '-' (an nft identifier, printed bare) and interface names
 * of letters, digits, '_', '-' and '.' (printed between double quotes, which they cannot close).
 * So the script only ever touches table `ip <rs->table>`, which it adds, flushes and fills. */
bool nft_table_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > NFT_TABLE_NAME_MAX ||
	    !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-'))
			return false;
	return true;
}

/* An interface name as the kernel allows it (1-15 bytes), restricted to a safe set to quote. */
static bool nft_ifname_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > 15)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return false;
	return true;
}

static int nft_key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Two ports with the same protocol, host address and host port would be one map key twice, which
 * nft refuses (and which would be ambiguous anyway): the keys sorted, neighbours compared. */
static int nft_ports_unique(const struct nft_ruleset *rs, char **reterr)
{
	_cleanup_free_ uint64_t *keys = NULL;

	if (rs->n_ports < 2)
		return 0;
	keys = calloc(rs->n_ports, sizeof(*keys));
	if (!keys)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < rs->n_ports; i++)
		keys[i] = (uint64_t)(uint8_t)rs->ports[i].proto << 48 | (uint64_t)rs->ports[i].host_ip << 16 |
			  rs->ports[i].host_port;
	qsort(keys, rs->n_ports, sizeof(*keys), nft_key_cmp);
	for (size_t i = 1; i < rs->n_ports; i++)
		if (keys[i] == keys[i - 1]) {
			char hip[IPAM_ADDR_STRLEN];
			ipam_format_addr((uint32_t)(keys[i] >> 16), hip);
			return err_set(reterr, -EINVAL, "port %s:%u/%s is published twice", hip,
				       (unsigned)(keys[i] & 0xffff), portspec_proto_name((int)(keys[i] >> 48)));
		}
	return 0;
}

/* Checks every name and number of rs before any text is written. */
static int nft_ruleset_check(const struct nft_ruleset *rs, char **reterr)
{
	if (!nft_table_name_valid(rs->table))
		return err_set(reterr, -EINVAL, "invalid nftables table name \"%.80s\"", rs->table ? rs->table : "");
	for (size_t i = 0; i < rs->n_bridges; i++) {
		const struct nft_bridge *b = &rs->bridges[i];
		if (!nft_ifname_valid(b->ifname))
			return err_set(reterr, -EINVAL,
				       "invalid bridge name \"%.80s\" (1 to 15 letters, digits, '_', '-', '.')",
				       b->ifname ? b->ifname : "");
		if (b->subnet.prefix > 32)
			return err_set(reterr, -EINVAL, "bridge %s: invalid subnet prefix %u", b->ifname,
				       b->subnet.prefix);
		for (size_t j = 0; j < i; j++)
			if (strcmp(rs->bridges[j].ifname, b->ifname) == 0)
				return err_set(reterr, -EINVAL, "bridge %s listed twice", b->ifname);
	}
	for (size_t i = 0; i < rs->n_ports; i++) {
		const struct nft_port *p = &rs->ports[i];
		if (!portspec_proto_name(p->proto))
			return err_set(reterr, -EINVAL, "published port %u: protocol %d is neither tcp nor udp",
				       p->host_port, p->proto);
		if (!p->host_port || !p->ctr_port || !p->ctr_ip)
			return err_set(reterr, -EINVAL, "published port %u->%u: a port or the container's address is 0",
				       p->host_port, p->ctr_port);
		if (p->bridge && !nft_ifname_valid(p->bridge))
			return err_set(reterr, -EINVAL, "published port %u: invalid bridge name \"%.80s\"",
				       p->host_port, p->bridge);
	}
	return nft_ports_unique(rs, reterr);
}

/* The anonymous set of every bridge name: { "a", "b" }. */
static void nft_bridge_set(FILE *f, const struct nft_ruleset *rs, const char *except)
{
	bool first = true;

	fputs("{ ", f);
	for (size_t i = 0; i < rs->n_bridges; i++) {
		if (except && strcmp(rs->bridges[i].ifname, except) == 0)
			continue;
		fprintf(f, "%s\"%s\"", first ? "" : ", ", rs->bridges[i].ifname);
		first = false;
	}
	fputs(" }", f);
}

/* The bridge of rs named name, or NULL. */
static const struct nft_bridge *nft_bridge_find(const struct nft_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_bridges; i++)
		if (strcmp(rs->bridges[i].ifname, name) == 0)
			return &rs->bridges[i];
	return NULL;
}

/* Whether port i is the first of rs's ports on its bridge. */
static bool nft_port_first_on_bridge(const struct nft_ruleset *rs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (rs->ports[j].bridge && strcmp(rs->ports[j].bridge, rs->ports[i].bridge) == 0)
			return false;
	return true;
}

/* The published ports live in four maps, by protocol and by whether they listen on every local
 * address (key: the port) or on one (key: address . port), each to the container's address . port:
 * one lookup per new connection however many ports there are, and a fraction of the cost of a
 * rule per port to load. "flush table" keeps a map's elements, so each is flushed here. */
static const struct {
	int proto;
	bool by_address;
	const char *name, *type;
} nft_maps[] = {
    {IPPROTO_TCP, true, "published-tcp-by-address", "ipv4_addr . inet_service : ipv4_addr . inet_service"},
    {IPPROTO_TCP, false, "published-tcp", "inet_service : ipv4_addr . inet_service"},
    {IPPROTO_UDP, true, "published-udp-by-address", "ipv4_addr . inet_service : ipv4_addr . inet_service"},
    {IPPROTO_UDP, false, "published-udp", "inet_service : ipv4_addr . inet_service"},
};

/* Elements per "add element" command, to keep the script's lines short. */
#define NFT_ELEMENTS_PER_LINE 256

/* Declares, flushes and fills the four maps of published ports; *used[k] says whether map k has any. */
static void nft_port_maps(FILE *f, const struct nft_ruleset *rs, bool used[ARRAY_SIZE(nft_maps)])
{
	for (size_t k = 0; k < ARRAY_SIZE(nft_maps); k++) {
		size_t n = 0;

		fprintf(f, "add map ip %s %s { type %s; }\nflush map ip %s %s\n", rs->table, nft_maps[k].name,
			nft_maps[k].type, rs->table, nft_maps[k].name);
		for (size_t i = 0; i < rs->n_ports; i++) {
			const struct nft_port *p = &rs->ports[i];
			char hip[IPAM_ADDR_STRLEN], cip[IPAM_ADDR_STRLEN];

			if (p->proto != nft_maps[k].proto || (p->host_ip != 0) != nft_maps[k].by_address)
				continue;
			ipam_format_addr(p->host_ip, hip);
			ipam_format_addr(p->ctr_ip, cip);
			if (n % NFT_ELEMENTS_PER_LINE == 0)
				fprintf(f, "%sadd element ip %s %s { ", n ? " }\n" : "", rs->table, nft_maps[k].name);
			else
				fputs(", ", f);
			if (nft_maps[k].by_address)
				fprintf(f, "%s . ", hip);
			fprintf(f, "%u : %s . %u", p->host_port, cip, p->ctr_port);
			n++;
		}
		if (n)
			fputs(" }\n", f);
		used[k] = n > 0;
	}
}

/* The DNAT rules of one chain (prerouting: from outside; output: the host's own connections, which
 * that hook alone sees), one per map in use, ports on one address first. Every local address of
 * the host, 127.0.0.1 included, is what `fib daddr type local` matches. */
static void nft_dnat_rules(FILE *f, const struct nft_ruleset *rs, const char *chain,
			   const bool used[ARRAY_SIZE(nft_maps)])
{
	for (size_t k = 0; k < ARRAY_SIZE(nft_maps); k++) {
		const char *proto = portspec_proto_name(nft_maps[k].proto);

		if (!used[k])
			continue;
		if (nft_maps[k].by_address)
			fprintf(f,
				"add rule ip %s %s dnat to ip daddr . %s dport map @%s comment \"%s ports published "
				"on one address\"\n",
				rs->table, chain, proto, nft_maps[k].name, proto);
		else
			fprintf(f,
				"add rule ip %s %s fib daddr type local dnat to %s dport map @%s comment \"%s ports "
				"published on every local address\"\n",
				rs->table, chain, proto, nft_maps[k].name, proto);
	}
}

/* Source NAT: each bridge's traffic leaving by another interface, the host's connections from
 * 127.0.0.0/8 to a container (route_localnet lets them be routed; the reply must come back to an
 * address the container can reach), and hairpin connections: a container reaching a published port
 * of its own bridge must see the reply come from the host, or it would come straight from the peer
 * (or from itself: a martian) and miss the reverse DNAT. The hairpin rule matches DNATed traffic
 * from the bridge's subnet out to the same bridge, not the input interface: with br_netfilter
 * loaded, a DNATed packet that stays on its bridge is bridged, and the postrouting hook then sees no
 * input interface. */
static void nft_postrouting_rules(FILE *f, const struct nft_ruleset *rs)
{
	const char *t = rs->table;

	for (size_t i = 0; i < rs->n_bridges; i++) {
		const struct nft_bridge *b = &rs->bridges[i];
		char net[IPAM_CIDR_STRLEN];
		bool ports = false;

		ipam_format_cidr(&b->subnet, net);
		if (b->masquerade && !b->internal)
			fprintf(f,
				"add rule ip %s postrouting-masquerade ip saddr %s oifname != \"%s\" masquerade "
				"comment \"outbound from %s\"\n",
				t, net, b->ifname, b->ifname);
		fprintf(f,
			"add rule ip %s postrouting-masquerade ip saddr 127.0.0.0/8 oifname \"%s\" masquerade "
			"comment \"localhost to published ports on %s\"\n",
			t, b->ifname, b->ifname);
		for (size_t j = 0; j < rs->n_ports && !ports; j++)
			ports = rs->ports[j].bridge && strcmp(rs->ports[j].bridge, b->ifname) == 0;
		if (ports)
			fprintf(f,
				"add rule ip %s postrouting-masquerade ip saddr %s oifname \"%s\" ct status dnat "
				"masquerade "
				"comment \"hairpin: %s to its published ports\"\n",
				t, net, b->ifname, b->ifname);
	}
	/* A port on a bridge rs does not list (its network is not known here): the container itself. */
	for (size_t i = 0; i < rs->n_ports; i++) {
		const struct nft_port *p = &rs->ports[i];
		char cip[IPAM_ADDR_STRLEN];
		const char *proto = portspec_proto_name(p->proto);

		if (!p->bridge || nft_bridge_find(rs, p->bridge))
			continue;
		if (nft_port_first_on_bridge(rs, i))
			fprintf(f,
				"add rule ip %s postrouting-masquerade ip saddr 127.0.0.0/8 oifname \"%s\" masquerade "
				"comment \"localhost to published ports on %s\"\n",
				t, p->bridge, p->bridge);
		ipam_format_addr(p->ctr_ip, cip);
		fprintf(f,
			"add rule ip %s postrouting-masquerade ip saddr %s oifname \"%s\" ct status dnat "
			"ip daddr %s %s dport %u masquerade comment \"hairpin to %s:%u/%s\"\n",
			t, cip, p->bridge, cip, proto, p->ctr_port, cip, p->ctr_port, proto);
	}
}

/* The forward filter, in order: internal bridges closed, replies of accepted connections, DNATed
 * connections to published ports, isolation between bridges, and with forward_guard nothing
 * forwarded that does not come from or go to a bridge. The chain's policy stays accept: the host's
 * own forwarding rules live in other tables, which containd never touches. */
static void nft_forward_rules(FILE *f, const struct nft_ruleset *rs)
{
	const char *t = rs->table;

	for (size_t i = 0; i < rs->n_bridges; i++) {
		const char *n = rs->bridges[i].ifname;
		if (!rs->bridges[i].internal)
			continue;
		fprintf(
		    f,
		    "add rule ip %s forward-filter iifname \"%s\" oifname != \"%s\" drop comment \"%s is internal\"\n",
		    t, n, n, n);
		fprintf(
		    f,
		    "add rule ip %s forward-filter oifname \"%s\" iifname != \"%s\" drop comment \"%s is internal\"\n",
		    t, n, n, n);
	}
	fprintf(f, "add rule ip %s forward-filter ct state established,related accept comment \"replies\"\n", t);
	if (rs->n_ports)
		fprintf(f, "add rule ip %s forward-filter ct status dnat accept comment \"published ports\"\n", t);
	if (rs->n_bridges > 1) {
		for (size_t i = 0; i < rs->n_bridges; i++) {
			fprintf(f, "add rule ip %s forward-filter iifname \"%s\" oifname ", t, rs->bridges[i].ifname);
			nft_bridge_set(f, rs, rs->bridges[i].ifname);
			fprintf(f, " drop comment \"isolation between networks\"\n");
		}
	}
	if (rs->forward_guard) {
		if (rs->n_bridges) {
			fprintf(f, "add rule ip %s forward-filter iifname != ", t);
			nft_bridge_set(f, rs, NULL);
			fputs(" oifname != ", f);
			nft_bridge_set(f, rs, NULL);
			fputs(" drop comment \"containd enabled forwarding for its bridges only\"\n", f);
		} else {
			fprintf(f,
				"add rule ip %s forward-filter drop comment \"containd enabled forwarding for its "
				"bridges only\"\n",
				t);
		}
	}
}

int nft_ruleset_text(const struct nft_ruleset *rs, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *f;
	const char *t = rs->table;
	bool used[ARRAY_SIZE(nft_maps)];
	int r;

	r = nft_ruleset_check(rs, NULL);
	if (r < 0)
		return r;
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	/* "add" makes the table if it is missing, "flush" empties it of its rules: one transaction
	 * then refills it, so no packet ever sees a half-made table. */
	fprintf(f, "add table ip %s\nflush table ip %s\n", t, t);
	nft_port_maps(f, rs, used);
	fprintf(f, "add chain ip %s prerouting-dnat { type nat hook prerouting priority -100; policy accept; }\n", t);
	fprintf(f, "add chain ip %s output-dnat { type nat hook output priority -100; policy accept; }\n", t);
	fprintf(f,
		"add chain ip %s postrouting-masquerade { type nat hook postrouting priority 100; policy accept; }\n",
		t);
	fprintf(f, "add chain ip %s forward-filter { type filter hook forward priority 0; policy accept; }\n", t);
	nft_dnat_rules(f, rs, "prerouting-dnat", used);
	nft_dnat_rules(f, rs, "output-dnat", used);
	nft_postrouting_rules(f, rs);
	nft_forward_rules(f, rs);
	if (ferror(f) | fclose(f))
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The libnftables context, kept for the process: a new one costs about 10 ms on its first command
 * (libnftables probes the kernel and reads its own tables), a kept one about 0.5 ms per apply, which
 * matters because every published port's start re-applies the table. Its netlink socket belongs to
 * the netns it was made in, so it is made again when the caller is in another one (tests switch; the
 * daemon does not). The daemon is single-threaded, so no lock. */
static struct nft_ctx *nft_shared;
static dev_t nft_shared_dev;
static ino_t nft_shared_ino;

/* The kept context for the caller's netns, made (with output and errors buffered) when needed. */
static struct nft_ctx *nft_context(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return NULL;
	if (nft_shared && (st.st_dev != nft_shared_dev || st.st_ino != nft_shared_ino))
		nft_context_free();
	if (nft_shared)
		return nft_shared;
	nft_shared = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft_shared)
		return NULL;
	if (nft_ctx_buffer_output(nft_shared) < 0 || nft_ctx_buffer_error(nft_shared) < 0) {
		nft_context_free();
		return NULL;
	}
	nft_shared_dev = st.st_dev;
	nft_shared_ino = st.st_ino;
	return nft_shared;
}

void nft_context_free(void)
{
	if (nft_shared)
		nft_ctx_free(nft_shared);
	nft_shared = NULL;
}

/* Runs one nft script; nft's error text goes to *reterr. Reading both buffers empties them for the
 * next run (libnftables rewinds a buffer when it hands it out). */
static int nft_run(const char *script, const char *what, char **reterr)
{
	struct nft_ctx *ctx = nft_context();
	_cleanup_free_ char *msg = NULL;
	int r = 0;

	if (!ctx)
		return err_set(reterr, -ENOMEM, "%s: cannot create an nftables context", what);
	if (nft_run_cmd_from_buffer(ctx, script) != 0) {
		/* nft's message is "Error: ...: <strerror>" and then the offending line with a caret
		 * under it: the first line is the message; its strerror text gives the errno back. */
		static const int errnos[] = {EPERM, EOPNOTSUPP, EEXIST, ENOENT, EBUSY, ENOMEM, ENOSPC, EINVAL};
		const char *e = nft_ctx_get_error_buffer(ctx);
		msg = strndup(e ? e : "", strcspn(e ? e : "", "\n"));
		r = -EIO;
		for (size_t i = 0; msg && i < ARRAY_SIZE(errnos); i++)
			if (strstr(msg, strerror(errnos[i]))) {
				r = -errnos[i];
				break;
			}
		err_set(reterr, r, "%s: %s", what, msg && *msg ? msg : "nft failed");
	}
	(void)nft_ctx_get_output_buffer(ctx);
	(void)nft_ctx_get_error_buffer(ctx);
	return r;
}

int nft_apply(const struct nft_ruleset *rs, char **reterr)
{
	_cleanup_free_ char *text = NULL;
	char what[NFT_TABLE_NAME_MAX + 64];
	int r = nft_ruleset_check(rs, reterr);

	if (r < 0)
		return r;
	r = nft_ruleset_text(rs, &text);
	if (r < 0)
		return err_set(reterr, r, "nftables table %s: %m", rs->table);
	snprintf(what, sizeof(what), "applying nftables table ip %s", rs->table);
	return nft_run(text, what, reterr);
}

int nft_table_delete(const char *table, char **reterr)
{
	char script[2 * NFT_TABLE_NAME_MAX + 64], what[NFT_TABLE_NAME_MAX + 64];

	if (!nft_table_name_valid(table))
		return err_set(reterr, -EINVAL, "invalid nftables table name \"%s\"", table ? table : "");
	/* Adding it first makes the deletion of an absent table a no-op, in one transaction. */
	snprintf(script, sizeof(script), "add table ip %s\ndelete table ip %s\n", table, table);
	snprintf(what, sizeof(what), "deleting nftables table ip %s", table);
	return nft_run(script, what, reterr);
}
