/* The OCI config.json form of a spec. Reading is strict: a wrong type or an out-of-range value is
 * an error that names the field, never a silent default. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/strv.h"
#include "runtime/caps.h"
#include "runtime/spec.h"

#define OCI_VERSION "1.0.2"
/* Caps on what one spec may hold: it can come from a peer (a config.json, a request). */
#define SPEC_MAX_LIST 4096

static const struct {
	const char *name;
	int flag;
} ns_types[] = {
	{ "pid", CLONE_NEWPID },	 { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
	{ "ipc", CLONE_NEWIPC },	 { "uts", CLONE_NEWUTS },     { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP },
};

static const char *ns_name(int flag)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_types); i++)
		if (ns_types[i].flag == flag)
			return ns_types[i].name;
	return NULL;
}

static int ns_flag(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(ns_types); i++)
		if (strcmp(name, ns_types[i].name) == 0)
			return ns_types[i].flag;
	return 0;
}

/* A set of namespace types as an array of their OCI names. */
static json_t *ns_set_to_json(int flags)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < ARRAY_SIZE(ns_types); i++)
		if (flags & ns_types[i].flag)
			json_array_append_new(a, json_string(ns_types[i].name));
	return a;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },		{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },		{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },		{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

/* containd's own mount option: rt_mount.copy_up. */
#define SPEC_OPTION_COPY_UP "containd-copyup"
/* ... and rt_mount.ipc_shared. */
#define SPEC_OPTION_IPC_SHM "containd-ipcshm"

/* Mount options that are flags; the rest go to the filesystem as data. */
static const struct {
	const char *name;
	unsigned long set, clear;
} mount_flags[] = {
	{ "ro", MS_RDONLY, 0 },		  { "rw", 0, MS_RDONLY },	    { "nosuid", MS_NOSUID, 0 },
	{ "suid", 0, MS_NOSUID },	  { "nodev", MS_NODEV, 0 },	    { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },	  { "exec", 0, MS_NOEXEC },	    { "strictatime", MS_STRICTATIME, 0 },
	{ "relatime", MS_RELATIME, 0 },	  { "noatime", MS_NOATIME, 0 },	    { "nodiratime", MS_NODIRATIME, 0 },
	{ "bind", MS_BIND, 0 },		  { "rbind", MS_BIND | MS_REC, 0 }, { "sync", MS_SYNCHRONOUS, 0 },
};

static const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return NULL;
}

/* JSON integers are signed 64-bit: unlimited travels as -1. */
static json_int_t rlimit_to_json(uint64_t v)
{
	return v == RLIMITS_UNLIMITED || v > INT64_MAX ? -1 : (json_int_t)v;
}

static int rlimit_from_json(json_t *o, const char *key, uint64_t *ret, char **reterr)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < -1)
		return err_set(reterr, -EINVAL, "rlimit field \"%s\" must be an integer (-1: unlimited)", key);
	*ret = json_integer_value(v) == -1 ? RLIMITS_UNLIMITED : (uint64_t)json_integer_value(v);
	return 0;
}

static json_t *caps_to_json(uint64_t mask)
{
	json_t *a = json_array();
	for (int c = 0; a && c < 64; c++)
		if (mask & (UINT64_C(1) << c)) {
			const char *name = caps_name(c);
			char buf[48];
			if (name) {
				snprintf(buf, sizeof(buf), "CAP_%s", name);
				json_array_append_new(a, json_string(buf));
			}
		}
	return a;
}

static json_t *idmaps_to_json(const struct rt_idmap *m, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:I, s:I, s:I}", "containerID", (json_int_t)m[i].container_id,
						   "hostID", (json_int_t)m[i].host_id, "size", (json_int_t)m[i].size));
	return a;
}

