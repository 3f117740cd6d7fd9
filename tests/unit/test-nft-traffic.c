/* Packets through containd's nft rules (network/nft.c) and links made by network/netlink.c, as
 * root, in network namespaces of the test's own, held only by fds (nothing named, nothing left
 * behind even on a crash; the host's links, routes, sysctls and tables are never touched):
 *   A  the test process's own (unshared) netns: plays the host, with bridge ctdt-br0 10.77.0.1/24
 *      and an uplink 192.0.2.1/24;
 *   B  a container, 10.77.0.2 on ctdt-br0, serving TCP 80 and UDP 53;
 *   B2 another container on the bridge, 10.77.0.3;
 *   B3 a container on another bridge, ctdt-br1 10.78.0.1/24: 10.78.0.2, serving TCP 80;
 *   O  the outside world, 192.0.2.2 on the uplink, serving TCP 80.
 * Each server answers with the address it sees its client at, so the test checks both that a
 * connection works and what NAT did to it: published ports from localhost, the host's address,
 * outside and both containers (hairpin), UDP, and outbound masquerade; once with br_netfilter
 * passing bridged frames to the IP hooks and once without, when the host has br_netfilter. Then
 * isolation between the two bridges and an internal bridge. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "network/netlink.h"
#include "network/nft.h"
#include "common/macros.h"
#include "tests/tap.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define TABLE	      "ctdtest"

static int ns_a = -1, ns_b = -1, ns_b2 = -1, ns_b3 = -1, ns_o = -1;
static pid_t servers[3];

/* A new netns held by an fd; the process goes back to A. */
static int netns_new(void)
{
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(ns_a, CLONE_NEWNET) < 0)
		abort();
	return fd;
}

static void kill_servers(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(servers); i++)
		if (servers[i] > 0) {
			kill(servers[i], SIGKILL);
			waitpid(servers[i], NULL, 0);
			servers[i] = 0;
		}
}

/* A child in netns ns answering each TCP connection on port 80 (and each UDP datagram on 53) with
 * the address of its peer. */
