/* containd: parses options, sets up logging and the event loop, and runs until SIGTERM/SIGINT. */
#include <errno.h>
#include <event2/event.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "daemon/api.h"
#include "daemon/options.h"
#include "daemon/server.h"

/* How long a clean shutdown may wait for containers to die and replies to drain. */
#define SHUTDOWN_TIMEOUT_MS 10000

struct daemon {
	struct event_base *base;
	struct api *api;
	struct server *server;
	struct event *ev_term, *ev_int, *ev_shutdown;
	unsigned shutdown_ticks;
	bool stopping;
};

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	bool done = api_shutdown(d->api);
	if (done || ++d->shutdown_ticks * 10 >= SHUTDOWN_TIMEOUT_MS) {
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
	log_info("received %s, shutting down", strsignal((int)sig));
	sd_notify(0, "STOPPING=1");
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

	d.base = event_base_new();
	if (!d.base) {
		log_error("cannot create the event loop");
		return EXIT_FAILURE;
	}
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
