/* Who is at the other end of a connection, and acting as them on the filesystem: a path a client
 * names is looked up and created with the client's own rights, never with the daemon's. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The supplementary groups kept: a peer in more is kept with none (fewer only ever grant less). */
#define PEER_GROUPS_MAX 64

struct peer_creds {
	bool known;
	uid_t uid;
	gid_t gid;
	unsigned n_groups;
	gid_t groups[PEER_GROUPS_MAX];
};

/* SO_PEERCRED's uid and gid and SO_PEERGROUPS' groups of a connected Unix socket. */
int peer_creds_read(int fd, struct peer_creds *ret);

/* What peer_assume() changed, for peer_restore(). */
struct peer_saved {
	bool active;
	int n_groups;
	gid_t groups[PEER_GROUPS_MAX];
};

/* Takes on the peer's filesystem identity (fsuid, fsgid, supplementary groups) for the calls that
 * follow, up to peer_restore(); a root peer, or unknown credentials (a record written before
 * they were kept), change nothing. -errno if the identity could not be taken on (nothing is then
 * changed). */
int peer_assume(const struct peer_creds *p, struct peer_saved *saved);
void peer_restore(struct peer_saved *saved);
