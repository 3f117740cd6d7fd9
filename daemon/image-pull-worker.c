/* The pull worker: a child of the daemon that runs the blocking registry client and reports
 * over a pipe, one JSON line per step. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-pull.h"
#include "image/registry.h"

#define WORKER_OUT_FD 3

/*
 * Security: the worker talks to a remote registry and parses what it sends (HTTP, JSON), so it
 * holds as little as it can:
 *   - one fd of the daemon's, its report pipe (fd 3): client sockets, the listening socket and
 *     container pidfds are closed before any byte is read from the network;
 *   - no capabilities at all (bounding set emptied, no_new_privs): it stays uid 0 only to write
 *     into the store's root-owned blobs/ and ingest/ (owner permissions, no override needed),
 *     and cannot mount, ptrace, change ids or reach other users' files;
 *   - it never unpacks anything: blobs are stored verbatim, and only once their sha256 matches
 *     the manifest's digest, which itself matches the digest asked for or what the registry
 *     named; the store's sandboxed unpack worker does the rest;
 *   - it dies with the daemon (PR_SET_PDEATHSIG); a partial download is only ever resumed
 *     into a blob after being hashed again in full.
 * It is not chrooted: name resolution and the CA bundle need the host's /etc.
 */
static int worker_confine(void)
{
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	return worker_drop_privileges(0, NULL);
}

/* Writes one line (each is far below PIPE_BUF, so lines never interleave or tear). */
static void worker_emit(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s)
		return;
	size_t n = strlen(s);
	s[n] = '\n';
	(void)write_all(WORKER_OUT_FD, s, n + 1);
	free(s);
}

static void worker_progress(void *userdata, const char *digest, const char *status, uint64_t current,
			    uint64_t total)
{
	char shortid[13] = "";
	if (digest && strlen(digest) >= 7 + 12)
		snprintf(shortid, sizeof(shortid), "%.12s", digest + 7);
	worker_emit(json_pack("{s:s?, s:s, s:I, s:I}", "layer", digest ? shortid : NULL, "status", status,
			      "current", (json_int_t)current, "total", (json_int_t)total));
}

_Noreturn void image_pull_worker_main(const struct registry_ref *ref, const struct image_pull_job *job, int out_fd,
				      int parent)
{
	struct registry_pull_opts o = {
		.blobs_dir = job->blobs_dir,
		.ingest_dir = job->ingest_dir,
		.os = job->os,
		.arch = job->arch,
		.variant = job->variant,
		.user = job->user,
		.pass = job->pass,
		.insecure = job->insecure,
		.mirrors = job->mirrors,
		.progress = worker_progress,
	};
	struct registry_pull_result res;
	char *err = NULL;
	int r;

	worker_child_setup(parent);
	if (out_fd != WORKER_OUT_FD && dup3(out_fd, WORKER_OUT_FD, O_CLOEXEC) < 0)
		_exit(EXIT_FAILURE);
	if (close_range(WORKER_OUT_FD + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0)
		_exit(EXIT_FAILURE);
	r = worker_confine();
	if (r >= 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		r = -ENOMEM;
	if (r < 0) {
		worker_emit(json_pack("{s:s, s:i}", "error", "confining the pull worker failed", "errno", -r));
		_exit(EXIT_FAILURE);
	}
	if (job->login_server) {
		r = registry_login(job->login_server, job->user, job->pass, job->insecure, &err);
		worker_emit(r < 0 ? json_pack("{s:s, s:i}", "error", err ? err : strerror(-r), "errno", -r)
				  : json_pack("{s:b}", "login", true));
		_exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
	}
	r = registry_pull(ref, &o, &res, &err);
	if (r < 0)
		worker_emit(json_pack("{s:s, s:i}", "error", err ? err : strerror(-r), "errno", -r));
	else
		worker_emit(json_pack("{s:s, s:s, s:b}", "manifest", res.manifest_digest, "digest", res.digest,
				      "downloaded", res.downloaded));
	_exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}
