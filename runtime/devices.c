/* Device access rules: the parser, the defaults, and the cgroup v2 device program.
 *
 * The program is assembled here by hand (no libbpf, no compiler): after a prologue that loads
 * the device type, the requested access, the major and the minor into registers, each rule is a
 * block of compare-and-skip instructions that falls through to "return 1" (allow) when every
 * field matches and jumps past its own end otherwise. After the last block the program returns 0
 * (refuse). The kernel calls it on every open() and mknod() of a device node by a process in the
 * cgroup or below it. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "runtime/devices.h"

#define NUMBER_DIGITS_MAX 7 /* DEVICE_MINOR_MAX has 7 digits */
#define BPF_LOG_SIZE 4096
/* The prologue, at most 8 instructions per rule, and the final two. */
#define PROG_INSNS_MAX(n) (6 + 8 * (n) + 2)

#define W DEVICE_WILDCARD
#define RWM DEVICE_ACCESS_ALL
const struct device_rule devices_default_rules[] = {
	{ 'c', W, W, DEVICE_ACCESS_MKNOD }, /* mknod of any node; opening it needs a rule below */
	{ 'b', W, W, DEVICE_ACCESS_MKNOD },
	{ 'c', 1, 3, RWM },                 /* /dev/null */
	{ 'c', 1, 5, RWM },                 /* /dev/zero */
	{ 'c', 1, 7, RWM },                 /* /dev/full */
	{ 'c', 1, 8, RWM },                 /* /dev/random */
	{ 'c', 1, 9, RWM },                 /* /dev/urandom */
	{ 'c', 5, 0, RWM },                 /* /dev/tty */
	{ 'c', 5, 1, RWM },                 /* /dev/console */
	{ 'c', 5, 2, RWM },                 /* /dev/ptmx */
	{ 'c', 136, W, RWM },               /* /dev/pts/N */
	{ 'c', 10, 200, RWM },              /* /dev/net/tun */
};
const size_t devices_default_n = ARRAY_SIZE(devices_default_rules);
#undef W
#undef RWM

/* Parses a major or minor number ("*" or 1 to 7 decimal digits, at most max) at *p, advancing *p. */
static int parse_number(const char **p, uint32_t max, uint32_t *ret)
{
	const char *s = *p;
	uint32_t v = 0;
	size_t n = 0;

	if (*s == '*') {
		*p = s + 1;
		*ret = DEVICE_WILDCARD;
		return 0;
	}
	while (s[n] >= '0' && s[n] <= '9') {
		if (n == NUMBER_DIGITS_MAX)
			return -ERANGE;
		v = v * 10 + (uint32_t)(s[n] - '0');
		n++;
	}
	if (n == 0)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*p = s + n;
	*ret = v;
	return 0;
}

