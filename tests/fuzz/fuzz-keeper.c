/* Fuzz target for what containd and containd-keeper read from each other (keeper_recv): one
 * SOCK_SEQPACKET message of any length with 0 to 40 fds attached (more than a message may carry,
 * so the kernel or the reader must drop some). A message is accepted only when it is exactly one
 * struct keeper_msg whose nfds says how many fds came; every fd of a refused message is closed,
 * an accepted one's text is NUL-terminated, and nothing leaks.
 *
 * Input: byte 0 = number of fds to attach (mod 41); the rest is the message. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "keeper/keeper-proto.h"
#include "tests/fuzz/fuzz.h"

/* The lowest fd that is free: a leak shows as a higher one after the call. */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	close(fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > sizeof(struct keeper_msg) + 64)
		return 0;
	int before = lowest_free_fd();
	int sv[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	size_t nsend = data[0] % 41;
	int send[40];
	for (size_t i = 0; i < nsend; i++)
		FUZZ_CHECK((send[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	/* An empty payload still needs a byte to carry fds. */
	uint8_t zero = 0;
	const uint8_t *payload = size > 1 ? data + 1 : &zero;
	size_t len = size > 1 ? size - 1 : 1;
	ssize_t n = fdpass_send(sv[0], payload, len, send, nsend, MSG_DONTWAIT);
	for (size_t i = 0; i < nsend; i++)
		close(send[i]);
	struct keeper_msg m;
	int fds[KEEPER_MAX_FDS];
	int r = n < 0 ? 0 : keeper_recv(sv[1], &m, fds, MSG_DONTWAIT);
	if (r == 1) {
		FUZZ_CHECK(len == sizeof(m));
		FUZZ_CHECK(m.nfds <= KEEPER_MAX_FDS && m.nfds == nsend);
		FUZZ_CHECK(memchr(m.text, '\0', sizeof(m.text)) != NULL);
		for (uint32_t i = 0; i < m.nfds; i++)
			FUZZ_CHECK(fcntl(fds[i], F_GETFD) == FD_CLOEXEC);
		keeper_close_fds(fds, m.nfds);
	} else {
		FUZZ_CHECK(r == -EBADMSG || r == 0 || r == -EAGAIN);
		FUZZ_CHECK(r != -EBADMSG || len != sizeof(m) || nsend > KEEPER_MAX_FDS || m.nfds != nsend);
	}
	close(sv[0]);
	close(sv[1]);
	FUZZ_CHECK(lowest_free_fd() == before);
	return 0;
}
