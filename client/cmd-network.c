/* cctl network create|ls|inspect|rm|prune, as docker network: the daemon keeps the networks,
 * filters them and sends them in Docker's shape; cctl formats them. (connect and disconnect: the
 * containers' side, client/cmd-network-connect.c, in client/main.c's network_verbs.) */
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
#include "protocol/network.h"

enum {
	NET_HELP = 1,
	NET_SUBNET,
	NET_GATEWAY,
	NET_INTERNAL,
	NET_LABEL,
	NET_DRIVER,
	NET_QUIET,
	NET_FILTER,
	NET_FORMAT,
	NET_NO_TRUNC,
	NET_FORCE,
};

struct create_opts {
	struct proto_network_create_params p;
	size_t n_labels;
};

static int create_each(struct opts *o, int key, void *data, char **reterr)
{
	struct create_opts *c = data;
	switch (key) {
	case NET_SUBNET:
		if (c->p.subnet)
			return opts_invalid_argument(o, reterr, "only one subnet (IPv4) is supported");
		c->p.subnet = o->arg;
		break;
	case NET_GATEWAY:
		if (c->p.gateway)
			return opts_invalid_argument(o, reterr, "only one gateway is supported");
		c->p.gateway = o->arg;
		break;
	case NET_INTERNAL:
		c->p.internal = o->flag;
		break;
	case NET_DRIVER:
		c->p.driver = o->arg;
		break;
	case NET_LABEL:
		if (verbs_label_append(&c->p.labels, &c->n_labels, o->arg) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		break;
	}
	return 0;
}

int cmd_network_create(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {{NET_SUBNET, 0, "subnet", OPT_VALUE},
					     {NET_GATEWAY, 0, "gateway", OPT_VALUE},
					     {NET_INTERNAL, 0, "internal", OPT_FLAG},
					     {NET_LABEL, 0, "label", OPT_VALUE},
					     {NET_DRIVER, 'd', "driver", OPT_VALUE},
					     {NET_HELP, 0, "help", OPT_FLAG},
					     {}};
	_cleanup_(opts_done) struct opts o;
	struct create_opts c = {0};
	int r =
	    opts_parse_verb(&o, options, "network create", argc, argv, NET_HELP,
			    "Usage:  cctl network create [OPTIONS] NETWORK\n\nCreate a network\n\nOptions:\n"
			    "  -d, --driver string    Driver to manage the Network (default \"bridge\", the only one)\n"
			    "      --gateway string   IPv4 Gateway for the master subnet\n"
			    "      --internal         Restrict external access to the network\n"
			    "      --label list       Set metadata on a network\n"
			    "      --subnet string    Subnet in CIDR format that represents a network segment\n",
			    OPTS_OPERANDS_ANY, create_each, &c, reterr);
	_cleanup_strv_free_ char **labels = c.p.labels;
	if (r == 0 && o.n_operands != 1)
		r = opts_usage_error(reterr, "network create", "\"cctl network create\" requires exactly 1 argument.");
	if (r != 0)
		return r > 0 ? 0 : r;
	c.p.name = o.operands[0];
	return verbs_create(cctl->socket_path, PROTO_M_NETWORK_CREATE, proto_network_create_params_encode(&c.p), "id",
			    reterr);
}

struct ls_opts {
	bool quiet, no_trunc;
	const char *format;
	json_t *filters; /* {"KEY": [VALUE, ...]} for network.list */
};

static int ls_each(struct opts *o, int key, void *data, char **reterr)
{
	struct ls_opts *l = data;
	if (key == NET_QUIET)
		l->quiet = o->flag;
	else if (key == NET_NO_TRUNC)
		l->no_trunc = o->flag;
	else if (key == NET_FORMAT)
		l->format = o->arg;
	else if (key == NET_FILTER) {
		/* The daemon checks the keys and values (Docker's messages, exit status 1). */
		int r = proto_network_filter_add(l->filters, o->arg);
		if (r == -ENOMEM)
			return err_set(reterr, r, "out of memory");
		if (r < 0)
			return err_set(reterr, r, "bad format of filter (expected name=value)");
	}
	return 0;
}

/* A network as `docker network ls --format` sees it: ID, Name, Driver, Scope, IPv6, Internal,
 * Labels ("k=v,..."), CreatedAt. */
static json_t *ls_row(json_t *v, bool no_trunc)
{
	const char *id = json_string_value(json_object_get(v, "Id"));
	char short_id[13], labels[1024] = "";
	size_t used = 0;
	const char *key;
	json_t *val;
	snprintf(short_id, sizeof(short_id), "%.12s", id ? id : "");
	json_object_foreach(json_object_get(v, "Labels"), key, val)
	{
		int w = snprintf(labels + used, sizeof(labels) - used, "%s%s=%s", used ? "," : "", key,
				 json_string_value(val) ? json_string_value(val) : "");
		if (w < 0 || (size_t)w >= sizeof(labels) - used)
			break;
		used += (size_t)w;
	}
	return json_pack("{s:s, s:O?, s:O?, s:O?, s:s, s:s, s:s, s:O?}", "ID", no_trunc && id ? id : short_id, "Name",
			 json_object_get(v, "Name"), "Driver", json_object_get(v, "Driver"), "Scope",
			 json_object_get(v, "Scope"), "IPv6", "false", "Internal",
			 json_is_true(json_object_get(v, "Internal")) ? "true" : "false", "Labels", labels, "CreatedAt",
			 json_object_get(v, "Created"));
}

int cmd_network_ls(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {NET_QUIET, 'q', "quiet", OPT_FLAG},  {NET_FILTER, 'f', "filter", OPT_VALUE},
	    {NET_FORMAT, 0, "format", OPT_VALUE}, {NET_NO_TRUNC, 0, "no-trunc", OPT_FLAG},
	    {NET_HELP, 0, "help", OPT_FLAG},	  {}};
	_cleanup_(opts_done) struct opts o;
	json_auto_t *filters = json_object();
	struct ls_opts l = {.filters = filters};
	if (!filters)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = opts_parse_verb(&o, options, "network ls", argc, argv, NET_HELP,
				"Usage:  cctl network ls [OPTIONS]\n\nList networks\n\nOptions:\n"
				"  -f, --filter filter   Provide filter values (e.g. \"driver=bridge\"): name, id,\n"
				"                        driver, label=KEY[=VALUE], type=custom|builtin, scope=local\n"
				"      --format string   Format output using a template, or json\n"
				"      --no-trunc        Do not truncate the output\n"
				"  -q, --quiet           Only display network IDs\n",
				OPTS_OPERANDS_NONE, ls_each, &l, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	_cleanup_(template_freep) struct template *t = NULL;
	if ((r = template_parse_format(l.format, &t, reterr)) < 0)
		return r;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	if ((r = verbs_call(cctl->socket_path, &conn, PROTO_M_NETWORK_LIST, json_pack("{s:O}", "filters", filters),
			    &reply, reterr)) != 0)
		return r;
	_cleanup_table_ struct table *tab = table_new(4);
	if (!tab)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (!l.quiet && !l.format &&
	    table_add_row(tab, (const char *const[]){"NETWORK ID", "NAME", "DRIVER", "SCOPE"}) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	json_t *nets = json_object_get(reply.msg.result, "networks"), *v;
	size_t i;
	json_array_foreach(nets, i, v)
	{
		json_auto_t *row = ls_row(v, l.no_trunc);
		if ((r = verbs_row(l.quiet, l.format, t, row, "ID", reterr)) <= 0) {
			if (r < 0)
				return r;
			continue;
		}
		const char *cells[] = {json_string_value(json_object_get(row, "ID")),
				       json_string_value(json_object_get(row, "Name")),
				       json_string_value(json_object_get(row, "Driver")),
				       json_string_value(json_object_get(row, "Scope"))};
		if (table_add_row(tab, cells) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (!l.quiet && !l.format && (r = table_print(tab, stdout)) < 0)
		return r;
	return 0;
}

static int format_each(struct opts *o, int key, void *data, char **reterr)
{
	if (key == NET_FORMAT)
		*(const char **)data = o->arg;
	return 0;
}

/* network.inspect's params for one network. */
static json_t *inspect_params(const char *method, const char *name)
{
	(void)method;
	return proto_network_ref_params_encode(name);
}

int cmd_network_inspect(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {
	    {NET_FORMAT, 'f', "format", OPT_VALUE}, {NET_HELP, 0, "help", OPT_FLAG}, {}};
	static const struct verbs_inspect_ops verb = {.method = PROTO_M_NETWORK_INSPECT,
						      .params = inspect_params,
						      .dump_flags = JSON_INDENT(4) | JSON_PRESERVE_ORDER};
	_cleanup_(opts_done) struct opts o;
	const char *format = NULL;
	int r = opts_parse_verb(&o, options, "network inspect", argc, argv, NET_HELP,
				"Usage:  cctl network inspect [OPTIONS] NETWORK [NETWORK...]\n\nDisplay detailed "
				"information on one or more networks\n\n"
				"Options:\n  -f, --format string   Format output using a template, or json\n",
				OPTS_OPERANDS_SOME, format_each, &format, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	return verbs_inspect(cctl->socket_path, &verb, format, o.operands, o.n_operands, reterr);
}

static int no_each(struct opts *o, int key, void *data, char **reterr)
{
	if (key == NET_FORCE)
		*(bool *)data = o->flag;
	return 0;
}

/* Removes one network: its name printed, or the daemon's refusal (none with --force for a
 * network that does not exist). */
static int rm_one(struct conn *conn, const char *name, void *data, char **reterr)
{
	const bool *force = data;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	_cleanup_free_ char *err = NULL;
	int r = conn_call(conn, PROTO_M_NETWORK_REMOVE, proto_network_ref_params_encode(name), NULL, 0, &reply, reterr);
	if (r < 0)
		return r;
	if (conn_reply_check(&reply, &err) < 0) {
		if (*force && reply.msg.error_code && strcmp(reply.msg.error_code, PROTO_E_NOT_FOUND) == 0)
			return 0;
		fprintf(stderr, "cctl: %s\n", err);
		return 1;
	}
	printf("%s\n", name);
	return 0;
}

int cmd_network_rm(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {{NET_FORCE, 'f', "force", OPT_FLAG}, {NET_HELP, 0, "help", OPT_FLAG}, {}};
	_cleanup_(opts_done) struct opts o;
	bool force = false;
	int r = opts_parse_verb(&o, options, "network rm", argc, argv, NET_HELP,
				"Usage:  cctl network rm NETWORK [NETWORK...]\n\nRemove one or more networks\n\n"
				"Options:\n  -f, --force   Do not error if the network does not exist\n",
				OPTS_OPERANDS_SOME, no_each, &force, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	return verbs_operands(cctl->socket_path, o.operands, o.n_operands, rm_one, &force, reterr);
}

int cmd_network_prune(struct cctl *cctl, int argc, char **argv, char **reterr)
{
	static const struct opt options[] = {{NET_FORCE, 'f', "force", OPT_FLAG}, {NET_HELP, 0, "help", OPT_FLAG}, {}};
	_cleanup_(opts_done) struct opts o;
	bool force = false;
	int r = opts_parse_verb(&o, options, "network prune", argc, argv, NET_HELP,
				"Usage:  cctl network prune [OPTIONS]\n\nRemove all unused networks\n\nOptions:\n"
				"  -f, --force   Do not prompt for confirmation\n",
				OPTS_OPERANDS_NONE, no_each, &force, reterr);
	if (r != 0)
		return r > 0 ? 0 : r;
	if (!force &&
	    !verbs_confirm("WARNING! This will remove all custom networks not used by at least one container."))
		return 0;
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	if ((r = verbs_call(cctl->socket_path, &conn, PROTO_M_NETWORK_PRUNE, json_object(), &reply, reterr)) != 0)
		return r;
	json_t *deleted = json_object_get(reply.msg.result, "deleted"), *v;
	size_t i;
	if (json_array_size(deleted))
		printf("Deleted Networks:\n");
	json_array_foreach(deleted, i, v) printf("%s\n", json_string_value(v));
	return 0;
}
