/* containd-tini: the init `cctl run --init` puts at PID 1 of a container, as `tini -- CMD...`.
 * It starts the command as its only child, forwards every signal it can catch to that child,
 * reaps every process that the pid namespace reparents to it, and exits with the command's
 * status (128+N when signal N killed it). Static, without sanitizers and allocation-free: it is
 * bind-mounted read-only into images that may have no libc at all.
 *
 * Why PID 1 needs this: the kernel never delivers to the init of a pid namespace a signal sent
 * from inside it for which the init installed no handler, so a plain command at PID 1 ignores
 * SIGTERM; and orphans are reparented to PID 1, which must reap them or they stay zombies. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Prints one message on stderr, prefixed with the program's name. */
static void tini_warn(const char *what, int err)
{
	if (err)
		fprintf(stderr, "containd-tini: %s: %s\n", what, strerror(err));
	else
		fprintf(stderr, "containd-tini: %s\n", what);
}

/* A process's wait status as a shell reports it: the exit code, or 128+N for signal N. */
static int tini_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* The child between fork and exec: it gets back the signal mask the init had, so the command
 * starts as it would have at PID 1 (but with the kernel's normal signal semantics). */
static void __attribute__((noreturn)) tini_exec(char **argv, const sigset_t *oldmask)
{
	if (sigprocmask(SIG_SETMASK, oldmask, NULL) < 0) {
		tini_warn("sigprocmask", errno);
		_exit(126);
	}
	execvp(argv[0], argv);
	int err = errno;
	fprintf(stderr, "containd-tini: cannot execute %s: %s\n", argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

/* Reaps every child that has exited, the command's status into *status (and *child to 0 once
 * reaped). waitpid(-1) is right here, unlike in the daemon: this process is PID 1 of its own pid
 * namespace, every process it can wait for is its own or an orphan given to it, and the status
 * of none of them belongs to anyone else. */
static int tini_reap(pid_t *child, int *status)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid == 0)
			return 0;
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? 0 : -errno;
		}
		if (pid == *child) {
			*status = st;
			*child = 0;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "--") != 0) {
		fprintf(stderr, "usage: containd-tini -- COMMAND [ARG...]\n");
		return 2;
	}
	/* Every signal is blocked and taken with sigwaitinfo(): blocked signals are queued even at
	 * PID 1 (the kernel drops only unblocked ones without a handler), and there is no handler
	 * to run in the middle of anything. SIGKILL and SIGSTOP cannot be blocked; the kernel
	 * ignores the attempt. Synchronous faults (SIGSEGV...) still kill the process. */
	sigset_t all, oldmask;
	if (sigfillset(&all) < 0 || sigprocmask(SIG_SETMASK, &all, &oldmask) < 0) {
		tini_warn("sigprocmask", errno);
		return 126;
	}
	pid_t child = fork();
	if (child < 0) {
		tini_warn("fork", errno);
		return 126;
	}
	if (child == 0)
		tini_exec(argv + 2, &oldmask);

	int status = 0;
	while (child > 0) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			tini_warn("sigwaitinfo", errno);
			return 126;
		}
		if (sig == SIGCHLD) {
			int r = tini_reap(&child, &status);
			if (r < 0) {
				tini_warn("waitpid", -r);
				return 126;
			}
			continue;
		}
		/* The command may be gone between the reap above and this kill: ESRCH then means
		 * the SIGCHLD that tells us is already queued. */
		if (kill(child, sig) < 0 && errno != ESRCH) {
			tini_warn("kill", errno);
			return 126;
		}
	}
	/* Orphans that are already zombies go too; those still running die with the namespace
	 * when this process exits. */
	int ignored = 0, r = tini_reap(&child, &ignored);
	if (r < 0)
		tini_warn("waitpid", -r);
	return tini_exit_code(status);
}
