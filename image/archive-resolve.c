/* The load worker's second half: from the archive's files (archive-read.c) to the images to
 * register. An OCI image layout names its manifests in index.json; a `docker save` archive names
 * configs and layer files in manifest.json, and gets a synthesized OCI manifest. Everything an
 * image needs must be in the archive and agree with its digests and sizes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/archive-internal.h"
#include "image/archive-json.h"
#include "image/archive-read.h"

/* The result being built: the images in order, and the blobs they need (a set). */
struct resolve {
	struct archive_files *f;
	json_t *images;
	json_t *blobs;
	struct archive_docker_manifest docker; /* manifest.json, when there is one */
};

/* The blob blobs/<hex> of the worker's directory: its size, or -ENOENT. */
static int blob_size(const struct archive_files *f, const char *hex, int64_t *ret)
{
	char path[80];
	struct stat st;

	snprintf(path, sizeof(path), ARCHIVE_READ_BLOBS "/%s", hex);
	if (fstatat(f->dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	*ret = st.st_size;
	return 0;
}

/* Checks that the blob a descriptor names is in the archive, with the size it says. */
static int desc_check(struct resolve *rs, const struct archive_desc *d, const char *what, char **reterr)
{
	int64_t size = 0;
	int r = blob_size(rs->f, d->digest + 7, &size);

	if (r == -ENOENT)
		return err_set(reterr, -ENOENT, "%s %s is missing from the archive", what, d->digest);
	if (r < 0)
		return err_set(reterr, r, "%s %s: %m", what, d->digest);
	if (size != d->size)
		return err_set(reterr, -EBADMSG, "%s %s: the descriptor says %lld bytes, the blob has %lld", what,
			       d->digest, (long long)d->size, (long long)size);
	return json_object_set_new(rs->blobs, d->digest + 7, json_true()) < 0 ? -ENOMEM : 0;
}

/* Reads a JSON blob (capped) after desc_check. */
static int blob_read(struct resolve *rs, const char *hex, char **ret, size_t *ret_len, const char *what, char **reterr)
{
	char path[80];
	int r;

	snprintf(path, sizeof(path), ARCHIVE_READ_BLOBS "/%s", hex);
	r = read_file_at(rs->f->dir_fd, path, ARCHIVE_JSON_MAX, ret, ret_len);
	if (r == -EFBIG)
		return err_set(reterr, r, "%s sha256:%s is larger than %d bytes", what, hex, ARCHIVE_JSON_MAX);
	if (r < 0)
		return err_set(reterr, r, "reading %s sha256:%s: %m", what, hex);
	return 0;
}

/* Whether a layer media type is an uncompressed tar, whose digest is its diff_id. */
static bool layer_is_plain(const char *media_type)
{
	return strcmp(media_type, ARCHIVE_MT_OCI_LAYER) == 0 ||
	       strcmp(media_type, "application/vnd.docker.image.rootfs.diff.tar") == 0;
}

/* Checks a config and its layers against each other: as many layers as diff_ids, and each
 * uncompressed layer's digest its diff_id. */
static int check_config(struct resolve *rs, const struct archive_desc *config, const struct archive_desc *layers,
			size_t n_layers, char **reterr)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_strv_free_ char **diff_ids = NULL;
	size_t len, n;
	int r;

	if ((r = desc_check(rs, config, "the image config", reterr)) < 0 ||
	    (r = blob_read(rs, config->digest + 7, &text, &len, "the image config", reterr)) < 0 ||
	    (r = archive_json_config_diff_ids(text, len, &diff_ids, &n, reterr)) < 0)
		return r;
	if (n != n_layers)
		return err_set(reterr, -EINVAL, "image config %s lists %zu layers (diff_ids) but the manifest has %zu",
			       config->digest, n, n_layers);
	for (size_t i = 0; i < n_layers; i++) {
		if ((r = desc_check(rs, &layers[i], "layer", reterr)) < 0)
			return r;
		if (layer_is_plain(layers[i].media_type) && strcmp(layers[i].digest, diff_ids[i]) != 0)
			return err_set(reterr, -EBADMSG, "layer %s does not match the config's diff_id %s",
				       layers[i].digest, diff_ids[i]);
	}
	return 0;
}

/* The names manifest.json gives the image with this config (the dual layout's RepoTags). */
static int docker_names(struct resolve *rs, const char *config_digest, json_t *names)
{
	for (size_t i = 0; i < rs->docker.n_images; i++) {
		const struct archive_file *cf = archive_files_find(rs->f, rs->docker.images[i].config);
		if (!cf || strcmp(cf->hex, config_digest + 7) != 0)
			continue;
		for (char **t = rs->docker.images[i].repo_tags; *t; t++)
			if (json_array_append_new(names, json_string(*t)) < 0)
				return -ENOMEM;
	}
	return 0;
}

/* The platform this machine runs, in OCI's (Go's) architecture names. */
static const char *host_arch(void)
{
	static const char *const map[][2] = { { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" },
					      { "armv7l", "arm" },   { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
					      { "riscv64", "riscv64" } };
	static struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(u.machine, map[i][0]) == 0)
			return map[i][1];
	return u.machine;
}

/* Registers an image manifest: checks it and everything it names, and adds it to the result.
 * Without names, it takes manifest.json's RepoTags for its config, else ref_name. */
static int resolve_manifest(struct resolve *rs, const struct archive_desc *d, json_t *names, const char *ref_name,
			    char **reterr)
{
	_cleanup_(archive_manifest_done) struct archive_manifest m = { 0 };
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if ((r = desc_check(rs, d, "the image manifest", reterr)) < 0 ||
	    (r = blob_read(rs, d->digest + 7, &text, &len, "the image manifest", reterr)) < 0 ||
	    (r = archive_json_manifest_parse(text, len, &m, reterr)) < 0 ||
	    (r = check_config(rs, &m.config, m.layers, m.n_layers, reterr)) < 0)
		return r;
	if (json_array_size(names) == 0 && (r = docker_names(rs, m.config.digest, names)) < 0)
		return r;
	if (json_array_size(names) == 0 && ref_name && json_array_append_new(names, json_string(ref_name)) < 0)
		return -ENOMEM;
	return json_array_append_new(rs->images, json_pack("{s:s, s:O}", "manifest", d->digest, "names", names)) < 0 ?
		       -ENOMEM :
		       0;
}

/* Resolves one entry of index.json: a manifest, or an index whose entry for this platform
 * (linux and the host's architecture) is taken. */
static int resolve_entry(struct resolve *rs, const struct archive_desc *d, json_t *names, const char *ref_name,
			 int depth, char **reterr)
{
	_cleanup_(archive_index_done) struct archive_index idx = { 0 };
	_cleanup_free_ char *text = NULL;
	const char *arch = host_arch();
	size_t len;
	int r;

	if (archive_media_type_is_manifest(d->media_type))
		return resolve_manifest(rs, d, names, ref_name, reterr);
	if (!archive_media_type_is_index(d->media_type))
		return err_set(reterr, -EINVAL, "index entry %s has the unsupported media type \"%.100s\"", d->digest,
			       d->media_type ? d->media_type : "");
	if (depth >= 2)
		return err_set(reterr, -EINVAL, "image index %s nests indexes too deeply", d->digest);
	if ((r = desc_check(rs, d, "the image index", reterr)) < 0 ||
	    (r = blob_read(rs, d->digest + 7, &text, &len, "the image index", reterr)) < 0 ||
	    (r = archive_json_index_parse(text, len, &idx, reterr)) < 0)
		return r;
	/* The index blob itself is not needed: the image is the manifest for this platform. */
	json_object_del(rs->blobs, d->digest + 7);
	for (size_t i = 0; i < idx.n_manifests; i++) {
		const struct archive_desc *m = &idx.manifests[i];
		if (m->os && strcmp(m->os, "linux") == 0 && m->arch && strcmp(m->arch, arch) == 0)
			return resolve_entry(rs, m, names, ref_name, depth + 1, reterr);
	}
	return err_set(reterr, -ENOENT, "image index %s has no manifest for linux/%s", d->digest, arch);
}

/* index.json: every entry is an image, named by its annotations or by manifest.json. */
static int resolve_oci(struct resolve *rs, char **reterr)
{
	_cleanup_(archive_index_done) struct archive_index idx = { 0 };
	int r = archive_json_index_parse(rs->f->index_json, rs->f->index_len, &idx, reterr);

	if (r < 0)
		return r;
	if (idx.n_manifests == 0)
		return err_set(reterr, -EINVAL, "the archive's index.json lists no image");
	for (size_t i = 0; i < idx.n_manifests; i++) {
		const struct archive_desc *d = &idx.manifests[i];
		json_auto_t *names = json_array();
		/* containerd's (and docker's) full name first, then manifest.json's RepoTags, then
		 * ref.name, which docker writes as the bare tag. */
		if (!names || (d->image_name && json_array_append_new(names, json_string(d->image_name)) < 0))
			return -ENOMEM;
		r = resolve_entry(rs, d, names, d->ref_name, 0, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The media type of a docker-save layer file, from its first bytes. */
static int layer_media_type(struct resolve *rs, const char *hex, const char **ret, char **reterr)
{
	static const unsigned char gzip[] = { 0x1f, 0x8b }, zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };
	unsigned char magic[4] = { 0 };
	_cleanup_close_ int fd = -1;
	char path[80];
	ssize_t n;

	snprintf(path, sizeof(path), ARCHIVE_READ_BLOBS "/%s", hex);
	fd = openat(rs->f->dir_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, magic, sizeof(magic))) < 0)
		return err_set(reterr, -errno, "reading layer sha256:%s: %m", hex);
	if (n >= 2 && memcmp(magic, gzip, sizeof(gzip)) == 0)
		*ret = ARCHIVE_MT_OCI_LAYER_GZIP;
	else if (n >= 4 && memcmp(magic, zstd, sizeof(zstd)) == 0)
		*ret = ARCHIVE_MT_OCI_LAYER_ZSTD;
	else
		*ret = ARCHIVE_MT_OCI_LAYER;
	return 0;
}

/* A file manifest.json names, as a descriptor of its blob. */
static int docker_file(struct resolve *rs, const char *path, const char *what, struct archive_desc *d, char **reterr)
{
	const struct archive_file *af = archive_files_find(rs->f, path);
	char q[300];

	if (!af)
		return err_set(reterr, -ENOENT, "manifest.json names %s %s, which is not in the archive", what,
			       str_quote(path, 64, q, sizeof(q)));
	snprintf(d->digest, sizeof(d->digest), "sha256:%s", af->hex);
	d->size = af->size;
	return 0;
}

/* One image of manifest.json: its config and layer files, and a synthesized OCI manifest. */
static int resolve_docker_image(struct resolve *rs, const struct archive_docker_image *img, char **reterr)
{
	struct archive_desc config = { .media_type = (char *)ARCHIVE_MT_OCI_CONFIG };
	_cleanup_free_ struct archive_desc *layers = calloc(img->n_layers + 1, sizeof(*layers));
	_cleanup_free_ char *manifest = NULL;
	json_auto_t *names = json_array();
	char hex[65], digest[ARCHIVE_DIGEST_LEN + 1];
	int r;

	if (!layers || !names)
		return -ENOMEM;
	if ((r = docker_file(rs, img->config, "the config", &config, reterr)) < 0)
		return r;
	for (size_t i = 0; i < img->n_layers; i++) {
		const char *mt = NULL;
		if ((r = docker_file(rs, img->layers[i], "the layer", &layers[i], reterr)) < 0 ||
		    (r = layer_media_type(rs, layers[i].digest + 7, &mt, reterr)) < 0)
			return r;
		layers[i].media_type = (char *)mt;
	}
	r = check_config(rs, &config, layers, img->n_layers, reterr);
	if (r < 0)
		return r;
	manifest = archive_json_manifest_write(&config, layers, img->n_layers);
	if (!manifest)
		return -ENOMEM;
	r = archive_write_blob(rs->f->dir_fd, manifest, strlen(manifest), hex, reterr);
	if (r < 0)
		return r;
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	for (char **t = img->repo_tags; *t; t++)
		if (json_array_append_new(names, json_string(*t)) < 0)
			return -ENOMEM;
	if (json_object_set_new(rs->blobs, hex, json_true()) < 0 ||
	    json_array_append_new(rs->images, json_pack("{s:s, s:O}", "manifest", digest, "names", names)) < 0)
		return -ENOMEM;
	return 0;
}

int archive_resolve(struct archive_files *f, json_t **ret, char **reterr)
{
	struct resolve rs = { .f = f, .images = json_array(), .blobs = json_object() };
	json_t *blobs = json_array(), *v;
	const char *hex;
	int r = 0;

	if (!rs.images || !rs.blobs || !blobs) {
		r = -ENOMEM;
		goto out;
	}
	if (f->manifest_json &&
	    (r = archive_json_docker_parse(f->manifest_json, f->manifest_len, &rs.docker, reterr)) < 0)
		goto out;
	if (f->index_json) {
		r = resolve_oci(&rs, reterr);
	} else if (f->manifest_json) {
		if (rs.docker.n_images == 0)
			r = err_set(reterr, -EINVAL, "the archive's manifest.json lists no image");
		for (size_t i = 0; r >= 0 && i < rs.docker.n_images; i++)
			r = resolve_docker_image(&rs, &rs.docker.images[i], reterr);
	} else {
		r = err_set(reterr, -EINVAL,
			    "not an image archive: it has neither index.json (OCI image layout) nor manifest.json "
			    "(docker save); a root filesystem tarball is imported with cctl import");
	}
	if (r < 0)
		goto out;
	json_object_foreach(rs.blobs, hex, v)
		if (json_array_append_new(blobs, json_string(hex)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	*ret = json_pack("{s:O, s:O}", "images", rs.images, "blobs", blobs);
	r = *ret ? 0 : -ENOMEM;
out:
	archive_docker_manifest_done(&rs.docker);
	json_decref(rs.images);
	json_decref(rs.blobs);
	json_decref(blobs);
	return r;
}
