/* Compiled seccomp programs kept by (profile content, capability mask), so that the daemon
 * compiles each profile once and a container's start path only copies a program. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/seccomp.h"

struct seccomp_cache_entry {
	bool is_default; /* the built-in profile; json is NULL */
	uint64_t hash;
	char *json;
	size_t len;
	uint64_t caps;
	uint64_t last_used;
	struct seccomp_bpf *bpf;
};

struct seccomp_cache {
	struct seccomp_cache_entry entries[SECCOMP_CACHE_MAX];
	size_t n;
	uint64_t clock;
};

/* An empty cache; the daemon keeps one for its lifetime. */
int seccomp_cache_new(struct seccomp_cache **ret)
{
	struct seccomp_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

static void seccomp_cache_entry_clear(struct seccomp_cache_entry *e)
{
	free(e->json);
	seccomp_bpf_free(e->bpf);
	*e = (struct seccomp_cache_entry){ 0 };
}

void seccomp_cache_free(struct seccomp_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		seccomp_cache_entry_clear(&c->entries[i]);
	free(c);
}

/* FNV-1a: a quick first comparison; a hit is confirmed on the full content. */
static uint64_t seccomp_cache_hash(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* Parses and compiles one profile: the work a cache miss costs. */
static int seccomp_cache_build(const char *json, size_t len, uint64_t caps, struct seccomp_bpf **ret, char **reterr)
{
	struct seccomp_profile *p = NULL;
	int r = json ? seccomp_profile_parse(json, len, &p, reterr) : seccomp_profile_default(&p, reterr);
	if (r < 0)
		return r;
	r = seccomp_compile(p, caps, ret, reterr);
	seccomp_profile_free(p);
	return r;
}

/* A hit compares the whole profile text, not only its hash: two profiles can never share a
 * program by a hash collision. A failed compilation is not cached; the caller gets its message
 * each time. */
int seccomp_cache_get(struct seccomp_cache *c, const char *json, size_t len, uint64_t caps,
		      const struct seccomp_bpf **ret, char **reterr)
{
	if (json && len > SECCOMP_PROFILE_MAX_BYTES)
		return err_set(reterr, -E2BIG, "seccomp profile: %zu bytes, more than the %d allowed", len,
			       SECCOMP_PROFILE_MAX_BYTES);
	uint64_t hash = json ? seccomp_cache_hash(json, len) : 0;

	for (size_t i = 0; i < c->n; i++) {
		struct seccomp_cache_entry *e = &c->entries[i];
		if (e->caps != caps || e->is_default != !json)
			continue;
		if (json && (e->hash != hash || e->len != len || memcmp(e->json, json, len) != 0))
			continue;
		e->last_used = ++c->clock;
		*ret = e->bpf;
		return 0;
	}

	struct seccomp_cache_entry fresh = { .is_default = !json, .hash = hash, .len = len, .caps = caps };
	if (json) {
		/* len + 1 keeps a zero length valid for malloc. */
		fresh.json = malloc(len + 1);
		if (!fresh.json)
			return err_set(reterr, -ENOMEM, "seccomp: out of memory");
		memcpy(fresh.json, json, len);
	}
	int r = seccomp_cache_build(json, len, caps, &fresh.bpf, reterr);
	if (r < 0) {
		free(fresh.json);
		return r;
	}

	size_t slot = c->n;
	if (c->n == SECCOMP_CACHE_MAX) {
		slot = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->entries[i].last_used < c->entries[slot].last_used)
				slot = i;
		seccomp_cache_entry_clear(&c->entries[slot]);
	} else {
		c->n++;
	}
	fresh.last_used = ++c->clock;
	c->entries[slot] = fresh;
	*ret = c->entries[slot].bpf;
	return 0;
}
