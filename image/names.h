/* The name index: repositories.json maps normalized names ("alpine:latest") to image ids. */
#pragma once

#include <stddef.h>

#include "image/db.h"

/* The names pointing at id, sorted (borrowed strings, NULL-terminated; free the array). */
const char **image_names_of(struct image_db *db, const char *id, size_t *ret_n);
/* How many names point at id. */
size_t image_names_count(struct image_db *db, const char *id);
/* Writes the name index to repositories.json atomically. */
int image_names_save(struct image_db *db, char **reterr);
/* Loads repositories.json, dropping names that are malformed or point to unknown images. */
int image_names_load(struct image_db *db, char **reterr);
/* Points each of names (NULL-terminated, may be NULL or empty; normalized here) at id and saves
 * the index; on failure nothing changes (-EINVAL with a message for an invalid name). */
int image_names_set(struct image_db *db, const char *const *names, const char *id, char **reterr);
