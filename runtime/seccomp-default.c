/* The default seccomp profile: in effect the same as Docker's (moby's profiles/seccomp, whose
 * rules it follows entry for entry), written as a table of this project's parsed profile type so
 * that it compiles through the same path as a user's JSON profile.
 *
 * Why this is safe: everything not listed fails with EPERM. The list admits what ordinary
 * programs use and keeps out what reaches kernel surfaces a container must not touch without the
 * matching capability: the keyring (keyctl, add_key, request_key), mounts and namespaces (mount,
 * umount2, unshare, setns, pivot_root, namespace flags of clone), modules and kexec, bpf and
 * perf_event_open, open_by_handle_at (a known container escape without CAP_DAC_READ_SEARCH),
 * userfaultfd (a tool to win kernel races), clock and reboot calls. Where a capability makes a
 * call legitimate, the call is allowed when the container's bounding set holds it, as in Docker.
 * clone3 fails with ENOSYS rather than EPERM without CAP_SYS_ADMIN: its flags sit in memory that
 * a filter cannot read, and ENOSYS makes libc fall back to clone, whose flags it can. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/seccomp-internal.h"

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define CAP(c) (UINT64_C(1) << (c))

/* What every container may call. */
static const char *const seccomp_default_allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
	"capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
	"clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
	"clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
	"dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
	"exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
	"fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
	"fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
	"ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
	"futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
	"getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
	"getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
	"getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
	"get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
	"gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch",
	"inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
	"io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
	"io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
	"landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
	"listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
	"lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
	"memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
	"mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
	"mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
	"mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
	"munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
	"openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
	"pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
	"preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
	"pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
	"recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
	"removexattrat", "rename", "renameat", "renameat2", "restart_syscall", "riscv_hwprobe",
	"rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
	"rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
	"rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
	"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
	"semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
	"sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
	"setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
	"setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
	"setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
	"setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
	"setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
	"signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat",
	"stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync",
	"sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
	"timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
	"timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
	"ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat",
	"utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
	"writev", NULL,
};

/* The namespace flags of clone(2): creating namespaces needs CAP_SYS_ADMIN. */
#define SECCOMP_CLONE_NS_FLAGS \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

#define ALLOW .action = SECCOMP_ACTION_ALLOW, .errno_ret = -1
#define ARG1(i, o, v) .n_args = 1, .args = { { .index = (i), .op = (o), .value = (v) } }
#define ARG1_MASK(i, mask, v) \
	.n_args = 1, .args = { { .index = (i), .op = SECCOMP_OP_MASKED_EQ, .value = (mask), .value_two = (v) } }

