/* image_store_add_manifest() with a real event loop: a three-layer image made here (whiteouts,
 * an opaque directory), its layers as overlayfs sees them through a real overlay mount, the
 * config's settings, two concurrent adds of images that share a layer (unpacked once), refused
 * manifests and layers (nothing stored), and a store written by the previous version. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-store-internal.h"
#include "daemon/image-store.h"
#include "image/digest.h"
#include "tests/tap.h"

#define STR(s) ((s) ? (s) : "(null)")

static char tmproot[] = "/tmp/containd-test-image-layers.XXXXXX";
static char store_dir[256];
static struct event_base *base;

struct done_state {
	int calls, r;
	char *err;
	json_t *info;
};

static void on_done(int r, json_t *info, const char *errmsg, void *userdata)
{
	struct done_state *d = userdata;

	d->calls++;
	d->r = r;
	d->err = errmsg ? strdup(errmsg) : NULL;
	d->info = info ? json_deep_copy(info) : NULL;
}

static void done_reset(struct done_state *d)
{
	free(d->err);
	json_decref(d->info);
	memset(d, 0, sizeof(*d));
}

/* One tar entry: a file (data), a directory (data NULL, dir set). */
struct tentry {
	const char *path;
	bool dir;
	const char *data;
};

/* A tar of the entries in memory; gzip'ed when asked. *ret_diff_id: sha256 of the plain tar. */
static int make_tar(const struct tentry *e, size_t n, bool gzip, char **ret, size_t *ret_len, char diff_id[DIGEST_SIZE])
{
	size_t cap = 1 << 20, used = 0;
	char *buf = malloc(cap);
	struct archive *a;

	for (int pass = 0; pass < 2; pass++) {
		bool z = pass == 1;
		if (!z && !buf)
			return -ENOMEM;
		if (z && !gzip)
			break;
		a = archive_write_new();
		if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
		    (z && archive_write_add_filter_gzip(a) != ARCHIVE_OK) ||
		    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
		    archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK)
			return -EIO;
		for (size_t i = 0; i < n; i++) {
			struct archive_entry *entry = archive_entry_new();
			size_t len = e[i].data ? strlen(e[i].data) : 0;
			archive_entry_set_pathname(entry, e[i].path);
			archive_entry_set_mtime(entry, 1700000000, 0);
			archive_entry_set_filetype(entry, e[i].dir ? AE_IFDIR : AE_IFREG);
			archive_entry_set_perm(entry, e[i].dir ? 0755 : 0644);
			archive_entry_set_size(entry, (la_int64_t)len);
			if (archive_write_header(a, entry) != ARCHIVE_OK ||
			    (len && archive_write_data(a, e[i].data, len) != (la_ssize_t)len))
				return -EIO;
			archive_entry_free(entry);
		}
		if (archive_write_close(a) != ARCHIVE_OK)
			return -EIO;
		archive_write_free(a);
		if (!z && image_digest_sha256(buf, used, diff_id) < 0)
			return -EIO;
	}
	*ret = buf;
	*ret_len = used;
	return 0;
}

/* Stores data as a blob of the store, as a pull or load would; gives its digest. */
static int put_blob(struct image_store *s, const void *data, size_t len, char digest[DIGEST_SIZE])
{
	char path[PATH_MAX];

	if (image_digest_sha256(data, len, digest) < 0)
		return -EIO;
	snprintf(path, sizeof(path), "%s/%s", image_store_blobs_dir(s), image_digest_hex(digest));
	return write_file_atomic(path, data, len);
}

static int put_blob_str(struct image_store *s, const char *data, char digest[DIGEST_SIZE])
{
	return put_blob(s, data, strlen(data), digest);
}

/* A layer blob (gzip'ed or not) with its diff_id. */
struct layer {
	char digest[DIGEST_SIZE], diff_id[DIGEST_SIZE];
	size_t size;
	bool gzip;
};

static int put_layer(struct image_store *s, const struct tentry *e, size_t n, bool gzip, struct layer *l)
{
	_cleanup_free_ char *data = NULL;
	int r = make_tar(e, n, gzip, &data, &l->size, l->diff_id);

	l->gzip = gzip;
	return r < 0 ? r : put_blob(s, data, l->size, l->digest);
}

