/* The container registry: every container the daemon knows, by id, unique id prefix and name; the
 * shared services containers use (cgroups, image store, the pool of prepared inits, the event bus,
 * the seccomp cache); loading the records a previous daemon saved. */
#pragma once

#include <stdbool.h>

struct event_base;
struct cgroup_manager;
struct image_store;
struct event_bus;
struct pool;
struct filters;
struct userns_allocator;
struct container;
struct container_exec;
struct network_registry;
struct network_options;

struct registry_options {
	const char *root, *state;
	const char *init_path; /* containd-init to copy into a sealed memfd; NULL: next to containd */
	bool userns_remap;     /* every container in a user namespace unless it asks for the host's */
	unsigned prepared;     /* spares kept ready */
	bool live_restore;     /* containers outlive this daemon (see daemon/options.h) */
	struct supervisor *sup; /* containd-keeper (owned by the caller) */
	const char *userns_user, *subuid_file, *subgid_file;
	const struct network_options *net; /* the daemon's networking settings (daemon/network.h) */
};

struct registry {
	struct event_base *base;
	char *root, *state;
	struct cgroup_manager *cgm;
	struct image_store *images;
	struct event_bus *bus;
	struct pool *pool;
	struct cleaner *cleaner; /* removes exited containers' cgroups and files, or NULL */
	struct supervisor *sup; /* containd-keeper: the parent of every container */
	bool live_restore;
	struct filters *filters; /* compiled seccomp programs */
	struct userns_allocator *userns; /* slices of subordinate ids, or NULL (userns_error says why) */
	char *userns_error;
	bool userns_remap;
	char *staging; /* <state>/staging: where a container's idmapped layers are staged */
	int exe_fd; /* sealed memfd of containd-init */
	struct container *list;
	unsigned count;
	struct container_exec *execs; /* every exec process (daemon/container-exec.h) */
	unsigned n_execs;
	bool stopping;
	/* Where every container mounts its root: each does so in its own mount namespace, so one
	 * empty directory serves them all. */
	char *mountpoint;
	char *prepare_dir; /* <state>/prepare: where each init builds its default mounts */
	struct network_registry *networks; /* the networks (daemon/network.h) */
};

#define REGISTRY_MAX_CONTAINERS 4096

int registry_new(struct event_base *base, const struct registry_options *opts, struct cgroup_manager *cgm,
		 struct image_store *images, struct registry **ret, char **reterr);
/* Shutting down. stop_containers: each running container gets its stop signal, and SIGKILL after
 * timeout seconds; returns true once all are gone and cleaned up, and the keeper is told to exit.
 * Else (live restore) they keep running; returns true once the spares and the cleanups of exited
 * containers are done. */
bool registry_shutdown(struct registry *reg, bool stop_containers, unsigned timeout);
void registry_free(struct registry *reg);

/* Finds a container by full id, name or unique id prefix; NULL with a message otherwise. */
struct container *registry_find(struct registry *reg, const char *ref, char **reterr);
bool registry_name_taken(struct registry *reg, const char *name);
/* How containers use an image (enum image_usage): a container being removed no longer counts. */
int registry_image_usage(struct registry *reg, const char *image_id);
/* Every record the registry holds, including those being removed. */
unsigned registry_count(const struct registry *reg);

/* Starts, at daemon start, what the restart policies say must run: always, and unless-stopped
 * when no user stopped it. Skips containers that run (re-adopted by a live restore) and those
 * only created (Docker leaves both alone). Call once the records are loaded and the sinks are
 * subscribed. */
void registry_start_restartable(struct registry *reg);

void registry_link(struct registry *reg, struct container *ct);
void registry_unlink(struct container *ct);
/* <root>/containers/<id> */
char *registry_container_dir(const struct registry *reg, const char *id);
