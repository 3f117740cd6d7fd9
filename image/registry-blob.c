/* Blob downloads: a few at once on one curl multi handle, each hashed (sha256) while it
 * streams into ingest/<hex>.partial and size-checked against its descriptor; renamed into
 * blobs/ only when the digest matches. Transient failures are retried with back-off, resuming
 * from what the partial file holds (a Range request). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/registry-internal.h"

#define PROGRESS_INTERVAL_NS 100000000ull /* Downloading reports at most every 100 ms */
#define LOCK_RETRY_MS 200u

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_DONE };

struct blob_job {
	const struct registry_desc *desc;
	bool is_layer;
	enum job_state state;
	int fd;              /* the partial file, locked */
	EVP_MD_CTX *md;      /* sha256 of the bytes in the partial file */
	uint64_t have;       /* bytes in the partial file */
	uint64_t resumed_at; /* the offset the current transfer started at */
	unsigned attempts;
	uint64_t not_before_ns; /* back-off: not started again before this (CLOCK_MONOTONIC) */
	uint64_t last_report_ns;
	bool too_big;
	bool write_failed;
	CURL *easy;
	struct curl_slist *hdrs;
	struct registry_client *c;
	char errbuf[CURL_ERROR_SIZE];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool registry_blob_exists(const struct registry_pull_opts *opts, const char *digest)
{
	_cleanup_free_ char *p = NULL;
	if (asprintf(&p, "%s/%s", opts->blobs_dir, digest + 7) < 0)
		return false;
	return access(p, F_OK) == 0;
}

static void report(struct blob_job *j, const char *status)
{
	const struct registry_pull_opts *o = j->c->opts;
	if (o->progress && j->is_layer)
		o->progress(o->userdata, j->desc->digest, status, j->have, j->desc->size);
}

/* Ends a transfer's curl handle (the partial file stays open for a retry). */
static void job_stop(struct blob_job *j, CURLM *multi)
{
	if (j->easy) {
		curl_multi_remove_handle(multi, j->easy);
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
}

static void job_free(struct blob_job *j, CURLM *multi)
{
	job_stop(j, multi);
	if (j->md)
		EVP_MD_CTX_free(j->md);
	j->md = NULL;
	safe_close(j->fd);
	j->fd = -1;
}

/* Restarts the hash and the partial file from zero (a server that ignored the Range). */
static int job_truncate(struct blob_job *j)
{
	if (ftruncate(j->fd, 0) < 0)
		return -errno;
	j->have = 0;
	return EVP_DigestInit_ex(j->md, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

static size_t job_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct blob_job *j = userdata;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 && status != 206)
		return n; /* an error body: ignored, the status decides */
	if (status == 200 && j->have > 0 && j->resumed_at > 0) {
		/* The server ignored the Range and sends the whole blob. */
		if (job_truncate(j) < 0) {
			j->write_failed = true;
			return 0;
		}
		j->resumed_at = 0;
	}
	if (j->have + n > j->desc->size) {
		j->too_big = true;
		return 0;
	}
	if (pwrite(j->fd, data, n, (off_t)j->have) != (ssize_t)n || EVP_DigestUpdate(j->md, data, n) != 1) {
		j->write_failed = true;
		return 0;
	}
	j->have += n;
	uint64_t t = now_ns();
	if (t - j->last_report_ns >= PROGRESS_INTERVAL_NS) {
		j->last_report_ns = t;
		report(j, "Downloading");
	}
	return n;
}

/* Opens and locks the partial file and hashes what it already holds. Returns 1 when the
 * blob turned out to be in blobs/ already (another pull stored it while we waited for the
 * lock), 0 when ready, -EAGAIN when another pull holds the lock. */
static int job_open(struct blob_job *j, char **reterr)
{
	const struct registry_pull_opts *o = j->c->opts;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	char buf[65536];

	if (asprintf(&path, "%s/%s.partial", o->ingest_dir, j->desc->digest + 7) < 0)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(reterr, -errno, "opening %s: %m", path);
	/* Two workers pulling images that share a blob: one downloads, the other waits. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : err_set(reterr, -errno, "locking %s: %m", path);
	if (registry_blob_exists(o, j->desc->digest)) {
		/* The other pull finished; what we opened is either its renamed file or a new
		 * empty one of ours. */
		if (fstat(fd, &st) == 0 && st.st_nlink > 0 && st.st_size == 0)
			unlink(path);
		return 1;
	}
	if (fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "stat %s: %m", path);
	j->md = EVP_MD_CTX_new();
	if (!j->md || EVP_DigestInit_ex(j->md, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	j->have = 0;
	if ((uint64_t)st.st_size > j->desc->size) {
		if (ftruncate(fd, 0) < 0)
			return err_set(reterr, -errno, "truncating %s: %m", path);
		st.st_size = 0;
	}
	/* Resume: the bytes already there count, once hashed again. */
	while (j->have < (uint64_t)st.st_size) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)j->have);
		if (n < 0)
			return err_set(reterr, -errno, "reading %s: %m", path);
		if (n == 0)
			break;
		if (EVP_DigestUpdate(j->md, buf, (size_t)n) != 1)
			return -EIO;
		j->have += (uint64_t)n;
	}
	j->fd = TAKE_FD(fd);
	return 0;
}

