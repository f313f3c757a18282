/*
 * store.h - gureum's state store (seeds' VMDB): one interface, pluggable back-ends.
 *
 * The model is etcd v3's, so a cluster back-end (etcd 3.4 via its JSON gateway)
 * can sit behind the same calls later:
 *   - keys are NUL-free strings ("/gureum/instances/web1"), values opaque bytes
 *     (the daemon stores JSON documents; records.c has json_t helpers);
 *   - one global revision counter; every write transaction that changes
 *     something bumps it by exactly one, and every key carries create_revision,
 *     mod_revision, version (number of puts since creation) and an optional lease;
 *   - a transaction compares keys (version, create/mod revision, value, lease)
 *     and then runs either its success or its failure operations, atomically;
 *   - leases have a TTL; an expired or revoked lease deletes its keys (in one
 *     revision, with DELETE events);
 *   - a change feed returns PUT/DELETE events from a given revision (inclusive),
 *     until compacted away.
 *
 * Back-ends: "sqlite:///abs/path.db[?options]" (the embedded default, sqlite.c)
 * and "etcd://host:port,..." / "etcds://..." (a cluster, etcd.c: an etcd 3.4
 * cluster through its v3 JSON gateway; docs/ARCHITECTURE.md lists where it
 * differs).
 *
 * Return values: functions return -1 and fill err on failure (docs/ERRORS.md).
 * A failed compare is NOT an error: conditional calls return 1 when they were
 * applied and 0 when the compare failed (err untouched).  gr_store_get returns
 * 1 found / 0 absent.  Store errors map to errno codes: EAGAIN (database busy
 * or locked past the busy timeout: retry later), ENOMEM (SQLite ran out of
 * memory), EROFS (read-only store), ENOSPC/EFBIG/EIO (disk), EIO (corrupt or
 * foreign file), EPROTO (schema newer than this build), ENOENT (missing lease,
 * or missing file with mode=rw), EEXIST (lease id taken), EINVAL (bad key,
 * argument, URL; overlapping txn ops), ENAMETOOLONG (key), EMSGSIZE (value),
 * E2BIG (txn too large), ESTALE (revision compacted), ENOTSUP (back-end not
 * available).  A failed call leaves nothing half-written.  The etcd back-end
 * adds ECONNREFUSED (no member answered within the timeout: nothing was
 * written), EACCES (TLS or auth refused), EPROTO (a malformed reply), and
 * ECONNRESET / ETIMEDOUT for a write cut off after it was sent: its outcome
 * is unknown (re-read before retrying), as with etcd's own client.
 *
 * Thread-safety: a struct gr_store may be shared by any number of threads.  On
 * SQLite every call takes the store's internal mutex (calls are serialized);
 * on etcd calls run at the same time, each on a connection of its own
 * (etcd orders them: a txn's compares are checked against the latest state).  Results handed
 * out (struct gr_kv, lists, events) are owned by the caller and free of any
 * link to the store.  Not fork-safe: a child process opens its own store.
 */
#ifndef GR_STORE_STORE_H
#define GR_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

#define GR_STORE_KEY_MAX 1024             /* bytes, without the NUL */
#define GR_STORE_VALUE_MAX (1024 * 1024)  /* bytes (etcd's default limit is 1.5 MiB) */
#define GR_STORE_TXN_MAX_OPS 128          /* per list in a txn: etcd's --max-txn-ops default */

struct gr_store; /* opaque */

/* One key-value pair with its etcd-style metadata.  key and value are malloc'd;
 * value is followed by a NUL byte not counted in value_len (JSON/text can be
 * used as a C string).  Free the members with gr_kv_clear(). */
struct gr_kv {
	char *key;
	char *value;
	size_t value_len;
	int64_t create_revision;  /* revision of the put that created the key */
	int64_t mod_revision;     /* revision of the last put (or of the delete, in events) */
	int64_t version;          /* puts since creation, 1 after the first; 0 in DELETE events */
	int64_t lease;            /* lease id, 0 = none */
};
void gr_kv_clear(struct gr_kv *kv);

struct gr_kv_list {
	struct gr_kv *kvs;
	size_t n;
	bool more;                /* more keys matched than the limit allowed */
	int64_t revision;         /* store revision the list was read at */
};
void gr_kv_list_clear(struct gr_kv_list *l);

/* ---- transactions -------------------------------------------------------- */

