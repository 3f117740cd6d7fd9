/* The registry client's requests: the /v2/ API over libcurl with the registry's auth challenge
 * answered (anonymous or credentialed Bearer tokens, Basic), manifests resolved through indexes
 * to the platform's image, and the whole pull put together. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/registry-internal.h"

#define TOKEN_MAX (64u << 10)
#define SMALL_BODY_MAX (64u << 10)

static const char ACCEPT_MANIFESTS[] = "Accept: " REGISTRY_MT_OCI_MANIFEST ", " REGISTRY_MT_OCI_INDEX
				       ", " REGISTRY_MT_DOCKER_MANIFEST ", " REGISTRY_MT_DOCKER_LIST;

void registry_response_done(struct registry_response *r)
{
	free(r->body);
	free(r->content_type);
	free(r->www_authenticate);
	*r = (struct registry_response){ 0 };
}

bool registry_transient(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_OK:
		return status >= 500 || status == 429 || status == 408;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

unsigned registry_backoff_ms(const struct registry_pull_opts *opts, unsigned attempt)
{
	unsigned base = opts->backoff_ms ? opts->backoff_ms : 500;
	unsigned shift = attempt > 1 ? attempt - 1 : 0;
	if (shift > 6)
		shift = 6;
	return base << shift;
}

void registry_client_setup_handle(struct registry_client *c, CURL *h)
{
	/* Only http(s), also after a redirect (blob downloads are redirected to storage), and http
	 * only for a registry allowed it. libcurl does not send a custom Authorization header to
	 * another host after a redirect (CURLOPT_UNRESTRICTED_AUTH stays off), so a registry token
	 * never reaches the storage a registry redirects to. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->insecure ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, c->insecure ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	/* A transfer slower than 1 byte/s for 30 s is stalled: retried. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "containd/" CONTAIND_VERSION);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
	if (c->opts->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->opts->ca_file);
}

static size_t response_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct registry_response *r = userdata;
	size_t n = size * nmemb;
	if (r->len + n > SMALL_BODY_MAX + REGISTRY_MANIFEST_MAX) {
		r->too_big = true;
		return 0;
	}
	char *nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + r->len, data, n);
	r->len += n;
	nb[r->len] = '\0';
	r->body = nb;
	return n;
}

static size_t response_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct registry_response *r = userdata;
	size_t n = size * nmemb;
	static const char name[] = "www-authenticate:";
	if (n > strlen(name) && strncasecmp(data, name, strlen(name)) == 0 && !r->www_authenticate) {
		const char *v = data + strlen(name);
		size_t vl = n - strlen(name);
		while (vl > 0 && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		r->www_authenticate = strndup(v, vl);
	}
	/* A new response (after a redirect or a 100) starts over. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(r->www_authenticate);
		r->www_authenticate = NULL;
	}
	return n;
}

/* One GET with the client's Authorization (unless anonymous), retried on transient failures. */
static int client_get(struct registry_client *c, const char *url, const char *accept, const char *basic,
		      size_t max, struct registry_response *resp, char **reterr)
{
	unsigned attempts = c->opts->retries ? c->opts->retries : 5;
	_cleanup_free_ char *basic_hdr = NULL;

	if (basic && asprintf(&basic_hdr, "Authorization: Basic %s", basic) < 0)
		return -ENOMEM;
	for (unsigned attempt = 1;; attempt++) {
		struct curl_slist *hdrs = NULL, *t;
		CURLcode cc;
		registry_response_done(resp);
		curl_easy_reset(c->easy);
		registry_client_setup_handle(c, c->easy);
		if (accept && (t = curl_slist_append(hdrs, accept)))
			hdrs = t;
		if ((basic_hdr || c->authz) && (t = curl_slist_append(hdrs, basic_hdr ? basic_hdr : c->authz)))
			hdrs = t;
		c->errbuf[0] = '\0';
		curl_easy_setopt(c->easy, CURLOPT_URL, url);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, response_write);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, resp);
		curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, response_header);
		curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, resp);
		cc = curl_easy_perform(c->easy);
		curl_slist_free_all(hdrs);
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &resp->status);
		char *ct = NULL;
		if (curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
			size_t l = strcspn(ct, "; ");
			resp->content_type = strndup(ct, l);
		}
		if (resp->too_big || (cc == CURLE_OK && resp->len > max))
			return err_set(reterr, -EFBIG, "%s: the response is larger than %zu bytes", c->domain, max);
		if (cc == CURLE_OK && !registry_transient(cc, resp->status))
			return 0;
		/* A registry that is not there at all fails at once, as docker pull does; one that
		 * answers badly or breaks off is asked again. */
		bool unreachable = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
		if (unreachable || !registry_transient(cc, resp->status) || attempt >= attempts) {
			if (cc != CURLE_OK)
				return err_set(reterr, -EIO, "Get \"%s\": %s", url, c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
			return err_set(reterr, -EIO, "Get \"%s\": received unexpected HTTP status: %ld", url, resp->status);
		}
		usleep(registry_backoff_ms(c->opts, attempt) * 1000u);
	}
}

