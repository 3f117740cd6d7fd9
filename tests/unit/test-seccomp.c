/* Unit tests for runtime/seccomp: the JSON parser on good and hostile profiles, the default
 * profile compiled and installed in forked children (what it denies, what it allows, what
 * CAP_SYS_ADMIN changes), a custom profile, and the cache. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/seccomp.h"
#include "tests/tap.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#define CAPBIT(c) (UINT64_C(1) << (c))

/* What a probe reports beyond an errno (all below 200). */
#define PROBE_OK 0
#define PROBE_INSTALL_FAILED 201
#define PROBE_SIGNALED 250

/* Runs probe in a forked child under bpf (with no_new_privs, as an unprivileged init would; no
 * filter if bpf is NULL) and returns what it returned: 0 for success, else the errno its call
 * failed with. */
static int run_probe(const struct seccomp_bpf *bpf, int (*probe)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (bpf && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(bpf) < 0))
			_exit(PROBE_INSTALL_FAILED);
		_exit(probe());
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return PROBE_SIGNALED;
	return WEXITSTATUS(status);
}

/* A raw syscall's result as a probe result. */
static int probe_result(long r)
{
	return r < 0 ? errno : PROBE_OK;
}

static int probe_keyctl(void)
{
	return probe_result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
}

static int probe_add_key(void)
{
	return probe_result(syscall(SYS_add_key, "user", "containd-test", "x", 1, KEY_SPEC_PROCESS_KEYRING));
}

static int probe_unshare_user(void)
{
	return probe_result(unshare(CLONE_NEWUSER));
}

static int probe_mount(void)
{
	return probe_result(mount("none", "/nonexistent-containd-test", "tmpfs", 0, NULL));
}

/* A raw clone that succeeds in the parent only; the new child leaves at once. */
static int probe_clone(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
	if (r == 0)
		_exit(0);
	if (r < 0)
		return errno;
	waitpid((pid_t)r, NULL, 0);
	return PROBE_OK;
}

static int probe_clone_newns(void)
{
	return probe_clone(CLONE_NEWNS);
}

static int probe_clone_plain(void)
{
	return probe_clone(0);
}

static int probe_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	if (pid < 0)
		return errno;
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		return 199;
	return PROBE_OK;
}

static int probe_clone3(void)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &args, sizeof(args));
	if (r == 0)
		_exit(0);
	if (r < 0)
		return errno;
	waitpid((pid_t)r, NULL, 0);
	return PROBE_OK;
}

static int probe_socket(int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	close(fd);
	return PROBE_OK;
}

static int probe_socket_vsock(void)
{
	return probe_socket(AF_VSOCK);
}

static int probe_socket_inet(void)
{
	return probe_socket(AF_INET);
}

static int probe_personality_query(void)
{
	return probe_result(personality(0xffffffff));
}

static int probe_personality_norandom(void)
{
	return probe_result(personality(ADDR_NO_RANDOMIZE));
}

static int probe_basic(void)
{
	if (getpid() <= 0)
		return 198;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	long r = write(fd, "x", 1);
	close(fd);
	return r == 1 ? PROBE_OK : errno;
}

static int probe_execve(void)
{
	char *const argv[] = { "true", NULL };
	char *const envp[] = { NULL };
	execve("/bin/true", argv, envp);
	return errno;
}

/* Calls a capability group of the profile admits; each fails harmlessly (ENOENT, EFAULT) when
 * the filter lets it through, and with EPERM when the filter stops it. */
static int probe_chroot(void)
{
	return probe_result(chroot("/nonexistent-containd-test"));
}

static int probe_open_by_handle(void)
{
	return probe_result(syscall(SYS_open_by_handle_at, -1, NULL, 0));
}

/* A syscall number above every one the profile names: a call from a newer libc. */
static int probe_future_syscall(void)
{
	return probe_result(syscall(1000, 0, 0, 0));
}

#if defined(__x86_64__)
/* A syscall through int 0x80: the i386 ABI, which the kernel reports as AUDIT_ARCH_I386 even
 * from a 64-bit process, so this exercises the compat part of the filter. */
static long int80(long nr, long arg)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(arg) : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static int int80_result(long r)
{
	return r < 0 && r > -4096 ? (int)-r : PROBE_OK;
}

