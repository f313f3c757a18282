/*
 * qmp_conn.c - a blocking QMP client over a unix socket, built on the sans-IO core in
 * qmp.c.  Every wait has a deadline (poll with the time left): a QEMU that never answers
 * gives ETIMEDOUT, a closed socket ECONNRESET, garbage EPROTO — never a hang.  Events
 * that arrive while waiting are kept (bounded) for gr_qmp_wait_event().  One thread per
 * connection.
 */
#include "vm/vm.h"
#include "util/alloc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEPT_EVENTS 256

struct gr_qmp_conn {
	int fd;
	struct gr_qmp *q;
	json_t *events; /* array of {"event", "data"} */
};

struct waiter {
	int done;
	json_t *ret;
	gr_error_t err;
	int failed;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_event(struct gr_qmp *q, const char *event, json_t *data, void *ud)
{
	struct gr_qmp_conn *c = ud;
	(void)q;
	if (json_array_size(c->events) >= MAX_KEPT_EVENTS)
		json_array_remove(c->events, 0);
	json_array_append_new(c->events, json_pack("{s:s, s:O?}", "event", event, "data", data));
}

static void on_reply(struct gr_qmp *q, json_t *ret, const gr_error_t *qerr, void *ud)
{
	struct waiter *w = ud;
	(void)q;
	w->done = 1;
	if (qerr) {
		w->failed = 1;
		w->err = *qerr;
	} else {
		w->ret = json_incref(ret);
	}
}

/* Flush output and read input until *done or the deadline. */
static int pump(struct gr_qmp_conn *c, int *done, long long deadline, const char *what, gr_error_t *err)
{
	for (;;) {
		size_t olen;
		const char *out = gr_qmp_output(c->q, &olen);
		while (olen) {
			ssize_t n = send(c->fd, out, olen, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0) {
				gr_error_sys(err, "QMP %s: write", what);
				gr_qmp_fail(c->q, err);
				return -1;
			}
			gr_qmp_output_consume(c->q, (size_t)n);
			out = gr_qmp_output(c->q, &olen);
		}
		if (*done)
			return 0;
		long long left = deadline - now_ms();
		if (left <= 0) {
			gr_error_set(err, ETIMEDOUT, "QMP %s: no answer from QEMU in time", what);
			return -1;
		}
		struct pollfd pfd = {c->fd, POLLIN | (olen ? POLLOUT : 0), 0};
		int r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return gr_error_sys(err, "QMP %s: poll", what);
		if (r == 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		char buf[16384];
		ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (n < 0)
				gr_error_sys(err, "QMP %s: read", what);
			else
				gr_error_set(err, ECONNRESET, "QMP %s: QEMU closed the connection", what);
			gr_qmp_fail(c->q, err);
			return -1;
		}
		if (gr_qmp_feed(c->q, buf, (size_t)n, err) < 0)
			return gr_error_prefix(err, "QMP %s", what);
	}
}

int gr_qmp_connect(const char *path, int timeout_ms, struct gr_qmp_conn **out, gr_error_t *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return gr_error_set(err, EINVAL, "QMP socket path too long (max %zu): %s", sizeof sa.sun_path - 1, path);
	strcpy(sa.sun_path, path);
	long long deadline = now_ms() + timeout_ms;
	int fd = -1;
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return gr_error_sys(err, "socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			break;
		int e = errno;
		close(fd);
		if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) || now_ms() >= deadline) {
			errno = e;
			return gr_error_sys(err, "cannot connect to QMP socket %s", path);
		}
		usleep(20000);
	}
	struct gr_qmp_conn *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->events = json_array();
	c->q = gr_qmp_new(on_event, c);
	/* greeting, then our automatic qmp_capabilities and its reply */
	while (!gr_qmp_ready(c->q)) {
		int done = 0;
		long long step = now_ms() + 50;
		gr_error_t e = {0};
		if (pump(c, &done, step < deadline ? step : deadline, "handshake", &e) < 0 &&
		    (e.code != ETIMEDOUT || now_ms() >= deadline)) {
			if (err)
				*err = e;
			gr_qmp_close(c);
			return gr_error_prefix(err, "%s", path);
		}
		if (!gr_qmp_ready(c->q) && gr_qmp_version(c->q) && gr_qmp_pending(c->q) == 0) {
			gr_error_set(err, EPROTO, "QMP capabilities negotiation failed");
			gr_qmp_close(c);
			return gr_error_prefix(err, "%s", path);
		}
	}
	*out = c;
	return 0;
}

