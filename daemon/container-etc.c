/* A container's /etc/hosts, /etc/hostname and /etc/resolv.conf (see container-etc.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/container-etc.h"

/* Docker's fallback when the host has no resolver a container can reach. */
static const char *const fallback_dns[] = {"8.8.8.8", "8.8.4.4"};

bool container_etc_name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > CONTAINER_ETC_ITEM_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

int container_etc_extra_host_parse(const char *spec, char **ret_host, char **ret_addr, char **reterr)
{
	size_t n = strcspn(spec, ":=");
	const char *addr = spec + n + 1;
	unsigned char buf[16];
	if (!spec[n] || n == 0)
		return err_set(reterr, -EINVAL, "bad format for add-host: \"%.80s\" (expected HOST:IP)", spec);
	_cleanup_free_ char *host = strndup(spec, n), *a = strdup(addr);
	if (!host || !a)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (!container_etc_name_valid(host))
		return err_set(reterr, -EINVAL, "invalid host name \"%.80s\" in add-host \"%.80s\"", host, spec);
	/* IPv6 addresses may come in brackets, as Docker's CLI takes them. */
	if (a[0] == '[' && a[strlen(a) - 1] == ']') {
		memmove(a, a + 1, strlen(a) - 2);
		a[strlen(a) - 2] = '\0';
	}
	if (strcmp(a, CONTAINER_ETC_HOST_GATEWAY) != 0 && inet_pton(AF_INET, a, buf) != 1 &&
	    inet_pton(AF_INET6, a, buf) != 1)
		return err_set(reterr, -EINVAL, "invalid IP address in add-host: \"%.80s\"", a);
	*ret_host = TAKE_PTR(host);
	*ret_addr = TAKE_PTR(a);
	return 0;
}

static bool printable_word(const char *s)
{
	if (!*s || strlen(s) > CONTAINER_ETC_ITEM_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!isgraph((unsigned char)*p))
			return false;
	return true;
}

static size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

int container_etc_dns_check(char *const *dns, char *const *search, char *const *options, char **reterr)
{
	unsigned char buf[4];
	if (strv_len(dns) > CONTAINER_ETC_MAX_ITEMS || strv_len(search) > CONTAINER_ETC_MAX_ITEMS ||
	    strv_len(options) > CONTAINER_ETC_MAX_ITEMS)
		return err_set(reterr, -EINVAL, "at most %d --dns, --dns-search and --dns-option entries each",
			       CONTAINER_ETC_MAX_ITEMS);
	for (char *const *d = dns; d && *d; d++)
		if (inet_pton(AF_INET, *d, buf) != 1)
			return err_set(reterr, -EINVAL, "%.80s is not an IPv4 address (--dns)", *d);
	for (char *const *s = search; s && *s; s++)
		if (strcmp(*s, ".") != 0 && !container_etc_name_valid(*s))
			return err_set(reterr, -EINVAL, "%.80s is not a valid domain (--dns-search)", *s);
	for (char *const *o = options; o && *o; o++)
		if (!printable_word(*o))
			return err_set(reterr, -EINVAL, "invalid --dns-option \"%.80s\"", *o);
	return 0;
}

/* A growing text buffer; its error sticks (ENOMEM). */
struct text {
	char *buf;
	size_t len, size;
	bool failed;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->failed)
		return;
	for (;;) {
		size_t room = t->size - t->len;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf ? t->buf + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t size = (t->size ? t->size * 2 : 256) + (size_t)n;
		char *nb = realloc(t->buf, size);
		if (!nb) {
			t->failed = true;
			return;
		}
		t->buf = nb;
		t->size = size;
	}
}

static int text_finish(struct text *t, char **ret)
{
	if (t->failed || !t->buf) {
		free(t->buf);
		return -ENOMEM;
	}
	*ret = t->buf;
	return 0;
}

int container_etc_hosts_text(const struct container_etc_host *entries, size_t n, char **ret)
{
	struct text t = {0};
	text_add(&t, "127.0.0.1\tlocalhost\n"
		     "::1\tlocalhost ip6-localhost ip6-loopback\n"
		     "fe00::0\tip6-localnet\n"
		     "ff00::0\tip6-mcastprefix\n"
		     "ff02::1\tip6-allnodes\n"
		     "ff02::2\tip6-allrouters\n");
	for (size_t i = 0; i < n; i++)
		text_add(&t, "%s\t%s\n", entries[i].addr, entries[i].names);
	return text_finish(&t, ret);
}

/* Whether a nameserver of the host's is one a container can use: not loopback (the host's own
 * stub resolver, e.g. systemd-resolved's 127.0.0.53, is not there in another network namespace)
 * and IPv4. */
