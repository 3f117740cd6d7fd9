/* containd-init: everything a container's init does between receiving its spec and execve. It runs
 * from a sealed memfd (see runtime/process.c), as PID 1 of the container's pid namespace, already
 * in its cgroup and namespaces. The order matters and is argued step by step below. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "common/macros.h"
#include "runtime/caps.h"
#include "runtime/passwd.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define SYNC_FD 3

static int loopback_up(void)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}

static const char *env_get(char **env, const char *key)
{
	size_t len = strlen(key);
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, key, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

/* execvp() semantics with the container's PATH (not ours): 127 when nothing is found, 126 when
 * something was found but cannot be executed. */
static void __attribute__((noreturn)) init_exec(const struct rt_process *p)
{
	const char *file = p->args[0];
	if (strchr(file, '/')) {
		execve(file, p->args, p->env);
		int e = errno;
		sync_fail(SYNC_FD, e == ENOENT || e == ENOTDIR ? 127 : 126, "exec: \"%s\": %s", file, strerror(e));
	}
	const char *path = env_get(p->env, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int denied = 0;
	char buf[4096];
	while (*path) {
		const char *end = strchrnul(path, ':');
		size_t dlen = (size_t)(end - path);
		int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)dlen, dlen ? path : ".", file);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			execve(buf, p->args, p->env);
			if (errno == EACCES || errno == ENOEXEC)
				denied = errno;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ENAMETOOLONG)
				sync_fail(SYNC_FD, 126, "exec: \"%s\": %s", buf, strerror(errno));
		}
		path = *end ? end + 1 : end;
	}
	if (denied)
		sync_fail(SYNC_FD, 126, "exec: \"%s\": %s", file, strerror(denied));
	sync_fail(SYNC_FD, 127, "exec: \"%s\": executable file not found in $PATH", file);
}

/* A terminal from the container's own devpts (its master goes to the starter), or the fds the
 * client passed (already checked by the daemon: no directories, no O_PATH handles). */
