/* cctl: the command-line client of containd. Global options, the verb table, and the one place
 * that turns an error into a message and an exit status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/commands.h"
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
	{ "ps", cmd_ps, "List containers" },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "kill", cmd_kill, "Kill one or more running containers" },
	{ "inspect", cmd_inspect, "Return low-level information on containers" },
	{ "wait", cmd_wait, "Block until a container stops, then print its exit code" },
	{ "images", cmd_images, "List images" },
	{ "import", cmd_import, "Import the contents from a tarball to create an image" },
	{ "rmi", cmd_rmi, "Remove one or more images" },
	{ "version", cmd_version, "Show the cctl and containd version information" },
};

static const struct verb container_verbs[] = {
	{ "run", cmd_run, "Create and run a new container from an image" },
	{ "ls", cmd_ps, "List containers" },
	{ "list", cmd_ps, NULL },
	{ "ps", cmd_ps, NULL },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "kill", cmd_kill, "Kill one or more running containers" },
	{ "inspect", cmd_inspect, "Display detailed information on one or more containers" },
	{ "wait", cmd_wait, "Block until a container stops, then print its exit code" },
};

static const struct verb image_verbs[] = {
	{ "import", cmd_import, "Import the contents from a tarball to create an image" },
	{ "ls", cmd_images, "List images" },
	{ "list", cmd_images, NULL },
	{ "rm", cmd_rmi, "Remove one or more images" },
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
	      "\n"
	      "Run 'cctl COMMAND --help' for more information on a command.\n",
	      out);
}

int cmd_usage_error(char **reterr, const char *verb, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	return err_set(reterr, -EINVAL, "%s\nSee 'cctl%s%s --help'.", msg ? msg : "invalid usage", *verb ? " " : "",
		       verb);
}

int cmd_option_error(char **reterr, const char *verb, int c, char **argv)
{
	/* A long option always advances optind past itself; a short one may sit in a cluster. */
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	bool is_long = optopt == 0 || optopt >= 0x100 || (c == ':' && str_startswith(arg, "--"));

	if (c == ':')
		return is_long ? cmd_usage_error(reterr, verb, "flag needs an argument: %s", arg)
			       : cmd_usage_error(reterr, verb, "flag needs an argument: '%c' in -%c", optopt, optopt);
	if (optopt == 0)
		return cmd_usage_error(reterr, verb, "unknown flag: %s", arg);
	if (is_long)
		return cmd_usage_error(reterr, verb, "flag does not take an argument: %s", arg);
	return cmd_usage_error(reterr, verb, "unknown shorthand flag: '%c' in -%c", optopt, optopt);
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
		return cmd_usage_error(reterr, group, "'%s' is not a cctl %s command.", argv[1], group);
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
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{}
	};
	struct cctl cctl = { .socket_path = NULL };
	_cleanup_free_ char *err = NULL;
	int c, r;

	r = ensure_stdio();
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "cctl: cannot open /dev/null for a closed standard fd: %m\n");
		return CCTL_EXIT_ERROR;
	}

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hv", options, NULL)) != -1) {
		switch (c) {
		case 's':
			cctl.socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("cctl version %s\n", CONTAIND_VERSION);
			return 0;
		default:
			cmd_option_error(&err, "", c, argv);
			fprintf(stderr, "cctl: %s\n", err);
			return CCTL_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CCTL_EXIT_ERROR;
	}
	if (!cctl.socket_path || !*cctl.socket_path) {
		const char *env = getenv("CONTAIND_SOCKET");
		cctl.socket_path = env && *env ? env : CCTL_DEFAULT_SOCKET;
	}

	int vargc = argc - optind;
	char **vargv = argv + optind;
	const struct verb *v = verb_find(main_verbs, ARRAY_SIZE(main_verbs), vargv[0]);
	if (v)
		r = v->fn(&cctl, vargc, vargv, &err);
	else if (strcmp(vargv[0], "container") == 0)
		r = run_group(&cctl, "container", container_verbs, ARRAY_SIZE(container_verbs), vargc, vargv, &err);
	else if (strcmp(vargv[0], "image") == 0)
		r = run_group(&cctl, "image", image_verbs, ARRAY_SIZE(image_verbs), vargc, vargv, &err);
	else if (strcmp(vargv[0], "help") == 0) {
		usage(stdout);
		r = 0;
	} else
		r = cmd_usage_error(&err, "", "'%s' is not a cctl command.", vargv[0]);

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
