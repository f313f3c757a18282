/* Unit tests for the store: open/URL errors, CRUD, prefix ranges and paging,
 * revisions, compare-and-swap, transactions (atomicity, compares, overlap),
 * argument checks and reopen-keeps-data, on the real SQLite back-end and then
 * the same bodies on a private 3-member etcd cluster. */
#include "tap.h"
#include "store_test.h"

#include <errno.h>

static int put(struct gr_store *s, const char *k, const char *v, int64_t *rev)
{
	gr_error_t err = {0};
	int r = gr_store_put(s, k, v, strlen(v), 0, rev, &err);
	if (r < 0)
		diag("put %s: %s", k, err.msg);
	return r;
}

static void test_open_errors(void)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	is_int(gr_store_open("mysql://x", NULL, &s, &err), -1, "unknown scheme refused");
	ok(err.code == EINVAL && strstr(err.msg, "mysql"), "unknown scheme named: %s", err.msg);
	is_int(gr_store_open("/var/lib/x.db", NULL, &s, &err), -1, "missing scheme refused");
	is_int(gr_store_open("sqlite://relative.db", NULL, &s, &err), -1, "relative path refused");
	ok(strstr(err.msg, "absolute") != NULL, "says absolute: %s", err.msg);
	is_int(gr_store_open(st_url("x", "?bogus=1"), NULL, &s, &err), -1, "unknown option refused");
	ok(strstr(err.msg, "bogus") != NULL, "option named: %s", err.msg);
	is_int(gr_store_open(st_url("x", "?busy_timeout=abc"), NULL, &s, &err), -1, "bad busy_timeout");
	is_int(gr_store_open(st_url("x", "?synchronous=off"), NULL, &s, &err), -1, "synchronous=off refused");
	is_int(gr_store_open(st_url("missing", "?mode=rw"), NULL, &s, &err), -1, "mode=rw needs the file");
	is_int(err.code, ENOENT, "missing file -> ENOENT (%s)", err.msg);
	ok(s == NULL, "no store handed out on failure");

	/* etcd URLs: refused before any traffic, naming what is wrong. */
	static const struct { const char *url, *names; int code; } bad[] = {
		{ "etcd://", "no endpoint", 0 },
		{ "etcd://127.0.0.1", "host:port", 0 },
		{ "etcd://127.0.0.1:99999", "99999", 0 },
		{ "etcd://127.0.0.1:2379/x", "path", 0 },
		{ "etcd://127.0.0.1:2379?bogus=1", "bogus", 0 },
		{ "etcd://127.0.0.1:2379?timeout=abc", "timeout", 0 },
		{ "etcd://127.0.0.1:2379?cert=/nonexistent/c.pem", "/nonexistent/c.pem", ENOENT },
		{ "etcd://127.0.0.1:2379?password=x", "password without user", 0 },
		{ "etcd://127.0.0.1:2379?token=a&user=b", "either token", 0 },
		{ "etcd://127.0.0.1:2379?history=-3", "history", 0 },
		{ "etcd://127.0.0.1:2379?user=a%zz", "escape", 0 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = (gr_error_t){0};
		int r = gr_store_open(bad[i].url, NULL, &s, &err);
		ok(r == -1 && err.code == (bad[i].code ? bad[i].code : EINVAL) && strstr(err.msg, bad[i].names),
		   "%s refused, naming '%s': %s", bad[i].url, bad[i].names, err.msg);
	}
	/* Nothing listens on a port we just had and closed: ECONNREFUSED, no store. */
	int port[1] = { 0 };
	st_etcd__ports(port, 1);
	char url[128];
	snprintf(url, sizeof url, "etcd://127.0.0.1:%d?timeout=300", port[0]);
	is_int(gr_store_open(url, NULL, &s, &err), -1, "etcd URL with nobody listening");
	ok(err.code == ECONNREFUSED && strstr(err.msg, "no etcd member answered"), "ECONNREFUSED: %s", err.msg);
	ok(s == NULL, "no store handed out");
}

