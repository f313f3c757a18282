/* Unit tests of what only the etcd back-end has:
 *  - its reply parsers refuse malformed replies with EPROTO naming the field,
 *    and a loopback server answering garbage makes open fail cleanly;
 *  - fail-over on a private 3-member cluster: the member in use SIGKILLed
 *    between calls and in the middle of a stream of writes, the leader
 *    SIGKILLed, the next calls succeed via another member; the subscriber's
 *    watch stream resumes on another member; a restarted member rejoins and
 *    catches up; a caller whose revision was compacted meanwhile gets ESTALE
 *    and re-lists;
 *  - calls from several threads run at once (each on a connection of its
 *    own: a loopback server answers one request only once another one is in
 *    flight), and compare-and-swap increments from 4 threads on the cluster
 *    lose nothing; the subscriber watch's kept events answer the change feed
 *    as a watch read from etcd does;
 *  - TLS (etcds://, certificates made with openssl here) with client
 *    certificates, refusals without them, and etcd auth (user/password with
 *    re-authentication after the token expires, a token in the URL).
 * No wall-clock assertions: waits are bounded loops on a condition. */
#include "tap.h"
#include "store_test.h"
#include "store/etcd-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---- reply parsers ----------------------------------------------------------------- */

static void test_parsers(void)
{
	gr_error_t err = {0};
	struct gr_kv_list l;
	char *dec = NULL;
	size_t n;
	char *b = gr__etcd_b64("\0\xff" "ab", 4);
	ok(gr__etcd_unb64(b, strlen(b), &dec, &n) == 0 && n == 4 && !memcmp(dec, "\0\xff" "ab", 4),
	   "base64 round trip (%s)", b);
	free(b);
	free(dec);
	ok(gr__etcd_unb64("a$==", 4, &dec, &n) < 0, "bad base64 character refused");
	ok(gr__etcd_unb64("a", 1, &dec, &n) < 0, "bad base64 length refused");

	static const struct { const char *body, *names; } range_bad[] = {
		{ "hello", "not JSON" },
		{ "[1,2]", "expected a JSON object" },
		{ "{\"kvs\":[]}", "header: missing" },
		{ "{\"header\":{\"revision\":\"12x\"}}", "header.revision" },
		{ "{\"header\":{\"revision\":\"-4\"}}", "negative revision" },
		{ "{\"header\":{\"revision\":true}}", "header.revision" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":{}}", "kvs: expected an array" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[7]}", "kvs[0]: expected an object" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"!!\"}]}", "kvs[0].key: invalid base64" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"\"}]}", "kvs[0].key: empty" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"YQBi\"}]}", "NUL byte" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"YQ==\",\"value\":5}]}", "kvs[0].value" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"Yg==\"},{\"key\":\"YQ==\"}]}", "not sorted" },
		{ "{\"header\":{\"revision\":\"3\"},\"more\":\"yes\"}", "more" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"YQ==\",\"version\":\"-1\"}]}", "negative" },
	};
	for (size_t i = 0; i < sizeof range_bad / sizeof range_bad[0]; i++) {
		err = (gr_error_t){0};
		int r = gr__etcd_parse_range(range_bad[i].body, strlen(range_bad[i].body), false, &l, &err);
		ok(r == -1 && err.code == EPROTO && strstr(err.msg, range_bad[i].names) && l.n == 0 && !l.kvs,
		   "range reply %s: EPROTO naming '%s' (%s)", range_bad[i].body, range_bad[i].names, err.msg);
	}
	const char good[] = "{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"L2E=\",\"value\":\"eA==\","
			    "\"create_revision\":\"2\",\"mod_revision\":\"8\",\"version\":\"4\",\"lease\":\"77\"}],"
			    "\"more\":true,\"count\":\"3\",\"unknown_field\":{}}";
	ok(gr__etcd_parse_range(good, strlen(good), false, &l, &err) == 0 && l.n == 1 && l.more &&
	   l.revision == 8 && !strcmp(l.kvs[0].key, "/a") && !strcmp(l.kvs[0].value, "x") &&
	   l.kvs[0].create_revision == 1 && l.kvs[0].mod_revision == 7 && l.kvs[0].version == 4 &&
	   l.kvs[0].lease == 77, "a good range reply, revisions shifted to ours (etcd's - 1)");
	gr_kv_list_clear(&l);

	struct gr_store_txn_result res;
	const char *txn_bad[] = {
		"{\"header\":{\"revision\":\"3\"},\"succeeded\":1}",
		"{\"header\":{\"revision\":\"3\"},\"responses\":[1]}",
		"{\"header\":{\"revision\":\"3\"},\"responses\":[{\"response_delete_range\":{\"deleted\":\"x\"}}]}",
		"{\"header\":{\"revision\":\"3\"},\"responses\":[{\"response_delete_range\":{\"deleted\":\"-2\"}}]}",
	};
	for (size_t i = 0; i < sizeof txn_bad / sizeof txn_bad[0]; i++) {
		err = (gr_error_t){0};
		ok(gr__etcd_parse_txn(txn_bad[i], strlen(txn_bad[i]), &res, &err) == -1 && err.code == EPROTO,
		   "txn reply %s: EPROTO (%s)", txn_bad[i], err.msg);
	}
	const char txn_ok[] = "{\"header\":{\"revision\":\"5\"},\"succeeded\":true,\"responses\":["
			      "{\"response_put\":{\"header\":{}}},{\"response_delete_range\":{\"deleted\":\"2\"}},"
			      "{\"response_delete_range\":{\"header\":{}}}]}";
	ok(gr__etcd_parse_txn(txn_ok, strlen(txn_ok), &res, &err) == 0 && res.succeeded && res.revision == 4 &&
	   res.deleted == 2, "a good txn reply (deleted summed, a missing count is 0)");

	struct gr__etcd_watch_msg m;
	const char *watch_bad[] = {
		"{\"header\":{}}",
		"{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":[{\"type\":\"BOOM\",\"kv\":{\"key\":\"YQ==\"}}]}}",
		"{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":[{\"type\":\"PUT\"}]}}",
		("{\"result\":{\"header\":{\"revision\":\"9\"},\"events\":[{\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"5\"}},"
		 "{\"kv\":{\"key\":\"Yg==\",\"mod_revision\":\"4\"}}]}}"),
		"{\"result\":{\"header\":{\"revision\":\"3\"},\"compact_revision\":\"-1\"}}",
		"{\"result\":{\"header\":{\"revision\":\"3\"},\"cancel_reason\":[]}}",
	};
	for (size_t i = 0; i < sizeof watch_bad / sizeof watch_bad[0]; i++) {
		err = (gr_error_t){0};
		ok(gr__etcd_parse_watch(watch_bad[i], strlen(watch_bad[i]), &m, &err) == -1 && err.code == EPROTO &&
		   m.n == 0, "watch line %s: EPROTO (%s)", watch_bad[i], err.msg);
	}
	const char watch_ok[] = "{\"result\":{\"header\":{\"revision\":\"7\"},\"events\":[{\"kv\":{\"key\":\"YQ==\","
				"\"value\":\"dg==\",\"create_revision\":\"3\",\"mod_revision\":\"6\",\"version\":\"2\"}},"
				"{\"type\":\"DELETE\",\"kv\":{\"key\":\"Yg==\",\"mod_revision\":\"6\"}}]}}";
	ok(gr__etcd_parse_watch(watch_ok, strlen(watch_ok), &m, &err) == 0 && m.n == 2 &&
	   m.events[0].type == GR_EV_PUT && m.events[0].kv.mod_revision == 5 && !strcmp(m.events[0].kv.value, "v") &&
	   m.events[1].type == GR_EV_DELETE && m.events[1].kv.version == 0, "a good watch line (PUT is the default type)");
	gr__etcd_watch_msg_clear(&m);

	int64_t id, ttl, granted;
	const char *grant_bad[] = { "{\"ID\":\"0\",\"TTL\":\"5\"}", "{\"ID\":\"3\",\"TTL\":\"5\",\"error\":\"no\"}",
				    "{\"ID\":{},\"TTL\":\"5\"}" };
	for (size_t i = 0; i < 3; i++)
		ok(gr__etcd_parse_grant(grant_bad[i], strlen(grant_bad[i]), &id, &ttl, &err) == -1,
		   "grant reply %s refused (%s)", grant_bad[i], err.msg);
	ok(gr__etcd_parse_lease("{\"result\":5}", 12, true, &ttl, &granted, &err) == -1 && err.code == EPROTO,
	   "keepalive line with a non-object result refused (%s)", err.msg);
	int code = 0;
	char msg[128];
	const char e1[] = "{\"error\":\"etcdserver: requested lease not found\",\"code\":5,\"message\":\"etcdserver: requested lease not found\"}";
	ok(gr__etcd_parse_error(e1, strlen(e1), &code, msg, sizeof msg) == 1 && code == 5 &&
	   strstr(msg, "lease not found"), "a gateway error reply is read (code %d)", code);
	gr__etcd_error(code, msg, "test", &err);
	is_int(err.code, ENOENT, "lease not found -> ENOENT");
	const char e2[] = "{\"error\":{\"grpc_code\":11,\"http_code\":400,\"message\":\"etcdserver: mvcc: required revision has been compacted\"}}";
	ok(gr__etcd_parse_error(e2, strlen(e2), &code, msg, sizeof msg) == 1 && code == 11, "a stream error line is read");
	gr__etcd_error(code, msg, "test", &err);
	is_int(err.code, ESTALE, "compacted -> ESTALE");
}

/* ---- a loopback server that answers garbage ---------------------------------------------- */

struct fake {
	int lfd, port;
	const char *reply; /* full HTTP response */
	const char *range_reply; /* for /v3/kv/range when set (so open succeeds) */
	atomic_int served;
	pthread_t th;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	for (;;) {
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		char buf[8192];
		size_t got = 0;
		/* Read the headers and the body (Content-Length), then answer and close. */
		while (got < sizeof buf - 1) {
			ssize_t r = read(c, buf + got, sizeof buf - 1 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			buf[got] = '\0';
			char *end = strstr(buf, "\r\n\r\n");
			char *cl = strcasestr(buf, "Content-Length:");
			if (end && (!cl || got >= (size_t)(end + 4 - buf) + (size_t)atoi(cl + 15)))
				break;
		}
		const char *reply = f->range_reply && strstr(buf, "POST /v3/kv/range ") ? f->range_reply : f->reply;
		ssize_t w = write(c, reply, strlen(reply));
		(void)w;
		atomic_fetch_add(&f->served, 1);
		close(c);
	}
}

static void test_garbage_server(void)
{
	struct fake f = { .lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	if (!ok(f.lfd >= 0 && bind(f.lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(f.lfd, 16) == 0 &&
		getsockname(f.lfd, (struct sockaddr *)&a, &len) == 0, "loopback server listens"))
		return;
	f.port = ntohs(a.sin_port);
	static const struct { const char *reply, *names; int code; } cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", "not JSON", EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", "header: missing", EPROTO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 31\r\nConnection: close\r\n\r\n{\"header\":{\"revision\":[1,2]}}  ",
		  "header.revision", EPROTO },
		{ "HTTP/1.1 500 Oops\r\nContent-Length: 40\r\nConnection: close\r\n\r\n{\"error\":\"boom\",\"code\":13,\"message\":\"b\"}",
		  "etcd: b", EIO },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"header\":", "no etcd member answered",
		  ECONNREFUSED },
	};
	f.reply = cases[0].reply;
	pthread_create(&f.th, NULL, fake_main, &f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		f.reply = cases[i].reply;
		char url[128];
		snprintf(url, sizeof url, "etcd://127.0.0.1:%d?timeout=300", f.port);
		gr_error_t err = {0};
		struct gr_store *s = NULL;
		int r = gr_store_open(url, NULL, &s, &err);
		ok(r == -1 && !s && err.code == cases[i].code && strstr(err.msg, cases[i].names),
		   "garbage reply %zu: open fails with %s naming '%s' (%s)", i, strerror(cases[i].code),
		   cases[i].names, err.msg);
	}
	ok(atomic_load(&f.served) >= 5, "the server was asked (%d requests)", atomic_load(&f.served));

	/* A server whose ranges are fine but whose other replies are garbage:
	 * each call fails with EPROTO naming the field, nothing crashes. */
	static char range_reply[256], watch_reply[256];
	const char range_body[] = "{\"header\":{\"revision\":\"5\"}}";
	const char watch_body[] = "{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":\"yes\",\"TTL\":{}}}\n";
	snprintf(range_reply, sizeof range_reply, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 strlen(range_body), range_body);
	snprintf(watch_reply, sizeof watch_reply, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 strlen(watch_body), watch_body);
	f.range_reply = range_reply;
	f.reply = watch_reply;
	char url[128];
	snprintf(url, sizeof url, "etcd://127.0.0.1:%d?timeout=500", f.port);
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (ok(gr_store_open(url, NULL, &s, &err) == 0, "open against a server with good ranges: %s", err.msg)) {
		int64_t rev = -1;
		ok(gr_store_revision(s, &rev, &err) == 0 && rev == 4, "its revision (etcd's 5 - 1)");
		struct gr_store_events ev;
		ok(gr_store_changes_since(s, 1, "", 0, &ev, &err) == -1 && err.code == EPROTO &&
		   strstr(err.msg, "result.created") && ev.n == 0, "a garbage watch line: EPROTO naming the field (%s)",
		   err.msg);
		ok(gr_store_put(s, "/k", "v", 1, 0, NULL, &err) == -1 && err.code == EPROTO,
		   "a garbage txn reply: EPROTO (%s)", err.msg);
		struct gr_store_lease_info li;
		ok(gr_store_lease_keepalive(s, 7, &li, &err) == -1 && err.code == EPROTO && strstr(err.msg, "result.TTL"),
		   "a garbage keepalive line: EPROTO naming the field (%s)", err.msg);
		int64_t id = 0;
		ok(gr_store_lease_grant(s, 5, &id, &err) == -1 && err.code == EPROTO, "a garbage grant: EPROTO (%s)",
		   err.msg);
		int fd = gr_store_subscribe(s, &err);
		ok(fd >= 0, "subscribing starts the watch thread against garbage");
		int before = atomic_load(&f.served);
		for (int i = 0; i < 300 && atomic_load(&f.served) < before + 2; i++)
			usleep(10000);
		ok(atomic_load(&f.served) >= before + 2, "the watch thread keeps retrying garbage without crashing");
		gr_store_close(s);
		ok(1, "close stops the watch thread");
	}
	shutdown(f.lfd, SHUT_RDWR);
	close(f.lfd);
	pthread_join(f.th, NULL);
}


/* ---- concurrent calls ------------------------------------------------------------------ */

/* A loopback server holding the request for key A until the one for key B
 * has arrived: a client that serialized its calls would never send B while A
 * waits (A then times out). */
struct gate {
	int lfd;
	char *a64, *b64;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool b_seen;
	int in_flight;
};

struct gate_conn {
	struct gate *g;
	int fd;
};

static void *gate_conn_main(void *arg)
{
	struct gate_conn *gc = arg;
	struct gate *g = gc->g;
	char buf[8192];
	size_t got = 0;
	while (got < sizeof buf - 1) {
		ssize_t r = read(gc->fd, buf + got, sizeof buf - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		char *cl = strcasestr(buf, "Content-Length:");
		if (end && (!cl || got >= (size_t)(end + 4 - buf) + (size_t)atoi(cl + 15)))
			break;
	}
	buf[got] = '\0';
	pthread_mutex_lock(&g->mu);
	g->in_flight++;
	if (strstr(buf, g->b64)) {
		g->b_seen = true;
		pthread_cond_broadcast(&g->cond);
	} else if (strstr(buf, g->a64)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 20; /* a bound only: B comes at once or never */
		while (!g->b_seen && pthread_cond_timedwait(&g->cond, &g->mu, &until) == 0)
			;
	}
	g->in_flight--;
	pthread_mutex_unlock(&g->mu);
	const char body[] = "{\"header\":{\"revision\":\"5\"}}";
	char reply[256];
	snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 strlen(body), body);
	ssize_t w = write(gc->fd, reply, strlen(reply));
	(void)w;
	close(gc->fd);
	free(gc);
	return NULL;
}

static void *gate_main(void *arg)
{
	struct gate *g = arg;
	for (;;) {
		int c = accept(g->lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		struct gate_conn *gc = malloc(sizeof *gc);
		*gc = (struct gate_conn){ g, c };
		pthread_t th;
		pthread_create(&th, NULL, gate_conn_main, gc);
		pthread_detach(th);
	}
}

struct getter {
	struct gr_store *s;
	const char *key;
	int r;
	gr_error_t err;
};

static void *getter_main(void *arg)
{
	struct getter *gt = arg;
	gt->r = gr_store_get(gt->s, gt->key, NULL, &gt->err);
	return NULL;
}

static void test_concurrent_calls(void)
{
	struct gate g = { .lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) };
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cond, NULL);
	g.a64 = gr__etcd_b64("/gate/a", 7);
	g.b64 = gr__etcd_b64("/gate/b", 7);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	if (!ok(g.lfd >= 0 && bind(g.lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(g.lfd, 16) == 0 &&
		getsockname(g.lfd, (struct sockaddr *)&a, &len) == 0, "gate server listens"))
		return;
	pthread_t th;
	pthread_create(&th, NULL, gate_main, &g);
	char url[128];
	snprintf(url, sizeof url, "etcd://127.0.0.1:%d?timeout=10000", ntohs(a.sin_port));
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (ok(gr_store_open(url, NULL, &s, &err) == 0, "open against the gate server: %s", err.msg)) {
		struct getter ga = { .s = s, .key = "/gate/a" }, gb = { .s = s, .key = "/gate/b" };
		pthread_t ta, tb;
		pthread_create(&ta, NULL, getter_main, &ga);
		/* B only once A is held by the server. */
		for (int i = 0; i < 2000; i++) {
			pthread_mutex_lock(&g.mu);
			bool held = g.in_flight > 0;
			pthread_mutex_unlock(&g.mu);
			if (held)
				break;
			usleep(5000);
		}
		pthread_create(&tb, NULL, getter_main, &gb);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		ok(ga.r == 0 && gb.r == 0, "a get held by the server until another thread's get arrives: both "
		   "answer, no lock around the network (%s / %s)", ga.err.msg, gb.err.msg);
		gr_store_close(s);
	}
	shutdown(g.lfd, SHUT_RDWR);
	close(g.lfd);
	pthread_join(th, NULL);
	free(g.a64);
	free(g.b64);
}

/* Compare-and-swap increments of one counter from several threads: every
 * increment lands exactly once, whatever the interleaving. */
#define CAS_THREADS 4
#define CAS_EACH 25

struct incr {
	struct gr_store *s;
	int done, conflicts, errors;
};

static void *incr_main(void *arg)
{
	struct incr *w = arg;
	while (w->done < CAS_EACH && w->errors < 50) {
		gr_error_t err = {0};
		struct gr_kv kv = {0};
		int r = gr_store_get(w->s, "/cas/counter", &kv, &err);
		if (r < 0) {
			w->errors++;
			continue;
		}
		long v = r ? atol(kv.value) : 0;
		char next[32];
		snprintf(next, sizeof next, "%ld", v + 1);
		struct gr_store_cmp cmp = { .key = "/cas/counter", .target = GR_CMP_MOD_REVISION, .op = GR_CMP_EQUAL,
					    .number = r ? kv.mod_revision : 0 };
		struct gr_store_op op = { .type = GR_OP_PUT, .key = "/cas/counter", .value = next,
					  .value_len = strlen(next) };
		struct gr_store_txn t = { .cmps = &cmp, .n_cmps = 1, .success = &op, .n_success = 1 };
		struct gr_store_txn_result res;
		gr_kv_clear(&kv);
		if (gr_store_txn(w->s, &t, &res, &err) < 0)
			w->errors++;
		else if (res.succeeded)
			w->done++;
		else
			w->conflicts++;
	}
	return NULL;
}


/* The subscriber's kept events serve the change feed: the same answers as a
 * watch read from etcd (a handle without a subscriber), deletes, a revision of
 * two keys and the limit included. */
static int put_str(struct gr_store *s, const char *k, const char *v, int64_t *rev, gr_error_t *err);

static void no_wake(void *ctx)
{
	(void)ctx;
}

static bool same_events(const struct gr_store_events *a, const struct gr_store_events *b)
{
	if (a->n != b->n || a->more != b->more || a->revision != b->revision)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct gr_kv *x = &a->events[i].kv, *y = &b->events[i].kv;
		if (a->events[i].type != b->events[i].type || strcmp(x->key, y->key) || x->mod_revision != y->mod_revision ||
		    x->value_len != y->value_len || (x->value_len && memcmp(x->value, y->value, x->value_len)) ||
		    x->version != y->version || x->create_revision != y->create_revision)
			return false;
	}
	return true;
}

static void test_feed_from_memory(struct st_etcd *c)
{
	gr_error_t err = {0};
	void *be = NULL;
	struct gr_store *s = NULL;
	const char *url = st_etcd_url(c, 0, NULL);
	if (!ok(gr__store_etcd_ops.open(strstr(url, "://") + 3, &(struct gr_store_options){0}, &be, &err) == 0,
		"a back-end handle: %s", err.msg) ||
	    !ok(gr_store_open(url, NULL, &s, &err) == 0, "a store handle without subscribers: %s", err.msg))
		goto out;
	struct gr__etcd *e = be;
	ok(gr__etcd_watch(be, no_wake, NULL, &err) == 0, "the back-end's watch thread started");
	int64_t r0 = 0, r1 = 0;
	gr_store_revision(s, &r0, &err);
	put_str(s, "/lg/a", "1", NULL, &err);
	put_str(s, "/lg/b", "2", NULL, &err);
	put_str(s, "/other", "x", NULL, &err);
	gr_store_delete(s, "/lg/a", NULL, &err);
	struct gr_store_op two[2] = { { .type = GR_OP_PUT, .key = "/lg/c", .value = "3", .value_len = 1 },
				      { .type = GR_OP_PUT, .key = "/lg/d", .value = "4", .value_len = 1 } };
	struct gr_store_txn t = { .success = two, .n_success = 2 };
	struct gr_store_txn_result res;
	ok(gr_store_txn(s, &t, &res, &err) == 0, "writes through the other handle: %s", err.msg);
	put_str(s, "/lg/b", "5", &r1, &err);
	struct gr_store_events fast = {0}, slow = {0};
	ok(gr__etcd_changes_since(be, r0 + 1, "/lg/", 0, &fast, &err) == 0, "feed read through the watching "
	   "back-end: %s", err.msg);
	pthread_mutex_lock(&e->log_mu);
	bool kept = e->log_from && e->log_from <= r0 + 1 && e->log_hw >= r1;
	pthread_mutex_unlock(&e->log_mu);
	ok(kept, "its watch kept every event since before the writes (so the read came from memory)");
	ok(gr_store_changes_since(s, r0 + 1, "/lg/", 0, &slow, &err) == 0, "the same read as a watch from etcd");
	ok(same_events(&fast, &slow) && fast.n == 6 && fast.events[2].type == GR_EV_DELETE,
	   "same events (%zu: puts, a delete, a revision of two keys), same revision %lld", fast.n,
	   (long long)fast.revision);
	gr_store_events_clear(&fast);
	gr_store_events_clear(&slow);
	bool both = gr__etcd_changes_since(be, r0 + 1, "/lg/", 3, &fast, &err) == 0 &&
		    gr_store_changes_since(s, r0 + 1, "/lg/", 3, &slow, &err) == 0;
	ok(both && same_events(&fast, &slow) && fast.more && fast.n == 3,
	   "with a limit of 3: the same %zu events, more, revision %lld", fast.n, (long long)fast.revision);
	gr_store_events_clear(&fast);
	gr_store_events_clear(&slow);
	int rr = gr__etcd_changes_since(be, r1 + 1, "/lg/", 0, &fast, &err);
	ok(rr == 0 && fast.n == 0 && fast.revision >= r1, "from past the last write: nothing, at revision %lld",
	   (long long)fast.revision);
	gr_store_events_clear(&fast);
out:
	if (be)
		gr__store_etcd_ops.close(be);
	gr_store_close(s);
}

static void test_concurrent_cas(struct st_etcd *c)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (!ok(gr_store_open(st_etcd_url(c, 0, NULL), NULL, &s, &err) == 0, "open for the CAS test: %s", err.msg))
		return;
	int fd = gr_store_subscribe(s, &err);
	struct incr w[CAS_THREADS];
	pthread_t th[CAS_THREADS];
	for (int i = 0; i < CAS_THREADS; i++) {
		w[i] = (struct incr){ .s = s };
		pthread_create(&th[i], NULL, incr_main, &w[i]);
	}
	int done = 0, conflicts = 0, errors = 0;
	for (int i = 0; i < CAS_THREADS; i++) {
		pthread_join(th[i], NULL);
		done += w[i].done;
		conflicts += w[i].conflicts;
		errors += w[i].errors;
	}
	is_int(errors, 0, "no call failed");
	struct gr_kv kv = {0};
	int found = gr_store_get(s, "/cas/counter", &kv, &err);
	ok(found == 1 && atol(kv.value) == CAS_THREADS * CAS_EACH &&
	   done == CAS_THREADS * CAS_EACH, "%d threads x %d CAS increments: the counter is %s, none lost "
	   "(%d compares failed and were retried)", CAS_THREADS, CAS_EACH, kv.value ? kv.value : "-", conflicts);
	is_int(kv.version, CAS_THREADS * CAS_EACH, "one put per increment");
	gr_kv_clear(&kv);
	uint64_t n = 0;
	ok(fd >= 0 && read(fd, &n, sizeof n) == sizeof n && n > 0, "the subscriber was woken by the commits");
	gr_store_close(s);
}

/* ---- fail-over ---------------------------------------------------------------------- */

static int put_str(struct gr_store *s, const char *k, const char *v, int64_t *rev, gr_error_t *err)
{
	return gr_store_put(s, k, v, strlen(v), 0, rev, err);
}

/* Bounded wait until a handle on member i alone reads key (the member caught up). */
static bool member_has(struct st_etcd *c, int i, const char *key)
{
	for (int t = 0; t < 600; t++) {
		gr_error_t err = {0};
		struct gr_store *m = NULL;
		if (gr_store_open(st_etcd_url(c, 1u << i, "timeout=1000"), NULL, &m, &err) == 0) {
			int r = gr_store_get(m, key, NULL, &err);
			gr_store_close(m);
			if (r == 1)
				return true;
		}
		usleep(100000);
	}
	return false;
}

struct writer {
	struct gr_store *s;
	atomic_int done;
	int total, failed, unknown, other;
	char other_msg[256];
	int acked[400];
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < w->total; i++) {
		char k[64];
		gr_error_t err = {0};
		snprintf(k, sizeof k, "/mid/%04d", i);
		if (put_str(w->s, k, "v", NULL, &err) == 0) {
			w->acked[i] = 1;
		} else {
			w->failed++;
			if (err.code == ECONNRESET || err.code == ETIMEDOUT)
				w->unknown++;
			else if (!w->other++)
				snprintf(w->other_msg, sizeof w->other_msg, "%s", err.msg);
		}
		atomic_store(&w->done, i + 1);
	}
	return NULL;
}

static void test_failover(struct st_etcd *c)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL, *s2 = NULL;
	/* The handle lists the leader first, so "the member in use" is the leader:
	 * the hardest case (an election follows). */
	int a = st_etcd_leader(c);
	ok(a >= 0, "leader found (m%d)", a);
	if (a < 0)
		a = 0;
	int b = (a + 1) % ST_ETCD_MEMBERS, other = (a + 2) % ST_ETCD_MEMBERS;
	/* The request timeout must cover an election (test clusters: 2.5-5 s). */
	if (!ok(gr_store_open(st_etcd_url_from(c, a, "timeout=15000"), NULL, &s, &err) == 0,
		"open on 3 members, m%d first: %s", a, err.msg) ||
	    !ok(gr_store_open(st_etcd_url(c, 1u << other, "timeout=15000"), NULL, &s2, &err) == 0,
		"a second handle on m%d alone: %s", other, err.msg))
		return;
	int64_t r0, r1;
	put_str(s, "/f/a", "1", &r0, &err);
	int fd = gr_store_subscribe(s, &err);
	ok(fd >= 0, "subscribed (watch stream on m%d)", a);

	/* 1. The member in use (the leader) dies between two calls. */
	st_etcd_kill(c, a);
	is_int(put_str(s, "/f/b", "2", &r1, &err), 0, "m%d SIGKILLed: the next put succeeds via another member (%s)",
	       a, err.msg);
	is_int(r1, r0 + 1, "one revision later, nothing lost or doubled");
	struct gr_kv kv;
	ok(gr_store_get(s, "/f/a", &kv, &err) == 1 && !strcmp(kv.value, "1"), "reads too");
	gr_kv_clear(&kv);
	is_int(gr_store_put_if(s, "/f/b", "3", 1, 0, r1, NULL, &err), 1, "a CAS too");

	/* 2. The subscriber's watch resumes on another member. */
	gr_store_subscriber_drain(fd);
	int64_t r2;
	put_str(s2, "/f/c", "from another member", &r2, &err);
	ok(st_readable_within(fd, 30000), "the subscriber hears another writer after its member died");
	struct gr_store_events ev;
	is_int(gr_store_changes_since(s, r0, "/f/", 0, &ev, &err), 0, "change feed across the fail-over: %s", err.msg);
	ok(ev.n == 4 && ev.events[0].kv.mod_revision == r0 && ev.events[3].kv.mod_revision == r2 &&
	   !strcmp(ev.events[3].kv.key, "/f/c"), "every event, in order (%zu)", ev.n);
	gr_store_events_clear(&ev);

	/* 3. The killed member restarted on its data rejoins and catches up. */
	if (ok(st_etcd_restart(c, a) == 0, "m%d restarted", a))
		ok(member_has(c, a, "/f/c"), "m%d rejoined and has the key written while it was down", a);

	/* 4. The member in use now dies in the middle of a stream of writes. */
	struct writer w = { .s = s, .total = 200 };
	pthread_t th;
	pthread_create(&th, NULL, writer_main, &w);
	while (atomic_load(&w.done) < 30)
		usleep(2000);
	st_etcd_kill(c, b);
	int killed_at = atomic_load(&w.done);
	pthread_join(th, NULL);
	diag("m%d killed after %d of %d writes; %d failed (%d outcome unknown)", b, killed_at, w.total, w.failed,
	     w.unknown);
	ok(w.other == 0, "a write either succeeds or says its outcome is unknown (%s)", w.other_msg);
	ok(w.unknown <= 3, "only the writes in flight during the fail-over are in doubt (%d)", w.unknown);
	ok(w.acked[w.total - 1], "the writes after the fail-over succeed");
	struct gr_kv_list l;
	gr_store_list(s, "/mid/", 0, &l, &err);
	int all = 1;
	for (size_t i = 0, k = 0; i < (size_t)w.total; i++) {
		char key[64];
		snprintf(key, sizeof key, "/mid/%04zu", i);
		bool there = k < l.n && !strcmp(l.kvs[k].key, key);
		k += there;
		all &= !w.acked[i] || there;
	}
	ok(all, "every acknowledged write is in the cluster (%zu keys)", l.n);
	gr_kv_list_clear(&l);
	if (ok(st_etcd_restart(c, b) == 0, "m%d restarted", b))
		ok(member_has(c, b, "/mid/0199"), "m%d rejoined and caught up", b);

	/* 5. The leader dies: the next call succeeds after the election. */
	int leader = st_etcd_leader(c);
	ok(leader >= 0, "leader found (m%d)", leader);
	if (leader >= 0) {
		st_etcd_kill(c, leader);
		/* A write a follower forwards to the dead leader before the election
		 * is lost without an answer: etcd (and so this client, as etcdctl)
		 * reports its outcome unknown.  Reads are retried elsewhere. */
		struct gr_kv_list l2;
		is_int(gr_store_list(s, "/f/", 0, &l2, &err), 0, "leader m%d SIGKILLed: the next read succeeds (%s)",
		       leader, err.msg);
		gr_kv_list_clear(&l2);
		int r = -1, unknown = 0, other = 0;
		for (int i = 0; i < 10 && r != 0; i++) {
			r = put_str(s, "/f/after-leader", "x", NULL, &err);
			if (r < 0 && (err.code == ETIMEDOUT || err.code == ECONNRESET))
				unknown++;
			else if (r < 0)
				other++;
		}
		ok(r == 0 && other == 0, "etcd: writes succeed once a new leader is elected (%d before reported "
		   "\"outcome unknown\", %d other errors: %s)", unknown, other, r ? err.msg : "none");
		ok(gr_store_get(s, "/f/after-leader", NULL, &err) == 1, "and read back");
		ok(st_etcd_restart(c, leader) == 0, "old leader restarted and rejoined");
	}

	/* 6. A caller's revision compacted meanwhile: ESTALE, re-list, continue. */
	int64_t mine, top;
	gr_store_revision(s, &mine, &err);
	ok(put_str(s2, "/f/d", "4", NULL, &err) == 0 && put_str(s2, "/f/e", "5", &top, &err) == 0,
	   "two more writes from the other handle: %s", err.msg);
	is_int(gr_store_compact(s2, top, &err), 0, "another handle compacts");
	is_int(gr_store_changes_since(s, mine + 1, "/f/", 0, &ev, &err), -1, "the old position is gone");
	ok(err.code == ESTALE && ev.compact_revision == top, "ESTALE with the compact revision (%lld): %s",
	   (long long)ev.compact_revision, err.msg);
	is_int(gr_store_list(s, "/f/", 0, &l, &err), 0, "re-list");
	int64_t from = l.revision + 1;
	gr_kv_list_clear(&l);
	is_int(put_str(s2, "/f/g", "6", NULL, &err), 0, "one more write: %s", err.msg);
	is_int(gr_store_changes_since(s, from, "/f/", 0, &ev, &err), 0, "continue after the list");
	if (!ok(ev.n == 1 && !strcmp(ev.events[0].kv.key, "/f/g"), "sees exactly what came after"))
		for (size_t i = 0; i < ev.n; i++)
			diag("event %zu: %s %s at %lld (listed at %lld)", i, ev.events[i].type == GR_EV_PUT ? "PUT" : "DELETE",
			     ev.events[i].kv.key, (long long)ev.events[i].kv.mod_revision, (long long)from - 1);
	gr_store_events_clear(&ev);

	gr_store_close(s2);
	gr_store_close(s);
}

