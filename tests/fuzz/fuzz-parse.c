/* Fuzz target for the parsers of what users type (common/parse.c, common/imagename.c). The input
 * is one NUL-terminated string. Whatever a parser accepts must be in range and parse again to
 * the same value; a normalized image name must normalize to itself. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/imagename.h"
#include "common/parse.h"
#include "tests/fuzz/fuzz.h"

/* --memory: a byte count that prints and parses back to itself. */
static void fuzz_size(const char *s)
{
	uint64_t v = 0, w = 0;
	int r = parse_size(s, &v);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r < 0)
		return;
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	FUZZ_CHECK(parse_size(buf, &w) == 0 && w == v);
}

/* cctl kill --signal: a valid signal whose name, if it has one, parses back to it. */
static void fuzz_signal(const char *s)
{
	int sig = 0, again = 0;
	int r = parse_signal(s, &sig);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r < 0)
		return;
	FUZZ_CHECK(sig >= 1 && sig <= SIGRTMAX);
	const char *name = signal_name(sig);
	if (name)
		FUZZ_CHECK(parse_signal(name, &again) == 0 && again == sig);
}

/* --user: a valid spec has at most one colon and no byte that could end a passwd field. */
static void fuzz_user(const char *s)
{
	if (!user_spec_valid(s))
		return;
	const char *colon = strchr(s, ':');
	FUZZ_CHECK(!colon || !strchr(colon + 1, ':'));
	FUZZ_CHECK(strcspn(s, "\n /,") == strlen(s));
}

/* --cpus: 1 to 1024000 millicpus that print and parse back to themselves. */
static void fuzz_cpus(const char *s)
{
	uint64_t m = 0, m2 = 0;
	int r = parse_cpus(s, &m);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r < 0)
		return;
	FUZZ_CHECK(m >= 1 && m <= 1024 * 1000);
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64 ".%03" PRIu64, m / 1000, m % 1000);
	FUZZ_CHECK(parse_cpus(buf, &m2) == 0 && m2 == m);
}

/* Image references: a normalized name is "repository:tag" and normalizes to itself. */
static void fuzz_image_name(const char *s)
{
	char *name = NULL, *again = NULL, *err = NULL;
	int r = image_name_normalize(s, &name, &err);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
		FUZZ_CHECK(name == NULL && (err != NULL || r == -ENOMEM));
		free(err);
		return;
	}
	FUZZ_CHECK(name != NULL && err == NULL);
	/* "repository:tag", the tag after the last '/'. */
	const char *slash = strrchr(name, '/'), *colon = strrchr(name, ':');
	FUZZ_CHECK(colon && colon > name && (!slash || colon > slash) && colon[1]);
	/* docker.io/ stays only where the next component would otherwise read as a registry. */
	if (strncmp(name, "docker.io/", 10) == 0) {
		const char *next = name + 10, *end = strchr(next, '/');
		FUZZ_CHECK(end && (memchr(next, '.', (size_t)(end - next)) || memchr(next, ':', (size_t)(end - next)) ||
				   ((size_t)(end - next) == 9 && strncmp(next, "localhost", 9) == 0)));
	}
	FUZZ_CHECK(strncmp(name, "index.docker.io/", 16) != 0);
	FUZZ_CHECK(strncmp(name, "library/", 8) != 0 || strchr(name + 8, '/'));
	r = image_name_normalize(name, &again, &err);
	if (r != 0 || strcmp(name, again) != 0)
		fprintf(stderr, "\"%s\" normalizes to \"%s\", which normalizes to \"%s\" (%s)\n", s, name,
			again ? again : "(error)", err ? err : "");
	FUZZ_CHECK(r == 0 && strcmp(name, again) == 0);
	free(again);
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Command-line arguments are C strings: whatever follows a NUL is not part of them. */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_size(s);
	fuzz_signal(s);
	fuzz_user(s);
	fuzz_cpus(s);
	fuzz_image_name(s);
	free(s);
	return 0;
}
