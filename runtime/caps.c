/* Capability sets of containers: names, Docker's arithmetic, and applying a set with libcap. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/caps.h"

/* Names by number. The numbers are kernel ABI (linux/capability.h) and never change; they are
 * spelled out so that the table does not depend on the age of the build host's headers. */
static const char *const caps_table[] = {
    [0] = "CHOWN",
    [1] = "DAC_OVERRIDE",
    [2] = "DAC_READ_SEARCH",
    [3] = "FOWNER",
    [4] = "FSETID",
    [5] = "KILL",
    [6] = "SETGID",
    [7] = "SETUID",
    [8] = "SETPCAP",
    [9] = "LINUX_IMMUTABLE",
    [10] = "NET_BIND_SERVICE",
    [11] = "NET_BROADCAST",
    [12] = "NET_ADMIN",
    [13] = "NET_RAW",
    [14] = "IPC_LOCK",
    [15] = "IPC_OWNER",
    [16] = "SYS_MODULE",
    [17] = "SYS_RAWIO",
    [18] = "SYS_CHROOT",
    [19] = "SYS_PTRACE",
    [20] = "SYS_PACCT",
    [21] = "SYS_ADMIN",
    [22] = "SYS_BOOT",
    [23] = "SYS_NICE",
    [24] = "SYS_RESOURCE",
    [25] = "SYS_TIME",
    [26] = "SYS_TTY_CONFIG",
    [27] = "MKNOD",
    [28] = "LEASE",
    [29] = "AUDIT_WRITE",
    [30] = "AUDIT_CONTROL",
    [31] = "SETFCAP",
    [32] = "MAC_OVERRIDE",
    [33] = "MAC_ADMIN",
    [34] = "SYSLOG",
    [35] = "WAKE_ALARM",
    [36] = "BLOCK_SUSPEND",
    [37] = "AUDIT_READ",
    [38] = "PERFMON",
    [39] = "BPF",
    [40] = "CHECKPOINT_RESTORE",
};

_Static_assert(CAP_CHOWN == 0 && CAP_SETPCAP == 8 && CAP_AUDIT_WRITE == 29 && CAP_AUDIT_READ == 37,
	       "capability numbers are kernel ABI");

/* Docker's default set (moby oci/caps/defaults.go). Everything else, SYS_ADMIN, NET_ADMIN,
 * SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH among them, is what lets a process reach past its
 * namespaces, so a container gets it only when asked for by name or with --privileged. */
static const int caps_default_list[] = {
    CAP_CHOWN,	CAP_DAC_OVERRIDE, CAP_FSETID,  CAP_FOWNER,	     CAP_MKNOD,	     CAP_NET_RAW, CAP_SETGID,
    CAP_SETUID, CAP_SETFCAP,	  CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,	  CAP_AUDIT_WRITE,
};

/* Names longer than this are rejected before any lookup (the longest is 22 characters). */
#define CAPS_NAME_MAX 32

static int caps_last = -1;

/* Finds the highest capability by asking the kernel about each bounding-set bit; only used when
 * /proc/sys/kernel/cap_last_cap cannot be read (no /proc mounted). */
static int caps_probe_last(void)
{
	int last = 0;
	for (int cap = 0; cap <= CAPS_MAX; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break;
		last = cap;
	}
	return last;
}

int caps_last_cap(void)
{
	_cleanup_free_ char *text = NULL;
	char *end;
	long v;

	if (caps_last >= 0)
		return caps_last;
	if (read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL) == 0) {
		errno = 0;
		v = strtol(text, &end, 10);
		if (errno == 0 && end != text && (*end == '\n' || *end == '\0') && v >= 0 && v <= CAPS_MAX)
			caps_last = (int)v;
	}
	if (caps_last < 0)
		caps_last = caps_probe_last();
	return caps_last;
}

uint64_t caps_default(void)
{
	uint64_t mask = 0;
	for (size_t i = 0; i < ARRAY_SIZE(caps_default_list); i++)
		mask |= UINT64_C(1) << caps_default_list[i];
	return mask;
}

