#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/cgroup.h"
#include "daemon/rootfs.h"
#include "daemon/spawn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* The capabilities a container's root keeps: Docker's default set. Everything else (SYS_ADMIN,
 * SYS_MODULE, SYS_PTRACE, NET_ADMIN, ...) would let it reach past its namespaces. */
static const int kept_caps[] = {
	CAP_CHOWN,	CAP_DAC_OVERRIDE, CAP_FSETID,	CAP_FOWNER,	      CAP_MKNOD,
	CAP_NET_RAW,	CAP_SETGID,	  CAP_SETUID,	CAP_SETFCAP,	      CAP_SETPCAP,
	CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

/* Reports a setup failure to the daemon and exits with Docker's codes (125, 126, 127). */
static void __attribute__((noreturn, format(printf, 3, 4))) child_fail(int sync_fd, int exit_code, const char *fmt, ...)
{
	struct spawn_report rep = { .type = SPAWN_REPORT_ERROR, .exit_code = exit_code };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep.message, sizeof(rep.message), fmt, ap);
	va_end(ap);
	(void)send(sync_fd, &rep, sizeof(rep), MSG_NOSIGNAL);
	_exit(exit_code);
}

static int send_pty_master(int sync_fd, int master)
{
	struct spawn_report rep = { .type = SPAWN_REPORT_PTY };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	return sendmsg(sync_fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

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

/* The highest capability this kernel knows. Read once in the daemon, before any spare is
 * cloned: it never changes, and the child should not pay for the read on every start. */
static int cap_last = -1;

static void read_cap_last(void)
{
	_cleanup_free_ char *text = NULL;
	cap_last = CAP_LAST_CAP;
	if (read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL) == 0) {
		int v = atoi(text);
		if (v > 0 && v < 64)
			cap_last = v;
	}
}

static int drop_bounding_caps(void)
{
	for (int cap = 0; cap <= cap_last; cap++) {
		bool keep = false;
		for (size_t i = 0; i < ARRAY_SIZE(kept_caps); i++)
			keep |= kept_caps[i] == cap;
		if (!keep && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	}
	return 0;
}

static int set_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(kept_caps); i++) {
		data[kept_caps[i] / 32].effective |= 1u << (kept_caps[i] % 32);
		data[kept_caps[i] / 32].permitted |= 1u << (kept_caps[i] % 32);
		data[kept_caps[i] / 32].inheritable |= 1u << (kept_caps[i] % 32);
	}
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
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
static void __attribute__((noreturn)) child_exec(const struct spawn_config *cfg, int sync_fd)
{
	const char *file = cfg->argv[0];
	if (strchr(file, '/')) {
		execve(file, cfg->argv, cfg->env);
		int e = errno;
		child_fail(sync_fd, e == ENOENT || e == ENOTDIR ? 127 : 126, "exec: \"%s\": %s", file, strerror(e));
	}
	const char *path = env_get(cfg->env, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int denied = 0;
	char buf[4096];
	while (*path) {
		const char *end = strchrnul(path, ':');
		size_t dlen = (size_t)(end - path);
		int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)dlen, dlen ? path : ".", file);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			execve(buf, cfg->argv, cfg->env);
			if (errno == EACCES || errno == ENOEXEC)
				denied = errno;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ENAMETOOLONG)
				child_fail(sync_fd, 126, "exec: \"%s\": %s", buf, strerror(errno));
		}
		path = *end ? end + 1 : end;
	}
	if (denied)
		child_fail(sync_fd, 126, "exec: \"%s\": %s", file, strerror(denied));
	child_fail(sync_fd, 127, "exec: \"%s\": executable file not found in $PATH", file);
}

