#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/strv.h"
#include "runtime/caps.h"
#include "runtime/spec.h"

/* Paths a container must not read (kernel memory, keys, timers that leak host activity, firmware)
 * or must not write (the kernel's and the host's knobs). Docker's lists; masked files get
 * /dev/null bound over them, masked directories an empty read-only tmpfs. */
static const char *const default_masked_paths[] = {
	"/proc/acpi",	     "/proc/asound",	   "/proc/kcore",	"/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi",	     "/sys/firmware",	   "/sys/devices/virtual/powercap",
};

static const char *const default_readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* The mounts every container gets, in order (a parent before its children). /sys is read-only
 * so the container cannot reconfigure host devices; the cgroup mount shows the container's own
 * cgroup namespace, read-only. */
static const struct {
	const char *destination, *type, *source, *data;
	unsigned long flags;
} default_mounts[] = {
	{ "/proc", "proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "/dev", "tmpfs", "tmpfs", "mode=755,size=65536k", MS_NOSUID | MS_STRICTATIME },
	{ "/dev/pts", "devpts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5", MS_NOSUID | MS_NOEXEC },
	{ "/dev/shm", "tmpfs", "shm", "mode=1777,size=65536k", MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "/dev/mqueue", "mqueue", "mqueue", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "/sys", "sysfs", "sysfs", NULL, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "/sys/fs/cgroup", "cgroup2", "cgroup", NULL, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC },
};

int spec_env_default(struct rt_spec *spec, const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t klen = eq ? (size_t)(eq - entry) : strlen(entry), n = 0;
	for (char **e = spec->process.env; e && *e; e++, n++)
		if (strncmp(*e, entry, klen) == 0 && (*e)[klen] == '=')
			return 0;
	char **nv = realloc(spec->process.env, (n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	spec->process.env = nv;
	nv[n] = NULL;
	if (!(nv[n] = strdup(entry)))
		return -ENOMEM;
	nv[n + 1] = NULL;
	return 0;
}

int spec_init_default(struct rt_spec *spec, char **reterr)
{
	memset(spec, 0, sizeof(*spec));
	spec->namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
	/* Root keeps Docker's set; the inheritable and ambient sets stay empty (CVE-2022-24769: an
	 * inheritable capability lets file capabilities grant it to any program). */
	uint64_t caps = caps_default();
	spec->process.caps = (struct rt_caps){ .bounding = caps, .effective = caps, .permitted = caps };
	rlimits_default(&spec->process.rlimits);
	spec->seccomp.mode = RT_SECCOMP_DEFAULT;
	spec->masked_paths = strv_copy(default_masked_paths, ARRAY_SIZE(default_masked_paths));
	spec->readonly_paths = strv_copy(default_readonly_paths, ARRAY_SIZE(default_readonly_paths));
	spec->mounts = calloc(ARRAY_SIZE(default_mounts), sizeof(*spec->mounts));
	if (!spec->masked_paths || !spec->readonly_paths || !spec->mounts)
		goto oom;
	for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
		struct rt_mount *m = &spec->mounts[spec->n_mounts++];
		m->flags = default_mounts[i].flags;
		if (!(m->destination = strdup(default_mounts[i].destination)) || !(m->type = strdup(default_mounts[i].type)) ||
		    !(m->source = strdup(default_mounts[i].source)) ||
		    (default_mounts[i].data && !(m->data = strdup(default_mounts[i].data))))
			goto oom;
	}
	return 0;
oom:
	spec_done(spec);
	return err_set(reterr, -ENOMEM, "out of memory");
}

void spec_make_privileged(struct rt_spec *spec, uint64_t all_caps)
{
	spec->privileged = true;
	spec->process.caps = (struct rt_caps){ .bounding = all_caps, .effective = all_caps, .permitted = all_caps };
	spec->seccomp.mode = RT_SECCOMP_UNCONFINED;
	free(TAKE_PTR(spec->seccomp.profile_json));
	strv_free(TAKE_PTR(spec->masked_paths));
	strv_free(TAKE_PTR(spec->readonly_paths));
	spec->devices_allow_all = true;
	/* Docker mounts /sys and the cgroup tree read-write for privileged containers. */
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (strcmp(spec->mounts[i].destination, "/sys") == 0 ||
		    strcmp(spec->mounts[i].destination, "/sys/fs/cgroup") == 0)
			spec->mounts[i].flags &= ~(unsigned long)MS_RDONLY;
}

void spec_done(struct rt_spec *spec)
{
	struct rt_process *p = &spec->process;
	strv_free(p->args);
	strv_free(p->env);
	free(p->cwd);
	free(p->additional_gids);
	free(p->user);
	free(spec->root_path);
	strv_free(spec->overlay.lowerdirs);
	free(spec->overlay.upperdir);
	free(spec->overlay.workdir);
	free(spec->overlay.staging);
	free(spec->hostname);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		free(spec->mounts[i].destination);
		free(spec->mounts[i].type);
		free(spec->mounts[i].source);
		free(spec->mounts[i].data);
	}
	free(spec->mounts);
	for (size_t i = 0; i < spec->n_ns_paths; i++)
		free(spec->ns_paths[i].path);
	free(spec->ns_paths);
	free(spec->uid_mappings);
	free(spec->gid_mappings);
	strv_free(spec->device_rules);
	strv_free(spec->masked_paths);
	strv_free(spec->readonly_paths);
	strv_free(spec->sysctl);
	free(spec->seccomp.profile_json);
	memset(spec, 0, sizeof(*spec));
}

static bool path_ok(const char *p)
{
	return p && p[0] == '/' && strlen(p) < 4096;
}

int spec_own_namespaces(const struct rt_spec *spec)
{
	int own = spec->namespaces | spec->join_namespaces;
	for (size_t i = 0; i < spec->n_ns_paths; i++)
		own |= spec->ns_paths[i].type;
	return own;
}

/* Each namespace type is made, joined by pidfd or joined by path: at most one of them. The
 * user namespace is only ever made (joining one would need its owner's maps and a second
 * setns order), the mount namespace too (the init builds a root in it, see below). */
static int validate_namespaces(const struct rt_spec *spec, char **reterr)
{
	const int joinable = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	int seen = spec->namespaces;
	if (spec->join_namespaces & ~joinable)
		return err_set(reterr, -EINVAL, "only pid, network, ipc, uts and cgroup namespaces can be joined");
	if (seen & spec->join_namespaces)
		return err_set(reterr, -EINVAL, "a namespace cannot be both new and joined");
	seen |= spec->join_namespaces;
	for (size_t i = 0; i < spec->n_ns_paths; i++) {
		const struct rt_ns_path *p = &spec->ns_paths[i];
		if (!(p->type & joinable) || (p->type & (p->type - 1)))
			return err_set(reterr, -EINVAL, "only pid, network, ipc, uts and cgroup namespaces can be joined");
		if (!path_ok(p->path))
			return err_set(reterr, -EINVAL, "a namespace path must be absolute");
		if (seen & p->type)
			return err_set(reterr, -EINVAL, "a namespace is given twice (new, joined or by path)");
		seen |= p->type;
	}
	return 0;
}

int spec_validate(const struct rt_spec *spec, char **reterr)
{
	const struct rt_process *p = &spec->process;
	if (!p->args || !p->args[0] || !p->args[0][0])
		return err_set(reterr, -EINVAL, "no command to run");
	if (!p->cwd || !path_ok(p->cwd))
		return err_set(reterr, -EINVAL, "the working directory \"%s\" is not an absolute path",
			       p->cwd ? p->cwd : "");
	if (!spec->root_path || !path_ok(spec->root_path))
		return err_set(reterr, -EINVAL, "the root path must be absolute");
	if (spec->hostname && strlen(spec->hostname) > 64)
		return err_set(reterr, -EINVAL, "the hostname is longer than 64 characters");
	/* The init always builds a root (the mount tree made private, the overlay, pivot_root) and
	 * sets the hostname: outside namespaces of its own it would do so to the host's. */
	if (!(spec->namespaces & CLONE_NEWNS))
		return err_set(reterr, -EINVAL, "a container needs a mount namespace of its own");
	if (spec->hostname && !(spec->namespaces & CLONE_NEWUTS))
		return err_set(reterr, -EINVAL, "a hostname needs a UTS namespace of its own");
	int r = validate_namespaces(spec, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		if (!path_ok(spec->mounts[i].destination) || !spec->mounts[i].type)
			return err_set(reterr, -EINVAL, "mount %zu needs an absolute destination and a type", i);
		if (spec->mounts[i].ipc_shared && !(spec->join_namespaces & CLONE_NEWIPC))
			return err_set(reterr, -EINVAL, "mount %zu is shared with an IPC namespace the container does not join", i);
	}
	for (char **m = spec->masked_paths; m && *m; m++)
		if (!path_ok(*m))
			return err_set(reterr, -EINVAL, "masked path \"%s\" is not absolute", *m);
	for (char **m = spec->readonly_paths; m && *m; m++)
		if (!path_ok(*m))
			return err_set(reterr, -EINVAL, "read-only path \"%s\" is not absolute", *m);
	for (size_t i = 0; i < RLIMITS_COUNT; i++)
		if (p->rlimits.limit[i].soft > p->rlimits.limit[i].hard)
			return err_set(reterr, -EINVAL, "rlimit %s: the soft value is above the hard value",
				       rlimits_name((int)i) ? rlimits_name((int)i) : "?");
	if (spec->seccomp.mode == RT_SECCOMP_CUSTOM && !spec->seccomp.profile_json)
		return err_set(reterr, -EINVAL, "a custom seccomp profile needs its JSON");
	return 0;
}
