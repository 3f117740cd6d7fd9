/* Creating a container without starting it, starting a created or exited one on its own
 * filesystem again, and the restart policies: Docker's back-off, and which containers start with
 * the daemon. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/parse.h"
#include "common/util.h"
#include "daemon/container-mounts.h"
#include "daemon/container-network.h"
#include "daemon/container-internal.h"
#include "daemon/container-record.h"
#include "daemon/events.h"
#include "daemon/image-store.h"
#include "daemon/pool.h"
#include "daemon/registry.h"
#include "runtime/userns.h"

/* Docker's back-off: the first restart after 100 ms, each next one after twice the delay, at most
 * a minute; a run of at least 10 s resets it. */
#define RESTART_DELAY_FIRST_MS 100
#define RESTART_DELAY_MAX_MS 60000
#define RESTART_RESET_AFTER_S 10

static const char *const restart_names[] = { "no", "on-failure", "always", "unless-stopped" };

const char *container_restart_name(enum container_restart r)
{
	return restart_names[r];
}

int container_stop_signal(const struct container *ct)
{
	int sig;
	/* An image's StopSignal that does not parse falls back to the default, as Docker's does. */
	if (ct->cfg.stop_signal && parse_signal(ct->cfg.stop_signal, &sig) == 0 && sig > 0)
		return sig;
	return CONTAINER_STOP_SIGNAL;
}

static void close_fds(int fds[3])
{
	for (int i = 0; i < 3; i++)
		fds[i] = safe_close(fds[i]);
}

/* In a user namespace the directories belong to the slice's root (see pool.c: only these, never
 * a layer). */
int container_create_dirs(struct container *ct, char **reterr)
{
	_cleanup_free_ char *dir = registry_container_dir(ct->reg, ct->id), *upper = NULL, *work = NULL;
	if (!dir || asprintf(&upper, "%s/upper", dir) < 0 || asprintf(&work, "%s/work", dir) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (mkdir(dir, 0700) < 0)
		return err_set(reterr, -errno, "cannot create %s: %m", dir);
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
		int r = err_set(reterr, -errno, "cannot create the container's directories: %m");
		(void)rm_rf(dir);
		return r;
	}
	const char *const paths[] = { dir, upper, work };
	for (size_t i = 0; ct->userns && i < ARRAY_SIZE(paths); i++)
		if (lchown(paths[i], ct->slice.uid, ct->slice.gid) < 0) {
			int r = err_set(reterr, -errno, "cannot hand %s to the container's root: %m", paths[i]);
			(void)rm_rf(dir);
			return r;
		}
	return 0;
}

