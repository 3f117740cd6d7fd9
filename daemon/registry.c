#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/cleaner.h"
#include "daemon/container-ports.h"
#include "daemon/container-network.h"
#include "daemon/container-record.h"
#include "daemon/container.h"
#include "daemon/container-exec.h"
#include "daemon/events.h"
#include "daemon/filters.h"
#include "daemon/network.h"
#include "daemon/image-store.h"
#include "daemon/persist.h"
#include "daemon/pool.h"
#include "daemon/registry.h"
#include "daemon/restore.h"
#include "daemon/supervisor.h"
#include "runtime/caps.h"
#include "runtime/process.h"
#include "runtime/userns.h"

char *registry_container_dir(const struct registry *reg, const char *id)
{
	char *p;
	return asprintf(&p, "%s/containers/%s", reg->root, id) < 0 ? NULL : p;
}

void registry_link(struct registry *reg, struct container *ct)
{
	ct->next = reg->list;
	if (reg->list)
		reg->list->prev = ct;
	reg->list = ct;
	reg->count++;
}

void registry_unlink(struct container *ct)
{
	struct registry *reg = ct->reg;
	if (ct->prev)
		ct->prev->next = ct->next;
	else if (reg->list == ct)
		reg->list = ct->next;
	else
		return; /* not linked */
	if (ct->next)
		ct->next->prev = ct->prev;
	ct->prev = ct->next = NULL;
	reg->count--;
}

struct container *registry_find(struct registry *reg, const char *ref, char **reterr)
{
	struct container *found = NULL;
	size_t len = strlen(ref);
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (!ct->removing && (strcmp(ct->name, ref) == 0 || strcmp(ct->id, ref) == 0))
			return ct;
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (!ct->removing && len >= 1 && strncmp(ct->id, ref, len) == 0) {
			if (found) {
				err_set(reterr, -ENOTUNIQ, "\"%s\" matches more than one container", ref);
				return NULL;
			}
			found = ct;
		}
	if (!found)
		err_set(reterr, -ENOENT, "no such container: %s", ref);
	return found;
}

bool registry_name_taken(struct registry *reg, const char *name)
{
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (!ct->removing && strcmp(ct->name, name) == 0)
			return true;
	return false;
}

int registry_image_usage(struct registry *reg, const char *image_id)
{
	int usage = IMAGE_UNUSED;
	/* A container on its way out (its process is gone) no longer holds its image: `rmi` right
	 * after `run --rm` returned must not see it. */
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (!ct->removing && strcmp(ct->image_id, image_id) == 0) {
			if (ct->state != CONTAINER_EXITED)
				return IMAGE_USED;
			usage = IMAGE_USED_STOPPED;
		}
	return usage;
}

unsigned registry_count(const struct registry *reg)
{
	return reg->count;
}

void registry_start_restartable(struct registry *reg)
{
	for (struct container *ct = reg->list; ct; ct = ct->next) {
		_cleanup_free_ char *err = NULL;
		bool wanted = ct->cfg.restart == CONTAINER_RESTART_ALWAYS ||
			      (ct->cfg.restart == CONTAINER_RESTART_UNLESS_STOPPED && !ct->user_stopped);
		/* A running one was re-adopted; a created one never ran (Docker leaves both). */
		if (!wanted || ct->removing || ct->state != CONTAINER_EXITED || pidref_is_set(&ct->proc) ||
		    !ct->started.tv_sec)
			continue;
		int none[3] = { -1, -1, -1 };
		if (container_start(ct, none, true, &err) < 0)
			log_warning("container %.12s: cannot start it as its restart policy says: %s", ct->id,
				    err ? err : "unknown error");
		else
			log_info("container %.12s started (restart policy %s)", ct->id, container_restart_name(ct->cfg.restart));
	}
}

/* A container in a user namespace keeps its slice while it exists (its upper dir belongs to the
 * slice's root): a restarted daemon reserves it again, before any new container could get it. */
static void registry_reserve_slice(struct registry *reg, struct container *ct)
{
	_cleanup_free_ char *err = NULL;
	if (!ct->userns || ct->cfg.rm || ct->spec.n_uid_mappings != 1 || ct->spec.n_gid_mappings != 1)
		return;
	ct->slice = (struct userns_slice){ .uid = ct->spec.uid_mappings[0].host_id, .gid = ct->spec.gid_mappings[0].host_id };
	if (!reg->userns || userns_allocator_reserve(reg->userns, &ct->slice, &err) < 0) {
		log_warning("container %.12s: cannot reserve its user namespace ids again: %s", ct->id,
			    err ? err : "no subordinate ids");
		return;
	}
	ct->slice_held = true;
}

/* Restores the containers a previous daemon saved. Those that were running then are taken over
 * from the keeper, or reported exited (daemon/restore.c). A record that cannot be trusted is
 * quarantined and reported. */
