/* OCI image configs: what run and create read from the verbatim config blob, and the config an
 * import writes. A config comes from a registry or an archive, so it is untrusted input: every
 * member is type-checked and bounded, and nothing in it ever becomes a path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/error.h"
#include "common/macros.h"
#include "image/config.h"
#include "image/digest.h"
#include "image/record.h"

#define CONFIG_LIST_MAX 4096

static int image_config_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An optional array of strings (absent or null: *ret stays NULL). */
static int image_config_strv(json_t *o, const char *key, char ***ret, char **reterr)
{
	json_t *a = json_object_get(o, key), *e;
	_cleanup_strv_free_ char **v = NULL;
	size_t i;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > CONFIG_LIST_MAX)
		return err_set(reterr, -EINVAL, "image config: \"%s\" must be an array of strings", key);
	v = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e))
			return err_set(reterr, -EINVAL, "image config: \"%s\" must be an array of strings", key);
		if (!(v[i] = strdup(json_string_value(e))))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* An optional string; "" counts as absent, as Docker treats WorkingDir and User. */
static int image_config_str(json_t *o, const char *key, char **ret, char **reterr)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(reterr, -EINVAL, "image config: \"%s\" must be a string", key);
	if (!*json_string_value(v))
		return 0;
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

/* The keys of an optional object (ExposedPorts, Volumes), or with values "KEY=VALUE" (Labels,
 * whose values must be strings), sorted. Never NULL on success. */
static int image_config_keys(json_t *o, const char *key, bool with_values, char ***ret, char **reterr)
{
	json_t *m = json_object_get(o, key), *value;
	_cleanup_strv_free_ char **v = NULL;
	const char *k;
	size_t n = 0;

	if (m && !json_is_null(m) && (!json_is_object(m) || json_object_size(m) > CONFIG_LIST_MAX))
		return err_set(reterr, -EINVAL, "image config: \"%s\" must be an object", key);
	v = calloc((json_is_object(m) ? json_object_size(m) : 0) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	if (json_is_object(m)) {
		json_object_foreach(m, k, value) {
			if (with_values && !json_is_string(value))
				return err_set(reterr, -EINVAL, "image config: the values of \"%s\" must be strings",
					       key);
			if (with_values ? asprintf(&v[n], "%s=%s", k, json_string_value(value)) < 0
					: !(v[n] = strdup(k))) {
				v[n] = NULL;
				return -ENOMEM;
			}
			n++;
		}
	}
	qsort(v, n, sizeof(char *), image_config_cmp_str);
	*ret = TAKE_PTR(v);
	return 0;
}

int image_config_parse(const char *data, size_t len, struct image *img, char ***ret_diff_ids, char **reterr)
{
	json_auto_t *o = NULL;
	json_t *c, *rootfs, *created;
	json_error_t jerr;
	int r;

	o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "image config: not a JSON object (%s)", o ? "wrong type" : jerr.text);
	c = json_object_get(o, "config");
	if (c && !json_is_null(c) && !json_is_object(c))
		return err_set(reterr, -EINVAL, "image config: \"config\" must be an object");
	if (!json_is_object(c))
		c = NULL;
	if ((r = image_config_strv(c, "Env", &img->env, reterr)) < 0 ||
	    (r = image_config_strv(c, "Cmd", &img->cmd, reterr)) < 0 ||
	    (r = image_config_strv(c, "Entrypoint", &img->entrypoint, reterr)) < 0 ||
	    (r = image_config_str(c, "WorkingDir", &img->workdir, reterr)) < 0 ||
	    (r = image_config_str(c, "User", &img->user, reterr)) < 0 ||
	    (r = image_config_str(c, "StopSignal", &img->stop_signal, reterr)) < 0 ||
	    (r = image_config_keys(c, "Labels", true, &img->labels, reterr)) < 0 ||
	    (r = image_config_keys(c, "ExposedPorts", false, &img->exposed_ports, reterr)) < 0 ||
	    (r = image_config_keys(c, "Volumes", false, &img->volumes, reterr)) < 0)
		return r;
	if (!img->env && !(img->env = calloc(1, sizeof(char *))))
		return -ENOMEM;
	created = json_object_get(o, "created");
	if (json_is_string(created) && !(img->created_at = strdup(json_string_value(created))))
		return -ENOMEM;

	rootfs = json_object_get(o, "rootfs");
	if (!json_is_object(rootfs) || !json_is_string(json_object_get(rootfs, "type")) ||
	    strcmp(json_string_value(json_object_get(rootfs, "type")), "layers") != 0)
		return err_set(reterr, -EINVAL, "image config: \"rootfs\" must be {\"type\": \"layers\", ...}");
	if (ret_diff_ids) {
		r = image_config_strv(rootfs, "diff_ids", ret_diff_ids, reterr);
		if (r < 0)
			return r;
		if (!*ret_diff_ids || !(*ret_diff_ids)[0]) {
			strv_free(TAKE_PTR(*ret_diff_ids));
			return err_set(reterr, -EINVAL,
				       "image config: \"rootfs.diff_ids\" must list at least one layer");
		}
		/* Layer directories are named after these: they must be exactly digests. */
		for (char **d = *ret_diff_ids; *d; d++)
			if (!image_digest_valid(*d)) {
				strv_free(TAKE_PTR(*ret_diff_ids));
				return err_set(reterr, -EINVAL, "image config: invalid diff_id");
			}
	}
	img->config = TAKE_PTR(o);
	return 0;
}