/* Whether s is short, printable ASCII: only then is it quoted back in a message. */
static bool quotable(const char *s)
{
	size_t n = strnlen(s, DEVICE_RULE_STR_MAX);

	if (n == DEVICE_RULE_STR_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

int devices_rule_parse(const char *s, struct device_rule *ret, char **reterr)
{
	struct device_rule rule = { 0 };
	const char *p = s;
	int r;

	/* A peer sends these: the grammar is Docker's, read strictly left to right with no
	 * skipping of blanks, every number bounded before it is stored, the length capped, and
	 * the input echoed in a message only when it is short printable text. */
	if (!s || !quotable(s))
		return err_set(reterr, -EINVAL, "invalid device cgroup rule: expected \"TYPE MAJOR:MINOR ACCESS\" "
						"of at most %d characters", DEVICE_RULE_STR_MAX - 1);
	if (strcmp(s, "a") == 0) {
		*ret = (struct device_rule){ 'a', DEVICE_WILDCARD, DEVICE_WILDCARD, DEVICE_ACCESS_ALL };
		return 0;
	}
	if ((*p != 'a' && *p != 'b' && *p != 'c') || p[1] != ' ')
		goto invalid;
	rule.type = *p;
	p += 2;
	if ((r = parse_number(&p, DEVICE_MAJOR_MAX, &rule.major)) < 0)
		goto number;
	if (*p++ != ':')
		goto invalid;
	if ((r = parse_number(&p, DEVICE_MINOR_MAX, &rule.minor)) < 0)
		goto number;
	if (*p++ != ' ')
		goto invalid;
	for (; *p; p++) {
		unsigned bit = *p == 'r' ? DEVICE_ACCESS_READ :
			       *p == 'w' ? DEVICE_ACCESS_WRITE :
			       *p == 'm' ? DEVICE_ACCESS_MKNOD : 0;
		if (!bit || (rule.access & bit))
			goto invalid;
		rule.access |= bit;
	}
	if (!rule.access)
		goto invalid;
	*ret = rule;
	return 0;

number:
	if (r == -ERANGE)
		return err_set(reterr, -ERANGE, "invalid device cgroup rule \"%s\": majors go up to %u, minors up to %u",
			       s, DEVICE_MAJOR_MAX, DEVICE_MINOR_MAX);
invalid:
	return err_set(reterr, -EINVAL,
		       "invalid device cgroup rule \"%s\": expected \"TYPE MAJOR:MINOR ACCESS\" with TYPE a, b or c, "
		       "MAJOR and MINOR a number or *, ACCESS some of r, w, m (or just \"a\")",
		       s);
}

int devices_rule_validate(const struct device_rule *rule, char **reterr)
{
	if (rule->type != 'a' && rule->type != 'b' && rule->type != 'c')
		return err_set(reterr, -EINVAL, "invalid device rule: unknown type");
	if ((rule->major != DEVICE_WILDCARD && rule->major > DEVICE_MAJOR_MAX) ||
	    (rule->minor != DEVICE_WILDCARD && rule->minor > DEVICE_MINOR_MAX))
		return err_set(reterr, -ERANGE, "invalid device rule: majors go up to %u, minors up to %u",
			       DEVICE_MAJOR_MAX, DEVICE_MINOR_MAX);
	if (rule->access == 0 || (rule->access & ~(unsigned)DEVICE_ACCESS_ALL))
		return err_set(reterr, -EINVAL, "invalid device rule: access must be some of r, w, m");
	return 0;
}

void devices_rule_format(const struct device_rule *rule, char *buf, size_t size)
{
	char major[12] = "*", minor[12] = "*";

	if (rule->major != DEVICE_WILDCARD)
		snprintf(major, sizeof(major), "%u", rule->major);
	if (rule->minor != DEVICE_WILDCARD)
		snprintf(minor, sizeof(minor), "%u", rule->minor);
	snprintf(buf, size, "%c %s:%s %s%s%s", rule->type, major, minor,
		 (rule->access & DEVICE_ACCESS_READ) ? "r" : "", (rule->access & DEVICE_ACCESS_WRITE) ? "w" : "",
		 (rule->access & DEVICE_ACCESS_MKNOD) ? "m" : "");
}

bool devices_rules_allow_all(const struct device_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rules[i].type == 'a' && rules[i].major == DEVICE_WILDCARD && rules[i].minor == DEVICE_WILDCARD &&
		    rules[i].access == DEVICE_ACCESS_ALL)
			return true;
	return false;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm) /* off patched later */
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers after the prologue: the device type, the requested access, major, minor. */
enum { R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5, R_TMP = 1 };

/* Appends the block of one rule at insns + *n: compares each field the rule restricts and, when
 * all match, returns 1; a mismatch jumps to the first instruction after the block. */
static void emit_rule(struct bpf_insn *insns, size_t *n, const struct device_rule *rule)
{
	unsigned acc = 0;
	size_t start = *n, i = *n;

	if (rule->access & DEVICE_ACCESS_READ)
		acc |= BPF_DEVCG_ACC_READ;
	if (rule->access & DEVICE_ACCESS_WRITE)
		acc |= BPF_DEVCG_ACC_WRITE;
	if (rule->access & DEVICE_ACCESS_MKNOD)
		acc |= BPF_DEVCG_ACC_MKNOD;
	if (rule->type == 'c')
		insns[i++] = JNE_IMM(R_TYPE, BPF_DEVCG_DEV_CHAR);
	else if (rule->type == 'b')
		insns[i++] = JNE_IMM(R_TYPE, BPF_DEVCG_DEV_BLOCK);
	/* Every requested access bit must be one the rule grants; any bit the kernel may add one
	 * day is not granted, so it is refused. */
	insns[i++] = MOV32_REG(R_TMP, R_ACCESS);
	insns[i++] = ALU32_IMM(BPF_AND, R_TMP, (int32_t)~acc);
	insns[i++] = JNE_IMM(R_TMP, 0);
	if (rule->major != DEVICE_WILDCARD)
		insns[i++] = JNE_IMM(R_MAJOR, (int32_t)rule->major);
	if (rule->minor != DEVICE_WILDCARD)
		insns[i++] = JNE_IMM(R_MINOR, (int32_t)rule->minor);
	insns[i++] = MOV64_IMM(0, 1);
	insns[i++] = EXIT();
	for (size_t j = start; j < i; j++)
		if (insns[j].code == (BPF_JMP | BPF_JNE | BPF_K))
			insns[j].off = (int16_t)(i - j - 1);
	*n = i;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
	return r < 0 ? -errno : (int)r;
}

/* Loads the program; on failure loads it again with the verifier's log for the message. */
static int prog_load(const struct bpf_insn *insns, size_t n, char **reterr)
{
	union bpf_attr attr;
	_cleanup_free_ char *log = NULL;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	/* bpf() always returns its fds with O_CLOEXEC set. */
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	if (fd == -EPERM || fd == -ENOSYS)
		return err_set(reterr, fd, "cannot load a BPF device program (needed for device rules on cgroup v2): %m");
	log = calloc(1, BPF_LOG_SIZE);
	if (!log)
		return err_set(reterr, -ENOMEM, "out of memory");
	attr.log_level = 1;
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = BPF_LOG_SIZE;
	int r = sys_bpf(BPF_PROG_LOAD, &attr);
	if (r >= 0)
		return r;
	log[BPF_LOG_SIZE - 1] = '\0';
	log[strcspn(log, "\n")] = '\0';
	return err_set(reterr, fd, "cannot load the BPF device program: %m (%s)", log);
}

int devices_bpf_load(const struct device_rule *rules, size_t n, bool allow_all, char **reterr)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	size_t k = 0;

	if (n > devices_default_n + DEVICE_RULES_MAX)
		return err_set(reterr, -E2BIG, "too many device rules (%zu)", n);
	insns = calloc(PROG_INSNS_MAX(n), sizeof(*insns));
	if (!insns)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (!allow_all) {
		/* struct bpf_cgroup_dev_ctx: access_type is (access << 16) | type; major; minor. */
		insns[k++] = LDX_W(R_TYPE, 1, 0);
		insns[k++] = ALU32_IMM(BPF_AND, R_TYPE, 0xffff);
		insns[k++] = LDX_W(R_ACCESS, 1, 0);
		insns[k++] = ALU32_IMM(BPF_RSH, R_ACCESS, 16);
		insns[k++] = LDX_W(R_MAJOR, 1, 4);
		insns[k++] = LDX_W(R_MINOR, 1, 8);
		for (size_t i = 0; i < n; i++) {
			int r = devices_rule_validate(&rules[i], reterr);
			if (r < 0)
				return r;
			emit_rule(insns, &k, &rules[i]);
		}
	}
	insns[k++] = MOV64_IMM(0, allow_all ? 1 : 0);
	insns[k++] = EXIT();
	return prog_load(insns, k, reterr);
}

