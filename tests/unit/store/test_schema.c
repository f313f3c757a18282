/* Unit tests for the SQLite store's files: schema migration from files made
 * by hand at older versions, refusal of newer versions, garbage and foreign
 * files, damaged pages, read-only mode, WAL mode and file permissions. */
#include "tap.h"
#include "store_test.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

static int sql(const char *path, const char *text)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, text, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		diag("sql on %s: %s", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

static int64_t sql_int(const char *path, const char *text)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, text, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* A store file as schema version 1 wrote it: keys and the revision, no leases, no events. */
static const char v1_schema[] =
	"CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE kv(key TEXT PRIMARY KEY, value BLOB NOT NULL, create_rev INTEGER NOT NULL,"
	"  mod_rev INTEGER NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta VALUES('revision', 7);"
	"INSERT INTO kv VALUES('/gureum/instances/old1', '{\"state\":\"running\"}', 3, 7, 4);"
	"INSERT INTO kv VALUES('/gureum/images/base', 'img', 1, 1, 1);"
	"PRAGMA user_version = 1;";

static void test_migrate_v1(void)
{
	gr_error_t err = {0};
	const char *path = st_path("v1");
	is_int(sql(path, v1_schema), SQLITE_OK, "hand-made version 1 file");
	struct gr_store *s = NULL;
	is_int(gr_store_open(st_url("v1", "?mode=ro"), NULL, &s, &err), -1, "read-only open cannot migrate");
	ok(err.code == EROFS && strstr(err.msg, "migrat"), "says it needs migrating: %s", err.msg);
	if (!ok(gr_store_open(st_url("v1", NULL), NULL, &s, &err) == 0, "open migrates: %s", err.msg))
		return;
	struct gr_kv kv;
	is_int(gr_store_get(s, "/gureum/instances/old1", &kv, &err), 1, "old key readable");
	ok(kv.create_revision == 3 && kv.mod_revision == 7 && kv.version == 4 && kv.lease == 0,
	   "old metadata kept, lease 0");
	is_str(kv.value, "{\"state\":\"running\"}", "old value kept");
	gr_kv_clear(&kv);
	int64_t rev = 0;
	gr_store_put(s, "/gureum/instances/new1", "{}", 2, 0, &rev, &err);
	is_int(rev, 8, "revisions continue from the old counter");
	int64_t lease = 0;
	is_int(gr_store_lease_grant(s, 5, &lease, &err), 0, "leases work after migration");
	struct gr_store_events ev;
	is_int(gr_store_changes_since(s, 0, "", 0, &ev, &err), 0, "change feed after migration");
	ok(ev.compact_revision == 8 && ev.n == 1, "history starts after the migrated revision");
	gr_store_events_clear(&ev);
	is_int(gr_store_changes_since(s, 5, "", 0, &ev, &err), -1, "pre-migration history is compacted");
	is_int(err.code, ESTALE, "ESTALE");
	gr_store_close(s);
	is_int(sql_int(path, "PRAGMA user_version"), 3, "file now at version 3");
	is_int(sql_int(path, "SELECT count(*) FROM kv"), 3, "3 keys");
}

static void test_migrate_v2(void)
{
	gr_error_t err = {0};
	const char *path = st_path("v2");
	char text[2048];
	snprintf(text, sizeof text, "%s"
		 "ALTER TABLE kv ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;"
		 "CREATE TABLE lease(id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL, expires_ms INTEGER NOT NULL);"
		 "CREATE INDEX kv_lease ON kv(lease) WHERE lease != 0;"
		 "CREATE INDEX lease_expiry ON lease(expires_ms);"
		 "INSERT INTO meta VALUES('lease_next', 10);"
		 "INSERT INTO lease VALUES(9, 30, 0);"
		 "UPDATE kv SET lease = 9 WHERE key = '/gureum/images/base';"
		 "PRAGMA user_version = 2;", v1_schema);
	is_int(sql(path, text), SQLITE_OK, "hand-made version 2 file with a leased key");
	struct gr_store *s = NULL;
	struct st_clock clk = { .now = 5000 };
	struct gr_store_options o = { .clock = st_clock_fn, .clock_ctx = &clk };
	if (!ok(gr_store_open(st_url("v2", NULL), &o, &s, &err) == 0, "open migrates v2: %s", err.msg))
		return;
	struct gr_kv kv;
	is_int(gr_store_get(s, "/gureum/images/base", &kv, &err), 1, "leased key kept");
	is_int(kv.lease, 9, "with its lease");
	gr_kv_clear(&kv);
	struct gr_store_lease_info li;
	is_int(gr_store_lease_info(s, 9, &li, &err), 0, "lease kept");
	is_int(li.remaining_ms, 30000, "no boot recorded: deadline restarted with the full TTL");
	is_int(gr_store_lease_revoke(s, 9, &err), 0, "revoke the migrated lease");
	struct gr_store_events ev;
	gr_store_changes_since(s, 0, "", 0, &ev, &err);
	ok(ev.n == 1 && ev.events[0].type == GR_EV_DELETE, "its key's deletion is in the feed");
	gr_store_events_clear(&ev);
	int64_t id = 0;
	gr_store_lease_grant(s, 5, &id, &err);
	is_int(id, 10, "lease ids continue from lease_next");
	gr_store_close(s);
}

static void test_refusals(void)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;

	is_int(sql(st_path("newer"), v1_schema), SQLITE_OK, "file for a future version");
	sql(st_path("newer"), "PRAGMA user_version = 99");
	is_int(gr_store_open(st_url("newer", NULL), NULL, &s, &err), -1, "newer schema refused");
	ok(err.code == EPROTO && strstr(err.msg, "99"), "names the version: %s", err.msg);
	is_int(sql_int(st_path("newer"), "PRAGMA user_version"), 99, "newer file left untouched");

	is_int(sql(st_path("foreign"), "CREATE TABLE t(x); INSERT INTO t VALUES(1);"), SQLITE_OK, "foreign SQLite db");
	is_int(gr_store_open(st_url("foreign", NULL), NULL, &s, &err), -1, "foreign db refused");
	ok(strstr(err.msg, "not a gureum store") != NULL, "says so: %s", err.msg);
	is_int(sql_int(st_path("foreign"), "SELECT x FROM t"), 1, "foreign db left untouched");

	int fd = open(st_path("garbage"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7 + 3);
	ok(write(fd, junk, sizeof junk) == (ssize_t)sizeof junk, "garbage file");
	close(fd);
	is_int(gr_store_open(st_url("garbage", NULL), NULL, &s, &err), -1, "garbage refused");
	ok(err.code == EIO && strstr(err.msg, "not a database") && strstr(err.msg, "garbage.db"),
	   "clear error naming the file: %s", err.msg);
	ok(s == NULL, "no handle");

	/* A real store with its first page (schema) overwritten. */
	is_int(gr_store_open(st_url("damaged", NULL), NULL, &s, &err), 0, "fresh store");
	gr_store_put(s, "/a", "1", 1, 0, NULL, &err);
	gr_store_close(s);
	s = NULL;
	sql(st_path("damaged"), "PRAGMA wal_checkpoint(TRUNCATE)");
	fd = open(st_path("damaged"), O_WRONLY);
	ok(pwrite(fd, junk, 3000, 100) == 3000, "schema page overwritten");
	close(fd);
	is_int(gr_store_open(st_url("damaged", NULL), NULL, &s, &err), -1, "damaged store refused");
	ok(err.code == EIO && (strstr(err.msg, "malformed") || strstr(err.msg, "corrupt")),
	   "says it is damaged: %s", err.msg);

	is_int(gr_store_open("sqlite:///nonexistent-dir-gr/x.db", NULL, &s, &err), -1, "missing folder");
	ok(err.code == ENOENT && strstr(err.msg, "/nonexistent-dir-gr/x.db"), "names the path: %s", err.msg);
}

static void test_file(void)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	is_int(gr_store_open(st_url("fresh", NULL), NULL, &s, &err), 0, "create a store");
	gr_store_put(s, "/k", "v", 1, 0, NULL, &err);
	struct stat st;
	ok(stat(st_path("fresh"), &st) == 0 && (st.st_mode & 0777) == 0600, "file is 0600");
	is_int(sql_int(st_path("fresh"), "PRAGMA user_version"), 3, "schema version 3");
	gr_store_close(s);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	sqlite3_open(st_path("fresh"), &db);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL);
	sqlite3_step(q);
	is_str((const char *)sqlite3_column_text(q, 0), "wal", "journal_mode is WAL");
	sqlite3_finalize(q);
	sqlite3_close(db);

	is_int(gr_store_open(st_url("fresh", "?mode=ro"), NULL, &s, &err), 0, "read-only open");
	struct gr_kv kv;
	is_int(gr_store_get(s, "/k", &kv, &err), 1, "read-only reads");
	gr_kv_clear(&kv);
	int64_t rev0, rev1;
	gr_store_revision(s, &rev0, &err);
	is_int(gr_store_put(s, "/k2", "v", 1, 0, NULL, &err), -1, "read-only refuses writes");
	ok(err.code == EROFS && strstr(err.msg, "read-only"), "EROFS: %s", err.msg);
	int64_t id = 0;
	is_int(gr_store_lease_grant(s, 5, &id, &err), -1, "read-only refuses leases");
	gr_store_revision(s, &rev1, &err);
	is_int(rev1, rev0, "nothing written");
	gr_store_close(s);
}

int main(void)
{
	test_migrate_v1();
	test_migrate_v2();
	test_refusals();
	test_file();
	return tap_done();
}
