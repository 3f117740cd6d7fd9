/* Removal: images and names as docker rmi removes them, and layers no image uses, whose files
 * are deleted in the background through the trash (image-trash.c). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "daemon/image-store-internal.h"
#include "daemon/image-trash.h"
#include "image/blobs.h"

/* Deletes a directory tree without blocking the loop: it is renamed into the trash (so it
 * disappears at once, and a crash half-way leaves the remains where the next open finds them)
 * and removed by a child process. */
void image_remove_tree(struct image_store *s, const char *path)
{
	int r = image_trash_put(s->trash, path);
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "image store: removing %s: %m", path);
}

void image_remove_layer(struct image_store *s, const char *digest)
{
	_cleanup_free_ char *path = NULL;

	if (image_db_layer_dir(&s->db, digest, &path) < 0)
		return;
	image_remove_tree(s, path);
}

/* Removes an image from memory and disk, and its layers that no other image uses. Names must
 * already be gone. */
int image_remove_image(struct image_store *s, struct image *img, char **reterr)
{
	int r = image_record_remove(&s->db, img, reterr);

	if (r < 0)
		return r;
	image_db_forget(&s->db, img);
	for (char **l = img->layers; *l; l++)
		if (!image_store_layer_busy(s, *l))
			image_remove_layer(s, *l);
	/* Its blobs, unless another image (or a manifest being added) names them. */
	if (!img->legacy)
		image_remove_blob(s, img->id);
	if (img->manifest_digest)
		image_remove_blob(s, img->manifest_digest);
	for (size_t i = 0; i < img->n_layers; i++)
		if (img->layer_info[i].digest)
			image_remove_blob(s, img->layer_info[i].digest);
	image_free(img);
	return 0;
}

/* Whether an image, or a manifest being added, names the blob. */
static bool image_remove_blob_used(struct image_store *s, const char *digest)
{
	for (size_t i = 0; i < s->db.n_images; i++) {
		const struct image *img = s->db.images[i];
		if (strcmp(img->id, digest) == 0 || (img->manifest_digest && strcmp(img->manifest_digest, digest) == 0))
			return true;
		for (size_t k = 0; k < img->n_layers; k++)
			if (img->layer_info[k].digest && strcmp(img->layer_info[k].digest, digest) == 0)
				return true;
	}
	return image_manifest_blob_pending(s, digest);
}

void image_remove_blob(struct image_store *s, const char *digest)
{
	_cleanup_free_ char *path = NULL;

	if (image_remove_blob_used(s, digest) || image_blob_path(&s->db, digest, &path) < 0)
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		log_errno(LOG_LEVEL_WARNING, -errno, "image store: removing %s: %m", path);
}

int image_remove_unused_blobs(struct image_store *s)
{
	_cleanup_closedir_ DIR *d = opendir(s->db.blobs_dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		char digest[DIGEST_SIZE];
		size_t len = strlen(de->d_name);

		if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
			/* A write_file_atomic() that did not finish. */
			if (unlinkat(dirfd(d), de->d_name, 0) < 0)
				log_errno(LOG_LEVEL_WARNING, -errno, "image store: removing %s: %m", de->d_name);
			continue;
		}
		if (len != HEX_LEN || !image_digest_is_hex(de->d_name, HEX_LEN, HEX_LEN))
			continue;
		snprintf(digest, sizeof(digest), DIGEST_PREFIX "%s", de->d_name);
		if (!image_remove_blob_used(s, digest)) {
			log_info("image store: removing unreferenced blob %s", digest);
			image_remove_blob(s, digest);
		}
	}
	return errno ? -errno : 0;
}

static bool image_remove_layer_pending(const char *diff_id, void *userdata)
{
	return image_manifest_layer_pending(userdata, diff_id);
}

/* Removes layer directories no image refers to (a crash between extracting a layer and writing
 * its image config leaves one behind). */
int image_remove_unused_layers(struct image_store *s)
{
	_cleanup_strv_free_ char **unused = NULL;
	int r = image_db_unused_layers(&s->db, image_remove_layer_pending, s, &unused);

	if (r < 0)
		return r;
	for (char **l = unused; *l; l++) {
		log_info("image store: removing unreferenced layer %s", *l);
		image_remove_layer(s, *l);
	}
	return 0;
}

void image_remove_collect(struct image_store *s, image_usage_fn usage, void *userdata)
{
	for (size_t i = 0; i < s->db.n_images;) {
		struct image *img = s->db.images[i];
		if (img->removed && (!usage || usage(img->id, userdata) == IMAGE_UNUSED) &&
		    image_remove_image(s, img, NULL) >= 0)
			continue; /* the last image took its place */
		i++;
	}
}

/* image_store_delete(); knows_running: usage tells running from stopped (else its "used" may be
 * either, and the message must not claim a running container). */
static int image_remove_ref(struct image_store *s, const char *ref, bool force, bool knows_running,
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
	image_remove_collect(s, usage, userdata);
	img = image_db_resolve(&s->db, ref, &name, reterr);
	/* A removed image kept for its containers answers to nothing but their lookups. */
	if (!img || img->removed) {
		if (img)
			err_set(reterr, -ENOENT, "no such image: %s", ref);
		return img ? -ENOENT : -errno;
	}
	use = usage ? usage(img->id, userdata) : IMAGE_UNUSED;

	/* One of several names: only that name goes. The image stays for the other names, so
	 * nothing a container needs is touched, and Docker does the same. */
	if (name && image_names_count(&s->db, img->id) > 1) {
		json_auto_t *old = json_incref(json_object_get(s->db.names, name));

		if (json_object_del(s->db.names, name) < 0)
			return -ENOMEM;
		r = image_names_save(&s->db, reterr);
		if (r < 0) {
			json_object_set(s->db.names, name, old);
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
	names = image_names_of(&s->db, img->id, &n);
	saved = json_deep_copy(s->db.names);
	if (!names || !saved)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(removed, json_string(names[i])) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		json_object_del(s->db.names, json_string_value(json_array_get(removed, i)));
	if (n > 0) {
		r = image_names_save(&s->db, reterr);
		if (r < 0) {
			json_decref(s->db.names);
			s->db.names = TAKE_PTR(saved);
			return r;
		}
	}
	if (json_array_append_new(removed, json_string(img->id)) < 0)
		return -ENOMEM;
	if (use == IMAGE_USED_STOPPED) {
		/* Forced while stopped containers use it: gone for users (as Docker's "Deleted"),
		 * but its record and layers stay for those containers until they are removed too. */
		img->removed = true;
		r = image_record_write(&s->db, img, reterr);
		if (r < 0) {
			img->removed = false;
			return r;
		}
		goto done;
	}
	r = image_remove_image(s, img, reterr);
	if (r < 0)
		return r;
done:
	if (ret_removed)
		*ret_removed = TAKE_PTR(removed);
	return 0;
}

int image_store_remove(struct image_store *s, const char *ref, int (*in_use)(const char *image_id, void *userdata),
		       void *userdata, json_t **ret_removed, char **reterr)
{
	return image_remove_ref(s, ref, false, false, in_use, userdata, ret_removed, reterr);
}

int image_store_delete(struct image_store *s, const char *ref, bool force, image_usage_fn usage, void *userdata,
		       json_t **ret_removed, char **reterr)
{
	return image_remove_ref(s, ref, force, true, usage, userdata, ret_removed, reterr);
}
