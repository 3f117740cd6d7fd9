/* Field helpers shared by the message decoders of protocol/: typed reads of one key of a JSON
 * object, with a message naming the key when its value is wrong. Internal to protocol/. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Absent or null optional fields keep the caller's default; a required one that is absent fails. */
int field_get_string(json_t *o, const char *key, bool required, const char **ret, char **reterr);
/* As field_get_string(), but the string is copied into *ret (the caller frees it). */
int field_dup_string(json_t *o, const char *key, bool required, char **ret, char **reterr);
int field_get_bool(json_t *o, const char *key, bool *ret, char **reterr);
int field_get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret, char **reterr);
/* Copies an array of at most max_items strings into a NULL-terminated vector. */
int field_get_strv(json_t *o, const char *key, size_t max_items, char ***ret, char **reterr);
/* An object of at most max_items strings (labels) as a NULL-terminated vector of "KEY=VALUE";
 * check (may be NULL) refuses a pair with a message. Absent or null: *ret stays NULL. */
int field_get_kv_object(json_t *o, const char *key, size_t max_items,
			int (*check)(const char *k, const char *v, char **reterr), char ***ret, char **reterr);
/* A JSON array of the strings of a NULL-terminated vector (NULL: an empty array). */
json_t *field_strv_to_json(char **strv);

/* Refuses a key of the object o that is in neither of the NULL-terminated lists known and more
 * (more may be NULL), naming it and
 * what o is ("unknown field \"memroy\" in container.run params"). A misspelt option must not be
 * silently ignored: the caller would believe it set a limit or a security option it did not. */
int field_check_known(json_t *o, const char *const *known, const char *const *more, const char *what,
		      char **reterr);
