#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/strv.h"
#include "common/util.h"
#include "daemon/container-mounts.h"
#include "daemon/container.h"
#include "daemon/image-store.h"
#include "daemon/registry.h"
#include "daemon/volume.h"
#include "protocol/volume.h"
#include "runtime/spec.h"

static const char *const type_names[] = {
    [CONTAINER_MOUNT_BIND] = "bind",
    [CONTAINER_MOUNT_VOLUME] = "volume",
    [CONTAINER_MOUNT_TMPFS] = "tmpfs",
};

void container_mounts_free(struct container_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].source);
		free(m[i].target);
	}
	free(m);
}

static bool has_target(const struct container_mount *m, size_t n, const char *target)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].target, target) == 0)
			return true;
	return false;
}

/* --volumes-from REF[:ro|rw]: the binds and volumes of another container, at the same targets,
 * read-only or read-write as asked (else as they are there); a target this container mounts
 * itself keeps its own. The other's anonymous volumes are not this container's to remove. */
static int add_volumes_from(struct container *ct, const char *spec, char **reterr)
{
	struct container_config *cfg = &ct->cfg;
	const char *colon = strchr(spec, ':');
	_cleanup_free_ char *ref = strndup(spec, colon ? (size_t)(colon - spec) : strlen(spec));
	if (!ref)
		return err_set(reterr, -ENOMEM, "out of memory");
	_cleanup_free_ char *why = NULL;
	struct container *from = registry_find(ct->reg, ref, &why);
	if (!from)
		return err_set(reterr, -ENOENT, "No such container: %s", ref);
	for (size_t i = 0; i < from->cfg.n_mounts; i++) {
		const struct container_mount *m = &from->cfg.mounts[i];
		if (m->type == CONTAINER_MOUNT_TMPFS || has_target(cfg->mounts, cfg->n_mounts, m->target))
			continue;
		struct container_mount *nm = realloc(cfg->mounts, (cfg->n_mounts + 1) * sizeof(*nm));
		if (!nm)
			return err_set(reterr, -ENOMEM, "out of memory");
		cfg->mounts = nm;
		nm = &cfg->mounts[cfg->n_mounts];
		*nm = *m;
		nm->anonymous = false;
		nm->readonly = colon ? strcmp(colon, ":ro") == 0 : m->readonly;
		nm->source = strdup(m->source);
		nm->target = strdup(m->target);
		cfg->n_mounts++;
		if (!nm->source || !nm->target)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	return 0;
}

/* A bind's source is looked up, and made when missing (Docker's -v makes a missing host directory;
 * --mount refuses it), with the rights of the client that asked, not the daemon's: the daemon never
 * opens or creates a path a client names with its own privileges. A member of the socket's group
 * cannot have the daemon make directories in, or find out what is in, places it cannot reach
 * itself; what it made is its own. (The init mounts the path later as root: access to the socket
 * stays root-equivalent, docs/security.md, as a privileged container shows.) */
static int resolve_bind(struct container_mount *m, const struct peer_creds *peer, char **reterr)
{
	struct peer_saved saved;
	struct stat st;
	int r = peer_assume(peer, &saved);
	if (r < 0)
		return err_set(reterr, r, "cannot take on the client's credentials to look up %s: %m", m->source);
	if (stat(m->source, &st) == 0)
		r = 0;
	else if (errno != ENOENT)
		r = err_set(reterr, -errno, "invalid mount config for type \"bind\": %s: %m", m->source);
	else if (!m->create_source)
		r = err_set(reterr, -ENOENT, "invalid mount config for type \"bind\": bind source path does not exist: %s",
			    m->source);
	else if ((r = mkdir_p(m->source, 0755)) < 0)
		err_set(reterr, r, "error while creating mount source path '%s': %m", m->source);
	peer_restore(&saved);
	return r;
}

/* The image's Config.Volumes: an anonymous volume at each path the container does not mount
 * otherwise, as Docker makes them. */
static int add_image_volumes(struct container *ct, const struct image *image, char **reterr)
{
	struct container_config *cfg = &ct->cfg;
	/* In a user namespace volumes are refused (container_mounts_resolve): the paths stay in the
	 * container's own upper dir instead, which its root can write. */
	for (char **v = image && !ct->userns ? image->volumes : NULL; v && *v; v++) {
		if ((*v)[0] != '/' || has_target(cfg->mounts, cfg->n_mounts, *v))
			continue;
		struct container_mount *nm = realloc(cfg->mounts, (cfg->n_mounts + 1) * sizeof(*nm));
		if (!nm)
			return err_set(reterr, -ENOMEM, "out of memory");
		cfg->mounts = nm;
		nm[cfg->n_mounts] = (struct container_mount){.type = CONTAINER_MOUNT_VOLUME, .tmpfs_mode = -1};
		if (!(nm[cfg->n_mounts++].target = strdup(*v)))
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	return 0;
}

int container_mounts_resolve(struct container *ct, const struct image *image, char **reterr)
{
	struct container_config *cfg = &ct->cfg;
	int r;
	for (char **v = cfg->volumes_from; v && *v; v++)
		if ((r = add_volumes_from(ct, *v, reterr)) < 0)
			return r;
	strv_free(TAKE_PTR(cfg->volumes_from));
	if ((r = add_image_volumes(ct, image, reterr)) < 0)
		return r;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct container_mount *m = &cfg->mounts[i];
		/* In a user namespace the container's root is an unprivileged host uid: a host
		 * directory or a volume would show its files as owned by nobody and refuse its writes
		 * (an idmapped mount would be needed). Refused plainly rather than half working. */
		if (ct->userns && m->type != CONTAINER_MOUNT_TMPFS)
			return err_set(reterr, -EOPNOTSUPP,
				       "%s mounts are not supported in a user namespace (--userns=auto or containd "
				       "--userns-remap): "
				       "run with --userns=host, or use --tmpfs",
				       type_names[m->type]);
		if (m->type == CONTAINER_MOUNT_BIND && (r = resolve_bind(m, &cfg->peer, reterr)) < 0)
			return r;
		if (m->type == CONTAINER_MOUNT_VOLUME) {
			bool created;
			char *name = NULL;
			if ((r = volume_create(ct->reg->root, m->source, NULL, !m->source, &created, &name, reterr)) <
			    0)
				return r;
			if (!m->source)
				m->anonymous = true;
			free(m->source);
			m->source = name;
		}
	}
	cfg->mounts_resolved = true;
	return 0;
}

static size_t depth(const char *path)
{
	size_t n = 0;
	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			n++;
	return n;
}

static int compare_depth(const void *a, const void *b)
{
	const struct container_mount *x = *(const struct container_mount *const *)a,
				     *y = *(const struct container_mount *const *)b;
	size_t dx = depth(x->target), dy = depth(y->target);
	return (dx > dy) - (dx < dy);
}

/* One spec mount: a recursive private bind for binds and volumes (a volume with the image's
 * content copied in when it is still empty, unless nocopy), a tmpfs that is always nosuid and
 * nodev (noexec unless asked: Docker's defaults) for tmpfs. */
static int spec_mount(const struct container *ct, const struct container_mount *m, struct rt_mount *out)
{
	*out = (struct rt_mount){.flags = m->readonly ? MS_RDONLY : 0};
	if (!(out->destination = strdup(m->target)))
		return -ENOMEM;
	if (m->type == CONTAINER_MOUNT_TMPFS) {
		char data[64];
		int n = snprintf(data, sizeof(data), "mode=%o", m->tmpfs_mode >= 0 ? (unsigned)m->tmpfs_mode : 01777u);
		if (m->tmpfs_size)
			snprintf(data + n, sizeof(data) - (size_t)n, ",size=%llu", (unsigned long long)m->tmpfs_size);
		out->flags |= MS_NOSUID | MS_NODEV | (m->tmpfs_exec ? 0 : MS_NOEXEC);
		if (!(out->type = strdup("tmpfs")) || !(out->source = strdup("tmpfs")) || !(out->data = strdup(data)))
			return -ENOMEM;
		return 0;
	}
	out->flags |= MS_BIND | MS_REC;
	if (!(out->type = strdup("bind")))
		return -ENOMEM;
	if (m->type == CONTAINER_MOUNT_BIND)
		return (out->source = strdup(m->source)) ? 0 : -ENOMEM;
	out->copy_up = !m->nocopy && volume_is_empty(ct->reg->root, m->source);
	return (out->source = volume_data_path(ct->reg->root, m->source)) ? 0 : -ENOMEM;
}

int container_mounts_to_spec(const struct container *ct, struct rt_spec *spec, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	spec->root_readonly = cfg->read_only;
	if (!cfg->n_mounts)
		return 0;
	_cleanup_free_ const struct container_mount **order = calloc(cfg->n_mounts, sizeof(*order));
	struct rt_mount *mounts = realloc(spec->mounts, (spec->n_mounts + cfg->n_mounts) * sizeof(*mounts));
	if (!order || !mounts)
		return err_set(reterr, -ENOMEM, "out of memory");
	spec->mounts = mounts;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		order[i] = &cfg->mounts[i];
	/* Parents first, so /data/logs lands on the /data volume, not under it. */
	qsort(order, cfg->n_mounts, sizeof(*order), compare_depth);
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		int r = spec_mount(ct, order[i], &spec->mounts[spec->n_mounts]);
		spec->n_mounts++;
		if (r < 0)
			return err_set(reterr, r, "out of memory");
	}
	return 0;
}