static json_t *mount_options(const struct rt_mount *m)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < ARRAY_SIZE(mount_flags); i++)
		if (mount_flags[i].set && (m->flags & mount_flags[i].set) == mount_flags[i].set &&
		    strcmp(mount_flags[i].name, "bind") != 0 && strcmp(mount_flags[i].name, "rbind") != 0)
			json_array_append_new(a, json_string(mount_flags[i].name));
	if (a && (m->flags & MS_BIND))
		json_array_append_new(a, json_string(m->flags & MS_REC ? "rbind" : "bind"));
	if (a && m->copy_up)
		json_array_append_new(a, json_string(SPEC_OPTION_COPY_UP));
	if (a && m->ipc_shared)
		json_array_append_new(a, json_string(SPEC_OPTION_IPC_SHM));
	if (a && m->data) {
		/* Filesystem options are comma-separated; each becomes one option. */
		_cleanup_free_ char *copy = strdup(m->data);
		char *save = NULL;
		for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(a, json_string(tok));
	}
	return a;
}

json_t *spec_to_json(const struct rt_spec *spec)
{
	const struct rt_process *p = &spec->process;
	json_auto_t *doc = json_object();
	json_t *proc = json_object(), *lnx = json_object(), *ext = json_object();
	bool ok = doc && proc && lnx && ext;
	/* Each value is handed to its parent at once, so nothing leaks when memory runs out; ok
	 * records whether every insertion succeeded. */
#define SET(obj, key, value) (ok &= (obj) && json_object_set_new((obj), (key), (value)) == 0)
	SET(doc, "process", proc);
	SET(doc, "linux", lnx);
	SET(doc, "containd", ext);
	if (!ok)
		return NULL;
	SET(doc, "ociVersion", json_string(OCI_VERSION));

	json_t *gids = json_array();
	for (size_t i = 0; gids && i < p->n_additional_gids; i++)
		json_array_append_new(gids, json_integer(p->additional_gids[i]));
	SET(proc, "user", json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)p->uid, "gid", (json_int_t)p->gid,
				     "additionalGids", gids));
	SET(proc, "terminal", json_boolean(p->terminal));
	if (p->console_rows || p->console_cols)
		SET(proc, "consoleSize", json_pack("{s:i, s:i}", "height", (int)p->console_rows, "width",
						   (int)p->console_cols));
	SET(proc, "args", strv_to_json(p->args));
	SET(proc, "env", strv_to_json(p->env));
	SET(proc, "cwd", json_string(p->cwd ? p->cwd : "/"));
	SET(proc, "capabilities", json_pack("{s:o, s:o, s:o, s:o, s:o}", "bounding", caps_to_json(p->caps.bounding),
					    "effective", caps_to_json(p->caps.effective), "permitted",
					    caps_to_json(p->caps.permitted), "inheritable",
					    caps_to_json(p->caps.inheritable), "ambient", caps_to_json(p->caps.ambient)));
	json_t *rl = json_array();
	for (int i = 0; rl && i < RLIMITS_COUNT; i++) {
		const char *name = rlimit_name(i);
		const struct rlimits_value *v = &p->rlimits.limit[i];
		if (name)
			json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type", name, "soft", rlimit_to_json(v->soft),
							    "hard", rlimit_to_json(v->hard)));
	}
	SET(proc, "rlimits", rl);
	SET(proc, "noNewPrivileges", json_boolean(p->no_new_privileges));

	SET(doc, "root", json_pack("{s:s, s:b}", "path", spec->root_path ? spec->root_path : "", "readonly",
				   spec->root_readonly));
	if (spec->hostname)
		SET(doc, "hostname", json_string(spec->hostname));
	json_t *mounts = json_array();
	for (size_t i = 0; mounts && i < spec->n_mounts; i++) {
		const struct rt_mount *m = &spec->mounts[i];
		json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "destination", m->destination, "type",
							m->type, "source", m->source ? m->source : m->type,
							"options", mount_options(m)));
	}
	SET(doc, "mounts", mounts);

	json_t *nss = json_array();
	for (size_t i = 0; nss && i < ARRAY_SIZE(ns_types); i++)
		if (spec->namespaces & ns_types[i].flag)
			json_array_append_new(nss, json_pack("{s:s}", "type", ns_types[i].name));
	for (size_t i = 0; nss && i < spec->n_ns_paths; i++) {
		const char *name = ns_name(spec->ns_paths[i].type);
		if (name && spec->ns_paths[i].path)
			json_array_append_new(nss, json_pack("{s:s, s:s}", "type", name, "path", spec->ns_paths[i].path));
	}
	SET(lnx, "namespaces", nss);
	if (spec->join_namespaces)
		SET(ext, "joinNamespaces", ns_set_to_json(spec->join_namespaces));
	SET(lnx, "uidMappings", idmaps_to_json(spec->uid_mappings, spec->n_uid_mappings));
	SET(lnx, "gidMappings", idmaps_to_json(spec->gid_mappings, spec->n_gid_mappings));
	json_t *res = json_object();
	SET(lnx, "resources", res);
	if (spec->resources.memory)
		SET(res, "memory", json_pack("{s:I}", "limit", (json_int_t)spec->resources.memory));
	if (spec->resources.pids)
		SET(res, "pids", json_pack("{s:I}", "limit", (json_int_t)spec->resources.pids));
	if (spec->resources.cpus_milli)
		SET(res, "cpu", json_pack("{s:I, s:I}", "quota", (json_int_t)(spec->resources.cpus_milli * 100), "period",
					  (json_int_t)100000));
	SET(lnx, "maskedPaths", strv_to_json(spec->masked_paths));
	SET(lnx, "readonlyPaths", strv_to_json(spec->readonly_paths));
	json_t *sysctl = json_object();
	SET(lnx, "sysctl", sysctl);
	for (char **s = spec->sysctl; sysctl && s && *s; s++) {
		const char *eq = strchr(*s, '=');
		_cleanup_free_ char *key = eq ? strndup(*s, (size_t)(eq - *s)) : NULL;
		if (key)
			SET(sysctl, key, json_string(eq + 1));
	}

	/* containd's extensions: the layered root, the user to resolve in the root, the seccomp
	 * policy by name (the daemon compiles it; OCI's own seccomp object is not used). */
	static const char *const seccomp_modes[] = { "default", "unconfined", "custom" };
	SET(ext, "lowerdirs", strv_to_json(spec->overlay.lowerdirs));
	if (spec->overlay.upperdir)
		SET(ext, "upperdir", json_string(spec->overlay.upperdir));
	if (spec->overlay.workdir)
		SET(ext, "workdir", json_string(spec->overlay.workdir));
	if (spec->overlay.staging)
		SET(ext, "staging", json_string(spec->overlay.staging));
	if (spec->overlay.ephemeral)
		SET(ext, "volatile", json_true());
	if (p->user)
		SET(ext, "user", json_string(p->user));
	json_t *seccomp = json_pack("{s:s}", "mode", seccomp_modes[spec->seccomp.mode]);
	SET(ext, "seccomp", seccomp);
	if (spec->seccomp.profile_json)
		SET(seccomp, "profile", json_string(spec->seccomp.profile_json));
	SET(ext, "deviceRules", strv_to_json(spec->device_rules));
	SET(ext, "devicesAllowAll", json_boolean(spec->devices_allow_all));
	SET(ext, "privileged", json_boolean(spec->privileged));
