/* Manifests and indexes as registries send them (OCI image manifest and index, Docker v2
 * schema 2 manifest and manifest list): parsed into descriptors, every field a peer controls
 * checked before a download is planned from it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "image/registry.h"

static void desc_done(struct registry_desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->os);
	free(d->arch);
	free(d->variant);
	*d = (struct registry_desc){ 0 };
}

void registry_manifest_done(struct registry_manifest *m)
{
	desc_done(&m->config);
	for (size_t i = 0; i < m->nlayers; i++)
		desc_done(&m->layers[i]);
	for (size_t i = 0; i < m->nentries; i++)
		desc_done(&m->entries[i]);
	free(m->layers);
	free(m->entries);
	free(m->media_type);
	*m = (struct registry_manifest){ 0 };
}

static bool layer_type_known(const char *t)
{
	static const char *const known[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.diff.tar.zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(t, known[i]) == 0)
			return true;
	return false;
}

/* Whether s is a short platform word (os, architecture, variant). */
static bool platform_word(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
			return false;
	return true;
}

/* Reads a descriptor object; what names it in errors is what. */
static int desc_parse(json_t *o, struct registry_desc *d, const char *what, char **reterr)
{
	const char *mt = json_string_value(json_object_get(o, "mediaType"));
	const char *dg = json_string_value(json_object_get(o, "digest"));
	json_t *size = json_object_get(o, "size");

	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "manifest: %s is not an object", what);
	if (!mt || strlen(mt) > 255)
		return err_set(reterr, -EINVAL, "manifest: %s has no mediaType", what);
	if (!registry_digest_valid(dg))
		return err_set(reterr, -EINVAL, "manifest: %s has an unsupported digest (only sha256 is)", what);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return err_set(reterr, -EINVAL, "manifest: %s has no valid size", what);
	d->media_type = strdup(mt);
	d->digest = strdup(dg);
	d->size = (uint64_t)json_integer_value(size);
	if (!d->media_type || !d->digest)
		return -ENOMEM;
	json_t *plat = json_object_get(o, "platform");
	if (json_is_object(plat)) {
		const char *os = json_string_value(json_object_get(plat, "os"));
		const char *arch = json_string_value(json_object_get(plat, "architecture"));
		const char *var = json_string_value(json_object_get(plat, "variant"));
		/* Odd values are not errors (the entry just matches nothing), but are not kept. */
		if (os && platform_word(os) && !(d->os = strdup(os)))
			return -ENOMEM;
		if (arch && platform_word(arch) && !(d->arch = strdup(arch)))
			return -ENOMEM;
		if (var && platform_word(var) && !(d->variant = strdup(var)))
			return -ENOMEM;
	}
	return 0;
}

int registry_manifest_parse(const char *media_type, const char *body, size_t len, struct registry_manifest *ret,
			    char **reterr)
{
	struct registry_manifest m = { 0 };
	json_auto_t *o = NULL;
	json_error_t jerr;
	const char *mt;
	int r;

	if (len > REGISTRY_MANIFEST_MAX)
		return err_set(reterr, -EFBIG, "manifest: larger than %u bytes", REGISTRY_MANIFEST_MAX);
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "manifest: not a JSON object (%s)", o ? "wrong type" : jerr.text);
	json_t *version = json_object_get(o, "schemaVersion");
	if (!json_is_integer(version) || json_integer_value(version) != 2)
		return err_set(reterr, -EINVAL, "manifest: unsupported schemaVersion (schema 1 images are not supported)");
	/* The body's mediaType wins over a generic Content-Type (application/json, octet-stream). */
	mt = json_string_value(json_object_get(o, "mediaType"));
	if (!mt && media_type && (strcmp(media_type, REGISTRY_MT_OCI_MANIFEST) == 0 ||
				  strcmp(media_type, REGISTRY_MT_OCI_INDEX) == 0))
		mt = media_type;
	if (!mt)
		mt = json_object_get(o, "manifests") ? REGISTRY_MT_OCI_INDEX : REGISTRY_MT_OCI_MANIFEST;
	if (strcmp(mt, REGISTRY_MT_OCI_INDEX) == 0 || strcmp(mt, REGISTRY_MT_DOCKER_LIST) == 0)
		m.is_index = true;
	else if (strcmp(mt, REGISTRY_MT_OCI_MANIFEST) != 0 && strcmp(mt, REGISTRY_MT_DOCKER_MANIFEST) != 0)
		return err_set(reterr, -EINVAL, "manifest: unsupported media type \"%.100s\"", mt);
	if (!(m.media_type = strdup(mt)))
		return -ENOMEM;

	if (m.is_index) {
		json_t *arr = json_object_get(o, "manifests");
		if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > REGISTRY_INDEX_MAX) {
			r = err_set(reterr, -EINVAL, "manifest: an index needs 1 to %u manifests", REGISTRY_INDEX_MAX);
			goto fail;
		}
		m.entries = calloc(json_array_size(arr), sizeof(*m.entries));
		if (!m.entries)
			goto nomem;
		for (size_t i = 0; i < json_array_size(arr); i++) {
			r = desc_parse(json_array_get(arr, i), &m.entries[i], "an index entry", reterr);
			m.nentries = i + 1;
			if (r < 0)
				goto fail;
		}
	} else {
		json_t *arr = json_object_get(o, "layers");
		r = desc_parse(json_object_get(o, "config"), &m.config, "the config", reterr);
		if (r < 0)
			goto fail;
		if (m.config.size > REGISTRY_CONFIG_MAX) {
			r = err_set(reterr, -EFBIG, "manifest: the config is larger than %u bytes", REGISTRY_CONFIG_MAX);
			goto fail;
		}
		if (!json_is_array(arr) || json_array_size(arr) > REGISTRY_LAYERS_MAX) {
			r = err_set(reterr, -EINVAL, "manifest: an image needs at most %u layers", REGISTRY_LAYERS_MAX);
			goto fail;
		}
		m.layers = calloc(json_array_size(arr) + 1, sizeof(*m.layers));
		if (!m.layers)
			goto nomem;
		for (size_t i = 0; i < json_array_size(arr); i++) {
			r = desc_parse(json_array_get(arr, i), &m.layers[i], "a layer", reterr);
			m.nlayers = i + 1;
			if (r < 0)
				goto fail;
			if (!layer_type_known(m.layers[i].media_type)) {
				r = err_set(reterr, -EINVAL, "manifest: unsupported layer media type \"%.100s\"",
					    m.layers[i].media_type);
				goto fail;
			}
		}
	}
	*ret = m;
	return 0;
