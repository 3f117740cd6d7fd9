#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "keeper/keeper-proto.h"

int keeper_send(int fd, struct keeper_msg *msg, const int *fds)
{
	msg->text[KEEPER_TEXT_MAX - 1] = '\0';
	ssize_t n;
	do
		n = fdpass_send(fd, msg, sizeof(*msg), fds, msg->nfds, 0);
	while (n == -EINTR);
	if (n < 0)
		return (int)n;
	return (size_t)n == sizeof(*msg) ? 0 : -EMSGSIZE;
}

void keeper_close_fds(int *fds, uint32_t nfds)
{
	for (uint32_t i = 0; i < nfds && i < KEEPER_MAX_FDS; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

int keeper_recv(int fd, struct keeper_msg *msg, int *fds, int flags)
{
	size_t nfds = 0;
	bool truncated = false;
	/* One byte more than a message: a longer one (which the socket would cut to fit) shows. */
	union {
		struct keeper_msg msg;
		char bytes[sizeof(struct keeper_msg) + 1];
	} buf = { 0 };
	ssize_t n;
	do
		n = fdpass_recv(fd, &buf, sizeof(buf), fds, KEEPER_MAX_FDS, &nfds, &truncated, flags);
	while (n == -EINTR);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return 0;
	*msg = buf.msg;
	/* A message is whole or it is nothing: a short or long one, extra fds or fewer than it says. */
	if ((size_t)n != sizeof(*msg) || truncated || msg->nfds != nfds) {
		keeper_close_fds(fds, (uint32_t)nfds);
		return -EBADMSG;
	}
	msg->text[KEEPER_TEXT_MAX - 1] = '\0';
	return 1;
}
