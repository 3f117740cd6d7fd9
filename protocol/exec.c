#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/parse.h"
#include "protocol/exec.h"
#include "protocol/field.h"

static const char *const exec_params_keys[] = { "id", "privileged", "detach", NULL };
static const char *const exec_process_keys[] = {
	"cmd", "env", "workdir", "user", "stdio", "interactive", "tty_rows", "tty_cols", NULL,
};

/* What the daemon relies on: a command, KEY=VALUE entries, an absolute working directory and a
 * user it can resolve, stdio it knows. The strings reach the exec process, which is root in the
 * container until it switches to the user: each is checked here as container.run checks its own. */
int proto_exec_params_decode(json_t *params, struct proto_exec_params *ret, char **reterr)
{
	struct proto_process_params *proc = &ret->proc;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(params))
		return err_set(reterr, -EINVAL, PROTO_M_EXEC " params must be an object");
	if ((r = field_check_known(params, exec_params_keys, exec_process_keys, PROTO_M_EXEC " params", reterr)) < 0 ||
	    (r = field_dup_string(params, "id", true, &ret->ref, reterr)) < 0 ||
	    (r = proto_process_params_decode(params, proc, reterr)) < 0 ||
	    (r = field_get_bool(params, "privileged", &ret->privileged, reterr)) < 0 ||
	    (r = field_get_bool(params, "detach", &ret->detach, reterr)) < 0)
		goto fail;
	/* An exec's output goes to its client (or nowhere): only a container has a log. */
	if (proc->stdio == PROTO_STDIO_LOG) {
		r = err_set(reterr, -EINVAL, "parameter \"stdio\" of " PROTO_M_EXEC " must be \"fds\", \"pty\" or \"null\"");
		goto fail;
	}
	if (!proc->cmd || !proc->cmd[0][0]) {
		r = err_set(reterr, -EINVAL, "parameter \"cmd\" is required and must not be empty");
		goto fail;
	}
	if (proc->workdir && proc->workdir[0] != '/') {
		r = err_set(reterr, -EINVAL, "the working directory \"%.64s\" is not an absolute path", proc->workdir);
		goto fail;
	}
	if (proc->user && !user_spec_valid(proc->user)) {
		r = err_set(reterr, -EINVAL, "invalid user \"%.64s\": expected NAME|UID[:GROUP|GID]", proc->user);
		goto fail;
	}
	return 0;
fail:
	proto_exec_params_done(ret);
	return r;
}

json_t *proto_exec_params_encode(const struct proto_exec_params *p)
{
	json_t *o = json_pack("{s:s}", "id", p->ref);
	if (!o)
		return NULL;
	proto_process_params_encode(&p->proc, o);
	if (p->privileged)
		json_object_set_new(o, "privileged", json_true());
	if (p->detach)
		json_object_set_new(o, "detach", json_true());
	return o;
}

void proto_exec_params_done(struct proto_exec_params *p)
{
	free(p->ref);
	proto_process_params_done(&p->proc);
	memset(p, 0, sizeof(*p));
}

unsigned proto_exec_params_nfds(const struct proto_exec_params *p)
{
	return proto_stdio_nfds(p->proc.stdio, p->proc.interactive);
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
