#include <errno.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/peer.h"

int peer_creds_read(int fd, struct peer_creds *ret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	*ret = (struct peer_creds){ .known = false };
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	/* A peer in more groups than fit gets ERANGE and is kept with none of them: fewer groups
	 * only ever grant less. */
	len = sizeof(ret->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, ret->groups, &len) < 0)
		len = 0;
	ret->uid = cred.uid;
	ret->gid = cred.gid;
	ret->n_groups = (unsigned)(len / sizeof(gid_t));
	ret->known = true;
	return 0;
}

/* Why this is enough: every permission check of a path lookup or creation uses the fsuid, the
 * fsgid and the supplementary groups, and moving the fsuid away from 0 drops the capabilities that
 * bypass those checks (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN, ...) from
 * the effective set until it is set back to 0 (capabilities(7)). The daemon is single-threaded,
 * so the process-wide setgroups() covers only these calls. */
int peer_assume(const struct peer_creds *p, struct peer_saved *saved)
{
	*saved = (struct peer_saved){ .active = false };
	if (!p->known || p->uid == 0)
		return 0;
	saved->n_groups = getgroups(PEER_GROUPS_MAX, saved->groups);
	if (saved->n_groups < 0)
		return -errno;
	if (setgroups(p->n_groups, p->groups) < 0)
		return -errno;
	saved->active = true;
	(void)setfsgid(p->gid);
	(void)setfsuid(p->uid);
	/* Both return the previous id whatever happens: asking again tells what is in force. */
	if ((uid_t)setfsuid(p->uid) != p->uid || (gid_t)setfsgid(p->gid) != p->gid) {
		peer_restore(saved);
		return -EPERM;
	}
	return 0;
}

void peer_restore(struct peer_saved *saved)
{
	if (!saved->active)
		return;
	(void)setfsuid(0);
	(void)setfsgid(0);
	if (setgroups((size_t)saved->n_groups, saved->groups) < 0)
		log_error("cannot restore the daemon's supplementary groups: %m");
	saved->active = false;
}
