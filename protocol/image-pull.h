/* image.pull: its params, its result and the progress events it streams (docs/protocol.md).
 * Shared by the daemon and cctl. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define PROTO_M_IMAGE_PULL "image.pull"
/* One step of a pull: {"layer": SHORT_ID|null, "status": TEXT, "current": N, "total": N}. */
#define PROTO_EV_PULL_PROGRESS "image.pull_progress"
#define PROTO_E_PULL "pull_failed"
/* The longest credential field a pull request may carry. */
#define PROTO_PULL_AUTH_MAX 4096

/* {"ref": "alpine:3.20", "platform": "linux/amd64"?, "auth": {"username": U, "password": P}?}:
 * the credentials for the reference's registry, read by cctl from the user's own file. */
struct proto_pull_params {
	const char *ref;      /* borrowed */
	const char *platform; /* borrowed, or NULL: the host's */
	const char *username, *password; /* borrowed, or NULL */
};
int proto_pull_params_decode(json_t *params, struct proto_pull_params *ret, char **reterr);
json_t *proto_pull_params_encode(const struct proto_pull_params *p);

/* The result: {"id": IMAGE_ID, "digest": MANIFEST_DIGEST, "name": "alpine:3.20"|null,
 * "repo_digest": "alpine@sha256:...", "downloaded": bool}. */
struct proto_pull_result {
	const char *id, *digest, *name, *repo_digest; /* borrowed; name may be NULL */
	bool downloaded;
};
json_t *proto_pull_result_encode(const struct proto_pull_result *r);
int proto_pull_result_decode(json_t *result, struct proto_pull_result *ret, char **reterr);

struct proto_pull_progress {
	const char *layer;  /* the 12-digit short id, or NULL for a line about the whole pull */
	const char *status; /* Docker's words: "Pulling fs layer", "Downloading", ... */
	uint64_t current, total;
};
json_t *proto_pull_progress_encode(const struct proto_pull_progress *p);
int proto_pull_progress_decode(json_t *params, struct proto_pull_progress *ret, char **reterr);

/* registry.login: {"server": "host[:port]"|"docker.io", "username": U, "password": P}: the
 * daemon checks the credentials against the registry (as docker login does) and keeps nothing;
 * the result is {}. cctl stores them in the user's own file. */
#define PROTO_M_REGISTRY_LOGIN "registry.login"
struct proto_login_params {
	const char *server, *username, *password; /* borrowed */
};
int proto_login_params_decode(json_t *params, struct proto_login_params *ret, char **reterr);
json_t *proto_login_params_encode(const struct proto_login_params *p);
