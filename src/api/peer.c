/*
 * peer.c - the server side of the peer channel (peer.h): a libmicrohttpd TLS listener
 * that asks every client for its certificate (MHD_OPTION_HTTPS_MEM_TRUST makes MHD send a
 * certificate request; this host's own certificate is the "trust" so the request names
 * CN=gureum-peer) and admits a request only when the fingerprint of the certificate the
 * client presented is one of the pool's host records.  The set of fingerprints is cached
 * and re-read from the store on a miss (at most twice a second), so a host that just
 * joined is accepted at its first call and a foreign certificate costs one store read.
 *
 * Threading: MHD_USE_THREAD_PER_CONNECTION as the API; an image stream is written by a
 * detached thread into a pipe MHD reads from, so a slow receiver only blocks that thread.
 */
#include "api/peer.h"
#include "api/api-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "control/control.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

struct gr_peer_server {
	struct gr_control *control;
	struct gr_api *api;          /* serves forwarded /v1/instances calls */
	const struct gr_peer_identity *id;
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;        /* protects the fields below */
	char **trusted;              /* fingerprints of the pool's host records */
	double refreshed;            /* monotonic seconds of the last read */
};

static bool in_list(char **l, const char *fp)
{
	for (size_t i = 0; l && l[i]; i++)
		if (!strcmp(l[i], fp))
			return true;
	return false;
}

/* Is fp a pool host's?  From the cache, else from the host records. */
static bool trusted(struct gr_peer_server *s, const char *fp)
{
	pthread_mutex_lock(&s->lock);
	bool ok = in_list(s->trusted, fp);
	bool stale = !ok && gr_mono_s() - s->refreshed > 0.5;
	pthread_mutex_unlock(&s->lock);
	if (ok || !stale)
		return ok;
	json_t *hl = NULL;
	gr_error_t err;
	if (gr_control_host_list(s->control, &hl, &err) < 0) {
		gr_log_warn("peer: reading the host records: %s", err.msg);
		return false;
	}
	json_t *hosts = json_object_get(hl, "hosts"), *h;
	size_t i, n = 0;
	char **l = xcalloc(json_array_size(hosts) + 1, sizeof *l);
	json_array_foreach(hosts, i, h) {
		const char *f = json_string_value(json_object_get(json_object_get(h, "peer"), "fingerprint"));
		if (f)
			l[n++] = xstrdup(f);
	}
	json_decref(hl);
	pthread_mutex_lock(&s->lock);
	gr_strv_free(s->trusted);
	s->trusted = l;
	s->refreshed = gr_mono_s();
	ok = in_list(s->trusted, fp);
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *code, const char *msg)
{
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	char *body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	size_t n = strlen(body);
	struct MHD_Response *r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char *client_addr(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, len, "?");
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf, (socklen_t)len);
	return buf;
}

/* The fingerprint of the client's certificate into fp, or false when it sent none. */
static bool client_fingerprint(struct MHD_Connection *conn, char fp[80])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (!certs || n == 0)
		return false;
	gr_peer_fingerprint(certs[0].data, certs[0].size, fp);
	return true;
}

struct export_job {
	struct gr_control *control;
	char *name;
	int fd;
};

static void *export_main(void *p)
{
	struct export_job *j = p;
	gr_error_t err;
	if (gr_control_image_export(j->control, j->name, j->fd, &err) < 0)
		gr_log_warn("peer: sending image %s: %s", j->name, err.msg);
	close(j->fd);
	free(j->name);
	free(j);
	return NULL;
}

