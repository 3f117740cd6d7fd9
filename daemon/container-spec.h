/* Turning a container's configuration and its image into the runtime spec it runs with: the
 * hardened defaults, then what the client asked to change. */
#pragma once

#include "runtime/spec.h"

struct container;
struct image;

int container_build_spec(const struct container *ct, const struct image *image, struct rt_spec *ret, char **reterr);
