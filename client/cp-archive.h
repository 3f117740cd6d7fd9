/* cctl's side of the tar streams of `cctl cp`: a local tree as a tar stream (into a container)
 * and a container's tar stream extracted locally, with the user's own privileges. libarchive is
 * loaded only when a copy needs it: every other cctl command starts without it (it and its
 * compression libraries cost milliseconds at each start). */
#pragma once

#include <stdbool.h>

/* Writes the local path src (a directory's whole tree) to fd as a tar stream whose top entry
 * is named top ("." with children_only: the entries of the directory src without itself).
 * follow: a symlink named by src itself is followed (-L). */
int cp_archive_write(const char *src, bool follow, const char *top, int fd, char **reterr);

/* Extracts the tar stream on fd into the local directory dir, its top entry (the first
 * component of every name) renamed to new_top, or dropped when new_top is NULL (the entries go
 * straight into dir). owners: keep the tar's owners (archive mode, as root). Never writes
 * through a symlink, never outside dir. */
int cp_archive_extract(int fd, const char *dir, const char *new_top, bool owners, char **reterr);
