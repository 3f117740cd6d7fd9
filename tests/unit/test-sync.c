/* Unit tests for the start message's namespace joins (runtime/process.c rt_init_send_start, runtime/
 * sync.c sync_receive_start), over a real SOCK_SEQPACKET pair: each join arrives with its flags and
 * its own fd, and a message whose joins name the pid namespace (the cloner's part), a namespace
 * twice, an fd that did not come, or too many of them is refused, its fds closed. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macros.h"
#include "runtime/process.h"
#include "runtime/sync.h"
#include "tests/tap.h"

/* A spec that validates, the network and ipc namespaces joined. */
static int make_spec(struct rt_spec *s)
{
	if (spec_init_default(s, NULL) < 0)
		return -1;
	s->process.args = calloc(2, sizeof(char *));
	if (!s->process.args || !(s->process.args[0] = strdup("true")) || !(s->process.cwd = strdup("/")) ||
	    !(s->root_path = strdup("/r")))
		return -1;
	s->namespaces &= ~(CLONE_NEWNET | CLONE_NEWIPC);
	s->join_namespaces = CLONE_NEWNET | CLONE_NEWIPC;
	return 0;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void test_joins_travel(void)
{
	int sv[2], p1[2], p2[2];
	struct rt_spec spec = {0}, out = {0};
	struct sync_start_fds got;
	char *err = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(p1, O_CLOEXEC) < 0 ||
	    pipe2(p2, O_CLOEXEC) < 0 || make_spec(&spec) < 0) {
		ok(0, "setting up");
		return;
	}
	struct rt_init init = {.proc = PIDREF_NULL, .sync_fd = sv[0], .mntns_fd = -1};
	struct rt_ns_join joins[] = {{CLONE_NEWNET, p1[0]}, {CLONE_NEWIPC, p2[0]}};
	struct rt_start_fds fds = {.stdio = {-1, -1, -1}, .seccomp_fd = -1, .joins = joins, .n_joins = 2};
	is_int(rt_init_send_start(&init, &spec, &fds, -1, &err), 0, "a start message with two joins is sent");
	int r = sync_receive_start(sv[1], &out, &got, &err);
	is_int(r, 0, "and received");
	if (r < 0)
		printf("# %s\n", err ? err : "");
	is_int(got.n_joins, 2, "two joins");
	is_int(r == 0 ? got.joins[0].flags : 0, CLONE_NEWNET, "the first joins the network namespace");
	ok(r == 0 && same_file(got.joins[0].pidfd, p1[0]), "... through its own fd");
	is_int(r == 0 ? got.joins[1].flags : 0, CLONE_NEWIPC, "the second joins the ipc namespace");
	ok(r == 0 && same_file(got.joins[1].pidfd, p2[0]), "... through its own fd");
	is_int(out.join_namespaces, CLONE_NEWNET | CLONE_NEWIPC, "the spec says which namespaces are joined");
	is_int(got.join_fd, -1, "no exec join");
	for (size_t i = 0; r == 0 && i < got.n_joins; i++)
		close(got.joins[i].pidfd);
	spec_done(&out);
	fds.n_joins = RT_MAX_JOINS + 1;
	free(err);
	err = NULL;
	is_int(rt_init_send_start(&init, &spec, &fds, -1, &err), -E2BIG, "more joins than RT_MAX_JOINS are not sent");
	free(err);
	spec_done(&spec);
	close(sv[0]);
	close(sv[1]);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

/* Sends a start message whose "joins" is joins_json, with nfds copies of a pipe's read end, and
 * checks that it is refused and that none of the fds stays open in the receiver. */
static void refused(const char *joins_json, size_t nfds, const char *what)
{
	int sv[2], p[2];
	struct rt_spec spec = {0}, out = {0};
	struct sync_start_fds got;
	char *err = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(p, O_CLOEXEC) < 0 ||
	    make_spec(&spec) < 0) {
		ok(0, "setting up %s", what);
		return;
	}
	json_t *doc = json_pack("{s:o, s:[iii], s:i, s:i, s:i, s:i}", "spec", spec_to_json(&spec), "stdio", -1, -1, -1,
				"seccomp", -1, "layers", (int)nfds, "n_layers", 0, "join", -1);
	json_object_set_new(doc, "joins", json_loads(joins_json, 0, NULL));
	char *text = json_dumps(doc, JSON_COMPACT);
	int pass[8];
	for (size_t i = 0; i < nfds; i++)
		pass[i] = p[0];
	ssize_t n = fdpass_send(sv[0], text, strlen(text), pass, nfds, 0);
	int r = sync_receive_start(sv[1], &out, &got, &err);
	ok(n > 0 && r == -EBADMSG, "refused: %s (%s)", what, err ? err : "accepted");
	/* The receiver closed what it got: the write end sees no reader left but ours. */
	close(p[0]);
	ok(write(p[1], "x", 1) < 0 && errno == EPIPE, "... and closed the fds that came with it");
	if (r == 0)
		spec_done(&out);
	free(text);
	free(err);
	json_decref(doc);
	spec_done(&spec);
	close(sv[0]);
	close(sv[1]);
	close(p[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_joins_travel();
	char pid_join[64], twice[64], many[128];
	snprintf(pid_join, sizeof(pid_join), "[[%d, 0]]", CLONE_NEWPID);
	snprintf(twice, sizeof(twice), "[[%d, 0], [%d, 1]]", CLONE_NEWNET, CLONE_NEWNET);
	snprintf(many, sizeof(many), "[[%d, 0], [%d, 0], [%d, 0], [%d, 0], [%d, 0]]", CLONE_NEWNET, CLONE_NEWIPC,
		 CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWNS);
	refused(pid_join, 1, "the pid namespace is the cloner's to join");
	refused(twice, 2, "a namespace joined twice");
	refused("[[1073741824, 3]]", 1, "an fd index that did not come");
	refused("[[0, 0]]", 1, "a join of nothing");
	refused("{}", 1, "joins that are not an array");
	refused(many, 1, "more than RT_MAX_JOINS joins");
	return tap_done();
}
