/* containd's nftables table through libnftables. containd owns exactly one table (default name
 * "containd", family ip); every change replaces that table's whole content in ONE atomic
 * transaction: the script is built by nft_ruleset_text (pure, unit-tested) and nft_apply runs it.
 * No other table is ever read, changed or flushed. IPv4 only; addresses in HOST byte order.
 *
 * What `nft list table ip containd` shows:
 *   maps published-tcp, published-udp            host port : container address . port (every
 *                                                 local address of the host, 127.0.0.1 included)
 *   maps published-tcp-by-address, -udp-by-...    host address . port : container address . port
 *   chain prerouting-dnat (nat, prerouting)       DNAT through the maps: connections from outside
 *   chain output-dnat (nat, output)               the same for the host's own connections
 *   chain postrouting-masquerade (nat)            outbound per bridge, localhost and hairpin
 *   chain forward-filter (filter, forward)        internal bridges, replies, published ports,
 *                                                 isolation between bridges, the forward guard
 * Each rule carries a comment saying what it is for. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "network/ipam.h"

/* The longest table name accepted (nft's own limit is 255; a short one reads better). */
#define NFT_TABLE_NAME_MAX 64

struct nft_bridge { /* one network's bridge */
	const char *ifname;
	struct ipv4_net subnet;
	bool masquerade; /* outbound traffic from subnet not to the bridge: masquerade */
	bool internal;	 /* no traffic to or from outside the bridge */
};

struct nft_port {	  /* one published port */
	int proto;	  /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_ip; /* 0: every local address (fib daddr type local), incl. 127.0.0.1 */
	uint16_t host_port;
	uint32_t ctr_ip;
	uint16_t ctr_port;
	const char *bridge; /* the container's bridge (hairpin masquerade, localhost masquerade) */
};

struct nft_ruleset {
	const char *table; /* "containd" */
	const struct nft_bridge *bridges;
	size_t n_bridges;
	const struct nft_port *ports;
	size_t n_ports;
	bool forward_guard; /* containd turned ip_forward on: forward only to/from the bridges */
};

/* The nft script for rs: add table; flush table; chains; rules. -EINVAL for a table or interface
 * name that is not plain (see nft.c), a port 0, an unknown protocol. */
int nft_ruleset_text(const struct nft_ruleset *rs, char **ret);
/* Replaces the table's content with rs in one transaction; on error the previous content stays and
 * *reterr has nft's message. */
int nft_apply(const struct nft_ruleset *rs, char **reterr);
/* Deletes the table; an absent table is not an error. */
int nft_table_delete(const char *table, char **reterr);
/* Frees the libnftables context nft_apply and nft_table_delete keep between calls (at shutdown). */
void nft_context_free(void);
/* Whether name is a table name nft_ruleset_text accepts. */
bool nft_table_name_valid(const char *name);