static void test_crud(struct gr_store *s)
{
	gr_error_t err = {0};
	struct gr_kv kv;
	int64_t rev = -1, rev0 = -1;
	is_int(gr_store_revision(s, &rev0, &err), 0, "revision of a new store");
	is_int(rev0, 0, "new store is at revision 0");
	is_int(gr_store_get(s, "/gureum/instances/web1", &kv, &err), 0, "get absent key returns 0");

	is_int(put(s, "/gureum/instances/web1", "{\"state\":\"defined\"}", &rev), 0, "put");
	is_int(rev, 1, "first put is revision 1");
	is_int(gr_store_get(s, "/gureum/instances/web1", &kv, &err), 1, "get finds it");
	is_str(kv.value, "{\"state\":\"defined\"}", "value round-trips");
	is_int(kv.value_len, 19, "value length");
	is_int(kv.create_revision, 1, "create_revision");
	is_int(kv.mod_revision, 1, "mod_revision");
	is_int(kv.version, 1, "version 1");
	gr_kv_clear(&kv);

	is_int(put(s, "/gureum/instances/web1", "{\"state\":\"running\"}", &rev), 0, "overwrite");
	is_int(rev, 2, "revision 2");
	gr_store_get(s, "/gureum/instances/web1", &kv, &err);
	ok(kv.create_revision == 1 && kv.mod_revision == 2 && kv.version == 2,
	   "overwrite keeps create_revision, bumps mod_revision and version");
	gr_kv_clear(&kv);

	/* Binary value with NULs. */
	const char bin[] = { 'a', 0, 'b', 0, (char)0xff };
	is_int(gr_store_put(s, "/bin", bin, sizeof bin, 0, &rev, &err), 0, "binary put");
	gr_store_get(s, "/bin", &kv, &err);
	ok(kv.value_len == sizeof bin && !memcmp(kv.value, bin, sizeof bin), "binary value round-trips");
	gr_kv_clear(&kv);
	is_int(gr_store_put(s, "/empty", NULL, 0, 0, &rev, &err), 0, "empty value put");
	gr_store_get(s, "/empty", &kv, &err);
	ok(kv.value_len == 0 && kv.value && kv.value[0] == '\0', "empty value is \"\" not NULL");
	gr_kv_clear(&kv);

	int64_t before = rev;
	is_int(gr_store_delete(s, "/bin", &rev, &err), 1, "delete existing returns 1");
	is_int(rev, before + 1, "delete bumps revision");
	is_int(gr_store_delete(s, "/bin", &rev, &err), 0, "delete absent returns 0");
	is_int(rev, before + 1, "no-op delete does not bump revision");
	is_int(gr_store_get(s, "/bin", &kv, &err), 0, "deleted key gone");
	is_int(put(s, "/bin", "again", &rev), 0, "re-create");
	gr_store_get(s, "/bin", &kv, &err);
	ok(kv.create_revision == rev && kv.version == 1, "re-created key starts a new life");
	gr_kv_clear(&kv);
	gr_store_delete(s, "/bin", NULL, &err);
	gr_store_delete(s, "/empty", NULL, &err);
}

static void test_range(struct gr_store *s)
{
	gr_error_t err = {0};
	const char *names[] = { "c", "a", "b", "e", "d" };
	for (int i = 0; i < 5; i++) {
		char k[64];
		snprintf(k, sizeof k, "/gureum/hosts/%s", names[i]);
		put(s, k, names[i], NULL);
	}
	put(s, "/gureum/hostsX", "not under the prefix", NULL);
	put(s, "/gureum/host", "neither", NULL);
	struct gr_kv_list l;
	is_int(gr_store_list(s, "/gureum/hosts/", 0, &l, &err), 0, "list prefix");
	is_int(l.n, 5, "exactly the 5 keys under the prefix");
	int sorted = 1;
	for (size_t i = 0; i < l.n; i++)
		sorted &= l.kvs[i].value[0] == (char)('a' + i);
	ok(sorted, "sorted by key");
	ok(!l.more, "no more");
	int64_t rev;
	gr_store_revision(s, &rev, &err);
	is_int(l.revision, rev, "list reports the store revision");
	gr_kv_list_clear(&l);

	is_int(gr_store_list(s, "/gureum/hosts/", 2, &l, &err), 0, "list with limit");
	ok(l.n == 2 && l.more, "limit 2: 2 keys and more");
	is_str(l.kvs[1].key, "/gureum/hosts/b", "second key");
	struct gr_store_range r = { .prefix = "/gureum/hosts/", .start_after = "/gureum/hosts/b",
				    .limit = 2, .keys_only = true };
	struct gr_kv_list l2;
	is_int(gr_store_range(s, &r, &l2, &err), 0, "next page");
	ok(l2.n == 2 && l2.more && !strcmp(l2.kvs[0].key, "/gureum/hosts/c"), "page 2 starts at c");
	ok(l2.kvs[0].value == NULL, "keys_only leaves value NULL");
	gr_kv_list_clear(&l);
	gr_kv_list_clear(&l2);
	r.start_after = "/gureum/hosts/zzz";
	is_int(gr_store_range(s, &r, &l2, &err), 0, "start_after past the prefix");
	ok(l2.n == 0 && !l2.more, "empty page, no more");
	gr_kv_list_clear(&l2);
	r.start_after = "/zzz";
	is_int(gr_store_range(s, &r, &l2, &err), 0, "start_after past the prefix's end");
	ok(l2.n == 0 && !l2.more, "empty page, no more");
	gr_kv_list_clear(&l2);

	is_int(gr_store_list(s, "", 0, &l, &err), 0, "list everything");
	ok(l.n >= 8, "all keys (%zu)", l.n);
	gr_kv_list_clear(&l);
	is_int(gr_store_list(s, "/nothing/", 0, &l, &err), 0, "empty prefix match");
	is_int(l.n, 0, "no keys");
	gr_kv_list_clear(&l);

	/* A prefix ending in 0xff exercises the carry in prefix_end. */
	put(s, "/z\xff\xff" "a", "1", NULL);
	put(s, "/z\xff\xff", "2", NULL);
	put(s, "/{", "3", NULL);
	is_int(gr_store_list(s, "/z\xff", 0, &l, &err), 0, "prefix with 0xff");
	is_int(l.n, 2, "carry handled: both 0xff keys and not '/{'");
	gr_kv_list_clear(&l);

	int64_t deleted = 0;
	is_int(gr_store_delete_prefix(s, "/gureum/hosts/", &deleted, &rev, &err), 0, "delete prefix");
	is_int(deleted, 5, "5 deleted");
	gr_store_list(s, "/gureum/host", 0, &l, &err);
	is_int(l.n, 2, "siblings outside the prefix survive");
	gr_kv_list_clear(&l);
}