uint64_t caps_all(void)
{
	int last = caps_last_cap();
	return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

const char *caps_name(int cap)
{
	if (cap < 0 || (size_t)cap >= ARRAY_SIZE(caps_table))
		return NULL;
	return caps_table[cap];
}

/* Peer input: the name is only compared, never used as a path or format, and anything but
 * letters and underscores is refused before the comparison, so "12" (which libcap's
 * cap_from_name would take as a number), " chown", "chown\n" or "CAP_ALL" cannot select
 * anything by accident. */
int caps_parse(const char *name, int *ret_cap, char **reterr)
{
	char upper[CAPS_NAME_MAX + 1], quoted[4 * CAPS_NAME_MAX + 8];
	const char *bare;
	size_t len;

	if (!name || !*name)
		return err_set(reterr, -EINVAL, "empty capability name");
	len = strnlen(name, CAPS_NAME_MAX + 1);
	if (len > CAPS_NAME_MAX)
		return err_set(reterr, -EINVAL, "unknown capability: %s", str_quote(name, CAPS_NAME_MAX, quoted, sizeof(quoted)));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isascii(c) || !(isalpha(c) || c == '_'))
			return err_set(reterr, -EINVAL, "unknown capability: %s",
				       str_quote(name, CAPS_NAME_MAX, quoted, sizeof(quoted)));
		upper[i] = (char)toupper(c);
	}
	upper[len] = '\0';

	/* As Docker: "ALL" only without the prefix. */
	if (strcmp(upper, "ALL") == 0) {
		*ret_cap = CAPS_PARSE_ALL;
		return 0;
	}
	bare = strncmp(upper, "CAP_", 4) == 0 ? upper + 4 : upper;
	for (size_t cap = 0; cap < ARRAY_SIZE(caps_table); cap++) {
		if (!caps_table[cap] || strcmp(caps_table[cap], bare) != 0)
			continue;
		if ((int)cap > caps_last_cap())
			return err_set(reterr, -EOPNOTSUPP, "capability CAP_%s is not supported by this kernel", bare);
		*ret_cap = (int)cap;
		return 0;
	}
	return err_set(reterr, -EINVAL, "unknown capability: %s", str_quote(name, CAPS_NAME_MAX, quoted, sizeof(quoted)));
}

/* Parses a list into a mask and whether it named ALL. */
static int caps_parse_list(char *const *list, uint64_t *ret_mask, bool *ret_all, char **reterr)
{
	uint64_t mask = 0;
	bool all = false;
	int cap, r;

	for (char *const *p = list; p && *p; p++) {
		r = caps_parse(*p, &cap, reterr);
		if (r < 0)
			return r;
		if (cap == CAPS_PARSE_ALL)
			all = true;
		else
			mask |= UINT64_C(1) << cap;
	}
	*ret_mask = mask;
	*ret_all = all;
	return 0;
}

int caps_compute(char *const *cap_add, char *const *cap_drop, bool privileged, uint64_t *ret, char **reterr)
{
	uint64_t add, drop;
	bool add_all, drop_all;
	int r;

	r = caps_parse_list(cap_add, &add, &add_all, reterr);
	if (r < 0)
		return r;
	r = caps_parse_list(cap_drop, &drop, &drop_all, reterr);
	if (r < 0)
		return r;

	if (privileged)
		*ret = caps_all();
	else if (add_all)
		*ret = caps_all() & ~drop;
	else if (drop_all)
		*ret = add;
	else
		*ret = (caps_default() & ~drop) | add;
	return 0;
}

