/* Resource limits of containers: the default table, --ulimit parsing, setrlimit in the init. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "runtime/rlimits.h"

_Static_assert(RLIMIT_RTTIME == RLIMITS_COUNT - 1 && RLIM_NLIMITS == RLIMITS_COUNT,
	       "struct rlimits covers every resource the kernel has");

#define MIB (UINT64_C(1) << 20)

/* Docker's (go-units) names; RLIMIT_AS has none there and cannot be set by a user. */
static const char *const rlimits_names[RLIMITS_COUNT] = {
    [RLIMIT_CORE] = "core",	    [RLIMIT_CPU] = "cpu",
    [RLIMIT_DATA] = "data",	    [RLIMIT_FSIZE] = "fsize",
    [RLIMIT_LOCKS] = "locks",	    [RLIMIT_MEMLOCK] = "memlock",
    [RLIMIT_MSGQUEUE] = "msgqueue", [RLIMIT_NICE] = "nice",
    [RLIMIT_NOFILE] = "nofile",	    [RLIMIT_NPROC] = "nproc",
    [RLIMIT_RSS] = "rss",	    [RLIMIT_RTPRIO] = "rtprio",
    [RLIMIT_RTTIME] = "rttime",	    [RLIMIT_SIGPENDING] = "sigpending",
    [RLIMIT_STACK] = "stack",
};

/* Longest input echoed back in an error message. */
#define RLIMITS_QUOTE_MAX 64

/* The kernel's ceilings, read once: fs.nr_open bounds nofile for everyone, root included. */
static uint64_t rlimits_nr_open, rlimits_sigpending;
/* Whether this process may raise hard limits, and its own hard limits, read once. */
static bool rlimits_can_raise;
static struct rlimit rlimits_own[RLIMITS_COUNT];

/* Reads one unsigned number from a sysctl file, or returns fallback. */
static uint64_t rlimits_read_sysctl(const char *path, uint64_t fallback)
{
	_cleanup_free_ char *text = NULL;
	unsigned long long v;
	char *end;

	if (read_file(path, 64, &text, NULL) < 0)
		return fallback;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || (*end != '\n' && *end != '\0') || v == 0)
		return fallback;
	return v;
}

static void rlimits_cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

/* Whether CAP_SYS_RESOURCE is effective, that is whether a hard limit can be raised. */
static bool rlimits_have_sys_resource(void)
{
	_cleanup_(rlimits_cap_freep) cap_t c = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (!c || cap_get_flag(c, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v) < 0)
		return false;
	return v == CAP_SET;
}

/* Reads the sysctls on first use. The fallbacks are the kernel's own defaults (NR_OPEN
 * 1048576; init's sigpending with a typical threads-max). */
static void rlimits_read_kernel(void)
{
	if (rlimits_nr_open)
		return;
	rlimits_nr_open = rlimits_read_sysctl("/proc/sys/fs/nr_open", 1048576);
	rlimits_sigpending = rlimits_read_sysctl("/proc/sys/kernel/threads-max", 2 * 63459) / 2;
	if (rlimits_sigpending == 0)
		rlimits_sigpending = 1;
	rlimits_can_raise = rlimits_have_sys_resource();
	for (int i = 0; i < RLIMITS_COUNT; i++)
		if (getrlimit(i, &rlimits_own[i]) < 0)
			rlimits_own[i] = (struct rlimit){RLIM_INFINITY, RLIM_INFINITY};
}

void rlimits_default(struct rlimits *r)
{
	const uint64_t inf = RLIMITS_UNLIMITED;
	uint64_t nofile;

	rlimits_read_kernel();
	nofile = rlimits_nr_open < 1048576 ? rlimits_nr_open : 1048576;
	*r = (struct rlimits){.limit = {
				  [RLIMIT_CPU] = {inf, inf},
				  [RLIMIT_FSIZE] = {inf, inf},
				  [RLIMIT_DATA] = {inf, inf},
				  [RLIMIT_STACK] = {8 * MIB, inf},
				  [RLIMIT_CORE] = {inf, inf},
				  [RLIMIT_RSS] = {inf, inf},
				  [RLIMIT_NPROC] = {inf, inf},
				  [RLIMIT_NOFILE] = {nofile, nofile},
				  [RLIMIT_MEMLOCK] = {8 * MIB, 8 * MIB},
				  [RLIMIT_AS] = {inf, inf},
				  [RLIMIT_LOCKS] = {inf, inf},
				  [RLIMIT_SIGPENDING] = {rlimits_sigpending, rlimits_sigpending},
				  [RLIMIT_MSGQUEUE] = {819200, 819200},
				  [RLIMIT_NICE] = {0, 0},
				  [RLIMIT_RTPRIO] = {0, 0},
				  [RLIMIT_RTTIME] = {inf, inf},
			      }};

	/* A daemon without CAP_SYS_RESOURCE (started inside another container, say) cannot raise a
	 * hard limit for anyone: the defaults then stop at its own hard limits rather than make
	 * every start fail. Explicit --ulimit values are not clamped; they fail in rlimits_apply()
	 * with a message instead. */
	if (rlimits_can_raise)
		return;
	for (int i = 0; i < RLIMITS_COUNT; i++) {
		uint64_t own = rlimits_own[i].rlim_max == RLIM_INFINITY ? inf : (uint64_t)rlimits_own[i].rlim_max;
		if (r->limit[i].hard > own)
			r->limit[i].hard = own;
		if (r->limit[i].soft > r->limit[i].hard)
			r->limit[i].soft = r->limit[i].hard;
	}
}

