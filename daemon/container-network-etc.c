/* A container's /etc/hosts, /etc/hostname and /etc/resolv.conf, made by the daemon in the
 * container's directory and bound into it; the hosts files of a user-defined network's
 * containers list each other and are kept current as containers join and leave (see
 * docs/networking.md for why a hosts file rather than an embedded DNS server). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/container-etc.h"
#include "daemon/container-network-internal.h"
#include "daemon/container.h"
#include "daemon/network.h"
#include "daemon/registry.h"
#include "network/ipam.h"

/* The host's resolv.conf: read at every start, so a change on the host reaches the next
 * container started (as Docker's). */
static const char *resolv_conf_path = "/etc/resolv.conf";

void container_network_set_resolv_conf(const char *path)
{
	resolv_conf_path = path ? path : "/etc/resolv.conf";
}

/* Where in the container each file is bound. */
static const struct {
	const char *file, *target;
} etc_files[] = {
    {CONTAINER_NETWORK_HOSTS, "/etc/hosts"},
    {CONTAINER_NETWORK_HOSTNAME, "/etc/hostname"},
    {CONTAINER_NETWORK_RESOLV, "/etc/resolv.conf"},
};

/* Whether the container's /etc files are those of a network it shares (--network host or
 * container:NAME): the namespaces module binds those (daemon/container-ns.c), not these. */
static bool etc_shared(const struct container *ct)
{
	const char *mode = ct->cfg.network_mode;
	return mode && (strcmp(mode, "host") == 0 || strncmp(mode, "container:", 10) == 0);
}

/* The files are bound after the default mounts (the prepared /proc, /dev and /sys stay the fast
 * path) and before the user's own mounts, so a -v of the user's on /etc/hosts wins, as in
 * Docker. The sources are files the daemon made in the container's directory (never a path a
 * client named); the binds are nosuid, nodev and noexec, writable as Docker's are. */
