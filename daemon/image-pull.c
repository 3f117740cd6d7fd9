/* Pulls on the loop: a worker process per reference (image-pull-worker.c), its JSON lines
 * read without blocking and relayed to the waiters, its result registered in the store. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"
#include "daemon/image-pull.h"
#include "daemon/worker.h"
#include "daemon/image-store.h"
#include "image/registry.h"

#define PULL_LINE_MAX 4096
#define PULL_STATUS_MAX 48
/* Workers (pulls and login checks) at once: each is a process with connections; a client that
 * asks for more waits for some to finish (the request is refused with a message). Joining a
 * running pull costs no worker and is always allowed. */
#define PULL_WORKERS_MAX 16

struct pull_waiter {
	struct pull_waiter *next;
	struct image_pull_callbacks cb;
	void *userdata; /* NULL once cancelled */
};

/* The last status of a layer, replayed to a waiter that joins late. */
struct pull_layer {
	char id[13];
	char status[PULL_STATUS_MAX];
	uint64_t current, total;
	bool fetched; /* downloaded by this pull (not "Already exists") */
};

struct pull {
	struct pull *next;
	struct image_puller *puller;
	char *key; /* reference, platform and user: what makes two pulls the same */
	struct registry_ref ref;
	struct pidref proc;
	int out_fd;
	struct event *ev_out, *ev_exit;
	char line[PULL_LINE_MAX];
	size_t len;
	bool overlong; /* the worker sent a line past the cap: it is killed */
	struct pull_waiter *waiters;
	struct pull_layer layers[REGISTRY_LAYERS_MAX];
	size_t nlayers;
	char *manifest; /* the worker's result: the image manifest's digest */
	char *digest;   /* what the reference resolved to (the index, if any) */
	bool downloaded;
	char *old_id; /* what the name pointed at before: another image means "Downloaded newer" */
	char *error;
	int error_r;
	bool registering; /* image_store_add_manifest() was called and has not answered */
	bool login;       /* a credentials check (image_login_start), not a pull */
	bool login_ok;
};

struct image_puller {
	struct event_base *base;
	struct image_store *store;
	char **insecure, **mirrors;
	struct pull *pulls;
};

int image_puller_new(struct event_base *base, struct image_store *store, char **insecure, char **mirrors,
		     struct image_puller **ret)
{
	struct image_puller *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->base = base;
	p->store = store;
	p->insecure = insecure;
	p->mirrors = mirrors;
	*ret = p;
	return 0;
}

/* A pull of p with nothing started yet, or NULL without memory. */
static struct pull *pull_new(struct image_puller *p)
{
	struct pull *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->puller = p;
	pl->proc = PIDREF_NULL;
	pl->out_fd = -1;
	return pl;
}

unsigned image_puller_count(const struct image_puller *p)
{
	unsigned n = 0;
	for (const struct pull *q = p ? p->pulls : NULL; q; q = q->next)
		n++;
	return n;
}

/* Frees a pull unlinked from its puller; a worker still running is killed and reaped. */
static void pull_free(struct pull *pl)
{
	int r;
	if (!pl)
		return;
	if (pl->ev_out)
		event_free(pl->ev_out);
	if (pl->ev_exit)
		event_free(pl->ev_exit);
	/* Killed, it dies at once: a download holds nothing that could keep it. */
	if (pidref_is_set(&pl->proc) && (r = pidref_kill_and_wait(&pl->proc)) < 0)
		log_errno(LOG_LEVEL_WARNING, r, "pull worker %d: %m", (int)pl->proc.pid);
	if (pl->registering)
		image_import_cancel_callbacks(pl->puller->store, pl);
	safe_close(pl->out_fd);
	while (pl->waiters) {
		struct pull_waiter *w = pl->waiters;
		pl->waiters = w->next;
		free(w);
	}
	registry_ref_done(&pl->ref);
	free(pl->key);
	free(pl->manifest);
	free(pl->digest);
	free(pl->old_id);
	free(pl->error);
	free(pl);
}

static void pull_unlink(struct pull *pl)
{
	for (struct pull **pp = &pl->puller->pulls; *pp; pp = &(*pp)->next)
		if (*pp == pl) {
			*pp = pl->next;
			break;
		}
}

void image_puller_free(struct image_puller *p)
{
	if (!p)
		return;
	while (p->pulls) {
		struct pull *pl = p->pulls;
		p->pulls = pl->next;
		pull_free(pl);
	}
	free(p);
}

static void pull_progress(struct pull *pl, const char *layer, const char *status, uint64_t cur, uint64_t total)
{
	for (struct pull_waiter *w = pl->waiters; w; w = w->next)
		if (w->userdata && w->cb.progress)
			w->cb.progress(w->userdata, layer, status, cur, total);
}

