/*
 * sqlite.c - the embedded store back-end: one SQLite connection per
 * struct gr_store, in WAL mode.  This file owns the connection, the URL
 * options, the schema and its migrations, the prepared-statement cache, write
 * transactions and lease expiry; sqlite_kv.c implements the operations.
 *
 * Schema (PRAGMA user_version = SQ_SCHEMA_VERSION; migrations[] upgrades older
 * files one version at a time, all in one IMMEDIATE transaction):
 *   meta(name, value)     'revision' (global counter), 'lease_next',
 *                         'compact_revision' (oldest revision still in event),
 *                         'boot_id' (the boot whose CLOCK_BOOTTIME the lease
 *                         deadlines are in; see lease_clock())
 *   kv(key, value, create_rev, mod_rev, version, lease)      the live keys
 *   lease(id, ttl, expires_ms)                                live leases
 *   event(rev, sub, type, key, value, create_rev, mod_rev, version, lease)
 *                         the change feed, one row per key change
 * Invariants: meta.revision == max(event.rev) whenever events exist; every
 * write transaction that changes a key bumps the revision by exactly one and
 * records its events at that revision; kv.lease != 0 names a row of lease.
 *
 * Durability: synchronous=FULL by default.  In WAL mode NORMAL only fsyncs at
 * checkpoints, so a power cut may drop the last commits that were already
 * reported done; the daemon acts on a commit (e.g. starts an instance after
 * recording "starting"), so losing one could start an instance twice or forget
 * one.  FULL costs one fsync per commit, which lifecycle write rates (tens per
 * second) afford.  NORMAL (?synchronous=normal) stays safe against process
 * crashes and suits tests and benchmarks.
 *
 * Concurrency: writes take the database lock up front (BEGIN IMMEDIATE) and
 * wait up to busy_timeout ms for another connection, then fail with EAGAIN.
 * The revision is read inside the write transaction, so several processes on
 * one file still see one linear history.
 */
#include "store/sqlite-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SQ_SCHEMA_VERSION 3
#define SQ_DEFAULT_BUSY_MS 5000
#define SQ_DEFAULT_HISTORY 100000

/* migrations[v] upgrades a version-v file to v+1. */
static const char *const migrations[SQ_SCHEMA_VERSION] = {
	/* 0 -> 1: keys and the revision counter */
	"CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE kv(key TEXT PRIMARY KEY, value BLOB NOT NULL, create_rev INTEGER NOT NULL,"
	"  mod_rev INTEGER NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta(name, value) VALUES('revision', 0);",
	/* 1 -> 2: leases */
	"ALTER TABLE kv ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX kv_lease ON kv(lease) WHERE lease != 0;"
	"CREATE TABLE lease(id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL, expires_ms INTEGER NOT NULL);"
	"CREATE INDEX lease_expiry ON lease(expires_ms);"
	"INSERT INTO meta(name, value) VALUES('lease_next', 1);",
	/* 2 -> 3: the change feed; history starts after the current revision */
	"CREATE TABLE event(rev INTEGER NOT NULL, sub INTEGER NOT NULL, type INTEGER NOT NULL,"
	"  key TEXT NOT NULL, value BLOB, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL,"
	"  version INTEGER NOT NULL, lease INTEGER NOT NULL, PRIMARY KEY(rev, sub)) WITHOUT ROWID;"
	"INSERT INTO meta(name, value) SELECT 'compact_revision', value + 1 FROM meta"
	"  WHERE name = 'revision';",
};

