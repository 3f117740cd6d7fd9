#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "protocol/cp.h"
#include "protocol/field.h"

unsigned proto_cp_fds(const char *method)
{
	return strcmp(method, PROTO_M_CP_FROM) == 0 || strcmp(method, PROTO_M_CP_TO) == 0 ||
	       strcmp(method, PROTO_M_EXPORT) == 0;
}

int proto_cp_params_decode(const char *method, json_t *params, unsigned nfds, struct proto_cp_params *ret,
			   char **reterr)
{
	static const char *const ref_keys[] = { "id", NULL };
	static const char *const from_keys[] = { "id", "path", "follow_link", NULL };
	static const char *const to_keys[] = { "id", "path", "archive", NULL };
	bool with_path = strcmp(method, PROTO_M_CP_STAT) == 0 || strcmp(method, PROTO_M_CP_FROM) == 0,
	     to = strcmp(method, PROTO_M_CP_TO) == 0;
	unsigned want = proto_cp_fds(method);
	char what[64];
	int r;

	memset(ret, 0, sizeof(*ret));
	snprintf(what, sizeof(what), "%s params", method);
	if (nfds != want)
		return err_set(reterr, -EBADF, "%s takes %u file descriptor%s, got %u", method, want, want == 1 ? "" : "s",
			       nfds);
	if ((r = field_check_known(params, with_path ? from_keys : to ? to_keys : ref_keys, NULL, what, reterr)) < 0 ||
	    (r = field_get_string(params, "id", true, &ret->ref, reterr)) < 0)
		return r;
	if (!with_path && !to)
		return 0;
	if ((r = field_get_string(params, "path", true, &ret->path, reterr)) < 0 ||
	    (with_path && (r = field_get_bool(params, "follow_link", &ret->follow_link, reterr)) < 0) ||
	    (to && (r = field_get_bool(params, "archive", &ret->archive, reterr)) < 0))
		return r;
	if (!*ret->path)
		return err_set(reterr, -EINVAL, "\"path\" must not be empty");
	if (strlen(ret->path) >= PROTO_CP_MAX_PATH)
		return err_set(reterr, -EINVAL, "\"path\" is longer than %d bytes", PROTO_CP_MAX_PATH - 1);
	return 0;
}

json_t *proto_cp_params_encode(const char *method, const struct proto_cp_params *p)
{
	json_t *o = json_pack("{s:s}", "id", p->ref);

	if (!o || !p->path)
		return o;
	json_object_set_new(o, "path", json_string(p->path));
	if (strcmp(method, PROTO_M_CP_TO) == 0)
		json_object_set_new(o, "archive", json_boolean(p->archive));
	else
		json_object_set_new(o, "follow_link", json_boolean(p->follow_link));
	return o;
}

json_t *proto_cp_stat_encode(const struct proto_cp_stat *s)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:s}", "name", s->name, "size", (json_int_t)s->size, "mode",
			 (json_int_t)s->mode, "mtime", (json_int_t)s->mtime, "link_target",
			 s->link_target ? s->link_target : "");
}

int proto_cp_stat_decode(json_t *result, struct proto_cp_stat *ret, char **reterr)
{
	int64_t size = 0, mode = 0, mtime = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = field_get_string(result, "name", true, &ret->name, reterr)) < 0 ||
	    (r = field_get_int(result, "size", 0, INT64_MAX, &size, reterr)) < 0 ||
	    (r = field_get_int(result, "mode", 0, UINT32_MAX, &mode, reterr)) < 0 ||
	    (r = field_get_int(result, "mtime", INT64_MIN, INT64_MAX, &mtime, reterr)) < 0 ||
	    (r = field_get_string(result, "link_target", false, &ret->link_target, reterr)) < 0)
		return r;
	ret->size = (uint64_t)size;
	ret->mode = (uint32_t)mode;
	ret->mtime = mtime;
	return 0;
}

json_t *proto_cp_size_encode(uint64_t size)
{
	return json_pack("{s:I}", "size", (json_int_t)size);
}

