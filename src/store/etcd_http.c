/*
 * etcd_http.c - the etcd back-end's HTTP client: POSTs to the etcd 3.4 v3
 * JSON gateway through libcurl, over the endpoints of the URL.
 *
 * Endpoint choice: the first endpoint of the URL that answers is used until it
 * fails; then the next one (round robin), within the request timeout (each
 * move is logged as a warning, naming both members and the failure).  A call
 * moves on to another member when the request certainly did not take effect:
 * the connection or TLS handshake failed, or etcd said so (no leader, proposal
 * dropped, too many requests).  Reads, watches and lease renewals are
 * idempotent and move on after any transport failure.  A write whose
 * connection broke after the request went out is not retried: it may or may
 * not have been applied, and the caller hears so (ECONNRESET / ETIMEDOUT,
 * "outcome unknown"), as from etcd's own client.
 *
 * Auth: a token from the URL is sent as is; with user/password the token comes
 * from /v3/auth/authenticate at open and again whenever etcd calls it invalid
 * (simple tokens expire after 5 idle minutes).
 *
 * Threads: the back-end is called by any number of threads at once (store.c
 * takes no lock around it).  A call checks an easy handle out of a small pool
 * (e->idle, under e->pool_mu), uses it alone and puts it back, so each thread's
 * request has a connection of its own, kept alive for the next call: nothing
 * waits for another thread's network round trip.  The watch thread has its
 * own handle.  e->mu guards the endpoint in use, the token and the revision
 * bookkeeping.  Consistency between threads is etcd's (every write is a txn
 * with its compares, reads are linearizable), not a lock's here.
 */
#include "store/etcd-internal.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define REPLY_MAX (512u << 20) /* bytes of one reply (a range over everything) */
#define LINE_MAX_BYTES (64u << 20)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc;

