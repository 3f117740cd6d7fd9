/* User namespaces for containers (--userns=auto, and the daemon's --userns-remap default).
 *
 * Container root is an unprivileged host uid: every container gets its own slice of 65536 host
 * uids and gids from the ranges that /etc/subuid and /etc/subgid give a user (`containd` by
 * default), and runs in a user namespace mapping 0..65535 onto that slice. Image layers stay
 * shared and untouched: each container sees them through idmapped mounts (Linux 5.19 or later
 * for overlayfs on top), never through a per-container copy or chown.
 *
 * This module has three parts: the subid files and a slice allocator (userns-subid.c), user
 * namespace fds for a mapping (userns.c), and idmapped mounts with the support check
 * (userns.c). It is a library: no event loop, no wire types. Tests: tests/unit/test-userns-subid.c
 * (unprivileged) and tests/unit/test-userns.c (as root).
 *
 * THE ORDER A CONTAINER INIT FOLLOWS (proven by tests/unit/test-userns.c, "init flow"):
 *
 *  1. The daemon allocates a slice (userns_allocator_alloc(); at restart it re-reserves the
 *     slices its persisted containers hold with userns_allocator_reserve()).
 *  2. The daemon clones the init with CLONE_NEWUSER together with every other namespace flag
 *     (NEWNS|NEWPID|NEWUTS|NEWIPC|NEWNET|NEWCGROUP) in ONE clone3 call. The kernel creates the
 *     user namespace first, so all the other namespaces are owned by it: container root holds
 *     CAP_SYS_ADMIN/CAP_NET_RAW/... over its own mount, uts and net namespaces, so mounting
 *     /proc, sethostname(), bringing lo up and ping (NET_RAW) keep working inside, while it
 *     has no capability at all over anything the host owns. Creating the user namespace later
 *     (unshare after the others) would leave the uts/net/ipc namespaces owned by the host's user
 *     namespace and container root unable to use them.
 *  3. The init blocks on its sync socket until the maps exist: before them it is "nobody" in
 *     its namespace (its kuid is still host 0, but it has no capability outside its namespace).
 *  4. The daemon (CAP_SETUID/CAP_SETGID in the parent namespace) writes the init's gid_map and
 *     uid_map with userns_set_maps(). A privileged writer needs no "setgroups deny", so
 *     setgroups() keeps working in the container (su, login, -u uid:gid with groups).
 *  5. The daemon opens the init's user namespace (userns_open_of()) and makes one detached,
 *     read-only idmapped mount per image layer with userns_idmap_mount(). Only the daemon can:
 *     mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the layer's filesystem (the
 *     host's user namespace). No extra process is needed: the init's own namespace is the
 *     idmapping. (userns_create() is for when no such process exists, e.g. the support probe.)
 *  6. The daemon chowns the container's own, empty upper and work dirs to the slice's root
 *     (host uid/gid = slice start), never anything in a layer.
 *  7. The daemon sends the layer mount fds over the sync socket (SCM_RIGHTS) and closes its
 *     copies. The init, root in its namespace and owner of its mount namespace, calls
 *     userns_overlay_mount(): it attaches the layers with move_mount() in a staging tmpfs of
 *     its own and mounts the overlay with them as lowerdirs and `userxattr` (inside a user
 *     namespace overlayfs cannot set its trusted.overlay.* xattrs, so opaque dirs and
 *     redirects would break; with userxattr it uses user.overlay.*, which the image store
 *     strips from layers, so a layer cannot smuggle overlay metadata in).
 *  8. SECURITY: the staged layer mounts must be gone before any container code runs. Mounts
 *     attached by the init are not "locked" the way inherited ones are, so container root
 *     could clear their read-only flag (mount_setattr) and write the SHARED layer through the
 *     idmapping (tried: it works). The overlay keeps private clones of its lower layers, so
 *     userns_overlay_mount() detaches the staging right after the overlay mount, before it
 *     returns. The init then goes on as today (/proc, /sys, /dev, hostname, pivot_root,
 *     capabilities, execve).
 *
 *  Prepared spares: a spare can be cloned with CLONE_NEWUSER ahead of time, since the maps of a
 *  user namespace can be written once at any later moment: the slice is allocated and the maps
 *  written when the run request arrives. The spare's self-attach to the v1 cgroups still works
 *  from inside its user namespace before the maps are written (it keeps host kuid 0, which the
 *  cgroup.procs checks accept), and unshare(CLONE_NEWCGROUP) after it too: checked by hand on
 *  this host (6.18, hybrid, pids and memory), not by the test suite.
 *
 * Measured here (kernel 6.18, ext4, 2 shared cores; the test prints its "cost" lines):
 *  - userns_create(): ~0.2 ms (-O2), ~1-5 ms under ASan (clone copies the ASan shadow's page
 *    tables); reaping the killed helper waits for it to be scheduled, which adds a scheduler
 *    tick (4 ms) on a loaded machine. The init flow needs no such helper.
 *  - userns_idmap_mount(): ~6-10 us per layer to make; releasing an unattached one ~40-180 us.
 *  - the daemon's side of the init flow (maps, namespace fd, three layer mounts): ~80-150 us.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Ids per container: the 16-bit id space every distribution image expects. */
#define USERNS_SLICE_SIZE 65536u
/* The user whose subordinate ids the daemon uses unless told otherwise (like Docker's dockremap). */
#define USERNS_DEFAULT_USER "containd"
/* The most lines a uid_map or gid_map may have (Linux 4.15 and later). */
#define USERNS_MAX_MAP_LINES 340

/* A range of host ids [start, start + count). */
struct userns_range {
	uint32_t start;
	uint32_t count;
};

