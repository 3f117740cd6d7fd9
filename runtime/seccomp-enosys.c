/* The ENOSYS prefix runc puts in front of every filter Docker hands it, written here for the
 * programs seccomp_compile() exports.
 *
 * A profile that denies by default answers EPERM to every syscall it does not name, including
 * those newer than the profile. libc treats EPERM as a real refusal, but ENOSYS as "this kernel
 * lacks the call" and falls back to an older one (fchmodat2 to fchmodat, clone3 to clone, ...).
 * So, like runc, a syscall numbered above the highest number the profile names for the caller's
 * ABI fails with ENOSYS; all others go through the filter. Why that is safe: the prefix returns
 * only ENOSYS (a denial) or hands over to the full filter, which still decides everything else;
 * a call above the profile's highest number was denied anyway. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>

#include "runtime/seccomp-enosys.h"

/* x32 syscalls share AUDIT_ARCH_X86_64 and carry this bit in their number. */
#define SECCOMP_X32_SYSCALL_BIT 0x40000000u

/* Symbolic jump targets, resolved once the prefix is complete. */
enum { TO_NEXT, TO_ENOSYS, TO_FILTER };

struct seccomp_stub {
	struct sock_filter insns[SECCOMP_ENOSYS_MAX_INSNS];
	unsigned char jt[SECCOMP_ENOSYS_MAX_INSNS], jf[SECCOMP_ENOSYS_MAX_INSNS]; /* TO_* */
	size_t n;
};

/* Appends one instruction whose jumps are symbolic (TO_*) until the prefix is complete. */
static int seccomp_stub_emit(struct seccomp_stub *s, uint16_t code, uint32_t k, unsigned char jt, unsigned char jf)
{
	if (s->n >= SECCOMP_ENOSYS_MAX_INSNS)
		return -E2BIG;
	s->insns[s->n] = (struct sock_filter){ .code = code, .k = k };
	s->jt[s->n] = jt;
	s->jf[s->n] = jf;
	s->n++;
	return 0;
}

/* One ABI's test: above max, ENOSYS; else the filter. */
static int seccomp_stub_limit(struct seccomp_stub *s, int64_t max)
{
	if (max < 0)
		return seccomp_stub_emit(s, BPF_JMP | BPF_JA, 0, TO_FILTER, TO_FILTER);
	return seccomp_stub_emit(s, BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max, TO_ENOSYS, TO_FILTER);
}

/* The kernel's architecture word for a libseccomp architecture token (x32 reports x86_64). */
static uint32_t seccomp_audit_arch(uint32_t token)
{
	return token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
}

/* Lays the prefix out as: load the architecture; one jeq per architecture word to its section;
 * otherwise on to the filter. Each section loads the syscall number and compares it with its
 * ABI's highest (x86_64 and x32 told apart by the x32 bit). Last comes the ENOSYS return, and
 * the filter starts right after it. */
int seccomp_enosys_stub(const uint32_t *arches, const int64_t *max, size_t n, struct sock_filter *ret,
			size_t *ret_len)
{
	struct seccomp_stub s = { .n = 0 };
	size_t dispatch[SECCOMP_ENOSYS_MAX_ARCHES];
	uint32_t audit[SECCOMP_ENOSYS_MAX_ARCHES];
	size_t n_audit = 0;
	int r;

	if (n > SECCOMP_ENOSYS_MAX_ARCHES)
		return -E2BIG;
	/* One section per architecture word: x86_64 and x32 share one. */
	for (size_t i = 0; i < n; i++) {
		uint32_t a = seccomp_audit_arch(arches[i]);
		bool seen = false;
		for (size_t j = 0; j < n_audit; j++)
			seen |= audit[j] == a;
		if (!seen)
			audit[n_audit++] = a;
	}

	r = seccomp_stub_emit(&s, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), TO_NEXT, TO_NEXT);
	for (size_t i = 0; r == 0 && i < n_audit; i++) {
		dispatch[i] = s.n;
		r = seccomp_stub_emit(&s, BPF_JMP | BPF_JEQ | BPF_K, audit[i], TO_NEXT, TO_NEXT);
	}
	/* An architecture not in the filter: the filter's bad-architecture action decides. */
	if (r == 0)
		r = seccomp_stub_emit(&s, BPF_JMP | BPF_JA, 0, TO_FILTER, TO_FILTER);

	for (size_t i = 0; r == 0 && i < n_audit; i++) {
		int64_t native = -1, x32 = -1;
		bool has_x32 = false;
		for (size_t j = 0; j < n; j++) {
			if (seccomp_audit_arch(arches[j]) != audit[i])
				continue;
			if (arches[j] == SCMP_ARCH_X32) {
				has_x32 = true;
				x32 = max[j];
			} else {
				native = max[j];
			}
		}
		/* The jeq's true branch lands here; the offset always fits: the prefix is short. */
		s.insns[dispatch[i]].jt = (unsigned char)(s.n - dispatch[i] - 1);
		r = seccomp_stub_emit(&s, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), TO_NEXT, TO_NEXT);
		/* s390 multiplexes large syscall numbers through setup(2), number 0, which an
		 * unknown syscall is left as: that is ENOSYS too, as runc does. */
		if (r == 0 && (audit[i] == AUDIT_ARCH_S390 || audit[i] == AUDIT_ARCH_S390X))
			r = seccomp_stub_emit(&s, BPF_JMP | BPF_JEQ | BPF_K, 0, TO_ENOSYS, TO_NEXT);
		if (r == 0 && audit[i] == AUDIT_ARCH_X86_64) {
			/* x32 numbers have the bit set: skip to their own limit (one instruction on). */
			r = seccomp_stub_emit(&s, BPF_JMP | BPF_JSET | BPF_K, SECCOMP_X32_SYSCALL_BIT, TO_NEXT, TO_NEXT);
			if (r == 0) {
				s.insns[s.n - 1].jt = 1;
				r = seccomp_stub_limit(&s, native);
			}
			if (r == 0)
				r = seccomp_stub_limit(&s, has_x32 ? x32 : -1);
		} else if (r == 0) {
			r = seccomp_stub_limit(&s, native);
		}
	}
	if (r == 0)
		r = seccomp_stub_emit(&s, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, TO_NEXT, TO_NEXT);
	if (r < 0)
		return r;

	/* Resolve the symbolic targets: the ENOSYS return is the last instruction, the filter
	 * starts right after it. */
	size_t enosys = s.n - 1, filter = s.n;
	for (size_t i = 0; i < s.n; i++) {
		size_t targets[2] = { 0, 0 };
		unsigned char kinds[2] = { s.jt[i], s.jf[i] };
		for (int b = 0; b < 2; b++)
			targets[b] = kinds[b] == TO_ENOSYS ? enosys : kinds[b] == TO_FILTER ? filter : 0;
		if (BPF_CLASS(s.insns[i].code) != BPF_JMP)
			continue;
		if (BPF_OP(s.insns[i].code) == BPF_JA) {
			s.insns[i].k = (uint32_t)(targets[0] - i - 1);
			continue;
		}
		if (kinds[0] != TO_NEXT)
			s.insns[i].jt = (unsigned char)(targets[0] - i - 1);
		if (kinds[1] != TO_NEXT)
			s.insns[i].jf = (unsigned char)(targets[1] - i - 1);
	}
	for (size_t i = 0; i < s.n; i++)
		ret[i] = s.insns[i];
	*ret_len = s.n;
	return 0;
}
