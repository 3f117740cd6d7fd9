/* Compiling a parsed seccomp profile into raw BPF with libseccomp, installing a program without
 * it, and a cache of compiled programs. Profiles come from seccomp-default.c and seccomp-json.c. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/seccomp-enosys.h"
#include "runtime/seccomp-internal.h"

/* A program larger than the kernel accepts (BPF_MAXINSNS instructions) is refused when compiled
 * rather than when a container starts. */
#define SECCOMP_BPF_MAX_BYTES (BPF_MAXINSNS * sizeof(struct sock_filter))

/* Frees a parsed profile; the default one only borrows static tables. */
void seccomp_profile_free(struct seccomp_profile *p)
{
	if (!p)
		return;
	if (p->owned) {
		for (size_t i = 0; i < p->n_rules; i++) {
			char **names = (char **)p->rules[i].names;
			strv_free(names);
		}
		free((void *)p->rules);
		free((void *)p->archmap);
	}
	free(p);
}

/* Frees a program from seccomp_compile() (never one the cache owns). */
void seccomp_bpf_free(struct seccomp_bpf *bpf)
{
	if (!bpf)
		return;
	free(bpf->insns);
	free(bpf);
}

/* The native architecture under the name Docker's includes/excludes use (Go's GOARCH). */
static uint32_t seccomp_native_goarch(void)
{
#if defined(__x86_64__) && defined(__ILP32__)
	return SECCOMP_GOARCH_X32;
#elif defined(__x86_64__)
	return SECCOMP_GOARCH_AMD64;
#elif defined(__i386__)
	return SECCOMP_GOARCH_X86;
#elif defined(__aarch64__)
	return SECCOMP_GOARCH_ARM64;
#elif defined(__arm__)
	return SECCOMP_GOARCH_ARM;
#elif defined(__s390x__)
	return SECCOMP_GOARCH_S390X;
#elif defined(__s390__)
	return SECCOMP_GOARCH_S390;
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return SECCOMP_GOARCH_PPC64LE;
#elif defined(__powerpc64__)
	return SECCOMP_GOARCH_PPC64;
#elif defined(__powerpc__)
	return SECCOMP_GOARCH_PPC;
#elif defined(__riscv) && __riscv_xlen == 64
	return SECCOMP_GOARCH_RISCV64;
#elif defined(__loongarch64)
	return SECCOMP_GOARCH_LOONG64;
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return SECCOMP_GOARCH_MIPSEL64;
#elif defined(__mips64)
	return SECCOMP_GOARCH_MIPS64;
#elif defined(__mips__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return SECCOMP_GOARCH_MIPSEL;
#elif defined(__mips__)
	return SECCOMP_GOARCH_MIPS;
#else
	return 0;
#endif
}

/* The running kernel as SECCOMP_KERNEL(major, minor), for minKernel; 0 if unreadable. */
static uint32_t seccomp_kernel_version(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2 || major > 0xffff || minor > 0xffff)
		return 0;
	return SECCOMP_KERNEL(major, minor);
}

/* What the host and container look like to includes/excludes. */
struct seccomp_env {
	uint64_t caps;
	uint32_t goarch;
	uint32_t kernel;
};

/* Docker's rule selection: every include must hold, no exclude may. */
static bool seccomp_rule_applies(const struct seccomp_rule *rule, const struct seccomp_env *env)
{
	const struct seccomp_filter *in = &rule->includes, *ex = &rule->excludes;

	if (in->never)
		return false;
	if (in->arches && !(in->arches & env->goarch))
		return false;
	if ((in->caps & env->caps) != in->caps)
		return false;
	if (in->min_kernel && env->kernel < in->min_kernel)
		return false;
	if (ex->arches & env->goarch)
		return false;
	if (ex->caps & env->caps)
		return false;
	if (ex->min_kernel && env->kernel >= ex->min_kernel)
		return false;
	return true;
}

/* The libseccomp action of an action and its errno (EPERM when the profile gave none). */
static uint32_t seccomp_scmp_action(enum seccomp_action a, int errno_ret)
{
	uint16_t e = errno_ret < 0 ? EPERM : (uint16_t)errno_ret;

	switch (a) {
	case SECCOMP_ACTION_ALLOW:
		return SCMP_ACT_ALLOW;
	case SECCOMP_ACTION_ERRNO:
		return SCMP_ACT_ERRNO(e);
	case SECCOMP_ACTION_KILL_THREAD:
		return SCMP_ACT_KILL_THREAD;
	case SECCOMP_ACTION_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case SECCOMP_ACTION_TRAP:
		return SCMP_ACT_TRAP;
	case SECCOMP_ACTION_TRACE:
		return SCMP_ACT_TRACE(e);
	case SECCOMP_ACTION_LOG:
		return SCMP_ACT_LOG;
	}
	return SCMP_ACT_KILL_PROCESS;
}

