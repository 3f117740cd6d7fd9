/* Human-readable error messages that travel with a -errno from where a failure happens up to
 * the client. Functions that can fail take a `char **reterr` and fill it at most once. */
#pragma once

#include <stddef.h>

/* Formats a message into *reterr (if reterr is non-NULL and *reterr is still unset) and returns
 * r, which must be a negative errno. "%m" in fmt expands to strerror(-r). */
int err_set(char **reterr, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same into a fixed buffer, for code that must not allocate (the container's init reports
 * through a fixed-size message): formats into err (errlen bytes) and returns r. */
int err_buf(char *err, size_t errlen, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
