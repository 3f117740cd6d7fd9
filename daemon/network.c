#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/strv.h"
#include "common/util.h"
#include "daemon/network-internal.h"
#include "daemon/persist.h"
#include "network/ipam.h"
#include "network/netlink.h"

#define NETWORK_RECORD_SUFFIX ".json"

static void network_free(struct network *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->driver);
	free(n->bridge);
	strv_free(n->labels);
	ipam_pool_free(n->ipam);
	free(n);
}

static void network_freep(struct network **n)
{
	network_free(*n);
}

bool network_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len < 1 || len > NETWORK_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

static bool network_is_builtin_name(const char *name)
{
	return strcmp(name, "bridge") == 0 || strcmp(name, "host") == 0 || strcmp(name, "none") == 0;
}

static char *network_record_path(const struct network_registry *nr, const char *id)
{
	char *p;
	return asprintf(&p, "%s/%s" NETWORK_RECORD_SUFFIX, nr->dir, id) < 0 ? NULL : p;
}

/* Writes n's record, <root>/networks/<id>.json, atomically (persist.c). */
static int network_record_write(struct network_registry *nr, const struct network *n, char **reterr)
{
	_cleanup_free_ char *path = network_record_path(nr, n->id);
	json_auto_t *rec =
	    json_pack("{s:s, s:s, s:s, s:b, s:b, s:o, s:[I,I]}", "id", n->id, "name", n->name, "driver", n->driver,
		      "internal", n->internal, "builtin", !n->user_defined, "labels", strv_to_json(n->labels),
		      "created", (json_int_t)n->created.tv_sec, (json_int_t)n->created.tv_nsec);
	if (!path || !rec)
		return err_set(reterr, -ENOMEM, "out of memory");
	if (n->bridge) {
		char subnet[19], gateway[16];
		ipam_format_cidr(&n->subnet, subnet);
		ipam_format_addr(n->gateway, gateway);
		if (json_object_set_new(rec, "bridge", json_string(n->bridge)) < 0 ||
		    json_object_set_new(rec, "subnet", json_string(subnet)) < 0 ||
		    json_object_set_new(rec, "gateway", json_string(gateway)) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	return persist_write(path, rec, reterr);
}

/* A bridge network's address book: everything of its subnet but the network, broadcast and
 * gateway addresses. */
static int network_ipam_new(struct network *n, char **reterr)
{
	if (!n->bridge)
		return 0;
	int r = ipam_pool_new(&n->subnet, n->gateway, &n->ipam);
	if (r < 0)
		return err_set(reterr, r, "cannot make the address pool of network %s: %s", n->name, strerror(-r));
	return 0;
}

/* Reads one record. Every field is checked: the bridge's name goes to the kernel and the subnet
 * into the nft table, so a record edited by hand must not smuggle anything else in. */
static int network_record_load(const char *path, const char *id, struct network **ret, char **reterr)
{
	json_auto_t *rec = NULL;
	int version;
	int r = persist_read(path, &rec, &version, reterr);
	if (r < 0)
		return r;
	const char *rid = json_string_value(json_object_get(rec, "id"));
	const char *name = json_string_value(json_object_get(rec, "name"));
	const char *driver = json_string_value(json_object_get(rec, "driver"));
	const char *bridge = json_string_value(json_object_get(rec, "bridge"));
	const char *subnet = json_string_value(json_object_get(rec, "subnet"));
	const char *gateway = json_string_value(json_object_get(rec, "gateway"));
	json_t *labels = json_object_get(rec, "labels"), *created = json_object_get(rec, "created");
	if (!rid || strcmp(rid, id) != 0 || !name || !network_name_valid(name) || !driver || !json_is_array(labels) ||
	    json_array_size(labels) > NETWORK_LABELS_MAX || !json_is_array(created) || json_array_size(created) != 2)
		return err_set(reterr, -EBADMSG, "%s: not a network record", path);
	bool is_bridge = strcmp(driver, "bridge") == 0;
	if (!is_bridge && strcmp(driver, "host") != 0 && strcmp(driver, "null") != 0)
		return err_set(reterr, -EBADMSG, "%s: unknown driver \"%.32s\"", path, driver);
	_cleanup_(network_freep) struct network *n = calloc(1, sizeof(*n));
	if (!n)
		return err_set(reterr, -ENOMEM, "out of memory");
	memcpy(n->id, id, 65);
	n->user_defined = !json_is_true(json_object_get(rec, "builtin"));
	n->internal = json_is_true(json_object_get(rec, "internal"));
	n->created.tv_sec = (time_t)json_integer_value(json_array_get(created, 0));
	n->created.tv_nsec = (long)json_integer_value(json_array_get(created, 1));
	if (!(n->name = strdup(name)) || !(n->driver = strdup(driver)) ||
	    !(n->labels = calloc(json_array_size(labels) + 1, sizeof(char *))))
		return err_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(labels); i++) {
		const char *l = json_string_value(json_array_get(labels, i));
		if (!l || !strchr(l, '='))
			return err_set(reterr, -EBADMSG, "%s: a label is not KEY=VALUE", path);
		if (!(n->labels[i] = strdup(l)))
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (is_bridge) {
		size_t blen = bridge ? strlen(bridge) : 0;
		if (!blen || blen > 15 || strpbrk(bridge, "/: \t\n") || !subnet || !gateway ||
		    ipam_parse_cidr(subnet, &n->subnet) < 0 || ipam_parse_addr(gateway, &n->gateway) < 0 ||
		    !ipam_contains(&n->subnet, n->gateway) || n->subnet.prefix > 30)
			return err_set(reterr, -EBADMSG,
				       "%s: a bridge network without a valid bridge, subnet or gateway", path);
		if (!(n->bridge = strdup(bridge)))
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(n);
	return 0;
}

static void network_link(struct network_registry *nr, struct network *n)
{
	struct network **p = &nr->list;
	/* Kept in creation order: the built-ins first, as `network ls` shows them. */
	while (*p)
		p = &(*p)->next;
	n->nr = nr;
	n->next = NULL;
	*p = n;
	nr->count++;
}

static void network_unlink(struct network_registry *nr, struct network *n)
{
	for (struct network **p = &nr->list; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			nr->count--;
			return;
		}
}

static struct network *network_by_name(struct network_registry *nr, const char *name)
{
	for (struct network *n = nr->list; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

struct network *network_lookup(struct network_registry *nr, const char *ref)
{
	struct network *found = NULL;
	size_t len = strlen(ref);
	for (struct network *n = nr->list; n; n = n->next)
		if (strcmp(n->id, ref) == 0)
			return n;
	if ((found = network_by_name(nr, ref)))
		return found;
	for (struct network *n = nr->list; n; n = n->next)
		if (len >= 1 && len < 64 && strncmp(n->id, ref, len) == 0) {
			if (found)
				return NULL;
			found = n;
		}
	return found;
}

struct network *network_default(struct network_registry *nr)
{
	return network_by_name(nr, nr->default_bridge ? "bridge" : "none");
}

int network_address_alloc(struct network *n, uint32_t want, uint32_t *ret, char **reterr)
{
	char buf[16], subnet[19];
	if (!n->ipam)
		return err_set(reterr, -EINVAL, "network %s (driver %s) hands out no addresses", n->name, n->driver);
	if (want == 0) {
		int r = ipam_pool_alloc(n->ipam, ret);
		if (r < 0)
			return err_set(reterr, r, "no available IPv4 addresses on network %s", n->name);
		return 0;
	}
	ipam_format_addr(want, buf);
	ipam_format_cidr(&n->subnet, subnet);
	int r = ipam_pool_reserve(n->ipam, want);
	if (r == -EEXIST)
		return err_set(reterr, r, "Address already in use: %s on network %s", buf, n->name);
	if (r < 0)
		return err_set(reterr, r, "invalid address %s: not an address of network %s (%s) a container may use",
			       buf, n->name, subnet);
	*ret = want;
	return 0;
}

void network_address_release(struct network *n, uint32_t addr)
{
	if (n->ipam && addr)
		ipam_pool_release(n->ipam, addr);
}

void network_registry_set_ports_cb(struct network_registry *nr, network_ports_cb cb, void *userdata)
{
	nr->ports_cb = cb;
	nr->ports_userdata = userdata;
}

void network_registry_set_attached_cb(struct network_registry *nr, network_attached_cb cb, void *userdata)
{
	nr->attached_cb = cb;
	nr->attached_userdata = userdata;
}

unsigned network_attached(struct network_registry *nr, const struct network *n, json_t *containers)
{
	return nr->attached_cb ? nr->attached_cb(nr->attached_userdata, n, containers) : 0;
}

/* A new network object (not linked, no record) with a fresh random id; for a bridge network
 * its bridge "cd-<12 hex>" unless bridge says otherwise (not Docker's "br-<12 hex>", so that the
 * two never name the same link; a record written with a br- name keeps it, as its "bridge" says).
 * The id's first 12 characters are kept unique: they name the bridge. */
static int network_new(struct network_registry *nr, const char *name, const char *driver, const char *bridge,
		       struct network **ret, char **reterr)
{
	_cleanup_(network_freep) struct network *n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(name)) || !(n->driver = strdup(driver)) ||
	    !(n->labels = calloc(1, sizeof(char *))))
		return err_set(reterr, -ENOMEM, "out of memory");
	for (;;) {
		int r = random_hex(n->id, 32);
		if (r < 0)
			return err_set(reterr, r, "cannot make a network id: %m");
		bool clash = false;
		for (struct network *o = nr->list; o; o = o->next)
			clash |= strncmp(o->id, n->id, 12) == 0;
		if (!clash)
			break;
	}
	(void)clock_gettime(CLOCK_REALTIME, &n->created);
	if (strcmp(driver, "bridge") == 0 &&
	    ((bridge && !(n->bridge = strdup(bridge))) || (!bridge && asprintf(&n->bridge, "cd-%.12s", n->id) < 0))) {
		n->bridge = NULL;
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(n);
	return 0;
}

/* The subnets a new network must not overlap: every bridge network's (but skip) and the host's
 * routes. */
static int network_taken(struct network_registry *nr, const struct network *skip, struct ipv4_net **ret, size_t *ret_n,
			 char **reterr)
{
	_cleanup_free_ struct ipv4_net *v = NULL;
	size_t n = 0;
	for (struct network *o = nr->list; o; o = o->next) {
		if (!o->bridge || o == skip)
			continue;
		struct ipv4_net *nv = reallocarray(v, n + 1, sizeof(*v));
		if (!nv)
			return err_set(reterr, -ENOMEM, "out of memory");
		v = nv;
		v[n++] = o->subnet;
	}
	int r = network_host_routes(nr, &v, &n, reterr);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/* --bip "GATEWAY/PREFIX": the default bridge's own address and its subnet. */
static int network_parse_bip(const char *bip, struct ipv4_net *subnet, uint32_t *gateway, char **reterr)
{
	_cleanup_free_ char *addr = strdup(bip);
	if (!addr)
		return err_set(reterr, -ENOMEM, "out of memory");
	char *slash = strchr(addr, '/'), *end;
	if (!slash)
		return err_set(reterr, -EINVAL, "--bip %s: not an address with a prefix (e.g. 172.18.0.1/16)", bip);
	*slash = '\0';
	errno = 0;
	unsigned long prefix = strtoul(slash + 1, &end, 10);
	if (ipam_parse_addr(addr, gateway) < 0 || errno || end == slash + 1 || *end || prefix < 1 || prefix > 30)
		return err_set(reterr, -EINVAL,
			       "--bip %s: not an address with a prefix from /1 to /30 (e.g. 172.18.0.1/16)", bip);
	subnet->prefix = (uint8_t)prefix;
	subnet->addr = *gateway & (uint32_t)(0xffffffffu << (32 - prefix));
	uint32_t bcast = subnet->addr | ~(uint32_t)(0xffffffffu << (32 - prefix));
	if (*gateway == subnet->addr || *gateway == bcast)
		return err_set(reterr, -EINVAL, "--bip %s: the address is the subnet's network or broadcast address",
			       bip);
	return 0;
}

/* The default network "bridge": its record kept (same id, same subnet unless --bip changes it),
 * its bridge --bridge's name, its subnet --bip's or one picked clear of the host's routes. */
static int network_setup_default(struct network_registry *nr, const struct network_options *o, char **reterr)
{
	struct network *n = network_by_name(nr, "bridge");
	struct ipv4_net subnet = {0};
	uint32_t gateway = 0;
	bool changed = !n;
	int r;
	if (o->bip && (r = network_parse_bip(o->bip, &subnet, &gateway, reterr)) < 0)
		return r;
	if (!n) {
		if ((r = network_new(nr, "bridge", "bridge", nr->default_bridge, &n, reterr)) < 0)
			return r;
		n->user_defined = false;
		network_link(nr, n);
	}
	if (strcmp(n->bridge, nr->default_bridge) != 0) {
		log_info("network bridge: its bridge is now %s (was %s)", nr->default_bridge, n->bridge);
		_cleanup_free_ char *old = TAKE_PTR(n->bridge);
		if (!(n->bridge = strdup(nr->default_bridge)))
			return err_set(reterr, -ENOMEM, "out of memory");
		changed = true;
	}
	if (o->bip && (subnet.addr != n->subnet.addr || subnet.prefix != n->subnet.prefix || gateway != n->gateway)) {
		/* A new address for the bridge: made again from scratch, so no old address stays. */
		if (n->subnet.prefix)
			(void)network_host_bridge_down(nr, n, NULL);
		n->subnet = subnet;
		n->gateway = gateway;
		changed = true;
	} else if (!o->bip && !n->subnet.prefix &&
		   network_host_bridge_address(nr, n->bridge, &n->subnet, &n->gateway) == 0) {
		char a[19];
		ipam_format_cidr(&n->subnet, a);
		log_info("network bridge: the bridge %s exists with an address: its subnet %s is the default network's",
			 n->bridge, a);
	} else if (!o->bip && !n->subnet.prefix) {
		n->subnet = (struct ipv4_net){0};
		_cleanup_free_ struct ipv4_net *taken = NULL;
		size_t n_taken = 0;
		if ((r = network_taken(nr, n, &taken, &n_taken, reterr)) < 0)
			return r;
		if ((r = ipam_pick_subnet(taken, n_taken, &n->subnet)) < 0)
			return err_set(reterr, r,
				       "no subnet left for the default bridge: every default pool overlaps a "
				       "route or a network; give one with --bip");
		n->gateway = n->subnet.addr + 1;
	}
	/* Checked against the user networks only: the host's routes include the bridge's own. */
	for (struct network *u = nr->list; u; u = u->next)
		if (u != n && u->bridge && ipam_overlaps(&u->subnet, &n->subnet)) {
			char a[19], b[19];
			ipam_format_cidr(&n->subnet, a);
			ipam_format_cidr(&u->subnet, b);
			return err_set(reterr, -EEXIST, "the default bridge's subnet %s overlaps network %s (%s)", a,
				       u->name, b);
		}
	if (changed && (r = network_record_write(nr, n, reterr)) < 0)
		return r;
	return 0;
}

/* host and none: made once, then kept (Docker's ids of them stay too). */
static int network_setup_builtin(struct network_registry *nr, const char *name, const char *driver, char **reterr)
{
	struct network *n = network_by_name(nr, name);
	int r;
	if (n)
		return 0;
	if ((r = network_new(nr, name, driver, NULL, &n, reterr)) < 0)
		return r;
	if ((r = network_record_write(nr, n, reterr)) < 0) {
		network_free(n);
		return r;
	}
	network_link(nr, n);
	return 0;
}

/* Loads every record of <root>/networks. One that cannot be trusted is moved aside (and its
 * network forgotten); the daemon starts anyway. */
static void network_registry_load(struct network_registry *nr, bool default_bridge)
{
	_cleanup_closedir_ DIR *d = opendir(nr->dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len != 64 + strlen(NETWORK_RECORD_SUFFIX) || strcmp(de->d_name + 64, NETWORK_RECORD_SUFFIX) != 0)
			continue;
		char id[65];
		memcpy(id, de->d_name, 64);
		id[64] = '\0';
		_cleanup_free_ char *path = network_record_path(nr, id), *err = NULL;
		struct network *n = NULL;
		if (!path)
			return;
		int r = network_record_load(path, id, &n, &err);
		if (r >= 0 && network_by_name(nr, n->name))
			r = err_set(&err, -EEXIST, "%s: a second network named %s", path, n->name);
		if (r < 0) {
			_cleanup_free_ char *aside = NULL;
			log_error("%s; moved aside to %s.bad", err ? err : strerror(-r), path);
			if (asprintf(&aside, "%s.bad", path) >= 0 && rename(path, aside) < 0)
				log_error("cannot move %s aside: %m", path);
			network_free(n);
			continue;
		}
		/* With --bridge none there is no default network; its record waits for a daemon that
		 * has one. */
		if (!n->user_defined && strcmp(n->name, "bridge") == 0 && !default_bridge) {
			network_free(n);
			continue;
		}
		network_link(nr, n);
	}
}

/* This root's instance id, <root>/networks/instance (32 random hex digits, made the first time),
 * put in nr->link_alias. Why a random id kept with the records, and not the nft table's name or a
 * hash of the root's path: two daemons in one netns may well share the default table name, and a
 * path changes meaning with a move or a bind mount; the id travels with the records that name the
 * links, so whoever holds them holds the id. A file that is not a valid id is replaced (logged):
 * the links marked with the old one are then never removed by reconcile, the safe side. */
static int network_instance(struct network_registry *nr, char **reterr)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	char id[33];
	size_t len = 0;
	if (asprintf(&path, "%s/instance", nr->dir) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	int r = read_file(path, 64, &data, &len);
	if (r < 0 && r != -ENOENT)
		log_error("cannot read %s (%s): making a new instance id", path, strerror(-r));
	while (r >= 0 && len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	if (r >= 0 && len == 32 && strspn(data, "0123456789abcdef") == 32) {
		memcpy(id, data, 33);
	} else {
		if (r >= 0)
			log_error("%s is not an instance id: making a new one", path);
		if ((r = random_hex(id, 16)) < 0)
			return err_set(reterr, r, "cannot make an instance id: %s", strerror(-r));
		char line[34];
		snprintf(line, sizeof(line), "%s\n", id);
		if ((r = write_file_atomic(path, line, 33)) < 0)
			return err_set(reterr, r, "cannot write %s: %s", path, strerror(-r));
	}
	snprintf(nr->link_alias, sizeof(nr->link_alias), "containd:%s", id);
	return 0;
}

int network_registry_open(const char *root, const char *state, const struct network_options *o,
			  struct network_registry **ret, char **reterr)
{
	struct network_registry *nr = calloc(1, sizeof(*nr));
	int r;
	if (!nr)
		return err_set(reterr, -ENOMEM, "out of memory");
	nr->ip_masq = o->ip_masq;
	bool with_bridge = !o->bridge || strcmp(o->bridge, "none") != 0;
	if (asprintf(&nr->dir, "%s/networks", root) < 0 || !(nr->state_dir = strdup(state)) ||
	    !(nr->nft_table = strdup(o->nft_table ? o->nft_table : "containd")) ||
	    (with_bridge && !(nr->default_bridge = strdup(o->bridge ? o->bridge : NETWORK_DEFAULT_BRIDGE)))) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	nr->ip_forward = o->ip_forward;
	if ((r = mkdir_p(nr->dir, 0700)) < 0) {
		err_set(reterr, r, "cannot create %s: %m", nr->dir);
		goto fail;
	}
	if ((r = network_instance(nr, reterr)) < 0)
		goto fail;
	network_registry_load(nr, with_bridge);
	if ((with_bridge && (r = network_setup_default(nr, o, reterr)) < 0) ||
	    (r = network_setup_builtin(nr, "host", "host", reterr)) < 0 ||
	    (r = network_setup_builtin(nr, "none", "null", reterr)) < 0)
		goto fail;
	for (struct network *n = nr->list; n; n = n->next) {
		_cleanup_free_ char *err = NULL;
		if ((r = network_ipam_new(n, reterr)) < 0)
			goto fail;
		if (!n->bridge)
			continue;
		r = network_host_bridge_up(nr, n, &err);
		/* The default bridge is what containers get unless they ask: without it the daemon
		 * would start broken. A user network's bridge that fails is reported and tried again
		 * at its next use. */
		if (r < 0 && !n->user_defined) {
			err_set(reterr, r, "the default bridge %s: %s", n->bridge, err ? err : strerror(-r));
			goto fail;
		}
		if (r < 0)
			log_error("network %s: cannot set up its bridge %s: %s", n->name, n->bridge,
				  err ? err : strerror(-r));
	}
	*ret = nr;
	return 0;
fail:
	network_registry_free(nr);
	return r;
}

void network_registry_free(struct network_registry *nr)
{
	if (!nr)
		return;
	while (nr->list) {
		struct network *n = nr->list;
		nr->list = n->next;
		network_free(n);
	}
	if (nr->nl)
		netlink_close(nr->nl);
	free(nr->dir);
	free(nr->state_dir);
	free(nr->nft_table);
	free(nr->default_bridge);
	free(nr);
}

/* network.create's subnet and gateway: given (checked), or picked clear of the other networks
 * and the host's routes. An overlap is Docker's error, and nothing is created. */
static int network_create_subnet(struct network_registry *nr, const struct network_create_opts *o, struct network *n,
				 char **reterr)
{
	_cleanup_free_ struct ipv4_net *taken = NULL;
	size_t n_taken = 0, n_nets = 0;
	char buf[19];
	int r;
	for (struct network *x = nr->list; x; x = x->next)
		n_nets += x->bridge != NULL;
	if ((r = network_taken(nr, NULL, &taken, &n_taken, reterr)) < 0)
		return r;
	if (!o->subnet) {
		if (o->gateway)
			return err_set(reterr, -EINVAL, "a gateway needs a subnet (--subnet)");
		if ((r = ipam_pick_subnet(taken, n_taken, &n->subnet)) < 0)
			return err_set(reterr, r,
				       "could not find an available, non-overlapping IPv4 address pool among "
				       "the defaults to assign to the network");
		n->gateway = n->subnet.addr + 1;
		return 0;
	}
	if (ipam_parse_cidr(o->subnet, &n->subnet) < 0)
		return err_set(reterr, -EINVAL,
			       "invalid subnet %.64s: not an IPv4 CIDR with its host bits zero "
			       "(e.g. 10.1.0.0/16)",
			       o->subnet);
	if (n->subnet.prefix > 30 || n->subnet.prefix < 1)
		return err_set(reterr, -EINVAL, "invalid subnet %s: the prefix must be /1 to /30", o->subnet);
	ipam_format_cidr(&n->subnet, buf);
	for (size_t i = 0; i < n_taken; i++) {
		if (!ipam_overlaps(&taken[i], &n->subnet))
			continue;
		char other[19];
		ipam_format_cidr(&taken[i], other);
		if (i < n_nets)
			return err_set(reterr, -EEXIST,
				       "invalid pool request: Pool overlaps with other one on this address space "
				       "(%s overlaps %s of another network)",
				       buf, other);
		return err_set(reterr, -EEXIST,
			       "invalid pool request: Pool overlaps with other one on this address space (%s "
			       "overlaps the host's route to %s)",
			       buf, other);
	}
	if (!o->gateway) {
		n->gateway = n->subnet.addr + 1;
		return 0;
	}
	uint32_t bcast = n->subnet.addr | ~(uint32_t)(0xffffffffu << (32 - n->subnet.prefix));
	if (ipam_parse_addr(o->gateway, &n->gateway) < 0)
		return err_set(reterr, -EINVAL, "invalid gateway %.64s: not an IPv4 address", o->gateway);
	if (!ipam_contains(&n->subnet, n->gateway) || n->gateway == n->subnet.addr || n->gateway == bcast)
		return err_set(reterr, -EINVAL, "invalid gateway %s: not a host address of subnet %s", o->gateway, buf);
	return 0;
}

int network_create(struct network_registry *nr, const struct network_create_opts *o, struct network **ret,
		   char **reterr)
{
	const char *driver = o->driver ? o->driver : "bridge";
	struct network *n = NULL;
	int r;
	if (!network_name_valid(o->name))
		return err_set(reterr, -EINVAL,
			       "invalid network name \"%.64s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at most %d",
			       o->name, NETWORK_NAME_MAX);
	if (network_by_name(nr, o->name))
		return err_set(reterr, -EEXIST, "network with name %s already exists", o->name);
	if (network_is_builtin_name(o->name))
		return err_set(reterr, -EPERM, "%s is a pre-defined network name and cannot be used", o->name);
	if (strcmp(driver, "host") == 0 || strcmp(driver, "null") == 0)
		return err_set(reterr, -EEXIST, "only one instance of \"%s\" network is allowed", driver);
	if (strcmp(driver, "bridge") != 0)
		return err_set(reterr, -ENOENT, "plugin \"%.64s\" not found", driver);
	if (nr->count >= NETWORK_MAX)
		return err_set(reterr, -ENOSPC, "too many networks (at most %d)", NETWORK_MAX);
	if ((r = network_new(nr, o->name, driver, NULL, &n, reterr)) < 0)
		return r;
	n->user_defined = true;
	n->internal = o->internal;
	strv_free(n->labels);
	if (!(n->labels = strv_copy((const char *const *)o->labels, SIZE_MAX))) {
		network_free(n);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	if ((r = network_create_subnet(nr, o, n, reterr)) < 0 || (r = network_ipam_new(n, reterr)) < 0 ||
	    (r = network_record_write(nr, n, reterr)) < 0) {
		network_free(n);
		return r;
	}
	network_link(nr, n);
	_cleanup_free_ char *err = NULL;
	if ((r = network_host_bridge_up(nr, n, &err)) < 0 || (r = network_registry_apply_nft(nr, &err)) < 0) {
		err_set(reterr, r, "cannot set up network %s: %s", n->name, err ? err : strerror(-r));
		(void)network_remove(nr, n, NULL);
		return r;
	}
	*ret = n;
	return 0;
}

int network_remove(struct network_registry *nr, struct network *n, char **reterr)
{
	_cleanup_free_ char *path = network_record_path(nr, n->id), *err = NULL;
	if (!n->user_defined)
		return err_set(reterr, -EPERM, "%s is a pre-defined network and cannot be removed", n->name);
	if (!path)
		return err_set(reterr, -ENOMEM, "out of memory");
	/* The record goes first: a crash after it leaves a bridge of no network, which the next
	 * start's reconcile removes; the other order could leave a network without its bridge. */
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(reterr, -errno, "cannot remove %s: %m", path);
	network_unlink(nr, n);
	if (n->bridge && network_host_bridge_down(nr, n, &err) < 0)
		log_error("network %s: %s", n->name, err);
	free(TAKE_PTR(err));
	if (network_registry_apply_nft(nr, &err) < 0)
		log_error("network %s removed, but the nft table was not rebuilt: %s", n->name, err);
	network_free(n);
	return 0;
}
