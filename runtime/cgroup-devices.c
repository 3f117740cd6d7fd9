/* Container cgroups: which devices a container may create and open.
 *
 * Where the v1 devices controller is mounted (v1 and most hybrid hosts) it enforces the rules
 * through the container's devices.deny and devices.allow. Otherwise, on cgroup v2 (and on hybrid
 * hosts without it) a BPF device program attached to the container's v2 cgroup does. Every new
 * container cgroup gets Docker's default rules in cgroup_create(), ahead of the container's
 * start; cgroup_set_devices() replaces them for one container before it starts. The program of
 * the defaults is loaded once per manager and only attached per cgroup: loading runs the
 * verifier, attaching is cheap.
 *
 * Why a container cannot widen its own rules: on v1, writing devices.allow needs CAP_SYS_ADMIN
 * in the initial user namespace, and even then the kernel refuses an exception its parent
 * cgroup (the daemon's) does not have; on v2, detaching the program takes an fd of it, which a
 * container cannot get, and programs attached below ours can only refuse more (see
 * devices_bpf_attach()).
 * Rules only change through cgroup_set_devices(), before anything runs in the cgroup, and the
 * deny-all comes first, so a failure part way leaves fewer devices allowed, never more. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "runtime/cgroup-internal.h"
#include "runtime/devices.h"

int cgroup_devices_setup(struct cgroup_manager *m, char **reterr)
{
	int fd;

	m->devices = -1;
	m->devices_default_prog = -1;
	for (size_t i = 0; i < m->n_hier; i++)
		if ((m->hier[i].ctrl & CTRL_DEVICES) && !m->hier[i].v2)
			m->devices = (int)i;
	if (m->devices >= 0 && !cgroup_testing_devices_bpf) {
		m->devices_mode = DEVICES_V1;
		return 0;
	}
	if (m->v2 < 0) {
		/* A v1 host without the devices controller has nothing to enforce rules with; the
		 * kernel lets containers use what their capabilities and the nodes in their /dev
		 * allow. Refusing to run at all would help no one, so say it once. */
		m->devices_mode = DEVICES_NONE;
		log_warning("the devices cgroup controller is not mounted: device access of containers is not restricted");
		return 0;
	}
	/* Without the program containers would reach every device node they can create: a
	 * manager that cannot load it fails rather than run containers unrestricted. */
	fd = devices_bpf_load(devices_default_rules, devices_default_n, false, reterr);
	if (fd < 0)
		return fd;
	m->devices_default_prog = fd;
	m->devices_mode = DEVICES_BPF;
	return 0;
}

void cgroup_devices_release(struct cgroup_manager *m)
{
	m->devices_default_prog = safe_close(m->devices_default_prog);
}

/* Writes one rule to the open devices.allow fd; each write() is one rule to the kernel. A type
 * 'a' rule becomes a 'c' and a 'b' line: to the kernel, "a" means every device whatever follows. */
static int v1_allow(int fd, const struct device_rule *rule, const char *path, char **reterr)
{
	struct device_rule one = *rule;
	char line[DEVICE_RULE_STR_MAX];

	for (const char *t = rule->type == 'a' ? "cb" : (const char[]){ rule->type, '\0' }; *t; t++) {
		one.type = *t;
		devices_rule_format(&one, line, sizeof(line));
		ssize_t n = write(fd, line, strlen(line));
		if (n < 0 || (size_t)n != strlen(line))
			return err_set(reterr, n < 0 ? -errno : -EIO, "cannot write \"%s\" to %s/devices.allow: %m", line,
				       path);
	}
	return 0;
}

/* Sets the v1 devices cgroup to allow everything, or the defaults plus extra and nothing else.
 * "a" to devices.deny drops every exception and refuses by default, so the allow lines that
 * follow are the whole list; the cgroup has no children yet, which the kernel requires. The
 * allow lines go through one fd: a cgroup_create() on v1 pays one open for a dozen rules. */
