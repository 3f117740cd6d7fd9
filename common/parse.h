/* Parsers for the user-facing values both sides understand: sizes, signals, users, CPU counts. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* "50m", "1g", "512k", "1048576" (binary units, as Docker). Returns -EINVAL or -ERANGE. */
int parse_size(const char *s, uint64_t *ret);

/* "KILL", "SIGKILL", "9", "sigterm"; returns -EINVAL for anything else. */
int parse_signal(const char *s, int *ret);
/* The name of a signal without "SIG", or NULL. */
const char *signal_name(int sig);

/* "UID" or "UID:GID", numeric. When GID is omitted *ret_gid is set to (gid_t)-1. */
int parse_user(const char *s, uid_t *ret_uid, gid_t *ret_gid);

/* "1.5" -> 1500 millicpus. Rejects <= 0, more than 3 decimals and values above 1024 CPUs. */
int parse_cpus(const char *s, uint64_t *ret_millicpus);
