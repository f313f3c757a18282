/*
 * ui.c - the web console's side of the API server (docs/WEB.md): the built
 * page at /ui/ (index.html and its content-hashed assets, served without a
 * token: they hold no data), GET /v1/token (the caller's role, so the page
 * knows what to offer), and the browser's way to present a token on a
 * websocket, which cannot carry an Authorization header: the subprotocol
 * "bearer.gureum.<base64url(token)>" offered beside "gureum.v1", which the
 * server then selects.  Header values are not logged; no token ever goes
 * in a URL.
 *
 * The asset folder is $GUREUM_UI_DIR, else web/ beside the binary's folder
 * (build/bin/gureumd -> build/web), else ../share/gureum/web from it; it is
 * looked up once.  Only plain file names in that folder are served (no
 * sub-folders, no dot files, no symlinks followed); index.html is "no-cache",
 * every other file is named by its content hash and "immutable".
 * Any thread: the folder is resolved under pthread_once, then read-only.
 */
#include "api/api-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/b64.h"

#define UI_CSP "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
	       "connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; " \
	       "form-action 'none'; frame-ancestors 'none'"
#define WS_PROTOCOL "gureum.v1"
#define WS_BEARER "bearer.gureum."

static pthread_once_t dir_once = PTHREAD_ONCE_INIT;
static char *ui_dir; /* NULL: not found; tried names what was looked at */
static char tried[2 * PATH_MAX + 64];

static bool has_index(const char *dir)
{
	_cleanup_free_ char *p = xasprintf("%s/index.html", dir);
	return access(p, R_OK) == 0;
}

static void find_dir(void)
{
	const char *env = getenv("GUREUM_UI_DIR");
	if (env && *env) {
		snprintf(tried, sizeof tried, "%s (GUREUM_UI_DIR)", env);
		if (has_index(env))
			ui_dir = xstrdup(env);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(tried, sizeof tried, "(the binary's path is unknown; set GUREUM_UI_DIR)");
		return;
	}
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	_cleanup_free_ char *beside = xasprintf("%s/../web", exe);
	_cleanup_free_ char *share = xasprintf("%s/../share/gureum/web", exe);
	snprintf(tried, sizeof tried, "%s or %s", beside, share);
	if (has_index(beside))
		ui_dir = realpath(beside, NULL);
	else if (has_index(share))
		ui_dir = realpath(share, NULL);
}

bool gr__api_is_ui(const char *url)
{
	return !strcmp(url, "/ui") || !strncmp(url, "/ui/", 4);
}

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },   { ".map", "application/json" },
		{ ".svg", "image/svg+xml" },             { ".png", "image/png" },
		{ ".ico", "image/x-icon" },              { ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

static bool plain_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-' || *s == '_'))
			return false;
	return true;
}

enum MHD_Result gr__api_ui(struct MHD_Connection *conn, const char *method, const char *url)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return gr__api_fail(conn, EINVAL, "%s %s: method not allowed (the console's files are "
				    "read with GET)", method, url);
	if (!strcmp(url, "/ui")) {
		struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Location", "/ui/");
		enum MHD_Result ret = MHD_queue_response(conn, 301, r);
		MHD_destroy_response(r);
		return ret;
	}
	pthread_once(&dir_once, find_dir);
	if (!ui_dir)
		return gr__api_fail(conn, ENOENT, "the web console is not installed: no index.html in %s "
				    "(build it with 'make web')", tried);
	const char *name = url + 4;
	bool index = !*name || !strcmp(name, "index.html");
	if (index)
		name = "index.html";
	if (!plain_name(name))
		return gr__api_fail(conn, ENOENT, "no such file in the web console: %s", url);
	_cleanup_free_ char *path = xasprintf("%s/%s", ui_dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return gr__api_fail(conn, ENOENT, "no such file in the web console: %s", url);
	}
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return gr__api_fail(conn, EIO, "cannot serve %s", url);
	}
	MHD_add_response_header(r, "Content-Type", content_type(name));
	MHD_add_response_header(r, "Cache-Control",
				index ? "no-cache" : "public, max-age=31536000, immutable");
	MHD_add_response_header(r, "Content-Security-Policy", UI_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	enum MHD_Result ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result gr__api_token_info(struct MHD_Connection *conn, const char *method,
				   const char *role)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return gr__api_fail(conn, EINVAL, "%s /v1/token: method not allowed", method);
	return gr__api_reply_json(conn, 200, json_pack("{s:s}", "role", role));
}

/* Is want (exactly, or as a prefix when prefix) one of the comma-separated subprotocols
 * in list?  Returns the item's start (in list) and its length, or NULL. */
static const char *offered(const char *list, const char *want, bool prefix, size_t *len)
{
	size_t wl = strlen(want);
	while (list && *list) {
		list += strspn(list, " \t,");
		size_t n = strcspn(list, " \t,");
		if (n && (n == wl || (prefix && n > wl)) && !strncmp(list, want, wl)) {
			*len = n;
			return list;
		}
		list += n;
	}
	return NULL;
}

bool gr__api_ws_offers_protocol(const char *protocols)
{
	size_t n;
	return offered(protocols, WS_PROTOCOL, false, &n) != NULL;
}

char *gr__api_ws_bearer(const char *protocols)
{
	size_t n;
	const char *p = offered(protocols, WS_BEARER, true, &n);
	if (!p || !gr__api_ws_offers_protocol(protocols))
		return NULL;
	p += strlen(WS_BEARER);
	n -= strlen(WS_BEARER);
	if (n > 4096 || n % 4 == 1) /* too long; a length base64 never has */
		return NULL;
	char *out;
	size_t o;
	if (gr_b64_decode(p, n, GR_B64_URL_CANONICAL, &out, &o) < 0)
		return NULL;
	/* empty or a NUL inside (one token, one spelling) */
	if (!o || strlen(out) != o) {
		free(out);
		return NULL;
	}
	return out;
}

static const char *protocols_of(struct MHD_Connection *conn)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Protocol");
}

const char *gr__api_ws_protocol(struct MHD_Connection *conn)
{
	return gr__api_ws_offers_protocol(protocols_of(conn)) ? WS_PROTOCOL : NULL;
}

char *gr__api_ws_token(struct MHD_Connection *conn)
{
	return gr__api_ws_bearer(protocols_of(conn));
}
