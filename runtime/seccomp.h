/* Seccomp for containers. A profile (Docker's default, built in, or a Docker JSON profile) is
 * parsed once into an architecture-independent form, compiled for the native architecture and
 * its compat architectures into a raw BPF program for one capability set, and installed by the
 * container's init just before execve. Only parsing and compiling use libseccomp; installing is
 * one seccomp(2) call, so a container's start path can reuse a program from seccomp_cache. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Limits on a profile that comes from a peer. */
#define SECCOMP_PROFILE_MAX_BYTES (1024 * 1024)
#define SECCOMP_PROFILE_MAX_RULES 4096 /* entries of "syscalls" */
#define SECCOMP_PROFILE_MAX_NAMES 16384 /* syscall names over all entries */
#define SECCOMP_MAX_ARGS 6 /* args of one entry: a syscall has six */
#define SECCOMP_CACHE_MAX 32 /* compiled programs kept by one cache */

struct seccomp_profile;

/* A compiled filter: len bytes of struct sock_filter, ready for seccomp_install(). */
struct seccomp_bpf {
	size_t len;
	unsigned char *insns;
};

/* Docker's default profile (moby profiles/seccomp), as this project's own table. */
int seccomp_profile_default(struct seccomp_profile **ret, char **reterr);
/* Parses a profile in Docker's JSON format. -EINVAL with a message naming the problem; -E2BIG
 * beyond the limits above. Syscall names unknown to this host are kept and skipped when
 * compiling, as Docker does. */
int seccomp_profile_parse(const char *json, size_t len, struct seccomp_profile **ret, char **reterr);
void seccomp_profile_free(struct seccomp_profile *p);

/* Compiles p for the native architecture (and the compat architectures its archMap or
 * architectures name) for a container whose bounding set is caps (bit n = capability n). */
int seccomp_compile(const struct seccomp_profile *p, uint64_t caps, struct seccomp_bpf **ret, char **reterr);
void seccomp_bpf_free(struct seccomp_bpf *bpf);

/* Installs bpf on the calling thread with seccomp(SECCOMP_SET_MODE_FILTER). Needs no_new_privs
 * or CAP_SYS_ADMIN; calls no libseccomp, allocates nothing: safe in a container's init. */
int seccomp_install(const struct seccomp_bpf *bpf);

/* Compiled programs by (profile content, caps), so that each profile is compiled once. */
struct seccomp_cache;

int seccomp_cache_new(struct seccomp_cache **ret);
void seccomp_cache_free(struct seccomp_cache *c);
/* The program for a JSON profile (json NULL: the default profile) and caps, compiled on first
 * use. *ret is owned by the cache and stays valid until the next seccomp_cache_get() or
 * seccomp_cache_free() (the cache evicts its least recently used entry beyond
 * SECCOMP_CACHE_MAX). */
int seccomp_cache_get(struct seccomp_cache *c, const char *json, size_t len, uint64_t caps,
		      const struct seccomp_bpf **ret, char **reterr);
