/* One container's specification, shaped like the OCI runtime spec (config.json): the process to run
 * and its credentials, limits and confinement; the root filesystem; the mounts; the namespaces and
 * the Linux-specific policy. The daemon fills one from a request; a future OCI runtime CLI reads one
 * from config.json. spec_json.c reads and writes the OCI JSON form, which is also how the daemon
 * hands a spec to the container's init. Everything here is owned by the spec (spec_done frees). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/rlimits.h"

/* The five capability sets, as masks of CAP_* bits. */
struct rt_caps {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

struct rt_process {
	char **args;
	char **env;
	char *cwd;             /* absolute, inside the container; created when missing */
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	/* containd extension: "NAME[:GROUP]" (or numbers) resolved inside the container's root, from
	 * its /etc/passwd and /etc/group, by the init; it then also sets HOME when env has none. NULL:
	 * uid/gid/additional_gids are used as they are. */
	char *user;
	bool terminal;
	unsigned short console_rows, console_cols;
	struct rlimits rlimits; /* every RLIMIT_*: containers never inherit the daemon's */
	struct rt_caps caps;
	bool no_new_privileges;
};

/* A mount inside the container; destination is absolute and resolved inside the root. */
struct rt_mount {
	char *destination, *type, *source, *data;
	unsigned long flags; /* MS_* */
	/* containd extension (option "containd-copyup"): a bind of an empty volume first gets a copy
	 * of what the image has at the destination (runtime/mounts.h). */
	bool copy_up;
	/* containd extension (option "containd-ipcshm"): the tmpfs at the same destination of the
	 * process whose IPC namespace the container joins (its /dev/shm: POSIX shared memory lives
	 * there, not in the namespace), instead of a new one; needs CLONE_NEWIPC in join_namespaces. */
	bool ipc_shared;
};

struct rt_idmap {
	uint32_t container_id, host_id, size;
};

/* OCI's namespace with a path: the namespace of that type (a CLONE_NEW* flag) is the one the file
 * names (/proc/PID/ns/net, a bind-mounted namespace), joined by the init, not made. */
struct rt_ns_path {
	int type;
	char *path;
};

enum rt_seccomp_mode {
	RT_SECCOMP_DEFAULT,    /* the built-in profile, equal in effect to Docker's */
	RT_SECCOMP_UNCONFINED, /* no filter */
	RT_SECCOMP_CUSTOM,     /* profile_json, in Docker's seccomp profile format */
};

struct rt_seccomp {
	enum rt_seccomp_mode mode;
	char *profile_json;
};

/* containd extension: the root is an overlay of image layers with a container-owned upper dir. */
struct rt_overlay {
	char **lowerdirs; /* topmost first */
	char *upperdir, *workdir;
	char *staging; /* in a user namespace: an empty directory where the idmapped layers are staged */
	/* The upper dir dies with this run (--rm): mounted "volatile", never synced. Otherwise it
	 * is mounted again at the next start and must survive a crash: see rootfs.c. */
	bool ephemeral;
};

struct rt_spec {
	struct rt_process process;
	char *root_path; /* where the root is mounted (the overlay's mount point) */
	bool root_readonly;
	struct rt_overlay overlay;
	char *hostname;
	struct rt_mount *mounts;
	size_t n_mounts;

	/* A namespace type is made new (namespaces), joined (join_namespaces or a path), or neither:
	 * then the container shares the starter's (the host's) namespace of that type. */
	int namespaces; /* CLONE_NEW* flags: made new */
	/* containd extension: joined through the pidfds of other processes that the start message
	 * carries (runtime/process.h, struct rt_ns_join); the pid namespace by whoever clones the
	 * init (struct rt_init_opts), the others by the init itself. */
	int join_namespaces;
	struct rt_ns_path *ns_paths;
	size_t n_ns_paths;
	struct rt_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct cgroup_limits resources;
	char **device_rules; /* Docker's --device-cgroup-rule syntax, added to the defaults */
	bool devices_allow_all;
	char **masked_paths, **readonly_paths;
	char **sysctl;       /* "key=value" */
	struct rt_seccomp seccomp;
	bool privileged;     /* informational: what the policy above was derived from */
};

/* Fills spec with containd's hardened defaults: Docker's capabilities, the default seccomp
 * profile, the masked and read-only paths, the standard mounts (/proc, /dev, /dev/pts, /dev/shm,
 * /dev/mqueue, /sys read-only, the container's own cgroup read-only), new pid, mount, uts, ipc,
 * net and cgroup namespaces, the default rlimits (runtime/rlimits.h). */
int spec_init_default(struct rt_spec *spec, char **reterr);
/* Switches the defaults to --privileged: every capability, no seccomp, no masked or read-only
 * paths, every device. */
void spec_make_privileged(struct rt_spec *spec, uint64_t all_caps);
void spec_done(struct rt_spec *spec);

/* Checks what the init relies on: args, absolute cwd and mount destinations, hostname, limits. */
int spec_validate(const struct rt_spec *spec, char **reterr);

/* Every namespace type the container does not share with its starter: new, joined or by path. */
int spec_own_namespaces(const struct rt_spec *spec);

/* The OCI config.json form (plus a "containd" object for the extensions). */
json_t *spec_to_json(const struct rt_spec *spec);
int spec_from_json(json_t *doc, struct rt_spec *ret, char **reterr);

/* Adds "KEY=VALUE" to the environment unless KEY is set. */
int spec_env_default(struct rt_spec *spec, const char *entry);
