#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/ps-filter.h"
#include "common/error.h"
#include "common/macros.h"

static const char *const key_names[PS_FILTER_KEYS] = {
	[PS_FILTER_STATUS] = "status", [PS_FILTER_NAME] = "name",     [PS_FILTER_LABEL] = "label",
	[PS_FILTER_ID] = "id",         [PS_FILTER_EXITED] = "exited",
};

/* Docker's container states: a filter on one this daemon never reports matches nothing, but a
 * misspelt one is an error. */
static const char *const states[] = { "created", "restarting", "running", "removing", "paused", "exited", "dead" };

int ps_filter_add(struct ps_filter *f, const char *arg, char **reterr)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	int key = -1;
	for (int i = 0; i < PS_FILTER_KEYS; i++)
		if (strlen(key_names[i]) == klen && strncmp(arg, key_names[i], klen) == 0)
			key = i;
	if (key < 0)
		return err_set(reterr, -EINVAL,
			       "invalid filter '%.*s': the keys are status, name, label, id and exited", (int)klen, arg);
	if (!eq)
		return err_set(reterr, -EINVAL, "bad format of filter '%s' (expected name=value)", arg);
	const char *v = eq + 1;
	if (f->n[key] >= PS_FILTER_MAX)
		return err_set(reterr, -EINVAL, "too many '%s' filters (at most %d)", key_names[key], PS_FILTER_MAX);
	if (key == PS_FILTER_STATUS) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(states); i++)
			known = known || strcmp(v, states[i]) == 0;
		if (!known)
			return err_set(reterr, -EINVAL,
				       "invalid filter 'status=%s': the states are created, restarting, running, "
				       "removing, paused, exited and dead", v);
	} else if (key == PS_FILTER_EXITED) {
		char *end;
		errno = 0;
		long code = strtol(v, &end, 10);
		if (!*v || *end || errno || code < 0 || code > 255)
			return err_set(reterr, -EINVAL, "invalid filter 'exited=%s': an exit code is 0 to 255", v);
		f->exited[f->n[key]] = (int)code;
	} else if (!*v && key != PS_FILTER_NAME) {
		return err_set(reterr, -EINVAL, "invalid filter '%s=': the value must not be empty", key_names[key]);
	}
	f->values[key][f->n[key]++] = v;
	return 0;
}

bool ps_filter_wants_all(const struct ps_filter *f)
{
	return f->n[PS_FILTER_STATUS] > 0;
}

/* label=KEY matches a container with that label, label=KEY=VALUE one where it has that value. */
static bool label_match(const struct proto_container_summary *c, const char *want)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);
	/* The last of equal keys counts, as it would in a JSON object. */
	const char *have = NULL;
	for (size_t i = 0; i < c->n_labels; i++) {
		const char *k = c->labels[2 * i];
		if (strncmp(k, want, klen) == 0 && k[klen] == '\0')
			have = c->labels[2 * i + 1];
	}
	return have && (!eq || strcmp(have, eq + 1) == 0);
}

/* Whether one value of key matches c. */
static bool value_match(const struct ps_filter *f, int key, size_t i, const struct proto_container_summary *c)
{
	const char *v = f->values[key][i];
	switch (key) {
	case PS_FILTER_STATUS:
		return strcmp(c->state, v) == 0;
	case PS_FILTER_NAME:
		return strstr(c->name, v) != NULL;
	case PS_FILTER_LABEL:
		return label_match(c, v);
	case PS_FILTER_ID:
		return strstr(c->id, v) != NULL;
	default:
		/* Docker's rule: an exit code only counts for a container that ran and stopped. */
		return strcmp(c->state, "exited") == 0 && c->started_at && c->exit_code == f->exited[i];
	}
}

bool ps_filter_match(const struct ps_filter *f, const struct proto_container_summary *c)
{
	for (int key = 0; key < PS_FILTER_KEYS; key++) {
		if (!f->n[key])
			continue;
		/* Docker's one exception: every label filter must match (MatchKVList). */
		bool all = key == PS_FILTER_LABEL, result = all;
		for (size_t i = 0; i < f->n[key] && result == all; i++)
			result = value_match(f, key, i, c);
		if (!result)
			return false;
	}
	return true;
}
