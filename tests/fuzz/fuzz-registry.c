/* Fuzz target for what a registry or a user hands the registry client: the first byte picks
 * the parser (reference, WWW-Authenticate challenge, manifest or index, config.json auth
 * value), the rest is its input. Whatever parses must hold the invariants its users rely on:
 * valid digests, counts within the caps, a reference that parses again to the same parts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "image/registry.h"
#include "tests/fuzz/fuzz.h"

static bool streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void fuzz_ref(const char *s)
{
	struct registry_ref ref = { 0 }, again = { 0 };
	char *err = NULL;
	int r = registry_ref_parse(s, &ref, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK(r == 0 || err);
	free(err);
	if (r < 0)
		return;
	FUZZ_CHECK(ref.domain && ref.path && ref.repo && (ref.tag || ref.digest));
	FUZZ_CHECK(!ref.digest || registry_digest_valid(ref.digest));
	/* The qualified spelling parses to the same reference. */
	char *q = NULL;
	FUZZ_CHECK(asprintf(&q, "%s/%s%s%s%s%s", ref.domain, ref.path, ref.tag ? ":" : "", ref.tag ? ref.tag : "",
			    ref.digest ? "@" : "", ref.digest ? ref.digest : "") > 0);
	FUZZ_CHECK(registry_ref_parse(q, &again, NULL) == 0);
	FUZZ_CHECK(streq(ref.domain, again.domain) && streq(ref.path, again.path) && streq(ref.tag, again.tag) &&
		   streq(ref.digest, again.digest) && streq(ref.name, again.name));
	free(q);
	registry_ref_done(&ref);
	registry_ref_done(&again);
}

static void fuzz_challenge(const char *s)
{
	struct registry_challenge c = { 0 };
	int r = registry_challenge_parse(s, &c);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r < 0)
		return;
	FUZZ_CHECK(c.scheme == REGISTRY_AUTH_BASIC || c.scheme == REGISTRY_AUTH_BEARER);
	FUZZ_CHECK(c.scheme != REGISTRY_AUTH_BEARER || (c.realm && *c.realm));
	registry_challenge_done(&c);
}

static void fuzz_manifest(const char *s, size_t len)
{
	struct registry_manifest m = { 0 };
	const struct registry_desc *e = NULL;
	char *err = NULL;
	int r = registry_manifest_parse(NULL, s, len, &m, &err);
	FUZZ_CHECK(r == 0 || err);
	free(err);
	if (r < 0)
		return;
	if (m.is_index) {
		FUZZ_CHECK(m.nentries >= 1 && m.nentries <= REGISTRY_INDEX_MAX);
		for (size_t i = 0; i < m.nentries; i++)
			FUZZ_CHECK(registry_digest_valid(m.entries[i].digest));
		err = NULL;
		if (registry_manifest_select(&m, "linux", "amd64", NULL, &e, &err) == 0)
			FUZZ_CHECK(e && streq(e->os, "linux") && streq(e->arch, "amd64"));
		free(err);
	} else {
		FUZZ_CHECK(registry_digest_valid(m.config.digest) && m.config.size <= REGISTRY_CONFIG_MAX);
		FUZZ_CHECK(m.nlayers <= REGISTRY_LAYERS_MAX);
		for (size_t i = 0; i < m.nlayers; i++)
			FUZZ_CHECK(registry_digest_valid(m.layers[i].digest));
	}
	registry_manifest_done(&m);
}

static void fuzz_auth(const char *s)
{
	char *user = NULL, *pass = NULL;
	if (registry_auth_decode(s, &user, &pass) == 0) {
		/* What decodes encodes back to an equivalent value. */
		char *b64 = registry_auth_encode(user, pass);
		char *u2 = NULL, *p2 = NULL;
		FUZZ_CHECK(b64 && registry_auth_decode(b64, &u2, &p2) == 0);
		FUZZ_CHECK(streq(user, u2) && streq(pass, p2));
		free(b64), free(u2), free(p2);
	}
	free(user), free(pass);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	char *s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0: fuzz_ref(s); break;
	case 1: fuzz_challenge(s); break;
	case 2: fuzz_manifest(s, size - 1); break;
	case 3: fuzz_auth(s); break;
	}
	free(s);
	return 0;
}
