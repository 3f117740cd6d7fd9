/* What container.c shares with container-start.c: the steps of making and launching a container
 * that run, create and start have in common. */
#pragma once

#include "daemon/container-ns.h"
#include "daemon/container.h"
#include "runtime/process.h"

/* A new container object with cfg taken over; nothing of it exists anywhere yet. */
struct container *container_alloc(struct registry *reg, struct container_config *cfg);
/* What run and create check before anything is made: the number of containers, the name, the
 * user namespace (sets ct->userns). */
int container_check_new(struct container *ct, char **reterr);
/* The name (or the short id), the image id and the image's stop signal, once the id is known. */
int container_set_identity(struct container *ct, const struct image *image, char **reterr);
/* Builds the spec of the next run into ct->spec, and gets its seccomp program (an fd the filters
 * keep: valid until the next one is asked for, never closed by the caller). */
int container_prepare_spec(struct container *ct, const struct image *image, int *ret_seccomp_fd, char **reterr);
/* Hands the spec to an init that is the container's now (ct->cg set, directories in place) and
 * watches it. stdio fds stay the caller's. -errno when it could not be started: if it could still
 * be watched (*ret_watched) its exit goes through the monitor as a failed start, else it was
 * killed and its cgroups removed here. */
int container_launch(struct container *ct, struct rt_init *init, int stdio_fds[3], int seccomp_fd,
		     const struct container_ns_start *ns, bool *ret_watched, char **reterr);
/* The container's directory with an empty upper and work dir, as a spare has them (in a user
 * namespace they belong to the slice's root). */
int container_create_dirs(struct container *ct, char **reterr);
