/* What the registry client's files share: one connection's state to one repository. */
#pragma once

#include <curl/curl.h>

#include "image/registry.h"

struct registry_client {
	char *base;   /* "https://host[:port]" or "http://..." (a mirror's base for docker.io) */
	char *domain; /* the registry's name, for messages */
	char *path;   /* the repository's path ("library/alpine") */
	char *authz;  /* the "Authorization: ..." header to send, or NULL */
	const struct registry_pull_opts *opts;
	bool insecure; /* plain http allowed (the base's scheme says which is used) */
	CURL *easy;    /* manifests, tokens */
	char errbuf[CURL_ERROR_SIZE];
};

/* A response to a small request, its body capped. */
struct registry_response {
	long status;
	char *body;
	size_t len;
	char *content_type;
	char *www_authenticate;
	bool too_big;
};

void registry_response_done(struct registry_response *r);
/* The options every handle of the client gets: protocols, timeouts, stall detection, TLS. */
void registry_client_setup_handle(struct registry_client *c, CURL *h);
/* Whether a curl result or an HTTP status is worth a retry. */
bool registry_transient(CURLcode cc, long status);
/* Milliseconds to wait before attempt n (1-based) of a retried request. */
unsigned registry_backoff_ms(const struct registry_pull_opts *opts, unsigned attempt);
/* The registry's error in its JSON body ("MANIFEST_UNKNOWN: ..."), or a generic text. Frees
 * nothing; writes into buf. */
const char *registry_error_text(const struct registry_response *resp, char *buf, size_t size);
/* Downloads the blobs (config and layers) not yet in blobs_dir, parallel, verified. */
int registry_fetch_blobs(struct registry_client *c, const struct registry_desc *const *descs, const bool *is_layer,
			 size_t n, bool *ret_downloaded, char **reterr);
/* Whether blobs_dir holds the blob "sha256:<hex>". */
bool registry_blob_exists(const struct registry_pull_opts *opts, const char *digest);
