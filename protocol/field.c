#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/strv.h"
#include "protocol/field.h"

int field_get_string(json_t *o, const char *key, bool required, const char **ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required)
			return err_set(reterr, -EINVAL, "missing parameter \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be a string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" contains a NUL byte", key);
	*ret = json_string_value(v);
	return 0;
}

int field_dup_string(json_t *o, const char *key, bool required, char **ret, char **reterr)
{
	const char *s = NULL;
	int r = field_get_string(o, key, required, &s, reterr);
	if (r < 0 || !s)
		return r;
	*ret = strdup(s);
	return *ret ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

int field_get_bool(json_t *o, const char *key, bool *ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be true or false", key);
	*ret = json_is_true(v);
	return 0;
}

int field_get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be an integer", key);
	json_int_t i = json_integer_value(v);
	if (i < min || i > max)
		return err_set(reterr, -ERANGE, "parameter \"%s\" must be between %lld and %lld", key,
			       (long long)min, (long long)max);
	*ret = i;
	return 0;
}

/* The length cap keeps one request from making us allocate much. */
int field_get_strv(json_t *o, const char *key, size_t max_items, char ***ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be an array of strings", key);
	size_t n = json_array_size(v);
	if (n > max_items)
		return err_set(reterr, -E2BIG, "parameter \"%s\" has more than %zu items", key, max_items);
	_cleanup_strv_free_ char **strv = calloc(n + 1, sizeof(char *));
	if (!strv)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
			return err_set(reterr, -EINVAL, "parameter \"%s\" must be an array of strings", key);
		strv[i] = strdup(json_string_value(s));
		if (!strv[i])
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(strv);
	return 0;
}

int field_get_kv_object(json_t *o, const char *key, size_t max_items,
			int (*check)(const char *k, const char *v, char **reterr), char ***ret, char **reterr)
{
	json_t *obj = json_object_get(o, key), *v;
	const char *k;
	size_t n = 0;
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj) || json_object_size(obj) > max_items)
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be an object of at most %zu strings", key,
			       max_items);
	_cleanup_strv_free_ char **strv = calloc(json_object_size(obj) + 1, sizeof(char *));
	if (!strv)
		return err_set(reterr, -ENOMEM, "out of memory");
	json_object_foreach(obj, k, v) {
		int r;
		if (!json_is_string(v))
			return err_set(reterr, -EINVAL, "the value of \"%.64s\" in \"%s\" must be a string", k, key);
		if (check && (r = check(k, json_string_value(v), reterr)) < 0)
			return r;
		if (asprintf(&strv[n], "%s=%s", k, json_string_value(v)) < 0) {
			strv[n] = NULL;
			return err_set(reterr, -ENOMEM, "out of memory");
		}
		n++;
	}
	*ret = TAKE_PTR(strv);
	return 0;
}

json_t *field_strv_to_json(char **strv)
{
	json_t *a = json_array();
	for (char **p = strv; a && p && *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}

static bool field_in(const char *const *list, const char *key)
{
	for (const char *const *k = list; k && *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

int field_check_known(json_t *o, const char *const *known, const char *const *more, const char *what,
		      char **reterr)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		if (field_in(known, key) || field_in(more, key))
			continue;
		/* The key is echoed back: a long one is cut, at a character boundary so the message
		 * stays valid UTF-8 (jansson refuses to encode anything else, and the reply with it). */
		size_t n = strlen(key);
		if (n <= 64)
			return err_set(reterr, -EINVAL, "unknown field \"%s\" in %s", key, what);
		n = 64;
		while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
			n--;
		return err_set(reterr, -EINVAL, "unknown field \"%.*s...\" in %s", (int)n, key, what);
	}
	return 0;
}