static const char *const stmt_sql[SQ__COUNT] = {
	[SQ_BEGIN_READ] = "BEGIN",
	[SQ_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_META_GET] = "SELECT value FROM meta WHERE name = ?1",
	[SQ_META_SET] = "INSERT INTO meta(name, value) VALUES(?1, ?2)"
			" ON CONFLICT(name) DO UPDATE SET value = excluded.value",
	[SQ_KV_GET] = "SELECT key, value, create_rev, mod_rev, version, lease FROM kv WHERE key = ?1",
	[SQ_KV_PUT] = "INSERT INTO kv(key, value, create_rev, mod_rev, version, lease)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key) DO UPDATE SET"
		      " value = excluded.value, create_rev = excluded.create_rev,"
		      " mod_rev = excluded.mod_rev, version = excluded.version, lease = excluded.lease",
	[SQ_KV_DEL] = "DELETE FROM kv WHERE key = ?1",
	[SQ_KV_RANGE] = "SELECT key, value, create_rev, mod_rev, version, lease FROM kv"
			" WHERE key >= ?1 AND key > ?2 AND key < ?3 ORDER BY key LIMIT ?4",
	[SQ_KV_RANGE_KEYS] = "SELECT key, NULL, create_rev, mod_rev, version, lease FROM kv"
			     " WHERE key >= ?1 AND key > ?2 AND key < ?3 ORDER BY key LIMIT ?4",
	[SQ_KV_BY_LEASE] = "SELECT key FROM kv WHERE lease = ?1 ORDER BY key",
	[SQ_LEASE_GET] = "SELECT ttl, expires_ms FROM lease WHERE id = ?1",
	[SQ_LEASE_INSERT] = "INSERT INTO lease(id, ttl, expires_ms) VALUES(?1, ?2, ?3)",
	[SQ_LEASE_TOUCH] = "UPDATE lease SET expires_ms = ?2 WHERE id = ?1",
	[SQ_LEASE_DEL] = "DELETE FROM lease WHERE id = ?1",
	[SQ_LEASE_DUE] = "SELECT id FROM lease WHERE expires_ms <= ?1 ORDER BY expires_ms, id LIMIT 1",
	[SQ_EV_INSERT] = "INSERT INTO event(rev, sub, type, key, value, create_rev, mod_rev, version,"
			 " lease) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[SQ_EV_SINCE] = "SELECT rev, type, key, value, create_rev, mod_rev, version, lease FROM event"
			" WHERE rev >= ?1 AND key >= ?2 AND key < ?3 ORDER BY rev, sub",
	[SQ_EV_COMPACT] = "DELETE FROM event WHERE rev < ?1",
	[SQ_DATA_VERSION] = "PRAGMA data_version",
};

/* ---- errors, clock, statements ---------------------------------------------- */

static int errno_of(struct gr__sq *q, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY: case SQLITE_LOCKED: return EAGAIN;
	case SQLITE_NOMEM: return ENOMEM;
	case SQLITE_READONLY: return EROFS;
	case SQLITE_FULL: return ENOSPC;
	case SQLITE_TOOBIG: return EMSGSIZE;
	case SQLITE_PERM: case SQLITE_AUTH: return EACCES;
	case SQLITE_CANTOPEN: case SQLITE_IOERR: {
		int e = q && q->db ? sqlite3_system_errno(q->db) : 0;
		return e ? e : ((rc & 0xff) == SQLITE_CANTOPEN ? ENOENT : EIO);
	}
	default: return EIO; /* CORRUPT, NOTADB, SCHEMA, internal */
	}
}

int gr__sq_error(struct gr__sq *q, int rc, gr_error_t *err, const char *fmt, ...)
{
	char ctx[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	const char *msg = q && q->db && (sqlite3_extended_errcode(q->db) & 0xff) == (rc & 0xff)
				  ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);
	const char *hint = "";
	char busy[96];
	switch (rc & 0xff) {
	case SQLITE_BUSY: case SQLITE_LOCKED:
		snprintf(busy, sizeof busy, " (another connection held the lock for over %d ms; retry later)",
			 q ? q->busy_timeout_ms : 0);
		hint = busy;
		break;
	case SQLITE_NOTADB: case SQLITE_CORRUPT: hint = " (corrupt, or not a gureum store)"; break;
	case SQLITE_READONLY: hint = " (store is read-only)"; break;
	}
	return gr_error_set(err, errno_of(q, rc), "%s: %s%s", ctx, msg, hint);
}

