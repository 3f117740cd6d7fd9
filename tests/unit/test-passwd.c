/* Unit tests for runtime/passwd.c: resolving -u NAME[:GROUP] (or numbers) against an image's
 * /etc/passwd and /etc/group text as Docker does, with the files treated as hostile input:
 * comments, short lines, garbage, out-of-range ids, empty fields, missing files and more groups
 * than setgroups() should get. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/passwd.h"
#include "tests/tap.h"

static const char passwd_text[] = "# a comment:x:0:0::/:/bin/sh\n"
				  "root:x:0:0:root:/root:/bin/ash\n"
				  "\n"
				  "daemon:x:1:1:daemon:/usr/sbin:/sbin/nologin\n"
				  "short:x:7:7\n"
				  "garbage line without colons\n"
				  "bigid:x:4294967295:5:big:/big:/bin/sh\n"
				  "badgid:x:60:4294967296:bad:/bad:/bin/sh\n"
				  "neg:x:-1:5:neg:/neg:/bin/sh\n"
				  "hex:x:0x10:5:hex:/hex:/bin/sh\n"
				  "app:x:1000:1000:App User,,,:/home/app:/bin/sh:extra:fields\n"
				  "nohome:x:1001:100:::/bin/sh\n"
				  "emptyid:x::100::/e:/bin/sh\n"
				  "123:x:2000:2000::/home/num:/bin/sh\n"
				  "dup:x:3000:3000::/first:/bin/sh\n"
				  "dup:x:3001:3001::/second:/bin/sh\n"
				  "max:x:4294967294:4294967294::/max:/bin/sh";

static const char group_text[] = "root:x:0:root\n"
				 "# wheel:x:10:app\n"
				 "wheel:x:10:root,app\n"
				 "staff:x:50:app,nohome\n"
				 "staff2:x:50:app\n"
				 "users:x:100:\n"
				 "short:x\n"
				 "big:x:4294967295:app\n"
				 "notnum:x:abc:app\n"
				 "audio:x:29:other,app,more\n"
				 "prefix:x:31:ap,appx,xapp\n"
				 "app:x:1000:\n"
				 "5000:x:5001:\n"
				 "dupapp:x:33:app,app";

/* Resolves spec and checks the result; want_groups is terminated by (gid_t)-1. */
static void resolves(const char *spec, uid_t uid, gid_t gid, const char *home, const gid_t *want_groups)
{
	struct passwd_user u;
	char err[256] = "";
	int r = passwd_resolve_text(spec, passwd_text, group_text, &u, err, sizeof(err));
	is_int(r, 0, "\"%s\" resolves", spec);
	if (r < 0) {
		printf("#   %s\n", err);
		return;
	}
	is_int(u.uid, uid, "\"%s\": uid", spec);
	is_int(u.gid, gid, "\"%s\": gid", spec);
	is_str(u.home, home, "\"%s\": home", spec);
	size_t n = 0;
	while (want_groups[n] != (gid_t)-1)
		n++;
	is_int(u.n_groups, n, "\"%s\": %zu supplementary groups", spec, n);
	for (size_t i = 0; i < n && i < u.n_groups; i++)
		is_int(u.groups[i], want_groups[i], "\"%s\": group %zu", spec, i);
	passwd_user_done(&u);
	ok(u.home == NULL && u.groups == NULL, "passwd_user_done clears");
}

/* Checks that spec fails with r and a message containing want, and that ret holds nothing. */
static void fails(const char *spec, const char *passwd, const char *group, int want_r, const char *want)
{
	struct passwd_user u;
	char err[256] = "";
	int r = passwd_resolve_text(spec, passwd, group, &u, err, sizeof(err));
	is_int(r, want_r, "\"%s\" fails", spec);
	ok(strstr(err, want) != NULL, "\"%s\": message contains \"%s\"", spec, want);
	if (!strstr(err, want))
		printf("#   got: %s\n", err);
	ok(u.home == NULL && u.groups == NULL && u.n_groups == 0, "\"%s\": nothing returned", spec);
	if (r == 0)
		passwd_user_done(&u);
}

#define G(...) ((const gid_t[]){__VA_ARGS__, (gid_t)-1})
#define NONE   ((const gid_t[]){(gid_t)-1})

