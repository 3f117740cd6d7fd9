/* The container's root filesystem, built inside the init's private mount namespace: the overlay of
 * image layers, the spec's mounts (/proc, /dev, /sys, ...), the device nodes, the masked and
 * read-only paths, then pivot_root. Every mount target is resolved inside the new root with
 * openat2(RESOLVE_IN_ROOT) and refused when a symlink leads there, so an image cannot point a
 * mount at the host. */
#pragma once

#include <stddef.h>

#include "runtime/spec.h"

/* Runs in the init while it waits for its spec: makes the mount tree private and builds the
 * default /proc, /dev and /sys (see spec_init_default) on a tmpfs at dir, so that a start with a
 * default spec only moves them into the root. userns: the init is in a user namespace of its own
 * (device nodes are bound from the host, not made). On failure the start builds them itself. */
int rootfs_prepare(const char *dir, bool userns, char *err, size_t errlen);

/* Runs in the init, before pivot_root; on failure fills err (a message for the client). In a user
 * namespace the layers come as idmapped mounts (layer_fds, topmost first). */
int rootfs_setup(const struct rt_spec *spec, const int *layer_fds, size_t n_layers, char *err, size_t errlen);

/* The init hands over the /dev/shm (a detached clone of its mount) of the process whose IPC
 * namespace it joins: the mount of the spec marked ipc_shared is moved there (taken over). */
void rootfs_set_ipc_shm(int fd);

/* Opens path inside the (already entered) root, refusing magic links such as /proc/self/fd/N and
 * never leaving the root through ".." or an absolute symlink. */
int rootfs_open_in_root(const char *path, int flags);
