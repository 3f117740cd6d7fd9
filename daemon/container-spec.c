#include <errno.h>
#include <stdint.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/strv.h"
#include "common/parse.h"
#include "daemon/container-mounts.h"
#include "daemon/container-network.h"
#include "daemon/container-ns.h"
#include "daemon/container-spec.h"
#include "daemon/container.h"
#include "daemon/image-store.h"
#include "daemon/registry.h"
#include "runtime/caps.h"
#include "runtime/devices.h"
#include "runtime/process.h"
#include "runtime/userns.h"

int container_spec_env_set(char ***env, size_t *n, const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (!eq)
		return 0;
	size_t klen = (size_t)(eq - entry);
	char *dup = strdup(entry);
	if (!dup)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		if (strncmp((*env)[i], entry, klen + 1) == 0) {
			free((*env)[i]);
			(*env)[i] = dup;
			return 0;
		}
	char **nv = realloc(*env, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(dup);
		return -ENOMEM;
	}
	nv[(*n)++] = dup;
	nv[*n] = NULL;
	*env = nv;
	return 0;
}

/* The environment as Docker builds it: a default PATH, HOSTNAME, the image's Env, then -e, and
 * TERM with a tty. HOME comes from the user's passwd entry, in the init. */
static int build_env(const struct container *ct, const struct image *image, const char *hostname, char ***ret)
{
	char **env = NULL;
	size_t n = 0;
	_cleanup_free_ char *hostname_entry = NULL;
	if (asprintf(&hostname_entry, "HOSTNAME=%s", hostname) < 0)
		return -ENOMEM;
	int r = container_spec_env_set(&env, &n, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (r == 0)
		r = container_spec_env_set(&env, &n, hostname_entry);
	for (char **e = image->env; r == 0 && e && *e; e++)
		r = container_spec_env_set(&env, &n, *e);
	for (char **e = ct->cfg.env; r == 0 && e && *e; e++)
		r = container_spec_env_set(&env, &n, *e);
	if (r == 0 && ct->cfg.stdio == CONTAINER_STDIO_PTY) {
		bool has_term = false;
		for (char **e = env; e && *e; e++)
			has_term |= strncmp(*e, "TERM=", 5) == 0;
		if (!has_term)
			r = container_spec_env_set(&env, &n, "TERM=xterm");
	}
	if (r < 0) {
		strv_free(env);
		return r;
	}
	*ret = env;
	return 0;
}

static bool hostname_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 64 || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			return false;
	return true;
}

/* The overlay: image layers below (topmost first), the container's own upper dir above. */
static int build_root(const struct container *ct, const struct image *image, struct rt_spec *spec, char **reterr)
{
	struct registry *reg = ct->reg;
	size_t nlayers = 0;
	while (image->layers && image->layers[nlayers])
		nlayers++;
	if (nlayers == 0)
		return err_set(reterr, -EINVAL, "the image has no layers");
	spec->overlay.lowerdirs = calloc(nlayers + 1, sizeof(char *));
	if (!spec->overlay.lowerdirs)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nlayers; i++) {
		int r = image_store_layer_path(reg->images, image->layers[nlayers - 1 - i], &spec->overlay.lowerdirs[i]);
		if (r < 0)
			return err_set(reterr, r, "image layer %s is missing: %m", image->layers[nlayers - 1 - i]);
	}
	_cleanup_free_ char *dir = registry_container_dir(reg, ct->id);
	spec->overlay.ephemeral = ct->cfg.rm;
	if (!dir || asprintf(&spec->overlay.upperdir, "%s/upper", dir) < 0 ||
	    asprintf(&spec->overlay.workdir, "%s/work", dir) < 0 || !(spec->root_path = strdup(reg->mountpoint)))
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* Docker's rules for what a client may change: capabilities, seccomp, no_new_privs, the masked
 * and read-only paths, rlimits. Each starts from the hardened default. */
