/* The JSON documents of image archives: see archive-json.h. Every value is checked for its type
 * and bounds; strings with a NUL byte are refused, since they are later used as C strings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "image/archive-json.h"

bool archive_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != ARCHIVE_DIGEST_LEN)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

bool archive_media_type_is_index(const char *media_type)
{
	return media_type &&
	       (strcmp(media_type, ARCHIVE_MT_OCI_INDEX) == 0 || strcmp(media_type, ARCHIVE_MT_DOCKER_LIST) == 0);
}

bool archive_media_type_is_manifest(const char *media_type)
{
	return media_type && (strcmp(media_type, ARCHIVE_MT_OCI_MANIFEST) == 0 ||
			      strcmp(media_type, ARCHIVE_MT_DOCKER_MANIFEST) == 0);
}

/* Parses buf as one JSON document of at most ARCHIVE_JSON_MAX bytes: 0, -EFBIG or -EINVAL. */
static int json_parse(const char *buf, size_t len, const char *what, json_t **ret, char **reterr)
{
	json_error_t jerr;

	if (len > ARCHIVE_JSON_MAX)
		return err_set(reterr, -EFBIG, "%s is larger than %d bytes", what, ARCHIVE_JSON_MAX);
	*ret = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*ret)
		return err_set(reterr, -EINVAL, "%s is not valid JSON: %s (line %d)", what, jerr.text, jerr.line);
	return 0;
}

/* A string member (NULL when absent); a present member of another type, or with a NUL, is an
 * error. Returns 0 or -EINVAL. */
static int get_string(json_t *o, const char *key, const char *what, const char **ret, char **reterr)
{
	json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return err_set(reterr, -EINVAL, "%s: \"%s\" must be a string", what, key);
	*ret = json_string_value(v);
	return 0;
}

static int dup_string(json_t *o, const char *key, const char *what, char **ret, char **reterr)
{
	const char *s;
	int r = get_string(o, key, what, &s, reterr);

	if (r < 0 || !s)
		return r;
	*ret = strdup(s);
	return *ret ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

/* schemaVersion must be 2 (the only version of the OCI and Docker v2 formats). */
static int check_schema(json_t *o, const char *what, char **reterr)
{
	json_t *v = json_object_get(o, "schemaVersion");

	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return err_set(reterr, -EINVAL, "%s: schemaVersion must be 2", what);
	return 0;
}

/* buf as the JSON object what names (an index, a manifest, a config), its schemaVersion checked
 * when schema is set. */
static int object_parse(const char *buf, size_t len, const char *what, bool schema, json_t **ret, char **reterr)
{
	json_auto_t *root = NULL;
	int r = json_parse(buf, len, what, &root, reterr);

	if (r < 0)
		return r;
	if (!json_is_object(root))
		return err_set(reterr, -EINVAL, "%s must be a JSON object", what);
	if (schema && (r = check_schema(root, what, reterr)) < 0)
		return r;
	*ret = TAKE_PTR(root);
	return 0;
}

static void desc_done(struct archive_desc *d)
{
	free(d->media_type);
	free(d->ref_name);
	free(d->image_name);
	free(d->os);
	free(d->arch);
	free(d->variant);
	memset(d, 0, sizeof(*d));
}

/* Parses a descriptor: mediaType, digest (sha256 only), size >= 0, and the annotations and
 * platform a loader uses. */
static int desc_parse(json_t *o, const char *what, struct archive_desc *d, char **reterr)
{
	const char *digest;
	json_t *size, *ann, *platform;
	int r;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "%s must be an object", what);
	if ((r = dup_string(o, "mediaType", what, &d->media_type, reterr)) < 0 ||
	    (r = get_string(o, "digest", what, &digest, reterr)) < 0)
		return r;
	if (!digest)
		return err_set(reterr, -EINVAL, "%s has no digest", what);
	if (!archive_digest_valid(digest))
		return err_set(reterr, -EINVAL, "%s: unsupported or malformed digest (sha256:<64 hex digits> expected)",
			       what);
	memcpy(d->digest, digest, ARCHIVE_DIGEST_LEN + 1);
	size = json_object_get(o, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return err_set(reterr, -EINVAL, "%s: \"size\" must be a non-negative integer", what);
	d->size = json_integer_value(size);
	ann = json_object_get(o, "annotations");
	if (ann && !json_is_null(ann)) {
		if (!json_is_object(ann))
			return err_set(reterr, -EINVAL, "%s: \"annotations\" must be an object", what);
		if ((r = dup_string(ann, "org.opencontainers.image.ref.name", what, &d->ref_name, reterr)) < 0 ||
		    (r = dup_string(ann, "io.containerd.image.name", what, &d->image_name, reterr)) < 0)
			return r;
	}
	platform = json_object_get(o, "platform");
	if (platform && !json_is_null(platform)) {
		if (!json_is_object(platform))
			return err_set(reterr, -EINVAL, "%s: \"platform\" must be an object", what);
		if ((r = dup_string(platform, "os", what, &d->os, reterr)) < 0 ||
		    (r = dup_string(platform, "architecture", what, &d->arch, reterr)) < 0 ||
		    (r = dup_string(platform, "variant", what, &d->variant, reterr)) < 0)
			return r;
	}
	return 0;
}

void archive_index_done(struct archive_index *idx)
{
	for (size_t i = 0; i < idx->n_manifests; i++)
		desc_done(&idx->manifests[i]);
	free(idx->manifests);
	memset(idx, 0, sizeof(*idx));
}

int archive_json_index_parse(const char *buf, size_t len, struct archive_index *ret, char **reterr)
{
	json_auto_t *root = NULL;
	struct archive_index idx = { 0 };
	json_t *m;
	size_t n;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = object_parse(buf, len, "the image index", true, &root, reterr)) < 0)
		return r;
	m = json_object_get(root, "manifests");
	if (!json_is_array(m))
		return err_set(reterr, -EINVAL, "the image index has no \"manifests\" array");
	n = json_array_size(m);
	if (n > ARCHIVE_MAX_IMAGES)
		return err_set(reterr, -E2BIG, "the image index lists more than %d manifests", ARCHIVE_MAX_IMAGES);
	idx.manifests = calloc(n ? n : 1, sizeof(*idx.manifests));
	if (!idx.manifests)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		r = desc_parse(json_array_get(m, i), "a manifest of the image index", &idx.manifests[i], reterr);
		idx.n_manifests = i + 1;
		if (r < 0) {
			archive_index_done(&idx);
			return r;
		}
	}
	idx.n_manifests = n;
	*ret = idx;
	return 0;
}