static bool nameserver_usable(const char *addr)
{
	struct in_addr a;
	if (inet_pton(AF_INET, addr, &a) != 1)
		return false;
	return (ntohl(a.s_addr) >> 24) != 127;
}

/* The words after a keyword of a resolv.conf line, or NULL when the line is not that keyword's. */
static const char *resolv_value(const char *line, const char *key)
{
	size_t n = strlen(key);
	if (strncmp(line, key, n) != 0 || (line[n] != ' ' && line[n] != '\t'))
		return NULL;
	return line + n + strspn(line + n, " \t");
}

int container_etc_resolv_text(const char *host_text, char *const *dns, char *const *search, char *const *options,
			      char **ret)
{
	struct text ns = {0}, srch = {0}, opts = {0}, t = {0};
	_cleanup_free_ char *copy = host_text ? strdup(host_text) : NULL;
	size_t n_ns = 0;
	if (host_text && !copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		const char *v;
		if ((v = resolv_value(line, "nameserver"))) {
			char addr[64];
			size_t len = strcspn(v, " \t#;");
			if (len >= sizeof(addr) || !len)
				continue;
			memcpy(addr, v, len);
			addr[len] = '\0';
			if (nameserver_usable(addr) && n_ns < 3) {
				text_add(&ns, "nameserver %s\n", addr);
				n_ns++;
			}
		} else if ((v = resolv_value(line, "search")) || (v = resolv_value(line, "domain"))) {
			/* The last search or domain line wins, as in the resolver. */
			free(srch.buf);
			srch = (struct text){0};
			text_add(&srch, "search %s\n", v);
		} else if ((v = resolv_value(line, "options"))) {
			text_add(&opts, "options %s\n", v);
		}
	}
	if (dns) {
		free(ns.buf);
		ns = (struct text){0};
		for (char *const *d = dns; *d; d++)
			text_add(&ns, "nameserver %s\n", *d);
	} else if (n_ns == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(fallback_dns); i++)
			text_add(&ns, "nameserver %s\n", fallback_dns[i]);
	}
	if (search) {
		free(srch.buf);
		srch = (struct text){0};
		bool any = false;
		for (char *const *s = search; *s; s++)
			if (strcmp(*s, ".") != 0) {
				text_add(&srch, any ? " %s" : "search %s", *s);
				any = true;
			}
		if (any)
			text_add(&srch, "\n");
	}
	if (options) {
		free(opts.buf);
		opts = (struct text){0};
		for (char *const *o = options; *o; o++)
			text_add(&opts, o == options ? "options %s" : " %s", *o);
		if (*options)
			text_add(&opts, "\n");
	}
	text_add(&t, "# Generated by containd\n%s%s%s", srch.buf ? srch.buf : "", ns.buf ? ns.buf : "",
		 opts.buf ? opts.buf : "");
	bool failed = ns.failed || srch.failed || opts.failed;
	free(ns.buf);
	free(srch.buf);
	free(opts.buf);
	if (failed) {
		free(t.buf);
		return -ENOMEM;
	}
	return text_finish(&t, ret);
}

/* Why this write cannot be turned against the host: dirfd is the container's directory under the
 * daemon's root, which only the daemon (root) can enter; the container never sees that directory
 * (only its upper dir, through the overlay, and these files through their bind mounts). Inside,
 * a container may rewrite a file's contents (as with Docker) but cannot replace the file: a mount
 * point cannot be unlinked or renamed over, and the path on the host is out of its reach. Still,
 * the open refuses a symlink (O_NOFOLLOW) and the file must be a regular file with one link, so
 * even a planted link or hard link (a directory handed to a user namespace's root) is refused
 * rather than followed: the daemon writes only the inode it created there. */
int container_etc_write(int dirfd, const char *name, const char *text, uid_t uid, gid_t gid, char **reterr)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
	struct stat st;
	if (fd < 0)
		return err_set(reterr, -errno, "cannot write the container's %s: %m", name);
	if (fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "cannot write the container's %s: %m", name);
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		return err_set(reterr, -EPERM, "refusing to write the container's %s: not a plain file", name);
	if (uid != (uid_t)-1 && (st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
		return err_set(reterr, -errno, "cannot hand the container's %s to its root: %m", name);
	if (ftruncate(fd, 0) < 0)
		return err_set(reterr, -errno, "cannot write the container's %s: %m", name);
	int r = write_all(fd, text, strlen(text));
	if (r < 0)
		return err_set(reterr, r, "cannot write the container's %s: %m", name);
	return 0;
}