static int64_t boottime_ms(void *ctx)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* This boot's id as a positive int64 (FNV-1a of boot_id), 0 if unknown. */
static int64_t boot_id(void)
{
	char buf[64] = "";
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	uint64_t h = 14695981039346656037ull;
	for (ssize_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
	return (int64_t)(h >> 1) | 1;
}

int64_t gr__sq_now(struct gr__sq *q)
{
	return q->clock(q->clock_ctx);
}

sqlite3_stmt *gr__sq_stmt(struct gr__sq *q, enum gr__sq_stmt id, gr_error_t *err)
{
	sqlite3_stmt *st = q->stmts[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(q->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK) {
			gr__sq_error(q, rc, err, "preparing statement %d", (int)id);
			return NULL;
		}
		q->stmts[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int gr__sq_exec(struct gr__sq *q, sqlite3_stmt *st, gr_error_t *err, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return gr__sq_error(q, rc, err, "%s", what);
	return 0;
}

/* ---- transactions ------------------------------------------------------------- */

int gr__sq_read_begin(struct gr__sq *q, gr_error_t *err)
{
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_BEGIN_READ, err);
	return st ? gr__sq_exec(q, st, err, "beginning read transaction") : -1;
}

void gr__sq_read_end(struct gr__sq *q)
{
	if (sqlite3_get_autocommit(q->db))
		return;
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_COMMIT, NULL);
	if (st && gr__sq_exec(q, st, NULL, "ending read") < 0)
		gr__sq_write_abort(q);
}

void gr__sq_write_abort(struct gr__sq *q)
{
	/* SQLite may already have rolled back (after NOMEM, FULL, IOERR). */
	if (sqlite3_get_autocommit(q->db))
		return;
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_ROLLBACK, NULL);
	if (!st || gr__sq_exec(q, st, NULL, "rollback") < 0)
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

int gr__sq_write_begin(struct gr__sq *q, struct gr__sq_write *w, gr_error_t *err)
{
	if (q->readonly)
		return gr_error_set(err, EROFS, "store %s is read-only (opened with mode=ro, or the "
				    "file or its file system refuses writes)", q->path);
	w->rev = 0;
	w->sub = 0;
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_BEGIN_WRITE, err);
	if (!st || gr__sq_exec(q, st, err, "beginning write transaction") < 0)
		return -1;
	if (gr__sq_meta_get(q, "revision", &w->rev, err) < 0) {
		gr__sq_write_abort(q);
		return -1;
	}
	return 0;
}

int gr__sq_write_end(struct gr__sq *q, struct gr__sq_write *w, gr_error_t *err)
{
	if (w->sub > 0 && gr__sq_meta_set(q, "revision", w->rev + 1, err) < 0)
		goto fail;
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_COMMIT, err);
	if (!st || gr__sq_exec(q, st, err, "committing") < 0)
		goto fail;
	if (w->sub > 0)
		q->commits++;
	return 0;
fail:
	gr__sq_write_abort(q);
	return -1;
}

int gr__sq_meta_get(struct gr__sq *q, const char *name, int64_t *value, gr_error_t *err)
{
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_META_GET, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gr_error_set(err, EIO, "store %s: meta '%s' is missing (damaged schema)", q->path, name);
	if (rc != SQLITE_ROW)
		return gr__sq_error(q, rc, err, "reading meta %s", name);
	return 0;
}

int gr__sq_meta_set(struct gr__sq *q, const char *name, int64_t value, gr_error_t *err)
{
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_META_SET, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, value);
	return gr__sq_exec(q, st, err, "writing meta");
}

/* ---- leases: expiry ------------------------------------------------------------- */