enum gr_store_cmp_target {
	GR_CMP_VERSION,           /* number: 0 when the key does not exist */
	GR_CMP_CREATE_REVISION,   /* number: 0 when the key does not exist */
	GR_CMP_MOD_REVISION,      /* number: 0 when the key does not exist */
	GR_CMP_LEASE,             /* number: 0 when no lease / no key */
	GR_CMP_VALUE,             /* bytes: a missing key compares false, whatever the op */
};
enum gr_store_cmp_op { GR_CMP_EQUAL, GR_CMP_NOT_EQUAL, GR_CMP_LESS, GR_CMP_GREATER };

struct gr_store_cmp {
	const char *key;
	enum gr_store_cmp_target target;
	enum gr_store_cmp_op op;
	int64_t number;           /* for VERSION, *_REVISION, LEASE */
	const void *value;        /* for VALUE (memcmp order, then length) */
	size_t value_len;
};

enum gr_store_op_type { GR_OP_PUT, GR_OP_DELETE };

struct gr_store_op {
	enum gr_store_op_type type;
	const char *key;
	const void *value;        /* PUT */
	size_t value_len;         /* PUT */
	int64_t lease;            /* PUT: attach to this lease (must exist), 0 = none */
	bool prefix;              /* DELETE: every key starting with key */
};

struct gr_store_txn {
	const struct gr_store_cmp *cmps;
	size_t n_cmps;
	const struct gr_store_op *success;  /* run when every compare holds */
	size_t n_success;
	const struct gr_store_op *failure;  /* run otherwise */
	size_t n_failure;
};

struct gr_store_txn_result {
	bool succeeded;           /* every compare held (the success branch ran) */
	int64_t revision;         /* store revision after the txn */
	int64_t deleted;          /* keys removed by the branch that ran */
};

/* ---- change feed ---------------------------------------------------------- */

enum gr_store_event_type { GR_EV_PUT, GR_EV_DELETE };

struct gr_store_event {
	enum gr_store_event_type type;
	struct gr_kv kv;          /* for DELETE: key, mod_revision = revision of the delete,
	                             create_revision/version/lease 0, empty value */
};

struct gr_store_events {
	struct gr_store_event *events;  /* ordered by revision, then by order within the txn */
	size_t n;
	bool more;                /* limit reached; ask again from last revision (+0) */
	int64_t revision;         /* store revision when read: next call may start at revision+1 */
	int64_t compact_revision; /* events before this revision are gone */
};
void gr_store_events_clear(struct gr_store_events *ev);

/* ---- leases ------------------------------------------------------------- */

struct gr_store_lease_info {
	int64_t id;
	int64_t ttl;              /* granted TTL, seconds */
	int64_t remaining_ms;     /* until expiry (>= 0) */
};

/* ---- opening -------------------------------------------------------------- */

/* Clock in milliseconds.  The default is CLOCK_BOOTTIME: system-wide (every
 * process on the host agrees), never stepped by NTP or `date`, so a clock
 * correction cannot expire every lease at once.  Lease deadlines are stored
 * in it with the boot's id; after a reboot the old deadlines mean nothing and
 * every lease is restarted with its full TTL.  Tests may inject their own. */
typedef int64_t (*gr_store_clock_fn)(void *ctx);

struct gr_store_options {
	gr_store_clock_fn clock;  /* NULL = CLOCK_BOOTTIME in ms */
	void *clock_ctx;
	/* The store's owner (the daemon, at start-up) sets this: live leases get
	 * their full TTL again, as etcd does on leader election, so a daemon that
	 * was down for a while does not come back to find every lease expired.
	 * Other openers (CLI, tools) leave it false and see the true deadlines. */
	bool refresh_leases;
};

/*
 * Open a store by URL.
 *   sqlite:///var/lib/gureum/state.db?busy_timeout=5000&synchronous=full&mode=rwc&history=100000
 *     busy_timeout  ms to wait for another connection's lock (default 5000)
 *     synchronous   full (default: a reported commit survives power loss) | normal
 *     mode          rwc (default, create if missing) | rw (must exist) | ro (read-only)
 *     history       revisions of change feed kept by gr_store_tick's automatic
 *                   compaction (default 100000; 0 = never compact automatically)
 *   etcd://host:port[,host:port...]?timeout=5000&history=100000
 *   etcds://host:port[,...]?cacert=/ca.pem&cert=/client.pem&key=/client.key
 *     timeout       ms for one request, fail-over to the next member included
 *                   (default 5000; make it cover an election: 2 x etcd's
 *                   --election-timeout)
 *     cacert, cert, key   TLS: CA bundle, client certificate and key (any of
 *                   them also turns TLS on for etcd://)
 *     token | user + password   etcd auth (values percent-decoded)
 *     history       as for sqlite (tick compacts etcd's history)
 *   The endpoints are used in order: the first that answers until it fails.
 *   opts->clock must be NULL (etcd keeps lease time: ENOTSUP otherwise);
 *   refresh_leases is what etcd does on its own on leader election.
 * opts may be NULL.  The file is created (0600) with the current schema, or an
 * older schema is migrated in one transaction.  *out is owned by the caller.
 */
