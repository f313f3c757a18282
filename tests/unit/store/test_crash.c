/* Crash safety and multi-process use of the SQLite store.
 *  - A child writes in a loop (one CAS-guarded txn per step: a checksummed
 *    record, a counter, the delete of an old record) and acknowledges each
 *    commit on a pipe; the parent SIGKILLs it mid-stream, reopens, and checks
 *    that every acknowledged commit is there, nothing is torn, revisions and
 *    the change feed are consistent, and the writer can resume.  Three rounds.
 *  - Several processes increment one counter with put_if: no lost update.
 * Both run on SQLite and then on a private etcd cluster (where the writer is
 * the client process: every acknowledged commit must be in the cluster). */
#include "tap.h"
#include "store_test.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEEP 10 /* records kept behind the counter */

static uint32_t checksum(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Record i: "i=<i>;pad=<i-dependent text>;sum=<fnv of what precedes>". */
static size_t make_record(long i, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "i=%ld;pad=", i);
	size_t pad = 200 + (size_t)(i * 37 % 1500);
	for (size_t j = 0; j < pad && (size_t)n + 32 < cap; j++)
		buf[n++] = (char)('A' + (i + (long)j) % 26);
	buf[n] = '\0';
	n += snprintf(buf + n, cap - (size_t)n, ";sum=%08x", checksum(buf, (size_t)n));
	return (size_t)n;
}

static bool record_ok(long i, const struct gr_kv *kv)
{
	char want[2048];
	size_t n = make_record(i, want, sizeof want);
	return kv->value_len == n && !memcmp(kv->value, want, n);
}

/* Child: continue the counter until killed. */
static void writer(int ackfd)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (gr_store_open(st_url("crash", NULL), NULL, &s, &err) < 0)
		_exit(3);
	for (;;) {
		struct gr_kv c = {0};
		int found = gr_store_get(s, "/c/counter", &c, &err);
		if (found < 0)
			_exit(4);
		long i = found ? atol(c.value) + 1 : 1;
		int64_t mod = found ? c.mod_revision : 0;
		gr_kv_clear(&c);
		char rec[2048], key[32], old[32], num[32];
		size_t n = make_record(i, rec, sizeof rec);
		snprintf(key, sizeof key, "/c/rec/%08ld", i);
		snprintf(old, sizeof old, "/c/rec/%08ld", i - KEEP);
		snprintf(num, sizeof num, "%ld", i);
		struct gr_store_cmp cmp = { .key = "/c/counter", .target = GR_CMP_MOD_REVISION,
					    .op = GR_CMP_EQUAL, .number = mod };
		struct gr_store_op ops[] = {
			{ .type = GR_OP_PUT, .key = key, .value = rec, .value_len = n },
			{ .type = GR_OP_PUT, .key = "/c/counter", .value = num, .value_len = strlen(num) },
			{ .type = GR_OP_DELETE, .key = old },
		};
		struct gr_store_txn t = { &cmp, 1, ops, i > KEEP ? 3 : 2, NULL, 0 };
		struct gr_store_txn_result res;
		if (gr_store_txn(s, &t, &res, &err) < 0 || !res.succeeded)
			_exit(5);
		if (write(ackfd, &i, sizeof i) != sizeof i)
			_exit(6);
	}
}

/* Parent: check the file after the kill.  Returns the counter. */
static long verify(long acked, int round)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (!ok(gr_store_open(st_url("crash", NULL), NULL, &s, &err) == 0, "round %d: reopen after SIGKILL%s%s",
		round, err.code ? ": " : "", err.msg))
		return -1;
	struct gr_kv c = {0};
	gr_store_get(s, "/c/counter", &c, &err);
	long n = c.value ? atol(c.value) : 0;
	ok(acked > 0 && (n == acked || n == acked + 1), "round %d: counter %ld covers every acknowledged commit (%ld)", round,
	   n, acked);
	int64_t rev = -1;
	gr_store_revision(s, &rev, &err);
	is_int(rev, n, "round %d: one revision per commit, none lost or doubled", round);
	ok(c.mod_revision == n && c.version == n, "round %d: counter metadata consistent", round);
	gr_kv_clear(&c);

	struct gr_kv_list l;
	gr_store_list(s, "/c/rec/", 0, &l, &err);
	long lo = n > KEEP ? n - KEEP + 1 : 1;
	is_int(l.n, n - lo + 1, "round %d: exactly the last %d records", round, KEEP);
	int whole = 1;
	for (size_t k = 0; k < l.n; k++) {
		long i = lo + (long)k;
		whole &= record_ok(i, &l.kvs[k]) && l.kvs[k].mod_revision == i && l.kvs[k].create_revision == i;
	}
	ok(whole, "round %d: every record whole (checksum) at its own revision", round);
	gr_kv_list_clear(&l);

	struct gr_store_events ev;
	is_int(gr_store_changes_since(s, 1, "", 0, &ev, &err), 0, "round %d: change feed readable", round);
	int feed = ev.n == (size_t)(2 * n + (n > KEEP ? n - KEEP : 0));
	for (size_t k = 0, i = 1; feed && k < ev.n; i++) {
		feed &= ev.events[k].kv.mod_revision == (int64_t)i && ev.events[k].type == GR_EV_PUT;
		feed &= k + 1 < ev.n && ev.events[k + 1].kv.mod_revision == (int64_t)i;
		k += 2;
		if ((long)i > KEEP) {
			feed &= k < ev.n && ev.events[k].type == GR_EV_DELETE &&
				ev.events[k].kv.mod_revision == (int64_t)i;
			k++;
		}
	}
	ok(feed, "round %d: feed has each commit's events, in order, nothing extra (%zu)", round, ev.n);
	gr_store_events_clear(&ev);
	gr_store_close(s);
	return n;
}

