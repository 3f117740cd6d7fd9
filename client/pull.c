/* cctl's side of image.pull: see pull.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/opts.h"
#include "client/pull.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/imagename.h"
#include "common/util.h"
#include "image/registry.h"
#include "protocol/image-pull.h"
#include "protocol/image-store.h"
#include "protocol/messages.h"

#define PULL_MAX_LAYERS 128
#define BAR_WIDTH 50

struct layer_line {
	char id[13];
	char status[48];
	uint64_t current, total;
	uint64_t start_ns, start_bytes; /* for the speed */
};

struct pull_view {
	bool tty, quiet;
	struct layer_line layers[PULL_MAX_LAYERS];
	size_t n;
	const char *header; /* "3.20: Pulling from library/alpine" */
	bool header_shown;
};

char *pull_auth_path(void)
{
	const char *dir = getenv("CONTAIND_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p = NULL;
	int n;
	if (dir && *dir)
		n = asprintf(&p, "%s/auth.json", dir);
	else if (xdg && *xdg)
		n = asprintf(&p, "%s/containd/auth.json", xdg);
	else
		n = asprintf(&p, "%s/.config/containd/auth.json", home && *home ? home : "/root");
	return n < 0 ? NULL : p;
}

/* Docker's own file, read when ours has nothing for a registry: existing logins work. */
static char *pull_docker_config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *p = NULL;
	int n = dir && *dir ? asprintf(&p, "%s/config.json", dir) : asprintf(&p, "%s/.docker/config.json", home ? home : "/root");
	return n < 0 ? NULL : p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sizes as Docker shows them: 1.2MB, 3.49MB, 512B (SI units). */
static void human(uint64_t v, char *buf, size_t size)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double d = (double)v;
	size_t u = 0;
	while (d >= 1000 && u + 1 < ARRAY_SIZE(units))
		d /= 1000, u++;
	if (u == 0)
		snprintf(buf, size, "%lluB", (unsigned long long)v);
	else
		snprintf(buf, size, "%.3g%s", d, units[u]);
}