void archive_manifest_done(struct archive_manifest *m)
{
	desc_done(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		desc_done(&m->layers[i]);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

int archive_json_manifest_parse(const char *buf, size_t len, struct archive_manifest *ret, char **reterr)
{
	json_auto_t *root = NULL;
	struct archive_manifest m = { 0 };
	const char *mt;
	json_t *layers;
	size_t n;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = object_parse(buf, len, "the image manifest", true, &root, reterr)) < 0 ||
	    (r = get_string(root, "mediaType", "the image manifest", &mt, reterr)) < 0)
		return r;
	if (mt && !archive_media_type_is_manifest(mt))
		return err_set(reterr, -EINVAL, "the image manifest has the unsupported media type \"%.100s\"", mt);
	layers = json_object_get(root, "layers");
	if (!json_is_array(layers))
		return err_set(reterr, -EINVAL, "the image manifest has no \"layers\" array");
	n = json_array_size(layers);
	if (n > ARCHIVE_MAX_LAYERS)
		return err_set(reterr, -E2BIG, "the image manifest lists more than %d layers", ARCHIVE_MAX_LAYERS);
	r = desc_parse(json_object_get(root, "config"), "the manifest's config", &m.config, reterr);
	if (r < 0)
		goto fail;
	m.layers = calloc(n ? n : 1, sizeof(*m.layers));
	if (!m.layers) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		r = desc_parse(json_array_get(layers, i), "a layer of the image manifest", &m.layers[i], reterr);
		m.n_layers = i + 1;
		if (r < 0)
			goto fail;
		if (!m.layers[i].media_type) {
			r = err_set(reterr, -EINVAL, "a layer of the image manifest has no mediaType");
			goto fail;
		}
	}
	m.n_layers = n;
	*ret = m;
	return 0;
fail:
	archive_manifest_done(&m);
	return r;
}