static void test_cas(struct gr_store *s)
{
	gr_error_t err = {0};
	int64_t rev = 0, rev2 = 0;
	const char *k = "/gureum/instances/db1";
	is_int(gr_store_create(s, k, "v1", 2, 0, &rev, &err), 1, "create absent key");
	is_int(gr_store_create(s, k, "v2", 2, 0, &rev2, &err), 0, "create existing: compare fails");
	is_int(rev2, rev, "failed create does not bump revision");
	is_int(err.code, 0, "a failed compare is not an error");
	is_int(gr_store_put_if(s, k, "v2", 2, 0, rev - 1, &rev2, &err), 0, "put_if stale revision fails");
	is_int(gr_store_put_if(s, k, "v2", 2, 0, rev, &rev2, &err), 1, "put_if current revision");
	is_int(rev2, rev + 1, "applied CAS bumps revision");
	is_int(gr_store_put_if(s, k, "v3", 2, 0, rev, NULL, &err), 0, "same CAS again loses");
	is_int(gr_store_put_if(s, "/gureum/instances/new", "x", 1, 0, 0, NULL, &err), 1,
	       "put_if 0 creates an absent key");
	is_int(gr_store_delete_if(s, k, rev, NULL, &err), 0, "delete_if stale fails");
	is_int(gr_store_delete_if(s, k, rev2, NULL, &err), 1, "delete_if current");
	struct gr_kv kv;
	is_int(gr_store_get(s, k, &kv, &err), 0, "gone");
	is_int(gr_store_put_if(s, k, "x", 1, 0, -1, NULL, &err), -1, "negative revision is an error");
	is_int(err.code, EINVAL, "EINVAL");
	gr_store_delete(s, "/gureum/instances/new", NULL, &err);
}

