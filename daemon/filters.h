/* Compiled seccomp programs, ready to hand to a container's init: each distinct program (profile x
 * capability set) is compiled once (runtime/seccomp.c's cache) and kept in a sealed memfd that
 * every container using it receives. Nothing is compiled or copied on the start path after the
 * first container with a given profile and capability set. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct filters;

int filters_new(struct filters **ret);
void filters_free(struct filters *f);
/* The memfd holding the program for profile_json (NULL: the default profile) and caps. The fd
 * stays owned by f (valid until the next filters_get or filters_free). */
int filters_get(struct filters *f, const char *profile_json, uint64_t caps, int *ret_fd, char **reterr);