static enum MHD_Result send_image(struct gr_peer_server *s, struct MHD_Connection *conn, const char *name,
				  const char *who)
{
	json_t *info = NULL;
	gr_error_t err;
	if (gr_control_image_get(s->control, name, &info, &err) < 0)
		return reply(conn, err.code == ENOENT ? 404 : err.code == EINVAL ? 400 : 500,
			     err.code == ENOENT ? "ENOENT" : err.code == EINVAL ? "EINVAL" : "EIO", err.msg);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		json_decref(info);
		return reply(conn, 500, "EIO", "pipe failed");
	}
	struct export_job *j = xcalloc(1, sizeof *j);
	*j = (struct export_job){ .control = s->control, .name = xstrdup(name), .fd = p[1] };
	pthread_t t;
	if (pthread_create(&t, NULL, export_main, j)) {
		close(p[0]);
		close(p[1]);
		free(j->name);
		free(j);
		json_decref(info);
		return reply(conn, 503, "EAGAIN", "cannot start a thread");
	}
	pthread_detach(t);
	struct MHD_Response *r = MHD_create_response_from_pipe(p[0]);
	MHD_add_response_header(r, "Content-Type", "application/x-tar");
	const char *sum = json_string_value(json_object_get(info, "checksum"));
	const char *kind = json_string_value(json_object_get(info, "kind"));
	if (sum)
		MHD_add_response_header(r, "X-Gureum-Image-Checksum", sum);
	if (kind)
		MHD_add_response_header(r, "X-Gureum-Image-Kind", kind);
	gr_log_info("peer: sending image %s (%s) to %s", name, sum ? sum : "?", who);
	json_decref(info);
	enum MHD_Result ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

struct body {
	char *data;
	size_t len;
	bool too_big;
};

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct body *b = *con_cls;
	if (b) {
		free(b->data);
		free(b);
	}
	*con_cls = NULL;
}