void gr_qmp_close(struct gr_qmp_conn *c)
{
	if (!c)
		return;
	gr_qmp_free(c->q);
	if (c->fd >= 0)
		close(c->fd);
	json_decref(c->events);
	free(c);
}

int gr_qmp_exec(struct gr_qmp_conn *c, const char *cmd, json_t *args, int timeout_ms, json_t **ret,
		gr_error_t *err)
{
	struct waiter w = {0};
	if (gr_qmp_send(c->q, cmd, args, on_reply, &w, NULL, err) < 0)
		return -1;
	if (pump(c, &w.done, now_ms() + timeout_ms, cmd, err) < 0) {
		/* The reply may still come later: this session can no longer match it. */
		gr_qmp_fail(c->q, err);
		json_decref(w.ret);
		return -1;
	}
	if (w.failed) {
		if (err)
			*err = w.err;
		return -1;
	}
	if (ret)
		*ret = w.ret;
	else
		json_decref(w.ret);
	return 0;
}

int gr_qmp_hmp(struct gr_qmp_conn *c, const char *cmdline, int timeout_ms, char **out, gr_error_t *err)
{
	json_t *ret = NULL;
	if (gr_qmp_exec(c, "human-monitor-command", json_pack("{s:s}", "command-line", cmdline), timeout_ms, &ret,
			err) < 0)
		return -1;
	const char *text = json_string_value(ret);
	if (!text) {
		json_decref(ret);
		return gr_error_set(err, EPROTO, "QMP human-monitor-command '%s': reply is not a string", cmdline);
	}
	/* HMP reports failures as text; savevm/loadvm/delvm print nothing on success. */
	int failed = strstr(text, "Error") || strstr(text, "error") || strstr(text, "rror:");
	if (failed) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", text);
		size_t l = strlen(msg);
		while (l && (msg[l - 1] == '\n' || msg[l - 1] == '\r'))
			msg[--l] = 0;
		json_decref(ret);
		return gr_error_set(err, EIO, "%s: %s", cmdline, msg);
	}
	if (out)
		*out = xstrdup(text);
	json_decref(ret);
	return 0;
}

static int take_event(struct gr_qmp_conn *c, const char *event, json_t **data)
{
	for (size_t i = 0; i < json_array_size(c->events); i++) {
		json_t *e = json_array_get(c->events, i);
		if (!strcmp(json_string_value(json_object_get(e, "event")), event)) {
			if (data)
				*data = json_incref(json_object_get(e, "data"));
			json_array_remove(c->events, i);
			return 1;
		}
	}
	return 0;
}

int gr_qmp_wait_event(struct gr_qmp_conn *c, const char *event, int timeout_ms, json_t **data, gr_error_t *err)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		if (take_event(c, event, data))
			return 0;
		int done = 0;
		/* pump until something arrives: poll once by using a short deadline */
		long long step = now_ms() + 100;
		gr_error_t e = {0};
		if (pump(c, &done, step < deadline ? step : deadline, event, &e) < 0 && e.code != ETIMEDOUT) {
			if (take_event(c, event, data))
				return 0;
			if (err)
				*err = e;
			return -1;
		}
		if (now_ms() >= deadline) {
			if (take_event(c, event, data))
				return 0;
			return gr_error_set(err, ETIMEDOUT, "QMP: no %s event in %d ms", event, timeout_ms);
		}
	}
}
