/* The rules an image tarball entry must pass before it is written to a layer directory. */
#pragma once

#include <stdbool.h>

/* Checks an entry path (and its hard-link target, if any) from a tar: refuses absolute paths,
 * ".." components, empty names and over-long paths. Returns 0, or -EINVAL with a message.
 * Writes through symlinks are refused at extraction time (they depend on the tree). */
int tarsafe_check_entry(const char *path, const char *hardlink, char **reterr);

/* Checks an entry's file type (S_IFREG, S_IFDIR, ... as in st_mode & S_IFMT): regular files,
 * directories, symlinks, hard links, char/block devices and fifos pass; sockets and unknown types
 * do not, nor anything but a directory where the path names the layer root ("./"). Returns 0, or
 * -EINVAL with a message. */
int tarsafe_check_type(const char *path, unsigned type, bool hardlink, char **reterr);

/* Whether path names the extraction root itself (".", "./", ".//."). */
bool tarsafe_path_is_root(const char *path);

/* Refuses an entry that shows the tarball is an image archive rather than a root filesystem: the
 * "oci-layout" file at the top of an OCI image layout (next to index.json and blobs/). Imported
 * as a rootfs it would give an image whose root is blobs/ and index.json. Returns 0, or -EINVAL
 * with a message that says what to use instead. */
int tarsafe_check_rootfs_entry(const char *path, unsigned type, char **reterr);