static int setup_stdio(const struct spawn_config *cfg, int sync_fd, char *err, size_t errlen)
{
	if (cfg->stdio == PROTO_STDIO_PTY) {
		_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0)
			return snprintf(err, errlen, "cannot open /dev/ptmx: %s", strerror(errno)), -errno;
		if (unlockpt(master) < 0)
			return snprintf(err, errlen, "unlockpt: %s", strerror(errno)), -errno;
		/* TIOCGPTPEER opens the peer of exactly this master, with no path lookup to race. */
		_cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			return snprintf(err, errlen, "cannot open the pty peer: %s", strerror(errno)), -errno;
		if (cfg->tty_rows && cfg->tty_cols) {
			struct winsize ws = { .ws_row = cfg->tty_rows, .ws_col = cfg->tty_cols };
			if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
				return snprintf(err, errlen, "TIOCSWINSZ: %s", strerror(errno)), -errno;
		}
		int r = send_pty_master(sync_fd, master);
		if (r < 0)
			return snprintf(err, errlen, "cannot hand the pty to the daemon: %s", strerror(-r)), r;
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
			return snprintf(err, errlen, "cannot make the pty the controlling terminal: %s",
					strerror(errno)), -errno;
		for (int i = 0; i < 3; i++)
			if (dup2(slave, i) < 0)
				return snprintf(err, errlen, "dup2: %s", strerror(errno)), -errno;
		return 0;
	}

	if (setsid() < 0)
		return snprintf(err, errlen, "setsid: %s", strerror(errno)), -errno;
	int fds[3];
	_cleanup_close_ int null_fd = -1;
	for (int i = 0; i < 3; i++) {
		fds[i] = cfg->stdio == PROTO_STDIO_FDS ? cfg->stdio_fds[i] : -1;
		if (fds[i] < 0) {
			if (null_fd < 0)
				null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (null_fd < 0)
				return snprintf(err, errlen, "cannot open /dev/null: %s", strerror(errno)), -errno;
			fds[i] = null_fd;
		}
	}
	/* Move sources out of 0..2 first so a dup2 never clobbers a source still needed. */
	for (int i = 0; i < 3; i++)
		if (fds[i] < 3) {
			int n = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			if (n < 0)
				return snprintf(err, errlen, "fcntl: %s", strerror(errno)), -errno;
			for (int j = i + 1; j < 3; j++)
				if (fds[j] == fds[i])
					fds[j] = n;
			fds[i] = n;
		}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			return snprintf(err, errlen, "dup2: %s", strerror(errno)), -errno;
	return 0;
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

/* Everything the init process does between receiving its configuration and execve. */
static void __attribute__((noreturn)) child_main(const struct spawn_config *cfg, int sync_fd)
{
	char err[1024];

	umask(0);
	int r = rootfs_setup(cfg, err, sizeof(err));
	if (r < 0)
		child_fail(sync_fd, 125, "%s", err);
	umask(022);

	if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		child_fail(sync_fd, 125, "sethostname: %s", strerror(errno));
	r = loopback_up();
	if (r < 0)
		child_fail(sync_fd, 125, "cannot bring up the loopback interface: %s", strerror(-r));

	r = setup_stdio(cfg, sync_fd, err, sizeof(err));
	if (r < 0)
		child_fail(sync_fd, 125, "%s", err);

	r = mkdir_parents(cfg->workdir, 0755);
	if (r < 0)
		child_fail(sync_fd, 125, "cannot create working directory %s: %s", cfg->workdir, strerror(-r));
	if (chdir(cfg->workdir) < 0)
		child_fail(sync_fd, 125, "cannot enter working directory %s: %s", cfg->workdir, strerror(errno));

	r = drop_bounding_caps();
	if (r < 0)
		child_fail(sync_fd, 125, "cannot drop capabilities: %s", strerror(-r));
	if (cfg->set_user) {
		gid_t gid = cfg->gid == (gid_t)-1 ? 0 : cfg->gid;
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(cfg->uid) < 0)
			child_fail(sync_fd, 125, "cannot switch to user %u:%u: %s", (unsigned)cfg->uid,
				   (unsigned)gid, strerror(errno));
	} else if (setgroups(0, NULL) < 0) {
		child_fail(sync_fd, 125, "setgroups: %s", strerror(errno));
	}
	if (cfg->set_user) {
		/* Changing credentials clears the parent-death signal; arm it again, then make sure
		 * the daemon did not die in between (its end of the sync socket would be closed). */
		struct pollfd pfd = { .fd = sync_fd, .events = POLLIN };
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			child_fail(sync_fd, 125, "prctl: %s", strerror(errno));
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
			_exit(125);
	}
	if (!cfg->set_user || cfg->uid == 0) {
		r = set_caps();
		if (r < 0)
			child_fail(sync_fd, 125, "cannot set capabilities: %s", strerror(-r));
	}

	/* Nothing of the daemon's may leak into the container; the sync fd closes on exec, which
	 * is how the daemon learns that execve succeeded. */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		child_fail(sync_fd, 125, "close_range: %s", strerror(errno));
	child_exec(cfg, sync_fd);
}

