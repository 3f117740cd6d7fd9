/* Pulling from cctl: the image.pull request with the user's registry credentials, and Docker's
 * progress display. Shared by `cctl pull` and the auto-pull of run and create. */
#pragma once

#include <stdbool.h>

struct cctl;

/* Where `cctl login` keeps credentials: $CONTAIND_CONFIG/auth.json, else
 * $XDG_CONFIG_HOME/containd/auth.json, else ~/.config/containd/auth.json. Caller frees. */
char *pull_auth_path(void);

/* Pulls ref through the daemon, showing progress on stderr (bars on a terminal, a line per
 * step otherwise; nothing when quiet). On success *ret_image (if non-NULL) is how to name the
 * image to the daemon: its local name ("alpine:3.20"), or its id after a pull by digest.
 * -ENOENT for an unknown image, -errno with the daemon's message. */
int pull_image(struct cctl *cctl, const char *ref, const char *platform, bool quiet, char **ret_image,
	       char **reterr);

/* What run and create do on conn before they send their request, by the --pull policy (NULL:
 * "missing"): "never" nothing; "missing" pulls an image the daemon does not have, saying "Unable
 * to find image 'x' locally" first, as Docker does; "always" pulls. Returns 1 when it pulled, 0
 * when not. *ret_image is set to what to name the image after a pull by digest (its id), else
 * NULL. */
struct conn;
int pull_ensure(struct cctl *cctl, struct conn *conn, const char *policy, const char *image, char **ret_image,
		char **reterr);