static int probe_i386_getpid(void)
{
	return int80(20, 0) == getpid() ? PROBE_OK : 197;
}

static int probe_i386_keyctl(void)
{
	return int80_result(int80(288, KEYCTL_GET_KEYRING_ID));
}

static int probe_i386_unshare_user(void)
{
	return int80_result(int80(310, CLONE_NEWUSER));
}

static int probe_i386_future(void)
{
	return int80_result(int80(1000, 0));
}
#endif

static char probe_dir[64];

static int probe_mkdir(void)
{
	return probe_result(mkdir(probe_dir, 0700));
}

/* Whether the program compares the architecture word with arch: it handles that ABI. */
static int bpf_checks_arch(const struct seccomp_bpf *bpf, uint32_t arch)
{
	const struct sock_filter *f = (const struct sock_filter *)bpf->insns;
	for (size_t i = 0; i < bpf->len / sizeof(*f); i++)
		if (BPF_CLASS(f[i].code) == BPF_JMP && f[i].k == arch)
			return 1;
	return 0;
}

/* Parses json and expects failure with errno r and a message containing want. */
static void expect_parse_error(const char *json, int r, const char *want)
{
	struct seccomp_profile *p = NULL;
	char *err = NULL;
	int got = seccomp_profile_parse(json, strlen(json), &p, &err);
	is_int(got, r, "refused: %s", want);
	ok(p == NULL, "no profile for a refused one");
	ok(err && strstr(err, want), "message names the problem: %s", err ? err : "(none)");
	free(err);
	seccomp_profile_free(p);
}

