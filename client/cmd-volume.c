/* cctl volume create|ls|inspect|rm|prune, as docker volume: the daemon keeps the volumes, cctl
 * filters and formats what volume.list and volume.inspect return (Docker's field names). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/commands.h"
#include "client/conn.h"
#include "client/format.h"
#include "client/verbs.h"
#include "client/opts.h"
#include "client/template.h"
#include "common/error.h"
#include "common/macros.h"
#include "protocol/messages.h"
#include "protocol/volume.h"

enum { VOL_HELP = 1, VOL_NAME, VOL_LABEL, VOL_DRIVER, VOL_QUIET, VOL_FILTER, VOL_FORMAT, VOL_FORCE, VOL_ALL, VOL_OPT };

/* A volume as Docker's CLI shows it: Name, Driver, Mountpoint, CreatedAt, Labels, Scope, Options. */
static json_t *docker_volume(json_t *v)
{
	json_t *labels = json_object_get(v, "labels");
	/* In the order docker volume inspect prints them. */
	return json_pack("{s:O?, s:O?, s:O, s:O?, s:O?, s:{}, s:O?}", "CreatedAt", json_object_get(v, "created_at"),
			 "Driver", json_object_get(v, "driver"), "Labels",
			 json_is_object(labels) ? labels : json_null(), "Mountpoint", json_object_get(v, "mountpoint"),
			 "Name", json_object_get(v, "name"), "Options", "Scope", json_object_get(v, "scope"));
}

struct create_opts {
	const char *name;
	char **labels;
	size_t n;
};

static int create_each(struct opts *o, int key, void *data, char **reterr)
{
	struct create_opts *c = data;
	if (key == VOL_NAME) {
		c->name = o->arg;
	} else if (key == VOL_DRIVER) {
		if (strcmp(o->arg, "local") != 0)
			return opts_invalid_argument(o, reterr, "only the local driver is supported");
	} else if (key == VOL_OPT) {
		return opts_invalid_argument(o, reterr, "the local driver takes no options here");
	} else if (key == VOL_LABEL) {
		if (verbs_label_append(&c->labels, &c->n, o->arg) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	return 0;
}

int cmd_volume_create(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {VOL_NAME, 0, "name", OPT_VALUE},	    {VOL_LABEL, 'l', "label", OPT_VALUE},
	    {VOL_DRIVER, 'd', "driver", OPT_VALUE}, {VOL_OPT, 'o', "opt", OPT_VALUE},
	    {VOL_HELP, 0, "help", OPT_FLAG},	    {}};
	_cleanup_(opts_done) struct opts o;
	struct create_opts c = {0};
	int r = opts_parse_verb(&o, options, "volume create", argc, argv, VOL_HELP,
				"Usage:  cctl volume create [OPTIONS] [VOLUME]\n\nCreate a volume\n\nOptions:\n"
				"  -d, --driver string   Specify volume driver name (only \"local\")\n"
				"  -l, --label list      Set metadata for a volume\n"
				"      --name string     Specify volume name\n",
				OPTS_OPERANDS_ANY, create_each, &c, reterr);
	if (r == 0 && o.n_operands > 1)
		r = opts_usage_error(reterr, "volume create", "\"cctl volume create\" requires at most 1 argument.");
	if (r == 0 && o.n_operands == 1) {
		if (c.name && strcmp(c.name, o.operands[0]) != 0)
			r = opts_usage_error(reterr, "volume create",
					     "conflicting options: cannot specify a volume-name through both --name "
					     "and as a positional arg");
		c.name = o.operands[0];
	}
	if (r != 0) {
		strv_free(c.labels);
		return r > 0 ? 0 : r;
	}
	struct proto_volume_create_params p = {.name = c.name, .labels = c.labels};
	json_t *params = proto_volume_create_params_encode(&p);
	strv_free(c.labels);
	return verbs_create(cctl->socket_path, PROTO_M_VOLUME_CREATE, params, "name", reterr);
}

struct ls_opts {
	bool quiet;
	const char *format;
	char **filters;
	size_t n;
};

static int ls_each(struct opts *o, int key, void *data, char **reterr)
{
	struct ls_opts *l = data;
	if (key == VOL_QUIET)
		l->quiet = o->flag;
	else if (key == VOL_FORMAT)
		l->format = o->arg;
	else if (key == VOL_FILTER) {
		const char *eq = strchr(o->arg, '=');
		size_t k = eq ? (size_t)(eq - o->arg) : 0;
		if (!eq ||
		    !((k == 8 && strncmp(o->arg, "dangling", 8) == 0) || (k == 4 && strncmp(o->arg, "name", 4) == 0) ||
		      (k == 5 && strncmp(o->arg, "label", 5) == 0) || (k == 6 && strncmp(o->arg, "driver", 6) == 0)))
			return err_set(reterr, -EINVAL, "invalid filter '%s'", o->arg);
		if (k == 8 && strcmp(eq + 1, "true") && strcmp(eq + 1, "false") && strcmp(eq + 1, "1") &&
		    strcmp(eq + 1, "0"))
			return err_set(reterr, -EINVAL, "invalid filter 'dangling=%s'", eq + 1);
		char **nv = reallocarray(l->filters, l->n + 2, sizeof(char *));
		if (!nv)
			return err_set(reterr, -ENOMEM, "out of memory");
		l->filters = nv;
		nv[l->n++] = (char *)o->arg;
		nv[l->n] = NULL;
	}
	return 0;
}

/* Docker's rules: values of one key are alternatives, different keys must all match; every
 * label filter must match. */
static bool ls_match(const struct ls_opts *l, json_t *v)
{
	static const char *const keys[] = {"dangling", "name", "driver"};
	const char *name = json_string_value(json_object_get(v, "name"));
	json_t *labels = json_object_get(v, "labels");
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		bool any = false, hit = false;
		size_t klen = strlen(keys[k]);
		for (size_t i = 0; i < l->n; i++) {
			const char *f = l->filters[i];
			if (strncmp(f, keys[k], klen) != 0 || f[klen] != '=')
				continue;
			any = true;
			const char *val = f + klen + 1;
			if (k == 0) {
				bool want = strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
				hit |= (json_integer_value(json_object_get(v, "containers")) == 0) == want;
			} else if (k == 1) {
				hit |= name && strstr(name, val);
			} else {
				hit |= strcmp(val, "local") == 0;
			}
		}
		if (any && !hit)
			return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (strncmp(l->filters[i], "label=", 6) != 0)
			continue;
		const char *kv = l->filters[i] + 6, *eq = strchr(kv, '=');
		_cleanup_free_ char *key = strndup(kv, eq ? (size_t)(eq - kv) : strlen(kv));
		json_t *have = key ? json_object_get(labels, key) : NULL;
		if (!have || (eq && strcmp(json_string_value(have), eq + 1) != 0))
			return false;
	}
	return true;
}

