/* The ENOSYS prefix of a deny-by-default filter (runtime/seccomp-enosys.c). Internal to
 * runtime/seccomp*.c. */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECCOMP_ENOSYS_MAX_ARCHES 16
/* ld, a jeq per arch, ja, then at most ld + jeq + jset + two limits per arch, and the ret: all
 * jump offsets stay far below the 255 of a conditional jump. */
#define SECCOMP_ENOSYS_MAX_INSNS (3 + 6 * SECCOMP_ENOSYS_MAX_ARCHES + 1)

/* Builds the prefix for the filter's architectures (libseccomp tokens) given, for each, the
 * highest syscall number the profile names (-1: none). */
int seccomp_enosys_stub(const uint32_t *arches, const int64_t *max, size_t n, struct sock_filter *ret,
			size_t *ret_len);
