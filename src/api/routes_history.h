/*
 * routes_history.h - GET /v1/instances/NAME/metrics/history and
 * GET /v1/hosts/NAME/metrics/history[?range=hour|day] (routes_history.c),
 * hooked into routes.c and routes_hosts.c.
 */
#ifndef GR_API_ROUTES_HISTORY_H
#define GR_API_ROUTES_HISTORY_H

#include "api/api-internal.h"

/* kind "instance" or "host" */
enum MHD_Result gr__api_history(struct gr_api *a, struct MHD_Connection *conn, const char *method,
				const char *kind, const char *name);

#endif
