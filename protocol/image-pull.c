/* image.pull's messages: params (with the registry credentials cctl sends), result and the
 * progress events. */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "protocol/field.h"
#include "protocol/image-pull.h"

int proto_pull_params_decode(json_t *params, struct proto_pull_params *ret, char **reterr)
{
	static const char *const keys[] = { "ref", "platform", "auth", NULL };
	static const char *const auth_keys[] = { "username", "password", NULL };
	memset(ret, 0, sizeof(*ret));
	int r;
	if (!json_is_object(params))
		return err_set(reterr, -EINVAL, PROTO_M_IMAGE_PULL " params must be an object");
	if ((r = field_check_known(params, keys, NULL, PROTO_M_IMAGE_PULL " params", reterr)) < 0 ||
	    (r = field_get_string(params, "ref", true, &ret->ref, reterr)) < 0 ||
	    (r = field_get_string(params, "platform", false, &ret->platform, reterr)) < 0)
		return r;
	json_t *auth = json_object_get(params, "auth");
	if (auth && !json_is_null(auth)) {
		if (!json_is_object(auth))
			return err_set(reterr, -EINVAL, "\"auth\" must be an object");
		if ((r = field_check_known(auth, auth_keys, NULL, PROTO_M_IMAGE_PULL " auth", reterr)) < 0 ||
		    (r = field_get_string(auth, "username", true, &ret->username, reterr)) < 0 ||
		    (r = field_get_string(auth, "password", true, &ret->password, reterr)) < 0)
			return r;
		if (strlen(ret->username) > PROTO_PULL_AUTH_MAX || strlen(ret->password) > PROTO_PULL_AUTH_MAX ||
		    strchr(ret->username, ':'))
			return err_set(reterr, -EINVAL, "\"auth\": invalid username or password");
	}
	if (!*ret->ref)
		return err_set(reterr, -EINVAL, "\"ref\" must not be empty");
	return 0;
}

json_t *proto_pull_params_encode(const struct proto_pull_params *p)
{
	json_t *o = json_pack("{s:s}", "ref", p->ref);
	if (o && p->platform)
		json_object_set_new(o, "platform", json_string(p->platform));
	if (o && p->username)
		json_object_set_new(o, "auth", json_pack("{s:s, s:s}", "username", p->username, "password",
							 p->password ? p->password : ""));
	return o;
}

json_t *proto_pull_result_encode(const struct proto_pull_result *r)
{
	return json_pack("{s:s, s:s, s:s?, s:s, s:b}", "id", r->id, "digest", r->digest, "name", r->name,
			 "repo_digest", r->repo_digest, "downloaded", r->downloaded);
}

int proto_pull_result_decode(json_t *result, struct proto_pull_result *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int r;
	if (!json_is_object(result))
		return err_set(reterr, -EINVAL, PROTO_M_IMAGE_PULL " result must be an object");
	if ((r = field_get_string(result, "id", true, &ret->id, reterr)) < 0 ||
	    (r = field_get_string(result, "digest", true, &ret->digest, reterr)) < 0 ||
	    (r = field_get_string(result, "name", false, &ret->name, reterr)) < 0 ||
	    (r = field_get_string(result, "repo_digest", false, &ret->repo_digest, reterr)) < 0 ||
	    (r = field_get_bool(result, "downloaded", &ret->downloaded, reterr)) < 0)
		return r;
	return 0;
}

json_t *proto_pull_progress_encode(const struct proto_pull_progress *p)
{
	return json_pack("{s:s?, s:s, s:I, s:I}", "layer", p->layer, "status", p->status, "current",
			 (json_int_t)p->current, "total", (json_int_t)p->total);
}

int proto_pull_progress_decode(json_t *params, struct proto_pull_progress *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int64_t cur = 0, total = 0;
	int r;
	if (!json_is_object(params))
		return err_set(reterr, -EINVAL, PROTO_EV_PULL_PROGRESS " params must be an object");
	if ((r = field_get_string(params, "layer", false, &ret->layer, reterr)) < 0 ||
	    (r = field_get_string(params, "status", true, &ret->status, reterr)) < 0 ||
	    (r = field_get_int(params, "current", 0, INT64_MAX, &cur, reterr)) < 0 ||
	    (r = field_get_int(params, "total", 0, INT64_MAX, &total, reterr)) < 0)
		return r;
	ret->current = (uint64_t)cur;
	ret->total = (uint64_t)total;
	return 0;
}

int proto_login_params_decode(json_t *params, struct proto_login_params *ret, char **reterr)
{
	static const char *const keys[] = { "server", "username", "password", NULL };
	memset(ret, 0, sizeof(*ret));
	int r;
	if (!json_is_object(params))
		return err_set(reterr, -EINVAL, PROTO_M_REGISTRY_LOGIN " params must be an object");
	if ((r = field_check_known(params, keys, NULL, PROTO_M_REGISTRY_LOGIN " params", reterr)) < 0 ||
	    (r = field_get_string(params, "server", true, &ret->server, reterr)) < 0 ||
	    (r = field_get_string(params, "username", true, &ret->username, reterr)) < 0 ||
	    (r = field_get_string(params, "password", true, &ret->password, reterr)) < 0)
		return r;
	if (!*ret->server || strlen(ret->server) > 255 || strpbrk(ret->server, "/ \t\r\n@"))
		return err_set(reterr, -EINVAL, "\"server\": expected host[:port]");
	if (!*ret->username || strlen(ret->username) > PROTO_PULL_AUTH_MAX || strchr(ret->username, ':') ||
	    strlen(ret->password) > PROTO_PULL_AUTH_MAX)
		return err_set(reterr, -EINVAL, "invalid username or password");
	return 0;
}

json_t *proto_login_params_encode(const struct proto_login_params *p)
{
	return json_pack("{s:s, s:s, s:s}", "server", p->server, "username", p->username, "password", p->password);
}
