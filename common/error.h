/* Human-readable error messages that travel with a -errno from where a failure happens up to
 * the client. Functions that can fail take a `char **reterr` and fill it at most once. */
#pragma once

/* Formats a message into *reterr (if reterr is non-NULL and *reterr is still unset) and returns
 * r, which must be a negative errno. "%m" in fmt expands to strerror(-r). */
int err_set(char **reterr, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
