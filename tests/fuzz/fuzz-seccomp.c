/* Fuzz target for the seccomp profile parser and compiler (runtime/seccomp*.c). The input is a
 * profile in Docker's JSON format, given to seccomp_cache_get() as a peer's profile would be.
 * Whatever parses must compile or fail with a message, into a program the kernel would take
 * (whole instructions, under BPF_MAXINSNS, starting with the architecture check); a second get
 * of the same key returns the same program; a refusal is one of the documented errors and always
 * comes with a message. The capability mask is picked by the input's length, so both the
 * CAP_SYS_ADMIN paths and the unprivileged ones run. */
#include <errno.h>
#include <linux/filter.h>
#include <stddef.h>
#include <string.h>

#include "runtime/seccomp.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seccomp_profile *p = NULL;
	char *err = NULL;

	int r = seccomp_profile_parse((const char *)data, size, &p, &err);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -E2BIG || r == -EOPNOTSUPP || r == -ENOMEM);
		FUZZ_CHECK(p == NULL && err != NULL);
		free(err);
		return 0;
	}
	FUZZ_CHECK(p != NULL && err == NULL);
	seccomp_profile_free(p);

	struct seccomp_cache *c = NULL;
	if (seccomp_cache_new(&c) < 0)
		return 0;
	const struct seccomp_bpf *a = NULL, *b = NULL;
	uint64_t caps = (size & 1) ? ~UINT64_C(0) : 0;
	r = seccomp_cache_get(c, (const char *)data, size, caps, &a, &err);
	if (r < 0) {
		/* libseccomp may refuse what parses (conflicting actions for one syscall, say). */
		FUZZ_CHECK(a == NULL && err != NULL);
		free(err);
		seccomp_cache_free(c);
		return 0;
	}
	FUZZ_CHECK(a != NULL && err == NULL);
	FUZZ_CHECK(a->len > 0 && a->len % sizeof(struct sock_filter) == 0 &&
		   a->len <= BPF_MAXINSNS * sizeof(struct sock_filter));
	const struct sock_filter *first = (const struct sock_filter *)a->insns;
	FUZZ_CHECK(first->code == (BPF_LD | BPF_W | BPF_ABS) && first->k == 4); /* seccomp_data.arch */
	FUZZ_CHECK(seccomp_cache_get(c, (const char *)data, size, caps, &b, &err) == 0 && b == a);
	seccomp_cache_free(c);
	return 0;
}
