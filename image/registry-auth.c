/* Registry authentication: WWW-Authenticate challenges (Basic and Bearer) and credentials in
 * Docker's config.json format, so that a user's existing `docker login` credentials work. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/registry.h"

#define CHALLENGE_MAX 4096
#define AUTH_FILE_MAX (1u << 20)
#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

void registry_challenge_done(struct registry_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	*c = (struct registry_challenge){ 0 };
}

static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

/* Reads one auth-param value at *p: a token or a quoted string (backslash escapes). */
static int challenge_value(const char **p, const char *end, char **ret)
{
	const char *s = *p;
	_cleanup_free_ char *v = malloc((size_t)(end - s) + 1);
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	if (s < end && *s == '"') {
		for (s++;; s++) {
			if (s >= end)
				return -EINVAL;
			if (*s == '"')
				break;
			if (*s == '\\') {
				if (++s >= end)
					return -EINVAL;
			}
			if ((unsigned char)*s < 0x20)
				return -EINVAL;
			v[n++] = *s;
		}
		s++;
	} else {
		while (s < end && (is_token_char(*s) || *s == '/' || *s == '='))
			v[n++] = *s++;
		if (n == 0)
			return -EINVAL;
	}
	v[n] = '\0';
	*p = s;
	*ret = TAKE_PTR(v);
	return 0;
}

int registry_challenge_parse(const char *value, struct registry_challenge *ret)
{
	struct registry_challenge c = { 0 };
	size_t len = strnlen(value, CHALLENGE_MAX + 1);
	const char *p = value, *end = value + len;
	int r = -EINVAL;

	if (len > CHALLENGE_MAX)
		return -EINVAL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *scheme = p;
	while (p < end && is_token_char(*p))
		p++;
	size_t slen = (size_t)(p - scheme);
	if (slen == 5 && strncasecmp(scheme, "basic", 5) == 0)
		c.scheme = REGISTRY_AUTH_BASIC;
	else if (slen == 6 && strncasecmp(scheme, "bearer", 6) == 0)
		c.scheme = REGISTRY_AUTH_BEARER;
	else
		return -EINVAL;
	/* name=value pairs separated by commas and optional whitespace. */
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p >= end)
			break;
		const char *name = p;
		while (p < end && is_token_char(*p))
			p++;
		size_t nlen = (size_t)(p - name);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (nlen == 0 || p >= end || *p != '=')
			goto fail;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		_cleanup_free_ char *v = NULL;
		r = challenge_value(&p, end, &v);
		if (r < 0)
			goto fail;
		char **slot = NULL;
		if (nlen == 5 && strncasecmp(name, "realm", 5) == 0)
			slot = &c.realm;
		else if (nlen == 7 && strncasecmp(name, "service", 7) == 0)
			slot = &c.service;
		else if (nlen == 5 && strncasecmp(name, "scope", 5) == 0)
			slot = &c.scope;
		if (slot) {
			free(*slot);
			*slot = TAKE_PTR(v);
		}
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p != ',') {
			r = -EINVAL;
			goto fail;
		}
	}
	if (c.scheme == REGISTRY_AUTH_BEARER && (!c.realm || !*c.realm)) {
		r = -EINVAL;
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	registry_challenge_done(&c);
	return r < 0 ? r : -EINVAL;
}

char *registry_auth_key(const char *domain)
{
	if (strcmp(domain, "docker.io") == 0 || strcmp(domain, "index.docker.io") == 0 ||
	    strcmp(domain, "registry-1.docker.io") == 0)
		return strdup(DOCKER_HUB_KEY);
	return strdup(domain);
}

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *registry_auth_encode(const char *user, const char *pass)
{
	_cleanup_free_ char *plain = NULL;
	int n = asprintf(&plain, "%s:%s", user, pass);
	if (n < 0) {
		plain = NULL;
		return NULL;
	}
	const unsigned char *in = (const unsigned char *)plain;
	size_t len = (size_t)n, o = 0;
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	explicit_bzero(plain, len);
	return out;
}

int registry_auth_decode(const char *b64, char **ret_user, char **ret_pass)
{
	size_t len = strlen(b64), n = 0;
	if (len == 0 || len % 4 != 0 || len > 16384)
		return -EINVAL;
	_cleanup_free_ char *out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int pad = 0;
		for (size_t k = 0; k < 4; k++) {
			const char *p = b64[i + k] ? strchr(b64_alphabet, b64[i + k]) : NULL;
			if (b64[i + k] == '=' && i + 4 == len && k >= 2 && (k == 3 || b64[i + 3] == '=')) {
				pad++;
				v <<= 6;
				continue;
			}
			if (!p || pad)
				return -EINVAL;
			v = v << 6 | (uint32_t)(p - b64_alphabet);
		}
		out[n++] = (char)(v >> 16);
		if (pad < 2)
			out[n++] = (char)(v >> 8 & 0xff);
		if (pad < 1)
			out[n++] = (char)(v & 0xff);
	}
	out[n] = '\0';
	if (memchr(out, '\0', n))
		return -EINVAL;
	char *colon = strchr(out, ':');
	if (!colon)
		return -EINVAL;
	_cleanup_free_ char *user = strndup(out, (size_t)(colon - out));
	char *pass = strdup(colon + 1);
	explicit_bzero(out, n);
	if (!user || !pass) {
		free(pass);
		return -ENOMEM;
	}
	*ret_user = TAKE_PTR(user);
	*ret_pass = pass;
	return 0;
}

