/* The image store: content-addressed layers, image configs and the name index under one root.
 *
 *   <root>/layers/<hex>/        the extracted layer (hex: sha256 of the tarball bytes), used
 *                               directly as an overlay lowerdir
 *   <root>/images/<hex>.json    an image config (hex: sha256 of its canonical form)
 *   <root>/repositories.json    {"names": {"alpine:latest": "sha256:<hex>", ...}}
 *   <root>/tmp/                 imports in progress; moved to the trash at open
 *   <root>/trash/               trees being deleted by a child process (image-trash.c)
 *
 * A layer appears under layers/ only by an atomic rename of a completely extracted directory, and
 * metadata files are replaced atomically, in the order layer, config, name. A crash in between
 * leaves at worst an unreferenced layer (removed at the next open) or an image without a name
 * (kept, listed with no names, removable by id).
 *
 * Imports run in a forked worker so that parsing a hostile tarball can neither block the event
 * loop nor run with the daemon's full privileges; see import_worker_main(). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <event2/event.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-store.h"
#include "daemon/image-trash.h"
#include "daemon/tarsafe.h"
#include "protocol/messages.h"

#define DIGEST_PREFIX "sha256:"
#define HEX_LEN 64
#define ID_PREFIX_MIN 4
#define CONFIG_MAX (1024 * 1024)
#define REPOSITORIES_MAX (16 * 1024 * 1024)
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The fds a worker keeps, at fixed numbers; everything else is closed. */
#define WORKER_TAR_FD 3
#define WORKER_RESULT_FD 4

/* What a worker writes to its result pipe, in one write (smaller than PIPE_BUF, so atomic). The
 * daemon treats it as untrusted input: the worker has parsed hostile data. */
struct import_result {
	int32_t r;                /* 0 or -errno */
	uint32_t reserved;
	uint64_t size;            /* bytes of regular file data */
	char digest[HEX_LEN + 1]; /* sha256 of the tarball, lowercase hex */
	char msg[1024];           /* error message when r < 0 */
};

struct import {
	struct import *next;
	struct image_store *store;
	pid_t pid;      /* > 0 until reaped */
	int pidfd;
	int result_fd;  /* read end of the result pipe */
	struct event *ev;
	char *tmpdir;   /* tmp/import-<random>: the worker's extraction (and chroot) directory */
	char *name;     /* normalized */
	image_import_done_fn done;
	void *userdata;
};

struct image_store {
	struct event_base *base;
	char *root, *layers_dir, *images_dir, *tmp_dir, *trash_dir, *repos_path;
	struct image_trash *trash;
	struct image **images;
	size_t n_images;
	json_t *names;  /* "name:tag" -> "sha256:<hex>" */
	struct import *imports;
};

