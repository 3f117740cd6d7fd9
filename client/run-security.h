/* cctl run's security flags (--privileged, --cap-add, --cap-drop, --security-opt, --ulimit,
 * --userns, --device-cgroup-rule) turned into the members of struct proto_run_params. */
#pragma once

#include <jansson.h>

#include "protocol/messages.h"

/* What the flags collected; the vectors hold strings borrowed from argv. */
struct run_security {
	char **cap_add, **cap_drop, **device_cgroup_rules;
	struct proto_ulimit *ulimits;
	size_t n_ulimits;
	json_t *seccomp_profile;
	char **names; /* the ulimit names (owned) */
};

/* Appends s (borrowed) to a NULL-terminated vector. */
int run_security_push(char ***v, char *s, char **reterr);
/* --security-opt VALUE: no-new-privileges[=|:bool], seccomp=unconfined|FILE, systempaths=unconfined.
 * A FILE is read and parsed here, by cctl: the daemon never opens a path a client names. */
int run_security_opt(struct run_security *s, struct proto_run_params *p, const char *value, char **reterr);
/* --ulimit NAME=SOFT[:HARD]; a later one for the same name replaces the earlier one. */
int run_security_ulimit(struct run_security *s, const char *value, char **reterr);
/* Points the params at what was collected. */
void run_security_apply(struct run_security *s, struct proto_run_params *p);
void run_security_done(struct run_security *s);