/* Reads the file as a JSON object; a missing file is an empty object. */
static int auth_read(const char *path, json_t **ret, char **reterr)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file(path, AUTH_FILE_MAX, &buf, &len);
	if (r == -ENOENT) {
		*ret = json_object();
		return *ret ? 0 : -ENOMEM;
	}
	if (r < 0)
		return err_set(reterr, r, "reading %s: %m", path);
	json_error_t jerr;
	json_t *o = json_loadb(buf, len, 0, &jerr);
	explicit_bzero(buf, len);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return err_set(reterr, -EINVAL, "%s: not a JSON object (%s)", path, o ? "wrong type" : jerr.text);
	}
	*ret = o;
	return 0;
}

/* The entry for domain: its key, or for a registry stored with a scheme ("https://host"). */
static json_t *auth_entry(json_t *auths, const char *domain)
{
	_cleanup_free_ char *key = registry_auth_key(domain);
	const char *k;
	json_t *v;

	if (!key || !json_is_object(auths))
		return NULL;
	if ((v = json_object_get(auths, key)))
		return v;
	json_object_foreach (auths, k, v) {
		const char *h = k;
		if (str_startswith(h, "https://"))
			h += 8;
		else if (str_startswith(h, "http://"))
			h += 7;
		size_t hl = strcspn(h, "/");
		if (hl == strlen(key) && strncmp(h, key, hl) == 0)
			return v;
	}
	return NULL;
}

int registry_auth_load(const char *path, const char *domain, char **ret_user, char **ret_pass, char **reterr)
{
	json_auto_t *o = NULL;
	int r = auth_read(path, &o, reterr);
	if (r < 0)
		return r;
	*ret_user = *ret_pass = NULL;
	json_t *e = auth_entry(json_object_get(o, "auths"), domain);
	if (!e)
		return 0;
	const char *auth = json_string_value(json_object_get(e, "auth"));
	if (auth && *auth) {
		r = registry_auth_decode(auth, ret_user, ret_pass);
		if (r < 0)
			return err_set(reterr, r, "%s: the credentials for %s are malformed", path, domain);
		return 0;
	}
	const char *u = json_string_value(json_object_get(e, "username"));
	const char *p = json_string_value(json_object_get(e, "password"));
	if (u && p) {
		*ret_user = strdup(u);
		*ret_pass = strdup(p);
		if (!*ret_user || !*ret_pass) {
			free(*ret_user);
			free(*ret_pass);
			*ret_user = *ret_pass = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

/* Writes the file atomically, readable by its owner only: the temp file is created 0600 (not
 * chmod'ed after the fact), so no moment exists in which another user could open it. */
static int auth_write(const char *path, json_t *o, char **reterr)
{
	_cleanup_free_ char *data = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	_cleanup_free_ char *tmp = NULL, *dir = NULL;
	_cleanup_close_ int fd = -1;

	if (!data || asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
		return -ENOMEM;
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int r = mkdir_p(dir, 0700);
		if (r < 0)
			return err_set(reterr, r, "creating %s: %m", dir);
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_set(reterr, -errno, "creating %s: %m", tmp);
	int r = fchmod(fd, 0600);
	if (r == 0)
		r = write_all(fd, data, strlen(data));
	if (r == 0)
		r = write_all(fd, "\n", 1);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	explicit_bzero(data, strlen(data));
	if (r < 0) {
		unlink(tmp);
		return err_set(reterr, r < 0 ? r : -EIO, "writing %s: %m", path);
	}
	return 0;
}

int registry_auth_store(const char *path, const char *domain, const char *user, const char *pass, char **reterr)
{
	json_auto_t *o = NULL;
	_cleanup_free_ char *key = registry_auth_key(domain);
	int r;

	if (!key)
		return -ENOMEM;
	r = auth_read(path, &o, reterr);
	if (r < 0)
		return r;
	json_t *auths = json_object_get(o, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		if (!auths || json_object_set_new(o, "auths", auths) < 0)
			return -ENOMEM;
	}
	if (!user) {
		/* Every spelling of this registry goes: "host" and "https://host". */
		bool found = false;
		json_t *e;
		while ((e = auth_entry(auths, domain))) {
			const char *k;
			json_t *v;
			json_object_foreach (auths, k, v)
				if (v == e) {
					json_object_del(auths, k);
					break;
				}
			found = true;
		}
		if (!found)
			return err_set(reterr, -ENOENT, "Not logged in to %s", domain);
	} else {
		_cleanup_free_ char *b64 = registry_auth_encode(user, pass);
		if (!b64 || json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64)) < 0)
			return -ENOMEM;
		explicit_bzero(b64, strlen(b64));
	}
	return auth_write(path, o, reterr);
}
