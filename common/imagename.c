/* Image references, parsed by Docker's rules (github.com/distribution/reference):
 *
 *   reference := [domain '/'] path [':' tag]
 *   domain    := host [':' port]          host: DNS name or [IPv6]
 *   path      := component ['/' component]*
 *   component := [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *
 * The first '/'-separated part is a registry only when it contains '.' or ':' or is "localhost";
 * otherwise the name lives on docker.io, where one-component names belong to "library/". The
 * normalized form drops "docker.io/" and "library/" again, as `docker images` shows names. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/macros.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether c may appear in a path component (uppercase too when fold is set, to tell a name that
 * is only wrong in case from one that is malformed). */
static bool component_char(char c, bool fold)
{
	return is_lower_alnum(c) || (fold && c >= 'A' && c <= 'Z');
}

/* Whether s[0..len) is one path component: alphanumeric runs joined by ".", "_", "__" or "-"+. */
static bool component_valid(const char *s, size_t len, bool fold)
{
	size_t i = 0;

	if (len == 0 || !component_char(s[0], fold) || !component_char(s[len - 1], fold))
		return false;
	while (i < len) {
		if (component_char(s[i], fold)) {
			i++;
			continue;
		}
		/* A separator; the checks above guarantee alphanumerics on both ends of s. */
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
		} else if (s[i] == '-') {
			while (i < len && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i >= len || !component_char(s[i], fold))
			return false;
	}
	return true;
}

/* Whether s[0..len) is a DNS-ish host name: components of [A-Za-z0-9-] not starting or ending
 * with '-', joined by single dots. */
static bool hostname_valid(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '-')
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

/* Whether s[0..len) is a registry: host or [IPv6], optionally followed by ":port". */
static bool domain_valid(const char *s, size_t len)
{
	size_t host_len = len;

	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || close == s + 1)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!is_hex(*p) && *p != ':')
				return false;
		host_len = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', len);
		if (colon)
			host_len = (size_t)(colon - s);
		if (!hostname_valid(s, host_len))
			return false;
	}
	if (host_len == len)
		return true;
	if (s[host_len] != ':' || host_len + 1 == len)
		return false;
	for (size_t i = host_len + 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool tag_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > TAG_MAX_LEN)
		return false;
	if (!is_alnum(s[0]) && s[0] != '_')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* Whether the name is a 64-character hex string, which Docker refuses because it reads as an
 * image id. */
static bool looks_like_id(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int image_name_normalize(const char *ref, char **ret, char **reterr)
{
	_cleanup_free_ char *name = NULL;
	const char *path, *slash, *colon, *tag = "latest";
	const char *domain = NULL;
	size_t domain_len = 0, name_len, path_len, qualified_len;
	char *result;

	if (!ref || !*ref)
		return err_set(reterr, -EINVAL, "invalid reference format: empty image name");
	if (strchr(ref, '@'))
		return err_set(reterr, -EINVAL,
			       "invalid reference format: references by digest (name@sha256:...) are not supported yet");
	/* A bound before any copying; the parts are checked below against the real limits. */
	if (strlen(ref) > NAME_MAX_LEN + 1 + TAG_MAX_LEN)
		return err_set(reterr, -EINVAL, "invalid reference format: reference is longer than %d characters",
			       NAME_MAX_LEN + 1 + TAG_MAX_LEN);

	name = strdup(ref);
	if (!name)
		return -ENOMEM;

	/* The tag is whatever follows the last ':' after the last '/' ("localhost:5000/x" has no tag). */
	slash = strrchr(name, '/');
	colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		tag = colon + 1;
		name[colon - name] = '\0';
		if (!tag_valid(tag))
			return err_set(reterr, -EINVAL, "invalid reference format: invalid tag \"%s\"", tag);
	}
	name_len = strlen(name);
	if (name_len == 0)
		return err_set(reterr, -EINVAL, "invalid reference format: empty repository name");

	path = name;
	slash = strchr(name, '/');
	if (slash) {
		size_t first_len = (size_t)(slash - name);
		if (memchr(name, '.', first_len) || memchr(name, ':', first_len) ||
		    (first_len == strlen("localhost") && strncmp(name, "localhost", first_len) == 0)) {
			domain = name;
			domain_len = first_len;
			path = slash + 1;
			if (!domain_valid(domain, domain_len))
				return err_set(reterr, -EINVAL, "invalid reference format: invalid registry \"%.*s\"",
					       (int)domain_len, domain);
		}
	}

	/* Every path component must match; say "lowercase" when that is all that is wrong. */
	for (const char *p = path;;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (!component_valid(p, len, false)) {
			if (component_valid(p, len, true))
				return err_set(reterr, -EINVAL,
					       "invalid reference format: repository name must be lowercase");
			return err_set(reterr, -EINVAL, "invalid reference format: invalid repository name \"%s\"",
				       path);
		}
		if (!end)
			break;
		p = end + 1;
	}

	/* docker.io is the default registry (index.docker.io its old name); its one-component
	 * names live under library/. Both prefixes disappear from the normalized form. */
	/* Unless what follows would then read as a registry itself ("docker.io/my.org/app"): the
	 * normalized form must name the same image when it is normalized again. */
	if (domain && ((domain_len == strlen("docker.io") && strncmp(domain, "docker.io", domain_len) == 0) ||
		       (domain_len == strlen("index.docker.io") && strncmp(domain, "index.docker.io", domain_len) == 0))) {
		const char *rest_slash = strchr(path, '/');
		size_t first = rest_slash ? (size_t)(rest_slash - path) : 0;
		bool looks_like_registry = rest_slash && (memchr(path, '.', first) || memchr(path, ':', first) ||
							  (first == strlen("localhost") && strncmp(path, "localhost", first) == 0));
		if (!looks_like_registry)
			domain = NULL;
		else {
			domain = "docker.io";
			domain_len = strlen("docker.io");
		}
	}
	if (!domain && strncmp(path, "library/", strlen("library/")) == 0 &&
	    !strchr(path + strlen("library/"), '/'))
		path += strlen("library/");
	path_len = strlen(path);

	if (!domain && looks_like_id(path, path_len))
		return err_set(reterr, -EINVAL,
			       "invalid repository name \"%s\": 64-character hexadecimal names are reserved for image ids",
			       path);
	/* Docker's limit applies to the fully qualified name ("docker.io/library/alpine"). */
	if (domain)
		qualified_len = domain_len + 1 + path_len;
	else
		qualified_len = strlen("docker.io/") + (strchr(path, '/') ? 0 : strlen("library/")) + path_len;
	if (qualified_len > NAME_MAX_LEN)
		return err_set(reterr, -EINVAL,
			       "invalid reference format: repository name must not be more than %d characters",
			       NAME_MAX_LEN);

	if (domain) {
		if (asprintf(&result, "%.*s/%s:%s", (int)domain_len, domain, path, tag) < 0)
			return -ENOMEM;
	} else if (asprintf(&result, "%s:%s", path, tag) < 0) {
		return -ENOMEM;
	}
	*ret = result;
	return 0;
}
