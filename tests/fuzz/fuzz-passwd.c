/* Fuzz target for resolving -u NAME[:GROUP] in an image's account files (runtime/passwd.c), which
 * an image author controls entirely. The input is the user spec, a NUL byte, the passwd text, a
 * NUL byte, the group text; a missing part is a missing file (NULL). Checks: a refusal is one of
 * the documented errors with a message and returns nothing; a success never yields the id -1 (the
 * kernel's "no change"), has a HOME, at most 1024 distinct supplementary groups, none of them -1;
 * a number (or UID:GID) always resolves, to itself. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/passwd.h"
#include "tests/fuzz/fuzz.h"

/* The numeric id s would mean (all digits, below 2^32-1, at most 10 of them), as passwd.c parses. */
static bool numeric_id(const char *s, size_t len, uint32_t *ret)
{
	uint64_t v = 0;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = (uint32_t)v;
	return v < UINT32_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A NUL-terminated copy; the parts are the NUL-separated strings in it. */
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	const char *spec = buf, *passwd = NULL, *group = NULL;
	size_t slen = strlen(spec);
	if (slen < size) {
		passwd = buf + slen + 1;
		size_t plen = strlen(passwd);
		if (slen + 1 + plen < size)
			group = passwd + plen + 1;
	}

	struct passwd_user u;
	char err[256] = "";
	int r = passwd_resolve_text(spec, passwd, group, &u, err, sizeof(err));
	const char *colon = strchr(spec, ':');
	uint32_t want_uid = 0, want_gid = 0;
	bool num_user = numeric_id(spec, colon ? (size_t)(colon - spec) : slen, &want_uid);
	bool num_group = colon && numeric_id(colon + 1, strlen(colon + 1), &want_gid);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -ENOENT || r == -E2BIG || r == -ENOMEM);
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(u.home == NULL && u.groups == NULL && u.n_groups == 0);
		/* only a user's group list can overflow; a plain number always resolves */
		FUZZ_CHECK(!(num_user && (!colon || num_group)) || r == -E2BIG || r == -ENOMEM);
		free(buf);
		return 0;
	}
	FUZZ_CHECK(u.uid != (uid_t)-1 && u.gid != (gid_t)-1);
	FUZZ_CHECK(u.home != NULL);
	FUZZ_CHECK(u.n_groups <= 1024);
	FUZZ_CHECK(u.n_groups == 0 || u.groups != NULL);
	for (size_t i = 0; i < u.n_groups; i++) {
		FUZZ_CHECK(u.groups[i] != (gid_t)-1);
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(u.groups[k] != u.groups[i]);
	}
	if (num_user)
		FUZZ_CHECK(u.uid == want_uid);
	if (num_group)
		FUZZ_CHECK(u.gid == want_gid);
	passwd_user_done(&u);
	free(buf);
	return 0;
}