static void do_init(void)
{
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int gr__etcd_http_init(gr_error_t *err)
{
	pthread_once(&init_once, do_init);
	if (init_rc != CURLE_OK)
		return gr_error_set(err, EIO, "libcurl init: %s", curl_easy_strerror(init_rc));
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gr__etcd_buf_free(struct gr__etcd_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

static bool buf_add(struct gr__etcd_buf *b, const char *p, size_t n, size_t max)
{
	if (b->len + n > max)
		return false;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

CURL *gr__etcd_curl_new(struct gr__etcd *e, gr_error_t *err)
{
	CURL *c = curl_easy_init();
	if (!c) {
		gr_error_set(err, ENOMEM, "curl_easy_init failed");
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (e->tls) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
		if (e->cacert)
			curl_easy_setopt(c, CURLOPT_CAINFO, e->cacert);
		if (e->cert)
			curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert);
		if (e->key)
			curl_easy_setopt(c, CURLOPT_SSLKEY, e->key);
	}
	return c;
}

CURL *gr__etcd_curl_get(struct gr__etcd *e, gr_error_t *err)
{
	pthread_mutex_lock(&e->pool_mu);
	CURL *c = e->n_idle ? e->idle[--e->n_idle] : NULL;
	pthread_mutex_unlock(&e->pool_mu);
	return c ? c : gr__etcd_curl_new(e, err);
}

void gr__etcd_curl_put(struct gr__etcd *e, CURL *curl)
{
	if (!curl)
		return;
	pthread_mutex_lock(&e->pool_mu);
	if (e->n_idle < GR__ETCD_IDLE_MAX) {
		e->idle[e->n_idle++] = curl;
		curl = NULL;
	}
	pthread_mutex_unlock(&e->pool_mu);
	if (curl)
		curl_easy_cleanup(curl);
}

void gr__etcd_curl_pool_free(struct gr__etcd *e)
{
	pthread_mutex_lock(&e->pool_mu);
	for (size_t i = 0; i < e->n_idle; i++)
		curl_easy_cleanup(e->idle[i]);
	e->n_idle = 0;
	pthread_mutex_unlock(&e->pool_mu);
}

/* ---- errors ------------------------------------------------------------------------ */

int gr__etcd_error(int code, const char *msg, const char *what, gr_error_t *err)
{
	int e;
	if (strstr(msg, "lease not found"))
		e = ENOENT;
	else if (strstr(msg, "lease already exists"))
		e = EEXIST;
	else if (strstr(msg, "has been compacted"))
		e = ESTALE;
	else if (strstr(msg, "timed out"))
		e = ETIMEDOUT; /* a proposal may or may not have been applied */
	else if (strstr(msg, "future revision"))
		e = EINVAL;
	else if (strstr(msg, "too large") || strstr(msg, "message larger"))
		e = EMSGSIZE;
	else if (strstr(msg, "space exceeded"))
		e = ENOSPC; /* etcd's NOSPACE alarm: its quota is full until compaction + defrag */
	else if (strstr(msg, "too many operations"))
		e = E2BIG;
	else if (strstr(msg, "auth") || strstr(msg, "user name is empty") || strstr(msg, "permission denied") ||
		 strstr(msg, "CommonName")) /* etcd 3.4 with auth on: a client cert with a CN */
		e = EACCES;
	else {
		switch (code) {
		case GR__GRPC_INVALID_ARGUMENT: case GR__GRPC_OUT_OF_RANGE: e = EINVAL; break;
		case GR__GRPC_NOT_FOUND: e = ENOENT; break;
		case GR__GRPC_ALREADY_EXISTS: e = EEXIST; break;
		case GR__GRPC_PERMISSION_DENIED: case GR__GRPC_UNAUTHENTICATED: e = EACCES; break;
		case GR__GRPC_RESOURCE_EXHAUSTED: case GR__GRPC_UNAVAILABLE: e = EAGAIN; break;
		case GR__GRPC_DEADLINE: e = ETIMEDOUT; break;
		default: e = EIO;
		}
	}
	return gr_error_set(err, e, "%s: etcd: %s", what, msg);
}

/* etcd refused before proposing anything: safe to send again elsewhere. */
static bool not_applied(int code, const char *msg)
{
	return strstr(msg, "no leader") || strstr(msg, "proposal dropped") ||
	       strstr(msg, "too many requests") || strstr(msg, "not capable") ||
	       (code == GR__GRPC_UNAVAILABLE && strstr(msg, "connection refused"));
}

static bool bad_token(const char *msg)
{
	return strstr(msg, "invalid auth token") != NULL;
}

/* ---- one attempt ---------------------------------------------------------------------- */

struct xfer {
	struct gr__etcd_buf body;    /* unary reply, or a non-200 stream reply */
	struct gr__etcd_buf line;    /* stream: the line being assembled */
	CURL *curl;
	bool stream, overflow, done, failed, got_line;
	long status;
	char errbuf[CURL_ERROR_SIZE];
	gr__etcd_line_fn fn;
	void *ud;
	gr_error_t *err;
};

static int feed_line(struct xfer *x, const char *p, size_t n)
{
	while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (!n)
		return 0;
	x->got_line = true;
	int r = x->fn(x->ud, p, n, x->err);
	if (r < 0)
		x->failed = true;
	else if (r > 0)
		x->done = true;
	return r;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (!x->status)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (!x->stream || x->status != 200) {
		if (!buf_add(&x->body, p, n, REPLY_MAX)) {
			x->overflow = true;
			return 0;
		}
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		char *nl = memchr(p + i, '\n', n - i);
		size_t chunk = nl ? (size_t)(nl - (p + i)) : n - i;
		if (!buf_add(&x->line, p + i, chunk, LINE_MAX_BYTES)) {
			x->overflow = true;
			return 0;
		}
		i += chunk;
		if (!nl)
			break;
		int r = feed_line(x, x->line.data ? x->line.data : "", x->line.len);
		x->line.len = 0;
		if (r != 0)
			return 0; /* stop the transfer */
	}
	return n;
}

static struct curl_slist *headers(struct gr__etcd *e, bool with_token)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	pthread_mutex_lock(&e->mu);
	if (with_token && e->token) {
		char *t = xasprintf("Authorization: %s", e->token);
		h = curl_slist_append(h, t);
		free(t);
	}
	pthread_mutex_unlock(&e->mu);
	return h;
}

static size_t endpoint_in_use(struct gr__etcd *e)
{
	pthread_mutex_lock(&e->mu);
	size_t i = e->current;
	pthread_mutex_unlock(&e->mu);
	return i;
}

/* Move off endpoint from (unless another thread did already) and say so in
 * the log: an operator sees which member failed and where the daemon went. */
static void fail_over(struct gr__etcd *e, size_t from, const char *why)
{
	pthread_mutex_lock(&e->mu);
	bool moved = e->current == from && e->n_endpoints > 1;
	if (moved)
		e->current = (from + 1) % e->n_endpoints;
	size_t to = e->current;
	e->barrier = true;
	pthread_mutex_unlock(&e->mu);
	if (moved)
		gr_log_warn("etcd: endpoint failed over from %s to %s (%s)", e->endpoints[from],
			    e->endpoints[to], why);
}

static bool take_barrier(struct gr__etcd *e)
{
	pthread_mutex_lock(&e->mu);
	bool b = e->barrier;
	e->barrier = false;
	pthread_mutex_unlock(&e->mu);
	return b;
}

/* Run one request on endpoint idx.  Returns the curl code. */
static CURLcode attempt(struct gr__etcd *e, CURL *curl, CURLM *multi, size_t idx, const char *path,
			const char *body, int timeout_ms, int connect_ms, atomic_bool *stop,
			struct xfer *x, bool with_token)
{
	char url[512];
	snprintf(url, sizeof url, "%s://%s%s", e->tls ? "https" : "http", e->endpoints[idx], path);
	struct curl_slist *h = headers(e, with_token);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, x->errbuf);
	x->errbuf[0] = '\0';
	x->curl = curl;
	CURLcode rc;
	if (!multi) {
		rc = curl_easy_perform(curl);
	} else {
		rc = CURLE_OK;
		curl_multi_add_handle(multi, curl);
		int running = 1;
		while (running) {
			if (curl_multi_perform(multi, &running) != CURLM_OK) {
				rc = CURLE_RECV_ERROR;
				break;
			}
			if (!running || (stop && atomic_load(stop)))
				break;
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
			if (stop && atomic_load(stop))
				break;
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left)))
			if (m->msg == CURLMSG_DONE && m->easy_handle == curl)
				rc = m->data.result;
		curl_multi_remove_handle(multi, curl);
		if (running && stop && atomic_load(stop))
			x->done = true; /* interrupted on purpose */
	}
	curl_slist_free_all(h);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	if (!x->status)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->stream && rc == CURLE_OK && x->status == 200 && x->line.len && !x->done && !x->failed) {
		feed_line(x, x->line.data, x->line.len); /* last line without a newline */
		x->line.len = 0;
	}
	return rc;
}