const char *registry_error_text(const struct registry_response *resp, char *buf, size_t size)
{
	json_auto_t *o = resp->body ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
	json_t *e = json_array_get(json_object_get(o, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	char qc[64 * 4 + 8], qm[200 * 4 + 8];

	if (code) {
		_cleanup_free_ char *lower = strdup(code);
		for (char *p = lower; p && *p; p++)
			*p = *p == '_' ? ' ' : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		snprintf(buf, size, "%s: %s", str_quote(lower ? lower : code, 64, qc, sizeof(qc)) + 0,
			 str_quote(msg ? msg : "", 200, qm, sizeof(qm)));
		/* str_quote adds quotes: strip them for Docker's plain "manifest unknown: ..." form. */
		char *p = buf, *w = buf;
		for (; *p; p++)
			if (*p != '"')
				*w++ = *p;
		*w = '\0';
	} else {
		snprintf(buf, size, "received unexpected HTTP status: %ld", resp->status);
	}
	return buf;
}

/* Gets a Bearer token from the challenge's realm: anonymous, or with the user's credentials
 * (Basic to the token server, as Docker's token flow). */
static int client_token(struct registry_client *c, const struct registry_challenge *ch, char **reterr)
{
	_cleanup_(registry_response_done) struct registry_response resp = { 0 };
	_cleanup_free_ char *url = NULL, *scope = NULL, *service = NULL, *basic = NULL, *scope_str = NULL;
	CURL *h = c->easy;
	int r;

	/* No repository (docker login): a token for the registry itself, without a scope. */
	if (c->path && *c->path) {
		if (asprintf(&scope_str, "repository:%s:pull", c->path) < 0)
			return -ENOMEM;
		if (!(scope = curl_easy_escape(h, scope_str, 0)))
			return -ENOMEM;
	}
	service = ch->service ? curl_easy_escape(h, ch->service, 0) : NULL;
	if (ch->service && !service)
		return -ENOMEM;
	if (asprintf(&url, "%s%s%s%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?", scope ? "scope=" : "",
		     scope ? scope : "", service ? (scope ? "&service=" : "service=") : "", service ? service : "") < 0)
		return -ENOMEM;
	if (c->opts->user && !(basic = registry_auth_encode(c->opts->user, c->opts->pass ? c->opts->pass : "")))
		return -ENOMEM;
	free(c->authz);
	c->authz = NULL;
	r = client_get(c, url, NULL, basic, TOKEN_MAX, &resp, reterr);
	if (r < 0)
		return r;
	if (resp.status == 401 || resp.status == 403)
		return err_set(reterr, -EACCES, "Get \"%s\": unauthorized: %s", ch->realm,
			       c->opts->user ? "incorrect username or password" : "authentication required");
	if (resp.status != 200)
		return err_set(reterr, -EACCES, "fetching a token from %s: HTTP status %ld", ch->realm, resp.status);
	json_auto_t *o = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
	const char *tok = json_string_value(json_object_get(o, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(o, "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n"))
		return err_set(reterr, -EACCES, "the token server %s sent no token", ch->realm);
	if (asprintf(&c->authz, "Authorization: Bearer %s", tok) < 0) {
		c->authz = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Answers a 401's challenge: sets c->authz. -EACCES with Docker's words when it cannot. */
static int client_authenticate(struct registry_client *c, const struct registry_response *resp, char **reterr)
{
	_cleanup_(registry_challenge_done) struct registry_challenge ch = { 0 };

	if (!resp->www_authenticate || registry_challenge_parse(resp->www_authenticate, &ch) < 0)
		return err_set(reterr, -EACCES, "%s: unauthorized, and no usable WWW-Authenticate challenge", c->domain);
	if (ch.scheme == REGISTRY_AUTH_BEARER)
		return client_token(c, &ch, reterr);
	if (!c->opts->user)
		return err_set(reterr, -EACCES, "Head \"%s/v2/%s/manifests\": no basic auth credentials", c->base, c->path);
	_cleanup_free_ char *b64 = registry_auth_encode(c->opts->user, c->opts->pass ? c->opts->pass : "");
	free(c->authz);
	c->authz = NULL;
	if (!b64 || asprintf(&c->authz, "Authorization: Basic %s", b64) < 0) {
		c->authz = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* GET with the auth dance: a 401 is answered once, then the request repeated. */
static int client_get_auth(struct registry_client *c, const char *url, const char *accept, size_t max,
			   struct registry_response *resp, char **reterr)
{
	int r = client_get(c, url, accept, NULL, max, resp, reterr);
	if (r < 0 || resp->status != 401)
		return r;
	r = client_authenticate(c, resp, reterr);
	if (r < 0)
		return r;
	r = client_get(c, url, accept, NULL, max, resp, reterr);
	if (r >= 0 && resp->status == 401)
		return err_set(reterr, -EACCES, "%s: unauthorized: %s", c->domain,
			       c->opts->user ? "incorrect username or password" : "authentication required");
	return r;
}

/* The sha256 of buf as "sha256:<hex>" into out (7 + 64 + 1 bytes). */
static void digest_of(const char *buf, size_t len, char *out)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	hex_encode(md, 32, out + 7);
}

/* Fetches the manifest named by reference (a tag or a digest), verifies a digest reference
 * against the body, and returns its body, digest and parse. */
static int client_manifest(struct registry_client *c, const struct registry_ref *ref, const char *reference,
			   struct registry_response *resp, char *digest, struct registry_manifest *m, char **reterr)
{
	_cleanup_free_ char *url = NULL;
	char buf[512];
	int r;

	if (asprintf(&url, "%s/v2/%s/manifests/%s", c->base, c->path, reference) < 0)
		return -ENOMEM;
	r = client_get_auth(c, url, ACCEPT_MANIFESTS, REGISTRY_MANIFEST_MAX, resp, reterr);
	if (r < 0)
		return r;
	const char *shown = ref->name ? ref->name : ref->repo;
	if (resp->status == 404) {
		if (resp->body && strstr(resp->body, "NAME_UNKNOWN"))
			return err_set(reterr, -ENOENT, "repository %s not found: %s", ref->repo,
				       registry_error_text(resp, buf, sizeof(buf)));
		return err_set(reterr, -ENOENT, "manifest for %s%s%s not found: %s", shown, ref->name ? "" : "@",
			       ref->name ? "" : reference, registry_error_text(resp, buf, sizeof(buf)));
	}
	if (resp->status == 401 || resp->status == 403)
		return err_set(reterr, -EACCES,
			       "pull access denied for %s, repository does not exist or may require 'docker login': %s",
			       ref->repo, registry_error_text(resp, buf, sizeof(buf)));
	if (resp->status != 200)
		return err_set(reterr, -EIO, "%s: %s", c->domain, registry_error_text(resp, buf, sizeof(buf)));
	digest_of(resp->body ? resp->body : "", resp->len, digest);
	if (registry_digest_valid(reference) && strcmp(digest, reference) != 0)
		return err_set(reterr, -EBADMSG, "manifest verification failed for digest %s", reference);
	return registry_manifest_parse(resp->content_type, resp->body ? resp->body : "", resp->len, m, reterr);
}

/* Stores a verified manifest or index body in blobs_dir (through ingest/, renamed). */
static int client_store_blob(const struct registry_pull_opts *o, const char *digest, const char *body, size_t len,
			     char **reterr)
{
	_cleanup_free_ char *tmp = NULL, *dst = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&tmp, "%s/%s.manifest-XXXXXX", o->ingest_dir, digest + 7) < 0 ||
	    asprintf(&dst, "%s/%s", o->blobs_dir, digest + 7) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_set(reterr, -errno, "creating %s: %m", tmp);
	int r = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, body, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return err_set(reterr, r, "storing %s: %m", digest);
	}
	return 0;
}

static void client_done(struct registry_client *c)
{
	if (c->easy)
		curl_easy_cleanup(c->easy);
	free(c->base);
	free(c->domain);
	free(c->path);
	if (c->authz)
		explicit_bzero(c->authz, strlen(c->authz));
	free(c->authz);
}

/* The whole pull against one base URL (the registry or a mirror). */
static int client_pull(struct registry_client *c, const struct registry_ref *ref, struct registry_pull_result *ret,
		       char **reterr)
{
	const struct registry_pull_opts *o = c->opts;
	_cleanup_(registry_response_done) struct registry_response resp = { 0 }, index_resp = { 0 };
	_cleanup_(registry_manifest_done) struct registry_manifest m = { 0 }, idx = { 0 };
	_cleanup_free_ const struct registry_desc **descs = NULL;
	_cleanup_free_ bool *is_layer = NULL;
	char digest[7 + REGISTRY_HEX_LEN + 1], index_digest[7 + REGISTRY_HEX_LEN + 1];
	bool have_index = false;
	int r;

	r = client_manifest(c, ref, ref->digest ? ref->digest : ref->tag, &resp, digest, &m, reterr);
	if (r < 0)
		return r;
	if (m.is_index) {
		const struct registry_desc *e;
		r = registry_manifest_select(&m, o->os, o->arch, o->variant, &e, reterr);
		if (r < 0)
			return r;
		idx = m;
		m = (struct registry_manifest){ 0 };
		index_resp = resp;
		resp = (struct registry_response){ 0 };
		memcpy(index_digest, digest, sizeof(digest));
		have_index = true;
		r = client_manifest(c, ref, e->digest, &resp, digest, &m, reterr);
		if (r < 0)
			return r;
		if (m.is_index)
			return err_set(reterr, -EINVAL, "manifest: an index entry names another index");
	}
	if (o->progress && ref->tag)
		o->progress(o->userdata, NULL, "Pulling from", 0, 0);

	descs = calloc(m.nlayers + 1, sizeof(*descs));
	is_layer = calloc(m.nlayers + 1, sizeof(*is_layer));
	if (!descs || !is_layer)
		return -ENOMEM;
	descs[0] = &m.config;
	for (size_t i = 0; i < m.nlayers; i++) {
		descs[i + 1] = &m.layers[i];
		is_layer[i + 1] = true;
	}
	r = registry_fetch_blobs(c, descs, is_layer, m.nlayers + 1, &ret->downloaded, reterr);
	if (r < 0)
		return r;
	/* The manifest goes in last: once it is in blobs/, everything it names is. */
	if (!registry_blob_exists(o, digest)) {
		r = client_store_blob(o, digest, resp.body ? resp.body : "", resp.len, reterr);
		if (r < 0)
			return r;
		ret->downloaded = true;
	}
	if (have_index && !registry_blob_exists(o, index_digest)) {
		r = client_store_blob(o, index_digest, index_resp.body ? index_resp.body : "", index_resp.len, reterr);
		if (r < 0)
			return r;
	}
	memcpy(ret->manifest_digest, digest, sizeof(digest));
	memcpy(ret->digest, have_index ? index_digest : digest, sizeof(digest));
	return 0;
}

/* Sets up a client for base ("https://host") and the registry's path. */
static int client_init(struct registry_client *c, const char *base, const char *domain, const char *path,
		       const struct registry_pull_opts *o)
{
	*c = (struct registry_client){ .opts = o };
	c->base = strdup(base);
	c->domain = strdup(domain);
	c->path = strdup(path ? path : "");
	c->easy = curl_easy_init();
	if (!c->base || !c->domain || !c->path || !c->easy)
		return -ENOMEM;
	c->insecure = str_startswith(base, "http://");
	return 0;
}

int registry_pull(const struct registry_ref *ref, const struct registry_pull_opts *opts,
		  struct registry_pull_result *ret, char **reterr)
{
	const char *host = registry_ref_api_host(ref);
	_cleanup_free_ char *base = NULL;
	int r;

	*ret = (struct registry_pull_result){ 0 };
	/* docker.io's mirrors first, each given up on any failure but a verification one (a
	 * mirror that serves bad data is not hidden by the next). They get no credentials: the
	 * user's Docker Hub password is for Docker Hub, not for a cache in between. */
	struct registry_pull_opts anon = *opts;
	anon.user = anon.pass = NULL;
	if (strcmp(ref->domain, "docker.io") == 0)
		for (char **m = opts->mirrors; m && *m; m++) {
			struct registry_client c;
			_cleanup_free_ char *mbase = strdup(*m);
			if (!mbase)
				return -ENOMEM;
			size_t l = strlen(mbase);
			while (l > 0 && mbase[l - 1] == '/')
				mbase[--l] = '\0';
			r = client_init(&c, mbase, ref->domain, ref->path, &anon);
			if (r >= 0)
				r = client_pull(&c, ref, ret, NULL);
			client_done(&c);
			if (r >= 0 || r == -EBADMSG)
				return r;
		}
	if (asprintf(&base, "%s://%s", registry_is_insecure(ref->domain, opts->insecure) ? "http" : "https", host) < 0)
		return -ENOMEM;
	struct registry_client c;
	r = client_init(&c, base, ref->domain, ref->path, opts);
	if (r >= 0)
		r = client_pull(&c, ref, ret, reterr);
	client_done(&c);
	return r;
}

int registry_login(const char *domain, const char *user, const char *pass, char **insecure, char **reterr)
{
	struct registry_pull_opts o = { .user = user, .pass = pass, .retries = 2 };
	_cleanup_(registry_response_done) struct registry_response resp = { 0 };
	_cleanup_free_ char *base = NULL, *url = NULL;
	const char *host = strcmp(domain, "docker.io") == 0 ? "registry-1.docker.io" : domain;
	struct registry_client c;
	int r;

	if (asprintf(&base, "%s://%s", registry_is_insecure(domain, insecure) ? "http" : "https", host) < 0 ||
	    asprintf(&url, "%s/v2/", base) < 0)
		return -ENOMEM;
	r = client_init(&c, base, domain, NULL, &o);
	if (r >= 0)
		r = client_get(&c, url, NULL, NULL, SMALL_BODY_MAX, &resp, reterr);
	if (r >= 0 && resp.status == 401) {
		_cleanup_(registry_challenge_done) struct registry_challenge ch = { 0 };
		if (!resp.www_authenticate || registry_challenge_parse(resp.www_authenticate, &ch) < 0)
			r = err_set(reterr, -EACCES, "%s: unauthorized, and no usable WWW-Authenticate challenge", domain);
		else if (ch.scheme == REGISTRY_AUTH_BEARER) {
			/* A token for the registry itself, no repository scope: what docker login asks. */
			r = client_token(&c, &ch, reterr);
		} else {
			_cleanup_free_ char *b64 = registry_auth_encode(user, pass);
			r = b64 ? client_get(&c, url, NULL, b64, SMALL_BODY_MAX, &resp, reterr) : -ENOMEM;
			if (r >= 0 && resp.status != 200)
				r = err_set(reterr, -EACCES, "Get \"%s\": unauthorized: incorrect username or password", url);
		}
	} else if (r >= 0 && resp.status != 200) {
		r = err_set(reterr, -EIO, "Get \"%s\": received unexpected HTTP status: %ld", url, resp.status);
	}
	client_done(&c);
	return r;
}
