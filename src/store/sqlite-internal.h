/*
 * sqlite-internal.h - shared between sqlite.c (connection, schema, statement
 * cache, write transactions, lease expiry) and sqlite_kv.c (the operations).
 * Not part of the public API.
 */
#ifndef GR_STORE_SQLITE_INTERNAL_H
#define GR_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include "store/store.h"

enum gr__sq_stmt {
	SQ_BEGIN_READ, SQ_BEGIN_WRITE, SQ_COMMIT, SQ_ROLLBACK,
	SQ_META_GET, SQ_META_SET,
	SQ_KV_GET, SQ_KV_PUT, SQ_KV_DEL, SQ_KV_RANGE, SQ_KV_RANGE_KEYS, SQ_KV_BY_LEASE,
	SQ_LEASE_GET, SQ_LEASE_INSERT, SQ_LEASE_TOUCH, SQ_LEASE_DEL, SQ_LEASE_DUE, SQ_LEASE_MIN,
	SQ_EV_INSERT, SQ_EV_SINCE, SQ_EV_COMPACT,
	SQ_DATA_VERSION,
	SQ__COUNT
};

struct gr__sq {
	sqlite3 *db;
	char *path;
	bool readonly;
	int busy_timeout_ms;
	int64_t history;          /* change-feed revisions kept by tick; 0 = all */
	sqlite3_stmt *stmts[SQ__COUNT];
	gr_store_clock_fn clock;
	void *clock_ctx;
	uint64_t commits;         /* committed kv changes through this connection */
	int64_t data_version;     /* PRAGMA data_version at the last tick */
};

/* An open write transaction: the revision before it, and the events so far. */
struct gr__sq_write {
	int64_t rev;              /* store revision when the transaction began */
	int sub;                  /* events written so far (next event's index) */
};

int64_t gr__sq_now(struct gr__sq *q);

/* Map an SQLite result code to errno + message ("<context>: <sqlite message>").
 * Always returns -1. */
int gr__sq_error(struct gr__sq *q, int rc, gr_error_t *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The cached prepared statement, reset with bindings cleared (NULL + err on failure). */
sqlite3_stmt *gr__sq_stmt(struct gr__sq *q, enum gr__sq_stmt id, gr_error_t *err);
/* Step a statement expected to finish (SQLITE_DONE), then reset it. */
int gr__sq_exec(struct gr__sq *q, sqlite3_stmt *st, gr_error_t *err, const char *what);

/* Read transactions (a consistent snapshot over several statements). */
int gr__sq_read_begin(struct gr__sq *q, gr_error_t *err);
void gr__sq_read_end(struct gr__sq *q);

/* Write transactions: BEGIN IMMEDIATE (takes the write lock, waiting up to the
 * busy timeout), the revision read inside it.  end commits (bumping the
 * revision when events were written); abort rolls back.  On failure of end the
 * transaction is rolled back too: nothing is ever half-written. */
int gr__sq_write_begin(struct gr__sq *q, struct gr__sq_write *w, gr_error_t *err);
int gr__sq_write_end(struct gr__sq *q, struct gr__sq_write *w, gr_error_t *err);
void gr__sq_write_abort(struct gr__sq *q);

int gr__sq_meta_get(struct gr__sq *q, const char *name, int64_t *value, gr_error_t *err);
int gr__sq_meta_set(struct gr__sq *q, const char *name, int64_t value, gr_error_t *err);

/* Inside a write transaction: delete key (recording a DELETE event); 1 deleted, 0 absent. */
int gr__sq_delete_key(struct gr__sq *q, struct gr__sq_write *w, const char *key, gr_error_t *err);
/* Inside a write transaction: delete lease id and its keys. 1 done, 0 no such lease. */
int gr__sq_lease_drop(struct gr__sq *q, struct gr__sq_write *w, int64_t id, gr_error_t *err);
/* Expire due leases (each in its own write transaction). Count, or -1. */
int gr__sq_expire(struct gr__sq *q, gr_error_t *err);

extern const struct gr_store_ops gr__store_sqlite_ops;

/* sqlite_kv.c */
int gr__sq_get(void *be, const char *key, struct gr_kv *out, gr_error_t *err);
int gr__sq_range(void *be, const struct gr_store_range *r, struct gr_kv_list *out, gr_error_t *err);
int gr__sq_txn(void *be, const struct gr_store_txn *txn, struct gr_store_txn_result *res,
	       gr_error_t *err);
int gr__sq_lease_grant(void *be, int64_t ttl, int64_t *id, gr_error_t *err);
int gr__sq_lease_keepalive(void *be, int64_t id, struct gr_store_lease_info *info, gr_error_t *err);
int gr__sq_lease_revoke(void *be, int64_t id, gr_error_t *err);
int gr__sq_lease_info(void *be, int64_t id, struct gr_store_lease_info *info, gr_error_t *err);
int gr__sq_changes_since(void *be, int64_t from_rev, const char *prefix, size_t limit,
			 struct gr_store_events *out, gr_error_t *err);
int gr__sq_compact(void *be, int64_t rev, gr_error_t *err);

#endif