int gr__sq_expire(struct gr__sq *q, gr_error_t *err)
{
	if (q->readonly)
		return 0; /* a read-only connection cannot delete; a writer will */
	int n = 0;
	for (int round = 0; round < 10000; round++) {
		int64_t now = gr__sq_now(q), id = 0;
		sqlite3_stmt *st = gr__sq_stmt(q, SQ_LEASE_DUE, err);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, now);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return gr__sq_error(q, rc, err, "looking for expired leases");
		struct gr__sq_write w;
		if (gr__sq_write_begin(q, &w, err) < 0)
			return gr_error_prefix(err, "expiring lease %lld", (long long)id);
		/* Re-check inside the lock: another connection may have renewed it. */
		st = gr__sq_stmt(q, SQ_LEASE_GET, err);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		bool due = rc == SQLITE_ROW && sqlite3_column_int64(st, 1) <= now;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			gr__sq_error(q, rc, err, "reading lease %lld", (long long)id);
			goto fail;
		}
		if (due && gr__sq_lease_drop(q, &w, id, err) < 0)
			goto fail;
		if (gr__sq_write_end(q, &w, err) < 0)
			return gr_error_prefix(err, "expiring lease %lld", (long long)id);
		n += due;
	}
	return n;
fail:
	gr__sq_write_abort(q);
	return gr_error_prefix(err, "expiring lease");
}

/* ---- open, schema, close ------------------------------------------------------- */

struct sq_opts {
	int64_t history;
	int mode; /* 0 rwc, 1 rw, 2 ro */
	int busy_ms;
	bool sync_full;
};

static int parse_location(const char *loc, char **path, struct sq_opts *o, gr_error_t *err)
{
	o->mode = 0;
	o->busy_ms = SQ_DEFAULT_BUSY_MS;
	o->sync_full = true;
	o->history = SQ_DEFAULT_HISTORY;
	const char *q = strchr(loc, '?');
	_cleanup_free_ char *p = q ? xstrndup(loc, (size_t)(q - loc)) : xstrdup(loc);
	if (p[0] != '/')
		return gr_error_set(err, EINVAL, "sqlite URL: path '%s' must be absolute "
				    "(sqlite:///var/lib/gureum/state.db)", p);
	if (p[strlen(p) - 1] == '/')
		return gr_error_set(err, EINVAL, "sqlite URL: path '%s' names a folder, not a file", p);
	_cleanup_free_ char *query = q ? xstrdup(q + 1) : NULL;
	char *save = NULL;
	for (char *kv = query ? strtok_r(query, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return gr_error_set(err, EINVAL, "sqlite URL: option '%s' has no value", kv);
		*eq = '\0';
		const char *v = eq + 1;
		if (!strcmp(kv, "busy_timeout")) {
			char *end;
			long ms = strtol(v, &end, 10);
			if (!*v || *end || ms < 0 || ms > 3600000)
				return gr_error_set(err, EINVAL, "sqlite URL: busy_timeout '%s' is not 0..3600000 ms", v);
			o->busy_ms = (int)ms;
		} else if (!strcmp(kv, "history")) {
			char *end;
			long long h = strtoll(v, &end, 10);
			if (!*v || *end || h < 0)
				return gr_error_set(err, EINVAL, "sqlite URL: history '%s' is not a revision count >= 0", v);
			o->history = h;
		} else if (!strcmp(kv, "synchronous")) {
			if (!strcmp(v, "full"))
				o->sync_full = true;
			else if (!strcmp(v, "normal"))
				o->sync_full = false;
			else
				return gr_error_set(err, EINVAL, "sqlite URL: synchronous '%s' is not full or normal", v);
		} else if (!strcmp(kv, "mode")) {
			if (!strcmp(v, "rwc"))
				o->mode = 0;
			else if (!strcmp(v, "rw"))
				o->mode = 1;
			else if (!strcmp(v, "ro"))
				o->mode = 2;
			else
				return gr_error_set(err, EINVAL, "sqlite URL: mode '%s' is not rwc, rw or ro", v);
		} else {
			return gr_error_set(err, EINVAL, "sqlite URL: unknown option '%s' "
					    "(known: busy_timeout, synchronous, mode, history)", kv);
		}
	}
	*path = TAKE_PTR(p);
	return 0;
}

static int exec_sql(struct gr__sq *q, const char *sql, gr_error_t *err, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
	sqlite3_free(msg);
	return rc == SQLITE_OK ? 0 : gr__sq_error(q, rc, err, "%s", what);
}

static int read_int(struct gr__sq *q, const char *sql, int64_t *out, gr_error_t *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : gr__sq_error(q, rc, err, "%s", sql);
}

/* Bring the file to SQ_SCHEMA_VERSION, or refuse it. */
static int migrate(struct gr__sq *q, gr_error_t *err)
{
	int64_t v = 0, tables = 0;
	if (read_int(q, "PRAGMA user_version", &v, err) < 0)
		return -1;
	if (v == SQ_SCHEMA_VERSION)
		return 0;
	if (v > SQ_SCHEMA_VERSION || v < 0)
		return gr_error_set(err, EPROTO, "store %s has schema version %lld, newer than this gureum "
				    "understands (%d); refusing to open it", q->path, (long long)v, SQ_SCHEMA_VERSION);
	if (q->readonly)
		return gr_error_set(err, EROFS, "store %s has schema version %lld and needs migrating to %d; "
				    "open it read-write once", q->path, (long long)v, SQ_SCHEMA_VERSION);
	if (exec_sql(q, "BEGIN IMMEDIATE", err, "locking for migration") < 0)
		return -1;
	/* Re-read under the lock: another process may have migrated meanwhile. */
	if (read_int(q, "PRAGMA user_version", &v, err) < 0 ||
	    read_int(q, "SELECT count(*) FROM sqlite_schema", &tables, err) < 0)
		goto fail;
	if (v == 0 && tables > 0) {
		gr_error_set(err, EINVAL, "%s is an SQLite database but not a gureum store "
			     "(it has tables and no schema version)", q->path);
		goto fail;
	}
	for (; v < SQ_SCHEMA_VERSION; v++) {
		if (exec_sql(q, migrations[v], err, "migrating schema") < 0) {
			gr_error_prefix(err, "store %s: version %lld -> %lld", q->path, (long long)v,
					(long long)v + 1);
			goto fail;
		}
	}
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SQ_SCHEMA_VERSION);
	if (exec_sql(q, sql, err, "setting schema version") < 0 ||
	    exec_sql(q, "COMMIT", err, "committing migration") < 0)
		goto fail;
	return 0;
fail:
	gr__sq_write_abort(q);
	return -1;
}

