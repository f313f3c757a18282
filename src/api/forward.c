/*
 * forward.c - the API's proxy for calls on an instance another pool member holds: the
 * request (method, path, query, body) goes to the owner's peer listener over the peer
 * channel (mutual TLS, the owner's key pinned, peer_client.c) marked with
 * GR_PEER_FORWARDED, and the owner's answer (status, Content-Type, body) comes back as is.
 *
 * Plain requests: a relay thread runs the libcurl transfer and writes the answer's body
 * into a pipe; the MHD connection thread waits for the status line (or the failure),
 * then answers from the pipe's read end, so a stream (logs?follow, console) is relayed as
 * it comes and a slow or gone client only stalls its own relay thread (writes fail with
 * EPIPE once MHD closed the read end; the progress callback notices that at least once a
 * second even when the owner sends nothing).
 * Websocket upgrades (exec with a terminal, console input): the handler opens the channel
 * (CURLOPT_CONNECT_ONLY), sends the upgrade request itself and reads the owner's answer; a
 * 101 is answered 101 to the client with the owner's Sec-WebSocket-Accept (same key, same
 * accept) and a detached pump thread copies bytes both ways until either side closes.
 * Anything else the owner answers is relayed as an ordinary answer.
 *
 * Timeout: the owner's answer (its status line; for an upgrade, its header block) must come
 * within GUREUM_FORWARD_TIMEOUT seconds of the daemon's environment (default 60, like a
 * routed call's) from the start of the call, connect included; otherwise the relay is
 * abandoned and the caller gets ETIMEDOUT naming the host, with "outcome unknown" (the
 * request went out).  Once the answer has begun, a stream (logs --follow, a console, a
 * websocket) runs as long as both sides keep it open.
 *
 * Threading: MHD_USE_THREAD_PER_CONNECTION (server.c); the waits here are bounded by that
 * timeout; nothing runs on MHD's polling thread.
 */
#include "api/api-internal.h"
#include "api/peer.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "control/control.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

/* Set by gr_api_stop: relays end (a forwarded logs --follow would otherwise hold the
 * connection, and MHD_stop_daemon with it, until the owner's next byte).  Global, not in
 * struct gr_api: a relay thread may outlive its connection for up to a second. */
static atomic_bool stopping;

void gr__api_forward_stop(void)
{
	atomic_store(&stopping, true);
}

#define FORWARD_TIMEOUT_DEFAULT 60

/* GUREUM_FORWARD_TIMEOUT (seconds, 1..86400), read once; a bad value is logged and the
 * default used. */
static int forward_timeout_s(void)
{
	static atomic_int cached;
	int t = atomic_load(&cached);
	if (t)
		return t;
	t = FORWARD_TIMEOUT_DEFAULT;
	const char *e = getenv("GUREUM_FORWARD_TIMEOUT");
	if (e && *e) {
		char *end;
		long v = strtol(e, &end, 10);
		if (*end || v < 1 || v > 86400)
			gr_log_warn("GUREUM_FORWARD_TIMEOUT='%s' is not 1..86400 seconds; using %d", e, t);
		else
			t = (int)v;
	}
	atomic_store(&cached, t);
	return t;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result forward_timed_out(struct MHD_Connection *conn, const char *method, const char *path,
					 const char *host, const json_t *peer, int timeout_s)
{
	const char *addr = json_string_value(json_object_get(peer, "address"));
	gr_log_warn("forward: %s %s to host %s: no answer within %d s, abandoned", method, path, host, timeout_s);
	return gr__api_fail(conn, ETIMEDOUT, "host %s (%s) did not answer the forwarded call %s %s within %d s "
			    "(GUREUM_FORWARD_TIMEOUT); the call was sent, so its outcome is unknown (see gureum "
			    "list)", host, addr ? addr : "?", method, path, timeout_s);
}

/* ---- the query string, rebuilt from MHD's parsed arguments ---- */

struct qs {
	CURL *curl;
	char *s;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qs *q = cls;
	char *k = curl_easy_escape(q->curl, key, 0);
	char *v = value ? curl_easy_escape(q->curl, value, 0) : NULL;
	char *n = xasprintf("%s%s%s%s%s", q->s ? q->s : "", q->s ? "&" : "?", k ? k : "", v ? "=" : "",
			    v ? v : "");
	curl_free(k);
	curl_free(v);
	free(q->s);
	q->s = n;
	return MHD_YES;
}

static char *path_with_query(struct MHD_Connection *conn, const char *url)
{
	struct qs q = { .curl = curl_easy_init() };
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	curl_easy_cleanup(q.curl);
	char *p = xasprintf("%s%s", url, q.s ? q.s : "");
	free(q.s);
	return p;
}

static enum MHD_Result channel_failed(struct MHD_Connection *conn, const char *host, const json_t *peer,
				      CURLcode rc, const char *ebuf)
{
	const char *addr = json_string_value(json_object_get(peer, "address"));
	if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
		return gr__api_fail(conn, EACCES, "host %s (%s) is not the host its record describes (its "
				    "public key is not the published pin); nothing was forwarded", host, addr);
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SSL_CONNECT_ERROR)
		return gr__api_fail(conn, EHOSTDOWN, "host %s holds the instance but its peer channel "
				    "(%s) does not answer: %s; nothing was changed", host, addr,
				    ebuf[0] ? ebuf : curl_easy_strerror(rc));
	return gr__api_fail(conn, EIO, "forwarding to host %s (%s): %s", host, addr,
			    ebuf[0] ? ebuf : curl_easy_strerror(rc));
}

