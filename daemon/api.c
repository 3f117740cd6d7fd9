#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/api.h"
#include "runtime/cgroup.h"
#include "daemon/api-internal.h"
#include "daemon/api-image.h"
#include "daemon/container.h"
#include "daemon/events.h"
#include "daemon/registry.h"
#include "daemon/scope.h"
#include "daemon/supervisor.h"
#include "daemon/image-store.h"
#include "daemon/options.h"
#include "daemon/server.h"
#include "protocol/cp.h"
#include "protocol/volume.h"
#include "protocol/endpoint.h"
#include "protocol/network.h"
#include "protocol/events.h"
#include "protocol/exec.h"
#include "protocol/logs.h"
#include "daemon/image-archive.h"
#include "protocol/image-archive.h"
#include "protocol/messages.h"
#include "protocol/image-pull.h"
#include "daemon/image-pull.h"
#include "daemon/network.h"

/* An image.import waiting for its worker; the client is answered when it finishes. */
struct pending_import {
	struct api_owed owed;
	struct api *api;
	char *name; /* normalized, for the events */
};

typedef void (*api_handler)(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg);

void api_reply_params_error(struct conn *c, json_t *id, int r, const char *err)
{
	conn_send_error(c, id, r == -EBADF ? PROTO_E_FDS : PROTO_E_PARAMS, NULL, "%s", err ? err : "invalid parameters");
}

void api_reply_errno(struct conn *c, json_t *id, int r, const char *err)
{
	const char *code = r == -ENOENT				     ? PROTO_E_NOT_FOUND
			   : r == -EEXIST || r == -EBUSY || r == -EPERM ? PROTO_E_CONFLICT
			   : r == -EINVAL || r == -E2BIG		     ? PROTO_E_PARAMS
			   : r == -ENOSPC				     ? PROTO_E_LIMIT
									     : PROTO_E_INTERNAL;
	conn_send_error(c, id, code, NULL, "%s", err ? err : strerror(-r));
}

bool api_refuse_shutting_down(struct api *api, struct conn *c, json_t *id)
{
	if (api->shutting_down)
		conn_send_error(c, id, PROTO_E_SHUTDOWN, NULL, "containd is shutting down");
	return api->shutting_down;
}

void api_owed_link(struct api_owed **head, struct api_owed *o, struct conn *c, json_t *id)
{
	o->conn = c ? conn_ref(c) : NULL;
	o->id = json_incref(id);
	o->prev = NULL;
	o->next = *head;
	if (*head)
		(*head)->prev = o;
	*head = o;
}

void api_owed_unlink(struct api_owed **head, struct api_owed *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else if (*head == o)
		*head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	o->prev = o->next = NULL;
	if (o->conn)
		conn_unref(o->conn);
	o->conn = NULL;
	json_decref(o->id);
	o->id = NULL;
}

void api_owed_shutdown(struct api_owed **head, void (*free_fn)(struct api_owed *o))
{
	while (*head) {
		struct api_owed *o = *head;
		if (o->conn)
			conn_send_error(o->conn, o->id, PROTO_E_SHUTDOWN, NULL, "containd is shutting down");
		free_fn(o);
	}
}

bool api_expect_no_fds(struct conn *c, struct proto_request *req)
{
	if (req->nfds == 0)
		return true;
	conn_send_error(c, req->id, PROTO_E_FDS, NULL, "%s takes no file descriptors, got %u", req->method, req->nfds);
	return false;
}

/* Methods without params refuse any key, as every other method refuses unknown ones. */
bool api_expect_no_params(struct conn *c, struct proto_request *req)
{
	_cleanup_free_ char *err = NULL;
	int r = proto_no_params_decode(req->method, req->params, &err);
	if (r < 0)
		api_reply_params_error(c, req->id, r, err);
	return r >= 0;
}

static void api_version(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	if (!api_expect_no_fds(c, req) || !api_expect_no_params(c, req))
		return;
	json_t *res = proto_version_result_encode(CONTAIND_VERSION);
	if (res)
		json_object_set_new(res, "cgroup_layout", json_string(cgroup_manager_layout(api->cgm)));
	conn_send_result(c, req->id, res, NULL, 0);
}

/* system.info: counts, so a leak of records or images shows from outside. */
static void api_info(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	if (!api_expect_no_fds(c, req) || !api_expect_no_params(c, req))
		return;
	unsigned running = 0;
	for (struct container *ct = api->reg->list; ct; ct = ct->next)
		running += !ct->removing && ct->state == CONTAINER_RUNNING;
	struct proto_system_info info = {
		.containers = registry_count(api->reg),
		.running = running,
		.images = (unsigned)image_store_count(api->images),
		.cgroup_layout = cgroup_manager_layout(api->cgm),
		.version = CONTAIND_VERSION,
	};
	conn_send_result(c, req->id, proto_system_info_encode(&info), NULL, 0);
}