#undef SET
	return ok ? TAKE_PTR(doc) : NULL;
}

/* Reading. */

static int get_strv(json_t *obj, const char *key, bool required, char ***ret, char **reterr)
{
	json_t *a = json_object_get(obj, key);
	*ret = NULL;
	if (!a)
		return required ? err_set(reterr, -EINVAL, "missing field \"%s\"", key) : 0;
	if (!json_is_array(a) || json_array_size(a) > SPEC_MAX_LIST)
		return err_set(reterr, -EINVAL, "field \"%s\" must be an array of at most %d strings", key, SPEC_MAX_LIST);
	char **v = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!v)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s || !(v[i] = strdup(s))) {
			strv_free(v);
			return err_set(reterr, s ? -ENOMEM : -EINVAL, "field \"%s\" must be an array of strings", key);
		}
	}
	*ret = v;
	return 0;
}

static int get_str(json_t *obj, const char *key, bool required, char **ret, char **reterr)
{
	json_t *s = json_object_get(obj, key);
	*ret = NULL;
	if (!s)
		return required ? err_set(reterr, -EINVAL, "missing field \"%s\"", key) : 0;
	if (!json_is_string(s))
		return err_set(reterr, -EINVAL, "field \"%s\" must be a string", key);
	*ret = strdup(json_string_value(s));
	return *ret ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

static int get_u64(json_t *obj, const char *key, uint64_t max, uint64_t *ret, char **reterr)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return err_set(reterr, -EINVAL, "field \"%s\" must be an integer between 0 and %" PRIu64, key, max);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_bool(json_t *obj, const char *key, bool *ret, char **reterr)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return err_set(reterr, -EINVAL, "field \"%s\" must be true or false", key);
	*ret = json_is_true(v);
	return 0;
}