/* ---- plain requests ---- */

struct relay {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;                  /* the handler and the relay thread */
	bool headed, done;         /* status known; transfer over */
	atomic_bool abandoned;     /* the handler gave up waiting (timeout): end the transfer */
	long status;
	char ctype[128];
	CURLcode rc;
	char ebuf[CURL_ERROR_SIZE];
	CURL *curl;
	struct curl_slist *hdrs;
	char *body;                /* the request body (a copy) */
	int wfd;                   /* the pipe's write end, the relay thread's */
};

static void relay_unref(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	bool last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (!last)
		return;
	curl_easy_cleanup(r->curl);
	curl_slist_free_all(r->hdrs);
	free(r->body);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct relay *r = ud;
	size_t len = sz * n;
	if (!strncasecmp(p, "Content-Type:", 13)) {
		const char *v = p + 13;
		while (*v == ' ')
			v++;
		size_t k = strcspn(v, "\r\n");
		pthread_mutex_lock(&r->lock);
		snprintf(r->ctype, sizeof r->ctype, "%.*s", (int)k, v);
		pthread_mutex_unlock(&r->lock);
	}
	if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) { /* the end of a header block */
		long st = 0;
		curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200) {
			pthread_mutex_lock(&r->lock);
			r->status = st;
			r->headed = true;
			pthread_cond_broadcast(&r->cond);
			pthread_mutex_unlock(&r->lock);
		}
	}
	return len;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct relay *r = ud;
	size_t len = sz * n;
	/* the client went away (MHD closed the read end): stop */
	return gr_write_all(r->wfd, p, len) < 0 ? 0 : len;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct relay *r = ud;
	if (atomic_load(&stopping) || atomic_load(&r->abandoned))
		return 1;
	struct pollfd p = { .fd = r->wfd, .events = 0 };
	/* POLLERR on a pipe's write end: its reader is gone */
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)) ? 1 : 0;
}

static void *relay_main(void *p)
{
	struct relay *r = p;
	CURLcode rc = curl_easy_perform(r->curl);
	close(r->wfd);
	pthread_mutex_lock(&r->lock);
	r->rc = rc;
	r->done = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	relay_unref(r);
	return NULL;
}

static enum MHD_Result forward_plain(struct gr_api *a, struct MHD_Connection *conn, const char *method,
				     const char *path, const char *body, size_t len, const char *host,
				     const json_t *peer)
{
	gr_error_t err;
	CURL *curl = gr__peer_curl(a->peer_id, host, peer, path, &err);
	if (!curl)
		return gr__api_reply_error(conn, &err);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		curl_easy_cleanup(curl);
		return gr__api_fail(conn, EIO, "pipe: %s", strerror(errno));
	}
	int timeout_s = forward_timeout_s();
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	struct relay *r = xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	r->refs = 2;
	r->curl = curl;
	r->wfd = p[1];
	_cleanup_free_ char *fwd = xasprintf("%s: %s", GR_PEER_FORWARDED, gr_control_host_name(a->control));
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	_cleanup_free_ char *cth = ct ? xasprintf("Content-Type: %s", ct) : NULL;
	r->hdrs = curl_slist_append(NULL, fwd);
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	if (cth)
		r->hdrs = curl_slist_append(r->hdrs, cth);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (len || strcmp(method, "GET")) {
		r->body = xmalloc(len + 1);
		memcpy(r->body, body, len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, r->ebuf);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, relay_main, r)) {
		pthread_attr_destroy(&at);
		close(p[0]);
		close(p[1]);
		r->refs = 1;
		relay_unref(r);
		return gr__api_fail(conn, EAGAIN, "cannot start a thread to forward the request");
	}
	pthread_attr_destroy(&at);
	pthread_mutex_lock(&r->lock);
	bool late = false;
	while (!r->headed && !r->done) {
		struct timespec until = { deadline / 1000, (deadline % 1000) * 1000000 };
		if (pthread_cond_timedwait(&r->cond, &r->lock, &until) == ETIMEDOUT && !r->headed && !r->done) {
			late = true;
			atomic_store(&r->abandoned, true); /* the progress callback ends it within a second */
			break;
		}
	}
	bool headed = r->headed;
	long status = r->status;
	char ctype[128], ebuf[CURL_ERROR_SIZE];
	snprintf(ctype, sizeof ctype, "%s", r->ctype[0] ? r->ctype : "application/json");
	snprintf(ebuf, sizeof ebuf, "%s", r->ebuf);
	CURLcode rc = r->rc;
	pthread_mutex_unlock(&r->lock);
	relay_unref(r);
	if (late) {
		close(p[0]);
		return forward_timed_out(conn, method, path, host, peer, timeout_s);
	}
	if (!headed) {
		close(p[0]);
		return channel_failed(conn, host, peer, rc, ebuf);
	}
	struct MHD_Response *resp = MHD_create_response_from_pipe(p[0]);
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "X-Gureum-Host", host);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- websocket upgrades ---- */