static void registry_load(struct registry *reg)
{
	_cleanup_free_ char *path = NULL;
	struct restore rs;
	if (asprintf(&path, "%s/containers", reg->root) < 0)
		return;
	(void)restore_begin(reg, &rs);
	pool_remove_leftovers(reg->pool);
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = NULL, *err = NULL;
		if (asprintf(&dir, "%s/%s", path, de->d_name) < 0)
			return;
		struct container *ct = NULL;
		int r = container_record_load(reg, dir, &ct, &err);
		if (r == -ENOENT) {
			/* A --rm container or a half-created one from a crash: nothing to keep. */
			if (strlen(de->d_name) == 64) {
				rm_rf(dir);
				pool_remove_leftover_cgroup(reg->pool, de->d_name);
			}
			continue;
		}
		if (r < 0) {
			_cleanup_free_ char *qerr = NULL;
			log_error("quarantining container state %s: %s", dir, err ? err : "unreadable");
			if (persist_quarantine(dir, &qerr) < 0)
				log_error("%s", qerr);
			continue;
		}
		if (strcmp(ct->id, de->d_name) != 0) {
			log_error("quarantining container state %s: it names container %s", dir, ct->id);
			container_free(ct);
			_cleanup_free_ char *qerr = NULL;
			if (persist_quarantine(dir, &qerr) < 0)
				log_error("%s", qerr);
			continue;
		}
		registry_reserve_slice(reg, ct);
		registry_link(reg, ct);
		if (r == 1)
			restore_container(reg, &rs, ct);
	}
	restore_end(reg, &rs);
}

/* Reconcile's question about a link named like a host veth, "veth<7 hex><index>": it is a
 * container's while a container whose id starts with those 7 hex runs (a live restore kept it);
 * a stopped one's was deleted with its network namespace. */
static bool registry_veth_owned(void *userdata, const char *ifname)
{
	struct registry *reg = userdata;
	for (struct container *ct = reg->list; ct; ct = ct->next)
		if (strncmp(ct->id, ifname + 4, 7) == 0 && pidref_is_set(&ct->proc))
			return true;
	return false;
}

/* A container in a user namespace mounts its upper dir (under --root) and its layers' staging
 * (under --state) as its own unprivileged root: every directory above must let others through. */
static int path_traversable(const char *path, char **reterr)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (char *slash = p + strlen(p);; slash = strrchr(p, '/')) {
		*slash = '\0';
		const char *dir = *p ? p : "/";
		struct stat st;
		if (stat(dir, &st) < 0)
			return err_set(reterr, -errno, "cannot stat %s: %m", dir);
		if (!(st.st_mode & S_IXOTH))
			return err_set(reterr, -EACCES,
				       "%s (mode %04o) does not let others through, which a container's unprivileged root "
				       "needs to reach %s: chmod o+x it",
				       dir, (unsigned)(st.st_mode & 07777), path);
		if (!*p)
			return 0;
	}
}

/* The subordinate ids for user namespaces. With --userns-remap they are required (and idmapped
 * mounts must work on the layers' filesystem); without, --userns=auto uses them when they exist
 * and otherwise fails with the reason kept here. */