static pid_t server_start(int ns, bool udp)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int one = 1, t, u = -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
	if (setns(ns, CLONE_NEWNET) < 0)
		_exit(1);
	t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(t, 16) < 0)
		_exit(1);
	if (udp) {
		sa.sin_port = htons(53);
		u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (bind(u, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
	}
	for (;;) {
		struct pollfd p[2] = {{t, POLLIN, 0}, {u, POLLIN, 0}};
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		char buf[64];
		if (poll(p, udp ? 2 : 1, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			int c = accept4(t, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
			if (c >= 0) {
				inet_ntop(AF_INET, &peer.sin_addr, buf, sizeof(buf));
				(void)!write(c, buf, strlen(buf));
				close(c);
			}
		}
		if (udp && (p[1].revents & POLLIN)) {
			len = sizeof(peer);
			if (recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len) >= 0) {
				inet_ntop(AF_INET, &peer.sin_addr, buf, sizeof(buf));
				sendto(u, buf, strlen(buf), 0, (struct sockaddr *)&peer, len);
			}
		}
	}
}

/* Connects from netns ns to addr:port (TCP, or one UDP datagram) and returns what came back, or
 * "error: ..." / "timeout". Runs in a child so the test process stays in A. */
static const char *client(int ns, const char *addr, int port, bool udp)
{
	static char out[128];
	int pipefd[2];
	pid_t pid;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return "error: pipe";
	pid = fork();
	if (pid == 0) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		struct timeval tv = {.tv_sec = 2};
		char buf[64] = "";
		int s;
		close(pipefd[0]);
		if (setns(ns, CLONE_NEWNET) < 0)
			_exit(1);
		inet_pton(AF_INET, addr, &sa.sin_addr);
		s = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			snprintf(buf, sizeof(buf), "error: %s", errno == EINPROGRESS ? "timeout" : strerror(errno));
		} else {
			if (udp)
				(void)!send(s, "?", 1, 0);
			n = recv(s, buf, sizeof(buf) - 1, 0);
			if (n < 0)
				snprintf(buf, sizeof(buf), "error: %s", errno == EAGAIN ? "timeout" : strerror(errno));
			else
				buf[n] = '\0';
		}
		(void)!write(pipefd[1], buf, strlen(buf));
		_exit(0);
	}
	close(pipefd[1]);
	n = pid > 0 ? read(pipefd[0], out, sizeof(out) - 1) : -1;
	out[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return out;
}

/* The links and addresses of the picture above, made with network/netlink.c. */
static bool setup_links(void)
{
	struct netlink *nl = NULL, *nb = NULL, *nb2 = NULL, *nb3 = NULL, *no = NULL;
	struct netlink_link_opts up = {.up = true}, port = {.up = true, .master = "ctdt-br0", .hairpin = true};
	char *err = NULL;
	int r = 0;

	r |= netlink_open(&nl, &err);
	r |= netlink_open_in(ns_b, &nb, &err);
	r |= netlink_open_in(ns_b2, &nb2, &err);
	r |= netlink_open_in(ns_b3, &nb3, &err);
	r |= netlink_open_in(ns_o, &no, &err);
	if (r < 0)
		goto out;
	r |= netlink_link_set(nl, "lo", &up, &err);
	r |= netlink_bridge_add(nl, "ctdt-br0", &err);
	r |= netlink_addr_add(nl, "ctdt-br0", A(10, 77, 0, 1), 24, &err);
	r |= netlink_link_set(nl, "ctdt-br0", &up, &err);
	r |= netlink_veth_add(nl, "ctdt-v0", "eth0", ns_b, &err);
	r |= netlink_link_set(nl, "ctdt-v0", &port, &err);
	r |= netlink_veth_add(nl, "ctdt-v1", "eth0", ns_b2, &err);
	r |= netlink_link_set(nl, "ctdt-v1", &port, &err);
	r |= netlink_bridge_add(nl, "ctdt-br1", &err);
	r |= netlink_addr_add(nl, "ctdt-br1", A(10, 78, 0, 1), 24, &err);
	r |= netlink_link_set(nl, "ctdt-br1", &up, &err);
	r |= netlink_veth_add(nl, "ctdt-v3", "eth0", ns_b3, &err);
	r |= netlink_link_set(nl, "ctdt-v3", &(struct netlink_link_opts){.up = true, .master = "ctdt-br1"}, &err);
	r |= netlink_veth_add(nl, "ctdt-up", "eth0", ns_o, &err);
	r |= netlink_addr_add(nl, "ctdt-up", A(192, 0, 2, 1), 24, &err);
	r |= netlink_link_set(nl, "ctdt-up", &up, &err);
	struct {
		struct netlink *nl;
		uint32_t addr;
		uint32_t gw;
	} ends[] = {{nb, A(10, 77, 0, 2), A(10, 77, 0, 1)},
		    {nb2, A(10, 77, 0, 3), A(10, 77, 0, 1)},
		    {nb3, A(10, 78, 0, 2), A(10, 78, 0, 1)},
		    {no, A(192, 0, 2, 2), 0}};
	for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
		r |= netlink_link_set(ends[i].nl, "lo", &up, &err);
		r |= netlink_addr_add(ends[i].nl, "eth0", ends[i].addr, 24, &err);
		r |= netlink_link_set(ends[i].nl, "eth0", &up, &err);
		if (ends[i].gw)
			r |= netlink_route_add(ends[i].nl, "eth0", NULL, ends[i].gw, &err);
	}
	r |= netlink_sysctl_set("ipv4/ip_forward", "1", &err);
	r |= netlink_sysctl_set("ipv4/conf/ctdt-br0/route_localnet", "1", &err);
out:
	ok(r == 0, "links, addresses, routes and sysctls set up (%s)", err ? err : "no error");
	free(err);
	netlink_close(nl);
	netlink_close(nb);
	netlink_close(nb2);
	netlink_close(nb3);
	netlink_close(no);
	return r == 0;
}