static void init_stdio(const struct rt_process *p, const int stdio[3])
{
	if (p->terminal) {
		_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0)
			sync_fail(SYNC_FD, 125, "cannot open /dev/ptmx: %s", strerror(errno));
		if (unlockpt(master) < 0)
			sync_fail(SYNC_FD, 125, "unlockpt: %s", strerror(errno));
		/* TIOCGPTPEER opens the peer of exactly this master, with no path lookup to race. */
		_cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			sync_fail(SYNC_FD, 125, "cannot open the pty peer: %s", strerror(errno));
		if (p->console_rows && p->console_cols) {
			struct winsize ws = { .ws_row = p->console_rows, .ws_col = p->console_cols };
			if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
				sync_fail(SYNC_FD, 125, "TIOCSWINSZ: %s", strerror(errno));
		}
		int r = sync_send_pty(SYNC_FD, master);
		if (r < 0)
			sync_fail(SYNC_FD, 125, "cannot hand the pty to the daemon: %s", strerror(-r));
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
			sync_fail(SYNC_FD, 125, "cannot make the pty the controlling terminal: %s", strerror(errno));
		for (int i = 0; i < 3; i++)
			if (dup2(slave, i) < 0)
				sync_fail(SYNC_FD, 125, "dup2: %s", strerror(errno));
		return;
	}
	if (setsid() < 0)
		sync_fail(SYNC_FD, 125, "setsid: %s", strerror(errno));
	int fds[3];
	_cleanup_close_ int null_fd = -1;
	for (int i = 0; i < 3; i++) {
		fds[i] = stdio[i];
		if (fds[i] < 0) {
			if (null_fd < 0 && (null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				sync_fail(SYNC_FD, 125, "cannot open /dev/null: %s", strerror(errno));
			fds[i] = null_fd;
		}
	}
	/* Move sources out of 0..2 first so a dup2 never clobbers a source still needed. */
	for (int i = 0; i < 3; i++)
		if (fds[i] < 3) {
			int n = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			if (n < 0)
				sync_fail(SYNC_FD, 125, "fcntl: %s", strerror(errno));
			for (int j = i + 1; j < 3; j++)
				if (fds[j] == fds[i])
					fds[j] = n;
			fds[i] = n;
		}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			sync_fail(SYNC_FD, 125, "dup2: %s", strerror(errno));
}

static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Enters the working directory inside the container's root. CVE-2024-21626: a cwd such as
 * /proc/self/fd/N would land on whatever directory fd N is, possibly the host's; the lookup
 * refuses magic links and stays inside the root, and the result is checked to be reachable
 * from the root (the kernel prefixes "(unreachable)" otherwise). */
static void init_workdir(const char *cwd)
{
	int r = mkdir_parents(cwd, 0755);
	if (r < 0 && r != -EEXIST)
		sync_fail(SYNC_FD, 125, "cannot create working directory %s: %s", cwd, strerror(-r));
	_cleanup_close_ int fd = rootfs_open_in_root(cwd, O_PATH | O_DIRECTORY);
	if (fd < 0)
		sync_fail(SYNC_FD, 125, "cannot enter working directory %s: %s", cwd, strerror(-fd));
	if (fchdir(fd) < 0)
		sync_fail(SYNC_FD, 125, "cannot enter working directory %s: %s", cwd, strerror(errno));
	char buf[4096];
	if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
		sync_fail(SYNC_FD, 125, "the working directory %s is outside the container", cwd);
}

/* The user the spec names, resolved in the image's account files, and HOME from it. */
static void init_user(struct rt_spec *spec)
{
	struct rt_process *p = &spec->process;
	if (!p->user)
		return;
	struct passwd_user u;
	char err[512];
	int r = passwd_resolve(p->user, &u, err, sizeof(err));
	if (r < 0)
		sync_fail(SYNC_FD, 125, "%s", err);
	p->uid = u.uid;
	p->gid = u.gid;
	free(p->additional_gids);
	p->additional_gids = TAKE_PTR(u.groups);
	p->n_additional_gids = u.n_groups;
	char *home = NULL;
	if (asprintf(&home, "HOME=%s", u.home) < 0 || spec_env_default(spec, home) < 0)
		sync_fail(SYNC_FD, 125, "out of memory");
	free(home);
	passwd_user_done(&u);
}

static void init_rlimits(const struct rt_process *p)
{
	char *err = NULL;
	if (rlimits_apply(&p->rlimits, &err) < 0)
		sync_fail(SYNC_FD, 125, "%s", err ? err : "cannot set the resource limits");
}

/* Installs the compiled filter the starter passed as a sealed memfd of struct sock_filter. */
static void init_seccomp(int seccomp_fd)
{
	if (seccomp_fd < 0)
		return;
	struct stat st;
	if (fstat(seccomp_fd, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
	    st.st_size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter)))
		sync_fail(SYNC_FD, 125, "invalid seccomp program");
	_cleanup_free_ unsigned char *insns = malloc((size_t)st.st_size);
	if (!insns || pread(seccomp_fd, insns, (size_t)st.st_size, 0) != st.st_size)
		sync_fail(SYNC_FD, 125, "cannot read the seccomp program: %s", strerror(errno));
	struct seccomp_bpf bpf = { .len = (size_t)st.st_size, .insns = insns };
	int r = seccomp_install(&bpf);
	if (r < 0)
		sync_fail(SYNC_FD, 125, "cannot install the seccomp filter: %s", strerror(-r));
	close(seccomp_fd);
}

/* Switches credentials and capabilities. The bounding set is cut first (it needs CAP_SETPCAP),
 * then the groups and ids change, then the remaining sets are set for the new ids: a non-root
 * user keeps none, and the inheritable and ambient sets end up empty (CVE-2022-24769). */