json_t *proto_diff_change_encode(char kind, const char *path)
{
	char k[2] = { kind, '\0' };
	json_t *p = json_string(path);

	/* A name that is not UTF-8 goes with its other bytes as '?' (JSON strings are UTF-8). */
	if (!p) {
		char *copy = strdup(path);
		if (!copy)
			return NULL;
		for (char *c = copy; *c; c++)
			if ((unsigned char)*c >= 0x80)
				*c = '?';
		p = json_string(copy);
		free(copy);
	}
	return p ? json_pack("{s:s, s:o}", "kind", k, "path", p) : NULL;
}

int proto_diff_change_decode(json_t *item, char *ret_kind, const char **ret_path, char **reterr)
{
	const char *kind = NULL;
	int r;

	if (!json_is_object(item))
		return err_set(reterr, -EINVAL, "a change must be an object");
	if ((r = field_get_string(item, "kind", true, &kind, reterr)) < 0 ||
	    (r = field_get_string(item, "path", true, ret_path, reterr)) < 0)
		return r;
	if (strlen(kind) != 1 || !strchr("ACD", kind[0]))
		return err_set(reterr, -EINVAL, "unknown change kind \"%s\"", kind);
	*ret_kind = kind[0];
	return 0;
}

json_t *proto_diff_records_to_result(const char *buf, size_t len, char **reterr)
{
	json_t *changes = json_array();

	if (!changes) {
		err_set(reterr, -ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t off = 0; off < len;) {
		const char *rec = buf + off, *end = memchr(rec, '\0', len - off);
		if (!end || end - rec < 2 || !strchr("ACD", rec[0]) || rec[1] != '/') {
			json_decref(changes);
			err_set(reterr, -EBADMSG, "malformed change record at byte %zu", off);
			return NULL;
		}
		json_t *c = proto_diff_change_encode(rec[0], rec + 1);
		if (!c || json_array_append_new(changes, c) < 0) {
			json_decref(changes);
			err_set(reterr, -ENOMEM, "out of memory");
			return NULL;
		}
		off = (size_t)(end - buf) + 1;
	}
	return json_pack("{s:o}", "changes", changes);
}

int proto_commit_params_decode(json_t *params, unsigned nfds, struct proto_commit_params *ret, char **reterr)
{
	static const char *const keys[] = { "id", "repo", "message", "author", "pause", "config", NULL };
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->pause = true;
	if (nfds != 0)
		return err_set(reterr, -EBADF, "%s takes no file descriptors, got %u", PROTO_M_COMMIT, nfds);
	if ((r = field_check_known(params, keys, NULL, PROTO_M_COMMIT " params", reterr)) < 0 ||
	    (r = field_get_string(params, "id", true, &ret->ref, reterr)) < 0 ||
	    (r = field_get_string(params, "repo", false, &ret->repo, reterr)) < 0 ||
	    (r = field_get_string(params, "message", false, &ret->message, reterr)) < 0 ||
	    (r = field_get_string(params, "author", false, &ret->author, reterr)) < 0 ||
	    (r = field_get_bool(params, "pause", &ret->pause, reterr)) < 0)
		return r;
	ret->config = json_object_get(params, "config");
	if (json_is_null(ret->config))
		ret->config = NULL;
	if (ret->config && !json_is_object(ret->config))
		return err_set(reterr, -EINVAL, "parameter \"config\" must be an object");
	if (ret->repo && !*ret->repo)
		ret->repo = NULL;
	return 0;
}

json_t *proto_commit_params_encode(const struct proto_commit_params *p)
{
	json_t *o = json_pack("{s:s, s:b}", "id", p->ref, "pause", p->pause);

	if (!o)
		return NULL;
	if ((p->repo && json_object_set_new(o, "repo", json_string(p->repo)) < 0) ||
	    (p->message && json_object_set_new(o, "message", json_string(p->message)) < 0) ||
	    (p->author && json_object_set_new(o, "author", json_string(p->author)) < 0) ||
	    (p->config && json_object_set(o, "config", p->config) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}
