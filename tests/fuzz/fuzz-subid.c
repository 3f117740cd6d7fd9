/* Fuzz target for the subid file parser and the slice allocator (runtime/userns-subid.c). The
 * input's first line is "NAME" or "NAME:UID" (the user to look up; an empty NAME means by uid
 * only, no UID means by name only); the rest is the text of /etc/subuid, cut at its first NUL as
 * userns_subid_read() would refuse it. The parser's result must equal an independent model's: the
 * same ranges in file order, only of that user, each non-empty, above uid 0 and below
 * 4294967295. The ranges (all of them for uids, the second half for gids) then feed an allocator:
 * first-fit slices must lie inside the ranges, never overlap, come in the order the model
 * predicts and run out exactly at the model's capacity; all are released at the end. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "runtime/userns.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_SUBID_FILE "/etc/subuid"
/* Slices allocated per input at most: first fit is quadratic in the slices taken. */
#define FUZZ_SUBID_ALLOC_MAX 64
/* As userns-subid.c's SUBID_MAX_RANGES: the model must refuse at the same count. */
#define FUZZ_SUBID_RANGES_MAX 1024
#define FUZZ_SUBID_ERR_MAX    512

/* A decimal uint32 of exactly [s, end): 1 to 10 digits, nothing else. */
static bool model_u32(const char *s, const char *end, uint32_t *ret)
{
	uint64_t v = 0;

	if (s >= end || end - s > 10)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = (uint32_t)v;
	return v <= UINT32_MAX;
}

/* The parser as userns.h documents it, line by line with its own splitting: returns 0 with the
 * ranges, -EINVAL for a bad line of this user, -E2BIG past FUZZ_SUBID_RANGES_MAX. */
static int model_parse(const char *text, const char *name, uid_t uid, struct userns_range *v, size_t *ret_n)
{
	size_t n = 0, name_len = name ? strlen(name) : 0;

	while (*text) {
		size_t len = strcspn(text, "\n");
		const char *line = text, *end = text + len;
		const char *c1 = memchr(line, ':', len), *c2;
		uint32_t owner, start, count;

		text = *end ? end + 1 : end;
		if (line[0] == '#' || !c1)
			continue;
		bool by_name = name && (size_t)(c1 - line) == name_len && memcmp(line, name, name_len) == 0;
		bool by_uid = uid != (uid_t)-1 && model_u32(line, c1, &owner) && owner == (uint32_t)uid;
		if (!by_name && !by_uid)
			continue;
		c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
		if (!c2 || !model_u32(c1 + 1, c2, &start) || !model_u32(c2 + 1, end, &count))
			return -EINVAL;
		if (count == 0 || start == 0 || (uint64_t)start + count - 1 >= UINT32_MAX)
			return -EINVAL;
		if (n == FUZZ_SUBID_RANGES_MAX)
			return -E2BIG;
		v[n++] = (struct userns_range){.start = start, .count = count};
	}
	*ret_n = n;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct userns_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The union of ranges as sorted, disjoint, non-adjacent intervals [start, end), in place;
 * returns how many. */
static size_t model_union(struct userns_range *v, size_t n, uint64_t *ends)
{
	size_t k = 0;

	qsort(v, n, sizeof(*v), range_cmp);
	for (size_t i = 0; i < n; i++) {
		uint64_t end = (uint64_t)v[i].start + v[i].count;
		if (k > 0 && v[i].start <= ends[k - 1]) {
			if (end > ends[k - 1])
				ends[k - 1] = end;
			continue;
		}
		v[k] = v[i];
		ends[k++] = end;
	}
	return k;
}

/* One side (uids or gids) of the allocator's model: the union, and first fit without releases
 * is packing slices from the bottom of each interval. */
struct side {
	struct userns_range iv[FUZZ_SUBID_RANGES_MAX];
	uint64_t ends[FUZZ_SUBID_RANGES_MAX];
	size_t n;
	uint64_t capacity; /* slices that fit */
};

static void side_init(struct side *s, const struct userns_range *v, size_t n)
{
	memcpy(s->iv, v, n * sizeof(*v));
	s->n = model_union(s->iv, n, s->ends);
	s->capacity = 0;
	for (size_t i = 0; i < s->n; i++)
		s->capacity += (s->ends[i] - s->iv[i].start) / USERNS_SLICE_SIZE;
}

/* The start of the k-th slice first fit hands out when none was released. */
static uint32_t side_slot(const struct side *s, uint64_t k)
{
	FUZZ_CHECK(k < s->capacity);
	for (size_t i = 0; i < s->n; i++) {
		uint64_t fit = (s->ends[i] - s->iv[i].start) / USERNS_SLICE_SIZE;
		if (k < fit)
			return (uint32_t)(s->iv[i].start + k * USERNS_SLICE_SIZE);
		k -= fit;
	}
	abort(); /* unreachable: k is under the capacity */
}

/* Whether [start, start + SLICE) lies inside one interval of the union. */
static bool side_contains(const struct side *s, uint32_t start)
{
	for (size_t i = 0; i < s->n; i++)
		if (start >= s->iv[i].start && (uint64_t)start + USERNS_SLICE_SIZE <= s->ends[i])
			return true;
	return false;
}

static void check_error(char *err)
{
	FUZZ_CHECK(err != NULL);
	size_t len = strlen(err);
	FUZZ_CHECK(len > 0 && len < FUZZ_SUBID_ERR_MAX);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)err[i] >= 0x20 && (unsigned char)err[i] < 0x7f);
	free(err);
}

