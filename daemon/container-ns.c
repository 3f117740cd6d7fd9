#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/container-ns.h"
#include "daemon/container.h"
#include "daemon/registry.h"

/* A mode's longest accepted value: "container:" and a container name or id. */
#define NS_MODE_MAX	 256
#define CONTAINER_PREFIX "container:"

enum container_net_kind container_ns_net_kind(const char *mode)
{
	if (!mode || !*mode || strcmp(mode, "bridge") == 0 || strcmp(mode, "default") == 0)
		return CONTAINER_NET_DEFAULT;
	if (strcmp(mode, "none") == 0)
		return CONTAINER_NET_NONE;
	if (strcmp(mode, "host") == 0)
		return CONTAINER_NET_HOST;
	if (strncmp(mode, CONTAINER_PREFIX, strlen(CONTAINER_PREFIX)) == 0)
		return CONTAINER_NET_CONTAINER;
	return CONTAINER_NET_NAMED;
}

static bool is(const char *mode, const char *value)
{
	return mode && strcmp(mode, value) == 0;
}

/* The NAME of "container:NAME", or NULL for any other mode. */
static const char *target_ref(const char *mode)
{
	return mode && strncmp(mode, CONTAINER_PREFIX, strlen(CONTAINER_PREFIX)) == 0 ? mode + strlen(CONTAINER_PREFIX)
										      : NULL;
}

bool container_ns_all_new(const struct container_config *cfg)
{
	enum container_net_kind net = container_ns_net_kind(cfg->network_mode);
	return net != CONTAINER_NET_HOST && net != CONTAINER_NET_CONTAINER && !is(cfg->pid_mode, "host") &&
	       !target_ref(cfg->pid_mode) && !is(cfg->ipc_mode, "host") && !target_ref(cfg->ipc_mode) &&
	       !is(cfg->uts_mode, "host") && !is(cfg->cgroupns_mode, "host");
}

/* The container a mode names, which must exist. */
static int find_target(const struct container *ct, const char *ref, struct container **ret, char **reterr)
{
	struct container *t = registry_find(ct->reg, ref, reterr);
	if (!t)
		return -ENOENT;
	if (t == ct)
		return err_set(reterr, -EINVAL, "cannot join own namespaces");
	*ret = t;
	return 0;
}

/* Whether a container to join runs: its pidfd is that of its init, alive until the keeper reaps
 * it (and the exit monitor, which runs on this same loop, only then clears proc). The kernel
 * checks again at the join itself (setns on a pidfd of a process that exited fails). */
static bool target_running(const struct container *t)
{
	return t->state == CONTAINER_RUNNING && pidref_is_set(&t->proc);
}

int container_ns_check(const struct container *ct, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	const char *const modes[] = {cfg->network_mode, cfg->pid_mode, cfg->ipc_mode, cfg->uts_mode,
				     cfg->cgroupns_mode};
	struct container *t = NULL;
	int r;
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		if (modes[i] && strlen(modes[i]) > NS_MODE_MAX)
			return err_set(reterr, -EINVAL, "a namespace mode is longer than %d bytes", NS_MODE_MAX);
		if (target_ref(modes[i]) && !*target_ref(modes[i]))
			return err_set(reterr, -EINVAL, "%s: invalid container format container:<name|id>",
				       i == 0 ? "Invalid network mode" : "Invalid namespace mode");
	}
	enum container_net_kind net = container_ns_net_kind(cfg->network_mode);
	/* A named network (bridge or user-defined) is checked by container_network_init(). */
	if (cfg->pid_mode && *cfg->pid_mode && !is(cfg->pid_mode, "host") && !target_ref(cfg->pid_mode))
		return err_set(reterr, -EINVAL, "invalid --pid: %s", cfg->pid_mode);
	if (cfg->ipc_mode && !is(cfg->ipc_mode, "host") && !target_ref(cfg->ipc_mode) &&
	    !is(cfg->ipc_mode, "shareable") && !is(cfg->ipc_mode, "private") && !is(cfg->ipc_mode, "none") &&
	    *cfg->ipc_mode)
		return err_set(reterr, -EINVAL, "invalid IPC mode: %s", cfg->ipc_mode);
	if (cfg->uts_mode && *cfg->uts_mode && !is(cfg->uts_mode, "host"))
		return err_set(reterr, -EINVAL, "invalid --uts: %s", cfg->uts_mode);
	if (cfg->cgroupns_mode && *cfg->cgroupns_mode && !is(cfg->cgroupns_mode, "host") &&
	    !is(cfg->cgroupns_mode, "private"))
		return err_set(reterr, -EINVAL, "invalid cgroup namespace mode: %s", cfg->cgroupns_mode);
	/* Docker's conflicts: a shared network brings its hostname, a shared UTS namespace is the
	 * host's name. */
	if (cfg->hostname && (net == CONTAINER_NET_HOST || net == CONTAINER_NET_CONTAINER))
		return err_set(reterr, -EINVAL, "conflicting options: hostname and the network mode");
	if (cfg->hostname && is(cfg->uts_mode, "host"))
		return err_set(reterr, -EINVAL, "conflicting options: hostname and the UTS mode");
	/* Joining or sharing a namespace owned by another user namespace needs capabilities there,
	 * which a container in a user namespace of its own never has: Docker refuses it as well. */
	if (ct->userns && !container_ns_all_new(cfg))
		return err_set(reterr, -EINVAL,
			       "the host's or another container's namespaces cannot be shared in a user namespace: add "
			       "--userns=host");
	if (target_ref(cfg->network_mode) && (r = find_target(ct, target_ref(cfg->network_mode), &t, reterr)) < 0)
		return r;
	if (target_ref(cfg->pid_mode) && (r = find_target(ct, target_ref(cfg->pid_mode), &t, reterr)) < 0)
		return r;
	if (target_ref(cfg->ipc_mode) && (r = find_target(ct, target_ref(cfg->ipc_mode), &t, reterr)) < 0)
		return r;
	return 0;
}

