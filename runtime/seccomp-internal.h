/* The parsed form of a seccomp profile, shared by the built-in default table
 * (seccomp-default.c), the JSON parser (seccomp-json.c) and the compiler (seccomp.c). It mirrors
 * Docker's profile format after parsing: no libseccomp types, so a profile is the same on every
 * architecture until it is compiled. */
#pragma once

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/seccomp.h"

enum seccomp_action {
	SECCOMP_ACTION_ALLOW,
	SECCOMP_ACTION_ERRNO,
	SECCOMP_ACTION_KILL_THREAD,
	SECCOMP_ACTION_KILL_PROCESS,
	SECCOMP_ACTION_TRAP,
	SECCOMP_ACTION_TRACE,
	SECCOMP_ACTION_LOG,
};

/* The values of libseccomp's enum scmp_compare, so the compiler passes them through. */
enum seccomp_op {
	SECCOMP_OP_NE = 1,
	SECCOMP_OP_LT,
	SECCOMP_OP_LE,
	SECCOMP_OP_EQ,
	SECCOMP_OP_GE,
	SECCOMP_OP_GT,
	SECCOMP_OP_MASKED_EQ,
};

/* Architectures as Docker's includes/excludes name them (Go's names): one bit each. */
enum {
	SECCOMP_GOARCH_AMD64 = 1u << 0,
	SECCOMP_GOARCH_X86 = 1u << 1,
	SECCOMP_GOARCH_X32 = 1u << 2,
	SECCOMP_GOARCH_ARM = 1u << 3,
	SECCOMP_GOARCH_ARM64 = 1u << 4,
	SECCOMP_GOARCH_PPC64LE = 1u << 5,
	SECCOMP_GOARCH_S390 = 1u << 6,
	SECCOMP_GOARCH_S390X = 1u << 7,
	SECCOMP_GOARCH_RISCV64 = 1u << 8,
	SECCOMP_GOARCH_LOONG64 = 1u << 9,
	SECCOMP_GOARCH_MIPS64 = 1u << 10,
	SECCOMP_GOARCH_MIPSEL64 = 1u << 11,
	SECCOMP_GOARCH_PPC64 = 1u << 12,
	SECCOMP_GOARCH_PPC = 1u << 13,
	SECCOMP_GOARCH_MIPS = 1u << 14,
	SECCOMP_GOARCH_MIPSEL = 1u << 15,
};

/* Known to profiles (Docker's archMap names it) before it is known to every libseccomp: the
 * kernel's AUDIT_ARCH_LOONGARCH64. */
#ifndef SCMP_ARCH_LOONGARCH64
#define SCMP_ARCH_LOONGARCH64 0xc0000102u
#endif

#define SECCOMP_KERNEL(major, minor) (((uint32_t)(major) << 16) | (uint32_t)(minor))

struct seccomp_arg {
	unsigned index; /* 0-5 */
	enum seccomp_op op;
	uint64_t value, value_two;
};

/* Docker's includes/excludes. Includes: all caps, the native arch among arches, the kernel at
 * least min_kernel. Excludes: any of caps, the native arch among arches, or the kernel at least
 * min_kernel. A zero field is absent. */
struct seccomp_filter {
	uint64_t caps;
	uint32_t arches;
	uint32_t min_kernel;
	bool never; /* includes a capability this host does not know: never applies */
};

struct seccomp_rule {
	const char *const *names; /* NULL-terminated */
	enum seccomp_action action;
	int errno_ret; /* ERRNO's errno or TRACE's message; -1: EPERM as Docker */
	unsigned n_args;
	struct seccomp_arg args[SECCOMP_MAX_ARGS];
	struct seccomp_filter includes, excludes;
};

#define SECCOMP_MAX_SUBARCHES 4

struct seccomp_archmap {
	uint32_t arch; /* SCMP_ARCH_* (AUDIT_ARCH_*) */
	unsigned n_sub;
	uint32_t sub[SECCOMP_MAX_SUBARCHES];
};

#define SECCOMP_MAX_ARCHES 32

struct seccomp_profile {
	enum seccomp_action default_action;
	int default_errno; /* -1: EPERM */
	/* "architectures": exactly these (plus the native one); else the archMap entry of the
	 * native architecture; else only the native architecture. */
	unsigned n_arches;
	uint32_t arches[SECCOMP_MAX_ARCHES];
	const struct seccomp_archmap *archmap;
	size_t n_archmap;
	const struct seccomp_rule *rules;
	size_t n_rules;
	bool owned; /* rules, names and archmap are malloc'ed (a parsed profile) */
};