static void init_credentials(const struct rt_process *p)
{
	char *err = NULL;
	if (caps_prepare(p->caps.bounding, &err) < 0)
		sync_fail(SYNC_FD, 125, "%s", err ? err : "cannot drop capabilities");
	if (setgroups(p->n_additional_gids, p->additional_gids) < 0 || setgid(p->gid) < 0 || setuid(p->uid) < 0)
		sync_fail(SYNC_FD, 125, "cannot switch to user %u:%u: %s", (unsigned)p->uid, (unsigned)p->gid,
			  strerror(errno));
	if (caps_apply(p->caps.effective, &err) < 0)
		sync_fail(SYNC_FD, 125, "%s", err ? err : "cannot set capabilities");
	/* Changing credentials clears the parent-death signal; arm it again, then make sure the
	 * daemon did not die in between (its end of the channel would be closed). */
	struct pollfd pfd = { .fd = SYNC_FD, .events = POLLIN };
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		sync_fail(SYNC_FD, 125, "prctl: %s", strerror(errno));
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
		_exit(125);
}

/* The last part of a container's init, which an exec process shares: its stdio, user, working
 * directory and limits, then (reported as setup done) its confinement and the exec. */
static void __attribute__((noreturn)) init_process(struct rt_spec *spec, const struct sync_start_fds *fds)
{
	init_stdio(&spec->process, fds->stdio);
	init_user(spec);
	init_workdir(spec->process.cwd);
	/* Raising a hard limit needs CAP_SYS_RESOURCE, which the container may not keep. */
	init_rlimits(&spec->process);
	/* From here on every failure is still reported, and a custom seccomp profile could deny
	 * the report itself: the starter learns now that setup got this far. */
	if (sync_send_exec(SYNC_FD) < 0)
		_exit(125);
	if (spec->process.no_new_privileges) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			sync_fail(SYNC_FD, 125, "cannot set no_new_privs: %s", strerror(errno));
		init_credentials(&spec->process);
		/* With no_new_privs the filter needs no privilege: install it as late as possible. */
		init_seccomp(fds->seccomp_fd);
	} else {
		/* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN, which the credential
		 * switch drops: install it first. Docker's profile allows every call that follows. */
		init_seccomp(fds->seccomp_fd);
		init_credentials(&spec->process);
	}

	/* Nothing of the daemon's may leak into the container; the channel closes on exec, which is
	 * how the starter learns that execve succeeded. */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		sync_fail(SYNC_FD, 125, "close_range: %s", strerror(errno));
	init_exec(&spec->process);
}

/* Takes a detached clone of the tmpfs at destination (/dev/shm) in the mount namespace of the
 * process whose IPC namespace the container joins: POSIX shared memory lives in that tmpfs, so
 * sharing IPC means sharing it (Docker's behaviour). A mount cannot be cloned from another mount
 * namespace, so the init steps into the donor's for the one open_tree() and straight back (its
 * own held open). Why that is safe: nothing of the donor can act on this process meanwhile (it is
 * non-dumpable: no ptrace, no /proc access, and it runs no code of the donor's); the path is fixed
 * and its last component is not followed if it is a symlink; only that one mount is cloned (not
 * what is mounted below it), and it must be a tmpfs. A donor able to mount something else there
 * (a privileged one) shares what it chose, which is what the user asked to share. */
static void init_donor_shm(int pidfd, const char *destination)
{
	_cleanup_close_ int own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		sync_fail(SYNC_FD, 125, "cannot open the own mount namespace: %s", strerror(errno));
	if (setns(pidfd, CLONE_NEWNS) < 0)
		sync_fail(SYNC_FD, 125, "cannot reach the /dev/shm of the container to share: %s",
			  errno == ESRCH ? "it has exited" : strerror(errno));
	int fd = open_tree(AT_FDCWD, destination, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	int e = errno;
	if (setns(own, CLONE_NEWNS) < 0)
		_exit(125); /* in the donor's mount namespace: build nothing there */
	if (fd < 0)
		sync_fail(SYNC_FD, 125, "cannot share the %s of the container to share: %s", destination, strerror(e));
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != TMPFS_MAGIC) {
		close(fd);
		sync_fail(SYNC_FD, 125, "the %s of the container to share is not a tmpfs", destination);
	}
	rootfs_set_ipc_shm(fd);
}

