/* A container on its networks: one endpoint per network it joined (a veth pair whose peer is
 * ethN in the container's network namespace, an address from the network's IPAM, a MAC derived
 * from it, its aliases), made before its command runs and gone with its network namespace; its
 * /etc/hosts, /etc/hostname and /etc/resolv.conf; network.connect and network.disconnect.
 * docs/networking.md describes the choices. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct container;
struct container_config;
struct network;
struct registry;

/* One network a container joined: persisted in its record, so its address stays across stops,
 * starts and daemon restarts, until it leaves the network or is removed. */
struct container_endpoint {
	char network_id[65];
	char id[65];	  /* Docker's EndpointID: random */
	unsigned index;	  /* N of ethN in the container and of the host end's name */
	uint32_t addr;	  /* host byte order; 0 until its first start allocates one */
	bool static_addr; /* --ip: the address was asked for */
	bool addr_held;	  /* reserved in the network's IPAM by this daemon */
	bool linked;	  /* its veth pair exists (the current run) */
	bool prepared;	  /* its veth pair and address came with the spare it runs in */
	char **aliases;	  /* --network-alias, or NULL */
};

/* The files a container gets in its directory and where they are bound in it. */
#define CONTAINER_NETWORK_HOSTS	   "hosts"
#define CONTAINER_NETWORK_HOSTNAME "hostname"
#define CONTAINER_NETWORK_RESOLV   "resolv.conf"

/* The daemon's settings for every container: the host's resolv.conf (--resolv-conf; NULL:
 * /etc/resolv.conf). */
void container_network_set_resolv_conf(const char *path);

/* Checks a new container's network settings (run, create) and makes its first endpoint when its
 * network mode names a bridge network: --ip reserved now (-EINVAL outside the subnet, -EEXIST
 * when taken), --network-alias and --ip refused on the default bridge, as Docker does. */
int container_network_init(struct container *ct, char **reterr);
/* Builds the bind mounts of the container's hosts, hostname and resolv.conf into spec (after the
 * default mounts: the prepared fast path stays). */
struct rt_spec;
int container_network_spec_mounts(const struct container *ct, struct rt_spec *spec, char **reterr);
/* Puts the container's init layer (an /etc with the files' mount points) first among the
 * spec's lower layers, unless the image's /etc is not a directory. */
int container_network_spec_root(const struct container *ct, struct rt_spec *spec, char **reterr);
/* Makes the init layer the spec names (idempotent): before the overlay is mounted (a start, or a
 * copy into a created container). */
int container_network_prepare_root(const struct container *ct, char **reterr);
/* Before the start message (container_launch): the command must never run before its network is
 * up. Links every endpoint into the network namespace of the container's init (ct->proc),
 * allocates the addresses it lacks, writes its /etc files and refreshes the hosts files of the
 * other containers of its user-defined networks. */
int container_network_setup(struct container *ct, char **reterr);
/* Writes the container's hosts, hostname and resolv.conf from its endpoints (none: localhost
 * and its own name only). For the network modes the namespaces module handles too. */
int container_network_write_etc(struct container *ct, char **reterr);
/* The container's init exited: its endpoints are unlinked (their veths die with its network
 * namespace; container_network_unlink_all deletes what is left), the hosts files of its
 * networks' other containers forget it. In the loop. */
void container_network_teardown(struct container *ct);
/* Deletes the host ends of the container's veths that are still there: in the cleaner child
 * (a link deletion waits for the kernel's RCU), before a new run could want the names. */
int container_network_unlink_all(struct container *ct);
/* The container is removed: its addresses go back to their networks' IPAM. */
void container_network_release(struct container *ct);
/* Frees the endpoints (memory only). */
void container_network_free(struct container *ct);
/* A running container re-adopted by a live restore: its links are there still. */
void container_network_restored(struct container *ct);
/* At daemon start, once networks and records are loaded and before any container starts: every
 * recorded address is reserved again in its network's IPAM (so no new container gets it), and
 * the network registry learns which containers are attached (network_attached_cb). */
void container_network_start(struct registry *reg);

/* network.connect: a running container gets a new ethN at once, a stopped one at its next
 * start. -ENOENT/-EEXIST/-EINVAL with a message. */
int container_network_connect(struct container *ct, struct network *n, char **aliases, const char *ip, char **reterr);
/* network.disconnect: its ethN on that network goes (at once if it runs), its address is
 * released. -ENOENT when it is not connected. */
int container_network_disconnect(struct container *ct, struct network *n, bool force, char **reterr);

/* Docker's NetworkSettings of inspect: Networks {name: {NetworkID, EndpointID, Gateway,
 * IPAddress, IPPrefixLen, MacAddress, Aliases}}, and IPAddress, Gateway, MacAddress of the
 * first one (the default bridge's, as Docker's, when it is on it). */
json_t *container_network_inspect(const struct container *ct);

/* network_attached_cb (daemon/network.h), userdata the registry: the containers attached to n
 * (running or not, as Docker counts them), each as network inspect's "Containers" shows it. */
unsigned container_network_attached(void *userdata, const struct network *n, json_t *containers);

/* The record's members: "endpoints" of the container, and its configuration's network settings
 * (network_aliases, ip, extra_hosts, dns, dns_search, dns_options). */
int container_network_to_record(const struct container *ct, json_t *rec, json_t *config);
int container_network_from_record(struct container *ct, json_t *rec, json_t *config);
/* Frees the configuration's network settings. */
void container_network_config_done(struct container_config *cfg);

/* The names of the host end of an endpoint's veth and of its peer in the container. */
void container_network_veth_name(const struct container *ct, const struct container_endpoint *ep, char buf[16]);
/* The same from a container's (or a spare's) id and an endpoint index. */
void container_network_veth_name_of(const char *id, unsigned index, char buf[16]);
/* A spare's network made ahead (daemon/container-network-spare.c, the pool's net hooks, userdata
 * the registry): on the default bridge, its veth pair (eth0 configured: MAC, address, up, default
 * route; the host end on the bridge, hairpin, up) and its address reserved. 0 with nothing done
 * when the daemon has no default bridge. */
struct spare;
int container_network_spare_prepare(void *userdata, struct spare *sp, char **reterr);
void container_network_spare_release(void *userdata, struct spare *sp);
/* Whether a spare's prepared network would be ct's (container_network_init done): one endpoint,
 * on the default network, no --ip. */
bool container_network_wants_spare(const struct container *ct);
/* A run took sp for ct (container_network_init done): a prepared network that is exactly ct's
 * (one endpoint on the same network, no --ip) becomes its endpoint's, and
 * container_network_setup makes no link; any other is deleted and its address released. */
int container_network_spare(struct container *ct, struct spare *sp, char **reterr);
