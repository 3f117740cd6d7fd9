/* A container's state record under --root (see container-record.c). */
#pragma once

struct container;
struct registry;

/* Saves what `ps -a` and `inspect` show; --rm containers are never saved. Logs failures. */
void container_record_save(struct container *ct);
/* Loads the record in dir: 0 for an exited container, 1 for one that was running when its daemon
 * stopped (state exited for now; ct->proc holds the recorded pid and start time, no pidfd:
 * daemon/restore.c decides what became of it), -ENOENT when there is none, another -errno (with a
 * message) when the record cannot be trusted. */
int container_record_load(struct registry *reg, const char *dir, struct container **ret, char **reterr);
/* Deletes the record of container id (none is fine): 0 or -errno. */
int container_record_remove(const struct registry *reg, const char *id);