int cmd_volume_ls(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {{VOL_QUIET, 'q', "quiet", OPT_FLAG},
					     {VOL_FILTER, 'f', "filter", OPT_VALUE},
					     {VOL_FORMAT, 0, "format", OPT_VALUE},
					     {VOL_HELP, 0, "help", OPT_FLAG},
					     {}};
	_cleanup_(opts_done) struct opts o;
	struct ls_opts l = {0};
	int r = opts_parse_verb(&o, options, "volume ls", argc, argv, VOL_HELP,
				"Usage:  cctl volume ls [OPTIONS]\n\nList volumes\n\nOptions:\n"
				"  -f, --filter filter   Provide filter values (dangling=true|false, name=TEXT,\n"
				"                        label=KEY[=VALUE], driver=local)\n"
				"      --format string   Format output using a template, or json\n"
				"  -q, --quiet           Only display volume names\n",
				OPTS_OPERANDS_NONE, ls_each, &l, reterr);
	_cleanup_free_ char **filters = l.filters;
	if (r != 0)
		return r > 0 ? 0 : r;
	_cleanup_(template_freep) struct template *t = NULL;
	if ((r = template_parse_format(l.format, &t, reterr)) < 0)
		return r;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	if ((r = conn_open(cctl->socket_path, &conn, reterr)) < 0 ||
	    (r = conn_call_ok(&conn, PROTO_M_VOLUME_LIST, json_object(), NULL, 0, &reply, reterr)) < 0)
		return r;
	json_t *vols = json_object_get(reply.msg.result, "volumes"), *v;
	size_t i;
	if (!l.quiet && !l.format)
		printf("%-10s%s\n", "DRIVER", "VOLUME NAME");
	json_array_foreach(vols, i, v)
	{
		if (!ls_match(&l, v))
			continue;
		json_auto_t *row = docker_volume(v);
		if ((r = verbs_row(l.quiet, l.format, t, row, "Name", reterr)) < 0)
			return r;
		if (r > 0)
			printf("%-10s%s\n", "local", json_string_value(json_object_get(v, "name")));
	}
	return 0;
}

/* Calls method about the one volume p names: 0 with its reply, 1 when the daemon refused it (its
 * message printed, as docker does before going on with the next volume), -errno when the call
 * itself failed. */
static int volume_call(struct conn *conn, const char *method, const struct proto_volume_ref_params *p,
		       struct conn_msg *reply, char **reterr)
{
	return conn_call_report(conn, method, proto_volume_ref_params_encode(method, p), reply, reterr);
}

/* volume.inspect's params for one volume. */
static json_t *inspect_params(const char *method, const char *name)
{
	struct proto_volume_ref_params p = {.name = name};
	return proto_volume_ref_params_encode(method, &p);
}