/* One layer's line on a terminal: the status, and for a download a bar, bytes and speed. */
static void view_format(const struct layer_line *l, char *buf, size_t size)
{
	if (strcmp(l->status, "Downloading") == 0 && l->total > 0) {
		char bar[BAR_WIDTH + 1], cur[16], tot[16], speed[16] = "";
		size_t fill = (size_t)(l->current * BAR_WIDTH / l->total);
		for (size_t i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
		bar[BAR_WIDTH] = '\0';
		human(l->current, cur, sizeof(cur));
		human(l->total, tot, sizeof(tot));
		uint64_t dt = now_ns() - l->start_ns;
		if (dt > 200000000ull && l->current > l->start_bytes) {
			human((uint64_t)((double)(l->current - l->start_bytes) * 1e9 / (double)dt), speed, sizeof(speed));
			strcat(speed, "/s");
		}
		snprintf(buf, size, "%s: Downloading [%s] %7s/%s %s", l->id, bar, cur, tot, speed);
	} else {
		snprintf(buf, size, "%s: %s", l->id, l->status);
	}
}

static void view_header(struct pull_view *v)
{
	if (!v->header_shown && !v->quiet) {
		fprintf(stderr, "%s\n", v->header);
		v->header_shown = true;
	}
}

/* One progress event: a terminal redraws the layer's line in place (cursor up, clear, down);
 * anything else gets a line per change of status, without the byte counts. */
static void view_update(struct pull_view *v, const struct proto_pull_progress *p)
{
	if (v->quiet)
		return;
	view_header(v);
	if (!p->layer)
		return;
	size_t i;
	for (i = 0; i < v->n && strcmp(v->layers[i].id, p->layer) != 0; i++)
		;
	if (i == v->n) {
		if (v->n == PULL_MAX_LAYERS)
			return;
		v->n++;
		snprintf(v->layers[i].id, sizeof(v->layers[i].id), "%s", p->layer);
		v->layers[i].status[0] = '\0';
		if (v->tty)
			fprintf(stderr, "\n");
	}
	struct layer_line *l = &v->layers[i];
	bool changed = strcmp(l->status, p->status) != 0;
	if (changed && strcmp(p->status, "Downloading") == 0) {
		l->start_ns = now_ns();
		l->start_bytes = p->current;
	}
	snprintf(l->status, sizeof(l->status), "%s", p->status);
	l->current = p->current;
	l->total = p->total;
	if (v->tty) {
		char line[256];
		size_t up = v->n - i;
		view_format(l, line, sizeof(line));
		fprintf(stderr, "\x1b[%zuA\r\x1b[2K%s\x1b[%zuB\r", up, line, up);
	} else if (changed && strcmp(p->status, "Downloading") != 0) {
		fprintf(stderr, "%s: %s\n", l->id, l->status);
	}
	fflush(stderr);
}

int pull_image(struct cctl *cctl, const char *ref, const char *platform, bool quiet, char **ret_image,
	       char **reterr)
{
	_cleanup_(registry_ref_done) struct registry_ref pr = { 0 };
	_cleanup_free_ char *auth_path = NULL, *docker_path = NULL, *user = NULL, *pass = NULL, *header = NULL;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	struct pull_view view = { .tty = isatty(STDERR_FILENO) == 1, .quiet = quiet };
	json_int_t id;
	int r;

	r = registry_ref_parse(ref, &pr, reterr);
	if (r < 0)
		return r;
	/* The credentials are read here, as the user who runs cctl, from that user's own file; the
	 * daemon never reads users' files (it could not tell whose to read) and keeps none. They go
	 * over the daemon's socket, which only root and the daemon's group may reach, and to the
	 * pull worker in its memory only. */
	auth_path = pull_auth_path();
	if (!auth_path)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = registry_auth_load(auth_path, pr.domain, &user, &pass, reterr);
	if (r < 0)
		return r;
	if (!user && (docker_path = pull_docker_config_path()) &&
	    registry_auth_load(docker_path, pr.domain, &user, &pass, NULL) < 0)
		user = pass = NULL;
	if (asprintf(&header, "%s: Pulling from %s", pr.tag && !pr.digest ? pr.tag : pr.digest ? pr.digest : "latest",
		     pr.path) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	view.header = header;

	r = conn_open(cctl->socket_path, &conn, reterr);
	if (r < 0)
		return r;
	struct proto_pull_params p = { .ref = ref, .platform = platform, .username = user, .password = pass };
	json_t *params = proto_pull_params_encode(&p);
	if (pass)
		explicit_bzero(pass, strlen(pass));
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_send(&conn, PROTO_M_IMAGE_PULL, params, NULL, 0, &id, reterr);
	if (r < 0)
		return r;
	for (;;) {
		_cleanup_conn_msg_ struct conn_msg m = CONN_MSG_INIT;
		_cleanup_free_ char *err = NULL;
		r = conn_receive(&conn, &m, reterr);
		if (r < 0)
			return r;
		if (m.msg.event) {
			struct proto_pull_progress pp;
			if (strcmp(m.msg.event, PROTO_EV_PULL_PROGRESS) == 0 && proto_pull_progress_decode(m.msg.params, &pp, NULL) >= 0)
				view_update(&view, &pp);
			continue;
		}
		if (m.msg.id != id)
			continue;
		r = conn_reply_check(&m, reterr);
		if (r < 0)
			return r;
		struct proto_pull_result res;
		if (proto_pull_result_decode(m.msg.result, &res, &err) < 0)
			return err_set(reterr, -EBADMSG, "invalid reply to %s: %s", PROTO_M_IMAGE_PULL, err);
		/* "alpine:3.20" for the messages, as Docker shows it; the qualified name on stdout. */
		const char *local = res.name ? res.name : res.repo_digest;
		if (!quiet) {
			view_header(&view);
			fprintf(stderr, "Digest: %s\n", res.digest);
			fprintf(stderr, "Status: %s %s\n", res.downloaded ? "Downloaded newer image for" : "Image is up to date for",
				local);
		}
		if (ret_image && !(*ret_image = strdup(res.name ? res.name : res.id)))
			return err_set(reterr, -ENOMEM, "out of memory");
		return 0;
	}
}

/* Whether the daemon has the image, asked as run would resolve it (image.inspect: a name, an
 * id or an id prefix). 1 yes, 0 no. */
static int pull_have_image(struct conn *conn, const char *image, char **reterr)
{
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	int r;

	if (strchr(image, '@'))
		return 0; /* a digest: pulled, which costs nothing when its blobs are here */
	struct proto_image_ref_params p = { .name = image };
	json_t *params = proto_image_ref_params_encode(&p);
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = conn_call(conn, PROTO_M_IMAGE_INSPECT, params, NULL, 0, &reply, reterr);
	if (r < 0)
		return r;
	if (!reply.msg.error_code)
		return 1;
	if (strcmp(reply.msg.error_code, PROTO_E_NOT_FOUND) == 0)
		return 0;
	return conn_reply_check(&reply, reterr);
}

int pull_ensure(struct cctl *cctl, struct conn *conn, const char *policy, const char *image, char **ret_image,
		char **reterr)
{
	_cleanup_free_ char *pulled = NULL, *norm = NULL;
	int r;

	*ret_image = NULL;
	if (policy && strcmp(policy, "never") == 0)
		return 0;
	/* An image id (sha256:<64 hex>, or the 64 hex digits) names what is stored here: nothing a
	 * registry could give. The run then fails with the daemon's "no such image". */
	const char *hex = strncmp(image, "sha256:", 7) == 0 ? image + 7 : image;
	if (strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64)
		return 0;
	if (!policy || strcmp(policy, "missing") == 0) {
		r = pull_have_image(conn, image, reterr);
		if (r != 0)
			return r < 0 ? r : 0;
		if (image_name_normalize(image, &norm, NULL) < 0)
			norm = NULL;
		fprintf(stderr, "Unable to find image '%s' locally\n", norm ? norm : image);
	}
	r = pull_image(cctl, image, NULL, false, &pulled, reterr);
	if (r < 0)
		return r;
	if (strchr(image, '@'))
		*ret_image = TAKE_PTR(pulled);
	return 1;
}

/* The fully qualified name Docker prints on stdout: docker.io/library/alpine:3.20. */
static int pull_qualified(const char *ref, char **ret)
{
	_cleanup_(registry_ref_done) struct registry_ref pr = { 0 };
	int r = registry_ref_parse(ref, &pr, NULL);
	if (r < 0)
		return r;
	if (asprintf(ret, "%s/%s%s%s%s%s", pr.domain, pr.path, pr.tag ? ":" : "", pr.tag ? pr.tag : "",
		     pr.digest ? "@" : "", pr.digest ? pr.digest : "") < 0)
		return -ENOMEM;
	return 0;
}

static void pull_usage(void)
{
	fputs("Usage:  cctl pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
	      "\n"
	      "Download an image from a registry (Docker Hub by default)\n"
	      "\n"
	      "Options:\n"
	      "      --platform string   Set platform if server is multi-platform capable (os/arch[/variant])\n"
	      "  -q, --quiet             Suppress verbose output\n"
	      "      --help              Print usage\n",
	      stdout);
}

int cmd_pull(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	enum { OPT_HELP = 1, OPT_QUIET, OPT_PLATFORM };
	static const struct opt options[] = {
		{ OPT_QUIET, 'q', "quiet", OPT_FLAG },
		{ OPT_PLATFORM, 0, "platform", OPT_VALUE },
		{ OPT_HELP, 0, "help", OPT_FLAG },
		{}
	};
	_cleanup_(opts_done) struct opts o;
	_cleanup_free_ char *qualified = NULL;
	const char *platform = NULL;
	bool quiet = false;
	int key, r;

	opts_init(&o, options, "pull", true, argc, argv);
	while ((key = opts_next(&o, reterr)) > 0) {
		if (key == OPT_QUIET)
			quiet = o.flag;
		else if (key == OPT_PLATFORM)
			platform = o.arg;
		else if (o.flag) {
			pull_usage();
			return 0;
		}
	}
	if (key < 0)
		return key;
	if (o.n_operands != 1)
		return opts_usage_error(reterr, "pull", "\"cctl pull\" requires exactly 1 argument.");
	/* docker pull exits 1 when the daemon refuses (unknown image, denied). */
	cctl->error_exit = 1;
	const char *ref = o.operands[0], *last = strrchr(ref, '/');
	if (!quiet && !strchr(ref, '@') && !strchr(last ? last : ref, ':'))
		fputs("Using default tag: latest\n", stderr);
	r = pull_image(cctl, ref, platform, quiet, NULL, reterr);
	if (r < 0)
		return r;
	if (pull_qualified(ref, &qualified) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	printf("%s\n", qualified);
	return 0;
}
