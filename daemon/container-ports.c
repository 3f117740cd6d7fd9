/* Published ports: the bookkeeping of host ports (which container holds which, random ones picked
 * from the netns' ephemeral range), the sockets that reserve them, and the nft rules' input.
 *
 * Why a bound socket per port: the DNAT rules catch the traffic before any local socket would see
 * it, so nothing on the host would notice that a published port is taken; a host process could
 * then bind it and silently never get its connections, or, worse, the daemon could pick a random
 * port a host service already listens on. A socket bound (not listening, never read) without
 * SO_REUSEADDR makes the kernel refuse any other bind of that port and address, and the bind
 * itself tells us when a host process holds the port already. The sockets are O_CLOEXEC and
 * the containers are cloned by the keeper, so none of them leaks into a container. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/container-ports.h"
#include "daemon/container.h"
#include "daemon/registry.h"
#include "image/db.h"
#include "protocol/ports.h"

/* Where random host ports come from when the netns' ip_local_port_range cannot be read (the
 * kernel's default). */
#define PORTS_RANGE_LOW	 32768
#define PORTS_RANGE_HIGH 60999

static bool ports_equal(const struct port_binding *a, const struct port_binding *b)
{
	return a->proto == b->proto && a->ctr_port == b->ctr_port;
}

static int port_compare(const void *x, const void *y)
{
	const struct port_binding *a = x, *b = y;
	if (a->ctr_port != b->ctr_port)
		return a->ctr_port < b->ctr_port ? -1 : 1;
	return (a->proto > b->proto) - (a->proto < b->proto);
}

int container_ports_set_exposed(struct container_config *cfg, const struct image *image, char **reterr)
{
	/* Its network is another container's: there is no address of its own to lead ports to. */
	if ((cfg->n_ports || cfg->publish_all) && cfg->network_mode &&
	    strncmp(cfg->network_mode, "container:", 10) == 0)
		return err_set(reterr, -EINVAL,
			       "conflicting options: port publishing and the container type network mode");
	size_t n_img = 0;
	while (image && image->exposed_ports && image->exposed_ports[n_img])
		n_img++;
	size_t total = cfg->n_exposed + n_img + cfg->n_ports;
	if (total == 0)
		return 0;
	struct port_binding *v = reallocarray(cfg->exposed, total, sizeof(*v));
	if (!v)
		return err_set(reterr, -ENOMEM, "out of memory");
	cfg->exposed = v;
	/* The image's ExposedPorts ("80/tcp", "53/udp", a bare "8080"), as Docker reads them. */
	for (size_t i = 0; i < n_img; i++) {
		char proto[8] = "tcp";
		unsigned port;
		int used = 0;
		const char *s = image->exposed_ports[i];
		if (sscanf(s, "%5u%n/%7[a-z]%n", &port, &used, proto, &used) < 1 || s[used] || port < 1 ||
		    port > 65535) {
			log_warning("image %.19s: ignoring the exposed port \"%.32s\"", image->id, s);
			continue;
		}
		struct port_binding b = {.ctr_port = (uint16_t)port};
		if (proto_port_proto_parse(proto, &b.proto) < 0)
			continue; /* sctp: not published by containd */
		v[cfg->n_exposed++] = b;
	}
	/* Docker's Config.ExposedPorts holds the published ports too. */
	for (size_t i = 0; i < cfg->n_ports; i++)
		v[cfg->n_exposed++] =
		    (struct port_binding){.proto = cfg->ports[i].proto, .ctr_port = cfg->ports[i].ctr_port};
	qsort(v, cfg->n_exposed, sizeof(*v), port_compare);
	size_t w = 0;
	for (size_t i = 0; i < cfg->n_exposed; i++)
		if (w == 0 || !ports_equal(&v[w - 1], &v[i]))
			v[w++] = v[i];
	cfg->n_exposed = w;
	/* The record keeps them (and reads back no more than this). */
	if (w > CONTAINER_PORTS_MAX)
		return err_set(reterr, -E2BIG, "too many exposed ports (%zu; at most %d)", w, CONTAINER_PORTS_MAX);
	return 0;
}

/* Whether two host addresses can receive the same packets: equal, or either is every address. */
static bool ips_overlap(uint32_t a, uint32_t b)
{
	return a == 0 || b == 0 || a == b;
}

static void format_ip(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = {.s_addr = htonl(ip)};
	if (!inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN))
		snprintf(buf, INET_ADDRSTRLEN, "?");
}

