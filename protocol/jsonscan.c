#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "protocol/jsonscan.h"

/* Deeper nesting is refused, as jansson refuses more than 2048 levels; no reply nests past 5. */
#define JSONSCAN_MAX_DEPTH 64

struct scanner {
	char *p, *end;
	struct jsonscan *js;
	unsigned depth;
	char **reterr;
};

static int scan_error(struct scanner *s, const char *what)
{
	size_t off = (size_t)(s->end - s->p);
	return err_set(s->reterr, -EINVAL, "invalid JSON: %s (%zu bytes before the end)", what, off);
}

static void skip_ws(struct scanner *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static long push(struct scanner *s, enum jsonscan_type type)
{
	struct jsonscan *js = s->js;
	if (js->n == js->cap) {
		size_t ncap = js->cap ? js->cap * 2 : 64;
		struct jsonscan_tok *t = realloc(js->tok, ncap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		js->tok = t;
		js->cap = ncap;
	}
	if (js->n >= UINT32_MAX)
		return -E2BIG;
	js->tok[js->n] = (struct jsonscan_tok){ .type = type };
	return (long)js->n++;
}

static int hex4(const char *p, unsigned *ret)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp;
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static char *utf8_put(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* Whether any byte of x is zero (exact: a false positive can only follow a real zero byte). */
static inline uint64_t swar_has_zero(uint64_t x)
{
	return (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
}

/* Past the printable ASCII other than the quote and the backslash from r on, the bulk of every
 * string in a reply (ids, names, times): eight bytes a step instead of one, which made scanning
 * half of what `cctl ps` cost. It stops at the first byte of another kind, or short of the last
 * 8 bytes of the input; the byte loop after it checks whatever is left. */
static char *skip_plain_ascii(char *r, const char *end)
{
	while (end - r >= 8) {
		uint64_t x;
		memcpy(&x, r, sizeof(x));
		uint64_t special = (swar_has_zero(x ^ 0x2222222222222222ULL) |   /* '"' */
				    swar_has_zero(x ^ 0x5c5c5c5c5c5c5c5cULL) |   /* backslash */
				    ((x - 0x2020202020202020ULL) & ~x) | x) &    /* < 0x20, >= 0x80 */
				   0x8080808080808080ULL;
		if (special) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* Each test is exact for the lowest byte it flags (a borrow only reaches the bytes
			 * above a flagged one), so this is the first byte of another kind. */
			r += __builtin_ctzll(special) / 8;
#endif
			break;
		}
		r += 8;
	}
	return r;
}

/* A string at s->p (its opening quote), unescaped in place: an escape is never shorter than what
 * it stands for, so the write position never passes the read position. */
static int scan_string(struct scanner *s)
{
	long i = push(s, JSONSCAN_STRING);
	if (i < 0)
		return (int)i;
	char *r = ++s->p, *w = r;
	s->js->tok[i].s = w;
	for (;;) {
		if (r >= s->end)
			return s->p = r, scan_error(s, "unterminated string");
		unsigned char c = (unsigned char)*r;
		if (c == '"')
			break;
		if (c < 0x20)
			return s->p = r, scan_error(s, "control character in a string");
		if (c != '\\') {
			/* A run of plain bytes moves at once, and only after an escape shortened the string. */
			char *run = r;
			r = skip_plain_ascii(r, s->end);
			while (r < s->end && (unsigned char)*r >= 0x20 && *r != '"' && *r != '\\') {
				size_t n = (unsigned char)*r < 0x80 ? 1 : utf8_len((const unsigned char *)r,
										    (const unsigned char *)s->end);
				if (!n)
					return s->p = r, scan_error(s, "invalid UTF-8 in a string");
				r += n;
			}
			if (w != run)
				memmove(w, run, (size_t)(r - run));
			w += r - run;
			continue;
		}
		if (s->end - r < 2)
			return s->p = r, scan_error(s, "unterminated escape");
		char e = r[1];
		r += 2;
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = e ? strchr(from, e) : NULL;
		if (k) {
			*w++ = to[k - from];
			continue;
		}
		unsigned cp, lo;
		if (e != 'u' || s->end - r < 4 || hex4(r, &cp) < 0)
			return s->p = r, scan_error(s, "invalid escape");
		r += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return s->p = r, scan_error(s, "lone low surrogate");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (s->end - r < 6 || r[0] != '\\' || r[1] != 'u' || hex4(r + 2, &lo) < 0 || lo < 0xdc00 ||
			    lo > 0xdfff)
				return s->p = r, scan_error(s, "lone high surrogate");
			r += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (cp == 0)
			return s->p = r, scan_error(s, "\\u0000 in a string");
		w = utf8_put(w, cp);
	}
	s->js->tok[i].len = (uint32_t)(w - s->js->tok[i].s);
	*w = '\0'; /* at or before the closing quote, which was read */
	s->p = r + 1;
	s->js->tok[i].next = (uint32_t)s->js->n;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct scanner *s)
{
	char *p = s->p, *start = p;
	if (p < s->end && *p == '-')
		p++;
	if (p < s->end && *p == '0')
		p++;
	else if (p < s->end && is_digit(*p))
		while (p < s->end && is_digit(*p))
			p++;
	else
		return scan_error(s, "invalid value");
	if (p < s->end && *p == '.') {
		if (++p >= s->end || !is_digit(*p))
			return s->p = p, scan_error(s, "invalid number");
		while (p < s->end && is_digit(*p))
			p++;
	}
	if (p < s->end && (*p == 'e' || *p == 'E')) {
		if (++p < s->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= s->end || !is_digit(*p))
			return s->p = p, scan_error(s, "invalid number");
		while (p < s->end && is_digit(*p))
			p++;
	}
	long i = push(s, JSONSCAN_NUMBER);
	if (i < 0)
		return (int)i;
	s->js->tok[i] = (struct jsonscan_tok){ .type = JSONSCAN_NUMBER, .s = start, .len = (uint32_t)(p - start),
					       .next = (uint32_t)s->js->n };
	s->p = p;
	return 0;
}

static int scan_value(struct scanner *s);

/* An object or an array at s->p: members are a key token then a value's tokens. */
static int scan_container(struct scanner *s, bool object)
{
	long i = push(s, object ? JSONSCAN_OBJECT : JSONSCAN_ARRAY);
	char close = object ? '}' : ']';
	int r;
	if (i < 0)
		return (int)i;
	if (++s->depth > JSONSCAN_MAX_DEPTH)
		return scan_error(s, "nested too deeply");
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
	} else {
		for (;;) {
			if (object) {
				skip_ws(s);
				if (s->p >= s->end || *s->p != '"')
					return scan_error(s, "expected a member name");
				if ((r = scan_string(s)) < 0)
					return r;
				skip_ws(s);
				if (s->p >= s->end || *s->p != ':')
					return scan_error(s, "expected ':'");
				s->p++;
			}
			if ((r = scan_value(s)) < 0)
				return r;
			s->js->tok[i].count++;
			skip_ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				continue;
			}
			if (s->p < s->end && *s->p == close) {
				s->p++;
				break;
			}
			return scan_error(s, object ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	s->depth--;
	s->js->tok[i].next = (uint32_t)s->js->n;
	return 0;
}

static int scan_literal(struct scanner *s, const char *word, enum jsonscan_type type)
{
	size_t n = strlen(word);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return scan_error(s, "invalid value");
	long i = push(s, type);
	if (i < 0)
		return (int)i;
	s->js->tok[i].next = (uint32_t)s->js->n;
	s->p += n;
	return 0;
}

static int scan_value(struct scanner *s)
{
	skip_ws(s);
	if (s->p >= s->end)
		return scan_error(s, "unexpected end");
	switch (*s->p) {
	case '{':
		return scan_container(s, true);
	case '[':
		return scan_container(s, false);
	case '"':
		return scan_string(s);
	case 't':
		return scan_literal(s, "true", JSONSCAN_TRUE);
	case 'f':
		return scan_literal(s, "false", JSONSCAN_FALSE);
	case 'n':
		return scan_literal(s, "null", JSONSCAN_NULL);
	default:
		return scan_number(s);
	}
}

int jsonscan_parse(char *buf, size_t len, struct jsonscan *ret, char **reterr)
{
	struct jsonscan js = { NULL, 0, 0 };
	struct scanner s = { .p = buf, .end = buf + len, .js = &js, .reterr = reterr };
	if (len >= UINT32_MAX)
		return err_set(reterr, -E2BIG, "JSON text too large");
	/* Compact JSON of small objects has about one value per 10 bytes: one allocation, mostly. */
	js.cap = len / 10 + 16;
	if (!(js.tok = malloc(js.cap * sizeof(*js.tok))))
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = scan_value(&s);
	if (r == 0) {
		skip_ws(&s);
		if (s.p != s.end)
			r = scan_error(&s, "garbage after the value");
	} else if (r == -ENOMEM || r == -E2BIG) {
		r = err_set(reterr, r, "out of memory");
	}
	if (r < 0) {
		jsonscan_done(&js);
		return r;
	}
	*ret = js;
	return 0;
}

int jsonscan_next(struct jsonscan *js, char **pos, char *end, char **reterr)
{
	struct scanner s = { .p = *pos, .end = end, .js = js, .reterr = reterr };
	if (end < *pos || (size_t)(end - *pos) >= UINT32_MAX)
		return err_set(reterr, -E2BIG, "JSON text too large");
	js->n = 0;
	int r = scan_value(&s);
	if (r == -ENOMEM || r == -E2BIG)
		return err_set(reterr, r, "out of memory");
	if (r < 0)
		return r;
	skip_ws(&s);
	*pos = s.p;
	return 0;
}

void jsonscan_done(struct jsonscan *js)
{
	free(js->tok);
	js->tok = NULL;
	js->n = js->cap = 0;
}

long jsonscan_member(const struct jsonscan *js, size_t obj, const char *key)
{
	if (obj >= js->n || js->tok[obj].type != JSONSCAN_OBJECT)
		return -1;
	size_t i = obj + 1;
	for (uint32_t m = 0; m < js->tok[obj].count; m++) {
		size_t v = i + 1;
		if (strcmp(js->tok[i].s, key) == 0)
			return (long)v;
		i = js->tok[v].next;
	}
	return -1;
}

bool jsonscan_int(const struct jsonscan_tok *t, int64_t *ret)
{
	if (t->type != JSONSCAN_NUMBER)
		return false;
	const char *p = t->s, *end = t->s + t->len;
	bool neg = p < end && *p == '-';
	uint64_t v = 0;
	p += neg;
	if (p == end)
		return false;
	for (; p < end; p++) {
		if (!is_digit(*p) || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > (uint64_t)INT64_MAX + neg)
		return false;
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}
