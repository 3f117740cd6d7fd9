#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/list.h"
#include "protocol/protocol.h"

char *proto_container_list_reply(json_t *id, const char *const *entries, const size_t *lens, size_t n,
				 size_t *ret_len)
{
	_cleanup_free_ char *id_text = json_dumps(id ? id : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
	_cleanup_free_ char *head = NULL;
	static const char tail[] = "]}}\n";
	if (!id_text || asprintf(&head, "{\"v\":%d,\"id\":%s,\"result\":{\"containers\":[", PROTOCOL_VERSION,
				 id_text) < 0)
		return NULL;
	size_t head_len = strlen(head), len = head_len + strlen(tail);
	for (size_t i = 0; i < n; i++)
		len += lens[i] + (i > 0);
	if (len > PROTO_MAX_MESSAGE)
		return NULL;
	char *line = malloc(len + 1), *p = line;
	if (!line)
		return NULL;
	p = mempcpy(p, head, head_len);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		p = mempcpy(p, entries[i], lens[i]);
	}
	memcpy(p, tail, sizeof(tail));
	*ret_len = len;
	return line;
}

/* A string member: NULL when null; -EBADMSG when of another type. */
static int get_string(const struct jsonscan_tok *t, const char *key, const char **ret, char **reterr)
{
	if (t->type == JSONSCAN_NULL)
		*ret = NULL;
	else if (t->type == JSONSCAN_STRING)
		*ret = t->s;
	else
		return err_set(reterr, -EBADMSG, "parameter \"%s\" must be a string", key);
	return 0;
}

/* One entry, in one pass over its members: the fields cctl ps uses, checked as
 * proto_container_info_decode() checks them; cmd and labels point into strs, which has room for
 * every string token. */
static int decode_entry(const struct jsonscan *js, size_t obj, struct proto_container_summary *c,
			const char **strs, size_t *used, char **reterr)
{
	static const char *const keys[] = { "id", "name", "image", "state", "created_at", "started_at", "finished_at" };
	const char **fields[] = { &c->id, &c->name, &c->image, &c->state, &c->created_at, &c->started_at,
				  &c->finished_at };
	int r;
	if (js->tok[obj].type != JSONSCAN_OBJECT)
		return err_set(reterr, -EBADMSG, "container info must be an object");
	for (size_t k = obj + 1; k < js->tok[obj].next; k = js->tok[k + 1].next) {
		const char *key = js->tok[k].s;
		const struct jsonscan_tok *v = &js->tok[k + 1];
		int64_t code = 0;
		/* The first letter rules most keys out without a strcmp. */
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (key[0] == keys[i][0] && strcmp(key, keys[i]) == 0 &&
			    (r = get_string(v, key, fields[i], reterr)) < 0)
				return r;
		if (strcmp(key, "exit_code") == 0 && v->type != JSONSCAN_NULL) {
			if (!jsonscan_int(v, &code) || code < 0 || code > 255)
				return err_set(reterr, -EBADMSG, "parameter \"exit_code\" must be an integer from 0 to 255");
			c->exit_code = (int)code;
		} else if (strcmp(key, "cmd") == 0 && v->type == JSONSCAN_ARRAY) {
			c->cmd = strs + *used;
			for (size_t i = k + 2; i < v->next; i = js->tok[i].next)
				strs[(*used)++] = js->tok[i].type == JSONSCAN_STRING ? js->tok[i].s : "";
			c->n_cmd = v->count;
		} else if (strcmp(key, "labels") == 0 && v->type != JSONSCAN_NULL) {
			if (v->type != JSONSCAN_OBJECT)
				return err_set(reterr, -EBADMSG, "\"labels\" must be an object");
			c->labels = strs + *used;
			for (size_t i = k + 2; i < v->next; i = js->tok[i + 1].next) {
				if (js->tok[i + 1].type != JSONSCAN_STRING)
					return err_set(reterr, -EBADMSG, "the value of label \"%.64s\" must be a string",
						       js->tok[i].s);
				strs[(*used)++] = js->tok[i].s;
				strs[(*used)++] = js->tok[i + 1].s;
			}
			c->n_labels = v->count;
		}
	}
	for (size_t i = 0; i < 4; i++)
		if (!*fields[i])
			return err_set(reterr, -EBADMSG, "missing parameter \"%s\"", keys[i]);
	return 0;
}

int proto_container_list_decode(char *line, size_t len, int64_t id, struct proto_container_list *ret,
				char **reterr)
{
	_cleanup_free_ char *err = NULL;
	struct proto_container_list l = { .n = 0 };
	int64_t v = 0, rid = -1;
	int r = jsonscan_parse(line, len, &l.js, &err);
	if (r < 0)
		return err_set(reterr, r == -ENOMEM ? r : -EBADMSG, "invalid message from containd: %s", err);
	long tv = jsonscan_member(&l.js, 0, "v"), tid = jsonscan_member(&l.js, 0, "id");
	long tres = jsonscan_member(&l.js, 0, "result");
	long items = tres < 0 ? -1 : jsonscan_member(&l.js, (size_t)tres, "containers");
	/* Anything but a plain result to this request goes the generic way, which knows them all. */
	if (tv < 0 || !jsonscan_int(&l.js.tok[tv], &v) || v != PROTOCOL_VERSION || tid < 0 ||
	    !jsonscan_int(&l.js.tok[tid], &rid) || rid != id || items < 0 || l.js.tok[items].type != JSONSCAN_ARRAY ||
	    jsonscan_member(&l.js, 0, "event") >= 0 || jsonscan_member(&l.js, 0, "error") >= 0 ||
	    jsonscan_member(&l.js, 0, "fds") >= 0) {
		jsonscan_done(&l.js);
		return 0;
	}
	size_t n_strings = 0;
	for (size_t i = 0; i < l.js.n; i++)
		n_strings += l.js.tok[i].type == JSONSCAN_STRING;
	l.n = l.js.tok[items].count;
	l.items = calloc(l.n ? l.n : 1, sizeof(*l.items));
	l.strs = calloc(n_strings ? n_strings : 1, sizeof(*l.strs));
	if (!l.items || !l.strs) {
		proto_container_list_done(&l);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	size_t used = 0, k = 0;
	for (size_t i = (size_t)items + 1; i < l.js.tok[items].next; i = l.js.tok[i].next, k++)
		if ((r = decode_entry(&l.js, i, &l.items[k], l.strs, &used, &err)) < 0) {
			proto_container_list_done(&l);
			return err_set(reterr, r, "invalid reply to container.list: %s", err);
		}
	*ret = l;
	return 1;
}

void proto_container_list_done(struct proto_container_list *l)
{
	jsonscan_done(&l->js);
	free(l->items);
	free(l->strs);
	memset(l, 0, sizeof(*l));
}
