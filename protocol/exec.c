#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"
#include "protocol/exec.h"
#include "protocol/field.h"

static const char *const exec_params_keys[] = {
	"id", "cmd", "env", "workdir", "user", "stdio", "interactive", "privileged", "detach", "tty_rows", "tty_cols",
	NULL,
};

/* What the daemon relies on: a command, KEY=VALUE entries, an absolute working directory and a
 * user it can resolve, stdio it knows. The strings reach the exec process, which is root in the
 * container until it switches to the user: each is checked here as container.run checks its own. */
int proto_exec_params_decode(json_t *params, struct proto_exec_params *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	ret->stdio = PROTO_STDIO_FDS;
	const char *stdio = NULL;
	int64_t rows = 0, cols = 0;
	int r;

	if (!json_is_object(params))
		return err_set(reterr, -EINVAL, PROTO_M_EXEC " params must be an object");
	if ((r = field_check_known(params, exec_params_keys, NULL, PROTO_M_EXEC " params", reterr)) < 0 ||
	    (r = field_dup_string(params, "id", true, &ret->ref, reterr)) < 0 ||
	    (r = field_get_strv(params, "cmd", 4096, &ret->cmd, reterr)) < 0 ||
	    (r = field_get_strv(params, "env", 4096, &ret->env, reterr)) < 0 ||
	    (r = field_dup_string(params, "workdir", false, &ret->workdir, reterr)) < 0 ||
	    (r = field_dup_string(params, "user", false, &ret->user, reterr)) < 0 ||
	    (r = field_get_string(params, "stdio", false, &stdio, reterr)) < 0 ||
	    (r = field_get_bool(params, "interactive", &ret->interactive, reterr)) < 0 ||
	    (r = field_get_bool(params, "privileged", &ret->privileged, reterr)) < 0 ||
	    (r = field_get_bool(params, "detach", &ret->detach, reterr)) < 0 ||
	    (r = field_get_int(params, "tty_rows", 0, 65535, &rows, reterr)) < 0 ||
	    (r = field_get_int(params, "tty_cols", 0, 65535, &cols, reterr)) < 0 ||
	    (stdio && (r = proto_stdio_parse(stdio, &ret->stdio, reterr)) < 0))
		goto fail;
	if (!ret->cmd || !ret->cmd[0] || !ret->cmd[0][0]) {
		r = err_set(reterr, -EINVAL, "parameter \"cmd\" is required and must not be empty");
		goto fail;
	}
	for (char **e = ret->env; e && *e; e++)
		if (!strchr(*e, '=') || **e == '=') {
			r = err_set(reterr, -EINVAL, "environment entry \"%.64s\" is not KEY=VALUE", *e);
			goto fail;
		}
	if (ret->workdir && ret->workdir[0] != '/') {
		r = err_set(reterr, -EINVAL, "the working directory \"%.64s\" is not an absolute path", ret->workdir);
		goto fail;
	}
	if (ret->user && !user_spec_valid(ret->user)) {
		r = err_set(reterr, -EINVAL, "invalid user \"%.64s\": expected NAME|UID[:GROUP|GID]", ret->user);
		goto fail;
	}
	ret->tty_rows = (unsigned short)rows;
	ret->tty_cols = (unsigned short)cols;
	return 0;
fail:
	proto_exec_params_done(ret);
	return r;
}

json_t *proto_exec_params_encode(const struct proto_exec_params *p)
{
	json_t *o = json_pack("{s:s, s:o, s:s, s:b}", "id", p->ref, "cmd", field_strv_to_json(p->cmd), "stdio",
			      proto_stdio_name(p->stdio), "interactive", p->interactive);
	if (!o)
		return NULL;
	if (p->env)
		json_object_set_new(o, "env", field_strv_to_json(p->env));
	if (p->workdir)
		json_object_set_new(o, "workdir", json_string(p->workdir));
	if (p->user)
		json_object_set_new(o, "user", json_string(p->user));
	if (p->privileged)
		json_object_set_new(o, "privileged", json_true());
	if (p->detach)
		json_object_set_new(o, "detach", json_true());
	if (p->tty_rows && p->tty_cols) {
		json_object_set_new(o, "tty_rows", json_integer(p->tty_rows));
		json_object_set_new(o, "tty_cols", json_integer(p->tty_cols));
	}
	return o;
}

void proto_exec_params_done(struct proto_exec_params *p)
{
	free(p->ref);
	strv_free(p->cmd);
	strv_free(p->env);
	free(p->workdir);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

unsigned proto_exec_params_nfds(const struct proto_exec_params *p)
{
	if (p->stdio != PROTO_STDIO_FDS)
		return 0;
	return p->interactive ? 3 : 2;
}

json_t *proto_exec_result_encode(const char *exec_id)
{
	return json_pack("{s:s}", "exec_id", exec_id);
}

int proto_exec_result_decode(json_t *result, const char **ret_exec_id, char **reterr)
{
	return field_get_string(result, "exec_id", true, ret_exec_id, reterr);
}

json_t *proto_exec_exit_encode(const struct proto_exec_exit *e)
{
	json_t *o = json_pack("{s:s, s:s, s:i}", "exec_id", e->exec_id, "id", e->id, "exit_code", e->exit_code);
	if (o && e->signal)
		json_object_set_new(o, "signal", json_integer(e->signal));
	return o;
}

int proto_exec_exit_decode(json_t *params, struct proto_exec_exit *ret, char **reterr)
{
	memset(ret, 0, sizeof(*ret));
	int64_t code = -1, sig = 0;
	int r;
	if ((r = field_get_string(params, "exec_id", true, &ret->exec_id, reterr)) < 0 ||
	    (r = field_get_string(params, "id", true, &ret->id, reterr)) < 0 ||
	    (r = field_get_int(params, "exit_code", 0, 255, &code, reterr)) < 0 ||
	    (r = field_get_int(params, "signal", 0, 128, &sig, reterr)) < 0)
		return r;
	if (code < 0)
		return err_set(reterr, -EINVAL, "missing parameter \"exit_code\"");
	ret->exit_code = (int)code;
	ret->signal = (int)sig;
	return 0;
}
