/* The per-operand and per-row logic cctl's network and volume verbs share (client/verbs.h). */
#include "client/verbs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"

int verbs_call(const char *socket_path, struct conn *conn, const char *method, json_t *params, struct conn_msg *reply,
	       char **reterr)
{
	int r = conn_open(socket_path, conn, reterr);
	if (r < 0) {
		json_decref(params);
		return r;
	}
	return conn_call_report(conn, method, params, reply, reterr);
}

int verbs_create(const char *socket_path, const char *method, json_t *params, const char *key, char **reterr)
{
	_cleanup_conn_ struct conn conn = CONN_INIT;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	int r;
	if (!params)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = verbs_call(socket_path, &conn, method, params, &reply, reterr)) != 0)
		return r;
	printf("%s\n", json_string_value(json_object_get(reply.msg.result, key)));
	return 0;
}

int verbs_operands(const char *socket_path, char *const *names, size_t n, verbs_operand_fn fn, void *data,
		   char **reterr)
{
	_cleanup_conn_ struct conn conn = CONN_INIT;
	bool failed = false;
	int r;
	if ((r = conn_open(socket_path, &conn, reterr)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((r = fn(&conn, names[i], data, reterr)) < 0)
			return r;
		if (r > 0)
			failed = true;
	}
	return failed ? 1 : 0;
}

struct verbs_inspect_state {
	const struct verbs_inspect_ops *verb;
	const char *format;
	const struct template *t;
	json_t *all;
};

/* verbs_inspect()'s step for one name: prints its shaped result or adds it to the array. */
static int verbs_inspect_one(struct conn *conn, const char *name, void *data, char **reterr)
{
	struct verbs_inspect_state *s = data;
	_cleanup_conn_msg_ struct conn_msg reply = CONN_MSG_INIT;
	int r = conn_call_report(conn, s->verb->method, s->verb->params(s->verb->method, name), &reply, reterr);
	if (r != 0)
		return r;
	json_t *shown = s->verb->shape ? s->verb->shape(reply.msg.result) : json_incref(reply.msg.result);
	if (s->format) {
		r = template_print(s->t, shown, reterr);
		json_decref(shown);
		return r < 0 ? r : 0;
	}
	if (!shown || json_array_append_new(s->all, shown) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

int verbs_inspect(const char *socket_path, const struct verbs_inspect_ops *verb, const char *format, char *const *names,
		  size_t n, char **reterr)
{
	_cleanup_(template_freep) struct template *t = NULL;
	int r;
	if ((r = template_parse_format(format, &t, reterr)) < 0)
		return r;
	json_auto_t *all = json_array();
	if (!all)
		return err_set(reterr, -ENOMEM, "out of memory");
	struct verbs_inspect_state s = {.verb = verb, .format = format, .t = t, .all = all};
	int status = verbs_operands(socket_path, names, n, verbs_inspect_one, &s, reterr);
	if (status < 0)
		return status;
	if (!format) {
		_cleanup_free_ char *out = json_dumps(all, verb->dump_flags);
		if (!out)
			return err_set(reterr, -ENOMEM, "out of memory");
		printf("%s\n", out);
	}
	return status;
}

int verbs_row(bool quiet, const char *format, const struct template *t, json_t *row, const char *quiet_key,
	      char **reterr)
{
	if (!row)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (quiet) {
		printf("%s\n", json_string_value(json_object_get(row, quiet_key)));
		return 0;
	}
	if (format) {
		int r = template_print(t, row, reterr);
		return r < 0 ? r : 0;
	}
	return 1;
}

int verbs_label_append(char ***labels, size_t *n, const char *arg)
{
	char **nv = reallocarray(*labels, *n + 2, sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*labels = nv;
	if (strchr(arg, '='))
		nv[*n] = strdup(arg);
	else if (asprintf(&nv[*n], "%s=", arg) < 0)
		nv[*n] = NULL;
	nv[++*n] = NULL;
	return nv[*n - 1] ? 0 : -ENOMEM;
}

bool verbs_confirm(const char *warning)
{
	char answer[16] = "";
	printf("%s\nAre you sure you want to continue? [y/N] ", warning);
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
		printf("\n");
		return false;
	}
	return true;
}