int gr_store_open(const char *url, const struct gr_store_options *opts, struct gr_store **out,
		  gr_error_t *err);
/* Close and free; NULL is allowed.  Subscriber fds are closed too. */
void gr_store_close(struct gr_store *s);
/* Back-end name: the URL scheme ("sqlite", "etcd", "etcds"). */
const char *gr_store_backend(const struct gr_store *s);

/* ---- reads ------------------------------------------------------------------ */

/* Current store revision (0 for an empty, never-written store). */
int gr_store_revision(struct gr_store *s, int64_t *rev, gr_error_t *err);
/* 1 and *out filled (caller frees with gr_kv_clear; out NULL = existence check)
 * / 0 when absent / -1 error. */
int gr_store_get(struct gr_store *s, const char *key, struct gr_kv *out, gr_error_t *err);
/* Keys starting with prefix ("" = all), sorted by key (bytewise), at most limit
 * (0 = no limit).  start_after (NULL = from the start) pages: only keys > it.
 * keys_only leaves value NULL.  out is owned by the caller (gr_kv_list_clear). */
struct gr_store_range {
	const char *prefix;
	const char *start_after;
	size_t limit;
	bool keys_only;
};
int gr_store_range(struct gr_store *s, const struct gr_store_range *r, struct gr_kv_list *out,
		   gr_error_t *err);
/* Shorthand: range over prefix with a limit. */
int gr_store_list(struct gr_store *s, const char *prefix, size_t limit, struct gr_kv_list *out,
		  gr_error_t *err);

/* ---- writes ----------------------------------------------------------------- */

/* The general form.  Returns 0 (see res->succeeded) or -1 on error, in which
 * case nothing was applied.  A PUT naming a missing lease is an error (ENOENT). */
int gr_store_txn(struct gr_store *s, const struct gr_store_txn *txn,
		 struct gr_store_txn_result *res, gr_error_t *err);

/* Convenience, all atomic.  rev (may be NULL) receives the store revision after
 * the call (the new key's mod_revision when it was applied). */
int gr_store_put(struct gr_store *s, const char *key, const void *value, size_t len,
		 int64_t lease, int64_t *rev, gr_error_t *err);
/* Put only if key's mod_revision == mod_revision (0 = key must not exist).
 * 1 applied / 0 compare failed / -1 error. */
int gr_store_put_if(struct gr_store *s, const char *key, const void *value, size_t len,
		    int64_t lease, int64_t mod_revision, int64_t *rev, gr_error_t *err);
/* Put only if key does not exist.  1 created / 0 exists / -1 error. */
int gr_store_create(struct gr_store *s, const char *key, const void *value, size_t len,
		    int64_t lease, int64_t *rev, gr_error_t *err);
/* 1 deleted / 0 absent / -1 error. */
int gr_store_delete(struct gr_store *s, const char *key, int64_t *rev, gr_error_t *err);
/* Delete only if key's mod_revision == mod_revision.  1 deleted / 0 compare
 * failed or absent / -1 error. */
int gr_store_delete_if(struct gr_store *s, const char *key, int64_t mod_revision, int64_t *rev,
		       gr_error_t *err);
/* Delete every key under prefix; *deleted (may be NULL) gets the count. */
int gr_store_delete_prefix(struct gr_store *s, const char *prefix, int64_t *deleted,
			   int64_t *rev, gr_error_t *err);

/* ---- leases ----------------------------------------------------------------- */

/* Grant a lease of ttl seconds (>= 1).  *id: in 0 = pick one, else the wanted
 * id (EEXIST if taken); out the lease id. */
int gr_store_lease_grant(struct gr_store *s, int64_t ttl, int64_t *id, gr_error_t *err);
/* Renew to the full TTL.  ENOENT when the lease expired or never existed. */
int gr_store_lease_keepalive(struct gr_store *s, int64_t id, struct gr_store_lease_info *info,
			     gr_error_t *err);
/* Revoke: delete the lease and its keys now (one revision).  ENOENT if unknown. */
int gr_store_lease_revoke(struct gr_store *s, int64_t id, gr_error_t *err);
/* TTL left.  ENOENT if unknown or expired. */
int gr_store_lease_info(struct gr_store *s, int64_t id, struct gr_store_lease_info *info,
			gr_error_t *err);