static int authenticate(struct gr__etcd *e, CURL *curl, gr_error_t *err);

static bool tls_failure(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CIPHER ||
	       rc == CURLE_SSL_ISSUER_ERROR;
}

/* The request went out (so a write may have been applied). */
static bool request_sent(CURL *curl, CURLcode rc)
{
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE)
		return false;
	long sent = 0;
	curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
	return sent > 0;
}

/* deadline: CLOCK_MONOTONIC ms by which the call (fail-over included) ends. */
static int transfer(struct gr__etcd *e, CURL *curl, CURLM *multi, const char *path,
		    const char *body, bool idempotent, bool stream, int timeout_ms, int64_t deadline,
		    atomic_bool *stop, gr__etcd_line_fn fn, void *ud, struct gr__etcd_buf *reply,
		    bool *got_line, gr_error_t *err)
{
	int64_t start = now_ms(), budget = deadline - start;
	bool reauthed = false, is_auth = !strcmp(path, "/v3/auth/authenticate");
	char last[512] = "";
	bool tls_seen = false;
	int round = 0;
	for (size_t tries = 0;; tries++) {
		int64_t left = budget - (now_ms() - start);
		if (tries && left <= 0)
			break;
		if (left < 1)
			left = 1;
		/* After a fail-over, a write waits for a linearizable read to pass
		 * first: a member that still takes the dead one for its leader would
		 * forward the write into the void (outcome unknown); the read instead
		 * fails fast on the leader change and is retried. */
		if (!idempotent && take_barrier(e)) {
			struct gr__etcd_buf b = {0};
			int r = transfer(e, curl, NULL, "/v3/kv/range", "{\"key\":\"AA==\",\"count_only\":true}", true,
					 false, 0, deadline, NULL, NULL, NULL, &b, NULL, err);
			gr__etcd_buf_free(&b);
			if (r < 0)
				return gr_error_prefix(err, "waiting for a leader before %s", path);
			left = budget - (now_ms() - start);
			if (left < 1)
				left = 1;
		}
		size_t idx = endpoint_in_use(e);
		struct xfer x = { .stream = stream, .fn = fn, .ud = ud, .err = err };
		int connect_ms = (int)(left < 1000 ? left : left / 2 > 1000 ? left / 2 : 1000);
		/* An idempotent call gives a member half of what is left, so one that
		 * stalls (it lost its leader) is left for another in time. */
		int req_ms = stream ? timeout_ms
			     : (int)(idempotent && e->n_endpoints > 1 && left > 2000 ? left / 2 : left);
		CURLcode rc = attempt(e, curl, multi, idx, path, body, req_ms, connect_ms, stop, &x, !is_auth);
		if (got_line)
			*got_line = *got_line || x.got_line;
		if (x.failed) { /* the line handler said so; err is set */
			gr__etcd_buf_free(&x.body);
			gr__etcd_buf_free(&x.line);
			return -1;
		}
		if (x.overflow) {
			gr__etcd_buf_free(&x.body);
			gr__etcd_buf_free(&x.line);
			return gr_error_set(err, EMSGSIZE, "etcd %s %s: reply larger than %u MiB", e->endpoints[idx],
					    path, (stream ? LINE_MAX_BYTES : REPLY_MAX) >> 20);
		}
		if (x.done || (rc == CURLE_OK && x.status == 200) ||
		    (stream && x.got_line && rc != CURLE_OK && x.status == 200)) {
			gr__etcd_buf_free(&x.line);
			if (stream && !x.done && rc != CURLE_OK) {
				gr__etcd_buf_free(&x.body);
				return gr_error_set(err, ECONNRESET, "etcd %s %s: stream broken: %s", e->endpoints[idx],
						    path, curl_easy_strerror(rc));
			}
			if (reply)
				*reply = x.body;
			else
				gr__etcd_buf_free(&x.body);
			return 0;
		}
		gr__etcd_buf_free(&x.line);
		if (rc == CURLE_OK) {
			int code = 0;
			char msg[512];
			if (!gr__etcd_parse_error(x.body.data ? x.body.data : "", x.body.len, &code, msg, sizeof msg))
				snprintf(msg, sizeof msg, "HTTP %ld: %.200s", x.status, x.body.data ? x.body.data : "");
			gr__etcd_buf_free(&x.body);
			if (bad_token(msg) && e->user && !reauthed && !is_auth) {
				reauthed = true;
				if (authenticate(e, curl, err) < 0)
					return -1;
				continue;
			}
			if (not_applied(code, msg) || (idempotent && code == GR__GRPC_UNAVAILABLE)) {
				snprintf(last, sizeof last, "%s: etcd: %s", e->endpoints[idx], msg);
				fail_over(e, idx, last);
			} else {
				char what[300];
				snprintf(what, sizeof what, "etcd %s %s", e->endpoints[idx], path);
				return gr__etcd_error(code, msg, what, err);
			}
		} else {
			gr__etcd_buf_free(&x.body);
			snprintf(last, sizeof last, "%s: %s", e->endpoints[idx],
				 x.errbuf[0] ? x.errbuf : curl_easy_strerror(rc));
			tls_seen |= tls_failure(rc);
			if (!idempotent && request_sent(curl, rc))
				return gr_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : ECONNRESET,
						    "etcd %s %s: %s after the request was sent; outcome unknown "
						    "(re-read before retrying)", e->endpoints[idx], path,
						    x.errbuf[0] ? x.errbuf : curl_easy_strerror(rc));
			fail_over(e, idx, last);
		}
		/* After a full round over the members, wait a little (an election). */
		if ((tries + 1) % e->n_endpoints == 0) {
			int64_t pause = 50 << (round < 4 ? round : 4);
			round++;
			left = budget - (now_ms() - start);
			if (pause > left)
				pause = left;
			if (pause > 0) {
				struct timespec ts = { pause / 1000, (pause % 1000) * 1000000 };
				nanosleep(&ts, NULL);
			}
		}
	}
	if (tls_seen)
		return gr_error_set(err, EACCES, "no etcd member accepted TLS for %s (last: %s; check cacert, "
				    "cert, key)", path, last);
	return gr_error_set(err, ECONNREFUSED, "no etcd member answered %s within %d ms (last: %s)", path,
			    e->timeout_ms, last);
}

