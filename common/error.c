#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"

int err_set(char **reterr, int r, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!reterr || *reterr)
		return r;
	errno = r < 0 ? -r : r;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) >= 0)
		*reterr = msg;
	va_end(ap);
	errno = r < 0 ? -r : r;
	return r;
}

int err_buf(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	errno = r < 0 ? -r : r;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}
