/* Unit tests for the subid part of runtime/userns (no privileges needed): the parser of
 * /etc/subuid and /etc/subgid (strictness, overflow, garbage, other users' lines) and the slice
 * allocator (first fit, merged ranges, exhaustion, release, re-reservation at restart). The temp
 * directory for the file tests is removed at exit and on a signal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/util.h"
#include "runtime/userns.h"
#include "tests/tap.h"

static char base[64];

static void cleanup(void)
{
	if (base[0])
		(void)rm_rf(base);
	base[0] = '\0';
}

/* snprintf into a path buffer; truncation is the test's own bug. */
static void fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		abort();
}

/* Parses text for user "containd" (uid 999) and returns the count, or the error. */
static int parse(const char *text, struct userns_range **v, size_t *n)
{
	_cleanup_free_ char *err = NULL;

	free(*v);
	*v = NULL;
	*n = 0;
	return userns_subid_parse(text, "subuid", "containd", 999, v, n, &err);
}

static void test_parse(void)
{
	_cleanup_free_ struct userns_range *v = NULL;
	_cleanup_free_ char *err = NULL;
	size_t n = 0;

	is_int(parse("# comment containd:1:2\n"
		     "\n"
		     "garbage line\n"
		     "other:xyz:-1\n"
		     "containdx:100:100\n"
		     "xcontaind:100:100\n"
		     "containd:100000:65536\n"
		     "999:200000:131072\n"
		     "998:300000:65536\n"
		     "containd:400000:1",
		     &v, &n),
	       0, "parse: comments, garbage and other users' lines are skipped");
	is_int(n, 3, "parse: the name's and the uid's ranges are found, the last without a newline");
	if (n == 3) {
		is_int(v[0].start, 100000, "parse: first range start");
		is_int(v[0].count, 65536, "parse: first range count");
		is_int(v[1].start, 200000, "parse: numeric uid line");
		is_int(v[2].count, 1, "parse: a small range is returned as is");
	}
	is_int(parse("", &v, &n), 0, "parse: an empty file is not an error");
	is_int(n, 0, "parse: an empty file has no range");

	static const char *const bad[] = {
	    "containd:4294967295:1\n",	      /* the invalid id */
	    "containd:4294901760:65536\n",    /* ends past 4294967294 */
	    "containd:1:4294967295\n",	      /* start + count overflows */
	    "containd:99999999999:1\n",	      /* more than 32 bits */
	    "containd:00000000000100000:1\n", /* too many digits */
	    "containd:0:65536\n",	      /* maps host root */
	    "containd:100000:0\n",	      /* empty */
	    "containd:+100000:65536\n",	      /* sign */
	    "containd: 100000:65536\n",	      /* space */
	    "containd:-1:65536\n",	      /* negative */
	    "containd:100000:65536x\n",	      /* trailing garbage */
	    "containd:100000:65536:7\n",      /* extra field */
	    "containd:100000\n",	      /* missing field */
	    "containd::65536\n",	      /* empty field */
	    "containd:0x10000:65536\n",	      /* hex */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(parse(bad[i], &v, &n), -EINVAL, "parse: refuses %.*s", (int)strcspn(bad[i], "\n"), bad[i]);
	is_int(parse("containd:4294901759:65536\n", &v, &n), 0, "parse: a range ending at 4294967294 is fine");

	int r = userns_subid_parse("a:1:1\ncontaind:5:x\n", "/etc/subuid", "containd", (uid_t)-1, &v, &n, &err);
	is_int(r, -EINVAL, "parse: a malformed line of the user fails");
	ok(err && strstr(err, "/etc/subuid line 2"), "parse: the message names file and line (%s)", err ? err : "");
	free(v);
	v = NULL;
	is_int(userns_subid_parse("1000:100000:65536\n", "f", "containd", (uid_t)-1, &v, &n, NULL), 0,
	       "parse: without a uid, numeric lines are not matched");
	is_int(n, 0, "parse: no range for uid -1");
}

static void write_text(const char *path, const char *text, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, text, len) < 0)
		abort();
}

static void test_read(void)
{
	char uidf[128], gidf[128];
	_cleanup_free_ struct userns_range *v = NULL;
	_cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL;
	struct userns_allocator *a = NULL;
	struct userns_slice s;
	size_t n = 0;

	fmt(uidf, sizeof(uidf), "%s/subuid", base);
	fmt(gidf, sizeof(gidf), "%s/subgid", base);
	write_text(uidf, "containd:100000:65536\0containd:200000:65536\n", 44);
	is_int(userns_subid_read(uidf, "containd", (uid_t)-1, &v, &n, &err), -EINVAL,
	       "read: a file with a NUL byte is refused");

	write_text(uidf, "root:100000:65536\ncontaind:1000000:131072\n", 42);
	write_text(gidf, "containd:2000000:65536\n", 23);
	is_int(userns_allocator_load(uidf, gidf, "containd", &a, &err2), 0, "load: subuid and subgid of a user");
	if (a) {
		is_int(userns_allocator_alloc(a, &s, NULL), 0, "load: one slice");
		is_int(s.uid, 1000000, "load: its uid comes from subuid");
		is_int(s.gid, 2000000, "load: its gid comes from subgid");
		is_int(userns_allocator_alloc(a, &s, NULL), -ENOSPC, "load: subgid has room for one slice only");
		userns_allocator_free(a);
		a = NULL;
	}
	is_int(userns_allocator_load(uidf, gidf, "nobody-here", &a, &err3), -ENOENT, "load: a user without ranges");
	ok(err3 && strstr(err3, "nobody-here"), "load: the message names the user (%s)", err3 ? err3 : "");
}

