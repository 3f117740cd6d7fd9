/* image.load and image.save params and results: see image-archive.h. */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/field.h"
#include "protocol/image-archive.h"
#include "protocol/protocol.h"

int proto_image_load_params_decode(json_t *params, unsigned nfds, char **reterr)
{
	static const char *const none[] = { NULL };
	int r = field_check_known(params, none, NULL, PROTO_M_IMAGE_LOAD " params", reterr);

	if (r < 0)
		return r;
	if (nfds != 1)
		return err_set(reterr, -EBADF, "image.load needs exactly one fd (the archive), got %u fds", nfds);
	return 0;
}

json_t *proto_image_load_result_encode(json_t *images)
{
	return json_pack("{s:o}", "images", images ? images : json_array());
}

int proto_loaded_image_decode(json_t *item, struct proto_loaded_image *ret, char **reterr)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(item))
		return err_set(reterr, -EINVAL, "a loaded image must be an object");
	if ((r = field_get_string(item, "id", true, &ret->id, reterr)) < 0)
		return r;
	ret->names = json_object_get(item, "names");
	if (!json_is_array(ret->names))
		return err_set(reterr, -EINVAL, "a loaded image needs a \"names\" array");
	for (size_t i = 0; i < json_array_size(ret->names); i++)
		if (!json_is_string(json_array_get(ret->names, i)))
			return err_set(reterr, -EINVAL, "a loaded image's names must be strings");
	return 0;
}

json_t *proto_image_load_result_items(json_t *result, char **reterr)
{
	json_t *a = json_object_get(result, "images");
	struct proto_loaded_image li;

	if (!json_is_array(a)) {
		err_set(reterr, -EINVAL, "the result has no \"images\" array");
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(a); i++)
		if (proto_loaded_image_decode(json_array_get(a, i), &li, reterr) < 0)
			return NULL;
	return a;
}

int proto_image_save_params_decode(json_t *params, unsigned nfds, struct proto_image_save_params *ret,
				   char **reterr)
{
	static const char *const keys[] = { "names", NULL };
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = field_check_known(params, keys, NULL, PROTO_M_IMAGE_SAVE " params", reterr)) < 0 ||
	    (r = field_get_strv(params, "names", PROTO_SAVE_MAX_NAMES, &ret->names, reterr)) < 0)
		return r;
	if (!ret->names || !ret->names[0]) {
		proto_image_save_params_done(ret);
		return err_set(reterr, -EINVAL, "image.save needs \"names\": at least one image");
	}
	if (nfds != 1) {
		proto_image_save_params_done(ret);
		return err_set(reterr, -EBADF, "image.save needs exactly one fd (for the archive), got %u fds", nfds);
	}
	return 0;
}

json_t *proto_image_save_params_encode(const struct proto_image_save_params *p)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (char **n = p->names; n && *n; n++)
		if (json_array_append_new(a, json_string(*n)) < 0) {
			json_decref(a);
			return NULL;
		}
	return json_pack("{s:o}", "names", a);
}

void proto_image_save_params_done(struct proto_image_save_params *p)
{
	strv_free(p->names);
	p->names = NULL;
}
