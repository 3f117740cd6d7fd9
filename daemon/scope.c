#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/options.h"
#include "daemon/scope.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

bool scope_wanted(void)
{
	struct statfs sfs;
	return getenv("INVOCATION_ID") && sd_booted() > 0 && statfs("/sys/fs/cgroup", &sfs) == 0 &&
	       sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* The v2 cgroup of a process ("0::PATH" of /proc/PID/cgroup). */
static int cgroup_of(pid_t pid, char **ret)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	int r = read_file(path, 1 << 20, &text, NULL);
	if (r < 0)
		return r;
	for (char *line = text, *next; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		if (str_startswith(line, "0::"))
			return (*ret = strdup(line + 3)) ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

/* containd-containers.scope for the default --state; another state directory (a second daemon)
 * gets a name of its own. */
static void scope_name(const char *state, char *buf, size_t size)
{
	if (strcmp(state, DAEMON_DEFAULT_STATE) == 0) {
		snprintf(buf, size, "containd-containers.scope");
		return;
	}
	uint32_t h = 2166136261u; /* FNV-1a: a short, stable tag, not a security property */
	for (const char *p = state; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(buf, size, "containd-containers-%08x.scope", h);
}

int scope_adopt(pid_t keeper, const char *state, char **reterr)
{
	_cleanup_free_ char *kcg = NULL, *own = NULL, *unit = NULL, *slice = NULL;
	int r;
	if ((r = cgroup_of(keeper, &kcg)) < 0 || (r = cgroup_of(getpid(), &own)) < 0)
		return err_set(reterr, r, "cannot read the cgroups of containd and containd-keeper: %m");
	size_t n = strlen(own);
	bool with_us = strncmp(kcg, own, n) == 0 && (kcg[n] == '\0' || kcg[n] == '/');
	if (!with_us)
		return 0; /* an earlier daemon placed it */
	char name[64];
	scope_name(state, name, sizeof(name));
	if (sd_pid_get_unit(0, &unit) < 0 || sd_pid_get_slice(0, &slice) < 0)
		return err_set(reterr, -ENOENT, "cannot tell which systemd unit containd runs in");

	sd_bus *bus = NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
						   "org.freedesktop.systemd1.Manager", "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", name, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s",
					  "containd containers, supervised by containd-keeper", "PIDs", "au", 1,
					  (uint32_t)keeper, "Delegate", "b", 1, "Slice", "s", slice, "Before", "as", 1, unit,
					  "CollectMode", "s", "inactive-or-failed");
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call(bus, m, 10 * 1000000, &error, &reply);
	if (r < 0) {
		r = err_set(reterr, r, "cannot create %s for the containers: %s", name,
			    error.message ? error.message : strerror(-r));
		goto out;
	}
	/* The job moves the keeper; wait for it (systemd does so at once). */
	for (int i = 0; i < 500; i++) {
		free(kcg);
		kcg = NULL;
		if (cgroup_of(keeper, &kcg) == 0 && strstr(kcg, name))
			break;
		usleep(10000);
	}
	if (!kcg || !strstr(kcg, name)) {
		r = err_set(reterr, -ETIMEDOUT, "containd-keeper did not move into %s", name);
		goto out;
	}
	log_info("containers live in %s (%s)", name, kcg);
	r = 0;
out:
	sd_bus_error_free(&error);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
}