static void test_txn(struct gr_store *s)
{
	gr_error_t err = {0};
	int64_t rev0;
	put(s, "/t/a", "1", &rev0);
	struct gr_store_cmp cmps[] = {
		{ .key = "/t/a", .target = GR_CMP_VALUE, .op = GR_CMP_EQUAL, .value = "1", .value_len = 1 },
		{ .key = "/t/a", .target = GR_CMP_VERSION, .op = GR_CMP_GREATER, .number = 0 },
		{ .key = "/t/missing", .target = GR_CMP_CREATE_REVISION, .op = GR_CMP_EQUAL, .number = 0 },
		{ .key = "/t/a", .target = GR_CMP_MOD_REVISION, .op = GR_CMP_LESS, .number = rev0 + 1 },
		{ .key = "/t/a", .target = GR_CMP_LEASE, .op = GR_CMP_EQUAL, .number = 0 },
	};
	struct gr_store_op succ[] = {
		{ .type = GR_OP_PUT, .key = "/t/b", .value = "2", .value_len = 1 },
		{ .type = GR_OP_PUT, .key = "/t/c", .value = "3", .value_len = 1 },
		{ .type = GR_OP_DELETE, .key = "/t/a" },
	};
	struct gr_store_op fail[] = { { .type = GR_OP_PUT, .key = "/t/failed", .value = "f", .value_len = 1 } };
	struct gr_store_txn t = { cmps, 5, succ, 3, fail, 1 };
	struct gr_store_txn_result res;
	is_int(gr_store_txn(s, &t, &res, &err), 0, "txn runs");
	ok(res.succeeded, "all 5 compares hold");
	is_int(res.revision, rev0 + 1, "one txn = one revision");
	is_int(res.deleted, 1, "deleted count");
	struct gr_kv kb, kc;
	gr_store_get(s, "/t/b", &kb, &err);
	gr_store_get(s, "/t/c", &kc, &err);
	ok(kb.mod_revision == rev0 + 1 && kc.mod_revision == rev0 + 1, "both puts share the revision");
	gr_kv_clear(&kb);
	gr_kv_clear(&kc);

	/* Same txn again: /t/a is gone, value compare fails -> failure branch. */
	is_int(gr_store_txn(s, &t, &res, &err), 0, "txn runs again");
	ok(!res.succeeded, "compare fails now");
	struct gr_kv kv;
	is_int(gr_store_get(s, "/t/failed", &kv, &err), 1, "failure branch ran");
	gr_kv_clear(&kv);

	/* Atomicity: a put naming a missing lease fails the whole txn. */
	int64_t before;
	gr_store_revision(s, &before, &err);
	struct gr_store_op bad[] = {
		{ .type = GR_OP_PUT, .key = "/t/x", .value = "x", .value_len = 1 },
		{ .type = GR_OP_DELETE, .key = "/t/b" },
		{ .type = GR_OP_PUT, .key = "/t/y", .value = "y", .value_len = 1, .lease = 987654 },
	};
	struct gr_store_txn tb = { .success = bad, .n_success = 3 };
	is_int(gr_store_txn(s, &tb, &res, &err), -1, "txn with a missing lease fails");
	is_int(err.code, ENOENT, "ENOENT (%s)", err.msg);
	ok(gr_store_get(s, "/t/x", &kv, &err) == 0 && gr_store_get(s, "/t/b", &kv, &err) == 1,
	   "nothing of the failed txn applied");
	gr_kv_clear(&kv);
	int64_t after;
	gr_store_revision(s, &after, &err);
	is_int(after, before, "failed txn leaves the revision");

	/* Value comparisons order bytewise then by length. */
	put(s, "/t/v", "abc", NULL);
	struct gr_store_cmp lt = { .key = "/t/v", .target = GR_CMP_VALUE, .op = GR_CMP_LESS, .value = "abd", .value_len = 3 };
	struct gr_store_cmp gt = { .key = "/t/v", .target = GR_CMP_VALUE, .op = GR_CMP_GREATER, .value = "ab", .value_len = 2 };
	struct gr_store_cmp ne = { .key = "/t/nokey", .target = GR_CMP_VALUE, .op = GR_CMP_NOT_EQUAL, .value = "q", .value_len = 1 };
	struct gr_store_txn t1 = { .cmps = &lt, .n_cmps = 1 }, t2 = { .cmps = &gt, .n_cmps = 1 },
			    t3 = { .cmps = &ne, .n_cmps = 1 };
	gr_store_txn(s, &t1, &res, &err);
	ok(res.succeeded, "abc < abd");
	gr_store_txn(s, &t2, &res, &err);
	ok(res.succeeded, "abc > ab");
	gr_store_txn(s, &t3, &res, &err);
	ok(!res.succeeded, "value compare on a missing key is false");

	/* Overlapping ops in one branch are refused, like etcd. */
	struct gr_store_op dup[] = {
		{ .type = GR_OP_PUT, .key = "/t/d", .value = "1", .value_len = 1 },
		{ .type = GR_OP_DELETE, .key = "/t/", .prefix = true },
	};
	struct gr_store_txn td = { .success = dup, .n_success = 2 };
	is_int(gr_store_txn(s, &td, &res, &err), -1, "put inside a deleted prefix refused");
	ok(err.code == EINVAL && strstr(err.msg, "/t/d"), "overlap named: %s", err.msg);
	dup[1] = (struct gr_store_op){ .type = GR_OP_PUT, .key = "/t/d", .value = "2", .value_len = 1 };
	is_int(gr_store_txn(s, &td, &res, &err), -1, "same key twice refused");
	gr_store_delete_prefix(s, "/t/", NULL, NULL, &err);
}