/* Whether a running container other than self, or the first n of mine, holds host port b. */
static bool port_taken(const struct registry *reg, const struct container *self, const struct container_port *mine,
		       size_t n, const struct port_binding *b)
{
	for (size_t i = 0; i < n; i++)
		if (mine[i].b.proto == b->proto && mine[i].b.host_port == b->host_port &&
		    ips_overlap(mine[i].b.host_ip, b->host_ip))
			return true;
	for (const struct container *ct = reg->list; ct; ct = ct->next) {
		if (ct == self)
			continue;
		for (size_t i = 0; i < ct->n_bound_ports; i++) {
			const struct port_binding *o = &ct->bound_ports[i].b;
			if (o->proto == b->proto && o->host_port == b->host_port && ips_overlap(o->host_ip, b->host_ip))
				return true;
		}
	}
	return false;
}

/* How many ports every container publishes now. */
size_t container_ports_total(const struct registry *reg)
{
	size_t n = 0;
	for (const struct container *ct = reg->list; ct; ct = ct->next)
		n += ct->n_bound_ports;
	return n;
}

/* A socket bound to b's host address and port: reserved for the container while it runs.
 * -EADDRINUSE when a host process holds it, -EADDRNOTAVAIL for an address not of this host. */
static int port_reserve(const struct port_binding *b, int *ret_fd)
{
	int type = b->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	_cleanup_close_ int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(b->host_port), .sin_addr.s_addr = htonl(b->host_ip)};
	/* Never read: a datagram that reaches it anyway (no rule for it yet) may only take the
	 * smallest buffer the kernel allows. */
	int zero = 0;
	if (type == SOCK_DGRAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The ephemeral range of the daemon's network namespace (/proc/sys/net is per netns of the
 * reader), where Docker too picks the host ports it chooses. */
static void ports_range(unsigned *lo, unsigned *hi)
{
	*lo = PORTS_RANGE_LOW;
	*hi = PORTS_RANGE_HIGH;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	unsigned a, b;
	if (f && fscanf(f, "%u %u", &a, &b) == 2 && a >= 1 && a <= b && b <= 65535) {
		*lo = a;
		*hi = b;
	}
	if (f)
		fclose(f);
}

/* Picks and reserves a host port for b: of its host range (-p 8000-8010:80) the first one free,
 * else a random one: the next one after the last pick (as the kernel's own ephemeral ports go
 * round). Free: no container holds it and a bind takes it. */
static int port_pick(struct container *ct, struct container_port *mine, size_t n, struct container_port *p,
		     char **reterr)
{
	static unsigned next_random;
	unsigned zero = 0, lo, hi;
	bool range = p->b.host_port_end != 0;
	unsigned *next = range ? &zero : &next_random;
	if (range) {
		lo = p->b.host_port;
		hi = p->b.host_port_end;
	} else
		ports_range(&lo, &hi);
	unsigned span = hi - lo + 1;
	p->b.host_port_end = 0;
	for (unsigned i = 0; i < span; i++) {
		unsigned port = lo + (*next + i) % span;
		p->b.host_port = (uint16_t)port;
		if (port_taken(ct->reg, ct, mine, n, &p->b))
			continue;
		int r = port_reserve(&p->b, &p->fd);
		if (r == 0) {
			*next = (*next + i + 1) % span;
			return 0;
		}
		if (r != -EADDRINUSE && r != -EACCES)
			break;
	}
	char ip[INET_ADDRSTRLEN];
	format_ip(p->b.host_ip, ip);
	if (range)
		return err_set(reterr, -EADDRINUSE, "Bind for %s:%u-%u failed: port is already allocated", ip, lo, hi);
	return err_set(reterr, -EADDRINUSE, "no free host port for %s:%u/%s in %u-%u", ip, (unsigned)p->b.ctr_port,
		       proto_port_proto_name(p->b.proto), lo, hi);
}

/* Binds one fixed host port, with Docker's messages for a conflict. */
static int port_fixed(struct container *ct, struct container_port *mine, size_t n, struct container_port *p,
		      char **reterr)
{
	char ip[INET_ADDRSTRLEN];
	format_ip(p->b.host_ip, ip);
	if (port_taken(ct->reg, ct, mine, n, &p->b))
		return err_set(reterr, -EADDRINUSE, "Bind for %s:%u failed: port is already allocated", ip,
			       (unsigned)p->b.host_port);
	int r = port_reserve(&p->b, &p->fd);
	if (r < 0)
		return err_set(reterr, r, "failed to bind host port for %s:%u to container port %u/%s: %s", ip,
			       (unsigned)p->b.host_port, (unsigned)p->b.ctr_port, proto_port_proto_name(p->b.proto),
			       strerror(-r));
	return 0;
}

static void ports_close(struct container_port *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i].fd = safe_close(v[i].fd);
}

/* cctl ps's PORTS: "0.0.0.0:8080->80/tcp, 443/tcp" while it runs (bound ports, then exposed
 * ports without one), nothing otherwise. Kept as text: a listing copies it. */
