/* cctl run's and create's options: the usage text, the flags table and each flag turned into
 * struct proto_run_params (the security flags in run-security.c, the ports in run-ports.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mount-parse.h"
#include "client/opts.h"
#include "client/run-ports.h"
#include "client/run-security.h"
#include "client/run.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"
#include "common/strv.h"
#include "protocol/messages.h"

static void usage(const char *verb)
{
	if (strcmp(verb, "create") == 0)
		fputs("Usage:  cctl create [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
		      "\n"
		      "Create a new container (cctl start starts it)\n",
		      stdout);
	else
		fputs("Usage:  cctl run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
		      "\n"
		      "Create and run a new container from an image\n",
		      stdout);
	fputs("\n"
	      "Options:\n"
	      "      --cap-add CAP                Add a Linux capability (repeatable; ALL for every one)\n"
	      "      --cap-drop CAP               Drop a Linux capability (repeatable; ALL for every one)\n"
	      "      --add-host HOST:IP           Add a line to /etc/hosts (IP \"host-gateway\": the network's\n"
	      "                                   gateway; repeatable)\n"
	      "      --cpus DECIMAL               Number of CPUs (0: no limit)\n",
	      stdout);
	if (strcmp(verb, "run") == 0)
		fputs("  -d, --detach                     Run container in background and print container ID\n", stdout);
	fputs("      --device-cgroup-rule RULE    Allow a device, e.g. 'c 10:200 rwm' (repeatable)\n"
	      "      --dns IP                     Set a DNS server (repeatable)\n"
	      "      --dns-option OPT             Set a DNS option (repeatable)\n"
	      "      --dns-search DOMAIN          Set a DNS search domain (repeatable; \".\": none)\n"
	      "      --entrypoint CMD             Overwrite the default ENTRYPOINT of the image (\"\": none)\n"
	      "  -e, --env KEY=VALUE              Set environment variables (KEY alone: take it from cctl's)\n"
	      "      --expose PORT[-PORT][/PROTO] Expose a port or a range of ports (published by -P)\n"
	      "  -h, --hostname NAME              Container host name\n"
	      "      --ip ADDRESS                 IPv4 address on a user-defined network\n"
	      "      --init                       Run an init inside the container that forwards signals\n"
	      "                                   and reaps processes\n"
	      "  -i, --interactive                Keep STDIN open and attached\n"
	      "      --cgroupns host|private      Cgroup namespace to use (default \"private\")\n"
	      "      --ipc MODE                   IPC mode: private (default), shareable, host, none,\n"
	      "                                   container:NAME (a shareable one)\n"
	      "  -l, --label KEY[=VALUE]          Set meta data on a container (repeatable)\n"
	      "      --log-driver NAME            Logging driver of a detached container: file, journald,\n"
	      "                                   none (default: the daemon's)\n"
	      "      --log-opt KEY=VALUE          Log driver options: max-size=SIZE, max-file=N (repeatable)\n"
	      "      --pull string                Pull image before running (\"always\", \"missing\", \"never\")\n"
	      "                                   (default \"missing\")\n"
	      "  -m, --memory SIZE                Memory limit (e.g. 512k, 64m, 1g; 0: no limit)\n"
	      "      --name NAME                  Assign a name to the container\n"
	      "      --network-alias NAME         Add a network-scoped alias (user-defined networks; repeatable)\n"
	      "      --network, --net NETWORK     Connect a container to a network: none, host,\n"
	      "                                   container:NAME (its network, hostname and /etc files)\n"
	      "      --pid host|container:NAME    PID namespace to use (default: its own)\n"
	      "      --pids-limit N               Tune container pids limit (-1 for unlimited)\n"
	      "      --privileged                 Give extended privileges to this container\n"
	      "  -p, --publish [IP:][HOST:]CTR[/PROTO]  Publish a container's port(s) to the host (repeatable;\n"
	      "                                   ranges such as 8000-8001:80-81; no HOST: a random port)\n"
	      "  -P, --publish-all                Publish all exposed ports to random ports\n"
	      "      --restart POLICY             Restart policy when the container exits: no, on-failure[:N],\n"
	      "                                   always, unless-stopped (default \"no\")\n"
	      "      --rm                         Automatically remove the container when it exits\n"
	      "      --security-opt OPT           Security options: no-new-privileges[=true|false],\n"
	      "                                   seccomp=unconfined, seccomp=PROFILE.json (read by cctl),\n"
	      "                                   systempaths=unconfined\n"
	      "      --stop-signal SIGNAL         Signal to stop the container (default: the image's, or TERM)\n"
	      "  -t, --tty                        Allocate a pseudo-TTY\n"
	      "      --ulimit NAME=SOFT[:HARD]    Ulimit options, e.g. nofile=1024:2048 (-1: unlimited)\n"
	      "  -u, --user UID[:GID]             Numeric user and group to run as\n"
	      "      --uts host                   UTS namespace to use (default: its own)\n"
	      "      --userns host|auto           User namespace to use (default: the daemon's)\n"
	      "  -v, --volume [SRC:]DST[:OPTS]    Bind a host path (SRC absolute) or mount a volume (SRC a name,\n"
	      "                                   none: anonymous); OPTS: ro, rw, nocopy, z/Z (ignored)\n"
	      "      --mount type=bind|volume|tmpfs,source=,target=[,readonly][,volume-nocopy]\n"
	      "                                   [,tmpfs-size=SIZE][,tmpfs-mode=OCTAL]  Attach a mount\n"
	      "      --tmpfs PATH[:size=SIZE,mode=OCTAL,ro,exec]  Mount a tmpfs (nosuid, nodev, noexec)\n"
	      "      --read-only                  Mount the container's root filesystem as read only\n"
	      "      --volumes-from CTR[:ro|rw]   Mount the volumes and binds of another container\n"
	      "  -w, --workdir DIR                Working directory inside the container\n"
	      "      --help                       Print usage\n"
	      "\n"
	      "Boolean flags take =true or =false (--rm=false); short flags combine (-dit).\n",
	      stdout);
}

/* Appends one --label KEY[=VALUE] (KEY alone: an empty value, as docker). A key given twice keeps
 * its last value: the wire object has one entry per key. */
