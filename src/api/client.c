/*
 * client.c - the API client the `gureum` CLI uses: libcurl over the daemon's
 * unix socket (CURLOPT_UNIX_SOCKET_PATH) or HTTPS with a bearer token.
 * Stateless; each call makes its own curl handle, so calls may run on any
 * thread.  Depends only on util (the CLI links nothing else of the daemon).
 * When no whole answer comes, transport_error() turns libcurl's code (and
 * the errno of a failed connect) into a message in the user's words that
 * names the socket or URL; libcurl's own wording never reaches the user.
 */
#include "api/api.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include "api/ws.h"
#include "util/alloc.h"
#include "util/fs.h"

#define ANSWER_MAX (64u << 20)      /* a JSON answer larger than this is refused */
#define CONNECT_TIMEOUT_S 10L

void gr_client_init(struct gr_client *c)
{
	memset(c, 0, sizeof *c);
	const char *s = getenv("GUREUM_SOCKET"), *u = getenv("GUREUM_URL");
	const char *t = getenv("GUREUM_TOKEN"), *ca = getenv("GUREUM_CACERT");
	const char *to = getenv("GUREUM_TIMEOUT");
	c->unix_path = xstrdup(s && *s ? s : "/run/gureum/gureum.sock");
	c->url = u && *u ? xstrdup(u) : NULL;
	c->token = t && *t ? xstrdup(t) : NULL;
	c->cacert = ca && *ca ? xstrdup(ca) : NULL;
	c->insecure = getenv("GUREUM_INSECURE") && !strcmp(getenv("GUREUM_INSECURE"), "1");
	if (to && *to) {
		char *end;
		long v = strtol(to, &end, 10);
		if (!*end && v > 0 && v <= 86400)
			c->timeout_s = v;
	}
}

void gr_client_clear(struct gr_client *c)
{
	free(c->unix_path);
	free(c->url);
	free(c->token);
	free(c->cacert);
	memset(c, 0, sizeof *c);
}

static const char *where(const struct gr_client *c)
{
	return c->url ? c->url : c->unix_path;
}

/* A failed connect: why, from the errno of connect() (and the socket file). */
static int connect_error(const struct gr_client *c, long os_errno, gr_error_t *err)
{
	struct stat st;
	if (!c->url) {
		if (os_errno == 0 || os_errno == ECONNREFUSED) {
			/* connect() on a file that is no socket is ECONNREFUSED too */
			if (stat(c->unix_path, &st) < 0)
				os_errno = errno;
			else if (!S_ISSOCK(st.st_mode))
				return gr_error_set(err, ENOTSOCK, "%s is not a socket (point GUREUM_SOCKET or "
						    "--socket at gureumd's socket)", c->unix_path);
		}
		switch (os_errno) {
		case ENOENT:
		case ENOTDIR:
			return gr_error_set(err, ENOENT, "gureumd is not running: there is no socket %s "
					    "(start gureumd, or point GUREUM_SOCKET or --socket at its socket)",
					    c->unix_path);
		case EACCES:
		case EPERM:
			return gr_error_set(err, EACCES, "permission denied on %s (gureumd's socket is "
					    "root's: run gureum as root)", c->unix_path);
		case ECONNREFUSED:
			return gr_error_set(err, ECONNREFUSED, "gureumd is not running: nothing listens on "
					    "%s (the socket file is left from a daemon that stopped or "
					    "crashed; start gureumd)", c->unix_path);
		case EAGAIN:
			return gr_error_set(err, EAGAIN, "gureumd on %s accepts no more connections "
					    "(too busy); try again", c->unix_path);
		}
	} else if (os_errno == ECONNREFUSED) {
		return gr_error_set(err, ECONNREFUSED, "gureumd is not running: nothing listens on %s "
				    "(start it with --listen, or fix GUREUM_URL or --url)", c->url);
	}
	return gr_error_set(err, (int)(os_errno ? os_errno : EIO), "cannot connect to gureumd on %s: %s",
			    where(c), os_errno ? strerror((int)os_errno) : "connection failed");
}

/* What a user should read when libcurl failed with rc on handle h. */
static int transport_error(const struct gr_client *c, CURL *h, CURLcode rc, const char *detail,
			   const char *method, const char *path, long timeout_s, gr_error_t *err)
{
	long os_errno = 0;
	curl_off_t connected_us = 0;
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected_us);
	const char *w = where(c);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return connect_error(c, os_errno, err);
	case CURLE_COULDNT_RESOLVE_HOST:
		return gr_error_set(err, ENOENT, "cannot resolve the host name in %s (fix GUREUM_URL or --url)", w);
	case CURLE_GOT_NOTHING:
		return gr_error_set(err, ECONNRESET, "gureumd closed the connection on %s before answering "
				    "%s %s (it stopped or crashed; see its log)", w, method, path);
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return gr_error_set(err, ECONNRESET, "the connection to gureumd on %s broke during %s %s, "
				    "before the whole answer came (it stopped or crashed; see its log)",
				    w, method, path);
	case CURLE_OPERATION_TIMEDOUT:
		if (connected_us <= 0)
			return gr_error_set(err, ETIMEDOUT, "timed out after %ld s connecting to gureumd "
					    "on %s", CONNECT_TIMEOUT_S, w);
		return gr_error_set(err, ETIMEDOUT, "timed out after %ld s waiting for gureumd on %s to "
				    "answer %s %s (--timeout, GUREUM_TIMEOUT)", timeout_s, w, method, path);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return gr_error_set(err, EPROTO, "TLS with %s failed: %s (check --cacert or GUREUM_CACERT)",
				    w, detail && *detail ? detail : curl_easy_strerror(rc));
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return gr_error_set(err, EINVAL, "%s is not a URL gureum can use (expected https://HOST:PORT)", w);
	default:
		return gr_error_set(err, EIO, "%s %s on %s failed: %s", method, path, w,
				    detail && *detail ? detail : curl_easy_strerror(rc));
	}
}