static void test_names_and_numbers(void)
{
	resolves("root", 0, 0, "/root", G(0, 10));
	resolves("0", 0, 0, "/root", G(0, 10));
	resolves("app", 1000, 1000, "/home/app", G(10, 50, 29, 33));
	resolves("1000", 1000, 1000, "/home/app", G(10, 50, 29, 33));
	resolves("app:staff", 1000, 50, "/home/app", G(10, 50, 29, 33));
	resolves("app:0", 1000, 0, "/home/app", G(10, 50, 29, 33));
	resolves("1000:wheel", 1000, 10, "/home/app", G(10, 50, 29, 33));
	resolves("1000:77", 1000, 77, "/home/app", G(10, 50, 29, 33));
	resolves("daemon", 1, 1, "/usr/sbin", NONE);
	/* a group name that is all digits is a gid, as in Docker */
	resolves("daemon:5000", 1, 5000, "/usr/sbin", NONE);
	/* a user name that is all digits is a uid, even when an entry has that name */
	resolves("123", 123, 0, "/", NONE);
	resolves("max", 4294967294u, 4294967294u, "/max", NONE);
	resolves("4294967294", 4294967294u, 4294967294u, "/max", NONE);
	/* the first entry of a name wins */
	resolves("dup", 3000, 3000, "/first", NONE);
	/* numbers not in the files: gid 0 unless given, HOME "/" */
	resolves("4242", 4242, 0, "/", NONE);
	resolves("4242:4343", 4242, 4343, "/", NONE);
	resolves("4242:staff", 4242, 50, "/", NONE);
	resolves("0000042", 42, 0, "/", NONE);
	/* an empty home field means no home: "/" */
	resolves("nohome", 1001, 100, "/", G(50));
}

static void test_unknown_and_invalid(void)
{
	fails("nobody", passwd_text, group_text, -ENOENT,
	      "unable to find user nobody: no matching entries in passwd file");
	fails("app:nogroup", passwd_text, group_text, -ENOENT,
	      "unable to find group nogroup: no matching entries in group file");
	fails("4242:nogroup", passwd_text, group_text, -ENOENT, "unable to find group nogroup");
	/* entries the parser must skip: too short, bad or out-of-range ids */
	fails("short", passwd_text, group_text, -ENOENT, "unable to find user short");
	fails("bigid", passwd_text, group_text, -ENOENT, "unable to find user bigid");
	fails("badgid", passwd_text, group_text, -ENOENT, "unable to find user badgid");
	fails("neg", passwd_text, group_text, -ENOENT, "unable to find user neg");
	fails("hex", passwd_text, group_text, -ENOENT, "unable to find user hex");
	fails("emptyid", passwd_text, group_text, -ENOENT, "unable to find user emptyid");
	fails("garbage line without colons", passwd_text, group_text, -ENOENT, "unable to find user");
	fails("# a comment", passwd_text, group_text, -ENOENT, "unable to find user # a comment");
	fails("root:short", passwd_text, group_text, -ENOENT, "unable to find group short");
	fails("root:big", passwd_text, group_text, -ENOENT, "unable to find group big");
	fails("root:notnum", passwd_text, group_text, -ENOENT, "unable to find group notnum");
	/* -1 is "no change" to the kernel: never a uid or gid */
	fails("4294967295", passwd_text, group_text, -ENOENT, "unable to find user 4294967295");
	fails("99999999999", passwd_text, group_text, -ENOENT, "unable to find user");
	fails("0:4294967295", passwd_text, group_text, -ENOENT, "unable to find group 4294967295");
	fails("-1", passwd_text, group_text, -ENOENT, "unable to find user -1");
	/* malformed specs */
	fails("", passwd_text, group_text, -EINVAL, "invalid user \"\"");
	fails(":0", passwd_text, group_text, -EINVAL, "invalid user \":0\"");
	fails("root:", passwd_text, group_text, -EINVAL, "invalid user \"root:\"");
	fails("root:wheel:x", passwd_text, group_text, -ENOENT, "unable to find group wheel:x");
	/* a tiny error buffer is filled safely */
	struct passwd_user u;
	char tiny[8];
	memset(tiny, 'X', sizeof(tiny));
	is_int(passwd_resolve_text("nobody", passwd_text, group_text, &u, tiny, sizeof(tiny)), -ENOENT, "tiny buffer");
	is_int(strlen(tiny), 7, "... truncated and terminated");
}

