/* The exit monitor: watches each container's init through its pidfd and its setup channel, turns
 * reports into state (running, failed to start), reaps the exit without ever blocking (WNOHANG on
 * a pidfd that said it is ready), publishes it, and removes cgroups and files in a short-lived
 * child so the loop never waits for the kernel. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/cleaner.h"
#include "daemon/container-network.h"
#include "daemon/container-ports.h"
#include "daemon/container.h"
#include "daemon/events.h"
#include "daemon/offload.h"
#include "daemon/output.h"
#include "daemon/pool.h"
#include "daemon/registry.h"
#include "daemon/supervisor.h"
#include "runtime/process.h"

static void publish(struct container *ct, enum container_event_type type, int exit_code, const char *message)
{
	struct container_event ev = { .type = type, .ct = ct, .exit_code = exit_code, .message = message };
	event_bus_publish(ct->reg->bus, &ev);
}

static void start_failed(struct container *ct, int exit_code, const char *msg)
{
	pool_schedule_refill(ct->reg->pool, 0);
	ct->started_reported = true;
	ct->policy_starting = false;
	publish(ct, CONTAINER_EV_START_FAILED, exit_code, msg);
}

static void close_sync(struct container *ct)
{
	if (ct->ev_sync)
		event_free(TAKE_PTR(ct->ev_sync));
	ct->sync_fd = safe_close(ct->sync_fd);
}

/* A detached terminal: its master moves to the output, which reads it into the log; the
 * container's output fds are then all in one place (output_take_fds()). */
static void watch_pty(struct container *ct)
{
	_cleanup_free_ char *err = NULL;
	int fds[2] = { TAKE_FD(ct->pty_master), -1 };
	if (output_watch(ct->output, fds, true, &err) < 0)
		log_warning("container %.12s: cannot log its terminal: %s", ct->id, err ? err : "?");
}

/* Reads the init's reports until EOF (the command was exec'd, or the init died). */
static void drain_sync(struct container *ct)
{
	for (;;) {
		struct rt_report rep;
		int fd;
		int r = rt_init_read_report(ct->sync_fd, &rep, &fd);
		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r == 1 && rep.type == RT_REPORT_READY)
			continue;
		if (r == 1 && rep.type == RT_REPORT_EXEC) {
			ct->exec_reported = true;
			continue;
		}
		if (r == 1 && rep.type == RT_REPORT_PTY) {
			safe_close(ct->pty_master);
			ct->pty_master = fd;
			/* The keeper holds a copy: the terminal outlives a daemon restart. */
			uint8_t tag = KEEPER_TAG_PTY;
			if (supervisor_hold(ct->reg->sup, &ct->proc, ct->id, &fd, &tag, 1) < 0)
				log_warning("container %.12s: its terminal will not outlive the daemon", ct->id);
			if (ct->output && ct->cfg.pty_detached)
				watch_pty(ct);
			continue;
		}
		if (r == 1 && rep.type == RT_REPORT_ERROR) {
			free(ct->error);
			ct->error = strdup(rep.message);
			log_debug("container %.12s failed to start: %s", ct->id, rep.message);
			if (!ct->started_reported)
				start_failed(ct, rep.exit_code, rep.message);
			continue;
		}
		if (r < 0)
			log_errno(LOG_LEVEL_WARNING, r, "container %.12s: bad report from its init: %m", ct->id);
		close_sync(ct);
		/* EOF without the EXEC report: the init died during setup; the exit handler says so. */
		if (!ct->error && ct->exec_reported && ct->state == CONTAINER_CREATED) {
			ct->state = CONTAINER_RUNNING;
			ct->policy_starting = false;
			clock_gettime(CLOCK_REALTIME, &ct->started);
			ct->started_reported = true;
			/* The next spare comes a little after the reply, so that a short command's exit is
			 * not kept waiting behind the clone (the exit brings it forward). */
			pool_schedule_refill(ct->reg->pool, 3000);
			publish(ct, CONTAINER_EV_STARTED, 0, NULL);
		}
		return;
	}
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	drain_sync(arg);
}

/* Runs in the cleaner child: the cgroups (retrying while exiting tasks still populate them),
 * then the files when the container goes away. */
static int cleanup_child(void *arg)
{
	struct container *ct = arg;
	/* The host ends of its veths die with its network namespace, but asynchronously: a
	 * container that may start again has them deleted here, so that its next start finds
	 * the names free. One that goes away leaves that to the kernel: a deletion waits for an
	 * RCU grace period, which a `run --rm` would wait for (about 5 ms a start). */
	int r = ct->cleaner_deletes_files ? 0 : container_network_unlink_all(ct);
	if (r < 0)
		log_warning("container %.12s: cannot delete its veths: %s", ct->id, strerror(-r));
	r = 0;
	for (int i = 0; ct->cg && (r = cgroup_destroy(ct->cg)) == -EBUSY && i < 100; i++)
		usleep(i < 10 ? 1000 : 20000);
	if (r == 0 && ct->cleaner_deletes_files)
		r = container_delete_files(ct);
	return r;
}

static void cleanup_done(int r, void *arg)
{
	struct container *ct = arg;
	ct->cleaner = NULL;
	ct->cleaner_job = NULL;
	if (r < 0)
		log_warning("container %.12s: its cgroups or files could not all be removed: %s", ct->id, strerror(-r));
	/* The cleaner removed the cgroups; only our handle is left. */
	cgroup_free(TAKE_PTR(ct->cg));
	/* A container that may start again keeps its slice (its upper dir belongs to it) until it
	 * is removed (container_free). */
	if (r == 0 && ct->cleaner_deletes_files)
		container_release_slice(ct);
	ct->files_deleted = r == 0 && ct->cleaner_deletes_files;
	container_settled(ct);
}

