#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mount-parse.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"

/* Splits s at sep into at most max parts (the last one keeps the rest); *n gets the count. */
static char **split(const char *s, char sep, size_t max, size_t *n)
{
	char **parts = calloc(max + 1, sizeof(char *));
	*n = 0;
	if (!parts)
		return NULL;
	for (const char *p = s;; *n += 1) {
		const char *e = *n + 1 < max ? strchr(p, sep) : NULL;
		if (!(parts[*n] = strndup(p, e ? (size_t)(e - p) : strlen(p)))) {
			strv_free(parts);
			return NULL;
		}
		if (!e) {
			*n += 1;
			return parts;
		}
		p = e + 1;
	}
}

static void mount_init(struct proto_mount *m, enum proto_mount_type type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->tmpfs_mode = -1;
}

static int fail(struct proto_mount *m, int r)
{
	proto_mount_done(m);
	return r;
}

/* A bool option of --mount: "readonly" alone or with =1|0|true|false. */
static int parse_bool(const char *value, bool *ret)
{
	if (!value || strcmp(value, "1") == 0 || strcmp(value, "true") == 0) {
		*ret = true;
		return 0;
	}
	if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

/* An octal mode such as 1777, at most 07777. */
static int parse_mode(const char *value, int *ret)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 8);
	if (errno || end == value || *end || v < 0 || v > 07777)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int mount_parse_volume(const char *arg, struct proto_mount *ret, char **reterr)
{
	size_t n;
	_cleanup_strv_free_ char **parts = split(arg, ':', 4, &n);
	if (!parts)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (n > 3)
		return err_set(reterr, -EINVAL, "invalid spec: %s: too many colons", arg);
	for (size_t i = 0; i < n; i++)
		if (!parts[i][0])
			return err_set(reterr, -EINVAL, "invalid spec: %s: empty section between colons", arg);
	const char *source = n >= 2 ? parts[0] : NULL, *target = n >= 2 ? parts[1] : parts[0];
	mount_init(ret, !source || source[0] != '/' ? PROTO_MOUNT_VOLUME : PROTO_MOUNT_BIND);
	if (n == 3) {
		size_t nopts;
		_cleanup_strv_free_ char **opts = split(parts[2], ',', 64, &nopts);
		if (!opts)
			return err_set(reterr, -ENOMEM, "out of memory");
		for (size_t i = 0; i < nopts; i++) {
			const char *o = opts[i];
			if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0)
				ret->readonly = strcmp(o, "ro") == 0;
			else if (strcmp(o, "nocopy") == 0 && ret->type == PROTO_MOUNT_VOLUME)
				ret->nocopy = true;
			else if (strcmp(o, "z") != 0 && strcmp(o, "Z") != 0 && strcmp(o, "private") != 0 &&
				 strcmp(o, "rprivate") != 0)
				return err_set(reterr, -EINVAL, "invalid mode: %s", parts[2]);
		}
	}
	if (target[0] != '/')
		return err_set(reterr, -EINVAL,
			       "invalid mount config: invalid mount path: '%s' mount path must be absolute", target);
	if (source && source[0] != '/' && !proto_volume_name_valid(source))
		return err_set(reterr, -EINVAL,
			       "create %s: \"%s\" includes invalid characters for a local volume name, only "
			       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, "
			       "use absolute path",
			       source, source);
	ret->create_source = ret->type == PROTO_MOUNT_BIND;
	if ((source && !(ret->source = strdup(source))) || !(ret->target = strdup(target)))
		return fail(ret, err_set(reterr, -ENOMEM, "out of memory"));
	int r = proto_mount_check(ret, reterr);
	return r < 0 ? fail(ret, r) : 0;
}

/* One key=value of --mount into m; type is known already. */
static int mount_key(struct proto_mount *m, const char *field, const char *key, const char *value, char **reterr)
{
	bool b;
	if (strcmp(key, "type") == 0)
		return 0;
	if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0) {
		if (!value || !*value)
			return err_set(reterr, -EINVAL, "invalid field '%s' must be a key=value pair", field);
		free(m->source);
		return (m->source = strdup(value)) ? 0 : err_set(reterr, -ENOMEM, "out of memory");
	}
	if (strcmp(key, "target") == 0 || strcmp(key, "destination") == 0 || strcmp(key, "dst") == 0) {
		if (!value || !*value)
			return err_set(reterr, -EINVAL, "invalid field '%s' must be a key=value pair", field);
		free(m->target);
		return (m->target = strdup(value)) ? 0 : err_set(reterr, -ENOMEM, "out of memory");
	}
	if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0) {
		if (parse_bool(value, &b) < 0)
			return err_set(reterr, -EINVAL, "invalid value for %s: %s", key, value);
		m->readonly = b;
		return 0;
	}
	if (strcmp(key, "volume-nocopy") == 0 && m->type == PROTO_MOUNT_VOLUME) {
		if (parse_bool(value, &b) < 0)
			return err_set(reterr, -EINVAL, "invalid value for volume-nocopy: %s", value);
		m->nocopy = b;
		return 0;
	}
	if (strcmp(key, "bind-propagation") == 0 && m->type == PROTO_MOUNT_BIND) {
		if (!value || (strcmp(value, "rprivate") != 0 && strcmp(value, "private") != 0))
			return err_set(reterr, -EINVAL,
				       "invalid bind-propagation \"%s\": only private and rprivate are supported",
				       value ? value : "");
		return 0;
	}
	if (strcmp(key, "volume-driver") == 0 && m->type == PROTO_MOUNT_VOLUME) {
		if (!value || strcmp(value, "local") != 0)
			return err_set(reterr, -EINVAL, "volume driver \"%s\" is not supported: only local",
				       value ? value : "");
		return 0;
	}
	if (strcmp(key, "tmpfs-size") == 0 && m->type == PROTO_MOUNT_TMPFS) {
		if (!value || parse_size(value, &m->tmpfs_size) < 0)
			return err_set(reterr, -EINVAL, "invalid value for tmpfs-size: %s", value ? value : "");
		return 0;
	}
	if (strcmp(key, "tmpfs-mode") == 0 && m->type == PROTO_MOUNT_TMPFS) {
		if (!value || parse_mode(value, &m->tmpfs_mode) < 0)
			return err_set(reterr, -EINVAL, "invalid value for tmpfs-mode: %s", value ? value : "");
		return 0;
	}
	if (strcmp(key, "consistency") == 0)
		return 0;
	return err_set(reterr, -EINVAL, "unexpected key '%s' in '%s'", key, field);
}