static void crash_rounds(void)
{
	long kill_after[] = { 40, 7, 90 };
	long total = 0;
	for (int round = 1; round <= 3; round++) {
		int p[2];
		if (pipe(p) < 0)
			return;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			writer(p[1]);
		}
		close(p[1]);
		long acked = total, got = 0, v;
		while (got < kill_after[round - 1] && read(p[0], &v, sizeof v) == sizeof v) {
			acked = v;
			got++;
		}
		kill(pid, SIGKILL);
		while (read(p[0], &v, sizeof v) == sizeof v)
			acked = v; /* acks written before the kill landed */
		close(p[0]);
		int status = 0;
		waitpid(pid, &status, 0);
		ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "round %d: writer killed after %ld commits",
		   round, got);
		total = verify(acked, round);
		if (total < 0)
			return;
	}
}

/* Several processes, one counter, put_if retries: the total must be exact. */
static void contention(void)
{
	enum { PROCS = 3, EACH = 150 };
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (gr_store_open(st_url("contend", "?synchronous=normal"), NULL, &s, &err) < 0)
		return;
	gr_store_put(s, "/c/shared", "0", 1, 0, NULL, &err);
	gr_store_close(s);
	fflush(stdout);
	int gate[2];
	if (pipe(gate) < 0)
		return;
	pid_t pids[PROCS];
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			struct gr_store *cs = NULL;
			if (gr_store_open(st_url("contend", "?synchronous=normal&busy_timeout=20000"), NULL, &cs, &err) < 0)
				_exit(3);
			char c;
			close(gate[1]);
			if (read(gate[0], &c, 1) != 0) /* start together when the parent closes the gate */
				_exit(6);
			int conflicts = 0;
			for (int i = 0; i < EACH;) {
				struct gr_kv kv;
				if (gr_store_get(cs, "/c/shared", &kv, &err) != 1)
					_exit(4);
				char next[32];
				snprintf(next, sizeof next, "%ld", atol(kv.value) + 1);
				int r = gr_store_put_if(cs, "/c/shared", next, strlen(next), 0, kv.mod_revision, NULL, &err);
				gr_kv_clear(&kv);
				if (r < 0)
					_exit(5);
				if (r == 1)
					i++;
				else
					conflicts++;
			}
			gr_store_close(cs);
			diag("process %d lost %d CAS races (retried)", p, conflicts);
			fflush(stdout);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	int clean = 1;
	for (int p = 0; p < PROCS; p++) {
		int status = 0;
		waitpid(pids[p], &status, 0);
		clean &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	ok(clean, "%d processes finished their increments without errors", PROCS);
	gr_store_open(st_url("contend", NULL), NULL, &s, &err);
	struct gr_kv kv = {0};
	gr_store_get(s, "/c/shared", &kv, &err);
	is_int(kv.value ? atol(kv.value) : -1, PROCS * EACH, "no lost update across processes");
	is_int(kv.version, PROCS * EACH + 1, "one version per applied CAS");
	gr_kv_clear(&kv);
	gr_store_close(s);
}

int main(void)
{
	st_dir(); /* before any fork: children must share the folder */
	st_backend(ST_SQLITE);
	crash_rounds();
	contention();
	/* On etcd the same: the client process dies mid-stream, the cluster keeps
	 * every acknowledged commit; and the CAS counter across processes. */
	if (ok(st_backend(ST_ETCD), "a private 3-member etcd cluster is up")) {
		crash_rounds();
		contention();
	}
	return tap_done();
}
