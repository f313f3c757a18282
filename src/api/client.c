/*
 * client.c - the API client the `gureum` CLI uses.  HTTP/1.1 is written
 * here (one request per connection, "Connection: close"; answers with a
 * length, chunked or ended by the close), over the daemon's unix socket (a
 * plain socket) or over HTTPS, where libcurl makes the TCP + TLS connection
 * in CONNECT_ONLY mode and carries our bytes.  libcurl is bound on first
 * HTTPS use (util/dl.h): a local call loads no TLS or HTTP library, whose
 * loading would cost more than a short command's whole round trip.
 * Stateless; each call makes its own connection, so calls may run on any
 * thread.  Depends only on util (the CLI links nothing else of the daemon).
 * When no whole answer comes, the message says why in the user's words and
 * names the socket or URL (connect_error, transport_error); libcurl's own
 * wording appears only as the detail of a TLS failure.
 */
#include "api/api.h"

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "api/ws.h"
#include "util/alloc.h"
#include "util/dl.h"
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


/* ---- libcurl, bound on first HTTPS use ---- */

static struct {
	typeof(curl_global_init) *global_init;
	typeof(curl_easy_init) *easy_init;
	typeof(curl_easy_setopt) *easy_setopt;
	typeof(curl_easy_perform) *easy_perform;
	typeof(curl_easy_getinfo) *easy_getinfo;
	typeof(curl_easy_cleanup) *easy_cleanup;
	typeof(curl_easy_strerror) *easy_strerror;
	typeof(curl_easy_send) *easy_send;
	typeof(curl_easy_recv) *easy_recv;
} cu;