static int run_add_label(struct run *run, const char *arg, char **reterr)
{
	_cleanup_free_ char *key = strndup(arg, strcspn(arg, "=")), *entry = NULL;
	_cleanup_free_ char *why = NULL;
	const char *eq = strchr(arg, '=');

	if (!key)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (proto_label_check(key, eq ? eq + 1 : "", &why) < 0)
		return opts_usage_error(reterr, run->verb, "invalid argument \"%s\" for \"-l, --label\" flag: %s", arg, why);
	if (asprintf(&entry, "%s=%s", key, eq ? eq + 1 : "") < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	size_t n = 0;
	while (run->labels && run->labels[n])
		n++;
	if (n >= PROTO_MAX_LABELS)
		return opts_usage_error(reterr, run->verb, "too many labels (at most %d)", PROTO_MAX_LABELS);
	char **nv = reallocarray(run->labels, n + 2, sizeof(char *));
	if (!nv)
		return err_set(reterr, -ENOMEM, "out of memory");
	nv[n] = TAKE_PTR(entry);
	nv[n + 1] = NULL;
	run->labels = nv;
	return 0;
}

enum {
	ARG_INTERACTIVE = 1,
	ARG_LABEL,
	ARG_TTY,
	ARG_DETACH,
	ARG_RM,
	ARG_INIT,
	ARG_NAME,
	ARG_HOSTNAME,
	ARG_ENV,
	ARG_WORKDIR,
	ARG_USER,
	ARG_MEMORY,
	ARG_PIDS,
	ARG_CPUS,
	ARG_PRIVILEGED,
	ARG_CAP_ADD,
	ARG_CAP_DROP,
	ARG_SECURITY_OPT,
	ARG_ULIMIT,
	ARG_USERNS,
	ARG_DEVICE_CGROUP_RULE,
	ARG_ENTRYPOINT,
	ARG_RESTART,
	ARG_STOP_SIGNAL,
	ARG_LOG_DRIVER,
	ARG_LOG_OPT,
	ARG_VOLUME,
	ARG_MOUNT,
	ARG_TMPFS,
	ARG_READ_ONLY,
	ARG_VOLUMES_FROM,
	ARG_PULL,
	ARG_NETWORK,
	ARG_PID,
	ARG_IPC,
	ARG_UTS,
	ARG_CGROUPNS,
	ARG_PUBLISH,
	ARG_PUBLISH_ALL,
	ARG_EXPOSE,
	ARG_HELP,
	ARG_NETWORK_ALIAS,
	ARG_IP,
	ARG_ADD_HOST,
	ARG_DNS,
	ARG_DNS_SEARCH,
	ARG_DNS_OPTION,
};

static const struct opt run_options[] = {
	{ ARG_INTERACTIVE, 'i', "interactive", OPT_FLAG },
	{ ARG_TTY, 't', "tty", OPT_FLAG },
	{ ARG_DETACH, 'd', "detach", OPT_FLAG },
	{ ARG_RM, 0, "rm", OPT_FLAG },
	{ ARG_INIT, 0, "init", OPT_FLAG },
	{ ARG_NAME, 0, "name", OPT_VALUE },
	{ ARG_HOSTNAME, 'h', "hostname", OPT_VALUE },
	{ ARG_ENV, 'e', "env", OPT_VALUE },
	{ ARG_LABEL, 'l', "label", OPT_VALUE },
	{ ARG_WORKDIR, 'w', "workdir", OPT_VALUE },
	{ ARG_USER, 'u', "user", OPT_VALUE },
	{ ARG_MEMORY, 'm', "memory", OPT_VALUE },
	{ ARG_PIDS, 0, "pids-limit", OPT_VALUE },
	{ ARG_CPUS, 0, "cpus", OPT_VALUE },
	{ ARG_PRIVILEGED, 0, "privileged", OPT_FLAG },
	{ ARG_CAP_ADD, 0, "cap-add", OPT_VALUE },
	{ ARG_CAP_DROP, 0, "cap-drop", OPT_VALUE },
	{ ARG_SECURITY_OPT, 0, "security-opt", OPT_VALUE },
	{ ARG_ULIMIT, 0, "ulimit", OPT_VALUE },
	{ ARG_USERNS, 0, "userns", OPT_VALUE },
	{ ARG_DEVICE_CGROUP_RULE, 0, "device-cgroup-rule", OPT_VALUE },
	{ ARG_ENTRYPOINT, 0, "entrypoint", OPT_VALUE },
	{ ARG_RESTART, 0, "restart", OPT_VALUE },
	{ ARG_STOP_SIGNAL, 0, "stop-signal", OPT_VALUE },
	{ ARG_LOG_DRIVER, 0, "log-driver", OPT_VALUE },
	{ ARG_LOG_OPT, 0, "log-opt", OPT_VALUE },
	{ ARG_VOLUME, 'v', "volume", OPT_VALUE },
	{ ARG_MOUNT, 0, "mount", OPT_VALUE },
	{ ARG_TMPFS, 0, "tmpfs", OPT_VALUE },
	{ ARG_READ_ONLY, 0, "read-only", OPT_FLAG },
	{ ARG_VOLUMES_FROM, 0, "volumes-from", OPT_VALUE },
	{ ARG_PULL, 0, "pull", OPT_VALUE },
	{ ARG_NETWORK, 0, "network", OPT_VALUE },
	{ ARG_NETWORK, 0, "net", OPT_VALUE },
	{ ARG_PID, 0, "pid", OPT_VALUE },
	{ ARG_IPC, 0, "ipc", OPT_VALUE },
	{ ARG_UTS, 0, "uts", OPT_VALUE },
	{ ARG_CGROUPNS, 0, "cgroupns", OPT_VALUE },
	{ ARG_PUBLISH, 'p', "publish", OPT_VALUE },
	{ ARG_PUBLISH_ALL, 'P', "publish-all", OPT_FLAG },
	{ ARG_EXPOSE, 0, "expose", OPT_VALUE },
	{ ARG_HELP, 0, "help", OPT_FLAG },
	{ ARG_NETWORK_ALIAS, 0, "network-alias", OPT_VALUE },
	{ ARG_IP, 0, "ip", OPT_VALUE },
	{ ARG_ADD_HOST, 0, "add-host", OPT_VALUE },
	{ ARG_DNS, 0, "dns", OPT_VALUE },
	{ ARG_DNS_SEARCH, 0, "dns-search", OPT_VALUE },
	{ ARG_DNS_OPTION, 0, "dns-option", OPT_VALUE },
	{}
};

/* Appends one --log-opt KEY=VALUE; the daemon checks the keys its driver takes. */
static int run_add_log_opt(struct run *run, struct opts *o, char **reterr)
{
	const char *eq = strchr(o->arg, '=');
	if (!eq || eq == o->arg)
		return opts_invalid_argument(o, reterr, "expected KEY=VALUE such as max-size=10m");
	size_t n = 0;
	while (run->log_opts && run->log_opts[n])
		n++;
	if (n >= PROTO_MAX_LOG_OPTS)
		return opts_usage_error(reterr, run->verb, "too many log options (at most %d)", PROTO_MAX_LOG_OPTS);
	char **nv = reallocarray(run->log_opts, n + 2, sizeof(char *));
	if (!nv)
		return err_set(reterr, -ENOMEM, "out of memory");
	run->log_opts = nv;
	nv[n] = strdup(o->arg);
	nv[n + 1] = NULL;
	return nv[n] ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

/* Appends one -v, --mount or --tmpfs; Docker's "Duplicate mount point" for a target given twice. */
static int run_add_mount(struct run *run, struct opts *o, int key, char **reterr)
{
	_cleanup_free_ char *why = NULL;
	struct proto_mount m;
	int r = key == ARG_VOLUME  ? mount_parse_volume(o->arg, &m, &why)
		: key == ARG_MOUNT ? mount_parse_mount(o->arg, &m, &why)
				   : mount_parse_tmpfs(o->arg, &m, &why);
	if (r == -ENOMEM)
		return err_set(reterr, r, "out of memory");
	if (r < 0)
		return opts_invalid_argument(o, reterr, "%s", why);
	for (size_t i = 0; i < run->n_mounts; i++)
		if (strcmp(run->mounts[i].target, m.target) == 0) {
			r = opts_usage_error(reterr, run->verb, "Duplicate mount point: %s", m.target);
			proto_mount_done(&m);
			return r;
		}
	struct proto_mount *nm = run->n_mounts < PROTO_MAX_MOUNTS
					 ? reallocarray(run->mounts, run->n_mounts + 1, sizeof(*nm))
					 : NULL;
	if (!nm) {
		proto_mount_done(&m);
		return run->n_mounts < PROTO_MAX_MOUNTS
			       ? err_set(reterr, -ENOMEM, "out of memory")
			       : opts_usage_error(reterr, run->verb, "too many mounts (at most %d)", PROTO_MAX_MOUNTS);
	}
	run->mounts = nm;
	run->mounts[run->n_mounts++] = m;
	return 0;
}

/* Appends one --volumes-from CONTAINER[:ro|rw]. */
static int run_add_volumes_from(struct run *run, struct opts *o, char **reterr)
{
	const char *colon = strchr(o->arg, ':');
	if (!o->arg[0] || colon == o->arg || (colon && strcmp(colon, ":ro") != 0 && strcmp(colon, ":rw") != 0))
		return opts_invalid_argument(o, reterr, "expected CONTAINER[:ro|rw]");
	size_t n = 0;
	while (run->volumes_from && run->volumes_from[n])
		n++;
	if (n >= PROTO_MAX_MOUNTS)
		return opts_usage_error(reterr, run->verb, "too many --volumes-from (at most %d)", PROTO_MAX_MOUNTS);
	char **nv = reallocarray(run->volumes_from, n + 2, sizeof(char *));
	if (!nv)
		return err_set(reterr, -ENOMEM, "out of memory");
	run->volumes_from = nv;
	nv[n] = strdup(o->arg);
	nv[n + 1] = NULL;
	return nv[n] ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

/* "0", "0.0", "0.000": --cpus 0 means no limit, as with docker. */
static bool run_is_zero(const char *s)
{
	if (*s != '0')
		return false;
	s += strspn(s, "0");
	if (*s == '.' && s[1])
		s += 1 + strspn(s + 1, "0");
	return *s == '\0';
}

/* Handles the option o's parser just returned (key). Returns 1 when --help was printed. */
static int run_option(struct run *run, struct opts *o, int key, char **reterr)
{
	struct proto_run_params *p = &run->p;
	const char *arg = o->arg;

	switch (key) {
	case ARG_INTERACTIVE:
		p->interactive = o->flag;
		return 0;
	case ARG_TTY:
		run->tty = o->flag;
		return 0;
	case ARG_DETACH:
		run->detach = o->flag;
		return 0;
	case ARG_RM:
		p->rm = o->flag;
		return 0;
	case ARG_INIT:
		p->init = o->flag;
		return 0;
	case ARG_PRIVILEGED:
		p->privileged = o->flag;
		return 0;
	case ARG_NAME:
	case ARG_HOSTNAME:
		if (!*arg)
			return opts_invalid_argument(o, reterr, "must not be empty");
		*(key == ARG_NAME ? &p->name : &p->hostname) = (char *)arg;
		return 0;
	case ARG_ENV:
		return opts_env_add(&run->env, run->verb, arg, reterr);
	case ARG_LABEL:
		return run_add_label(run, arg, reterr);
	case ARG_WORKDIR:
		if (arg[0] != '/')
			return opts_usage_error(reterr, run->verb, "the working directory '%s' is invalid, "
						"it needs to be an absolute path", arg);
		p->workdir = (char *)arg;
		return 0;
	case ARG_USER:
		if (!user_spec_valid(arg))
			return opts_invalid_argument(o, reterr, "expected NAME|UID[:GROUP|GID]");
		p->user = (char *)arg;
		return 0;
	case ARG_MEMORY:
		/* 0 means no limit, as with docker. */
		if (parse_size(arg, &p->memory) < 0)
			return opts_invalid_argument(o, reterr, "expected a size such as 512k, 64m or 1g");
		return 0;
	case ARG_PIDS: {
		char *end;
		errno = 0;
		long long v = strtoll(arg, &end, 10);
		if (errno || end == arg || *end || v < -1 || v > INT32_MAX)
			return opts_invalid_argument(o, reterr, "expected an integer from -1 to %d", INT32_MAX);
		p->pids_limit = v < 0 ? 0 : v;
		return 0;
	}
	case ARG_CPUS:
		if (run_is_zero(arg))
			p->cpus_milli = 0;
		else if (parse_cpus(arg, &p->cpus_milli) < 0)
			return opts_invalid_argument(o, reterr, "expected a number of CPUs such as 0.5 or 2");
		return 0;
	case ARG_CAP_ADD:
	case ARG_CAP_DROP:
		if (!*arg)
			return opts_invalid_argument(o, reterr, "expected a capability name");
		return run_security_push(key == ARG_CAP_ADD ? &run->sec.cap_add : &run->sec.cap_drop, (char *)arg,
					 reterr);
	case ARG_DEVICE_CGROUP_RULE:
		if (!*arg)
			return opts_invalid_argument(o, reterr, "expected a rule such as 'c 10:200 rwm'");
		return run_security_push(&run->sec.device_cgroup_rules, (char *)arg, reterr);
	case ARG_SECURITY_OPT:
		return run_security_opt(&run->sec, p, arg, reterr);
	case ARG_ULIMIT:
		return run_security_ulimit(&run->sec, arg, reterr);
	case ARG_USERNS:
		if (strcmp(arg, "host") == 0)
			p->userns = PROTO_USERNS_HOST;
		else if (strcmp(arg, "auto") == 0)
			p->userns = PROTO_USERNS_AUTO;
		else
			return opts_invalid_argument(o, reterr, "expected \"host\" or \"auto\"");
		return 0;
	case ARG_ENTRYPOINT:
		/* Docker's --entrypoint is one word, not split: "" means none at all. */
		strv_free(run->entrypoint);
		run->entrypoint = calloc(2, sizeof(char *));
		if (!run->entrypoint || (*arg && !(run->entrypoint[0] = strdup(arg))))
			return err_set(reterr, -ENOMEM, "out of memory");
		p->entrypoint_set = true;
		return 0;
	case ARG_RESTART: {
		_cleanup_free_ char *why = NULL;
		if (proto_restart_parse(arg, &p->restart, &p->restart_max, &why) < 0)
			return opts_usage_error(reterr, run->verb, "%s", why);
		return 0;
	}
	case ARG_STOP_SIGNAL: {
		int sig;
		if (parse_signal(arg, &sig) < 0 || sig <= 0)
			return opts_invalid_argument(o, reterr, "unknown signal");
		p->stop_signal = (char *)arg;
		return 0;
	}
	case ARG_LOG_DRIVER:
		if (!*arg)
			return opts_invalid_argument(o, reterr, "must not be empty");
		p->log_driver = (char *)arg;
		return 0;
	case ARG_NETWORK:
	case ARG_PID:
	case ARG_IPC:
	case ARG_UTS:
	case ARG_CGROUPNS:
		/* The daemon checks the values (Docker's messages): only it knows networks and
		 * containers. */
		*(key == ARG_NETWORK ? &p->network
		  : key == ARG_PID   ? &p->pid_mode
		  : key == ARG_IPC   ? &p->ipc_mode
		  : key == ARG_UTS   ? &p->uts_mode
				     : &p->cgroupns_mode) = (char *)arg;
		return 0;
	case ARG_LOG_OPT:
		return run_add_log_opt(run, o, reterr);
	case ARG_VOLUME:
	case ARG_MOUNT:
	case ARG_TMPFS:
		return run_add_mount(run, o, key, reterr);
	case ARG_READ_ONLY:
		p->read_only = o->flag;
		return 0;
	case ARG_VOLUMES_FROM:
		return run_add_volumes_from(run, o, reterr);
	case ARG_IP:
		if (!*arg)
			return opts_invalid_argument(o, reterr, "expected an IPv4 address");
		p->ip = (char *)arg;
		return 0;
	case ARG_NETWORK_ALIAS:
	case ARG_ADD_HOST:
	case ARG_DNS:
	case ARG_DNS_SEARCH:
	case ARG_DNS_OPTION: {
		/* The daemon checks each (docs/networking.md); a count past its limit is refused there. */
		char ***v = key == ARG_NETWORK_ALIAS ? &p->network_aliases
			    : key == ARG_ADD_HOST    ? &p->extra_hosts
			    : key == ARG_DNS	     ? &p->dns
			    : key == ARG_DNS_SEARCH  ? &p->dns_search
						     : &p->dns_options;
		if (!*arg)
			return opts_invalid_argument(o, reterr, "must not be empty");
		return run_security_push(v, (char *)arg, reterr);
	}
	case ARG_PULL:
		if (strcmp(arg, "missing") != 0 && strcmp(arg, "always") != 0 && strcmp(arg, "never") != 0)
			return opts_invalid_argument(o, reterr, "expected \"missing\", \"always\" or \"never\"");
		run->pull = arg;
		return 0;
	case ARG_PUBLISH:
		return run_ports_publish(&run->ports, arg, reterr);
	case ARG_PUBLISH_ALL:
		run->ports.publish_all = o->flag;
		return 0;
	case ARG_EXPOSE:
		return run_ports_expose(&run->ports, arg, reterr);
	case ARG_HELP:
		if (!o->flag)
			return 0;
		usage(run->verb);
		return 1;
	}
	return opts_usage_error(reterr, run->verb, "unhandled option %d", key);
}

static bool p_rm_restart_conflict(const struct proto_run_params *p)
{
	return p->rm && p->restart != PROTO_RESTART_NO;
}

/* Parses options up to the image (the command's own options stay its own). Returns 1 when
 * --help was printed. */
int run_parse(struct run *run, const char *verb, int argc, char **argv, char **reterr)
{
	_cleanup_(opts_done) struct opts o;
	int key, r;

	run->verb = verb;
	opts_init(&o, run_options, verb, false, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		r = run_option(run, &o, key, reterr);
		if (r != 0)
			return r;
	}
	if (key < 0)
		return key;
	if (o.n_operands < 1)
		return opts_usage_error(reterr, verb, "\"cctl %s\" requires at least 1 argument.", verb);
	if (p_rm_restart_conflict(&run->p))
		return opts_usage_error(reterr, verb, "conflicting options: cannot specify both --restart and --rm");
	/* The operands are the tail of argv, which is NULL-terminated. */
	run->p.image = o.operands[0];
	run->p.cmd = o.n_operands > 1 ? argv + (argc - (int)o.n_operands) + 1 : NULL;
	run->p.env = run->env;
	run->p.labels = run->labels;
	run->p.entrypoint = run->entrypoint;
	run->p.log_opts = run->log_opts;
	run->p.mounts = run->mounts;
	run->p.n_mounts = run->n_mounts;
	run->p.volumes_from = run->volumes_from;
	run_security_apply(&run->sec, &run->p);
	return run_ports_apply(&run->ports, &run->p, reterr);
}
