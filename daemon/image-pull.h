/* Pulls on the daemon's side: each runs in a confined worker process (the blocking registry
 * client of image/registry.h), its progress relayed to whoever waits for it, its result
 * registered in the store on the loop. Pulls of the same reference share one worker. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct image_store;
struct image_puller;

/* What a pull's waiters hear. progress: a layer's short id (NULL: the whole pull), Docker's
 * status words, bytes. done: r 0 with the outcome, or -errno with a message; called once. */
struct image_pull_outcome {
	const char *id;          /* the image id, "sha256:<config hex>" */
	const char *digest;      /* the manifest's digest */
	const char *name;        /* "alpine:3.20", or NULL for a pull by digest */
	const char *repo_digest; /* "alpine@sha256:..." */
	bool downloaded;         /* false: the image was up to date */
};
struct image_pull_callbacks {
	void (*progress)(void *userdata, const char *layer, const char *status, uint64_t current, uint64_t total);
	void (*done)(void *userdata, int r, const struct image_pull_outcome *o, const char *errmsg);
};

/* insecure and mirrors: the daemon's config (borrowed, must outlive the puller). */
int image_puller_new(struct event_base *base, struct image_store *store, char **insecure, char **mirrors,
		     struct image_puller **ret);
/* Kills the workers (their waiters are not called back). */
void image_puller_free(struct image_puller *p);

/* Starts pulling ref (or joins the pull of the same reference, platform and user already
 * running); user and pass are the credentials for its registry (or NULL). -EINVAL with a
 * message for a bad reference or platform, -EAGAIN when too many workers run. cb->done is
 * called from the loop, never from inside; a joined pull's steps so far are replayed to
 * cb->progress at once. */
int image_pull_start(struct image_puller *p, const char *ref, const char *platform, const char *user,
		     const char *pass, const struct image_pull_callbacks *cb, void *userdata, char **reterr);
/* Checks credentials against a registry (server "host[:port]" or "docker.io") in a worker, as
 * docker login does: done gets 0 (outcome NULL) when the registry accepts them, -EACCES with
 * its words when not. Never joined with another request. */
int image_login_start(struct image_puller *p, const char *server, const char *user, const char *pass,
		      const struct image_pull_callbacks *cb, void *userdata, char **reterr);
/* Forgets userdata's waits (its client went away): the pulls go on. */
void image_pull_cancel_callbacks(struct image_puller *p, void *userdata);
/* How many pulls run (system.info, tests). */
unsigned image_puller_count(const struct image_puller *p);

/* The worker's entry point (image-pull-worker.c), in the forked child: pulls and writes JSON
 * lines to out_fd, progress then one result; never returns. */
struct registry_ref;
struct image_pull_job {
	const char *blobs_dir, *ingest_dir;
	const char *os, *arch, *variant;
	const char *user, *pass;
	char **insecure, **mirrors;
	const char *login_server; /* set: only check the credentials for this registry */
};
_Noreturn void image_pull_worker_main(const struct registry_ref *ref, const struct image_pull_job *job, int out_fd,
				      int parent);
