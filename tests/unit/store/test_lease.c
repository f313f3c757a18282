/* Unit tests for store leases: grant, attach, keepalive, expiry (by tick and
 * lazily on access) deleting keys with DELETE events, revoke, refresh on
 * reopen.  On SQLite time is a clock the test moves, so nothing depends on
 * wall time.  On etcd lease time is etcd's own (a custom clock is refused):
 * the etcd body checks the same contracts with real expiry, waiting (bounded)
 * for the condition and asserting no duration. */
#include "tap.h"
#include "store_test.h"

#include <errno.h>
#include <sqlite3.h>

static void lease_sqlite(void)
{
	gr_error_t err = {0};
	struct st_clock clk = { .now = 1000000 };
	struct gr_store_options o = { .clock = st_clock_fn, .clock_ctx = &clk };
	struct gr_store *s = NULL;
	if (!ok(gr_store_open(st_url("lease", "?synchronous=normal"), &o, &s, &err) == 0, "open: %s", err.msg))
		return;

	int64_t id = 0, id2 = 0, id3 = 42;
	is_int(gr_store_lease_grant(s, 10, &id, &err), 0, "grant 10 s");
	ok(id > 0, "lease id picked (%lld)", (long long)id);
	is_int(gr_store_lease_grant(s, 5, &id2, &err), 0, "grant 5 s");
	ok(id2 != id, "distinct ids");
	is_int(gr_store_lease_grant(s, 5, &id3, &err), 0, "grant with a chosen id");
	is_int(id3, 42, "chosen id kept");
	id3 = 42;
	is_int(gr_store_lease_grant(s, 5, &id3, &err), -1, "chosen id taken");
	is_int(err.code, EEXIST, "EEXIST");
	int64_t z = 0;
	is_int(gr_store_lease_grant(s, 0, &z, &err), -1, "ttl 0 refused");
	is_int(err.code, EINVAL, "EINVAL (%s)", err.msg);

	int64_t rev0;
	gr_store_put(s, "/gureum/hosts/h1", "{}", 2, id, NULL, &err);
	gr_store_put(s, "/gureum/hosts/h1/load", "0.5", 3, id, NULL, &err);
	gr_store_put(s, "/gureum/hosts/h2", "{}", 2, id2, NULL, &err);
	gr_store_put(s, "/gureum/instances/web1", "{}", 2, 0, &rev0, &err);
	struct gr_kv kv;
	gr_store_get(s, "/gureum/hosts/h1", &kv, &err);
	is_int(kv.lease, id, "key carries its lease");
	gr_kv_clear(&kv);

	struct gr_store_lease_info li;
	clk.now += 4000;
	is_int(gr_store_lease_info(s, id2, &li, &err), 0, "lease info");
	ok(li.ttl == 5 && li.remaining_ms == 1000, "5 s lease has 1 s left (%lld ms)", (long long)li.remaining_ms);
	is_int(gr_store_lease_keepalive(s, id2, &li, &err), 0, "keepalive");
	is_int(li.remaining_ms, 5000, "renewed to the full TTL");
	is_int(gr_store_tick(s, &err), 0, "tick: nothing due");

	/* t+9.5 s: the 10 s lease still lives, the renewed 5 s lease is due. */
	clk.now += 5500;
	is_int(gr_store_tick(s, &err), 2, "tick expires the renewed 5 s lease and lease 42");
	is_int(gr_store_get(s, "/gureum/hosts/h2", &kv, &err), 0, "expired lease deleted its key");
	is_int(gr_store_get(s, "/gureum/hosts/h1", &kv, &err), 1, "other lease's key still there");
	gr_kv_clear(&kv);
	is_int(gr_store_lease_keepalive(s, id2, &li, &err), -1, "keepalive of an expired lease fails");
	is_int(err.code, ENOENT, "ENOENT (%s)", err.msg);
	is_int(gr_store_put(s, "/x", "x", 1, id2, NULL, &err), -1, "put on an expired lease fails");
	is_int(err.code, ENOENT, "ENOENT");

	/* Lazy expiry: no tick, just a read after the deadline. */
	clk.now += 1000;
	is_int(gr_store_get(s, "/gureum/hosts/h1/load", &kv, &err), 0, "read after expiry sees no key");
	is_int(gr_store_get(s, "/gureum/instances/web1", &kv, &err), 1, "key without lease untouched");
	gr_kv_clear(&kv);

	/* Expiry is a recorded change: DELETE events, one revision per lease. */
	struct gr_store_events ev;
	is_int(gr_store_changes_since(s, rev0 + 1, "/gureum/hosts/", 0, &ev, &err), 0, "events after expiry");
	is_int(ev.n, 3, "three DELETE events");
	int all_del = 1;
	for (size_t i = 0; i < ev.n; i++)
		all_del &= ev.events[i].type == GR_EV_DELETE;
	ok(all_del, "all are DELETE");
	ok(ev.n == 3 && ev.events[0].kv.mod_revision == rev0 + 1 &&
	   ev.events[1].kv.mod_revision == rev0 + 2 && ev.events[2].kv.mod_revision == rev0 + 2,
	   "h2's lease at rev0+1, h1's two keys together at rev0+2");
	gr_store_events_clear(&ev);

	/* Revoke. */
	int64_t id4 = 0;
	gr_store_lease_grant(s, 60, &id4, &err);
	gr_store_put(s, "/gureum/leases/leader", "host1", 5, id4, NULL, &err);
	is_int(gr_store_lease_revoke(s, id4, &err), 0, "revoke");
	is_int(gr_store_get(s, "/gureum/leases/leader", &kv, &err), 0, "revoke deleted its key");
	is_int(gr_store_lease_revoke(s, id4, &err), -1, "revoke twice fails");
	is_int(err.code, ENOENT, "ENOENT");

	/* Moving a key to another lease, and off leases. */
	int64_t a = 0, b = 0;
	gr_store_lease_grant(s, 30, &a, &err);
	gr_store_lease_grant(s, 30, &b, &err);
	gr_store_put(s, "/m", "1", 1, a, NULL, &err);
	gr_store_put(s, "/m", "2", 1, 0, NULL, &err);
	is_int(gr_store_lease_revoke(s, a, &err), 0, "revoke old lease");
	is_int(gr_store_get(s, "/m", &kv, &err), 1, "re-put without lease detached the key");
	gr_kv_clear(&kv);

	/* Reopen by a tool: true deadlines.  Reopen by the owner: full TTL again. */
	clk.now += 29000;
	gr_store_put(s, "/held", "1", 1, b, NULL, &err);
	gr_store_close(s);
	clk.now += 500;
	is_int(gr_store_open(st_url("lease", NULL), &o, &s, &err), 0, "reopen without refresh");
	is_int(gr_store_lease_info(s, b, &li, &err), 0, "lease survives reopen");
	is_int(li.remaining_ms, 500, "deadline kept (500 ms left)");
	gr_store_close(s);
	o.refresh_leases = true;
	is_int(gr_store_open(st_url("lease", NULL), &o, &s, &err), 0, "reopen as the owner (refresh_leases)");
	gr_store_lease_info(s, b, &li, &err);
	is_int(li.remaining_ms, 30000, "refreshed to the full TTL");
	clk.now += 30000;
	is_int(gr_store_tick(s, &err), 1, "then expires normally");
	is_int(gr_store_get(s, "/held", &kv, &err), 0, "its key is gone");

	/* A reboot (different boot id in the file): deadlines of the old boot's
	 * clock are void, every lease restarts with its full TTL, refresh or not. */
	int64_t c = 0;
	gr_store_lease_grant(s, 20, &c, &err);
	gr_store_close(s);
	sqlite3 *db = NULL;
	sqlite3_open(st_path("lease"), &db);
	is_int(sqlite3_exec(db, "UPDATE meta SET value = 12345 WHERE name = 'boot_id';"
			    "UPDATE lease SET expires_ms = 1", NULL, NULL, NULL), SQLITE_OK,
	       "file says: another boot, deadline long past in that boot's clock");
	sqlite3_close(db);
	o.refresh_leases = false;
	clk.now += 1;
	is_int(gr_store_open(st_url("lease", NULL), &o, &s, &err), 0, "reopen after the 'reboot'");
	is_int(gr_store_lease_info(s, c, &li, &err), 0, "lease still there");
	is_int(li.remaining_ms, 20000, "restarted with its full TTL");
	gr_store_close(s);
}

