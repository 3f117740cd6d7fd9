#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client/format.h"
#include "common/macros.h"

/* Reads exactly n decimal digits. */
static bool read_digits(const char **p, unsigned n, int *ret)
{
	int v = 0;
	for (unsigned i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil): arithmetic only, where timegm() goes through glibc's mktime machinery, which
 * cost `cctl ps` a third of its time with hundreds of containers (three times per row). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int format_parse_time(const char *s, time_t *ret)
{
	const char *p = s;
	int year, mon, mday, hour, min, sec, off = 0;

	if (!s || !read_digits(&p, 4, &year) || !expect(&p, '-') || !read_digits(&p, 2, &mon) ||
	    !expect(&p, '-') || !read_digits(&p, 2, &mday) || !(expect(&p, 'T') || expect(&p, 't') || expect(&p, ' ')) ||
	    !read_digits(&p, 2, &hour) || !expect(&p, ':') || !read_digits(&p, 2, &min) || !expect(&p, ':') ||
	    !read_digits(&p, 2, &sec))
		return -EINVAL;
	if (expect(&p, '.')) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (!read_digits(&p, 2, &oh) || !expect(&p, ':') || !read_digits(&p, 2, &om))
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p || mon < 1 || mon > 12 || mday < 1 || mday > 31 || hour > 23 || min > 59 || sec > 60)
		return -EINVAL;

	*ret = (time_t)days_from_civil(year, (unsigned)mon, (unsigned)mday) * 86400 + hour * 3600 + min * 60 + sec - off;
	return 0;
}

/* "<n><unit>" into buf (cut to size), without printf's machinery: cctl ps formats two durations
 * a row. */
static void put_count(char *buf, size_t size, int64_t n, const char *unit)
{
	char tmp[32], *p = tmp + sizeof(tmp);
	uint64_t v = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	if (n < 0)
		*--p = '-';
	if (size == 0)
		return;
	size_t len = strlen(p), ulen = strlen(unit);
	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	if (ulen > size - 1 - len)
		ulen = size - 1 - len;
	memcpy(buf + len, unit, ulen);
	buf[len + ulen] = '\0';
}

static void put_text(char *buf, size_t size, const char *text)
{
	if (size == 0)
		return;
	size_t len = strlen(text);
	if (len >= size)
		len = size - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
}

void format_duration(int64_t seconds, char *buf, size_t size)
{
	int64_t minutes = seconds / 60;
	int64_t hours = (seconds + 1800) / 3600; /* docker rounds hours to the nearest */

	if (seconds < 1)
		put_text(buf, size, "Less than a second");
	else if (seconds == 1)
		put_text(buf, size, "1 second");
	else if (seconds < 60)
		put_count(buf, size, seconds, " seconds");
	else if (minutes == 1)
		put_text(buf, size, "About a minute");
	else if (minutes < 60)
		put_count(buf, size, minutes, " minutes");
	else if (hours == 1)
		put_text(buf, size, "About an hour");
	else if (hours < 48)
		put_count(buf, size, hours, " hours");
	else if (hours < 24 * 7 * 2)
		put_count(buf, size, hours / 24, " days");
	else if (hours < 24 * 30 * 2)
		put_count(buf, size, hours / 24 / 7, " weeks");
	else if (hours < 24 * 365 * 2)
		put_count(buf, size, hours / 24 / 30, " months");
	else
		put_count(buf, size, seconds / 3600 / 24 / 365, " years");
}

void format_ago(const char *rfc3339, time_t now, char *buf, size_t size)
{
	time_t t;

	if (format_parse_time(rfc3339, &t) < 0) {
		put_text(buf, size, "");
		return;
	}
	format_duration(now > t ? (int64_t)(now - t) : 0, buf, size);
	size_t len = strlen(buf);
	if (size > len)
		put_text(buf + len, size - len, " ago");
}

void format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)bytes;
	size_t i = 0;

	while (v >= 1000.0 && i + 1 < ARRAY_SIZE(units)) {
		v /= 1000.0;
		i++;
	}
	snprintf(buf, size, "%.3g%s", v, units[i]);
}

/* Characters, not bytes, of a UTF-8 string: what a terminal column count approximates. */
static size_t utf8_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

