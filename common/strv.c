#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "common/strv.h"

char **strv_copy(const char *const *v, size_t n)
{
	size_t len = 0;
	while (v && len < n && v[len])
		len++;
	char **c = calloc(len + 1, sizeof(char *));
	for (size_t i = 0; c && i < len; i++)
		if (!(c[i] = strdup(v[i]))) {
			strv_free(c);
			return NULL;
		}
	return c;
}

json_t *strv_to_json(char *const *v)
{
	json_t *a = json_array();
	for (; a && v && *v; v++)
		if (json_array_append_new(a, json_string(*v)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}
