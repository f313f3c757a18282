/*
 * ws_exec.c - interactive exec over a websocket (protocol in ws.h).
 *
 * GET /v1/instances/NAME/exec with "Upgrade: websocket": the route checks the
 * instance, answers 101 (MHD_ALLOW_UPGRADE) and hands the socket to a session
 * thread.  The session reads the request frame, listens on a private unix
 * socket under the run folder, and starts the exec on a second thread
 * (gr_control_instance_exec_tty, which blocks until the process ends); the
 * driver sends the terminal's master side to that socket (the container runtime its
 * pty; the VM driver a host pty it bridges to the guest agent).  The session then
 * pumps websocket frames <-> the master until the process ends (then it sends
 * {"exit_code":N}) or the client goes away (then it closes the master, the
 * process gets SIGHUP, and the session waits for the exec thread).
 *
 * GET /v1/instances/NAME/console with Upgrade: for drivers that give a
 * console input (VMs: the serial port's unix socket), frames are pumped to and
 * from that socket until either side closes.
 */
#include "api/api-internal.h"
#include "api/ws.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "control/control.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

struct session {
	struct gr_api *api;
	char *name;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
	struct gr_ws_decoder dec;
	/* exec thread */
	json_t *req;
	char *console_path;
	int done_fd;                /* eventfd: the exec returned */
	int status;
	gr_error_t err;
	int rc;
};

static int send_frame(struct session *s, uint8_t op, const void *data, size_t len)
{
	uint8_t *f;
	size_t n = gr_ws_frame(op, data, len, false, &f);
	ssize_t w = gr_write_all(s->sock, f, n);
	free(f);
	return w == (ssize_t)n ? 0 : -1;
}

static void send_json(struct session *s, json_t *j)
{
	char *t = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (t) {
		send_frame(s, GR_WS_TEXT, t, strlen(t));
		free(t);
	}
}

static void send_error(struct session *s, const gr_error_t *err)
{
	const char *code = strerrorname_np(err->code);
	send_json(s, json_pack("{s:{s:s,s:s}}", "error", "code", code ? code : "EIO", "message",
			       err->msg));
}

/* Read until one whole frame is there (blocking, with a timeout). */
static int read_frame(struct session *s, int timeout_ms, uint8_t *op, uint8_t **p, size_t *n,
		      gr_error_t *err)
{
	for (;;) {
		int r = gr_ws_next(&s->dec, op, p, n, err);
		if (r != 0)
			return r;
		struct pollfd pf = { .fd = s->sock, .events = POLLIN };
		if (poll(&pf, 1, timeout_ms) <= 0)
			return gr_error_set(err, ETIMEDOUT, "websocket: no request frame");
		uint8_t buf[4096];
		ssize_t got = read(s->sock, buf, sizeof buf);
		if (got <= 0)
			return gr_error_set(err, ECONNRESET, "websocket: client went away");
		gr_ws_feed(&s->dec, buf, (size_t)got);
	}
}

static void *exec_main(void *p)
{
	struct session *s = p;
	s->rc = gr_control_instance_exec_tty(s->api->control, s->name, s->req, s->console_path,
					     &s->status, &s->err);
	uint64_t one = 1;
	if (write(s->done_fd, &one, sizeof one) < 0)
		gr_log_warn("exec session: eventfd: %s", strerror(errno));
	return NULL;
}