/* The configuration travels as one JSON datagram; stdio fds ride along as SCM_RIGHTS. */
#define SPAWN_MAX_CONFIG (1024 * 1024)

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* Borrows the strings of a JSON array into a NULL-terminated vector (or NULL). */
static char **json_strv(json_t *a)
{
	if (!json_is_array(a))
		return NULL;
	char **v = calloc(json_array_size(a) + 1, sizeof(char *));
	for (size_t i = 0; v && i < json_array_size(a); i++)
		v[i] = (char *)json_string_value(json_array_get(a, i));
	return v;
}

int spawn_start(int sync_fd, const struct spawn_config *cfg, char **reterr)
{
	int fds[3], nfds = 0, map[3] = { -1, -1, -1 };
	for (int i = 0; i < 3; i++)
		if (cfg->stdio == PROTO_STDIO_FDS && cfg->stdio_fds[i] >= 0) {
			map[i] = nfds;
			fds[nfds++] = cfg->stdio_fds[i];
		}
	json_auto_t *doc = json_pack("{s:s, s:o, s:o, s:s, s:b, s:I, s:I, s:o, s:s, s:s, s:s, s:i, s:[iii], s:i, s:i}",
				     "hostname", cfg->hostname, "argv", strv_json(cfg->argv), "env",
				     strv_json(cfg->env), "workdir", cfg->workdir, "set_user", cfg->set_user, "uid",
				     (json_int_t)cfg->uid, "gid", (json_int_t)cfg->gid, "lowerdirs",
				     strv_json(cfg->lowerdirs), "upperdir", cfg->upperdir, "ovl_workdir",
				     cfg->ovl_workdir, "rootfs", cfg->rootfs, "stdio", (int)cfg->stdio, "stdio_map",
				     map[0], map[1], map[2], "tty_rows", (int)cfg->tty_rows, "tty_cols",
				     (int)cfg->tty_cols);
	_cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!text)
		return err_set(reterr, -ENOMEM, "out of memory");
	size_t len = strlen(text);
	if (len > SPAWN_MAX_CONFIG)
		return err_set(reterr, -E2BIG, "the container's configuration is too large");

	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 3)];
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = { .iov_base = text, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0) {
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(sync_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return err_set(reterr, -errno, "cannot hand the configuration to the container process: %m");
	return 0;
}

/* Receives the configuration; the strings stay owned by *ret_doc. */
static int child_receive_config(int sync_fd, struct spawn_config *cfg, json_t **ret_doc)
{
	char peek;
	struct iovec iov = { .iov_base = &peek, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	do
		n = recvmsg(sync_fd, &mh, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || n > SPAWN_MAX_CONFIG)
		return n < 0 ? -errno : -EBADMSG;

	char *text = malloc((size_t)n + 1);
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 3)];
	} control;
	iov = (struct iovec){ .iov_base = text, .iov_len = (size_t)n };
	mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	if (!text)
		return -ENOMEM;
	n = recvmsg(sync_fd, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0) {
		free(text);
		return n < 0 ? -errno : -EBADMSG;
	}
	int fds[3] = { -1, -1, -1 }, nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (nfds > 3)
				return -EBADMSG;
			memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)nfds);
		}
	json_t *doc = json_loadb(text, (size_t)n, 0, NULL);
	free(text);
	if (!doc)
		return -EBADMSG;
	json_int_t uid = 0, gid = 0;
	int stdio = 0, map[3], rows = 0, cols = 0, set_user = 0;
	json_t *argv, *env, *lower;
	if (json_unpack(doc, "{s:s, s:o, s:o, s:s, s:b, s:I, s:I, s:o, s:s, s:s, s:s, s:i, s:[iii], s:i, s:i}",
			"hostname", &cfg->hostname, "argv", &argv, "env", &env, "workdir", &cfg->workdir,
			"set_user", &set_user, "uid", &uid, "gid", &gid, "lowerdirs", &lower, "upperdir",
			&cfg->upperdir, "ovl_workdir", &cfg->ovl_workdir, "rootfs", &cfg->rootfs, "stdio", &stdio,
			"stdio_map", &map[0], &map[1], &map[2], "tty_rows", &rows, "tty_cols", &cols) < 0) {
		json_decref(doc);
		return -EBADMSG;
	}
	cfg->argv = json_strv(argv);
	cfg->env = json_strv(env);
	cfg->lowerdirs = json_strv(lower);
	if (!cfg->argv || !cfg->argv[0] || !cfg->env || !cfg->lowerdirs || !cfg->lowerdirs[0]) {
		json_decref(doc);
		return -EBADMSG;
	}
	cfg->set_user = set_user;
	cfg->uid = (uid_t)uid;
	cfg->gid = (gid_t)gid;
	cfg->stdio = (enum proto_stdio)stdio;
	cfg->tty_rows = (unsigned short)rows;
	cfg->tty_cols = (unsigned short)cols;
	for (int i = 0; i < 3; i++)
		cfg->stdio_fds[i] = map[i] >= 0 && map[i] < nfds ? fds[map[i]] : -1;
	*ret_doc = doc;
	return 0;
}

