#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/strv.h"
#include "common/util.h"
#include "daemon/persist.h"
#include "daemon/volume.h"
#include "protocol/messages.h"
#include "protocol/volume.h"

#define VOLUME_RECORD "volume.json"

static char *volume_dir(const char *root, const char *name)
{
	char *p = NULL;
	return asprintf(&p, "%s/volumes/%s", root, name) < 0 ? NULL : p;
}

char *volume_data_path(const char *root, const char *name)
{
	char *p = NULL;
	return asprintf(&p, "%s/volumes/%s/_data", root, name) < 0 ? NULL : p;
}

/* Writes a volume's record, volume.json, atomically (persist.c). */
static int record_write(const char *dir, const struct volume_info *v, char **reterr)
{
	_cleanup_free_ char *path = NULL;
	json_t *labels = strv_to_json(v->labels);
	json_auto_t *rec =
	    json_pack("{s:s, s:s, s:s, s:o, s:b}", "name", v->name, "driver", "local", "created_at", v->created_at,
		      "labels", labels ? labels : json_array(), "anonymous", v->anonymous);
	if (!rec || asprintf(&path, "%s/" VOLUME_RECORD, dir) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return persist_write(path, rec, reterr);
}

/* Volume names come from clients (checked by the protocol's decoder: no "/", no "..", not
 * empty); they are checked again here, since every path below is built from one. */
int volume_create(const char *root, const char *name, char *const *labels, bool anonymous, bool *ret_created,
		  char **ret_name, char **reterr)
{
	char hex[65];
	int r;
	*ret_created = false;
	if (!name) {
		if ((r = random_hex(hex, 32)) < 0)
			return err_set(reterr, r, "cannot name a new volume: %m");
		name = hex;
	}
	if (!proto_volume_name_valid(name))
		return err_set(reterr, -EINVAL, "invalid volume name \"%.64s\"", name);
	_cleanup_free_ char *top = NULL, *dir = volume_dir(root, name), *data = volume_data_path(root, name),
			    *copy = strdup(name);
	if (!dir || !data || !copy || asprintf(&top, "%s/volumes", root) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (mkdir(top, 0701) < 0 && errno != EEXIST)
		return err_set(reterr, -errno, "cannot create %s: %m", top);
	struct volume_info existing;
	if (volume_get(root, name, &existing, NULL) == 0) {
		volume_info_done(&existing);
		*ret_name = TAKE_PTR(copy);
		return 0;
	}
	/* A directory without a record is a creation cut short: made again. */
	if (mkdir(dir, 0701) < 0 && errno != EEXIST)
		return err_set(reterr, -errno, "cannot create the volume %s: %m", name);
	if (mkdir(data, 0755) < 0 && errno != EEXIST)
		return err_set(reterr, -errno, "cannot create the volume %s: %m", name);
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	struct volume_info v = {
	    .name = (char *)name, .created_at = created, .labels = (char **)labels, .anonymous = anonymous};
	if ((r = record_write(dir, &v, reterr)) < 0)
		return r;
	*ret_created = true;
	*ret_name = TAKE_PTR(copy);
	return 0;
}

int volume_get(const char *root, const char *name, struct volume_info *ret, char **reterr)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	json_auto_t *rec = NULL;
	int version, r;
	memset(ret, 0, sizeof(*ret));
	if (!proto_volume_name_valid(name))
		return err_set(reterr, -ENOENT, "get %.64s: no such volume", name);
	if (!(dir = volume_dir(root, name)) || asprintf(&path, "%s/" VOLUME_RECORD, dir) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = persist_read(path, &rec, &version, NULL)) < 0)
		return r == -ENOENT ? err_set(reterr, -ENOENT, "get %s: no such volume", name)
				    : err_set(reterr, r, "volume %s: its record is unreadable", name);
	const char *created = json_string_value(json_object_get(rec, "created_at"));
	json_t *labels = json_object_get(rec, "labels");
	if (!created || !json_is_array(labels))
		return err_set(reterr, -EBADMSG, "volume %s: its record is invalid", name);
	ret->name = strdup(name);
	ret->created_at = strdup(created);
	ret->anonymous = json_is_true(json_object_get(rec, "anonymous"));
	ret->labels = calloc(json_array_size(labels) + 1, sizeof(char *));
	if (!ret->name || !ret->created_at || !ret->labels)
		goto nomem;
	for (size_t i = 0; i < json_array_size(labels); i++) {
		const char *l = json_string_value(json_array_get(labels, i));
		if (l && !(ret->labels[i] = strdup(l)))
			goto nomem;
	}
	return 0;
nomem:
	volume_info_done(ret);
	return err_set(reterr, -ENOMEM, "out of memory");
}

