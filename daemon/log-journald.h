/* The journald log driver: a container's stdout and stderr are stream connections to
 * systemd-journald (its "stdout" socket), so its output never passes through the daemon. The
 * stream protocol carries no custom fields: every line is tagged with the identifier
 * "containd/<first 12 characters of the id>" (SYSLOG_IDENTIFIER), stdout at priority info (6),
 * stderr at err (3); cctl logs reads them back by that identifier (docs/logs.md). */
#pragma once

/* The identifier of a container's journal entries, into buf (at least 32 bytes). */
void log_journald_identifier(const char *id, char *buf, unsigned size);
/* Opens the two streams (fds[0] stdout, fds[1] stderr): a clear message when journald is not
 * running here. */
int log_journald_open(const char *id, int fds[2], char **reterr);
