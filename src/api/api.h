/*
 * api.h - gureum's REST API: the server (in gureumd) and the client (in the
 * `gureum` CLI).
 *
 * Server: libmicrohttpd, one thread per connection (handlers may block on
 * host work; the daemon's own loop stays free), on a root-only unix socket
 * and optionally on TCP with TLS (GnuTLS via libmicrohttpd) where every
 * request needs "Authorization: Bearer <token>" from the token file.  Routes
 * are under /v1/ plus /metrics; see docs/API.md.  Errors are
 * {"error":{"code":"EINVAL","message":"..."}} with gr_error_http_status().
 *
 * Client: libcurl (CURLOPT_UNIX_SOCKET_PATH for the local socket).
 */
#ifndef GR_API_API_H
#define GR_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "util/error.h"

struct gr_control;
struct gr_peer_identity;

#define GR_API_MAX_BODY (1u << 20)   /* request bodies above this get 413 */
#define GR_VERSION "0.1.0"           /* gureum's version: `gureum version`, GET /v1 */
#define GR_API_VERSION "v1"          /* the API's version (its path prefix) */

struct gr_api_opts {
	const char *unix_path;      /* e.g. /run/gureum/gureum.sock (mode 0600); NULL = none */
	const char *tcp_addr;       /* "127.0.0.1:8443"; NULL = no TCP */
	const char *tls_cert;       /* PEM files; both required with tcp_addr unless tls_off */
	const char *tls_key;
	bool tls_off;               /* plain HTTP on TCP (benchmarks only); tokens still required */
	const char *tokens_file;    /* lines "<token> <role>", role admin|viewer */
	const struct gr_peer_identity *peer_id; /* the peer channel's identity (api/peer.h): calls
				     * on an instance another host holds are forwarded to it as
				     * this host; NULL = no forwarding.  Must outlive the API. */
};

struct gr_api;

int gr_api_start(const struct gr_api_opts *o, struct gr_control *c, struct gr_api **out,
		 gr_error_t *err);
void gr_api_stop(struct gr_api *a);

/* Token store: parse "<token> <role>" lines ('#' comments).  role of a token
 * or NULL.  Exposed for unit tests. */
struct gr_tokens;
int gr_tokens_load(const char *path, struct gr_tokens **out, gr_error_t *err);
const char *gr_tokens_role(const struct gr_tokens *t, const char *token);
void gr_tokens_free(struct gr_tokens *t);
/* May role do method on path?  viewer: GET/HEAD only; admin: all. */
bool gr_api_role_allows(const char *role, const char *method);

/* Route matching, exposed for unit tests: split "/v1/instances/web1/state"
 * into at most max segments (pointers into buf).  Returns count or -1. */
int gr_api_split_path(char *buf, char **seg, int max);

/* ---- client ---- */
struct gr_client {
	char *unix_path;            /* used when url is NULL */
	char *url;                  /* https://host:port */
	char *token;
	char *cacert;               /* CA file for TLS */
	bool insecure;              /* skip TLS verification */
	long timeout_s;             /* give up on a request after this long; 0 = never (streams: never) */
};

/* Fill from environment: GUREUM_SOCKET, GUREUM_URL, GUREUM_TOKEN, GUREUM_CACERT,
 * GUREUM_TIMEOUT (seconds; a value that is not a count of seconds is ignored). */
void gr_client_init(struct gr_client *c);
void gr_client_clear(struct gr_client *c);
/* One request.  body may be NULL.  *resp gets the parsed JSON answer (or
 * NULL when the answer was not JSON); *status the HTTP status.  Fails only
 * when no whole answer came; the message then says why in the user's words
 * and names the socket or URL: no socket, permission denied, nothing listens,
 * the daemon closed the connection before answering or in the middle, timed
 * out, TLS.  err->code classifies it: ENOENT (no socket), EACCES,
 * ECONNREFUSED (nothing listens), ENOTSOCK, ECONNRESET (closed or cut),
 * ETIMEDOUT, EPROTO (TLS), EFBIG (answer over 64 MiB), else EIO. */
int gr_client_request(const struct gr_client *c, const char *method, const char *path,
		      json_t *body, long *status, json_t **resp, gr_error_t *err);
/* Receives a streamed answer's bytes as they arrive; < 0 stops the stream. */
typedef int (*gr_client_data_fn)(const char *p, size_t n, void *ud);
/* Stream a 2xx answer's body to fn as it arrives (logs, events), with no
 * timeout.  Another status's body is not streamed: it is parsed into
 * *error_resp (may be NULL) for gr_client_error_message().  Fails as
 * gr_client_request does (a stream cut by the daemon is ECONNRESET). */
int gr_client_stream(const struct gr_client *c, const char *method, const char *path,
		     json_t *body, gr_client_data_fn fn, void *ud, long *status,
		     json_t **error_resp, gr_error_t *err);
/* A websocket session (GET path with Upgrade: websocket; see ws.h for the
 * exec protocol).  recv: 1 a frame (*p malloc'd) / 0 nothing yet (poll the fd)
 * / -1 closed or protocol error. */
struct gr_client_ws;
int gr_client_ws_open(const struct gr_client *c, const char *path, struct gr_client_ws **out,
		      gr_error_t *err);
int gr_client_ws_fd(const struct gr_client_ws *w);
int gr_client_ws_send(struct gr_client_ws *w, unsigned char op, const void *data, size_t len,
		      gr_error_t *err);
int gr_client_ws_recv(struct gr_client_ws *w, unsigned char *op, unsigned char **p, size_t *n,
		      gr_error_t *err);
void gr_client_ws_close(struct gr_client_ws *w);
/* "message" of an error answer, or a generic text for the status. */
const char *gr_client_error_message(json_t *resp, long status);

#endif