static int registry_open_userns(struct registry *reg, const struct registry_options *opts, char **reterr)
{
	_cleanup_free_ char *err = NULL, *layers = NULL;
	reg->userns_remap = opts->userns_remap;
	if (asprintf(&reg->staging, "%s/staging", opts->state) < 0 || asprintf(&layers, "%s/layers", opts->root) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = mkdir_p(reg->staging, 0700);
	if (r < 0)
		return err_set(reterr, r, "cannot create %s: %m", reg->staging);
	r = userns_allocator_load(opts->subuid_file, opts->subgid_file, opts->userns_user, &reg->userns, &err);
	if (r == 0)
		r = path_traversable(opts->root, &err);
	if (r == 0)
		r = path_traversable(opts->state, &err);
	if (r == 0 && (r = mkdir_p(layers, 0700)) == 0)
		r = userns_idmap_check(layers, &err);
	if (r < 0) {
		userns_allocator_free(TAKE_PTR(reg->userns));
		if (opts->userns_remap)
			return err_set(reterr, r, "--userns-remap: %s", err ? err : strerror(-r));
		reg->userns_error = TAKE_PTR(err);
		log_debug("no user namespaces for --userns=auto: %s", reg->userns_error ? reg->userns_error : "unknown error");
		return 0;
	}
	if (opts->userns_remap)
		log_info("containers run in user namespaces of their own (subordinate ids of %s)", opts->userns_user);
	return 0;
}

int registry_new(struct event_base *base, const struct registry_options *opts, struct cgroup_manager *cgm,
		 struct image_store *images, struct registry **ret, char **reterr)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	_cleanup_free_ char *containers = NULL;
	_cleanup_close_ int exe_fd = -1;
	int r;
	if (!reg)
		return err_set(reterr, -ENOMEM, "out of memory");
	reg->exe_fd = -1;
	reg->base = base;
	reg->cgm = cgm;
	reg->images = images;
	if (!(reg->root = strdup(opts->root)) || !(reg->state = strdup(opts->state)) ||
	    asprintf(&containers, "%s/containers", opts->root) < 0 ||
	    asprintf(&reg->mountpoint, "%s/rootfs", opts->state) < 0 ||
	    asprintf(&reg->prepare_dir, "%s/prepare", opts->state) < 0) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	/* containers/ lets others through (0711) without listing it: a container in a user namespace
	 * reaches its own upper dir, which belongs to its unprivileged root, through it. */
	if ((r = mkdir_p(containers, 0711)) < 0 || (r = mkdir_p(reg->mountpoint, 0700)) < 0 ||
	    (r = mkdir_p(reg->prepare_dir, 0700)) < 0 ||
	    (chmod(containers, 0711) < 0 && (r = -errno) < 0)) {
		err_set(reterr, r, "cannot create %s: %m", r == 0 ? reg->mountpoint : containers);
		goto fail;
	}
	/* Forked now, while the daemon is small and before any container or spare exists: it copies
	 * little, and holds nothing of theirs. Without it, offload children do its work. (A block: the
	 * gotos above must not jump into the scope of a cleanup variable.) */
	{
		_cleanup_free_ char *cleaner_err = NULL;
		if (cleaner_new(base, reg, cgm, &reg->cleaner, &cleaner_err) < 0)
			log_warning("%s; containers are cleaned up by offload children",
				    cleaner_err ? cleaner_err : "no cleaner");
	}
	/* Read once here, before any init is cloned: the inits inherit the values. */
	(void)caps_last_cap();
	if ((r = registry_open_userns(reg, opts, reterr)) < 0)
		goto fail;
	if ((r = event_bus_new(&reg->bus)) < 0 || (r = filters_new(&reg->filters)) < 0) {
		err_set(reterr, r, "out of memory");
		goto fail;
	}
	reg->live_restore = opts->live_restore;
	reg->sup = opts->sup;
	if ((r = rt_init_exe_open(opts->init_path, &exe_fd, reterr)) < 0 ||
	    (r = pool_new(base, opts->root, reg->prepare_dir, cgm, reg->sup, exe_fd, reg->userns, reg->userns_remap, opts->prepared, &reg->pool,
			  reterr)) < 0)
		goto fail;
	reg->exe_fd = TAKE_FD(exe_fd);
	/* The networks before the containers: a restored container's addresses are reserved in
	 * them; the leftovers after, once it is known which veths running containers own. */
	if (opts->net && (r = network_registry_open(opts->root, opts->state, opts->net, &reg->networks, reterr)) < 0)
		goto fail;
	/* Every nft table the networks apply carries the published ports of the running containers. */
	if (reg->networks)
		network_registry_set_ports_cb(reg->networks, container_ports_nft, reg);
	/* Spares get their default-bridge network ahead (container-network-spare.c). */
	if (reg->networks)
		pool_set_net(reg->pool, container_network_spare_prepare, container_network_spare_release, reg);
	registry_load(reg);
	/* The recorded addresses are the containers' again, before anything can start. */
	container_network_start(reg);
	if (reg->networks)
		network_registry_reconcile(reg->networks, registry_veth_owned, reg);
	pool_schedule_refill(reg->pool, 0);
	*ret = reg;
	return 0;
fail:
	registry_free(reg);
	return r;
}

bool registry_shutdown(struct registry *reg, bool stop_containers, unsigned timeout)
{
	bool first = !reg->stopping;
	reg->stopping = true;
	pool_stop(reg->pool);
	bool done = !pool_busy(reg->pool), running = false;
	for (struct container *ct = reg->list; ct; ct = ct->next) {
		if (ct->cleaned_up)
			continue;
		if (ct->state != CONTAINER_EXITED && pidref_is_set(&ct->proc)) {
			running = true;
			if (!stop_containers)
				continue;
			/* Once: each stop arms its own grace period, then SIGKILL (container-stop.c). */
			if (first)
				(void)container_stop(ct, 0, timeout, NULL);
		}
		done = false;
	}
	/* Nothing left for the keeper to keep: it exits once its last child did. */
	if (done && !running)
		supervisor_quit(reg->sup);
	return done;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	reg->stopping = true;
	container_exec_free_all(reg);
	while (reg->list) {
		struct container *ct = reg->list;
		registry_unlink(ct);
		container_free(ct);
	}
	cleaner_free(reg->cleaner);
	pool_free(reg->pool);
	network_registry_free(reg->networks);
	event_bus_free(reg->bus);
	filters_free(reg->filters);
	userns_allocator_free(reg->userns);
	free(reg->userns_error);
	free(reg->staging);
	safe_close(reg->exe_fd);
	free(reg->root);
	free(reg->state);
	free(reg->mountpoint);
	free(reg->prepare_dir);
	free(reg);
}
