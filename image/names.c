/* The name index: repositories.json maps normalized names ("alpine:latest") to image ids. It is
 * kept in memory as a JSON object and replaced atomically on disk after every change. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/names.h"

#define REPOSITORIES_MAX (16 * 1024 * 1024)

static int image_names_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names pointing at an image, sorted (borrowed strings, NULL-terminated; free the array). */
const char **image_names_of(struct image_db *s, const char *id, size_t *ret_n)
{
	const char **v;
	const char *key;
	json_t *value;
	size_t n = 0;

	v = calloc(json_object_size(s->names) + 1, sizeof(char *));
	if (!v)
		return NULL;
	json_object_foreach(s->names, key, value)
		if (strcmp(json_string_value(value), id) == 0)
			v[n++] = key;
	qsort(v, n, sizeof(char *), image_names_cmp);
	if (ret_n)
		*ret_n = n;
	return v;
}

size_t image_names_count(struct image_db *s, const char *id)
{
	const char *key;
	json_t *value;
	size_t n = 0;

	json_object_foreach(s->names, key, value)
		if (strcmp(json_string_value(value), id) == 0)
			n++;
	return n;
}

int image_names_save(struct image_db *s, char **reterr)
{
	json_auto_t *o = json_pack("{s:i, s:O}", "version", 1, "names", s->names);

	return image_db_write_json(s->repos_path, o, reterr);
}

/* Loads repositories.json, dropping names that are malformed or point to unknown images. A file
 * that cannot be parsed fails the open rather than being overwritten with an empty index. */
int image_names_load(struct image_db *s, char **reterr)
{
	_cleanup_free_ char *data = NULL;
	json_auto_t *o = NULL;
	json_error_t jerr;
	json_t *names, *value;
	const char *key;
	void *tmp;
	int r;

	r = read_file(s->repos_path, REPOSITORIES_MAX, &data, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_set(reterr, r, "reading %s: %m", s->repos_path);
	o = json_loads(data, 0, &jerr);
	names = json_object_get(o, "names");
	if (!json_is_object(names))
		return err_set(reterr, -EBADMSG, "%s is corrupt (%s); fix or remove it", s->repos_path,
			       o ? "no \"names\" object" : jerr.text);
	json_object_foreach_safe(names, tmp, key, value) {
		_cleanup_free_ char *norm = NULL;

		if (!json_is_string(value) || !image_db_find_id(s, json_string_value(value))) {
			log_warning("image store: name %s points to a missing image, dropping it", key);
		} else if (image_name_normalize(key, &norm, NULL) < 0 || strcmp(norm, key) != 0) {
			log_warning("image store: invalid name %s, dropping it", key);
		} else {
			r = json_object_set(s->names, key, value);
			if (r < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int image_names_set(struct image_db *s, const char *const *names, const char *id, char **reterr)
{
	json_auto_t *saved = json_deep_copy(s->names);
	int r;

	if (!saved)
		return -ENOMEM;
	for (const char *const *n = names; n && *n; n++) {
		_cleanup_free_ char *norm = NULL;

		r = image_name_normalize(*n, &norm, reterr);
		if (r < 0)
			goto restore;
		if (json_object_set_new(s->names, norm, json_string(id)) < 0) {
			r = -ENOMEM;
			goto restore;
		}
	}
	if (!names || !names[0])
		return 0;
	r = image_names_save(s, reterr);
	if (r < 0)
		goto restore;
	return 0;
restore:
	json_decref(s->names);
	s->names = TAKE_PTR(saved);
	return r;
}
