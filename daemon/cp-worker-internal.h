/* What the copy worker's files share (cp-worker.c, cp-tar.c, cp-extract.c, cp-diff.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "daemon/cp-worker.h"

/* The worker's view of ids: host ids of a container in a user namespace are shifted. */
struct cp_ids {
	bool shifted;
	uint32_t uid_base, gid_base;
};

/* A host id as the container sees it (ids outside the slice stay as they are). */
uint32_t cp_ids_to_container(uint32_t id, uint32_t base, bool shifted);
/* A container id as a host id; -ERANGE outside the slice. */
int cp_ids_to_host(uint32_t id, uint32_t base, bool shifted, uint32_t *ret);

/* Whether the filesystem under fd holds plain files (overlay, tmpfs, disk filesystems), not a
 * kernel interface (proc, sysfs, cgroup, ...). */
bool cp_fs_is_plain(int fd);

/* Opens path in the root root_fd: symlinks are followed inside the root only, magic links never.
 * flags as for openat; last_nofollow keeps a symlink named by the last component. */
int cp_open_in_root(int root_fd, const char *path, int flags, bool last_nofollow);

/* Writes the tree at path (top name given by the tar entry name top) to fd as a tar stream.
 * children_only: the entries of a directory under top/ without top itself ("" for export). */
int cp_tar_write(int root_fd, const char *path, bool follow, const char *top, bool children_only, int fd,
		 const struct cp_ids *ids, uint64_t *ret_size, char **reterr);

/* Writes the container's upper dir upper_fd to fd as an image layer (whiteouts as ".wh." entries,
 * opaque directories with ".wh..wh..opq"), and its sha256 (the diff_id) in hex. */
int cp_layer_write(int upper_fd, int fd, const struct cp_ids *ids, char digest_hex[65], uint64_t *ret_size,
		   char **reterr);

/* Extracts the tar stream on fd into the directory dir_fd. */
int cp_extract(int dir_fd, int fd, bool archive, const struct cp_ids *ids, uint64_t *ret_size, char **reterr);

/* Writes the changes of upper against the layers (topmost first) to out_fd, sorted. */
int cp_diff(int upper_fd, const int *layer_fds, size_t n_layers, int out_fd, char **reterr);

/* Writes all of buf to fd, waiting when fd is non-blocking. */
int cp_write_full(int fd, const void *buf, size_t len);