struct sink {
	CURL *h;
	char *buf;
	size_t len;
	gr_client_data_fn fn;        /* streams: where a 2xx body goes */
	void *ud;
	int pass;                    /* streams: -1 not known yet, 1 to fn, 0 kept in buf */
	bool too_big, fn_stopped;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;
	if (s->fn && s->pass < 0) {
		long st = 0;
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &st);
		s->pass = st >= 200 && st <= 299;
	}
	if (s->fn && s->pass) {
		if (s->fn(p, len, s->ud) < 0) {
			s->fn_stopped = true;
			return 0;
		}
		return len;
	}
	if (s->len + len > ANSWER_MAX) {
		s->too_big = true;
		return 0;
	}
	s->buf = xrealloc(s->buf, s->len + len + 1);
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = 0;
	return len;
}

static void set_transport(CURL *h, const struct gr_client *c)
{
	if (!c->url)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	if (c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
}

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static CURL *new_handle(gr_error_t *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, global_init);
	CURL *h = curl_easy_init();
	if (!h)
		gr_error_set(err, ENOMEM, "curl_easy_init failed");
	return h;
}
static int perform(const struct gr_client *c, const char *method, const char *path, json_t *body,
		   struct sink *sink, long *status, gr_error_t *err)
{
	*status = 0;
	CURL *h = new_handle(err);
	if (!h)
		return -1;
	sink->h = h;
	_cleanup_free_ char *url = xasprintf("%s%s", c->url ? c->url : "http://localhost", path);
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	_cleanup_free_ char *auth = c->token ? xasprintf("Authorization: Bearer %s", c->token) : NULL;
	char detail[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (text)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (auth)
		hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	set_transport(h, c);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	long timeout_s = sink->fn ? 0 : c->timeout_s;
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	if (text) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	int r = 0;
	if (rc == CURLE_WRITE_ERROR && sink->too_big)
		r = gr_error_set(err, EFBIG, "the answer of gureumd on %s to %s %s is larger than %u MiB",
				 where(c), method, path, ANSWER_MAX >> 20);
	else if (rc == CURLE_WRITE_ERROR && sink->fn_stopped)
		r = gr_error_set(err, EPIPE, "%s %s: the output could not be written", method, path);
	else if (rc != CURLE_OK)
		r = transport_error(c, h, rc, detail, method, path, timeout_s, err);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return r;
}

int gr_client_request(const struct gr_client *c, const char *method, const char *path,
		      json_t *body, long *status, json_t **resp, gr_error_t *err)
{
	struct sink s = { .pass = 0 };
	*resp = NULL;
	int r = perform(c, method, path, body, &s, status, err);
	if (r == 0 && s.buf)
		*resp = json_loadb(s.buf, s.len, 0, NULL);
	free(s.buf);
	return r;
}

int gr_client_stream(const struct gr_client *c, const char *method, const char *path,
		     json_t *body, gr_client_data_fn fn, void *ud, long *status,
		     json_t **error_resp, gr_error_t *err)
{
	struct sink s = { .fn = fn, .ud = ud, .pass = -1 };
	if (error_resp)
		*error_resp = NULL;
	int r = perform(c, method, path, body, &s, status, err);
	if (r == 0 && s.buf && error_resp)
		*error_resp = json_loadb(s.buf, s.len, 0, NULL);
	free(s.buf);
	return r;
}


const char *gr_client_error_message(json_t *resp, long status)
{
	const char *m = json_string_value(json_object_get(json_object_get(resp, "error"), "message"));
	if (m)
		return m;
	switch (status) {
	case 401: return "not authorized (a valid token is required)";
	case 403: return "forbidden";
	case 404: return "not found";
	default: return "request failed";
	}
}

/* ---- websocket sessions (interactive exec) ---- */

struct gr_client_ws {
	CURL *h;
	curl_socket_t fd;
	struct gr_ws_decoder dec;
	bool closed;
};

static int ws_send_raw(struct gr_client_ws *w, const void *data, size_t len, gr_error_t *err)
{
	const char *p = data;
	while (len) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(w->h, p, len, &sent);
		if (rc == CURLE_AGAIN) {
			struct pollfd pf = { .fd = w->fd, .events = POLLOUT };
			poll(&pf, 1, 1000);
			continue;
		}
		if (rc != CURLE_OK)
			return gr_error_set(err, ECONNRESET, "the connection to gureumd broke (it stopped or "
					    "crashed; see its log)");
		p += sent;
		len -= sent;
	}
	return 0;
}

