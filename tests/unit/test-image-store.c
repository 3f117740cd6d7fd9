/* The image store with a real event loop: imports of the Alpine tarball and of hostile tarballs
 * made here with libarchive's writer, lookups, listing, removal, persistence. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-store.h"
#include "tests/tap.h"

#define ALPINE_NAME "alpine-minirootfs-3.20.3-x86_64.tar.gz"
#define STR(s) ((s) ? (s) : "(null)")
#define ALPINE_DIGEST "sha256:d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c"
/* The sha256 of the uncompressed tarball: the layer's diff_id, the name of its directory. */
#define ALPINE_DIFF_ID "sha256:1bccf10afce5c1ffe31381419930ad565c1436eaeb1ca680494b0663e0028419"

static char tmproot[] = "/tmp/containd-test-image-store.XXXXXX";
static char store_dir[512];
static struct event_base *base;

static void skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_count, why);
}

/* What an import's done callback saw. */
struct done_state {
	int calls;
	int r;
	char *err;
	json_t *info;
};

static void done_state_reset(struct done_state *d)
{
	free(d->err);
	json_decref(d->info);
	memset(d, 0, sizeof(*d));
}

static void on_done(int r, json_t *info, const char *errmsg, void *userdata)
{
	struct done_state *d = userdata;

	d->calls++;
	d->r = r;
	free(d->err);
	d->err = errmsg ? strdup(errmsg) : NULL;
	json_decref(d->info);
	d->info = info ? json_deep_copy(info) : NULL;
}

static void on_done_fail(int r, json_t *info, const char *errmsg, void *userdata)
{
	int *called = userdata;
	(*called)++;
}

static char *path_in(const char *dir, const char *rel)
{
	static char buf[4][PATH_MAX];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", dir, rel);
	return p;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Entries in a directory, "." and ".." aside; -1 when it cannot be read. */
static int count_entries(const char *path)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	return n;
}

static int file_sha256(const char *path, char out[72])
{
	_cleanup_free_ char *data = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len;
	size_t len;
	int r = read_file(path, 64 << 20, &data, &len);

	if (r < 0)
		return r;
	if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1)
		return -EIO;
	strcpy(out, "sha256:");
	hex_encode(md, md_len, out + 7);
	return 0;
}

/* Runs the loop until the import reported (or nothing is left to wait for). */
static void wait_done(struct done_state *d)
{
	while (d->calls == 0)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
}

/* Starts an import of fd and waits for it; returns the start's result. */
static int import_fd(struct image_store *s, int fd, const char *name, struct done_state *d)
{
	_cleanup_free_ char *err = NULL;
	int r;

	done_state_reset(d);
	r = image_import_start(s, fd, name, on_done, d, &err);
	if (r < 0) {
		printf("#   image_import_start: %s\n", err ? err : strerror(-r));
		return r;
	}
	if (d->calls != 0)
		printf("#   done was called from inside image_import_start\n");
	wait_done(d);
	return 0;
}

static int import_path(struct image_store *s, const char *path, const char *name, struct done_state *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return import_fd(s, fd, name, d);
}

/* One entry of a tarball made for a test. */
struct tentry {
	const char *path;
	unsigned type;        /* AE_IFREG, ...; ignored for hard links */
	const char *symlink;  /* symlink target */
	const char *hardlink; /* hard link target */
	const char *data;
	dev_t rdev;
	const char *xattr_name, *xattr_value;
};

