/* Fuzz target for what a registry or an archive controls in an image: the manifest parser
 * (image/manifest.c) and the config parser (image/config.c). The first byte picks the parser
 * (even: manifest, odd: config), the rest is the blob. Checks: a refusal is -EINVAL (or -ENOMEM)
 * with a message and fills nothing; an accepted manifest has a config digest and 1..1024 layers,
 * each with a valid digest and a supported media type; an accepted config has valid diff_ids
 * (at least one), an Env vector and sorted, NULL-terminated Labels, ExposedPorts and Volumes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "image/config.h"
#include "image/db.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/record.h"
#include "tests/fuzz/fuzz.h"

static void check_sorted(char **v)
{
	FUZZ_CHECK(v);
	for (size_t i = 0; v[i]; i++)
		FUZZ_CHECK(!v[i + 1] || strcmp(v[i], v[i + 1]) <= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *err = NULL;
	int r;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		struct image_manifest m = { 0 };
		r = image_manifest_parse((const char *)data + 1, size - 1, &m, &err);
		if (r < 0) {
			FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
			FUZZ_CHECK(r == -ENOMEM || err);
			FUZZ_CHECK(!m.config_digest && !m.layers);
		} else {
			FUZZ_CHECK(image_digest_valid(m.config_digest));
			FUZZ_CHECK(m.n_layers >= 1 && m.n_layers <= 1024);
			for (size_t i = 0; i < m.n_layers; i++)
				FUZZ_CHECK(image_digest_valid(m.layers[i].digest) && m.layers[i].media_type);
			image_manifest_done(&m);
		}
	} else {
		struct image *img = calloc(1, sizeof(*img));
		char **diff_ids = NULL;
		if (!img)
			return 0;
		r = image_config_parse((const char *)data + 1, size - 1, img, &diff_ids, &err);
		if (r < 0) {
			FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
			FUZZ_CHECK(r == -ENOMEM || err);
			FUZZ_CHECK(!diff_ids && !img->config);
		} else {
			FUZZ_CHECK(diff_ids && diff_ids[0] && img->config && img->env);
			for (char **d = diff_ids; *d; d++)
				FUZZ_CHECK(image_digest_valid(*d));
			check_sorted(img->labels);
			check_sorted(img->exposed_ports);
			check_sorted(img->volumes);
		}
		strv_free(diff_ids);
		image_free(img);
	}
	free(err);
	return 0;
}
