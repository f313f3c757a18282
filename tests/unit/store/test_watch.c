/* Unit tests for the store's change feed: ordering, since-revision, prefix
 * filter, limits that never split a revision, compaction (ESTALE), and the
 * subscriber eventfd (own commits, and another connection's via tick; on etcd
 * also without tick, from the watch stream).  Runs on SQLite, then etcd. */
#include "tap.h"
#include "store_test.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void run_all(void)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (!ok(gr_store_open(st_url("watch", "?synchronous=normal"), NULL, &s, &err) == 0, "open: %s", err.msg))
		return;
	int fd = gr_store_subscribe(s, &err);
	ok(fd >= 0, "subscribe gives an fd");
	ok(!readable(fd), "not readable before any commit");

	int64_t r1, r2, r3, r4;
	gr_store_put(s, "/gureum/instances/a", "1", 1, 0, &r1, &err);
	ok(readable(fd), "readable after a commit");
	gr_store_subscriber_drain(fd);
	ok(!readable(fd), "drained");
	gr_store_put(s, "/gureum/images/base", "img", 3, 0, &r2, &err);
	struct gr_store_op ops[] = {
		{ .type = GR_OP_PUT, .key = "/gureum/instances/b", .value = "2", .value_len = 1 },
		{ .type = GR_OP_PUT, .key = "/gureum/instances/c", .value = "3", .value_len = 1 },
		{ .type = GR_OP_DELETE, .key = "/gureum/instances/a" },
	};
	struct gr_store_txn t = { .success = ops, .n_success = 3 };
	struct gr_store_txn_result res;
	gr_store_txn(s, &t, &res, &err);
	r3 = res.revision;
	gr_store_put(s, "/gureum/instances/b", "22", 2, 0, &r4, &err);
	gr_store_subscriber_drain(fd);
	struct gr_kv kv;
	gr_store_get(s, "/gureum/instances/b", &kv, &err);
	gr_kv_clear(&kv);
	ok(!readable(fd), "reads do not wake subscribers");

	struct gr_store_events ev;
	is_int(gr_store_changes_since(s, 0, "", 0, &ev, &err), 0, "all changes");
	is_int(ev.n, 6, "6 events");
	ok(ev.n == 6 && ev.events[0].kv.mod_revision == r1 && ev.events[1].kv.mod_revision == r2 &&
	   ev.events[2].kv.mod_revision == r3 && ev.events[4].kv.mod_revision == r3 &&
	   ev.events[5].kv.mod_revision == r4, "in revision order");
	ok(ev.n == 6 && !strcmp(ev.events[2].kv.key, "/gureum/instances/b") &&
	   !strcmp(ev.events[3].kv.key, "/gureum/instances/c") && ev.events[4].type == GR_EV_DELETE &&
	   !strcmp(ev.events[4].kv.key, "/gureum/instances/a"), "txn order kept within a revision");
	ok(ev.n == 6 && ev.events[5].kv.version == 2 && ev.events[5].kv.create_revision == r3 &&
	   !strcmp(ev.events[5].kv.value, "22"), "PUT event carries value and metadata");
	is_int(ev.revision, r4, "feed reports the current revision");
	is_int(ev.compact_revision, 1, "nothing compacted yet");
	gr_store_events_clear(&ev);

	is_int(gr_store_changes_since(s, r3, "/gureum/instances/", 0, &ev, &err), 0, "since r3, prefix");
	is_int(ev.n, 4, "4 instance events since r3");
	gr_store_events_clear(&ev);
	is_int(gr_store_changes_since(s, r4 + 1, "", 0, &ev, &err), 0, "since the future");
	is_int(ev.n, 0, "no events yet");
	gr_store_events_clear(&ev);

	is_int(gr_store_changes_since(s, r2, "", 2, &ev, &err), 0, "limit 2 from r2");
	ok(ev.n == 4 && ev.more, "limit does not split r3's three events (got %zu)", ev.n);
	gr_store_events_clear(&ev);
	is_int(gr_store_changes_since(s, r1, "", 1, &ev, &err), 0, "limit 1 from r1");
	ok(ev.n == 1 && ev.more, "one event, more");
	gr_store_events_clear(&ev);

	/* Resume protocol: keep asking from the last revision + 1. */
	int64_t next = 0;
	size_t seen = 0;
	for (int i = 0; i < 10; i++) {
		gr_store_changes_since(s, next, "", 1, &ev, &err);
		seen += ev.n;
		bool more = ev.more;
		if (ev.n)
			next = ev.events[ev.n - 1].kv.mod_revision + 1;
		gr_store_events_clear(&ev);
		if (!more)
			break;
	}
	is_int(seen, 6, "paging with limit 1 sees every event once");

	/* Compaction. */
	is_int(gr_store_compact(s, r3, &err), 0, "compact to r3");
	is_int(gr_store_changes_since(s, r2, "", 0, &ev, &err), -1, "reading compacted history fails");
	is_int(err.code, ESTALE, "ESTALE (%s)", err.msg);
	is_int(ev.compact_revision, r3, "compact revision reported");
	is_int(gr_store_changes_since(s, 0, "", 0, &ev, &err), 0, "from 0 = oldest kept");
	ok(ev.n == 4 && ev.events[0].kv.mod_revision == r3, "starts at r3");
	gr_store_events_clear(&ev);
	is_int(gr_store_compact(s, r4 + 5, &err), -1, "compact beyond the revision refused");
	is_int(gr_store_compact(s, r1, &err), 0, "compact to an older revision is a no-op");

	/* Another connection's commit wakes us through tick. */
	struct gr_store *s2 = NULL;
	is_int(gr_store_open(st_url("watch", NULL), NULL, &s2, &err), 0, "second connection");
	gr_store_subscriber_drain(fd);
	is_int(gr_store_tick(s, &err), 0, "tick");
	ok(!readable(fd), "quiet tick without foreign commits");
	int64_t r5;
	gr_store_put(s2, "/gureum/hosts/h9", "x", 1, 0, &r5, &err);
	is_int(r5, r4 + 1, "second connection continues the same revision line");
	gr_store_tick(s, &err);
	ok(readable(fd), "tick after a foreign commit wakes the subscriber");
	gr_store_changes_since(s, r5, "", 0, &ev, &err);
	ok(ev.n == 1 && !strcmp(ev.events[0].kv.key, "/gureum/hosts/h9"), "foreign commit in the feed");
	gr_store_events_clear(&ev);
	if (st_etcd()) {
		gr_store_subscriber_drain(fd);
		int64_t r6;
		gr_store_put(s2, "/gureum/hosts/h10", "y", 1, 0, &r6, &err);
		ok(st_readable_within(fd, 30000), "etcd: another writer's commit wakes the subscriber without a "
		   "tick (the watch stream)");
		gr_store_subscriber_drain(fd);
		gr_store_delete(s2, "/gureum/hosts/h10", NULL, &err);
		ok(st_readable_within(fd, 30000), "etcd: and its delete too");
		gr_store_subscriber_drain(fd);
	}
	gr_store_close(s2);

	/* Automatic compaction by tick keeps `history` revisions. */
	struct gr_store *h = NULL;
	is_int(gr_store_open(st_url("history", "?history=10&synchronous=normal"), NULL, &h, &err), 0,
	       "open with history=10");
	int64_t last = 0;
	for (int i = 0; i < 25; i++)
		gr_store_put(h, "/h", "v", 1, 0, &last, &err);
	gr_store_tick(h, &err);
	is_int(gr_store_changes_since(h, 0, "", 0, &ev, &err), 0, "feed after automatic compaction");
	ok(ev.compact_revision == last - 9 && ev.n == 10, "tick kept the last 10 revisions (compact %lld, %zu events)",
	   (long long)ev.compact_revision, ev.n);
	gr_store_events_clear(&ev);
	gr_store_close(h);
	is_int(gr_store_open(st_url("history", "?history=-1"), NULL, &h, &err), -1, "negative history refused");

	int fd2 = gr_store_subscribe(s, &err);
	gr_store_unsubscribe(s, fd);
	gr_store_put(s, "/k", "v", 1, 0, NULL, &err);
	ok(readable(fd2), "other subscribers still woken after an unsubscribe");
	gr_store_close(s);
}

int main(void)
{
	st_backend(ST_SQLITE);
	run_all();
	if (ok(st_backend(ST_ETCD), "a private 3-member etcd cluster is up"))
		run_all();
	return tap_done();
}
