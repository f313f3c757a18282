/*
 * etcd-internal.h - shared between the files of the etcd back-end:
 *   etcd.c        the struct gr_store_ops table, URL options, the operations;
 *   etcd_watch.c  the change feed (changes_since) and the subscriber watch thread;
 *   etcd_http.c   HTTP to the etcd 3.4 JSON gateway through libcurl: endpoints,
 *                 fail-over, TLS, auth token, unary and streaming calls;
 *   etcd_json.c   request bodies and reply parsers (pure; fuzzed by
 *                 fuzz/store_etcd_reply.c).
 * Not part of the public API.
 *
 * Revisions: etcd's first revision (an empty cluster) is 1, the interface's is
 * 0 ("0 for an empty, never-written store").  Every revision crossing the wire
 * is shifted by one here (ours = etcd's - 1), so a fresh cluster and a fresh
 * SQLite file give the same numbers; etcdctl shows one more.
 *
 * Compaction: etcd compacted at C keeps every revision after C whole, but may
 * drop revision C's DELETE events (a key's last tombstone).  The interface's
 * compact(R) keeps revision R whole, so it compacts etcd at R (our R - 1):
 * etcd's compact revision C is our compact revision as it stands, and a feed
 * from our S watches from etcd S (one revision early, dropped) so that etcd
 * itself refuses exactly the starts below our compact revision.
 */
#ifndef GR_STORE_ETCD_INTERNAL_H
#define GR_STORE_ETCD_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

/* ours <-> etcd's revision numbers (0 stays 0: "absent" / "from now"). */
static inline int64_t gr__etcd_rev_in(int64_t etcd_rev) { return etcd_rev > 0 ? etcd_rev - 1 : 0; }
static inline int64_t gr__etcd_rev_out(int64_t rev) { return rev > 0 ? rev + 1 : rev; }

/* gRPC status codes the gateway reports (google.golang.org/grpc/codes). */
enum {
	GR__GRPC_CANCELED = 1, GR__GRPC_UNKNOWN = 2, GR__GRPC_INVALID_ARGUMENT = 3,
	GR__GRPC_DEADLINE = 4, GR__GRPC_NOT_FOUND = 5, GR__GRPC_ALREADY_EXISTS = 6,
	GR__GRPC_PERMISSION_DENIED = 7, GR__GRPC_RESOURCE_EXHAUSTED = 8,
	GR__GRPC_FAILED_PRECONDITION = 9, GR__GRPC_ABORTED = 10, GR__GRPC_OUT_OF_RANGE = 11,
	GR__GRPC_UNIMPLEMENTED = 12, GR__GRPC_INTERNAL = 13, GR__GRPC_UNAVAILABLE = 14,
	GR__GRPC_UNAUTHENTICATED = 16,
};

/* ---- etcd_json.c: bodies and replies ---------------------------------------------- */

/* Base64 (standard alphabet, padded), as protobuf's JSON mapping writes bytes. */
char *gr__etcd_b64(const void *data, size_t len);
/* Strict decode (padding optional, no whitespace); NUL-terminated malloc'd
 * result.  -1 on a bad character or length. */
int gr__etcd_unb64(const char *s, size_t slen, char **out, size_t *len);
/* The first key past every key starting with prefix: prefix with its last
 * non-0xff byte incremented; "" when there is none (then range_end is "\0",
 * etcd's "no upper bound").  *len gets its length. */
char *gr__etcd_prefix_end(const char *prefix, size_t *len);

/* Request bodies (malloc'd JSON text). */
char *gr__etcd_req_range(const char *prefix, const char *start_after, size_t limit, bool keys_only);
char *gr__etcd_req_get(const char *key);
char *gr__etcd_req_txn(const struct gr_store_txn *txn);
char *gr__etcd_req_watch(int64_t start_rev);

/* An error reply ({"error", "code", "message"} from a unary call, or a
 * stream's {"error": {"grpc_code", "message", ...}}).  1 when body is one
 * (code, msg filled), 0 when it is not. */
