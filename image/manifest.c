/* Manifests: see manifest.h. A manifest comes from a registry or an archive: every member is
 * checked, and the digests it names are the only thing later turned into paths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "image/manifest.h"

#define MANIFEST_LAYERS_MAX 1024

static const char *const manifest_types[] = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    NULL,
};

static const char *const layer_types[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
    NULL,
};

static bool manifest_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

void image_layers_done(struct image_layer *layers, size_t n)
{
	for (size_t i = 0; layers && i < n; i++) {
		free(layers[i].diff_id);
		free(layers[i].digest);
		free(layers[i].media_type);
	}
}

void image_manifest_done(struct image_manifest *m)
{
	free(m->config_digest);
	image_layers_done(m->layers, m->n_layers);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

/* A descriptor: {"mediaType", "digest", "size"}. */
static int manifest_descriptor(json_t *d, const char **ret_type, const char **ret_digest, uint64_t *ret_size,
			       char **reterr)
{
	json_t *type = json_object_get(d, "mediaType"), *digest = json_object_get(d, "digest");
	json_t *size = json_object_get(d, "size");

	if (!json_is_object(d) || !json_is_string(type) || !json_is_string(digest) || !json_is_integer(size) ||
	    json_integer_value(size) < 0)
		return err_set(reterr, -EINVAL, "manifest: a descriptor needs mediaType, digest and size");
	if (!image_digest_valid(json_string_value(digest)))
		return err_set(reterr, -EINVAL, "manifest: unsupported digest (only sha256 is)");
	*ret_type = json_string_value(type);
	*ret_digest = json_string_value(digest);
	*ret_size = (uint64_t)json_integer_value(size);
	return 0;
}

int image_manifest_parse(const char *data, size_t len, struct image_manifest *ret, char **reterr)
{
	_cleanup_(image_manifest_done) struct image_manifest m = { 0 };
	json_auto_t *o = NULL;
	json_t *type, *layers, *l;
	json_error_t jerr;
	const char *t, *digest;
	uint64_t size;
	size_t i;
	int r;

	o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "manifest: not a JSON object (%s)", o ? "wrong type" : jerr.text);
	if (!json_is_integer(json_object_get(o, "schemaVersion")) ||
	    json_integer_value(json_object_get(o, "schemaVersion")) != 2)
		return err_set(reterr, -EINVAL, "manifest: only schemaVersion 2 is supported");
	type = json_object_get(o, "mediaType");
	if (json_is_string(type) && !manifest_in(json_string_value(type), manifest_types))
		return err_set(reterr, -EINVAL, "manifest: media type %s is not an image manifest",
			       json_string_value(type));
	if (json_object_get(o, "manifests"))
		return err_set(reterr, -EINVAL,
			       "manifest: this is an index (a list of manifests), not an image manifest");
	r = manifest_descriptor(json_object_get(o, "config"), &t, &digest, &size, reterr);
	if (r < 0)
		return r;
	if (!(m.config_digest = strdup(digest)))
		return -ENOMEM;
	layers = json_object_get(o, "layers");
	if (!json_is_array(layers) || json_array_size(layers) == 0 || json_array_size(layers) > MANIFEST_LAYERS_MAX)
		return err_set(reterr, -EINVAL, "manifest: \"layers\" must be an array of 1 to %d layers",
			       MANIFEST_LAYERS_MAX);
	m.layers = calloc(json_array_size(layers), sizeof(*m.layers));
	if (!m.layers)
		return -ENOMEM;
	json_array_foreach(layers, i, l) {
		r = manifest_descriptor(l, &t, &digest, &size, reterr);
		if (r < 0)
			return r;
		if (!manifest_in(t, layer_types))
			return err_set(reterr, -EINVAL, "manifest: layer media type %s is not supported", t);
		m.n_layers++;
		m.layers[i].size = size;
		if (!(m.layers[i].digest = strdup(digest)) || !(m.layers[i].media_type = strdup(t)))
			return -ENOMEM;
	}
	*ret = m;
	memset(&m, 0, sizeof(m));
	return 0;
}
