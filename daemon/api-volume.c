/* volume.create, volume.list, volume.inspect, volume.remove, volume.prune, and the mounts of
 * container.run params in the domain's terms. Deleting a volume's data (maybe gigabytes) runs in
 * an offload child; the reply waits for it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/strv.h"
#include "daemon/api-image.h"
#include "daemon/api-internal.h"
#include "daemon/container-mounts.h"
#include "daemon/container.h"
#include "daemon/offload.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "daemon/volume.h"
#include "protocol/volume.h"

int api_mounts_from_params(struct proto_run_params *p, struct container_config *cfg, char **reterr)
{
	cfg->read_only = p->read_only;
	cfg->volumes_from = TAKE_PTR(p->volumes_from);
	if (!p->n_mounts)
		return 0;
	if (!(cfg->mounts = calloc(p->n_mounts, sizeof(*cfg->mounts))))
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n_mounts; i++) {
		struct proto_mount *m = &p->mounts[i];
		cfg->mounts[i] = (struct container_mount){
		    .type = m->type == PROTO_MOUNT_BIND	    ? CONTAINER_MOUNT_BIND
			    : m->type == PROTO_MOUNT_VOLUME ? CONTAINER_MOUNT_VOLUME
							    : CONTAINER_MOUNT_TMPFS,
		    .source = TAKE_PTR(m->source),
		    .target = TAKE_PTR(m->target),
		    .readonly = m->readonly,
		    .nocopy = m->nocopy,
		    .create_source = m->create_source,
		    .tmpfs_size = m->tmpfs_size,
		    .tmpfs_mode = m->tmpfs_mode,
		    .tmpfs_exec = m->tmpfs_exec,
		};
		cfg->n_mounts++;
	}
	return 0;
}

/* How many containers (not being removed) mount the volume; the first one's id in first. */
static unsigned volume_users(struct api *api, const char *name, const char **first)
{
	unsigned n = 0;
	if (first)
		*first = NULL;
	for (struct container *ct = api->reg->list; ct; ct = ct->next)
		if (container_uses_volume(ct, name)) {
			if (first && !*first)
				*first = ct->id;
			n++;
		}
	return n;
}

static json_t *volume_json(struct api *api, const char *name, char **reterr)
{
	struct volume_info v;
	if (volume_get(api->reg->root, name, &v, reterr) < 0)
		return NULL;
	json_t *o = volume_info_json(api->reg->root, &v, volume_users(api, name, NULL));
	volume_info_done(&v);
	if (!o)
		err_set(reterr, -ENOMEM, "out of memory");
	return o;
}

void api_volume_create(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_volume_create_params p;
	_cleanup_free_ char *err = NULL, *name = NULL;
	bool created;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_volume_create_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	r = volume_create(api->reg->root, p.name, p.labels, false, &created, &name, &err);
	strv_free(p.labels);
	json_t *o = r < 0 ? NULL : volume_json(api, name, &err);
	if (!o) {
		api_reply_errno(c, req->id, r < 0 ? r : -ENOMEM, err);
		return;
	}
	conn_send_result(c, req->id, o, NULL, 0);
}

void api_volume_list(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	_cleanup_strv_free_ char **names = NULL;
	if (!api_expect_no_fds(c, req) || !api_expect_no_params(c, req))
		return;
	int r = volume_list(api->reg->root, &names);
	json_t *a = json_array();
	for (char **n = names; r == 0 && a && n && *n; n++) {
		json_t *o = volume_json(api, *n, NULL);
		if (o)
			json_array_append_new(a, o);
	}
	if (r < 0 || !a) {
		json_decref(a);
		api_reply_errno(c, req->id, r < 0 ? r : -ENOMEM, NULL);
		return;
	}
	conn_send_result(c, req->id, json_pack("{s:o}", "volumes", a), NULL, 0);
}

/* The params of inspect, remove and prune (a name, force, all), or false once c was told what is
 * wrong with them (fds, unknown fields). */
static bool volume_ref_decode(struct conn *c, struct proto_request *req, struct proto_volume_ref_params *p)
{
	_cleanup_free_ char *err = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return false;
	if ((r = proto_volume_ref_params_decode(req->method, req->params, p, &err)) < 0) {
		api_reply_params_error(c, req->id, r, err);
		return false;
	}
	return true;
}

void api_volume_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_volume_ref_params p;
	_cleanup_free_ char *err = NULL;
	if (!volume_ref_decode(c, req, &p))
		return;
	json_t *o = volume_json(api, p.name, &err);
	if (!o) {
		api_reply_errno(c, req->id, err && strstr(err, "no such volume") ? -ENOENT : -EIO, err);
		return;
	}
	conn_send_result(c, req->id, o, NULL, 0);
}

/* A removal (or prune) under way in an offload child: who is owed the reply, and what goes. */
struct volume_removal {
	struct api *api;
	struct conn *conn;
	json_t *id;
	char *root;
	char **names;
	json_t *result;
	/* prune: the bytes the child found in what it deleted, in a page shared with it (the
	 * child's memory is a copy), or MAP_FAILED. */
	uint64_t *reclaimed;
};

static int removal_run(void *arg)
{
	struct volume_removal *vr = arg;
	int r = 0;
	for (char **n = vr->names; n && *n; n++) {
		uint64_t bytes = 0;
		if (vr->reclaimed != MAP_FAILED && volume_usage(vr->root, *n, &bytes) == 0)
			*vr->reclaimed += bytes;
		int q = volume_delete(vr->root, *n);
		if (q < 0 && r == 0)
			r = q;
	}
	return r;
}