static int caps_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int caps_names(uint64_t mask, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0;

	v = calloc((size_t)__builtin_popcountll(mask) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (int cap = 0; cap <= CAPS_MAX; cap++) {
		if (!(mask & (UINT64_C(1) << cap)))
			continue;
		const char *name = caps_name(cap);
		int k = name ? asprintf(&v[n], "CAP_%s", name) : asprintf(&v[n], "CAP_%d", cap);
		if (k < 0) {
			v[n] = NULL;
			return -ENOMEM;
		}
		n++;
	}
	qsort(v, n, sizeof(char *), caps_strcmp);
	*ret = TAKE_PTR(v);
	return 0;
}

/* Checks that set names only capabilities this kernel knows: capset() and the bounding loop
 * must never be asked about a bit the kernel would reject halfway through. */
static int caps_check_set(uint64_t set, char **reterr)
{
	if (set & ~caps_all())
		return err_set(reterr, -EINVAL, "capability set 0x%016llx has bits this kernel does not know",
			       (unsigned long long)set);
	return 0;
}

/* Security: the bounding set is the ceiling of every later execve: a setuid-root or
 * file-capability program in the image can gain at most what stays in it, and no process of the
 * container can add to it again (that would need CAP_SETPCAP over a bit it no longer has, which
 * the kernel refuses outright). Dropping a bit needs CAP_SETPCAP in the effective set, which the
 * init still has here; dropping does not touch effective or permitted, so the user switch that
 * follows works even for a set without CAP_SETUID. Bits already absent are skipped, so the
 * function also works in an init that runs with a narrowed bounding set. */
int caps_prepare(uint64_t set, char **reterr)
{
	int last = caps_last_cap(), r;

	r = caps_check_set(set, reterr);
	if (r < 0)
		return r;
	/* Dropping a capability the set no longer has succeeds: no need to read the set first
	 * (this runs on every container start). */
	for (int cap = 0; cap <= last; cap++) {
		if (set & (UINT64_C(1) << cap))
			continue;
		if (cap_drop_bound((cap_value_t)cap) < 0) {
			const char *name = caps_name(cap);
			return err_set(reterr, -errno, "cannot drop CAP_%s from the bounding set: %m",
				       name ? name : "?");
		}
	}
	/* Without KEEPCAPS, setuid() away from uid 0 empties permitted and effective, which is
	 * what Docker gives non-root users; caps_apply() empties them again in any case. */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return err_set(reterr, -errno, "cannot clear PR_SET_KEEPCAPS: %m");
	return 0;
}

static void caps_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

/* The permitted set the calling process holds now. */
static int caps_get_permitted(uint64_t *ret)
{
	_cleanup_(caps_freep) cap_t c = cap_get_proc();
	int last = caps_last_cap();
	uint64_t mask = 0;

	if (!c)
		return -errno;
	for (int cap = 0; cap <= last; cap++) {
		cap_flag_value_t v;
		if (cap_get_flag(c, (cap_value_t)cap, CAP_PERMITTED, &v) < 0)
			return -errno;
		if (v == CAP_SET)
			mask |= UINT64_C(1) << cap;
	}
	*ret = mask;
	return 0;
}

/* Security: inheritable is emptied (CVE-2022-24769): with a non-empty inheritable set, a program
 * whose file carries inheritable capabilities gets them on execve even when run by an
 * unprivileged user, and root's execve adds inheritable to the bounding set's grant. Ambient is
 * emptied so that no capability survives execve of an ordinary program for a non-root user.
 * A non-root user's effective and permitted sets are emptied explicitly, not left to the
 * kernel's setuid() fixup, so a leftover PR_SET_KEEPCAPS or SECBIT_NO_SETUID_FIXUP changes
 * nothing. Root is decided by the effective uid the process really has now, not by a request.
 * A capability the init does not hold itself (a daemon started with a narrowed bounding set, as
 * inside another container) cannot be granted by anyone; it is left out instead of failing the
 * start, which only ever makes the result smaller, and caps_prepare() already left it out of
 * the bounding set for the same reason. */
int caps_apply(uint64_t set, char **reterr)
{
	_cleanup_(caps_freep) cap_t c = NULL;
	int last = caps_last_cap(), r;
	uint64_t held = 0;

	r = caps_check_set(set, reterr);
	if (r < 0)
		return r;
	r = caps_get_permitted(&held);
	if (r < 0)
		return err_set(reterr, r, "cannot read the capabilities of the process: %m");
	set &= held;
	c = cap_init();
	if (!c)
		return err_set(reterr, -errno, "cannot allocate a capability set: %m");
	if (geteuid() == 0) {
		for (int cap = 0; cap <= last; cap++) {
			cap_value_t v = (cap_value_t)cap;
			if (!(set & (UINT64_C(1) << cap)))
				continue;
			if (cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0 ||
			    cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET) < 0)
				return err_set(reterr, -errno, "cannot build the capability set: %m");
		}
	}
	/* Ambient first: clearing it needs no privilege, and capset() below would drop it anyway
	 * once inheritable is empty. EINVAL means a kernel without ambient sets (< 4.3). */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_set(reterr, -errno, "cannot clear the ambient capabilities: %m");
	if (cap_set_proc(c) < 0)
		return err_set(reterr, -errno, "cannot set capabilities: %m");
	return 0;
}
