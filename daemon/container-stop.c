/* Stopping a container gracefully: its stop signal to the init, then, when the grace period ends
 * and it still runs, SIGKILL to everything in its cgroups. One timer per container serves every
 * stop asked for; it lives until the container exits (or is freed) and never blocks the loop. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "daemon/container.h"
#include "daemon/registry.h"

/* The grace period is over: everything still in the container's cgroups is SIGKILLed, as
 * docker stop does, so the kill reaches every process the container made at once instead of
 * relying on the init's death to take the rest down. Signals are asynchronous, so nothing here
 * waits; the exit monitor sees the init's exit as usual and frees this timer. */
static void container_stop_expired(evutil_socket_t fd, short what, void *arg)
{
	struct container *ct = arg;

	ct->stop_armed = false;
	if (ct->state == CONTAINER_EXITED || !pidref_is_set(&ct->proc))
		return;
	log_debug("container %.12s did not stop in time: killing it", ct->id);
	/* Also thaws a paused container, which the v1 freezer would otherwise keep from dying. */
	container_kill_all(ct);
}

static struct timespec container_stop_now(void)
{
	struct timespec now;
	/* CLOCK_MONOTONIC cannot fail with a valid pointer; libevent's timers use it too. */
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return now;
}

static bool timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Arms (or keeps) the kill timer so that it fires at the earliest deadline any stop asked for:
 * a second stop with a longer timeout does not extend the first one's grace period. */
static int container_stop_arm(struct container *ct, unsigned timeout)
{
	struct timespec now = container_stop_now();
	struct timespec deadline = { .tv_sec = now.tv_sec + (time_t)timeout, .tv_nsec = now.tv_nsec };

	if (ct->stop_armed && !timespec_before(&deadline, &ct->stop_deadline))
		return 0;
	if (!ct->ev_stop) {
		ct->ev_stop = evtimer_new(ct->reg->base, container_stop_expired, ct);
		if (!ct->ev_stop)
			return -ENOMEM;
	}
	struct timeval tv = { .tv_sec = (time_t)timeout, .tv_usec = 0 };
	/* event_add() on a pending timer moves it to the new time. */
	if (evtimer_add(ct->ev_stop, &tv) < 0)
		return -ENOMEM;
	ct->stop_deadline = deadline;
	ct->stop_armed = true;
	return 0;
}

int container_stop(struct container *ct, int sig, unsigned timeout, char **reterr)
{
	if (ct->state == CONTAINER_EXITED || !pidref_is_set(&ct->proc))
		return err_set(reterr, -ESRCH, "container %s is not running", ct->name);
	if (sig == 0)
		sig = container_stop_signal(ct);
	/* The timer first: should it fail, the container was not signalled and the caller can say
	 * so; a signal without a timer would be a stop that may never end. */
	int r = container_stop_arm(ct, timeout);
	if (r < 0)
		return err_set(reterr, r, "cannot arm the stop timer of container %s: %m", ct->name);
	/* Through the pidfd: the init cannot have been replaced by another process with its pid.
	 * An init in a pid namespace ignores signals it has no handler for (except SIGKILL), which
	 * is why the timer is there. */
	r = pidref_kill(&ct->proc, sig);
	if (r < 0 && r != -ESRCH)
		return err_set(reterr, r, "cannot signal container %s: %m", ct->name);
	log_debug("container %.12s: stop with signal %d, %u s grace period", ct->id, sig, timeout);
	return 0;
}

void container_stop_cancel(struct container *ct)
{
	if (ct->ev_stop)
		event_free(TAKE_PTR(ct->ev_stop));
	ct->stop_armed = false;
}
