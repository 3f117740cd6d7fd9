#include <errno.h>
#include <stdio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "daemon/log-journald.h"

void log_journald_identifier(const char *id, char *buf, unsigned size)
{
	snprintf(buf, size, "containd/%.12s", id);
}

int log_journald_open(const char *id, int fds[2], char **reterr)
{
	char ident[32];
	log_journald_identifier(id, ident, sizeof(ident));
	/* level_prefix off: a container printing "<3>" keeps it as text rather than choosing its
	 * own priority. */
	int out = sd_journal_stream_fd(ident, LOG_INFO, 0);
	if (out < 0)
		return err_set(reterr, out,
			       "the journald log driver needs systemd-journald, which is not reachable here "
			       "(/run/systemd/journal/stdout): %m");
	int errfd = sd_journal_stream_fd(ident, LOG_ERR, 0);
	if (errfd < 0) {
		close(out);
		return err_set(reterr, errfd, "cannot open a journal stream for stderr: %m");
	}
	/* sd_journal_stream_fd() sets close-on-exec on the socket it returns. */
	fds[0] = out;
	fds[1] = errfd;
	return 0;
}
