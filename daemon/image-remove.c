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
		if (!image_db_layer_used(&s->db, *l, NULL))
			image_remove_layer(s, *l);
	image_free(img);
	return 0;
}

/* Removes layer directories no image refers to (a crash between extracting a layer and writing
 * its image config leaves one behind). */
int image_remove_unused_layers(struct image_store *s)
{
	_cleanup_strv_free_ char **unused = NULL;
	int r = image_db_unused_layers(&s->db, NULL, NULL, &unused);

	if (r < 0)
		return r;
	for (char **l = unused; *l; l++) {
		log_info("image store: removing unreferenced layer %s", *l);
		image_remove_layer(s, *l);
	}
	return 0;
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
	img = image_db_resolve(&s->db, ref, &name, reterr);
	if (!img)
		return -errno;
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