/* Hands the cleanup to the persistent cleaner when a job's data covers all of it: not when veths
 * are to be deleted (their names are the container's) nor volumes (the registry knows who shares
 * one); those go to an offload child with the whole container at hand. */
static bool cleanup_by_cleaner(struct container *ct)
{
	struct cleaner *c = ct->reg->cleaner;
	if (!c || (!ct->cleaner_deletes_files && ct->n_endpoints > 0) ||
	    (ct->cleaner_deletes_files && container_deletes_volumes(ct)))
		return false;
	unsigned flags = ct->cleaner_deletes_files ? CLEANER_DELETE_FILES : 0;
	const char *cg_id = ct->cg ? cgroup_id(ct->cg) : NULL;
	int r = cleaner_submit(c, ct->id, cg_id, flags, ct->mntns_fd, cleanup_done, ct, &ct->cleaner_job);
	/* Taken over either way. */
	ct->mntns_fd = -1;
	if (r < 0)
		log_errno(LOG_LEVEL_WARNING, r, "container %.12s: cannot queue its cleanup: %m", ct->id);
	else
		log_debug("container %.12s: cleanup queued for the cleaner", ct->id);
	return r == 0;
}

/* The keeper reaped the container's init (its parent is the keeper, see daemon/supervisor.h). */
static void container_exited(struct container *ct, const siginfo_t *si, const struct timespec *when)
{

	/* Reports written just before the exit must be read before the exit is reported. */
	if (ct->sync_fd >= 0)
		drain_sync(ct);
	ct->policy_starting = false;
	if (when)
		ct->finished = *when;
	else
		clock_gettime(CLOCK_REALTIME, &ct->finished);
	ct->exit_code = pidref_exit_code(si, &ct->signal);
	if (ct->cg)
		ct->oom_killed = cgroup_oom_killed(ct->cg);
	close_sync(ct);
	if (!ct->started_reported) {
		/* Died during setup without a word: killed from outside, or the OOM killer. */
		free(ct->error);
		ct->error = strdup(ct->oom_killed ? "the container ran out of memory while starting"
						  : "the container process died while starting");
		start_failed(ct, 125, ct->error ? ct->error : "start failed");
	}
	/* Its init died while paused (the OOM killer, a kill from outside): the rest of it is
	 * thawed so that it dies with the init's namespace and the cgroups can go. */
	container_thaw_killed(ct);
	ct->state = CONTAINER_EXITED;
	container_stop_cancel(ct);
	ct->watched = false;
	ct->reaped = (struct pidref){ .pid = ct->proc.pid, .pidfd = -1, .start_time = ct->proc.start_time };
	pidref_done(&ct->proc);
	/* What it wrote is in its pipes (or terminal): in the log before its exit is reported, so a
	 * client that waited for the exit reads all of it. Stragglers (the last processes of the
	 * container dying) still come through the loop until EOF. */
	if (ct->output)
		output_drain(ct->output);
	ct->pty_master = safe_close(ct->pty_master);
	/* Its ports are free for others once its exit is known (its network is gone with it). */
	container_ports_release(ct);
	log_debug("container %.12s exited with %d", ct->id, ct->exit_code);
	/* Report first, clean up after (in another process). A container that is going away is
	 * invisible to lookups, names and listings meanwhile. */
	if (ct->cfg.rm || ct->remove_pending)
		ct->removing = true;
	publish(ct, CONTAINER_EV_EXITED, ct->exit_code, NULL);
	container_network_teardown(ct);
	pool_schedule_refill(ct->reg->pool, 0);
	ct->cleaner_deletes_files = ct->cfg.rm || ct->remove_pending;
	/* The cleaner gets the last reference to the container's mount namespace: its mounts are
	 * torn down there, before the overlay's upper dir is deleted, and not in the loop. */
	if (cleanup_by_cleaner(ct))
		return;
	if (offload_run(ct->reg->base, "containd-clean", cleanup_child, ct, cleanup_done, &ct->cleaner,
			TAKE_FD(ct->mntns_fd)) < 0)
		cleanup_done(cleanup_child(ct), ct);
}

static void on_exit_event(void *arg, const siginfo_t *si)
{
	container_exited(arg, si, NULL);
}

int container_watch(struct container *ct)
{
	if (ct->sync_fd >= 0) {
		ct->ev_sync = event_new(ct->reg->base, ct->sync_fd, EV_READ | EV_PERSIST, on_sync, ct);
		if (!ct->ev_sync || event_add(ct->ev_sync, NULL) < 0) {
			if (ct->ev_sync)
				event_free(TAKE_PTR(ct->ev_sync));
			return -ENOMEM;
		}
	}
	if (supervisor_watch(ct->reg->sup, &ct->proc, on_exit_event, ct) < 0) {
		if (ct->ev_sync)
			event_free(TAKE_PTR(ct->ev_sync));
		return -ENOMEM;
	}
	ct->watched = true;
	return 0;
}

void container_exit_now(struct container *ct, const siginfo_t *si, const struct timespec *when)
{
	if (ct->watched)
		supervisor_unwatch(ct->reg->sup, &ct->proc);
	ct->watched = false;
	container_exited(ct, si, when);
}