/* Expire every lease whose time has come (deleting its keys), compact the
 * change feed beyond the `history` option, and notify subscribers of commits
 * made by other connections.  The daemon calls it from a timer (about once a
 * second); every other call also expires leases lazily first.
 * Returns the number of leases expired, or -1. */
int gr_store_tick(struct gr_store *s, gr_error_t *err);

/* ---- change feed ------------------------------------------------------------- */

/* Events with revision >= from_rev whose key starts with prefix ("" = all), at
 * most limit (0 = no limit; a revision is never split), in order.  from_rev 0
 * means "from the oldest kept".  ESTALE (with out->compact_revision set) when
 * from_rev < the compact revision: the caller must re-read with a range and
 * continue from its revision + 1. */
int gr_store_changes_since(struct gr_store *s, int64_t from_rev, const char *prefix, size_t limit,
			   struct gr_store_events *out, gr_error_t *err);
/* Forget events older than rev (rev <= current revision). */
int gr_store_compact(struct gr_store *s, int64_t rev, gr_error_t *err);

/* A new eventfd (O_NONBLOCK|O_CLOEXEC) that becomes readable after each commit
 * through this handle (and, via gr_store_tick, by other connections; on etcd
 * also right away, from a watch-stream thread started by the first subscribe).  Put it in
 * the daemon's poll loop; after it fires, gr_store_subscriber_drain() it and call
 * gr_store_changes_since().  The store owns the fd: release it with
 * gr_store_unsubscribe() (or gr_store_close). */
int gr_store_subscribe(struct gr_store *s, gr_error_t *err);
void gr_store_subscriber_drain(int fd);
void gr_store_unsubscribe(struct gr_store *s, int fd);

/* ---- back-end interface ---------------------------------------------------------
 * A back-end implements these on its own state (`be`); store.c validates
 * arguments, takes the mutex (unless the back-end is `concurrent`), then
 * calls them.  Conventions are the public
 * calls' (return < 0 and fill err).  Each call first expires due leases. */
struct gr_store_ops {
	const char *scheme;  /* "sqlite" */
	/* location: the URL after "scheme://" (e.g. "/var/lib/gureum/state.db?mode=ro") */
	int (*open)(const char *location, const struct gr_store_options *opts, void **be,
		    gr_error_t *err);
	void (*close)(void *be);
	int (*revision)(void *be, int64_t *rev, gr_error_t *err);
	int (*get)(void *be, const char *key, struct gr_kv *out, gr_error_t *err);
	int (*range)(void *be, const struct gr_store_range *r, struct gr_kv_list *out,
		     gr_error_t *err);
	int (*txn)(void *be, const struct gr_store_txn *txn, struct gr_store_txn_result *res,
		   gr_error_t *err);
	int (*lease_grant)(void *be, int64_t ttl, int64_t *id, gr_error_t *err);
	int (*lease_keepalive)(void *be, int64_t id, struct gr_store_lease_info *info,
			       gr_error_t *err);
	int (*lease_revoke)(void *be, int64_t id, gr_error_t *err);
	int (*lease_info)(void *be, int64_t id, struct gr_store_lease_info *info, gr_error_t *err);
	/* *external_change: another connection committed since the last tick. */
	int (*tick)(void *be, bool *external_change, gr_error_t *err);
	int (*changes_since)(void *be, int64_t from_rev, const char *prefix, size_t limit,
			     struct gr_store_events *out, gr_error_t *err);
	int (*compact)(void *be, int64_t rev, gr_error_t *err);
	/* Commits made through this handle so far (lazy lease expiry included):
	 * store.c wakes subscribers when a call changed it. */
	uint64_t (*commits)(void *be);
	/* Optional (NULL: other writers are seen by tick only).  Called once, under
	 * the lock, when the first subscriber appears: from then on the back-end
	 * calls wake(ctx) from a thread of its own whenever another writer
	 * commits.  wake may be called until close returns. */
	int (*watch)(void *be, void (*wake)(void *ctx), void *ctx, gr_error_t *err);
	/* The back-end does its own locking: store.c calls it from several
	 * threads at once (the mutex still guards subscribe's start of watch).
	 * commits must then be safe to read at any time. */
	bool concurrent;
};

extern const struct gr_store_ops gr__store_sqlite_ops;
extern const struct gr_store_ops gr__store_etcd_ops, gr__store_etcds_ops;

#endif