int container_network_spec_mounts(const struct container *ct, struct rt_spec *spec, char **reterr)
{
	if (etc_shared(ct))
		return 0;
	_cleanup_free_ char *dir = registry_container_dir(ct->reg, ct->id);
	struct rt_mount *mounts = realloc(spec->mounts, (spec->n_mounts + ARRAY_SIZE(etc_files)) * sizeof(*mounts));
	if (!dir || !mounts)
		return err_set(reterr, -ENOMEM, "out of memory");
	spec->mounts = mounts;
	for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++) {
		struct rt_mount *m = &mounts[spec->n_mounts];
		*m = (struct rt_mount){.flags = MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC};
		spec->n_mounts++;
		if (!(m->destination = strdup(etc_files[i].target)) || !(m->type = strdup("bind")) ||
		    asprintf(&m->source, "%s/%s", dir, etc_files[i].file) < 0) {
			m->source = NULL;
			return err_set(reterr, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* The init layer: the topmost lower layer of a container's overlay, holding /etc with empty
 * hosts, hostname and resolv.conf (Docker's "-init" layer). The bind mounts land on these files,
 * so no mount point is ever created in the container's upper dir: diff and commit see no change
 * the container did not make. Its content depends only on the attributes of the image's /etc,
 * so it is shared: one directory under <root>/init-layers per set of attributes, made once and
 * read-only for every container after (a lower layer is never written through the overlay).
 * Sharing takes five inode creations and deletions off every start and removal. */
#define INIT_LAYERS "init-layers"

/* Whether the image's /etc can take the init layer's files: a directory (its attributes in *st)
 * or absent (st_mode 0) in the topmost layer that has it; a symlink or a file there is left
 * alone (the mount points are then made in the upper dir, as for any other bind). */
static bool image_etc(char *const *lowerdirs, struct stat *st)
{
	for (char *const *l = lowerdirs; l && *l; l++) {
		_cleanup_close_ int fd = open(*l, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstatat(fd, "etc", st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
			break; /* a whiteout: absent below */
		return S_ISDIR(st->st_mode);
	}
	st->st_mode = 0;
	return true;
}

/* The shared init layer's path for an image whose /etc has the attributes st (st_mode 0: none). */
static char *init_layer_path(const struct container *ct, const struct stat *st)
{
	char *p;
	int r = st->st_mode ? asprintf(&p, "%s/" INIT_LAYERS "/etc-%o-%u-%u-%lld.%09ld", ct->reg->root,
				       (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid, (unsigned)st->st_gid,
				       (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec)
			    : asprintf(&p, "%s/" INIT_LAYERS "/none", ct->reg->root);
	return r < 0 ? NULL : p;
}

int container_network_spec_root(const struct container *ct, struct rt_spec *spec, char **reterr)
{
	struct stat st;
	size_t n = 0;
	if (!image_etc(spec->overlay.lowerdirs, &st))
		return 0;
	while (spec->overlay.lowerdirs && spec->overlay.lowerdirs[n])
		n++;
	char **v = realloc(spec->overlay.lowerdirs, (n + 2) * sizeof(char *));
	if (!v)
		return err_set(reterr, -ENOMEM, "out of memory");
	spec->overlay.lowerdirs = v;
	memmove(v + 1, v, (n + 1) * sizeof(char *));
	if (!(v[0] = init_layer_path(ct, &st))) {
		memmove(v, v + 1, (n + 1) * sizeof(char *));
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Whether dir holds a complete init layer: etc and the three mount points as plain files (its
 * name already says which attributes etc has). A layer cut short by a crash is made again. */
static bool init_layer_complete(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int etc = fd < 0 ? -1 : openat(fd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat s;
	if (etc < 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++)
		if (fstatat(etc, etc_files[i].target + 5, &s, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(s.st_mode))
			return false;
	return true;
}

/* Fills a new directory with the layer: etc (with the image's attributes) and the mount points. */
static int init_layer_fill(const char *dir, const struct stat *st)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || mkdirat(fd, "etc", 0755) < 0)
		return -errno;
	_cleanup_close_ int etc = openat(fd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++) {
		int f = openat(etc, etc_files[i].target + 5, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (f < 0)
			return -errno;
		close(f);
	}
	/* /etc as the image has it (its mode, owner and time), so the merged /etc looks the same. */
	if (st->st_mode) {
		struct timespec times[2] = { st->st_atim, st->st_mtim };
		if (fchmod(etc, st->st_mode & 07777) < 0 || fchown(etc, st->st_uid, st->st_gid) < 0 ||
		    futimens(etc, times) < 0)
			return -errno;
	}
	return 0;
}

/* Makes the shared layer at path (found incomplete or missing). It is built under a temporary
 * name and renamed into place, so no container ever sees a half-made layer; an incomplete one
 * (a crash between mkdir and rename cannot leave one, a damaged disk could) is moved aside and
 * deleted. Only the daemon (root) writes under <root>; the names are built from numbers. */
static int init_layer_ensure(const char *path, const struct stat *st, char **reterr)
{
	_cleanup_free_ char *parent = strdup(path), *tmp = NULL, *old = NULL;
	char rnd[17];
	char *slash = parent ? strrchr(parent, '/') : NULL;
	if (!slash || random_hex(rnd, 8) < 0)
		return err_set(reterr, -ENOMEM, "cannot create the container's init layer: out of memory");
	*slash = '\0';
	if ((mkdir(parent, 0700) < 0 && errno != EEXIST) || asprintf(&tmp, "%s/.tmp-%s", parent, rnd) < 0 ||
	    asprintf(&old, "%s/.old-%s", parent, rnd) < 0)
		return err_set(reterr, -errno, "cannot create the container's init layer: %m");
	int r = mkdir(tmp, 0755) < 0 ? -errno : init_layer_fill(tmp, st);
	if (r < 0) {
		(void)rm_rf(tmp);
		return err_set(reterr, r, "cannot create the container's init layer: %s", strerror(-r));
	}
	if (rename(path, old) == 0) {
		log_warning("init layer %s was incomplete: made again", path);
		(void)rm_rf(old);
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		(void)rm_rf(tmp);
		return err_set(reterr, r, "cannot create the container's init layer: %s", strerror(-r));
	}
	return 0;
}

/* At every start: a complete shared layer costs one check; the image's /etc is looked at again
 * only to make a missing one. */
int container_network_prepare_root(const struct container *ct, char **reterr)
{
	char *const *lower = ct->spec.overlay.lowerdirs;
	_cleanup_free_ char *layers = NULL, *path = NULL;
	struct stat st;
	if (asprintf(&layers, "%s/" INIT_LAYERS "/", ct->reg->root) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (!lower || !lower[0] || strncmp(lower[0], layers, strlen(layers)) != 0)
		return 0; /* no init layer for this spec */
	if (init_layer_complete(lower[0]))
		return 0;
	if (!image_etc(lower + 1, &st) || !(path = init_layer_path(ct, &st)) || strcmp(path, lower[0]) != 0)
		return err_set(reterr, -EINVAL, "the container's init layer does not match its image");
	return init_layer_ensure(path, &st, reterr);
}

/* Appends name to a space-separated list unless it is in it already. */
static int names_add(char **names, const char *name)
{
	if (!name || !*name)
		return 0;
	size_t n = strlen(name);
	for (const char *p = *names; p && *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, name, n) == 0)
			return 0;
		p += len + (p[len] == ' ');
	}
	char *s;
	if (asprintf(&s, "%s%s%s", *names ? *names : "", *names ? " " : "", name) < 0)
		return -ENOMEM;
	free(*names);
	*names = s;
	return 0;
}

/* The lines a hosts file is made of, owned. */
struct hosts {
	struct container_etc_host *e;
	char **strings; /* every address and names string, to free */
	size_t n, n_strings;
	bool failed;
};

static void hosts_add(struct hosts *h, char *addr, char *names)
{
	struct container_etc_host *e = h->failed ? NULL : reallocarray(h->e, h->n + 1, sizeof(*e));
	char **s = e ? reallocarray(h->strings, h->n_strings + 2, sizeof(char *)) : NULL;
	if (e)
		h->e = e;
	if (!s || !addr || !names) {
		h->failed = true;
		free(addr);
		free(names);
		return;
	}
	h->strings = s;
	s[h->n_strings++] = addr;
	s[h->n_strings++] = names;
	e[h->n++] = (struct container_etc_host){addr, names};
}

static void hosts_done(struct hosts *h)
{
	for (size_t i = 0; i < h->n_strings; i++)
		free(h->strings[i]);
	free(h->strings);
	free(h->e);
}

static char *addr_text(uint32_t addr)
{
	char buf[16];
	ipam_format_addr(addr, buf);
	return strdup(buf);
}

/* The names a container answers to on a network: its hostname and name (own line), or its
 * name, aliases and short id (on its peers' files, as Docker's DNS answers them). */
static char *endpoint_names(const struct container *ct, const struct container_endpoint *ep, bool own)
{
	char *names = NULL, short_id[13];
	memcpy(short_id, ct->id, 12);
	short_id[12] = '\0';
	int r = names_add(&names, own ? ct->spec.hostname : ct->name);
	if (r == 0)
		r = names_add(&names, own ? ct->name : NULL);
	for (char **a = ep ? ep->aliases : NULL; r == 0 && a && *a; a++)
		r = names_add(&names, *a);
	if (r == 0 && !own)
		r = names_add(&names, short_id);
	if (r < 0) {
		free(names);
		return NULL;
	}
	return names;
}

/* The gateway --add-host HOST:host-gateway names: that of the container's first network. */
static int host_gateway(const struct container *ct, char **ret)
{
	const struct container_endpoint *first = NULL;
	for (size_t i = 0; i < ct->n_endpoints; i++)
		if (!first || ct->endpoints[i].index < first->index)
			first = &ct->endpoints[i];
	struct network *n = first ? container_network_of(ct, first) : NULL;
	*ret = n ? addr_text(n->gateway) : strdup("127.0.0.1");
	return *ret ? 0 : -ENOMEM;
}

/* Adds the line of o on network n to ct's hosts, if o is another container linked there. */
static void hosts_add_peer(struct hosts *h, const struct container *ct, const struct container *o,
			   const struct network *n)
{
	const struct container_endpoint *oep = o == ct || o->removing ? NULL : container_network_find(o, n->id);
	if (oep && oep->linked && oep->addr)
		hosts_add(h, addr_text(oep->addr), endpoint_names(o, oep, false));
}

/* The hosts file of ct: --add-host entries, its own addresses, then the other running
 * containers of its user-defined networks; joining is one that is not in the registry's list
 * yet (a run links it there once its command runs), or NULL. */
static int hosts_text(const struct container *ct, const struct container *joining, char **ret)
{
	struct hosts h = {0};
	for (char **x = ct->cfg.extra_hosts; x && *x; x++) {
		char *host = NULL, *addr = NULL;
		if (container_etc_extra_host_parse(*x, &host, &addr, NULL) < 0)
			continue; /* checked at create: a record can only bring back what passed */
		if (strcmp(addr, CONTAINER_ETC_HOST_GATEWAY) == 0) {
			free(addr);
			if (host_gateway(ct, &addr) < 0)
				addr = NULL;
		}
		hosts_add(&h, addr, host);
	}
	for (size_t i = 0; i < ct->n_endpoints; i++)
		if (ct->endpoints[i].addr)
			hosts_add(&h, addr_text(ct->endpoints[i].addr), endpoint_names(ct, &ct->endpoints[i], true));
	if (ct->n_endpoints == 0)
		hosts_add(&h, strdup("127.0.0.1"), endpoint_names(ct, NULL, true));
	for (size_t i = 0; i < ct->n_endpoints; i++) {
		struct network *n = container_network_of(ct, &ct->endpoints[i]);
		if (!n || !n->user_defined)
			continue;
		for (const struct container *o = ct->reg->list; o; o = o->next)
			hosts_add_peer(&h, ct, o, n);
		if (joining)
			hosts_add_peer(&h, ct, joining, n);
	}
	int r = h.failed ? -ENOMEM : container_etc_hosts_text(h.e, h.n, ret);
	hosts_done(&h);
	return r;
}

static int open_dir(const struct container *ct, char **reterr)
{
	_cleanup_free_ char *dir = registry_container_dir(ct->reg, ct->id);
	if (!dir)
		return err_set(reterr, -ENOMEM, "out of memory");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open the container's directory: %m");
	return fd;
}

/* Its owner: the container's root, who may edit them as in Docker; the host's root otherwise. */
static void owner(const struct container *ct, uid_t *uid, gid_t *gid)
{
	*uid = ct->userns ? ct->slice.uid : (uid_t)-1;
	*gid = ct->userns ? ct->slice.gid : (gid_t)-1;
}

static int write_hosts(const struct container *ct, const struct container *joining, int dirfd, char **reterr)
{
	if (etc_shared(ct))
		return 0;
	_cleanup_free_ char *text = NULL;
	uid_t uid;
	gid_t gid;
	owner(ct, &uid, &gid);
	if (hosts_text(ct, joining, &text) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return container_etc_write(dirfd, CONTAINER_NETWORK_HOSTS, text, uid, gid, reterr);
}

int container_network_write_etc(struct container *ct, char **reterr)
{
	_cleanup_free_ char *resolv = NULL, *host_resolv = NULL, *hostname = NULL;
	uid_t uid;
	gid_t gid;
	int r;
	if (etc_shared(ct))
		return 0;
	owner(ct, &uid, &gid);
	_cleanup_close_ int dirfd = open_dir(ct, reterr);
	if (dirfd < 0)
		return dirfd;
	/* The host's file is read by the daemon, a bounded size; a missing one is no resolver. */
	r = read_file(resolv_conf_path, 65536, &host_resolv, NULL);
	if (r < 0 && r != -ENOENT)
		log_warning("cannot read %s: %s", resolv_conf_path, strerror(-r));
	if (container_etc_resolv_text(host_resolv, ct->cfg.dns, ct->cfg.dns_search, ct->cfg.dns_options, &resolv) < 0 ||
	    asprintf(&hostname, "%s\n", ct->spec.hostname ? ct->spec.hostname : ct->name) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	if ((r = write_hosts(ct, NULL, dirfd, reterr)) < 0 ||
	    (r = container_etc_write(dirfd, CONTAINER_NETWORK_HOSTNAME, hostname, uid, gid, reterr)) < 0 ||
	    (r = container_etc_write(dirfd, CONTAINER_NETWORK_RESOLV, resolv, uid, gid, reterr)) < 0)
		return r;
	return 0;
}

/* Whether ct has a linked endpoint on a network of that id. */
static bool linked_on(const struct container *ct, const char *network_id)
{
	const struct container_endpoint *ep = container_network_find(ct, network_id);
	return ep && ep->linked;
}

/* Whether ct is in the registry's list (a run links it only once its command runs). */
static bool listed(const struct container *ct)
{
	return ct->prev || ct->next || ct->reg->list == ct;
}

/* Rewrites o's hosts file, logging a failure (the peer keeps its old file). */
static void refresh_one(struct container *o, const struct container *ct)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_close_ int dirfd = open_dir(o, &err);
	if (dirfd < 0 || write_hosts(o, listed(ct) ? NULL : ct, dirfd, &err) < 0)
		log_warning("container %.12s: cannot update its hosts file: %s", o->id, err ? err : "?");
}

void container_network_refresh_peers(struct container *ct, const char *network_id)
{
	for (struct container *o = ct->reg->list; o; o = o->next) {
		if (o == ct || o->removing)
			continue;
		bool shares = false;
		for (size_t i = 0; !shares && i < ct->n_endpoints + (network_id ? 1 : 0); i++) {
			const char *id = i < ct->n_endpoints ? ct->endpoints[i].network_id : network_id;
			if (network_id && strcmp(id, network_id) != 0)
				continue;
			struct network *n = ct->reg->networks ? network_lookup(ct->reg->networks, id) : NULL;
			shares = n && n->user_defined && linked_on(o, id);
		}
		if (shares)
			refresh_one(o, ct);
	}
}