/* Writes a pax tarball (gzip'ed if asked) with the given entries, then `trailer` raw bytes. */
static int write_tar(const char *out, const struct tentry *e, size_t n, bool gzip, const char *trailer)
{
	struct archive *a = archive_write_new();
	int r = -EIO;

	if (!a)
		return -ENOMEM;
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    (gzip && archive_write_add_filter_gzip(a) != ARCHIVE_OK) ||
	    archive_write_open_filename(a, out) != ARCHIVE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *entry = archive_entry_new();
		size_t len = e[i].data ? strlen(e[i].data) : 0;
		int w;

		archive_entry_set_pathname(entry, e[i].path);
		archive_entry_set_mtime(entry, 1700000000, 0);
		if (e[i].hardlink) {
			archive_entry_set_hardlink(entry, e[i].hardlink);
			archive_entry_set_filetype(entry, AE_IFREG);
			archive_entry_set_perm(entry, 0644);
		} else {
			archive_entry_set_filetype(entry, e[i].type);
			archive_entry_set_perm(entry, e[i].type == AE_IFDIR ? 0755 : 0644);
			if (e[i].symlink)
				archive_entry_set_symlink(entry, e[i].symlink);
			if (e[i].type == AE_IFCHR || e[i].type == AE_IFBLK)
				archive_entry_set_rdev(entry, e[i].rdev);
			if (e[i].type == AE_IFREG)
				archive_entry_set_size(entry, (la_int64_t)len);
		}
		if (e[i].xattr_name)
			archive_entry_xattr_add_entry(entry, e[i].xattr_name, e[i].xattr_value,
						      strlen(e[i].xattr_value));
		w = archive_write_header(a, entry);
		if (w == ARCHIVE_OK && len && !e[i].hardlink)
			w = archive_write_data(a, e[i].data, len) == (la_ssize_t)len ? ARCHIVE_OK : ARCHIVE_FATAL;
		archive_entry_free(entry);
		if (w != ARCHIVE_OK) {
			printf("#   writing %s: %s\n", e[i].path, archive_error_string(a));
			goto out;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto out;
	r = 0;
	if (trailer) {
		_cleanup_close_ int fd = open(out, O_WRONLY | O_APPEND | O_CLOEXEC);
		r = fd < 0 ? -errno : write_all(fd, trailer, strlen(trailer));
	}
out:
	archive_write_free(a);
	return r;
}

/* Checks that a failed import left nothing in tmp/ or layers/, and no new image. */
static void check_nothing_left(struct image_store *s, const char *what, size_t images_before)
{
	json_t *list = image_store_list(s);

	is_int(count_entries(path_in(store_dir, "tmp")), 0, "%s: tmp/ is empty", what);
	is_int(count_entries(path_in(store_dir, "layers")), 0, "%s: layers/ is empty", what);
	is_int(json_array_size(list), images_before, "%s: no image was added", what);
	json_decref(list);
}

/* Imports a hostile tarball: it must fail, name the problem, and leave nothing anywhere. */
static void hostile(struct image_store *s, const char *what, const struct tentry *e, size_t n, const char *msg_part,
		    const char *must_not_exist)
{
	struct done_state d = { 0 };
	char *tar = path_in(tmproot, "hostile.tar");

	unlink(tar);
	if (write_tar(tar, e, n, false, NULL) < 0) {
		ok(0, "%s: writing the tarball", what);
		return;
	}
	is_int(import_path(s, tar, "hostile", &d), 0, "%s: import started", what);
	is_int(d.calls, 1, "%s: done called once", what);
	ok(d.r < 0, "%s: import fails (%d)", what, d.r);
	ok(d.err && strstr(d.err, msg_part), "%s: message mentions \"%s\"", what, msg_part);
	printf("#   message: %s\n", d.err ? d.err : "(none)");
	ok(!d.info, "%s: no info", what);
	if (must_not_exist)
		ok(!exists(must_not_exist), "%s: %s was not created", what, must_not_exist);
	check_nothing_left(s, what, 0);
	done_state_reset(&d);
}

static int in_use_yes(const char *image_id, void *userdata)
{
	int *calls = userdata;
	(*calls)++;
	return 1;
}

static int in_use_no(const char *image_id, void *userdata)
{
	return 0;
}

/* An image_usage_fn that answers what *userdata says. */
static int usage_is(const char *image_id, void *userdata)
{
	return *(int *)userdata;
}

static const char *json_str_at(json_t *a, size_t i)
{
	return json_string_value(json_array_get(a, i));
}

static void test_hostile(struct image_store *s)
{
	char outside[PATH_MAX], victim[PATH_MAX], secret[PATH_MAX], abs_evil[PATH_MAX], t[PATH_MAX];
	struct stat st_passwd, st;
	struct done_state d = { 0 };
	_cleanup_close_ int fd = -1;

	snprintf(outside, sizeof(outside), "%s/outside", tmproot);
	snprintf(victim, sizeof(victim), "%s/victim", tmproot);
	snprintf(secret, sizeof(secret), "%s/outside/secret", tmproot);
	snprintf(abs_evil, sizeof(abs_evil), "%s/abs-evil", tmproot);
	mkdir(outside, 0755);
	write_file_atomic(victim, "victim\n", 7);
	write_file_atomic(secret, "secret\n", 7);
	stat("/etc/passwd", &st_passwd);

	/* An OCI image layout is an image archive, not a root filesystem, whatever its order. */
	hostile(s, "OCI image layout",
		(struct tentry[]){ { .path = "blobs/", .type = AE_IFDIR },
				   { .path = "blobs/sha256/", .type = AE_IFDIR },
				   { .path = "index.json", .type = AE_IFREG, .data = "{}" },
				   { .path = "./oci-layout", .type = AE_IFREG, .data = "{\"imageLayoutVersion\":\"1.0.0\"}" } },
		4, "OCI image layout archive", NULL);
	hostile(s, "OCI image layout (marker first)",
		(struct tentry[]){ { .path = "oci-layout", .type = AE_IFREG, .data = "{}" },
				   { .path = "blobs/", .type = AE_IFDIR } },
		2, "image load, which is not supported yet", NULL);

	/* The extraction directory is <tmproot>/store/tmp/import-<random>/, so three ".." reach
	 * tmproot. */
	hostile(s, "../ escape",
		(struct tentry[]){ { .path = "ok.txt", .type = AE_IFREG, .data = "fine\n" },
				   { .path = "../../../evil1", .type = AE_IFREG, .data = "evil\n" } },
		2, "../../../evil1", path_in(tmproot, "evil1"));
	hostile(s, "absolute path", (struct tentry[]){ { .path = abs_evil, .type = AE_IFREG, .data = "evil\n" } }, 1, "absolute",
		abs_evil);
	hostile(s, "a/../../ escape", (struct tentry[]){ { .path = "a/", .type = AE_IFDIR }, { .path = "a/../../../../evil3", .type = AE_IFREG, .data = "x" } },
		2, "contains \"..\"", path_in(tmproot, "evil3"));
	hostile(s, "write through symlink",
		(struct tentry[]){ { .path = "link", .type = AE_IFLNK, .symlink = outside }, { .path = "link/evil", .type = AE_IFREG, .data = "x" } },
		2, "link/evil", path_in(outside, "evil"));
	hostile(s, "write through relative symlink",
		(struct tentry[]){ { .path = "rlink", .type = AE_IFLNK, .symlink = "../../.." }, { .path = "rlink/evil5", .type = AE_IFREG, .data = "x" } },
		2, "rlink/evil5", path_in(tmproot, "evil5"));
	hostile(s, "hard link to ../../../victim",
		(struct tentry[]){ { .path = "hl", .type = 0, .hardlink = "../../../victim" } }, 1, "\"hl\"", NULL);
	hostile(s, "hard link to ../../etc/passwd",
		(struct tentry[]){ { .path = "hl", .type = 0, .hardlink = "../../etc/passwd" } }, 1, "../../etc/passwd", NULL);
	hostile(s, "hard link to /etc/passwd", (struct tentry[]){ { .path = "hl", .type = 0, .hardlink = "/etc/passwd" } }, 1,
		"absolute hard link target", NULL);
	hostile(s, "hard link to an absolute victim", (struct tentry[]){ { .path = "hl", .type = 0, .hardlink = victim } }, 1,
		"absolute", NULL);
	hostile(s, "hard link through a symlink",
		(struct tentry[]){ { .path = "d", .type = AE_IFLNK, .symlink = outside }, { .path = "x", .type = 0, .hardlink = "d/secret" } }, 2,
		"\"x\"", NULL);
	/* (Sockets, refused by tarsafe_check_type, cannot be written to a tar: see test-tarsafe.) */
	hostile(s, "root replaced by a symlink", (struct tentry[]){ { .path = "./", .type = AE_IFLNK, .symlink = "/" } }, 1,
		"layer root", NULL);
	ok(stat(victim, &st) == 0 && st.st_nlink == 1, "victim still has one link");
	ok(stat(secret, &st) == 0 && st.st_nlink == 1, "outside/secret still has one link");
	ok(stat("/etc/passwd", &st) == 0 && st.st_nlink == st_passwd.st_nlink && st.st_ino == st_passwd.st_ino,
	   "/etc/passwd untouched");
	ok(!exists(path_in(outside, "evil")), "nothing written into outside/");

	/* Not tarballs at all. */
	snprintf(t, sizeof(t), "%s/not-a-tar", tmproot);
	write_file_atomic(t, "this is not a tarball, just some text that is long enough\n", 58);
	is_int(import_path(s, t, "bad", &d), 0, "non-tar: import started");
	ok(d.r < 0 && d.err && strstr(d.err, "not a tar archive"), "non-tar: fails with \"not a tar archive\"");
	printf("#   message: %s\n", d.err ? d.err : "(none)");
	check_nothing_left(s, "non-tar", 0);

	snprintf(t, sizeof(t), "%s/empty", tmproot);
	write_file_atomic(t, "", 0);
	is_int(import_path(s, t, "bad", &d), 0, "empty file: import started");
	ok(d.r < 0 && d.err && strstr(d.err, "not a tar archive"), "empty file: fails with \"not a tar archive\"");
	printf("#   message: %s\n", d.err ? d.err : "(none)");
	check_nothing_left(s, "empty file", 0);

	snprintf(t, sizeof(t), "%s/empty.tar", tmproot);
	unlink(t);
	write_tar(t, NULL, 0, false, NULL);
	is_int(import_path(s, t, "bad", &d), 0, "tar without entries: import started");
	ok(d.r < 0 && d.err && strstr(d.err, "no entries"), "tar without entries: fails with \"no entries\"");
	printf("#   message: %s\n", d.err ? d.err : "(none)");
	check_nothing_left(s, "tar without entries", 0);

	/* A gzip'ed tarball cut in the middle of a file's data. */
	{
		_cleanup_free_ char *big = malloc(300001);
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		unsigned seed = 1;

		for (int i = 0; i < 300000; i++) {
			seed = seed * 1103515245 + 12345;
			big[i] = (char)('a' + (seed >> 16) % 26);
		}
		big[300000] = '\0';
		snprintf(t, sizeof(t), "%s/trunc.tar.gz", tmproot);
		unlink(t);
		write_tar(t, (struct tentry[]){ { .path = "etc/", .type = AE_IFDIR }, { .path = "etc/big", .type = AE_IFREG, .data = big } }, 2, true,
			  NULL);
		read_file(t, 1 << 20, &data, &len);
		write_file_atomic(t, data, len / 2);
		is_int(import_path(s, t, "bad", &d), 0, "truncated .tar.gz: import started");
		ok(d.r < 0 && d.err, "truncated .tar.gz: fails");
		printf("#   message: %s\n", d.err ? d.err : "(none)");
		check_nothing_left(s, "truncated .tar.gz", 0);
	}

	/* A directory instead of a file. */
	fd = open(tmproot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	is_int(import_fd(s, TAKE_FD(fd), "bad", &d), 0, "directory fd: import started");
	ok(d.r < 0 && d.err, "directory fd: fails");
	printf("#   message: %s\n", d.err ? d.err : "(none)");
	check_nothing_left(s, "directory fd", 0);

	done_state_reset(&d);
}

/* Fills a 512-byte ustar header by hand, for entries libarchive's writer will not produce. */
static void raw_header(unsigned char *h, const char *name, char type, size_t size, const char *link)
{
	unsigned sum = 0;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	snprintf((char *)h + 124, 12, "%011zo", size);
	memcpy(h + 136, "00000000000", 12);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strlen(link));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* A pax hard link that carries data, to a symlink pointing outside: writing the data must not
 * go through the symlink. Whether libarchive then fails or drops the data, the outside file stays
 * as it was. */
static void test_hardlink_with_data(struct image_store *s)
{
	unsigned char tar[512 * 8] = { 0 };
	char path[PATH_MAX], target[PATH_MAX], rec[32];
	_cleanup_free_ char *content = NULL;
	struct done_state d = { 0 };
	json_t *list;
	int n;

	snprintf(target, sizeof(target), "%s/outside/hl-target", tmproot);
	write_file_atomic(target, "secret\n", 7);
	n = snprintf(rec, sizeof(rec), "%d path=h\n", (int)strlen(" path=h\n") + 2);
	raw_header(tar, "s", '2', 0, target);
	raw_header(tar + 512, "PaxHeaders/h", 'x', (size_t)n, NULL);
	memcpy(tar + 1024, rec, (size_t)n);
	raw_header(tar + 1536, "h", '1', 6, "s");
	memcpy(tar + 2048, "pwned\n", 6);
	snprintf(path, sizeof(path), "%s/hardlink-data.tar", tmproot);
	{
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ok(fd >= 0 && write_all(fd, tar, sizeof(tar)) == 0, "hard link with data: tarball written");
	}
	is_int(import_path(s, path, "hldata", &d), 0, "hard link with data: import started");
	is_int(d.calls, 1, "hard link with data: done called");
	if (d.err)
		printf("#   message: %s\n", d.err);
	ok(read_file(target, 100, &content, NULL) == 0 && strcmp(content, "secret\n") == 0,
	   "hard link with data: nothing written through the symlink");
	is_int(count_entries(path_in(store_dir, "tmp")), 0, "hard link with data: tmp/ empty");
	if (d.r == 0)
		is_int(image_store_remove(s, "hldata", in_use_no, NULL, NULL, NULL), 0, "hard link with data: removed");
	list = image_store_list(s);
	is_int(json_array_size(list), 0, "hard link with data: store empty again");
	json_decref(list);
	done_state_reset(&d);
}

/* A tarball with every supported kind of entry, xattrs and trailing garbage. */
static void test_kinds(struct image_store *s)
{
	struct done_state d = { 0 };
	char tar[PATH_MAX], digest[72], victim[PATH_MAX], layer[PATH_MAX], buf[64];
	_cleanup_free_ char *content = NULL, *lp = NULL;
	const struct image *img;
	bool user_xattrs;
	struct stat st;
	ssize_t n;

	snprintf(victim, sizeof(victim), "%s/victim2", tmproot);
	write_file_atomic(victim, "victim\n", 7);
	/* Whether this filesystem takes user.* xattrs at all. */
	user_xattrs = setxattr(victim, "user.probe", "1", 1, 0) == 0;

	snprintf(tar, sizeof(tar), "%s/kinds.tar", tmproot);
	unlink(tar);
	is_int(write_tar(tar,
			 (struct tentry[]){
				 { .path = "./", .type = AE_IFDIR },
				 { .path = "./etc/", .type = AE_IFDIR },
				 { .path = "./etc/hello", .type = AE_IFREG, .data = "hello\n", .xattr_name = "user.test", .xattr_value = "v" },
				 { .path = "./etc/hello2", .type = 0, .hardlink = "./etc/hello" },
				 { .path = "./etc/opaque/", .type = AE_IFDIR, .xattr_name = "trusted.overlay.opaque", .xattr_value = "y" },
				 { .path = "./etc/redirect", .type = AE_IFREG, .xattr_name = "user.overlay.redirect", .xattr_value = "/x" },
				 { .path = "./bin/", .type = AE_IFDIR },
				 { .path = "./bin/sh", .type = AE_IFLNK, .symlink = "/bin/busybox" },
				 { .path = "./dev/", .type = AE_IFDIR },
				 { .path = "./dev/null", .type = AE_IFCHR, .rdev = makedev(1, 3) },
				 { .path = "./dev/fifo", .type = AE_IFIFO },
				 /* Only the top-level oci-layout marks an image layout. */
				 { .path = "./etc/oci-layout", .type = AE_IFREG, .data = "" },
				 /* A symlink replaced by a file: the file must not be written through it. */
				 { .path = "passwd", .type = AE_IFLNK, .symlink = victim },
				 { .path = "passwd", .type = AE_IFREG, .data = "replaced\n" },
			 },
			 14, false, "trailing garbage after the end-of-archive marker\n"),
	       0, "kinds: tarball written");
	file_sha256(tar, digest);

	is_int(import_path(s, tar, "kinds:v1", &d), 0, "kinds: import started");
	is_int(d.r, 0, "kinds: import succeeds");
	if (d.err)
		printf("#   message: %s\n", d.err);
	is_str(json_str_at(json_object_get(d.info, "layers"), 0), digest,
	       "kinds: layer digest covers the whole file, trailing bytes included");
	is_int(json_integer_value(json_object_get(d.info, "size")), 15, "kinds: size counts regular file bytes");

	img = image_store_lookup(s, "kinds:v1", NULL);
	ok(img != NULL, "kinds: lookup by name");
	if (!img)
		goto out;
	is_int(image_store_layer_path(s, img->layers[0], &lp), 0, "kinds: layer path");
	snprintf(layer, sizeof(layer), "%s", lp ? lp : "");
	ok(read_file(path_in(layer, "etc/hello"), 100, &content, NULL) == 0 && strcmp(content, "hello\n") == 0,
	   "kinds: regular file content");
	ok(stat(path_in(layer, "etc/hello"), &st) == 0 && st.st_nlink == 2, "kinds: hard link made");
	ok(lstat(path_in(layer, "bin/sh"), &st) == 0 && S_ISLNK(st.st_mode), "kinds: symlink made");
	n = readlink(path_in(layer, "bin/sh"), buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "/bin/busybox", "kinds: symlink target kept as is");
	ok(lstat(path_in(layer, "dev/null"), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
	   "kinds: char device made");
	ok(lstat(path_in(layer, "dev/fifo"), &st) == 0 && S_ISFIFO(st.st_mode), "kinds: fifo made");
	ok(lstat(path_in(layer, "etc/oci-layout"), &st) == 0 && S_ISREG(st.st_mode),
	   "kinds: a file named oci-layout below the top is just a file");
	ok(lstat(path_in(layer, "passwd"), &st) == 0 && S_ISREG(st.st_mode), "kinds: symlink replaced by a file");
	free(content);
	content = NULL;
	ok(read_file(victim, 100, &content, NULL) == 0 && strcmp(content, "victim\n") == 0,
	   "kinds: nothing written through the replaced symlink");
	ok(stat(layer, &st) == 0 && (st.st_mode & 07777) == 0755, "kinds: layer root mode 0755");
	if (user_xattrs) {
		n = getxattr(path_in(layer, "etc/hello"), "user.test", buf, sizeof(buf));
		ok(n == 1 && buf[0] == 'v', "kinds: user xattr kept");
		ok(lgetxattr(path_in(layer, "etc/redirect"), "user.overlay.redirect", buf, sizeof(buf)) < 0 &&
			   errno == ENODATA,
		   "kinds: user.overlay.* xattr dropped");
	} else {
		skip("filesystem without user xattrs");
		skip("filesystem without user xattrs");
	}
	ok(lgetxattr(path_in(layer, "etc/opaque"), "trusted.overlay.opaque", buf, sizeof(buf)) < 0 &&
		   errno == ENODATA,
	   "kinds: trusted.overlay.* xattr dropped");

	/* The same bytes through a pipe (not seekable): same layer, same image. */
	{
		struct done_state d2 = { 0 };
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		int p[2];
		pid_t pid;

		read_file(tar, 1 << 20, &data, &len);
		if (pipe2(p, O_CLOEXEC) < 0) {
			ok(0, "pipe");
			goto out;
		}
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			_exit(write_all(p[1], data, len) < 0 ? 1 : 0);
		}
		close(p[1]);
		is_int(import_fd(s, p[0], "kinds:pipe", &d2), 0, "pipe: import started");
		is_int(d2.r, 0, "pipe: import succeeds");
		is_str(json_string_value(json_object_get(d2.info, "id")), img->id, "pipe: same image id");
		is_int(json_array_size(json_object_get(d2.info, "names")), 2, "pipe: the image has both names");
		waitpid(pid, NULL, 0);
		done_state_reset(&d2);
	}
	is_int(count_entries(path_in(store_dir, "layers")), 1, "kinds: one layer");
	is_int(count_entries(path_in(store_dir, "tmp")), 0, "kinds: tmp/ empty");
out:
	done_state_reset(&d);
}

/* The worker must not keep fds of the daemon: a pipe's write end that only the test (and a leaky
 * worker) holds must report hangup once the test closes it. Also, image_store_free kills a
 * worker that is still running and removes its directory. */
static void test_worker_fds_and_free(void)
{
	_cleanup_free_ char *err = NULL;
	struct image_store *s = NULL;
	struct pollfd pfd;
	int probe[2], feed[2], called = 0;

	if (image_store_open(base, store_dir, &s, &err) < 0) {
		ok(0, "reopen: %s", STR(err));
		return;
	}
	if (pipe2(probe, O_CLOEXEC) < 0 || pipe2(feed, O_CLOEXEC) < 0) {
		ok(0, "pipes");
		image_store_free(s);
		return;
	}
	is_int(image_import_start(s, feed[0], "stuck", on_done_fail, &called, &err), 0,
	       "stuck import (a pipe nobody writes) started");
	close(probe[1]);
	pfd = (struct pollfd){ .fd = probe[0], .events = POLLIN };
	ok(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLHUP), "the worker does not hold the daemon's fds");
	close(probe[0]);
	is_int(count_entries(path_in(store_dir, "tmp")), 2, "the stuck import has its directory and its blob copy in tmp/");

	image_store_free(s);
	is_int(count_entries(path_in(store_dir, "tmp")), 0, "image_store_free removed the worker's directory");
	is_int(called, 0, "done not called for a killed import");
	pfd = (struct pollfd){ .fd = feed[1], .events = 0 };
	ok(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLERR), "the worker is gone (its pipe has no reader)");
	close(feed[1]);
	is_int(event_base_loop(base, EVLOOP_NONBLOCK), 1, "no events left behind in the loop");
}

