/* cctl login and logout: registry credentials in the user's own file (Docker's config.json
 * format), checked against the registry by the daemon before they are stored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "client/pull.h"
#include "common/error.h"
#include "common/macros.h"
#include "image/registry.h"
#include "protocol/image-pull.h"

#define SECRET_MAX 4096

/* The registry a SERVER argument names: "docker.io" for none or Docker Hub's spellings,
 * else the host[:port] of "host", "https://host/v2/" and the like. */
static int login_server(const char *arg, char **ret, char **reterr)
{
	const char *h = arg ? arg : "docker.io";
	if (strncmp(h, "https://", 8) == 0)
		h += 8;
	else if (strncmp(h, "http://", 7) == 0)
		h += 7;
	size_t n = strcspn(h, "/");
	if (n == 0 || n > 255)
		return err_set(reterr, -EINVAL, "invalid registry address \"%s\"", arg);
	*ret = strndup(h, n);
	if (!*ret)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (char *c = *ret; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      strchr(".-:[]", *c)))
			return err_set(reterr, -EINVAL, "invalid registry address \"%s\"", arg);
	if (strcmp(*ret, "index.docker.io") == 0 || strcmp(*ret, "registry-1.docker.io") == 0) {
		free(*ret);
		*ret = strdup("docker.io");
	}
	return *ret ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

/* Reads one line (without its newline) from fd, echo off when it is a terminal and secret. */
static int login_read_line(int fd, bool secret, char **ret, char **reterr)
{
	struct termios old, raw;
	bool restore = false;
	_cleanup_free_ char *buf = calloc(1, SECRET_MAX + 1);
	size_t n = 0;

	if (!buf)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (secret && isatty(fd) && tcgetattr(fd, &old) == 0) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &raw) == 0;
	}
	for (;;) {
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || c == '\n')
			break;
		if (n == SECRET_MAX) {
			if (restore)
				tcsetattr(fd, TCSAFLUSH, &old);
			return err_set(reterr, -EINVAL, "input longer than %d bytes", SECRET_MAX);
		}
		buf[n++] = c;
	}
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	while (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

static void login_usage(void)
{
	fputs("Usage:  cctl login [OPTIONS] [SERVER]\n"
	      "\n"
	      "Log in to a registry.\n"
	      "If no server is specified, the default is Docker Hub.\n"
	      "Credentials are stored, readable by you only, in $CONTAIND_CONFIG/auth.json or\n"
	      "~/.config/containd/auth.json (Docker's config.json format).\n"
	      "\n"
	      "Options:\n"
	      "  -p, --password string   Password\n"
	      "      --password-stdin    Take the password from stdin\n"
	      "  -u, --username string   Username\n"
	      "      --help              Print usage\n",
	      stdout);
}

int cmd_login(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	enum { OPT_HELP = 1, OPT_USER, OPT_PASS, OPT_PASS_STDIN };
	static const struct opt options[] = {
		{ OPT_USER, 'u', "username", OPT_VALUE },
		{ OPT_PASS, 'p', "password", OPT_VALUE },
		{ OPT_PASS_STDIN, 0, "password-stdin", OPT_FLAG },
		{ OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_free_ char *server = NULL, *user = NULL, *pass = NULL, *path = NULL;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	bool pass_stdin = false;
	int key, r;

	opts_init(&o, options, "login", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == OPT_USER) {
			free(user);
			if (!(user = strdup(o.arg)))
				return err_set(reterr, -ENOMEM, "out of memory");
		} else if (key == OPT_PASS) {
			free(pass);
			if (!(pass = strdup(o.arg)))
				return err_set(reterr, -ENOMEM, "out of memory");
		} else if (key == OPT_PASS_STDIN) {
			pass_stdin = o.flag;
		} else if (o.flag) {
			login_usage();
			return 0;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands > 1)
		return opts_usage_error(reterr, "login", "\"cctl login\" requires at most 1 argument.");
	if (pass && pass_stdin)
		return opts_usage_error(reterr, "login", "--password and --password-stdin are mutually exclusive");
	if (pass_stdin && !user)
		return opts_usage_error(reterr, "login", "Must provide --username with --password-stdin");
	r = login_server(o.n_operands ? o.operands[0] : NULL, &server, reterr);
	if (r < 0)
		return r;
	if (pass)
		fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n", stderr);
	if (!user) {
		fputs("Username: ", stderr);
		fflush(stderr);
		if ((r = login_read_line(STDIN_FILENO, false, &user, reterr)) < 0)
			return r;
	}
	if (!pass) {
		if (!pass_stdin) {
			fputs("Password: ", stderr);
			fflush(stderr);
		}
		if ((r = login_read_line(STDIN_FILENO, !pass_stdin, &pass, reterr)) < 0)
			return r;
	}
	if (!*user || strchr(user, ':'))
		return err_set(reterr, -EINVAL, "Error: Cannot perform an interactive login from a non TTY device or empty username");
	if (!*pass)
		return err_set(reterr, -EINVAL, "Error: Password Required");

	/* The daemon checks them against the registry (it knows which registries are insecure).
	 * docker login exits 1 when the registry refuses them. */
	cctl->error_exit = 1;
	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	struct proto_login_params lp = { .server = server, .username = user, .password = pass };
	json_t *params = proto_login_params_encode(&lp);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_call_ok(&conn, PROTO_M_REGISTRY_LOGIN, params, NULL, 0, &reply, reterr);
	if (r < 0)
		return r;
	path = pull_auth_path();
	if (!path)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = registry_auth_store(path, server, user, pass, reterr);
	explicit_bzero(pass, strlen(pass));
	if (r < 0)
		return r;
	printf("Login Succeeded\n");
	return 0;
}

int cmd_logout(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
		{ 1, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_free_ char *server = NULL, *path = NULL, *err = NULL;
	int key, r;

	opts_init(&o, options, "logout", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0)
		if (o.flag) {
			fputs("Usage:  cctl logout [SERVER]\n\nLog out from a registry.\nIf no server is specified, the default is Docker Hub.\n",
			      stdout);
			return 0;
		}
	if (key < 0)
		return key;
	if (o.n_operands > 1)
		return opts_usage_error(reterr, "logout", "\"cctl logout\" requires at most 1 argument.");
	r = login_server(o.n_operands ? o.operands[0] : NULL, &server, reterr);
	if (r < 0)
		return r;
	path = pull_auth_path();
	if (!path)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = registry_auth_store(path, server, NULL, NULL, &err);
	if (r == -ENOENT) {
		printf("Not logged in to %s\n", server);
		return 0;
	}
	if (r < 0)
		return err_set(reterr, r, "%s", err ? err : "logout failed");
	printf("Removing login credentials for %s\n", server);
	return 0;
}