int mount_parse_mount(const char *arg, struct proto_mount *ret, char **reterr)
{
	size_t n;
	_cleanup_strv_free_ char **fields = split(arg, ',', 64, &n);
	enum proto_mount_type type = PROTO_MOUNT_VOLUME;
	int r;
	if (!fields)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (n >= 64)
		return err_set(reterr, -EINVAL, "too many fields in '%s'", arg);
	/* The type first: which keys are valid depends on it (Docker's rule). */
	for (size_t i = 0; i < n; i++)
		if (strncmp(fields[i], "type=", 5) == 0) {
			const char *t = fields[i] + 5;
			if (strcmp(t, "bind") == 0)
				type = PROTO_MOUNT_BIND;
			else if (strcmp(t, "volume") == 0)
				type = PROTO_MOUNT_VOLUME;
			else if (strcmp(t, "tmpfs") == 0)
				type = PROTO_MOUNT_TMPFS;
			else
				return err_set(reterr, -EINVAL, "invalid mount type \"%s\": bind, volume or tmpfs", t);
		}
	mount_init(ret, type);
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(fields[i], '=');
		if (!fields[i][0])
			continue;
		_cleanup_free_ char *key = strndup(fields[i], eq ? (size_t)(eq - fields[i]) : strlen(fields[i]));
		if (!key)
			return fail(ret, err_set(reterr, -ENOMEM, "out of memory"));
		if ((r = mount_key(ret, fields[i], key, eq ? eq + 1 : NULL, reterr)) < 0)
			return fail(ret, r);
	}
	if (!ret->target)
		return fail(ret, err_set(reterr, -EINVAL, "target is required"));
	if (type == PROTO_MOUNT_BIND && !ret->source)
		return fail(ret, err_set(reterr, -EINVAL,
					 "invalid mount config for type \"bind\": field Source must not be empty"));
	if (type == PROTO_MOUNT_TMPFS && ret->source)
		return fail(ret, err_set(reterr, -EINVAL,
					 "invalid mount config for type \"tmpfs\": field Source must be empty"));
	if ((r = proto_mount_check(ret, reterr)) < 0)
		return fail(ret, r);
	return 0;
}

int mount_parse_tmpfs(const char *arg, struct proto_mount *ret, char **reterr)
{
	const char *colon = strchr(arg, ':');
	mount_init(ret, PROTO_MOUNT_TMPFS);
	if (!(ret->target = strndup(arg, colon ? (size_t)(colon - arg) : strlen(arg))))
		return err_set(reterr, -ENOMEM, "out of memory");
	size_t n = 0;
	_cleanup_strv_free_ char **opts = colon && colon[1] ? split(colon + 1, ',', 64, &n) : NULL;
	if (colon && colon[1] && !opts)
		return fail(ret, err_set(reterr, -ENOMEM, "out of memory"));
	for (size_t i = 0; i < n; i++) {
		const char *o = opts[i];
		if (strncmp(o, "size=", 5) == 0) {
			if (parse_size(o + 5, &ret->tmpfs_size) < 0)
				return fail(ret, err_set(reterr, -EINVAL, "invalid tmpfs option \"%s\"", o));
		} else if (strncmp(o, "mode=", 5) == 0) {
			if (parse_mode(o + 5, &ret->tmpfs_mode) < 0)
				return fail(ret, err_set(reterr, -EINVAL, "invalid tmpfs option \"%s\"", o));
		} else if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
			ret->readonly = strcmp(o, "ro") == 0;
		} else if (strcmp(o, "exec") == 0 || strcmp(o, "noexec") == 0) {
			ret->tmpfs_exec = strcmp(o, "exec") == 0;
		} else if (strcmp(o, "nosuid") != 0 && strcmp(o, "nodev") != 0) {
			/* suid and dev are refused: a tmpfs is always nosuid and nodev here. */
			return fail(ret, err_set(reterr, -EINVAL,
						 "invalid tmpfs option \"%s\": expected size=, mode=, ro, rw, exec, "
						 "noexec, nosuid or nodev",
						 o));
		}
	}
	int r = proto_mount_check(ret, reterr);
	return r < 0 ? fail(ret, r) : 0;
}
