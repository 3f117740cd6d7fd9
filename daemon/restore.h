/* Live restore: a daemon that starts finds the containers of the one before it still running under
 * containd-keeper, or their exits kept there, and takes them over. */
#pragma once

#include <stddef.h>

struct registry;
struct container;
struct supervisor_child;

/* What the keeper had when this daemon started (supervisor_list); NULL/0 without a keeper. */
struct restore {
	struct supervisor_child *children;
	size_t n;
};

int restore_begin(struct registry *reg, struct restore *rs);
/* A container whose record says it ran (container_record_load returned 1), linked in the
 * registry: re-adopted if the keeper's child with its pid and start time runs, reported exited
 * with the code the keeper kept if it exited meanwhile, else exited with 255 (its keeper died). */
void restore_container(struct registry *reg, struct restore *rs, struct container *ct);
/* The keeper's children no record claimed (spares of the daemon before, containers whose record
 * was lost) are killed and forgotten; frees rs. */
void restore_end(struct registry *reg, struct restore *rs);
