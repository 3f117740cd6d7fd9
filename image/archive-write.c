/* The save worker: see archive-write.h. The archive holds, in this order: oci-layout, every blob
 * (manifests, configs, layers) once under blobs/sha256/<hex> exactly as the store keeps it (so
 * every digest still matches), index.json naming each manifest with its names as annotations,
 * and docker's manifest.json naming the same files as Config and Layers, with RepoTags. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "image/archive-json.h"
#include "image/archive-write.h"

#define WRITE_OUT_FD 3
#define WRITE_STATUS_FD 4
#define WRITE_BLOBS_FD 5

/*
 * Security: the worker reads only the store's blobs (it is chrooted into blobs/sha256 and has no
 * capability, so it can read nothing else) and writes only to the fd the client gave; the
 * manifests it parses were verified by digest when they entered the store and are parsed by the
 * same checked parser as at load time. Blob names come from validated digests (64 hex digits).
 */

struct writer {
	struct archive *a;
	json_t *written; /* hex -> true: blobs already in the archive */
};

/* Adds a file or directory entry of size bytes (mode 0644 or 0755, owner 0:0, mtime 0). */
static int write_header(struct writer *w, const char *path, bool dir, int64_t size, char **reterr)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (!e)
		return err_set(reterr, -ENOMEM, "out of memory");
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, dir ? 0755 : 0644);
	archive_entry_set_size(e, dir ? 0 : size);
	archive_entry_set_mtime(e, 0, 0);
	r = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN)
		return err_set(reterr, -EIO, "writing the archive: %s", archive_error_string(w->a));
	return 0;
}

static int write_data(struct writer *w, const void *buf, size_t len, char **reterr)
{
	if (len && archive_write_data(w->a, buf, len) != (la_ssize_t)len)
		return err_set(reterr, -EIO, "writing the archive: %s", archive_error_string(w->a));
	return 0;
}

static int write_document(struct writer *w, const char *path, json_t *doc, char **reterr)
{
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
	int r;

	if (!text)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = write_header(w, path, false, (int64_t)strlen(text), reterr)) < 0)
		return r;
	return write_data(w, text, strlen(text), reterr);
}

