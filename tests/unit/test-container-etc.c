/* The text of a container's hosts and resolv.conf, --add-host and --dns checks, and the in-place
 * write that refuses links. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/util.h"
#include "daemon/container-etc.h"
#include "tests/tap.h"

static void test_extra_host(void)
{
	char *host = NULL, *addr = NULL, *err = NULL;
	is_int(container_etc_extra_host_parse("db:10.0.0.5", &host, &addr, &err), 0, "HOST:IP parses");
	is_str(host, "db", "the host");
	is_str(addr, "10.0.0.5", "the address");
	free(host);
	free(addr);
	is_int(container_etc_extra_host_parse("gw:host-gateway", &host, &addr, NULL), 0, "host-gateway parses");
	is_str(addr, "host-gateway", "host-gateway kept for the caller");
	free(host);
	free(addr);
	is_int(container_etc_extra_host_parse("v6:[::1]", &host, &addr, NULL), 0, "a bracketed IPv6 address");
	is_str(addr, "::1", "brackets dropped");
	free(host);
	free(addr);
	is_int(container_etc_extra_host_parse("v6=fe80::1", &host, &addr, NULL), 0, "HOST=IP and IPv6");
	free(host);
	free(addr);
	const char *bad[] = {"nocolon", ":1.2.3.4",	    "h:1.2.3",	  "h:300.1.1.1",
			     "h:",	"bad host:1.2.3.4", "-h:1.2.3.4", "h:1.2.3.4\n"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		host = addr = NULL;
		is_int(container_etc_extra_host_parse(bad[i], &host, &addr, &err), -EINVAL, "refused: %s", bad[i]);
		ok(err && host == NULL, "with a message and nothing returned");
		free(err);
		err = NULL;
	}
}

static void test_dns_check(void)
{
	char *dns[] = {"10.0.0.1", NULL}, *baddns[] = {"10.0.0", NULL}, *v6[] = {"::1", NULL};
	char *search[] = {"example.com", ".", NULL}, *badsearch[] = {"a b", NULL};
	char *opts[] = {"ndots:2", NULL}, *badopts[] = {"a b", NULL};
	is_int(container_etc_dns_check(dns, search, opts, NULL), 0, "valid dns settings");
	is_int(container_etc_dns_check(baddns, NULL, NULL, NULL), -EINVAL, "a truncated address refused");
	is_int(container_etc_dns_check(v6, NULL, NULL, NULL), -EINVAL, "IPv6 --dns refused (IPv4 only)");
	is_int(container_etc_dns_check(NULL, badsearch, NULL, NULL), -EINVAL, "a search domain with a space refused");
	is_int(container_etc_dns_check(NULL, NULL, badopts, NULL), -EINVAL, "an option with a space refused");
}

static void test_hosts(void)
{
	struct container_etc_host e[] = {{"10.1.0.5", "db"}, {"172.18.0.2", "abcdef012345 web"}};
	char *text = NULL;
	is_int(container_etc_hosts_text(e, 2, &text), 0, "hosts text");
	ok(text && strncmp(text, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", 60) == 0,
	   "starts with Docker's localhost lines");
	ok(text && strstr(text, "\n10.1.0.5\tdb\n172.18.0.2\tabcdef012345 web\n"), "entries in order, one a line");
	ok(text && text[strlen(text) - 1] == '\n', "ends with a newline");
	free(text);
}

static void test_resolv(void)
{
	const char *host = "# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n nameserver ::1\n"
			   "nameserver 2001:db8::1\nsearch corp.example\noptions edns0 trust-ad\n";
	char *text = NULL;
	is_int(container_etc_resolv_text(host, NULL, NULL, NULL, &text), 0, "from the host's");
	ok(text && !strstr(text, "127.0.0.53"), "loopback resolver dropped");
	ok(text && !strstr(text, "::1") && !strstr(text, "2001:db8"), "IPv6 resolvers dropped");
	ok(text && strstr(text, "nameserver 10.0.0.2\n"), "the other one kept");
	ok(text && strstr(text, "search corp.example\n"), "search kept");
	ok(text && strstr(text, "options edns0 trust-ad\n"), "options kept");
	ok(text && !strstr(text, "8.8.8.8"), "no fallback while one is left");
	free(text);

	is_int(container_etc_resolv_text("nameserver 127.0.0.1\nnameserver 127.1.2.3\n", NULL, NULL, NULL, &text), 0,
	       "only loopback resolvers");
	ok(text && strstr(text, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"), "Docker's fallback");
	ok(text && !strstr(text, "127."), "none of the loopback ones");
	free(text);

	is_int(container_etc_resolv_text(NULL, NULL, NULL, NULL, &text), 0, "no host file");
	ok(text && strstr(text, "nameserver 8.8.8.8\n"), "the fallback");
	free(text);

	char *dns[] = {"10.9.9.9", NULL}, *search[] = {"a.example", "b.example", NULL}, *opts[] = {"ndots:3", NULL};
	is_int(container_etc_resolv_text(host, dns, search, opts, &text), 0, "with --dns, --dns-search, --dns-option");
	ok(text && strstr(text, "nameserver 10.9.9.9\n") && !strstr(text, "10.0.0.2"),
	   "--dns replaces the nameservers");
	ok(text && strstr(text, "search a.example b.example\n") && !strstr(text, "corp.example"),
	   "--dns-search replaces the search list");
	ok(text && strstr(text, "options ndots:3\n") && !strstr(text, "edns0"), "--dns-option replaces the options");
	ok(text && !strstr(text, "8.8.8.8"), "no fallback with --dns");
	free(text);

	char *dot[] = {".", NULL};
	is_int(container_etc_resolv_text(host, NULL, dot, NULL, &text), 0, "--dns-search .");
	ok(text && !strstr(text, "search"), "no search list at all");
	free(text);
}

static void test_write(void)
{
	char dir[] = "/tmp/test-etc-XXXXXX";
	ok(mkdtemp(dir) != NULL, "a temporary directory");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *err = NULL, *text = NULL;
	is_int(container_etc_write(dfd, "hosts", "first version, long\n", (uid_t)-1, (gid_t)-1, NULL), 0, "created");
	struct stat a, b;
	ok(fstatat(dfd, "hosts", &a, 0) == 0 && (a.st_mode & 07777) == 0644, "mode 0644");
	is_int(container_etc_write(dfd, "hosts", "second\n", (uid_t)-1, (gid_t)-1, NULL), 0, "rewritten");
	ok(fstatat(dfd, "hosts", &b, 0) == 0 && a.st_ino == b.st_ino, "in place: the same inode");
	ok(read_file_at(dfd, "hosts", 4096, &text, NULL) == 0 && strcmp(text, "second\n") == 0,
	   "the new text only (truncated)");
	free(text);
	ok(symlinkat("/etc/passwd", dfd, "resolv.conf") == 0, "a planted symlink");
	ok(container_etc_write(dfd, "resolv.conf", "x\n", (uid_t)-1, (gid_t)-1, &err) < 0, "a symlink is refused");
	free(err);
	err = NULL;
	ok(linkat(dfd, "hosts", dfd, "hostname", 0) == 0, "a planted hard link");
	is_int(container_etc_write(dfd, "hostname", "x\n", (uid_t)-1, (gid_t)-1, &err), -EPERM,
	       "a hard link is refused");
	ok(read_file_at(dfd, "hosts", 4096, &text, NULL) == 0 && strcmp(text, "second\n") == 0, "its target untouched");
	free(text);
	free(err);
	close(dfd);
	rm_rf(dir);
}

int main(void)
{
	test_extra_host();
	test_dns_check();
	test_hosts();
	test_resolv();
	test_write();
	return tap_done();
}
