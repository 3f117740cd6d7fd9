/* container.list: each container's entry kept encoded, joined into one reply line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "daemon/api-internal.h"
#include "daemon/container.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/list.h"
#include "protocol/messages.h"
#include "protocol/protocol.h"

/* A container's container.list entry, encoded, and what it was encoded from: every field of the
 * entry that can change after the run. One allocation, freed with the container. */
struct api_list_entry {
	const char *state; /* container_state_label(): static strings */
	const char *error; /* set once, kept until the container is freed */
	int64_t pid;
	struct timespec started, finished;
	int exit_code, signal;
	bool oom_killed;
	size_t len;         /* of the entry, which follows the name */
	size_t summary_len; /* of the summary entry, which follows the entry */
	char data[];        /* the name, NUL, the entry (compact JSON), NUL, the summary entry, NUL */
};

static bool list_entry_fresh(const struct api_list_entry *e, const struct container *ct, int64_t pid)
{
	return e->state == container_state_label(ct) && e->error == ct->error && e->pid == pid &&
	       e->exit_code == ct->exit_code && e->signal == ct->signal && e->oom_killed == ct->oom_killed &&
	       e->started.tv_sec == ct->started.tv_sec && e->started.tv_nsec == ct->started.tv_nsec &&
	       e->finished.tv_sec == ct->finished.tv_sec && e->finished.tv_nsec == ct->finished.tv_nsec &&
	       strcmp(e->data, ct->name) == 0;
}

/* The container's list entries: inspect's result without "security" (the bulk of it, and what a
 * listing never shows), and the summary cctl ps asks for (half the bytes to send and to scan),
 * encoded once and again only when one of their fields changed, so that listing hundreds of
 * containers costs copies rather than encodings. */
static const struct api_list_entry *list_entry(struct container *ct)
{
	int64_t pid = ct->state == CONTAINER_RUNNING ? ct->proc.pid : 0;
	if (ct->list_entry && list_entry_fresh(ct->list_entry, ct, pid))
		return ct->list_entry;
	json_auto_t *info = api_container_info_full(ct, false);
	json_auto_t *summary = info ? proto_container_summary_from_info(info) : NULL;
	_cleanup_free_ char *text = info ? json_dumps(info, JSON_COMPACT) : NULL;
	_cleanup_free_ char *summary_text = summary ? json_dumps(summary, JSON_COMPACT) : NULL;
	if (!text || !summary_text)
		return NULL;
	size_t name_len = strlen(ct->name), len = strlen(text), summary_len = strlen(summary_text);
	struct api_list_entry *e = malloc(sizeof(*e) + name_len + 1 + len + 1 + summary_len + 1);
	if (!e)
		return NULL;
	*e = (struct api_list_entry){ .state = container_state_label(ct), .error = ct->error, .pid = pid,
				      .started = ct->started, .finished = ct->finished, .exit_code = ct->exit_code,
				      .signal = ct->signal, .oom_killed = ct->oom_killed, .len = len,
				      .summary_len = summary_len };
	memcpy(e->data, ct->name, name_len + 1);
	memcpy(e->data + name_len + 1, text, len + 1);
	memcpy(e->data + name_len + 1 + len + 1, summary_text, summary_len + 1);
	free(ct->list_entry);
	ct->list_entry = e;
	return e;
}

void api_list(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	struct proto_ref_params p;
	_cleanup_free_ char *err = NULL;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_ref_params_decode(req->method, req->params, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	size_t n = 0, len = 0;
	for (struct container *ct = api->reg->list; ct; ct = ct->next)
		n++;
	_cleanup_free_ const char **entries = calloc(n ? n : 1, sizeof(*entries));
	_cleanup_free_ size_t *lens = calloc(n ? n : 1, sizeof(*lens));
	bool ok = entries && lens;
	n = 0;
	for (struct container *ct = api->reg->list; ok && ct; ct = ct->next) {
		/* Without all, as docker ps: running, paused and restarting ones. */
		if (ct->removing || !(p.all || ct->state == CONTAINER_RUNNING || ct->ev_restart || ct->policy_starting))
			continue;
		const struct api_list_entry *e = list_entry(ct);
		ok = e != NULL;
		if (ok) {
			const char *entry = e->data + strlen(e->data) + 1;
			entries[n] = p.summary ? entry + e->len + 1 : entry;
			lens[n++] = p.summary ? e->summary_len : e->len;
		}
	}
	/* NULL (out of memory, or more than one reply holds) is answered with an error. */
	char *line = ok ? proto_container_list_reply(req->id, entries, lens, n, &len) : NULL;
	conn_send_line(c, req->id, line, len);
}
