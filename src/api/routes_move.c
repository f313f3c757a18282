/*
 * routes_move.c - POST /v1/instances/NAME/move {"target","bandwidth","max_downtime_ms"}:
 * a live move of a running VM to another pool host (docs/MIGRATION.md).  202 with the
 * running operation ("move"; its progress has phase, bytes_done, bytes_total, remaining,
 * dirty_rate, expected_downtime_ms; its result host, downtime_ms, total_s).  Every check and
 * message is the control layer's (src/control/move.c); the call reaches the instance's own
 * host (routes.c forwards it there first).
 */
#include "api/api-internal.h"

#include <errno.h>
#include <string.h>
#include "control/control.h"

enum MHD_Result gr__api_move(struct gr_api *a, struct MHD_Connection *conn, const char *m, const char *name,
			     const char *body, size_t len)
{
	gr_error_t err;
	if (strcmp(m, "POST"))
		return gr__api_fail(conn, EINVAL, "%s /v1/instances/NAME/move: method not allowed (POST)", m);
	json_t *req = gr__api_body(body, len, true, &err);
	if (!req)
		return gr__api_reply_error(conn, &err);
	json_t *op = NULL;
	int r = gr_control_instance_move(a->control, name, req, &op, &err);
	json_decref(req);
	if (r < 0)
		return gr__api_reply_error(conn, &err);
	return gr__api_reply_json(conn, 202, op);
}