/* An optional member that must be an object when present (*ret NULL when absent): a wrong type
 * is refused, not read as "not given", which would drop the limits or the user it holds. */
static int get_obj(json_t *obj, const char *key, json_t **ret, char **reterr)
{
	json_t *v = json_object_get(obj, key);
	*ret = NULL;
	if (v && !json_is_object(v))
		return err_set(reterr, -EINVAL, "field \"%s\" must be an object", key);
	*ret = v;
	return 0;
}

static int caps_from_json(json_t *caps, const char *key, uint64_t *ret, char **reterr)
{
	json_t *a = json_object_get(caps, key);
	*ret = 0;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 64)
		return err_set(reterr, -EINVAL, "capabilities.%s must be an array of names", key);
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *name = json_string_value(json_array_get(a, i));
		int v;
		/* OCI spells them "CAP_CHOWN"; anything else (a number, "ALL") is refused. */
		if (!name || strncmp(name, "CAP_", 4) != 0 || caps_parse(name, &v, NULL) < 0 || v < 0 || v > 63)
			return err_set(reterr, -EINVAL, "unknown capability \"%s\" in capabilities.%s", name ? name : "",
				       key);
		*ret |= UINT64_C(1) << v;
	}
	return 0;
}

static int idmaps_from_json(json_t *a, const char *key, struct rt_idmap **ret, size_t *ret_n, char **reterr)
{
	*ret = NULL;
	*ret_n = 0;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 340)
		return err_set(reterr, -EINVAL, "%s must be an array of at most 340 mappings", key);
	struct rt_idmap *m = calloc(json_array_size(a) + 1, sizeof(*m));
	if (!m)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_int_t c, h, s;
		if (json_unpack(json_array_get(a, i), "{s:I, s:I, s:I}", "containerID", &c, "hostID", &h, "size", &s) < 0 ||
		    c < 0 || h < 0 || s <= 0 || c > UINT32_MAX || h > UINT32_MAX || s > UINT32_MAX) {
			free(m);
			return err_set(reterr, -EINVAL, "%s[%zu] needs containerID, hostID and size as 32-bit numbers", key,
				       i);
		}
		m[i] = (struct rt_idmap){ (uint32_t)c, (uint32_t)h, (uint32_t)s };
	}
	*ret = m;
	*ret_n = json_array_size(a);
	return 0;
}

/* Applies one mount option: a flag of mount_flags, or else filesystem data appended to m->data. */
static int mount_option(struct rt_mount *m, const char *opt, size_t *datalen)
{
	if (strcmp(opt, SPEC_OPTION_COPY_UP) == 0) {
		m->copy_up = true;
		return 0;
	}
	if (strcmp(opt, SPEC_OPTION_IPC_SHM) == 0) {
		m->ipc_shared = true;
		return 0;
	}
	for (size_t k = 0; k < ARRAY_SIZE(mount_flags); k++)
		if (strcmp(opt, mount_flags[k].name) == 0) {
			m->flags = (m->flags | mount_flags[k].set) & ~mount_flags[k].clear;
			return 0;
		}
	size_t len = strlen(opt);
	char *d = realloc(m->data, *datalen + len + 2);
	if (!d)
		return -ENOMEM;
	if (*datalen)
		d[(*datalen)++] = ',';
	memcpy(d + *datalen, opt, len + 1);
	*datalen += len;
	m->data = d;
	return 0;
}

