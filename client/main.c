/* cctl: the command-line client of containd. Global options, the verb table, and the one place
 * that turns an error into a message and an exit status. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/opts.h"
#include "client/tty.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"

#define CCTL_DEFAULT_SOCKET "/run/containd/containd.sock"

struct verb {
	const char *name;
	cctl_verb_fn fn;
	const char *summary; /* NULL: an alias, not listed */
};

static const struct verb main_verbs[] = {
	{ "run", cmd_run, "Create and run a new container from an image" },
	{ "exec", cmd_exec, "Execute a command in a running container" },
	{ "create", cmd_create, "Create a new container" },
	{ "start", cmd_start, "Start one or more stopped containers" },
	{ "restart", cmd_restart, "Restart one or more containers" },
	{ "ps", cmd_ps, "List containers" },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "kill", cmd_kill, "Kill one or more running containers" },
	{ "pause", cmd_pause, "Pause all processes within one or more containers" },
	{ "unpause", cmd_unpause, "Unpause all processes within one or more containers" },
	{ "stop", cmd_stop, "Stop one or more running containers" },
	{ "inspect", cmd_inspect, "Return low-level information on containers" },
	{ "rename", cmd_rename, "Rename a container" },
	{ "top", cmd_top, "Display the running processes of a container" },
	{ "port", cmd_port, "List port mappings or a specific mapping for the container" },
	{ "wait", cmd_wait, "Block until a container stops, then print its exit code" },
	{ "images", cmd_images, "List images" },
	{ "import", cmd_import, "Import the contents from a tarball to create an image" },
	{ "load", cmd_load, "Load an image from a tar archive or STDIN" },
	{ "save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)" },
	{ "rmi", cmd_rmi, "Remove one or more images" },
	{ "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
	{ "history", cmd_image_history, "Show the history of an image" },
	{ "info", cmd_info, "Display system-wide information" },
	{ "events", cmd_events, "Get real time events from the server" },
	{ "logs", cmd_logs, "Fetch the logs of a container" },
	{ "attach", cmd_attach, "Attach local standard input, output, and error streams to a running container" },
	{ "version", cmd_version, "Show the cctl and containd version information" },
	{ "cp", cmd_cp, "Copy files/folders between a container and the local filesystem" },
	{ "diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem" },
	{ "export", cmd_export, "Export a container's filesystem as a tar archive" },
	{ "commit", cmd_commit, "Create a new image from a container's changes" },
	{ "pull", cmd_pull, "Download an image from a registry" },
	{ "login", cmd_login, "Log in to a registry" },
	{ "logout", cmd_logout, "Log out from a registry" },
};

static const struct verb container_verbs[] = {
	{ "run", cmd_run, "Create and run a new container from an image" },
	{ "exec", cmd_exec, "Execute a command in a running container" },
	{ "create", cmd_create, "Create a new container" },
	{ "start", cmd_start, "Start one or more stopped containers" },
	{ "restart", cmd_restart, "Restart one or more containers" },
	{ "ls", cmd_ps, "List containers" },
	{ "list", cmd_ps, NULL },
	{ "ps", cmd_ps, NULL },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "kill", cmd_kill, "Kill one or more running containers" },
	{ "pause", cmd_pause, "Pause all processes within one or more containers" },
	{ "unpause", cmd_unpause, "Unpause all processes within one or more containers" },
	{ "stop", cmd_stop, "Stop one or more running containers" },
	{ "inspect", cmd_inspect, "Display detailed information on one or more containers" },
	{ "rename", cmd_rename, "Rename a container" },
	{ "attach", cmd_attach, "Attach local standard input, output, and error streams to a running container" },
	{ "logs", cmd_logs, "Fetch the logs of a container" },
	{ "attach", cmd_attach, "Attach local standard input, output, and error streams to a running container" },
	{ "top", cmd_top, "Display the running processes of a container" },
	{ "wait", cmd_wait, "Block until a container stops, then print its exit code" },
	{ "cp", cmd_cp, "Copy files/folders between a container and the local filesystem" },
	{ "diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem" },
	{ "export", cmd_export, "Export a container's filesystem as a tar archive" },
	{ "commit", cmd_commit, "Create a new image from a container's changes" },
	{ "port", cmd_port, "List port mappings or a specific mapping for the container" },
};

