/* Volumes and mounts on the wire: the "mounts", "read_only" and "volumes_from" members of
 * container.run and container.create params, and the volume.* methods (docs/protocol.md). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "protocol/messages.h"

#define PROTO_M_VOLUME_CREATE  "volume.create"
#define PROTO_M_VOLUME_LIST    "volume.list"
#define PROTO_M_VOLUME_INSPECT "volume.inspect"
#define PROTO_M_VOLUME_REMOVE  "volume.remove"
#define PROTO_M_VOLUME_PRUNE   "volume.prune"

/* The most mounts and --volumes-from entries of one container, and the longest path. */
#define PROTO_MAX_MOUNTS     64
#define PROTO_MOUNT_PATH_MAX 4096
/* A volume's name: Docker's rule, [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most this long. */
#define PROTO_VOLUME_NAME_MAX 128

enum proto_mount_type {
	PROTO_MOUNT_BIND,
	PROTO_MOUNT_VOLUME,
	PROTO_MOUNT_TMPFS,
};

/* One mount of a container: {"type": "bind"|"volume"|"tmpfs", "source", "target", "readonly",
 * "nocopy", "create_source", "tmpfs_size", "tmpfs_mode", "tmpfs_exec"}. */
struct proto_mount {
	enum proto_mount_type type;
	char *source; /* bind: an absolute host path; volume: a name (NULL: a new anonymous one) */
	char *target; /* absolute, in the container, not "/" */
	bool readonly;
	bool nocopy;	     /* volume: no copy of the image's content into a new volume */
	bool create_source;  /* bind (-v): a missing host directory is created, as docker -v does */
	uint64_t tmpfs_size; /* bytes; 0: the kernel's default */
	int tmpfs_mode;	     /* -1: 1777 */
	bool tmpfs_exec;     /* tmpfs: executable (noexec by default, as Docker) */
};

/* Docker's names of the types. */
const char *proto_mount_type_name(enum proto_mount_type t);
/* Whether name is a valid volume name (Docker's rule). */
bool proto_volume_name_valid(const char *name);
/* Checks one mount as the daemon accepts it; the message names what is wrong. */
int proto_mount_check(const struct proto_mount *m, char **reterr);
json_t *proto_mount_encode(const struct proto_mount *m);
int proto_mount_decode(json_t *o, struct proto_mount *ret, char **reterr);
void proto_mount_done(struct proto_mount *m);

/* The keys volume_run_params_decode() reads, for the unknown-field check of container.run. */
extern const char *const volume_run_params_keys[];
/* Decodes "mounts", "read_only" and "volumes_from" into ret (its other members are left alone). */
int volume_run_params_decode(json_t *params, struct proto_run_params *ret, char **reterr);
/* Adds them to o when set: 0 or -ENOMEM. */
int volume_run_params_encode(const struct proto_run_params *p, json_t *o);
void volume_run_params_done(struct proto_run_params *p);

/* volume.create: {"name"?, "labels"?: {KEY: VALUE}}; no name: a new anonymous one. Borrowed. */
struct proto_volume_create_params {
	const char *name;
	char **labels; /* "KEY=VALUE", owned */
};
int proto_volume_create_params_decode(json_t *params, struct proto_volume_create_params *ret, char **reterr);
json_t *proto_volume_create_params_encode(const struct proto_volume_create_params *p);

/* volume.inspect and volume.remove: {"name", "force"}; volume.prune: {"all"}. Borrowed. */
struct proto_volume_ref_params {
	const char *name;
	bool force, all;
};
int proto_volume_ref_params_decode(const char *method, json_t *params, struct proto_volume_ref_params *ret,
				   char **reterr);
json_t *proto_volume_ref_params_encode(const char *method, const struct proto_volume_ref_params *p);

/* A volume as volume.create, volume.inspect and volume.list (in "volumes") give it:
 * {"name", "driver": "local", "mountpoint", "created_at" (RFC 3339), "labels": {}, "scope":
 * "local", "anonymous", "containers": N (how many containers use it)}. */
