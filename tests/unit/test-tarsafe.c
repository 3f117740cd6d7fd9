/* The rule table for tar entries (daemon/tarsafe.c). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/tarsafe.h"
#include "tests/tap.h"

static void check(const char *path, const char *hardlink, int want, const char *msg_part)
{
	char *err = NULL;
	int r = tarsafe_check_entry(path, hardlink, &err);

	is_int(r, want, "entry \"%.40s\"%s%.40s%s: %s", path ? path : "(null)", hardlink ? " (link to \"" : "",
	       hardlink ? hardlink : "", hardlink ? "\")" : "", want == 0 ? "allowed" : "refused");
	if (want < 0) {
		ok(err && strstr(err, msg_part), "  message mentions \"%s\"", msg_part);
		if (!err || !strstr(err, msg_part))
			printf("#   message: %s\n", err ? err : "(none)");
	} else {
		ok(!err, "  no message");
	}
	free(err);
}

static void check_type(const char *path, unsigned type, bool hardlink, int want)
{
	char *err = NULL;
	int r = tarsafe_check_type(path, type, hardlink, &err);

	is_int(r, want, "type 0%o at \"%s\"%s: %s", type, path, hardlink ? " (hard link)" : "",
	       want == 0 ? "allowed" : "refused");
	ok(want == 0 ? !err : err && strstr(err, path), "  %s", want == 0 ? "no message" : "message names the entry");
	free(err);
}

int main(void)
{
	char *long_path;

	/* Normal entries, including the "./" forms the Alpine tarball uses. */
	check("etc/passwd", NULL, 0, NULL);
	check("./", NULL, 0, NULL);
	check(".", NULL, 0, NULL);
	check("./etc/", NULL, 0, NULL);
	check("./etc/alpine-release", NULL, 0, NULL);
	check("a/./b", NULL, 0, NULL);
	check("a//b", NULL, 0, NULL);
	check("..a", NULL, 0, NULL);
	check("a..", NULL, 0, NULL);
	check("a/..b/c", NULL, 0, NULL);
	check("...", NULL, 0, NULL);
	check(".../x", NULL, 0, NULL);
	check("bin/sh", NULL, 0, NULL);
	check("usr/bin/ln", "bin/busybox", 0, NULL);
	check("./x", "./etc/passwd", 0, NULL);
	check("x", "a/.../b", 0, NULL);

	/* Escapes. */
	check("/etc/passwd", NULL, -EINVAL, "absolute");
	check("/", NULL, -EINVAL, "absolute");
	check("//x", NULL, -EINVAL, "absolute");
	check("..", NULL, -EINVAL, "..");
	check("../", NULL, -EINVAL, "..");
	check("../evil", NULL, -EINVAL, "../evil");
	check("a/../../evil", NULL, -EINVAL, "contains \"..\"");
	check("a/..", NULL, -EINVAL, "..");
	check("a/../b", NULL, -EINVAL, "..");
	check("./../x", NULL, -EINVAL, "..");
	check("a//..//b", NULL, -EINVAL, "..");
	check("", NULL, -EINVAL, "empty name");
	check(NULL, NULL, -EINVAL, "empty name");

	/* Hard-link targets get the same rules, and the message names the entry. */
	check("hl", "/etc/passwd", -EINVAL, "absolute hard link target \"/etc/passwd\"");
	check("hl", "../../etc/passwd", -EINVAL, "hard link target \"../../etc/passwd\" contains");
	check("hl", "a/../../x", -EINVAL, "\"hl\"");
	check("hl", "..", -EINVAL, "..");
	check("hl", "", -EINVAL, "empty hard link target");
	check("/abs", "ok", -EINVAL, "absolute name");

	/* Lengths: PATH_MAX - 1 bytes pass, PATH_MAX do not (for the target too). */
	long_path = malloc(PATH_MAX + 2);
	memset(long_path, 'a', PATH_MAX + 1);
	long_path[PATH_MAX + 1] = '\0';
	check(long_path, NULL, -EINVAL, "longer than");
	long_path[PATH_MAX] = '\0';
	check(long_path, NULL, -EINVAL, "longer than");
	long_path[PATH_MAX - 1] = '\0';
	check(long_path, NULL, 0, NULL);
	long_path[PATH_MAX - 1] = 'a';
	check("hl", long_path, -EINVAL, "hard link target longer than");
	free(long_path);

	/* Types. */
	check_type("f", S_IFREG, false, 0);
	check_type("d/", S_IFDIR, false, 0);
	check_type("l", S_IFLNK, false, 0);
	check_type("c", S_IFCHR, false, 0);
	check_type("b", S_IFBLK, false, 0);
	check_type("p", S_IFIFO, false, 0);
	check_type("h", 0, true, 0);
	check_type("h", S_IFREG, true, 0);
	check_type("s", S_IFSOCK, false, -EINVAL);
	check_type("u", 0, false, -EINVAL);
	check_type("x", 0170000, false, -EINVAL);
	check_type("./", S_IFDIR, false, 0);
	check_type(".", S_IFDIR, false, 0);
	check_type("./", S_IFLNK, false, -EINVAL);
	check_type(".", S_IFREG, false, -EINVAL);
	check_type(".//.", S_IFCHR, false, -EINVAL);
	check_type("./", 0, true, -EINVAL);

	ok(tarsafe_path_is_root("."), "\".\" is the root");
	ok(tarsafe_path_is_root("./"), "\"./\" is the root");
	ok(tarsafe_path_is_root(".//./"), "\".//./\" is the root");
	ok(!tarsafe_path_is_root("./a"), "\"./a\" is not the root");
	ok(!tarsafe_path_is_root(".."), "\"..\" is not the root");
	ok(!tarsafe_path_is_root("a"), "\"a\" is not the root");

	return tap_done();
}
