/* The container's filesystem view, built inside its new mount namespace: the overlay root, the
 * API filesystems and /dev, then pivot_root. Runs in the child only. */
#pragma once

#include <stddef.h>

struct spawn_config;

/* Returns 0 or -errno with a message in err. On return the cwd is the new "/". */
int rootfs_setup(const struct spawn_config *cfg, char *err, size_t errlen);
