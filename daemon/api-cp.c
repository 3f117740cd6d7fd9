/* container.cp_stat, cp_from, cp_to, export and diff: each request forks a copy worker
 * (cp-worker.h) that reaches the container's files from inside its root and streams through the
 * client's own fd; the reply is sent when the worker has exited. The daemon never reads or
 * writes a byte of the stream. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"
#include "daemon/api-internal.h"
#include "daemon/container.h"
#include "daemon/cp-worker.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "daemon/worker.h"
#include "protocol/cp.h"
#include "runtime/process.h"

/* Copy workers at once, over all clients: each is a process, and a client could ask for any
 * number of them. */
#define API_CP_MAX_WORKERS 64

/* A request whose worker runs; answered when it exits. */
struct api_cp {
	struct api_owed owed;
	struct api *api;
	enum cp_op op;
	struct pidref proc;
	int result_fd; /* the read end of the worker's result pipe */
	int out_fd;    /* diff: the memfd of its records */
	struct event *ev;
	char *ref, *path; /* as the client named them, for messages */
	api_cp_layer_fn layer_done; /* a layer worker's: called instead of a reply */
	void *userdata;
};

/* Whether another worker may start. */
static bool api_cp_room(struct api *api)
{
	size_t n = 0;

	for (struct api_owed *o = api->cps; o; o = o->next)
		n++;
	return n < API_CP_MAX_WORKERS;
}

static void api_cp_free_one(struct api_cp *cp)
{
	int r;

	if (!cp)
		return;
	api_owed_unlink(&cp->api->cps, &cp->owed);
	if (cp->ev)
		event_free(cp->ev);
	if (pidref_is_set(&cp->proc) && (r = pidref_kill_and_wait(&cp->proc)) < 0)
		log_errno(LOG_LEVEL_WARNING, r, "killing copy worker %d: %m", (int)cp->proc.pid);
	pidref_done(&cp->proc);
	/* A layer worker that did not finish: its owner learns it, once. */
	if (cp->layer_done)
		cp->layer_done(cp->api, -ECANCELED, NULL, "the commit was cancelled", cp->userdata);
	safe_close(cp->result_fd);
	safe_close(cp->out_fd);
	free(cp->ref);
	free(cp->path);
	free(cp);
}

/* container.diff's reply from the worker's records (checked by the protocol: the worker read
 * names a container chose). */
static json_t *api_cp_diff_result(struct api_cp *cp, char **reterr)
{
	_cleanup_free_ char *buf = malloc(CP_DIFF_MAX_BYTES + 1);
	size_t len = 0;

	if (!buf) {
		err_set(reterr, -ENOMEM, "out of memory");
		return NULL;
	}
	if (lseek(cp->out_fd, 0, SEEK_SET) < 0) {
		err_set(reterr, -errno, "reading the changes: %m");
		return NULL;
	}
	for (;;) {
		ssize_t n = read(cp->out_fd, buf + len, CP_DIFF_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(reterr, -errno, "reading the changes: %m");
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CP_DIFF_MAX_BYTES) {
			err_set(reterr, -E2BIG, "too many changes to list");
			return NULL;
		}
	}
	return proto_diff_records_to_result(buf, len, reterr);
}

/* The reply to a worker's failure: docker's words for a path that is not there. */
static void api_cp_reply_error(struct api_cp *cp, int r, const char *msg)
{
	if (r == -ENOENT && cp->path && (cp->op == CP_OP_STAT || cp->op == CP_OP_FROM || cp->op == CP_OP_TO))
		conn_send_error(cp->owed.conn, cp->owed.id, PROTO_E_NOT_FOUND, NULL,
				"Could not find the file %s in container %s", cp->path, cp->ref);
	else
		conn_send_error(cp->owed.conn, cp->owed.id, PROTO_E_COPY, NULL, "%s", msg);
}