int container_create(struct registry *reg, struct container_config *cfg, const struct image *image,
		     struct container **ret, char **reterr)
{
	int seccomp_fd = -1; /* owned by the filters */
	int r;
	struct container *ct = container_alloc(reg, cfg);
	if (!ct) {
		container_config_done(cfg);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	if ((r = container_check_new(ct, reterr)) < 0 || (r = container_network_init(ct, reterr)) < 0)
		goto fail;
	if ((r = random_hex(ct->id, 32)) < 0) {
		err_set(reterr, r, "cannot generate an id: %m");
		goto fail;
	}
	/* The slice is the container's for its whole life: its upper dir belongs to it. */
	if (ct->userns) {
		if ((r = userns_allocator_alloc(reg->userns, &ct->slice, reterr)) < 0)
			goto fail;
		ct->slice_held = true;
	}
	/* The spec is built now to check everything a start would (Docker refuses a bad create),
	 * and for inspect; each start builds it again. */
	if ((r = container_set_identity(ct, image, reterr)) < 0 ||
	    (r = container_prepare_spec(ct, image, &seccomp_fd, reterr)) < 0 || (r = container_create_dirs(ct, reterr)) < 0 ||
	    (r = container_network_prepare_root(ct, reterr)) < 0)
		goto fail;
	ct->state = CONTAINER_CREATED;
	ct->cleaned_up = true; /* nothing ran: nothing to clean up */
	registry_link(reg, ct);
	container_record_save(ct);
	log_debug("container %s created", ct->id);
	*ret = ct;
	return 0;
fail:
	container_mounts_delete_anonymous(ct); /* made for it by a resolution that ran */
	container_network_release(ct);
	container_free(ct);
	return r;
}

/* A container in a user namespace loaded from its record holds its slice again (registry.c
 * reserves it at load); one whose slice could not be reserved then tries once more here. */
static int hold_slice(struct container *ct, char **reterr)
{
	if (!ct->userns || ct->slice_held)
		return 0;
	if (!ct->reg->userns)
		return err_set(reterr, -EOPNOTSUPP, "container %s runs in a user namespace, which this containd cannot make: %s",
			       ct->name, ct->reg->userns_error ? ct->reg->userns_error : "no subordinate ids");
	int r = userns_allocator_reserve(ct->reg->userns, &ct->slice, reterr);
	if (r < 0)
		return r;
	ct->slice_held = true;
	return 0;
}

/* Starts the container now: it exited and was cleaned up, or was only created. On failure it
 * stays as it was, with the error recorded. */
static int container_start_now(struct container *ct, int stdio_fds[3], char **reterr)
{
	struct registry *reg = ct->reg;
	int seccomp_fd = -1; /* owned by the filters */
	enum container_state prev = ct->state;
	struct rt_init init;
	struct container_ns_start ns;
	bool watched;
	int r;

	const struct image *image = image_store_lookup_id(reg->images, ct->image_id);
	if (!image) {
		r = err_set(reterr, -ENOENT, "the image %s of container %s was removed", ct->image_id, ct->name);
		goto fail;
	}
	/* The containers whose namespaces it shares must run now, as at its first start. */
	if ((r = hold_slice(ct, reterr)) < 0 || (r = container_prepare_spec(ct, image, &seccomp_fd, reterr)) < 0 ||
	    (r = container_ns_start(ct, &ns, reterr)) < 0 ||
	    (r = pool_prepare(reg->pool, ct->id, ct->userns ? &ct->slice : NULL, ns.clone_namespaces,
				   ns.pid_join ? ns.pid_join_fd : -1, &ct->cg, &init, reterr)) < 0)
		goto fail;
	/* A new run: what the last one left is reset, its end stays in the events. */
	ct->exit_code = ct->signal = 0;
	ct->oom_killed = ct->paused = false;
	free(TAKE_PTR(ct->error));
	ct->finished = (struct timespec){ 0 };
	ct->started_reported = ct->exec_reported = false;
	ct->cleaned_up = ct->files_deleted = ct->cleaner_deletes_files = false;
	ct->state = CONTAINER_CREATED;
	r = container_launch(ct, &init, stdio_fds, seccomp_fd, &ns, &watched, reterr);
	close_fds(stdio_fds);
	if (r < 0) {
		/* Watched: the monitor reports the failed start and the exit, as for any start. */
		if (watched)
			return r;
		/* Killed and its cgroups removed: an exit of its own, as the monitor would record. */
		ct->cleaned_up = true;
		ct->exit_code = 125;
		clock_gettime(CLOCK_REALTIME, &ct->finished);
		prev = CONTAINER_EXITED;
		goto fail;
	}
	container_record_save(ct);
	log_debug("container %s started as pid %d", ct->id, (int)ct->proc.pid);
	return 0;
fail:
	close_fds(stdio_fds);
	ct->state = prev;
	if (reterr && *reterr) {
		free(ct->error);
		ct->error = strdup(*reterr);
	}
	container_record_save(ct);
	return r;
}

static void restart_timer_free(struct container *ct)
{
	if (ct->ev_restart)
		event_free(TAKE_PTR(ct->ev_restart));
}

int container_start(struct container *ct, int stdio_fds[3], bool policy, char **reterr)
{
	if (ct->removing || ct->remove_pending) {
		close_fds(stdio_fds);
		return err_set(reterr, -ENOENT, "container %s is being removed", ct->name);
	}
	if (pidref_is_set(&ct->proc) || ct->start_deferred) {
		close_fds(stdio_fds);
		return 1;
	}
	restart_timer_free(ct);
	ct->policy_starting = policy;
	if (!policy) {
		/* A start by a user is a new beginning for the policy, as in Docker. */
		ct->restart_count = 0;
		ct->restart_delay_ms = 0;
		ct->user_stopped = false;
	}
	if (!ct->cleaned_up) {
		/* Its last run's cgroups (named after its id, which the new run's take) are still
		 * being removed: the start follows the cleanup (container_settled). */
		memcpy(ct->start_stdio, stdio_fds, sizeof(ct->start_stdio));
		stdio_fds[0] = stdio_fds[1] = stdio_fds[2] = -1;
		ct->start_deferred = true;
		return 0;
	}
	return container_start_now(ct, stdio_fds, reterr);
}

/* A start that waited for the cleanup runs now; its failure reaches whoever waits for it as a
 * failed start. Returns true when there was one. */
static bool start_deferred_run(struct container *ct)
{
	if (!ct->start_deferred)
		return false;
	ct->start_deferred = false;
	_cleanup_free_ char *err = NULL;
	int fds[3];
	memcpy(fds, ct->start_stdio, sizeof(fds));
	ct->start_stdio[0] = ct->start_stdio[1] = ct->start_stdio[2] = -1;
	if (ct->removing || ct->remove_pending) {
		close_fds(fds);
		return true;
	}
	if (container_start_now(ct, fds, &err) < 0 && !pidref_is_set(&ct->proc)) {
		struct container_event ev = { .type = CONTAINER_EV_START_FAILED, .ct = ct, .exit_code = 125,
					      .message = err ? err : "start failed" };
		event_bus_publish(ct->reg->bus, &ev);
	}
	return true;
}

/* The back-off is over: the policy starts the container again, unless a user stopped it or it
 * is going away meanwhile. */
static void on_restart_timer(evutil_socket_t fd, short what, void *arg)
{
	struct container *ct = arg;
	_cleanup_free_ char *err = NULL;
	restart_timer_free(ct);
	if (ct->reg->stopping || ct->removing || ct->remove_pending || ct->user_stopped)
		return;
	log_debug("container %.12s: restart %u by its policy", ct->id, ct->restart_count);
	struct container_event ev = { .type = CONTAINER_EV_RESTART, .ct = ct };
	event_bus_publish(ct->reg->bus, &ev);
	int none[3] = { -1, -1, -1 };
	if (container_start(ct, none, true, &err) < 0) {
		log_warning("container %.12s: cannot restart it: %s", ct->id, err ? err : "unknown error");
		/* It stays exited; a failed start counts as a failure for the policy. */
		container_restart_check(ct);
	}
}

/* Whether the policy restarts the container after this exit (Docker's restart manager). */
static bool restart_wanted(const struct container *ct)
{
	switch (ct->cfg.restart) {
	case CONTAINER_RESTART_NO:
		return false;
	case CONTAINER_RESTART_ALWAYS:
	case CONTAINER_RESTART_UNLESS_STOPPED:
		return true;
	case CONTAINER_RESTART_ON_FAILURE:
		return ct->exit_code != 0 && (ct->cfg.restart_max == 0 || ct->restart_count < ct->cfg.restart_max);
	}
	return false;
}

void container_restart_check(struct container *ct)
{
	if (start_deferred_run(ct))
		return;
	if (ct->reg->stopping || ct->removing || ct->remove_pending || ct->cfg.rm || ct->user_stopped ||
	    ct->state != CONTAINER_EXITED || ct->ev_restart || !restart_wanted(ct))
		return;
	/* A run of at least 10 s starts the back-off over; started is this run's once its command
	 * ran (exec_reported), else the run never started. */
	if (ct->exec_reported && ct->finished.tv_sec - ct->started.tv_sec >= RESTART_RESET_AFTER_S)
		ct->restart_delay_ms = 0;
	ct->restart_delay_ms = ct->restart_delay_ms == 0 ? RESTART_DELAY_FIRST_MS : ct->restart_delay_ms * 2;
	if (ct->restart_delay_ms > RESTART_DELAY_MAX_MS)
		ct->restart_delay_ms = RESTART_DELAY_MAX_MS;
	ct->restart_count++;
	struct timeval tv = { .tv_sec = ct->restart_delay_ms / 1000, .tv_usec = (ct->restart_delay_ms % 1000) * 1000 };
	ct->ev_restart = evtimer_new(ct->reg->base, on_restart_timer, ct);
	if (!ct->ev_restart || evtimer_add(ct->ev_restart, &tv) < 0) {
		restart_timer_free(ct);
		ct->restart_count--;
		log_error("container %.12s: out of memory arming its restart", ct->id);
		return;
	}
	container_record_save(ct);
	log_debug("container %.12s exited with %d: restart %u in %u ms", ct->id, ct->exit_code, ct->restart_count,
		  ct->restart_delay_ms);
}

void container_restart_cancel(struct container *ct, bool user_stopped)
{
	restart_timer_free(ct);
	if (!user_stopped)
		return;
	ct->user_stopped = true;
	if (ct->start_deferred) {
		ct->start_deferred = false;
		close_fds(ct->start_stdio);
	}
	container_record_save(ct);
}