static int v1_apply(struct container_cgroup *cg, const struct device_rule *extra, size_t n_extra, bool allow_all,
		    char **reterr)
{
	const struct hierarchy *h = &cg->m->hier[cg->m->devices];
	_cleanup_close_ int fd = -1;
	char rel[ID_MAX + 32], path[PATH_MAX];
	int r;

	if (!(cg->present & (1u << cg->m->devices)))
		return err_set(reterr, -ENOENT, "the devices cgroup of %s is gone", cg->id);
	if (allow_all)
		return cgroup_write(cg, h, "devices.allow", "a", false, reterr);
	if ((r = cgroup_write(cg, h, "devices.deny", "a", false, reterr)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s/devices.allow", cg->id);
	snprintf(path, sizeof(path), "%s/%s", h->path, cg->id);
	fd = openat(h->fd, rel, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open %s/devices.allow: %m", path);
	for (size_t i = 0; i < devices_default_n; i++)
		if ((r = v1_allow(fd, &devices_default_rules[i], path, reterr)) < 0)
			return r;
	for (size_t i = 0; i < n_extra; i++)
		if ((r = v1_allow(fd, &extra[i], path, reterr)) < 0)
			return r;
	return 0;
}

/* Attaches prog (-1: none, everything allowed) to the v2 cgroup in place of what is attached;
 * own says whether prog belongs to this container (and is closed with it). */
static int bpf_switch(struct container_cgroup *cg, int prog, bool own, char **reterr)
{
	_cleanup_close_ int owned = own ? prog : -1;
	int r;

	if (cg->v2fd < 0)
		return err_set(reterr, -ENOENT, "the cgroup v2 directory of %s is gone", cg->id);
	if (prog >= 0)
		r = devices_bpf_attach(cg->v2fd, prog, cg->devices_attached, reterr);
	else
		r = cg->devices_attached >= 0 ? devices_bpf_detach(cg->v2fd, cg->devices_attached, reterr) : 0;
	if (r < 0)
		return r;
	cg->devices_attached = prog;
	safe_close(cg->devices_prog);
	cg->devices_prog = TAKE_FD(owned);
	return 0;
}

int cgroup_devices_apply_default(struct container_cgroup *cg, char **reterr)
{
	int r = 0;

	switch (cg->m->devices_mode) {
	case DEVICES_V1:
		r = v1_apply(cg, NULL, 0, false, reterr);
		break;
	case DEVICES_BPF:
		r = bpf_switch(cg, cg->m->devices_default_prog, false, reterr);
		break;
	case DEVICES_NONE:
		break;
	}
	cg->devices_default = r == 0;
	return r;
}

int cgroup_set_devices(struct container_cgroup *cg, const struct device_rule *extra, size_t n_extra, bool allow_all,
		       char **reterr)
{
	_cleanup_free_ struct device_rule *all = NULL;
	int r, fd;

	if (n_extra > DEVICE_RULES_MAX)
		return err_set(reterr, -E2BIG, "too many device cgroup rules: %zu, at most %d", n_extra, DEVICE_RULES_MAX);
	for (size_t i = 0; i < n_extra; i++)
		if ((r = devices_rule_validate(&extra[i], reterr)) < 0)
			return r;
	allow_all = allow_all || devices_rules_allow_all(extra, n_extra);
	if (!allow_all && n_extra == 0) {
		if (cg->devices_default)
			return 0;
		return cgroup_devices_apply_default(cg, reterr);
	}
	/* From here on the defaults are no longer known to be in force, even if a step fails. */
	cg->devices_default = false;
	switch (cg->m->devices_mode) {
	case DEVICES_V1:
		return v1_apply(cg, extra, n_extra, allow_all, reterr);
	case DEVICES_BPF:
		if (allow_all)
			return bpf_switch(cg, -1, false, reterr);
		all = malloc((devices_default_n + n_extra) * sizeof(*all));
		if (!all)
			return err_set(reterr, -ENOMEM, "out of memory");
		memcpy(all, devices_default_rules, devices_default_n * sizeof(*all));
		memcpy(all + devices_default_n, extra, n_extra * sizeof(*all));
		fd = devices_bpf_load(all, devices_default_n + n_extra, false, reterr);
		if (fd < 0)
			return fd;
		return bpf_switch(cg, fd, true, reterr);
	case DEVICES_NONE:
		break;
	}
	return 0;
}

const char *cgroup_manager_devices(const struct cgroup_manager *m)
{
	static const char *const names[] = {
		[DEVICES_NONE] = "none",
		[DEVICES_V1] = "v1",
		[DEVICES_BPF] = "bpf",
	};
	return m ? names[m->devices_mode] : "none";
}