static int mount_from_json(json_t *o, struct rt_mount *m, char **reterr)
{
	json_t *opts = json_object_get(o, "options");
	int r;
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "every mount must be an object");
	if ((r = get_str(o, "destination", true, &m->destination, reterr)) < 0 ||
	    (r = get_str(o, "type", false, &m->type, reterr)) < 0 || (r = get_str(o, "source", false, &m->source, reterr)) < 0)
		return r;
	if (!m->type && !(m->type = strdup("none")))
		return err_set(reterr, -ENOMEM, "out of memory");
	if (opts && (!json_is_array(opts) || json_array_size(opts) > 64))
		return err_set(reterr, -EINVAL, "mount options must be an array of strings");
	size_t datalen = 0;
	for (size_t i = 0; opts && i < json_array_size(opts); i++) {
		const char *opt = json_string_value(json_array_get(opts, i));
		if (!opt || strlen(opt) > 1024)
			return err_set(reterr, -EINVAL, "mount options must be strings");
		/* One option may hold several, comma-separated: each is a flag or data on its own, as
		 * spec_to_json writes the data back one option per comma. Read whole, a flag inside
		 * ("x,rw" after "ro") would change meaning on the next round trip: read-only at first,
		 * read-write once the daemon handed the spec to the init or reloaded its state. */
		_cleanup_free_ char *copy = strdup(opt);
		char *save = NULL;
		if (!copy)
			return err_set(reterr, -ENOMEM, "out of memory");
		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (mount_option(m, tok, &datalen) < 0)
				return err_set(reterr, -ENOMEM, "out of memory");
	}
	return 0;
}

