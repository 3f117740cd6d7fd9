/* Shared by the two halves of the load worker: archive-read.c streams the tar into verified blobs
 * and keeps a table of its files, archive-resolve.c turns that table into images. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Most entries an archive may have (a docker-save archive has about four per layer). */
#define ARCHIVE_MAX_ENTRIES 20000
/* The blob written while it streams, before it is verified and renamed into blobs/<hex>. */
#define ARCHIVE_PARTIAL "blob.partial"

/* One file of the archive. */
struct archive_file {
	char *path;   /* normalized: no "./", no "//", no ".." */
	char *link;   /* a symlink's target, normalized relative to the archive's root; or NULL */
	char hex[65]; /* a regular file's sha256; its content is blobs/<hex> */
	int64_t size;
};

/* The archive as the stream left it. */
struct archive_files {
	struct archive_file *v;
	size_t n, cap;
	char *index_json; /* index.json's content, or NULL */
	size_t index_len;
	char *manifest_json; /* manifest.json's content (docker save), or NULL */
	size_t manifest_len;
	int dir_fd; /* the worker's directory, holding blobs/ */
};

void archive_files_done(struct archive_files *f);

/* The regular file at path, following symlinks among the archive's files; NULL if none. */
const struct archive_file *archive_files_find(const struct archive_files *f, const char *path);

/* Normalizes an archive path (or, with base, a symlink target relative to base's directory):
 * drops "." and empty components, resolves ".." lexically; refuses an absolute path (unless
 * base is set: then an absolute target is refused too), a path that leaves the archive's root,
 * an empty or over-long one. Returns 0 or -EINVAL with a message. */
int archive_path_normalize(const char *path, const char *base, char **ret, char **reterr);

/* sha256 of buf as lowercase hex (out holds 65 bytes). */
int archive_sha256_hex(const void *buf, size_t len, char *out);

/* Writes buf as the blob blobs/<its sha256> in dir_fd, and returns the hex. */
int archive_write_blob(int dir_fd, const char *buf, size_t len, char *ret_hex, char **reterr);

/* Turns the streamed archive into the images to register: checks every manifest, config and
 * layer it names is there and consistent, synthesizes manifests for `docker save` images, and
 * returns result.json's document (see archive-read.h). */
int archive_resolve(struct archive_files *f, json_t **ret, char **reterr);
