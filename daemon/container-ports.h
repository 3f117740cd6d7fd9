/* A container's published ports (-p, -P, --expose): what it asked for (its configuration), the
 * host ports bound while it runs (random ones picked then, each held by a bound socket of the
 * daemon), and the DNAT rules that lead them to it (through the network registry's nft table). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/portspec.h"

struct container;
struct container_config;
struct image;
struct registry;
struct nft_port;

/* The most ports one container publishes, and all containers together. Each published port
 * holds one socket in the daemon (so that no host process can take the port while it is
 * published), so together they are one more fd budget next to the containers' own; the total
 * stays far below the open-files limit the daemon raises itself to (daemon/main.c). */
#define CONTAINER_PORTS_MAX	  1024
#define CONTAINER_PORTS_MAX_TOTAL 4096

/* One published port while the container runs. */
struct container_port {
	struct port_binding b; /* host_port resolved */
	int fd;		       /* the bound (never listening) socket that reserves it, or -1 */
};

/* The exposed ports of a new container: the image's ExposedPorts and --expose's (already in
 * cfg->exposed), sorted, each once. -ENOMEM, or -EINVAL with Docker's message for ports
 * published by a container in another's network (--network container:NAME). */
int container_ports_set_exposed(struct container_config *cfg, const struct image *image, char **reterr);

/* Binds what the container publishes before its command runs: every -p (and with -P every
 * exposed port without one) gets its host port, random ones from the daemon's netns'
 * ip_local_port_range; each is reserved with a bound socket; then the nft rules are applied.
 * Refuses, with Docker's messages and nothing left bound, a port another running container
 * publishes or a host process uses. A container without a network of a bridge driver publishes
 * nothing. */
int container_ports_bind(struct container *ct, char **reterr);
/* Unpublishes its ports at its exit: the sockets are closed and the rules applied again. */
void container_ports_release(struct container *ct);
/* Closes the held sockets without touching the rules (the container is being freed: at the
 * daemon's shutdown a running container stays published for the next daemon). */
void container_ports_forget(struct container *ct);
/* A re-adopted running container (live restore) holds its recorded ports again: sockets are
 * bound again where they can be (a failure is logged; the rules stay as the next apply makes
 * them). */
void container_ports_restore(struct container *ct);

/* How many ports all containers publish now. */
size_t container_ports_total(const struct registry *reg);

/* Where the container's published ports lead: its address on its first network that has a
 * bridge, and that bridge. false when it has none (--network none, host, container:NAME). */
bool container_ports_target(const struct container *ct, uint32_t *ret_ip, const char **ret_bridge);
/* Applies containd's nft table again with every running container's published ports (through
 * network_registry_apply_nft()). */
int container_ports_apply(struct registry *reg, char **reterr);
/* The same while starting's start is under way (it is counted in even before it is linked). */
int container_ports_apply_for(struct registry *reg, struct container *starting, char **reterr);

/* The nft callback of the network registry: every running container's published ports as
 * nft_ports: an array the caller frees, the bridge names borrowed from the networks. */
int container_ports_nft(void *userdata, struct nft_port **ret, size_t *ret_n);

/* The record's members: "ports", "publish_all", "exposed" of the configuration, and the bound
 * ports of the state. Reading checks every entry (-EBADMSG). */
int container_ports_config_to_json(const struct container_config *cfg, json_t *o);
int container_ports_config_from_json(json_t *o, struct container_config *cfg);
json_t *container_ports_bound_to_json(const struct container *ct);
int container_ports_bound_from_json(json_t *a, struct container *ct);

/* inspect's members: "ports" (Docker's NetworkSettings.Ports), "port_bindings"
 * (HostConfig.PortBindings), "exposed_ports", "publish_all" and "ports_summary" (cctl ps's PORTS
 * column, also in container.list's entries). 0 or -ENOMEM. */
int container_ports_inspect(const struct container *ct, json_t *o);
