/* Fault injection for the SQLite store, with real faults rather than mocks:
 *  - SQLITE_BUSY: another connection holds the write lock past the busy timeout;
 *  - SQLITE_NOMEM: SQLite's allocator (sqlite3_config(SQLITE_CONFIG_MALLOC),
 *    available in release builds) fails the Nth allocation, for every N a
 *    transaction makes;
 *  - I/O errors: RLIMIT_FSIZE makes the WAL write fail (EFBIG) mid-stream;
 *  - a file the OS will not let us write (chattr +i): read-only, EROFS.
 * Each time the call must report an error (not abort), leave nothing
 * half-written, and the store must keep working once the fault is gone.
 * The allocator and rlimit cases run in forked children (process-wide state). */
#include "tap.h"
#include "store_test.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_busy(void)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (!ok(gr_store_open(st_url("busy", "?busy_timeout=50&synchronous=normal"), NULL, &s, &err) == 0,
		"open with a 50 ms busy timeout"))
		return;
	int64_t rev0;
	gr_store_put(s, "/gureum/instances/a", "old", 3, 0, &rev0, &err);

	sqlite3 *other = NULL;
	sqlite3_open(st_path("busy"), &other);
	is_int(sqlite3_exec(other, "BEGIN IMMEDIATE; UPDATE kv SET value = 'uncommitted' "
			    "WHERE key = '/gureum/instances/a'", NULL, NULL, NULL), SQLITE_OK,
	       "second connection holds the write lock with an uncommitted change");

	struct gr_store_op ops[] = {
		{ .type = GR_OP_PUT, .key = "/gureum/instances/b", .value = "b", .value_len = 1 },
		{ .type = GR_OP_PUT, .key = "/gureum/instances/c", .value = "c", .value_len = 1 },
	};
	struct gr_store_txn t = { .success = ops, .n_success = 2 };
	is_int(gr_store_txn(s, &t, NULL, &err), -1, "txn fails while locked");
	is_int(err.code, EAGAIN, "reported as EAGAIN (retry), not aborted");
	ok(strstr(err.msg, "locked") != NULL, "message says locked: %s", err.msg);
	int64_t id = 0;
	is_int(gr_store_lease_grant(s, 5, &id, &err), -1, "lease grant fails while locked");
	is_int(err.code, EAGAIN, "EAGAIN");
	struct gr_kv kv;
	is_int(gr_store_get(s, "/gureum/instances/a", &kv, &err), 1, "reads go on under WAL");
	is_str(kv.value, "old", "and do not see the other connection's uncommitted write");
	gr_kv_clear(&kv);

	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	int64_t rev1;
	gr_store_revision(s, &rev1, &err);
	is_int(rev1, rev0, "failed writes left the revision alone");
	is_int(gr_store_get(s, "/gureum/instances/b", &kv, &err), 0, "nothing of the failed txn exists");
	struct gr_store_txn_result res;
	is_int(gr_store_txn(s, &t, &res, &err), 0, "same txn works once the lock is gone");
	is_int(res.revision, rev0 + 1, "next revision");
	gr_store_close(s);
}

/* ---- SQLITE_NOMEM ------------------------------------------------------------ */

static sqlite3_mem_methods real_mem;
static long fail_countdown = -1; /* < 0: disarmed */
static long failures;

static void *fail_malloc(int n)
{
	if (fail_countdown >= 0 && fail_countdown-- == 0) {
		failures++;
		return NULL;
	}
	return real_mem.xMalloc(n);
}

static void *fail_realloc(void *p, int n)
{
	if (fail_countdown >= 0 && fail_countdown-- == 0) {
		failures++;
		return NULL;
	}
	return real_mem.xRealloc(p, n);
}

struct nomem_report { long points, clean_errors, successes, inconsistent, bad_codes; };