/* A NULL-terminated copy of an array of strings (absent or null: empty). */
static int get_strv(json_t *o, const char *key, size_t max, const char *what, char ***ret, size_t *ret_n,
		    char **reterr)
{
	json_t *a = json_object_get(o, key);
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0;

	if (a && !json_is_null(a)) {
		if (!json_is_array(a))
			return err_set(reterr, -EINVAL, "%s: \"%s\" must be an array of strings", what, key);
		n = json_array_size(a);
		if (n > max)
			return err_set(reterr, -E2BIG, "%s: \"%s\" has more than %zu items", what, key, max);
	}
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(a, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
			return err_set(reterr, -EINVAL, "%s: \"%s\" must be an array of strings", what, key);
		if (!(v[i] = strdup(json_string_value(s))))
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(v);
	if (ret_n)
		*ret_n = n;
	return 0;
}

void archive_docker_manifest_done(struct archive_docker_manifest *m)
{
	for (size_t i = 0; i < m->n_images; i++) {
		free(m->images[i].config);
		strv_free(m->images[i].repo_tags);
		strv_free(m->images[i].layers);
	}
	free(m->images);
	memset(m, 0, sizeof(*m));
}

int archive_json_docker_parse(const char *buf, size_t len, struct archive_docker_manifest *ret, char **reterr)
{
	static const char what[] = "an entry of manifest.json";
	json_auto_t *root = NULL;
	struct archive_docker_manifest m = { 0 };
	size_t n;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = json_parse(buf, len, "manifest.json", &root, reterr)) < 0)
		return r;
	if (!json_is_array(root))
		return err_set(reterr, -EINVAL, "manifest.json must be a JSON array");
	n = json_array_size(root);
	if (n > ARCHIVE_MAX_IMAGES)
		return err_set(reterr, -E2BIG, "manifest.json lists more than %d images", ARCHIVE_MAX_IMAGES);
	m.images = calloc(n ? n : 1, sizeof(*m.images));
	if (!m.images)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct archive_docker_image *img = &m.images[i];
		json_t *o = json_array_get(root, i);
		m.n_images = i + 1;
		if (!json_is_object(o)) {
			r = err_set(reterr, -EINVAL, "%s must be an object", what);
			goto fail;
		}
		if ((r = dup_string(o, "Config", what, &img->config, reterr)) < 0 ||
		    (r = get_strv(o, "RepoTags", ARCHIVE_MAX_NAMES, what, &img->repo_tags, NULL, reterr)) < 0 ||
		    (r = get_strv(o, "Layers", ARCHIVE_MAX_LAYERS, what, &img->layers, &img->n_layers, reterr)) < 0)
			goto fail;
		if (!img->config || !img->config[0]) {
			r = err_set(reterr, -EINVAL, "%s has no \"Config\"", what);
			goto fail;
		}
	}
	*ret = m;
	return 0;
fail:
	archive_docker_manifest_done(&m);
	return r;
}

int archive_json_config_diff_ids(const char *buf, size_t len, char ***ret, size_t *ret_n, char **reterr)
{
	json_auto_t *root = NULL;
	_cleanup_strv_free_ char **ids = NULL;
	const char *type;
	json_t *rootfs;
	size_t n;
	int r;

	if ((r = object_parse(buf, len, "the image config", false, &root, reterr)) < 0)
		return r;
	rootfs = json_object_get(root, "rootfs");
	if (!json_is_object(rootfs))
		return err_set(reterr, -EINVAL, "the image config has no \"rootfs\" object");
	if ((r = get_string(rootfs, "type", "the image config's rootfs", &type, reterr)) < 0)
		return r;
	if (!type || strcmp(type, "layers") != 0)
		return err_set(reterr, -EINVAL, "the image config's rootfs.type must be \"layers\"");
	r = get_strv(rootfs, "diff_ids", ARCHIVE_MAX_LAYERS, "the image config's rootfs", &ids, &n, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (!archive_digest_valid(ids[i]))
			return err_set(reterr, -EINVAL, "the image config has a malformed diff_id (sha256 expected)");
	*ret = TAKE_PTR(ids);
	*ret_n = n;
	return 0;
}

/* One descriptor as a manifest names it. */
static json_t *desc_json(const struct archive_desc *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
			 (json_int_t)d->size);
}

char *archive_json_manifest_write(const struct archive_desc *config, const struct archive_desc *layers,
				  size_t n_layers)
{
	json_auto_t *root = NULL;
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < n_layers; i++)
		if (json_array_append_new(a, desc_json(&layers[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	root = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", ARCHIVE_MT_OCI_MANIFEST, "config",
			 desc_json(config), "layers", a);
	if (!root)
		return NULL;
	return json_dumps(root, JSON_COMPACT);
}
