/* A container's mounts (-v, --mount, --tmpfs, --volumes-from): resolved once against the volumes
 * and the other containers, kept in its record, turned into the spec's mounts at each start, shown
 * by inspect as Docker's "Mounts", and their anonymous volumes removed with the container. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct container;
struct container_config;
struct image;
struct rt_spec;

enum container_mount_type {
	CONTAINER_MOUNT_BIND,
	CONTAINER_MOUNT_VOLUME,
	CONTAINER_MOUNT_TMPFS,
};

struct container_mount {
	enum container_mount_type type;
	char *source; /* bind: the host path; volume: its name (set for anonymous ones once resolved) */
	char *target;
	bool readonly;
	bool nocopy;	     /* volume: no copy of the image's content into it */
	bool anonymous;	     /* volume: made for this container, removed with it (rm -v, --rm) */
	bool create_source;  /* bind (-v): a missing host directory is created */
	uint64_t tmpfs_size; /* bytes; 0: the kernel's default */
	int tmpfs_mode;	     /* -1: 1777 */
	bool tmpfs_exec;
};

void container_mounts_free(struct container_mount *m, size_t n);
/* Names and creates the volumes, checks or creates the bind sources, adds the mounts of the
 * --volumes-from containers and the image's Config.Volumes (anonymous volumes). Once per
 * container (cfg.mounts_resolved, kept in its record). */
int container_mounts_resolve(struct container *ct, const struct image *image, char **reterr);
/* Appends the spec's mounts, parents before their children, and sets the read-only root. */
int container_mounts_to_spec(const struct container *ct, struct rt_spec *spec, char **reterr);
/* Whether a container (not one being removed) mounts the volume name. */
bool container_uses_volume(const struct container *ct, const char *name);
/* Deletes the anonymous volumes of a container that is removed, unless another container uses
 * them too. Blocking: runs in the offload child that deletes the container's files. */
void container_mounts_delete_anonymous(const struct container *ct);

/* The record's form ("mounts" array) and back: 0, -ENOMEM, -EBADMSG. */
json_t *container_mounts_to_json(const struct container_config *cfg);
int container_mounts_from_json(json_t *a, struct container_config *cfg);
/* Docker's "Mounts" of inspect: Type, Name, Source, Destination, Driver, Mode, RW, Propagation. */
json_t *container_mounts_inspect(const struct container *ct);
