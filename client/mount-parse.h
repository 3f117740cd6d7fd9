/* cctl's mount flags, as Docker's CLI reads them: -v/--volume, --mount and --tmpfs, each into one
 * proto_mount (protocol/volume.h). Pure parsers (no I/O), fuzzed by tests/fuzz/fuzz-mount.c. The
 * message says what is wrong in Docker's words; the caller adds the flag's name. */
#pragma once

#include "protocol/volume.h"

/* -v [SOURCE:]TARGET[:OPTIONS]: SOURCE an absolute host path (a bind, its directory created
 * when missing) or a volume name; no SOURCE: an anonymous volume. OPTIONS: ro, rw, nocopy, z, Z
 * (SELinux labels: accepted and ignored, containd has no SELinux), private, rprivate. */
int mount_parse_volume(const char *arg, struct proto_mount *ret, char **reterr);
/* --mount type=bind|volume|tmpfs,source=,target=,readonly,volume-nocopy,tmpfs-size=,tmpfs-mode=
 * (Docker's keys and aliases: src, destination, dst, ro, bind-propagation=rprivate). */
int mount_parse_mount(const char *arg, struct proto_mount *ret, char **reterr);
/* --tmpfs PATH[:OPTIONS]: size=SIZE, mode=OCTAL, ro, rw, exec, noexec, nosuid, nodev. */
int mount_parse_tmpfs(const char *arg, struct proto_mount *ret, char **reterr);