static void removal_done(int r, void *arg)
{
	struct volume_removal *vr = arg;
	if (vr->reclaimed != MAP_FAILED) {
		json_object_set_new(vr->result, "space_reclaimed", json_integer((json_int_t)*vr->reclaimed));
		munmap(vr->reclaimed, sizeof(*vr->reclaimed));
	}
	if (conn_is_open(vr->conn)) {
		if (r < 0)
			conn_send_error(vr->conn, vr->id, PROTO_E_INTERNAL, NULL, "cannot remove the volume: %s",
					strerror(-r));
		else
			conn_send_result(vr->conn, vr->id, TAKE_PTR(vr->result), NULL, 0);
	}
	conn_unref(vr->conn);
	json_decref(vr->id);
	json_decref(vr->result);
	free(vr->root);
	strv_free(vr->names);
	free(vr);
}

/* Deletes names (taken over) in a child and replies result (stolen) once they are gone; with
 * count_bytes, result gets "space_reclaimed", counted by the child before it deletes. */
static void remove_volumes(struct api *api, struct conn *c, json_t *id, char **names, json_t *result, bool count_bytes)
{
	struct volume_removal *vr = names && result ? calloc(1, sizeof(*vr)) : NULL;
	if (!vr || !(vr->root = strdup(api->reg->root))) {
		free(vr);
		strv_free(names);
		json_decref(result);
		conn_send_error(c, id, PROTO_E_INTERNAL, NULL, "out of memory");
		return;
	}
	*vr = (struct volume_removal){.api = api,
				      .conn = conn_ref(c),
				      .id = json_incref(id),
				      .root = vr->root,
				      .names = names,
				      .result = result,
				      .reclaimed = MAP_FAILED};
	if (count_bytes)
		vr->reclaimed =
		    mmap(NULL, sizeof(*vr->reclaimed), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (offload_run(api->base, "containd-volume-rm", removal_run, vr, removal_done, NULL, -1) < 0)
		removal_done(removal_run(vr), vr);
}

void api_volume_remove(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_volume_ref_params p;
	_cleanup_free_ char *err = NULL;
	struct volume_info v;
	const char *user;
	int r;
	if (!volume_ref_decode(c, req, &p))
		return;
	if ((r = volume_get(api->reg->root, p.name, &v, &err)) < 0) {
		/* -f: a volume that does not exist is no failure, as docker volume rm -f. */
		if (r == -ENOENT && p.force)
			conn_send_result(c, req->id, json_pack("{s:[]}", "removed"), NULL, 0);
		else
			api_reply_errno(c, req->id, r, err);
		return;
	}
	volume_info_done(&v);
	if (volume_users(api, p.name, &user) > 0) {
		conn_send_error(c, req->id, PROTO_E_CONFLICT, NULL, "remove %s: volume is in use - [%s]", p.name, user);
		return;
	}
	char **names = strv_copy((const char *const[]){p.name, NULL}, 1);
	remove_volumes(api, c, req->id, names, names ? json_pack("{s:[s]}", "removed", p.name) : NULL, false);
}

/* As docker volume prune: the unused anonymous volumes, or every unused one with all. */
void api_volume_prune(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_volume_ref_params p;
	_cleanup_strv_free_ char **names = NULL;
	int r;
	if (!volume_ref_decode(c, req, &p))
		return;
	if ((r = volume_list(api->reg->root, &names)) < 0) {
		api_reply_errno(c, req->id, r, NULL);
		return;
	}
	json_t *removed = json_array();
	size_t total = 0, n = 0;
	while (names[total])
		total++;
	char **taken = calloc(total + 1, sizeof(char *));
	for (char **name = names; removed && taken && *name; name++) {
		struct volume_info v;
		if (volume_get(api->reg->root, *name, &v, NULL) < 0)
			continue;
		bool take = (p.all || v.anonymous) && volume_users(api, *name, NULL) == 0;
		volume_info_done(&v);
		if (!take)
			continue;
		json_array_append_new(removed, json_string(*name));
		if (!(taken[n] = strdup(*name))) {
			json_decref(TAKE_PTR(removed));
			break;
		}
		n++;
	}
	if (!taken || !removed) {
		strv_free(TAKE_PTR(taken));
		json_decref(removed);
		removed = NULL;
	}
	json_t *result = removed ? json_pack("{s:o, s:i}", "removed", removed, "space_reclaimed", 0) : NULL;
	remove_volumes(api, c, req->id, taken, result, true);
}

int api_df_volumes(struct api *api, struct proto_df_row *row, api_df_add_fn add, void *ctx)
{
	_cleanup_strv_free_ char **names = NULL;
	*row = (struct proto_df_row){ 0 };
	int r = volume_list(api->reg->root, &names);
	if (r < 0)
		return r;
	for (char **n = names; *n; n++) {
		bool used = volume_users(api, *n, NULL) > 0;
		_cleanup_free_ char *data = volume_data_path(api->reg->root, *n);
		if (!data)
			return -ENOMEM;
		row->total++;
		row->active += used;
		if ((r = add(ctx, data, !used)) < 0)
			return r;
	}
	return 0;
}