static int process_from_json(json_t *proc, struct rt_process *p, char **reterr)
{
	json_t *user, *caps, *size, *rl = json_object_get(proc, "rlimits");
	uint64_t v;
	int r;
	if (!json_is_object(proc))
		return err_set(reterr, -EINVAL, "missing object \"process\"");
	if ((r = get_obj(proc, "user", &user, reterr)) < 0 || (r = get_obj(proc, "capabilities", &caps, reterr)) < 0 ||
	    (r = get_obj(proc, "consoleSize", &size, reterr)) < 0)
		return r;
	/* Limits the config does not name take containd's defaults, never the caller's. */
	rlimits_default(&p->rlimits);
	if ((r = get_strv(proc, "args", true, &p->args, reterr)) < 0 || (r = get_strv(proc, "env", false, &p->env, reterr)) < 0 ||
	    (r = get_str(proc, "cwd", true, &p->cwd, reterr)) < 0 || (r = get_bool(proc, "terminal", &p->terminal, reterr)) < 0 ||
	    (r = get_bool(proc, "noNewPrivileges", &p->no_new_privileges, reterr)) < 0)
		return r;
	if (json_is_object(user)) {
		json_t *gids = json_object_get(user, "additionalGids");
		if ((r = get_u64(user, "uid", UINT32_MAX - 1, &v, reterr)) < 0)
			return r;
		p->uid = (uid_t)v;
		v = 0;
		if ((r = get_u64(user, "gid", UINT32_MAX - 1, &v, reterr)) < 0)
			return r;
		p->gid = (gid_t)v;
		if (gids && (!json_is_array(gids) || json_array_size(gids) > 65536))
			return err_set(reterr, -EINVAL, "additionalGids must be an array of gids");
		if (gids && json_array_size(gids)) {
			p->additional_gids = calloc(json_array_size(gids), sizeof(gid_t));
			if (!p->additional_gids)
				return err_set(reterr, -ENOMEM, "out of memory");
			for (size_t i = 0; i < json_array_size(gids); i++) {
				json_t *g = json_array_get(gids, i);
				if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) >= UINT32_MAX)
					return err_set(reterr, -EINVAL, "additionalGids must be an array of gids");
				p->additional_gids[p->n_additional_gids++] = (gid_t)json_integer_value(g);
			}
		}
	}
	if (json_is_object(size)) {
		uint64_t h = 0, w = 0;
		if ((r = get_u64(size, "height", 65535, &h, reterr)) < 0 || (r = get_u64(size, "width", 65535, &w, reterr)) < 0)
			return r;
		p->console_rows = (unsigned short)h;
		p->console_cols = (unsigned short)w;
	}
	if (json_is_object(caps) &&
	    ((r = caps_from_json(caps, "bounding", &p->caps.bounding, reterr)) < 0 ||
	     (r = caps_from_json(caps, "effective", &p->caps.effective, reterr)) < 0 ||
	     (r = caps_from_json(caps, "permitted", &p->caps.permitted, reterr)) < 0 ||
	     (r = caps_from_json(caps, "inheritable", &p->caps.inheritable, reterr)) < 0 ||
	     (r = caps_from_json(caps, "ambient", &p->caps.ambient, reterr)) < 0))
		return r;
	if (rl && (!json_is_array(rl) || json_array_size(rl) > ARRAY_SIZE(rlimit_names)))
		return err_set(reterr, -EINVAL, "rlimits must be an array of at most %zu limits", ARRAY_SIZE(rlimit_names));
	for (size_t i = 0; rl && i < json_array_size(rl); i++) {
		json_t *o = json_array_get(rl, i);
		const char *type = json_string_value(json_object_get(o, "type"));
		int res = -1;
		for (size_t k = 0; type && k < ARRAY_SIZE(rlimit_names); k++)
			if (strcmp(type, rlimit_names[k].name) == 0)
				res = rlimit_names[k].resource;
		if (res < 0 || res >= RLIMITS_COUNT)
			return err_set(reterr, -EINVAL, "unknown rlimit type \"%s\"", type ? type : "");
		struct rlimits_value *lim = &p->rlimits.limit[res];
		if ((r = rlimit_from_json(o, "soft", &lim->soft, reterr)) < 0 ||
		    (r = rlimit_from_json(o, "hard", &lim->hard, reterr)) < 0)
			return r;
	}
	return 0;
}

