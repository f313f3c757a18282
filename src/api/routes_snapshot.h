/*
 * routes_snapshot.h - /v1/instances/<name>/snapshots[/<snap>[/restore]]
 * (routes_snapshot.c), hooked into the instance routes of routes.c.
 */
#ifndef GR_API_ROUTES_SNAPSHOT_H
#define GR_API_ROUTES_SNAPSHOT_H

#include "api/api-internal.h"

/* seg[0..n-1] = "v1","instances",NAME,"snapshots",...; n >= 4. */
enum MHD_Result gr__api_snapshots(struct gr_api *a, struct MHD_Connection *conn, const char *method,
				  char **seg, int n, const char *body, size_t len);

#endif