static void test_allocator(void)
{
	struct userns_range uids[] = {{100000, 65536}, {165536, 65536}, {500000, 65536}, {1, 1000}};
	struct userns_range gids[] = {{700000, 3 * 65536}};
	struct userns_allocator *a = NULL;
	struct userns_slice s[4], t;
	_cleanup_free_ char *err = NULL;

	is_int(userns_allocator_new(uids, 1, uids + 3, 1, &a, &err), -ENOSPC, "allocator: gid ranges too small");
	ok(err && strstr(err, "gid"), "allocator: the message says which side (%s)", err ? err : "");
	if (userns_allocator_new(uids, ARRAY_SIZE(uids), gids, 1, &a, NULL) < 0) {
		ok(false, "allocator: new");
		return;
	}
	for (int i = 0; i < 3; i++)
		is_int(userns_allocator_alloc(a, &s[i], NULL), 0, "allocator: slice %d", i);
	is_int(s[0].uid, 100000, "allocator: first fit starts at the lowest range");
	is_int(s[1].uid, 165536, "allocator: adjacent ranges are merged");
	is_int(s[2].uid, 500000, "allocator: then the next range");
	is_int(s[2].gid, 700000 + 2 * 65536, "allocator: gids are handed out independently");
	is_int(userns_allocator_alloc(a, &s[3], NULL), -ENOSPC, "allocator: full");
	is_int(userns_allocator_used(a), 3, "allocator: three in use");

	is_int(userns_allocator_release(a, &s[1]), 0, "allocator: release");
	is_int(userns_allocator_release(a, &s[1]), -ENOENT, "allocator: release twice");
	is_int(userns_allocator_alloc(a, &t, NULL), 0, "allocator: alloc after release");
	ok(t.uid == s[1].uid && t.gid == s[1].gid, "allocator: the released slice is reused (%u %u)", t.uid, t.gid);
	userns_allocator_free(a);

	/* Two adjacent halves make one slice only once they are merged. */
	struct userns_range halves[] = {{132768, 32768}, {100000, 32768}};
	is_int(userns_allocator_new(halves, 2, halves, 2, &a, NULL), 0, "allocator: adjacent halves are merged");
	if (a) {
		is_int(userns_allocator_alloc(a, &t, NULL), 0, "allocator: a slice across two adjacent ranges");
		is_int(t.uid, 100000, "allocator: it starts at the lower half");
		is_int(userns_allocator_alloc(a, &t, NULL), -ENOSPC, "allocator: and it is the only one");
		userns_allocator_free(a);
		a = NULL;
	}

	/* A restart: the persisted slices are reserved first, then allocation goes around them. */
	struct userns_range big = {100000, 10 * 65536};
	if (userns_allocator_new(&big, 1, &big, 1, &a, NULL) < 0) {
		ok(false, "allocator: new");
		return;
	}
	t = (struct userns_slice){100000 + 65536 + 7, 100000};
	is_int(userns_allocator_reserve(a, &t, NULL), 0, "reserve: an unaligned slice inside the ranges");
	t = (struct userns_slice){100000 + 2 * 65536, 100000 + 65536};
	is_int(userns_allocator_reserve(a, &t, NULL), -EBUSY, "reserve: overlapping uids");
	t = (struct userns_slice){100000 + 3 * 65536, 100000 + 100};
	is_int(userns_allocator_reserve(a, &t, NULL), -EBUSY, "reserve: overlapping gids");
	t = (struct userns_slice){100000 + 9 * 65536 + 1, 100000 + 5 * 65536};
	is_int(userns_allocator_reserve(a, &t, NULL), -ERANGE, "reserve: past the end of the range");
	t = (struct userns_slice){99999, 100000 + 5 * 65536};
	is_int(userns_allocator_reserve(a, &t, NULL), -ERANGE, "reserve: before the range");
	is_int(userns_allocator_alloc(a, &t, NULL), 0, "reserve: alloc after");
	is_int(t.uid, 100000, "reserve: the room below the reserved slice is used");
	is_int(t.gid, 100000 + 65536, "reserve: the gid past the reserved one");
	is_int(userns_allocator_alloc(a, &t, NULL), 0, "reserve: alloc again");
	is_int(t.uid, 100000 + 2 * 65536 + 7, "reserve: next uid after the unaligned slice");
	userns_allocator_free(a);
}

int main(void)
{
	tap_cleanup_on_signals(cleanup, 0);
	fmt(base, sizeof(base), "/tmp/test-userns-subid.XXXXXX");
	if (!mkdtemp(base)) {
		base[0] = '\0';
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	atexit(cleanup);
	test_parse();
	test_read();
	test_allocator();
	return tap_done();
}
