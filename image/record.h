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
/* The record as JSON; with meta, also its creation time and size. */
json_t *image_record_json(const struct image *img, bool meta);
/* The image id computed from the content part of its record. */
int image_record_compute_id(const struct image *img, char **ret);
/* Writes images/<hex>.json atomically. */
int image_record_write(struct image_db *db, const struct image *img, char **reterr);
/* Removes images/<hex>.json. */
int image_record_remove(struct image_db *db, const struct image *img, char **reterr);
/* Loads every images/<hex>.json into db, skipping unreadable ones. */
int image_record_load_all(struct image_db *db);
