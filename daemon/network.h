/* Networks as objects (docs/networking.md): the three built-ins Docker has (bridge, host, none)
 * and user-defined bridge networks, each with its subnet, gateway, address book (IPAM) and, for a
 * bridge network, its bridge on the daemon's host; their records under <root>/networks/<id>.json;
 * containd's nft table rebuilt from them (and from the published ports, given by a callback);
 * what is left of them on the host reconciled at daemon start. Which containers are attached is
 * the containers' knowledge (daemon/container-network.h); this file knows the networks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "network/ipam.h"

struct netlink;
struct nft_port;

/* The daemon's networking settings (daemon/options.h). */
struct network_options {
	const char *bridge;    /* the default network's bridge; NULL: NETWORK_DEFAULT_BRIDGE; "none": none */
	const char *bip;       /* "GATEWAY/PREFIX" of the default bridge; NULL: picked */
	bool ip_forward;       /* turn net.ipv4.ip_forward on when it is off */
	bool ip_masq;	       /* masquerade the bridges' outbound traffic */
	const char *nft_table; /* NULL: "containd" */
};

#define NETWORK_DEFAULT_BRIDGE "containd0"
/* A network's name: Docker's rule for names, [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most this long. */
#define NETWORK_NAME_MAX   64
#define NETWORK_MAX	   1024
#define NETWORK_LABELS_MAX 64

struct network {
	char id[65];
	char *name;
	char *driver;		/* "bridge", "host" or "null" */
	char *bridge;		/* bridge networks: the ifname ("containd0", "cd-<12 hex of id>"); else NULL */
	struct ipv4_net subnet; /* bridge networks; zero otherwise */
	uint32_t gateway;	/* host byte order: the bridge's own address */
	bool internal;		/* no traffic to or from outside the bridge */
	bool user_defined;	/* made by network.create: names resolve between its containers */
	char **labels;		/* "KEY=VALUE", NULL-terminated, never NULL */
	struct timespec created;
	struct ipam_pool *ipam; /* bridge networks: the addresses handed out; else NULL */
	struct network_registry *nr;
	struct network *next;
};

/* Gives every published port for the nft table: an array (freed by the caller with free()) whose
 * strings stay valid until the next call of any registry function. */
typedef int (*network_ports_cb)(void *userdata, struct nft_port **ret, size_t *ret_n);

/* Tells whether a link named like containd's host veths ("veth<7 hex of a container id><index>")
 * belongs to a container this daemon knows (reconcile keeps it) or is a leftover. */
typedef bool (*network_veth_owned_cb)(void *userdata, const char *ifname);

/* The containers attached to n: fills containers (when not NULL) with Docker's inspect entries,
 * {"<container id>": {"Name", "EndpointID", "MacAddress", "IPv4Address" ("a.b.c.d/prefix"),
 * "IPv6Address": ""}}, and returns how many there are (a stopped container still attached counts,
 * as in Docker). Set by the containers' side (daemon/container-network.c). */
typedef unsigned (*network_attached_cb)(void *userdata, const struct network *n, json_t *containers);

struct network_registry {
	char *dir;	 /* <root>/networks */
	char *state_dir; /* <state>: the note that containd turned ip_forward on */
	char *nft_table;
	char *default_bridge; /* the default network's ifname; NULL with --bridge none */
	/* "containd:<instance>", the alias (IFLA_IFALIAS) containd puts on every link it creates;
	 * the instance is this root's random id (<root>/networks/instance). */
	char link_alias[48];
	bool ip_masq;
	bool ip_forward;    /* --ip-forward */
	bool forward_guard; /* containd turned ip_forward on: forward only the bridges' traffic */
	bool host_touched;  /* a bridge network exists, so containd owns state in this netns */
	struct netlink *nl; /* rtnetlink of the daemon's netns; NULL until a bridge network exists */
	struct network *list;
	unsigned count;
	network_ports_cb ports_cb;
	void *ports_userdata;
	network_attached_cb attached_cb;
	void *attached_userdata;
};

/* Loads the networks' records, makes the built-ins (bridge unless --bridge none, host, none) and
 * every bridge network's bridge on the host (created if missing, its address, up, forwarding and
 * route_localnet set). The nft table is applied by network_registry_reconcile(), once the
 * containers are loaded. */
int network_registry_open(const char *root, const char *state, const struct network_options *o,
			  struct network_registry **ret, char **reterr);
void network_registry_free(struct network_registry *nr);
/* At daemon start, once the containers are loaded (their addresses reserved): removes the bridges
 * and veths carrying this daemon's alias (link_alias) that no network or container owns (never
 * the default bridge), then rebuilds the nft table. A link without that alias, made by someone
 * else or by another containd, is never touched, whatever its name. */
void network_registry_reconcile(struct network_registry *nr, network_veth_owned_cb owned, void *userdata);
/* Whether the link name of nl's netns carries nr's link_alias: containd made it in this root. */
bool network_link_is_ours(struct network_registry *nr, struct netlink *nl, const char *name);

/* By name, full id or unique id prefix; NULL when none (or the prefix is ambiguous). */
struct network *network_lookup(struct network_registry *nr, const char *name_or_id);
/* The network of a container that names none: "bridge", or "none" with --bridge none. */
struct network *network_default(struct network_registry *nr);

/* An address of n's subnet for a container: want (a given --ip, or one restored from a record),
 * or the next free one when want is 0. -EINVAL for a network without addresses (host, none),
 * -EEXIST / -EINVAL / -ENOSPC with Docker's words. */
int network_address_alloc(struct network *n, uint32_t want, uint32_t *ret, char **reterr);
void network_address_release(struct network *n, uint32_t addr);

/* Rebuilds and applies containd's nft table from the bridge networks and every published port
 * (network_registry_set_ports_cb): one atomic transaction; no other table is touched. Nothing is
 * done while no bridge network ever existed (a --bridge none daemon leaves the host alone). */
int network_registry_apply_nft(struct network_registry *nr, char **reterr);
void network_registry_set_ports_cb(struct network_registry *nr, network_ports_cb cb, void *userdata);
void network_registry_set_attached_cb(struct network_registry *nr, network_attached_cb cb, void *userdata);
/* How many containers are attached to n (network_attached_cb); 0 until the callback is set. */
unsigned network_attached(struct network_registry *nr, const struct network *n, json_t *containers);

/* What network.create asks. */
struct network_create_opts {
	const char *name;
	const char *driver;  /* NULL: bridge (the only one a user can create) */
	const char *subnet;  /* NULL: picked */
	const char *gateway; /* NULL: the subnet's first address */
	bool internal;
	char *const *labels; /* "KEY=VALUE", or NULL */
};

/* Creates a user network: its record, its bridge and its nft rules; nothing is left when it
 * fails (an overlapping subnet, a name in use). */
int network_create(struct network_registry *nr, const struct network_create_opts *o, struct network **ret,
		   char **reterr);
/* Removes a user network (the caller checked no container is attached): its bridge, its nft rules,
 * its record. Built-ins are refused. */
int network_remove(struct network_registry *nr, struct network *n, char **reterr);
/* Whether name is a valid network name. */
bool network_name_valid(const char *name);