/* A config and an OCI manifest for the layers; extra is added into the config's "config". */
static int put_image(struct image_store *s, const struct layer *layers, size_t n, const char *extra,
		     char manifest[DIGEST_SIZE], char config_digest[DIGEST_SIZE])
{
	json_auto_t *diff_ids = json_array(), *descs = json_array(), *cfg = NULL, *m = NULL;
	json_auto_t *c = extra ? json_loads(extra, 0, NULL) : json_object();
	_cleanup_free_ char *cfg_s = NULL, *m_s = NULL;

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(diff_ids, json_string(layers[i].diff_id));
		json_array_append_new(descs, json_pack("{s:s, s:s, s:I}", "mediaType",
						       layers[i].gzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
								      : "application/vnd.oci.image.layer.v1.tar",
						       "digest", layers[i].digest, "size", (json_int_t)layers[i].size));
	}
	cfg = json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:O}}", "architecture", "amd64", "os", "linux", "created",
			"2024-01-02T03:04:05Z", "config", c, "rootfs", "type", "layers", "diff_ids", diff_ids);
	cfg_s = json_dumps(cfg, JSON_COMPACT);
	if (!cfg_s || put_blob_str(s, cfg_s, config_digest) < 0)
		return -EIO;
	m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
		      "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
		      "application/vnd.oci.image.config.v1+json", "digest", config_digest, "size",
		      (json_int_t)strlen(cfg_s), "layers", descs);
	m_s = json_dumps(m, JSON_COMPACT);
	return m_s ? put_blob_str(s, m_s, manifest) : -ENOMEM;
}

static void wait_all(struct done_state **d, size_t n)
{
	for (;;) {
		bool all = true;
		for (size_t i = 0; i < n; i++)
			all &= d[i]->calls > 0;
		if (all || event_base_loop(base, EVLOOP_ONCE) != 0)
			return;
	}
}

static char *layer_path(const char *diff_id, const char *rel)
{
	static char buf[4][PATH_MAX];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, PATH_MAX, "%s/layers/%s%s%s", store_dir, image_digest_hex(diff_id), rel ? "/" : "", rel ? rel : "");
	return p;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int count_entries(const char *path)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	return n;
}

static const struct tentry base_entries[] = {
    {"etc", true, NULL},      {"etc/keep", false, "keep\n"},	  {"etc/gone", false, "gone\n"},
    {"data", true, NULL},     {"data/old1", false, "1\n"},	  {"data/old2", false, "2\n"},
    {"data/sub", true, NULL}, {"data/sub/deep", false, "deep\n"},
};
static const struct tentry mid_entries[] = {
    {"etc", true, NULL},	  {"etc/.wh.gone", false, ""},
    {"data", true, NULL},	  {"data/.wh..wh..opq", false, ""},
    {"data/new", false, "new\n"}, {"newdir/.wh..wh..opq", false, ""},
};
static const struct tentry top_entries[] = {
    {"top", false, "top\n"},
    {".wh..wh.plnk", true, NULL},
};
static const struct tentry other_entries[] = {
    {"other", false, "other\n"},
};