/* Read what is there into the decoder: 1 got bytes, 0 nothing now, -1 closed. */
static int ws_pull(struct gr_client_ws *w)
{
	char buf[16384];
	size_t got = 0;
	CURLcode rc = curl_easy_recv(w->h, buf, sizeof buf, &got);
	if (rc == CURLE_AGAIN)
		return 0;
	if (rc != CURLE_OK || got == 0) {
		w->closed = true;
		return -1;
	}
	gr_ws_feed(&w->dec, buf, got);
	return 1;
}

int gr_client_ws_open(const struct gr_client *c, const char *path, struct gr_client_ws **out,
		      gr_error_t *err)
{
	struct gr_client_ws *w = xcalloc(1, sizeof *w);
	_cleanup_free_ char *key = gr_ws_client_key();
	_cleanup_free_ char *auth = c->token ? xasprintf("Authorization: Bearer %s\r\n", c->token)
					     : xstrdup("");
	_cleanup_free_ char *req = xasprintf("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
					     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
					     "Sec-WebSocket-Version: 13\r\n%s\r\n", path, key, auth);
	_cleanup_free_ char *url = xasprintf("%s%s", c->url ? c->url : "http://localhost", path);
	char detail[CURL_ERROR_SIZE] = "";
	w->h = new_handle(err);
	if (!w->h)
		goto fail;
	curl_easy_setopt(w->h, CURLOPT_URL, url);
	set_transport(w->h, c);
	curl_easy_setopt(w->h, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(w->h, CURLOPT_CONNECT_ONLY, 1L);
	CURLcode rc = curl_easy_perform(w->h);
	curl_easy_setopt(w->h, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		transport_error(c, w->h, rc, detail, "GET", path, 0, err);
		goto fail;
	}
	curl_easy_getinfo(w->h, CURLINFO_ACTIVESOCKET, &w->fd);
	/* the upgrade request (composed above); the answer's status line is checked */
	if (ws_send_raw(w, req, strlen(req), err) < 0)
		goto fail;
	for (int tries = 0;; tries++) {
		void *end = w->dec.len >= 4 ? memmem(w->dec.buf, w->dec.len, "\r\n\r\n", 4) : NULL;
		if (end) {
			size_t hlen = (size_t)((uint8_t *)end - w->dec.buf) + 4;
			bool upgraded = w->dec.len >= 12 && !memcmp(w->dec.buf, "HTTP/1.1 101", 12);
			if (!upgraded) {
				/* an ordinary error answer: give its JSON message if there is one */
				for (int i = 0; i < 20 && ws_pull(w) >= 0; i++)
					usleep(10000);
				json_t *j = json_loadb((char *)w->dec.buf + hlen, w->dec.len - hlen, 0, NULL);
				gr_error_set(err, EIO, "%s", j ? gr_client_error_message(j, 0)
							       : "the daemon refused the websocket upgrade");
				json_decref(j);
				goto fail;
			}
			memmove(w->dec.buf, w->dec.buf + hlen, w->dec.len - hlen);
			w->dec.len -= hlen;
			break;
		}
		if (w->dec.len > 16384 || tries > 1000) {
			gr_error_set(err, EIO, "no websocket answer from gureumd");
			goto fail;
		}
		if (ws_pull(w) < 0) {
			gr_error_set(err, ECONNRESET, "gureumd closed the connection on %s before answering "
				     "GET %s (it stopped or crashed; see its log)", where(c), path);
			goto fail;
		}
		struct pollfd pf = { .fd = w->fd, .events = POLLIN };
		poll(&pf, 1, 100);
	}
	*out = w;
	return 0;
fail:
	gr_client_ws_close(w);
	return -1;
}

int gr_client_ws_fd(const struct gr_client_ws *w)
{
	return (int)w->fd;
}

int gr_client_ws_send(struct gr_client_ws *w, uint8_t op, const void *data, size_t len,
		      gr_error_t *err)
{
	uint8_t *f;
	size_t n = gr_ws_frame(op, data, len, true, &f);
	int r = ws_send_raw(w, f, n, err);
	free(f);
	return r;
}

int gr_client_ws_recv(struct gr_client_ws *w, uint8_t *op, uint8_t **p, size_t *n, gr_error_t *err)
{
	for (;;) {
		int r = gr_ws_next(&w->dec, op, p, n, err);
		if (r != 0)
			return r;
		if (w->closed)
			return gr_error_set(err, ECONNRESET, "gureumd closed the session (if it stopped or "
					    "crashed, see its log)");
		if (ws_pull(w) <= 0 && !w->closed)
			return 0;
	}
}

void gr_client_ws_close(struct gr_client_ws *w)
{
	if (!w)
		return;
	if (w->h)
		curl_easy_cleanup(w->h);
	gr_ws_decoder_clear(&w->dec);
	free(w);
}