/* The same contracts on etcd, with etcd's own time. */
static void lease_etcd(void)
{
	gr_error_t err = {0};
	struct st_clock clk = { .now = 1000000 };
	struct gr_store_options o = { .clock = st_clock_fn, .clock_ctx = &clk };
	struct gr_store *s = NULL;
	is_int(gr_store_open(st_url("lease", NULL), &o, &s, &err), -1, "etcd: a custom clock is refused");
	ok(err.code == ENOTSUP && strstr(err.msg, "clock"), "etcd: ENOTSUP, lease time is etcd's (%s)", err.msg);
	if (!ok(gr_store_open(st_url("lease", NULL), NULL, &s, &err) == 0, "open: %s", err.msg))
		return;

	int64_t id = 0, id2 = 0, id3 = 42;
	is_int(gr_store_lease_grant(s, 60, &id, &err), 0, "grant 60 s");
	ok(id > 0, "lease id picked (%lld)", (long long)id);
	is_int(gr_store_lease_grant(s, 30, &id2, &err), 0, "grant 30 s");
	ok(id2 != id, "distinct ids");
	is_int(gr_store_lease_grant(s, 30, &id3, &err), 0, "grant with a chosen id");
	is_int(id3, 42, "chosen id kept");
	id3 = 42;
	is_int(gr_store_lease_grant(s, 30, &id3, &err), -1, "chosen id taken");
	is_int(err.code, EEXIST, "EEXIST (%s)", err.msg);
	int64_t z = 0;
	is_int(gr_store_lease_grant(s, 0, &z, &err), -1, "ttl 0 refused");
	is_int(err.code, EINVAL, "EINVAL (%s)", err.msg);

	int64_t rev0;
	gr_store_put(s, "/gureum/hosts/h1", "{}", 2, id, NULL, &err);
	gr_store_put(s, "/gureum/instances/web1", "{}", 2, 0, &rev0, &err);
	struct gr_kv kv;
	gr_store_get(s, "/gureum/hosts/h1", &kv, &err);
	is_int(kv.lease, id, "key carries its lease");
	gr_kv_clear(&kv);

	struct gr_store_lease_info li;
	is_int(gr_store_lease_info(s, id2, &li, &err), 0, "lease info");
	ok(li.id == id2 && li.ttl == 30 && li.remaining_ms > 0 && li.remaining_ms <= 30000,
	   "30 s lease: granted TTL and some time left (%lld ms)", (long long)li.remaining_ms);
	is_int(gr_store_lease_keepalive(s, id2, &li, &err), 0, "keepalive");
	is_int(li.remaining_ms, 30000, "renewed to the full TTL");
	is_int(gr_store_tick(s, &err), 0, "etcd: tick expires nothing itself (etcd does)");

	/* Revoke. */
	int64_t id4 = 0;
	gr_store_lease_grant(s, 60, &id4, &err);
	gr_store_put(s, "/gureum/leases/leader", "host1", 5, id4, NULL, &err);
	is_int(gr_store_lease_revoke(s, id4, &err), 0, "revoke");
	is_int(gr_store_get(s, "/gureum/leases/leader", &kv, &err), 0, "revoke deleted its key");
	is_int(gr_store_lease_revoke(s, id4, &err), -1, "revoke twice fails");
	is_int(err.code, ENOENT, "ENOENT (%s)", err.msg);
	is_int(gr_store_lease_keepalive(s, id4, &li, &err), -1, "keepalive of a revoked lease fails");
	is_int(err.code, ENOENT, "ENOENT (%s)", err.msg);
	is_int(gr_store_lease_info(s, id4, &li, &err), -1, "info of a revoked lease fails");
	is_int(err.code, ENOENT, "ENOENT (%s)", err.msg);
	is_int(gr_store_put(s, "/x", "x", 1, id4, NULL, &err), -1, "put on a revoked lease fails");
	is_int(err.code, ENOENT, "ENOENT (%s)", err.msg);

	/* Moving a key to another lease, and off leases. */
	int64_t a = 0;
	gr_store_lease_grant(s, 30, &a, &err);
	gr_store_put(s, "/m", "1", 1, a, NULL, &err);
	gr_store_put(s, "/m", "2", 1, 0, NULL, &err);
	is_int(gr_store_lease_revoke(s, a, &err), 0, "revoke old lease");
	is_int(gr_store_get(s, "/m", &kv, &err), 1, "re-put without lease detached the key");
	gr_kv_clear(&kv);

	/* Real expiry: the shortest lease etcd grants; its keys go in one revision
	 * with DELETE events, and a subscriber hears of it from the watch stream. */
	int fd = gr_store_subscribe(s, &err);
	int64_t e = 0, before;
	is_int(gr_store_lease_grant(s, 1, &e, &err), 0, "grant 1 s");
	gr_store_lease_info(s, e, &li, &err);
	ok(li.ttl >= 1, "etcd: a TTL below etcd's minimum is raised to it (granted %lld s)", (long long)li.ttl);
	gr_store_put(s, "/gureum/hosts/h2", "{}", 2, e, NULL, &err);
	gr_store_put(s, "/gureum/hosts/h2/load", "0.5", 3, e, &before, &err);
	gr_store_subscriber_drain(fd);
	bool gone = false;
	for (int i = 0; i < 600 && !gone; i++) { /* bounded: 60 s */
		gone = gr_store_get(s, "/gureum/hosts/h2", NULL, &err) == 0 &&
		       gr_store_get(s, "/gureum/hosts/h2/load", NULL, &err) == 0;
		if (!gone)
			usleep(100000);
	}
	ok(gone, "expired lease deleted its keys");
	ok(st_readable_within(fd, 30000), "etcd: the subscriber was woken by the expiry (watch stream)");
	is_int(gr_store_get(s, "/gureum/hosts/h1", &kv, &err), 1, "other lease's key still there");
	gr_kv_clear(&kv);
	is_int(gr_store_lease_keepalive(s, e, &li, &err), -1, "keepalive of an expired lease fails");
	is_int(err.code, ENOENT, "ENOENT (%s)", err.msg);
	is_int(gr_store_put(s, "/y", "y", 1, e, NULL, &err), -1, "put on an expired lease fails");
	is_int(err.code, ENOENT, "ENOENT");
	struct gr_store_events ev;
	is_int(gr_store_changes_since(s, before + 1, "/gureum/hosts/", 0, &ev, &err), 0, "events after expiry");
	ok(ev.n == 2 && ev.events[0].type == GR_EV_DELETE && ev.events[1].type == GR_EV_DELETE &&
	   ev.events[0].kv.mod_revision == ev.events[1].kv.mod_revision,
	   "two DELETE events in one revision (%zu events)", ev.n);
	gr_store_events_clear(&ev);
	gr_store_unsubscribe(s, fd);
	gr_store_lease_revoke(s, id, NULL);
	gr_store_lease_revoke(s, id2, NULL);
	gr_store_lease_revoke(s, 42, NULL);
	gr_store_close(s);
}

int main(void)
{
	st_backend(ST_SQLITE);
	lease_sqlite();
	if (ok(st_backend(ST_ETCD), "a private 3-member etcd cluster is up"))
		lease_etcd();
	return tap_done();
}