/* Copies the store's blob with this digest into the archive, once; returns its size. */
static int write_blob(struct writer *w, const char *digest, int64_t *ret_size, char **reterr)
{
	const char *hex = digest + 7;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char buf[128 * 1024];
	struct stat st;
	int64_t left;
	int r;

	fd = open(hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "blob %s: %m", digest);
	if (!S_ISREG(st.st_mode))
		return err_set(reterr, -EINVAL, "blob %s is not a regular file", digest);
	if (ret_size)
		*ret_size = st.st_size;
	if (json_object_get(w->written, hex))
		return 0;
	if (asprintf(&path, "blobs/sha256/%s", hex) < 0)
		return -ENOMEM;
	if ((r = write_header(w, path, false, st.st_size, reterr)) < 0)
		return r;
	for (left = st.st_size; left > 0;) {
		ssize_t n = read(fd, buf, sizeof(buf) < (size_t)left ? sizeof(buf) : (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(reterr, n < 0 ? -errno : -EIO, "reading blob %s: %s", digest,
				       n < 0 ? strerror(errno) : "it shrank");
		if ((r = write_data(w, buf, (size_t)n, reterr)) < 0)
			return r;
		left -= n;
	}
	return json_object_set_new(w->written, hex, json_true()) < 0 ? -ENOMEM : 0;
}

/* Writes one image's blobs and adds its entries to index.json's and manifest.json's lists. */
static int write_image(struct writer *w, const struct archive_save_image *img, json_t *index, json_t *docker,
		       char **reterr)
{
	_cleanup_(archive_manifest_done) struct archive_manifest m = { 0 };
	_cleanup_free_ char *text = NULL, *config_path = NULL;
	json_t *layers = json_array(), *tags = json_array();
	json_auto_t *root = NULL;
	const char *mt;
	int64_t size = 0;
	size_t len;
	int r;

	if (!layers || !tags) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = read_file_at(AT_FDCWD, img->manifest + 7, ARCHIVE_JSON_MAX, &text, &len)) < 0) {
		r = err_set(reterr, r, "reading manifest %s: %m", img->manifest);
		goto out;
	}
	if ((r = archive_json_manifest_parse(text, len, &m, reterr)) < 0 ||
	    (r = write_blob(w, img->manifest, &size, reterr)) < 0 ||
	    (r = write_blob(w, m.config.digest, NULL, reterr)) < 0)
		goto out;
	for (size_t i = 0; i < m.n_layers; i++) {
		_cleanup_free_ char *p = NULL;
		if ((r = write_blob(w, m.layers[i].digest, NULL, reterr)) < 0)
			goto out;
		if (asprintf(&p, "blobs/sha256/%s", m.layers[i].digest + 7) < 0 ||
		    json_array_append_new(layers, json_string(p)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	/* The index names the manifest by its own media type (OCI or Docker v2 schema 2). */
	root = json_loadb(text, len, 0, NULL);
	mt = json_string_value(json_object_get(root, "mediaType"));
	if (!archive_media_type_is_manifest(mt))
		mt = ARCHIVE_MT_OCI_MANIFEST;
	/* One index entry per name (OCI tools pick an image by its ref.name), or one without. */
	for (size_t i = 0; !img->names[0] || img->names[i]; i++) {
		json_t *e =
		    json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", img->manifest, "size", (json_int_t)size);
		if (!e || json_array_append_new(index, e) < 0) {
			r = -ENOMEM;
			goto out;
		}
		if (!img->names[0])
			break;
		if (json_object_set_new(e, "annotations",
					json_pack("{s:s, s:s}", "io.containerd.image.name", img->full_names[i],
						  "org.opencontainers.image.ref.name", img->names[i])) < 0 ||
		    json_array_append_new(tags, json_string(img->names[i])) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (asprintf(&config_path, "blobs/sha256/%s", m.config.digest + 7) < 0 ||
	    json_array_append_new(
		docker, json_pack("{s:s, s:O, s:O}", "Config", config_path, "RepoTags", tags, "Layers", layers)) < 0)
		r = -ENOMEM;
out:
	json_decref(layers);
	json_decref(tags);
	return r;
}

static int write_run(const struct archive_save_image *images, size_t n, char **reterr)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = { 0 };
	struct writer w = { .written = json_object() };
	json_auto_t *index = json_array(), *docker = json_array(), *layout = NULL, *index_doc = NULL;
	int r = 0;

	if (!w.written || !index || !docker)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (fchdir(WRITE_BLOBS_FD) < 0 || chroot(".") < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_capset, &hdr, caps) < 0) {
		r = err_set(reterr, -errno, "confining the save worker: %m");
		goto out;
	}
	w.a = archive_write_new();
	if (!w.a || archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(w.a, WRITE_OUT_FD) != ARCHIVE_OK) {
		r = err_set(reterr, -EIO, "setting up the archive: %s",
			    w.a ? archive_error_string(w.a) : "out of memory");
		goto out;
	}
	layout = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
	if ((r = write_document(&w, "oci-layout", layout, reterr)) < 0 ||
	    (r = write_header(&w, "blobs/", true, 0, reterr)) < 0 ||
	    (r = write_header(&w, "blobs/sha256/", true, 0, reterr)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = write_image(&w, &images[i], index, docker, reterr)) < 0)
			goto out;
	index_doc =
	    json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", ARCHIVE_MT_OCI_INDEX, "manifests", index);
	if ((r = write_document(&w, "index.json", index_doc, reterr)) < 0 ||
	    (r = write_document(&w, "manifest.json", docker, reterr)) < 0)
		goto out;
	if (archive_write_close(w.a) != ARCHIVE_OK)
		r = err_set(reterr, -EIO, "writing the archive: %s", archive_error_string(w.a));
out:
	if (w.a)
		archive_write_free(w.a);
	json_decref(w.written);
	return r;
}

_Noreturn void archive_write_main(int out_fd, int status_fd, int blobs_fd, const struct archive_save_image *images,
				  size_t n, pid_t parent)
{
	struct archive_write_status st = { 0 };
	struct rlimit no_core = { 0, 0 };
	char *err = NULL;
	int o, s, b, r;

	worker_child_setup(parent);
	o = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
	s = fcntl(status_fd, F_DUPFD_CLOEXEC, 10);
	b = fcntl(blobs_fd, F_DUPFD_CLOEXEC, 10);
	if (o < 0 || s < 0 || b < 0 || dup3(o, WRITE_OUT_FD, O_CLOEXEC) < 0 ||
	    dup3(s, WRITE_STATUS_FD, O_CLOEXEC) < 0 || dup3(b, WRITE_BLOBS_FD, O_CLOEXEC) < 0 ||
	    close_range(WRITE_BLOBS_FD + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0 || setrlimit(RLIMIT_CORE, &no_core) < 0)
		_exit(EXIT_FAILURE);
	/* The client may have handed over a non-blocking pipe: libarchive expects blocking writes. */
	fd_nonblock(WRITE_OUT_FD, false);

	r = write_run(images, n, &err);
	st.r = r < 0 ? r : 0;
	if (r < 0)
		snprintf(st.msg, sizeof(st.msg), "%s", err ? err : strerror(-r));
	if (write_all(WRITE_STATUS_FD, &st, sizeof(st)) < 0)
		_exit(EXIT_FAILURE);
	_exit(EXIT_SUCCESS);
}
