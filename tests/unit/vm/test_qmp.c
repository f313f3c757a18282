/*
 * test_qmp.c - the sans-IO QMP core: greeting and capabilities ordering, replies matched
 * by id (also out of order), QMP errors mapped to errno, events, partial and split
 * input, and every kind of malformed input fails the session (EPROTO) and every pending
 * callback exactly once.  Plus the blocking client against a fake QEMU on a socketpair
 * thread: a reply that never comes is ETIMEDOUT, not a hang.
 */
#include "tap.h"
#include "util/alloc.h"
#include "vm/vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct rec {
	int calls;
	int failed;
	int code;
	char ret[256];
	char msg[512];
};

static void cb(struct gr_qmp *q, json_t *ret, const gr_error_t *e, void *ud)
{
	struct rec *r = ud;
	r->calls++;
	if (e) {
		r->failed = 1;
		r->code = e->code;
		snprintf(r->msg, sizeof r->msg, "%s", e->msg);
	} else {
		char *t = json_dumps(ret, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(r->ret, sizeof r->ret, "%s", t);
		free(t);
	}
}

static char events[512];
static void on_event(struct gr_qmp *q, const char *ev, json_t *data, void *ud)
{
	strncat(events, ev, sizeof events - strlen(events) - 2);
	strcat(events, ",");
}

static const char *GREETING =
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, "
	"\"capabilities\": [\"oob\"]}}\r\n";

static char *take_output(struct gr_qmp *q)
{
	size_t n;
	const char *o = gr_qmp_output(q, &n);
	char *s = xstrndup(o, n);
	gr_qmp_output_consume(q, n);
	return s;
}

static int feed(struct gr_qmp *q, const char *s)
{
	gr_error_t e = {0};
	return gr_qmp_feed(q, s, strlen(s), &e);
}

static void test_basic(void)
{
	struct gr_qmp *q = gr_qmp_new(on_event, NULL);
	struct rec a = {0}, b = {0};
	gr_error_t e = {0};
	uint64_t ida = 0, idb = 0;
	ok(gr_qmp_send(q, "query-status", NULL, cb, &a, &ida, &e) == 0, "queue before greeting");
	char *out = take_output(q);
	is_str(out, "", "nothing is written before the greeting");
	free(out);
	ok(!gr_qmp_ready(q), "not ready before greeting");
	ok(gr_qmp_version(q) == NULL, "no version before greeting");
	/* greeting split in two */
	ok(gr_qmp_feed(q, GREETING, 20, &e) == 0 && feed(q, GREETING + 20) == 0, "split greeting parsed");
	is_str(gr_qmp_version(q), "7.2.22", "version from greeting");
	out = take_output(q);
	char *caps = strstr(out, "qmp_capabilities"), *qs = strstr(out, "query-status");
	ok(caps && qs && caps < qs, "qmp_capabilities goes out before the held command");
	free(out);
	is_int(gr_qmp_pending(q), 2, "two pending");
	ok(feed(q, "{\"return\": {}, \"id\": 0}\r\n") == 0 && gr_qmp_ready(q), "ready after capabilities");
	ok(gr_qmp_send(q, "stop", json_pack("{s:b}", "x", 1), cb, &b, &idb, &e) == 0, "second command");
	out = take_output(q);
	out[strcspn(out, "\n")] = 0;
	ok(strstr(out, "\"arguments\":{\"x\":true}") != NULL, "arguments serialized (%s)", out);
	free(out);
	/* replies out of order, plus an event in between, in one chunk */
	char buf[256];
	snprintf(buf, sizeof buf,
		 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\"}, \"id\": %llu}\r\n"
		 "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n"
		 "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": %llu}\r\n",
		 (unsigned long long)idb, (unsigned long long)ida);
	ok(feed(q, buf) == 0, "replies out of order accepted");
	ok(a.calls == 1 && !a.failed && strstr(a.ret, "\"running\""), "query-status reply (%s)", a.ret);
	ok(b.calls == 1 && b.failed && b.code == EIO && strstr(b.msg, "nope") && strstr(b.msg, "stop"),
	   "QMP error -> EIO naming the command (%s)", b.msg);
	is_str(events, "STOP,", "event delivered");
	is_int(gr_qmp_pending(q), 0, "nothing pending");
	/* CommandNotFound -> ENOTSUP */
	struct rec c = {0};
	uint64_t idc;
	gr_qmp_send(q, "bogus", NULL, cb, &c, &idc, &e);
	snprintf(buf, sizeof buf, "{\"id\": %llu, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"x\"}}\n",
		 (unsigned long long)idc);
	feed(q, buf);
	is_int(c.code, ENOTSUP, "CommandNotFound -> ENOTSUP");
	ok(gr_qmp_send(q, "", NULL, cb, &c, NULL, &e) < 0 && e.code == EINVAL, "empty command name rejected");
	ok(gr_qmp_send(q, "x", json_string("s"), cb, &c, NULL, &e) < 0 && e.code == EINVAL,
	   "non-object arguments rejected");
	/* free with a pending command: callback with ECANCELED */
	struct rec d = {0};
	gr_qmp_send(q, "cont", NULL, cb, &d, NULL, &e);
	gr_qmp_free(q);
	ok(d.calls == 1 && d.code == ECANCELED, "free cancels pending commands");
}

