/* A tiny TAP producer for C unit tests (run through automake's tap-driver.sh). Assertions print
 * both operands when they fail. */
#pragma once

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int tap_count, tap_failures;

static inline void tap_result(int pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void tap_result(int pass, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
		tap_failures++;
	fflush(stdout);
}

#define ok(cond, ...) tap_result(!!(cond), __VA_ARGS__)

#define is_int(got, want, ...)                                                              \
	do {                                                                                \
		long long _g_ = (long long)(got), _w_ = (long long)(want);                  \
		tap_result(_g_ == _w_, __VA_ARGS__);                                        \
		if (_g_ != _w_)                                                             \
			printf("#   got: %lld\n#   expected: %lld\n", _g_, _w_);            \
	} while (0)

#define is_str(got, want, ...)                                                              \
	do {                                                                                \
		const char *_g_ = (got), *_w_ = (want);                                     \
		int _p_ = (_g_ && _w_) ? strcmp(_g_, _w_) == 0 : _g_ == _w_;                \
		tap_result(_p_, __VA_ARGS__);                                               \
		if (!_p_)                                                                   \
			printf("#   got: '%s'\n#   expected: '%s'\n", _g_ ? _g_ : "(null)",   \
			       _w_ ? _w_ : "(null)");                                       \
	} while (0)

/* A test that creates things outside itself (cgroups, mounts, device nodes) cleans them up when
 * it is interrupted or its watchdog fires, then exits 128+N. */
static void (*tap_cleanup_fn)(void);

static void tap_on_fatal_signal(int sig)
{
	static const char msg[] = "# interrupted: cleaning up\n";
	ssize_t n = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	if (tap_cleanup_fn)
		tap_cleanup_fn();
	_exit(128 + sig);
}

/* Runs cleanup on SIGINT, SIGTERM, SIGHUP, SIGABRT and SIGALRM; with watchdog_s > 0, the test is
 * stopped (and cleaned up) after that many seconds. */
static inline void tap_cleanup_on_signals(void (*cleanup)(void), unsigned watchdog_s)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGALRM };
	struct sigaction sa = { .sa_handler = tap_on_fatal_signal };
	tap_cleanup_fn = cleanup;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if (watchdog_s)
		alarm(watchdog_s);
}

/* Prints the plan and returns the exit status for main(). */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failures ? 1 : 0;
}