static int inspect_each(struct opts *o, int key, void *data, char **reterr)
{
	if (key == VOL_FORMAT)
		*(const char **)data = o->arg;
	return 0;
}

int cmd_volume_inspect(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {VOL_FORMAT, 'f', "format", OPT_VALUE}, {VOL_HELP, 0, "help", OPT_FLAG}, {}};
	static const struct verbs_inspect_ops verb = {.method = PROTO_M_VOLUME_INSPECT,
						      .params = inspect_params,
						      .shape = docker_volume,
						      .dump_flags = JSON_INDENT(4)};
	_cleanup_(opts_done) struct opts o;
	const char *format = NULL;
	int r =
	    opts_parse_verb(&o, options, "volume inspect", argc, argv, VOL_HELP,
			    "Usage:  cctl volume inspect [OPTIONS] VOLUME [VOLUME...]\n\nDisplay detailed information "
			    "on one or more volumes\n\n"
			    "Options:\n  -f, --format string   Format output using a template, or json\n",
			    OPTS_OPERANDS_SOME, inspect_each, &format, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	return verbs_inspect(cctl->socket_path, &verb, format, o.operands, o.n_operands, reterr);
}

struct rm_opts {
	bool force, all;
};

static int rm_each(struct opts *o, int key, void *data, char **reterr)
{
	struct rm_opts *rm = data;
	if (key == VOL_FORCE)
		rm->force = o->flag;
	else if (key == VOL_ALL)
		rm->all = o->flag;
	return 0;
}

/* Removes one volume: its name printed when the daemon removed it, or the daemon's refusal. */
static int rm_one(struct conn *conn, const char *name, void *data, char **reterr)
{
	const struct rm_opts *rm = data;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	struct proto_volume_ref_params p = {.name = name, .force = rm->force};
	int r = volume_call(conn, PROTO_M_VOLUME_REMOVE, &p, &reply, reterr);
	if (r != 0)
		return r;
	if (json_array_size(json_object_get(reply.msg.result, "removed")))
		printf("%s\n", name);
	return 0;
}

int cmd_volume_rm(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {{VOL_FORCE, 'f', "force", OPT_FLAG}, {VOL_HELP, 0, "help", OPT_FLAG}, {}};
	_cleanup_(opts_done) struct opts o;
	struct rm_opts rm = {0};
	int r =
	    opts_parse_verb(&o, options, "volume rm", argc, argv, VOL_HELP,
			    "Usage:  cctl volume rm [OPTIONS] VOLUME [VOLUME...]\n\nRemove one or more volumes. You "
			    "cannot remove a volume that is in use by a container.\n\n"
			    "Options:\n  -f, --force   Do not fail on a volume that does not exist\n",
			    OPTS_OPERANDS_SOME, rm_each, &rm, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	return verbs_operands(cctl->socket_path, o.operands, o.n_operands, rm_one, &rm, reterr);
}

int cmd_volume_prune(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {VOL_FORCE, 'f', "force", OPT_FLAG}, {VOL_ALL, 'a', "all", OPT_FLAG}, {VOL_HELP, 0, "help", OPT_FLAG}, {}};
	_cleanup_(opts_done) struct opts o;
	struct rm_opts rm = {0};
	int r = opts_parse_verb(&o, options, "volume prune", argc, argv, VOL_HELP,
				"Usage:  cctl volume prune [OPTIONS]\n\nRemove unused local volumes\n\nOptions:\n"
				"  -a, --all     Remove all unused volumes, not just anonymous ones\n"
				"  -f, --force   Do not prompt for confirmation\n",
				OPTS_OPERANDS_NONE, rm_each, &rm, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	if (!rm.force) {
		_cleanup_free_ char *warning = NULL;
		if (asprintf(&warning, "WARNING! This will remove %s local volumes not used by at least one container.",
			     rm.all ? "all" : "anonymous") < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		if (!verbs_confirm(warning))
			return 0;
	}
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	struct proto_volume_ref_params p = {.all = rm.all};
	if ((r = conn_open(cctl->socket_path, &conn, reterr)) < 0 ||
	    (r = conn_call_ok(&conn, PROTO_M_VOLUME_PRUNE, proto_volume_ref_params_encode(PROTO_M_VOLUME_PRUNE, &p),
			      NULL, 0, &reply, reterr)) < 0)
		return r;
	json_t *removed = json_object_get(reply.msg.result, "removed"), *v;
	size_t i;
	char size[32];
	if (json_array_size(removed))
		printf("Deleted Volumes:\n");
	json_array_foreach(removed, i, v) printf("%s\n", json_string_value(v));
	if (json_array_size(removed))
		printf("\n");
	format_size((uint64_t)json_integer_value(json_object_get(reply.msg.result, "space_reclaimed")), size,
		    sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	return 0;
}
