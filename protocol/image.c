/* The image messages: image.import params, image.list and image.remove (declared in
 * protocol/messages.h with the others). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/field.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

int proto_import_params_decode(json_t *params, unsigned nfds, struct proto_import_params *ret, char **reterr)
{
	static const char *const keys[] = { "name", "config", NULL };
	memset(ret, 0, sizeof(*ret));
	int r;
	if ((r = field_check_known(params, keys, NULL, PROTO_M_IMAGE_IMPORT " params", reterr)) < 0 ||
	    (r = field_get_string(params, "name", false, &ret->name, reterr)) < 0)
		return r;
	json_t *config = json_object_get(params, "config");
	if (config && !json_is_null(config)) {
		struct proto_image_config c;
		if ((r = proto_image_config_decode(config, &c, reterr)) < 0)
			return r;
		proto_image_config_done(&c);
		ret->config = config;
	}
	if (nfds != 1)
		return err_set(reterr, -EBADF, "image.import needs exactly one fd (the tarball), got %u fds", nfds);
	return 0;
}

json_t *proto_import_params_encode(const struct proto_import_params *p)
{
	return json_pack("{s:s*, s:O*}", "name", p->name, "config", p->config);
}

json_t *proto_image_info_encode(const struct proto_image_info *i)
{
	return json_pack("{s:s, s:O, s:O, s:s, s:I, s:O*, s:O*}", "id", i->id, "names", i->names, "layers", i->layers,
			 "created_at", i->created_at ? i->created_at : "", "size", (json_int_t)i->size, "repo_digests",
			 i->repo_digests, "labels", i->labels);
}

int proto_image_info_decode(json_t *obj, struct proto_image_info *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int64_t size = 0;
	int r;
	if (!json_is_object(obj))
		return err_set(reterr, -EINVAL, "image info must be an object");
	if ((r = field_get_string(obj, "id", true, &ret->id, reterr)) < 0 ||
	    (r = field_get_string(obj, "created_at", false, &ret->created_at, reterr)) < 0 ||
	    (r = field_get_int(obj, "size", 0, INT64_MAX, &size, reterr)) < 0)
		return r;
	ret->names = json_object_get(obj, "names");
	ret->layers = json_object_get(obj, "layers");
	if (!json_is_array(ret->names) || !json_is_array(ret->layers))
		return err_set(reterr, -EINVAL, "image info needs \"names\" and \"layers\" arrays");
	ret->repo_digests = json_object_get(obj, "repo_digests");
	ret->labels = json_object_get(obj, "labels");
	if ((ret->repo_digests && !json_is_array(ret->repo_digests)) || (ret->labels && !json_is_object(ret->labels)))
		return err_set(reterr, -EINVAL, "image info: \"repo_digests\" must be an array, \"labels\" an object");
	ret->size = (uint64_t)size;
	return 0;
}

json_t *proto_image_list_encode(json_t *infos)
{
	return json_pack("{s:o}", "images", infos);
}

json_t *proto_image_list_items(json_t *result)
{
	json_t *a = json_object_get(result, "images");
	return json_is_array(a) ? a : NULL;
}

int proto_image_remove_params_decode(json_t *params, struct proto_image_remove_params *ret, char **reterr)
{
	static const char *const keys[] = { "name", "force", NULL };
	memset(ret, 0, sizeof(*ret));
	int r;
	if ((r = field_check_known(params, keys, NULL, PROTO_M_IMAGE_REMOVE " params", reterr)) < 0 ||
	    (r = field_get_string(params, "name", true, &ret->name, reterr)) < 0 ||
	    (r = field_get_bool(params, "force", &ret->force, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_image_remove_params_encode(const struct proto_image_remove_params *p)
{
	return json_pack("{s:s, s:b}", "name", p->name, "force", p->force);
}

json_t *proto_image_remove_result_encode(json_t *removed)
{
	return json_pack("{s:o}", "removed", removed ? removed : json_array());
}

json_t *proto_image_remove_result_items(json_t *result)
{
	json_t *a = json_object_get(result, "removed");
	return json_is_array(a) ? a : NULL;
}