static void ports_summary_update(struct container *ct, bool running)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	FILE *f;
	free(TAKE_PTR(ct->ports_summary));
	if (!running || (ct->n_bound_ports == 0 && ct->cfg.n_exposed == 0))
		return;
	if (!(f = open_memstream(&text, &size)))
		return;
	const char *sep = "";
	for (size_t i = 0; i < ct->n_bound_ports; i++) {
		char buf[64];
		if (portspec_format(&ct->bound_ports[i].b, buf, sizeof(buf)) >= 0) {
			fprintf(f, "%s%s", sep, buf);
			sep = ", ";
		}
	}
	for (size_t i = 0; i < ct->cfg.n_exposed; i++) {
		const struct port_binding *e = &ct->cfg.exposed[i];
		bool bound = false;
		for (size_t j = 0; j < ct->n_bound_ports && !bound; j++)
			bound = ports_equal(&ct->bound_ports[j].b, e);
		if (!bound) {
			fprintf(f, "%s%u/%s", sep, (unsigned)e->ctr_port, proto_port_proto_name(e->proto));
			sep = ", ";
		}
	}
	if (fclose(f) == 0)
		ct->ports_summary = TAKE_PTR(text);
}

/* What the container publishes at this start: its -p bindings and, with -P, every exposed port
 * that has none, to a random host port on every address. */