/* The spare's life before its container exists. Never returns. */
static void __attribute__((noreturn)) child_prepare(struct container_cgroup *cg, int sync_fd)
{
	/* The daemon's handlers and mask are not the container's. */
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(sync_fd, 125, "prctl: %s", strerror(errno));
	(void)prctl(PR_SET_NAME, "containd-spare");

	/* Join every cgroup before creating the cgroup namespace, so that the namespace is rooted
	 * at the container's cgroup and the limits bind before any container code runs. */
	char *err = NULL;
	if (cg && cgroup_attach(cg, 0, &err) < 0)
		child_fail(sync_fd, 125, "%s", err ? err : "cannot join the container's cgroups");
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail(sync_fd, 125, "cannot create the cgroup namespace: %s", strerror(errno));

	/* A spare may wait long, and it holds copies of all the daemon's fds: client connections
	 * among them, which must close when the daemon closes them. Keep stdio and the sync fd. */
	if (sync_fd != 3) {
		if (dup3(sync_fd, 3, O_CLOEXEC) < 0)
			child_fail(sync_fd, 125, "dup3: %s", strerror(errno));
		sync_fd = 3;
	}
	if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
		child_fail(sync_fd, 125, "close_range: %s", strerror(errno));

	struct spawn_report ready = { .type = SPAWN_REPORT_READY };
	(void)send(sync_fd, &ready, sizeof(ready), MSG_NOSIGNAL);

	struct spawn_config cfg = { 0 };
	json_t *doc = NULL;
	int r = child_receive_config(sync_fd, &cfg, &doc);
	if (r < 0) {
		/* EOF: the daemon discarded this spare. */
		if (r == -EBADMSG)
			child_fail(sync_fd, 125, "invalid configuration from the daemon");
		_exit(125);
	}
	child_main(&cfg, sync_fd);
}

int spawn_prepare(struct container_cgroup *cg, struct spawn_result *ret, char **reterr)
{
	if (cap_last < 0)
		read_cap_last();
	int sv[2];
	/* SEQPACKET keeps each message whole and carries fds as SCM_RIGHTS. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(reterr, -errno, "socketpair: %m");
	_cleanup_close_ int parent_fd = sv[0];
	_cleanup_close_ int child_fd = sv[1];
	int bufsize = SPAWN_MAX_CONFIG + 65536;
	if (setsockopt(parent_fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
		(void)setsockopt(parent_fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));

	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	int cgfd = cg ? cgroup_clone_fd(cg) : -1;
	if (cgfd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return err_set(reterr, -errno, "clone3: %m");
	if (pid == 0) {
		parent_fd = safe_close(parent_fd);
		child_prepare(cg, child_fd);
	}
	ret->pid = (pid_t)pid;
	ret->pidfd = pidfd;
	ret->sync_fd = TAKE_FD(parent_fd);
	return 0;
}

int spawn_read_report(int sync_fd, struct spawn_report *ret, int *ret_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 2)];
	} control;
	struct iovec iov = { .iov_base = ret, .iov_len = sizeof(*ret) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	*ret_fd = -1;
	ssize_t n = recvmsg(sync_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *fds = (int *)CMSG_DATA(c);
		for (int i = 0; i < nfds; i++) {
			if (*ret_fd < 0)
				*ret_fd = fds[i];
			else
				close(fds[i]);
		}
	}
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof(*ret) ||
	    (ret->type != SPAWN_REPORT_PTY && ret->type != SPAWN_REPORT_ERROR && ret->type != SPAWN_REPORT_READY)) {
		*ret_fd = safe_close(*ret_fd);
		return -EBADMSG;
	}
	ret->message[sizeof(ret->message) - 1] = '\0';
	if (ret->type == SPAWN_REPORT_PTY && *ret_fd < 0)
		return -EBADMSG;
	return 1;
}