static bool slices_overlap(uint32_t a, uint32_t b)
{
	return (uint64_t)a < (uint64_t)b + USERNS_SLICE_SIZE && (uint64_t)b < (uint64_t)a + USERNS_SLICE_SIZE;
}

static struct side uid_side, gid_side;

/* Allocates from the ranges until they run out (or FUZZ_SUBID_ALLOC_MAX), checking every slice
 * against the model, then gives everything back. */
static void fuzz_allocator(const struct userns_range *v, size_t n)
{
	const struct userns_range *gids = v + n / 2;
	size_t n_gids = n - n / 2;
	struct userns_allocator *a = NULL;
	struct userns_slice slices[FUZZ_SUBID_ALLOC_MAX];
	size_t k = 0;
	char *err = NULL;

	side_init(&uid_side, v, n);
	side_init(&gid_side, gids, n_gids);
	int r = userns_allocator_new(v, n, gids, n_gids, &a, &err);
	if (r < 0) {
		FUZZ_CHECK(r == -ENOSPC && a == NULL);
		FUZZ_CHECK(uid_side.capacity == 0 || gid_side.capacity == 0);
		check_error(err);
		return;
	}
	FUZZ_CHECK(a != NULL && err == NULL);
	FUZZ_CHECK(uid_side.capacity > 0 && gid_side.capacity > 0);
	uint64_t capacity = uid_side.capacity < gid_side.capacity ? uid_side.capacity : gid_side.capacity;

	for (; k < FUZZ_SUBID_ALLOC_MAX; k++) {
		struct userns_slice s;
		r = userns_allocator_alloc(a, &s, &err);
		if (r < 0) {
			FUZZ_CHECK(r == -ENOSPC && k == capacity);
			check_error(err);
			err = NULL;
			break;
		}
		FUZZ_CHECK(err == NULL && k < capacity);
		FUZZ_CHECK(side_contains(&uid_side, s.uid) && side_contains(&gid_side, s.gid));
		FUZZ_CHECK(s.uid == side_slot(&uid_side, k) && s.gid == side_slot(&gid_side, k));
		for (size_t j = 0; j < k; j++)
			FUZZ_CHECK(!slices_overlap(slices[j].uid, s.uid) && !slices_overlap(slices[j].gid, s.gid));
		slices[k] = s;
		FUZZ_CHECK(userns_allocator_used(a) == k + 1);
	}

	/* A taken slice cannot be reserved again; uid 0 is never inside the ranges. */
	struct userns_slice root = {0, 0};
	FUZZ_CHECK(userns_allocator_reserve(a, &root, &err) == -ERANGE);
	check_error(err);
	err = NULL;
	if (k > 0) {
		FUZZ_CHECK(userns_allocator_reserve(a, &slices[0], &err) == -EBUSY);
		check_error(err);
		err = NULL;
	}

	/* Release the odd ones, then the even ones, each once. */
	for (size_t j = 1; j < k; j += 2)
		FUZZ_CHECK(userns_allocator_release(a, &slices[j]) == 0);
	for (size_t j = 0; j < k; j += 2)
		FUZZ_CHECK(userns_allocator_release(a, &slices[j]) == 0);
	if (k > 0)
		FUZZ_CHECK(userns_allocator_release(a, &slices[0]) == -ENOENT);
	FUZZ_CHECK(userns_allocator_used(a) == 0);

	/* Emptied, it starts from the bottom again. */
	struct userns_slice s;
	FUZZ_CHECK(userns_allocator_alloc(a, &s, &err) == 0 && err == NULL);
	FUZZ_CHECK(s.uid == side_slot(&uid_side, 0) && s.gid == side_slot(&gid_side, 0));
	FUZZ_CHECK(userns_allocator_release(a, &s) == 0 && userns_allocator_used(a) == 0);
	userns_allocator_free(a);
}

static struct userns_range expect[FUZZ_SUBID_RANGES_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = malloc(size + 1);
	FUZZ_CHECK(input != NULL);
	memcpy(input, data, size);
	input[size] = '\0';

	/* The first line: NAME[:UID]. */
	char *text = strchrnul(input, '\n');
	if (*text)
		*text++ = '\0';
	char *colon = strchr(input, ':');
	uid_t uid = (uid_t)-1;
	uint32_t u;
	if (colon) {
		*colon = '\0';
		if (model_u32(colon + 1, colon + 1 + strlen(colon + 1), &u) && u != UINT32_MAX)
			uid = (uid_t)u;
	}
	const char *name = input[0] ? input : NULL;

	struct userns_range *v = NULL;
	size_t n = 0, n_expect = 0;
	char *err = NULL;
	int r = userns_subid_parse(text, FUZZ_SUBID_FILE, name, uid, &v, &n, &err);
	int m = model_parse(text, name, uid, expect, &n_expect);
	if (r < 0) {
		FUZZ_CHECK(r == m);
		FUZZ_CHECK(strncmp(err, FUZZ_SUBID_FILE, strlen(FUZZ_SUBID_FILE)) == 0);
		check_error(err);
		free(input);
		return 0;
	}
	FUZZ_CHECK(r == 0 && m == 0 && err == NULL);
	FUZZ_CHECK(n == n_expect && (n == 0 || v != NULL));
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(v[i].count > 0 && v[i].start > 0);
		FUZZ_CHECK((uint64_t)v[i].start + v[i].count <= UINT32_MAX); /* 4294967295 not inside */
		FUZZ_CHECK(v[i].start == expect[i].start && v[i].count == expect[i].count);
	}
	if (n > 0)
		fuzz_allocator(v, n);
	free(v);
	free(input);
	return 0;
}
