/* Parsers for the user-facing values both sides understand: sizes, signals, users, CPU counts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* "50m", "1g", "512k", "1048576" (binary units, as Docker). Returns -EINVAL or -ERANGE. */
int parse_size(const char *s, uint64_t *ret);

/* "KILL", "SIGKILL", "9", "sigterm"; returns -EINVAL for anything else. */
int parse_signal(const char *s, int *ret);
/* The name of a signal without "SIG", or NULL. */
const char *signal_name(int sig);

/* Whether s is a user as docker run -u takes it: NAME or UID, optionally ":GROUP" or ":GID";
 * names of letters, digits, '_', '.', '-' (and '$' at the end, as Samba machine accounts have). The
 * names are resolved later, in the container's own /etc/passwd and /etc/group. */
bool user_spec_valid(const char *s);

/* "1.5" -> 1500 millicpus. Rejects <= 0, more than 3 decimals and values above 1024 CPUs. */
int parse_cpus(const char *s, uint64_t *ret_millicpus);