/* In a child: for N = 0, 1, ...: fail the Nth SQLite allocation inside one txn. */
static void nomem_child(int wfd)
{
	struct nomem_report rep = {0};
	sqlite3_shutdown();
	sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem);
	sqlite3_mem_methods m = real_mem;
	m.xMalloc = fail_malloc;
	m.xRealloc = fail_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK || sqlite3_initialize() != SQLITE_OK)
		_exit(3);
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (gr_store_open(st_url("nomem", "?synchronous=normal"), NULL, &s, &err) < 0)
		_exit(4);
	int64_t lease = 0;
	gr_store_lease_grant(s, 3600, &lease, &err);
	gr_store_put(s, "/n/victim", "v", 1, 0, NULL, &err);
	for (long n = 0; n < 5000; n++) {
		char k1[64], k2[64];
		snprintf(k1, sizeof k1, "/n/a%ld", n);
		snprintf(k2, sizeof k2, "/n/b%ld", n);
		int64_t before = -1, after = -1;
		fail_countdown = -1;
		gr_store_revision(s, &before, &err);
		struct gr_store_op ops[] = {
			{ .type = GR_OP_PUT, .key = k1, .value = "payload-1", .value_len = 9 },
			{ .type = GR_OP_PUT, .key = k2, .value = "payload-2", .value_len = 9, .lease = lease },
			{ .type = GR_OP_DELETE, .key = "/n/victim" },
		};
		struct gr_store_txn t = { .success = ops, .n_success = 3 };
		struct gr_store_txn_result res;
		long f0 = failures;
		fail_countdown = n;
		int r = gr_store_txn(s, &t, &res, &err);
		fail_countdown = -1;
		bool injected = failures > f0;
		/* Check what the file says, with the allocator healthy again. */
		struct gr_kv a, b, v;
		gr_store_revision(s, &after, &err);
		int ha = gr_store_get(s, k1, &a, &err), hb = gr_store_get(s, k2, &b, &err);
		int hv = gr_store_get(s, "/n/victim", &v, &err);
		gr_kv_clear(&a);
		gr_kv_clear(&b);
		gr_kv_clear(&v);
		if (r == 0) {
			rep.successes++;
			if (!(ha == 1 && hb == 1 && hv == 0 && after == before + 1))
				rep.inconsistent++;
		} else {
			rep.clean_errors++;
			if (err.code != ENOMEM && err.code != EIO)
				rep.bad_codes++;
			if (!(ha == 0 && hb == 0 && hv == 1 && after == before))
				rep.inconsistent++;
		}
		if (injected)
			rep.points++;
		/* Restore the victim for the next round. */
		gr_store_put(s, "/n/victim", "v", 1, 0, NULL, &err);
		if (!injected)
			break; /* the txn needed fewer than n allocations: every point covered */
	}
	gr_store_close(s);
	ssize_t w = write(wfd, &rep, sizeof rep);
	_exit(w == sizeof rep ? 0 : 5);
}

static void test_nomem(void)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		nomem_child(p[1]);
	}
	close(p[1]);
	struct nomem_report rep = {0};
	ssize_t n = read(p[0], &rep, sizeof rep);
	close(p[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == sizeof rep,
	   "allocation-failure child ran to the end (status %d)", status);
	ok(rep.points > 5, "%ld allocation failure points injected", rep.points);
	ok(rep.clean_errors > 0, "%ld calls reported an error instead of aborting", rep.clean_errors);
	is_int(rep.bad_codes, 0, "errors classified ENOMEM/EIO");
	is_int(rep.inconsistent, 0, "never half-written: all or nothing at every failure point");
}

/* ---- I/O error: the WAL cannot grow ------------------------------------------ */

