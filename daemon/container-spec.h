/* Turning a container's configuration and its image into the runtime spec it runs with: the
 * hardened defaults, then what the client asked to change. */
#pragma once

#include <stddef.h>

#include "runtime/spec.h"

struct container;
struct image;

int container_build_spec(const struct container *ct, const struct image *image, struct rt_spec *ret, char **reterr);

/* Sets KEY=VALUE in a list of n entries: it replaces an entry with the same key, or is appended.
 * An entry without '=' is ignored. 0 or -ENOMEM. */
int container_spec_env_set(char ***env, size_t *n, const char *entry);
