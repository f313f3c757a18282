/*
 * routes_history.c - the metric history of an instance or a host (docs/API.md
 * "Metric history"; the rings are the control layer's, src/control/history.c):
 *   GET /v1/instances/NAME/metrics/history[?range=hour|day]
 *   GET /v1/hosts/NAME/metrics/history[?range=hour|day]
 *     200 {"instance"|"host": NAME, "range", "step", "time": [..], "cpu": [..], "memory": [..]}
 */
#include "api/routes_history.h"

#include <errno.h>
#include <string.h>
#include "control/control.h"

enum MHD_Result gr__api_history(struct gr_api *a, struct MHD_Connection *conn, const char *method,
				const char *kind, const char *name)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return gr__api_fail(conn, EINVAL, "%s .../metrics/history: method not allowed", method);
	const char *range = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "range");
	gr_error_t err;
	json_t *out = NULL;
	if (gr_control_history(a->control, kind, name, range, &out, &err) < 0)
		return gr__api_reply_error(conn, &err);
	return gr__api_reply_json(conn, 200, out);
}
