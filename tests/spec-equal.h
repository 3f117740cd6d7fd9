/* Field-by-field equality of two container specs (runtime/spec.h), shared by the unit test and the
 * fuzz target of runtime/spec-json.c: spec_to_json() -> spec_from_json() must give back an equal
 * spec, because the daemon hands every spec to the container's init and to its own state file in
 * that form. */
#pragma once

#include <stdbool.h>
#include <string.h>

#include "runtime/spec.h"

static inline bool spec_equal_str(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/* NULL and an empty list are the same list: the JSON form writes both as []. */
static inline bool spec_equal_strv(char **a, char **b)
{
	for (; a && *a; a++, b++)
		if (!b || !*b || strcmp(*a, *b) != 0)
			return false;
	return !b || !*b;
}

static inline bool spec_equal_idmaps(const struct rt_idmap *a, size_t na, const struct rt_idmap *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].container_id != b[i].container_id || a[i].host_id != b[i].host_id || a[i].size != b[i].size)
			return false;
	return true;
}

/* A mount without a source is mounted with its type as the source (runtime/rootfs.c) and written
 * that way to JSON, so the two forms are equal. */
static inline bool spec_equal_mount(const struct rt_mount *a, const struct rt_mount *b)
{
	return spec_equal_str(a->destination, b->destination) && spec_equal_str(a->type, b->type) &&
	       spec_equal_str(a->source ? a->source : a->type, b->source ? b->source : b->type) &&
	       spec_equal_str(a->data, b->data) && a->flags == b->flags && a->copy_up == b->copy_up &&
	       a->ipc_shared == b->ipc_shared;
}

/* Returns the name of the first field in which a and b differ, or NULL when they are equal. */
static inline const char *spec_equal_diff(const struct rt_spec *a, const struct rt_spec *b)
{
	const struct rt_process *p = &a->process, *q = &b->process;
	if (!spec_equal_strv(p->args, q->args))
		return "process.args";
	if (!spec_equal_strv(p->env, q->env))
		return "process.env";
	if (!spec_equal_str(p->cwd, q->cwd))
		return "process.cwd";
	if (p->uid != q->uid || p->gid != q->gid)
		return "process.user.uid/gid";
	if (p->n_additional_gids != q->n_additional_gids ||
	    (p->n_additional_gids &&
	     memcmp(p->additional_gids, q->additional_gids, p->n_additional_gids * sizeof(gid_t)) != 0))
		return "process.user.additionalGids";
	if (!spec_equal_str(p->user, q->user))
		return "containd.user";
	if (p->terminal != q->terminal)
		return "process.terminal";
	if (p->console_rows != q->console_rows || p->console_cols != q->console_cols)
		return "process.consoleSize";
	for (size_t i = 0; i < RLIMITS_COUNT; i++)
		if (p->rlimits.limit[i].soft != q->rlimits.limit[i].soft ||
		    p->rlimits.limit[i].hard != q->rlimits.limit[i].hard)
			return "process.rlimits";
	if (p->caps.bounding != q->caps.bounding)
		return "process.capabilities.bounding";
	if (p->caps.effective != q->caps.effective)
		return "process.capabilities.effective";
	if (p->caps.permitted != q->caps.permitted)
		return "process.capabilities.permitted";
	if (p->caps.inheritable != q->caps.inheritable)
		return "process.capabilities.inheritable";
	if (p->caps.ambient != q->caps.ambient)
		return "process.capabilities.ambient";
	if (p->no_new_privileges != q->no_new_privileges)
		return "process.noNewPrivileges";
	if (!spec_equal_str(a->root_path, b->root_path))
		return "root.path";
	if (a->root_readonly != b->root_readonly)
		return "root.readonly";
	if (!spec_equal_strv(a->overlay.lowerdirs, b->overlay.lowerdirs))
		return "containd.lowerdirs";
	if (!spec_equal_str(a->overlay.upperdir, b->overlay.upperdir))
		return "containd.upperdir";
	if (!spec_equal_str(a->overlay.workdir, b->overlay.workdir))
		return "containd.workdir";
	if (!spec_equal_str(a->overlay.staging, b->overlay.staging))
		return "containd.staging";
	if (a->overlay.ephemeral != b->overlay.ephemeral)
		return "containd.volatile";
	if (!spec_equal_str(a->hostname, b->hostname))
		return "hostname";
	if (a->n_mounts != b->n_mounts)
		return "mounts (count)";
	for (size_t i = 0; i < a->n_mounts; i++)
		if (!spec_equal_mount(&a->mounts[i], &b->mounts[i]))
			return "mounts";
	if (a->namespaces != b->namespaces)
		return "linux.namespaces";
	if (a->join_namespaces != b->join_namespaces)
		return "containd.joinNamespaces";
	if (a->n_ns_paths != b->n_ns_paths)
		return "linux.namespaces (paths)";
	for (size_t i = 0; i < a->n_ns_paths; i++)
		if (a->ns_paths[i].type != b->ns_paths[i].type || !spec_equal_str(a->ns_paths[i].path, b->ns_paths[i].path))
			return "linux.namespaces (paths)";
	if (!spec_equal_idmaps(a->uid_mappings, a->n_uid_mappings, b->uid_mappings, b->n_uid_mappings))
		return "linux.uidMappings";
	if (!spec_equal_idmaps(a->gid_mappings, a->n_gid_mappings, b->gid_mappings, b->n_gid_mappings))
		return "linux.gidMappings";
	if (a->resources.memory != b->resources.memory)
		return "linux.resources.memory";
	if (a->resources.pids != b->resources.pids)
		return "linux.resources.pids";
	if (a->resources.cpus_milli != b->resources.cpus_milli)
		return "linux.resources.cpu";
	if (!spec_equal_strv(a->device_rules, b->device_rules))
		return "containd.deviceRules";
	if (a->devices_allow_all != b->devices_allow_all)
		return "containd.devicesAllowAll";
	if (!spec_equal_strv(a->masked_paths, b->masked_paths))
		return "linux.maskedPaths";
	if (!spec_equal_strv(a->readonly_paths, b->readonly_paths))
		return "linux.readonlyPaths";
	if (!spec_equal_strv(a->sysctl, b->sysctl))
		return "linux.sysctl";
	if (a->seccomp.mode != b->seccomp.mode)
		return "containd.seccomp.mode";
	if (!spec_equal_str(a->seccomp.profile_json, b->seccomp.profile_json))
		return "containd.seccomp.profile";
	if (a->privileged != b->privileged)
		return "containd.privileged";
	return NULL;
}
