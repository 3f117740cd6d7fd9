/* containd: parses options, sets up logging and the event loop, and runs until SIGTERM/SIGINT. */
#include <errno.h>
#include <event2/event.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "daemon/api.h"
#include "daemon/container-network.h"
#include "daemon/options.h"
#include "daemon/server.h"

/* How long a clean shutdown may wait for cleanups and replies, past the containers' grace time. */
#define SHUTDOWN_MARGIN_MS 10000

struct daemon {
	struct event_base *base;
	struct api *api;
	struct server *server;
	struct event *ev_term, *ev_int, *ev_shutdown;
	unsigned shutdown_ticks;
	bool stopping;
	bool stop_containers; /* this shutdown stops the containers (no live restore) */
	unsigned shutdown_timeout;
};

/* Whether systemd is stopping our unit for good: a stop job, not a restart's (whose job type
 * stays "restart" while the old process stops). Live restore keeps containers across a restart
 * (and a crash, and a plain kill), but `systemctl stop` and the system's shutdown stop them
 * cleanly instead of leaving them to run without a daemon. Asked over D-Bus only at shutdown. */
static bool systemd_stopping_unit(void)
{
	_cleanup_free_ char *unit = NULL, *path = NULL, *type = NULL;
	sd_bus *bus = NULL;
	sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	uint32_t job_id = 0;
	const char *job_path = NULL;
	bool stopping = false;
	if (!getenv("INVOCATION_ID") || sd_pid_get_unit(0, &unit) < 0 || sd_bus_open_system(&bus) < 0)
		return false;
	(void)sd_bus_set_method_call_timeout(bus, 2 * 1000000);
	if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path) >= 0 &&
	    sd_bus_get_property(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit", "Job", &error,
				&reply, "(uo)") >= 0 &&
	    sd_bus_message_read(reply, "(uo)", &job_id, &job_path) >= 0 && job_id != 0 &&
	    sd_bus_get_property_string(bus, "org.freedesktop.systemd1", job_path, "org.freedesktop.systemd1.Job",
				       "JobType", &error, &type) >= 0)
		stopping = strcmp(type, "stop") == 0;
	log_info("systemd %s unit %s", stopping ? "stops" : type ? type : "signalled", unit);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return stopping;
}

/* Every running container holds a few of our fds (its pidfd, mount namespace, output pipes, log
 * file, cgroup) and as many in the keeper, which inherits the limit: 4096 containers need far more
 * than the soft limit of 1024 services start with, so it goes up to the hard limit, as systemd
 * asks daemons to do. Containers do not inherit it: their rlimits are set from their spec. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warning("cannot raise the limit of open files to %llu: %s", (unsigned long long)rl.rlim_max,
			    strerror(errno));
}

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	bool done = api_shutdown(d->api, d->stop_containers, d->shutdown_timeout);
	unsigned limit = SHUTDOWN_MARGIN_MS + (d->stop_containers ? d->shutdown_timeout * 1000 : 0);
	if (done || ++d->shutdown_ticks * 10 >= limit) {
		if (!done)
			log_warning("shutdown timed out with containers still being cleaned up");
		event_base_loopbreak(d->base);
		return;
	}
	struct timeval tv = { .tv_sec = 0, .tv_usec = 10000 };
	evtimer_add(d->ev_shutdown, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	if (d->stopping)
		return;
	d->stopping = true;
	sd_notify(0, "STOPPING=1");
	if (d->stop_containers || systemd_stopping_unit())
		d->stop_containers = true;
	log_info("received %s, shutting down%s", strsignal((int)sig),
		 d->stop_containers ? ", stopping every container" : "; containers keep running (live restore)");
	server_stop_listening(d->server);
	on_shutdown_tick(-1, 0, d);
}

int main(int argc, char **argv)
{
	struct daemon_options opts;
	struct daemon d = { 0 };
	char *err = NULL;
	/* Replies up to PROTO_MAX_REPLY (a container.list of thousands) come from the heap and
	 * stay there for the next one: mmap()ed, every reply would fault in fresh pages twice (the
	 * line, its copy in the output queue), most of what a listing costs the daemon. */
	(void)mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	int r = options_parse(argc, argv, &opts);
	if (r != 0) {
		options_done(&opts);
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	/* Under systemd, stderr is connected to the journal: log there with structured fields. */
	log_setup("containd", (enum log_level)opts.log_level, getenv("JOURNAL_STREAM") != NULL);

	if (geteuid() != 0) {
		log_error("containd must run as root");
		options_done(&opts);
		return EXIT_FAILURE;
	}
	/* A client that hangs up must not kill us while we write to it. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	d.base = event_base_new();
	if (!d.base) {
		log_error("cannot create the event loop");
		return EXIT_FAILURE;
	}
	d.stop_containers = !opts.live_restore;
	/* opts outlives the daemon's loop: the path stays valid. */
	container_network_set_resolv_conf(opts.resolv_conf);
	d.shutdown_timeout = opts.shutdown_timeout;
	r = api_new(d.base, &opts, &d.api, &err);
	if (r == 0)
		r = server_new(d.base, d.api, opts.socket_path, opts.group, &d.server, &err);
	if (r == 0)
		server_set_timeouts(d.server, opts.handshake_timeout, opts.request_timeout, opts.idle_timeout);
	if (r < 0) {
		log_error("%s", err ? err : strerror(-r));
		free(err);
		api_free(d.api);
		event_base_free(d.base);
		options_done(&opts);
		return EXIT_FAILURE;
	}
	d.ev_term = evsignal_new(d.base, SIGTERM, on_signal, &d);
	d.ev_int = evsignal_new(d.base, SIGINT, on_signal, &d);
	d.ev_shutdown = evtimer_new(d.base, on_shutdown_tick, &d);
	if (!d.ev_term || !d.ev_int || !d.ev_shutdown || evsignal_add(d.ev_term, NULL) < 0 ||
	    evsignal_add(d.ev_int, NULL) < 0) {
		log_error("cannot install signal handlers");
		return EXIT_FAILURE;
	}
	log_info("containd %s listening on %s (root %s, state %s)", CONTAIND_VERSION, opts.socket_path, opts.root,
		 opts.state);
	sd_notify(0, "READY=1");

	r = event_base_dispatch(d.base);

	server_free(d.server);
	api_free(d.api);
	event_free(d.ev_term);
	event_free(d.ev_int);
	event_free(d.ev_shutdown);
	event_base_free(d.base);
	options_done(&opts);
	log_info("containd stopped");
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