static void pending_import_free(struct pending_import *pi)
{
	api_owed_unlink(&pi->api->imports, &pi->owed);
	free(pi->name);
	free(pi);
}

static void pending_import_free_owed(struct api_owed *o)
{
	pending_import_free(api_owed_entry(o, struct pending_import));
}

static void import_done(int r, json_t *info, const char *errmsg, void *userdata)
{
	struct pending_import *pi = userdata;
	const char *image_id = info ? json_string_value(json_object_get(info, "id")) : NULL;
	/* As Docker's import of a tarball with a name: the name is tagged, then the import logged. */
	if (r >= 0 && image_id && pi->name)
		api_events_emit_image(pi->api, "tag", image_id, pi->name);
	if (r >= 0 && image_id)
		api_events_emit_image(pi->api, "import", image_id, pi->name ? pi->name : image_id);
	if (r < 0)
		conn_send_error(pi->owed.conn, pi->owed.id, PROTO_E_IMPORT, NULL, "%s", errmsg ? errmsg : strerror(-r));
	else
		conn_send_result(pi->owed.conn, pi->owed.id, json_incref(info), NULL, 0);
	pending_import_free(pi);
}

/* image.import's "config" (checked by the decoder) as the settings of the new image. */
static int import_config(json_t *o, struct image **ret, char **reterr)
{
	struct proto_image_config pc;
	int r = proto_image_config_decode(o, &pc, reterr);
	if (r < 0)
		return r;
	struct image *img = calloc(1, sizeof(*img));
	if (!img) {
		proto_image_config_done(&pc);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	img->cmd = TAKE_PTR(pc.cmd);
	img->entrypoint = TAKE_PTR(pc.entrypoint);
	img->env = TAKE_PTR(pc.env);
	img->workdir = TAKE_PTR(pc.workdir);
	img->user = TAKE_PTR(pc.user);
	img->stop_signal = TAKE_PTR(pc.stop_signal);
	proto_image_config_done(&pc);
	*ret = img;
	return 0;
}

static void api_image_import(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_import_params p;
	_cleanup_free_ char *err = NULL;
	int r = proto_import_params_decode(req->params, req->nfds, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (api_refuse_shutting_down(api, c, req->id))
		return;
	int fd = TAKE_FD(msg->fds[0]);
	struct pending_import *pi = calloc(1, sizeof(*pi));
	if (!pi) {
		close(fd);
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "out of memory");
		return;
	}
	pi->api = api;
	/* An invalid name is refused by the import itself, below; no event is owed then. */
	if (!p.name || image_name_normalize(p.name, &pi->name, NULL) < 0)
		pi->name = NULL;
	api_owed_link(&api->imports, &pi->owed, c, req->id);
	struct image *config = NULL;
	if (p.config && (r = import_config(p.config, &config, &err)) < 0) {
		close(fd);
		api_reply_params_error(c, req->id, r, err);
		pending_import_free(pi);
		return;
	}
	r = image_import_start_config(api->images, fd, p.name, config, import_done, pi, &err);
	if (r < 0) {
		conn_send_error(c, req->id, r == -EINVAL ? PROTO_E_PARAMS : PROTO_E_IMPORT, NULL, "%s",
				err ? err : strerror(-r));
		pending_import_free(pi);
	}
}

static void api_image_list(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	if (api_expect_no_fds(c, req) && api_expect_no_params(c, req))
		conn_send_result(c, req->id, proto_image_list_encode(image_store_list(api->images)), NULL, 0);
}

static int image_usage(const char *image_id, void *userdata)
{
	struct api *api = userdata;
	return registry_image_usage(api->reg, image_id);
}

static void api_image_remove(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_image_remove_params p;
	_cleanup_free_ char *err = NULL;
	json_t *removed = NULL;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_image_remove_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	/* The id, for the events: a name's removal does not say which image it left. */
	const struct image *img = image_store_lookup(api->images, p.name, NULL);
	_cleanup_free_ char *image_id = img ? strdup(img->id) : NULL;
	r = image_store_delete(api->images, p.name, p.force, image_usage, api, &removed, &err);
	if (r < 0) {
		const char *code = r == -ENOENT ? PROTO_E_NOT_FOUND : r == -EBUSY ? PROTO_E_CONFLICT
			: r == -EINVAL ? PROTO_E_PARAMS : PROTO_E_INTERNAL;
		conn_send_error(c, req->id, code, NULL, "%s", err ? err : strerror(-r));
		return;
	}
	/* As Docker's rmi: an untag per name that went, then delete when the image went too. */
	size_t i;
	json_t *v;
	json_array_foreach(removed, i, v) {
		const char *what = json_string_value(v);
		if (what && image_id && strncmp(what, "sha256:", 7) != 0)
			api_events_emit_image(api, "untag", image_id, what);
	}
	json_array_foreach(removed, i, v) {
		const char *what = json_string_value(v);
		if (what && strncmp(what, "sha256:", 7) == 0)
			api_events_emit_image(api, "delete", what, what);
	}
	conn_send_result(c, req->id, proto_image_remove_result_encode(removed), NULL, 0);
}

static const struct {
	const char *method;
	api_handler fn;
} handlers[] = {
	{ PROTO_M_VERSION, api_version },
	{ PROTO_M_INFO, api_info },
	{ PROTO_M_RUN, api_run },
	{ PROTO_M_CREATE, api_create },
	{ PROTO_M_START, api_start },
	{ PROTO_M_RESTART, api_restart },
	{ PROTO_M_LIST, api_list },
	{ PROTO_M_INSPECT, api_inspect },
	{ PROTO_M_RENAME, api_rename },
	{ PROTO_M_KILL, api_kill },
	{ PROTO_M_STOP, api_stop },
	{ PROTO_M_REMOVE, api_remove },
	{ PROTO_M_WAIT, api_wait },
	{ PROTO_M_PAUSE, api_pause },
	{ PROTO_M_UNPAUSE, api_unpause },
	{ PROTO_M_TOP, api_top },
	{ PROTO_M_EXEC, api_exec },
	{ PROTO_M_IMAGE_IMPORT, api_image_import },
	{ PROTO_M_IMAGE_LIST, api_image_list },
	{ PROTO_M_IMAGE_REMOVE, api_image_remove },
	{ PROTO_M_IMAGE_INSPECT, api_image_inspect },
	{ PROTO_M_IMAGE_TAG, api_image_tag },
	{ PROTO_M_IMAGE_PRUNE, api_image_prune },
	{ PROTO_M_IMAGE_HISTORY, api_image_history },
	{ PROTO_M_SYSTEM_DF, api_system_df },
	{ PROTO_M_EVENTS, api_events_subscribe },
	{ PROTO_M_LOGS, api_logs },
	{ PROTO_M_ATTACH, api_attach },
	{ PROTO_M_IMAGE_LOAD, api_image_load },
	{ PROTO_M_IMAGE_SAVE, api_image_save },
	{ PROTO_M_CP_STAT, api_cp_stat },
	{ PROTO_M_CP_FROM, api_cp_from },
	{ PROTO_M_CP_TO, api_cp_to },
	{ PROTO_M_EXPORT, api_export },
	{ PROTO_M_DIFF, api_diff },
	{ PROTO_M_COMMIT, api_commit },
	{ PROTO_M_VOLUME_CREATE, api_volume_create },
	{ PROTO_M_VOLUME_LIST, api_volume_list },
	{ PROTO_M_VOLUME_INSPECT, api_volume_inspect },
	{ PROTO_M_VOLUME_REMOVE, api_volume_remove },
	{ PROTO_M_VOLUME_PRUNE, api_volume_prune },
	{ PROTO_M_NETWORK_CREATE, api_network_create },
	{ PROTO_M_NETWORK_LIST, api_network_list },
	{ PROTO_M_NETWORK_INSPECT, api_network_inspect },
	{ PROTO_M_NETWORK_REMOVE, api_network_remove },
	{ PROTO_M_NETWORK_PRUNE, api_network_prune },
	{ PROTO_M_IMAGE_PULL, api_image_pull },
	{ PROTO_M_REGISTRY_LOGIN, api_registry_login },
	{ PROTO_M_NETWORK_CONNECT, api_network_connect },
	{ PROTO_M_NETWORK_DISCONNECT, api_network_disconnect },
};

void api_dispatch(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	for (size_t i = 0; i < ARRAY_SIZE(handlers); i++)
		if (strcmp(handlers[i].method, req->method) == 0) {
			handlers[i].fn(api, c, req, msg);
			return;
		}
	conn_send_error(c, req->id, PROTO_E_METHOD, NULL, "unknown method \"%s\"", req->method);
}

void api_conn_closed(struct api *api, struct conn *c)
{
	api_waits_conn_closed(api, c);
	api_events_conn_closed(api, c);
	api_logs_conn_closed(api, c);
	api_execs_conn_closed(api, c);
	api_cp_conn_closed(api, c);
}

/* The containers' cgroup subtree and their keeper, in an order that depends on where they live:
 * next to the daemon (its own cgroup, moved into the supervisor leaf before the keeper is forked,
 * which inherits the leaf), or, under systemd on cgroup v2, in a scope of their own that the keeper
 * is moved into first (daemon/scope.h). */
static int api_cgroups_and_keeper(struct api *api, struct event_base *base, const struct daemon_options *opts,
				  char **reterr)
{
	int r;
	if (!scope_wanted()) {
		if ((r = cgroup_manager_new(&api->cgm, reterr)) < 0)
			return r;
		return supervisor_open(base, opts->state, opts->live_restore, &api->sup, reterr);
	}
	pid_t keeper;
	if ((r = supervisor_open(base, opts->state, opts->live_restore, &api->sup, reterr)) < 0 ||
	    (keeper = supervisor_keeper_pid(api->sup), r = scope_adopt(keeper, opts->state, reterr)) < 0)
		return r;
	return cgroup_manager_new_for(keeper, &api->cgm, reterr);
}

int api_new(struct event_base *base, const struct daemon_options *opts, struct api **ret, char **reterr)
{
	struct api *api = calloc(1, sizeof(*api));
	if (!api)
		return err_set(reterr, -ENOMEM, "out of memory");
	api->base = base;
	api->log_opts.max_file = 1;
	int q = container_log_driver_from_name(opts->log_driver ? opts->log_driver : "file", &api->log_driver);
	if (q < 0) {
		free(api);
		return err_set(reterr, q, "unknown log driver \"%s\" (file, journald, none)", opts->log_driver);
	}
	for (char **kv = opts->log_opts; kv && *kv; kv++) {
		if (api->log_driver != CONTAINER_LOG_FILE) {
			free(api);
			return err_set(reterr, -EINVAL, "the %s log driver takes no options", opts->log_driver);
		}
		if ((q = log_file_opt_parse(&api->log_opts, *kv, reterr)) < 0) {
			free(api);
			return q;
		}
	}
	int r = mkdir_p(opts->root, 0711);
	if (r < 0) {
		err_set(reterr, r, "cannot create %s: %m", opts->root);
		goto fail;
	}
	r = mkdir_p(opts->state, 0711);
	if (r < 0) {
		err_set(reterr, r, "cannot create %s: %m", opts->state);
		goto fail;
	}
	const struct network_options net = { .bridge = opts->bridge,
					     .bip = opts->bip,
					     .ip_forward = opts->ip_forward,
					     .ip_masq = opts->ip_masq,
					     .nft_table = opts->nft_table };
	if ((r = api_cgroups_and_keeper(api, base, opts, reterr)) < 0 ||
	    (r = image_store_open(base, opts->root, &api->images, reterr)) < 0 ||
	    (r = registry_new(base, &(struct registry_options){ .root = opts->root,
							    .state = opts->state,
							    .userns_remap = opts->userns_remap,
							    .prepared = opts->prepared,
							    .live_restore = opts->live_restore,
							    .sup = api->sup,
							    .userns_user = opts->userns_user,
							    .subuid_file = opts->subuid_file,
							    .subgid_file = opts->subgid_file,
							    .net = &net },
			       api->cgm, api->images, &api->reg, reterr)) < 0)
		goto fail;
	if ((r = image_puller_new(base, api->images, opts->insecure_registries, opts->registry_mirrors,
				  &api->puller)) < 0) {
		err_set(reterr, r, "out of memory");
		goto fail;
	}
	if (!(api->sink = event_bus_subscribe(api->reg->bus, api_on_container_event, api))) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = api_events_new(api)) < 0) {
		err_set(reterr, r, "out of memory");
		goto fail;
	}
	log_info("cgroup layout: %s", cgroup_manager_layout(api->cgm));
	image_load_sweep(api->images);
	/* After the sinks: the starts are published like any other. */
	registry_start_restartable(api->reg);
	*ret = api;
	return 0;
fail:
	api_free(api);
	return r;
}

bool api_shutdown(struct api *api, bool stop_containers, unsigned timeout)
{
	api->shutting_down = true;
	return registry_shutdown(api->reg, stop_containers, timeout);
}

void api_free(struct api *api)
{
	if (!api)
		return;
	api_waits_free(api);
	api_execs_free(api);
	api_events_free(api);
	api_logs_free(api);
	api_cp_free(api);
	api_commit_free(api);
	if (api->reg)
		event_bus_unsubscribe(api->reg->bus, api->sink);
	registry_free(api->reg);
	supervisor_free(api->sup);
	api_archive_ops_free(api);
	api_pulls_free(api);
	image_store_free(api->images);
	api_owed_shutdown(&api->imports, pending_import_free_owed);
	cgroup_manager_free(api->cgm);
	free(api);
}
