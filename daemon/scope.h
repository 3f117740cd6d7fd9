/* Under systemd on a pure cgroup v2 host, containers live in a delegated scope of their own
 * (containd-containers.scope), with containd-keeper in its supervisor leaf, not in containd.service:
 * systemd starts a new containd (`systemctl restart`, Restart=on-failure) by placing it in the
 * service's own cgroup, which cgroup v2 forbids once that cgroup has enabled controllers for
 * container cgroups below it (the "no internal processes" rule; systemd 254's DelegateSubgroup=
 * solves it, Debian 12 has 252). In a scope of their own, a restart of the service leaves the
 * keeper and the containers where they are. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Whether containd runs as a systemd service on a cgroup v2 host. */
bool scope_wanted(void);
/* Moves the keeper (pid) into the containers' scope unless it is in one already (started by an
 * earlier daemon). The scope is ordered before containd's own unit, so that at shutdown containd
 * stops first (and stops the containers itself). */
int scope_adopt(pid_t keeper, const char *state, char **reterr);
