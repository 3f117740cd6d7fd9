/* container.exec's domain side: a process started in a running container, watched like the
 * container's init (daemon/monitor.c) but reported to its starter through callbacks. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/container-exec.h"
#include "daemon/container-spec.h"
#include "daemon/filters.h"
#include "daemon/registry.h"
#include "runtime/caps.h"
#include "runtime/exec.h"

/* Longest command line kept for the exec's events (each event of the ring holds one). */
#define EXEC_COMMAND_MAX 1024

struct container_exec {
	struct registry *reg;
	struct container *ct; /* NULL once the container was freed */
	char id[65];
	char *command;
	struct pidref proc;
	int sync_fd, pty_master;
	struct event *ev_pid, *ev_sync;
	bool exec_reported; /* RT_REPORT_EXEC came */
	bool started;       /* the command was exec'd (ops->started was called) */
	int error_code;     /* RT_REPORT_ERROR's exit code, or 0 */
	char *error;
	const struct container_exec_ops *ops; /* NULL once detached */
	void *userdata;
	struct container_exec *prev, *next;
};

void container_exec_config_done(struct container_exec_config *cfg)
{
	strv_free(cfg->cmd);
	strv_free(cfg->env);
	free(cfg->workdir);
	free(cfg->user);
	memset(cfg, 0, sizeof(*cfg));
}

const char *container_exec_id(const struct container_exec *ex)
{
	return ex->id;
}

struct container *container_exec_container(const struct container_exec *ex)
{
	return ex->ct;
}

const char *container_exec_command(const struct container_exec *ex)
{
	return ex->command;
}

int container_exec_pty(const struct container_exec *ex)
{
	return ex->pty_master;
}

void container_exec_detach(struct container_exec *ex)
{
	ex->ops = NULL;
	ex->userdata = NULL;
}

static void exec_free(struct container_exec *ex)
{
	if (!ex)
		return;
	if (ex->reg) {
		if (ex->prev)
			ex->prev->next = ex->next;
		else
			ex->reg->execs = ex->next;
		if (ex->next)
			ex->next->prev = ex->prev;
		ex->reg->n_execs--;
	}
	if (ex->ev_pid)
		event_free(ex->ev_pid);
	if (ex->ev_sync)
		event_free(ex->ev_sync);
	pidref_done(&ex->proc);
	safe_close(ex->sync_fd);
	safe_close(ex->pty_master);
	free(ex->command);
	free(ex->error);
	free(ex);
}

/* The command as Docker's exec events show it: its words joined by spaces, cut at
 * EXEC_COMMAND_MAX bytes. */
static char *command_line(char *const *cmd)
{
	size_t len = 0;
	for (char *const *a = cmd; *a; a++)
		len += strlen(*a) + 1;
	if (len > EXEC_COMMAND_MAX)
		len = EXEC_COMMAND_MAX;
	char *s = calloc(1, len + 1), *p = s;
	for (char *const *a = cmd; s && *a && (size_t)(p - s) < len; a++)
		p += snprintf(p, len + 1 - (size_t)(p - s), "%s%s", a == cmd ? "" : " ", *a);
	return s;
}

/* The container's spec with the process cfg asks for: its command, the container's environment
 * with cfg's entries over it (and TERM with a terminal, as run does), its working directory and
 * user unless cfg names others, every capability for a privileged exec. The rlimits, seccomp
 * profile, no_new_privs and namespaces stay the container's. The copy goes through the spec's
 * JSON form, which is also what the exec process parses. */