static int ports_wanted(const struct container_config *cfg, struct container_port **ret, size_t *ret_n, char **reterr)
{
	size_t n = cfg->n_ports + (cfg->publish_all ? cfg->n_exposed : 0);
	*ret = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	if (n > CONTAINER_PORTS_MAX)
		return err_set(reterr, -E2BIG, "too many published ports (%zu; at most %d per container)", n,
			       CONTAINER_PORTS_MAX);
	struct container_port *v = calloc(n, sizeof(*v));
	if (!v)
		return err_set(reterr, -ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < cfg->n_ports; i++)
		v[k++] = (struct container_port){.b = cfg->ports[i], .fd = -1};
	for (size_t i = 0; cfg->publish_all && i < cfg->n_exposed; i++) {
		bool has = false;
		for (size_t j = 0; j < cfg->n_ports && !has; j++)
			has = ports_equal(&cfg->ports[j], &cfg->exposed[i]);
		if (!has)
			v[k++] = (struct container_port){.b = cfg->exposed[i], .fd = -1};
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

int container_ports_bind(struct container *ct, char **reterr)
{
	struct container_port *v = NULL;
	size_t n = 0;
	int r;
	container_ports_forget(ct);
	if ((r = ports_wanted(&ct->cfg, &v, &n, reterr)) < 0)
		return r;
	if (n == 0 || !container_ports_target(ct, NULL, NULL)) {
		free(v);
		ports_summary_update(ct, true);
		return 0;
	}
	if (container_ports_total(ct->reg) + n > CONTAINER_PORTS_MAX_TOTAL) {
		free(v);
		return err_set(reterr, -E2BIG, "too many published ports on this host (at most %d)",
			       CONTAINER_PORTS_MAX_TOTAL);
	}
	/* Fixed ports first, so a random pick never takes one that a later -p names. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			if ((pass == 0) != (v[i].b.host_port != 0 && v[i].b.host_port_end == 0))
				continue;
			r = pass == 0 ? port_fixed(ct, v, i, &v[i], reterr) : port_pick(ct, v, i, &v[i], reterr);
			if (r < 0) {
				ports_close(v, n);
				free(v);
				return r;
			}
		}
	ct->bound_ports = v;
	ct->n_bound_ports = n;
	ports_summary_update(ct, true);
	if ((r = container_ports_apply_for(ct->reg, ct, reterr)) < 0) {
		container_ports_forget(ct);
		(void)container_ports_apply(ct->reg, NULL);
		return r;
	}
	return 0;
}

void container_ports_forget(struct container *ct)
{
	ports_close(ct->bound_ports, ct->n_bound_ports);
	free(TAKE_PTR(ct->bound_ports));
	ct->n_bound_ports = 0;
	ports_summary_update(ct, false);
}

void container_ports_release(struct container *ct)
{
	bool had = ct->n_bound_ports > 0;
	container_ports_forget(ct);
	_cleanup_free_ char *err = NULL;
	if (had && container_ports_apply(ct->reg, &err) < 0)
		log_warning("container %.12s: cannot remove the rules of its published ports: %s", ct->id,
			    err ? err : "out of memory");
}

void container_ports_restore(struct container *ct)
{
	for (size_t i = 0; i < ct->n_bound_ports; i++) {
		struct container_port *p = &ct->bound_ports[i];
		int r = p->fd < 0 ? port_reserve(&p->b, &p->fd) : 0;
		if (r < 0)
			log_warning("container %.12s: cannot reserve its published host port %u/%s again: %s", ct->id,
				    (unsigned)p->b.host_port, proto_port_proto_name(p->b.proto), strerror(-r));
	}
	ports_summary_update(ct, true);
}

/* The record's and inspect's JSON. */

/* The bindings as the wire's port objects (protocol/ports.h), which the record reuses. */
static json_t *ports_array(const struct port_binding *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, proto_port_encode(&v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* A record's array of port objects, each checked as a request's (-EBADMSG otherwise). */
static int ports_from_array(json_t *a, struct port_binding **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > CONTAINER_PORTS_MAX)
		return -EBADMSG;
	if (json_array_size(a) == 0)
		return 0;
	struct port_binding *v = calloc(json_array_size(a), sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++)
		if (proto_port_decode(json_array_get(a, i), &v[i], NULL) < 0) {
			free(v);
			return -EBADMSG;
		}
	*ret = v;
	*ret_n = json_array_size(a);
	return 0;
}

int container_ports_config_to_json(const struct container_config *cfg, json_t *o)
{
	if (json_object_set_new(o, "ports", ports_array(cfg->ports, cfg->n_ports)) < 0 ||
	    json_object_set_new(o, "exposed", ports_array(cfg->exposed, cfg->n_exposed)) < 0 ||
	    json_object_set_new(o, "publish_all", json_boolean(cfg->publish_all)) < 0)
		return -ENOMEM;
	return 0;
}

int container_ports_config_from_json(json_t *o, struct container_config *cfg)
{
	json_t *all = json_object_get(o, "publish_all");
	int r;
	if (all && !json_is_boolean(all))
		return -EBADMSG;
	cfg->publish_all = json_is_true(all);
	if ((r = ports_from_array(json_object_get(o, "ports"), &cfg->ports, &cfg->n_ports)) < 0 ||
	    (r = ports_from_array(json_object_get(o, "exposed"), &cfg->exposed, &cfg->n_exposed)) < 0)
		return r;
	return 0;
}

json_t *container_ports_bound_to_json(const struct container *ct)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < ct->n_bound_ports; i++)
		if (json_array_append_new(a, proto_port_encode(&ct->bound_ports[i].b)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int container_ports_bound_from_json(json_t *a, struct container *ct)
{
	_cleanup_free_ struct port_binding *v = NULL;
	size_t n;
	int r = ports_from_array(a, &v, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return 0;
	ct->bound_ports = calloc(n, sizeof(*ct->bound_ports));
	if (!ct->bound_ports)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (v[i].host_port == 0)
			return -EBADMSG;
		ct->bound_ports[i] = (struct container_port){.b = v[i], .fd = -1};
	}
	ct->n_bound_ports = n;
	return 0;
}

int container_ports_inspect(const struct container *ct, json_t *o)
{
	_cleanup_free_ struct port_binding *bound = NULL;
	if (ct->n_bound_ports && !(bound = calloc(ct->n_bound_ports, sizeof(*bound))))
		return -ENOMEM;
	for (size_t i = 0; i < ct->n_bound_ports; i++)
		bound[i] = ct->bound_ports[i].b;
	bool running = ct->state == CONTAINER_RUNNING;
	json_t *exposed = json_array();
	for (size_t i = 0; exposed && i < ct->cfg.n_exposed; i++) {
		char key[16];
		snprintf(key, sizeof(key), "%u/%s", (unsigned)ct->cfg.exposed[i].ctr_port,
			 proto_port_proto_name(ct->cfg.exposed[i].proto));
		if (json_array_append_new(exposed, json_string(key)) < 0) {
			json_decref(exposed);
			exposed = NULL;
		}
	}
	/* Docker's NetworkSettings.Ports lists the exposed ports of a running container only. */
	if (json_object_set_new(o, "ports",
				proto_ports_map_encode(bound, ct->n_bound_ports, ct->cfg.exposed,
						       running ? ct->cfg.n_exposed : 0, false)) < 0 ||
	    json_object_set_new(o, "port_bindings",
				proto_ports_map_encode(ct->cfg.ports, ct->cfg.n_ports, NULL, 0, true)) < 0 ||
	    json_object_set_new(o, "exposed_ports", exposed) < 0 ||
	    json_object_set_new(o, "publish_all", json_boolean(ct->cfg.publish_all)) < 0 ||
	    json_object_set_new(o, "ports_summary", ct->ports_summary ? json_string(ct->ports_summary) : json_null()) <
		0)
		return -ENOMEM;
	return 0;
}
