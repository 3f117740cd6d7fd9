/* Starting a container's init process: clone3 into fresh namespaces (and its cgroup), the child's
 * setup up to execve, and the sync channel through which the child reports a pty master or a
 * setup failure. The root filesystem steps live in rootfs.c. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "protocol/messages.h"

struct container_cgroup;

struct spawn_config {
	const char *hostname;
	char **argv;
	char **env;             /* complete environment */
	const char *workdir;    /* absolute; created if missing */
	bool set_user;
	uid_t uid;
	gid_t gid;
	char **lowerdirs;       /* overlay lower dirs, topmost first */
	const char *upperdir, *ovl_workdir, *rootfs; /* rootfs: the mount point */
	enum proto_stdio stdio;
	int stdio_fds[3];       /* PROTO_STDIO_FDS: fds for 0, 1, 2; -1 means /dev/null */
	unsigned short tty_rows, tty_cols;
};

struct spawn_result {
	pid_t pid;
	int pidfd;
	int sync_fd; /* daemon end of the sync channel; EOF once the command was exec'd */
};

/* Clones a container's init process ahead of its container: in fresh namespaces and born into
 * cg's v2 cgroup, it joins the v1 hierarchies itself, creates its cgroup namespace, reports
 * SPAWN_REPORT_READY and waits for its configuration. Doing this before a request arrives takes
 * namespace creation and the cgroup migration off the start path. */
int spawn_prepare(struct container_cgroup *cg, struct spawn_result *ret, char **reterr);

/* Sends the configuration (and the stdio fds it names) to a prepared init process, which then
 * sets up the container and execs the command. It may be sent before the child is ready. */
int spawn_start(int sync_fd, const struct spawn_config *cfg, char **reterr);

enum spawn_report_type { SPAWN_REPORT_PTY = 1, SPAWN_REPORT_ERROR = 2, SPAWN_REPORT_READY = 3 };

struct spawn_report {
	int type;
	int exit_code;     /* SPAWN_REPORT_ERROR: 125, 126 or 127 */
	char message[1024];
};

/* Reads one report (non-blocking). Returns 1 with a report (and *ret_fd set to the pty master for
 * SPAWN_REPORT_PTY), 0 at EOF (the command was exec'd, or the child died), -EAGAIN, or -errno. */
int spawn_read_report(int sync_fd, struct spawn_report *ret, int *ret_fd);
