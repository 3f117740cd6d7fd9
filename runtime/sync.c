#include <errno.h>
#include <sched.h>
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

int sync_send_exec(int sync_fd)
{
	struct rt_report rep = { .type = RT_REPORT_EXEC };
	ssize_t n = fdpass_send(sync_fd, &rep, sizeof(rep), NULL, 0, 0);
	return n < 0 ? (int)n : 0;
}

int sync_send_pty(int sync_fd, int master)
{
	struct rt_report rep = { .type = RT_REPORT_PTY };
	ssize_t n = fdpass_send(sync_fd, &rep, sizeof(rep), &master, 1, 0);
	return n < 0 ? (int)n : 0;
}

int sync_receive_start(int sync_fd, struct rt_spec *ret_spec, struct sync_start_fds *ret_fds, char **reterr)
{
	int fds[FDPASS_MAX_FDS];
	size_t nfds = 0;
	bool truncated;
	char peek;
	int r;

	ret_fds->stdio[0] = ret_fds->stdio[1] = ret_fds->stdio[2] = ret_fds->seccomp_fd = ret_fds->join_fd = -1;
	ret_fds->n_layers = ret_fds->n_joins = 0;
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
	int map[5] = { -1, -1, -1, -1, -1 }, first_layer = 0, n_layers = 0;
	json_t *joins = NULL;
	if (!doc ||
	    json_unpack(doc, "{s:[iii], s:i, s:i, s:i, s?i, s?o}", "stdio", &map[0], &map[1], &map[2], "seccomp",
			&map[3], "layers", &first_layer, "n_layers", &n_layers, "join", &map[4], "joins", &joins) < 0 ||
	    n_layers < 0 || n_layers > SYNC_MAX_LAYERS || first_layer < 0 || (size_t)first_layer + (size_t)n_layers > nfds ||
	    (joins && (!json_is_array(joins) || json_array_size(joins) > RT_MAX_JOINS))) {
		r = err_set(reterr, -EBADMSG, "invalid start message");
		goto fail;
	}
	/* Each join names its namespaces and the index of its pidfd; every index must be one that
	 * came, and no namespace type may be named twice. */
	int joined = 0;
	for (size_t i = 0; joins && i < json_array_size(joins); i++) {
		int flags = 0, idx = -1;
		if (json_unpack(json_array_get(joins, i), "[ii]", &flags, &idx) < 0 || idx < 0 || (size_t)idx >= nfds ||
		    !flags || (flags & joined) || (flags & ~(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP))) {
			r = err_set(reterr, -EBADMSG, "invalid namespace join in the start message");
			goto fail;
		}
		joined |= flags;
		ret_fds->joins[ret_fds->n_joins++] = (struct rt_ns_join){ .flags = flags, .pidfd = fds[idx] };
	}
	if ((r = spec_from_json(json_object_get(doc, "spec"), ret_spec, reterr)) < 0)
		goto fail;
	for (int i = 0; i < 5; i++) {
		int fd = map[i] >= 0 && (size_t)map[i] < nfds ? fds[map[i]] : -1;
		if (i < 3)
			ret_fds->stdio[i] = fd;
		else if (i == 3)
			ret_fds->seccomp_fd = fd;
		else
			ret_fds->join_fd = fd;
	}
	for (int i = 0; i < n_layers; i++)
		ret_fds->layers[i] = fds[first_layer + i];
	ret_fds->n_layers = (size_t)n_layers;
	return 0;
fail:
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	return r;
}