int devices_bpf_attach(int cgroup_fd, int prog, int old, char **reterr)
{
	union bpf_attr attr;
	int r;

	if (prog == old)
		return 0;
	/* BPF_F_ALLOW_MULTI lets a nested runtime (in a privileged container) attach programs of
	 * its own below ours; the kernel runs all of them and refuses what any one refuses, so
	 * that only narrows ours. Detaching a program attached with BPF_F_ALLOW_MULTI takes an fd
	 * of that very program: a container gets none (ours are O_CLOEXEC and never passed on;
	 * BPF_PROG_GET_FD_BY_ID needs CAP_SYS_ADMIN in the initial user namespace), and loading a
	 * device program of its own needs CAP_BPF or CAP_SYS_ADMIN there, which an unprivileged
	 * container does not have. */
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgroup_fd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	r = sys_bpf(BPF_PROG_ATTACH, &attr);
	if (r < 0)
		return err_set(reterr, r, "cannot attach the BPF device program to the cgroup: %m");
	if (old >= 0)
		return devices_bpf_detach(cgroup_fd, old, reterr);
	return 0;
}

int devices_bpf_detach(int cgroup_fd, int prog, char **reterr)
{
	union bpf_attr attr;
	int r;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgroup_fd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	r = sys_bpf(BPF_PROG_DETACH, &attr);
	if (r < 0)
		return err_set(reterr, r, "cannot detach a BPF device program from the cgroup: %m");
	return 0;
}
