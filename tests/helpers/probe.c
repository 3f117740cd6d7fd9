/* probe: tries one thing a hostile container would try, and prints what the kernel said: "ok" or
 * the errno name. Static, so it runs in any image.
 *   probe keyctl | add-key | unshare-user | unshare-mount | mount-tmpfs DIR | clone-newns |
 *         vsock | inet | personality-bad | personality-query | mknod-open b|c MAJ MIN PATH |
 *         open PATH | write PATH TEXT | seccomp-mode */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int report(long r)
{
	if (r < 0) {
		printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "error");
		return 1;
	}
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	if (strcmp(what, "keyctl") == 0)
		return report(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	if (strcmp(what, "add-key") == 0)
		return report(syscall(SYS_add_key, "user", "probe", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	if (strcmp(what, "unshare-user") == 0)
		return report(unshare(CLONE_NEWUSER));
	if (strcmp(what, "unshare-mount") == 0)
		return report(unshare(CLONE_NEWNS));
	if (strcmp(what, "mount-tmpfs") == 0 && argc > 2)
		return report(mount("none", argv[2], "tmpfs", 0, NULL));
	if (strcmp(what, "clone-newns") == 0) {
		long pid = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return report(pid);
	}
	if (strcmp(what, "vsock") == 0)
		return report(socket(AF_VSOCK, SOCK_STREAM, 0));
	if (strcmp(what, "inet") == 0)
		return report(socket(AF_INET, SOCK_STREAM, 0));
	if (strcmp(what, "personality-query") == 0)
		return report(personality(0xffffffff));
	if (strcmp(what, "personality-bad") == 0)
		return report(personality(READ_IMPLIES_EXEC));
	if (strcmp(what, "mknod-open") == 0 && argc > 5) {
		mode_t type = argv[2][0] == 'b' ? S_IFBLK : S_IFCHR;
		if (mknod(argv[5], type | 0600, makedev(atoi(argv[3]), atoi(argv[4]))) < 0 && errno != EEXIST) {
			printf("mknod: %s\n", strerrorname_np(errno));
			return 1;
		}
		printf("mknod: ok\n");
		return report(open(argv[5], O_RDWR));
	}
	if (strcmp(what, "open") == 0 && argc > 2)
		return report(open(argv[2], O_RDONLY));
	if (strcmp(what, "write") == 0 && argc > 3) {
		int fd = open(argv[2], O_WRONLY);
		if (fd < 0)
			return report(fd);
		return report(write(fd, argv[3], strlen(argv[3])));
	}
	if (strcmp(what, "seccomp-mode") == 0) {
		FILE *f = fopen("/proc/self/status", "r");
		char line[256];
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "Seccomp:", 8) == 0)
				fputs(line, stdout);
		return 0;
	}
	fprintf(stderr, "probe: unknown test %s\n", what);
	return 2;
}