/* Lease deadlines are in this boot's clock.  A new boot (or a store that
 * never recorded one) restarts every lease with its full TTL; `refresh` (the
 * daemon starting) does so for live leases too, as etcd on leader election. */
static int lease_clock(struct gr__sq *q, bool refresh, gr_error_t *err)
{
	struct gr__sq_write w;
	int64_t now = gr__sq_now(q), boot = boot_id(), stored = 0;
	if (read_int(q, "SELECT value FROM meta WHERE name = 'boot_id'", &stored, err) < 0)
		return -1;
	if (!refresh && (!boot || stored == boot))
		return 0; /* the usual case: no write at open */
	if (gr__sq_write_begin(q, &w, err) < 0)
		return gr_error_prefix(err, "lease clock");
	if (read_int(q, "SELECT value FROM meta WHERE name = 'boot_id'", &stored, err) < 0)
		goto fail;
	const char *sql = NULL;
	if (boot && stored != boot) {
		sql = "UPDATE lease SET expires_ms = ?1 + ttl * 1000";
		if (gr__sq_meta_set(q, "boot_id", boot, err) < 0)
			goto fail;
	} else if (refresh) {
		sql = "UPDATE lease SET expires_ms = max(expires_ms, ?1 + ttl * 1000) WHERE expires_ms > ?1";
	}
	if (sql) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, now);
			rc = sqlite3_step(st);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			gr__sq_error(q, rc, err, "restarting lease deadlines");
			goto fail;
		}
	}
	return gr__sq_write_end(q, &w, err);
fail:
	gr__sq_write_abort(q);
	return -1;
}

static void sq_close(void *be)
{
	struct gr__sq *q = be;
	if (!q)
		return;
	for (int i = 0; i < SQ__COUNT; i++)
		sqlite3_finalize(q->stmts[i]);
	sqlite3_close(q->db);
	free(q->path);
	free(q);
}

