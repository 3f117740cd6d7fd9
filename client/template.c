#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/template.h"
#include "common/error.h"
#include "common/macros.h"

enum piece_kind {
	PIECE_TEXT,  /* literal text */
	PIECE_FIELD, /* {{.A.B}} or {{.}} */
	PIECE_JSON,  /* {{json .A.B}} */
};

struct piece {
	enum piece_kind kind;
	char *text;  /* PIECE_TEXT: the text; otherwise the path without its leading dot ("A.B", "") */
};

struct template {
	struct piece *pieces;
	size_t n;
};

void template_free(struct template *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->pieces[i].text);
	free(t->pieces);
	free(t);
}

/* Appends a piece owning text (freed on failure). */
static int add_piece(struct template *t, enum piece_kind kind, char *text)
{
	if (!text)
		return -ENOMEM;
	struct piece *p = realloc(t->pieces, (t->n + 1) * sizeof(*p));
	if (!p) {
		free(text);
		return -ENOMEM;
	}
	t->pieces = p;
	t->pieces[t->n++] = (struct piece){ .kind = kind, .text = text };
	return 0;
}

/* Copies literal text, turning the two characters \t and \n into a tab and a newline. */
static char *unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 't' || s[i + 1] == 'n')) {
			*o++ = s[i + 1] == 't' ? '\t' : '\n';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* A field path: "." alone, or ".Name" segments of letters, digits and underscores. */
static bool path_valid(const char *s, size_t len)
{
	if (len == 0 || s[0] != '.')
		return false;
	if (len == 1)
		return true;
	bool segment_start = true;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (segment_start)
				return false;
			segment_start = true;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			   (c >= '0' && c <= '9' && !segment_start)) {
			segment_start = false;
		} else {
			return false;
		}
	}
	return !segment_start;
}

/* Parses the inside of one {{ }} action into a piece. */
static int parse_action(struct template *t, const char *s, size_t len, char **reterr)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	enum piece_kind kind = PIECE_FIELD;
	if (len > 4 && strncmp(s, "json", 4) == 0 && (s[4] == ' ' || s[4] == '\t')) {
		kind = PIECE_JSON;
		s += 4, len -= 4;
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
	}
	if (!path_valid(s, len)) {
		if (len && s[0] != '.') {
			size_t w = strcspn(s, " \t");
			return err_set(reterr, -EINVAL, "template: function \"%.*s\" not defined (only \"json\" is)",
				       (int)(w < len ? w : len), s);
		}
		return err_set(reterr, -EINVAL, "template: invalid action \"{{%.*s}}\": expected {{.Field}} or {{json .Field}}",
			       (int)len, s);
	}
	int r = add_piece(t, kind, strndup(s + 1, len - 1));
	return r < 0 ? err_set(reterr, r, "out of memory") : 0;
}

int template_parse(const char *text, struct template **ret, char **reterr)
{
	if (strlen(text) > TEMPLATE_MAX_LENGTH)
		return err_set(reterr, -EINVAL, "template: longer than %d characters", TEMPLATE_MAX_LENGTH);
	struct template *t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(reterr, -ENOMEM, "out of memory");
	const char *p = text;
	size_t actions = 0;
	int r = 0;
	while (*p) {
		const char *open = strstr(p, "{{");
		size_t lit = open ? (size_t)(open - p) : strlen(p);
		if (memmem(p, lit, "}}", 2)) {
			r = err_set(reterr, -EINVAL, "template: unexpected \"}}\" outside an action");
			break;
		}
		if (lit && (r = add_piece(t, PIECE_TEXT, unescape(p, lit))) < 0) {
			err_set(reterr, r, "out of memory");
			break;
		}
		if (!open)
			break;
		const char *close = strstr(open + 2, "}}");
		if (!close) {
			r = err_set(reterr, -EINVAL, "template: unclosed action (\"{{\" without \"}}\")");
			break;
		}
		if (++actions > TEMPLATE_MAX_ACTIONS) {
			r = err_set(reterr, -EINVAL, "template: more than %d actions", TEMPLATE_MAX_ACTIONS);
			break;
		}
		if ((r = parse_action(t, open + 2, (size_t)(close - open - 2), reterr)) < 0)
			break;
		p = close + 2;
	}
	if (r < 0) {
		template_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

/* Follows a path ("A.B", "" for the object itself) through nested objects. NULL when a segment is
 * missing or its parent is not an object (*bad then names the segment), or on ENOMEM (*bad empty). */
static json_t *lookup(json_t *obj, const char *path, char *bad, size_t bad_size)
{
	json_t *v = obj;
	const char *p = path;
	bad[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, ".");
		_cleanup_free_ char *key = strndup(p, n);
		if (!key)
			return NULL;
		json_t *next = json_is_object(v) ? json_object_get(v, key) : NULL;
		if (!next) {
			snprintf(bad, bad_size, "%s", key);
			return NULL;
		}
		v = next;
		p += n;
		if (*p == '.')
			p++;
	}
	return v;
}

/* Writes one value as text: strings as they are, numbers in decimal, objects and arrays as JSON. */
static int put_value(FILE *f, json_t *v, bool as_json)
{
	if (!as_json) {
		switch (json_typeof(v)) {
		case JSON_STRING:
			return fputs(json_string_value(v), f) < 0 ? -EIO : 0;
		case JSON_INTEGER:
			return fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0 ? -EIO : 0;
		case JSON_TRUE:
		case JSON_FALSE:
			return fputs(json_is_true(v) ? "true" : "false", f) < 0 ? -EIO : 0;
		case JSON_NULL:
			return fputs("<no value>", f) < 0 ? -EIO : 0;
		default:
			break;
		}
	}
	_cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return -ENOMEM;
	return fputs(s, f) < 0 ? -EIO : 0;
}

int template_render(const struct template *t, json_t *obj, char **ret, char **reterr)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = 0;
	for (size_t i = 0; r == 0 && i < t->n; i++) {
		const struct piece *p = &t->pieces[i];
		if (p->kind == PIECE_TEXT) {
			r = fputs(p->text, f) < 0 ? -EIO : 0;
			continue;
		}
		char bad[256];
		json_t *v = lookup(obj, p->text, bad, sizeof(bad));
		if (!v) {
			fclose(f);
			if (!bad[0])
				return err_set(reterr, -ENOMEM, "out of memory");
			return err_set(reterr, -EINVAL, "template: no field \"%s\" in {{.%s}}", bad, p->text);
		}
		r = put_value(f, v, p->kind == PIECE_JSON);
	}
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0)
		return err_set(reterr, r, "cannot render the template");
	*ret = TAKE_PTR(buf);
	return 0;
}

int template_parse_format(const char *format, struct template **ret, char **reterr)
{
	*ret = NULL;
	if (!format || strcmp(format, "json") == 0)
		return 0;
	return template_parse(format, ret, reterr);
}

int template_print(const struct template *t, json_t *obj, char **reterr)
{
	_cleanup_free_ char *out = NULL;
	if (!obj)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (!t) {
		if (!(out = json_dumps(obj, JSON_COMPACT)))
			return err_set(reterr, -ENOMEM, "out of memory");
	} else {
		int r = template_render(t, obj, &out, reterr);
		if (r < 0)
			return r;
	}
	printf("%s\n", out);
	return 0;
}