/* The architectures of the filter: the native one, which seccomp_init() added, then those the
 * profile asks for ("architectures", else its archMap entry for the native one). An
 * architecture the libseccomp here cannot handle is an error, not silently dropped. */
struct seccomp_arches {
	size_t n;
	uint32_t token[SECCOMP_ENOSYS_MAX_ARCHES];
	int64_t max_nr[SECCOMP_ENOSYS_MAX_ARCHES]; /* highest syscall number named, for the ENOSYS prefix */
};

static int seccomp_add_arches(scmp_filter_ctx ctx, const struct seccomp_profile *p, struct seccomp_arches *out,
			      char **reterr)
{
	const uint32_t *arches = p->arches;
	size_t n = p->n_arches;
	uint32_t native = seccomp_arch_native();

	out->n = 1;
	out->token[0] = native;
	out->max_nr[0] = -1;
	if (n == 0) {
		for (size_t i = 0; i < p->n_archmap; i++)
			if (p->archmap[i].arch == native) {
				arches = p->archmap[i].sub;
				n = p->archmap[i].n_sub;
				break;
			}
	}
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < out->n; j++)
			seen |= out->token[j] == arches[i];
		if (seen)
			continue;
		if (out->n == SECCOMP_ENOSYS_MAX_ARCHES)
			return err_set(reterr, -E2BIG, "seccomp: more than %d architectures", SECCOMP_ENOSYS_MAX_ARCHES);
		int r = seccomp_arch_add(ctx, arches[i]);
		if (r < 0)
			return err_set(reterr, r, "seccomp: cannot add architecture 0x%x: %m", (unsigned)arches[i]);
		out->token[out->n] = arches[i];
		out->max_nr[out->n] = -1;
		out->n++;
	}
	return 0;
}

/* Notes the number name has on each architecture of the filter (pseudo numbers, for names an
 * ABI lacks, are negative and ignored). */
static void seccomp_note_syscall(struct seccomp_arches *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++) {
		int nr = seccomp_syscall_resolve_name_arch(a->token[i], name);
		if (nr >= 0 && nr > a->max_nr[i])
			a->max_nr[i] = nr;
	}
}

/* Adds one entry for one syscall. Conditions on the same argument are alternatives to libseccomp
 * (it refuses two in one rule), so such an entry becomes one rule per condition, as runc does. */
