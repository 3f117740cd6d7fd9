/* network.connect and network.disconnect, and the network settings of container.run params in
 * the domain's terms (daemon/container-network.h). */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "daemon/api-internal.h"
#include "daemon/container-network.h"
#include "daemon/container.h"
#include "daemon/network.h"
#include "daemon/registry.h"
#include "daemon/server.h"
#include "protocol/endpoint.h"

void api_endpoint_config_from_params(struct proto_run_params *p, struct container_config *cfg)
{
	cfg->network_aliases = TAKE_PTR(p->network_aliases);
	cfg->ip = TAKE_PTR(p->ip);
	cfg->extra_hosts = TAKE_PTR(p->extra_hosts);
	cfg->dns = TAKE_PTR(p->dns);
	cfg->dns_search = TAKE_PTR(p->dns_search);
	cfg->dns_options = TAKE_PTR(p->dns_options);
}

static void connect_or_disconnect(struct api *api, struct conn *c, struct proto_request *req, bool connect)
{
	struct proto_network_connect_params p;
	_cleanup_free_ char *err = NULL;
	if (!api_expect_no_fds(c, req))
		return;
	int r = proto_network_connect_params_decode(req->params, connect, &p, &err);
	if (r < 0) {
		api_reply_params_error(c, req->id, r, err);
		return;
	}
	struct network *n = api->reg->networks ? network_lookup(api->reg->networks, p.network) : NULL;
	struct container *ct = n ? api_lookup(api, c, req, p.container) : NULL;
	if (!n)
		conn_send_error(c, req->id, PROTO_E_NOT_FOUND, NULL, "network %s not found", p.network);
	if (!ct) {
		proto_network_connect_params_done(&p);
		return;
	}
	r = connect ? container_network_connect(ct, n, p.aliases, p.ip, &err)
		    : container_network_disconnect(ct, n, p.force, &err);
	if (r < 0)
		api_reply_errno(c, req->id, r, err);
	else
		conn_send_result(c, req->id, NULL, NULL, 0);
	proto_network_connect_params_done(&p);
}

void api_network_connect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	connect_or_disconnect(api, c, req, true);
}

void api_network_disconnect(struct api *api, struct conn *c, struct proto_request *req, struct wire_msg *msg)
{
	connect_or_disconnect(api, c, req, false);
}