bool container_uses_volume(const struct container *ct, const char *name)
{
	if (ct->removing)
		return false;
	for (size_t i = 0; i < ct->cfg.n_mounts; i++)
		if (ct->cfg.mounts[i].type == CONTAINER_MOUNT_VOLUME && ct->cfg.mounts[i].source &&
		    strcmp(ct->cfg.mounts[i].source, name) == 0)
			return true;
	return false;
}

void container_mounts_delete_anonymous(const struct container *ct)
{
	for (size_t i = 0; i < ct->cfg.n_mounts; i++) {
		const struct container_mount *m = &ct->cfg.mounts[i];
		bool shared = false;
		if (m->type != CONTAINER_MOUNT_VOLUME || !m->anonymous || !m->source)
			continue;
		for (const struct container *o = ct->reg->list; o && !shared; o = o->next)
			shared = o != ct && container_uses_volume(o, m->source);
		if (shared)
			continue;
		int r = volume_delete(ct->reg->root, m->source);
		if (r < 0)
			log_warning("container %.12s: cannot remove the volume %s: %s", ct->id, m->source,
				    strerror(-r));
	}
}

json_t *container_mounts_to_json(const struct container_config *cfg)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < cfg->n_mounts; i++) {
		const struct container_mount *m = &cfg->mounts[i];
		if (json_array_append_new(a, json_pack("{s:s, s:s?, s:s, s:b, s:b, s:b, s:b, s:I, s:i, s:b}", "type",
						       type_names[m->type], "source", m->source, "target", m->target,
						       "readonly", m->readonly, "nocopy", m->nocopy, "anonymous",
						       m->anonymous, "create_source", m->create_source, "tmpfs_size",
						       (json_int_t)m->tmpfs_size, "tmpfs_mode", m->tmpfs_mode,
						       "tmpfs_exec", m->tmpfs_exec)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int container_mounts_from_json(json_t *a, struct container_config *cfg)
{
	cfg->mounts_resolved = true;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 256)
		return -EBADMSG;
	if (!json_array_size(a))
		return 0;
	if (!(cfg->mounts = calloc(json_array_size(a), sizeof(*cfg->mounts))))
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++) {
		struct container_mount *m = &cfg->mounts[i];
		const char *type, *source = NULL, *target;
		int ro, nocopy, anon, create, exec, mode;
		json_int_t size;
		json_t *src = NULL;
		/* A tmpfs has no source: null in the record. */
		if (json_unpack(json_array_get(a, i), "{s:s, s?o, s:s, s:b, s:b, s:b, s:b, s:I, s:i, s:b}", "type",
				&type, "source", &src, "target", &target, "readonly", &ro, "nocopy", &nocopy,
				"anonymous", &anon, "create_source", &create, "tmpfs_size", &size, "tmpfs_mode", &mode,
				"tmpfs_exec", &exec) < 0 ||
		    target[0] != '/' || size < 0 || mode < -1 || mode > 07777 ||
		    (src && !json_is_null(src) && !json_is_string(src)))
			return -EBADMSG;
		source = json_string_value(src);
		size_t t;
		for (t = 0; t < ARRAY_SIZE(type_names) && strcmp(type, type_names[t]) != 0; t++)
			;
		/* Every path below is built from these: a volume name must be one (no "/", no ".."), a
		 * bind's source absolute. */
		if (t == ARRAY_SIZE(type_names) || (t != CONTAINER_MOUNT_TMPFS && !source) ||
		    (t == CONTAINER_MOUNT_VOLUME && !proto_volume_name_valid(source)) ||
		    (t == CONTAINER_MOUNT_BIND && source[0] != '/'))
			return -EBADMSG;
		*m = (struct container_mount){.type = (enum container_mount_type)t,
					      .readonly = ro,
					      .nocopy = nocopy,
					      .anonymous = anon,
					      .create_source = create,
					      .tmpfs_size = (uint64_t)size,
					      .tmpfs_mode = mode,
					      .tmpfs_exec = exec};
		cfg->n_mounts++;
		if ((source && !(m->source = strdup(source))) || !(m->target = strdup(target)))
			return -ENOMEM;
	}
	return 0;
}

json_t *container_mounts_inspect(const struct container *ct)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < ct->cfg.n_mounts; i++) {
		const struct container_mount *m = &ct->cfg.mounts[i];
		_cleanup_free_ char *data =
		    m->type == CONTAINER_MOUNT_VOLUME ? volume_data_path(ct->reg->root, m->source) : NULL;
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", type_names[m->type], "Source",
				      m->type == CONTAINER_MOUNT_VOLUME ? (data ? data : "")
				      : m->source			? m->source
									: "",
				      "Destination", m->target, "Mode", m->readonly ? "ro" : "", "RW", !m->readonly,
				      "Propagation", m->type == CONTAINER_MOUNT_BIND ? "rprivate" : "");
		if (o && m->type == CONTAINER_MOUNT_VOLUME &&
		    (json_object_set_new(o, "Name", json_string(m->source)) < 0 ||
		     json_object_set_new(o, "Driver", json_string("local")) < 0)) {
			json_decref(o);
			o = NULL;
		}
		if (json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