static int recv_fd(int sock)
{
	char data[1];
	struct iovec iov = { data, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof u.buf };
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

static void resize(int master, const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	json_t *r = json_object_get(j, "resize");
	if (json_array_size(r) == 2) {
		struct winsize ws = { .ws_col = (unsigned short)json_integer_value(json_array_get(r, 0)),
				      .ws_row = (unsigned short)json_integer_value(json_array_get(r, 1)) };
		if (master >= 0 && ws.ws_col && ws.ws_row)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	json_decref(j);
}

/* Act on the whole frames in s->dec.  Input that comes before the terminal
 * is kept in early.  Returns false when the client is done. */
static bool handle_frames(struct session *s, int master, struct gr_ws_decoder *early)
{
	uint8_t op, *p;
	size_t len;
	gr_error_t err;
	int r;
	bool more = true;
	while ((r = gr_ws_next(&s->dec, &op, &p, &len, &err)) == 1) {
		if (op == GR_WS_BINARY && master >= 0)
			gr_write_all(master, p, len);
		else if (op == GR_WS_BINARY && master == -1 && early->len < (1u << 20))
			gr_ws_feed(early, p, len);
		else if (op == GR_WS_TEXT)
			resize(master, (const char *)p);
		else if (op == GR_WS_PING)
			send_frame(s, GR_WS_PONG, p, len);
		else if (op == GR_WS_CLOSE)
			more = false;
		free(p);
	}
	return r < 0 ? false : more;
}

/* Pump until the exec ends or the client leaves. */
static void pump(struct session *s, int lfd)
{
	int master = -1;
	bool client_gone = false, exec_done = false;
	struct gr_ws_decoder early = { 0 }; /* input that came before the terminal */
	/* frames that arrived together with the request */
	client_gone = !handle_frames(s, master, &early);
	while (!exec_done) {
		struct pollfd pf[3] = {
			{ .fd = client_gone ? -1 : s->sock, .events = POLLIN },
			{ .fd = master >= 0 ? master : lfd, .events = POLLIN },
			{ .fd = s->done_fd, .events = POLLIN },
		};
		if (poll(pf, 3, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents) {
			if (master < 0) {
				int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				if (c >= 0) {
					master = recv_fd(c);
					close(c);
					if (master >= 0 && client_gone) {
						close(master); /* nobody to talk to: hang up */
						master = -2;
					} else if (master >= 0 && early.len) {
						gr_write_all(master, early.buf, early.len);
						early.len = 0;
					}
				}
			} else {
				uint8_t buf[16384];
				ssize_t n = read(master, buf, sizeof buf);
				if (n > 0) {
					if (!client_gone && send_frame(s, GR_WS_BINARY, buf, (size_t)n) < 0)
						client_gone = true;
				} else if (n < 0 && errno == EINTR) {
					continue;
				} else {
					close(master); /* EIO: the terminal's last user is gone */
					master = -2;
				}
			}
		}
		if (pf[0].revents) {
			uint8_t buf[16384];
			ssize_t n = read(s->sock, buf, sizeof buf);
			if (n <= 0) {
				client_gone = true;
			} else {
				gr_ws_feed(&s->dec, buf, (size_t)n);
				if (!handle_frames(s, master, &early))
					client_gone = true;
			}
			if (client_gone && master >= 0) {
				close(master); /* hang up: the process gets SIGHUP */
				master = -2;
			}
		}
		if (pf[2].revents)
			exec_done = true;
	}
	gr_ws_decoder_clear(&early);
	if (master >= 0) { /* drain what the process wrote last */
		uint8_t buf[16384];
		int fl = fcntl(master, F_GETFL);
		fcntl(master, F_SETFL, fl | O_NONBLOCK);
		ssize_t n;
		while (!client_gone && (n = read(master, buf, sizeof buf)) > 0)
			if (send_frame(s, GR_WS_BINARY, buf, (size_t)n) < 0)
				break;
		close(master);
	}
}

static void *session_main(void *p)
{
	struct session *s = p;
	static atomic_uint counter;
	gr_error_t err;
	uint8_t op, *payload = NULL;
	size_t len;
	int fl = fcntl(s->sock, F_GETFL);
	fcntl(s->sock, F_SETFL, fl & ~O_NONBLOCK);
	if (read_frame(s, 10000, &op, &payload, &len, &err) < 0) {
		send_error(s, &err);
		goto end;
	}
	json_error_t je;
	s->req = op == GR_WS_TEXT ? json_loads((char *)payload, JSON_REJECT_DUPLICATES, &je) : NULL;
	free(payload);
	if (!json_is_object(s->req)) {
		gr_error_set(&err, EINVAL, "exec request: expected a JSON object in a text frame");
		send_error(s, &err);
		goto end;
	}
	json_object_del(s->req, "tty");
	s->console_path = xasprintf("%s/exec-%d-%u.sock", gr_control_run_dir(s->api->control),
				    (int)getpid(), atomic_fetch_add(&counter, 1));
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s->console_path);
	unlink(s->console_path);
	if (lfd < 0 || strlen(s->console_path) >= sizeof sa.sun_path ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(s->console_path, 0600) < 0 ||
	    listen(lfd, 1) < 0) {
		gr_error_sys(&err, "console socket %s", s->console_path);
		send_error(s, &err);
		if (lfd >= 0)
			close(lfd);
		goto end;
	}
	s->done_fd = eventfd(0, EFD_CLOEXEC);
	pthread_t t;
	if (pthread_create(&t, NULL, exec_main, s)) {
		gr_error_set(&err, EAGAIN, "cannot start the exec thread");
		send_error(s, &err);
		close(lfd);
		goto end;
	}
	pump(s, lfd);
	pthread_join(t, NULL);
	close(lfd);
	close(s->done_fd);
	unlink(s->console_path);
	if (s->rc < 0)
		send_error(s, &s->err);
	else
		send_json(s, json_pack("{s:i}", "exit_code", s->status));
	send_frame(s, GR_WS_CLOSE, "\x03\xe8", 2);
end:
	MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
	json_decref(s->req);
	free(s->console_path);
	free(s->name);
	gr_ws_decoder_clear(&s->dec);
	free(s);
	return NULL;
}

static void upgraded(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
		     size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct session *s = cls;
	s->sock = sock;
	s->urh = urh;
	if (extra_in_size)
		gr_ws_feed(&s->dec, extra_in, extra_in_size);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, session_main, s)) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(s->name);
		free(s);
	}
	pthread_attr_destroy(&at);
}