static void test_malformed_n(const char *what, const char *input, size_t len)
{
	struct gr_qmp *q = gr_qmp_new(NULL, NULL);
	struct rec a = {0};
	gr_error_t e = {0};
	feed(q, GREETING);
	feed(q, "{\"return\": {}, \"id\": 0}\n");
	gr_qmp_send(q, "query-status", NULL, cb, &a, NULL, &e);
	int rc = gr_qmp_feed(q, input, len, &e);
	ok(rc < 0 && e.code == EPROTO && a.calls == 1 && a.code == EPROTO, "malformed %s -> EPROTO (%s)", what, e.msg);
	gr_error_t e2 = {0};
	ok(feed(q, "{\"return\": {}, \"id\": 1}\n") < 0 &&
		   gr_qmp_send(q, "x", NULL, NULL, NULL, NULL, &e2) < 0 && e2.code == EPROTO,
	   "session stays failed after %s", what);
	gr_qmp_free(q);
	is_int(a.calls, 1, "callback ran exactly once (%s)", what);
}

#define test_malformed(what, lit) test_malformed_n(what, lit, sizeof(lit) - 1)

/* ---- blocking client against a fake QEMU ------------------------------------------ */

struct fake {
	int fd;
	int answer; /* 0: never answer commands after capabilities */
};

static void *fake_qemu(void *arg)
{
	struct fake *f = arg;
	if (write(f->fd, GREETING, strlen(GREETING)) < 0)
		return NULL;
	char buf[4096];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(f->fd, buf + len, sizeof buf - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			json_t *m = json_loads(buf, 0, NULL);
			const char *cmd = json_string_value(json_object_get(m, "execute"));
			json_int_t id = json_integer_value(json_object_get(m, "id"));
			char out[256] = "";
			if (cmd && !strcmp(cmd, "qmp_capabilities"))
				snprintf(out, sizeof out, "{\"return\": {}, \"id\": %lld}\r\n", (long long)id);
			else if (cmd && f->answer)
				snprintf(out, sizeof out,
					 "{\"event\": \"RESUME\"}\r\n{\"return\": {\"status\": \"running\"}, \"id\": %lld}\r\n",
					 (long long)id);
			json_decref(m);
			if (out[0] && write(f->fd, out, strlen(out)) < 0)
				break;
			memmove(buf, nl + 1, len - (size_t)(nl + 1 - buf) + 1);
			len -= (size_t)(nl + 1 - buf);
		}
	}
	close(f->fd);
	return NULL;
}

struct srv {
	int ls;
	struct fake f;
};

static void *serve(void *arg)
{
	struct srv *s = arg;
	s->f.fd = accept4(s->ls, NULL, NULL, SOCK_CLOEXEC);
	if (s->f.fd >= 0)
		fake_qemu(&s->f);
	return NULL;
}

