/* The processes of a container, described as `ps -ef` does (what `docker top` shows): one row of
 * UID, PID, PPID, C, STIME, TTY, TIME and CMD per process of its cgroup, with host pids, read
 * from /proc/PID/{stat,status,cmdline}. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/cgroup.h"

#define PROCPS_COLUMNS 8
/* At most this many processes are described; the rest are left out (truncated). */
#define PROCPS_MAX_PROCESSES 4096
/* At most this many bytes of a command line are shown. */
#define PROCPS_CMDLINE_MAX 4096

/* "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD". */
extern const char *const procps_titles[PROCPS_COLUMNS];

struct procps_table {
	char **cells;   /* n_rows * PROCPS_COLUMNS strings, row by row, printable ASCII only */
	size_t n_rows;
	bool truncated; /* the cgroup held more than the max processes asked for */
};

/* Describes at most max processes of the container's cgroup, in pid order. A process that exits
 * meanwhile is left out; a pid that is not (or no longer) in the cgroup is never read. */
int procps_cgroup(const struct container_cgroup *cg, size_t max, struct procps_table *ret, char **reterr);
void procps_table_done(struct procps_table *t);