static const struct seccomp_rule seccomp_default_rules[] = {
	{ .names = seccomp_default_allowed, ALLOW },
	/* Since 4.8, ptrace cannot bypass seccomp any more, so Docker allows it (and the
	 * process_vm calls, which need the same ptrace access) without CAP_SYS_PTRACE. */
	{ .names = NAMES("process_vm_readv", "process_vm_writev", "ptrace"), ALLOW,
	  .includes = { .min_kernel = SECCOMP_KERNEL(4, 8) } },
	/* Every address family but AF_ALG (a kernel crypto surface) and AF_VSOCK (the host's
	 * hypervisor sockets); 32-bit x86 reaches socket through socketcall, as in Docker. */
	{ .names = NAMES("socket"), ALLOW, ARG1(0, SECCOMP_OP_LT, AF_ALG) },
	{ .names = NAMES("socket"), ALLOW, ARG1(0, SECCOMP_OP_EQ, AF_ALG + 1) },
	{ .names = NAMES("socket"), ALLOW, ARG1(0, SECCOMP_OP_GT, AF_VSOCK) },
	/* PER_LINUX, PER_LINUX32, their UNAME26 variants, and the query 0xffffffff: nothing that
	 * changes how the kernel lays out memory (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC). */
	{ .names = NAMES("personality"), ALLOW, ARG1(0, SECCOMP_OP_EQ, 0x0) },
	{ .names = NAMES("personality"), ALLOW, ARG1(0, SECCOMP_OP_EQ, 0x0008) },
	{ .names = NAMES("personality"), ALLOW, ARG1(0, SECCOMP_OP_EQ, 0x20000) },
	{ .names = NAMES("personality"), ALLOW, ARG1(0, SECCOMP_OP_EQ, 0x20008) },
	{ .names = NAMES("personality"), ALLOW, ARG1(0, SECCOMP_OP_EQ, 0xffffffff) },
	/* Architecture-specific calls. */
	{ .names = NAMES("sync_file_range2", "swapcontext"), ALLOW,
	  .includes = { .arches = SECCOMP_GOARCH_PPC64LE } },
	{ .names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
			 "cacheflush", "set_tls"),
	  ALLOW, .includes = { .arches = SECCOMP_GOARCH_ARM | SECCOMP_GOARCH_ARM64 } },
	{ .names = NAMES("arch_prctl"), ALLOW, .includes = { .arches = SECCOMP_GOARCH_AMD64 | SECCOMP_GOARCH_X32 } },
	{ .names = NAMES("modify_ldt"), ALLOW,
	  .includes = { .arches = SECCOMP_GOARCH_AMD64 | SECCOMP_GOARCH_X32 | SECCOMP_GOARCH_X86 } },
	{ .names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), ALLOW,
	  .includes = { .arches = SECCOMP_GOARCH_S390 | SECCOMP_GOARCH_S390X } },
	{ .names = NAMES("riscv_flush_icache"), ALLOW, .includes = { .arches = SECCOMP_GOARCH_RISCV64 } },
	/* Calls a capability makes legitimate. */
	{ .names = NAMES("open_by_handle_at"), ALLOW, .includes = { .caps = CAP(CAP_DAC_READ_SEARCH) } },
	{ .names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
			 "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount",
			 "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
			 "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"),
	  ALLOW, .includes = { .caps = CAP(CAP_SYS_ADMIN) } },
	/* clone without namespace flags; s390 passes the flags second. */
	{ .names = NAMES("clone"), ALLOW, ARG1_MASK(0, SECCOMP_CLONE_NS_FLAGS, 0),
	  .excludes = { .caps = CAP(CAP_SYS_ADMIN), .arches = SECCOMP_GOARCH_S390 | SECCOMP_GOARCH_S390X } },
	{ .names = NAMES("clone"), ALLOW, ARG1_MASK(1, SECCOMP_CLONE_NS_FLAGS, 0),
	  .includes = { .arches = SECCOMP_GOARCH_S390 | SECCOMP_GOARCH_S390X },
	  .excludes = { .caps = CAP(CAP_SYS_ADMIN) } },
	{ .names = NAMES("clone3"), .action = SECCOMP_ACTION_ERRNO, .errno_ret = ENOSYS,
	  .excludes = { .caps = CAP(CAP_SYS_ADMIN) } },
	{ .names = NAMES("reboot"), ALLOW, .includes = { .caps = CAP(CAP_SYS_BOOT) } },
	{ .names = NAMES("chroot"), ALLOW, .includes = { .caps = CAP(CAP_SYS_CHROOT) } },
	{ .names = NAMES("delete_module", "init_module", "finit_module"), ALLOW,
	  .includes = { .caps = CAP(CAP_SYS_MODULE) } },
	{ .names = NAMES("acct"), ALLOW, .includes = { .caps = CAP(CAP_SYS_PACCT) } },
	{ .names = NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"),
	  ALLOW, .includes = { .caps = CAP(CAP_SYS_PTRACE) } },
	{ .names = NAMES("iopl", "ioperm"), ALLOW, .includes = { .caps = CAP(CAP_SYS_RAWIO) } },
	{ .names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"), ALLOW,
	  .includes = { .caps = CAP(CAP_SYS_TIME) } },
	{ .names = NAMES("vhangup"), ALLOW, .includes = { .caps = CAP(CAP_SYS_TTY_CONFIG) } },
	{ .names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"), ALLOW,
	  .includes = { .caps = CAP(CAP_SYS_NICE) } },
	{ .names = NAMES("syslog"), ALLOW, .includes = { .caps = CAP(CAP_SYSLOG) } },
	{ .names = NAMES("bpf"), ALLOW, .includes = { .caps = CAP(CAP_BPF) } },
	{ .names = NAMES("perf_event_open"), ALLOW, .includes = { .caps = CAP(CAP_PERFMON) } },
};

/* Each 64-bit architecture with the 32-bit ABIs its kernel also runs, as Docker maps them. */
static const struct seccomp_archmap seccomp_default_archmap[] = {
	{ SCMP_ARCH_X86_64, 2, { SCMP_ARCH_X86, SCMP_ARCH_X32 } },
	{ SCMP_ARCH_AARCH64, 1, { SCMP_ARCH_ARM } },
	{ SCMP_ARCH_MIPS64, 2, { SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64N32 } },
	{ SCMP_ARCH_MIPS64N32, 2, { SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64 } },
	{ SCMP_ARCH_MIPSEL64, 2, { SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64N32 } },
	{ SCMP_ARCH_MIPSEL64N32, 2, { SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64 } },
	{ SCMP_ARCH_S390X, 1, { SCMP_ARCH_S390 } },
	{ SCMP_ARCH_RISCV64, 0, { 0 } },
	{ SCMP_ARCH_LOONGARCH64, 0, { 0 } },
};

/* The default profile refers to the static tables above: freeing it frees only the header. */
int seccomp_profile_default(struct seccomp_profile **ret, char **reterr)
{
	struct seccomp_profile *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(reterr, -ENOMEM, "seccomp: out of memory");
	p->default_action = SECCOMP_ACTION_ERRNO;
	p->default_errno = EPERM;
	p->archmap = seccomp_default_archmap;
	p->n_archmap = ARRAY_SIZE(seccomp_default_archmap);
	p->rules = seccomp_default_rules;
	p->n_rules = ARRAY_SIZE(seccomp_default_rules);
	*ret = p;
	return 0;
}
