/*
 * routes_network.c - the port forward routes (docs/API.md "Networks"):
 *   GET    /v1/networks/NET/forwards                     200 {"forwards":[...]}
 *   POST   /v1/networks/NET/forwards                     201 the forward
 *          {"hostport", "instance", "port"[, "proto": "tcp"|"udp"]}
 *   DELETE /v1/networks/NET/forwards/HOSTPORT[?proto=tcp|udp]
 *                                                        200 {"deleted": HOSTPORT}
 *   GET    /v1/instances/NAME/net-limit                  200 {"instance","in","out"}
 *   PUT    /v1/instances/NAME/net-limit                  200 the same
 *          {"limit"?, "in"?, "out"?: "10mbit" | "none" | 0}
 * All checks and messages are the control layer's (src/control/netforward.c);
 * this file only maps HTTP onto it.
 */
#include "api/routes_network.h"

#include <errno.h>
#include <string.h>
#include "control/control.h"

enum MHD_Result gr__api_network_forwards(struct gr_api *a, struct MHD_Connection *conn, const char *m,
					 char **seg, int n, const char *body, size_t len)
{
	struct gr_control *c = a->control;
	gr_error_t err;
	json_t *out = NULL;
	if (n == 4 && !strcmp(m, "GET")) {
		if (gr_control_network_forward_list(c, seg[2], &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n == 4 && !strcmp(m, "POST")) {
		json_t *req = gr__api_body(body, len, true, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		int r = gr_control_network_forward_add(c, seg[2], req, &out, &err);
		json_decref(req);
		if (r < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 201, out);
	}
	if (n == 5 && !strcmp(m, "DELETE")) {
		const char *proto = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "proto");
		if (gr_control_network_forward_delete(c, seg[2], seg[4], proto, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, json_pack("{s:s}", "deleted", seg[4]));
	}
	return gr__api_fail(conn, ENOENT, "no such resource: %s /v1/networks/%s/forwards/...", m, seg[2]);
}

enum MHD_Result gr__api_instance_net_limit(struct gr_api *a, struct MHD_Connection *conn, const char *m,
					   const char *name, const char *body, size_t len)
{
	gr_error_t err;
	json_t *out = NULL;
	if (!strcmp(m, "GET")) {
		if (gr_control_instance_net_limit_get(a->control, name, &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (!strcmp(m, "PUT")) {
		json_t *req = gr__api_body(body, len, true, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		int r = gr_control_instance_net_limit_set(a->control, name, req, &out, &err);
		json_decref(req);
		if (r < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	return gr__api_fail(conn, EINVAL, "%s /v1/instances/%s/net-limit: method not allowed", m, name);
}
