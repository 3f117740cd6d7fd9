/* Resource limits (setrlimit) of a container's process. A container never inherits the daemon's
 * own limits: it starts from a documented default for every resource, the user's --ulimit
 * values replace single entries, and the init applies the whole table before it drops any
 * capability (raising a hard limit needs CAP_SYS_RESOURCE).
 *
 * The defaults are those of a process under Docker's systemd unit (LimitNOFILE=infinity,
 * LimitNPROC=infinity, LimitCORE=infinity; "infinity" for nofile is fs.nr_open, 1048576 unless
 * changed) and the kernel's initial limits (include/asm-generic/resource.h) for the rest:
 *
 *	nofile      1048576:1048576 (clamped to /proc/sys/fs/nr_open when that is lower)
 *	nproc       unlimited:unlimited       core       unlimited:unlimited
 *	stack       8 MiB:unlimited           memlock    8 MiB:8 MiB (MLOCK_LIMIT since Linux 5.16)
 *	msgqueue    819200:819200             sigpending threads-max/2 (the kernel's boot value)
 *	nice        0:0                       rtprio     0:0
 *	cpu fsize data rss as locks rttime    unlimited:unlimited
 *
 * A daemon without CAP_SYS_RESOURCE cannot raise hard limits: its defaults then stop at its own
 * hard limits (explicit --ulimit values are never clamped; they fail at apply instead).
 */
#pragma once

#include <stdint.h>
#include <sys/resource.h>

/* One past the highest resource number (RLIMIT_RTTIME). */
#define RLIMITS_COUNT 16

/* RLIM_INFINITY as a value of struct rlimits. */
#define RLIMITS_UNLIMITED UINT64_MAX

struct rlimits_value {
	uint64_t soft, hard; /* RLIMITS_UNLIMITED = unlimited; soft <= hard */
};

/* The limits of a container, indexed by RLIMIT_* number: the spec holds one of these. */
struct rlimits {
	struct rlimits_value limit[RLIMITS_COUNT];
};

/* Fills r with the defaults above. Reads fs.nr_open, kernel.threads-max, its own capabilities
 * and hard limits the first time only; the daemon calls it long before any container's init
 * runs (and the init, a clone of the daemon, has the same capabilities and limits). */
void rlimits_default(struct rlimits *r);

/* Parses "NAME=SOFT[:HARD]" (Docker's --ulimit): NAME one of core cpu data fsize locks memlock
 * msgqueue nice nofile nproc rss rtprio rttime sigpending stack (lower case, as Docker); SOFT and
 * HARD decimal integers or -1 for unlimited; HARD defaults to SOFT; soft <= hard (unlimited being
 * the largest); nofile at most fs.nr_open (the kernel refuses more, even to root). -EINVAL or
 * -ERANGE with a message naming the input. */
int rlimits_parse(const char *s, int *ret_resource, struct rlimits_value *ret, char **reterr);

/* Parses s as rlimits_parse() and replaces that entry of r (a later --ulimit for the same name
 * wins, as in Docker). */
int rlimits_set(struct rlimits *r, const char *s, char **reterr);

/* The --ulimit name of a resource ("nofile"), NULL for one that cannot be named (as, or out of
 * range), and the reverse (-1 when unknown). */
const char *rlimits_name(int resource);
int rlimits_from_name(const char *name);

/* Applies every entry with setrlimit(); in the container's init, while it still has
 * CAP_SYS_RESOURCE (before caps_prepare()/caps_apply() and the user switch). Stops at the first
 * failure, with a message naming the resource. */
int rlimits_apply(const struct rlimits *r, char **reterr);
