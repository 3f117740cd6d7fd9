/* Fuzz target for the JSON documents of image archives (image/archive-json.c), which the load
 * worker parses from hostile archives: index.json (and index blobs), image manifests, docker
 * save's manifest.json and image configs' rootfs. The first byte picks the parser. Every parser
 * must either refuse with a message or return values that keep their promises (checked digests,
 * bounded counts, NUL-free strings), and a manifest written from parsed descriptors must parse
 * back to the same descriptors. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "image/archive-json.h"
#include "tests/fuzz/fuzz.h"

static void check_desc(const struct archive_desc *d)
{
	FUZZ_CHECK(archive_digest_valid(d->digest));
	FUZZ_CHECK(d->size >= 0);
}

static void fuzz_index(const char *buf, size_t len)
{
	struct archive_index idx;
	char *err = NULL;
	int r = archive_json_index_parse(buf, len, &idx, &err);

	FUZZ_CHECK(r == 0 || (r < 0 && err));
	if (r == 0) {
		FUZZ_CHECK(idx.n_manifests <= ARCHIVE_MAX_IMAGES);
		for (size_t i = 0; i < idx.n_manifests; i++)
			check_desc(&idx.manifests[i]);
		archive_index_done(&idx);
	}
	free(err);
}

static void fuzz_manifest(const char *buf, size_t len)
{
	struct archive_manifest m, back;
	char *err = NULL, *text;
	int r = archive_json_manifest_parse(buf, len, &m, &err);

	FUZZ_CHECK(r == 0 || (r < 0 && err));
	free(err);
	if (r < 0)
		return;
	FUZZ_CHECK(m.n_layers <= ARCHIVE_MAX_LAYERS);
	check_desc(&m.config);
	for (size_t i = 0; i < m.n_layers; i++) {
		check_desc(&m.layers[i]);
		FUZZ_CHECK(m.layers[i].media_type);
	}
	/* The writer takes a config media type; a parsed one may be absent. */
	if (!m.config.media_type)
		m.config.media_type = strdup(ARCHIVE_MT_OCI_CONFIG);
	text = m.config.media_type ? archive_json_manifest_write(&m.config, m.layers, m.n_layers) : NULL;
	if (text) {
		err = NULL;
		FUZZ_CHECK(archive_json_manifest_parse(text, strlen(text), &back, &err) == 0);
		FUZZ_CHECK(back.n_layers == m.n_layers && strcmp(back.config.digest, m.config.digest) == 0);
		for (size_t i = 0; i < m.n_layers; i++)
			FUZZ_CHECK(strcmp(back.layers[i].digest, m.layers[i].digest) == 0 &&
				   back.layers[i].size == m.layers[i].size &&
				   strcmp(back.layers[i].media_type, m.layers[i].media_type) == 0);
		archive_manifest_done(&back);
		free(text);
	}
	archive_manifest_done(&m);
}

static void fuzz_docker(const char *buf, size_t len)
{
	struct archive_docker_manifest m;
	char *err = NULL;
	int r = archive_json_docker_parse(buf, len, &m, &err);

	FUZZ_CHECK(r == 0 || (r < 0 && err));
	if (r == 0) {
		FUZZ_CHECK(m.n_images <= ARCHIVE_MAX_IMAGES);
		for (size_t i = 0; i < m.n_images; i++) {
			size_t n = 0;
			FUZZ_CHECK(m.images[i].config && m.images[i].config[0]);
			while (m.images[i].layers[n])
				n++;
			FUZZ_CHECK(n == m.images[i].n_layers && n <= ARCHIVE_MAX_LAYERS);
			for (n = 0; m.images[i].repo_tags[n]; n++)
				;
			FUZZ_CHECK(n <= ARCHIVE_MAX_NAMES);
		}
		archive_docker_manifest_done(&m);
	}
	free(err);
}

static void fuzz_config(const char *buf, size_t len)
{
	char **ids = NULL, *err = NULL;
	size_t n = 0;
	int r = archive_json_config_diff_ids(buf, len, &ids, &n, &err);

	FUZZ_CHECK(r == 0 || (r < 0 && err));
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(archive_digest_valid(ids[i]));
		FUZZ_CHECK(ids[n] == NULL);
		for (size_t i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
	}
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *buf = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 4) {
	case 0:
		fuzz_index(buf, len);
		break;
	case 1:
		fuzz_manifest(buf, len);
		break;
	case 2:
		fuzz_docker(buf, len);
		break;
	default:
		fuzz_config(buf, len);
		break;
	}
	return 0;
}