static int exec_spec(const struct container *ct, struct container_exec_config *cfg, struct rt_spec *ret,
		     char **reterr)
{
	json_auto_t *doc = spec_to_json(&ct->spec);
	if (!doc)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = spec_from_json(doc, ret, reterr);
	if (r < 0)
		return r;
	struct rt_process *p = &ret->process;
	size_t n = 0;
	while (p->env && p->env[n])
		n++;
	for (char **e = cfg->env; r == 0 && e && *e; e++)
		r = container_spec_env_set(&p->env, &n, *e);
	if (r == 0 && cfg->stdio == CONTAINER_STDIO_PTY)
		r = spec_env_default(ret, "TERM=xterm");
	if (r < 0) {
		spec_done(ret);
		return err_set(reterr, r, "out of memory");
	}
	strv_free(p->args);
	p->args = TAKE_PTR(cfg->cmd);
	if (cfg->workdir) {
		free(p->cwd);
		p->cwd = TAKE_PTR(cfg->workdir);
	}
	if (cfg->user) {
		free(p->user);
		p->user = TAKE_PTR(cfg->user);
	}
	p->terminal = cfg->stdio == CONTAINER_STDIO_PTY;
	p->console_rows = p->terminal ? cfg->tty_rows : 0;
	p->console_cols = p->terminal ? cfg->tty_cols : 0;
	if (cfg->privileged) {
		uint64_t all = caps_all();
		p->caps = (struct rt_caps){ .bounding = all, .effective = all, .permitted = all };
	}
	return 0;
}

/* Reads the exec process's reports until EOF, as the monitor does for an init; EOF after the
 * EXEC report and no error means its command runs. */
static void exec_drain(struct container_exec *ex)
{
	for (;;) {
		struct rt_report rep;
		int fd;
		int r = rt_init_read_report(ex->sync_fd, &rep, &fd);
		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r == 1) {
			if (rep.type == RT_REPORT_EXEC) {
				ex->exec_reported = true;
			} else if (rep.type == RT_REPORT_PTY) {
				safe_close(ex->pty_master);
				ex->pty_master = fd;
			} else if (rep.type == RT_REPORT_ERROR && !ex->error) {
				ex->error = strdup(rep.message);
				ex->error_code = rep.exit_code;
			}
			continue;
		}
		if (r < 0)
			log_errno(LOG_LEVEL_WARNING, r, "exec %.12s: bad report from its process: %m", ex->id);
		event_free(TAKE_PTR(ex->ev_sync));
		ex->sync_fd = safe_close(ex->sync_fd);
		if (ex->exec_reported && !ex->error_code) {
			ex->started = true;
			if (ex->ops)
				ex->ops->started(ex, ex->userdata);
		}
		return;
	}
}

static void exec_on_sync(evutil_socket_t fd, short what, void *arg)
{
	exec_drain(arg);
}

/* Its exit: reaped without waiting (the pidfd said so), reported, and the exec is freed. */
static void exec_on_exit(evutil_socket_t fd, short what, void *arg)
{
	struct container_exec *ex = arg;
	siginfo_t si;
	int sig = 0, code;

	if (ex->sync_fd >= 0)
		exec_drain(ex);
	int r = pidref_try_wait(&ex->proc, &si);
	if (r == 0)
		return;
	code = r < 0 ? 255 : pidref_exit_code(&si, &sig);
	log_debug("exec %.12s exited with %d", ex->id, code);
	if (ex->ops && !ex->started)
		ex->ops->start_failed(ex, ex->error_code ? ex->error_code : 125,
				      ex->error ? ex->error : "the exec process died while starting", ex->userdata);
	else if (ex->ops)
		ex->ops->exited(ex, code, ex->userdata);
	exec_free(ex);
}

/* Why an exec into ct cannot start now: Docker's words, with the id for a container that is not
 * running and the name the client used for a paused one. */
static int exec_check(struct container *ct, const char *ref, char **reterr)
{
	if (ct->state != CONTAINER_RUNNING || ct->removing || ct->remove_pending || !pidref_is_set(&ct->proc))
		return err_set(reterr, -ESRCH, "container %s is not running", ct->id);
	if (ct->paused)
		return err_set(reterr, -EBUSY, "container %s is paused, unpause the container before exec", ref);
	unsigned n = 0;
	for (struct container_exec *e = ct->reg->execs; e; e = e->next)
		n += e->ct == ct;
	if (n >= CONTAINER_MAX_EXECS)
		return err_set(reterr, -EUSERS, "too many processes started in container %s (at most %d at once)", ref,
			       CONTAINER_MAX_EXECS);
	if (ct->reg->n_execs >= REGISTRY_MAX_EXECS)
		return err_set(reterr, -EUSERS, "too many exec processes (at most %d at once)", REGISTRY_MAX_EXECS);
	return 0;
}