struct tunnel {
	CURL *curl;
	curl_socket_t peer_fd;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
	char *pending;           /* owner's bytes read past its 101 answer */
	size_t pending_len;
	char *extra;             /* client's bytes MHD read past the request */
	size_t extra_len;
	char host[64];
};

/* Send all of buf on the channel (blocking): 0, or -1 when it broke. */
static int chan_send(CURL *curl, curl_socket_t fd, const void *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(curl, (const char *)buf + off, len - off, &n);
		if (rc == CURLE_AGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			if (poll(&p, 1, 30000) <= 0)
				return -1;
			continue;
		}
		if (rc != CURLE_OK)
			return -1;
		off += n;
	}
	return 0;
}

static void *tunnel_main(void *p)
{
	struct tunnel *t = p;
	bool open = true;
	if ((t->pending_len && gr_write_all(t->sock, t->pending, t->pending_len) < 0) ||
	    (t->extra_len && chan_send(t->curl, t->peer_fd, t->extra, t->extra_len) < 0))
		open = false;
	char buf[16384];
	while (open) {
		/* drain what TLS already holds before polling the socket */
		for (;;) {
			size_t n = 0;
			CURLcode rc = curl_easy_recv(t->curl, buf, sizeof buf, &n);
			if (rc == CURLE_AGAIN)
				break;
			if (rc != CURLE_OK || n == 0 || gr_write_all(t->sock, buf, n) < 0) {
				open = false;
				break;
			}
		}
		if (!open)
			break;
		struct pollfd fds[2] = { { .fd = t->sock, .events = POLLIN }, { .fd = t->peer_fd, .events = POLLIN } };
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents) {
			ssize_t n = read(t->sock, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || chan_send(t->curl, t->peer_fd, buf, (size_t)n) < 0)
				open = false;
		}
	}
	gr_log_debug("forward: websocket to host %s closed", t->host);
	MHD_upgrade_action(t->urh, MHD_UPGRADE_ACTION_CLOSE);
	curl_easy_cleanup(t->curl);
	free(t->pending);
	free(t->extra);
	free(t);
	return NULL;
}

static void tunnel_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
			    size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct tunnel *t = cls;
	t->sock = sock;
	t->urh = urh;
	if (extra_in_size) {
		t->extra = xmalloc(extra_in_size);
		memcpy(t->extra, extra_in, extra_in_size);
		t->extra_len = extra_in_size;
	}
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, tunnel_main, t)) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		curl_easy_cleanup(t->curl);
		free(t->pending);
		free(t->extra);
		free(t);
	}
	pthread_attr_destroy(&at);
}

/* The value of header name in an HTTP answer's header block (hdr, NUL-ended), or "". */
static void header_value(const char *hdr, const char *name, char *out, size_t len)
{
	out[0] = '\0';
	size_t nl = strlen(name);
	for (const char *l = strstr(hdr, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, name, nl) || l[2 + nl] != ':')
			continue;
		const char *v = l + 3 + nl;
		while (*v == ' ')
			v++;
		snprintf(out, len, "%.*s", (int)strcspn(v, "\r\n"), v);
		return;
	}
}