/* The architecture in OCI's words (GOARCH). */
static const char *image_config_arch(void)
{
	static const struct {
		const char *machine, *arch;
	} map[] = {{"x86_64", "amd64"},	   {"aarch64", "arm64"}, {"armv7l", "arm"},	{"i686", "386"},
		   {"ppc64le", "ppc64le"}, {"s390x", "s390x"},	 {"riscv64", "riscv64"}};
	static struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(u.machine, map[i].machine) == 0)
			return map[i].arch;
	return u.machine;
}

/* Sets key to the strings of v when v is set. */
static int image_config_set_strv(json_t *o, const char *key, char **v)
{
	if (!v)
		return 0;
	return json_object_set_new(o, key, image_record_strv_to_json(v)) < 0 ? -ENOMEM : 0;
}

static int image_config_set_str(json_t *o, const char *key, const char *v)
{
	if (!v)
		return 0;
	return json_object_set_new(o, key, json_string(v)) < 0 ? -ENOMEM : 0;
}

int image_config_build(const struct image *settings, const char *diff_id, const char *created, const char *comment,
		       char **ret)
{
	json_auto_t *o = NULL, *c = json_object();
	int r;

	if (!c)
		return -ENOMEM;
	if ((r = image_config_set_strv(c, "Env", settings->env)) < 0 ||
	    (r = image_config_set_strv(c, "Cmd", settings->cmd)) < 0 ||
	    (r = image_config_set_strv(c, "Entrypoint", settings->entrypoint)) < 0 ||
	    (r = image_config_set_str(c, "WorkingDir", settings->workdir)) < 0 ||
	    (r = image_config_set_str(c, "User", settings->user)) < 0 ||
	    (r = image_config_set_str(c, "StopSignal", settings->stop_signal)) < 0)
		return r;
	o = json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:[s]}, s:[{s:s, s:s, s:s}]}", "architecture", image_config_arch(),
		      "os", "linux", "created", created, "config", c, "rootfs", "type", "layers", "diff_ids", diff_id,
		      "history", "created", created, "created_by", "", "comment", comment ? comment : "");
	if (!o)
		return -ENOMEM;
	*ret = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	return *ret ? 0 : -ENOMEM;
}

int image_labels_merge(char **image_labels, char ***labels)
{
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0, ni = 0, nc = 0;

	while (image_labels && image_labels[ni])
		ni++;
	while (*labels && (*labels)[nc])
		nc++;
	if (ni == 0)
		return 0;
	v = calloc(ni + nc + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	/* The container's own labels win over the image's of the same key, as in Docker. */
	for (size_t i = 0; i < ni; i++) {
		size_t klen = strcspn(image_labels[i], "=");
		bool overridden = false;
		for (size_t k = 0; k < nc && !overridden; k++)
			overridden = strncmp((*labels)[k], image_labels[i], klen) == 0 && (*labels)[k][klen] == '=';
		if (!overridden && !(v[n++] = strdup(image_labels[i])))
			return -ENOMEM;
	}
	for (size_t k = 0; k < nc; k++)
		v[n++] = TAKE_PTR((*labels)[k]);
	qsort(v, n, sizeof(char *), image_config_cmp_str);
	strv_free(*labels);
	*labels = TAKE_PTR(v);
	return 0;
}
