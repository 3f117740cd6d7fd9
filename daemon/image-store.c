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
 * loop nor run with the daemon's full privileges; see image-worker.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"
#include "daemon/image-store.h"
#include "daemon/image-trash.h"
#include "daemon/image-worker.h"
#include "protocol/messages.h"

#define DIGEST_PREFIX "sha256:"
#define HEX_LEN 64
_Static_assert(HEX_LEN == IMAGE_WORKER_HEX_LEN, "the worker reports sha256 digests in hex");
#define ID_PREFIX_MIN 4
#define CONFIG_MAX (1024 * 1024)
#define REPOSITORIES_MAX (16 * 1024 * 1024)
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct import {
	struct import *next;
	struct image_store *store;
	struct pidref proc; /* the worker, until reaped */
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
	int r;

	if (!imp)
		return;
	if (imp->ev)
		event_free(imp->ev);
	/* Killed, it dies at once: extraction holds nothing that could keep it. */
	if (pidref_is_set(&imp->proc) && (r = pidref_kill_and_wait(&imp->proc)) < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: killing import worker %d: %m", (int)imp->proc.pid);
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

/* Reads and validates the worker's result after it exited. */
static int import_read_result(struct import *imp, const siginfo_t *si, struct image_worker_result *res, char **reterr)
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
static int import_commit(struct import *imp, const struct image_worker_result *res, json_t **ret_info, char **reterr)
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
	struct image_worker_result res = { 0 };
	image_import_done_fn done;
	siginfo_t si = { 0 };
	void *done_userdata;
	int r;

	r = pidref_try_wait(&imp->proc, &si);
	if (r == 0) {
		imp = NULL; /* a spurious wakeup: it still runs, and stays listed */
		return;
	}
	for (struct import **p = &s->imports; *p; p = &(*p)->next)
		if (*p == imp) {
			*p = imp->next;
			break;
		}
	if (r < 0) {
		r = err_set(&err, r, "waiting for the import worker: %m");
	} else {
		pidref_done(&imp->proc);
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
	imp->proc = PIDREF_NULL;
	imp->result_fd = -1;
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

	int pidfd = -1;
	struct clone_args args = { .flags = CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD };
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return err_set(reterr, -errno, "starting the import worker: %m");
	if (pid == 0)
		image_worker_main(fd, pipe_wr, dir_fd, parent);
	imp->proc = (struct pidref){ .pid = pid, .pidfd = pidfd };
	pipe_wr = safe_close(pipe_wr);
	r = fd_nonblock(pipe_rd, true);
	if (r < 0)
		return err_set(reterr, r, "pipe: %m");
	imp->result_fd = TAKE_FD(pipe_rd);
	/* Only the pidfd is watched: the worker writes its result (less than PIPE_BUF) before it
	 * exits, so once it has exited the pipe holds all there is to read. */
	imp->ev = event_new(s->base, imp->proc.pidfd, EV_READ | EV_PERSIST, import_on_exit, imp);
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

size_t image_store_count(struct image_store *s)
{
	return s->n_images;
}
