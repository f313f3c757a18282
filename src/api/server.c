/*
 * server.c - the HTTP side of the API: libmicrohttpd daemons on the unix
 * socket and on TLS TCP, request body collection with a size cap, bearer
 * token auth on TCP, API latency figures, and the reply helpers routes.c uses.
 *
 * Threading: MHD_USE_THREAD_PER_CONNECTION, so a handler may block on host
 * work (container start, exec) without stalling other clients or the
 * daemon's loop.  The unix socket is created here (mode 0600: root only, so
 * its callers are admins) and handed to MHD as a listen socket.
 * Invariant: every request gets exactly one response; a body above
 * GR_API_MAX_BODY is answered 413 without being stored.
 */
#include "api/api-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

struct req_ctx {
	char *body;
	size_t len, cap;
	bool too_big;
	struct timespec t0;
};

static const double lat_bounds[GR_API_LAT_BUCKETS] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5 };

static double now_s(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static void record_latency(struct gr_api *a, double secs)
{
	for (int i = 0; i < GR_API_LAT_BUCKETS; i++)
		if (secs <= lat_bounds[i])
			atomic_fetch_add(&a->lat_bucket[i], 1);
	atomic_fetch_add(&a->lat_count, 1);
	atomic_fetch_add(&a->lat_sum_us, (uint64_t)(secs * 1e6));
}

char *gr__api_latency_metrics(struct gr_api *a)
{
	char *out = xstrdup("# HELP gureum_api_request_duration_seconds API request latency.\n"
			    "# TYPE gureum_api_request_duration_seconds histogram\n");
	for (int i = 0; i < GR_API_LAT_BUCKETS; i++) {
		char *n = xasprintf("%sgureum_api_request_duration_seconds_bucket{le=\"%g\"} %llu\n", out,
				    lat_bounds[i], (unsigned long long)atomic_load(&a->lat_bucket[i]));
		free(out);
		out = n;
	}
	unsigned long long cnt = atomic_load(&a->lat_count);
	char *n = xasprintf("%sgureum_api_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
			    "gureum_api_request_duration_seconds_sum %.6f\n"
			    "gureum_api_request_duration_seconds_count %llu\n",
			    out, cnt, (double)atomic_load(&a->lat_sum_us) / 1e6, cnt);
	free(out);
	return n;
}

/* ---- replies ---- */

enum MHD_Result gr__api_reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
			      char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", ctype);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result gr__api_reply_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		s = xstrdup("{}");
	size_t n = strlen(s);
	char *body = xmalloc(n + 2);
	memcpy(body, s, n);
	body[n] = '\n';
	body[n + 1] = 0;
	free(s);
	return gr__api_reply(conn, status, "application/json", body, n + 1);
}

enum MHD_Result gr__api_reply_error_with(struct MHD_Connection *conn, const gr_error_t *err,
					 const char *key, json_t *extra)
{
	int code = err->code ? err->code : EIO;
	const char *name = strerrorname_np(code);
	unsigned status = code == EOPNOTSUPP || code == ENOSYS ? 501 : (unsigned)gr_error_http_status(err);
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", name ? name : "EIO", "message",
			      err->msg[0] ? err->msg : strerror(code));
	if (!j) /* message not valid UTF-8 */
		j = json_pack("{s:{s:s,s:s}}", "error", "code", name ? name : "EIO", "message",
			      "(unprintable error message)");
	if (key && extra)
		json_object_set_new(json_object_get(j, "error"), key, extra);
	else
		json_decref(extra);
	return gr__api_reply_json(conn, status, j);
}

enum MHD_Result gr__api_reply_error(struct MHD_Connection *conn, const gr_error_t *err)
{
	return gr__api_reply_error_with(conn, err, NULL, NULL);
}

enum MHD_Result gr__api_fail(struct MHD_Connection *conn, int code, const char *fmt, ...)
{
	gr_error_t err;
	va_list ap;
	va_start(ap, fmt);
	err.code = code;
	vsnprintf(err.msg, sizeof err.msg, fmt, ap);
	va_end(ap);
	return gr__api_reply_error(conn, &err);
}

