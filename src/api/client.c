/*
 * client.c - the API client the `gureum` CLI uses: libcurl over the daemon's
 * unix socket (CURLOPT_UNIX_SOCKET_PATH) or HTTPS with a bearer token.
 * Stateless; each call makes its own curl handle, so calls may run on any
 * thread.  Depends only on util (the CLI links nothing else of the daemon).
 */
#include "api/api.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include "api/ws.h"
#include "util/alloc.h"
#include "util/fs.h"

void gr_client_init(struct gr_client *c)
{
	memset(c, 0, sizeof *c);
	const char *s = getenv("GUREUM_SOCKET"), *u = getenv("GUREUM_URL");
	const char *t = getenv("GUREUM_TOKEN"), *ca = getenv("GUREUM_CACERT");
	c->unix_path = xstrdup(s && *s ? s : "/run/gureum/gureum.sock");
	c->url = u && *u ? xstrdup(u) : NULL;
	c->token = t && *t ? xstrdup(t) : NULL;
	c->cacert = ca && *ca ? xstrdup(ca) : NULL;
	c->insecure = getenv("GUREUM_INSECURE") && !strcmp(getenv("GUREUM_INSECURE"), "1");
}

void gr_client_clear(struct gr_client *c)
{
	free(c->unix_path);
	free(c->url);
	free(c->token);
	free(c->cacert);
	memset(c, 0, sizeof *c);
}

struct sink {
	char *buf;
	size_t len;
	int fd;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;
	if (s->fd >= 0)
		return gr_write_all(s->fd, p, len) == (ssize_t)len ? len : 0;
	if (s->len + len > (64u << 20))
		return 0;
	s->buf = xrealloc(s->buf, s->len + len + 1);
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = 0;
	return len;
}

static int perform(const struct gr_client *c, const char *method, const char *path, json_t *body,
		   struct sink *sink, long *status, gr_error_t *err)
{
	static int inited;
	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = 1;
	}
	CURL *h = curl_easy_init();
	if (!h)
		return gr_error_set(err, ENOMEM, "curl_easy_init failed");
	_cleanup_free_ char *url = xasprintf("%s%s", c->url ? c->url : "http://localhost", path);
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	_cleanup_free_ char *auth = c->token ? xasprintf("Authorization: Bearer %s", c->token) : NULL;
	struct curl_slist *hdrs = NULL;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (text)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (auth)
		hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (!c->url)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	if (text) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	}
	if (c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		if (rc == CURLE_COULDNT_CONNECT)
			return gr_error_set(err, ECONNREFUSED,
					    "cannot reach gureumd at %s (is it running? set GUREUM_SOCKET "
					    "or GUREUM_URL)", c->url ? c->url : c->unix_path);
		if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR)
			return gr_error_set(err, EIO, "gureumd closed the stream (was it stopped?)");
		return gr_error_set(err, EIO, "request %s %s: %s", method, path, curl_easy_strerror(rc));
	}
	return 0;
}

int gr_client_request(const struct gr_client *c, const char *method, const char *path,
		      json_t *body, long *status, json_t **resp, gr_error_t *err)
{
	struct sink s = { .fd = -1 };
	*resp = NULL;
	int r = perform(c, method, path, body, &s, status, err);
	if (r == 0 && s.buf)
		*resp = json_loadb(s.buf, s.len, 0, NULL);
	free(s.buf);
	return r;
}

int gr_client_stream(const struct gr_client *c, const char *method, const char *path,
		     json_t *body, int fd, long *status, gr_error_t *err)
{
	struct sink s = { .fd = fd };
	return perform(c, method, path, body, &s, status, err);
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
			return gr_error_set(err, EIO, "sending to gureumd: %s", curl_easy_strerror(rc));
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
	w->h = curl_easy_init();
	_cleanup_free_ char *url = xasprintf("%s%s", c->url ? c->url : "http://localhost", path);
	curl_easy_setopt(w->h, CURLOPT_URL, url);
	if (!c->url)
		curl_easy_setopt(w->h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	if (c->cacert)
		curl_easy_setopt(w->h, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(w->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(w->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(w->h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(w->h, CURLOPT_NOSIGNAL, 1L);
	CURLcode rc = curl_easy_perform(w->h);
	if (rc != CURLE_OK) {
		gr_error_set(err, ECONNREFUSED, "cannot reach gureumd at %s: %s",
			     c->url ? c->url : c->unix_path, curl_easy_strerror(rc));
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
			gr_error_set(err, EIO, "gureumd closed the connection");
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
			return gr_error_set(err, ECONNRESET, "gureumd closed the session");
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
