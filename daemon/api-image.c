/* Handlers of the image store's methods: see api-image.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/api-image.h"
#include "daemon/container.h"
#include "daemon/image-store.h"
#include "daemon/offload.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/messages.h"

static int api_image_usage(const char *image_id, void *userdata)
{
	struct api *api = userdata;
	return registry_image_usage(api->reg, image_id);
}

/* The error code of a store failure. */
static const char *api_image_code(int r)
{
	return r == -ENOENT   ? PROTO_E_NOT_FOUND
	       : r == -EINVAL ? PROTO_E_PARAMS
	       : r == -EBUSY  ? PROTO_E_CONFLICT
			      : PROTO_E_INTERNAL;
}

/* image.inspect and image.history: one image in, one object out. */
static void api_image_ref(struct api *api, struct conn *c, struct proto_request *req,
			  json_t *(*fn)(struct image_store *, const char *, char **))
{
	struct proto_image_ref_params p;
	_cleanup_free_ char *err = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_image_ref_params_decode(req->method, req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	errno = ENOMEM;
	json_t *res = fn(api->images, p.name, &err);
	if (!res) {
		conn_send_error(c, req->id, api_image_code(-errno), NULL, "%s", err ? err : strerror(errno));
		return;
	}
	conn_send_result(c, req->id, res, NULL, 0);
}

void api_image_inspect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_image_ref(api, c, req, image_store_inspect);
}

void api_image_history(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_image_ref(api, c, req, image_store_history);
}

void api_image_tag(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_image_tag_params p;
	_cleanup_free_ char *err = NULL, *id = NULL, *name = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_image_tag_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	r = image_store_tag(api->images, p.source, p.target, &id, &name, &err);
	if (r < 0) {
		conn_send_error(c, req->id, api_image_code(r), NULL, "%s", err ? err : strerror(-r));
		return;
	}
	api_events_emit_image(api, "tag", id, name);
	conn_send_result(c, req->id, json_pack("{s:s, s:s}", "id", id, "name", name), NULL, 0);
}