static void test_alpine(struct image_store **sp, const char *alpine)
{
	struct image_store *s = *sp;
	struct done_state d = { 0 };
	_cleanup_free_ char *content = NULL, *lp = NULL, *err = NULL, *id = NULL, *prefix = NULL;
	char layer_dir[PATH_MAX], buf[80];
	const struct image *img, *found;
	struct timespec t0, t1;
	json_t *list, *removed = NULL, *names;
	struct stat st;
	int calls = 0, r, use;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(import_path(s, alpine, "alpine", &d), 0, "alpine: import started");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# alpine import took %.1f ms\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	is_int(d.r, 0, "alpine: import succeeds");
	if (d.r < 0) {
		printf("#   message: %s\n", d.err);
		goto out;
	}
	ok(!d.err, "alpine: no error message");
	is_str(json_str_at(json_object_get(d.info, "layers"), 0), ALPINE_DIFF_ID, "alpine: layer diff_id");
	is_int(json_array_size(json_object_get(d.info, "layers")), 1, "alpine: one layer");
	is_str(json_str_at(json_object_get(d.info, "names"), 0), "alpine:latest", "alpine: named alpine:latest");
	ok(json_integer_value(json_object_get(d.info, "size")) > 1000000, "alpine: size %lld",
	   (long long)json_integer_value(json_object_get(d.info, "size")));
	ok(json_string_length(json_object_get(d.info, "created_at")) > 0, "alpine: created_at set");
	id = strdup(json_string_value(json_object_get(d.info, "id")));
	ok(id && strlen(id) == 71 && strncmp(id, "sha256:", 7) == 0, "alpine: id %s", id);

	snprintf(layer_dir, sizeof(layer_dir), "%s/layers/%s", store_dir, ALPINE_DIFF_ID + 7);
	ok(read_file(path_in(layer_dir, "etc/alpine-release"), 100, &content, NULL) == 0 &&
		   strncmp(content, "3.20.3", 6) == 0,
	   "alpine: etc/alpine-release is 3.20.3");
	ok(stat(path_in(layer_dir, "etc/shadow"), &st) == 0 && st.st_uid == 0 && st.st_gid == 42,
	   "alpine: etc/shadow owned by 0:42");
	r = (int)readlink(path_in(layer_dir, "bin/sh"), buf, sizeof(buf) - 1);
	buf[r > 0 ? r : 0] = '\0';
	is_str(buf, "/bin/busybox", "alpine: bin/sh -> /bin/busybox");
	ok(stat(path_in(layer_dir, "bin/busybox"), &st) == 0 && (st.st_mode & 0111), "alpine: busybox executable");
	ok(stat(layer_dir, &st) == 0 && (st.st_mode & 07777) == 0755, "alpine: layer root is 0755");
	ok(exists(path_in(store_dir, "repositories.json")), "alpine: repositories.json written");
	snprintf(buf, sizeof(buf), "images/%s.json", id + 7);
	ok(exists(path_in(store_dir, buf)), "alpine: image config written");

	img = image_store_lookup(s, "alpine", NULL);
	ok(img && strcmp(img->id, id) == 0, "lookup alpine");
	if (!img)
		goto out;
	is_str(img->layers[0], ALPINE_DIFF_ID, "image layers");
	ok(!img->layers[1], "image has one layer");
	is_str(img->env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "default Env");
	ok(!img->env[1], "Env has one entry");
	ok(!img->cmd, "no Cmd");
	ok(!img->workdir, "no WorkingDir");

	/* Re-import under another name: same id, layer reused. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(import_path(s, alpine, "docker.io/library/alpine:3.20", &d), 0, "alpine again: import started");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# alpine re-import took %.1f ms\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	is_int(d.r, 0, "alpine again: succeeds");
	is_str(json_string_value(json_object_get(d.info, "id")), id, "alpine again: same id");
	names = json_object_get(d.info, "names");
	is_int(json_array_size(names), 2, "alpine again: two names");
	is_str(json_str_at(names, 0), "alpine:3.20", "names sorted (1)");
	is_str(json_str_at(names, 1), "alpine:latest", "names sorted (2)");
	is_int(count_entries(path_in(store_dir, "layers")), 2, "alpine again: layer reused (alpine and kinds)");
	is_int(count_entries(path_in(store_dir, "tmp")), 0, "alpine again: tmp/ empty");

	/* Lookups. */
	ok(image_store_lookup(s, "alpine:latest", NULL) == img, "lookup alpine:latest");
	ok(image_store_lookup(s, "alpine:3.20", NULL) == img, "lookup alpine:3.20");
	ok(image_store_lookup(s, "docker.io/library/alpine", NULL) == img, "lookup docker.io/library/alpine");
	ok(image_store_lookup(s, "docker.io/alpine:latest", NULL) == img, "lookup docker.io/alpine:latest");
	ok(image_store_lookup(s, id, NULL) == img, "lookup by full id");
	ok(image_store_lookup(s, id + 7, NULL) == img, "lookup by bare hex");
	prefix = strndup(id + 7, 12);
	ok(image_store_lookup(s, prefix, NULL) == img, "lookup by 12-char prefix");
	prefix[4] = '\0';
	ok(image_store_lookup(s, prefix, NULL) == img, "lookup by 4-char prefix");
	snprintf(buf, sizeof(buf), "sha256:%.8s", id + 7);
	ok(image_store_lookup(s, buf, NULL) == img, "lookup by sha256:<prefix>");
	prefix[3] = '\0';
	free(err);
	err = NULL;
	errno = 0;
	found = image_store_lookup(s, prefix, &err);
	ok(!found && errno == ENOENT, "3-char prefix is not enough");
	ok(err && strstr(err, "no such image"), "  message: %s", STR(err));
	free(err);
	err = NULL;
	found = image_store_lookup(s, "alpine:3.19", &err);
	ok(!found && err && strstr(err, "no such image: alpine:3.19"), "unknown tag: %s", STR(err));
	free(err);
	err = NULL;
	found = image_store_lookup(s, "Alpine", &err);
	ok(!found && err, "malformed name: %s", STR(err));
	free(err);
	err = NULL;
	found = image_store_lookup(s, "", &err);
	ok(!found && err, "empty reference: %s", STR(err));

	/* List. */
	list = image_store_list(s);
	is_int(json_array_size(list), 2, "list: two images (alpine and kinds)");
	is_str(json_string_value(json_object_get(json_array_get(list, 0), "id")), id, "list: alpine first");
	is_str(json_str_at(json_object_get(json_array_get(list, 0), "names"), 0), "alpine:3.20",
	       "list: names sorted");
	is_str(json_str_at(json_object_get(json_array_get(list, 1), "names"), 0), "kinds:pipe", "list: kinds second");
	json_decref(list);

	/* Layer path. */
	is_int(image_store_layer_path(s, ALPINE_DIFF_ID, &lp), 0, "layer path");
	is_str(lp, layer_dir, "layer path is root/layers/<hex>");
	is_int(image_store_layer_path(s, "sha256:0000000000000000000000000000000000000000000000000000000000000000", &lp),
	       -ENOENT, "unknown layer: -ENOENT");
	is_int(image_store_layer_path(s, "sha256:../../etc", &lp), -EINVAL, "malformed digest: -EINVAL");

	/* Persistence: a new store over the same root sees the same images. */
	image_store_free(s);
	*sp = s = NULL;
	free(err);
	err = NULL;
	is_int(image_store_open(base, store_dir, &s, &err), 0, "reopen");
	*sp = s;
	if (!s)
		goto out;
	img = image_store_lookup(s, "alpine:3.20", NULL);
	ok(img && strcmp(img->id, id) == 0, "reopen: alpine:3.20 still there");
	ok(img && img->layers[0] && strcmp(img->layers[0], ALPINE_DIFF_ID) == 0 && !img->cmd && img->env[0],
	   "reopen: config read back");

	/* Removal: in use refuses, and touches nothing. */
	free(err);
	err = NULL;
	is_int(image_store_remove(s, id, in_use_yes, &calls, &removed, &err), -EBUSY, "remove by id while in use: -EBUSY");
	ok(err && strstr(err, "image is in use by a container"), "  message: %s", STR(err));
	is_int(calls, 1, "  in_use was asked");
	ok(!removed, "  nothing reported removed");
	ok(image_store_lookup(s, "alpine:latest", NULL) && image_store_lookup(s, "alpine:3.20", NULL),
	   "  both names still there");
	ok(exists(layer_dir), "  layer still there");

	/* Removing one of two names only untags, even while a container uses the image (as
	 * Docker): the image and its layer stay for the other name. */
	is_int(image_store_remove(s, "alpine:3.20", in_use_yes, &calls, &removed, NULL), 0,
	       "untag alpine:3.20 while in use");
	is_int(json_array_size(removed), 1, "  one thing removed");
	is_str(json_str_at(removed, 0), "alpine:3.20", "  it is the name");
	json_decref(removed);
	removed = NULL;
	ok(!image_store_lookup(s, "alpine:3.20", NULL), "  alpine:3.20 gone");
	ok(image_store_lookup(s, "alpine", NULL) == image_store_lookup(s, id, NULL), "  alpine:latest still there");
	ok(exists(layer_dir), "  layer still there");

	/* The last name of an image a running container uses: refused, with force too. */
	use = IMAGE_USED;
	free(err);
	err = NULL;
	is_int(image_store_delete(s, "alpine", true, usage_is, &use, &removed, &err), -EBUSY,
	       "force-remove an image a running container uses: -EBUSY");
	ok(err && strstr(err, "running container") && strstr(err, "cannot be forced"), "  message: %s", STR(err));
	ok(!removed && image_store_lookup(s, "alpine", NULL) && exists(layer_dir), "  image and layer still there");

	/* Used by stopped containers only: refused without force. */
	use = IMAGE_USED_STOPPED;
	free(err);
	err = NULL;
	is_int(image_store_delete(s, "alpine", false, usage_is, &use, &removed, &err), -EBUSY,
	       "remove an image a stopped container uses, without force: -EBUSY");
	ok(err && strstr(err, "stopped container"), "  message: %s", STR(err));
	ok(!removed && image_store_lookup(s, "alpine", NULL) && exists(layer_dir), "  image and layer still there");

	/* The last name removes the image: in use first, then (stopped, forced) for real. */
	free(err);
	err = NULL;
	is_int(image_store_remove(s, "alpine", in_use_yes, &calls, &removed, &err), -EBUSY,
	       "remove the last name while in use: -EBUSY");
	ok(image_store_lookup(s, "alpine", NULL) != NULL, "  alpine still there");
	ok(exists(layer_dir), "  layer still there");
	is_int(image_store_delete(s, "alpine", true, usage_is, &use, &removed, NULL), 0,
	       "force-remove alpine, used by a stopped container only");
	is_int(json_array_size(removed), 2, "  two things removed");
	is_str(json_str_at(removed, 0), "alpine:latest", "  the name");
	is_str(json_str_at(removed, 1), id, "  and the image id");
	json_decref(removed);
	removed = NULL;
	ok(!image_store_lookup(s, "alpine", NULL), "  alpine gone");
	snprintf(buf, sizeof(buf), "%.12s", id + 7);
	ok(!image_store_lookup(s, buf, NULL), "  its id prefix finds nothing");
	list = image_store_list(s);
	ok(list && json_array_size(list) == 1, "  it is not listed");
	json_decref(list);
	/* Its stopped containers keep it: their lookup by full id, its record and its layer. */
	ok(image_store_lookup_id(s, id) != NULL, "  its containers still find it by its id");
	ok(image_store_lookup(s, id, NULL) == NULL, "  users do not, even by full id");
	ok(exists(layer_dir), "  its layer stays for the stopped containers");
	snprintf(buf, sizeof(buf), "images/%s.json", id + 7);
	ok(exists(path_in(store_dir, buf)), "  its record stays, marked removed");
	free(err);
	err = NULL;
	is_int(image_store_remove(s, "alpine", in_use_no, NULL, &removed, &err), -ENOENT, "remove again: -ENOENT");
	ok(err && strstr(err, "no such image"), "  message: %s", STR(err));
	/* Once no container uses it, the next removal collects it with its layer and blobs. */
	free(err);
	err = NULL;
	is_int(image_store_remove(s, id, in_use_no, NULL, &removed, &err), -ENOENT, "remove it by id: -ENOENT");
	ok(!image_store_lookup_id(s, id), "  then the id is gone");
	ok(!exists(layer_dir), "  layer directory gone at once (moved to the trash)");
	ok(!exists(path_in(store_dir, buf)), "  image record gone");
	snprintf(buf, sizeof(buf), "blobs/sha256/%s", id + 7);
	ok(!exists(path_in(store_dir, buf)), "  config blob gone");
	snprintf(buf, sizeof(buf), "blobs/sha256/%s", ALPINE_DIGEST + 7);
	ok(!exists(path_in(store_dir, buf)), "  layer blob gone");
out:
	done_state_reset(&d);
}