int gr__etcd_parse_error(const char *body, size_t len, int *code, char *msg, size_t msg_size);

/* Reply parsers: -1 with EPROTO and a message naming the field on anything
 * malformed; revisions are ours (shifted).  Outputs are owned by the caller
 * and cleared on failure. */
int gr__etcd_parse_header(const char *body, size_t len, int64_t *revision, gr_error_t *err);
int gr__etcd_parse_range(const char *body, size_t len, bool keys_only, struct gr_kv_list *out,
			 gr_error_t *err);
int gr__etcd_parse_txn(const char *body, size_t len, struct gr_store_txn_result *res,
		       gr_error_t *err);
/* grant: {"ID", "TTL"} (TTL 0 or an "error" member means refused: EIO naming it). */
int gr__etcd_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl, gr_error_t *err);
/* timetolive {"ID","TTL","grantedTTL"} or a keepalive stream line {"result": {...}}:
 * *ttl is what is left (-1 / 0 when gone), *granted the granted TTL. */
int gr__etcd_parse_lease(const char *body, size_t len, bool stream, int64_t *ttl, int64_t *granted,
			 gr_error_t *err);
int gr__etcd_parse_auth(const char *body, size_t len, char **token, gr_error_t *err);

struct gr__etcd_watch_msg {
	bool created, canceled;
	int64_t revision;          /* header revision (ours) */
	int64_t compact_revision;  /* etcd's number as is (see below); 0 when the reply has none */
	char reason[160];          /* cancel_reason */
	struct gr_store_event *events;
	size_t n;
};
/* One line of the /v3/watch stream ({"result": WatchResponse}). */
int gr__etcd_parse_watch(const char *line, size_t len, struct gr__etcd_watch_msg *m, gr_error_t *err);
void gr__etcd_watch_msg_clear(struct gr__etcd_watch_msg *m);

/* ---- etcd_http.c: the client ------------------------------------------------------- */

struct gr__etcd {
	/* configuration (immutable after open) */
	char **endpoints;          /* "host:port" */
	size_t n_endpoints;
	bool tls;
	char *cacert, *cert, *key; /* file paths, may be NULL */
	char *user, *password;     /* user/password auth, may be NULL */
	int timeout_ms;            /* one request, fail-over included */
	int64_t history;           /* revisions kept by tick's compaction; 0 = none */

	pthread_mutex_t mu;        /* guards the fields below (the watch thread reads them) */
	size_t current;            /* endpoint in use */
	char *token;               /* auth token, NULL = none */
	bool static_token;         /* given in the URL: never re-authenticated */
	int64_t own_rev;           /* highest revision committed through this handle */
	int64_t known_compact;     /* highest compact revision seen (ours), >= 1 */
	bool external_seen;        /* the watch thread saw another writer since the last tick */
	bool barrier;              /* a member failed: next write waits for a linearizable read */
	int writers;               /* writes through this handle in flight */
	int64_t pending_rev;       /* events the watch thread saw during that write */
	int64_t woken_rev;         /* highest revision subscribers were woken for */

	uint64_t commits;          /* writes through this handle that changed keys */
	int64_t tick_rev;          /* revision at the last tick */

	/* Easy handles for unary calls and short streams, checked out by the
	 * calling thread for one call (gr__etcd_curl_get/put): each keeps its
	 * connection to the member alive between calls, so threads talk to etcd
	 * at the same time instead of taking turns on one connection. */
	pthread_mutex_t pool_mu;
	CURL **idle;
	size_t n_idle;

	/* The subscriber watch's events, kept (etcd_watch.c): every event of the
	 * revisions log_from..log_hw (ours), so changes_since from there is served
	 * from memory instead of a watch from a past revision, which etcd answers
	 * from its 100 ms sync loop.  log_from 0 = nothing kept.  Under log_mu;
	 * log_cond is signalled when log_hw moves or the log is reset. */
	pthread_mutex_t log_mu;
	pthread_cond_t log_cond;
	struct gr_store_event *log;
	size_t log_n, log_cap, log_bytes;
	int64_t log_from, log_hw;