static void test_blocking(int answer)
{
	char dir[] = "/tmp/gr-test-vm-qmp-XXXXXX";
	if (!ok(mkdtemp(dir) != NULL, "scratch folder"))
		return;
	char path[128];
	snprintf(path, sizeof path, "%s/q.sock", dir);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, path);
	ok(bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0, "fake QEMU listens");
	struct srv s = {ls, {-1, answer}};
	pthread_t th;
	pthread_create(&th, NULL, serve, &s);
	gr_error_t e = {0};
	struct gr_qmp_conn *c = NULL;
	ok(gr_qmp_connect(path, 2000, &c, &e) == 0, "connect + capabilities (%s)", e.msg);
	if (c) {
		json_t *ret = NULL;
		int rc = gr_qmp_exec(c, "query-status", NULL, answer ? 2000 : 300, &ret, &e);
		if (answer) {
			ok(rc == 0 && !strcmp(json_string_value(json_object_get(ret, "status")), "running"),
			   "blocking exec returns the reply");
			json_t *data = NULL;
			ok(gr_qmp_wait_event(c, "RESUME", 1000, &data, &e) == 0, "event kept for wait_event");
			json_decref(data);
			ok(gr_qmp_wait_event(c, "SHUTDOWN", 200, NULL, &e) < 0 && e.code == ETIMEDOUT,
			   "missing event times out");
			char st[32];
			int running = -1;
			ok(gr_qmp_query_status(c, st, sizeof st, &running, &e) < 0 && e.code == EPROTO &&
				   strstr(e.msg, "\"running\""),
			   "query-status reply without \"running\" is EPROTO naming it (%s)", e.msg);
			int graceful = -1;
			gr_error_clear(&e);
			ok(gr_qmp_powerdown(c, 200, &graceful, &e) == 0 && graceful == 0,
			   "powerdown without a SHUTDOWN event falls back to quit (%s)", e.msg);
			int n = 0;
			ok(gr_qmp_query_cpus(c, &n, NULL, 0, &e) < 0 && e.code == EPROTO, "query-cpus-fast: non-array reply is EPROTO");
		} else {
			ok(rc < 0 && e.code == ETIMEDOUT, "a reply that never comes is ETIMEDOUT (%s)", e.msg);
			gr_error_t e2 = {0};
			ok(gr_qmp_exec(c, "query-status", NULL, 300, NULL, &e2) < 0, "session unusable after a timeout");
		}
		json_decref(ret);
		gr_qmp_close(c);
	}
	shutdown(ls, SHUT_RDWR);
	pthread_join(th, NULL);
	close(ls);
	unlink(path);
	rmdir(dir);
	gr_error_t e3 = {0};
	ok(gr_qmp_connect(path, 100, &c, &e3) < 0 && e3.code == ENOENT, "connect to a missing socket fails (%s)",
	   e3.msg);
}

int main(void)
{
	test_basic();
	test_malformed("JSON", "{\"return\": \n");
	test_malformed("non-object", "[1,2]\n");
	test_malformed("reply without id", "{\"return\": {}}\n");
	test_malformed("unknown id", "{\"return\": {}, \"id\": 99}\n");
	test_malformed("return and error", "{\"return\": {}, \"error\": {}, \"id\": 1}\n");
	test_malformed("error not object", "{\"error\": \"x\", \"id\": 1}\n");
	test_malformed("event not string", "{\"event\": 5}\n");
	test_malformed("event data not object", "{\"event\": \"X\", \"data\": 3}\n");
	test_malformed_n("second greeting", GREETING, strlen(GREETING));
	test_malformed("NUL byte", "{\"return\": {}\0, \"id\": 1}\n");
	test_malformed("duplicate keys", "{\"id\": 1, \"id\": 1, \"return\": {}}\n");
	test_malformed("negative id", "{\"id\": -1, \"return\": {}}\n");
	char big[1 << 16];
	memset(big, ' ', sizeof big);
	struct gr_qmp *q = gr_qmp_new(NULL, NULL);
	gr_error_t e = {0};
	int rc = 0;
	for (int i = 0; i < 300 && rc == 0; i++) /* 19 MiB without a newline */
		rc = gr_qmp_feed(q, big, sizeof big, &e);
	ok(rc < 0 && e.code == EPROTO, "a message over 16 MiB is refused (%s)", e.msg);
	gr_qmp_free(q);
	test_blocking(1);
	test_blocking(0);
	return tap_done();
}
