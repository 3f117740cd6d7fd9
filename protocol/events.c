#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/events.h"
#include "protocol/field.h"

static const char *const actions[] = {
	"create", "start", "die", "destroy", "rename", "pause", "unpause", "kill", "stop", "oom", "restart", "exec_create",
	"exec_start", "exec_die",
	/* image events */
	"import", "tag", "untag", "delete", "load", "save", NULL,
};

bool proto_events_action_known(const char *name)
{
	for (size_t i = 0; actions[i]; i++)
		if (strcmp(actions[i], name) == 0)
			return true;
	return false;
}

/* Reads exactly n decimal digits at *p, advancing it; -1 when they are not there. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* The fraction after a '.': up to 9 digits count, more are refused (no silent rounding). */
static int fraction(const char **p, int64_t *ret_ns)
{
	int64_t ns = 0;
	int n = 0;
	while (isdigit((unsigned char)**p)) {
		if (++n > 9)
			return -EINVAL;
		ns = ns * 10 + (**p - '0');
		(*p)++;
	}
	if (n == 0)
		return -EINVAL;
	for (; n < 9; n++)
		ns *= 10;
	*ret_ns = ns;
	return 0;
}

/* Unix seconds with an optional fraction, all digits: anything else is refused. */
static int parse_unix(const char *s, int64_t *ret_ns)
{
	const char *p = s;
	int64_t sec = 0, ns = 0;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		sec = sec * 10 + (*p++ - '0');
		/* Up to the year 2261, within int64 nanoseconds (checked before it can overflow). */
		if (sec > PROTO_EVENTS_MAX_SECONDS)
			return -ERANGE;
	}
	if (*p == '.') {
		p++;
		if (fraction(&p, &ns) < 0)
			return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*ret_ns = sec * 1000000000LL + ns;
	return 0;
}

int proto_events_parse_time(const char *s, int64_t *ret_ns)
{
	if (!strchr(s, '-') || strlen(s) < 20)
		return parse_unix(s, ret_ns);
	const char *p = s;
	struct tm tm = { 0 };
	int64_t ns = 0;
	int y = digits(&p, 4), mo, d, h, mi, sec, off = 0;
	if (y < 1970 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 1 || d > 31 || (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	p++;
	if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59 ||
	    *p++ != ':' || (sec = digits(&p, 2)) < 0 || sec > 60)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (fraction(&p, &ns) < 0)
			return -EINVAL;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if ((oh = digits(&p, 2)) < 0 || oh > 23 || *p++ != ':' || (om = digits(&p, 2)) < 0 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p || y > 2262)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)
		return -EINVAL;
	int64_t sec_utc = (int64_t)t - off;
	if (sec_utc < 0 || sec_utc > PROTO_EVENTS_MAX_SECONDS)
		return -ERANGE;
	*ret_ns = sec_utc * 1000000000LL + ns;
	return 0;
}

/* "since" and "until": a string (RFC 3339 or unix seconds) or a non-negative integer of seconds. */
int proto_events_time_field(json_t *params, const char *key, bool *has, int64_t *ret_ns, char **reterr)
{
	json_t *v = json_object_get(params, key);
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		json_int_t s = json_integer_value(v);
		if (s < 0 || s > PROTO_EVENTS_MAX_SECONDS)
			return err_set(reterr, -EINVAL, "parameter \"%s\" is out of range", key);
		*ret_ns = (int64_t)s * 1000000000LL;
	} else if (!json_is_string(v) || proto_events_parse_time(json_string_value(v), ret_ns) < 0) {
		return err_set(reterr, -EINVAL, "parameter \"%s\" must be an RFC 3339 time or unix seconds", key);
	}
	*has = true;
	return 0;
}

static int filters_decode(json_t *f, struct proto_events_params *ret, char **reterr)
{
	static const char *const keys[] = { "container", "event", "type", NULL };
	int r;
	if (!f || json_is_null(f))
		return 0;
	if (!json_is_object(f))
		return err_set(reterr, -EINVAL, "parameter \"filters\" must be an object");
	if ((r = field_check_known(f, keys, NULL, PROTO_M_EVENTS " filters", reterr)) < 0 ||
	    (r = field_get_strv(f, "container", PROTO_EVENTS_MAX_FILTER, &ret->containers, reterr)) < 0 ||
	    (r = field_get_strv(f, "event", PROTO_EVENTS_MAX_FILTER, &ret->actions, reterr)) < 0 ||
	    (r = field_get_strv(f, "type", PROTO_EVENTS_MAX_FILTER, &ret->types, reterr)) < 0)
		return r;
	for (char **s = ret->containers; s && *s; s++)
		if (!**s)
			return err_set(reterr, -EINVAL, "filter \"container\" must not be empty");
	for (char **s = ret->actions; s && *s; s++)
		if (!proto_events_action_known(*s))
			return err_set(reterr, -EINVAL, "unknown event \"%.32s\" in filter \"event\"", *s);
	for (char **s = ret->types; s && *s; s++)
		if (strcmp(*s, "container") != 0 && strcmp(*s, "image") != 0)
			return err_set(reterr, -EINVAL, "unknown type \"%.32s\" in filter \"type\" (container or image)",
				       *s);
	return 0;
}

int proto_events_params_decode(json_t *params, struct proto_events_params *ret, char **reterr)
{
	static const char *const keys[] = { "since", "until", "filters", NULL };
	memset(ret, 0, sizeof(*ret));
	int r;
	if (!params)
		return 0;
	if ((r = field_check_known(params, keys, NULL, PROTO_M_EVENTS " params", reterr)) < 0 ||
	    (r = proto_events_time_field(params, "since", &ret->has_since, &ret->since_ns, reterr)) < 0 ||
	    (r = proto_events_time_field(params, "until", &ret->has_until, &ret->until_ns, reterr)) < 0 ||
	    (r = filters_decode(json_object_get(params, "filters"), ret, reterr)) < 0) {
		proto_events_params_done(ret);
		return r;
	}
	if (ret->has_since && ret->has_until && ret->until_ns < ret->since_ns) {
		proto_events_params_done(ret);
		return err_set(reterr, -EINVAL, "\"until\" is before \"since\"");
	}
	return 0;
}

void proto_events_params_done(struct proto_events_params *p)
{
	strv_free(p->containers);
	strv_free(p->actions);
	strv_free(p->types);
	p->containers = p->actions = p->types = NULL;
}