static enum MHD_Result forward_upgrade(struct gr_api *a, struct MHD_Connection *conn, const char *path,
				       const char *host, const json_t *peer)
{
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	if (!key || !ver || strcmp(ver, "13"))
		return gr__api_fail(conn, EINVAL, "websocket: Sec-WebSocket-Key and version 13 required");
	if (strpbrk(key, "\r\n"))
		return gr__api_fail(conn, EINVAL, "websocket: Sec-WebSocket-Key: not a header value");
	gr_error_t err;
	int timeout_s = forward_timeout_s();
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	CURL *curl = gr__peer_curl(a->peer_id, host, peer, path, &err);
	if (!curl)
		return gr__api_reply_error(conn, &err);
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		enum MHD_Result ret = channel_failed(conn, host, peer, rc, ebuf);
		curl_easy_cleanup(curl);
		return ret;
	}
	curl_socket_t fd = CURL_SOCKET_BAD;
	curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &fd);
	const char *addr = json_string_value(json_object_get(peer, "address"));
	_cleanup_free_ char *req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
					     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
					     "Sec-WebSocket-Version: 13\r\n%s: %s\r\n\r\n",
					     path, addr, key, GR_PEER_FORWARDED, gr_control_host_name(a->control));
	/* the owner's answer: headers up to the blank line, at most 64 KiB */
	size_t cap = 65536, have = 0;
	_cleanup_free_ char *ans = xmalloc(cap + 1);
	char *end = NULL;
	bool late = false;
	if (chan_send(curl, fd, req, strlen(req)) == 0) {
		while (!end && have < cap) {
			size_t n = 0;
			rc = curl_easy_recv(curl, ans + have, cap - have, &n);
			if (rc == CURLE_AGAIN) {
				struct pollfd p = { .fd = fd, .events = POLLIN };
				int64_t left = deadline - mono_ms();
				if (left <= 0 || poll(&p, 1, (int)left) == 0) {
					late = true;
					break;
				}
				if (p.revents == 0)
					break;
				continue;
			}
			if (rc != CURLE_OK || n == 0)
				break;
			have += n;
			ans[have] = '\0';
			end = strstr(ans, "\r\n\r\n");
		}
	}
	if (!end) {
		curl_easy_cleanup(curl);
		if (late)
			return forward_timed_out(conn, "GET", path, host, peer, timeout_s);
		return gr__api_fail(conn, EIO, "forwarding to host %s (%s): no answer to the websocket "
				    "request", host, addr);
	}
	*end = '\0';
	char *rest = end + 4;
	size_t rest_len = have - (size_t)(rest - ans);
	int status = 0;
	sscanf(ans, "HTTP/1.%*d %d", &status);
	char ctype[128], clen[32], accept[128];
	header_value(ans, "Content-Type", ctype, sizeof ctype);
	header_value(ans, "Content-Length", clen, sizeof clen);
	header_value(ans, "Sec-WebSocket-Accept", accept, sizeof accept);
	if (status != 101) { /* a refusal (not running, no such instance): relay it */
		size_t want = (size_t)strtoul(clen, NULL, 10);
		if (want > cap - 1)
			want = cap - 1;
		char *body = xmalloc(want + 1);
		size_t got = rest_len < want ? rest_len : want;
		memcpy(body, rest, got);
		while (got < want) {
			size_t n = 0;
			rc = curl_easy_recv(curl, body + got, want - got, &n);
			if (rc == CURLE_AGAIN) {
				struct pollfd p = { .fd = fd, .events = POLLIN };
				if (poll(&p, 1, 10000) <= 0)
					break;
				continue;
			}
			if (rc != CURLE_OK || n == 0)
				break;
			got += n;
		}
		curl_easy_cleanup(curl);
		struct MHD_Response *r = MHD_create_response_from_buffer(got, body, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(r, "Content-Type", ctype[0] ? ctype : "application/json");
		MHD_add_response_header(r, "X-Gureum-Host", host);
		enum MHD_Result ret = MHD_queue_response(conn, status >= 200 ? (unsigned)status : 502, r);
		MHD_destroy_response(r);
		return ret;
	}
	struct tunnel *t = xcalloc(1, sizeof *t);
	t->curl = curl;
	t->peer_fd = fd;
	snprintf(t->host, sizeof t->host, "%s", host);
	if (rest_len) {
		t->pending = xmalloc(rest_len);
		memcpy(t->pending, rest, rest_len);
		t->pending_len = rest_len;
	}
	struct MHD_Response *r = MHD_create_response_for_upgrade(tunnel_upgraded, t);
	MHD_add_response_header(r, "Upgrade", "websocket");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
	MHD_add_response_header(r, "X-Gureum-Host", host);
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	if (ret != MHD_YES) {
		curl_easy_cleanup(curl);
		free(t->pending);
		free(t);
	}
	return ret;
}

enum MHD_Result gr__api_forward(struct gr_api *a, struct MHD_Connection *conn, const char *method,
				const char *url, const char *body, size_t len, const char *host,
				const json_t *peer)
{
	_cleanup_free_ char *path = path_with_query(conn, url);
	bool upgrade = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade") != NULL;
	gr_log_debug("forward: %s %s to host %s%s", method, path, host, upgrade ? " (websocket)" : "");
	if (upgrade)
		return forward_upgrade(a, conn, path, host, peer);
	return forward_plain(a, conn, method, path, body, len, host, peer);
}