void volume_info_done(struct volume_info *v)
{
	free(v->name);
	free(v->created_at);
	strv_free(v->labels);
	memset(v, 0, sizeof(*v));
}

static int name_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int volume_list(const char *root, char ***ret)
{
	_cleanup_free_ char *top = NULL;
	if (asprintf(&top, "%s/volumes", root) < 0)
		return -ENOMEM;
	_cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
	if (!names)
		return -ENOMEM;
	size_t n = 0;
	_cleanup_closedir_ DIR *d = opendir(top);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*ret = TAKE_PTR(names);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		struct volume_info v;
		if (!proto_volume_name_valid(de->d_name) || volume_get(root, de->d_name, &v, NULL) < 0)
			continue;
		volume_info_done(&v);
		char **nv = realloc(names, (n + 2) * sizeof(char *));
		if (!nv)
			return -ENOMEM;
		names = nv;
		if (!(names[n] = strdup(de->d_name)))
			return -ENOMEM;
		names[++n] = NULL;
	}
	qsort(names, n, sizeof(char *), name_compare);
	*ret = TAKE_PTR(names);
	return 0;
}

/* The record goes first, so a deletion cut short leaves no volume that lists. */
int volume_delete(const char *root, const char *name)
{
	_cleanup_free_ char *dir = volume_dir(root, name), *path = NULL;
	if (!proto_volume_name_valid(name))
		return -EINVAL;
	if (!dir || asprintf(&path, "%s/" VOLUME_RECORD, dir) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return rm_rf(dir);
}

int volume_usage(const char *root, const char *name, uint64_t *ret_bytes)
{
	_cleanup_free_ char *data = volume_data_path(root, name);
	if (!data)
		return -ENOMEM;
	return disk_usage(data, ret_bytes);
}

bool volume_is_empty(const char *root, const char *name)
{
	_cleanup_free_ char *data = volume_data_path(root, name);
	_cleanup_closedir_ DIR *d = data ? opendir(data) : NULL;
	struct dirent *de;
	if (!d)
		return false;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			return false;
	return true;
}

json_t *volume_info_json(const char *root, const struct volume_info *v, unsigned containers)
{
	_cleanup_free_ char *data = volume_data_path(root, v->name);
	json_t *labels = proto_labels_to_json(v->labels);
	if (!data || !labels) {
		json_decref(labels);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:i}", "name", v->name, "driver", "local", "mountpoint",
			 data, "created_at", v->created_at, "labels", labels, "scope", "local", "anonymous",
			 v->anonymous, "containers", (int)containers);
}

int volume_df(const char *root, uint64_t *ret_count, uint64_t *ret_bytes)
{
	_cleanup_strv_free_ char **names = NULL;
	int r = volume_list(root, &names);
	if (r < 0)
		return r;
	*ret_count = *ret_bytes = 0;
	for (char **n = names; *n; n++) {
		uint64_t bytes = 0;
		if (volume_usage(root, *n, &bytes) == 0)
			*ret_bytes += bytes;
		(*ret_count)++;
	}
	return 0;
}