/* The three-layer image, a second image sharing its base layer, added at the same time. */
static void test_layers(struct image_store *s)
{
	struct layer l[4];
	char m1[DIGEST_SIZE], c1[DIGEST_SIZE], m2[DIGEST_SIZE], c2[DIGEST_SIZE], mnt[256], opts[4 * PATH_MAX];
	struct done_state d1 = { 0 }, d2 = { 0 }, *all[] = { &d1, &d2 };
	const char *const names1[] = {"layered:1", "layered:latest", NULL}, *const names2[] = {"other", NULL};
	_cleanup_free_ char *err = NULL, *content = NULL;
	const struct image *img;
	char buf[16];
	struct stat st;

	ok(put_layer(s, base_entries, ARRAY_SIZE(base_entries), true, &l[0]) == 0 &&
	       put_layer(s, mid_entries, ARRAY_SIZE(mid_entries), false, &l[1]) == 0 &&
	       put_layer(s, top_entries, ARRAY_SIZE(top_entries), true, &l[2]) == 0 &&
	       put_layer(s, other_entries, ARRAY_SIZE(other_entries), true, &l[3]) == 0,
	   "layer blobs written");
	ok(put_image(s, l, 3,
		     "{\"Cmd\":[\"/top\"],\"Env\":[\"A=1\"],\"WorkingDir\":\"/"
		     "data\",\"User\":\"7\",\"StopSignal\":\"SIGQUIT\","
		     "\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"ExposedPorts\":{\"80/tcp\":{}},\"Volumes\":{\"/v\":{}}}",
		     m1, c1) == 0,
	   "image 1: config and manifest written");
	struct layer pair[] = { l[0], l[3] };
	ok(put_image(s, pair, 2, NULL, m2, c2) == 0, "image 2 (sharing the base layer): written");

	unsigned before = s->n_unpacks_started;
	is_int(image_store_add_manifest(
		   s, m1, names1,
		   "example.com/layered@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		   on_done, &d1, &err),
	       0, "add image 1: started (%s)", STR(err));
	is_int(image_store_add_manifest(s, m2, names2, NULL, on_done, &d2, &err), 0,
	       "add image 2 at the same time: started");
	is_int(d1.calls + d2.calls, 0, "done is never called from inside add_manifest");
	wait_all(all, 2);
	is_int(d1.r, 0, "image 1 added (%s)", STR(d1.err));
	is_int(d2.r, 0, "image 2 added (%s)", STR(d2.err));
	is_int((int)(s->n_unpacks_started - before), 4, "four layers, four workers: the shared base unpacked once");
	is_str(json_string_value(json_object_get(d1.info, "id")), c1, "image 1's id is its config digest");
	is_int(count_entries(layer_path(l[0].diff_id, NULL)) > 0, 1, "layers/<diff_id> of the base exists");

	/* What the unpack made of the whiteouts. */
	ok(lstat(layer_path(l[1].diff_id, "etc/gone"), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
	   ".wh.gone became a 0:0 character device named gone");
	ok(!exists(layer_path(l[1].diff_id, "etc/.wh.gone")), "  and the .wh. file itself is not there");
	ok(getxattr(layer_path(l[1].diff_id, "data"), "trusted.overlay.opaque", buf, sizeof(buf)) == 1 && buf[0] == 'y',
	   ".wh..wh..opq: data is trusted.overlay.opaque=y");
	ok(!exists(layer_path(l[1].diff_id, "data/.wh..wh..opq")), "  and the marker itself is not there");
	ok(getxattr(layer_path(l[1].diff_id, "newdir"), "trusted.overlay.opaque", buf, sizeof(buf)) == 1,
	   "an opaque marker in a directory the tar does not list creates it opaque");
	ok(!exists(layer_path(l[2].diff_id, ".wh..wh.plnk")), "aufs' .wh..wh. bookkeeping is skipped");

	/* The image: settings from the verbatim config. */
	img = image_store_lookup(s, "layered:1", NULL);
	ok(img != NULL, "lookup layered:1");
	if (!img)
		return;
	ok(img->layers[0] && img->layers[1] && img->layers[2] && !img->layers[3] &&
	       strcmp(img->layers[0], l[0].diff_id) == 0 && strcmp(img->layers[2], l[2].diff_id) == 0,
	   "its layers are the diff_ids, bottom first");
	ok(img->cmd && strcmp(img->cmd[0], "/top") == 0 && img->env[0] && strcmp(img->env[0], "A=1") == 0 &&
	       img->workdir && strcmp(img->workdir, "/data") == 0 && img->user && strcmp(img->user, "7") == 0 &&
	       img->stop_signal && strcmp(img->stop_signal, "SIGQUIT") == 0,
	   "Cmd, Env, WorkingDir, User, StopSignal from the config");
	ok(img->labels[0] && strcmp(img->labels[0], "a=1") == 0 && img->labels[1] && strcmp(img->labels[1], "b=2") == 0,
	   "Labels, sorted");
	ok(img->exposed_ports[0] && strcmp(img->exposed_ports[0], "80/tcp") == 0 && img->volumes[0] &&
	       strcmp(img->volumes[0], "/v") == 0,
	   "ExposedPorts and Volumes");
	is_str(img->manifest_digest, m1, "the record names the manifest");
	ok(img->repo_digests[0] && strstr(img->repo_digests[0], "example.com/layered@sha256:"), "and the repo digest");
	is_str(img->created_at, "2024-01-02T03:04:05Z", "created is the config's");
	snprintf(opts, sizeof(opts), "%s/blobs/sha256/%s", store_dir, image_digest_hex(c1));
	ok(read_file(opts, 1 << 20, &content, NULL) == 0 && strstr(content, "\"Labels\""),
	   "the config blob is kept verbatim");

	/* A real overlay of the three layers: exactly the right files. */
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmproot);
	mkdir(mnt, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s:%s:%s", layer_path(l[2].diff_id, NULL),
		 layer_path(l[1].diff_id, NULL), layer_path(l[0].diff_id, NULL));
	if (mount("overlay", mnt, "overlay", MS_RDONLY, opts) < 0) {
		ok(0, "overlay mount: %s", strerror(errno));
		return;
	}
	char p[512];
#define AT(rel) (snprintf(p, sizeof(p), "%s/%s", mnt, rel), p)
	ok(exists(AT("etc/keep")), "overlay: etc/keep (base) is there");
	ok(!exists(AT("etc/gone")), "overlay: etc/gone is whited out");
	ok(!exists(AT("data/old1")) && !exists(AT("data/old2")) && !exists(AT("data/sub")),
	   "overlay: the opaque data/ hides everything of the base");
	ok(exists(AT("data/new")), "overlay: data/new (middle) is there");
	ok(exists(AT("top")), "overlay: top (top layer) is there");
	is_int(count_entries(AT("data")), 1, "overlay: data/ holds exactly one entry");
	is_int(count_entries(mnt), 4, "overlay: the root holds exactly etc, data, newdir, top");
	is_int(count_entries(AT("etc")), 1, "overlay: etc/ holds exactly keep");
#undef AT
	umount2(mnt, MNT_DETACH);
	done_reset(&d1);
	done_reset(&d2);
}

/* Adds that must fail, and leave nothing behind. */
static void test_refused(struct image_store *s)
{
	struct layer l, fake;
	char m[DIGEST_SIZE], c[DIGEST_SIZE];
	struct done_state d = { 0 }, *all[] = { &d };
	_cleanup_free_ char *err = NULL;
	int layers_before, images_before;

	layers_before = count_entries(layer_path("sha256:", NULL));
	images_before = (int)image_store_count(s);
	/* A layer whose uncompressed content is not what the config's diff_id says. */
	static const struct tentry e[] = {{"liar", false, "liar\n"}};
	ok(put_layer(s, e, 1, true, &l) == 0, "a layer written");
	fake = l;
	memcpy(fake.diff_id, "sha256:0000000000000000000000000000000000000000000000000000000000000000", DIGEST_SIZE);
	ok(put_image(s, &fake, 1, NULL, m, c) == 0, "an image whose config lies about the diff_id");
	is_int(image_store_add_manifest(s, m, (const char *const[]){"liar", NULL}, NULL, on_done, &d, &err), 0,
	       "add started");
	wait_all(all, 1);
	is_int(d.r, -EBADMSG, "refused: the diff_id does not match");
	ok(d.err && strstr(d.err, "diff_id"), "  message: %s", STR(d.err));
	is_int(count_entries(layer_path("sha256:", NULL)), layers_before, "  no layer left");
	is_int((int)image_store_count(s), images_before, "  no image registered");
	ok(!image_store_lookup(s, "liar", NULL), "  no name");
	is_int(count_entries(s->db.tmp_dir), 0, "  tmp/ empty");
	done_reset(&d);

	/* Missing blob, corrupt blob, an index instead of a manifest: refused at once. */
	free(err);
	err = NULL;
	is_int(image_store_add_manifest(s, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
					NULL, NULL, on_done, &d, &err),
	       -ENOENT, "a manifest that is not in the store: -ENOENT");
	char idx[DIGEST_SIZE], path[PATH_MAX];
	put_blob_str(
	    s, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}", idx);
	free(err);
	err = NULL;
	is_int(image_store_add_manifest(s, idx, NULL, NULL, on_done, &d, &err), -EINVAL, "an index: -EINVAL");
	ok(err && strstr(err, "index"), "  message: %s", STR(err));
	snprintf(path, sizeof(path), "%s/%s", image_store_blobs_dir(s), image_digest_hex(m));
	write_file_atomic(path, "{}", 2);
	free(err);
	err = NULL;
	is_int(image_store_add_manifest(s, m, NULL, NULL, on_done, &d, &err), -EBADMSG,
	       "a blob whose bytes changed: -EBADMSG");
	free(err);
	err = NULL;
	is_int(image_store_add_manifest(s, m, (const char *const[]){"Bad:Name", NULL}, NULL, on_done, &d, &err),
	       -EINVAL, "an invalid name: -EINVAL");
	is_int(d.calls, 0, "done was never called for a refused start");
}

/* A store of the previous version: images/<id>.json with the settings inside, layers keyed by
 * the tarball's digest. It opens with its image intact. */
static void test_legacy(void)
{
	const char *key = "2222222222222222222222222222222222222222222222222222222222222222";
	const char *id = "3333333333333333333333333333333333333333333333333333333333333333";
	char dir[256], path[PATH_MAX], rec[1024];
	_cleanup_free_ char *err = NULL;
	struct image_store *s = NULL;
	const struct image *img;
	char *lp = NULL;

	snprintf(dir, sizeof(dir), "%s/legacy", tmproot);
	snprintf(path, sizeof(path), "%s/layers/%s/etc", dir, key);
	mkdir_p(path, 0755);
	snprintf(path, sizeof(path), "%s/images", dir);
	mkdir_p(path, 0700);
	snprintf(rec, sizeof(rec),
		 "{\"layers\":[\"sha256:%s\"],\"env\":[\"PATH=/bin\"],\"cmd\":[\"/bin/sh\"],\"workdir\":null,"
		 "\"created_at\":\"2025-01-01T00:00:00Z\",\"size\":10}",
		 key);
	snprintf(path, sizeof(path), "%s/images/%s.json", dir, id);
	write_file_atomic(path, rec, strlen(rec));
	snprintf(path, sizeof(path), "%s/repositories.json", dir);
	snprintf(rec, sizeof(rec), "{\"version\":1,\"names\":{\"old:latest\":\"sha256:%s\"}}", id);
	write_file_atomic(path, rec, strlen(rec));

	is_int(image_store_open(base, dir, &s, &err), 0, "a legacy store opens (%s)", STR(err));
	if (!s)
		return;
	img = image_store_lookup(s, "old", NULL);
	ok(img && img->legacy && img->cmd && strcmp(img->cmd[0], "/bin/sh") == 0,
	   "its image is there, settings intact");
	ok(img && image_store_layer_path(s, img->layers[0], &lp) == 0 && strstr(lp, key), "its layer is found: %s",
	   STR(lp));
	snprintf(path, sizeof(path), "%s/layers/%s", dir, key);
	ok(exists(path), "its layer was not collected");
	free(lp);
	image_store_free(s);
}

static void cleanup(void)
{
	char mnt[256];

	snprintf(mnt, sizeof(mnt), "%s/mnt", tmproot);
	umount2(mnt, MNT_DETACH);
	rm_rf(tmproot);
}

int main(void)
{
	_cleanup_free_ char *err = NULL;
	struct image_store *s = NULL;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	if (!mkdtemp(tmproot))
		return 1;
	tap_cleanup_on_signals(cleanup, 120);
	snprintf(store_dir, sizeof(store_dir), "%s/store", tmproot);
	base = event_base_new();
	if (!base || image_store_open(base, store_dir, &s, &err) < 0) {
		ok(0, "open: %s", STR(err));
		cleanup();
		return 1;
	}
	test_layers(s);
	test_refused(s);
	image_store_free(s);
	/* Reopened: the images and their settings come back from records and config blobs. */
	is_int(image_store_open(base, store_dir, &s, &err), 0, "reopen");
	if (s) {
		const struct image *img = image_store_lookup(s, "layered:latest", NULL);
		ok(img && img->labels[1] && img->volumes[0] && img->manifest_digest, "reopen: layered read back");
		ok(image_store_lookup(s, "other", NULL) != NULL, "reopen: other read back");
		image_store_free(s);
	}
	test_legacy();
	event_base_free(base);
	cleanup();
	return tap_done();
}
