/* Versioned state records on disk: one JSON file per container, written atomically (temp file,
 * fsync, rename), so a crash leaves the old record or the new one, never half of one. A record
 * that cannot be trusted (torn, not JSON, an unknown version) is quarantined and reported, never
 * half-loaded. */
#pragma once

#include <jansson.h>

/* 2: containers can be created without starting and started again (restart policies). */
#define PERSIST_VERSION 2
/* The oldest version this daemon still reads. */
#define PERSIST_VERSION_MIN 1

/* Writes record (plus "version") to path atomically. */
int persist_write(const char *path, json_t *record, char **reterr);
/* Reads and checks a record: -ENOENT when there is none, -EBADMSG when it is not a JSON object,
 * -EPROTONOSUPPORT for a version outside PERSIST_VERSION_MIN..PERSIST_VERSION; always with a
 * message. *ret_version says which version it is. */
int persist_read(const char *path, json_t **ret, int *ret_version, char **reterr);
/* Moves dir out of the way to <parent>/.quarantine/<name>-<time> for a human to look at. */
int persist_quarantine(const char *dir, char **reterr);
