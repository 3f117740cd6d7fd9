/* A container's /etc/hosts, /etc/hostname and /etc/resolv.conf: their text, as Docker writes
 * them, and writing them in the container's own directory, in place (the bind mount that shows
 * them in the container pins the inode). Pure but for container_etc_write(); unit-tested. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The most --add-host, --dns, --dns-search and --dns-option entries, and aliases, of a container. */
#define CONTAINER_ETC_MAX_ITEMS 64
/* The longest of each (a host name, an alias, a search domain, an option). */
#define CONTAINER_ETC_ITEM_MAX 255

/* The address --add-host HOST:host-gateway names: the gateway of the container's network. */
#define CONTAINER_ETC_HOST_GATEWAY "host-gateway"

/* One line of a hosts file: an address and its names, separated by spaces. */
struct container_etc_host {
	const char *addr;
	const char *names;
};

/* Whether s is a host name or alias a hosts file can carry: letters, digits, '-', '_' and '.',
 * not starting with '-' or '.', at most CONTAINER_ETC_ITEM_MAX bytes. */
bool container_etc_name_valid(const char *s);

/* Splits --add-host's HOST:IP (or HOST=IP, as Docker's newer CLI): the host must be a valid name,
 * the address an IPv4 or IPv6 address or "host-gateway". -EINVAL with Docker's message. */
int container_etc_extra_host_parse(const char *spec, char **ret_host, char **ret_addr, char **reterr);

/* Checks --dns (an IPv4 address), --dns-search (a domain, or "." for none) and --dns-option
 * entries (printable, no spaces). */
int container_etc_dns_check(char *const *dns, char *const *search, char *const *options, char **reterr);

/* The hosts file: Docker's localhost lines, then the entries in order. */
int container_etc_hosts_text(const struct container_etc_host *entries, size_t n, char **ret);

/* resolv.conf from the host's (host_text, may be NULL: none): its search/domain and options
 * lines and its nameservers but the loopback ones (127.0.0.0/8, ::1: they are the host's own
 * resolvers, unreachable from another network namespace) and IPv6 ones (containd's networks are
 * IPv4); Docker's fallback 8.8.8.8 and 8.8.4.4 when none is left. --dns, --dns-search and
 * --dns-option replace the nameservers, the search list and the options ("." in --dns-search:
 * no search list). */
int container_etc_resolv_text(const char *host_text, char *const *dns, char *const *search, char *const *options,
			      char **ret);

/* Writes text into dirfd/name in place: created 0644 if missing, else truncated and rewritten
 * (never renamed over: a bind mount of it would keep showing the old inode). Refuses anything
 * but a regular file with one link (O_NOFOLLOW, then checked): see container-etc.c. uid/gid:
 * its owner (the container's root in a user namespace), or (uid_t)-1 to leave it. */
int container_etc_write(int dirfd, const char *name, const char *text, uid_t uid, gid_t gid, char **reterr);
