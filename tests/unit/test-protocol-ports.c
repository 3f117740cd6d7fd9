/* Unit tests for published ports on the wire (protocol/ports.c): container.run's "ports",
 * "publish_all" and "expose" both ways, what is refused, and Docker's port maps of inspect. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/messages.h"
#include "protocol/ports.h"
#include "tests/tap.h"

static int decode_run(const char *json, struct proto_run_params *p)
{
	json_t *o = json_loads(json, 0, NULL);
	char *err = NULL;
	int r = o ? proto_run_params_decode(o, p, &err) : -EBADMSG;
	free(err);
	json_decref(o);
	return r;
}

static void test_run_params(void)
{
	struct proto_run_params p;
	ok(decode_run("{\"image\":\"a\",\"ports\":[{\"proto\":\"udp\",\"host_ip\":\"127.0.0.1\",\"host_port\":8080,"
		      "\"container_port\":80},{\"container_port\":443}],\"publish_all\":true,"
		      "\"expose\":[{\"proto\":\"tcp\",\"container_port\":9000}]}",
		      &p) == 0,
	   "ports, publish_all and expose decode");
	ok(p.n_ports == 2 && p.ports[0].proto == IPPROTO_UDP && p.ports[0].host_ip == 0x7f000001 &&
	       p.ports[0].host_port == 8080 && p.ports[0].ctr_port == 80,
	   "the first port: udp 127.0.0.1:8080 -> 80 (address in host byte order)");
	ok(p.ports[1].proto == IPPROTO_TCP && p.ports[1].host_ip == 0 && p.ports[1].host_port == 0 &&
	       p.ports[1].ctr_port == 443,
	   "defaults: tcp, every address, a random host port");
	ok(p.publish_all && p.n_expose == 1 && p.expose[0].ctr_port == 9000, "publish_all and expose");

	json_t *enc = proto_run_params_encode(&p);
	struct proto_run_params q;
	char *err = NULL;
	ok(enc && proto_run_params_decode(enc, &q, &err) == 0 && q.n_ports == 2 &&
	       memcmp(q.ports, p.ports, 2 * sizeof(*q.ports)) == 0 && q.publish_all && q.n_expose == 1 &&
	       q.expose[0].ctr_port == 9000,
	   "encoding and decoding again gives the same");
	free(err);
	json_decref(enc);
	proto_run_params_done(&q);
	proto_run_params_done(&p);

	ok(decode_run("{\"image\":\"a\",\"ports\":[{\"host_port\":8000,\"host_port_end\":8010,\"container_port\":80}]}",
		      &p) == 0 &&
	       p.ports[0].host_port == 8000 && p.ports[0].host_port_end == 8010,
	   "a host range");
	proto_run_params_done(&p);

	static const char *const bad[] = {
	    "{\"image\":\"a\",\"ports\":[{\"host_port\":80}]}",
	    "{\"image\":\"a\",\"ports\":[{\"container_port\":0}]}",
	    "{\"image\":\"a\",\"ports\":[{\"container_port\":70000}]}",
	    "{\"image\":\"a\",\"ports\":[{\"container_port\":80,\"host_port\":-1}]}",
	    "{\"image\":\"a\",\"ports\":[{\"container_port\":80,\"proto\":\"sctp\"}]}",
	    "{\"image\":\"a\",\"ports\":[{\"container_port\":80,\"host_ip\":\"1.2.3\"}]}",
	    "{\"image\":\"a\",\"ports\":[{\"container_port\":80,\"host_ip\":\"::1\"}]}",
	    "{\"image\":\"a\",\"ports\":[{\"container_port\":80,\"hostport\":1}]}",
	    "{\"image\":\"a\",\"ports\":[{\"container_port\":80,\"host_port\":9,\"host_port_end\":8}]}",
	    "{\"image\":\"a\",\"ports\":{\"container_port\":80}}",
	    "{\"image\":\"a\",\"ports\":[80]}",
	    "{\"image\":\"a\",\"publish_all\":1}",
	    "{\"image\":\"a\",\"expose\":[{\"container_port\":80,\"host_port\":80}]}",
	    "{\"image\":\"a\",\"publish\":[]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(decode_run(bad[i], &p) < 0, "refused: %s", bad[i]);

	/* One more than the limit. */
	json_t *o = json_pack("{s:s}", "image", "a"), *a = json_array();
	for (int i = 0; i <= PROTO_MAX_PORTS; i++)
		json_array_append_new(a, json_pack("{s:i}", "container_port", 1 + i));
	json_object_set_new(o, "ports", a);
	err = NULL;
	ok(proto_run_params_decode(o, &p, &err) < 0, "more than %d ports are refused", PROTO_MAX_PORTS);
	free(err);
	json_decref(o);
}

static void test_ports_map(void)
{
	const struct port_binding v[] = {
	    {.proto = IPPROTO_TCP, .host_ip = 0, .host_port = 8080, .ctr_port = 80},
	    {.proto = IPPROTO_TCP, .host_ip = 0x7f000001, .host_port = 0, .ctr_port = 80},
	    {.proto = IPPROTO_UDP, .host_ip = 0, .host_port = 5353, .ctr_port = 53},
	};
	const struct port_binding exposed[] = {{.proto = IPPROTO_TCP, .ctr_port = 80},
					       {.proto = IPPROTO_TCP, .ctr_port = 443}};
	json_t *m = proto_ports_map_encode(v, 3, exposed, 2, false);
	char *s = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	is_str(s,
	       "{\"443/tcp\":null,\"53/udp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"5353\"}],\"80/tcp\":[{\"HostIp\":"
	       "\"0.0.0.0\",\"HostPort\":\"8080\"},{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"0\"}]}",
	       "NetworkSettings.Ports: bindings under their container port, exposed ones null");
	free(s);

	struct port_binding *d = NULL;
	size_t n = 0;
	char *err = NULL;
	ok(proto_ports_map_decode(m, &d, &n, &err) == 0 && n == 3, "the map decodes to its 3 bindings");
	bool found_udp = false;
	for (size_t i = 0; i < n; i++)
		if (d[i].proto == IPPROTO_UDP)
			found_udp = d[i].host_port == 5353 && d[i].ctr_port == 53 && d[i].host_ip == 0;
	ok(found_udp, "the udp binding came back whole");
	free(d);
	json_decref(m);

	m = proto_ports_map_encode(v, 2, NULL, 0, true);
	s = m ? json_dumps(m, JSON_COMPACT) : NULL;
	is_str(s, "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"},{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}",
	       "HostConfig.PortBindings: empty strings where the request named nothing");
	free(s);
	json_decref(m);

	static const char *const bad[] = {"[]",
					  "{\"80\":[]}",
					  "{\"80/sctp\":[]}",
					  "{\"0/tcp\":[]}",
					  "{\"80/tcp\":[{\"HostIp\":\"x\",\"HostPort\":\"1\"}]}",
					  "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"70000\"}]}",
					  "{\"80/tcp\":[{\"HostPort\":\"1\"}]}",
					  "{\"80/tcp\":5}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		err = NULL;
		d = NULL;
		ok(j && proto_ports_map_decode(j, &d, &n, &err) < 0, "map refused: %s", bad[i]);
		free(err);
		free(d);
		json_decref(j);
	}
}

int main(void)
{
	test_run_params();
	test_ports_map();
	return tap_done();
}