const char *rlimits_name(int resource)
{
	if (resource < 0 || resource >= RLIMITS_COUNT)
		return NULL;
	return rlimits_names[resource];
}

int rlimits_from_name(const char *name)
{
	for (int i = 0; i < RLIMITS_COUNT; i++)
		if (rlimits_names[i] && strcmp(rlimits_names[i], name) == 0)
			return i;
	return -1;
}

/* One value of s[0..len): "-1" or decimal digits only (no sign, space or base prefix). */
static int rlimits_parse_value(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 2 && s[0] == '-' && s[1] == '1') {
		*ret = RLIMITS_UNLIMITED;
		return 0;
	}
	if (len == 0 || len > 20)
		return len == 0 ? -EINVAL : -ERANGE;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	/* UINT64_MAX itself would silently mean unlimited; only "-1" says that. */
	if (v == RLIMITS_UNLIMITED || v > (uint64_t)RLIM_INFINITY - 1)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* Peer input: the name is looked up in a fixed table and the numbers are parsed by hand, so
 * nothing in s is ever used as a path, a format or an index before it has been checked. */
int rlimits_parse(const char *s, int *ret_resource, struct rlimits_value *ret, char **reterr)
{
	char name[16], quoted[4 * RLIMITS_QUOTE_MAX + 8];
	const char *eq, *values, *colon;
	struct rlimits_value v;
	int resource, r;

	if (!s)
		return err_set(reterr, -EINVAL, "empty ulimit");
	eq = strchr(s, '=');
	if (!eq || (size_t)(eq - s) >= sizeof(name) || eq == s)
		return err_set(reterr, -EINVAL, "invalid ulimit %s: expected NAME=SOFT[:HARD]",
			       str_quote(s, RLIMITS_QUOTE_MAX, quoted, sizeof(quoted)));
	memcpy(name, s, (size_t)(eq - s));
	name[eq - s] = '\0';
	resource = rlimits_from_name(name);
	if (resource < 0)
		return err_set(reterr, -EINVAL, "invalid ulimit %s: unknown resource",
			       str_quote(s, RLIMITS_QUOTE_MAX, quoted, sizeof(quoted)));

	values = eq + 1;
	colon = strchr(values, ':');
	r = rlimits_parse_value(values, colon ? (size_t)(colon - values) : strlen(values), &v.soft);
	if (r < 0)
		return err_set(reterr, r, "invalid ulimit %s: bad soft limit (a number or -1)",
			       str_quote(s, RLIMITS_QUOTE_MAX, quoted, sizeof(quoted)));
	v.hard = v.soft;
	if (colon) {
		r = rlimits_parse_value(colon + 1, strlen(colon + 1), &v.hard);
		if (r < 0)
			return err_set(reterr, r, "invalid ulimit %s: bad hard limit (a number or -1)",
				       str_quote(s, RLIMITS_QUOTE_MAX, quoted, sizeof(quoted)));
	}
	if (v.soft > v.hard)
		return err_set(reterr, -EINVAL, "invalid ulimit %s: soft limit must not exceed the hard limit",
			       str_quote(s, RLIMITS_QUOTE_MAX, quoted, sizeof(quoted)));
	if (resource == RLIMIT_NOFILE) {
		rlimits_read_kernel();
		if (v.hard > rlimits_nr_open)
			return err_set(reterr, -ERANGE, "invalid ulimit %s: nofile may not exceed %llu (fs.nr_open)",
				       str_quote(s, RLIMITS_QUOTE_MAX, quoted, sizeof(quoted)), (unsigned long long)rlimits_nr_open);
	}
	*ret_resource = resource;
	*ret = v;
	return 0;
}

int rlimits_set(struct rlimits *r, const char *s, char **reterr)
{
	struct rlimits_value v;
	int resource, k;

	k = rlimits_parse(s, &resource, &v, reterr);
	if (k < 0)
		return k;
	r->limit[resource] = v;
	return 0;
}

/* The value setrlimit() takes for one of ours. */
static rlim_t rlimits_to_rlim(uint64_t v)
{
	return v == RLIMITS_UNLIMITED ? RLIM_INFINITY : (rlim_t)v;
}

/* Security: every resource is set, so nothing of the daemon's own limits (which an admin may
 * have raised for the daemon alone) reaches the container. Raising a hard limit needs
 * CAP_SYS_RESOURCE, which the init still has; the container cannot raise a hard limit again
 * afterwards unless it keeps CAP_SYS_RESOURCE (not in the default set). */
int rlimits_apply(const struct rlimits *r, char **reterr)
{
	for (int i = 0; i < RLIMITS_COUNT; i++) {
		struct rlimit rl = {
		    .rlim_cur = rlimits_to_rlim(r->limit[i].soft),
		    .rlim_max = rlimits_to_rlim(r->limit[i].hard),
		};
		if (setrlimit(i, &rl) < 0) {
			const char *name = rlimits_name(i);
			struct rlimit cur;
			if (errno == EPERM && getrlimit(i, &cur) == 0 && rl.rlim_max > cur.rlim_max)
				return err_set(reterr, -EPERM,
					       "cannot raise the %s hard limit above %llu without CAP_SYS_RESOURCE",
					       name ? name : "as", (unsigned long long)cur.rlim_max);
			return err_set(reterr, -errno, "cannot set the %s limit: %m", name ? name : "as");
		}
	}
	return 0;
}