static const struct verb image_verbs[] = {
	{ "import", cmd_import, "Import the contents from a tarball to create an image" },
	{ "ls", cmd_images, "List images" },
	{ "list", cmd_images, NULL },
	{ "rm", cmd_rmi, "Remove one or more images" },
	{ "pull", cmd_pull, "Download an image from a registry" },
	{ "inspect", cmd_image_inspect, "Display detailed information on one or more images" },
	{ "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
	{ "history", cmd_image_history, "Show the history of an image" },
	{ "prune", cmd_image_prune, "Remove unused images" },
	{ "load", cmd_load, "Load an image from a tar archive or STDIN" },
	{ "save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)" },
};

static const struct verb system_verbs[] = {
	{ "df", cmd_system_df, "Show containd disk usage" },
	{ "info", cmd_info, "Display system-wide information" },
};

static const struct verb volume_verbs[] = {
	{ "create", cmd_volume_create, "Create a volume" },
	{ "inspect", cmd_volume_inspect, "Display detailed information on one or more volumes" },
	{ "ls", cmd_volume_ls, "List volumes" },
	{ "list", cmd_volume_ls, NULL },
	{ "prune", cmd_volume_prune, "Remove unused local volumes" },
	{ "rm", cmd_volume_rm, "Remove one or more volumes" },
	{ "remove", cmd_volume_rm, NULL },
};

/* cctl network VERB (client/cmd-network.c; connect and disconnect are the containers' side). */
static const struct verb network_verbs[] = {
	{ "connect", cmd_network_connect, "Connect a container to a network" },
	{ "create", cmd_network_create, "Create a network" },
	{ "disconnect", cmd_network_disconnect, "Disconnect a container from a network" },
	{ "inspect", cmd_network_inspect, "Display detailed information on one or more networks" },
	{ "ls", cmd_network_ls, "List networks" },
	{ "list", cmd_network_ls, NULL },
	{ "prune", cmd_network_prune, "Remove all unused networks" },
	{ "rm", cmd_network_rm, "Remove one or more networks" },
	{ "remove", cmd_network_rm, NULL },
};

static void print_verbs(const struct verb *verbs, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++)
		if (verbs[i].summary)
			fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
}

static void usage(FILE *out)
{
	fputs("Usage:  cctl [OPTIONS] COMMAND\n"
	      "\n"
	      "A client for containd, a small container engine\n"
	      "\n"
	      "Options:\n"
	      "      --socket PATH   Daemon socket (default $CONTAIND_SOCKET, else " CCTL_DEFAULT_SOCKET ")\n"
	      "  -h, --help          Print usage\n"
	      "  -v, --version       Print version information and quit\n"
	      "\n"
	      "Commands:\n",
	      out);
	print_verbs(main_verbs, ARRAY_SIZE(main_verbs), out);
	fputs("\nManagement Commands:\n"
	      "  container  Manage containers\n"
	      "  image      Manage images\n"
	      "  network    Manage networks\n"
	      "  system     Manage containd\n"
	      "  volume     Manage volumes\n"
	      "\n"
	      "Run 'cctl COMMAND --help' for more information on a command.\n",
	      out);
}