/* The worker's pidfd became readable: reap it, read its result, answer. */
static void api_cp_on_exit(evutil_socket_t fd, short what, void *userdata)
{
	struct api_cp *cp = userdata;
	struct cp_worker_result res;
	_cleanup_free_ char *err = NULL;
	json_t *result = NULL;
	siginfo_t si = { 0 };
	ssize_t n;
	int r;

	r = pidref_try_wait(&cp->proc, &si);
	if (r == 0)
		return; /* a spurious wakeup */
	if (r < 0) {
		if (!cp->layer_done)
			conn_send_error(cp->owed.conn, cp->owed.id, PROTO_E_INTERNAL, NULL,
					"waiting for the copy worker: %s", strerror(-r));
		api_cp_free_one(cp);
		return;
	}
	pidref_done(&cp->proc);
	n = read(cp->result_fd, &res, sizeof(res));
	if (si.si_code != CLD_EXITED || si.si_status != 0 || n != (ssize_t)sizeof(res)) {
		if (cp->layer_done) {
			api_cp_layer_fn done = TAKE_PTR(cp->layer_done);
			done(cp->api, -EIO, NULL, "the layer worker failed", cp->userdata);
		} else
			conn_send_error(cp->owed.conn, cp->owed.id, PROTO_E_INTERNAL, NULL,
					"the copy worker failed (%s %d)", si.si_code == CLD_EXITED ? "exit status" : "signal",
					si.si_status);
		api_cp_free_one(cp);
		return;
	}
	/* Untrusted: terminate every string before use. */
	res.name[sizeof(res.name) - 1] = res.link[sizeof(res.link) - 1] = res.msg[sizeof(res.msg) - 1] = '\0';
	res.digest[sizeof(res.digest) - 1] = '\0';
	if (cp->layer_done) {
		api_cp_layer_fn done = TAKE_PTR(cp->layer_done);
		done(cp->api, res.r < 0 ? (res.r < -4095 ? -EIO : res.r) : 0, &res, res.msg, cp->userdata);
		api_cp_free_one(cp);
		return;
	}
	if (res.r < 0) {
		api_cp_reply_error(cp, res.r < -4095 ? -EIO : res.r, res.msg);
		api_cp_free_one(cp);
		return;
	}
	switch (cp->op) {
	case CP_OP_STAT: {
		struct proto_cp_stat st = { .name = res.name, .size = res.size, .mode = res.mode, .mtime = res.mtime,
					    .link_target = res.link };
		result = proto_cp_stat_encode(&st);
		break;
	}
	case CP_OP_DIFF:
		result = api_cp_diff_result(cp, &err);
		break;
	default:
		result = proto_cp_size_encode(res.size);
		break;
	}
	if (result)
		conn_send_result(cp->owed.conn, cp->owed.id, result, NULL, 0);
	else
		conn_send_error(cp->owed.conn, cp->owed.id, PROTO_E_INTERNAL, NULL, "%s", err ? err : "out of memory");
	api_cp_free_one(cp);
}

/* The client's stream fd: open for the direction the copy needs, not a directory or a handle. */
static int api_cp_check_stream(int fd, bool write, char **reterr)
{
	struct stat st;
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fstat(fd, &st) < 0)
		return err_set(reterr, -EBADF, "cannot inspect the stream file descriptor: %m");
	if (flags & O_PATH)
		return err_set(reterr, -EBADF, "the stream file descriptor is an O_PATH handle, not an open file");
	if (S_ISDIR(st.st_mode))
		return err_set(reterr, -EBADF, "the stream file descriptor is a directory");
	if ((flags & O_ACCMODE) == (write ? O_RDONLY : O_WRONLY))
		return err_set(reterr, -EBADF, "the stream file descriptor is not open for %s", write ? "writing" : "reading");
	return 0;
}

/* What the worker's child runs (daemon/worker.c). */
static void api_cp_run(void *arg, int report_fd, pid_t parent)
{
	cp_worker_main(arg, report_fd, parent);
}

/* Forks the worker for job and watches it. */
static int api_cp_spawn(struct api_cp *cp, const struct cp_job *job, char **reterr)
{
	int r = worker_spawn("copy", api_cp_run, (void *)job, false, &cp->proc, &cp->result_fd, reterr);

	if (r < 0)
		return r;
	/* The worker writes its result (smaller than a pipe's buffer) before it exits: once it
	 * has exited, the pipe holds all there is. */
	cp->ev = event_new(cp->api->base, cp->proc.pidfd, EV_READ | EV_PERSIST, api_cp_on_exit, cp);
	if (!cp->ev || event_add(cp->ev, NULL) < 0)
		return err_set(reterr, -ENOMEM, "watching the copy worker failed");
	return 0;
}