static void test_missing_files(void)
{
	/* A missing file is empty: numbers work, names do not. */
	struct passwd_user u;
	char err[256] = "";
	is_int(passwd_resolve_text("0", NULL, NULL, &u, err, sizeof(err)), 0, "uid 0 without passwd and group");
	is_int(u.uid, 0, "... uid 0");
	is_int(u.gid, 0, "... gid 0");
	is_str(u.home, "/", "... HOME /");
	is_int(u.n_groups, 0, "... no groups");
	passwd_user_done(&u);
	is_int(passwd_resolve_text("7:8", "", NULL, &u, err, sizeof(err)), 0, "UID:GID without files");
	is_int(u.gid, 8, "... the given gid");
	passwd_user_done(&u);
	fails("root", NULL, NULL, -ENOENT, "unable to find user root");
	fails("0:wheel", passwd_text, NULL, -ENOENT, "unable to find group wheel");
	/* a user without a group file has no supplementary groups */
	is_int(passwd_resolve_text("app", passwd_text, NULL, &u, err, sizeof(err)), 0, "app without a group file");
	is_int(u.n_groups, 0, "... no supplementary groups");
	passwd_user_done(&u);
}

static void test_odd_text(void)
{
	struct passwd_user u;
	char err[256] = "";
	/* CRLF, no final newline, colons in the last field, NUL-free binary junk */
	static const char crlf[] = "root:x:0:0:root:/root:/bin/sh\r\nu:x:5:6:u:/h:/bin/sh:more:colons";
	is_int(passwd_resolve_text("u", crlf, "g:x:9:u\r\nh:x:10:u", &u, err, sizeof(err)), 0, "odd but valid lines");
	is_int(u.uid, 5, "... uid");
	is_str(u.home, "/h", "... home");
	is_int(u.n_groups, 1, "... 'u\\r' is not 'u': one group");
	passwd_user_done(&u);
	static const char junk[] = "\x01\x02:\xff\xfe:::::::\n::::::::\n:x:0:0::/:\n\x80root:x:0:0::/r:";
	fails("root", junk, junk, -ENOENT, "unable to find user root");
	/* an entry with an empty name matches no name (an empty name is refused anyway) */
	is_int(passwd_resolve_text("0", junk, junk, &u, err, sizeof(err)), 0, "uid 0 in junk");
	is_str(u.home, "/", "... the empty-named entry's home");
	passwd_user_done(&u);
}

/* Builds a group file with n distinct groups that list user, plus duplicates of each. */
static char *many_groups(size_t n, const char *user)
{
	size_t cap = n * 2 * 64 + 1, len = 0;
	char *t = malloc(cap);
	for (size_t i = 0; t && i < n; i++) {
		len += (size_t)snprintf(t + len, cap - len, "g%zu:x:%zu:a,%s,b\n", i, 10000 + i, user);
		len += (size_t)snprintf(t + len, cap - len, "again%zu:x:%zu:%s\n", i, 10000 + i, user);
	}
	return t;
}

static void test_group_cap(void)
{
	struct passwd_user u;
	char err[256] = "";
	char *g = many_groups(1024, "app");
	is_int(passwd_resolve_text("app", passwd_text, g, &u, err, sizeof(err)), 0, "1024 groups (each listed twice)");
	is_int(u.n_groups, 1024, "... deduplicated to 1024");
	is_int(u.groups[0], 10000, "... in file order (first)");
	is_int(u.groups[1023], 11023, "... in file order (last)");
	passwd_user_done(&u);
	free(g);
	g = many_groups(1025, "app");
	fails("app", passwd_text, g, -E2BIG, "user app is in more than 1024 groups");
	free(g);
	/* another user's memberships do not count */
	g = many_groups(2000, "other");
	is_int(passwd_resolve_text("app", passwd_text, g, &u, err, sizeof(err)), 0, "2000 groups of someone else");
	is_int(u.n_groups, 0, "... none are app's");
	passwd_user_done(&u);
	free(g);
}

int main(void)
{
	test_names_and_numbers();
	test_unknown_and_invalid();
	test_missing_files();
	test_odd_text();
	test_group_cap();
	return tap_done();
}