/* Ends the pull: unlinked, every waiter told, freed. */
static void pull_finish(struct pull *pl, int r, const struct image_pull_outcome *o, const char *errmsg)
{
	pull_unlink(pl);
	if (r < 0)
		log_info("%s %s failed: %s", pl->login ? "login to" : "pull of",
			 pl->ref.name ? pl->ref.name : pl->ref.repo ? pl->ref.repo : pl->key, errmsg ? errmsg : strerror(-r));
	/* A callback may start another pull or drop a connection (cancelling other waits of this
	 * list): each waiter is taken off the list before it is called. */
	while (pl->waiters) {
		struct pull_waiter *w = pl->waiters;
		pl->waiters = w->next;
		if (w->userdata && w->cb.done)
			w->cb.done(w->userdata, r, o, errmsg);
		free(w);
	}
	pull_free(pl);
}

/* The store registered (or refused) the pulled image. */
static void pull_registered(int r, json_t *info, const char *errmsg, void *userdata)
{
	struct pull *pl = userdata;
	_cleanup_free_ char *repo_digest = NULL;

	pl->registering = false;
	if (r >= 0) {
		for (size_t i = 0; i < pl->nlayers; i++)
			if (pl->layers[i].fetched)
				pull_progress(pl, pl->layers[i].id, "Pull complete", pl->layers[i].total, pl->layers[i].total);
		if (asprintf(&repo_digest, "%s@%s", pl->ref.repo, pl->digest) < 0) {
			repo_digest = NULL;
			r = -ENOMEM;
		}
	}
	const char *id = info ? json_string_value(json_object_get(info, "id")) : NULL;
	if (r >= 0 && !id)
		r = -EIO, errmsg = "the store registered the image without an id";
	struct image_pull_outcome o = {
		.id = id,
		.digest = pl->digest,
		.name = pl->ref.name,
		.repo_digest = repo_digest,
		/* As Docker: new to this name counts as newer, even when no byte was fetched. */
		.downloaded = pl->downloaded || (pl->ref.name && (!pl->old_id || !id || strcmp(pl->old_id, id) != 0)),
	};
	pull_finish(pl, r, r >= 0 ? &o : NULL, r < 0 ? (errmsg ? errmsg : strerror(-r)) : NULL);
}

/* The worker is gone and reaped: register what it fetched, or report its error. */
static void pull_worker_done(struct pull *pl, const siginfo_t *si)
{
	_cleanup_free_ char *err = NULL;
	int r;

	if (pl->overlong)
		err_set(&err, -EIO, "the pull worker sent a malformed report");
	if (pl->login && pl->login_ok && !pl->overlong) {
		pull_finish(pl, 0, NULL, NULL);
		return;
	}
	if (!pl->manifest || pl->overlong || pl->login) {
		if (!err && pl->error)
			err = strdup(pl->error);
		if (!err)
			err_set(&err, -EIO, "the pull worker died (%s %d)", si->si_code == CLD_EXITED ? "status" : "signal",
				si->si_status);
		pull_finish(pl, pl->error_r < 0 ? pl->error_r : -EIO, NULL, err ? err : "pull failed");
		return;
	}
	const char *names[2] = { pl->ref.name, NULL };
	_cleanup_free_ char *repo_digest = NULL;
	if (!pl->digest || asprintf(&repo_digest, "%s@%s", pl->ref.repo, pl->digest) < 0) {
		pull_finish(pl, -ENOMEM, NULL, "out of memory");
		return;
	}
	const struct image *old = pl->ref.name ? image_store_lookup(pl->puller->store, pl->ref.name, NULL) : NULL;
	if (old && !(pl->old_id = strdup(old->id))) {
		pull_finish(pl, -ENOMEM, NULL, "out of memory");
		return;
	}
	pl->registering = true;
	r = image_store_add_manifest(pl->puller->store, pl->manifest, names, repo_digest, pull_registered, pl, &err);
	if (r < 0) {
		pl->registering = false;
		pull_finish(pl, r, NULL, err ? err : "registering the image failed");
	}
}

static void pull_on_exit(evutil_socket_t fd, short what, void *userdata)
{
	struct pull *pl = userdata;
	siginfo_t si = { 0 };
	int r = pidref_try_wait(&pl->proc, &si);
	if (r == 0)
		return;
	if (r < 0) {
		pull_finish(pl, r, NULL, "waiting for the pull worker failed");
		return;
	}
	pidref_done(&pl->proc);
	event_free(pl->ev_exit);
	pl->ev_exit = NULL;
	pull_worker_done(pl, &si);
}

/* Takes one line of the worker's report: progress, or the result. Untrusted input (the worker
 * parsed a registry's data): every field is checked, statuses are cut to a short string. */