/* Joins what the spec shares with other processes, before anything is built: the network and ipc
 * namespaces decide what the /sys and /dev/mqueue mounted below show. By pidfd (the daemon's
 * way: the process cannot be a recycled pid, and a target that exited fails here, ESRCH) or by
 * OCI path. Each join is checked against the spec: the init joins exactly the namespaces it was
 * told to, so a start message cannot widen what the daemon decided. Joining needs
 * CAP_SYS_ADMIN over the target namespaces' user namespace: a container in a user namespace of
 * its own cannot join the host's (the daemon refuses such a combination before). */
static void init_join_namespaces(const struct rt_spec *spec, const struct sync_start_fds *fds)
{
	int joined = 0;
	for (size_t i = 0; i < fds->n_joins; i++) {
		for (size_t k = 0; (fds->joins[i].flags & CLONE_NEWIPC) && k < spec->n_mounts; k++)
			if (spec->mounts[k].ipc_shared)
				init_donor_shm(fds->joins[i].pidfd, spec->mounts[k].destination);
		if (setns(fds->joins[i].pidfd, fds->joins[i].flags) < 0)
			sync_fail(SYNC_FD, 125, "cannot join the namespaces of the container to share: %s",
				  errno == ESRCH ? "it has exited" : strerror(errno));
		close(fds->joins[i].pidfd);
		joined |= fds->joins[i].flags;
	}
	if (joined != (spec->join_namespaces & ~CLONE_NEWPID))
		sync_fail(SYNC_FD, 125, "invalid configuration from the daemon: the namespaces to join do not match");
	for (size_t i = 0; i < spec->n_ns_paths; i++) {
		if (spec->ns_paths[i].type == CLONE_NEWPID)
			continue; /* the cloner's part (struct rt_init_opts) */
		_cleanup_close_ int fd = open(spec->ns_paths[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, spec->ns_paths[i].type) < 0)
			sync_fail(SYNC_FD, 125, "cannot join the namespace %s: %s", spec->ns_paths[i].path, strerror(errno));
	}
}

void rt_init_main(const char *prepare_dir, bool userns)
{
	struct rt_spec spec;
	struct sync_start_fds fds;
	char *err = NULL;
	char buf[1024];

	/* Until it execs the command, this process must not be inspectable from the container:
	 * /proc/1/exe and /proc/1/mem of a dumpable process would be open to it. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0 || fcntl(SYNC_FD, F_SETFD, FD_CLOEXEC) < 0)
		sync_fail(SYNC_FD, 125, "prctl: %s", strerror(errno));
	(void)prctl(PR_SET_NAME, "containd-spare");
	/* What the start would otherwise read from /proc for the first time, read now, while no run
	 * waits: the kernel's last capability and the limits the defaults are clamped to. */
	struct rlimits warm;
	(void)caps_last_cap();
	rlimits_default(&warm);
	/* The default mounts are built now, while nobody waits; a start with a default spec then only
	 * moves them into its root. If this fails the start builds them itself, and says why. */
	if (prepare_dir && *prepare_dir)
		(void)rootfs_prepare(prepare_dir, userns, buf, sizeof(buf));
	if (sync_send_ready(SYNC_FD) < 0)
		_exit(125);
	int r = sync_receive_start(SYNC_FD, &spec, &fds, &err);
	if (r == -EPIPE)
		_exit(125); /* discarded */
	if (r < 0)
		sync_fail(SYNC_FD, 125, "invalid configuration from the daemon: %s", err ? err : strerror(-r));

	init_join_namespaces(&spec, &fds);
	umask(0);
	if (rootfs_setup(&spec, fds.layers, fds.n_layers, buf, sizeof(buf)) < 0)
		sync_fail(SYNC_FD, 125, "%s", buf);
	for (size_t i = 0; i < fds.n_layers; i++)
		close(fds.layers[i]);
	umask(022);
	if (spec.hostname && sethostname(spec.hostname, strlen(spec.hostname)) < 0)
		sync_fail(SYNC_FD, 125, "sethostname: %s", strerror(errno));
	/* A shared network namespace is its owner's to configure. */
	if ((spec.namespaces & CLONE_NEWNET) && (r = loopback_up()) < 0)
		sync_fail(SYNC_FD, 125, "cannot bring up the loopback interface: %s", strerror(-r));

	init_process(&spec, &fds);
}