static bool is_hex_string(const char *s, size_t min, size_t max)
{
	size_t len = strlen(s);

	if (len < min || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Whether s is "sha256:" followed by 64 lowercase hex digits. */
static bool digest_valid(const char *s)
{
	return str_startswith(s, DIGEST_PREFIX) && is_hex_string(s + strlen(DIGEST_PREFIX), HEX_LEN, HEX_LEN);
}

static json_t *strv_to_json(char **v)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (; v && *v; v++)
		if (json_array_append_new(a, json_string(*v)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Copies a JSON array of strings (at most max) into a strv. */
static int json_to_strv(json_t *a, size_t max, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	size_t i;
	json_t *e;

	if (!json_is_array(a) || json_array_size(a) > max)
		return -EINVAL;
	v = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e))
			return -EINVAL;
		v[i] = strdup(json_string_value(e));
		if (!v[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

static void image_free(struct image *img)
{
	if (!img)
		return;
	free(img->id);
	strv_free(img->layers);
	strv_free(img->env);
	strv_free(img->cmd);
	free(img->workdir);
	free(img->created_at);
	free(img);
}

static void image_freep(struct image **img)
{
	image_free(*img);
}

/* The image config as JSON: the content part (what the id is computed from) and, with meta, the
 * creation time and size, which describe this copy rather than the image. */
static json_t *image_config_json(const struct image *img, bool meta)
{
	json_t *o;

	o = json_pack("{s:o, s:o, s:o, s:o}", "layers", strv_to_json(img->layers), "env", strv_to_json(img->env),
		      "cmd", img->cmd ? strv_to_json(img->cmd) : json_null(), "workdir",
		      img->workdir ? json_string(img->workdir) : json_null());
	if (!o || !meta)
		return o;
	if (json_object_set_new(o, "created_at", json_string(img->created_at)) < 0 ||
	    json_object_set_new(o, "size", json_integer((json_int_t)img->size)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int sha256_hex(const void *data, size_t len, char out[HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
		return -EIO;
	hex_encode(md, md_len, out);
	return 0;
}

/* The image id: sha256 of the canonical (sorted keys, compact, ASCII) content JSON, so that the
 * same layers and settings always give the same id. */
static int image_compute_id(const struct image *img, char **ret)
{
	json_auto_t *o = image_config_json(img, false);
	_cleanup_free_ char *canon = NULL;
	char hex[HEX_LEN + 1];
	int r;

	if (!o)
		return -ENOMEM;
	canon = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!canon)
		return -ENOMEM;
	r = sha256_hex(canon, strlen(canon), hex);
	if (r < 0)
		return r;
	if (asprintf(ret, DIGEST_PREFIX "%s", hex) < 0)
		return -ENOMEM;
	return 0;
}

/* Parses images/<hex>.json. */
static int image_from_json(const char *id, json_t *o, struct image **ret, char **reterr)
{
	_cleanup_(image_freep) struct image *img = NULL;
	json_t *layers = json_object_get(o, "layers"), *cmd = json_object_get(o, "cmd");
	json_t *workdir = json_object_get(o, "workdir"), *created = json_object_get(o, "created_at");
	json_t *size = json_object_get(o, "size");
	int r;

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->id = strdup(id);
	if (!img->id)
		return -ENOMEM;
	r = json_to_strv(layers, 4096, &img->layers);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !img->layers[0])
		return err_set(reterr, -EINVAL, "\"layers\" must be a non-empty array of layer digests");
	/* Layer paths are built from these strings, so they must be exactly digests. */
	for (char **l = img->layers; *l; l++)
		if (!digest_valid(*l))
			return err_set(reterr, -EINVAL, "invalid layer digest \"%s\"", *l);
	r = json_to_strv(json_object_get(o, "env"), 4096, &img->env);
	if (r < 0)
		return r == -ENOMEM ? r : err_set(reterr, r, "\"env\" must be an array of strings");
	if (cmd && !json_is_null(cmd)) {
		r = json_to_strv(cmd, 4096, &img->cmd);
		if (r < 0)
			return r == -ENOMEM ? r : err_set(reterr, r, "\"cmd\" must be an array of strings");
	}
	if (workdir && !json_is_null(workdir)) {
		if (!json_is_string(workdir))
			return err_set(reterr, -EINVAL, "\"workdir\" must be a string");
		img->workdir = strdup(json_string_value(workdir));
		if (!img->workdir)
			return -ENOMEM;
	}
	img->created_at = strdup(json_is_string(created) ? json_string_value(created) : "");
	if (!img->created_at)
		return -ENOMEM;
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return err_set(reterr, -EINVAL, "\"size\" must be a non-negative integer");
	img->size = (uint64_t)json_integer_value(size);
	*ret = TAKE_PTR(img);
	return 0;
}

static struct image *store_find_id(struct image_store *s, const char *id)
{
	for (size_t i = 0; i < s->n_images; i++)
		if (strcmp(s->images[i]->id, id) == 0)
			return s->images[i];
	return NULL;
}

static bool store_layer_used(struct image_store *s, const char *digest, const struct image *except)
{
	for (size_t i = 0; i < s->n_images; i++) {
		if (s->images[i] == except)
			continue;
		for (char **l = s->images[i]->layers; *l; l++)
			if (strcmp(*l, digest) == 0)
				return true;
	}
	return false;
}

static int store_add_image(struct image_store *s, struct image *img)
{
	struct image **n = realloc(s->images, (s->n_images + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->images = n;
	s->images[s->n_images++] = img;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names pointing at an image, sorted (borrowed strings, NULL-terminated; free the array). */
static const char **store_names_of(struct image_store *s, const char *id, size_t *ret_n)
{
	const char **v;
	const char *key;
	json_t *value;
	size_t n = 0;

	v = calloc(json_object_size(s->names) + 1, sizeof(char *));
	if (!v)
		return NULL;
	json_object_foreach(s->names, key, value)
		if (strcmp(json_string_value(value), id) == 0)
			v[n++] = key;
	qsort(v, n, sizeof(char *), cmp_str);
	if (ret_n)
		*ret_n = n;
	return v;
}

static size_t store_count_names(struct image_store *s, const char *id)
{
	const char *key;
	json_t *value;
	size_t n = 0;

	json_object_foreach(s->names, key, value)
		if (strcmp(json_string_value(value), id) == 0)
			n++;
	return n;
}

/* The proto_image_info of an image. */
static json_t *store_image_info(struct image_store *s, const struct image *img)
{
	_cleanup_free_ const char **names = store_names_of(s, img->id, NULL);
	json_auto_t *jnames = NULL, *jlayers = NULL;

	if (!names)
		return NULL;
	jnames = strv_to_json((char **)names);
	jlayers = strv_to_json(img->layers);
	if (!jnames || !jlayers)
		return NULL;
	return proto_image_info_encode(&(struct proto_image_info){
		.id = img->id,
		.names = jnames,
		.layers = jlayers,
		.created_at = img->created_at,
		.size = img->size,
	});
}

static int store_save_names(struct image_store *s, char **reterr)
{
	json_auto_t *o = json_pack("{s:i, s:O}", "version", 1, "names", s->names);
	_cleanup_free_ char *data = NULL;
	int r;

	if (!o)
		return -ENOMEM;
	data = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!data)
		return -ENOMEM;
	r = write_file_atomic(s->repos_path, data, strlen(data));
	if (r < 0)
		return err_set(reterr, r, "writing %s: %m", s->repos_path);
	return 0;
}

static int store_write_image(struct image_store *s, const struct image *img, char **reterr)
{
	json_auto_t *o = image_config_json(img, true);
	_cleanup_free_ char *data = NULL, *path = NULL;
	int r;

	if (!o)
		return -ENOMEM;
	data = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!data)
		return -ENOMEM;
	if (asprintf(&path, "%s/%s.json", s->images_dir, img->id + strlen(DIGEST_PREFIX)) < 0)
		return -ENOMEM;
	r = write_file_atomic(path, data, strlen(data));
	if (r < 0)
		return err_set(reterr, r, "writing %s: %m", path);
	return 0;
}

/* Deletes a directory tree without blocking the loop: it is renamed into the trash (so it
 * disappears at once, and a crash half-way leaves the remains where the next open finds them)
 * and removed by a child process. */
static void store_discard_tree(struct image_store *s, const char *path)
{
	int r = image_trash_put(s->trash, path);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: removing %s: %m", path);
}

static void store_delete_layer(struct image_store *s, const char *digest)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s", s->layers_dir, digest + strlen(DIGEST_PREFIX)) < 0)
		return;
	store_discard_tree(s, path);
}

/* Removes an image from memory and disk, and its layers that no other image uses. Names must
 * already be gone. */
static int store_delete_image(struct image_store *s, struct image *img, char **reterr)
{
	_cleanup_free_ char *path = NULL;
	size_t i;

	if (asprintf(&path, "%s/%s.json", s->images_dir, img->id + strlen(DIGEST_PREFIX)) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(reterr, -errno, "removing %s: %m", path);
	for (i = 0; i < s->n_images && s->images[i] != img; i++)
		;
	if (i < s->n_images)
		s->images[i] = s->images[--s->n_images];
	for (char **l = img->layers; *l; l++)
		if (!store_layer_used(s, *l, NULL))
			store_delete_layer(s, *l);
	image_free(img);
	return 0;
}

/* Loads every images/<hex>.json; a config that cannot be read is logged and skipped, so that one
 * bad file does not keep the daemon from starting. */
static int store_load_images(struct image_store *s)
{
	_cleanup_closedir_ DIR *d = opendir(s->images_dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *data = NULL, *err = NULL, *id = NULL, *want = NULL;
		_cleanup_(image_freep) struct image *img = NULL;
		json_auto_t *o = NULL;
		size_t len = strlen(de->d_name);
		int r;

		if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
			/* A write_file_atomic() that did not finish. */
			if (unlinkat(dirfd(d), de->d_name, 0) < 0)
				log_errno(LOG_LEVEL_WARNING, -errno, "image store: removing %s/%s: %m", s->images_dir,
					  de->d_name);
			continue;
		}
		if (len != HEX_LEN + 5 || strcmp(de->d_name + HEX_LEN, ".json") != 0)
			continue;
		if (asprintf(&id, DIGEST_PREFIX "%.*s", HEX_LEN, de->d_name) < 0)
			return -ENOMEM;
		if (!digest_valid(id))
			continue;
		r = read_file_at(dirfd(d), de->d_name, CONFIG_MAX, &data, NULL);
		if (r < 0) {
			log_errno(LOG_LEVEL_WARNING, r, "image store: reading %s/%s: %m", s->images_dir, de->d_name);
			continue;
		}
		o = json_loads(data, 0, NULL);
		if (!json_is_object(o)) {
			log_warning("image store: %s/%s is not a JSON object, ignoring it", s->images_dir, de->d_name);
			continue;
		}
		r = image_from_json(id, o, &img, &err);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			log_warning("image store: %s/%s: %s, ignoring it", s->images_dir, de->d_name,
				    err ? err : strerror(-r));
			continue;
		}
		if (image_compute_id(img, &want) >= 0 && strcmp(want, id) != 0)
			log_warning("image store: %s/%s: content does not match its id (computed %s)", s->images_dir,
				    de->d_name, want);
		r = store_add_image(s, img);
		if (r < 0)
			return r;
		TAKE_PTR(img);
	}
	return errno ? -errno : 0;
}

/* Loads repositories.json, dropping names that are malformed or point to unknown images. A file
 * that cannot be parsed fails the open rather than being overwritten with an empty index. */
static int store_load_names(struct image_store *s, char **reterr)
{
	_cleanup_free_ char *data = NULL;
	json_auto_t *o = NULL;
	json_error_t jerr;
	json_t *names, *value;
	const char *key;
	void *tmp;
	int r;

	r = read_file(s->repos_path, REPOSITORIES_MAX, &data, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_set(reterr, r, "reading %s: %m", s->repos_path);
	o = json_loads(data, 0, &jerr);
	names = json_object_get(o, "names");
	if (!json_is_object(names))
		return err_set(reterr, -EBADMSG, "%s is corrupt (%s); fix or remove it", s->repos_path,
			       o ? "no \"names\" object" : jerr.text);
	json_object_foreach_safe(names, tmp, key, value) {
		_cleanup_free_ char *norm = NULL;

		if (!json_is_string(value) || !store_find_id(s, json_string_value(value))) {
			log_warning("image store: name %s points to a missing image, dropping it", key);
		} else if (image_name_normalize(key, &norm, NULL) < 0 || strcmp(norm, key) != 0) {
			log_warning("image store: invalid name %s, dropping it", key);
		} else {
			r = json_object_set(s->names, key, value);
			if (r < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Removes layer directories no image refers to (a crash between extracting a layer and writing
 * its image config leaves one behind). */
static int store_gc_layers(struct image_store *s)
{
	_cleanup_closedir_ DIR *d = opendir(s->layers_dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		char digest[sizeof(DIGEST_PREFIX) + HEX_LEN];

		if (strlen(de->d_name) != HEX_LEN || !is_hex_string(de->d_name, HEX_LEN, HEX_LEN))
			continue;
		snprintf(digest, sizeof(digest), DIGEST_PREFIX "%s", de->d_name);
		if (store_layer_used(s, digest, NULL))
			continue;
		log_info("image store: removing unreferenced layer %s", digest);
		store_delete_layer(s, digest);
	}
	return errno ? -errno : 0;
}

int image_store_open(struct event_base *base, const char *root, struct image_store **ret, char **reterr)
{
	struct image_store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base = base;
	s->names = json_object();
	if (!s->names || !(s->root = strdup(root)) || asprintf(&s->layers_dir, "%s/layers", root) < 0 ||
	    asprintf(&s->images_dir, "%s/images", root) < 0 || asprintf(&s->tmp_dir, "%s/tmp", root) < 0 ||
	    asprintf(&s->trash_dir, "%s/trash", root) < 0 ||
	    asprintf(&s->repos_path, "%s/repositories.json", root) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = mkdir_p(root, 0700)) < 0 || (r = mkdir_p(s->layers_dir, 0700)) < 0 ||
	    (r = mkdir_p(s->images_dir, 0700)) < 0) {
		r = err_set(reterr, r, "creating the image store in %s: %m", root);
		goto fail;
	}
	/* The trash is emptied in the background, including what a crash left in it. */
	r = image_trash_open(base, s->trash_dir, &s->trash, reterr);
	if (r < 0)
		goto fail;
	/* Nothing in tmp/ survives a restart: imports in progress died with the daemon. */
	r = image_trash_put(s->trash, s->tmp_dir);
	if (r < 0) {
		r = err_set(reterr, r, "cleaning %s: %m", s->tmp_dir);
		goto fail;
	}
	if (mkdir(s->tmp_dir, 0700) < 0) {
		r = err_set(reterr, -errno, "creating %s: %m", s->tmp_dir);
		goto fail;
	}
	r = store_load_images(s);
	if (r < 0) {
		r = err_set(reterr, r, "loading image configs from %s: %m", s->images_dir);
		goto fail;
	}
	r = store_load_names(s, reterr);
	if (r < 0)
		goto fail;
	r = store_gc_layers(s);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: cleaning %s: %m", s->layers_dir);
	*ret = s;
	return 0;
fail:
	image_store_free(s);
	return r;
}

/* Frees an import; a worker still running is killed and reaped, and its directory removed. */
static void import_free(struct import *imp)
{
	siginfo_t si;

	if (!imp)
		return;
	if (imp->ev)
		event_free(imp->ev);
	if (imp->pid > 0) {
		if (imp->pidfd >= 0) {
			if (pidfd_send_signal(imp->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
				log_errno(LOG_LEVEL_WARNING, -errno, "image store: killing import worker %d: %m",
					  (int)imp->pid);
			while (waitid(P_PIDFD, (id_t)imp->pidfd, &si, WEXITED) < 0 && errno == EINTR)
				;
		} else {
			/* pidfd_open() failed: the child is ours and unreaped, so its pid is stable. */
			kill(imp->pid, SIGKILL);
			while (waitpid(imp->pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
	}
	safe_close(imp->pidfd);
	safe_close(imp->result_fd);
	if (imp->tmpdir)
		store_discard_tree(imp->store, imp->tmpdir);
	free(imp->tmpdir);
	free(imp->name);
	free(imp);
}

static void import_freep(struct import **imp)
{
	import_free(*imp);
}

void image_store_free(struct image_store *s)
{
	if (!s)
		return;
	while (s->imports) {
		struct import *imp = s->imports;
		s->imports = imp->next;
		import_free(imp);
	}
	image_trash_free(s->trash);
	for (size_t i = 0; i < s->n_images; i++)
		image_free(s->images[i]);
	free(s->images);
	json_decref(s->names);
	free(s->root);
	free(s->layers_dir);
	free(s->images_dir);
	free(s->tmp_dir);
	free(s->trash_dir);
	free(s->repos_path);
	free(s);
}

/* Finds an image by id ("sha256:<hex>", or at least 4 hex digits of it, with or without the
 * prefix). Returns NULL with errno ENOENT, or EINVAL when the prefix is ambiguous. */
static struct image *store_find_id_prefix(struct image_store *s, const char *ref, char **reterr)
{
	const char *hex = str_startswith(ref, DIGEST_PREFIX) ? ref + strlen(DIGEST_PREFIX) : ref;
	struct image *found = NULL;
	size_t len = strlen(hex);

	if (is_hex_string(hex, ID_PREFIX_MIN, HEX_LEN)) {
		for (size_t i = 0; i < s->n_images; i++) {
			if (strncmp(s->images[i]->id + strlen(DIGEST_PREFIX), hex, len) != 0)
				continue;
			if (found) {
				err_set(reterr, -EINVAL, "image id prefix %s is ambiguous", ref);
				errno = EINVAL;
				return NULL;
			}
			found = s->images[i];
		}
	}
	if (!found) {
		err_set(reterr, -ENOENT, "no such image: %s", ref);
		errno = ENOENT;
	}
	return found;
}

/* Finds an image by name first (as Docker does: a name that looks like hex is still a name), then
 * by id. Sets *ret_name to the normalized name when it matched by name. NULL with errno set when
 * there is no such image. */
static struct image *store_resolve(struct image_store *s, const char *ref, char **ret_name, char **reterr)
{
	_cleanup_free_ char *norm = NULL;
	struct image *img;
	json_t *id;

	if (!ref || !*ref) {
		err_set(reterr, -EINVAL, "empty image reference");
		errno = EINVAL;
		return NULL;
	}
	if (!str_startswith(ref, DIGEST_PREFIX) && image_name_normalize(ref, &norm, NULL) >= 0 &&
	    (id = json_object_get(s->names, norm)) && (img = store_find_id(s, json_string_value(id)))) {
		if (ret_name)
			*ret_name = TAKE_PTR(norm);
		return img;
	}
	return store_find_id_prefix(s, ref, reterr);
}

const struct image *image_store_lookup(struct image_store *s, const char *ref, char **reterr)
{
	return store_resolve(s, ref, NULL, reterr);
}

int image_store_layer_path(struct image_store *s, const char *digest, char **ret)
{
	char *path;

	if (!digest || !digest_valid(digest))
		return -EINVAL;
	if (!store_layer_used(s, digest, NULL))
		return -ENOENT;
	if (asprintf(&path, "%s/%s", s->layers_dir, digest + strlen(DIGEST_PREFIX)) < 0)
		return -ENOMEM;
	*ret = path;
	return 0;
}

struct list_item {
	const struct image *img;
	const char **names;
};

/* Named images first, by their first name; then the unnamed ones by id. */
static int cmp_list_item(const void *a, const void *b)
{
	const struct list_item *x = a, *y = b;

	if (x->names[0] && y->names[0])
		return strcmp(x->names[0], y->names[0]);
	if (x->names[0] || y->names[0])
		return x->names[0] ? -1 : 1;
	return strcmp(x->img->id, y->img->id);
}

json_t *image_store_list(struct image_store *s)
{
	_cleanup_free_ struct list_item *items = calloc(s->n_images + 1, sizeof(*items));
	json_t *list = json_array();
	size_t i;

	if (!items || !list)
		goto fail;
	for (i = 0; i < s->n_images; i++) {
		items[i].img = s->images[i];
		items[i].names = store_names_of(s, s->images[i]->id, NULL);
		if (!items[i].names)
			goto fail;
	}
	qsort(items, s->n_images, sizeof(*items), cmp_list_item);
	for (i = 0; i < s->n_images; i++)
		if (json_array_append_new(list, store_image_info(s, items[i].img)) < 0)
			goto fail;
	for (i = 0; i < s->n_images; i++)
		free(items[i].names);
	return list;
fail:
	for (i = 0; items && i < s->n_images; i++)
		free(items[i].names);
	json_decref(list);
	return NULL;
}

static int store_delete_ref(struct image_store *s, const char *ref, bool force, bool knows_running,
			    image_usage_fn usage, void *userdata, json_t **ret_removed, char **reterr);

int image_store_remove(struct image_store *s, const char *ref, int (*in_use)(const char *image_id, void *userdata),
		       void *userdata, json_t **ret_removed, char **reterr)
{
	return store_delete_ref(s, ref, false, false, in_use, userdata, ret_removed, reterr);
}

int image_store_delete(struct image_store *s, const char *ref, bool force, image_usage_fn usage, void *userdata,
		       json_t **ret_removed, char **reterr)
{
	return store_delete_ref(s, ref, force, true, usage, userdata, ret_removed, reterr);
}

/* image_store_delete(); knows_running: usage tells running from stopped (else its "used" may be
 * either, and the message must not claim a running container). */
static int store_delete_ref(struct image_store *s, const char *ref, bool force, bool knows_running,
			    image_usage_fn usage, void *userdata, json_t **ret_removed, char **reterr)
{
	json_auto_t *removed = json_array(), *saved = NULL;
	_cleanup_free_ const char **names = NULL;
	_cleanup_free_ char *name = NULL;
	struct image *img;
	size_t n = 0;
	int r, use;

	if (!removed)
		return -ENOMEM;
	img = store_resolve(s, ref, &name, reterr);
	if (!img)
		return -errno;
	use = usage ? usage(img->id, userdata) : IMAGE_UNUSED;

	/* One of several names: only that name goes. The image stays for the other names, so
	 * nothing a container needs is touched, and Docker does the same. */
	if (name && store_count_names(s, img->id) > 1) {
		json_auto_t *old = json_incref(json_object_get(s->names, name));

		if (json_object_del(s->names, name) < 0)
			return -ENOMEM;
		r = store_save_names(s, reterr);
		if (r < 0) {
			json_object_set(s->names, name, old);
			return r;
		}
		if (json_array_append_new(removed, json_string(name)) < 0)
			return -ENOMEM;
		goto done;
	}

	/* The image itself would go. A running container has its layers mounted as its root: never,
	 * force or not (Docker's "cannot be forced"). Stopped ones only with force. */
	if (use == IMAGE_USED_STOPPED && !force)
		return err_set(reterr, -EBUSY, "cannot remove %s: image is used by a stopped container (remove it, or force)",
			       ref);
	if (use != IMAGE_UNUSED && use != IMAGE_USED_STOPPED)
		return err_set(reterr, -EBUSY, "cannot remove %s: image is in use by a %scontainer%s", ref,
			       knows_running ? "running " : "", force ? " (cannot be forced)" : "");

	/* All names go first, then the config, then the layers: a crash in between leaves an
	 * unnamed image (listed, removable by id) or unreferenced layers (collected at open). */
	names = store_names_of(s, img->id, &n);
	saved = json_deep_copy(s->names);
	if (!names || !saved)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(removed, json_string(names[i])) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		json_object_del(s->names, json_string_value(json_array_get(removed, i)));
	if (n > 0) {
		r = store_save_names(s, reterr);
		if (r < 0) {
			json_decref(s->names);
			s->names = TAKE_PTR(saved);
			return r;
		}
	}
	if (json_array_append_new(removed, json_string(img->id)) < 0)
		return -ENOMEM;
	r = store_delete_image(s, img, reterr);
	if (r < 0)
		return r;
done:
	if (ret_removed)
		*ret_removed = TAKE_PTR(removed);
	return 0;
}

/*
 * The import worker.
 *
 * Security: the worker parses an untrusted tarball as root (it must: layer files keep their
 * owners, modes, device numbers and file capabilities). It is confined so that a refusal in
 * tarsafe or libarchive is not the only thing between a hostile entry and the host:
 *   - it gets only the tarball and the result pipe (fds 3 and 4); every other fd of the daemon
 *     (client sockets, the listening socket, container pidfds) is closed;
 *   - it chroots into its extraction directory before reading a byte, so even a path that
 *     slipped past every check resolves inside the layer, and it drops every capability except
 *     those extraction needs (chown, fowner, fsetid, dac_override/read_search, mknod, setfcap):
 *     without CAP_SYS_CHROOT and CAP_SYS_ADMIN it cannot leave the chroot or mount anything;
 *   - only tar formats are enabled. libarchive's "all formats" includes mtree, whose entries
 *     can name files of the extracting machine to copy contents from;
 *   - archive_write_disk refuses "..", absolute paths and writes through symlinks, and every
 *     entry (and hard-link target) passes tarsafe first; any refusal fails the whole import;
 *   - trusted.* and user.overlay.* xattrs are dropped: they are overlayfs' own metadata
 *     (redirect, metacopy, opaque, origin) and a layer must not smuggle them into a lowerdir;
 *   - it dies with the daemon (PR_SET_PDEATHSIG), and the daemon wipes tmp/ at the next start.
 * The residual risk is CAP_MKNOD, needed for device nodes in layers (Docker allows them): code
 * execution inside the worker through a libarchive bug could create and open a disk device.
 */

struct tar_source {
	int fd;
	EVP_MD_CTX *md;
	int error; /* errno of a failed read */
	unsigned char buf[128 * 1024];
};

/* Reads the next chunk of the tarball and hashes it. Every byte goes through here (there is no
 * skip callback), so the digest covers the file exactly as given. */
static ssize_t tar_source_fill(struct tar_source *src)
{
	for (;;) {
		ssize_t n = read(src->fd, src->buf, sizeof(src->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* The client may have handed over a non-blocking pipe. */
			struct pollfd p = { .fd = src->fd, .events = POLLIN };
			if (poll(&p, 1, -1) < 0 && errno != EINTR) {
				src->error = errno;
				return -1;
			}
			continue;
		}
		if (n < 0) {
			src->error = errno;
			return -1;
		}
		if (n > 0 && EVP_DigestUpdate(src->md, src->buf, (size_t)n) != 1) {
			src->error = EIO;
			return -1;
		}
		return n;
	}
}

static la_ssize_t tar_source_read(struct archive *a, void *userdata, const void **buf)
{
	struct tar_source *src = userdata;
	ssize_t n = tar_source_fill(src);

	if (n < 0) {
		archive_set_error(a, src->error, "reading the tarball: %s", strerror(src->error));
		return -1;
	}
	*buf = src->buf;
	return n;
}

static bool xattr_refused(const char *name)
{
	return str_startswith(name, "trusted.") || str_startswith(name, "user.overlay.");
}

/* Drops xattrs in overlayfs' namespaces (see the security note above). The entry owns the xattr
 * strings, so the ones to keep are copied before the list is cleared and rebuilt. */
static int entry_filter_xattrs(struct archive_entry *e)
{
	struct kept {
		char *name;
		void *value;
		size_t size;
	} *kept = NULL;
	size_t n = 0, size, count;
	const void *value;
	const char *name;
	bool drop = false;
	int r = 0;

	if (archive_entry_xattr_reset(e) <= 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		drop = drop || xattr_refused(name);
	if (!drop)
		return 0;
	count = (size_t)archive_entry_xattr_reset(e);
	kept = calloc(count, sizeof(*kept));
	if (!kept)
		return -ENOMEM;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK && n < count) {
		if (xattr_refused(name))
			continue;
		kept[n].name = strdup(name);
		kept[n].value = malloc(size ? size : 1);
		kept[n].size = size;
		if (!kept[n].name || !kept[n].value) {
			n++;
			r = -ENOMEM;
			goto out;
		}
		memcpy(kept[n].value, value, size);
		n++;
	}
	archive_entry_xattr_clear(e);
	for (size_t i = 0; i < n; i++)
		archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
out:
	for (size_t i = 0; i < n; i++) {
		free(kept[i].name);
		free(kept[i].value);
	}
	free(kept);
	return r;
}

/* Copies an entry's data from the tarball to disk. */
static int copy_data(struct archive *in, struct archive *out, const char *path, char **reterr)
{
	const void *buf;
	size_t size;
	la_int64_t offset;

	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return err_set(reterr, -EIO, "reading \"%s\" from the tarball: %s", path,
				       archive_error_string(in));
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
			return err_set(reterr, -EIO, "writing \"%s\": %s", path, archive_error_string(out));
	}
}

/* Extracts every entry; fails on the first refused or unwritable one. */
static int worker_extract(struct archive *in, struct archive *out, uint64_t *ret_size, char **reterr)
{
	struct archive_entry *entry;
	uint64_t size = 0, n = 0;
	int r;

	for (;;) {
		const char *path, *hardlink;
		unsigned type;

		r = archive_read_next_header(in, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (n == 0)
				return err_set(reterr, -EINVAL, "not a tar archive (%s)", archive_error_string(in));
			return err_set(reterr, -EINVAL, "reading the tarball after %" PRIu64 " entries: %s", n,
				       archive_error_string(in));
		}
		n++;
		path = archive_entry_pathname(entry);
		hardlink = archive_entry_hardlink(entry);
		type = archive_entry_filetype(entry);
		r = tarsafe_check_entry(path, hardlink, reterr);
		if (r < 0)
			return r;
		r = tarsafe_check_type(path, type, hardlink != NULL, reterr);
		if (r < 0)
			return r;
		r = tarsafe_check_rootfs_entry(path, hardlink ? 0 : type, reterr);
		if (r < 0)
			return r;
		r = entry_filter_xattrs(entry);
		if (r < 0)
			return r;
		if (!hardlink && type == AE_IFREG && archive_entry_size(entry) > 0)
			size += (uint64_t)archive_entry_size(entry);
		r = archive_write_header(out, entry);
		if (r < ARCHIVE_WARN)
			return err_set(reterr, -EPERM, "cannot extract tar entry \"%s\": %s", path,
				       archive_error_string(out));
		r = copy_data(in, out, path, reterr);
		if (r < 0)
			return r;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN)
			return err_set(reterr, -EIO, "writing \"%s\": %s", path, archive_error_string(out));
	}
	if (n == 0)
		return err_set(reterr, -EINVAL, "not a tar archive (no entries)");
	/* Directory modes and times are applied here, after their contents. */
	if (archive_write_close(out) < ARCHIVE_WARN)
		return err_set(reterr, -EIO, "finishing the extraction: %s", archive_error_string(out));
	*ret_size = size;
	return 0;
}

/* Chroots into the current directory (the extraction directory) and drops privileges. */
static int worker_confine(char **reterr)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };
	const uint32_t keep = 1u << CAP_CHOWN | 1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH |
			      1u << CAP_FOWNER | 1u << CAP_FSETID | 1u << CAP_MKNOD | 1u << CAP_SETFCAP;
	struct rlimit no_core = { 0, 0 };

	if (chroot(".") < 0)
		return err_set(reterr, -errno, "chroot into the extraction directory: %m");
	if (chdir("/") < 0)
		return err_set(reterr, -errno, "chdir: %m");
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return err_set(reterr, -errno, "setrlimit: %m");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(reterr, -errno, "prctl(PR_SET_NO_NEW_PRIVS): %m");
	data[0].effective = data[0].permitted = keep;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return err_set(reterr, -errno, "dropping capabilities: %m");
	return 0;
}

/* Everything the worker does after its fds are in place; fills res. */
static int worker_run(struct import_result *res, char **reterr)
{
	static const int flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_OWNER |
				 ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR;
	static struct tar_source src = { .fd = WORKER_TAR_FD };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	struct archive *in, *out;
	uint64_t size = 0;
	int r, root_fd;

	/* Set up everything that might load files (OpenSSL configuration, libarchive's
	 * decompressors) before the chroot. */
	src.md = EVP_MD_CTX_new();
	if (!src.md || EVP_DigestInit_ex(src.md, EVP_sha256(), NULL) != 1)
		return err_set(reterr, -ENOMEM, "initializing sha256");
	in = archive_read_new();
	out = archive_write_disk_new();
	if (!in || !out)
		return -ENOMEM;
	/* Immutable/append-only flags (FFLAGS) are left out on purpose: the daemon must be able
	 * to delete what it extracted. ACLs too; rootfs tarballs have none. Owners are numeric
	 * (no archive_write_disk_set_standard_lookup), as in every container image format. */
	if (archive_read_support_filter_all(in) < ARCHIVE_WARN || archive_read_support_format_tar(in) != ARCHIVE_OK ||
	    archive_write_disk_set_options(out, flags) != ARCHIVE_OK)
		return err_set(reterr, -EIO, "setting up libarchive: %s", archive_error_string(in));
	umask(022);

	r = worker_confine(reterr);
	if (r < 0)
		return r;

	if (archive_read_open(in, &src, NULL, tar_source_read, NULL) != ARCHIVE_OK)
		return err_set(reterr, -EINVAL, "not a tar archive (%s)", archive_error_string(in));
	r = worker_extract(in, out, &size, reterr);
	if (r < 0)
		return r;
	/* The digest covers the whole file, including whatever follows the end-of-archive marker
	 * that libarchive did not need to read. */
	for (;;) {
		ssize_t n = tar_source_fill(&src);
		if (n < 0)
			return err_set(reterr, -src.error, "reading the tarball: %m");
		if (n == 0)
			break;
	}
	if (EVP_DigestFinal_ex(src.md, md, &md_len) != 1 || md_len != 32)
		return err_set(reterr, -EIO, "computing sha256");
	hex_encode(md, md_len, res->digest);
	res->size = size;

	/* One syncfs instead of an fsync per file: the layer's data must be on disk before the
	 * daemon's (fsync'ed) metadata refers to it. */
	root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return err_set(reterr, -errno, "opening the layer directory: %m");
	if (syncfs(root_fd) < 0) {
		r = -errno;
		close(root_fd);
		return err_set(reterr, r, "syncing the layer: %m");
	}
	close(root_fd);
	return 0;
}

/* Moves fd to the fixed number target (which may be taken by one of the other fds we still need:
 * everything is first duplicated above the range in use). */
static int worker_move_fds(int tar_fd, int result_fd)
{
	int t = fcntl(tar_fd, F_DUPFD_CLOEXEC, 10), p = fcntl(result_fd, F_DUPFD_CLOEXEC, 10);

	if (t < 0 || p < 0)
		return -errno;
	if (dup3(t, WORKER_TAR_FD, O_CLOEXEC) < 0 || dup3(p, WORKER_RESULT_FD, O_CLOEXEC) < 0)
		return -errno;
	if (close_range(WORKER_RESULT_FD + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0)
		return -errno;
	return 0;
}

/* The worker process: extracts tar_fd into dir_fd and reports through result_fd. Never returns. */
static _Noreturn void import_worker_main(int tar_fd, int result_fd, int dir_fd, pid_t parent)
{
	struct import_result res = { 0 };
	struct sigaction sa = { .sa_handler = SIG_DFL };
	char *err = NULL;
	sigset_t none;
	int r;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(EXIT_FAILURE);
	/* The daemon's handlers and mask mean nothing here. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sigemptyset(&none) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		_exit(EXIT_FAILURE);
	if (fchdir(dir_fd) < 0 || worker_move_fds(tar_fd, result_fd) < 0)
		_exit(EXIT_FAILURE);

	r = worker_run(&res, &err);
	res.r = r < 0 ? r : 0;
	if (r < 0)
		snprintf(res.msg, sizeof(res.msg), "%s", err ? err : strerror(-r));
	if (write_all(WORKER_RESULT_FD, &res, sizeof(res)) < 0)
		_exit(EXIT_FAILURE);
	_exit(EXIT_SUCCESS);
}

/* Reads and validates the worker's result after it exited. */
static int import_read_result(struct import *imp, const siginfo_t *si, struct import_result *res, char **reterr)
{
	ssize_t n;

	if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
		return err_set(reterr, -EIO, "import worker was killed by signal %d", si->si_status);
	if (si->si_code != CLD_EXITED || si->si_status != 0)
		return err_set(reterr, -EIO, "import worker failed (exit status %d)", si->si_status);
	do
		n = read(imp->result_fd, res, sizeof(*res));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*res))
		return err_set(reterr, -EIO, "import worker exited without a result");
	res->msg[sizeof(res->msg) - 1] = '\0';
	res->digest[HEX_LEN] = '\0';
	if (res->r < 0) {
		int r = res->r >= -4095 ? res->r : -EIO;
		return err_set(reterr, r, "%s", res->msg[0] ? res->msg : "import failed");
	}
	if (!is_hex_string(res->digest, HEX_LEN, HEX_LEN) || res->size > INT64_MAX)
		return err_set(reterr, -EIO, "import worker sent a malformed result");
	return 0;
}

/* Turns a finished extraction into a layer, an image and a name. */
static int import_commit(struct import *imp, const struct import_result *res, json_t **ret_info, char **reterr)
{
	struct image_store *s = imp->store;
	_cleanup_(image_freep) struct image *img = NULL;
	_cleanup_free_ char *layer_dir = NULL, *id = NULL;
	json_auto_t *old_name = NULL;
	struct image *existing, *target;
	bool new_image = false;
	struct timespec now;
	char created[64];
	json_t *info;
	int r;

	if (asprintf(&layer_dir, "%s/%s", s->layers_dir, res->digest) < 0)
		return -ENOMEM;
	/* A layer that exists already is the same content (same tarball digest): keep it. Without
	 * RENAME_NOREPLACE (EINVAL), the existence check and rename are still safe: only this
	 * single-threaded loop creates layer directories. */
	r = renameat2(AT_FDCWD, imp->tmpdir, AT_FDCWD, layer_dir, RENAME_NOREPLACE);
	if (r < 0 && errno == EINVAL) {
		if (access(layer_dir, F_OK) == 0)
			errno = EEXIST;
		else
			r = rename(imp->tmpdir, layer_dir);
	}
	if (r < 0) {
		if (errno != EEXIST)
			return err_set(reterr, -errno, "moving the layer into %s: %m", layer_dir);
		store_discard_tree(s, imp->tmpdir);
	}

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->layers = calloc(2, sizeof(char *));
	img->env = calloc(2, sizeof(char *));
	if (!img->layers || !img->env || asprintf(&img->layers[0], DIGEST_PREFIX "%s", res->digest) < 0 ||
	    !(img->env[0] = strdup(DEFAULT_PATH)))
		goto nomem;
	img->size = res->size;
	r = image_compute_id(img, &id);
	if (r < 0)
		goto fail;

	existing = store_find_id(s, id);
	if (existing) {
		target = existing;
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		format_rfc3339(&now, created, sizeof(created));
		img->id = TAKE_PTR(id);
		img->created_at = strdup(created);
		if (!img->created_at)
			goto nomem;
		r = store_write_image(s, img, reterr);
		if (r < 0)
			goto fail;
		r = store_add_image(s, img);
		if (r < 0)
			goto fail;
		target = TAKE_PTR(img);
		new_image = true;
	}

	old_name = json_incref(json_object_get(s->names, imp->name));
	if (json_object_set_new(s->names, imp->name, json_string(target->id)) < 0)
		goto nomem_named;
	r = store_save_names(s, reterr);
	if (r < 0) {
		if (old_name)
			json_object_set(s->names, imp->name, old_name);
		else
			json_object_del(s->names, imp->name);
		goto fail_named;
	}
	info = store_image_info(s, target);
	if (!info)
		return -ENOMEM;
	*ret_info = info;
	return 0;

nomem_named:
	r = -ENOMEM;
fail_named:
	if (new_image)
		store_delete_image(s, target, NULL);
	return r;
nomem:
	r = -ENOMEM;
fail:
	/* The layer was moved into place for an image that does not exist. */
	if (img && img->layers && img->layers[0] && !store_layer_used(s, img->layers[0], NULL))
		store_delete_layer(s, img->layers[0]);
	return r;
}

/* The worker's pidfd became readable: it exited. Reap it, commit, and tell the requester. */
static void import_on_exit(evutil_socket_t fd, short what, void *userdata)
{
	_cleanup_(import_freep) struct import *imp = userdata;
	struct image_store *s = imp->store;
	_cleanup_free_ char *err = NULL;
	json_auto_t *info = NULL;
	struct import_result res = { 0 };
	image_import_done_fn done;
	siginfo_t si = { 0 };
	void *done_userdata;
	int r;

	for (struct import **p = &s->imports; *p; p = &(*p)->next)
		if (*p == imp) {
			*p = imp->next;
			break;
		}

	while ((r = waitid(P_PIDFD, (id_t)imp->pidfd, &si, WEXITED)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = err_set(&err, -errno, "waiting for the import worker: %m");
	} else {
		imp->pid = 0;
		r = import_read_result(imp, &si, &res, &err);
		if (r >= 0)
			r = import_commit(imp, &res, &info, &err);
	}
	if (r < 0 && !err)
		err_set(&err, r, "import failed: %m");
	if (r < 0)
		log_info("image store: import of %s failed: %s", imp->name, err ? err : strerror(-r));

	done = imp->done;
	done_userdata = imp->userdata;
	/* Free the import (and remove what is left of its directory) before the callback, which
	 * may well free the store. */
	import_free(TAKE_PTR(imp));
	if (done)
		done(r, r < 0 ? NULL : info, r < 0 ? (err ? err : "import failed") : NULL, done_userdata);
}

int image_import_start(struct image_store *s, int tar_fd, const char *name, image_import_done_fn done,
		       void *userdata, char **reterr)
{
	_cleanup_close_ int fd = tar_fd, dir_fd = -1, pipe_rd = -1, pipe_wr = -1;
	_cleanup_(import_freep) struct import *imp = NULL;
	_cleanup_free_ char *norm = NULL;
	pid_t parent = getpid(), pid;
	int pipefd[2], r;
	char rnd[33];

	r = image_name_normalize(name, &norm, reterr);
	if (r < 0)
		return r;
	imp = calloc(1, sizeof(*imp));
	if (!imp)
		return -ENOMEM;
	imp->pidfd = imp->result_fd = -1;
	imp->store = s;
	r = random_hex(rnd, 16);
	if (r < 0)
		return err_set(reterr, r, "getrandom: %m");
	if (asprintf(&imp->tmpdir, "%s/import-%s", s->tmp_dir, rnd) < 0) {
		imp->tmpdir = NULL;
		return -ENOMEM;
	}
	if (mkdir(imp->tmpdir, 0755) < 0) {
		r = -errno;
		free(TAKE_PTR(imp->tmpdir));
		return err_set(reterr, r, "creating a directory for the import: %m");
	}
	dir_fd = open(imp->tmpdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0)
		return err_set(reterr, -errno, "opening %s: %m", imp->tmpdir);
	/* The layer root's mode when the tarball has no "./" entry (mkdir applied the umask). */
	if (fchmod(dir_fd, 0755) < 0)
		return err_set(reterr, -errno, "chmod %s: %m", imp->tmpdir);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(reterr, -errno, "pipe: %m");
	pipe_rd = pipefd[0];
	pipe_wr = pipefd[1];

	pid = fork();
	if (pid < 0)
		return err_set(reterr, -errno, "starting the import worker: %m");
	if (pid == 0)
		import_worker_main(fd, pipe_wr, dir_fd, parent);
	imp->pid = pid;
	pipe_wr = safe_close(pipe_wr);

	/* The child is unreaped, so its pid cannot be reused before pidfd_open(). */
	imp->pidfd = pidfd_open(pid, 0);
	if (imp->pidfd < 0)
		return err_set(reterr, -errno, "pidfd_open: %m");
	r = fd_nonblock(pipe_rd, true);
	if (r < 0)
		return err_set(reterr, r, "pipe: %m");
	imp->result_fd = TAKE_FD(pipe_rd);
	/* Only the pidfd is watched: the worker writes its result (less than PIPE_BUF) before it
	 * exits, so once it has exited the pipe holds all there is to read. */
	imp->ev = event_new(s->base, imp->pidfd, EV_READ, import_on_exit, imp);
	if (!imp->ev || event_add(imp->ev, NULL) < 0)
		return err_set(reterr, -ENOMEM, "watching the import worker failed");
	imp->name = TAKE_PTR(norm);
	imp->done = done;
	imp->userdata = userdata;
	imp->next = s->imports;
	s->imports = TAKE_PTR(imp);
	return 0;
}

void image_import_cancel_callbacks(struct image_store *s, void *userdata)
{
	for (struct import *imp = s->imports; imp; imp = imp->next)
		if (imp->userdata == userdata)
			imp->done = NULL;
}
