/* A JSON scanner for the few large replies a client reads on its hot path (container.list):
 * one pass over a mutable buffer into a flat array of tokens, strings unescaped in place, no
 * allocation per value. jansson builds a tree of hash tables instead, which costs several times
 * the whole reply's parse for hundreds of objects. Validates as strictly as jansson: RFC 8259
 * grammar, UTF-8, no control characters in strings, no NUL from \u0000. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jsonscan_type { JSONSCAN_OBJECT, JSONSCAN_ARRAY, JSONSCAN_STRING, JSONSCAN_NUMBER, JSONSCAN_TRUE,
		     JSONSCAN_FALSE, JSONSCAN_NULL };

/* One value. An object's members follow it as key (a string) and value pairs; an array's elements
 * follow it; next is the index just past the value and everything inside it. */
struct jsonscan_tok {
	char *s;        /* string: unescaped, NUL-terminated in the buffer; number: its text */
	uint32_t len;
	uint32_t count; /* members or elements */
	uint32_t next;
	uint8_t type;   /* enum jsonscan_type */
};

struct jsonscan {
	struct jsonscan_tok *tok;
	size_t n, cap;
};

/* Scans exactly one JSON value (surrounding whitespace allowed) in buf[0, len), rewriting the
 * buffer (buf[len] must be writable and is overwritten). -EINVAL with a message for anything
 * that is not valid JSON, -ENOMEM. */
int jsonscan_parse(char *buf, size_t len, struct jsonscan *ret, char **reterr);
/* Scans the one value at *pos (whitespace before it skipped) into js, replacing what js held but
 * reusing its array, and moves *pos past the value and the whitespace after it: a long array of
 * small objects is read one element at a time, in a few tokens' room. Same rules and errors as
 * jsonscan_parse(); js is initialized to {0} before the first call and freed with jsonscan_done(). */
int jsonscan_next(struct jsonscan *js, char **pos, char *end, char **reterr);
void jsonscan_done(struct jsonscan *js);

/* The value of member key in object token obj, or -1. */
long jsonscan_member(const struct jsonscan *js, size_t obj, const char *key);
/* An integer number token (no fraction or exponent) as int64; false when it is not one. */
bool jsonscan_int(const struct jsonscan_tok *t, int64_t *ret);
