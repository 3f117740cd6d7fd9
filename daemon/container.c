#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/container-exec.h"
#include "daemon/container-record.h"
#include "daemon/container-internal.h"
#include "daemon/container-spec.h"
#include "daemon/container-mounts.h"
#include "daemon/container-network.h"
#include "daemon/container-ns.h"
#include "daemon/container-ports.h"
#include "daemon/container.h"
#include "image/config.h"
#include "daemon/events.h"
#include "daemon/filters.h"
#include "daemon/image-store.h"
#include "daemon/log-journald.h"
#include "daemon/cleaner.h"
#include "daemon/offload.h"
#include "daemon/output.h"
#include "daemon/pool.h"
#include "daemon/registry.h"
#include "daemon/supervisor.h"
#include "runtime/sync.h"
#include "runtime/userns.h"

static const char *const state_names[] = { "created", "running", "exited" };

const char *container_state_name(enum container_state s)
{
	return state_names[s];
}

static const char *const log_driver_names[] = {
	[CONTAINER_LOG_FILE] = "file",
	[CONTAINER_LOG_NONE] = "none",
	[CONTAINER_LOG_JOURNALD] = "journald",
};

int container_log_driver_from_name(const char *name, enum container_log_driver *ret)
{
	/* Docker's names for its file drivers select ours: the same options, another format. */
	if (strcmp(name, "json-file") == 0 || strcmp(name, "local") == 0)
		name = "file";
	for (size_t i = 0; i < ARRAY_SIZE(log_driver_names); i++)
		if (strcmp(name, log_driver_names[i]) == 0) {
			*ret = (enum container_log_driver)i;
			return 0;
		}
	return -EINVAL;
}

const char *container_log_driver_name(enum container_log_driver d)
{
	return log_driver_names[d];
}

const char *container_state_label(const struct container *ct)
{
	if (ct->state == CONTAINER_RUNNING && ct->paused)
		return "paused";
	/* Docker's "restarting" lasts until the container runs again, its init's setup included. */
	if ((ct->state == CONTAINER_EXITED && ct->ev_restart) || (ct->policy_starting && ct->state != CONTAINER_RUNNING))
		return "restarting";
	return container_state_name(ct->state);
}

void container_config_done(struct container_config *cfg)
{
	free(cfg->name);
	free(cfg->image);
	free(cfg->workdir);
	free(cfg->user);
	free(cfg->hostname);
	strv_free(cfg->cmd);
	strv_free(cfg->env);
	strv_free(cfg->cap_add);
	strv_free(cfg->cap_drop);
	free(cfg->seccomp_profile);
	free(cfg->ulimits);
	strv_free(cfg->device_rules);
	free(cfg->userns);
	strv_free(cfg->labels);
	strv_free(cfg->entrypoint);
	free(cfg->stop_signal);
	container_mounts_free(cfg->mounts, cfg->n_mounts);
	strv_free(cfg->volumes_from);
	container_network_config_done(cfg);
	free(cfg->network_mode);
	free(cfg->pid_mode);
	free(cfg->ipc_mode);
	free(cfg->uts_mode);
	free(cfg->cgroupns_mode);
	free(cfg->ports);
	free(cfg->exposed);
	memset(cfg, 0, sizeof(*cfg));
}

void container_release_slice(struct container *ct)
{
	if (ct->slice_held)
		(void)userns_allocator_release(ct->reg->userns, &ct->slice);
	ct->slice_held = false;
}