int container_exec_start(struct container *ct, const char *ref, struct container_exec_config *cfg, int stdio_fds[3],
			 const struct container_exec_ops *ops, void *userdata, struct container_exec **ret,
			 char **reterr)
{
	struct registry *reg = ct->reg;
	struct rt_spec spec = { 0 };
	struct rt_init init = { .proc = PIDREF_NULL, .sync_fd = -1, .mntns_fd = -1 };
	struct container_exec *ex = NULL;
	int r;

	if ((r = exec_check(ct, ref, reterr)) < 0)
		goto out;
	ex = calloc(1, sizeof(*ex));
	if (!ex || random_hex(ex->id, 32) < 0 || !(ex->command = command_line(cfg->cmd))) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	ex->proc = PIDREF_NULL;
	ex->sync_fd = ex->pty_master = -1;
	if ((r = exec_spec(ct, cfg, &spec, reterr)) < 0)
		goto out;
	struct rt_start_fds fds = { .stdio = { stdio_fds[0], stdio_fds[1], stdio_fds[2] }, .seccomp_fd = -1 };
	if (spec.seccomp.mode != RT_SECCOMP_UNCONFINED &&
	    (r = filters_get(reg->filters, spec.seccomp.mode == RT_SECCOMP_CUSTOM ? spec.seccomp.profile_json : NULL,
			     ct->spec.process.caps.bounding, &fds.seccomp_fd, reterr)) < 0)
		goto out;
	const struct rt_exec_opts opts = { .exe_fd = reg->exe_fd, .cg = ct->cg, .target = &ct->proc };
	if ((r = rt_exec_prepare(&opts, &init, reterr)) < 0) {
		if (r == -ESRCH)
			r = err_set(reterr, -ESRCH, "container %s is not running", ct->id);
		goto out;
	}
	if ((r = rt_exec_start(&init, &ct->proc, &spec, &fds, reterr)) < 0)
		goto out;
	ex->ev_pid = event_new(reg->base, init.proc.pidfd, EV_READ | EV_PERSIST, exec_on_exit, ex);
	ex->ev_sync = event_new(reg->base, init.sync_fd, EV_READ | EV_PERSIST, exec_on_sync, ex);
	if (!ex->ev_pid || !ex->ev_sync || event_add(ex->ev_pid, NULL) < 0 || event_add(ex->ev_sync, NULL) < 0) {
		r = err_set(reterr, -ENOMEM, "cannot watch the exec process");
		goto out;
	}
	ex->proc = init.proc;
	ex->sync_fd = init.sync_fd;
	init = (struct rt_init){ .proc = PIDREF_NULL, .sync_fd = -1, .mntns_fd = -1 };
	ex->reg = reg;
	ex->ct = ct;
	ex->ops = ops;
	ex->userdata = userdata;
	ex->next = reg->execs;
	if (reg->execs)
		reg->execs->prev = ex;
	reg->execs = ex;
	reg->n_execs++;
	log_debug("exec %.12s in container %.12s started as pid %d", ex->id, ct->id, (int)ex->proc.pid);
	*ret = TAKE_PTR(ex);
	r = 0;
out:
	/* A process that took nothing of the container yet dies at once: the short wait is safe. */
	exec_free(ex);
	rt_init_discard(&init);
	spec_done(&spec);
	container_exec_config_done(cfg);
	for (int i = 0; i < 3; i++)
		stdio_fds[i] = safe_close(stdio_fds[i]);
	return r;
}

void container_exec_forget(struct container *ct)
{
	for (struct container_exec *e = ct->reg->execs; e; e = e->next)
		if (e->ct == ct)
			e->ct = NULL;
}

void container_exec_free_all(struct registry *reg)
{
	while (reg->execs) {
		struct container_exec *ex = reg->execs;
		(void)pidref_kill(&ex->proc, SIGKILL);
		exec_free(ex);
	}
}
