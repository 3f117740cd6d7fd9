/* Live restore (see restore.h). A container is only taken over when the keeper's child with its
 * recorded pid has its recorded start time too: a pid alone could name a process that has nothing
 * to do with it, recycled since. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "daemon/container-record.h"
#include "daemon/container-network.h"
#include "daemon/container.h"
#include "daemon/pool.h"
#include "daemon/registry.h"
#include "daemon/restore.h"
#include "daemon/supervisor.h"
#include "runtime/cgroup.h"
#include "runtime/userns.h"

int restore_begin(struct registry *reg, struct restore *rs)
{
	_cleanup_free_ char *err = NULL;
	*rs = (struct restore){ 0 };
	int r = supervisor_list(reg->sup, &rs->children, &rs->n, &err);
	if (r < 0)
		log_error("cannot list what containd-keeper supervises: %s", err ? err : strerror(-r));
	else if (rs->n > 0)
		log_info("containd-keeper supervises %zu processes of an earlier daemon", rs->n);
	return r;
}

static struct supervisor_child *restore_claim(struct restore *rs, pid_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct supervisor_child *c = &rs->children[i];
		if (c->pid > 0 && c->pid == pid && c->start_time == start_time) {
			c->pid = -c->pid; /* claimed: restore_end leaves it alone */
			return c;
		}
	}
	return NULL;
}

/* The container is gone and nobody kept its exit: its keeper died (and it with it). */
static void restore_lost(struct registry *reg, struct container *ct)
{
	ct->exit_code = 255;
	clock_gettime(CLOCK_REALTIME, &ct->finished);
	free(ct->error);
	ct->error = strdup("the container's supervisor (containd-keeper) went away while it ran");
	ct->proc = PIDREF_NULL;
	pool_remove_leftover_cgroup(reg->pool, ct->id);
	container_record_save(ct);
}

/* The pty master and the output pipes the keeper held go back where they were: a logged
 * container's into its output, which appends to its log (container_adopt_output()). */
static void restore_fds(struct container *ct, struct supervisor_child *c)
{
	int out[2] = { -1, -1 };
	for (size_t i = 0; i < c->nfds; i++) {
		if (c->tags[i] == KEEPER_TAG_PTY && ct->pty_master < 0)
			ct->pty_master = TAKE_FD(c->fds[i]);
		else if (c->tags[i] == KEEPER_TAG_STDOUT && out[0] < 0)
			out[0] = TAKE_FD(c->fds[i]);
		else if (c->tags[i] == KEEPER_TAG_STDERR && out[1] < 0)
			out[1] = TAKE_FD(c->fds[i]);
	}
	container_adopt_output(ct, out);
	supervisor_child_done(c);
}

/* Marks a container running again, as its init had just started it. */
static void restore_running(struct container *ct)
{
	ct->state = CONTAINER_RUNNING;
	ct->started_reported = ct->exec_reported = true;
	ct->cleaned_up = false;
	ct->exit_code = ct->signal = 0;
	ct->finished = (struct timespec){ 0 };
	if (!ct->started.tv_sec)
		ct->started = ct->created;
	free(ct->error);
	ct->error = NULL;
}

void restore_container(struct registry *reg, struct restore *rs, struct container *ct)
{
	_cleanup_free_ char *err = NULL;
	struct supervisor_child *c = ct->proc.pid > 0 ? restore_claim(rs, ct->proc.pid, ct->proc.start_time) : NULL;
	if (!c) {
		restore_lost(reg, ct);
		return;
	}
	if (cgroup_open(reg->cgm, ct->id, &ct->cg, &err) < 0)
		log_warning("container %.12s: %s", ct->id, err ? err : "its cgroups are gone");
	restore_running(ct);
	if (c->exited) {
		/* It exited while no daemon ran: the keeper kept how. */
		log_info("container %.12s exited while containd was away", ct->id);
		supervisor_child_done(c);
		container_exit_now(ct, &c->si, &c->exited_at);
		return;
	}
	struct pidref ref = PIDREF_NULL;
	if (pidref_open(ct->proc.pid, &ref) == 0 && ref.start_time == c->start_time)
		ct->proc = ref; /* else it exited since the keeper's list: the exit is on its way */
	else
		pidref_done(&ref);
	ct->mntns_fd = rt_init_open_mntns(&ct->proc);
	container_network_restored(ct);
	bool frozen = false;
	ct->paused = ct->cg && cgroup_frozen(ct->cg, &frozen) == 0 && frozen;
	restore_fds(ct, c);
	if (container_watch(ct) < 0) {
		log_error("container %.12s: cannot watch it; killing it", ct->id);
		container_kill_all(ct);
		return;
	}
	log_info("container %.12s (pid %d) re-adopted", ct->id, (int)ct->proc.pid);
}

void restore_end(struct registry *reg, struct restore *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct supervisor_child *c = &rs->children[i];
		if (c->pid > 0) {
			struct pidref p = { .pid = c->pid, .pidfd = -1, .start_time = c->start_time };
			if (c->exited) {
				supervisor_release(reg->sup, &p);
			} else if (pidref_open(c->pid, &p) == 0 && p.start_time == c->start_time) {
				/* A spare of the daemon before, or a container whose record is gone: nobody can
				 * manage it. Its exit comes unwatched and is released then. */
				if (c->id[0])
					log_warning("killing process %d of container %.12s, which has no record", (int)c->pid,
						    c->id);
				(void)pidref_kill(&p, SIGKILL);
			}
			pidref_done(&p);
		}
		supervisor_child_done(c);
	}
	free(rs->children);
	*rs = (struct restore){ 0 };
}