int gr__etcd_call(struct gr__etcd *e, CURL *curl, const char *path, const char *body,
		  bool idempotent, struct gr__etcd_buf *reply, gr_error_t *err)
{
	memset(reply, 0, sizeof *reply);
	CURL *own = NULL;
	if (!curl && !(curl = own = gr__etcd_curl_get(e, err)))
		return -1;
	int r = transfer(e, curl, NULL, path, body, idempotent, false, 0, now_ms() + e->timeout_ms, NULL,
			 NULL, NULL, reply, NULL, err);
	gr__etcd_curl_put(e, own);
	return r;
}

int gr__etcd_stream(struct gr__etcd *e, CURL *curl, CURLM *multi, const char *path,
		    const char *body, int timeout_ms, atomic_bool *stop, gr__etcd_line_fn fn,
		    void *ud, bool *got_line, gr_error_t *err)
{
	if (got_line)
		*got_line = false;
	CURL *own = NULL;
	if (!curl && !(curl = own = gr__etcd_curl_get(e, err)))
		return -1;
	int r = transfer(e, curl, multi, path, body, true, true, timeout_ms, now_ms() + e->timeout_ms, stop,
			 fn, ud, NULL, got_line, err);
	gr__etcd_curl_put(e, own);
	return r;
}

static int authenticate(struct gr__etcd *e, CURL *curl, gr_error_t *err)
{
	json_t *o = json_pack("{s:s, s:s}", "name", e->user, "password", e->password ? e->password : "");
	char *body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	struct gr__etcd_buf reply;
	int r = gr__etcd_call(e, curl, "/v3/auth/authenticate", body, true, &reply, err);
	free(body);
	char *token = NULL;
	if (r == 0)
		r = gr__etcd_parse_auth(reply.data, reply.len, &token, err);
	gr__etcd_buf_free(&reply);
	if (r < 0)
		return gr_error_prefix(err, "authenticating as %s", e->user);
	pthread_mutex_lock(&e->mu);
	free(e->token);
	e->token = token;
	pthread_mutex_unlock(&e->mu);
	return 0;
}

int gr__etcd_authenticate(struct gr__etcd *e, gr_error_t *err)
{
	CURL *curl = gr__etcd_curl_get(e, err);
	if (!curl)
		return -1;
	int r = authenticate(e, curl, err);
	gr__etcd_curl_put(e, curl);
	return r;
}
