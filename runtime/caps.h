/* Capabilities of a container's process: Docker's default set, the --cap-add/--cap-drop/--privileged
 * arithmetic, names for inspect, and applying a set in the container's init through libcap.
 *
 * A set is a uint64_t mask, bit N = capability N (the kernel numbers them below 64).
 *
 * The init applies a set in two steps around its user switch (see caps_prepare()):
 *
 *	rlimits_apply()            still fully privileged: raising a hard limit needs CAP_SYS_RESOURCE
 *	caps_prepare(set)          narrows the bounding set; needs CAP_SETPCAP, so before the switch
 *	setgroups/setgid/setuid    the switch itself; needs CAP_SETGID/CAP_SETUID, still effective
 *	caps_apply(set)            effective/permitted/inheritable/ambient for the final credentials
 *	execve
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The highest capability number any kernel can have in a uint64_t mask. */
#define CAPS_MAX 63

/* Reads /proc/sys/kernel/cap_last_cap once (later calls are free) and returns the highest
 * capability the running kernel knows. The daemon calls it before it clones any container's
 * init, so the init inherits the value instead of reading the file on every start. */
int caps_last_cap(void);

/* Docker's default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP
 * SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE (0xa80425fb). */
uint64_t caps_default(void);

/* Every capability the running kernel knows: what --privileged gets. */
uint64_t caps_all(void);

/* Parses one capability name, with or without "CAP_", in any case ("chown", "CAP_CHOWN",
 * "Cap_Chown"); "ALL" (any case, without "CAP_", as Docker) gives CAPS_PARSE_ALL.
 * Strict: no spaces, digits or other characters; -EINVAL for a name no capability has and
 * -EOPNOTSUPP for one this kernel does not know, each with a message naming the input. */
#define CAPS_PARSE_ALL (-1)
int caps_parse(const char *name, int *ret_cap, char **reterr);

/* The set a container gets, exactly as Docker computes it (TweakCapabilities):
 *   privileged            every capability of the kernel (cap_add/cap_drop still validated);
 *   "ALL" in cap_add      every capability except those in cap_drop ("ALL" in cap_drop is ignored);
 *   "ALL" in cap_drop     only those in cap_add;
 *   otherwise             (default - cap_drop) + cap_add, so a name in both lists is kept.
 * The order of the names does not matter. cap_add and cap_drop are NULL-terminated vectors
 * (NULL = empty). On any bad name nothing is returned and the message names it. */
int caps_compute(char *const *cap_add, char *const *cap_drop, bool privileged, uint64_t *ret, char **reterr);

/* The names of the capabilities in mask as a NULL-terminated vector of malloc'ed "CAP_..."
 * strings sorted with strcmp (a capability without a name in this build is "CAP_<number>"). */
int caps_names(uint64_t mask, char ***ret);

/* The name of capability cap without "CAP_" ("CHOWN"), or NULL if this build has none. */
const char *caps_name(int cap);

/* Init step 1, before the user switch: removes every capability outside set from the bounding
 * set, so nothing the container executes later (setuid-root or file-capability programs
 * included) can ever gain one. Effective and permitted are left alone: the switch that follows
 * still needs CAP_SETUID/CAP_SETGID even when set lacks them. Clears PR_SET_KEEPCAPS so that a
 * switch to a non-root uid empties permitted and effective, as Docker's non-root users expect. */
int caps_prepare(uint64_t set, char **reterr);

/* Init step 2, after the user switch, just before execve: for an effective uid of 0, effective =
 * permitted = set; for any other uid both empty (Docker keeps only the bounding set for non-root
 * users). Inheritable and ambient are always emptied. */
int caps_apply(uint64_t set, char **reterr);
