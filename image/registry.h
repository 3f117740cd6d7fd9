/* The registry client: OCI distribution API v2 pulls (references, auth challenges and
 * credentials, manifests and indexes, verified blob downloads). Blocking code for the pull
 * worker process; it never runs on the daemon's event loop and knows nothing of the wire. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on what a registry may send: a manifest, index or config larger than this, or an image
 * with more layers, is refused before it costs memory or disk. */
#define REGISTRY_MANIFEST_MAX (4u << 20)
#define REGISTRY_CONFIG_MAX (4u << 20)
#define REGISTRY_LAYERS_MAX 128u
#define REGISTRY_INDEX_MAX 1024u
#define REGISTRY_HEX_LEN 64

#define REGISTRY_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define REGISTRY_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define REGISTRY_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REGISTRY_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* ---- references (registry-ref.c) ---- */

/* A reference as Docker resolves it: "alpine" is docker.io, library/alpine, tag latest. */
struct registry_ref {
	char *domain; /* "docker.io" (also for index.docker.io), "127.0.0.1:5000" */
	char *path;   /* "library/alpine" */
	char *tag;    /* "latest"; NULL when the reference names only a digest */
	char *digest; /* "sha256:<hex>", or NULL */
	char *name;   /* the normalized local name with its tag ("alpine:latest"), or NULL for a digest */
	char *repo;   /* the normalized repository without tag ("alpine", "127.0.0.1:5000/x") */
};

/* Parses [domain/]path[:tag][@sha256:hex] by Docker's rules (common/imagename.c); a reference
 * with neither tag nor digest gets "latest". -EINVAL with a message when malformed. */
int registry_ref_parse(const char *s, struct registry_ref *ret, char **reterr);
void registry_ref_done(struct registry_ref *ref);
/* The host the API is spoken to: registry-1.docker.io for docker.io, else the domain. */
const char *registry_ref_api_host(const struct registry_ref *ref);
/* Whether s is "sha256:" and 64 lowercase hex digits. */
bool registry_digest_valid(const char *s);

/* ---- authentication (registry-auth.c) ---- */

enum registry_auth_scheme { REGISTRY_AUTH_NONE, REGISTRY_AUTH_BASIC, REGISTRY_AUTH_BEARER };

/* One WWW-Authenticate challenge. */
struct registry_challenge {
	enum registry_auth_scheme scheme;
	char *realm, *service, *scope; /* each NULL when absent */
};

/* Parses a WWW-Authenticate header value (RFC 7235: scheme, then comma-separated
 * name=token|"quoted" parameters). -EINVAL for a scheme other than Basic/Bearer or a malformed
 * header; at most 4096 bytes are looked at. */
int registry_challenge_parse(const char *value, struct registry_challenge *ret);
void registry_challenge_done(struct registry_challenge *c);

/* The key a registry's credentials are stored under in config.json: Docker's
 * "https://index.docker.io/v1/" for docker.io, else the domain. Caller frees. */
char *registry_auth_key(const char *domain);
/* Reads the credentials for domain from a config.json-format file ("auths": { key: { "auth":
 * base64(user:password) } }, "username"/"password" also read). 0 and NULL out-params when there
 * are none (or no file), -errno with a message for an unreadable or malformed file. */
int registry_auth_load(const char *path, const char *domain, char **ret_user, char **ret_pass, char **reterr);
/* Stores (user and pass set) or erases (both NULL) the credentials for domain, keeping every
 * other key of the file; written atomically with mode 0600. Erasing: -ENOENT when there were
 * none. */
int registry_auth_store(const char *path, const char *domain, const char *user, const char *pass, char **reterr);
/* base64 of user:pass (caller frees), and back. */
char *registry_auth_encode(const char *user, const char *pass);
int registry_auth_decode(const char *b64, char **ret_user, char **ret_pass);

/* ---- manifests (registry-manifest.c) ---- */

struct registry_desc {
	char *media_type;
	char *digest; /* validated "sha256:<hex>" */
	uint64_t size;
	char *os, *arch, *variant; /* index entries only, each may be NULL */
};

