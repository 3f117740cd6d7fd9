/* The image store's methods: see image-store.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "protocol/field.h"
#include "protocol/image-store.h"

int proto_image_ref_params_decode(const char *method, json_t *params, struct proto_image_ref_params *ret, char **reterr)
{
	static const char *const keys[] = {"name", NULL};
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = field_check_known(params, keys, NULL, method, reterr)) < 0 ||
	    (r = field_get_string(params, "name", true, &ret->name, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_image_ref_params_encode(const struct proto_image_ref_params *p)
{
	return json_pack("{s:s}", "name", p->name);
}

int proto_image_tag_params_decode(json_t *params, struct proto_image_tag_params *ret, char **reterr)
{
	static const char *const keys[] = {"source", "target", NULL};
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = field_check_known(params, keys, NULL, PROTO_M_IMAGE_TAG " params", reterr)) < 0 ||
	    (r = field_get_string(params, "source", true, &ret->source, reterr)) < 0 ||
	    (r = field_get_string(params, "target", true, &ret->target, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_image_tag_params_encode(const struct proto_image_tag_params *p)
{
	return json_pack("{s:s, s:s}", "source", p->source, "target", p->target);
}

int proto_image_prune_params_decode(json_t *params, struct proto_image_prune_params *ret, char **reterr)
{
	static const char *const keys[] = {"all", NULL};
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!params)
		return 0;
	if ((r = field_check_known(params, keys, NULL, PROTO_M_IMAGE_PRUNE " params", reterr)) < 0 ||
	    (r = field_get_bool(params, "all", &ret->all, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_image_prune_params_encode(const struct proto_image_prune_params *p)
{
	return json_pack("{s:b}", "all", p->all);
}

json_t *proto_df_row_encode(const struct proto_df_row *row)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "total", (json_int_t)row->total, "active", (json_int_t)row->active,
			 "size", (json_int_t)row->size, "reclaimable", (json_int_t)row->reclaimable);
}

int proto_df_row_decode(json_t *o, struct proto_df_row *ret, char **reterr)
{
	int64_t total = 0, active = 0, size = 0, reclaimable = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(o))
		return err_set(reterr, -EINVAL, "a system.df row must be an object");
	if ((r = field_get_int(o, "total", 0, UINT32_MAX, &total, reterr)) < 0 ||
	    (r = field_get_int(o, "active", 0, UINT32_MAX, &active, reterr)) < 0 ||
	    (r = field_get_int(o, "size", 0, INT64_MAX, &size, reterr)) < 0 ||
	    (r = field_get_int(o, "reclaimable", 0, INT64_MAX, &reclaimable, reterr)) < 0)
		return r;
	*ret = (struct proto_df_row){ (unsigned)total, (unsigned)active, (uint64_t)size, (uint64_t)reclaimable };
	return 0;
}