/* A container's slice: container uid/gid 0..USERNS_SLICE_SIZE-1 are host uid/gid + that. */
struct userns_slice {
	uint32_t uid;
	uint32_t gid;
};

/* One line of a uid_map or gid_map. */
struct userns_idmap {
	uint32_t inside;
	uint32_t outside;
	uint32_t count;
};

/* Parses the text of a subid file (lines "name:start:count" or "uid:start:count") and returns
 * the ranges of the given user name or uid (uid (uid_t)-1: by name only), in file order.
 * Comments, blank lines and lines of other users are skipped without being parsed; a line of
 * this user that is malformed, has a count of 0, overflows 32 bits, or reaches uid 0 or the
 * invalid id 4294967295 fails with -EINVAL and a message naming file and line. No range is
 * not an error (*ret_n = 0). */
int userns_subid_parse(const char *text, const char *file, const char *name, uid_t uid, struct userns_range **ret,
		       size_t *ret_n, char **reterr);
/* Reads and parses a subid file (at most 4 MiB). */
int userns_subid_read(const char *path, const char *name, uid_t uid, struct userns_range **ret, size_t *ret_n,
		      char **reterr);

/* Hands out non-overlapping slices from the subordinate uid and gid ranges of a user. In memory
 * only: the daemon persists which container holds which slice and re-reserves it at restart. */
struct userns_allocator;

/* Builds an allocator from uid and gid ranges (overlapping or adjacent ranges are merged).
 * Fails with -ENOSPC and a message when either side has no room for a single slice. */
int userns_allocator_new(const struct userns_range *uids, size_t n_uids, const struct userns_range *gids, size_t n_gids,
			 struct userns_allocator **ret, char **reterr);
/* Reads subuid_path and subgid_path for user (its uid too when the user exists) and builds an
 * allocator; NULL paths mean /etc/subuid and /etc/subgid, a NULL user USERNS_DEFAULT_USER. */
int userns_allocator_load(const char *subuid_path, const char *subgid_path, const char *user,
			  struct userns_allocator **ret, char **reterr);
void userns_allocator_free(struct userns_allocator *a);
/* The lowest free slice (uids and gids chosen independently); -ENOSPC when the ranges are full. */
int userns_allocator_alloc(struct userns_allocator *a, struct userns_slice *ret, char **reterr);
/* Marks a given slice as taken (a container that survived a restart): -ERANGE when it is not
 * inside the ranges, -EBUSY when it overlaps a taken slice. */
int userns_allocator_reserve(struct userns_allocator *a, const struct userns_slice *s, char **reterr);
/* Gives a slice back; -ENOENT when it is not taken. */
int userns_allocator_release(struct userns_allocator *a, const struct userns_slice *s);
/* How many slices are taken. */
size_t userns_allocator_used(const struct userns_allocator *a);

/* The uid and gid map of a slice: one line, 0 -> start, USERNS_SLICE_SIZE ids. */
void userns_slice_maps(const struct userns_slice *s, struct userns_idmap *ret_uid, struct userns_idmap *ret_gid);

/* Writes the gid_map and then the uid_map of the process (pidfd, pid), which must be in a user
 * namespace whose maps were not written yet. The caller needs CAP_SETUID and CAP_SETGID in the
 * parent namespace. pidfd guards against pid reuse. */
int userns_set_maps(int pidfd, pid_t pid, const struct userns_idmap *uid_map, size_t n_uid,
		    const struct userns_idmap *gid_map, size_t n_gid, char **reterr);
/* Opens the user namespace of the process (pidfd, pid) as an O_CLOEXEC fd. */
int userns_open_of(int pidfd, pid_t pid, int *ret_fd, char **reterr);
/* Creates a user namespace with these maps and returns an fd to it: a child is cloned into a
 * new user namespace, its maps are written, its namespace opened, and it is killed and reaped. */
int userns_create(const struct userns_idmap *uid_map, size_t n_uid, const struct userns_idmap *gid_map, size_t n_gid,
		  int *ret_fd, char **reterr);
/* userns_create() for a slice. */
int userns_create_for_slice(const struct userns_slice *s, int *ret_fd, char **reterr);

/* Whether idmapped mounts work for the filesystem of path (a layer directory): checks the
 * kernel version (5.19, the first with overlayfs over idmapped layers) and then really makes
 * (and drops) one idmapped mount. -EOPNOTSUPP with "user namespace remapping needs idmapped
 * mounts (Linux 5.19 or later)" or a message naming the filesystem. For the daemon's start
 * with --userns-remap (once, on its layer directory), not for every container. */
int userns_idmap_check(const char *path, char **reterr);
/* Makes a detached, read-only, idmapped clone of the directory (dirfd, path) for userns_fd:
 * a file owned by id X on disk appears owned by the host id that X maps to in that namespace
 * (0 -> the slice's root), hence as X inside it. The fd can be attached with
 * move_mount(MOVE_MOUNT_F_EMPTY_PATH) or passed to another process. */
int userns_idmap_mount(int dirfd, const char *path, int userns_fd, int *ret_fd, char **reterr);
/* The init's side of steps 7 and 8 (see above), run in its own mount namespace as root of its
 * user namespace: mounts a tmpfs on the empty directory staging, attaches the layer mounts from
 * userns_idmap_mount() there (layer_fds[0] is the top-most layer, like overlay's lowerdir),
 * mounts the overlay with upperdir, workdir and userxattr (volatile when ephemeral: see rootfs.c)
 * on target, and detaches the staging
 * with everything under it, also on failure. The fds stay the caller's to close. */
int userns_overlay_mount(const int *layer_fds, size_t n_layers, const char *staging, const char *upperdir,
			 const char *workdir, bool ephemeral, const char *target, char **reterr);
