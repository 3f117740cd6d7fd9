/* The processes of a container as `ps -ef` shows them (see procps.h). Everything in /proc/PID of
 * a container's process is under the container's control (its command line, its comm), so every
 * string that leaves here is cut to printable ASCII: nothing reaches a terminal of the client as a
 * control sequence, and every string is valid UTF-8 for the JSON encoder. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/procps.h"

#define STAT_MAX 4096  /* /proc/PID/stat: a comm of 16 bytes and 52 numbers */
#define STATUS_MAX 16384

const char *const procps_titles[PROCPS_COLUMNS] = { "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD" };

/* What every row needs: the clock ticks and when the host booted. */
struct procps_clock {
	unsigned long long hz;
	double boot;   /* the wall-clock time of the boot, in seconds */
	double uptime; /* seconds since the boot */
	struct tm now;
};

/* The last user looked up, since the processes of a container mostly share one. */
struct procps_user {
	uid_t uid;
	char name[64];
	bool valid;
};

/* Reads at most max bytes of a file below dirfd: /proc files are read in one go, and a command
 * line longer than what is shown is no error (read_file_at() would refuse it). */
static int read_head(int dirfd, const char *file, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	while (len < max) {
		ssize_t k = read(fd, buf + len, max - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		len += (size_t)k;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* Replaces what is not printable ASCII with '?', as ps does with control characters. */
static void sanitize(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
}

/* The host's user name of uid from /etc/passwd itself, never through NSS: a lookup must not wait
 * for a directory service in the daemon's event loop. The number when there is none. */
static void user_name(struct procps_user *u, uid_t uid, char *buf, size_t size)
{
	if (!u->valid || u->uid != uid) {
		FILE *f = fopen("/etc/passwd", "re");
		struct passwd *pw;

		u->uid = uid;
		u->valid = true;
		snprintf(u->name, sizeof(u->name), "%u", (unsigned)uid);
		while (f && (pw = fgetpwent(f)))
			if (pw->pw_uid == uid) {
				snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
				break;
			}
		if (f)
			fclose(f);
		sanitize(u->name, strlen(u->name));
	}
	snprintf(buf, size, "%s", u->name);
}

/* The terminal as ps names it: pts/N, ttyN, ttySN, or "?". */
static void tty_name(unsigned long long tty_nr, char *buf, size_t size)
{
	unsigned maj = major((dev_t)tty_nr), min = minor((dev_t)tty_nr);

	if (tty_nr == 0)
		snprintf(buf, size, "?");
	else if (maj >= 136 && maj <= 143)
		snprintf(buf, size, "pts/%u", (maj - 136) * 256 + min);
	else if (maj == 4 && min < 64)
		snprintf(buf, size, "tty%u", min);
	else if (maj == 4)
		snprintf(buf, size, "ttyS%u", min - 64);
	else if (maj == 5 && min == 1)
		snprintf(buf, size, "console");
	else
		snprintf(buf, size, "%u,%u", maj, min);
}

/* STIME as ps prints it: HH:MM today, MonDD this year, else the year. */
static void start_time(const struct procps_clock *clk, unsigned long long start_ticks, char *buf, size_t size)
{
	time_t t = (time_t)(clk->boot + (double)start_ticks / (double)clk->hz);
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, size, "?");
		return;
	}
	size_t k;
	if (tm.tm_year != clk->now.tm_year)
		k = strftime(buf, size, "%Y", &tm);
	else if (tm.tm_yday != clk->now.tm_yday)
		k = strftime(buf, size, "%b%d", &tm);
	else
		k = strftime(buf, size, "%H:%M", &tm);
	if (k == 0)
		snprintf(buf, size, "?");
}

/* Fills the eight cells of one row from the /proc/PID directory dirfd. -ESRCH or -ENOENT when
 * the process is gone. */
static int describe(int dirfd, const struct procps_clock *clk, struct procps_user *users, char **cells)
{
	_cleanup_free_ char *stat = NULL, *status = NULL, *cmd = NULL;
	char comm[64], uidbuf[64], tty[32], stime[32], cpu[32], c[8], pid[16], ppid[16];
	unsigned long long tty_nr, utime, stime_ticks, start;
	size_t len, cmdlen;
	int p, pp, r;
	char state;

	if ((r = read_head(dirfd, "stat", STAT_MAX, &stat, &len)) < 0)
		return r;
	/* comm is in parentheses and may hold anything, ")" too: the fields follow the last one. */
	char *open = strchr(stat, '('), *close = strrchr(stat, ')');
	if (!open || !close || close < open || sscanf(stat, "%d", &p) != 1)
		return -EBADMSG;
	snprintf(comm, sizeof(comm), "%.*s", (int)(close - open - 1), open + 1);
	sanitize(comm, strlen(comm));
	if (sscanf(close + 1, " %c %d %*d %*d %llu %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
		   &state, &pp, &tty_nr, &utime, &stime_ticks, &start) != 6)
		return -EBADMSG;

	if ((r = read_head(dirfd, "status", STATUS_MAX, &status, &len)) < 0)
		return r;
	/* The effective uid, the second of the four on the Uid: line, as ps -ef shows it. */
	char *uidline = strstr(status, "\nUid:");
	unsigned long ruid, euid;
	if (!uidline || sscanf(uidline + 5, "%lu %lu", &ruid, &euid) != 2)
		return -EBADMSG;
	user_name(users, (uid_t)euid, uidbuf, sizeof(uidbuf));

	if ((r = read_head(dirfd, "cmdline", PROCPS_CMDLINE_MAX, &cmd, &cmdlen)) < 0)
		return r;
	while (cmdlen > 0 && cmd[cmdlen - 1] == '\0')
		cmdlen--;
	for (size_t i = 0; i < cmdlen; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[cmdlen] = '\0';
	sanitize(cmd, cmdlen);

	unsigned long long total = utime + stime_ticks, secs = total / clk->hz;
	double elapsed = clk->uptime - (double)start / (double)clk->hz;
	unsigned long long pcpu =
		elapsed > 0 ? (unsigned long long)((double)total * 100.0 / (double)clk->hz / elapsed) : 0;
	snprintf(c, sizeof(c), "%llu", pcpu > 99 ? 99 : pcpu);
	if (secs >= 86400)
		snprintf(cpu, sizeof(cpu), "%llu-%02llu:%02llu:%02llu", secs / 86400, secs / 3600 % 24, secs / 60 % 60,
			 secs % 60);
	else
		snprintf(cpu, sizeof(cpu), "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);
	snprintf(pid, sizeof(pid), "%d", p);
	snprintf(ppid, sizeof(ppid), "%d", pp);
	tty_name(tty_nr, tty, sizeof(tty));
	start_time(clk, start, stime, sizeof(stime));

	const char *vals[PROCPS_COLUMNS] = { uidbuf, pid, ppid, c, stime, tty, cpu, cmd };
	_cleanup_free_ char *bracketed = NULL;
	/* No command line: a zombie (or a kernel thread), shown by its comm as ps does. */
	if (cmdlen == 0) {
		if (asprintf(&bracketed, "[%s]%s", comm, state == 'Z' ? " <defunct>" : "") < 0)
			return -ENOMEM;
		vals[7] = bracketed;
	}
	for (size_t i = 0; i < PROCPS_COLUMNS; i++)
		if (!(cells[i] = strdup(vals[i]))) {
			for (size_t k = 0; k < i; k++) {
				free(cells[k]);
				cells[k] = NULL;
			}
			return -ENOMEM;
		}
	return 0;
}

/* Whether the sorted array pids (from cgroup_pids()) holds pid. */
static bool listed(const pid_t *pids, size_t n, pid_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pids[mid] == pid)
			return true;
		if (pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Reads the clocks once per table, so that every row is measured against the same instant. */
static int clock_init(struct procps_clock *clk, char **reterr)
{
	struct timespec real, boot;
	long hz = sysconf(_SC_CLK_TCK);
	time_t now;

	if (hz <= 0)
		return err_set(reterr, -EINVAL, "cannot tell the clock ticks per second");
	if (clock_gettime(CLOCK_REALTIME, &real) < 0 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return err_set(reterr, -errno, "cannot read the clocks: %m");
	now = real.tv_sec;
	if (!localtime_r(&now, &clk->now))
		return err_set(reterr, -EINVAL, "cannot convert the time");
	clk->hz = (unsigned long long)hz;
	clk->uptime = (double)boot.tv_sec + (double)boot.tv_nsec / 1e9;
	clk->boot = (double)real.tv_sec + (double)real.tv_nsec / 1e9 - clk->uptime;
	return 0;
}

void procps_table_done(struct procps_table *t)
{
	for (size_t i = 0; t->cells && i < t->n_rows * PROCPS_COLUMNS; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->n_rows = 0;
}

/* Reading /proc/PID of a pid from cgroup.procs races with the process exiting and its pid being
 * reused by an unrelated process of the host, whose command line must not be shown. So each pid
 * is pinned first by opening its /proc directory (which keeps referring to that very process:
 * reads through it fail once it exited, even if the number is reused), and only those that
 * cgroup.procs still lists afterwards are read: then the directory is that of a process in the
 * cgroup, or of one that exited, and nothing of another process can be read. */
int procps_cgroup(const struct container_cgroup *cg, size_t max, struct procps_table *ret, char **reterr)
{
	_cleanup_free_ pid_t *pids = NULL, *again = NULL;
	_cleanup_free_ int *fds = NULL;
	struct procps_table t = { 0 };
	struct procps_user users = { 0 };
	struct procps_clock clk;
	size_t n, n_again;
	int r;

	if ((r = clock_init(&clk, reterr)) < 0)
		return r;
	if ((r = cgroup_pids(cg, &pids, &n, reterr)) < 0)
		return r;
	if (n > max) {
		n = max;
		t.truncated = true;
	}
	fds = malloc((n ? n : 1) * sizeof(*fds));
	t.cells = calloc((n ? n : 1) * PROCPS_COLUMNS, sizeof(*t.cells));
	if (!fds || !t.cells) {
		free(t.cells);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/proc/%d", (int)pids[i]);
		fds[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	r = cgroup_pids(cg, &again, &n_again, reterr);
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && fds[i] >= 0 && listed(again, n_again, pids[i])) {
			int k = describe(fds[i], &clk, &users, t.cells + t.n_rows * PROCPS_COLUMNS);
			if (k == 0)
				t.n_rows++;
			else if (k == -ENOMEM)
				r = err_set(reterr, k, "out of memory");
			/* Any other failure: the process exited while it was read. */
		}
		fds[i] = safe_close(fds[i]);
	}
	if (r < 0) {
		procps_table_done(&t);
		return r;
	}
	*ret = t;
	return 0;
}