	/* subscriber watch (etcd_watch.c) */
	pthread_t watch_thread;
	bool watching;
	atomic_bool watch_stop;
	CURLM *watch_multi;
	void (*wake)(void *ctx);
	void *wake_ctx;
};

/* A line of a streamed reply: 0 go on, 1 stop (done), -1 error (err set). */
typedef int (*gr__etcd_line_fn)(void *ud, const char *line, size_t len, gr_error_t *err);

struct gr__etcd_buf {
	char *data;
	size_t len, cap;
};
void gr__etcd_buf_free(struct gr__etcd_buf *b);

int gr__etcd_http_init(gr_error_t *err);
/* A configured easy handle (TLS files, headers are set per call). */
CURL *gr__etcd_curl_new(struct gr__etcd *e, gr_error_t *err);
/* Check a handle out of e's pool (a new one when none is idle; NULL with err
 * set when libcurl cannot make one) and give it back after the call: a
 * handle is used by one thread at a time.  Up to GR__ETCD_IDLE_MAX idle
 * handles (and their connections) are kept; more are closed. */
#define GR__ETCD_IDLE_MAX 16
CURL *gr__etcd_curl_get(struct gr__etcd *e, gr_error_t *err);
void gr__etcd_curl_put(struct gr__etcd *e, CURL *curl);
/* Close every idle handle (at close). */
void gr__etcd_curl_pool_free(struct gr__etcd *e);

/* POST body to path on the endpoint in use (curl NULL: a handle of the pool), failing over to the next member
 * when the request certainly did not reach etcd (connect refused, TLS
 * handshake, no leader), or for any transport failure when idempotent, until
 * timeout_ms is spent.  An error reply becomes err (ENOENT, EEXIST, EINVAL,
 * ESTALE, EACCES, EMSGSIZE, ... with etcd's message); a non-idempotent call
 * cut off after sending is ECONNRESET / ETIMEDOUT "outcome unknown".
 * reply gets a 200 body. */
int gr__etcd_call(struct gr__etcd *e, CURL *curl, const char *path, const char *body,
		  bool idempotent, struct gr__etcd_buf *reply, gr_error_t *err);
/* A streamed POST (watch, keepalive): fn gets each line until it returns 1,
 * the server ends the stream, or *stop becomes true (may be NULL).
 * timeout_ms 0 = none; multi (may be NULL) is used so curl_multi_wakeup()
 * can interrupt.  Fails over like gr__etcd_call before the first line only;
 * *got_line (may be NULL) tells whether any line arrived. */
int gr__etcd_stream(struct gr__etcd *e, CURL *curl, CURLM *multi, const char *path,
		    const char *body, int timeout_ms, atomic_bool *stop, gr__etcd_line_fn fn,
		    void *ud, bool *got_line, gr_error_t *err);
int gr__etcd_authenticate(struct gr__etcd *e, gr_error_t *err);
/* Map a gateway error (gRPC code + message) to errno and fill err. */
int gr__etcd_error(int code, const char *msg, const char *what, gr_error_t *err);

/* ---- etcd_watch.c ------------------------------------------------------------------ */

int gr__etcd_changes_since(void *be, int64_t from_rev, const char *prefix, size_t limit,
			   struct gr_store_events *out, gr_error_t *err);
int gr__etcd_watch(void *be, void (*wake)(void *ctx), void *ctx, gr_error_t *err);
void gr__etcd_watch_stop(struct gr__etcd *e);
/* Free the kept events (at close, after the watch thread stopped). */
void gr__etcd_log_free(struct gr__etcd *e);
/* Around a write through the unary handle: tells the watch thread which
 * revisions are this handle's own (no wake-up for those). */
void gr__etcd_write_begin(struct gr__etcd *e);
void gr__etcd_write_end(struct gr__etcd *e, int64_t rev, bool changed);

extern const struct gr_store_ops gr__store_etcd_ops, gr__store_etcds_ops;

#endif