void container_free(struct container *ct)
{
	if (!ct)
		return;
	container_release_slice(ct);
	container_exec_forget(ct);
	if (ct->watched)
		supervisor_unwatch(ct->reg->sup, &ct->proc);
	if (ct->ev_sync)
		event_free(ct->ev_sync);
	container_stop_cancel(ct);
	container_restart_cancel(ct, false);
	for (int i = 0; i < 3; i++)
		safe_close(ct->start_stdio[i]);
	/* A half-done removal would leave debris: let it finish. */
	offload_finish(TAKE_PTR(ct->cleaner));
	cleaner_finish(TAKE_PTR(ct->cleaner_job));
	container_ports_forget(ct);
	free(ct->ports_summary);
	pidref_done(&ct->proc);
	safe_close(ct->sync_fd);
	safe_close(ct->pty_master);
	safe_close(ct->mntns_fd);
	output_free(ct->output);
	if (ct->cg)
		cgroup_free(ct->cg);
	container_network_free(ct);
	container_config_done(&ct->cfg);
	spec_done(&ct->spec);
	free(ct->name);
	free(ct->image_id);
	free(ct->error);
	free(ct->list_entry);
	free(ct);
}

/* The container is gone for good: tell the sinks, then forget it. */
void container_destroy(struct container *ct)
{
	struct container_event ev = { .type = CONTAINER_EV_REMOVED, .ct = ct };
	ct->removing = true;
	event_bus_publish(ct->reg->bus, &ev);
	registry_unlink(ct);
	container_network_release(ct);
	log_debug("container %.12s removed", ct->id);
	container_free(ct);
}

/* The record goes first: a removal cut short (the daemon killed, its cleaner with it) leaves a
 * directory without one, which the next daemon deletes, never a half-deleted container that it
 * would load again (next to a new one that took its name meanwhile). */
int container_delete_files(void *arg)
{
	struct container *ct = arg;
	_cleanup_free_ char *dir = registry_container_dir(ct->reg, ct->id);
	int r = container_record_remove(ct->reg, ct->id);
	int q = dir ? rm_rf(dir) : -ENOMEM;
	if (container_deletes_volumes(ct))
		container_mounts_delete_anonymous(ct);
	return r < 0 ? r : q;
}

bool container_deletes_volumes(const struct container *ct)
{
	if (!ct->cfg.rm && !ct->remove_volumes)
		return false;
	for (size_t i = 0; i < ct->cfg.n_mounts; i++)
		if (ct->cfg.mounts[i].type == CONTAINER_MOUNT_VOLUME && ct->cfg.mounts[i].anonymous)
			return true;
	return false;
}

static void files_deleted(int r, void *arg)
{
	struct container *ct = arg;
	ct->cleaner = NULL;
	ct->cleaner_job = NULL;
	if (r < 0)
		log_warning("container %.12s: cannot remove its files: %s", ct->id, strerror(-r));
	container_destroy(ct);
}

/* Removes an exited, cleaned-up container: its files go in a child (a big upper dir takes
 * seconds), and it is invisible to lookups meanwhile. */
static void container_remove_files(struct container *ct)
{
	ct->removing = true;
	/* The cleaner can do it all, unless volumes go too (whether another container uses one is
	 * the registry's to know). */
	if (ct->reg->cleaner && !container_deletes_volumes(ct) &&
	    cleaner_submit(ct->reg->cleaner, ct->id, NULL, CLEANER_DELETE_FILES, -1, files_deleted, ct,
			   &ct->cleaner_job) == 0)
		return;
	if (offload_run(ct->reg->base, "containd-clean", container_delete_files, ct, files_deleted, &ct->cleaner, -1) <
	    0)
		files_deleted(container_delete_files(ct), ct);
}

void container_settled(struct container *ct)
{
	ct->cleaned_up = true;
	/* Saved below (or deleted): the keeper can forget the exit. A daemon killed before the save
	 * finds the container running in its record and the exit still with the keeper. */
	struct supervisor *sup = ct->reg->sup;
	bool release = ct->reaped.pid > 0;
	struct pidref reaped = ct->reaped;
	ct->reaped = PIDREF_NULL;
	if (ct->cfg.rm || ct->remove_pending) {
		/* The cleaner deleted the files with the cgroups, unless the removal was asked for
		 * after it had started. */
		if (ct->files_deleted)
			container_destroy(ct);
		else
			container_remove_files(ct);
		if (release)
			supervisor_release(sup, &reaped);
		return;
	}
	container_record_save(ct);
	if (release)
		supervisor_release(sup, &reaped);
	container_restart_check(ct);
}

