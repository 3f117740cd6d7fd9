#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fdpass.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/cgroup.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "runtime/userns.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define INIT_EXE_NAME "containd-init"

int rt_helper_path(const char *name, char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/%s", self, name) >= size)
		return -ENAMETOOLONG;
	if (access(buf, X_OK) == 0)
		return 0;
	if ((size_t)snprintf(buf, size, "%s/%s", LIBEXECDIR, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* CVE-2019-5736: a container whose command is /proc/self/exe (through a symlink in its image)
 * execs whatever binary its init runs from, and can keep an fd to it and write it once nothing
 * runs it any more. The init therefore runs from an anonymous memfd copy, sealed against every
 * change: what a container can reach through /proc/PID/exe is that copy, which cannot be
 * written, shrunk or grown, and no file on the host. */
int rt_init_exe_open(const char *path, int *ret_fd, char **reterr)
{
	char buf[PATH_MAX];
	int r;
	if (!path) {
		if ((r = rt_helper_path(INIT_EXE_NAME, buf, sizeof(buf))) < 0)
			return err_set(reterr, r, "cannot locate " INIT_EXE_NAME ": %m");
		path = buf;
	}
	_cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return err_set(reterr, -errno, "cannot open %s: %m", path);
	struct stat st;
	if (fstat(src, &st) < 0)
		return err_set(reterr, -errno, "cannot stat %s: %m", path);
	if (!S_ISREG(st.st_mode))
		return err_set(reterr, -EINVAL, "%s is not a regular file", path);
	_cleanup_close_ int mfd = memfd_create(INIT_EXE_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL) /* kernels before 6.3 know no MFD_EXEC */
		mfd = memfd_create(INIT_EXE_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return err_set(reterr, -errno, "memfd_create: %m");
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = sendfile(mfd, src, NULL, (size_t)(st.st_size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(reterr, n < 0 ? -errno : -EIO, "cannot copy %s: %m", path);
		done += n;
	}
	if (fchmod(mfd, 0555) < 0)
		return err_set(reterr, -errno, "cannot make the init copy executable: %m");
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return err_set(reterr, -errno, "cannot seal the init copy: %m");
	*ret_fd = TAKE_FD(mfd);
	return 0;
}

/* The clone's life until it execs containd-init: it shares nothing with the daemon but a copy of
 * its memory, which it uses for the cgroup handle only. Never returns. */
static void __attribute__((noreturn)) prepare_child(const struct rt_init_opts *opts, int sync_fd)
{
	signals_reset();
	/* Nothing of the host may watch or trace this process while it holds the daemon's memory. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		sync_fail(sync_fd, 125, "prctl: %s", strerror(errno));

	/* Join every cgroup before creating the cgroup namespace, so that the namespace is rooted
	 * at the container's cgroup and the limits bind before any container code runs. A migration
	 * into a v1 cgroup may wait for an RCU grace period: this process pays it, not the daemon. */
	char *err = NULL;
	if (opts->cg && cgroup_attach(opts->cg, 0, &err) < 0)
		sync_fail(sync_fd, 125, "%s", err ? err : "cannot join the container's cgroups");
	for (size_t i = 0; i < opts->n_join_fds; i++)
		if (write(opts->join_fds[i], "0", 1) != 1)
			sync_fail(sync_fd, 125, "cannot join the container's cgroups: %s", strerror(errno));
	if ((opts->namespaces & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		sync_fail(sync_fd, 125, "cannot create the cgroup namespace: %s", strerror(errno));
	if (opts->namespaces & CLONE_NEWUSER) {
		/* In a new user namespace this process keeps the host's uid 0 (which the cgroup
		 * migration above needed) but is nobody inside until the starter wrote the maps. Then
		 * it becomes the namespace's root, so that it keeps its capabilities there across the
		 * exec below, and nothing of the host's groups stays with it. */
		char go;
		ssize_t n;
		do
			n = recv(sync_fd, &go, 1, 0);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(125);
		if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
			sync_fail(sync_fd, 125, "cannot become root of the user namespace: %s", strerror(errno));
	}

	/* The init keeps stdio and the channel (as fd 3), nothing else of the daemon's: client
	 * connections must close when the daemon closes them, and no daemon fd (a cgroup directory,
	 * the store) may be reachable from the container (CVE-2024-21626). */
	int exe = opts->exe_fd;
	if (sync_fd != 3) {
		if (exe == 3 && (exe = fcntl(exe, F_DUPFD_CLOEXEC, 5)) < 0)
			sync_fail(sync_fd, 125, "fcntl: %s", strerror(errno));
		if (dup3(sync_fd, 3, 0) < 0)
			sync_fail(sync_fd, 125, "dup3: %s", strerror(errno));
		sync_fd = 3;
	} else if (fcntl(3, F_SETFD, 0) < 0) {
		sync_fail(sync_fd, 125, "fcntl: %s", strerror(errno));
	}
	if (exe != 4) {
		if (dup3(exe, 4, O_CLOEXEC) < 0)
			sync_fail(sync_fd, 125, "dup3: %s", strerror(errno));
		exe = 4;
	}
	if (syscall(SYS_close_range, 5, ~0U, 0) < 0)
		sync_fail(sync_fd, 125, "close_range: %s", strerror(errno));
	char *const argv[] = { INIT_EXE_NAME,
			       opts->exec ? RT_INIT_EXEC_MODE : (char *)(opts->prepare_dir ? opts->prepare_dir : ""),
			       (opts->namespaces & CLONE_NEWUSER) ? "userns" : "host", NULL };
	char *const envp[] = { NULL };
	syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
	sync_fail(sync_fd, 125, "cannot execute " INIT_EXE_NAME ": %s", strerror(errno));
}

/* clone3 with the flags and cgroup of opts, in the cloner's pid namespace or a new one. */
static int init_clone3(const struct rt_init_opts *opts, int child_fd, struct pidref *ret, char **reterr)
{
	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_PIDFD | ((uint64_t)opts->namespaces & ~(uint64_t)CLONE_NEWCGROUP),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	int cgfd = opts->cg ? cgroup_clone_fd(opts->cg) : opts->cgroup_fd;
	if (cgfd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return err_set(reterr, -errno, "clone3: %m");
	if (pid == 0)
		prepare_child(opts, child_fd);
	*ret = (struct pidref){ .pid = (pid_t)pid, .pidfd = pidfd };
	/* It cannot have been reaped yet (only this process could), so /proc names it. */
	(void)pidref_read_start_time(ret->pid, &ret->start_time);
	return 0;
}

/* With opts->pid_join the clone is born in another process's pid namespace, as an exec process
 * is born in its container's (runtime/exec.c): setns(CLONE_NEWPID) changes only where the
 * cloner's next children go, never the cloner's own namespace, and it is set back right after
 * the clone, in this one call of a single-threaded cloner, so no other child of it lands there.
 * A cloner that could not set it back would create every later child in that namespace: it stops
 * rather than go on so. Through a pidfd, the join is checked at this very moment: a target that
 * exited fails (ESRCH), and a pid namespace whose init exited takes no new process (ENOMEM). */
int rt_init_clone(const struct rt_init_opts *opts, int child_fd, struct pidref *ret, char **reterr)
{
	if (!opts->pid_join)
		return init_clone3(opts, child_fd, ret, reterr);
	if (opts->namespaces & CLONE_NEWPID)
		return err_set(reterr, -EINVAL, "a pid namespace cannot be both new and joined");
	_cleanup_close_ int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return err_set(reterr, -errno, "cannot open the own pid namespace: %m");
	if (setns(opts->pid_join_fd, CLONE_NEWPID) < 0)
		return err_set(reterr, errno == ESRCH ? -ESRCH : -errno,
			       errno == ESRCH ? "the container whose pid namespace to join has exited"
					      : "cannot join the pid namespace: %m");
	int r = init_clone3(opts, child_fd, ret, reterr);
	if (setns(own, CLONE_NEWPID) < 0)
		abort();
	if (r == -ENOMEM) {
		free(reterr ? TAKE_PTR(*reterr) : NULL);
		return err_set(reterr, -ESRCH, "the container whose pid namespace to join is exiting");
	}
	return r;
}

int rt_init_adopt(struct pidref *proc, int sync_fd, bool mntns, struct rt_init *ret)
{
	*ret = (struct rt_init){ .proc = *proc, .sync_fd = sync_fd, .mntns_fd = -1 };
	*proc = PIDREF_NULL;
	if (mntns)
		ret->mntns_fd = rt_init_open_mntns(&ret->proc);
	return 0;
}

int rt_init_open_mntns(const struct pidref *p)
{
	/* -1: the container still works; only its mounts are then torn down on its exit path
	 * rather than in the cleaner. */
	int fd = pidref_open_ns(p, "mnt");
	return fd < 0 ? -1 : fd;
}

int rt_init_prepare(const struct rt_init_opts *opts, struct rt_init *ret, char **reterr)
{
	int sv[2];
	/* SEQPACKET keeps each message whole and carries fds as SCM_RIGHTS. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(reterr, -errno, "socketpair: %m");
	_cleanup_close_ int parent_fd = sv[0];
	_cleanup_close_ int child_fd = sv[1];
	rt_init_channel_size(parent_fd);
	struct pidref proc;
	int r = rt_init_clone(opts, child_fd, &proc, reterr);
	if (r < 0)
		return r;
	return rt_init_adopt(&proc, TAKE_FD(parent_fd), opts->namespaces & CLONE_NEWNS, ret);
}

void rt_init_channel_size(int parent_fd)
{
	int bufsize = SYNC_MAX_START + 65536;
	if (setsockopt(parent_fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
		(void)setsockopt(parent_fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
}

int rt_init_map_user(const struct rt_init *init, const struct rt_idmap *uid_map, size_t n_uid,
		     const struct rt_idmap *gid_map, size_t n_gid, char **reterr)
{
	struct userns_idmap u[USERNS_MAX_MAP_LINES], g[USERNS_MAX_MAP_LINES];
	if (n_uid == 0 || n_gid == 0 || n_uid > USERNS_MAX_MAP_LINES || n_gid > USERNS_MAX_MAP_LINES)
		return err_set(reterr, -EINVAL, "a user namespace needs 1 to %d map lines", USERNS_MAX_MAP_LINES);
	for (size_t i = 0; i < n_uid; i++)
		u[i] = (struct userns_idmap){ uid_map[i].container_id, uid_map[i].host_id, uid_map[i].size };
	for (size_t i = 0; i < n_gid; i++)
		g[i] = (struct userns_idmap){ gid_map[i].container_id, gid_map[i].host_id, gid_map[i].size };
	int r = userns_set_maps(init->proc.pidfd, init->proc.pid, u, n_uid, g, n_gid, reterr);
	if (r < 0)
		return r;
	char go = 'u';
	ssize_t n = fdpass_send(init->sync_fd, &go, 1, NULL, 0, MSG_DONTWAIT);
	return n < 0 ? err_set(reterr, (int)n, "cannot wake the container process: %m") : 0;
}

/* The start message of an init (join_pidfd -1) or of an exec process (join_pidfd: the process
 * whose namespaces it joins), with its fds, in one datagram (runtime/sync.h). */
int rt_init_send_start(const struct rt_init *init, const struct rt_spec *spec, const struct rt_start_fds *fds,
		       int join_pidfd, char **reterr)
{
	int pass[FDPASS_MAX_FDS], npass = 0, map[5] = { -1, -1, -1, -1, -1 };
	if (fds->n_layers > SYNC_MAX_LAYERS)
		return err_set(reterr, -E2BIG, "too many image layers (%zu, at most %d)", fds->n_layers, SYNC_MAX_LAYERS);
	for (int i = 0; i < 3; i++)
		if (!spec->process.terminal && fds->stdio[i] >= 0) {
			map[i] = npass;
			pass[npass++] = fds->stdio[i];
		}
	if (fds->seccomp_fd >= 0) {
		map[3] = npass;
		pass[npass++] = fds->seccomp_fd;
	}
	if (join_pidfd >= 0) {
		map[4] = npass;
		pass[npass++] = join_pidfd;
	}
	if (fds->n_joins > RT_MAX_JOINS)
		return err_set(reterr, -E2BIG, "too many namespaces to join");
	json_auto_t *joins = json_array();
	for (size_t i = 0; joins && i < fds->n_joins; i++) {
		json_array_append_new(joins, json_pack("[ii]", fds->joins[i].flags, npass));
		pass[npass++] = fds->joins[i].pidfd;
	}
	/* Layers travel last, in order: the init finds them from index "layers" on. */
	int first_layer = npass;
	for (size_t i = 0; i < fds->n_layers; i++)
		pass[npass++] = fds->layer_fds[i];
	json_auto_t *doc = json_pack("{s:o, s:[iii], s:i, s:i, s:i, s:i}", "spec", spec_to_json(spec), "stdio", map[0],
				     map[1], map[2], "seccomp", map[3], "layers", first_layer, "n_layers",
				     (int)fds->n_layers, "join", map[4]);
	if (doc && fds->n_joins && json_object_set(doc, "joins", joins) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	_cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!text)
		return err_set(reterr, -ENOMEM, "out of memory");
	size_t len = strlen(text);
	if (len > SYNC_MAX_START)
		return err_set(reterr, -E2BIG, "the container's configuration is too large");
	ssize_t n = fdpass_send(init->sync_fd, text, len, pass, (size_t)npass, MSG_DONTWAIT);
	if (n < 0)
		return err_set(reterr, (int)n, "cannot hand the configuration to the container process: %m");
	return 0;
}

int rt_init_start(const struct rt_init *init, const struct rt_spec *spec, const struct rt_start_fds *fds,
		  char **reterr)
{
	return rt_init_send_start(init, spec, fds, -1, reterr);
}

int rt_init_read_report(int sync_fd, struct rt_report *ret, int *ret_fd)
{
	int fds[2];
	size_t nfds;
	*ret_fd = -1;
	ssize_t n = fdpass_recv(sync_fd, ret, sizeof(*ret), fds, ARRAY_SIZE(fds), &nfds, NULL, MSG_DONTWAIT);
	if (n < 0)
		return (int)n;
	for (size_t i = 1; i < nfds; i++)
		close(fds[i]);
	if (nfds > 0)
		*ret_fd = fds[0];
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof(*ret) ||
	    (ret->type != RT_REPORT_PTY && ret->type != RT_REPORT_ERROR && ret->type != RT_REPORT_READY &&
	     ret->type != RT_REPORT_EXEC) ||
	    (ret->type == RT_REPORT_PTY) != (*ret_fd >= 0)) {
		*ret_fd = safe_close(*ret_fd);
		return -EBADMSG;
	}
	ret->message[sizeof(ret->message) - 1] = '\0';
	return 1;
}

void rt_init_discard(struct rt_init *init)
{
	if (pidref_is_set(&init->proc))
		(void)pidref_kill_and_wait(&init->proc);
	init->sync_fd = safe_close(init->sync_fd);
	init->mntns_fd = safe_close(init->mntns_fd);
}