enum MHD_Result gr__api_exec_upgrade(struct gr_api *a, struct MHD_Connection *conn, const char *name)
{
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	if (!key || !ver || strcmp(ver, "13"))
		return gr__api_fail(conn, EINVAL, "websocket: Sec-WebSocket-Key and version 13 required");
	gr_error_t err;
	json_t *inst = NULL;
	if (gr_control_instance_get(a->control, name, &inst, &err) < 0)
		return gr__api_reply_error(conn, &err);
	const char *st = json_string_value(json_object_get(inst, "state"));
	bool running = st && !strcmp(st, "running");
	json_decref(inst);
	if (!running)
		return gr__api_fail(conn, EBUSY, "instance '%s' is not running", name);
	_cleanup_free_ char *accept = gr_ws_accept_key(key);
	if (!accept)
		return gr__api_fail(conn, EIO, "websocket: cannot compute the accept key");
	struct session *s = xcalloc(1, sizeof *s);
	s->api = a;
	s->name = xstrdup(name);
	struct MHD_Response *r = MHD_create_response_for_upgrade(upgraded, s);
	MHD_add_response_header(r, "Upgrade", "websocket");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
	if (gr__api_ws_protocol(conn)) /* a browser offered it: select it */
		MHD_add_response_header(r, "Sec-WebSocket-Protocol", gr__api_ws_protocol(conn));
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	if (ret != MHD_YES) {
		free(s->name);
		free(s);
	}
	return ret;
}

/* ---- interactive console (instances whose driver gives a console input) ---- */

struct console_session {
	struct session s;           /* sock, urh, dec, name, api */
	char *in_path;
};