static bool name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 128 || !isalnum((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

/* --privileged and --device-cgroup-rule change the default device rules the spare's cgroup was
 * made with; nothing of the container has run yet, so no device was opened under the defaults. */
static int apply_device_rules(struct container *ct, char **reterr)
{
	const struct rt_spec *spec = &ct->spec;
	size_t n = 0;
	while (spec->device_rules && spec->device_rules[n])
		n++;
	if (n == 0 && !spec->devices_allow_all)
		return 0;
	if (n > DEVICE_RULES_MAX)
		return err_set(reterr, -E2BIG, "at most %d device cgroup rules", DEVICE_RULES_MAX);
	_cleanup_free_ struct device_rule *rules = calloc(n + 1, sizeof(*rules));
	if (!rules)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int r = devices_rule_parse(spec->device_rules[i], &rules[i], reterr);
		if (r < 0)
			return r;
	}
	return cgroup_set_devices(ct->cg, rules, n, spec->devices_allow_all, reterr);
}

struct userns_layers {
	int fds[SYNC_MAX_LAYERS];
	size_t n;
};

static void userns_layers_close(struct userns_layers *l)
{
	for (size_t i = 0; i < l->n; i++)
		safe_close(l->fds[i]);
	l->n = 0;
}

/* The daemon's part of starting a container in a user namespace (runtime/userns.h, steps 4 and
 * 5); its init already runs as root of that namespace, mapped to the container's slice.
 * - Each image layer becomes a read-only idmapped mount for the init's namespace: the layers on
 *   disk stay owned by host root and shared, the container sees them as its own root's.
 * - The rlimits are set from here: raising a hard limit needs CAP_SYS_RESOURCE in the host's
 *   namespace, which the init does not have; it then finds them in place. */
static int prepare_userns(struct container *ct, struct userns_layers *layers, char **reterr)
{
	_cleanup_close_ int nsfd = -1;
	int r = userns_open_of(ct->proc.pidfd, ct->proc.pid, &nsfd, reterr);
	if (r < 0)
		return r;
	for (char **l = ct->spec.overlay.lowerdirs; l && *l; l++) {
		if (layers->n >= SYNC_MAX_LAYERS)
			return err_set(reterr, -E2BIG, "too many image layers (at most %d)", SYNC_MAX_LAYERS);
		if ((r = userns_idmap_mount(AT_FDCWD, *l, nsfd, &layers->fds[layers->n], reterr)) < 0)
			return r;
		layers->n++;
	}
	for (int i = 0; i < RLIMITS_COUNT; i++) {
		const struct rlimits_value *v = &ct->spec.process.rlimits.limit[i];
		struct rlimit rl = { .rlim_cur = v->soft == RLIMITS_UNLIMITED ? RLIM_INFINITY : v->soft,
				     .rlim_max = v->hard == RLIMITS_UNLIMITED ? RLIM_INFINITY : v->hard };
		if (rlimits_name(i) && prlimit(ct->proc.pid, (enum __rlimit_resource)i, &rl, NULL) < 0)
			return err_set(reterr, -errno, "cannot set the %s limit: %m", rlimits_name(i));
	}
	return 0;
}

/* Whether the daemon reads the container's output into a log file. */
static bool logs_to_file(const struct container_config *cfg)
{
	return cfg->log_driver == CONTAINER_LOG_FILE &&
	       (cfg->stdio == CONTAINER_STDIO_LOG || (cfg->stdio == CONTAINER_STDIO_PTY && cfg->pty_detached));
}

/* The log of a detached container, in its directory: pipes for its stdout and stderr now, or the
 * pty's master once its init reports it (monitor.c). */
static int setup_output(struct container *ct, const char *dir, int stdio_fds[3], struct rt_start_fds *fds,
			char **reterr)
{
	/* A start with a client's fds (cctl start -a) writes to them, as a run without -d. */
	if (!logs_to_file(&ct->cfg) || stdio_fds[1] >= 0)
		return 0;
	_cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return err_set(reterr, -errno, "cannot open the container's directory: %m");
	/* A container started again appends to its log: the last run's output is done with. */
	output_free(TAKE_PTR(ct->output));
	int r = output_new(ct, dirfd, &ct->cfg.log_opts, &ct->output, reterr);
	if (r < 0 || ct->cfg.stdio != CONTAINER_STDIO_LOG)
		return r;
	int wr[2];
	if ((r = output_pipes(ct->output, wr, reterr)) < 0)
		return r;
	for (int i = 1; i <= 2; i++) {
		safe_close(stdio_fds[i]);
		stdio_fds[i] = fds->stdio[i] = wr[i - 1];
	}
	return 0;
}

void container_adopt_output(struct container *ct, int pipes[2])
{
	_cleanup_free_ char *err = NULL, *dir = NULL;
	_cleanup_close_ int dirfd = -1;
	bool pty = ct->cfg.stdio == CONTAINER_STDIO_PTY;
	int fds[2] = { pty ? TAKE_FD(ct->pty_master) : TAKE_FD(pipes[0]), pty ? -1 : TAKE_FD(pipes[1]) };
	if (!logs_to_file(&ct->cfg) || fds[0] < 0) {
		/* Nothing of it is logged (or nothing came back): the fds go as they came. */
		if (pty)
			ct->pty_master = fds[0];
		else
			safe_close(fds[0]);
		safe_close(fds[1]);
		safe_close(pipes[0]);
		safe_close(pipes[1]);
		return;
	}
	if (!(dir = registry_container_dir(ct->reg, ct->id)) ||
	    (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    output_adopt(ct, dirfd, &ct->cfg.log_opts, fds, pty, &ct->output, &err) < 0) {
		if (dirfd < 0) {
			safe_close(fds[0]);
			safe_close(fds[1]);
		}
		log_warning("container %.12s: its output is no longer logged: %s", ct->id, err ? err : "out of memory");
	}
}

/* The keeper holds copies of the read ends of the output pipes: while no daemon runs, the
 * container's writes fill them (then block) instead of failing with EPIPE, and the next daemon
 * takes them back (restore.c) and logs what they hold. A terminal's master is held as the
 * report of its init brings it (monitor.c). */
static void hold_output(struct container *ct)
{
	int fds[2];
	if (!ct->output || ct->cfg.stdio != CONTAINER_STDIO_LOG)
		return;
	output_fds(ct->output, fds);
	static const uint8_t tags[2] = { KEEPER_TAG_STDOUT, KEEPER_TAG_STDERR };
	if (fds[0] < 0 || fds[1] < 0 || supervisor_hold(ct->reg->sup, &ct->proc, ct->id, fds, tags, 2) < 0)
		log_warning("container %.12s: its output will not outlive the daemon", ct->id);
}

/* journald takes the output itself: the container writes to two stream connections of the
 * journal, and none of it passes through the daemon. */
static int setup_journald(struct container *ct, int stdio_fds[3], char **reterr)
{
	if (ct->cfg.log_driver != CONTAINER_LOG_JOURNALD || ct->cfg.stdio != CONTAINER_STDIO_LOG || stdio_fds[1] >= 0)
		return 0;
	int fds[2];
	int r = log_journald_open(ct->id, fds, reterr);
	if (r < 0)
		return r;
	for (int i = 1; i <= 2; i++) {
		safe_close(stdio_fds[i]);
		stdio_fds[i] = fds[i - 1];
	}
	return 0;
}

static void close_stdio(int stdio_fds[3])
{
	for (int i = 0; i < 3; i++)
		stdio_fds[i] = safe_close(stdio_fds[i]);
}

/* Kills an init that cannot be watched, and removes what it had. Blocking, for the one case where
 * the loop cannot watch it (out of memory); it never got past setup, so it dies at once. */
static void abandon_init(struct container *ct)
{
	(void)pidref_kill_and_wait(&ct->proc);
	pidref_done(&ct->proc);
	container_ports_release(ct);
	ct->sync_fd = safe_close(ct->sync_fd);
	ct->mntns_fd = safe_close(ct->mntns_fd);
	if (ct->cg) {
		(void)cgroup_destroy(ct->cg);
		cgroup_free(TAKE_PTR(ct->cg));
	}
}

/* A new container object with cfg taken over; nothing of it exists anywhere yet. */
struct container *container_alloc(struct registry *reg, struct container_config *cfg)
{
	struct container *ct = calloc(1, sizeof(*ct));
	if (!ct)
		return NULL;
	ct->reg = reg;
	ct->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	ct->proc = PIDREF_NULL;
	ct->sync_fd = ct->pty_master = ct->mntns_fd = -1;
	ct->start_stdio[0] = ct->start_stdio[1] = ct->start_stdio[2] = -1;
	clock_gettime(CLOCK_REALTIME, &ct->created);
	return ct;
}

/* What run and create check before anything is made: the number of containers, the name, the
 * user namespace. */
int container_check_new(struct container *ct, char **reterr)
{
	struct registry *reg = ct->reg;
	if (reg->count >= REGISTRY_MAX_CONTAINERS)
		return err_set(reterr, -EUSERS, "too many containers (%d); remove some", REGISTRY_MAX_CONTAINERS);
	if (ct->cfg.name) {
		if (!name_valid(ct->cfg.name))
			return err_set(reterr, -EINVAL,
				       "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				       ct->cfg.name);
		if (registry_name_taken(reg, ct->cfg.name))
			return err_set(reterr, -EEXIST, "the container name \"%s\" is already in use", ct->cfg.name);
	}
	ct->userns = ct->cfg.userns ? strcmp(ct->cfg.userns, "auto") == 0 : reg->userns_remap;
	/* --privileged means the host's devices and capabilities over the host, which a user
	 * namespace cannot give (Docker refuses the same). */
	if (ct->userns && ct->cfg.privileged)
		return err_set(reterr, -EINVAL, "--privileged cannot run in a user namespace: add --userns=host");
	if (ct->userns && !reg->userns)
		return err_set(reterr, -EOPNOTSUPP, "--userns=auto: %s",
			       reg->userns_error ? reg->userns_error : "no subordinate ids for user namespaces");
	if (ct->cfg.log_driver == CONTAINER_LOG_JOURNALD && ct->cfg.stdio == CONTAINER_STDIO_PTY && ct->cfg.pty_detached)
		return err_set(reterr, -EINVAL, "the journald log driver does not take a terminal's output: run without -t");
	return container_ns_check(ct, reterr);
}

/* The name (or the short id) and the image id, once the id is known. */
int container_set_identity(struct container *ct, const struct image *image, char **reterr)
{
	ct->name = strndup(ct->cfg.name ? ct->cfg.name : ct->id, ct->cfg.name ? strlen(ct->cfg.name) : 12);
	ct->image_id = strdup(image->id);
	if (!ct->name || !ct->image_id)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (!ct->cfg.stop_signal && image->stop_signal && !(ct->cfg.stop_signal = strdup(image->stop_signal)))
		return err_set(reterr, -ENOMEM, "out of memory");
	/* The image's labels are the container's too, under its own (as Docker's). */
	if (image_labels_merge(image->labels, &ct->cfg.labels) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return container_ports_set_exposed(&ct->cfg, image, reterr);
}

/* The spec and the seccomp program of the next run, from the configuration and the image. */
int container_prepare_spec(struct container *ct, const struct image *image, int *ret_seccomp_fd, char **reterr)
{
	struct rt_spec spec;
	int r;
	*ret_seccomp_fd = -1;
	if (!ct->cfg.mounts_resolved && (r = container_mounts_resolve(ct, image, reterr)) < 0)
		return r;
	if ((r = container_build_spec(ct, image, &spec, reterr)) < 0)
		return r;
	if ((r = cgroup_limits_validate(ct->reg->cgm, &spec.resources, reterr)) < 0 ||
	    (spec.seccomp.mode != RT_SECCOMP_UNCONFINED &&
	     (r = filters_get(ct->reg->filters, spec.seccomp.mode == RT_SECCOMP_CUSTOM ? spec.seccomp.profile_json : NULL,
			      spec.process.caps.bounding, ret_seccomp_fd, reterr)) < 0)) {
		spec_done(&spec);
		return r;
	}
	spec_done(&ct->spec);
	ct->spec = spec;
	return 0;
}

/* Hands the spec to an init that is the container's now (in its cgroup, its directories in
 * place): limits, device rules, the user namespace's layers, the start message; then watches it.
 * Returns 0, or -errno when the init could not be started: if it could still be watched
 * (*ret_watched) its exit goes through the monitor as a failed start, else it was killed and
 * its cgroups removed here. */
int container_launch(struct container *ct, struct rt_init *init, int stdio_fds[3], int seccomp_fd,
		     const struct container_ns_start *ns, bool *ret_watched, char **reterr)
{
	struct rt_start_fds fds = { .stdio = { stdio_fds[0], stdio_fds[1], stdio_fds[2] },
				    .seccomp_fd = seccomp_fd,
				    .joins = ns ? ns->joins : NULL,
				    .n_joins = ns ? ns->n_joins : 0 };
	struct userns_layers layers = { .n = 0 };
	int r;
	_cleanup_free_ char *dir = registry_container_dir(ct->reg, ct->id);
	*ret_watched = false;
	ct->proc = init->proc;
	ct->sync_fd = init->sync_fd;
	ct->mntns_fd = init->mntns_fd;
	if ((!dir && (r = err_set(reterr, -ENOMEM, "out of memory")) < 0) ||
	    (r = setup_journald(ct, stdio_fds, reterr)) < 0 ||
	    (fds.stdio[1] = stdio_fds[1], fds.stdio[2] = stdio_fds[2], r = setup_output(ct, dir, stdio_fds, &fds, reterr)) < 0 ||
	    (r = cgroup_set_limits(ct->cg, &ct->spec.resources, reterr)) < 0 ||
	    (r = apply_device_rules(ct, reterr)) < 0 ||
	    (r = container_network_prepare_root(ct, reterr)) < 0 ||
	    (ct->userns && (r = prepare_userns(ct, &layers, reterr)) < 0) ||
	    (r = container_network_setup(ct, reterr)) < 0 ||
	    (r = container_ports_bind(ct, reterr)) < 0 ||
	    (fds.layer_fds = layers.fds, fds.n_layers = layers.n, r = rt_init_start(init, &ct->spec, &fds, reterr)) < 0) {
		userns_layers_close(&layers);
		/* It never ran the command: the exit monitor cleans up after it. */
		(void)pidref_kill(&ct->proc, SIGKILL);
		if (container_watch(ct) == 0) {
			*ret_watched = true;
			return r;
		}
		abandon_init(ct);
		return r;
	}
	userns_layers_close(&layers);
	if ((r = container_watch(ct)) < 0) {
		err_set(reterr, r, "cannot watch the container process");
		abandon_init(ct);
		return r;
	}
	hold_output(ct);
	return 0;
}

int container_run(struct registry *reg, struct container_config *cfg, const struct image *image, int stdio_fds[3],
		  struct container **ret, char **reterr)
{
	_cleanup_free_ char *dir = NULL;
	int seccomp_fd = -1; /* owned by the filters */
	struct spare *sp = NULL;
	int r;

	struct container *ct = container_alloc(reg, cfg);
	if (!ct) {
		container_config_done(cfg);
		close_stdio(stdio_fds);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	if ((r = container_check_new(ct, reterr)) < 0 || (r = container_network_init(ct, reterr)) < 0)
		goto fail;
	/* A container that shares a namespace cannot take a spare, made with every namespace new:
	 * it gets an init of its own, cloned into (or sharing) what it asked for. */
	bool fresh = !container_ns_all_new(&ct->cfg);
	if (fresh) {
		if ((r = random_hex(ct->id, 32)) < 0) {
			err_set(reterr, r, "cannot generate an id: %m");
			goto fail;
		}
	} else {
		sp = pool_take(reg->pool, ct->userns, container_network_wants_spare(ct), reterr);
		if (!sp) {
			r = -EIO;
			goto fail;
		}
		memcpy(ct->id, sp->id, sizeof(ct->id));
		ct->slice = sp->slice;
	}
	/* The journal's streams are opened before anything of the container exists: a host without
	 * journald refuses the run with nothing to undo (container_launch finds them open). */
	if ((r = container_set_identity(ct, image, reterr)) < 0 ||
	    (r = container_prepare_spec(ct, image, &seccomp_fd, reterr)) < 0 ||
	    (r = setup_journald(ct, stdio_fds, reterr)) < 0)
		goto fail;

	/* The spare is used from here on: on failure it is discarded, not given back. */
	dir = registry_container_dir(reg, ct->id);
	if (!dir) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	struct rt_init init;
	struct container_ns_start ns = { .pid_join_fd = -1 };
	if (fresh) {
		if ((r = container_create_dirs(ct, reterr)) < 0)
			goto fail;
		if ((r = container_ns_start(ct, &ns, reterr)) < 0 ||
		    (r = pool_prepare(reg->pool, ct->id, NULL, ns.clone_namespaces, ns.pid_join ? ns.pid_join_fd : -1,
				      &ct->cg, &init, reterr)) < 0) {
			(void)rm_rf(dir);
			goto fail;
		}
	} else if ((r = container_network_spare(ct, sp, reterr)) < 0) {
		pool_discard(TAKE_PTR(sp)); /* its network half undone: no use to another run */
		goto fail;
	} else if ((r = pool_adopt(TAKE_PTR(sp), dir, &ct->cg, &init, NULL, reterr)) < 0) {
		goto fail;
	}
	/* A container that may start again keeps its slice: its upper dir belongs to it. */
	ct->slice_held = ct->userns;
	bool watched;
	r = container_launch(ct, &init, stdio_fds, seccomp_fd, &ns, &watched, reterr);
	if (r < 0) {
		close_stdio(stdio_fds);
		if (!watched) {
			ct->remove_volumes = true; /* nobody saw it: its anonymous volumes go too */
			(void)container_delete_files(ct);
			container_network_release(ct);
			container_free(ct);
			return r;
		}
		/* The caller reports the failure; the events of a container nobody knows reach
		 * nobody, and the monitor removes it out of sight, as for --rm. */
		ct->removing = ct->cfg.rm = true;
		registry_link(reg, ct);
		return r;
	}
	close_stdio(stdio_fds);
	registry_link(reg, ct);
	container_record_save(ct);
	log_debug("container %s started as pid %d", ct->id, (int)ct->proc.pid);
	*ret = ct;
	return 0;

fail:
	pool_give_back(reg->pool, sp);
	container_network_release(ct);
	container_mounts_delete_anonymous(ct); /* made for it by a resolution that ran */
	container_free(ct);
	close_stdio(stdio_fds);
	return r;
}

int container_rename(struct container *ct, const char *name, char **reterr)
{
	if (!name_valid(name))
		return err_set(reterr, -EINVAL, "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			       name);
	if (strcmp(ct->name, name) == 0)
		return err_set(reterr, -EINVAL, "container %s is already named \"%s\"", ct->id, name);
	if (registry_name_taken(ct->reg, name))
		return err_set(reterr, -EEXIST, "the container name \"%s\" is already in use", name);
	_cleanup_free_ char *n1 = strdup(name), *n2 = strdup(name);
	if (!n1 || !n2)
		return err_set(reterr, -ENOMEM, "out of memory");
	free(ct->name);
	ct->name = TAKE_PTR(n1);
	free(ct->cfg.name);
	ct->cfg.name = TAKE_PTR(n2);
	container_record_save(ct);
	return 0;
}

/* Pausing freezes the container's cgroup; the freeze completes asynchronously (cgroup_freeze()),
 * and the container is reported paused at once, as Docker does: the daemon's loop must not wait
 * for a task stuck in uninterruptible sleep, and such a task runs no user code meanwhile either.
 * Only a running container is paused: one still in setup is the daemon's to finish (its init
 * reports to the daemon), and an exited one has nothing left to freeze. */
int container_pause(struct container *ct, char **reterr)
{
	if (ct->state != CONTAINER_RUNNING || ct->removing || ct->remove_pending || !ct->cg)
		return err_set(reterr, -ESRCH, "container %s is not running", ct->name);
	if (ct->paused)
		return err_set(reterr, -ESRCH, "container %s is already paused", ct->name);
	int r = cgroup_freeze(ct->cg, true, reterr);
	if (r < 0)
		return r;
	ct->paused = true;
	log_debug("container %.12s paused", ct->id);
	return 0;
}

int container_unpause(struct container *ct, char **reterr)
{
	if (ct->state != CONTAINER_RUNNING || !ct->paused || !ct->cg)
		return err_set(reterr, -ESRCH, "container %s is not paused", ct->name);
	int r = cgroup_freeze(ct->cg, false, reterr);
	if (r < 0)
		return r;
	ct->paused = false;
	log_debug("container %.12s unpaused", ct->id);
	return 0;
}

/* A paused container that is being killed: thawed after the SIGKILL went out, so it dies and can
 * be cleaned up (the v1 freezer holds even killed tasks until the thaw; on v2 SIGKILL wakes them
 * anyway). Thawing after the kill, not before, means no user code of it runs again: a task leaves
 * the freezer with the SIGKILL pending and exits before returning to user space. */
void container_thaw_killed(struct container *ct)
{
	if (!ct->paused)
		return;
	if (ct->cg)
		(void)cgroup_freeze(ct->cg, false, NULL);
	ct->paused = false;
}

/* Signals the init. A paused container still takes SIGKILL (it dies at once); other signals stay
 * pending until it is unpaused, as in Docker. */
int container_kill(struct container *ct, int sig, char **reterr)
{
	if (ct->state == CONTAINER_EXITED || !pidref_is_set(&ct->proc))
		return err_set(reterr, -ESRCH, "container %s is not running", ct->name);
	int r = pidref_kill(&ct->proc, sig);
	if (r < 0)
		return err_set(reterr, r, "cannot signal container %s: %m", ct->name);
	if (sig == SIGKILL)
		container_thaw_killed(ct);
	return 0;
}

int container_remove(struct container *ct, bool force, char **reterr)
{
	if (ct->removing || ct->remove_pending)
		return 0;
	if (ct->cleaned_up) {
		container_remove_files(ct);
		return 0;
	}
	if (ct->state != CONTAINER_EXITED && !force)
		return err_set(reterr, -EBUSY, "container %s is running: stop it first or remove it with force",
			       ct->name);
	ct->remove_pending = true;
	if (ct->state != CONTAINER_EXITED)
		container_kill_all(ct);
	return 0;
}

void container_kill_all(struct container *ct)
{
	if (ct->cg)
		(void)cgroup_kill(ct->cg);
	(void)pidref_kill(&ct->proc, SIGKILL);
	container_thaw_killed(ct);
}