static void test_args(struct gr_store *s)
{
	gr_error_t err = {0};
	struct gr_kv kv;
	is_int(gr_store_get(s, "", &kv, &err), -1, "empty key refused");
	is_int(err.code, EINVAL, "EINVAL");
	char longkey[GR_STORE_KEY_MAX + 2];
	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	is_int(gr_store_put(s, longkey, "v", 1, 0, NULL, &err), -1, "over-long key refused");
	is_int(err.code, ENAMETOOLONG, "ENAMETOOLONG");
	char *big = calloc(1, GR_STORE_VALUE_MAX + 1);
	is_int(gr_store_put(s, "/big", big, GR_STORE_VALUE_MAX + 1, 0, NULL, &err), -1, "over-size value refused");
	is_int(err.code, EMSGSIZE, "EMSGSIZE (%s)", err.msg);
	is_int(gr_store_put(s, "/big", big, GR_STORE_VALUE_MAX, 0, NULL, &err), 0, "max-size value accepted");
	gr_store_delete(s, "/big", NULL, &err);
	free(big);
	struct gr_store_op op = { .type = (enum gr_store_op_type)7, .key = "/k" };
	struct gr_store_txn t = { .success = &op, .n_success = 1 };
	is_int(gr_store_txn(s, &t, NULL, &err), -1, "unknown op type refused");
	is_int(gr_store_put(s, "/k", "v", 1, -5, NULL, &err), -1, "negative lease refused");
	static struct gr_store_op many[GR_STORE_TXN_MAX_OPS + 1];
	static char keys[GR_STORE_TXN_MAX_OPS + 1][16];
	for (int i = 0; i <= GR_STORE_TXN_MAX_OPS; i++) {
		snprintf(keys[i], sizeof keys[i], "/many/%03d", i);
		many[i] = (struct gr_store_op){ .type = GR_OP_PUT, .key = keys[i], .value = "v", .value_len = 1 };
	}
	struct gr_store_txn tm = { .success = many, .n_success = GR_STORE_TXN_MAX_OPS + 1 };
	is_int(gr_store_txn(s, &tm, NULL, &err), -1, "too many ops in a txn refused (etcd parity)");
	is_int(err.code, E2BIG, "E2BIG");
	tm.n_success = GR_STORE_TXN_MAX_OPS;
	struct gr_store_txn_result res;
	is_int(gr_store_txn(s, &tm, &res, &err), 0, "the maximum is accepted");
	struct gr_kv_list l;
	gr_store_list(s, "/many/", 0, &l, &err);
	is_int(l.n, GR_STORE_TXN_MAX_OPS, "all of them written");
	gr_kv_list_clear(&l);
	gr_store_delete_prefix(s, "/many/", NULL, NULL, &err);
}

static void run_all(void)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (!ok(gr_store_open(st_url("kv", "?synchronous=normal"), NULL, &s, &err) == 0, "open: %s", err.msg))
		return;
	is_str(gr_store_backend(s), st_backend_name(), "backend name");
	test_crud(s);
	test_range(s);
	test_cas(s);
	test_txn(s);
	test_args(s);
	put(s, "/keep/me", "persisted", NULL);
	int64_t rev;
	gr_store_revision(s, &rev, &err);
	gr_store_close(s);

	s = NULL;
	is_int(gr_store_open(st_url("kv", NULL), NULL, &s, &err), 0, "reopen");
	struct gr_kv kv;
	is_int(gr_store_get(s, "/keep/me", &kv, &err), 1, "data survives close/reopen");
	is_str(kv.value, "persisted", "value intact");
	gr_kv_clear(&kv);
	int64_t rev2;
	gr_store_revision(s, &rev2, &err);
	is_int(rev2, rev, "revision survives reopen");
	int64_t rev3;
	put(s, "/keep/next", "x", &rev3);
	is_int(rev3, rev + 1, "revisions continue after reopen");
	gr_store_close(s);
	gr_store_close(NULL);
	ok(1, "close(NULL) is fine");
}

int main(void)
{
	test_open_errors();
	st_backend(ST_SQLITE);
	run_all();
	if (ok(st_backend(ST_ETCD), "a private 3-member etcd cluster is up"))
		run_all();
	return tap_done();
}
