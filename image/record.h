/* Image records: struct image, its JSON form in images/<hex>.json, and its id. Records on disk
 * are read back at open and checked as untrusted input, since layer paths are built from them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "image/db.h"

/* A JSON array of the strings of the NULL-terminated v (NULL: empty), or NULL on failure. */
json_t *image_record_strv_to_json(char **v);
/* Frees an image and what it owns (NULL is fine); image_freep() is its _cleanup_ form. */
void image_free(struct image *img);
void image_freep(struct image **img);
/* The most a config or manifest blob may hold. */
#define IMAGE_CONFIG_MAX (4 * 1024 * 1024)
/* A (current) record as JSON: {"version": 2, "id", "manifest_digest", "repo_digests",
 * "layers": [{"diff_id", "digest", "media_type", "size", "unpacked_size"}], "size",
 * "created_at", "removed"}. The settings are in the config blob named by the id. */
json_t *image_record_json(const struct image *img);
/* Writes images/<hex>.json atomically. */
int image_record_write(struct image_db *db, const struct image *img, char **reterr);
/* Removes images/<hex>.json. */
int image_record_remove(struct image_db *db, const struct image *img, char **reterr);
/* Loads every images/<hex>.json into db (current and legacy records), skipping unreadable ones. */
int image_record_load_all(struct image_db *db);