/* An exec process (runtime/exec.h) runs this program too, from the same sealed memfd: it was
 * cloned by its starter into the container's pid namespace and cgroups, and joins the container's
 * other namespaces here, through the container's pidfd, before anything of the container can
 * reach it:
 * - it is non-dumpable from its first instruction, so a process of the container (even its root)
 *   cannot ptrace it, read its memory or open its fds through /proc before it execs the command;
 *   its /proc/PID/exe is the sealed copy, not containd (CVE-2019-5736);
 * - the rlimits are set while it still is in the host's user namespace (raising a hard limit
 *   needs CAP_SYS_RESOURCE there); in a user-namespaced container it then holds capabilities only
 *   over that namespace, like the container's own root;
 * - the mount namespace's root is the container's root (the init pivoted into it), so the user,
 *   the working directory and the command are all resolved inside it, as for the container;
 * - from there on it is the init's own path: the same terminal or fds, user, working directory,
 *   seccomp filter, no_new_privs, capability sets and exec, with the same reports. */
void rt_exec_main(void)
{
	struct rt_spec spec;
	struct sync_start_fds fds;
	char *err = NULL;

	if (prctl(PR_SET_DUMPABLE, 0) < 0 || fcntl(SYNC_FD, F_SETFD, FD_CLOEXEC) < 0)
		sync_fail(SYNC_FD, 125, "prctl: %s", strerror(errno));
	(void)prctl(PR_SET_NAME, "containd-exec");
	int r = sync_receive_start(SYNC_FD, &spec, &fds, &err);
	if (r == -EPIPE)
		_exit(125);
	if (r < 0)
		sync_fail(SYNC_FD, 125, "invalid configuration from the daemon: %s", err ? err : strerror(-r));
	if (fds.join_fd < 0 || fds.n_layers > 0)
		sync_fail(SYNC_FD, 125, "invalid configuration from the daemon: no container to join");
	init_rlimits(&spec.process);
	/* One call joins them all at once, the user namespace first (the kernel orders them). The
	 * pid namespace is the one it was born in; the user namespace is named only when the
	 * container has one of its own (joining one's own user namespace is an error). The ones the
	 * container joined (another container's) are its init's too; the ones it shares with the
	 * host are this process's already. */
	if (setns(fds.join_fd, spec_own_namespaces(&spec) & ~CLONE_NEWPID) < 0)
		sync_fail(SYNC_FD, 125, "cannot join the container's namespaces: %s", strerror(errno));
	close(fds.join_fd);
	/* In the container's user namespace its ids are those of the host's root, which the
	 * namespace does not map: it becomes the namespace's root, as the container's init did, so
	 * that what it creates (a working directory) is owned by a mapped id. */
	if ((spec.namespaces & CLONE_NEWUSER) &&
	    (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0))
		sync_fail(SYNC_FD, 125, "cannot become root of the user namespace: %s", strerror(errno));
	umask(022);
	init_process(&spec, &fds);
}
