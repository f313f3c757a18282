/*
 * peer_client.c - the client side of the peer channel (peer.h): one blocking libcurl GET
 * that presents this host's certificate and accepts the server only if its public key is
 * the pin published in the host record it meant to reach (CURLOPT_PINNEDPUBLICKEY; no CA
 * and no host name check: the pin is the whole identity).  A transfer that stalls (under
 * 1 KiB/s for 30 s) or is cut fails with EIO naming the host.
 */
#include "api/peer.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "util/alloc.h"

struct sink {
	CURL *curl;
	int fd;
	long status;
	char msg[512];
	size_t msg_len;
	int write_errno;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = sz * n;
	if (!s->status)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status != 200) { /* an error document: keep its start for the message */
		size_t room = sizeof s->msg - 1 - s->msg_len;
		size_t k = len < room ? len : room;
		memcpy(s->msg + s->msg_len, p, k);
		s->msg_len += k;
		s->msg[s->msg_len] = '\0';
		return len;
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(s->fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->write_errno = errno;
			return 0; /* aborts the transfer */
		}
		done += (size_t)w;
	}
	return len;
}

void *gr__peer_curl(const struct gr_peer_identity *id, const char *host, const json_t *peer,
		    const char *path, gr_error_t *err)
{
	const char *addr = json_string_value(json_object_get(peer, "address"));
	const char *pin = json_string_value(json_object_get(peer, "pin"));
	if (!addr || !pin) {
		gr_error_set(err, EHOSTUNREACH, "host %s publishes no peer address (started without "
						"--peer-listen?)", host);
		return NULL;
	}
	CURL *curl = curl_easy_init();
	if (!curl) {
		gr_error_set(err, ENOMEM, "curl_easy_init failed");
		return NULL;
	}
	_cleanup_free_ char *url = xasprintf("https://%s%s", addr, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_SSLCERT, id->cert_file);
	curl_easy_setopt(curl, CURLOPT_SSLKEY, id->key_file);
	curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
	/* the pin is the check: a self-signed certificate has no CA to verify against */
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY, pin);
	/* no CA store either: OpenSSL 3 parsing the system bundle costs tens of ms per
	 * handle, on every forwarded call, for certificates the pin makes irrelevant */
	curl_easy_setopt(curl, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	return curl;
}

int gr_peer_get(const struct gr_peer_identity *id, const char *host, const json_t *peer,
		const char *path, int fd, gr_error_t *err)
{
	CURL *curl = gr__peer_curl(id, host, peer, path, err);
	if (!curl)
		return -1;
	const char *addr = json_string_value(json_object_get(peer, "address"));
	struct sink s = { .curl = curl, .fd = fd };
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode rc = curl_easy_perform(curl);
	if (!s.status)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &s.status);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK && s.write_errno)
		return gr_error_set(err, s.write_errno, "from host %s (%s): writing: %s", host, addr,
				    strerror(s.write_errno));
	if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
		return gr_error_set(err, EACCES, "host %s (%s) is not the host its record describes (its "
						 "public key is not the published pin)", host, addr);
	if (rc != CURLE_OK)
		return gr_error_set(err, EIO, "from host %s (%s): %s", host, addr, ebuf[0] ? ebuf : curl_easy_strerror(rc));
	if (s.status != 200) {
		json_t *j = json_loads(s.msg, 0, NULL);
		const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
		gr_error_set(err, s.status == 404 ? ENOENT : s.status == 403 ? EACCES : EIO,
			     "host %s (%s) answered %ld: %s", host, addr, s.status, m ? m : s.msg);
		json_decref(j);
		return -1;
	}
	return 0;
}

struct reply_buf {
	char *data;
	size_t len;
};

static size_t on_reply(char *p, size_t sz, size_t n, void *ud)
{
	struct reply_buf *b = ud;
	size_t len = sz * n;
	if (b->len + len > (16u << 20))
		return 0;
	b->data = xrealloc(b->data, b->len + len + 1);
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* errno of an API error code name ("EAGAIN"), EIO when unknown. */
static int errno_named(const char *name)
{
	for (int e = 1; name && e < 200; e++) {
		const char *n = strerrorname_np(e);
		if (n && !strcmp(n, name))
			return e;
	}
	return EIO;
}

/* POST req (NULL: {}) as JSON to path on host, as forwarded from `from`.  A create
 * (POST /v1/instances) succeeds on 201/202 only, waits as long as the start takes, and on
 * a refusal hands back the instance the owner kept ("error.instance"); other calls succeed
 * on any 2xx within 300 s. */
static int post_json(const struct gr_peer_identity *id, const char *from, const char *host,
		     const json_t *peer, const char *path, json_t *req, bool create, json_t **out,
		     gr_error_t *err)
{
	CURL *curl = gr__peer_curl(id, host, peer, path, err);
	if (!curl)
		return -1;
	const char *addr = json_string_value(json_object_get(peer, "address"));
	_cleanup_free_ char *body = req ? json_dumps(req, JSON_COMPACT) : xstrdup("{}");
	_cleanup_free_ char *fwd = xasprintf("%s: %s", GR_PEER_FORWARDED, from);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, fwd);
	hdrs = curl_slist_append(hdrs, "Expect:");
	struct reply_buf b = { 0 };
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
	if (!create)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
	CURLcode rc = curl_easy_perform(curl);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);
	int r = -1;
	if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
		gr_error_set(err, EACCES, "%s is not the host its record describes (its public key is not "
					  "the published pin)", addr);
	} else if (rc != CURLE_OK) {
		/* a cut after a create's request left: the create may have happened there */
		gr_error_set(err, EIO, "peer channel to %s: %s%s", addr, ebuf[0] ? ebuf : curl_easy_strerror(rc),
			     create ? " (the outcome is unknown: see gureum list)" : "");
	} else {
		json_t *j = b.data ? json_loads(b.data, 0, NULL) : NULL;
		if (create ? (status == 201 || status == 202) : (status >= 200 && status < 300)) {
			if (out)
				*out = json_incref(j);
			r = 0;
		} else {
			json_t *e = json_object_get(j, "error");
			const char *m = json_string_value(json_object_get(e, "message"));
			json_t *inst = json_object_get(e, "instance");
			if (create && out && json_is_object(inst))
				*out = json_incref(inst);
			gr_error_set(err, errno_named(json_string_value(json_object_get(e, "code"))), "%s",
				     m ? m : "failed (no error message)");
		}
		json_decref(j);
	}
	free(b.data);
	return r;
}

int gr_peer_create(const struct gr_peer_identity *id, const char *from, const char *host,
		   const json_t *peer, json_t *req, json_t **out, gr_error_t *err)
{
	return post_json(id, from, host, peer, "/v1/instances", req, true, out, err);
}

int gr_peer_post(const struct gr_peer_identity *id, const char *from, const char *host, const json_t *peer,
		 const char *path, json_t *req, json_t **out, gr_error_t *err)
{
	return post_json(id, from, host, peer, path, req, false, out, err);
}
