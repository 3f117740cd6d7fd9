/* Device access rules for containers, as Docker's: a parser for the `--device-cgroup-rule`
 * syntax, the default allow list, the line the v1 devices controller takes, and a
 * BPF_PROG_TYPE_CGROUP_DEVICE program that enforces a list on cgroup v2. Everything not allowed
 * by a rule is refused. cgroup.h applies them to containers (cgroup_set_devices()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVICE_WILDCARD UINT32_MAX   /* major or minor "*" */
#define DEVICE_MAJOR_MAX 4095u       /* the kernel's 12-bit majors */
#define DEVICE_MINOR_MAX 1048575u    /* and 20-bit minors */
#define DEVICE_RULES_MAX 128         /* rules a container may add to the defaults */
#define DEVICE_RULE_STR_MAX 32       /* "c 4095:1048575 rwm" and its NUL fit */

enum {
	DEVICE_ACCESS_READ = 1u << 0,
	DEVICE_ACCESS_WRITE = 1u << 1,
	DEVICE_ACCESS_MKNOD = 1u << 2,
	DEVICE_ACCESS_ALL = DEVICE_ACCESS_READ | DEVICE_ACCESS_WRITE | DEVICE_ACCESS_MKNOD,
};

struct device_rule {
	char type;      /* 'c' (char), 'b' (block) or 'a' (both) */
	uint32_t major; /* DEVICE_WILDCARD or at most DEVICE_MAJOR_MAX */
	uint32_t minor; /* DEVICE_WILDCARD or at most DEVICE_MINOR_MAX */
	unsigned access; /* DEVICE_ACCESS_*, not 0 */
};

/* Docker's defaults: mknod of any node, and read/write/mknod of null, zero, full, random,
 * urandom, tty, console, ptmx, the ptys and tun. */
extern const struct device_rule devices_default_rules[];
extern const size_t devices_default_n;

/* Parses one rule in Docker's --device-cgroup-rule syntax, "TYPE MAJOR:MINOR ACCESS" with
 * single spaces (TYPE a, b or c; MAJOR and MINOR a decimal number or *; ACCESS one to three of
 * r, w, m, each once), or "a" alone for "a *:* rwm". Strict: s is peer input. */
int devices_rule_parse(const char *s, struct device_rule *ret, char **reterr);
/* Checks a rule that did not come from devices_rule_parse(). */
int devices_rule_validate(const struct device_rule *rule, char **reterr);
/* Formats a rule in the same syntax (what the v1 devices controller takes for 'b' and 'c');
 * size must be at least DEVICE_RULE_STR_MAX. */
void devices_rule_format(const struct device_rule *rule, char *buf, size_t size);
/* Whether the rules allow everything (one of them is "a *:* rwm"). */
bool devices_rules_allow_all(const struct device_rule *rules, size_t n);

/* Loads a BPF_PROG_TYPE_CGROUP_DEVICE program that allows what one of the rules allows and
 * refuses everything else (or allows everything when allow_all). Returns its fd. */
int devices_bpf_load(const struct device_rule *rules, size_t n, bool allow_all, char **reterr);
/* Attaches prog to the cgroup2 directory cgroup_fd (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI),
 * then detaches old (a program attached earlier, or -1): the old one stays in force until the
 * new one is, and both together refuse more than either. */
int devices_bpf_attach(int cgroup_fd, int prog, int old, char **reterr);
/* Detaches prog from the cgroup2 directory cgroup_fd. */
int devices_bpf_detach(int cgroup_fd, int prog, char **reterr);
