#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fdpass.h"
#include "common/macros.h"
#include "runtime/process.h"
#include "runtime/sync.h"

void sync_fail(int sync_fd, int exit_code, const char *fmt, ...)
{
	struct rt_report rep = { .type = RT_REPORT_ERROR, .exit_code = exit_code };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep.message, sizeof(rep.message), fmt, ap);
	va_end(ap);
	(void)fdpass_send(sync_fd, &rep, sizeof(rep), NULL, 0, 0);
	_exit(exit_code);
}

int sync_send_ready(int sync_fd)
{
	struct rt_report rep = { .type = RT_REPORT_READY };
	ssize_t n = fdpass_send(sync_fd, &rep, sizeof(rep), NULL, 0, 0);
	return n < 0 ? (int)n : 0;
}

int sync_send_pty(int sync_fd, int master)
{
	struct rt_report rep = { .type = RT_REPORT_PTY };
	ssize_t n = fdpass_send(sync_fd, &rep, sizeof(rep), &master, 1, 0);
	return n < 0 ? (int)n : 0;
}

int sync_receive_start(int sync_fd, struct rt_spec *ret_spec, int stdio[3], int *ret_seccomp_fd, char **reterr)
{
	int fds[4] = { -1, -1, -1, -1 };
	size_t nfds = 0;
	bool truncated;
	char peek;
	int r;

	stdio[0] = stdio[1] = stdio[2] = *ret_seccomp_fd = -1;
	ssize_t n;
	do
		n = recv(sync_fd, &peek, 1, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_set(reterr, -errno, "cannot read the start message: %m");
	if (n == 0)
		return -EPIPE;
	if (n > SYNC_MAX_START)
		return err_set(reterr, -EMSGSIZE, "the start message is too large");
	_cleanup_free_ char *text = malloc((size_t)n);
	if (!text)
		return err_set(reterr, -ENOMEM, "out of memory");
	n = fdpass_recv(sync_fd, text, (size_t)n, fds, ARRAY_SIZE(fds), &nfds, &truncated, 0);
	if (n <= 0 || truncated) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return n == 0 ? -EPIPE : err_set(reterr, n < 0 ? (int)n : -EBADMSG, "cannot read the start message");
	}
	json_auto_t *doc = json_loadb(text, (size_t)n, 0, NULL);
	int map[4];
	if (!doc || json_unpack(doc, "{s:[iii], s:i}", "stdio", &map[0], &map[1], &map[2], "seccomp", &map[3]) < 0) {
		r = err_set(reterr, -EBADMSG, "invalid start message");
		goto fail;
	}
	if ((r = spec_from_json(json_object_get(doc, "spec"), ret_spec, reterr)) < 0)
		goto fail;
	for (int i = 0; i < 4; i++) {
		int fd = map[i] >= 0 && (size_t)map[i] < nfds ? fds[map[i]] : -1;
		if (i < 3)
			stdio[i] = fd;
		else
			*ret_seccomp_fd = fd;
	}
	return 0;
fail:
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	return r;
}
