/* The subordinate id files (/etc/subuid, /etc/subgid) and the allocator of per-container slices
 * from the ranges they give a user. See userns.h. */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/userns.h"

#define SUBID_FILE_MAX (4u * 1024 * 1024)
/* More ranges than any sane subid file gives one user; bounds the allocator's work. */
#define SUBID_MAX_RANGES 1024

/* Parses a decimal uint32 of the whole field [s, end): digits only (no sign, no spaces, no
 * base prefix), at most 10 of them and no more than UINT32_MAX. */
static bool subid_parse_u32(const char *s, const char *end, uint32_t *ret)
{
	uint64_t v = 0;

	if (s == end || end - s > 10)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Whether the first field [s, end) names this user: by name, or by uid in decimal. */
static bool subid_owner_matches(const char *s, const char *end, const char *name, uid_t uid)
{
	size_t len = (size_t)(end - s);
	uint32_t v;

	if (name && strlen(name) == len && memcmp(s, name, len) == 0)
		return true;
	return uid != (uid_t)-1 && subid_parse_u32(s, end, &v) && v == (uint32_t)uid;
}

/* Admin input, but what it yields becomes the host uids of container root, so a line of this
 * user is checked strictly: the count is at least 1, start + count fits in 32 bits, and the range
 * neither contains uid 0 (that would map a container id onto host root) nor the invalid id
 * 4294967295. Lines of other users are never interpreted beyond their first field. */
int userns_subid_parse(const char *text, const char *file, const char *name, uid_t uid, struct userns_range **ret,
		       size_t *ret_n, char **reterr)
{
	_cleanup_free_ struct userns_range *v = NULL;
	size_t n = 0, lineno = 0;

	if (!file)
		file = "subid file";
	for (const char *line = text; *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *next = *eol ? eol + 1 : eol;
		const char *c1, *c2;
		uint32_t start, count;

		lineno++;
		c1 = memchr(line, ':', (size_t)(eol - line));
		if (*line == '#' || !c1 || !subid_owner_matches(line, c1, name, uid)) {
			line = next;
			continue;
		}
		c2 = memchr(c1 + 1, ':', (size_t)(eol - c1 - 1));
		if (!c2 || !subid_parse_u32(c1 + 1, c2, &start) || !subid_parse_u32(c2 + 1, eol, &count))
			return err_set(reterr, -EINVAL, "%s line %zu: expected name:start:count with decimal numbers",
				       file, lineno);
		if (count == 0 || start == 0 || (uint64_t)start + count > UINT32_MAX)
			return err_set(reterr, -EINVAL,
				       "%s line %zu: the range %u:%u is empty, includes uid 0 or goes past 4294967294",
				       file, lineno, start, count);
		if (n == SUBID_MAX_RANGES)
			return err_set(reterr, -E2BIG, "%s: more than %d ranges", file, SUBID_MAX_RANGES);
		struct userns_range *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			return -ENOMEM;
		v = nv;
		v[n++] = (struct userns_range){.start = start, .count = count};
		line = next;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

int userns_subid_read(const char *path, const char *name, uid_t uid, struct userns_range **ret, size_t *ret_n,
		      char **reterr)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file(path, SUBID_FILE_MAX, &text, &len);

	if (r < 0)
		return err_set(reterr, r, "cannot read %s: %m", path);
	/* A NUL would silently end the text early and hide the lines after it. */
	if (strlen(text) != len)
		return err_set(reterr, -EINVAL, "%s is not a text file", path);
	return userns_subid_parse(text, path, name, uid, ret, ret_n, reterr);
}

struct userns_allocator {
	struct userns_range *uids, *gids; /* merged, sorted, each at least one slice long */
	size_t n_uids, n_gids;
	struct userns_slice *taken; /* unsorted */
	size_t n_taken, cap_taken;
};

static int range_cmp(const void *a, const void *b)
{
	const struct userns_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts and merges overlapping or adjacent ranges into a new array, keeping only those with room
 * for at least one slice. */
static int ranges_normalize(const struct userns_range *in, size_t n, struct userns_range **ret, size_t *ret_n)
{
	_cleanup_free_ struct userns_range *v = NULL;
	size_t k = 0;

	if (n == 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, in, n * sizeof(*v));
	qsort(v, n, sizeof(*v), range_cmp);
	for (size_t i = 0; i < n; i++) {
		uint64_t end = (uint64_t)v[i].start + v[i].count;
		if (k > 0 && v[i].start <= (uint64_t)v[k - 1].start + v[k - 1].count) {
			uint64_t prev_end = (uint64_t)v[k - 1].start + v[k - 1].count;
			if (end > prev_end)
				v[k - 1].count = (uint32_t)(end - v[k - 1].start);
			continue;
		}
		v[k++] = v[i];
	}
	size_t m = 0;
	for (size_t i = 0; i < k; i++)
		if (v[i].count >= USERNS_SLICE_SIZE)
			v[m++] = v[i];
	*ret = TAKE_PTR(v);
	*ret_n = m;
	return 0;
}

int userns_allocator_new(const struct userns_range *uids, size_t n_uids, const struct userns_range *gids, size_t n_gids,
			 struct userns_allocator **ret, char **reterr)
{
	struct userns_allocator *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	r = ranges_normalize(uids, n_uids, &a->uids, &a->n_uids);
	if (r >= 0)
		r = ranges_normalize(gids, n_gids, &a->gids, &a->n_gids);
	if (r < 0) {
		userns_allocator_free(a);
		return r;
	}
	if (a->n_uids == 0 || a->n_gids == 0) {
		const char *side = a->n_uids == 0 ? "uid" : "gid";
		userns_allocator_free(a);
		return err_set(reterr, -ENOSPC, "no subordinate %s range of at least %u ids", side, USERNS_SLICE_SIZE);
	}
	*ret = a;
	return 0;
}

int userns_allocator_load(const char *subuid_path, const char *subgid_path, const char *user,
			  struct userns_allocator **ret, char **reterr)
{
	_cleanup_free_ struct userns_range *uids = NULL, *gids = NULL;
	size_t n_uids = 0, n_gids = 0;
	uid_t uid = (uid_t)-1;
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	if (!subuid_path)
		subuid_path = "/etc/subuid";
	if (!subgid_path)
		subgid_path = "/etc/subgid";
	if (!user)
		user = USERNS_DEFAULT_USER;
	/* The user need not exist: subid files may name users that have no passwd entry. */
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) == 0 && res) {
		uid = res->pw_uid;
	}
	r = userns_subid_read(subuid_path, user, uid, &uids, &n_uids, reterr);
	if (r < 0)
		return r;
	/* Like shadow's libsubid, subgid lines are keyed by the user's name or numeric uid too. */
	r = userns_subid_read(subgid_path, user, uid, &gids, &n_gids, reterr);
	if (r < 0)
		return r;
	if (n_uids == 0 || n_gids == 0)
		return err_set(reterr, -ENOENT, "%s gives the user \"%s\" no range",
			       n_uids == 0 ? subuid_path : subgid_path, user);
	return userns_allocator_new(uids, n_uids, gids, n_gids, ret, reterr);
}

void userns_allocator_free(struct userns_allocator *a)
{
	if (!a)
		return;
	free(a->uids);
	free(a->gids);
	free(a->taken);
	free(a);
}

static bool slices_overlap(uint32_t a, uint32_t b)
{
	return (uint64_t)a < (uint64_t)b + USERNS_SLICE_SIZE && (uint64_t)b < (uint64_t)a + USERNS_SLICE_SIZE;
}

/* Whether [start, start + SLICE) lies inside one range. */
static bool in_ranges(const struct userns_range *v, size_t n, uint32_t start)
{
	for (size_t i = 0; i < n; i++)
		if (start >= v[i].start && (uint64_t)start + USERNS_SLICE_SIZE <= (uint64_t)v[i].start + v[i].count)
			return true;
	return false;
}

/* The taken slice (uid side if uid_side, else gid side) overlapping start, or NULL. */
static const struct userns_slice *find_overlap(const struct userns_allocator *a, bool uid_side, uint32_t start)
{
	for (size_t i = 0; i < a->n_taken; i++)
		if (slices_overlap(uid_side ? a->taken[i].uid : a->taken[i].gid, start))
			return &a->taken[i];
	return NULL;
}

/* First fit: the lowest start in the ranges whose slice overlaps no taken one. Each overlap moves
 * the candidate past that slice, so the loop ends after at most n_taken moves per range. */
static bool first_fit(const struct userns_allocator *a, bool uid_side, uint32_t *ret)
{
	const struct userns_range *v = uid_side ? a->uids : a->gids;
	size_t n = uid_side ? a->n_uids : a->n_gids;

	for (size_t i = 0; i < n; i++) {
		uint64_t end = (uint64_t)v[i].start + v[i].count;
		uint64_t cand = v[i].start;
		while (cand + USERNS_SLICE_SIZE <= end) {
			const struct userns_slice *o = find_overlap(a, uid_side, (uint32_t)cand);
			if (!o) {
				*ret = (uint32_t)cand;
				return true;
			}
			cand = (uint64_t)(uid_side ? o->uid : o->gid) + USERNS_SLICE_SIZE;
		}
	}
	return false;
}

static int taken_add(struct userns_allocator *a, const struct userns_slice *s)
{
	if (a->n_taken == a->cap_taken) {
		size_t cap = a->cap_taken ? a->cap_taken * 2 : 16;
		struct userns_slice *n = realloc(a->taken, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		a->taken = n;
		a->cap_taken = cap;
	}
	a->taken[a->n_taken++] = *s;
	return 0;
}

int userns_allocator_alloc(struct userns_allocator *a, struct userns_slice *ret, char **reterr)
{
	struct userns_slice s;

	if (!first_fit(a, true, &s.uid) || !first_fit(a, false, &s.gid))
		return err_set(reterr, -ENOSPC, "all %zu user namespace slices of the subordinate id ranges are in use",
			       a->n_taken);
	int r = taken_add(a, &s);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

int userns_allocator_reserve(struct userns_allocator *a, const struct userns_slice *s, char **reterr)
{
	if (!in_ranges(a->uids, a->n_uids, s->uid) || !in_ranges(a->gids, a->n_gids, s->gid))
		return err_set(reterr, -ERANGE, "the slice uid %u gid %u is not inside the subordinate id ranges",
			       s->uid, s->gid);
	if (find_overlap(a, true, s->uid) || find_overlap(a, false, s->gid))
		return err_set(reterr, -EBUSY, "the slice uid %u gid %u overlaps one in use", s->uid, s->gid);
	return taken_add(a, s);
}

int userns_allocator_release(struct userns_allocator *a, const struct userns_slice *s)
{
	for (size_t i = 0; i < a->n_taken; i++)
		if (a->taken[i].uid == s->uid && a->taken[i].gid == s->gid) {
			a->taken[i] = a->taken[--a->n_taken];
			return 0;
		}
	return -ENOENT;
}

size_t userns_allocator_used(const struct userns_allocator *a)
{
	return a->n_taken;
}
