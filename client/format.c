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

void format_duration(int64_t seconds, char *buf, size_t size)
{
	int64_t minutes = seconds / 60;
	int64_t hours = (seconds + 1800) / 3600; /* docker rounds hours to the nearest */

	if (seconds < 1)
		snprintf(buf, size, "Less than a second");
	else if (seconds == 1)
		snprintf(buf, size, "1 second");
	else if (seconds < 60)
		snprintf(buf, size, "%" PRId64 " seconds", seconds);
	else if (minutes == 1)
		snprintf(buf, size, "About a minute");
	else if (minutes < 60)
		snprintf(buf, size, "%" PRId64 " minutes", minutes);
	else if (hours == 1)
		snprintf(buf, size, "About an hour");
	else if (hours < 48)
		snprintf(buf, size, "%" PRId64 " hours", hours);
	else if (hours < 24 * 7 * 2)
		snprintf(buf, size, "%" PRId64 " days", hours / 24);
	else if (hours < 24 * 30 * 2)
		snprintf(buf, size, "%" PRId64 " weeks", hours / 24 / 7);
	else if (hours < 24 * 365 * 2)
		snprintf(buf, size, "%" PRId64 " months", hours / 24 / 30);
	else
		snprintf(buf, size, "%" PRId64 " years", seconds / 3600 / 24 / 365);
}

void format_ago(const char *rfc3339, time_t now, char *buf, size_t size)
{
	time_t t;
	char d[64];

	if (format_parse_time(rfc3339, &t) < 0) {
		snprintf(buf, size, "%s", "");
		return;
	}
	format_duration(now > t ? (int64_t)(now - t) : 0, d, sizeof(d));
	snprintf(buf, size, "%s ago", d);
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

struct table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols */
};

struct table *table_new(size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));
	if (t)
		t->ncols = ncols;
	return t;
}

int table_add_row(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **n = reallocarray(t->cells, ncap * t->ncols, sizeof(char *));
		if (!n)
			return -ENOMEM;
		t->cells = n;
		t->cap = ncap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "");
		if (!row[i]) {
			while (i > 0)
				free(row[--i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

int table_print(const struct table *t, FILE *out)
{
	_cleanup_free_ size_t *width = calloc(t->ncols, sizeof(size_t));
	if (!width)
		return -ENOMEM;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = utf8_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			fputs(cell, out);
			if (c + 1 < t->ncols)
				fprintf(out, "%*s", (int)(width[c] - utf8_width(cell) + 3), "");
		}
		fputc('\n', out);
	}
	if (fflush(out) == EOF || ferror(out))
		return -errno ?: -EIO;
	return 0;
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