static void check_traffic(const char *mode)
{
	is_str(client(ns_a, "127.0.0.1", 8080, false), "10.77.0.1", "%s: localhost reaches the port, masqueraded",
	       mode);
	is_str(client(ns_a, "192.0.2.1", 8080, false), "192.0.2.1", "%s: the host's address reaches the port", mode);
	is_str(client(ns_o, "192.0.2.1", 8080, false), "192.0.2.2", "%s: outside reaches the port, client kept", mode);
	is_str(client(ns_b, "192.0.2.1", 8080, false), "10.77.0.1", "%s: the container reaches itself (hairpin)", mode);
	is_str(client(ns_b2, "192.0.2.1", 8080, false), "10.77.0.1", "%s: a neighbour reaches it (hairpin)", mode);
	is_str(client(ns_o, "192.0.2.1", 5353, true), "192.0.2.2", "%s: UDP from outside", mode);
	is_str(client(ns_a, "127.0.0.1", 5353, true), "10.77.0.1", "%s: UDP from localhost", mode);
	is_str(client(ns_b, "192.0.2.2", 80, false), "192.0.2.1", "%s: outbound is masqueraded", mode);
	is_str(client(ns_a, "127.0.0.1", 8081, false), "10.77.0.1", "%s: a port published on 127.0.0.1 only", mode);
	is_str(client(ns_o, "192.0.2.1", 8081, false), "error: Connection refused", "%s: is not on the host's address",
	       mode);
	is_str(client(ns_b, "10.77.0.3", 81, false), "error: Connection refused",
	       "%s: the neighbour is reached directly", mode);
}

int main(void)
{
	char *err = NULL;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (network namespaces)\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..0 # SKIP cannot create network namespaces here\n");
		return 0;
	}
	ns_a = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ns_b = netns_new();
	ns_b2 = netns_new();
	ns_b3 = netns_new();
	ns_o = netns_new();
	if (ns_a < 0 || ns_b < 0 || ns_b2 < 0 || ns_b3 < 0 || ns_o < 0) {
		printf("1..0 # SKIP cannot create network namespaces here\n");
		return 0;
	}
	tap_cleanup_on_signals(kill_servers, 120);
	if (!setup_links())
		return tap_done();
	servers[0] = server_start(ns_b, true);
	servers[1] = server_start(ns_o, false);
	servers[2] = server_start(ns_b3, false);

	is_str(client(ns_o, "192.0.2.1", 8080, false), "error: Connection refused",
	       "before the table: nothing on 8080");
	struct nft_bridge br[] = {{"ctdt-br0", {A(10, 77, 0, 0), 24}, true, false},
				  {"ctdt-br1", {A(10, 78, 0, 0), 24}, true, false}};
	struct nft_port ports[] = {
	    {IPPROTO_TCP, 0, 8080, A(10, 77, 0, 2), 80, "ctdt-br0"},
	    {IPPROTO_UDP, 0, 5353, A(10, 77, 0, 2), 53, "ctdt-br0"},
	    {IPPROTO_TCP, A(127, 0, 0, 1), 8081, A(10, 77, 0, 2), 80, "ctdt-br0"},
	};
	struct nft_ruleset rs = {TABLE, br, 2, ports, 3, true};
	is_int(nft_apply(&rs, &err), 0, "the table applied (%s)", err ? err : "no error");
	free(err), err = NULL;

	/* br_netfilter's switch is per netns: try both ways when the host has it. */
	char brnf[8];
	if (netlink_sysctl_get("bridge/bridge-nf-call-iptables", brnf, sizeof(brnf)) == 0) {
		is_int(netlink_sysctl_set("bridge/bridge-nf-call-iptables", "1", &err), 0, "br_netfilter on");
		check_traffic("br_netfilter");
		is_int(netlink_sysctl_set("bridge/bridge-nf-call-iptables", "0", &err), 0, "br_netfilter off");
		free(err), err = NULL;
	}
	check_traffic("routed");

	/* Between bridges: dropped both ways (a timeout, not a refusal), while both go out. */
	is_str(client(ns_b, "10.78.0.2", 80, false), "error: timeout", "a container cannot reach another bridge's");
	is_str(client(ns_b3, "10.77.0.2", 80, false), "error: timeout", "nor the other way round");
	is_str(client(ns_b3, "192.0.2.2", 80, false), "192.0.2.1", "the other bridge goes out, masqueraded");
	/* ctdt-br1 made internal: nothing leaves it; ctdt-br0 is unaffected. */
	br[1].internal = true;
	is_int(nft_apply(&rs, &err), 0, "ctdt-br1 made internal (%s)", err ? err : "no error");
	is_str(client(ns_b3, "192.0.2.2", 80, false), "error: timeout", "an internal bridge does not go out");
	is_str(client(ns_b, "192.0.2.2", 80, false), "192.0.2.1", "the other bridge still does");

	is_int(nft_table_delete(TABLE, &err), 0, "the table deleted");
	is_str(client(ns_o, "192.0.2.1", 8080, false), "error: Connection refused", "the port is gone with it");
	kill_servers();
	return tap_done();
}
