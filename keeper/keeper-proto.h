/* What containd and containd-keeper say to each other: fixed-size messages on a SOCK_SEQPACKET
 * socket, each whole, fds attached as SCM_RIGHTS. Both ends are the same release's root
 * processes; the keeper still checks every message's shape, since a keeper outlives the daemon
 * that started it and meets the next one (the version in KEEPER_HELLO must match).
 *
 * The keeper is the one process that supervises containers while the daemon is away: it clones
 * every container's init (so it is their parent and the only one that can learn their exit
 * status), reaps them, keeps each exit until the daemon has recorded it, and holds the fds a
 * container's output and terminal need so they outlive a daemon restart. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define KEEPER_PROTO_VERSION 1
#define KEEPER_MAX_FDS 32    /* fds one message carries: an init, its channel, cgroups of every hierarchy */
#define KEEPER_TEXT_MAX 1024 /* a path or a message, with its NUL */
#define KEEPER_SOCKET "keeper.sock" /* in the daemon's --state directory */
#define KEEPER_EXE_NAME "containd-keeper"

enum keeper_op {
	/* daemon → keeper: version, flags (KEEPER_F_*). keeper → daemon: the same, pid = its own. */
	KEEPER_HELLO = 1,
	/* daemon → keeper: clone an init. namespaces; text = the prepare dir; fds = the init's exe,
	 * the init's end of its channel, then (flags & KEEPER_F_CGROUP_FD) the v2 cgroup to clone
	 * into, then (flags & KEEPER_F_PID_JOIN) the pidfd of the process whose pid namespace the
	 * init is born in, then the files to join v1 hierarchies through. */
	KEEPER_SPAWN = 2,
	/* keeper → daemon: the answer to a KEEPER_SPAWN: pid, start_time and the pidfd. */
	KEEPER_SPAWNED = 3,
	/* keeper → daemon: a request failed: error (an errno), text = why. */
	KEEPER_FAILED = 4,
	/* keeper → daemon: a child exited: pid, start_time, wait_code, wait_status. */
	KEEPER_EXITED = 5,
	/* daemon → keeper: keep these fds for the child pid/start_time (text = the container id);
	 * tags say what each is. They replace what was held with the same tags. */
	KEEPER_HOLD = 6,
	/* daemon → keeper: the child's exit was recorded: forget it, close what was held. */
	KEEPER_RELEASE = 7,
	/* daemon → keeper: list every child. keeper → daemon: one KEEPER_CHILD each, with the fds
	 * held, then KEEPER_LIST_END. */
	KEEPER_LIST = 8,
	KEEPER_CHILD = 9,
	KEEPER_LIST_END = 10,
	/* daemon → keeper: every container was stopped: exit once no child is left. */
	KEEPER_QUIT = 11,
};

enum {
	/* HELLO: kill every child when this daemon goes away (containd --live-restore=false). */
	KEEPER_F_KILL_ON_DISCONNECT = 1u << 0,
	/* SPAWN: the third fd is the v2 cgroup directory to clone into. */
	KEEPER_F_CGROUP_FD = 1u << 1,
	/* SPAWN: the next fd is a pidfd whose pid namespace the init joins (struct rt_init_opts). */
	KEEPER_F_PID_JOIN = 1u << 3,
	/* CHILD: it exited (wait_code, wait_status say how). */
	KEEPER_F_EXITED = 1u << 2,
};

/* What a held fd is (KEEPER_HOLD). */
enum keeper_tag {
	KEEPER_TAG_PTY = 1,    /* the master of the container's terminal */
	KEEPER_TAG_STDOUT = 2, /* the read end of its stdout pipe */
	KEEPER_TAG_STDERR = 3, /* the read end of its stderr pipe */
	KEEPER_TAG_MAX = 16,
};

struct keeper_msg {
	uint32_t op;
	uint32_t version;
	uint32_t flags;
	int32_t pid;
	uint64_t start_time; /* clock ticks after boot, as struct pidref */
	int32_t namespaces;
	int32_t wait_code, wait_status;
	int64_t exit_time_ns; /* EXITED, CHILD: when it was reaped (CLOCK_REALTIME) */
	int32_t error;
	uint32_t nfds;
	uint8_t tags[KEEPER_MAX_FDS];
	char text[KEEPER_TEXT_MAX];
};

/* Sends msg with its fds (msg->nfds of them); blocking. 0 or -errno. */
int keeper_send(int fd, struct keeper_msg *msg, const int *fds);
/* Receives one message and its fds (close-on-exec; at most KEEPER_MAX_FDS, msg->nfds set to
 * how many came). 1 with a message, 0 at EOF, -EAGAIN, -EBADMSG for a malformed one (its fds
 * closed), -errno. flags: MSG_DONTWAIT or 0. */
int keeper_recv(int fd, struct keeper_msg *msg, int *fds, int flags);
/* Closes the fds of a message. */
void keeper_close_fds(int *fds, uint32_t nfds);
