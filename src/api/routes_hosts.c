/*
 * routes_hosts.c - the host routes (docs/API.md "Hosts", docs/CLUSTER.md):
 *   GET  /v1/hosts                 200 {"hosts":[...]}
 *   GET  /v1/hosts/NAME            200 host
 *   POST /v1/hosts/NAME/evacuate   501 not implemented yet (needs migration)
 *   POST /v1/hosts/NAME/restore    501 likewise
 *   GET  /v1/cluster               200 the pool record (404 none)
 *   POST /v1/cluster               201 {"id","token"}: init (the token shown once)
 *   POST /v1/cluster/join          200 {"address","token"} -> {"joined",...}; 403 wrong token
 *   POST /v1/cluster/leave         200 {"left",...}
 *   GET  /v1/cluster/config        200 {"placement.policy"}: the pool's settings
 *   PUT  /v1/cluster/config        200 the same, after merging the body's settings
 * The documents are the control layer's (src/control/hosts.c, cluster.c).
 */
#include "api/routes_hosts.h"
#include "api/routes_history.h"

#include <errno.h>
#include <string.h>
#include "control/control.h"

enum MHD_Result gr__api_cluster(struct gr_api *a, struct MHD_Connection *conn, const char *method,
				char **seg, int n, const char *body, size_t len)
{
	gr_error_t err;
	json_t *out = NULL;
	int r;
	if (n == 2 && !strcmp(method, "GET"))
		r = gr_control_cluster_get(a->control, &out, &err);
	else if (n == 2 && !strcmp(method, "POST"))
		r = gr_control_cluster_init(a->control, &out, &err);
	else if (n == 3 && !strcmp(method, "POST") && !strcmp(seg[2], "leave"))
		r = gr_control_cluster_leave(a->control, &out, &err);
	else if (n == 3 && !strcmp(seg[2], "config") && !strcmp(method, "GET"))
		r = gr_control_cluster_settings(a->control, NULL, &out, &err);
	else if (n == 3 && !strcmp(seg[2], "config") &&
		 (!strcmp(method, "PUT") || !strcmp(method, "PATCH") || !strcmp(method, "POST"))) {
		json_error_t je;
		json_t *req = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
		if (!json_is_object(req)) {
			json_decref(req);
			return gr__api_fail(conn, EINVAL, "body: expected a JSON object {\"placement.policy\": NAME}");
		}
		r = gr_control_cluster_settings(a->control, req, &out, &err);
		json_decref(req);
	} else if (n == 3 && !strcmp(method, "POST") && !strcmp(seg[2], "join")) {
		json_error_t je;
		json_t *req = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
		if (!json_is_object(req)) {
			json_decref(req);
			return gr__api_fail(conn, EINVAL, "body: expected a JSON object {\"address\",\"token\"}");
		}
		r = gr_control_cluster_join(a->control, req, &out, &err);
		json_decref(req);
	} else
		return gr__api_fail(conn, ENOENT, "no such resource: %s /v1/cluster/...", method);
	if (r < 0)
		return gr__api_reply_error(conn, &err);
	return gr__api_reply_json(conn, n == 2 && !strcmp(method, "POST") ? 201 : 200, out);
}

enum MHD_Result gr__api_hosts(struct gr_api *a, struct MHD_Connection *conn, const char *method,
			      char **seg, int n)
{
	gr_error_t err;
	json_t *out = NULL;
	if (n == 4 && (!strcmp(seg[3], "evacuate") || !strcmp(seg[3], "restore"))) {
		if (strcmp(method, "POST"))
			return gr__api_fail(conn, EINVAL, "%s /v1/hosts/%s/%s: method not allowed", method,
					    seg[2], seg[3]);
		if (gr_control_host_get(a->control, seg[2], &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		json_decref(out);
		return gr__api_fail(conn, ENOSYS,
				    "host %s: not implemented yet (migration): instances cannot be moved "
				    "between hosts yet",
				    seg[3]);
	}
	if (n == 5 && !strcmp(seg[3], "metrics") && !strcmp(seg[4], "history"))
		return gr__api_history(a, conn, method, "host", seg[2]);
	if (strcmp(method, "GET"))
		return gr__api_fail(conn, EINVAL, "%s /v1/hosts: method not allowed", method);
	if (n == 2) {
		if (gr_control_host_list(a->control, &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n == 3) {
		if (gr_control_host_get(a->control, seg[2], &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	return gr__api_fail(conn, ENOENT, "no such resource: %s /v1/hosts/...", method);
}