int main(void)
{
	_cleanup_free_ char *err = NULL;
	struct image_store *s = NULL;
	struct done_state d = { 0 };
	const char *alpine = getenv("CONTAIND_TEST_ALPINE");
	const char *top = getenv("top_srcdir");
	char alpine_buf[PATH_MAX], digest[72], junk[PATH_MAX];
	json_t *list, *removed = NULL;
	int fd, r;

	if (geteuid() != 0) {
		printf("1..0 # SKIP the image store test needs root\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!alpine) {
		snprintf(alpine_buf, sizeof(alpine_buf), "%s/../shared/images/" ALPINE_NAME, top ? top : ABS_TOP_SRCDIR);
		alpine = alpine_buf;
	}
	if (!mkdtemp(tmproot)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(store_dir, sizeof(store_dir), "%s/store", tmproot);
	base = event_base_new();
	if (!base) {
		printf("Bail out! event_base_new\n");
		goto cleanup;
	}

	r = image_store_open(base, store_dir, &s, &err);
	is_int(r, 0, "open a new store");
	if (r < 0) {
		printf("#   %s\n", err);
		goto cleanup;
	}
	ok(count_entries(path_in(store_dir, "layers")) == 0 && count_entries(path_in(store_dir, "images")) == 0 &&
		   count_entries(path_in(store_dir, "tmp")) == 0,
	   "layout created");
	list = image_store_list(s);
	is_int(json_array_size(list), 0, "empty list");
	json_decref(list);

	/* Refused before starting anything: the fd is taken over even then. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	free(err);
	err = NULL;
	is_int(image_import_start(s, fd, "Bad Name", on_done, &d, &err), -EINVAL, "invalid name refused at once");
	ok(err && strstr(err, "invalid reference format"), "  message: %s", STR(err));
	ok(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "  fd closed");
	is_int(d.calls, 0, "  done not called");
	is_int(count_entries(path_in(store_dir, "tmp")), 0, "  nothing in tmp/");

	test_hostile(s);
	test_hardlink_with_data(s);
	test_kinds(s);

	if (access(alpine, R_OK) == 0) {
		ok(file_sha256(alpine, digest) == 0 && strcmp(digest, ALPINE_DIGEST) == 0, "alpine tarball checksum");
		test_alpine(&s, alpine);
	} else {
		printf("# %s: %s\n", alpine, strerror(errno));
		skip("alpine tarball not found (set CONTAIND_TEST_ALPINE)");
	}
	if (!s)
		goto cleanup;

	/* Cancelled callbacks: the import still completes. */
	{
		int called = 0;
		char tar[PATH_MAX];

		snprintf(tar, sizeof(tar), "%s/small.tar", tmproot);
		write_tar(tar, (struct tentry[]){ { .path = "x", .type = AE_IFREG, .data = "x\n" } }, 1, false, NULL);
		fd = open(tar, O_RDONLY | O_CLOEXEC);
		is_int(image_import_start(s, fd, "cancelled", on_done_fail, &called, NULL), 0, "import to cancel started");
		image_import_cancel_callbacks(s, &called);
		is_int(event_base_dispatch(base), 1, "loop ran until the worker finished");
		is_int(called, 0, "cancelled callback not called");
		ok(image_store_lookup(s, "cancelled", NULL) != NULL, "cancelled import completed anyway");
	}

	/* Leftovers from a crash are cleaned at open: tmp/ contents, unreferenced layers, partial
	 * metadata writes. */
	image_store_free(s);
	s = NULL;
	mkdir(path_in(store_dir, "tmp/import-leftover"), 0700);
	write_file_atomic(path_in(store_dir, "tmp/import-leftover/f"), "x", 1);
	snprintf(junk, sizeof(junk), "%s/layers/%064d", store_dir, 0);
	mkdir(junk, 0755);
	write_file_atomic(path_in(store_dir, "images/0.json.tmp"), "{", 1);
	mkdir(path_in(store_dir, "trash/leftover"), 0700);
	mkdir(path_in(store_dir, "trash/leftover/d"), 0700);
	write_file_atomic(path_in(store_dir, "trash/leftover/d/f"), "x", 1);
	symlink("/", path_in(store_dir, "trash/leftover/root"));
	free(err);
	err = NULL;
	is_int(image_store_open(base, store_dir, &s, &err), 0, "reopen after a simulated crash");
	if (!s)
		goto cleanup;
	is_int(count_entries(path_in(store_dir, "tmp")), 0, "  tmp/ wiped");
	ok(!exists(junk), "  unreferenced layer removed");
	ok(!exists(path_in(store_dir, "images/0.json.tmp")), "  stale .tmp file removed");
	ok(image_store_lookup(s, "cancelled", NULL) != NULL, "  images kept");

	/* Remove everything left; the store ends empty. */
	list = image_store_list(s);
	for (size_t i = json_array_size(list); i-- > 0;) {
		const char *id = json_string_value(json_object_get(json_array_get(list, i), "id"));
		is_int(image_store_remove(s, id, in_use_no, NULL, &removed, NULL), 0, "remove %s by id", id);
		json_decref(removed);
		removed = NULL;
	}
	json_decref(list);
	list = image_store_list(s);
	is_int(json_array_size(list), 0, "store empty");
	json_decref(list);
	is_int(count_entries(path_in(store_dir, "layers")), 0, "no layers left");
	is_int(count_entries(path_in(store_dir, "images")), 0, "no image configs left");
	image_store_free(s);
	s = NULL;
	/* The remover emptied the trash: the crash's leftover (whose symlink to / it must not
	 * follow), the old tmp/ and the removed layers. */
	is_int(count_entries(path_in(store_dir, "trash")), 0, "the trash is empty once the store is freed");
	ok(exists("/etc/os-release"), "  and the host's / is intact");

	test_worker_fds_and_free();

cleanup:
	image_store_free(s);
	done_state_reset(&d);
	if (base)
		event_base_free(base);
	r = rm_rf(tmproot);
	if (r < 0)
		printf("# removing %s: %s\n", tmproot, strerror(-r));
	ok(!exists(tmproot), "temporary directory removed");
	return tap_done();
}