static int curl_bind(gr_error_t *err)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static bool bound;
	static const char *const names[] = { "curl_global_init", "curl_easy_init", "curl_easy_setopt",
					     "curl_easy_perform", "curl_easy_getinfo", "curl_easy_cleanup",
					     "curl_easy_strerror", "curl_easy_send", "curl_easy_recv" };
	void *f[sizeof names / sizeof *names];
	int r = 0;
	pthread_mutex_lock(&lock);
	if (!bound) {
		r = gr_dl_bind("libcurl-gnutls.so.4", "libcurl3-gnutls", names, f, sizeof names / sizeof *names,
			       err);
		if (r == 0) {
			cu.global_init = (typeof(cu.global_init))f[0];
			cu.easy_init = (typeof(cu.easy_init))f[1];
			cu.easy_setopt = (typeof(cu.easy_setopt))f[2];
			cu.easy_perform = (typeof(cu.easy_perform))f[3];
			cu.easy_getinfo = (typeof(cu.easy_getinfo))f[4];
			cu.easy_cleanup = (typeof(cu.easy_cleanup))f[5];
			cu.easy_strerror = (typeof(cu.easy_strerror))f[6];
			cu.easy_send = (typeof(cu.easy_send))f[7];
			cu.easy_recv = (typeof(cu.easy_recv))f[8];
			cu.global_init(CURL_GLOBAL_DEFAULT);
			bound = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* What a user should read when libcurl could not make the connection (rc on h). */
static int transport_error(const struct gr_client *c, CURL *h, CURLcode rc, const char *detail,
			   gr_error_t *err)
{
	long os_errno = 0;
	cu.easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	const char *w = where(c);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return connect_error(c, os_errno, err);
	case CURLE_COULDNT_RESOLVE_HOST:
		return gr_error_set(err, ENOENT, "cannot resolve the host name in %s (fix GUREUM_URL or --url)", w);
	case CURLE_OPERATION_TIMEDOUT:
		return gr_error_set(err, ETIMEDOUT, "timed out after %ld s connecting to gureumd on %s",
				    CONNECT_TIMEOUT_S, w);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return gr_error_set(err, EPROTO, "TLS with %s failed: %s (check --cacert or GUREUM_CACERT)",
				    w, detail && *detail ? detail : cu.easy_strerror(rc));
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return gr_error_set(err, EINVAL, "%s is not a URL gureum can use (expected https://HOST:PORT)", w);
	default:
		return gr_error_set(err, EIO, "connecting to gureumd on %s failed: %s", w,
				    detail && *detail ? detail : cu.easy_strerror(rc));
	}
}

/* ---- one connection: the unix socket, or libcurl's TLS (or TCP) stream ---- */

struct conn {
	const struct gr_client *c;
	int fd;
	CURL *h;                     /* HTTPS: libcurl's connection; NULL on the unix socket */
	int64_t deadline;            /* CLOCK_MONOTONIC ms; 0 = none */
};

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Milliseconds poll() may wait before the deadline (-1: no deadline). */
static int wait_ms(const struct conn *k)
{
	if (!k->deadline)
		return -1;
	int64_t left = k->deadline - now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static void conn_close(struct conn *k)
{
	if (k->h)
		cu.easy_cleanup(k->h);
	else if (k->fd >= 0)
		close(k->fd);
	k->h = NULL;
	k->fd = -1;
}

static int conn_open(const struct gr_client *c, long timeout_s, struct conn *k, gr_error_t *err)
{
	*k = (struct conn){ .c = c, .fd = -1, .deadline = timeout_s > 0 ? now_ms() + timeout_s * 1000 : 0 };
	if (!c->url) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(c->unix_path) >= sizeof sa.sun_path)
			return gr_error_set(err, ENAMETOOLONG, "the socket path %s is longer than %zu bytes "
					    "(point GUREUM_SOCKET or --socket at a shorter path)", c->unix_path,
					    sizeof sa.sun_path - 1);
		strcpy(sa.sun_path, c->unix_path);
		k->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (k->fd < 0)
			return gr_error_sys(err, "socket");
		if (connect(k->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			int e = errno;
			conn_close(k);
			return connect_error(c, e, err);
		}
		return 0;
	}
	if (curl_bind(err) < 0)
		return -1;
	k->h = cu.easy_init();
	if (!k->h)
		return gr_error_set(err, ENOMEM, "curl_easy_init failed");
	char detail[CURL_ERROR_SIZE] = "";
	cu.easy_setopt(k->h, CURLOPT_URL, c->url);
	if (c->cacert)
		cu.easy_setopt(k->h, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		cu.easy_setopt(k->h, CURLOPT_SSL_VERIFYPEER, 0L);
		cu.easy_setopt(k->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	cu.easy_setopt(k->h, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(k->h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	cu.easy_setopt(k->h, CURLOPT_ERRORBUFFER, detail);
	cu.easy_setopt(k->h, CURLOPT_CONNECT_ONLY, 1L);
	CURLcode rc = cu.easy_perform(k->h);
	cu.easy_setopt(k->h, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		transport_error(c, k->h, rc, detail, err);
		conn_close(k);
		return -1;
	}
	curl_socket_t s = CURL_SOCKET_BAD;
	cu.easy_getinfo(k->h, CURLINFO_ACTIVESOCKET, &s);
	k->fd = (int)s;
	return 0;
}

/* Send it all: 0, or -1 the connection broke (or the deadline passed). */
static int conn_send(struct conn *k, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		size_t sent = 0;
		if (!k->h) {
			ssize_t n = send(k->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			sent = (size_t)n;
		} else {
			CURLcode rc = cu.easy_send(k->h, p, len, &sent);
			if (rc == CURLE_AGAIN) {
				struct pollfd pf = { .fd = k->fd, .events = POLLOUT };
				int w = wait_ms(k);
				if (w == 0 || poll(&pf, 1, w < 0 || w > 1000 ? 1000 : w) < 0)
					return -1;
				continue;
			}
			if (rc != CURLE_OK)
				return -1;
		}
		p += sent;
		len -= sent;
	}
	return 0;
}

enum { RECV_CLOSED = 0, RECV_BROKEN = -1, RECV_TIMEOUT = -2, RECV_NONE = -3 };

/* Read what comes: > 0 bytes, RECV_CLOSED (the daemon closed), RECV_BROKEN,
 * RECV_TIMEOUT (nothing before the deadline) or, when !wait, RECV_NONE
 * (nothing there now). */
static ssize_t conn_recv(struct conn *k, void *buf, size_t cap, bool wait)
{
	for (;;) {
		if (!k->h) {
			ssize_t n = recv(k->fd, buf, cap, MSG_DONTWAIT);
			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return RECV_BROKEN;
		} else {
			size_t got = 0;
			CURLcode rc = cu.easy_recv(k->h, buf, cap, &got);
			if (rc == CURLE_OK)
				return (ssize_t)got;
			if (rc != CURLE_AGAIN)
				return RECV_BROKEN;
		}
		if (!wait)
			return RECV_NONE;
		struct pollfd pf = { .fd = k->fd, .events = POLLIN };
		int w = wait_ms(k);
		if (w == 0)
			return RECV_TIMEOUT;
		if (poll(&pf, 1, w) < 0 && errno != EINTR)
			return RECV_BROKEN;
	}
}

/* ---- HTTP/1.1 ---- */

/* "Host" and the path prefix of the URL (https://HOST:PORT[/PREFIX]). */
static void url_parts(const struct gr_client *c, char **host, char **prefix)
{
	if (!c->url) {
		*host = xstrdup("localhost");
		*prefix = xstrdup("");
		return;
	}
	const char *h = strstr(c->url, "://");
	h = h ? h + 3 : c->url;
	size_t hl = strcspn(h, "/");
	*host = xstrndup(h, hl);
	const char *p = h + hl;
	size_t pl = strlen(p);
	while (pl && p[pl - 1] == '/')
		pl--;
	*prefix = xstrndup(p, pl);
}

static char *request_head(const struct gr_client *c, const char *method, const char *path,
			  const char *extra, size_t body_len, bool has_body)
{
	_cleanup_free_ char *host = NULL, *prefix = NULL;
	url_parts(c, &host, &prefix);
	_cleanup_free_ char *auth = c->token ? xasprintf("Authorization: Bearer %s\r\n", c->token) : xstrdup("");
	_cleanup_free_ char *len = has_body ? xasprintf("Content-Type: application/json\r\n"
							"Content-Length: %zu\r\n", body_len) : xstrdup("");
	return xasprintf("%s %s%s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", method, prefix, path, host, auth, len,
			 extra);
}

struct sink {
	char *buf;
	size_t len;
	gr_client_data_fn fn;        /* streams: where a 2xx body goes */
	void *ud;
	bool pass;                   /* streams: this answer goes to fn */
	bool too_big, fn_stopped;
};

static int sink_put(struct sink *s, const char *p, size_t len)
{
	if (!len)
		return 0;
	if (s->fn && s->pass) {
		if (s->fn(p, len, s->ud) < 0) {
			s->fn_stopped = true;
			return -1;
		}
		return 0;
	}
	if (s->len + len > ANSWER_MAX) {
		s->too_big = true;
		return -1;
	}
	s->buf = xrealloc(s->buf, s->len + len + 1);
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = 0;
	return 0;
}

/* An answer's body as it comes: known length, chunked, or up to the close. */
struct body {
	enum { B_LEN, B_CLOSE, B_CHUNK_SIZE, B_CHUNK_DATA, B_CHUNK_END, B_TRAILER, B_DONE } st;
	uint64_t left;               /* B_LEN, B_CHUNK_DATA: bytes still to come */
	char line[64];               /* B_CHUNK_SIZE, B_CHUNK_END, B_TRAILER: the line so far */
	size_t line_len;
	bool bad;                    /* the chunked framing is broken */
};

/* A line of the chunked framing is complete (CR stripped). */
static void body_line(struct body *b)
{
	char *l = b->line;
	if (b->line_len && l[b->line_len - 1] == '\r')
		l[--b->line_len] = 0;
	if (b->st == B_CHUNK_END) {
		if (b->line_len)
			b->bad = true;
		b->st = B_CHUNK_SIZE;
	} else if (b->st == B_CHUNK_SIZE) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(l, &end, 16);
		if (end == l || errno || (*end && *end != ';' && *end != ' '))
			b->bad = true;
		b->left = n;
		b->st = n ? B_CHUNK_DATA : B_TRAILER;
	} else if (b->st == B_TRAILER && !b->line_len) {
		b->st = B_DONE;
	}
	b->line_len = 0;
}

/* Take n bytes of the body: 0, or -1 (the sink refused, or bad framing). */
static int body_feed(struct body *b, struct sink *s, const char *p, size_t n)
{
	while (n && b->st != B_DONE && !b->bad) {
		if (b->st == B_LEN || b->st == B_CLOSE || b->st == B_CHUNK_DATA) {
			size_t take = b->st == B_CLOSE || n < b->left ? n : (size_t)b->left;
			if (sink_put(s, p, take) < 0)
				return -1;
			p += take;
			n -= take;
			if (b->st != B_CLOSE && !(b->left -= take))
				b->st = b->st == B_LEN ? B_DONE : B_CHUNK_END;
			continue;
		}
		char ch = *p++;
		n--;
		if (ch == '\n') {
			b->line[b->line_len] = 0;
			body_line(b);
		} else if (b->line_len + 1 < sizeof b->line) {
			b->line[b->line_len++] = ch;
		} else if (b->st != B_TRAILER) {
			b->bad = true;   /* a chunk size line longer than any real one */
		}
	}
	return b->bad ? -1 : 0;
}

/* The value of header `name` in an answer's head (NUL-terminated), or NULL. */
static const char *header_value(const char *head, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1;
			v += strspn(v, " \t");
			*len = strcspn(v, "\r");
			return v;
		}
	}
	return NULL;
}

/* Read an answer's head into a buffer: 0 with *hlen = the head's length
 * (the buffer may hold the body's first bytes after it), or -1 with err. */
static int read_head(struct conn *k, char **buf, size_t *len, size_t *hlen, const char *method,
		     const char *path, long timeout_s, gr_error_t *err)
{
	size_t cap = 4096;
	*buf = xmalloc(cap + 1);
	*len = 0;
	for (;;) {
		char *end = *len >= 4 ? memmem(*buf, *len, "\r\n\r\n", 4) : NULL;
		if (end) {
			*hlen = (size_t)(end - *buf) + 4;
			return 0;
		}
		if (*len == cap) {
			if (cap >= 65536)
				return gr_error_set(err, EPROTO, "the answer of gureumd on %s to %s %s has a head "
						    "larger than 64 KiB", where(k->c), method, path);
			cap *= 2;
			*buf = xrealloc(*buf, cap + 1);
		}
		ssize_t n = conn_recv(k, *buf + *len, cap - *len, true);
		if (n == RECV_TIMEOUT)
			return gr_error_set(err, ETIMEDOUT, "timed out after %ld s waiting for gureumd on %s "
					    "to answer %s %s (--timeout, GUREUM_TIMEOUT)", timeout_s,
					    where(k->c), method, path);
		if (n <= 0)
			return gr_error_set(err, ECONNRESET, "gureumd closed the connection on %s before "
					    "answering %s %s (it stopped or crashed; see its log)",
					    where(k->c), method, path);
		*len += (size_t)n;
		(*buf)[*len] = 0;
	}
}

static int perform(const struct gr_client *c, const char *method, const char *path, json_t *body,
		   struct sink *sink, long *status, gr_error_t *err)
{
	*status = 0;
	long timeout_s = sink->fn ? 0 : c->timeout_s;
	struct conn k;
	if (conn_open(c, timeout_s, &k, err) < 0)
		return -1;
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	_cleanup_free_ char *req = request_head(c, method, path, "Accept: application/json\r\n"
						"Connection: close\r\n", text ? strlen(text) : 0, text);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, hlen = 0;
	int r = -1;
	if (conn_send(&k, req, strlen(req)) < 0 || (text && conn_send(&k, text, strlen(text)) < 0)) {
		/* the daemon may have answered (and closed) before taking the whole request */
		if (read_head(&k, &buf, &len, &hlen, method, path, timeout_s, err) < 0)
			goto out;
	} else if (read_head(&k, &buf, &len, &hlen, method, path, timeout_s, err) < 0) {
		goto out;
	}
	if (strncmp(buf, "HTTP/1.", 7) || len < 12 || (*status = strtol(buf + 9, NULL, 10)) < 100) {
		gr_error_set(err, EPROTO, "gureumd on %s did not answer %s %s in HTTP", where(c), method, path);
		goto out;
	}
	sink->pass = *status >= 200 && *status <= 299;
	struct body b = { .st = B_CLOSE };
	size_t vl;
	const char *v;
	if (*status == 204 || *status == 304 || !strcmp(method, "HEAD")) {
		b.st = B_DONE;
	} else if ((v = header_value(buf, "Transfer-Encoding", &vl)) && vl >= 7 &&
		   !strncasecmp(v + vl - 7, "chunked", 7)) {
		b.st = B_CHUNK_SIZE;
	} else if ((v = header_value(buf, "Content-Length", &vl))) {
		b.st = B_LEN;
		b.left = strtoull(v, NULL, 10);
		if (!b.left)
			b.st = B_DONE;
	}
	char chunk[16384];
	const char *p = buf + hlen;
	size_t n = len - hlen;
	for (;;) {
		if (body_feed(&b, sink, p, n) < 0)
			break;
		if (b.st == B_DONE)
			break;
		ssize_t got = conn_recv(&k, chunk, sizeof chunk, true);
		if (got == RECV_CLOSED && b.st == B_CLOSE) {
			b.st = B_DONE;
			break;
		}
		if (got == RECV_TIMEOUT) {
			gr_error_set(err, ETIMEDOUT, "timed out after %ld s waiting for gureumd on %s to "
				     "answer %s %s (--timeout, GUREUM_TIMEOUT)", timeout_s, where(c), method, path);
			goto out;
		}
		if (got <= 0)
			break;
		p = chunk;
		n = (size_t)got;
	}
	if (sink->too_big)
		gr_error_set(err, EFBIG, "the answer of gureumd on %s to %s %s is larger than %u MiB",
			     where(c), method, path, ANSWER_MAX >> 20);
	else if (sink->fn_stopped)
		gr_error_set(err, EPIPE, "%s %s: the output could not be written", method, path);
	else if (b.bad)
		gr_error_set(err, EPROTO, "gureumd on %s sent a damaged answer to %s %s", where(c), method, path);
	else if (b.st != B_DONE)
		gr_error_set(err, ECONNRESET, "the connection to gureumd on %s broke during %s %s, "
			     "before the whole answer came (it stopped or crashed; see its log)",
			     where(c), method, path);
	else
		r = 0;
out:
	conn_close(&k);
	return r;
}

int gr_client_request(const struct gr_client *c, const char *method, const char *path,
		      json_t *body, long *status, json_t **resp, gr_error_t *err)
{
	struct sink s = { 0 };
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
	struct sink s = { .fn = fn, .ud = ud };
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
	struct conn k;
	struct gr_ws_decoder dec;
	bool closed;
};

static int ws_send_raw(struct gr_client_ws *w, const void *data, size_t len, gr_error_t *err)
{
	if (conn_send(&w->k, data, len) < 0)
		return gr_error_set(err, ECONNRESET, "the connection to gureumd broke (it stopped or "
				    "crashed; see its log)");
	return 0;
}

/* Read what is there into the decoder: 1 got bytes, 0 nothing now, -1 closed. */
static int ws_pull(struct gr_client_ws *w)
{
	char buf[16384];
	ssize_t got = conn_recv(&w->k, buf, sizeof buf, false);
	if (got == RECV_NONE)
		return 0;
	if (got <= 0) {
		w->closed = true;
		return -1;
	}
	gr_ws_feed(&w->dec, buf, (size_t)got);
	return 1;
}

int gr_client_ws_open(const struct gr_client *c, const char *path, struct gr_client_ws **out,
		      gr_error_t *err)
{
	struct gr_client_ws *w = xcalloc(1, sizeof *w);
	w->k.fd = -1;
	_cleanup_free_ char *key = gr_ws_client_key();
	_cleanup_free_ char *extra = xasprintf("Upgrade: websocket\r\nConnection: Upgrade\r\n"
					       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key);
	_cleanup_free_ char *req = request_head(c, "GET", path, extra, 0, false);
	if (conn_open(c, 0, &w->k, err) < 0)
		goto fail;
	/* the upgrade request; the answer's status line is checked */
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
		struct pollfd pf = { .fd = w->k.fd, .events = POLLIN };
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
	return w->k.fd;
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
	conn_close(&w->k);
	gr_ws_decoder_clear(&w->dec);
	free(w);
}
