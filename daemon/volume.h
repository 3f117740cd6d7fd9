/* Volumes: directories the daemon keeps for containers under <root>/volumes/<name>/, the data in
 * _data (what containers mount) beside a record, volume.json (driver "local", the creation
 * time, the labels, whether it is anonymous). Named volumes are made by `volume create` or on
 * first use by -v NAME:/path; anonymous ones (-v /path) get a random 64-hex name and go with their
 * container on rm -v and --rm. Which containers use a volume is the registry's knowledge
 * (api-volume.c); this file only knows the disk. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct volume_info {
	char *name;
	char *created_at; /* RFC 3339, UTC */
	char **labels;	  /* "KEY=VALUE", or NULL */
	bool anonymous;
};

/* <root>/volumes/<name>/_data, or NULL (ENOMEM). */
char *volume_data_path(const char *root, const char *name);
/* Creates the volume name (NULL: a new one with a random 64-hex name), or finds it when it exists already
 * (*ret_created false; labels are not changed then). anonymous: made for one container (-v /path),
 * removed with it and by `volume prune`. *ret_name: its name (the caller frees). */
int volume_create(const char *root, const char *name, char *const *labels, bool anonymous, bool *ret_created,
		  char **ret_name, char **reterr);
/* Reads a volume's record: -ENOENT with Docker's "no such volume" message. */
int volume_get(const char *root, const char *name, struct volume_info *ret, char **reterr);
void volume_info_done(struct volume_info *v);
/* The names of every volume, sorted (NULL-terminated, maybe empty). */
int volume_list(const char *root, char ***ret);
/* Deletes a volume's directory, data and record. Blocking: in an offload child for a big one. */
int volume_delete(const char *root, const char *name);
/* The bytes a volume's data takes on disk (blocks), walking it: for `system df`, in a worker. */
int volume_usage(const char *root, const char *name, uint64_t *ret_bytes);
/* `system df`'s figure for volumes: how many there are and the bytes their data takes. Blocking
 * (it walks every volume): call it in a worker or an offload child. */
int volume_df(const char *root, uint64_t *ret_count, uint64_t *ret_bytes);
/* Whether the volume's data directory is empty (a new volume, or one a user emptied). */
bool volume_is_empty(const char *root, const char *name);
/* A volume as volume.* methods return it (protocol/volume.h), with the number of containers that
 * use it. */
json_t *volume_info_json(const char *root, const struct volume_info *v, unsigned containers);
