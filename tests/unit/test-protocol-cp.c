/* protocol/cp.c: the copy methods' params (fd counts, paths, unknown fields), cp_stat's result,
 * container.commit's params, and the diff worker's records as container.diff's result. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/cp.h"
#include "tests/tap.h"

/* The objects decode() parsed: the params borrow their strings, so they live until the end. */
static json_t *kept[32];
static size_t n_kept;

/* Decodes text as method's params with nfds fds; the return value, and the message in *err. */
static int decode(const char *method, const char *text, unsigned nfds, struct proto_cp_params *p, char **err)
{
	json_t *o = json_loads(text, 0, NULL);
	free(*err);
	*err = NULL;
	int r = o ? proto_cp_params_decode(method, o, nfds, p, err) : -EINVAL;
	if (o && n_kept < sizeof(kept) / sizeof(kept[0]))
		kept[n_kept++] = o;
	else
		json_decref(o);
	return r;
}

static void test_params(void)
{
	struct proto_cp_params p;
	char *err = NULL;

	ok(decode(PROTO_M_CP_FROM, "{\"id\":\"web\",\"path\":\"/etc/.\",\"follow_link\":true}", 1, &p, &err) == 0 &&
	       strcmp(p.ref, "web") == 0 && strcmp(p.path, "/etc/.") == 0 && p.follow_link,
	   "cp_from: id, path, follow_link with its one fd");
	is_int(decode(PROTO_M_CP_FROM, "{\"id\":\"web\",\"path\":\"/etc\"}", 0, &p, &err), -EBADF,
	       "cp_from without its fd: -EBADF (bad_fds)");
	ok(err && strstr(err, "takes 1 file descriptor, got 0"), "saying how many it takes");
	is_int(decode(PROTO_M_CP_STAT, "{\"id\":\"web\",\"path\":\"/etc\"}", 1, &p, &err), -EBADF,
	       "cp_stat with an fd: -EBADF");
	is_int(decode(PROTO_M_CP_TO, "{\"id\":\"web\",\"path\":\"\"}", 1, &p, &err), -EINVAL,
	       "an empty path is refused");
	is_int(decode(PROTO_M_CP_TO, "{\"id\":\"web\"}", 1, &p, &err), -EINVAL, "cp_to needs a path");
	is_int(decode(PROTO_M_CP_TO, "{\"id\":\"web\",\"path\":\"/t\",\"follow_link\":true}", 1, &p, &err), -EINVAL,
	       "cp_to refuses follow_link (not one of its fields)");
	ok(err && strstr(err, "follow_link"), "naming the field");
	ok(decode(PROTO_M_CP_TO, "{\"id\":\"web\",\"path\":\"/t\",\"archive\":true}", 1, &p, &err) == 0 && p.archive,
	   "cp_to: archive");
	is_int(decode(PROTO_M_DIFF, "{\"id\":\"web\",\"path\":\"/\"}", 0, &p, &err), -EINVAL, "diff takes no path");
	ok(decode(PROTO_M_EXPORT, "{\"id\":\"web\"}", 1, &p, &err) == 0 && !p.path, "export: id and its fd");

	char *long_path = malloc(PROTO_CP_MAX_PATH + 64);
	memset(long_path, 'a', PROTO_CP_MAX_PATH + 1);
	long_path[PROTO_CP_MAX_PATH + 1] = '\0';
	json_t *o = json_pack("{s:s, s:s}", "id", "web", "path", long_path);
	is_int(proto_cp_params_decode(PROTO_M_CP_STAT, o, 0, &p, &err), -EINVAL, "a path of 4097 bytes is refused");
	json_decref(o);
	free(long_path);

	struct proto_cp_params in = {.ref = "web", .path = "/x", .archive = true}, out;
	json_t *enc = proto_cp_params_encode(PROTO_M_CP_TO, &in);
	ok(enc && proto_cp_params_decode(PROTO_M_CP_TO, enc, 1, &out, &err) == 0 && out.archive &&
	       strcmp(out.path, "/x") == 0,
	   "cp_to params encode and decode back");
	json_decref(enc);
	free(err);
	while (n_kept > 0)
		json_decref(kept[--n_kept]);
}

static void test_stat_and_commit(void)
{
	struct proto_cp_stat st = {.name = "hosts", .size = 12, .mode = 0100644, .mtime = 1700000000}, back;
	char *err = NULL;
	json_t *o = proto_cp_stat_encode(&st);
	ok(o && proto_cp_stat_decode(o, &back, &err) == 0 && strcmp(back.name, "hosts") == 0 && back.size == 12 &&
	       back.mode == 0100644 && back.mtime == 1700000000 && strcmp(back.link_target, "") == 0,
	   "cp_stat's result round-trips");
	json_decref(o);

	struct proto_commit_params c;
	o = json_loads("{\"id\":\"web\"}", 0, NULL);
	ok(proto_commit_params_decode(o, 0, &c, &err) == 0 && c.pause && !c.repo && !c.config,
	   "commit: pause by default, no name, no config");
	json_decref(o);
	o = json_loads("{\"id\":\"web\",\"repo\":\"img:v1\",\"pause\":false,\"config\":{\"Cmd\":[\"sh\"]}}", 0, NULL);
	ok(proto_commit_params_decode(o, 0, &c, &err) == 0 && !c.pause && strcmp(c.repo, "img:v1") == 0 && c.config,
	   "commit: repo, pause, config");
	is_int(proto_commit_params_decode(o, 1, &c, &err), -EBADF, "commit takes no fd");
	json_decref(o);
	o = json_loads("{\"id\":\"web\",\"config\":[\"x\"]}", 0, NULL);
	free(err);
	err = NULL;
	is_int(proto_commit_params_decode(o, 0, &c, &err), -EINVAL, "a config that is not an object is refused");
	json_decref(o);
	o = json_loads("{\"id\":\"web\",\"tag\":\"x\"}", 0, NULL);
	free(err);
	err = NULL;
	is_int(proto_commit_params_decode(o, 0, &c, &err), -EINVAL, "an unknown field is refused");
	json_decref(o);
	free(err);
}

static void test_records(void)
{
	static const char good[] = "C/etc\0D/etc/motd\0A/new\xff\0";
	char *err = NULL;
	json_t *res = proto_diff_records_to_result(good, sizeof(good) - 1, &err);
	char *s = res ? json_dumps(res, JSON_COMPACT) : NULL;
	is_str(s,
	       "{\"changes\":[{\"kind\":\"C\",\"path\":\"/etc\"},{\"kind\":\"D\",\"path\":\"/etc/motd\"},"
	       "{\"kind\":\"A\",\"path\":\"/new?\"}]}",
	       "records in order, a name that is not UTF-8 with '?' for its odd bytes");
	free(s);
	json_decref(res);
	ok(!proto_diff_records_to_result("X/etc", 6, &err) && err, "an unknown kind is refused");
	free(err);
	err = NULL;
	ok(!proto_diff_records_to_result("Cetc", 5, &err), "a relative path is refused");
	free(err);
	err = NULL;
	ok(!proto_diff_records_to_result("C/etc", 5, &err), "an unterminated record is refused");
	free(err);
	err = NULL;
	res = proto_diff_records_to_result("", 0, &err);
	s = res ? json_dumps(res, JSON_COMPACT) : NULL;
	is_str(s, "{\"changes\":[]}", "no records, no changes");
	free(s);
	json_decref(res);
}

int main(void)
{
	test_params();
	test_stat_and_commit();
	test_records();
	return tap_done();
}
