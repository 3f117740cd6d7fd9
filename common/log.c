#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <systemd/sd-journal.h>

#include "common/log.h"

static const char *log_ident = "containd";
static enum log_level log_max = LOG_LEVEL_INFO;
static bool log_journal;

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const int level_priority[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

int log_level_from_string(const char *s)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "warn") == 0)
		return LOG_LEVEL_WARNING;
	return -EINVAL;
}

void log_setup(const char *ident, enum log_level max_level, bool use_journal)
{
	log_ident = ident;
	log_max = max_level;
	log_journal = use_journal;
}

enum log_level log_get_level(void)
{
	return log_max;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	int saved = errno;
	char buf[2048];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_journal) {
		sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%i", level_priority[level],
				"SYSLOG_IDENTIFIER=%s", log_ident, NULL);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%s]: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, log_ident, level_names[level], buf);
	}
	errno = saved;
}