/* Starts (or restarts) a job's transfer from what the partial file holds. */
static int job_start(struct blob_job *j, CURLM *multi)
{
	struct registry_client *c = j->c;
	_cleanup_free_ char *url = NULL;
	struct curl_slist *t;

	if (asprintf(&url, "%s/v2/%s/blobs/%s", c->base, c->path, j->desc->digest) < 0)
		return -ENOMEM;
	j->easy = curl_easy_init();
	if (!j->easy)
		return -ENOMEM;
	registry_client_setup_handle(c, j->easy);
	if (c->authz) {
		if (!(t = curl_slist_append(NULL, c->authz)))
			return -ENOMEM;
		j->hdrs = t;
	}
	j->errbuf[0] = '\0';
	j->resumed_at = j->have;
	curl_easy_setopt(j->easy, CURLOPT_URL, url);
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, job_write);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	/* A Range rather than CURLOPT_RESUME_FROM: libcurl fails a resume the server ignores,
	 * while job_write() takes a whole body (200) instead and starts the file over. */
	char range[32];
	if (j->have > 0) {
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)j->have);
		curl_easy_setopt(j->easy, CURLOPT_RANGE, range);
	}
	if (curl_multi_add_handle(multi, j->easy) != CURLM_OK)
		return -ENOMEM;
	j->state = JOB_RUNNING;
	return 0;
}

/* A complete partial file: compares its digest and renames it into blobs/. */
static int job_commit(struct blob_job *j, char **reterr)
{
	const struct registry_pull_opts *o = j->c->opts;
	_cleanup_free_ char *src = NULL, *dst = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * 32 + 1];

	if (asprintf(&src, "%s/%s.partial", o->ingest_dir, j->desc->digest + 7) < 0 ||
	    asprintf(&dst, "%s/%s", o->blobs_dir, j->desc->digest + 7) < 0)
		return -ENOMEM;
	if (EVP_DigestFinal_ex(j->md, md, &mdlen) != 1 || mdlen != 32)
		return -EIO;
	hex_encode(md, 32, hex);
	if (j->have != j->desc->size || strcmp(hex, j->desc->digest + 7) != 0) {
		/* Nothing of it is kept: a partial file with wrong content would be resumed. */
		unlink(src);
		return err_set(reterr, -EBADMSG, "filesystem layer verification failed for digest %s", j->desc->digest);
	}
	report(j, "Verifying Checksum");
	if (fchmod(j->fd, 0644) < 0 || fsync(j->fd) < 0)
		return err_set(reterr, -errno, "syncing %s: %m", src);
	if (rename(src, dst) < 0)
		return err_set(reterr, -errno, "moving %s into %s: %m", src, dst);
	report(j, "Download complete");
	return 0;
}

/* A transfer ended: commit, schedule a retry, or fail. */
static int job_finished(struct blob_job *j, CURLM *multi, CURLcode cc, char **reterr)
{
	long status = 0;
	char text[256];

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
	snprintf(text, sizeof(text), "%s", j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc));
	job_stop(j, multi);
	if (j->too_big) {
		_cleanup_free_ char *src = NULL;
		if (asprintf(&src, "%s/%s.partial", j->c->opts->ingest_dir, j->desc->digest + 7) >= 0)
			unlink(src);
		return err_set(reterr, -EBADMSG, "filesystem layer verification failed for digest %s: more than %llu bytes",
			       j->desc->digest, (unsigned long long)j->desc->size);
	}
	if (j->write_failed)
		return err_set(reterr, -EIO, "writing the download of %s failed", j->desc->digest);
	/* A body that ends early, but is 200/206, is a truncated transfer: resumed. */
	if (cc == CURLE_OK && (status == 200 || status == 206) && j->have < j->desc->size)
		cc = CURLE_PARTIAL_FILE;
	if (cc == CURLE_OK && (status == 200 || status == 206)) {
		j->state = JOB_DONE;
		int r = job_commit(j, reterr);
		job_free(j, multi);
		return r;
	}
	if (cc == CURLE_OK && status == 416 && j->have == j->desc->size) {
		/* Asked for the bytes after a complete file. */
		j->state = JOB_DONE;
		int r = job_commit(j, reterr);
		job_free(j, multi);
		return r;
	}
	if (cc == CURLE_OK && status == 404)
		return err_set(reterr, -ENOENT, "blob %s not found on %s: blob unknown", j->desc->digest, j->c->domain);
	if (cc == CURLE_OK && (status == 401 || status == 403))
		return err_set(reterr, -EACCES, "fetching blob %s: unauthorized (HTTP %ld)", j->desc->digest, status);
	if (cc == CURLE_OK && status == 416)
		cc = CURLE_PARTIAL_FILE, j->have = 0, job_truncate(j);
	unsigned max = j->c->opts->retries ? j->c->opts->retries : 5;
	if (!registry_transient(cc, status) || ++j->attempts >= max) {
		if (cc == CURLE_OK)
			snprintf(text, sizeof(text), "received unexpected HTTP status: %ld", status);
		return err_set(reterr, -EIO, "%s %s: download failed after %u attempts: %s",
			       j->is_layer ? "layer" : "image configuration", j->desc->digest, j->attempts, text);
	}
	unsigned wait = registry_backoff_ms(j->c->opts, j->attempts);
	j->not_before_ns = now_ns() + (uint64_t)wait * 1000000ull;
	j->state = JOB_WAITING;
	char st[64];
	snprintf(st, sizeof(st), "Retrying in %u second%s", (wait + 999) / 1000, (wait + 999) / 1000 == 1 ? "" : "s");
	report(j, st);
	return 0;
}