nomem:
	r = -ENOMEM;
fail:
	registry_manifest_done(&m);
	return r;
}

const char *registry_host_arch(void)
{
	static const struct {
		const char *uname, *oci;
	} map[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" },     { "i386", "386" },
		{ "armv7l", "arm" },   { "armv6l", "arm" },    { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" },
	};
	struct utsname u;
	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (strcmp(u.machine, map[i].uname) == 0)
				return map[i].oci;
	return "amd64";
}

int registry_platform_parse(const char *s, char **ret_os, char **ret_arch, char **ret_variant, char **reterr)
{
	_cleanup_free_ char *copy = strdup(s);
	char *os, *arch, *variant = NULL, *save = NULL;

	if (!copy)
		return -ENOMEM;
	os = strtok_r(copy, "/", &save);
	arch = os ? strtok_r(NULL, "/", &save) : NULL;
	if (arch)
		variant = strtok_r(NULL, "/", &save);
	if (!os || !arch || strtok_r(NULL, "/", &save) || !platform_word(os) || !platform_word(arch) ||
	    (variant && !platform_word(variant)) || strchr(s, '/') == s || s[strlen(s) - 1] == '/')
		return err_set(reterr, -EINVAL, "invalid platform \"%.80s\": expected os/arch[/variant]", s);
	*ret_os = strdup(os);
	*ret_arch = strdup(arch);
	*ret_variant = variant ? strdup(variant) : NULL;
	if (!*ret_os || !*ret_arch || (variant && !*ret_variant)) {
		free(*ret_os);
		free(*ret_arch);
		free(*ret_variant);
		return -ENOMEM;
	}
	return 0;
}

int registry_manifest_select(const struct registry_manifest *idx, const char *os, const char *arch,
			     const char *variant, const struct registry_desc **ret, char **reterr)
{
	const struct registry_desc *best = NULL;
	int best_score = -1;

	for (size_t i = 0; i < idx->nentries; i++) {
		const struct registry_desc *e = &idx->entries[i];
		int score;
		if (!e->os || !e->arch || strcmp(e->os, os) != 0 || strcmp(e->arch, arch) != 0)
			continue;
		if (strcmp(e->media_type, REGISTRY_MT_OCI_MANIFEST) != 0 &&
		    strcmp(e->media_type, REGISTRY_MT_DOCKER_MANIFEST) != 0)
			continue;
		if (variant) {
			/* arm64's only variant is v8: an entry without one matches it. */
			if (e->variant ? strcmp(e->variant, variant) != 0
				       : !(strcmp(arch, "arm64") == 0 && strcmp(variant, "v8") == 0))
				continue;
			score = 2;
		} else {
			/* No variant asked: an entry without one, or arm64/v8, or the first other. */
			score = !e->variant || (strcmp(arch, "arm64") == 0 && strcmp(e->variant, "v8") == 0) ? 2 : 1;
		}
		if (score > best_score) {
			best = e;
			best_score = score;
		}
	}
	if (!best)
		return err_set(reterr, -ENOENT, "no matching manifest for %s/%s%s%s in the manifest list entries", os,
			       arch, variant ? "/" : "", variant ? variant : "");
	*ret = best;
	return 0;
}