static int seccomp_add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *rule, uint32_t action, int nr)
{
	struct scmp_arg_cmp cmp[SECCOMP_MAX_ARGS];
	bool repeated = false;

	for (unsigned i = 0; i < rule->n_args; i++) {
		const struct seccomp_arg *a = &rule->args[i];
		cmp[i] = (struct scmp_arg_cmp){ .arg = a->index,
						.op = (enum scmp_compare)a->op,
						.datum_a = a->value,
						.datum_b = a->value_two };
		for (unsigned j = 0; j < i; j++)
			if (rule->args[j].index == a->index)
				repeated = true;
	}
	if (!repeated)
		return seccomp_rule_add_array(ctx, action, nr, rule->n_args, cmp);
	for (unsigned i = 0; i < rule->n_args; i++) {
		int r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads back the program libseccomp exported into a memfd, behind the given prefix. */
static int seccomp_export(scmp_filter_ctx ctx, const struct sock_filter *prefix, size_t n_prefix,
			  struct seccomp_bpf **ret, char **reterr)
{
	_cleanup_close_ int fd = memfd_create("containd-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return err_set(reterr, -errno, "seccomp: memfd_create: %m");
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return err_set(reterr, r, "seccomp: cannot export the filter: %m");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "seccomp: fstat: %m");
	size_t head = n_prefix * sizeof(struct sock_filter);
	if (st.st_size <= 0 || (size_t)st.st_size + head > SECCOMP_BPF_MAX_BYTES ||
	    st.st_size % sizeof(struct sock_filter) != 0)
		return err_set(reterr, -E2BIG, "seccomp: the compiled filter has %lld bytes, more than the kernel takes",
			       (long long)st.st_size + (long long)head);

	_cleanup_free_ struct seccomp_bpf *bpf = calloc(1, sizeof(*bpf));
	_cleanup_free_ unsigned char *insns = malloc(head + (size_t)st.st_size);
	if (!bpf || !insns)
		return err_set(reterr, -ENOMEM, "seccomp: out of memory");
	if (head)
		memcpy(insns, prefix, head);
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, insns + head + done, (size_t)st.st_size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(reterr, -errno, "seccomp: reading the filter: %m");
		if (n == 0)
			return err_set(reterr, -EIO, "seccomp: the exported filter is truncated");
		done += (size_t)n;
	}
	bpf->len = head + done;
	bpf->insns = TAKE_PTR(insns);
	*ret = TAKE_PTR(bpf);
	return 0;
}

static void seccomp_ctx_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* Selects the entries that apply to this host and capability set (Docker's includes/excludes),
 * hands them to libseccomp for every architecture of the filter, and exports the program behind
 * the ENOSYS prefix. The only place libseccomp builds anything: the daemon calls it through the
 * cache, once per profile and capability set. */
int seccomp_compile(const struct seccomp_profile *p, uint64_t caps, struct seccomp_bpf **ret, char **reterr)
{
	const struct seccomp_env env = {
		.caps = caps,
		.goarch = seccomp_native_goarch(),
		.kernel = seccomp_kernel_version(),
	};
	uint32_t default_action = seccomp_scmp_action(p->default_action, p->default_errno);

	_cleanup_(seccomp_ctx_releasep) scmp_filter_ctx ctx = seccomp_init(default_action);
	if (!ctx)
		return err_set(reterr, -EINVAL, "seccomp: libseccomp refuses the default action");
	/* The program is exported, never loaded by libseccomp: whether no_new_privs is set is the
	 * init's business. A binary tree keeps the ~350 syscall checks logarithmic. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r >= 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return err_set(reterr, r, "seccomp: cannot set filter attributes: %m");
	struct seccomp_arches arches;
	r = seccomp_add_arches(ctx, p, &arches, reterr);
	if (r < 0)
		return r;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct seccomp_rule *rule = &p->rules[i];
		if (!seccomp_rule_applies(rule, &env))
			continue;
		for (const char *const *name = rule->names; *name; name++)
			seccomp_note_syscall(&arches, *name);
		uint32_t action = seccomp_scmp_action(rule->action, rule->errno_ret);
		/* libseccomp refuses a rule that repeats the default action; it changes nothing. */
		if (action == default_action)
			continue;
		for (const char *const *name = rule->names; *name; name++) {
			int nr = seccomp_syscall_resolve_name(*name);
			/* Unknown here (newer than this libseccomp, or another OS's name): skipped,
			 * as Docker does, so one profile serves every host. */
			if (nr == __NR_SCMP_ERROR)
				continue;
			r = seccomp_add_rule(ctx, rule, action, nr);
			if (r < 0)
				return err_set(reterr, r, "seccomp: syscalls[%zu]: cannot add a rule for %s: %m", i,
					       *name);
		}
	}

	/* The ENOSYS prefix only where the default denies: an allowing (or logging, or tracing)
	 * default already lets new syscalls reach the kernel, and a default of ENOSYS needs none. */
	struct sock_filter prefix[SECCOMP_ENOSYS_MAX_INSNS];
	size_t n_prefix = 0;
	bool denies = p->default_action != SECCOMP_ACTION_ALLOW && p->default_action != SECCOMP_ACTION_LOG &&
		      p->default_action != SECCOMP_ACTION_TRACE;
	if (denies && default_action != SCMP_ACT_ERRNO(ENOSYS)) {
		r = seccomp_enosys_stub(arches.token, arches.max_nr, arches.n, prefix, &n_prefix);
		if (r < 0)
			return err_set(reterr, r, "seccomp: cannot build the ENOSYS prefix: %m");
	}
	return seccomp_export(ctx, prefix, n_prefix, ret, reterr);
}

/* No libseccomp and no allocation: this runs in the container's init between its last setup
 * step and execve. The kernel copies the program, so bpf may be freed afterwards. */
int seccomp_install(const struct seccomp_bpf *bpf)
{
	if (!bpf || bpf->len == 0 || bpf->len % sizeof(struct sock_filter) != 0 ||
	    bpf->len > SECCOMP_BPF_MAX_BYTES)
		return -EINVAL;
	struct sock_fprog prog = {
		.len = (unsigned short)(bpf->len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)bpf->insns,
	};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}
