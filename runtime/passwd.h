/* Resolving a user the way Docker does, from the container's own /etc/passwd and /etc/group: the
 * files an image ships are hostile input, read from inside the container's root only. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct passwd_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups: every /etc/group entry that lists the user */
	size_t n_groups;
	char *home;    /* from the passwd entry; "/" when the user has none */
};

/* spec: "NAME", "UID", "NAME:GROUP", "UID:GID" (and the mixed forms). A name must exist in the
 * files; a number need not. Runs in the init after pivot_root. */
int passwd_resolve(const char *spec, struct passwd_user *ret, char *err, size_t errlen);
void passwd_user_done(struct passwd_user *u);

/* Parsers over a file's text, for tests and fuzzing. */
int passwd_resolve_text(const char *spec, const char *passwd, const char *group, struct passwd_user *ret, char *err,
			size_t errlen);