static void pull_line(struct pull *pl, const char *line, size_t len)
{
	json_auto_t *o = json_loadb(line, len, 0, NULL);
	const char *status = json_string_value(json_object_get(o, "status"));
	const char *manifest = json_string_value(json_object_get(o, "manifest"));
	const char *error = json_string_value(json_object_get(o, "error"));

	if (status) {
		const char *layer = json_string_value(json_object_get(o, "layer"));
		json_int_t cur = json_integer_value(json_object_get(o, "current"));
		json_int_t total = json_integer_value(json_object_get(o, "total"));
		char st[PULL_STATUS_MAX];
		snprintf(st, sizeof(st), "%s", status);
		for (char *c = st; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = '?';
		if (layer && (strlen(layer) != 12 || strspn(layer, "0123456789abcdef") != 12))
			return;
		if (cur < 0 || total < 0)
			return;
		if (layer) {
			struct pull_layer *l = NULL;
			for (size_t i = 0; i < pl->nlayers && !l; i++)
				if (strcmp(pl->layers[i].id, layer) == 0)
					l = &pl->layers[i];
			if (!l && pl->nlayers < REGISTRY_LAYERS_MAX)
				l = &pl->layers[pl->nlayers++];
			if (l) {
				snprintf(l->id, sizeof(l->id), "%s", layer);
				snprintf(l->status, sizeof(l->status), "%s", st);
				l->current = (uint64_t)cur;
				l->total = (uint64_t)total;
				if (strcmp(st, "Download complete") == 0)
					l->fetched = true;
			}
		}
		pull_progress(pl, layer, st, (uint64_t)cur, (uint64_t)total);
	} else if (pl->login && json_is_true(json_object_get(o, "login"))) {
		pl->login_ok = true;
	} else if (manifest && registry_digest_valid(manifest) && !pl->manifest) {
		const char *digest = json_string_value(json_object_get(o, "digest"));
		pl->manifest = strdup(manifest);
		pl->digest = strdup(digest && registry_digest_valid(digest) ? digest : manifest);
		pl->downloaded = json_is_true(json_object_get(o, "downloaded"));
	} else if (error && !pl->error) {
		char q[1024 * 4 + 8];
		/* Quoted only if it holds control characters: the message goes to a terminal. */
		bool plain = strlen(error) < 1024;
		for (const char *c = error; *c && plain; c++)
			plain = (unsigned char)*c >= 0x20;
		pl->error = strdup(plain ? error : str_quote(error, 1024, q, sizeof(q)));
		json_int_t e = json_integer_value(json_object_get(o, "errno"));
		pl->error_r = e > 0 && e < 4096 ? -(int)e : -EIO;
	}
}

static void pull_on_output(evutil_socket_t fd, short what, void *userdata)
{
	struct pull *pl = userdata;
	ssize_t n;

	for (;;) {
		n = read(pl->out_fd, pl->line + pl->len, sizeof(pl->line) - pl->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		pl->len += (size_t)n;
		char *nl;
		size_t start = 0;
		while ((nl = memchr(pl->line + start, '\n', pl->len - start))) {
			pull_line(pl, pl->line + start, (size_t)(nl - (pl->line + start)));
			start = (size_t)(nl - pl->line) + 1;
		}
		memmove(pl->line, pl->line + start, pl->len - start);
		pl->len -= start;
		if (pl->len == sizeof(pl->line)) {
			pl->overlong = true;
			pidref_kill(&pl->proc, SIGKILL);
			break;
		}
	}
	/* EOF (the worker exited) or a failure: wait for the exit on its pidfd. */
	event_free(pl->ev_out);
	pl->ev_out = NULL;
	pl->out_fd = safe_close(pl->out_fd);
	pl->ev_exit = event_new(pl->puller->base, pl->proc.pidfd, EV_READ | EV_PERSIST, pull_on_exit, pl);
	if (!pl->ev_exit || event_add(pl->ev_exit, NULL) < 0) {
		pull_finish(pl, -ENOMEM, NULL, "watching the pull worker failed");
		return;
	}
	pull_on_exit(-1, 0, pl);
}

static int pull_add_waiter(struct pull *pl, const struct image_pull_callbacks *cb, void *userdata)
{
	struct pull_waiter *w = calloc(1, sizeof(*w)), **tail = &pl->waiters;
	if (!w)
		return -ENOMEM;
	w->cb = *cb;
	w->userdata = userdata;
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	return 0;
}

/* What the worker's child runs (daemon/worker.c). */
struct pull_run_args {
	const struct registry_ref *ref;
	const struct image_pull_job *job;
};

static void pull_run(void *arg, int report_fd, pid_t parent)
{
	const struct pull_run_args *a = arg;

	image_pull_worker_main(a->ref, a->job, report_fd, parent);
}

/* Forks the worker; the job's strings live in the child's copy of our memory. */
static int pull_spawn(struct pull *pl, const struct image_pull_job *job, char **reterr)
{
	struct pull_run_args a = { .ref = &pl->ref, .job = job };
	int r = worker_spawn("pull", pull_run, &a, true, &pl->proc, &pl->out_fd, reterr);

	if (r < 0)
		return r;
	pl->ev_out = event_new(pl->puller->base, pl->out_fd, EV_READ | EV_PERSIST, pull_on_output, pl);
	if (!pl->ev_out || event_add(pl->ev_out, NULL) < 0)
		return err_set(reterr, -ENOMEM, "watching the pull worker failed");
	return 0;
}

int image_pull_start(struct image_puller *p, const char *ref, const char *platform, const char *user,
		     const char *pass, const struct image_pull_callbacks *cb, void *userdata, char **reterr)
{
	_cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL, *key = NULL;
	struct pull *pl;
	int r;

	if (platform) {
		r = registry_platform_parse(platform, &os, &arch, &variant, reterr);
		if (r < 0)
			return r;
	} else if (!(os = strdup("linux")) || !(arch = strdup(registry_host_arch()))) {
		return -ENOMEM;
	}
	if (!(pl = pull_new(p)))
		return -ENOMEM;
	r = registry_ref_parse(ref, &pl->ref, reterr);
	if (r < 0)
		goto fail;
	if (asprintf(&key, "%s/%s:%s@%s %s/%s/%s %s", pl->ref.domain, pl->ref.path, pl->ref.tag ? pl->ref.tag : "",
		     pl->ref.digest ? pl->ref.digest : "", os, arch, variant ? variant : "", user ? user : "") < 0) {
		key = NULL;
		r = -ENOMEM;
		goto fail;
	}
	/* The same pull running already: wait for it, replaying what its layers did so far. */
	for (struct pull *q = p->pulls; q; q = q->next)
		if (!q->login && strcmp(q->key, key) == 0) {
			pull_free(pl);
			r = pull_add_waiter(q, cb, userdata);
			if (r < 0)
				return r;
			for (size_t i = 0; i < q->nlayers; i++)
				if (cb->progress)
					cb->progress(userdata, q->layers[i].id, q->layers[i].status, q->layers[i].current,
						     q->layers[i].total);
			return 0;
		}
	if (image_puller_count(p) >= PULL_WORKERS_MAX) {
		r = err_set(reterr, -EAGAIN, "too many pulls at once (%d): try again when some have finished",
			    PULL_WORKERS_MAX);
		goto fail;
	}
	pl->key = TAKE_PTR(key);
	struct image_pull_job job = {
		.blobs_dir = image_store_blobs_dir(p->store),
		.ingest_dir = image_store_ingest_dir(p->store),
		.os = os,
		.arch = arch,
		.variant = variant,
		.user = user,
		.pass = pass,
		.insecure = p->insecure,
		.mirrors = p->mirrors,
	};
	r = pull_add_waiter(pl, cb, userdata);
	if (r < 0)
		goto fail;
	r = pull_spawn(pl, &job, reterr);
	if (r < 0)
		goto fail;
	pl->next = p->pulls;
	p->pulls = pl;
	return 0;
fail:
	pull_free(pl);
	return r;
}

void image_pull_cancel_callbacks(struct image_puller *p, void *userdata)
{
	for (struct pull *pl = p ? p->pulls : NULL; pl; pl = pl->next)
		for (struct pull_waiter *w = pl->waiters; w; w = w->next)
			if (w->userdata == userdata)
				w->userdata = NULL;
}

int image_login_start(struct image_puller *p, const char *server, const char *user, const char *pass,
		      const struct image_pull_callbacks *cb, void *userdata, char **reterr)
{
	struct pull *pl;
	int r;

	if (image_puller_count(p) >= PULL_WORKERS_MAX)
		return err_set(reterr, -EAGAIN, "too many pulls at once (%d): try again when some have finished",
			       PULL_WORKERS_MAX);
	if (!(pl = pull_new(p)))
		return -ENOMEM;
	pl->login = true;
	struct image_pull_job job = {
		.user = user,
		.pass = pass,
		.insecure = p->insecure,
		.login_server = server,
	};
	if (!(pl->key = strdup(server)))
		r = -ENOMEM;
	else if ((r = pull_add_waiter(pl, cb, userdata)) >= 0)
		r = pull_spawn(pl, &job, reterr);
	if (r < 0) {
		pull_free(pl);
		return r;
	}
	pl->next = p->pulls;
	p->pulls = pl;
	return 0;
}