static int build_confinement(const struct container *ct, struct rt_spec *spec, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	uint64_t caps;
	int r = caps_compute(cfg->cap_add, cfg->cap_drop, cfg->privileged, &caps, reterr);
	if (r < 0)
		return r;
	if (cfg->privileged)
		spec_make_privileged(spec, caps_all());
	spec->process.caps = (struct rt_caps){ .bounding = caps, .effective = caps, .permitted = caps };
	spec->process.no_new_privileges = cfg->no_new_privileges;
	if (!cfg->privileged) {
		spec->seccomp.mode = cfg->seccomp;
		if (cfg->seccomp == RT_SECCOMP_CUSTOM && !(spec->seccomp.profile_json = strdup(cfg->seccomp_profile)))
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (cfg->system_paths_unconfined) {
		strv_free(TAKE_PTR(spec->masked_paths));
		strv_free(TAKE_PTR(spec->readonly_paths));
	}
	for (size_t i = 0; i < cfg->n_ulimits; i++) {
		const struct container_ulimit *u = &cfg->ulimits[i];
		if (u->resource < 0 || u->resource >= RLIMITS_COUNT || u->soft > u->hard)
			return err_set(reterr, -EINVAL, "invalid ulimit");
		spec->process.rlimits.limit[u->resource] = (struct rlimits_value){ .soft = u->soft, .hard = u->hard };
	}
	size_t n = 0;
	for (char **rule = cfg->device_rules; rule && *rule; rule++, n++) {
		struct device_rule parsed;
		if (n >= DEVICE_RULES_MAX)
			return err_set(reterr, -EINVAL, "at most %d device cgroup rules", DEVICE_RULES_MAX);
		if ((r = devices_rule_parse(*rule, &parsed, reterr)) < 0)
			return r;
	}
	if (cfg->device_rules && !(spec->device_rules = strv_copy((const char *const *)cfg->device_rules, SIZE_MAX)))
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* --init: containd-tini becomes PID 1, bound read-only from the daemon's own copy on the host
 * (never a path a client names), and the command its child: [CONTAINER_TINI_PATH, "--", cmd...].
 *
 * Why the bind is safe: its source is the daemon's installed helper, found the way containd-init
 * is, and checked here to be a regular file; the mount is read-only, nosuid and nodev, after
 * the /dev tmpfs it lands on (a later mount in spec order). Without CAP_SYS_ADMIN a container
 * cannot remount it writable; in a user namespace it could remount its own mount, but the file
 * belongs to the host's root, who is unmapped there, so it still cannot write it. A privileged
 * container can, as it can write the host's disks anyway. */
static int build_init(struct rt_spec *spec, char **reterr)
{
	char path[PATH_MAX];
	int r = rt_helper_path("containd-tini", path, sizeof(path));
	if (r < 0)
		return err_set(reterr, r, "cannot locate containd-tini: %m");
	struct stat st;
	if (stat(path, &st) < 0)
		return err_set(reterr, -errno, "cannot use --init: %s: %m", path);
	if (!S_ISREG(st.st_mode))
		return err_set(reterr, -EINVAL, "cannot use --init: %s is not a regular file", path);

	size_t n = 0;
	while (spec->process.args[n])
		n++;
	char **args = calloc(n + 3, sizeof(char *));
	if (!args)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (!(args[0] = strdup(CONTAINER_TINI_PATH)) || !(args[1] = strdup("--"))) {
		strv_free(args);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	memcpy(args + 2, spec->process.args, n * sizeof(char *));
	free(spec->process.args);
	spec->process.args = args;

	struct rt_mount *mounts = realloc(spec->mounts, (spec->n_mounts + 1) * sizeof(*mounts));
	if (!mounts)
		return err_set(reterr, -ENOMEM, "out of memory");
	spec->mounts = mounts;
	struct rt_mount *m = &mounts[spec->n_mounts];
	*m = (struct rt_mount){ .flags = MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV };
	spec->n_mounts++;
	if (!(m->destination = strdup(CONTAINER_TINI_PATH)) || !(m->type = strdup("bind")) ||
	    !(m->source = strdup(path)))
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* The command as Docker puts it together: the entrypoint (--entrypoint's, else the image's)
 * followed by the command (the client's, else the image's unless --entrypoint replaced the
 * entrypoint: a new entrypoint does not inherit the old one's arguments). */
static int build_args(const struct container_config *cfg, const struct image *image, char ***ret, char **reterr)
{
	char *const *entrypoint = cfg->entrypoint_set ? cfg->entrypoint : image->entrypoint;
	char *const *cmd = cfg->cmd ? cfg->cmd : cfg->entrypoint_set ? NULL : image->cmd;
	size_t ne = 0, nc = 0;
	while (entrypoint && entrypoint[ne])
		ne++;
	while (cmd && cmd[nc])
		nc++;
	if (ne + nc == 0)
		return err_set(reterr, -EINVAL, "no command specified and the image has no default command");
	_cleanup_strv_free_ char **args = calloc(ne + nc + 1, sizeof(char *));
	if (!args)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ne + nc; i++)
		if (!(args[i] = strdup(i < ne ? entrypoint[i] : cmd[i - ne])))
			return err_set(reterr, -ENOMEM, "out of memory");
	*ret = TAKE_PTR(args);
	return 0;
}

int container_build_spec(const struct container *ct, const struct image *image, struct rt_spec *ret, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	struct rt_spec spec;
	int r = spec_init_default(&spec, reterr);
	if (r < 0)
		return r;
	/* A shared network or UTS namespace brings its name (the host's, or the other container's). */
	_cleanup_free_ char *shared_hostname = NULL;
	if ((r = container_ns_hostname(ct, &shared_hostname, reterr)) < 0)
		goto fail;
	const char *hostname = shared_hostname ? shared_hostname : cfg->hostname;
	char short_id[13];
	if (!hostname) {
		memcpy(short_id, ct->id, 12);
		short_id[12] = '\0';
		hostname = short_id;
	}
	if (!hostname_valid(hostname)) {
		r = err_set(reterr, -EINVAL, "invalid hostname \"%.80s\": at most 64 letters, digits, '-' and '.'",
			    hostname);
		goto fail;
	}
	if (cfg->user && !user_spec_valid(cfg->user)) {
		r = err_set(reterr, -EINVAL, "invalid user \"%.80s\": expected NAME|UID[:GROUP|GID]", cfg->user);
		goto fail;
	}
	const char *workdir = cfg->workdir ? cfg->workdir : image->workdir ? image->workdir : "/";
	if (workdir[0] != '/') {
		r = err_set(reterr, -EINVAL, "the working directory \"%s\" is not an absolute path", workdir);
		goto fail;
	}
	if ((r = build_args(cfg, image, &spec.process.args, reterr)) < 0)
		goto fail;
	/* Without -u, the image's User, else root: the groups and HOME still come from the image's
	 * passwd and group files, as with Docker. */
	const char *user = cfg->user ? cfg->user : image->user && image->user[0] ? image->user : "0";
	if (!user_spec_valid(user)) {
		r = err_set(reterr, -EINVAL, "invalid user \"%.80s\" in the image: expected NAME|UID[:GROUP|GID]", user);
		goto fail;
	}
	if (!(spec.hostname = strdup(hostname)) || !(spec.process.cwd = strdup(workdir)) ||
	    !(spec.process.user = strdup(user))) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = build_env(ct, image, hostname, &spec.process.env)) < 0) {
		err_set(reterr, r, "out of memory");
		goto fail;
	}
	spec.process.terminal = cfg->stdio == CONTAINER_STDIO_PTY;
	spec.process.console_rows = cfg->tty_rows;
	spec.process.console_cols = cfg->tty_cols;
	spec.resources = cfg->limits;
	if (ct->userns) {
		/* Root in the container is the slice's first host uid: see runtime/userns.h. */
		struct userns_idmap u, g;
		userns_slice_maps(&ct->slice, &u, &g);
		spec.namespaces |= CLONE_NEWUSER;
		spec.uid_mappings = calloc(1, sizeof(*spec.uid_mappings));
		spec.gid_mappings = calloc(1, sizeof(*spec.gid_mappings));
		if (!spec.uid_mappings || !spec.gid_mappings || !(spec.overlay.staging = strdup(ct->reg->staging))) {
			r = err_set(reterr, -ENOMEM, "out of memory");
			goto fail;
		}
		spec.uid_mappings[0] = (struct rt_idmap){ u.inside, u.outside, u.count };
		spec.gid_mappings[0] = (struct rt_idmap){ g.inside, g.outside, g.count };
		spec.n_uid_mappings = spec.n_gid_mappings = 1;
	}
	if ((cfg->init && (r = build_init(&spec, reterr)) < 0) || (r = container_network_spec_mounts(ct, &spec, reterr)) < 0 ||
	    (r = container_mounts_to_spec(ct, &spec, reterr)) < 0 ||
	    (r = build_root(ct, image, &spec, reterr)) < 0 || (r = container_network_spec_root(ct, &spec, reterr)) < 0 ||
	    (r = build_confinement(ct, &spec, reterr)) < 0 || (r = container_ns_to_spec(ct, &spec, reterr)) < 0 ||
	    (r = spec_validate(&spec, reterr)) < 0)
		goto fail;
	*ret = spec;
	return 0;
fail:
	spec_done(&spec);
	return r;
}