int cmd_no_arguments(int argc, char **argv, const char *verb, const char *summary, char **reterr)
{
	static const struct opt options[] = {
		{ 1, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	bool help = false;
	int key;

	opts_init(&o, options, verb, true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0)
		help = o.flag;
	if (key < 0)
		return key;
	if (help) {
		printf("Usage:  cctl %s\n\n%s\n", verb, summary);
		return 1;
	}
	if (o.n_operands > 0)
		return opts_usage_error(reterr, verb, "\"cctl %s\" accepts no arguments.", verb);
	return 0;
}

static const struct verb *verb_find(const struct verb *verbs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* "cctl container VERB" and "cctl image VERB". */
static int run_group(struct cctl *cctl, const char *group, const struct verb *verbs, size_t n, int argc,
		     char **argv, char **reterr)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		FILE *out = argc < 2 ? stderr : stdout;
		fprintf(out, "Usage:  cctl %s COMMAND\n\nManage %ss\n\nCommands:\n", group, group);
		print_verbs(verbs, n, out);
		fprintf(out, "\nRun 'cctl %s COMMAND --help' for more information on a command.\n", group);
		return argc < 2 ? CCTL_EXIT_ERROR : 0;
	}
	const struct verb *v = verb_find(verbs, n, argv[1]);
	if (!v)
		return opts_usage_error(reterr, group, "'%s' is not a cctl %s command.", argv[1], group);
	return v->fn(cctl, argc - 1, argv + 1, reterr);
}

/* Opens /dev/null on whichever of fds 0-2 is closed. Otherwise the first socket we open would
 * become "stdin" or "stdout": the pty relay would read protocol bytes as input, a printf() would
 * write into the connection, and the daemon would hand the container our socket as its stdio. */
static int ensure_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (errno != EBADF)
			return -errno;
		/* The lowest free fd is this one. */
		int n = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (n < 0)
			return -errno;
		if (n != fd) {
			close(n);
			return -EBADF;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { ARG_SOCKET = 1, ARG_HELP, ARG_VERSION };
	static const struct opt options[] = {
		{ ARG_SOCKET, 0, "socket", OPT_VALUE },
		{ ARG_HELP, 'h', "help", OPT_FLAG },
		{ ARG_VERSION, 'v', "version", OPT_FLAG },
		{}
	};
	struct cctl cctl = { .socket_path = NULL };
	_cleanup_free_ char *err = NULL;
	_cleanup_(opts_done) struct opts o;
	int key, r;

	r = ensure_stdio();
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "cctl: cannot open /dev/null for a closed standard fd: %m\n");
		return CCTL_EXIT_ERROR;
	}

	/* Global options end at the verb: what follows is the verb's. */
	opts_init(&o, options, "", false, argc, argv);
	while ((key = opts_next(&o, &err)) > 0) {
		if (key == ARG_SOCKET) {
			cctl.socket_path = o.arg;
		} else if (key == ARG_HELP && o.flag) {
			usage(stdout);
			return 0;
		} else if (key == ARG_VERSION && o.flag) {
			printf("cctl version %s\n", CONTAIND_VERSION);
			return 0;
		}
	}
	if (key < 0) {
		fprintf(stderr, "cctl: %s\n", err);
		return CCTL_EXIT_ERROR;
	}
	if (o.n_operands == 0) {
		usage(stderr);
		return CCTL_EXIT_ERROR;
	}
	if (!cctl.socket_path || !*cctl.socket_path) {
		const char *env = getenv("CONTAIND_SOCKET");
		cctl.socket_path = env && *env ? env : CCTL_DEFAULT_SOCKET;
	}

	/* The operands are the tail of argv (NULL-terminated), the verb first. */
	int vargc = (int)o.n_operands;
	char **vargv = argv + argc - vargc;
	const struct verb *v = verb_find(main_verbs, ARRAY_SIZE(main_verbs), vargv[0]);
	if (v)
		r = v->fn(&cctl, vargc, vargv, &err);
	else if (strcmp(vargv[0], "container") == 0)
		r = run_group(&cctl, "container", container_verbs, ARRAY_SIZE(container_verbs), vargc, vargv, &err);
	else if (strcmp(vargv[0], "image") == 0)
		r = run_group(&cctl, "image", image_verbs, ARRAY_SIZE(image_verbs), vargc, vargv, &err);
	else if (strcmp(vargv[0], "system") == 0)
		r = run_group(&cctl, "system", system_verbs, ARRAY_SIZE(system_verbs), vargc, vargv, &err);
	else if (strcmp(vargv[0], "volume") == 0)
		r = run_group(&cctl, "volume", volume_verbs, ARRAY_SIZE(volume_verbs), vargc, vargv, &err);
	else if (strcmp(vargv[0], "network") == 0)
		r = run_group(&cctl, "network", network_verbs, ARRAY_SIZE(network_verbs), vargc, vargv, &err);
	else if (strcmp(vargv[0], "help") == 0) {
		usage(stdout);
		r = 0;
	} else
		r = opts_usage_error(&err, "", "'%s' is not a cctl command.", vargv[0]);

	/* The terminal goes back to normal before anything is printed (atexit() would be too late
	 * for the message to look right). */
	tty_raw_restore();
	if (r < 0) {
		fflush(stdout);
		errno = -r;
		if (err)
			fprintf(stderr, "cctl: %s\n", err);
		else
			fprintf(stderr, "cctl: %m\n");
		return cctl.error_exit > 0 ? cctl.error_exit : CCTL_EXIT_ERROR;
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "cctl: cannot write to stdout: %m\n");
		return CCTL_EXIT_ERROR;
	}
	return r;
}