/* POST /v1/peer/moves/NAME/{prepare,finish,abort}: the target's part of a live move. */
static enum MHD_Result move_call(struct gr_peer_server *s, struct MHD_Connection *conn, const char *rest,
				 const struct body *b, const char *who)
{
	char name[80], what[16];
	const char *slash = strchr(rest, '/');
	if (!slash || (size_t)(slash - rest) >= sizeof name || strlen(slash + 1) >= sizeof what)
		return reply(conn, 404, "ENOENT", "no such peer route");
	memcpy(name, rest, (size_t)(slash - rest));
	name[slash - rest] = 0;
	snprintf(what, sizeof what, "%s", slash + 1);
	if (b->too_big)
		return reply(conn, 413, "EFBIG", "request body too large");
	json_error_t je;
	json_t *req = b->len ? json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &je) : json_object();
	if (!json_is_object(req)) {
		json_decref(req);
		return reply(conn, 400, "EINVAL", "body: expected a JSON object");
	}
	gr_log_info("peer: move %s: %s asked by %s", name, what, who);
	json_t *out = NULL;
	gr_error_t err = { 0 };
	int r;
	if (!strcmp(what, "prepare"))
		r = gr_control_move_prepare(s->control, name, req, &out, &err);
	else if (!strcmp(what, "finish"))
		r = gr_control_move_finish(s->control, name, req, &out, &err);
	else if (!strcmp(what, "abort"))
		r = gr_control_move_abort(s->control, name, req, &out, &err);
	else
		r = gr_error_set(&err, ENOENT, "no such move step '%s'", what);
	json_decref(req);
	if (r < 0) {
		const char *code = strerrorname_np(err.code) ? strerrorname_np(err.code) : "EIO";
		return reply(conn, err.code == ENOENT ? 404 : err.code == EINVAL ? 400 : 500, code, err.msg);
	}
	char *body = json_dumps(out ? out : json_object(), JSON_COMPACT);
	json_decref(out);
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size,
			      void **con_cls)
{
	struct gr_peer_server *s = cls;
	struct body *b = *con_cls;
	if (!b) {
		*con_cls = xcalloc(1, sizeof *b);
		return MHD_YES;
	}
	if (*upload_data_size) { /* only forwarded calls take a body */
		if (!b->too_big && (!strncmp(url, "/v1/instances", 13) || !strncmp(url, "/v1/peer/moves/", 15))) {
			if (b->len + *upload_data_size > GR_API_MAX_BODY) {
				b->too_big = true;
			} else {
				b->data = xrealloc(b->data, b->len + *upload_data_size + 1);
				memcpy(b->data + b->len, upload_data, *upload_data_size);
				b->len += *upload_data_size;
				b->data[b->len] = '\0';
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	char addr[64], fp[80];
	client_addr(conn, addr, sizeof addr);
	if (!client_fingerprint(conn, fp)) {
		gr_log_warn("peer: refused %s %s from %s: no client certificate", method, url, addr);
		return reply(conn, 403, "EACCES", "a client certificate of a pool host is required");
	}
	if (!trusted(s, fp)) {
		gr_log_warn("peer: refused %s %s from %s: certificate %s is no pool host's", method, url, addr, fp);
		return reply(conn, 403, "EACCES", "this certificate is not a host of this pool");
	}
	/* calls forwarded by a pool host: a create placed here, or a call on one instance */
	if (s->api && ((!strcmp(url, "/v1/instances") && !strcmp(method, "POST")) ||
		       (!strncmp(url, "/v1/instances/", 14) && url[14]))) {
		const char *from = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, GR_PEER_FORWARDED);
		gr_log_info("peer: %s %s forwarded by %s (%s)", method, url, from ? from : "?", addr);
		if (b->too_big)
			return reply(conn, 413, "EFBIG", "request body too large");
		return gr__api_route(s->api, conn, method, url, b->data ? b->data : "", b->len, true);
	}
	if (strncmp(url, "/v1/peer/", 9)) {
		gr_log_warn("peer: refused %s %s from %s: not a peer route", method, url, addr);
		return reply(conn, 403, "EACCES", "only /v1/peer/ routes are served on this port");
	}
	const char *rest = url + 9;
	if (!strncmp(rest, "moves/", 6) && !strcmp(method, "POST"))
		return move_call(s, conn, rest + 6, b, addr);
	if (strcmp(method, "GET"))
		return reply(conn, 405, "EINVAL", "only GET is served on this port");
	if (!strcmp(rest, "ping")) {
		char *body = xasprintf("{\"host\":\"%s\"}\n", gr_control_host_name(s->control));
		struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(r, "Content-Type", "application/json");
		enum MHD_Result ret = MHD_queue_response(conn, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!strncmp(rest, "images/", 7) && rest[7] && !strchr(rest + 7, '/')) {
		return send_image(s, conn, rest + 7, addr);
	}
	return reply(conn, 404, "ENOENT", "no such peer route");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = 0;
	gr_log_debug("peer http: %s", buf);
}

static int listen_on(const char *addr, gr_error_t *err)
{
	_cleanup_free_ char *host = xstrdup(addr);
	char *colon = strrchr(host, ':');
	if (!colon)
		return gr_error_set(err, EINVAL, "--peer-listen %s: expected IP:PORT", addr);
	*colon = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return gr_error_set(err, EINVAL, "--peer-listen %s: bad port", addr);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return gr_error_set(err, EINVAL, "--peer-listen %s: bad IPv4 address", addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gr_error_sys(err, "socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
		gr_error_sys(err, "--peer-listen %s", addr);
		close(fd);
		return -1;
	}
	return fd;
}

int gr_peer_start(const char *addr, const struct gr_peer_identity *id, struct gr_control *c,
		  struct gr_api *api, struct gr_peer_server **out, gr_error_t *err)
{
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return gr_error_set(err, EOPNOTSUPP, "libmicrohttpd was built without TLS");
	int fd = listen_on(addr, err);
	if (fd < 0)
		return -1;
	struct gr_peer_server *s = xcalloc(1, sizeof *s);
	s->control = c;
	s->api = api;
	s->id = id;
	pthread_mutex_init(&s->lock, NULL);
	s->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					  MHD_USE_ERROR_LOG | MHD_USE_TLS | MHD_ALLOW_UPGRADE,
				  0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_HTTPS_MEM_KEY, id->key_pem,
				  MHD_OPTION_HTTPS_MEM_CERT, id->cert_pem, MHD_OPTION_HTTPS_MEM_TRUST,
				  id->cert_pem, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
	if (!s->mhd) {
		close(fd);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return gr_error_set(err, EIO, "cannot serve the peer channel on %s", addr);
	}
	gr_log_info("peer: listening on %s (mutual TLS, fingerprint %s)", addr, id->fingerprint);
	*out = s;
	return 0;
}

void gr_peer_stop(struct gr_peer_server *s)
{
	if (!s)
		return;
	/* streams served for other hosts (a forwarded logs --follow) end on the API's flag:
	 * the API stops right after this */
	if (s->api)
		atomic_store(&s->api->stopping, true);
	MHD_stop_daemon(s->mhd);
	gr_strv_free(s->trusted);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
