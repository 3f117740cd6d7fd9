/* The network members of container.run params and network.connect/disconnect params: decoded,
 * encoded back the same, unknown fields and oversized lists refused. */
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "protocol/endpoint.h"
#include "protocol/messages.h"
#include "tests/tap.h"

static void test_run_params(void)
{
	json_t *in = json_pack("{s:s, s:[s,s], s:s, s:[s], s:[s], s:[s], s:[s]}", "image", "alpine", "network_aliases",
			       "web", "www", "ip", "10.0.0.5", "extra_hosts", "db:10.1.2.3", "dns", "10.9.9.9",
			       "dns_search", "a.example", "dns_options", "ndots:2");
	struct proto_run_params p;
	char *err = NULL;
	is_int(proto_run_params_decode(in, &p, &err), 0, "run params with network members decode");
	ok(p.network_aliases && strcmp(p.network_aliases[1], "www") == 0 && !p.network_aliases[2], "aliases");
	is_str(p.ip, "10.0.0.5", "ip");
	ok(p.extra_hosts && strcmp(p.extra_hosts[0], "db:10.1.2.3") == 0, "extra_hosts");
	ok(p.dns && p.dns_search && p.dns_options && strcmp(p.dns_options[0], "ndots:2") == 0, "dns lists");
	json_t *out = proto_run_params_encode(&p);
	ok(out && json_equal(json_object_get(out, "network_aliases"), json_object_get(in, "network_aliases")) &&
	       json_equal(json_object_get(out, "ip"), json_object_get(in, "ip")) &&
	       json_equal(json_object_get(out, "extra_hosts"), json_object_get(in, "extra_hosts")) &&
	       json_equal(json_object_get(out, "dns_search"), json_object_get(in, "dns_search")),
	   "encoded back the same");
	json_decref(out);
	proto_run_params_done(&p);
	ok(!p.network_aliases && !p.ip && !p.dns, "done frees them");

	json_t *many = json_array();
	for (int i = 0; i < PROTO_MAX_NET_ITEMS + 1; i++)
		json_array_append_new(many, json_string("x"));
	json_object_set_new(in, "dns", many);
	is_int(proto_run_params_decode(in, &p, NULL), -E2BIG, "a list over the limit is refused");
	json_object_set_new(in, "dns", json_pack("[i]", 1));
	is_int(proto_run_params_decode(in, &p, NULL), -EINVAL, "a list of non-strings is refused");
	json_object_del(in, "dns");
	json_object_set_new(in, "ip", json_integer(1));
	is_int(proto_run_params_decode(in, &p, NULL), -EINVAL, "an ip that is not a string is refused");
	json_decref(in);
}

static void test_connect_params(void)
{
	struct proto_network_connect_params p = {.network = "n1", .container = "c1", .ip = "10.0.0.9"};
	char *aliases[] = {"a", NULL}, *err = NULL;
	p.aliases = aliases;
	json_t *o = proto_network_connect_params_encode(&p, true);
	struct proto_network_connect_params d;
	is_int(proto_network_connect_params_decode(o, true, &d, &err), 0, "connect params round trip");
	ok(strcmp(d.network, "n1") == 0 && strcmp(d.container, "c1") == 0 && strcmp(d.ip, "10.0.0.9") == 0 &&
	       d.aliases && strcmp(d.aliases[0], "a") == 0,
	   "every member back");
	proto_network_connect_params_done(&d);
	is_int(proto_network_connect_params_decode(o, false, &d, &err), -EINVAL,
	       "disconnect refuses connect's members");
	ok(err && strstr(err, "unknown field"), "naming the unknown field: %s", err ? err : "");
	free(err);
	err = NULL;
	json_decref(o);
	o = json_pack("{s:s, s:s, s:b}", "network", "n1", "container", "c1", "force", 1);
	is_int(proto_network_connect_params_decode(o, false, &d, NULL), 0, "disconnect params");
	ok(d.force, "force");
	proto_network_connect_params_done(&d);
	json_decref(o);
	o = json_pack("{s:s}", "network", "n1");
	is_int(proto_network_connect_params_decode(o, true, &d, NULL), -EINVAL, "container is required");
	json_decref(o);
}

int main(void)
{
	test_run_params();
	test_connect_params();
	return tap_done();
}