struct registry_manifest {
	bool is_index;
	char *media_type;
	struct registry_desc config;   /* image manifests */
	struct registry_desc *layers;  /* image manifests, bottom first */
	size_t nlayers;
	struct registry_desc *entries; /* indexes */
	size_t nentries;
};

/* Parses a manifest or index body; media_type is the Content-Type the registry sent (may be
 * NULL: the body's mediaType, then its shape, decides). Checks every digest and size, the caps
 * above and the layer media types (tar, gzip, zstd; OCI or Docker). -EINVAL with a message. */
int registry_manifest_parse(const char *media_type, const char *body, size_t len, struct registry_manifest *ret,
			    char **reterr);
void registry_manifest_done(struct registry_manifest *m);
/* The entry of an index for os/arch[/variant] (variant NULL: any, preferring none or the
 * best, as containerd's matcher does for amd64 and arm64 "v8"). -ENOENT with a message. */
int registry_manifest_select(const struct registry_manifest *idx, const char *os, const char *arch,
			     const char *variant, const struct registry_desc **ret, char **reterr);
/* Parses "os/arch[/variant]" (each part [a-z0-9_]+). */
int registry_platform_parse(const char *s, char **ret_os, char **ret_arch, char **ret_variant, char **reterr);
/* The host's platform as an OCI arch name ("amd64", "arm64", ...). */
const char *registry_host_arch(void);

/* ---- pulling (registry-client.c, registry-blob.c) ---- */

/* What a pull reports as it goes: per blob (digest set; the short id is its first 12 hex
 * digits) a status in Docker's words ("Pulling fs layer", "Waiting", "Downloading",
 * "Verifying Checksum", "Download complete", "Already exists", "Retrying") with bytes so far
 * and the total; digest NULL for a line about the whole pull. */
typedef void (*registry_progress_fn)(void *userdata, const char *digest, const char *status, uint64_t current,
				     uint64_t total);

struct registry_pull_opts {
	const char *blobs_dir;  /* <root>/blobs/sha256: verified blobs land here by rename */
	const char *ingest_dir; /* <root>/ingest: <hex>.partial downloads, resumable */
	const char *os, *arch, *variant; /* the platform an index resolves to */
	const char *user, *pass;         /* credentials for the registry, or NULL */
	char **insecure;                 /* registries spoken to over plain http (NULL-terminated) */
	char **mirrors;                  /* docker.io mirrors ("https://mirror.example"), tried first */
	unsigned parallel;               /* blobs downloaded at once (default 3) */
	unsigned retries;                /* attempts per blob and request (default 5) */
	unsigned backoff_ms;             /* first back-off (default 500, doubling) */
	const char *ca_file;             /* a CA bundle for https, or NULL for the system's */
	registry_progress_fn progress;
	void *userdata;
};

struct registry_pull_result {
	char manifest_digest[7 + REGISTRY_HEX_LEN + 1]; /* of the image manifest that was stored */
	/* What the reference resolved to: the index (manifest list) when there was one, else the
	 * manifest: Docker's "Digest:" and repo digest. */
	char digest[7 + REGISTRY_HEX_LEN + 1];
	bool downloaded;                                /* false: every blob was there already */
};

/* Pulls ref: resolves the manifest (an index to the platform's entry), downloads the config and
 * layers (each verified while it streams, stored only on a digest match) and finally the
 * manifest itself (and the index, if any) into blobs_dir. -errno with a message in Docker's
 * words: -ENOENT manifest unknown, -EACCES denied/unauthorized, -EIO network, -EBADMSG digest
 * mismatch or malformed data. */
int registry_pull(const struct registry_ref *ref, const struct registry_pull_opts *opts,
		  struct registry_pull_result *ret, char **reterr);
/* Checks credentials against a registry (GET /v2/ with the auth challenge, as docker login):
 * 0 when accepted, -EACCES "unauthorized: incorrect username or password". */
int registry_login(const char *domain, const char *user, const char *pass, char **insecure, char **reterr);

/* Whether domain may be spoken to over plain http: listed in insecure (exact "host:port" or
 * host), or a loopback registry (localhost, 127.0.0.0/8, ::1), which Docker also allows. */
bool registry_is_insecure(const char *domain, char **insecure);
