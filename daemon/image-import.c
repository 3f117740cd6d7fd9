/* Imports: a root filesystem tarball from a client is unpacked by a confined worker into a layer,
 * its bytes kept as the layer's blob; then an OCI image config is written for it (with the
 * settings of --change) and the image registered through the same path as a manifest's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/imagename.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/image-store-internal.h"
#include "daemon/image-unpack.h"
#include "image/blobs.h"
#include "image/config.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct import {
	struct import *next;
	struct image_store *store;
	char *name;           /* normalized */
	struct image *config; /* the settings the import was given, or NULL */
	image_import_done_fn done;
	void *userdata;
};

/* Sets each KEY=VALUE of add in *env, replacing an entry with the same key. */
static int import_merge_env(char ***env, char **add)
{
	for (char **a = add; *a; a++) {
		size_t klen = strcspn(*a, "="), n = 0;
		bool replaced = false;
		for (; (*env)[n]; n++)
			if (strncmp((*env)[n], *a, klen + 1) == 0) {
				char *dup = strdup(*a);
				if (!dup)
					return -ENOMEM;
				free((*env)[n]);
				(*env)[n] = dup;
				replaced = true;
			}
		if (replaced)
			continue;
		char **nv = reallocarray(*env, n + 2, sizeof(char *));
		if (!nv)
			return -ENOMEM;
		*env = nv;
		if (!(nv[n] = strdup(*a)))
			return -ENOMEM;
		nv[n + 1] = NULL;
	}
	return 0;
}

static void image_import_free(struct import *imp)
{
	if (!imp)
		return;
	free(imp->name);
	image_free(imp->config);
	free(imp);
}

static void image_import_freep(struct import **imp)
{
	image_import_free(*imp);
}

void image_import_free_all(struct image_store *s)
{
	while (s->imports) {
		struct import *imp = s->imports;
		s->imports = imp->next;
		image_import_free(imp);
	}
}

/* The settings of the new image: a default PATH with the import's Env over it, as docker import
 * --change ENV does, and the import's other settings. */
static int image_import_settings(struct import *imp, struct image *settings)
{
	struct image *c = imp->config;
	int r;

	settings->env = calloc(2, sizeof(char *));
	if (!settings->env || !(settings->env[0] = strdup(DEFAULT_PATH)))
		return -ENOMEM;
	if (!c)
		return 0;
	if (c->env && (r = import_merge_env(&settings->env, c->env)) < 0)
		return r;
	settings->cmd = TAKE_PTR(c->cmd);
	settings->entrypoint = TAKE_PTR(c->entrypoint);
	settings->workdir = TAKE_PTR(c->workdir);
	settings->user = TAKE_PTR(c->user);
	settings->stop_signal = TAKE_PTR(c->stop_signal);
	return 0;
}

/* Writes the config of the unpacked layer and registers the image under the import's name. */
static int image_import_commit(struct import *imp, const struct image_unpack_info *info, json_t **ret_info,
			       char **reterr)
{
	struct image_store *s = imp->store;
	struct image settings = { .id = NULL };
	_cleanup_free_ char *config = NULL;
	char created[64], config_digest[DIGEST_SIZE];
	const char *names[] = { imp->name, NULL };
	struct timespec now;
	int r;

	clock_gettime(CLOCK_REALTIME, &now);
	format_rfc3339(&now, created, sizeof(created));
	r = image_import_settings(imp, &settings);
	/* The same tarball with the same settings gives the image imported before (its config with
	 * that image's creation time is that image's), as a store that names content by its digest
	 * should; anything else is a new image created now. */
	for (size_t i = 0; r >= 0 && i < s->db.n_images; i++) {
		const struct image *old = s->db.images[i];
		char old_digest[DIGEST_SIZE];
		if (old->legacy || old->n_layers != 1 || strcmp(old->layers[0], info->diff_id) != 0)
			continue;
		r = image_config_build(&settings, info->diff_id, old->created_at, "Imported from -", &config);
		if (r >= 0 && image_digest_sha256(config, strlen(config), old_digest) >= 0 &&
		    strcmp(old_digest, old->id) == 0)
			break;
		free(TAKE_PTR(config));
	}
	if (r >= 0 && !config)
		r = image_config_build(&settings, info->diff_id, created, "Imported from -", &config);
	strv_free(settings.env);
	strv_free(settings.cmd);
	strv_free(settings.entrypoint);
	free(settings.workdir);
	free(settings.user);
	free(settings.stop_signal);
	if (r < 0)
		return r;
	r = image_blob_write(&s->db, config, strlen(config), config_digest, reterr);
	if (r < 0)
		return r;
	struct image_layer layer = {
		.diff_id = (char *)info->diff_id,
		.digest = (char *)info->digest,
		.media_type = (char *)info->media_type,
		.size = info->blob_size,
		.unpacked_size = info->size,
	};
	return image_store_commit(s, config_digest, &layer, 1, NULL, names, NULL, ret_info, reterr);
}

/* The worker is done: commit, and tell the requester. */
static void image_import_unpacked(struct image_store *s, int r, const struct image_unpack_info *info,
				  const char *errmsg, void *userdata)
{
	_cleanup_(image_import_freep) struct import *imp = userdata;
	_cleanup_free_ char *err = NULL;
	json_auto_t *result = NULL;
	image_import_done_fn done;
	void *done_userdata;

	for (struct import **p = &s->imports; *p; p = &(*p)->next)
		if (*p == imp) {
			*p = imp->next;
			break;
		}
	if (r < 0)
		err = strdup(errmsg ? errmsg : "import failed");
	else
		r = image_import_commit(imp, info, &result, &err);
	if (r < 0)
		log_info("image store: import of %s failed: %s", imp->name ? imp->name : "an image", err ? err : strerror(-r));
	done = imp->done;
	done_userdata = imp->userdata;
	/* Free the import before the callback, which may well free the store. */
	image_import_free(TAKE_PTR(imp));
	if (done)
		done(r, r < 0 ? NULL : result, r < 0 ? (err ? err : "import failed") : NULL, done_userdata);
}

int image_import_start(struct image_store *s, int tar_fd, const char *name, image_import_done_fn done,
		       void *userdata, char **reterr)
{
	return image_import_start_config(s, tar_fd, name, NULL, done, userdata, reterr);
}

int image_import_start_config(struct image_store *s, int tar_fd, const char *name, struct image *config,
			      image_import_done_fn done, void *userdata, char **reterr)
{
	_cleanup_(image_freep) struct image *cfg = config;
	_cleanup_close_ int fd = tar_fd;
	_cleanup_(image_import_freep) struct import *imp = NULL;
	_cleanup_free_ char *norm = NULL;
	int r;

	/* No name: the image is listed as <none>, as docker import without a reference. */
	if (name && (r = image_name_normalize(name, &norm, reterr)) < 0)
		return r;
	imp = calloc(1, sizeof(*imp));
	if (!imp)
		return -ENOMEM;
	imp->store = s;
	imp->name = TAKE_PTR(norm);
	imp->config = TAKE_PTR(cfg);
	imp->done = done;
	imp->userdata = userdata;
	r = image_unpack_start(s, TAKE_FD(fd), true, NULL, NULL, image_import_unpacked, imp, reterr);
	if (r < 0)
		return r;
	imp->next = s->imports;
	s->imports = TAKE_PTR(imp);
	return 0;
}

void image_import_cancel_callbacks(struct image_store *s, void *userdata)
{
	for (struct import *imp = s->imports; imp; imp = imp->next)
		if (imp->userdata == userdata)
			imp->done = NULL;
	image_manifest_cancel_callbacks(s, userdata);
}
