#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/pidref.h"
#include "common/util.h"

pid_t pidref_fork(uint64_t flags, struct pidref *ret)
{
	int pidfd = -1;
	struct clone_args args = { .flags = CLONE_PIDFD | flags, .pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return -errno;
	if (pid > 0)
		*ret = (struct pidref){ .pid = (pid_t)pid, .pidfd = pidfd };
	return (pid_t)pid;
}

int pidref_read_start_time(pid_t pid, uint64_t *ret)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int r = read_file(path, 4096, &text, NULL);
	if (r < 0)
		return r;
	/* The command name (field 2) may hold spaces and parentheses: fields after it are counted
	 * from the last ')'. Field 22 is the start time; the ')' ends field 2. */
	char *p = strrchr(text, ')');
	if (!p)
		return -EBADMSG;
	p++;
	for (int field = 2; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EBADMSG;
		p++;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int pidref_open(pid_t pid, struct pidref *ret)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	uint64_t st = 0;
	int r = pidref_read_start_time(pid, &st);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret = (struct pidref){ .pid = pid, .pidfd = fd, .start_time = st };
	return 0;
}

bool pidref_is_same(const struct pidref *p, uint64_t start_time)
{
	uint64_t now;
	/* A signal 0 through the pidfd says the process still exists; /proc then still shows it
	 * under p->pid, since a pidfd pins the pid until the process is reaped. */
	if (p->pidfd < 0 || syscall(SYS_pidfd_send_signal, p->pidfd, 0, NULL, 0) < 0)
		return false;
	return pidref_read_start_time(p->pid, &now) == 0 && now == start_time;
}

int pidref_kill(const struct pidref *p, int sig)
{
	if (p->pidfd < 0)
		return -ESRCH;
	return syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int pidref_try_wait(const struct pidref *p, siginfo_t *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (p->pidfd < 0)
		return -ESRCH;
	if (waitid(P_PIDFD, (id_t)p->pidfd, ret, WEXITED | WNOHANG) < 0)
		return -errno;
	return ret->si_pid != 0;
}

int pidref_wait(const struct pidref *p, siginfo_t *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (p->pidfd < 0)
		return -ESRCH;
	while (waitid(P_PIDFD, (id_t)p->pidfd, ret, WEXITED) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int pidref_kill_and_wait(struct pidref *p)
{
	siginfo_t si;
	int r = pidref_kill(p, SIGKILL);
	if (r < 0 && r != -ESRCH)
		return r;
	r = pidref_wait(p, &si);
	pidref_done(p);
	return r == -ECHILD ? 0 : r;
}

void pidref_done(struct pidref *p)
{
	p->pidfd = safe_close(p->pidfd);
	p->pid = 0;
	p->start_time = 0;
}

int pidref_exit_code(const siginfo_t *si, int *ret_signal)
{
	if (si->si_code == CLD_EXITED) {
		if (ret_signal)
			*ret_signal = 0;
		return si->si_status;
	}
	if (ret_signal)
		*ret_signal = si->si_status;
	return 128 + si->si_status;
}

int pidref_open_ns(const struct pidref *p, const char *type)
{
	char path[64];
	if (!pidref_is_set(p))
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)p->pid, type);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pidref_kill(p, 0) < 0)
		return -ESRCH;
	return TAKE_FD(fd);
}