/* ---- TLS and auth ------------------------------------------------------------------------- */

static bool token_for(struct st_etcd *c, const char *user, const char *password, char *token, size_t size)
{
	char url[128], body[256];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/v3/auth/authenticate", c->m[0].client_port);
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"%s\"}", user, password);
	CURL *h = curl_easy_init();
	struct gr__etcd_buf buf = {0};
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(h, CURLOPT_SSLCERT, c->cli);
	curl_easy_setopt(h, CURLOPT_SSLKEY, c->cli_key);
	FILE *mem = open_memstream(&buf.data, &buf.len);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
	CURLcode rc = curl_easy_perform(h);
	fclose(mem);
	curl_easy_cleanup(h);
	char *t = NULL;
	gr_error_t err = {0};
	bool got = rc == CURLE_OK && gr__etcd_parse_auth(buf.data, buf.len, &t, &err) == 0;
	if (got)
		snprintf(token, size, "%s", t);
	free(t);
	free(buf.data);
	return got;
}

static void test_tls(void)
{
	struct st_etcd c;
	if (!ok(st_etcd_start(&c, st_dir(), "tls", true) == 0, "a TLS cluster with client certificates is up"))
		return;
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	ok(gr_store_open(st_etcd_url(&c, 0, NULL), NULL, &s, &err) == 0, "etcds:// with cacert, cert, key: %s", err.msg);
	if (s) {
		is_str(gr_store_backend(s), "etcds", "back-end name");
		int64_t rev;
		is_int(put_str(s, "/tls/a", "secret", &rev, &err), 0, "put over TLS");
		struct gr_kv kv;
		ok(gr_store_get(s, "/tls/a", &kv, &err) == 1 && !strcmp(kv.value, "secret"), "get over TLS");
		gr_kv_clear(&kv);
		int fd = gr_store_subscribe(s, &err);
		st_etcd_kill(&c, 0);
		is_int(put_str(s, "/tls/b", "x", NULL, &err), 0, "TLS fail-over: the member in use killed, the next put "
		       "succeeds (%s)", err.msg);
		struct gr_store *s2 = NULL;
		gr_store_subscriber_drain(fd);
		if (gr_store_open(st_etcd_url(&c, 1u << 2, NULL), NULL, &s2, &err) == 0)
			put_str(s2, "/tls/c", "y", NULL, &err);
		gr_store_close(s2);
		ok(st_readable_within(fd, 30000), "the subscriber's TLS watch stream resumed on another member");
		gr_store_close(s);
		ok(st_etcd_restart(&c, 0) == 0, "member restarted");
	}
	char url[1600];
	snprintf(url, sizeof url, "etcd://%s?cacert=%s&cert=%s&key=%s&timeout=3000", st_etcd_endpoints(&c, 0), c.ca,
		 c.cli, c.cli_key);
	s = NULL;
	ok(gr_store_open(url, NULL, &s, &err) == 0, "etcd:// with TLS files also speaks TLS: %s", err.msg);
	gr_store_close(s);

	snprintf(url, sizeof url, "etcds://%s?cacert=%s&timeout=1000", st_etcd_endpoints(&c, 0), c.ca);
	s = NULL;
	ok(gr_store_open(url, NULL, &s, &err) == -1 && !s, "without a client certificate: refused (%s)", err.msg);
	snprintf(url, sizeof url, "etcds://%s?cacert=%s&cert=%s&key=%s&timeout=3000", st_etcd_endpoints(&c, 0), c.cli,
		 c.cli, c.cli_key);
	ok(gr_store_open(url, NULL, &s, &err) == -1 && err.code == EACCES, "a CA that did not sign the server: EACCES (%s)",
	   err.msg);
	snprintf(url, sizeof url, "etcd://%s?timeout=1000", st_etcd_endpoints(&c, 1));
	ok(gr_store_open(url, NULL, &s, &err) == -1 && !s, "plain HTTP to a TLS member: refused (%s)", err.msg);

	/* Auth: a root user, auth on; then user/password, a token, and refusals. */
	char *add[] = { "user", "add", "root", "--new-user-password=gr-pass%1", NULL };
	char *enable[] = { "auth", "enable", NULL };
	if (!ok(st_etcdctl(&c, add, NULL) == 0 && st_etcdctl(&c, enable, NULL) == 0, "etcd auth enabled (root)"))
		goto out;
	snprintf(url, sizeof url, "%s", st_etcd_url(&c, 0, "timeout=3000"));
	s = NULL;
	ok(gr_store_open(url, NULL, &s, &err) == -1 && err.code == EACCES, "no credentials: EACCES (%s)", err.msg);
	snprintf(url, sizeof url, "%s", st_etcd_url(&c, 0, "user=root&password=wrong"));
	ok(gr_store_open(url, NULL, &s, &err) == -1 && err.code == EACCES, "wrong password: EACCES (%s)", err.msg);
	snprintf(url, sizeof url, "%s", st_etcd_url(&c, 0, "user=root&password=gr-pass%251"));
	if (ok(gr_store_open(url, NULL, &s, &err) == 0, "user/password (percent-encoded): %s", err.msg)) {
		is_int(put_str(s, "/auth/a", "1", NULL, &err), 0, "put as root");
		/* The cluster's tokens live 3 s: wait past that, then a call must
		 * re-authenticate by itself. */
		sleep(5);
		is_int(put_str(s, "/auth/b", "2", NULL, &err), 0, "put after the token expired (re-authenticated): %s",
		       err.msg);
		gr_store_close(s);
	}
	char token[256];
	if (ok(token_for(&c, "root", "gr-pass%1", token, sizeof token), "a token from /v3/auth/authenticate")) {
		char opt[300];
		snprintf(opt, sizeof opt, "token=%s", token);
		s = NULL;
		ok(gr_store_open(st_etcd_url(&c, 0, opt), NULL, &s, &err) == 0 &&
		   gr_store_get(s, "/auth/a", NULL, &err) == 1, "token in the URL: %s", err.msg);
		gr_store_close(s);
	}
	s = NULL;
	ok(gr_store_open(st_etcd_url(&c, 0, "token=bogus&timeout=2000"), NULL, &s, &err) == -1 && err.code == EACCES,
	   "a bogus token: EACCES (%s)", err.msg);
out:
	st_etcd_stop(&c);
}

int main(void)
{
	st_dir();
	test_parsers();
	test_garbage_server();
	test_concurrent_calls();
	if (ok(st_backend(ST_ETCD), "a private 3-member etcd cluster is up")) {
		test_concurrent_cas(st_cluster());
		test_feed_from_memory(st_cluster());
		test_failover(st_cluster());
	}
	test_tls();
	return tap_done();
}
