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
#include <unistd.h>
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