static int linux_from_json(json_t *lnx, struct rt_spec *spec, char **reterr)
{
	json_t *nss = json_object_get(lnx, "namespaces"), *res;
	json_t *sysctl = json_object_get(lnx, "sysctl");
	int r;
	if (!lnx)
		return 0;
	if (!json_is_object(lnx))
		return err_set(reterr, -EINVAL, "field \"linux\" must be an object");
	if ((r = get_obj(lnx, "resources", &res, reterr)) < 0)
		return r;
	if (nss && (!json_is_array(nss) || json_array_size(nss) > ARRAY_SIZE(ns_types)))
		return err_set(reterr, -EINVAL, "linux.namespaces must be an array of at most %zu namespaces",
			       ARRAY_SIZE(ns_types));
	int seen = 0;
	for (size_t i = 0; nss && i < json_array_size(nss); i++) {
		json_t *o = json_array_get(nss, i);
		const char *type = json_string_value(json_object_get(o, "type"));
		int flag = ns_flag(type);
		if (!json_is_object(o) || !flag)
			return err_set(reterr, -EINVAL, "unknown namespace type \"%s\"", type ? type : "");
		if (seen & flag)
			return err_set(reterr, -EINVAL, "namespace type \"%s\" is listed twice", type);
		seen |= flag;
		_cleanup_free_ char *path = NULL;
		if ((r = get_str(o, "path", false, &path, reterr)) < 0)
			return r;
		if (!path) {
			spec->namespaces |= flag;
			continue;
		}
		struct rt_ns_path *v = realloc(spec->ns_paths, (spec->n_ns_paths + 1) * sizeof(*v));
		if (!v)
			return err_set(reterr, -ENOMEM, "out of memory");
		spec->ns_paths = v;
		v[spec->n_ns_paths++] = (struct rt_ns_path){ .type = flag, .path = TAKE_PTR(path) };
	}
	if ((r = idmaps_from_json(json_object_get(lnx, "uidMappings"), "uidMappings", &spec->uid_mappings,
				  &spec->n_uid_mappings, reterr)) < 0 ||
	    (r = idmaps_from_json(json_object_get(lnx, "gidMappings"), "gidMappings", &spec->gid_mappings,
				  &spec->n_gid_mappings, reterr)) < 0 ||
	    (r = get_strv(lnx, "maskedPaths", false, &spec->masked_paths, reterr)) < 0 ||
	    (r = get_strv(lnx, "readonlyPaths", false, &spec->readonly_paths, reterr)) < 0)
		return r;
	if (json_is_object(res)) {
		uint64_t quota = 0, period = 100000, pids = 0;
		json_t *cpu, *memory, *pids_obj;
		if ((r = get_obj(res, "memory", &memory, reterr)) < 0 || (r = get_obj(res, "pids", &pids_obj, reterr)) < 0 ||
		    (r = get_obj(res, "cpu", &cpu, reterr)) < 0 ||
		    (r = get_u64(memory, "limit", INT64_MAX, &spec->resources.memory, reterr)) < 0 ||
		    (r = get_u64(pids_obj, "limit", INT64_MAX, &pids, reterr)) < 0 ||
		    (r = get_u64(cpu, "quota", INT64_MAX, &quota, reterr)) < 0 ||
		    (r = get_u64(cpu, "period", 1000000, &period, reterr)) < 0)
			return r;
		spec->resources.pids = (int64_t)pids;
		/* A quota must stay a limit: one that rounds to no CPU at all (or has no period) would
		 * silently mean "unlimited", quota * 1000 must not wrap, and spec_to_json writes
		 * cpus_milli * 100 back as the quota for a period of 100000, which must read back. */
		if (quota && (!period || quota > INT64_MAX / 1000 || quota * 1000 / period == 0 ||
			      quota * 1000 / period > INT64_MAX / 100000))
			return err_set(reterr, -EINVAL,
				       "linux.resources.cpu: quota/period must be between 0.001 and %" PRId64 " CPUs",
				       INT64_MAX / 100000 / 1000);
		if (quota)
			spec->resources.cpus_milli = quota * 1000 / period;
	}
	if (sysctl && (!json_is_object(sysctl) || json_object_size(sysctl) > SPEC_MAX_LIST))
		return err_set(reterr, -EINVAL, "linux.sysctl must be an object of strings");
	if (sysctl && json_object_size(sysctl)) {
		const char *key;
		json_t *val;
		size_t n = 0;
		if (!(spec->sysctl = calloc(json_object_size(sysctl) + 1, sizeof(char *))))
			return err_set(reterr, -ENOMEM, "out of memory");
		json_object_foreach(sysctl, key, val) {
			if (!json_is_string(val))
				return err_set(reterr, -EINVAL, "sysctl \"%s\" must be a string", key);
			/* Kept as "key=value": a key with '=' would read back as another key. */
			if (!*key || strchr(key, '='))
				return err_set(reterr, -EINVAL, "sysctl \"%s\" is not a valid name", key);
			if (asprintf(&spec->sysctl[n++], "%s=%s", key, json_string_value(val)) < 0)
				return err_set(reterr, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

static int ext_from_json(json_t *ext, struct rt_spec *spec, char **reterr)
{
	json_t *seccomp;
	_cleanup_free_ char *mode = NULL;
	int r;
	if (!ext)
		return 0;
	if (!json_is_object(ext))
		return err_set(reterr, -EINVAL, "field \"containd\" must be an object");
	if ((r = get_obj(ext, "seccomp", &seccomp, reterr)) < 0)
		return r;
	json_t *join = json_object_get(ext, "joinNamespaces");
	if (join && (!json_is_array(join) || json_array_size(join) > ARRAY_SIZE(ns_types)))
		return err_set(reterr, -EINVAL, "containd.joinNamespaces must be an array of namespace types");
	for (size_t i = 0; join && i < json_array_size(join); i++) {
		const char *type = json_string_value(json_array_get(join, i));
		int flag = ns_flag(type);
		if (!flag)
			return err_set(reterr, -EINVAL, "unknown namespace type \"%s\"", type ? type : "");
		spec->join_namespaces |= flag;
	}
	if ((r = get_strv(ext, "lowerdirs", false, &spec->overlay.lowerdirs, reterr)) < 0 ||
	    (r = get_str(ext, "upperdir", false, &spec->overlay.upperdir, reterr)) < 0 ||
	    (r = get_str(ext, "workdir", false, &spec->overlay.workdir, reterr)) < 0 ||
	    (r = get_str(ext, "staging", false, &spec->overlay.staging, reterr)) < 0 ||
	    (r = get_str(ext, "user", false, &spec->process.user, reterr)) < 0 ||
	    (r = get_strv(ext, "deviceRules", false, &spec->device_rules, reterr)) < 0 ||
	    (r = get_bool(ext, "devicesAllowAll", &spec->devices_allow_all, reterr)) < 0 ||
	    (r = get_bool(ext, "privileged", &spec->privileged, reterr)) < 0 ||
	    (r = get_bool(ext, "volatile", &spec->overlay.ephemeral, reterr)) < 0)
		return r;
	if (json_is_object(seccomp)) {
		if ((r = get_str(seccomp, "mode", false, &mode, reterr)) < 0 ||
		    (r = get_str(seccomp, "profile", false, &spec->seccomp.profile_json, reterr)) < 0)
			return r;
		if (!mode || strcmp(mode, "default") == 0)
			spec->seccomp.mode = RT_SECCOMP_DEFAULT;
		else if (strcmp(mode, "unconfined") == 0)
			spec->seccomp.mode = RT_SECCOMP_UNCONFINED;
		else if (strcmp(mode, "custom") == 0)
			spec->seccomp.mode = RT_SECCOMP_CUSTOM;
		else
			return err_set(reterr, -EINVAL, "unknown seccomp mode \"%s\"", mode);
	}
	return 0;
}

int spec_from_json(json_t *doc, struct rt_spec *ret, char **reterr)
{
	struct rt_spec spec = { 0 };
	json_t *root = json_object_get(doc, "root"), *mounts = json_object_get(doc, "mounts");
	int r;
	if (!json_is_object(doc))
		return err_set(reterr, -EINVAL, "the spec must be a JSON object");
	if ((r = process_from_json(json_object_get(doc, "process"), &spec.process, reterr)) < 0)
		goto fail;
	if (!json_is_object(root)) {
		r = err_set(reterr, -EINVAL, "missing object \"root\"");
		goto fail;
	}
	if ((r = get_str(root, "path", true, &spec.root_path, reterr)) < 0 ||
	    (r = get_bool(root, "readonly", &spec.root_readonly, reterr)) < 0 ||
	    (r = get_str(doc, "hostname", false, &spec.hostname, reterr)) < 0)
		goto fail;
	if (mounts && (!json_is_array(mounts) || json_array_size(mounts) > SPEC_MAX_LIST)) {
		r = err_set(reterr, -EINVAL, "mounts must be an array");
		goto fail;
	}
	if (mounts && json_array_size(mounts)) {
		spec.mounts = calloc(json_array_size(mounts), sizeof(*spec.mounts));
		if (!spec.mounts) {
			r = err_set(reterr, -ENOMEM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < json_array_size(mounts); i++) {
			spec.n_mounts++;
			if ((r = mount_from_json(json_array_get(mounts, i), &spec.mounts[i], reterr)) < 0)
				goto fail;
		}
	}
	if ((r = linux_from_json(json_object_get(doc, "linux"), &spec, reterr)) < 0 ||
	    (r = ext_from_json(json_object_get(doc, "containd"), &spec, reterr)) < 0 ||
	    (r = spec_validate(&spec, reterr)) < 0)
		goto fail;
	*ret = spec;
	return 0;
fail:
	spec_done(&spec);
	return r;
}