int registry_fetch_blobs(struct registry_client *c, const struct registry_desc *const *descs, const bool *is_layer,
			 size_t n, bool *ret_downloaded, char **reterr)
{
	const struct registry_pull_opts *o = c->opts;
	unsigned parallel = o->parallel ? o->parallel : 3;
	_cleanup_free_ struct blob_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	CURLM *multi = curl_multi_init();
	size_t left = 0;
	int r = 0;

	*ret_downloaded = false;
	if (!jobs || !multi) {
		if (multi)
			curl_multi_cleanup(multi);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct blob_job){ .desc = descs[i], .is_layer = is_layer[i], .fd = -1, .c = c };
		/* The same blob twice in one manifest is fetched once. */
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(descs[k]->digest, descs[i]->digest) == 0;
		if (dup || registry_blob_exists(o, descs[i]->digest)) {
			jobs[i].state = JOB_DONE;
			if (!dup)
				report(&jobs[i], "Already exists");
			continue;
		}
		left++;
		report(&jobs[i], "Pulling fs layer");
	}
	if (left > 0)
		*ret_downloaded = true;

	while (left > 0 && r >= 0) {
		unsigned running = 0;
		uint64_t t = now_ns(), next_wake = UINT64_MAX;
		for (size_t i = 0; i < n; i++)
			running += jobs[i].state == JOB_RUNNING;
		for (size_t i = 0; i < n && running < parallel && r >= 0; i++) {
			struct blob_job *j = &jobs[i];
			if (j->state != JOB_WAITING)
				continue;
			if (j->not_before_ns > t) {
				if (j->not_before_ns < next_wake)
					next_wake = j->not_before_ns;
				continue;
			}
			if (j->fd < 0) {
				int k = job_open(j, reterr);
				if (k == -EAGAIN) {
					j->not_before_ns = t + LOCK_RETRY_MS * 1000000ull;
					if (j->not_before_ns < next_wake)
						next_wake = j->not_before_ns;
					report(j, "Waiting");
					continue;
				}
				if (k < 0) {
					r = k;
					break;
				}
				if (k == 1) {
					j->state = JOB_DONE;
					left--;
					report(j, "Download complete");
					continue;
				}
			}
			if (j->have == j->desc->size && j->have > 0) {
				/* A resumed file that was complete already. */
				j->state = JOB_DONE;
				left--;
				r = job_commit(j, reterr);
				job_free(j, multi);
				continue;
			}
			r = job_start(j, multi);
			if (r < 0)
				break;
			running++;
		}
		if (r < 0 || left == 0)
			break;
		int still = 0;
		if (curl_multi_perform(multi, &still) != CURLM_OK) {
			r = err_set(reterr, -EIO, "curl_multi_perform failed");
			break;
		}
		CURLMsg *msg;
		int queued;
		while (r >= 0 && (msg = curl_multi_info_read(multi, &queued))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct blob_job *j = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			if (!j)
				continue;
			r = job_finished(j, multi, msg->data.result, reterr);
			if (r >= 0 && j->state == JOB_DONE)
				left--;
		}
		if (r < 0 || left == 0)
			break;
		int timeout = 1000;
		if (next_wake != UINT64_MAX) {
			uint64_t now = now_ns();
			timeout = next_wake <= now ? 0 : (int)((next_wake - now) / 1000000ull) + 1;
			if (timeout > 1000)
				timeout = 1000;
		}
		/* Waiting jobs whose time has come need no socket event. */
		bool idle = true;
		for (size_t i = 0; i < n; i++)
			idle &= jobs[i].state != JOB_RUNNING;
		if (idle)
			usleep((useconds_t)timeout * 1000u);
		else
			curl_multi_poll(multi, NULL, 0, timeout, NULL);
	}
	for (size_t i = 0; i < n; i++)
		job_free(&jobs[i], multi);
	curl_multi_cleanup(multi);
	return r;
}
