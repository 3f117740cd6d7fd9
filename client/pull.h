/* Pulling from cctl: the image.pull request with the user's registry credentials, and Docker's
 * progress display. Shared by `cctl pull` and the auto-pull of run and create. */
#pragma once

#include <stdbool.h>

struct cctl;

/* Where `cctl login` keeps credentials: $CONTAIND_CONFIG/auth.json, else
 * $XDG_CONFIG_HOME/containd/auth.json, else ~/.config/containd/auth.json. Caller frees. */
char *pull_auth_path(void);

/* Pulls ref through the daemon, showing progress on stderr (bars on a terminal, a line per
 * step otherwise; nothing when quiet). On success *ret_name (if non-NULL) is the name the
 * image got locally ("alpine:3.20", or the repo digest for a pull by digest). -ENOENT for an
 * unknown image, -errno with the daemon's message. */
int pull_image(struct cctl *cctl, const char *ref, const char *platform, bool quiet, char **ret_name,
	       char **reterr);
