/* NULL-terminated vectors of malloc'ed strings (strv_free is in common/macros.h). */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* Copies at most n entries of v, stopping at a NULL entry (n = SIZE_MAX: all of a NULL-terminated
 * vector); NULL v gives an empty vector. NULL when out of memory. */
char **strv_copy(const char *const *v, size_t n);

/* A JSON array of the strings (NULL v: empty), or NULL when out of memory. */
json_t *strv_to_json(char *const *v);