char *format_command(const char *const *argv, size_t argc, size_t max)
{
	size_t len = 0;
	for (size_t i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;

	_cleanup_free_ char *joined = malloc(len + 1);
	if (!joined)
		return NULL;
	char *p = joined;
	for (size_t i = 0; i < argc; i++) {
		if (i > 0)
			*p++ = ' ';
		p = stpcpy(p, argv[i]);
	}
	*p = '\0';

	/* Cut after max-1 characters (never inside a UTF-8 sequence) and add an ellipsis. */
	bool cut = utf8_width(joined) > max;
	if (cut) {
		size_t chars = 0;
		for (p = joined; *p; p++)
			if (((unsigned char)*p & 0xc0) != 0x80 && chars++ == max - 1)
				break;
		*p = '\0';
	}

	/* Quote like Go's strconv.Quote: escape quotes, backslashes and control characters. */
	size_t qlen = 2 + strlen(joined) * 4 + (cut ? 3 : 0) + 1;
	char *q = malloc(qlen);
	if (!q)
		return NULL;
	char *o = q;
	*o++ = '"';
	for (p = joined; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n') {
			o = stpcpy(o, "\\n");
		} else if (c == '\t') {
			o = stpcpy(o, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(o, "\\x%02x", c);
		} else {
			*o++ = (char)c;
		}
	}
	if (cut)
		o = stpcpy(o, "\xe2\x80\xa6"); /* U+2026 HORIZONTAL ELLIPSIS */
	*o++ = '"';
	*o = '\0';
	return q;
}

/* The cells live in one growing buffer, each NUL-terminated, found by offset; their widths are
 * measured once, when added: a table of hundreds of rows costs a few allocations, not one per cell. */
struct table {
	size_t ncols, nrows, cap;
	size_t *cells;   /* nrows * ncols offsets into text */
	size_t *widths;  /* nrows * ncols */
	size_t *colmax;  /* ncols */
	char *text;
	size_t text_len, text_cap;
};

struct table *table_new(size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));
	if (t && !(t->colmax = calloc(ncols ? ncols : 1, sizeof(size_t))))
		return free(t), NULL;
	if (t)
		t->ncols = ncols;
	return t;
}

int table_add_row(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		size_t *c = reallocarray(t->cells, ncap * t->ncols, sizeof(size_t));
		if (!c)
			return -ENOMEM;
		t->cells = c;
		size_t *w = reallocarray(t->widths, ncap * t->ncols, sizeof(size_t));
		if (!w)
			return -ENOMEM;
		t->widths = w;
		t->cap = ncap;
	}
	size_t need = 0, lens[t->ncols];
	for (size_t i = 0; i < t->ncols; i++)
		need += (lens[i] = cells[i] ? strlen(cells[i]) : 0) + 1;
	if (t->text_len + need > t->text_cap) {
		size_t ncap = t->text_cap ? t->text_cap * 2 : 4096;
		while (ncap < t->text_len + need)
			ncap *= 2;
		char *n = realloc(t->text, ncap);
		if (!n)
			return -ENOMEM;
		t->text = n;
		t->text_cap = ncap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		size_t k = t->nrows * t->ncols + i;
		char *cell = t->text + t->text_len;
		memcpy(cell, cells[i] ? cells[i] : "", lens[i]);
		cell[lens[i]] = '\0';
		t->cells[k] = t->text_len;
		t->widths[k] = utf8_width(cell);
		if (t->widths[k] > t->colmax[i])
			t->colmax[i] = t->widths[k];
		t->text_len += lens[i] + 1;
	}
	t->nrows++;
	return 0;
}

int table_print(const struct table *t, FILE *out)
{
	/* A row is built in one buffer and written at once: two stdio calls a cell were a tenth of
	 * what listing hundreds of containers cost. */
	size_t line_cap = 1;
	for (size_t c = 0; c < t->ncols; c++)
		line_cap += t->colmax[c] * 4 + 3; /* a character is at most 4 bytes */
	_cleanup_free_ char *line = malloc(line_cap);
	if (!line)
		return -ENOMEM;
	for (size_t r = 0; r < t->nrows; r++) {
		char *p = line;
		for (size_t c = 0; c < t->ncols; c++) {
			size_t k = r * t->ncols + c;
			p = stpcpy(p, t->text + t->cells[k]);
			if (c + 1 == t->ncols)
				break;
			/* Three spaces past the widest cell of the column, as docker's tabwriter. */
			size_t pad = t->colmax[c] - t->widths[k] + 3;
			memset(p, ' ', pad);
			p += pad;
		}
		*p++ = '\n';
		if (fwrite(line, 1, (size_t)(p - line), out) != (size_t)(p - line))
			break;
	}
	if (fflush(out) == EOF || ferror(out))
		return -errno ?: -EIO;
	return 0;
}

void table_free(struct table *t)
{
	free(t->cells);
	free(t->widths);
	free(t->colmax);
	free(t->text);
	free(t);
}
