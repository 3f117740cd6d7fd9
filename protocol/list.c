#include <errno.h>
#include <inttypes.h>
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
	if (len > PROTO_MAX_REPLY)
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

json_t *proto_container_summary_from_info(json_t *info)
{
	/* Every key decode_entry() reads, and nothing else. */
	static const char *const keys[] = { "id",	  "name",	 "image",	"state",     "created_at",
					     "started_at", "finished_at", "exit_code", "cmd", "labels", "ports_summary" };
	json_t *o = json_object();
	for (size_t i = 0; o && i < ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(info, keys[i]);
		if (v && json_object_set(o, keys[i], v) < 0)
			json_decref(o), o = NULL;
	}
	return o;
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
	static const char *const keys[] = { "id",	  "name",	 "image", "state",
					     "created_at", "started_at", "finished_at", "ports_summary" };
	const char **fields[] = { &c->id, &c->name, &c->image, &c->state, &c->created_at, &c->started_at,
				  &c->finished_at, &c->ports };
	int r;
	if (js->tok[obj].type != JSONSCAN_OBJECT)
		return err_set(reterr, -EBADMSG, "container info must be an object");
	for (size_t k = obj + 1; k < js->tok[obj].next; k = js->tok[k + 1].next) {
		const char *key = js->tok[k].s;
		const struct jsonscan_tok *v = &js->tok[k + 1];
		int64_t code = 0;
		/* The first letter rules most keys out without a strcmp. */
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (key[0] == keys[i][0] && strcmp(key, keys[i]) == 0) {
				if ((r = get_string(v, key, fields[i], reterr)) < 0)
					return r;
				goto next;
			}
		if (key[0] == 'e' && strcmp(key, "exit_code") == 0 && v->type != JSONSCAN_NULL) {
			if (!jsonscan_int(v, &code) || code < 0 || code > 255)
				return err_set(reterr, -EBADMSG, "parameter \"exit_code\" must be an integer from 0 to 255");
			c->exit_code = (int)code;
		} else if (key[0] == 'c' && strcmp(key, "cmd") == 0 && v->type == JSONSCAN_ARRAY) {
			c->cmd = strs + *used;
			for (size_t i = k + 2; i < v->next; i = js->tok[i].next)
				strs[(*used)++] = js->tok[i].type == JSONSCAN_STRING ? js->tok[i].s : "";
			c->n_cmd = v->count;
		} else if (key[0] == 'l' && strcmp(key, "labels") == 0 && v->type != JSONSCAN_NULL) {
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
next:;
	}
	for (size_t i = 0; i < 4; i++)
		if (!*fields[i])
			return err_set(reterr, -EBADMSG, "missing parameter \"%s\"", keys[i]);
	return 0;
}

/* What a list grows while entries are decoded: cmd and labels are kept as offsets into strs (it
 * moves as it grows) and made pointers at the end. */
struct list_builder {
	struct proto_container_list l;
	size_t cap_items, cap_strs, used;
	size_t (*offs)[2];
};

/* Decodes the entry at token obj of js onto the end of the list. */
static int list_add(struct list_builder *b, const struct jsonscan *js, size_t obj, char **reterr)
{
	size_t need = js->tok[obj].next - obj; /* no more strings than tokens */
	if (b->l.n == b->cap_items) {
		size_t ncap = b->cap_items ? 2 * b->cap_items : 64;
		struct proto_container_summary *items = realloc(b->l.items, ncap * sizeof(*items));
		if (items)
			b->l.items = items;
		size_t (*offs)[2] = items ? realloc(b->offs, ncap * sizeof(*offs)) : NULL;
		if (!offs)
			return err_set(reterr, -ENOMEM, "out of memory");
		b->offs = offs;
		b->cap_items = ncap;
	}
	if (b->used + need > b->cap_strs) {
		size_t ncap = 2 * b->cap_strs > b->used + need + 256 ? 2 * b->cap_strs : b->used + need + 256;
		const char **strs = realloc(b->l.strs, ncap * sizeof(*strs));
		if (!strs)
			return err_set(reterr, -ENOMEM, "out of memory");
		b->l.strs = strs;
		b->cap_strs = ncap;
	}
	struct proto_container_summary *c = &b->l.items[b->l.n];
	*c = (struct proto_container_summary){ .id = NULL };
	size_t start = b->used;
	int r = decode_entry(js, obj, c, b->l.strs, &b->used, reterr);
	if (r < 0)
		return r;
	b->offs[b->l.n][0] = c->n_cmd ? (size_t)(c->cmd - b->l.strs) : start;
	b->offs[b->l.n][1] = c->n_labels ? (size_t)(c->labels - b->l.strs) : start;
	b->l.n++;
	return 0;
}

static void list_finish(struct list_builder *b, struct proto_container_list *ret)
{
	for (size_t i = 0; i < b->l.n; i++) {
		b->l.items[i].cmd = b->l.strs + b->offs[i][0];
		b->l.items[i].labels = b->l.strs + b->offs[i][1];
	}
	free(b->offs);
	*ret = b->l;
}

static void list_builder_done(struct list_builder *b)
{
	free(b->offs);
	proto_container_list_done(&b->l);
}

/* The daemon's own layout, read element by element: the tokens of one entry at a time. */
static int decode_canonical(char *line, size_t len, size_t prefix_len, struct proto_container_list *ret,
			    char **reterr)
{
	struct list_builder b = { .l = { .n = 0 } };
	_cleanup_free_ char *err = NULL;
	char *p = line + prefix_len, *end = line + len;
	int r = 0;
	static const char tail[] = "]}}";
	while (p < end && *p == ' ')
		p++;
	if (p < end && *p == ']')
		p++;
	else
		for (;;) {
			if ((r = jsonscan_next(&b.l.js, &p, end, &err)) < 0 || (r = list_add(&b, &b.l.js, 0, &err)) < 0)
				break;
			if (p < end && *p == ',') {
				p++;
				continue;
			}
			if (p < end && *p == ']') {
				p++;
				break;
			}
			r = err_set(&err, -EINVAL, "invalid JSON: expected ',' or ']'");
			break;
		}
	if (r == 0 && ((size_t)(end - p) != strlen(tail) - 1 || memcmp(p, tail + 1, strlen(tail) - 1) != 0))
		r = err_set(&err, -EINVAL, "invalid JSON: the reply does not end as a list result");
	if (r < 0) {
		list_builder_done(&b);
		return err_set(reterr, r == -ENOMEM ? r : -EBADMSG, "invalid reply to container.list: %s", err);
	}
	list_finish(&b, ret);
	return 1;
}

/* Any layout: the whole message scanned first, then checked to be this request's list result. */
static int decode_any(char *line, size_t len, int64_t id, struct proto_container_list *ret, char **reterr)
{
	struct list_builder b = { .l = { .n = 0 } };
	_cleanup_free_ char *err = NULL;
	struct jsonscan js;
	int64_t v = 0, rid = -1;
	int r = jsonscan_parse(line, len, &js, &err);
	if (r < 0)
		return err_set(reterr, r == -ENOMEM ? r : -EBADMSG, "invalid message from containd: %s", err);
	long tv = jsonscan_member(&js, 0, "v"), tid = jsonscan_member(&js, 0, "id");
	long tres = jsonscan_member(&js, 0, "result");
	long items = tres < 0 ? -1 : jsonscan_member(&js, (size_t)tres, "containers");
	/* Anything but a plain result to this request goes the generic way, which knows them all. */
	if (tv < 0 || !jsonscan_int(&js.tok[tv], &v) || v != PROTOCOL_VERSION || tid < 0 ||
	    !jsonscan_int(&js.tok[tid], &rid) || rid != id || items < 0 || js.tok[items].type != JSONSCAN_ARRAY ||
	    jsonscan_member(&js, 0, "event") >= 0 || jsonscan_member(&js, 0, "error") >= 0 ||
	    jsonscan_member(&js, 0, "fds") >= 0) {
		jsonscan_done(&js);
		return 0;
	}
	for (size_t i = (size_t)items + 1; r == 0 && i < js.tok[items].next; i = js.tok[i].next)
		r = list_add(&b, &js, i, &err);
	if (r < 0) {
		jsonscan_done(&js);
		list_builder_done(&b);
		return err_set(reterr, r, "invalid reply to container.list: %s", err);
	}
	b.l.js = js; /* the strings live in line; the tokens go with the list */
	list_finish(&b, ret);
	return 1;
}

int proto_container_list_decode(char *line, size_t len, int64_t id, bool any_layout,
				struct proto_container_list *ret, char **reterr)
{
	char prefix[96];
	int n = snprintf(prefix, sizeof(prefix), "{\"v\":%d,\"id\":%" PRId64 ",\"result\":{\"containers\":[",
			 PROTOCOL_VERSION, id);
	if (n > 0 && (size_t)n < sizeof(prefix) && len >= (size_t)n && memcmp(line, prefix, (size_t)n) == 0)
		return decode_canonical(line, len, (size_t)n, ret, reterr);
	return any_layout ? decode_any(line, len, id, ret, reterr) : 0;
}

void proto_container_list_done(struct proto_container_list *l)
{
	jsonscan_done(&l->js);
	free(l->items);
	free(l->strs);
	memset(l, 0, sizeof(*l));
}