int container_ns_hostname(const struct container *ct, char **ret, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	char buf[HOST_NAME_MAX + 1];
	*ret = NULL;
	if (container_ns_net_kind(cfg->network_mode) == CONTAINER_NET_HOST || is(cfg->uts_mode, "host")) {
		if (gethostname(buf, sizeof(buf)) < 0)
			return err_set(reterr, -errno, "cannot read the host's name: %m");
		buf[sizeof(buf) - 1] = '\0';
	} else if (target_ref(cfg->network_mode)) {
		struct container *t = NULL;
		int r = find_target(ct, target_ref(cfg->network_mode), &t, reterr);
		if (r < 0)
			return r;
		if (t->spec.hostname)
			snprintf(buf, sizeof(buf), "%s", t->spec.hostname);
		else
			snprintf(buf, sizeof(buf), "%.12s", t->cfg.hostname ? t->cfg.hostname : t->id);
	} else {
		return 0;
	}
	return (*ret = strdup(buf)) ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

static int add_mount(struct rt_spec *spec, const char *destination, const char *source, unsigned long flags)
{
	struct rt_mount *v = realloc(spec->mounts, (spec->n_mounts + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	spec->mounts = v;
	struct rt_mount *m = &v[spec->n_mounts++];
	*m = (struct rt_mount){.flags = flags};
	if (!(m->destination = strdup(destination)) || !(m->type = strdup("bind")) || !(m->source = strdup(source)))
		return -ENOMEM;
	return 0;
}

/* The index of the spec's mount at destination, or -1. */
static ssize_t find_mount(const struct rt_spec *spec, const char *destination)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (strcmp(spec->mounts[i].destination, destination) == 0)
			return (ssize_t)i;
	return -1;
}

/* /dev/shm: --ipc none has none; --ipc host gets the host's (Docker binds it: POSIX shared memory
 * lives in that tmpfs, not in the IPC namespace); --ipc container:X gets X's (the init clones its
 * mount, runtime/init.c). Sharing the host's IPC is what the user asked
 * for; the bind stays nosuid, nodev and noexec like the tmpfs it replaces. */
static int shm_to_spec(const struct container_config *cfg, struct rt_spec *spec)
{
	ssize_t i = find_mount(spec, "/dev/shm");
	if (i >= 0 && target_ref(cfg->ipc_mode))
		spec->mounts[i].ipc_shared = true;
	if (i < 0 || (!is(cfg->ipc_mode, "none") && !is(cfg->ipc_mode, "host")))
		return 0;
	struct rt_mount *m = &spec->mounts[i];
	free(m->destination);
	free(m->type);
	free(m->source);
	free(m->data);
	memmove(m, m + 1, (spec->n_mounts - (size_t)i - 1) * sizeof(*m));
	spec->n_mounts--;
	if (is(cfg->ipc_mode, "host"))
		return add_mount(spec, "/dev/shm", "/dev/shm", MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	return 0;
}

/* The /etc files a shared network brings, bound read-only: a host network's copies the start
 * writes into the container's directory (container_ns_start), or the files of the container whose
 * network it joins, when that one has them. Read-only: they describe a network the container does
 * not own. The sources are files of the daemon's own directories, never a path a client named. */
static int etc_to_spec(const struct container *ct, struct rt_spec *spec, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	static const char *const files[] = {CONTAINER_NS_ETC_HOSTS, CONTAINER_NS_ETC_HOSTNAME, CONTAINER_NS_ETC_RESOLV};
	enum container_net_kind net = container_ns_net_kind(cfg->network_mode);
	const char *id = ct->id;
	if (net == CONTAINER_NET_CONTAINER) {
		struct container *t = NULL;
		int r = find_target(ct, target_ref(cfg->network_mode), &t, reterr);
		if (r < 0)
			return r;
		id = t->id;
	} else if (net != CONTAINER_NET_HOST) {
		return 0;
	}
	_cleanup_free_ char *dir = registry_container_dir(ct->reg, id);
	if (!dir)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *src = NULL, *dst = NULL;
		if (asprintf(&src, "%s/%s", dir, files[i]) < 0 || asprintf(&dst, "/etc/%s", files[i]) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		if (net == CONTAINER_NET_CONTAINER && access(src, F_OK) < 0)
			continue;
		if (add_mount(spec, dst, src, MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Which namespaces are new, shared with the host or joined:
 * - a shared (host) namespace is simply not made: the init is cloned by containd-keeper, which is
 *   in the daemon's namespaces. Everything else of the container's confinement stays: its
 *   capabilities, seccomp filter, masked and read-only paths, cgroups, its own mount namespace
 *   and root. In the host's network namespace /sys is the host's sysfs, mounted read-only as
 *   every unprivileged container's /sys is (spec.c), so the host's interfaces can be seen but not
 *   reconfigured through it; without CAP_NET_ADMIN (not in the default set) they cannot be
 *   reconfigured otherwise either.
 * - a joined namespace is another container's; --pid container:X lets the container see and
 *   signal X's processes (Docker's behaviour), with its own capabilities, nothing more. */
int container_ns_to_spec(const struct container *ct, struct rt_spec *spec, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	enum container_net_kind net = container_ns_net_kind(cfg->network_mode);
	int r;
	spec->join_namespaces = 0;
	if (net == CONTAINER_NET_HOST || net == CONTAINER_NET_CONTAINER) {
		spec->namespaces &= ~CLONE_NEWNET;
		if (net == CONTAINER_NET_CONTAINER)
			spec->join_namespaces |= CLONE_NEWNET;
	}
	if (is(cfg->pid_mode, "host") || target_ref(cfg->pid_mode)) {
		spec->namespaces &= ~CLONE_NEWPID;
		if (target_ref(cfg->pid_mode))
			spec->join_namespaces |= CLONE_NEWPID;
	}
	if (is(cfg->ipc_mode, "host") || target_ref(cfg->ipc_mode)) {
		spec->namespaces &= ~CLONE_NEWIPC;
		if (target_ref(cfg->ipc_mode))
			spec->join_namespaces |= CLONE_NEWIPC;
	}
	if (is(cfg->uts_mode, "host")) {
		spec->namespaces &= ~CLONE_NEWUTS;
		free(TAKE_PTR(spec->hostname));
	}
	if (is(cfg->cgroupns_mode, "host"))
		spec->namespaces &= ~CLONE_NEWCGROUP;
	if ((r = shm_to_spec(cfg, spec)) < 0)
		return err_set(reterr, r, "out of memory");
	return etc_to_spec(ct, spec, reterr);
}

/* Writes one file of a host network's identity (a fresh copy at each start), replacing the last
 * one by a rename: a container still bound to the old one keeps reading it whole. Not synced: it
 * is written again at the next start. */
static int etc_write(const char *dir, const char *name, const char *data, size_t len, char **reterr)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0 || asprintf(&tmp, "%s/.%s.tmp", dir, name) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot write %s: %m", tmp);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = err_set(reterr, n < 0 ? -errno : -EIO, "cannot write %s: %m", tmp);
			(void)unlink(tmp);
			return r;
		}
		done += (size_t)n;
	}
	if (fchmod(fd, 0644) < 0 || rename(tmp, path) < 0) {
		int r = err_set(reterr, -errno, "cannot write %s: %m", path);
		(void)unlink(tmp);
		return r;
	}
	return 0;
}

/* The host network's /etc files, as Docker gives them: the host's /etc/hosts and
 * /etc/resolv.conf as they are (its resolvers are reachable from its own network), and its name. */
static int etc_write_host(const struct container *ct, char **reterr)
{
	static const char *const copies[][2] = {{"/etc/hosts", CONTAINER_NS_ETC_HOSTS},
						{"/etc/resolv.conf", CONTAINER_NS_ETC_RESOLV}};
	_cleanup_free_ char *dir = registry_container_dir(ct->reg, ct->id);
	char name[HOST_NAME_MAX + 2];
	int r;
	if (!dir)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ARRAY_SIZE(copies); i++) {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		r = read_file(copies[i][0], 1 << 20, &data, &len);
		if (r < 0 && r != -ENOENT)
			return err_set(reterr, r, "cannot read %s: %m", copies[i][0]);
		if ((r = etc_write(dir, copies[i][1], data ? data : "", data ? len : 0, reterr)) < 0)
			return r;
	}
	if (gethostname(name, sizeof(name) - 1) < 0)
		return err_set(reterr, -errno, "cannot read the host's name: %m");
	name[sizeof(name) - 2] = '\0';
	strcat(name, "\n");
	return etc_write(dir, CONTAINER_NS_ETC_HOSTNAME, name, strlen(name), reterr);
}

int container_ns_start(const struct container *ct, struct container_ns_start *ret, char **reterr)
{
	const struct container_config *cfg = &ct->cfg;
	struct container *t = NULL;
	int r;
	*ret = (struct container_ns_start){.clone_namespaces = ct->spec.namespaces, .pid_join_fd = -1};
	if (target_ref(cfg->network_mode)) {
		if ((r = find_target(ct, target_ref(cfg->network_mode), &t, reterr)) < 0)
			return r;
		if (!target_running(t))
			return err_set(reterr, -EINVAL, "cannot join network of a non running container: %s",
				       target_ref(cfg->network_mode));
		ret->joins[ret->n_joins++] = (struct rt_ns_join){.flags = CLONE_NEWNET, .pidfd = t->proc.pidfd};
	}
	if (target_ref(cfg->ipc_mode)) {
		const char *ref = target_ref(cfg->ipc_mode);
		if ((r = find_target(ct, ref, &t, reterr)) < 0)
			return r;
		if (!target_running(t))
			return err_set(reterr, -EINVAL, "Container %s is not running", ref);
		/* Docker's rule: only a donor that said so shares its IPC namespace. */
		if (!is(t->cfg.ipc_mode, "shareable"))
			return err_set(
			    reterr, -EINVAL,
			    "container %s: non-shareable IPC (hint: use IpcMode:shareable for the donor container)",
			    ref);
		ret->joins[ret->n_joins++] = (struct rt_ns_join){.flags = CLONE_NEWIPC, .pidfd = t->proc.pidfd};
	}
	if (target_ref(cfg->pid_mode)) {
		if ((r = find_target(ct, target_ref(cfg->pid_mode), &t, reterr)) < 0)
			return r;
		if (!target_running(t))
			return err_set(reterr, -EINVAL, "cannot join PID of a non running container: %s",
				       target_ref(cfg->pid_mode));
		ret->pid_join = true;
		ret->pid_join_fd = t->proc.pidfd;
	}
	if (container_ns_net_kind(cfg->network_mode) == CONTAINER_NET_HOST && (r = etc_write_host(ct, reterr)) < 0)
		return r;
	return 0;
}

static const char *const record_keys[] = {"network_mode", "pid_mode", "ipc_mode", "uts_mode", "cgroupns_mode"};

static char **record_fields(struct container_config *cfg, size_t i)
{
	char **fields[] = {&cfg->network_mode, &cfg->pid_mode, &cfg->ipc_mode, &cfg->uts_mode, &cfg->cgroupns_mode};
	return fields[i];
}

int container_ns_record_save(const struct container_config *cfg, json_t *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(record_keys); i++) {
		const char *v = *record_fields((struct container_config *)cfg, i);
		if (v && json_object_set_new(o, record_keys[i], json_string(v)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int container_ns_record_load(json_t *o, struct container_config *cfg)
{
	for (size_t i = 0; i < ARRAY_SIZE(record_keys); i++) {
		json_t *v = json_object_get(o, record_keys[i]);
		if (!v)
			continue;
		if (!json_is_string(v) || strlen(json_string_value(v)) > NS_MODE_MAX)
			return -EBADMSG;
		if (!(*record_fields(cfg, i) = strdup(json_string_value(v))))
			return -ENOMEM;
	}
	return 0;
}

json_t *container_ns_inspect(const struct container *ct)
{
	const struct container_config *cfg = &ct->cfg;
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "network", cfg->network_mode ? cfg->network_mode : "bridge",
			 "pid", cfg->pid_mode ? cfg->pid_mode : "", "ipc",
			 cfg->ipc_mode && *cfg->ipc_mode ? cfg->ipc_mode : "private", "uts",
			 cfg->uts_mode ? cfg->uts_mode : "", "cgroupns",
			 cfg->cgroupns_mode && *cfg->cgroupns_mode ? cfg->cgroupns_mode : "private");
}