static void *console_main(void *p)
{
	struct console_session *cs = p;
	struct session *s = &cs->s;
	gr_error_t err;
	int fl = fcntl(s->sock, F_GETFL);
	fcntl(s->sock, F_SETFL, fl & ~O_NONBLOCK);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", cs->in_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		gr_error_sys(&err, "console of %s", s->name);
		send_error(s, &err);
		goto end;
	}
	bool done = false;
	while (!done) {
		uint8_t op, *pl;
		size_t len;
		int r;
		while ((r = gr_ws_next(&s->dec, &op, &pl, &len, &err)) == 1) {
			if (op == GR_WS_BINARY)
				gr_write_all(fd, pl, len);
			else if (op == GR_WS_PING)
				send_frame(s, GR_WS_PONG, pl, len);
			else if (op == GR_WS_CLOSE)
				done = true;
			free(pl);
		}
		if (r < 0 || done)
			break;
		struct pollfd pf[2] = { { .fd = s->sock, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
		if (poll(pf, 2, 1000) < 0 && errno != EINTR)
			break;
		if (atomic_load(&s->api->stopping))
			break;
		uint8_t buf[16384];
		if (pf[0].revents) {
			ssize_t n = read(s->sock, buf, sizeof buf);
			if (n <= 0)
				break;
			gr_ws_feed(&s->dec, buf, (size_t)n);
		}
		if (pf[1].revents) {
			ssize_t n = read(fd, buf, sizeof buf);
			if (n <= 0) {
				gr_error_set(&err, ECONNRESET, "the console of %s closed (instance stopped?)",
					     s->name);
				send_error(s, &err);
				break;
			}
			if (send_frame(s, GR_WS_BINARY, buf, (size_t)n) < 0)
				break;
		}
	}
	send_frame(s, GR_WS_CLOSE, "\x03\xe8", 2);
end:
	if (fd >= 0)
		close(fd);
	MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(s->name);
	gr_ws_decoder_clear(&s->dec);
	free(cs->in_path);
	free(cs);
	return NULL;
}

static void console_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
			     const char *extra_in, size_t extra_in_size, MHD_socket sock,
			     struct MHD_UpgradeResponseHandle *urh)
{
	struct console_session *cs = cls;
	cs->s.sock = sock;
	cs->s.urh = urh;
	if (extra_in_size)
		gr_ws_feed(&cs->s.dec, extra_in, extra_in_size);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, console_main, cs)) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(cs->s.name);
		free(cs->in_path);
		free(cs);
	}
	pthread_attr_destroy(&at);
}

enum MHD_Result gr__api_console_upgrade(struct gr_api *a, struct MHD_Connection *conn,
					const char *name)
{
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	if (!key || !ver || strcmp(ver, "13"))
		return gr__api_fail(conn, EINVAL, "websocket: Sec-WebSocket-Key and version 13 required");
	gr_error_t err;
	char *out = NULL, *in = NULL;
	if (gr_control_instance_console(a->control, name, &out, &in, &err) < 0)
		return gr__api_reply_error(conn, &err);
	free(out);
	if (!in)
		return gr__api_fail(conn, EOPNOTSUPP,
				    "instance '%s' has no console input (containers: use 'gureum exec -t %s "
				    "-- sh'; GET without Upgrade streams the output)", name, name);
	_cleanup_free_ char *accept = gr_ws_accept_key(key);
	if (!accept) {
		free(in);
		return gr__api_fail(conn, EIO, "websocket: cannot compute the accept key");
	}
	struct console_session *cs = xcalloc(1, sizeof *cs);
	cs->s.api = a;
	cs->s.name = xstrdup(name);
	cs->in_path = in;
	struct MHD_Response *r = MHD_create_response_for_upgrade(console_upgraded, cs);
	MHD_add_response_header(r, "Upgrade", "websocket");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
	if (gr__api_ws_protocol(conn)) /* a browser offered it: select it */
		MHD_add_response_header(r, "Sec-WebSocket-Protocol", gr__api_ws_protocol(conn));
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	if (ret != MHD_YES) {
		free(cs->s.name);
		free(cs->in_path);
		free(cs);
	}
	return ret;
}
