/*
 * routes_hosts.h - /v1/hosts[/<name>[/evacuate|/restore]] and /v1/cluster[/join|/leave]
 * (routes_hosts.c),
 * hooked into gr__api_route of routes.c.
 */
#ifndef GR_API_ROUTES_HOSTS_H
#define GR_API_ROUTES_HOSTS_H

#include "api/api-internal.h"

/* seg[0..n-1] = "v1","cluster",...; n >= 2. */
enum MHD_Result gr__api_cluster(struct gr_api *a, struct MHD_Connection *conn, const char *method,
				char **seg, int n, const char *body, size_t len);
/* seg[0..n-1] = "v1","hosts",...; n >= 2. */
enum MHD_Result gr__api_hosts(struct gr_api *a, struct MHD_Connection *conn, const char *method,
			      char **seg, int n);

#endif