static void test_parse(void)
{
	static const char good[] = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
				   "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","
				   "\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]},"
				   "{\"architecture\":\"SCMP_ARCH_LOONGARCH64\",\"subArchitectures\":null}],"
				   "\"syscalls\":[{\"names\":[\"read\",\"write\",\"no_such_call\"],"
				   "\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"x\"},"
				   "{\"name\":\"socket\",\"names\":null,\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":null,"
				   "\"includes\":null,"
				   "\"args\":[{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]},"
				   "{\"names\":[\"chroot\"],\"action\":\"SCMP_ACT_ALLOW\","
				   "\"includes\":{\"caps\":[\"CAP_SYS_CHROOT\"],\"minKernel\":\"4.8\"},"
				   "\"excludes\":{\"arches\":[\"s390x\"]}}]}";
	struct seccomp_profile *p = NULL;
	struct seccomp_bpf *bpf = NULL;
	char *err = NULL;

	is_int(seccomp_profile_parse(good, strlen(good), &p, &err), 0, "a Docker-format profile parses");
	is_str(err, NULL, "without a message");
	is_int(seccomp_compile(p, 0, &bpf, &err), 0, "and compiles, skipping an unknown syscall name");
	ok(bpf && bpf->len > 0 && bpf->len % sizeof(struct sock_filter) == 0, "into whole BPF instructions");
	seccomp_bpf_free(bpf);
	seccomp_profile_free(p);
	free(err);

	expect_parse_error("{\"defaultAction\":", -EINVAL, "invalid JSON");
	expect_parse_error("[]", -EINVAL, "not a JSON object");
	expect_parse_error("{}", -EINVAL, "defaultAction must be a string");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALOW\"}", -EINVAL, "unknown action \"SCMP_ACT_ALOW\"");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", -EOPNOTSUPP, "SCMP_ACT_NOTIFY");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
			   "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
			   -EOPNOTSUPP, "syscalls[0].action: SCMP_ACT_NOTIFY is not supported");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}", -EINVAL,
			   "defaultErrnoRet must be an integer from 0 to 4095");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
			   "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XOR\"}]}]}",
			   -EINVAL, "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XOR\"");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
			   "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
			   -EINVAL, "syscalls[0].args[0].index must be an integer from 0 to 5");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
			   "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
			   -EINVAL, "syscalls[0].args[0].value must be an integer");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
			   "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
			   "{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":2,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
			   "{\"index\":3,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":4,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
			   "{\"index\":5,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]}]}",
			   -E2BIG, "syscalls[0].args has more than 6 conditions");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"name\":\"read\","
			   "\"names\":[\"write\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
			   -EINVAL, "syscalls[0] has both \"name\" and \"names\"");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]}]}", -EINVAL,
			   "syscalls[0].action must be a string");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}", -EINVAL,
			   "unknown architecture \"SCMP_ARCH_VAX\"");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\"],"
			   "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
			   -EINVAL, "both \"architectures\" and \"archMap\"");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x.sock\"}", -EOPNOTSUPP,
			   "listenerPath is not supported");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
			   "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"four\"}}]}",
			   -EINVAL, "syscalls[0].includes.minKernel");
	expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultAction\":\"SCMP_ACT_KILL\"}", -EINVAL,
			   "duplicate");

	/* Past the size cap: refused before jansson reads it. */
	size_t big = SECCOMP_PROFILE_MAX_BYTES + 1;
	char *huge = malloc(big);
	if (huge) {
		memset(huge, ' ', big);
		struct seccomp_profile *q = NULL;
		char *e = NULL;
		is_int(seccomp_profile_parse(huge, big, &q, &e), -E2BIG, "a profile over the size cap is refused");
		ok(e && strstr(e, "bytes"), "saying so: %s", e ? e : "(none)");
		free(e);
		free(huge);
	}

	/* Too many entries: more than SECCOMP_PROFILE_MAX_RULES. */
	size_t n = SECCOMP_PROFILE_MAX_RULES + 1, cap = 64 + n * 3;
	char *many = malloc(cap);
	if (many) {
		size_t off = (size_t)snprintf(many, cap, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[");
		for (size_t i = 0; i < n; i++)
			off += (size_t)snprintf(many + off, cap - off, "%s{}", i ? "," : "");
		snprintf(many + off, cap - off, "]}");
		struct seccomp_profile *q = NULL;
		char *e = NULL;
		is_int(seccomp_profile_parse(many, strlen(many), &q, &e), -E2BIG, "too many syscalls entries are refused");
		free(e);
		free(many);
	}
}

/* The default profile for a container without CAP_SYS_ADMIN: Docker's denials. */
static void test_default(void)
{
	struct seccomp_profile *p = NULL;
	struct seccomp_bpf *bpf = NULL, *admin = NULL;
	char *err = NULL;
	/* Docker's default capability set. */
	uint64_t caps = CAPBIT(CAP_CHOWN) | CAPBIT(CAP_DAC_OVERRIDE) | CAPBIT(CAP_FSETID) | CAPBIT(CAP_FOWNER) |
			CAPBIT(CAP_MKNOD) | CAPBIT(CAP_NET_RAW) | CAPBIT(CAP_SETGID) | CAPBIT(CAP_SETUID) |
			CAPBIT(CAP_SETFCAP) | CAPBIT(CAP_SETPCAP) | CAPBIT(CAP_NET_BIND_SERVICE) |
			CAPBIT(CAP_SYS_CHROOT) | CAPBIT(CAP_KILL) | CAPBIT(CAP_AUDIT_WRITE);

	is_int(seccomp_profile_default(&p, &err), 0, "the default profile builds");
	is_int(seccomp_compile(p, caps, &bpf, &err), 0, "and compiles for Docker's default caps: %s", err ? err : "");
	is_int(seccomp_compile(p, caps | CAPBIT(CAP_SYS_ADMIN), &admin, &err), 0, "and with CAP_SYS_ADMIN");
	seccomp_profile_free(p);
	if (!bpf || !admin) {
		free(err);
		return;
	}
#if defined(__x86_64__)
	ok(bpf_checks_arch(bpf, AUDIT_ARCH_X86_64) && bpf_checks_arch(bpf, AUDIT_ARCH_I386),
	   "it covers x86_64 and the x86 compat ABI");
#endif

	is_int(run_probe(bpf, probe_keyctl), EPERM, "keyctl: EPERM");
	is_int(run_probe(bpf, probe_add_key), EPERM, "add_key: EPERM");
	is_int(run_probe(bpf, probe_unshare_user), EPERM, "unshare(CLONE_NEWUSER): EPERM");
	is_int(run_probe(bpf, probe_mount), EPERM, "mount: EPERM");
	is_int(run_probe(bpf, probe_clone_newns), EPERM, "clone(CLONE_NEWNS): EPERM");
	is_int(run_probe(bpf, probe_clone_plain), 0, "clone without namespace flags works");
	is_int(run_probe(bpf, probe_fork), 0, "fork works");
	is_int(run_probe(bpf, probe_clone3), ENOSYS, "clone3: ENOSYS, so libc falls back to clone");
	is_int(run_probe(bpf, probe_socket_vsock), EPERM, "socket(AF_VSOCK): EPERM");
	is_int(run_probe(bpf, probe_socket_inet), 0, "socket(AF_INET) works");
	is_int(run_probe(bpf, probe_personality_query), 0, "personality(0xffffffff) works");
	is_int(run_probe(bpf, probe_personality_norandom), EPERM, "personality(ADDR_NO_RANDOMIZE): EPERM");
	is_int(run_probe(bpf, probe_basic), 0, "getpid, open, write work");
	is_int(run_probe(bpf, probe_execve), 0, "execve of /bin/true works");
	is_int(run_probe(bpf, probe_future_syscall), ENOSYS, "a syscall newer than the profile: ENOSYS, as with runc");

#if defined(__x86_64__)
	/* The i386 ABI, where the kernel has it (probed without a filter first). */
	if (run_probe(NULL, probe_i386_getpid) == 0) {
		is_int(run_probe(bpf, probe_i386_getpid), 0, "i386 ABI: getpid works");
		is_int(run_probe(bpf, probe_i386_keyctl), EPERM, "i386 ABI: keyctl: EPERM");
		is_int(run_probe(bpf, probe_i386_unshare_user), EPERM, "i386 ABI: unshare(CLONE_NEWUSER): EPERM");
		is_int(run_probe(bpf, probe_i386_future), ENOSYS, "i386 ABI: a syscall newer than the profile: ENOSYS");
	} else {
		printf("# skipped the i386 ABI checks: this kernel runs no i386 syscalls\n");
	}
#endif

	/* CAP_SYS_ADMIN lifts the namespace rules, as in Docker. */
	is_int(run_probe(admin, probe_unshare_user), 0, "with CAP_SYS_ADMIN, unshare(CLONE_NEWUSER) works");
	is_int(run_probe(admin, probe_clone_newns), 0, "with CAP_SYS_ADMIN, clone(CLONE_NEWNS) works");
	is_int(run_probe(admin, probe_keyctl), EPERM, "with CAP_SYS_ADMIN, keyctl is still EPERM");
	is_int(run_probe(admin, probe_mount), ENOENT, "with CAP_SYS_ADMIN, mount reaches the kernel");

	/* The other capability groups, by two examples. */
	is_int(run_probe(bpf, probe_chroot), ENOENT, "with CAP_SYS_CHROOT (Docker's default), chroot reaches the kernel");
	is_int(run_probe(bpf, probe_open_by_handle), EPERM, "without CAP_DAC_READ_SEARCH, open_by_handle_at: EPERM");
	p = NULL;
	struct seccomp_bpf *bare = NULL, *dac = NULL;
	if (seccomp_profile_default(&p, &err) == 0) {
		if (seccomp_compile(p, 0, &bare, &err) == 0)
			is_int(run_probe(bare, probe_chroot), EPERM, "without CAP_SYS_CHROOT, chroot: EPERM");
		if (seccomp_compile(p, CAPBIT(CAP_DAC_READ_SEARCH), &dac, &err) == 0)
			is_int(run_probe(dac, probe_open_by_handle), EFAULT,
			       "with CAP_DAC_READ_SEARCH, open_by_handle_at reaches the kernel");
	}
	ok(bare && dac, "the default compiles for those cap sets");
	seccomp_bpf_free(bare);
	seccomp_bpf_free(dac);
	seccomp_profile_free(p);
	ok(admin->len != bpf->len || memcmp(admin->insns, bpf->insns, bpf->len) != 0,
	   "the caps change the program");

	seccomp_bpf_free(bpf);
	seccomp_bpf_free(admin);
	free(err);
}

/* A user's profile: allow everything, but mkdir fails with errno 38. */
static const char deny_mkdir[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
				 "\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}";

static void test_custom(void)
{
	struct seccomp_profile *p = NULL;
	struct seccomp_bpf *bpf = NULL;
	char *err = NULL;

	snprintf(probe_dir, sizeof(probe_dir), "/tmp/containd-seccomp-%d", (int)getpid());
	is_int(seccomp_profile_parse(deny_mkdir, strlen(deny_mkdir), &p, &err), 0, "a profile denying mkdir parses");
	is_int(seccomp_compile(p, 0, &bpf, &err), 0, "and compiles: %s", err ? err : "");
	seccomp_profile_free(p);
	if (!bpf)
		return;
	is_int(run_probe(bpf, probe_mkdir), 38, "mkdir fails with errnoRet 38");
	struct stat st;
	ok(stat(probe_dir, &st) < 0 && errno == ENOENT, "and made no directory");
	is_int(run_probe(bpf, probe_keyctl) == EPERM, 0, "keyctl is not denied by this profile");
	is_int(run_probe(bpf, probe_future_syscall), ENOSYS, "an unknown syscall reaches the kernel (allowing default)");
	seccomp_bpf_free(bpf);
	free(err);
}

static void test_cache(void)
{
	struct seccomp_cache *c = NULL;
	const struct seccomp_bpf *a = NULL, *b = NULL, *d = NULL, *j1 = NULL, *j2 = NULL;
	char *err = NULL;

	is_int(seccomp_cache_new(&c), 0, "a cache");
	if (!c)
		return;
	is_int(seccomp_cache_get(c, NULL, 0, 0, &a, &err), 0, "the default profile, compiled");
	is_int(seccomp_cache_get(c, NULL, 0, 0, &b, &err), 0, "and again");
	ok(a && a == b, "the same key returns the same program");
	is_int(seccomp_cache_get(c, NULL, 0, CAPBIT(CAP_SYS_ADMIN), &d, &err), 0, "with other caps");
	ok(d && d != a && (d->len != a->len || memcmp(d->insns, a->insns, a->len) != 0),
	   "different caps return a different program");

	/* The key is the content, not the buffer. */
	char *copy = strdup(deny_mkdir);
	is_int(seccomp_cache_get(c, deny_mkdir, strlen(deny_mkdir), 0, &j1, &err), 0, "a JSON profile");
	is_int(seccomp_cache_get(c, copy, strlen(copy), 0, &j2, &err), 0, "the same text in another buffer");
	ok(j1 && j1 == j2, "gives the same program");
	ok(j1 != a, "which is not the default's");
	copy[strlen(copy) - 5] = '9'; /* errnoRet 38 -> 98 */
	is_int(seccomp_cache_get(c, copy, strlen(copy), 0, &j2, &err), 0, "a profile differing in one byte");
	ok(j2 != j1, "gets its own program");
	free(copy);

	static const char bad[] = "{\"defaultAction\":\"SCMP_ACT_BOGUS\"}";
	const struct seccomp_bpf *none = NULL;
	is_int(seccomp_cache_get(c, bad, strlen(bad), 0, &none, &err), -EINVAL, "a bad profile fails");
	ok(none == NULL && err && strstr(err, "SCMP_ACT_BOGUS"), "with the parser's message: %s", err ? err : "");
	free(err);
	err = NULL;

	/* More keys than the cache holds: the oldest go, every answer stays right. Earlier
	 * pointers are invalid from here on (the documented lifetime). */
	size_t default_len = b->len;
	int good = 1;
	for (uint64_t i = 0; i < SECCOMP_CACHE_MAX + 4; i++) {
		const struct seccomp_bpf *x = NULL;
		if (seccomp_cache_get(c, deny_mkdir, strlen(deny_mkdir), i, &x, &err) < 0 || !x || x->len == 0)
			good = 0;
	}
	ok(good, "more keys than the cache holds all compile");
	const struct seccomp_bpf *again = NULL;
	is_int(seccomp_cache_get(c, NULL, 0, 0, &again, &err), 0, "an evicted key compiles again");
	ok(again && again->len == default_len, "to the same program length");
	seccomp_cache_free(c);
	free(err);
}

int main(void)
{
	test_parse();
	test_default();
	test_custom();
	test_cache();
	return tap_done();
}
