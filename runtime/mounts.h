/* The mounts a user asks for (-v, --mount, --tmpfs): bind mounts attached with the new mount API
 * (open_tree, mount_setattr, move_mount) on a target opened inside the container's root, and the
 * first-use copy of the image's content into an empty volume. Used by rootfs.c, in the init. */
#pragma once

#include <stddef.h>

#include "runtime/spec.h"

/* The MOUNT_ATTR_* a bind mount takes from the MS_* flags of a spec's mount (ro, nosuid, nodev,
 * noexec, the atime flags); *ret_clr gets what must be cleared for them (the atime field). */
unsigned long long mounts_attr_from_flags(unsigned long flags, unsigned long long *ret_clr);

/* Copies the directory tree src (the image's content at a volume's mount point) into dst (the
 * volume, still empty), keeping owners, modes, times, extended attributes, symlinks as links and
 * device nodes as nodes. Nothing in src is followed: each name is opened with O_NOFOLLOW below the
 * directory fd of its parent, so a link in the image can neither make the copy read a host file
 * nor write outside dst. Does nothing when dst is not empty (a volume is seeded once). */
int mounts_copy_up(int src, int dst, char *err, size_t errlen);
