/* Which namespaces a container makes, shares with the host or joins from another container:
 * --network host|container:NAME|none (and the names of networks, endp's), --pid host|container:NAME,
 * --ipc host|container:NAME|shareable|private|none, --uts host, --cgroupns host|private, as Docker
 * has them. The modes are checked at run and create, turned into the spec's namespaces at each
 * spec build, and the containers to join are looked up again at each start, which joins them
 * through their pidfds (runtime/process.h: struct rt_ns_join, rt_init_opts.pid_join). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "runtime/process.h"
#include "runtime/spec.h"

struct container;
struct container_config;

/* What --network names. */
enum container_net_kind {
	CONTAINER_NET_DEFAULT,	 /* unset, "bridge" or "default" */
	CONTAINER_NET_NONE,	 /* a network namespace of its own with lo only */
	CONTAINER_NET_HOST,	 /* the daemon's network namespace */
	CONTAINER_NET_CONTAINER, /* "container:NAME|ID": that container's */
	CONTAINER_NET_NAMED,	 /* any other name: a network (endp's) */
};
enum container_net_kind container_ns_net_kind(const char *mode);

/* The files of the container's network identity, in its directory, bound read-only over
 * /etc/<name> in the container (a container that joins another's network binds the other's). */
#define CONTAINER_NS_ETC_HOSTS	  "hosts"
#define CONTAINER_NS_ETC_HOSTNAME "hostname"
#define CONTAINER_NS_ETC_RESOLV	  "resolv.conf"

/* Docker's checks of the modes at run and create: their syntax, the options they conflict with
 * (-h), the user namespace; and that the containers named exist. Messages are Docker's. */
int container_ns_check(const struct container *ct, char **reterr);
/* Whether every namespace is new (a prepared spare can serve): no host and no container mode. */
bool container_ns_all_new(const struct container_config *cfg);

/* The namespaces of the spec: new, shared with the host (absent) or joined (join_namespaces);
 * the hostname a shared network or UTS namespace implies; /dev/shm for --ipc host and none;
 * the /etc files of a host or joined network. The containers to join must exist. */
int container_ns_to_spec(const struct container *ct, struct rt_spec *spec, char **reterr);

/* The hostname a shared network or UTS namespace implies (the host's, or that of the container
 * whose network it joins) in *ret (to free), or NULL: the container's own. */
int container_ns_hostname(const struct container *ct, char **ret, char **reterr);

/* What a start passes on: the namespaces its init is cloned with, the pid namespace it is born
 * in and the namespaces it joins, by the pidfds of the containers named (borrowed: valid while
 * those containers run, which is checked here; the start uses them at once). */
struct container_ns_start {
	int clone_namespaces;
	bool pid_join;
	int pid_join_fd;
	struct rt_ns_join joins[RT_MAX_JOINS];
	size_t n_joins;
};
/* At each start (run, start, restart): looks up the containers to join, which must run (an IPC
 * donor must be shareable), and writes the /etc files of a host network. Docker's errors. */
int container_ns_start(const struct container *ct, struct container_ns_start *ret, char **reterr);

/* The modes in a container's record, and read back (absent: the defaults). */
int container_ns_record_save(const struct container_config *cfg, json_t *o);
int container_ns_record_load(json_t *o, struct container_config *cfg);
/* HostConfig's NetworkMode, PidMode, IpcMode, UTSMode and CgroupnsMode as Docker's inspect shows
 * them, as an object for container.inspect's "namespaces". */
json_t *container_ns_inspect(const struct container *ct);
