/* cctl's time parsing (client/format.c): RFC 3339 into seconds since the epoch, checked against
 * glibc's timegm() over every day from 1900 to 2400 (leap years and centuries included), with
 * offsets and fractions, and malformed text refused. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/format.h"
#include "tests/tap.h"

int main(void)
{
	/* Every day from 1900-01-01 to 2400-12-31, at a time of day that varies with the day. */
	size_t days = 0, bad = 0;
	for (int year = 1900; year <= 2400; year++)
		for (int mon = 1; mon <= 12; mon++)
			for (int mday = 1; mday <= 31; mday++) {
				struct tm tm = { .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = mday,
						 .tm_hour = mday % 24, .tm_min = (mday * 7) % 60, .tm_sec = (mon * 5) % 60 };
				time_t want = timegm(&tm);
				if (tm.tm_mday != mday) /* 31 April and the like: timegm moved it on */
					continue;
				char text[64];
				snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ", year, mon, mday, mday % 24,
					 (mday * 7) % 60, (mon * 5) % 60);
				time_t got = 0;
				days++;
				if (format_parse_time(text, &got) < 0 || got != want) {
					if (bad++ < 5)
						printf("# %s: got %lld, want %lld\n", text, (long long)got, (long long)want);
				}
			}
	ok(days > 180000 && bad == 0, "%zu days from 1900 to 2400 parse as timegm() has them (%zu differ)", days, bad);

	time_t t = 0;
	ok(format_parse_time("1970-01-01T00:00:00Z", &t) == 0 && t == 0, "the epoch is 0");
	ok(format_parse_time("2000-02-29T12:00:00Z", &t) == 0 && t == 951825600, "2000-02-29 (a leap day of a century)");
	ok(format_parse_time("2026-11-30T05:00:00.123456789Z", &t) == 0 && t == 1796014800, "fractions are dropped");
	ok(format_parse_time("2026-11-30T07:00:00+02:00", &t) == 0 && t == 1796014800, "a +hh:mm offset");
	ok(format_parse_time("2026-11-30T00:00:00-05:00", &t) == 0 && t == 1796014800, "a -hh:mm offset");
	ok(format_parse_time("1969-12-31T23:59:59Z", &t) == 0 && t == -1, "before the epoch");
	ok(format_parse_time("2026-13-01T00:00:00Z", &t) == -EINVAL, "month 13 is refused");
	ok(format_parse_time("2026-11-30T24:00:00Z", &t) == -EINVAL, "hour 24 is refused");
	ok(format_parse_time("2026-11-30T05:00:00", &t) == -EINVAL, "a time without a zone is refused");
	ok(format_parse_time("2026-11-30T05:00:00Zjunk", &t) == -EINVAL, "trailing text is refused");
	ok(format_parse_time(NULL, &t) == -EINVAL, "NULL is refused");
	return tap_done();
}
