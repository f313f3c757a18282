/*
 * routes_snapshot.c - the snapshot routes (docs/API.md "Snapshots"):
 *   GET    /v1/instances/NAME/snapshots                 200 {"snapshots":[...]}
 *   POST   /v1/instances/NAME/snapshots                 202 operation  {"name","memory","stop"}
 *   GET    /v1/instances/NAME/snapshots/SNAP            200 record
 *   DELETE /v1/instances/NAME/snapshots/SNAP            200 {"deleted": SNAP}
 *   POST   /v1/instances/NAME/snapshots/SNAP/restore    202 operation  {"stop"}
 * Create and restore answer the running operation at once; the work runs
 * on a control worker thread.  All checks and messages are the control
 * layer's (src/control/snapshot.c); this file only maps HTTP onto it.
 */
#include "api/routes_snapshot.h"

#include <errno.h>
#include <string.h>
#include "control/snapshot.h"

enum MHD_Result gr__api_snapshots(struct gr_api *a, struct MHD_Connection *conn, const char *m,
				  char **seg, int n, const char *body, size_t len)
{
	struct gr_control *c = a->control;
	const char *inst = seg[2];
	gr_error_t err;
	json_t *out = NULL;
	if (n == 4 && !strcmp(m, "GET")) {
		if (gr_control_snapshot_list(c, inst, &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if ((n == 4 && !strcmp(m, "POST")) || (n == 6 && !strcmp(seg[5], "restore") && !strcmp(m, "POST"))) {
		json_t *req = gr__api_body(body, len, false, &err);
		if (!req)
			return gr__api_reply_error(conn, &err);
		int r = n == 4 ? gr_control_snapshot_create(c, inst, req, &out, &err)
			       : gr_control_snapshot_restore(c, inst, seg[4], req, &out, &err);
		json_decref(req);
		if (r < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 202, out);
	}
	if (n == 5 && !strcmp(m, "GET")) {
		if (gr_control_snapshot_get(c, inst, seg[4], &out, &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, out);
	}
	if (n == 5 && !strcmp(m, "DELETE")) {
		if (gr_control_snapshot_delete(c, inst, seg[4], &err) < 0)
			return gr__api_reply_error(conn, &err);
		return gr__api_reply_json(conn, 200, json_pack("{s:s}", "deleted", seg[4]));
	}
	if (n == 4 || n == 5 || (n == 6 && !strcmp(seg[5], "restore")))
		return gr__api_fail(conn, EINVAL, "%s: method not allowed on this snapshot resource", m);
	return gr__api_fail(conn, ENOENT, "no such resource under /v1/instances/%s/snapshots", inst);
}
