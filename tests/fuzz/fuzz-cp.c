/* Fuzz target for the copy methods' protocol (protocol/cp.c): the params of container.cp_stat,
 * cp_from, cp_to, export and diff as the daemon decodes them from a client, cp_stat's result as
 * cctl decodes it, and the records of a diff worker (which read names a container chose) as the
 * daemon turns them into container.diff's result, and container.commit's params. The first byte
 * picks what the rest is: 0-9 params (method, fds), 10-19 cp_stat's result, 20-21 commit's params
 * (fds), 30 and up diff records. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "protocol/cp.h"
#include "tests/fuzz/fuzz.h"

static const char *const methods[] = { PROTO_M_CP_STAT, PROTO_M_CP_FROM, PROTO_M_CP_TO, PROTO_M_EXPORT,
				       PROTO_M_DIFF };

/* Decoded params are what the method needs, and encode back to the same. */
static void fuzz_params(const char *method, unsigned nfds, const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct proto_cp_params p, q;
	char *err = NULL;

	if (!j)
		return;
	int r = proto_cp_params_decode(method, j, nfds, &p, &err);
	FUZZ_CHECK(r == 0 || (r < 0 && err));
	if (r == 0) {
		FUZZ_CHECK(p.ref && nfds == proto_cp_fds(method));
		bool with_path = strcmp(method, PROTO_M_CP_STAT) == 0 || strcmp(method, PROTO_M_CP_FROM) == 0 ||
				 strcmp(method, PROTO_M_CP_TO) == 0;
		FUZZ_CHECK(!with_path || (p.path && *p.path && strlen(p.path) < PROTO_CP_MAX_PATH));
		FUZZ_CHECK(with_path || !p.path);
		json_t *again = proto_cp_params_encode(method, &p);
		FUZZ_CHECK(again);
		char *err2 = NULL;
		FUZZ_CHECK(proto_cp_params_decode(method, again, nfds, &q, &err2) == 0);
		FUZZ_CHECK(strcmp(p.ref, q.ref) == 0 && (!p.path || strcmp(p.path, q.path) == 0));
		FUZZ_CHECK(p.follow_link == q.follow_link && p.archive == q.archive);
		free(err2);
		json_decref(again);
	}
	free(err);
	json_decref(j);
}

static void fuzz_stat(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct proto_cp_stat st;
	char *err = NULL;

	if (!j)
		return;
	if (proto_cp_stat_decode(j, &st, &err) == 0)
		FUZZ_CHECK(st.name);
	else
		FUZZ_CHECK(err);
	free(err);
	json_decref(j);
}

/* commit's params: a container, optional strings, config an object when given; and back. */
static void fuzz_commit(unsigned nfds, const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct proto_commit_params p, q;
	char *err = NULL;

	if (!j)
		return;
	int r = proto_commit_params_decode(j, nfds, &p, &err);
	FUZZ_CHECK(r == 0 || (r < 0 && err));
	if (r == 0) {
		FUZZ_CHECK(p.ref && nfds == 0 && (!p.config || json_is_object(p.config)) && (!p.repo || *p.repo));
		json_t *again = proto_commit_params_encode(&p);
		char *err2 = NULL;
		FUZZ_CHECK(again && proto_commit_params_decode(again, 0, &q, &err2) == 0);
		FUZZ_CHECK(strcmp(p.ref, q.ref) == 0 && p.pause == q.pause && !p.repo == !q.repo &&
			   !p.message == !q.message && !p.author == !q.author && !p.config == !q.config);
		free(err2);
		json_decref(again);
	}
	free(err);
	json_decref(j);
}

/* Every record becomes one change with its kind and path, or the whole set is refused. */
static void fuzz_records(const uint8_t *data, size_t size)
{
	char *err = NULL;
	json_t *res = proto_diff_records_to_result((const char *)data, size, &err);
	size_t records = 0;

	for (size_t i = 0; i < size; i++)
		records += data[i] == '\0';
	if (!res) {
		FUZZ_CHECK(err);
		free(err);
		return;
	}
	json_t *changes = json_object_get(res, "changes"), *item;
	size_t i;
	FUZZ_CHECK(json_is_array(changes) && json_array_size(changes) == records);
	FUZZ_CHECK(size == 0 || data[size - 1] == '\0');
	json_array_foreach(changes, i, item) {
		const char *path;
		char kind, *err2 = NULL;
		FUZZ_CHECK(proto_diff_change_decode(item, &kind, &path, &err2) == 0);
		FUZZ_CHECK(strchr("ACD", kind) && path[0] == '/');
	}
	json_decref(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	data++;
	size--;
	if (sel < 10)
		fuzz_params(methods[sel % 5], sel / 5, data, size);
	else if (sel < 20)
		fuzz_stat(data, size);
	else if (sel < 22)
		fuzz_commit(sel - 20, data, size);
	else if (sel >= 30)
		fuzz_records(data, size);
	return 0;
}