void api_image_prune(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_image_prune_params p;
	_cleanup_free_ char *err = NULL;
	json_t *deleted = NULL, *v;
	uint64_t reclaimed = 0;
	size_t i;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_image_prune_params_decode(req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	r = image_store_prune(api->images, p.all, api_image_usage, api, &deleted, &reclaimed, &err);
	if (r < 0) {
		conn_send_error(c, req->id, api_image_code(r), NULL, "%s", err ? err : strerror(-r));
		return;
	}
	/* As Docker's prune: an untag per name, then the delete; the names of an image come right
	 * before its "Deleted" line. */
	size_t first_name = 0;
	json_array_foreach(deleted, i, v) {
		const char *line = json_string_value(v);
		if (!line || strncmp(line, "Deleted: ", 9) != 0)
			continue;
		for (size_t k = first_name; k < i; k++)
			api_events_emit_image(api, "untag", line + 9, json_string_value(json_array_get(deleted, k)) + 10);
		api_events_emit_image(api, "delete", line + 9, line + 9);
		first_name = i + 1;
	}
	conn_send_result(
	    c, req->id, json_pack("{s:o, s:I}", "deleted", deleted, "space_reclaimed", (json_int_t)reclaimed), NULL, 0);
}

/* A system.df request whose sizes a child measures: the rows with their counts (filled in the
 * loop), the trees to measure, and where the child puts the sums (a page shared with it: the
 * child's memory is a copy). */
struct df_job {
	struct conn *conn;
	json_t *id;
	struct proto_df_row rows[3]; /* images, containers, volumes */
	char **paths;
	unsigned char *kinds; /* per path: the row (1 or 2), | 0x80 when reclaimable */
	size_t n, cap;
	uint64_t *sums; /* [row][0]: size, [row][1]: reclaimable, rows 1 and 2 */
};

static int df_add(struct df_job *job, unsigned row, const char *path, bool reclaimable)
{
	if (job->n == job->cap) {
		size_t ncap = job->cap ? 2 * job->cap : 64;
		char **p = reallocarray(job->paths, ncap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		job->paths = p;
		unsigned char *k = realloc(job->kinds, ncap);
		if (!k)
			return -ENOMEM;
		job->kinds = k;
		job->cap = ncap;
	}
	if (!(job->paths[job->n] = strdup(path)))
		return -ENOMEM;
	job->kinds[job->n++] = (unsigned char)(row | (reclaimable ? 0x80 : 0));
	return 0;
}

static int df_add_volume(void *ctx, const char *path, bool reclaimable)
{
	return df_add(ctx, 2, path, reclaimable);
}

static void df_job_free(struct df_job *job)
{
	for (size_t i = 0; i < job->n; i++)
		free(job->paths[i]);
	free(job->paths);
	free(job->kinds);
	if (job->sums && job->sums != MAP_FAILED)
		munmap(job->sums, 6 * sizeof(uint64_t));
	json_decref(job->id);
	if (job->conn)
		conn_unref(job->conn);
	free(job);
}

/* In the child: du of every tree, summed per row. */
static int df_measure(void *arg)
{
	struct df_job *job = arg;
	for (size_t i = 0; i < job->n; i++) {
		uint64_t bytes = 0;
		unsigned row = job->kinds[i] & 0x7f;
		if (disk_usage(job->paths[i], &bytes) < 0)
			continue;
		job->sums[2 * row] += bytes;
		if (job->kinds[i] & 0x80)
			job->sums[2 * row + 1] += bytes;
	}
	return 0;
}

static void df_done(int r, void *arg)
{
	struct df_job *job = arg;
	for (unsigned row = 1; r == 0 && row < 3; row++) {
		job->rows[row].size = job->sums[2 * row];
		job->rows[row].reclaimable = job->sums[2 * row + 1];
	}
	if (conn_is_open(job->conn)) {
		if (r < 0)
			conn_send_error(job->conn, job->id, PROTO_E_INTERNAL, NULL, "cannot measure the disk usage: %s",
					strerror(-r));
		else
			conn_send_result(job->conn, job->id,
					 json_pack("{s:o, s:o, s:o}", "images", proto_df_row_encode(&job->rows[0]),
						   "containers", proto_df_row_encode(&job->rows[1]), "volumes",
						   proto_df_row_encode(&job->rows[2])),
					 NULL, 0);
	}
	df_job_free(job);
}

/* docker system df: the images' figures come from the store's records; the containers' writable
 * layers and the volumes are measured in a child (a walk of every tree is no work for the loop),
 * and the reply goes once it is done. */
void api_system_df(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	_cleanup_free_ char *err = NULL;
	int r;

	if (!api_expect_no_fds(c, req))
		return;
	r = proto_no_params_decode(req->method, req->params, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	struct df_job *job = calloc(1, sizeof(*job));
	if (!job) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "out of memory");
		return;
	}
	job->conn = conn_ref(c);
	job->id = json_incref(req->id);
	struct proto_df_row *images = &job->rows[0], *containers = &job->rows[1];
	r = image_store_df(api->images, api_image_usage, api, &images->total, &images->active, &images->size,
			   &images->reclaimable);
	/* A container's writable layer is its upper dir; a stopped one's space is reclaimable. */
	for (struct container *ct = api->reg->list; r == 0 && ct; ct = ct->next) {
		if (ct->removing)
			continue;
		bool running = ct->state == CONTAINER_RUNNING;
		containers->total++;
		containers->active += running;
		_cleanup_free_ char *dir = registry_container_dir(api->reg, ct->id), *upper = NULL;
		if (!dir || asprintf(&upper, "%s/upper", dir) < 0)
			r = -ENOMEM;
		else
			r = df_add(job, 1, upper, !running);
	}
	if (r == 0)
		r = api_df_volumes(api, &job->rows[2], df_add_volume, job);
	if (r == 0) {
		job->sums = mmap(NULL, 6 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (job->sums == MAP_FAILED)
			r = -errno;
	}
	if (r < 0) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "%s", strerror(-r));
		df_job_free(job);
		return;
	}
	if (offload_run(api->base, "containd-df", df_measure, job, df_done, NULL, -1) < 0)
		df_done(df_measure(job), job);
}