/* The five methods: decode, find the container, describe its root to a worker, fork it. */
static void api_cp_request(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg,
			   enum cp_op op)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_close_ int stream_fd = -1, mntns_fd = -1, out_fd = -1;
	struct proto_cp_params p;
	struct api_cp *cp;
	int r = proto_cp_params_decode(req->method, req->params, req->nfds, &p, &err);

	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	if (req->nfds > 0) {
		stream_fd = TAKE_FD(msg->fds[0]);
		if ((r = api_cp_check_stream(stream_fd, op != CP_OP_TO, &err)) < 0) {
			api_reply_params_error(c, req->id, r, err);
			return;
		}
	}
	if (api_refuse_shutting_down(api, c, req->id))
		return;
	struct container *ct = api_lookup(api, c, req, p.ref);
	if (!ct)
		return;
	if (!api_cp_room(api)) {
		conn_send_error(c, req->id, PROTO_E_LIMIT, NULL, "too many copies under way (at most %d)",
				API_CP_MAX_WORKERS);
		return;
	}

	/* A container whose init is setting up (its state says running only once the init has
	 * pivoted into its root and exec'd) mounts its overlay now: a copy into it would be a
	 * second writable mount of the same upper dir. */
	if (op == CP_OP_TO && ct->state != CONTAINER_RUNNING && (pidref_is_set(&ct->proc) || ct->start_deferred)) {
		conn_send_error(c, req->id, PROTO_E_CONFLICT, NULL, "container %s is starting: copy into it once it runs",
				p.ref);
		return;
	}
	/* A running container's files are its mount namespace's (what its processes see); a
	 * stopped one's, and every export, are the overlay of its upper dir and layers. */
	if (ct->state == CONTAINER_RUNNING && op != CP_OP_EXPORT && op != CP_OP_DIFF) {
		mntns_fd = ct->mntns_fd >= 0 ? fcntl(ct->mntns_fd, F_DUPFD_CLOEXEC, 3) : rt_init_open_mntns(&ct->proc);
		if (mntns_fd < 0) {
			conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "cannot reach the container's mount namespace");
			return;
		}
	}
	if (op == CP_OP_DIFF && (out_fd = memfd_create("containd-diff", MFD_CLOEXEC)) < 0) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "memfd_create: %s", strerror(errno));
		return;
	}
	struct cp_job job = {
		.op = op,
		.mntns_fd = mntns_fd,
		.lowerdirs = ct->spec.overlay.lowerdirs,
		.upperdir = ct->spec.overlay.upperdir,
		.workdir = ct->spec.overlay.workdir,
		.mountpoint = api->reg->mountpoint,
		.path = p.path,
		.follow = p.follow_link,
		.archive = p.archive,
		.shifted = ct->userns,
		.uid_base = ct->slice.uid,
		.gid_base = ct->slice.gid,
		.stream_fd = stream_fd,
		.out_fd = out_fd,
	};
	cp = calloc(1, sizeof(*cp));
	if (!cp || !(cp->ref = strdup(p.ref)) || (p.path && !(cp->path = strdup(p.path)))) {
		if (cp)
			free(cp->ref);
		free(cp);
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "out of memory");
		return;
	}
	cp->api = api;
	cp->op = op;
	cp->proc = PIDREF_NULL;
	cp->result_fd = -1;
	cp->out_fd = TAKE_FD(out_fd);
	api_owed_link(&api->cps, &cp->owed, c, req->id);
	job.out_fd = cp->out_fd;
	r = api_cp_spawn(cp, &job, &err);
	if (r < 0) {
		conn_send_error(c, req->id, PROTO_E_INTERNAL, NULL, "%s", err ? err : strerror(-r));
		api_cp_free_one(cp);
	}
	/* The stream's fd is the worker's alone now: a copy here would keep the client from ever
	 * seeing the end of the stream. */
}

void api_cp_stat(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_cp_request(api, c, req, msg, CP_OP_STAT);
}

void api_cp_from(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_cp_request(api, c, req, msg, CP_OP_FROM);
}

void api_cp_to(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_cp_request(api, c, req, msg, CP_OP_TO);
}

void api_export(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_cp_request(api, c, req, msg, CP_OP_EXPORT);
}

void api_diff(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	api_cp_request(api, c, req, msg, CP_OP_DIFF);
}

void api_cp_conn_closed(struct api *api, struct conn *c)
{
	/* Nobody waits for the copy any more: a worker blocked on a stream the client left open
	 * (a terminal it passed) must not run on. */
	for (struct api_owed *o = api->cps, *next; o; o = next) {
		next = o->next;
		if (o->conn == c)
			api_cp_free_one(api_owed_entry(o, struct api_cp));
	}
}

void api_cp_free(struct api *api)
{
	while (api->cps)
		api_cp_free_one(api_owed_entry(api->cps, struct api_cp));
}

int api_cp_layer_start(struct api *api, struct conn *c, struct container *ct, int fd, api_cp_layer_fn done,
		       void *userdata, char **reterr)
{
	struct cp_job job = {
		.op = CP_OP_LAYER,
		.mntns_fd = -1,
		.lowerdirs = ct->spec.overlay.lowerdirs,
		.upperdir = ct->spec.overlay.upperdir,
		.workdir = ct->spec.overlay.workdir,
		.mountpoint = api->reg->mountpoint,
		.shifted = ct->userns,
		.uid_base = ct->slice.uid,
		.gid_base = ct->slice.gid,
		.stream_fd = fd,
		.out_fd = -1,
	};
	struct api_cp *cp;
	int r;

	if (!api_cp_room(api))
		return err_set(reterr, -EUSERS, "too many copies under way (at most %d)", API_CP_MAX_WORKERS);
	if (!(cp = calloc(1, sizeof(*cp))))
		return err_set(reterr, -ENOMEM, "out of memory");
	cp->api = api;
	cp->op = CP_OP_LAYER;
	cp->proc = PIDREF_NULL;
	cp->result_fd = cp->out_fd = -1;
	api_owed_link(&api->cps, &cp->owed, c, NULL);
	r = api_cp_spawn(cp, &job, reterr);
	if (r < 0) {
		api_cp_free_one(cp);
		return r;
	}
	/* Only now: a failure to start is returned, not called back. */
	cp->layer_done = done;
	cp->userdata = userdata;
	return 0;
}
