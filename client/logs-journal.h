/* cctl logs of a container that logs to journald: its entries are read from the local journal
 * by their SYSLOG_IDENTIFIER (daemon/log-journald.h), through libsystemd loaded only then, so
 * that every other cctl command starts without it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/logfmt.h"

/* Gets one entry's message (its newline restored) and stream (LOGFMT_STDOUT, LOGFMT_STDERR). */
typedef int (*logs_journal_emit_fn)(void *userdata, int stream, uint64_t time_ns, const char *p, size_t len);

/* Emits the entries with identifier (stdout for priority info, stderr for err) selected by f;
 * with follow, goes on until wait_fd becomes readable (the reply to container.wait: the
 * container exited), then emits what is left. */
int logs_journal_read(const char *identifier, const struct logfmt_filter *f, bool follow, int wait_fd,
		      logs_journal_emit_fn emit, void *userdata, char **reterr);