/* ---- auth ---- */

bool gr_api_role_allows(const char *role, const char *method)
{
	if (!role)
		return false;
	if (!strcmp(role, "admin"))
		return true;
	if (!strcmp(role, "viewer"))
		return !strcmp(method, "GET") || !strcmp(method, "HEAD");
	return false;
}

static const char *bearer(struct MHD_Connection *conn)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* ---- the access handler ---- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls, bool tcp)
{
	struct gr_api *a = cls;
	struct req_ctx *rc = *con_cls;
	if (!rc) {
		rc = xcalloc(1, sizeof *rc);
		clock_gettime(CLOCK_MONOTONIC, &rc->t0);
		*con_cls = rc;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!rc->too_big) {
			if (rc->len + *upload_data_size > GR_API_MAX_BODY) {
				rc->too_big = true;
				free(rc->body);
				rc->body = NULL;
				rc->len = rc->cap = 0;
			} else {
				if (rc->len + *upload_data_size + 1 > rc->cap) {
					rc->cap = (rc->len + *upload_data_size + 1) * 2;
					rc->body = xrealloc(rc->body, rc->cap);
				}
				memcpy(rc->body + rc->len, upload_data, *upload_data_size);
				rc->len += *upload_data_size;
				rc->body[rc->len] = 0;
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (gr__api_is_ui(url)) /* the console's page and assets: no data, no token */
		return gr__api_ui(conn, method, url);
	const char *role = "admin"; /* the unix socket's callers are root */
	if (tcp) {
		const char *tok = bearer(conn);
		/* a browser's websocket cannot send headers: its token comes as a subprotocol */
		_cleanup_free_ char *ws_tok = tok ? NULL : gr__api_ws_token(conn);
		if (!tok)
			tok = ws_tok;
		role = tok && a->tokens ? gr_tokens_role(a->tokens, tok) : NULL;
		if (!role) {
			struct MHD_Response *r;
			char *b = xstrdup("{\"error\":{\"code\":\"EACCES\",\"message\":\"a valid bearer "
					  "token is required (Authorization: Bearer <token>)\"}}\n");
			r = MHD_create_response_from_buffer(strlen(b), b, MHD_RESPMEM_MUST_FREE);
			MHD_add_response_header(r, "Content-Type", "application/json");
			MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"gureum\"");
			enum MHD_Result ret = MHD_queue_response(conn, 401, r);
			MHD_destroy_response(r);
			return ret;
		}
		/* an upgrade (interactive exec) acts on the instance: not for viewers */
		bool upgrade = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade") != NULL;
		if (!gr_api_role_allows(role, upgrade ? "UPGRADE" : method))
			return gr__api_fail(conn, EPERM, "role '%s' may not %s %s", role, method, url);
	}
	if (!strcmp(url, "/v1/token"))
		return gr__api_token_info(conn, method, role);
	if (rc->too_big)
		return gr__api_fail(conn, EFBIG, "request body larger than %u bytes", GR_API_MAX_BODY);
	return gr__api_route(a, conn, method, url, rc->body ? rc->body : "", rc->len, false);
}

static enum MHD_Result handle_unix(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	return handle(cls, conn, url, method, version, upload_data, upload_data_size, con_cls, false);
}

static enum MHD_Result handle_tcp(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	return handle(cls, conn, url, method, version, upload_data, upload_data_size, con_cls, true);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct gr_api *a = cls;
	struct req_ctx *rc = *con_cls;
	if (!rc)
		return;
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	record_latency(a, now_s(&t1) - now_s(&rc->t0));
	free(rc->body);
	free(rc);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = 0;
	gr_log_debug("http: %s", buf);
}

static int listen_unix(const char *path, gr_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return gr_error_set(err, EINVAL, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (gr_mkdir_p(dir, 0711, err) < 0)
			return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gr_error_sys(err, "socket");
	unlink(path);
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		gr_error_sys(err, "listening on %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *addr, gr_error_t *err)
{
	_cleanup_free_ char *host = xstrdup(addr);
	char *colon = strrchr(host, ':');
	if (!colon)
		return gr_error_set(err, EINVAL, "--listen %s: expected HOST:PORT", addr);
	*colon = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return gr_error_set(err, EINVAL, "--listen %s: bad port", addr);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa.sin_addr) != 1)
		return gr_error_set(err, EINVAL, "--listen %s: bad IPv4 address", addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gr_error_sys(err, "socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 512) < 0) {
		gr_error_sys(err, "listening on %s", addr);
		close(fd);
		return -1;
	}
	return fd;
}

int gr_api_start(const struct gr_api_opts *o, struct gr_control *c, struct gr_api **out,
		 gr_error_t *err)
{
	struct gr_api *a = xcalloc(1, sizeof *a);
	a->control = c;
	a->peer_id = o->peer_id;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
	if (o->unix_path) {
		int fd = listen_unix(o->unix_path, err);
		if (fd < 0)
			goto fail;
		a->unix_path = xstrdup(o->unix_path);
		a->unix_mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle_unix, a,
					       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
					       MHD_OPTION_LISTEN_SOCKET, fd,
					       MHD_OPTION_NOTIFY_COMPLETED, completed, a,
					       					       MHD_OPTION_END);
		if (!a->unix_mhd) {
			close(fd);
			gr_error_set(err, EIO, "cannot serve HTTP on %s", o->unix_path);
			goto fail;
		}
	}
	if (o->tcp_addr) {
		if (!o->tokens_file) {
			gr_error_set(err, EINVAL, "--tokens: required with --listen (no token, no access)");
			goto fail;
		}
		if (gr_tokens_load(o->tokens_file, &a->tokens, err) < 0)
			goto fail;
		if (!o->tls_off && (!o->tls_cert || !o->tls_key)) {
			gr_error_set(err, EINVAL, "--tls-cert and --tls-key: required with --listen");
			goto fail;
		}
		if (!o->tls_off) {
			if (gr_read_file(o->tls_cert, 1 << 20, &a->cert, NULL, err) < 0 ||
			    gr_read_file(o->tls_key, 1 << 20, &a->key, NULL, err) < 0)
				goto fail;
			if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
				gr_error_set(err, EOPNOTSUPP, "libmicrohttpd was built without TLS");
				goto fail;
			}
		}
		int fd = listen_tcp(o->tcp_addr, err);
		if (fd < 0)
			goto fail;
		unsigned tflags = flags | (o->tls_off ? 0 : MHD_USE_TLS);
		if (o->tls_off)
			a->tcp_mhd = MHD_start_daemon(tflags, 0, NULL, NULL, handle_tcp, a,
						      MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
						      MHD_OPTION_LISTEN_SOCKET, fd,
						      MHD_OPTION_NOTIFY_COMPLETED, completed, a,
						      						      MHD_OPTION_END);
		else
			a->tcp_mhd = MHD_start_daemon(tflags, 0, NULL, NULL, handle_tcp, a,
						      MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
						      MHD_OPTION_LISTEN_SOCKET, fd,
						      MHD_OPTION_HTTPS_MEM_KEY, a->key,
						      MHD_OPTION_HTTPS_MEM_CERT, a->cert,
						      MHD_OPTION_NOTIFY_COMPLETED, completed, a,
						      						      MHD_OPTION_END);
		if (!a->tcp_mhd) {
			close(fd);
			gr_error_set(err, EIO, "cannot serve HTTPS on %s (check the certificate and key)",
				     o->tcp_addr);
			goto fail;
		}
	}
	*out = a;
	return 0;
fail:
	gr_api_stop(a);
	return -1;
}

void gr_api_stop(struct gr_api *a)
{
	if (!a)
		return;
	atomic_store(&a->stopping, true);
	gr__api_forward_stop();
	if (a->unix_mhd)
		MHD_stop_daemon(a->unix_mhd);
	if (a->tcp_mhd)
		MHD_stop_daemon(a->tcp_mhd);
	if (a->unix_path)
		unlink(a->unix_path);
	free(a->unix_path);
	gr_tokens_free(a->tokens);
	free(a->cert);
	free(a->key);
	free(a);
}
