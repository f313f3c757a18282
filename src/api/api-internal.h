/*
 * api-internal.h - shared between the API server's files (server.c, routes.c,
 * tokens.c).  Not for other modules.
 */
#ifndef GR_API_INTERNAL_H
#define GR_API_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "api/api.h"

struct gr_peer_identity;

#define GR_API_LAT_BUCKETS 8

struct gr_api {
	struct gr_control *control;
	struct MHD_Daemon *unix_mhd, *tcp_mhd;
	char *unix_path;
	struct gr_tokens *tokens;
	char *cert, *key;
	const struct gr_peer_identity *peer_id; /* forwards as this host; NULL: no peer channel */
	atomic_bool stopping;
	atomic_ullong lat_bucket[GR_API_LAT_BUCKETS];
	atomic_ullong lat_count, lat_sum_us;
};

/* forwarded: the request came over the peer channel (peer.c) and is acted on here, never
 * forwarded again. */
enum MHD_Result gr__api_route(struct gr_api *a, struct MHD_Connection *conn, const char *method,
			      const char *url, const char *body, size_t len, bool forwarded);
/* Relay the request to host, which holds the instance, over the peer channel (forward.c);
 * peer: host's record's "peer" object. */
enum MHD_Result gr__api_forward(struct gr_api *a, struct MHD_Connection *conn, const char *method,
				const char *url, const char *body, size_t len, const char *host,
				const json_t *peer);
/* The daemon stops: forwarded streams end (at most a second later). */
void gr__api_forward_stop(void);
enum MHD_Result gr__api_reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
			      char *body, size_t len);
/* Steals j. */
enum MHD_Result gr__api_reply_json(struct MHD_Connection *conn, unsigned status, json_t *j);
enum MHD_Result gr__api_reply_error(struct MHD_Connection *conn, const gr_error_t *err);
/* The same with error.<key> = extra (stolen; e.g. the instance a failed launch kept). */
enum MHD_Result gr__api_reply_error_with(struct MHD_Connection *conn, const gr_error_t *err,
					 const char *key, json_t *extra);
enum MHD_Result gr__api_fail(struct MHD_Connection *conn, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
char *gr__api_latency_metrics(struct gr_api *a);
/* GET /v1/instances/NAME/exec with Upgrade: websocket (ws_exec.c). */
enum MHD_Result gr__api_exec_upgrade(struct gr_api *a, struct MHD_Connection *conn, const char *name);
enum MHD_Result gr__api_console_upgrade(struct gr_api *a, struct MHD_Connection *conn,
					const char *name);

/* A request body as a JSON object (routes.c): none is an empty object, or
 * EINVAL when required; anything but a JSON object is EINVAL naming why. */
json_t *gr__api_body(const char *body, size_t len, bool required, gr_error_t *err);

/* The web console (ui.c, docs/WEB.md).  url is /ui or under /ui/: serve the console's
 * files (no token needed). */
bool gr__api_is_ui(const char *url);
enum MHD_Result gr__api_ui(struct MHD_Connection *conn, const char *method, const char *url);
/* GET /v1/token: {"role": role}. */
enum MHD_Result gr__api_token_info(struct MHD_Connection *conn, const char *method,
				   const char *role);
/* "gureum.v1" when the client offered that websocket subprotocol (the server must then
 * select it), else NULL. */
const char *gr__api_ws_protocol(struct MHD_Connection *conn);
/* The token a browser offered as subprotocol "bearer.gureum.<base64url>" (beside
 * "gureum.v1"), malloc'd, or NULL. */
char *gr__api_ws_token(struct MHD_Connection *conn);
/* The same on a Sec-WebSocket-Protocol value (NULL: none), pure, for tests and fuzzing:
 * does it offer "gureum.v1"; the token of its "bearer.gureum.<base64url>" item (malloc'd;
 * NULL when missing, without "gureum.v1", not canonical base64url, empty or holding a NUL). */
bool gr__api_ws_offers_protocol(const char *protocols);
char *gr__api_ws_bearer(const char *protocols);

/* routes_move.c: POST /v1/instances/NAME/move (a live move, docs/MIGRATION.md). */
enum MHD_Result gr__api_move(struct gr_api *a, struct MHD_Connection *conn, const char *m, const char *name,
			     const char *body, size_t len);

#endif
