/* Placeholder until the cgroup module lands. */
#include <errno.h>
#include <stdlib.h>
#include "common/error.h"
#include "daemon/cgroup.h"
int cgroup_manager_new(struct cgroup_manager **ret, char **reterr) { *ret = NULL; return 0; }
void cgroup_manager_free(struct cgroup_manager *m) {}
const char *cgroup_manager_layout(const struct cgroup_manager *m) { return "none"; }
int cgroup_limits_validate(const struct cgroup_manager *m, const struct cgroup_limits *l, char **reterr) { return 0; }
int cgroup_create(struct cgroup_manager *m, const char *id, const struct cgroup_limits *l, struct container_cgroup **ret, char **reterr) { *ret = NULL; return 0; }
int cgroup_clone_fd(const struct container_cgroup *cg) { return -1; }
int cgroup_attach(struct container_cgroup *cg, pid_t pid, char **reterr) { return 0; }
bool cgroup_oom_killed(const struct container_cgroup *cg) { return false; }
int cgroup_kill(struct container_cgroup *cg) { return 0; }
int cgroup_destroy(struct container_cgroup *cg) { return 0; }
void cgroup_free(struct container_cgroup *cg) {}