static int sq_open(const char *location, const struct gr_store_options *opts, void **be,
		   gr_error_t *err)
{
	struct sq_opts o;
	char *path = NULL;
	if (parse_location(location, &path, &o, err) < 0)
		return -1;
	struct gr__sq *q = xcalloc(1, sizeof *q);
	q->path = path;
	q->readonly = o.mode == 2;
	q->busy_timeout_ms = o.busy_ms;
	q->clock = opts->clock ? opts->clock : boottime_ms;
	q->clock_ctx = opts->clock_ctx;
	q->history = o.history;
	if (o.mode == 0) {
		/* Create it 0600 ourselves: SQLite would use 0644. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			gr_error_sys(err, "creating %s", path);
			goto fail;
		}
		if (fd >= 0)
			close(fd);
	}
	int flags = (q->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &q->db, flags, NULL);
	if (rc != SQLITE_OK) {
		gr__sq_error(q, rc, err, "opening %s", path);
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 1);
	/* SQLite falls back to read-only when the OS refuses writing (immutable
	 * file, read-only mount): behave as mode=ro, with errors that say so. */
	if (sqlite3_db_readonly(q->db, "main") == 1)
		q->readonly = true;
	sqlite3_busy_timeout(q->db, o.busy_ms);
	int64_t ignored;
	if (!q->readonly && exec_sql(q, "PRAGMA journal_mode = WAL", err, path) < 0)
		goto fail;
	if (read_int(q, "SELECT count(*) FROM sqlite_schema", &ignored, err) < 0 || /* reads the header */
	    exec_sql(q, o.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", err,
		     "setting synchronous") < 0 ||
	    migrate(q, err) < 0)
		goto fail;
	if (!q->readonly && lease_clock(q, opts->refresh_leases, err) < 0)
		goto fail;
	if (read_int(q, "PRAGMA data_version", &q->data_version, err) < 0)
		goto fail;
	*be = q;
	return 0;
fail:
	sq_close(q);
	return -1;
}

static int sq_revision(void *be, int64_t *rev, gr_error_t *err)
{
	struct gr__sq *q = be;
	if (gr__sq_expire(q, err) < 0)
		return -1;
	return gr__sq_meta_get(q, "revision", rev, err);
}

static int sq_tick(void *be, bool *external, gr_error_t *err)
{
	struct gr__sq *q = be;
	int n = gr__sq_expire(q, err);
	if (n < 0)
		return -1;
	int64_t dv;
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_DATA_VERSION, err);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	dv = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : q->data_version;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return gr__sq_error(q, rc, err, "reading data_version");
	*external = dv != q->data_version;
	q->data_version = dv;
	if (q->history > 0 && !q->readonly) {
		/* Automatic compaction, in batches of a hundredth of the history. */
		int64_t rev = 0, compact = 0;
		if (gr__sq_meta_get(q, "revision", &rev, err) < 0 ||
		    gr__sq_meta_get(q, "compact_revision", &compact, err) < 0)
			return -1;
		int64_t target = rev - q->history + 1, batch = q->history / 100 ? q->history / 100 : 1;
		if (target - compact >= batch && gr__sq_compact(q, target, err) < 0)
			return gr_error_prefix(err, "automatic compaction");
	}
	return n;
}

static uint64_t sq_commits(void *be)
{
	return ((struct gr__sq *)be)->commits;
}

const struct gr_store_ops gr__store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.revision = sq_revision,
	.get = gr__sq_get,
	.range = gr__sq_range,
	.txn = gr__sq_txn,
	.lease_grant = gr__sq_lease_grant,
	.lease_keepalive = gr__sq_lease_keepalive,
	.lease_revoke = gr__sq_lease_revoke,
	.lease_info = gr__sq_lease_info,
	.tick = sq_tick,
	.changes_since = gr__sq_changes_since,
	.compact = gr__sq_compact,
	.commits = sq_commits,
};
