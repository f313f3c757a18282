/*
 * routes_network.h - /v1/networks/<name>/forwards[/<hostport>]
 * (routes_network.c), hooked into the network routes of routes.c.
 */
#ifndef GR_API_ROUTES_NETWORK_H
#define GR_API_ROUTES_NETWORK_H

#include "api/api-internal.h"

/* seg[0..n-1] = "v1","networks",NAME,"forwards",...; n >= 4. */
enum MHD_Result gr__api_network_forwards(struct gr_api *a, struct MHD_Connection *conn, const char *method,
					 char **seg, int n, const char *body, size_t len);

/* /v1/instances/NAME/net-limit: GET, PUT {"limit"?, "in"?, "out"?}. */
enum MHD_Result gr__api_instance_net_limit(struct gr_api *a, struct MHD_Connection *conn, const char *method,
					   const char *name, const char *body, size_t len);

#endif
