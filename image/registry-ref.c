/* Image references for pulls: Docker's naming rules (common/imagename.c validates and
 * normalizes the name), split into the registry, the repository path, tag and digest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/registry.h"

#define DOCKER_HUB "docker.io"
#define DOCKER_HUB_API "registry-1.docker.io"

bool registry_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + REGISTRY_HEX_LEN)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

void registry_ref_done(struct registry_ref *ref)
{
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	free(ref->name);
	free(ref->repo);
	*ref = (struct registry_ref){ 0 };
}

/* Splits a normalized repository ("alpine", "foo/bar", "host:5000/x/y", "docker.io/my.org/x")
 * into the registry and the path under it: the first part is a registry by the same rule the
 * normalization used, and docker.io's one-component names live under library/. */
static int ref_split(const char *repo, char **ret_domain, char **ret_path)
{
	const char *slash = strchr(repo, '/');
	size_t first = slash ? (size_t)(slash - repo) : 0;
	bool has_domain = slash && (memchr(repo, '.', first) || memchr(repo, ':', first) ||
				    (first == strlen("localhost") && strncmp(repo, "localhost", first) == 0));
	_cleanup_free_ char *domain = NULL, *path = NULL;

	if (has_domain) {
		domain = strndup(repo, first);
		path = strdup(slash + 1);
	} else {
		domain = strdup(DOCKER_HUB);
		if (slash)
			path = strdup(repo);
		else if (asprintf(&path, "library/%s", repo) < 0)
			path = NULL;
	}
	if (!domain || !path)
		return -ENOMEM;
	*ret_domain = TAKE_PTR(domain);
	*ret_path = TAKE_PTR(path);
	return 0;
}

int registry_ref_parse(const char *s, struct registry_ref *ret, char **reterr)
{
	_cleanup_free_ char *name_part = NULL, *norm = NULL;
	struct registry_ref ref = { 0 };
	const char *at, *last_slash, *colon;
	bool has_tag;
	int r;

	if (!s || !*s)
		return err_set(reterr, -EINVAL, "invalid reference format: empty image name");
	at = strchr(s, '@');
	name_part = at ? strndup(s, (size_t)(at - s)) : strdup(s);
	if (!name_part)
		return -ENOMEM;
	if (at && !registry_digest_valid(at + 1))
		return err_set(reterr, -EINVAL, "invalid reference format: invalid digest \"%.80s\" (sha256:<64 hex digits>)",
			       at + 1);
	last_slash = strrchr(name_part, '/');
	colon = strrchr(last_slash ? last_slash : name_part, ':');
	has_tag = colon != NULL;
	r = image_name_normalize(name_part, &norm, reterr);
	if (r < 0)
		return r;
	/* norm is "repo:tag"; the tag follows its last ':' after the last '/'. */
	last_slash = strrchr(norm, '/');
	colon = strrchr(last_slash ? last_slash : norm, ':');
	if (!colon)
		return err_set(reterr, -EINVAL, "invalid reference format");
	ref.repo = strndup(norm, (size_t)(colon - norm));
	if (!ref.repo)
		goto nomem;
	if (has_tag || !at) {
		ref.tag = strdup(colon + 1);
		ref.name = strdup(norm);
		if (!ref.tag || !ref.name)
			goto nomem;
	}
	if (at && !(ref.digest = strdup(at + 1)))
		goto nomem;
	if (ref_split(ref.repo, &ref.domain, &ref.path) < 0)
		goto nomem;
	*ret = ref;
	return 0;
nomem:
	registry_ref_done(&ref);
	return -ENOMEM;
}

const char *registry_ref_api_host(const struct registry_ref *ref)
{
	return strcmp(ref->domain, DOCKER_HUB) == 0 ? DOCKER_HUB_API : ref->domain;
}

bool registry_is_insecure(const char *domain, char **insecure)
{
	_cleanup_free_ char *host = NULL;
	const char *colon;

	for (char **p = insecure; p && *p; p++) {
		const char *e = *p;
		if (str_startswith(e, "http://"))
			e += 7;
		if (strcmp(e, domain) == 0)
			return true;
		/* An entry without a port covers every port of that host. */
		colon = strrchr(domain, ':');
		if (!strchr(e, ':') && colon && strlen(e) == (size_t)(colon - domain) && strncmp(e, domain, strlen(e)) == 0)
			return true;
	}
	/* Loopback registries: nothing crosses a network, so TLS would protect nothing. */
	colon = domain[0] == '[' ? strstr(domain, "]:") : strrchr(domain, ':');
	host = colon ? strndup(domain, (size_t)(colon - domain) + (domain[0] == '[')) : strdup(domain);
	if (!host)
		return false;
	return strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 || str_startswith(host, "127.");
}
