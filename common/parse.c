#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/parse.h"

int parse_size(const char *s, uint64_t *ret)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	unsigned shift = 0;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': shift = 0; end++; break;
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	case 't': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },     { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT },   { "BUS", SIGBUS },   { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM },   { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP },   { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG },     { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "PWR", SIGPWR },   { "SYS", SIGSYS },
};

int parse_signal(const char *s, int *ret)
{
	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)*s)) {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (errno || *end || v < 1 || v > SIGRTMAX)
			return -EINVAL;
		*ret = (int)v;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcasecmp(s, signals[i].name) == 0) {
			*ret = signals[i].sig;
			return 0;
		}
	return -EINVAL;
}

const char *signal_name(int sig)
{
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

static int parse_id(const char *s, size_t len, unsigned long *ret)
{
	if (len == 0 || len > 10)
		return -EINVAL;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	/* (uid_t)-1 means "unchanged" to the kernel, so it can never be a real id. */
	if (v >= 4294967295UL)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_user(const char *s, uid_t *ret_uid, gid_t *ret_gid)
{
	if (!s)
		return -EINVAL;
	const char *colon = strchr(s, ':');
	unsigned long uid, gid = (unsigned long)(gid_t)-1;
	int r = parse_id(s, colon ? (size_t)(colon - s) : strlen(s), &uid);
	if (r < 0)
		return r;
	if (colon) {
		r = parse_id(colon + 1, strlen(colon + 1), &gid);
		if (r < 0)
			return r;
	}
	*ret_uid = (uid_t)uid;
	*ret_gid = (gid_t)gid;
	return 0;
}

int parse_cpus(const char *s, uint64_t *ret_millicpus)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	uint64_t whole = 0, frac = 0;
	const char *p = s;
	while (isdigit((unsigned char)*p)) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 1024)
			return -ERANGE;
		p++;
	}
	if (*p == '.') {
		p++;
		unsigned digits = 0;
		while (isdigit((unsigned char)*p)) {
			if (++digits > 3)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
			p++;
		}
		if (digits == 0)
			return -EINVAL;
		while (digits++ < 3)
			frac *= 10;
	}
	if (*p)
		return -EINVAL;
	uint64_t m = whole * 1000 + frac;
	if (m == 0)
		return -EINVAL;
	if (m > 1024 * 1000)
		return -ERANGE;
	*ret_millicpus = m;
	return 0;
}