static void test_fsize(void)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		gr_error_t err = {0};
		struct gr_store *s = NULL;
		if (gr_store_open(st_url("fsize", NULL), NULL, &s, &err) < 0)
			_exit(3);
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = { 256 * 1024, 256 * 1024 };
		setrlimit(RLIMIT_FSIZE, &rl);
		char value[3000];
		long committed = 0;
		int code = 0;
		for (long i = 1; i < 1000; i++) {
			memset(value, 'a' + (int)(i % 26), sizeof value);
			char key[32];
			snprintf(key, sizeof key, "/f/%04ld", i);
			if (gr_store_put(s, key, value, sizeof value, 0, NULL, &err) < 0) {
				code = err.code;
				break;
			}
			committed = i;
		}
		long out[2] = { committed, code };
		ssize_t w = write(p[1], out, sizeof out);
		_exit(w == sizeof out ? 0 : 5); /* no close: like a process that dies after the error */
	}
	close(p[1]);
	long out[2] = {0};
	ssize_t n = read(p[0], out, sizeof out);
	close(p[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	ok(n == sizeof out && WIFEXITED(status) && WEXITSTATUS(status) == 0, "file-size-limited child finished");
	ok(out[0] > 5 && out[0] < 999, "%ld puts committed before the write failed", out[0]);
	ok(out[1] == EFBIG || out[1] == ENOSPC || out[1] == EIO, "reported as an I/O error (%s)",
	   strerror((int)out[1]));

	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (!ok(gr_store_open(st_url("fsize", NULL), NULL, &s, &err) == 0, "reopen after the I/O error %s", err.msg))
		return;
	int64_t rev = 0;
	gr_store_revision(s, &rev, &err);
	is_int(rev, out[0], "revision = committed puts");
	struct gr_kv_list l;
	gr_store_list(s, "/f/", 0, &l, &err);
	is_int(l.n, out[0], "every committed key, and no more");
	int whole = 1;
	for (size_t i = 0; i < l.n; i++) {
		whole &= l.kvs[i].value_len == 3000 && l.kvs[i].mod_revision == (int64_t)i + 1;
		for (size_t j = 0; j < l.kvs[i].value_len; j++)
			whole &= l.kvs[i].value[j] == (char)('a' + (int)((i + 1) % 26));
	}
	ok(whole, "every value whole, with its own revision");
	gr_kv_list_clear(&l);
	is_int(gr_store_put(s, "/f/after", "x", 1, 0, NULL, &err), 0, "writes work again");
	gr_store_close(s);
}

static void unfreeze(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "chattr -i %s 2>/dev/null", st_path("immutable"));
	if (system(cmd) != 0) {
		/* nothing to undo */
	}
}

/* A store file the OS refuses to write (immutable attribute, which binds root too). */
static void test_immutable(void)
{
	atexit(unfreeze); /* runs before the folder is removed, even if a check fails */
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (gr_store_open(st_url("immutable", NULL), NULL, &s, &err) < 0)
		return;
	int64_t rev0;
	gr_store_put(s, "/i/a", "1", 1, 0, &rev0, &err);
	gr_store_close(s);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "chattr +i %s 2>/dev/null", st_path("immutable"));
	if (system(cmd) != 0) {
		skip("chattr +i not supported on this file system");
		return;
	}
	s = NULL;
	is_int(gr_store_open(st_url("immutable", NULL), NULL, &s, &err), 0, "immutable file opens (read-only)");
	struct gr_kv kv;
	is_int(gr_store_get(s, "/i/a", &kv, &err), 1, "reads work");
	gr_kv_clear(&kv);
	is_int(gr_store_put(s, "/i/b", "2", 1, 0, NULL, &err), -1, "writes refused");
	ok(err.code == EROFS && strstr(err.msg, "read-only"), "EROFS, says why: %s", err.msg);
	int64_t rev1;
	gr_store_revision(s, &rev1, &err);
	is_int(rev1, rev0, "nothing written");
	gr_store_close(s);
	snprintf(cmd, sizeof cmd, "chattr -i %s", st_path("immutable"));
	ok(system(cmd) == 0, "immutable attribute removed");
}

int main(void)
{
	st_dir(); /* before any fork: children must share the folder */
	test_busy();
	test_nomem();
	test_fsize();
	test_immutable();
	return tap_done();
}
