/* The JSON documents of image archives: an OCI layout's index.json, image manifests (OCI and
 * Docker v2 schema 2), `docker save`'s manifest.json and the rootfs of an image config. Pure
 * parsers of untrusted input (they run in the load worker and are fuzzed), and the writer of the
 * manifest a `docker save` archive lacks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most bytes of one JSON document of an archive (index.json, manifest.json, a manifest, a
 * config); a bigger one is refused before it is read. */
#define ARCHIVE_JSON_MAX (4 * 1024 * 1024)
/* Most images (index or manifest.json entries) and layers per image an archive may hold. */
#define ARCHIVE_MAX_IMAGES 1024
#define ARCHIVE_MAX_LAYERS 1024
/* Most names (RepoTags) of one image. */
#define ARCHIVE_MAX_NAMES 256
/* "sha256:" and 64 hex digits. */
#define ARCHIVE_DIGEST_LEN (7 + 64)

#define ARCHIVE_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define ARCHIVE_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define ARCHIVE_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define ARCHIVE_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define ARCHIVE_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define ARCHIVE_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define ARCHIVE_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define ARCHIVE_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

/* A content descriptor (OCI image-spec descriptor.md), with the fields a loader uses. */
struct archive_desc {
	char *media_type;
	char digest[ARCHIVE_DIGEST_LEN + 1]; /* "sha256:<hex>", checked */
	int64_t size;
	char *ref_name;       /* annotation org.opencontainers.image.ref.name, or NULL */
	char *image_name;     /* annotation io.containerd.image.name, or NULL */
	char *os, *arch, *variant; /* platform, or NULL */
};

/* index.json, or an image index blob. */
struct archive_index {
	struct archive_desc *manifests;
	size_t n_manifests;
};

/* An image manifest blob. */
struct archive_manifest {
	struct archive_desc config;
	struct archive_desc *layers;
	size_t n_layers;
};

/* One entry of `docker save`'s manifest.json: paths inside the archive. */
struct archive_docker_image {
	char *config;
	char **repo_tags; /* NULL-terminated, maybe empty */
	char **layers;    /* NULL-terminated */
	size_t n_layers;
};

struct archive_docker_manifest {
	struct archive_docker_image *images;
	size_t n_images;
};

/* Whether s is "sha256:" followed by 64 lowercase hex digits. */
bool archive_digest_valid(const char *s);
/* Whether media_type names an image index (OCI) or a manifest list (Docker). */
bool archive_media_type_is_index(const char *media_type);
/* Whether media_type names an image manifest (OCI or Docker v2 schema 2). */
bool archive_media_type_is_manifest(const char *media_type);

/* Parses index.json or an index blob: schemaVersion 2, manifests[] of descriptors. Returns 0, or
 * -EINVAL (-E2BIG for too many entries) with a message. */
int archive_json_index_parse(const char *buf, size_t len, struct archive_index *ret, char **reterr);
void archive_index_done(struct archive_index *idx);

/* Parses an image manifest: schemaVersion 2, a config descriptor and layers[]. */
int archive_json_manifest_parse(const char *buf, size_t len, struct archive_manifest *ret, char **reterr);
void archive_manifest_done(struct archive_manifest *m);

/* Parses `docker save`'s manifest.json: an array of {Config, RepoTags, Layers}. Paths are
 * returned as written; the caller resolves them among the archive's files. */
int archive_json_docker_parse(const char *buf, size_t len, struct archive_docker_manifest *ret, char **reterr);
void archive_docker_manifest_done(struct archive_docker_manifest *m);

/* Parses an image config far enough to return its rootfs.diff_ids (NULL-terminated, each a
 * checked digest) and how many there are. */
int archive_json_config_diff_ids(const char *buf, size_t len, char ***ret, size_t *ret_n, char **reterr);

/* Writes the OCI image manifest for a config and layers (compact JSON, malloc'ed). */
char *archive_json_manifest_write(const struct archive_desc *config, const struct archive_desc *layers,
				  size_t n_layers);
