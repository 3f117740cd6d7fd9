/* Leveled logging to stderr, or to the journal when running under systemd. */
#pragma once

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Parses "error", "warning", "info" or "debug"; returns the level or -EINVAL. */
int log_level_from_string(const char *s);
void log_setup(const char *ident, enum log_level max_level, bool use_journal);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Logs with errno set from r (so "%m" works) and returns r. */
#define log_errno(level, r, ...) ({ int _r_ = (r); errno = _r_ < 0 ? -_r_ : _r_; log_msg(level, __VA_ARGS__); _r_; })
