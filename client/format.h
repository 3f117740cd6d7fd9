/* Human-readable output as docker prints it: durations, sizes, truncated commands and tables. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Parses an RFC 3339 timestamp ("2024-05-01T10:00:00.123Z", or with a +hh:mm offset) into
 * seconds since the epoch. Returns -EINVAL for anything else. */
int format_parse_time(const char *s, time_t *ret);

/* "Less than a second", "3 seconds", "About a minute", "5 hours", "2 weeks" (docker's units). */
void format_duration(int64_t seconds, char *buf, size_t size);

/* How long ago an RFC 3339 timestamp was, as "5 seconds ago"; "" if it cannot be parsed. */
void format_ago(const char *rfc3339, time_t now, char *buf, size_t size);

/* Decimal units with 3 significant digits: "7.8MB", "512B", "1.23GB". */
void format_size(uint64_t bytes, char *buf, size_t size);

/* The argv as docker's ps shows it: joined by spaces, cut to max characters with an ellipsis
 * and double-quoted. Caller frees; NULL on ENOMEM. */
char *format_command(const char *const *argv, size_t argc, size_t max);

/* A table of left-aligned columns separated by three spaces, sized to their widest cell. */
struct table;
struct table *table_new(size_t ncols);
/* Adds a row of ncols cells (copied). Returns 0 or -ENOMEM. */
int table_add_row(struct table *t, const char *const *cells);
/* Prints the rows. Returns 0 or -errno (-EPIPE if stdout went away). */
int table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

static inline void table_freep(struct table **t)
{
	if (*t)
		table_free(*t);
}
#define _cleanup_table_ __attribute__((cleanup(table_freep)))
