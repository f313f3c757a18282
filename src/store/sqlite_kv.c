/*
 * sqlite_kv.c - the SQLite back-end's operations: get, range, txn (compares,
 * puts, deletes, prefix deletes), leases and the change feed.
 *
 * Every operation first expires due leases (gr__sq_expire), so a caller never
 * sees a key whose lease has run out (except on a read-only connection).  Reads
 * that span several statements run in one read transaction (one snapshot);
 * writes run in one IMMEDIATE transaction and record one event per changed key
 * at revision (old revision + 1).  Prefix ranges are [prefix, prefix_end) in
 * bytewise order, prefix_end being prefix with its last byte incremented, as in
 * etcd.
 */
#include "store/sqlite-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <string.h>

/* Past every key: GR_STORE_KEY_MAX + 1 bytes of 0xff. */
static char *prefix_end(const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;
	char *end = xmalloc(GR_STORE_KEY_MAX + 2);
	if (n)
		memcpy(end, prefix, n);
	for (size_t i = n; i > 0; i--) {
		if ((unsigned char)end[i - 1] != 0xff) {
			end[i - 1]++;
			end[i] = '\0';
			return end;
		}
	}
	memset(end, 0xff, GR_STORE_KEY_MAX + 1);
	end[GR_STORE_KEY_MAX + 1] = '\0';
	return end;
}

static int nomem(struct gr__sq *q, gr_error_t *err, const char *what)
{
	return gr__sq_error(q, SQLITE_NOMEM, err, "%s", what);
}

/* Copy the row (key, value, create_rev, mod_rev, version, lease) at columns 0..5. */
static int read_kv(struct gr__sq *q, sqlite3_stmt *st, struct gr_kv *kv, gr_error_t *err)
{
	const unsigned char *key = sqlite3_column_text(st, 0);
	if (!key)
		return nomem(q, err, "reading key");
	const void *val = sqlite3_column_blob(st, 1);
	int n = sqlite3_column_bytes(st, 1);
	if (!val && n > 0)
		return nomem(q, err, "reading value");
	kv->key = xstrdup((const char *)key);
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		kv->value = xmalloc((size_t)n + 1);
		if (n)
			memcpy(kv->value, val, (size_t)n);
		kv->value[n] = '\0';
		kv->value_len = (size_t)n;
	}
	kv->create_revision = sqlite3_column_int64(st, 2);
	kv->mod_revision = sqlite3_column_int64(st, 3);
	kv->version = sqlite3_column_int64(st, 4);
	kv->lease = sqlite3_column_int64(st, 5);
	return 0;
}

/* 1 found (*out filled, may be NULL) / 0 absent / -1. */
static int kv_lookup(struct gr__sq *q, const char *key, struct gr_kv *out, gr_error_t *err)
{
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_KV_GET, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), r = 0;
	if (rc == SQLITE_ROW) {
		r = 1;
		if (out && read_kv(q, st, out, err) < 0)
			r = -1;
	} else if (rc != SQLITE_DONE) {
		r = gr__sq_error(q, rc, err, "reading key %s", key);
	}
	sqlite3_reset(st);
	return r;
}

int gr__sq_get(void *be, const char *key, struct gr_kv *out, gr_error_t *err)
{
	struct gr__sq *q = be;
	if (gr__sq_expire(q, err) < 0)
		return -1;
	int r = kv_lookup(q, key, out, err);
	if (r < 0)
		gr_kv_clear(out);
	return r;
}

/* Rows of a range statement into a list; limit 0 = all.  Sets l->more. */
static int collect_range(struct gr__sq *q, const char *prefix, const char *start_after,
			 size_t limit, bool keys_only, struct gr_kv_list *l, gr_error_t *err)
{
	_cleanup_free_ char *end = prefix_end(prefix);
	sqlite3_stmt *st = gr__sq_stmt(q, keys_only ? SQ_KV_RANGE_KEYS : SQ_KV_RANGE, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, prefix ? prefix : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, start_after ? start_after : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, end, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, limit ? (int64_t)limit + 1 : -1);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (limit && l->n == limit) {
			l->more = true;
			break;
		}
		if (l->n == cap) {
			cap = cap ? cap * 2 : 16;
			l->kvs = xrealloc(l->kvs, cap * sizeof *l->kvs);
		}
		memset(&l->kvs[l->n], 0, sizeof l->kvs[0]);
		if (read_kv(q, st, &l->kvs[l->n], err) < 0) {
			sqlite3_reset(st);
			return -1;
		}
		l->n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gr__sq_error(q, rc, err, "listing keys under '%s'", prefix ? prefix : "");
	return 0;
}

int gr__sq_range(void *be, const struct gr_store_range *r, struct gr_kv_list *out, gr_error_t *err)
{
	struct gr__sq *q = be;
	if (gr__sq_expire(q, err) < 0 || gr__sq_read_begin(q, err) < 0)
		return -1;
	int ret = gr__sq_meta_get(q, "revision", &out->revision, err);
	if (ret == 0)
		ret = collect_range(q, r->prefix, r->start_after, r->limit, r->keys_only, out, err);
	gr__sq_read_end(q);
	if (ret < 0)
		gr_kv_list_clear(out);
	return ret;
}

/* ---- writes ---------------------------------------------------------------------- */

static int event_insert(struct gr__sq *q, struct gr__sq_write *w, enum gr_store_event_type type,
			const char *key, const void *value, size_t len, int64_t create_rev,
			int64_t version, int64_t lease, gr_error_t *err)
{
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_EV_INSERT, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, w->rev + 1);
	sqlite3_bind_int(st, 2, w->sub);
	sqlite3_bind_int(st, 3, (int)type);
	sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
	if (type == GR_EV_PUT)
		sqlite3_bind_blob64(st, 5, len ? value : "", len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, create_rev);
	sqlite3_bind_int64(st, 7, w->rev + 1);
	sqlite3_bind_int64(st, 8, version);
	sqlite3_bind_int64(st, 9, lease);
	if (gr__sq_exec(q, st, err, "recording event") < 0)
		return -1;
	w->sub++;
	return 0;
}

static int lease_lookup(struct gr__sq *q, int64_t id, int64_t *ttl, int64_t *expires,
			gr_error_t *err)
{
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_LEASE_GET, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (ttl)
			*ttl = sqlite3_column_int64(st, 0);
		if (expires)
			*expires = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : gr__sq_error(q, rc, err, "reading lease %lld", (long long)id);
}

static int do_put(struct gr__sq *q, struct gr__sq_write *w, const struct gr_store_op *op,
		  gr_error_t *err)
{
	if (op->lease) {
		int r = lease_lookup(q, op->lease, NULL, NULL, err);
		if (r <= 0)
			return r < 0 ? -1 : gr_error_set(err, ENOENT, "put %s: lease %lld not found "
							 "(expired or revoked)", op->key, (long long)op->lease);
	}
	struct gr_kv old = {0};
	int found = kv_lookup(q, op->key, &old, err);
	int64_t create_rev = found > 0 ? old.create_revision : w->rev + 1;
	int64_t version = found > 0 ? old.version + 1 : 1;
	gr_kv_clear(&old);
	if (found < 0)
		return -1;
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_KV_PUT, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 2, op->value_len ? op->value : "", op->value_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, create_rev);
	sqlite3_bind_int64(st, 4, w->rev + 1);
	sqlite3_bind_int64(st, 5, version);
	sqlite3_bind_int64(st, 6, op->lease);
	if (gr__sq_exec(q, st, err, op->key) < 0)
		return gr_error_prefix(err, "put");
	return event_insert(q, w, GR_EV_PUT, op->key, op->value, op->value_len, create_rev, version,
			    op->lease, err);
}

int gr__sq_delete_key(struct gr__sq *q, struct gr__sq_write *w, const char *key, gr_error_t *err)
{
	int found = kv_lookup(q, key, NULL, err);
	if (found <= 0)
		return found;
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_KV_DEL, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (gr__sq_exec(q, st, err, key) < 0)
		return gr_error_prefix(err, "delete");
	if (event_insert(q, w, GR_EV_DELETE, key, NULL, 0, 0, 0, 0, err) < 0)
		return -1;
	return 1;
}

static int delete_keys(struct gr__sq *q, struct gr__sq_write *w, struct gr_kv_list *keys,
		       int64_t *deleted, gr_error_t *err)
{
	for (size_t i = 0; i < keys->n; i++) {
		int r = gr__sq_delete_key(q, w, keys->kvs[i].key, err);
		if (r < 0)
			return -1;
		*deleted += r;
	}
	return 0;
}

static int do_delete(struct gr__sq *q, struct gr__sq_write *w, const struct gr_store_op *op,
		     int64_t *deleted, gr_error_t *err)
{
	if (!op->prefix) {
		int r = gr__sq_delete_key(q, w, op->key, err);
		if (r > 0)
			(*deleted)++;
		return r < 0 ? -1 : 0;
	}
	struct gr_kv_list keys = {0};
	int r = collect_range(q, op->key, NULL, 0, true, &keys, err);
	if (r == 0)
		r = delete_keys(q, w, &keys, deleted, err);
	gr_kv_list_clear(&keys);
	return r;
}

/* 1 holds / 0 does not / -1 error. */
static int cmp_holds(struct gr__sq *q, const struct gr_store_cmp *c, gr_error_t *err)
{
	struct gr_kv kv = {0};
	int found = kv_lookup(q, c->key, &kv, err);
	if (found < 0)
		return -1;
	int d;
	if (c->target == GR_CMP_VALUE) {
		if (!found) {
			gr_kv_clear(&kv);
			return 0;
		}
		size_t n = kv.value_len < c->value_len ? kv.value_len : c->value_len;
		d = n ? memcmp(kv.value, c->value, n) : 0;
		if (!d)
			d = kv.value_len < c->value_len ? -1 : kv.value_len > c->value_len;
	} else {
		int64_t v = 0;
		if (found) {
			v = c->target == GR_CMP_VERSION ? kv.version
			    : c->target == GR_CMP_CREATE_REVISION ? kv.create_revision
			    : c->target == GR_CMP_MOD_REVISION ? kv.mod_revision : kv.lease;
		}
		d = v < c->number ? -1 : v > c->number;
	}
	gr_kv_clear(&kv);
	switch (c->op) {
	case GR_CMP_EQUAL: return d == 0;
	case GR_CMP_NOT_EQUAL: return d != 0;
	case GR_CMP_LESS: return d < 0;
	default: return d > 0;
	}
}

int gr__sq_txn(void *be, const struct gr_store_txn *txn, struct gr_store_txn_result *res,
	       gr_error_t *err)
{
	struct gr__sq *q = be;
	struct gr__sq_write w;
	if (gr__sq_expire(q, err) < 0 || gr__sq_write_begin(q, &w, err) < 0)
		return -1;
	bool holds = true;
	for (size_t i = 0; i < txn->n_cmps && holds; i++) {
		int r = cmp_holds(q, &txn->cmps[i], err);
		if (r < 0)
			goto fail;
		holds = r;
	}
	const struct gr_store_op *ops = holds ? txn->success : txn->failure;
	size_t n = holds ? txn->n_success : txn->n_failure;
	int64_t deleted = 0;
	for (size_t i = 0; i < n; i++) {
		int r = ops[i].type == GR_OP_PUT ? do_put(q, &w, &ops[i], err)
						 : do_delete(q, &w, &ops[i], &deleted, err);
		if (r < 0)
			goto fail;
	}
	if (gr__sq_write_end(q, &w, err) < 0)
		return -1;
	res->succeeded = holds;
	res->revision = w.rev + (w.sub > 0);
	res->deleted = deleted;
	return 0;
fail:
	gr__sq_write_abort(q);
	return -1;
}

/* ---- leases ------------------------------------------------------------------------ */

int gr__sq_lease_drop(struct gr__sq *q, struct gr__sq_write *w, int64_t id, gr_error_t *err)
{
	int r = lease_lookup(q, id, NULL, NULL, err);
	if (r <= 0)
		return r;
	struct gr_kv_list keys = {0};
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_KV_BY_LEASE, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *k = sqlite3_column_text(st, 0);
		if (!k) {
			rc = SQLITE_NOMEM;
			break;
		}
		keys.kvs = xrealloc(keys.kvs, (keys.n + 1) * sizeof *keys.kvs);
		memset(&keys.kvs[keys.n], 0, sizeof keys.kvs[0]);
		keys.kvs[keys.n++].key = xstrdup((const char *)k);
	}
	sqlite3_reset(st);
	int64_t deleted = 0;
	if (rc != SQLITE_DONE)
		r = gr__sq_error(q, rc, err, "listing keys of lease %lld", (long long)id);
	else
		r = delete_keys(q, w, &keys, &deleted, err);
	gr_kv_list_clear(&keys);
	if (r < 0)
		return -1;
	st = gr__sq_stmt(q, SQ_LEASE_DEL, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return gr__sq_exec(q, st, err, "deleting lease") < 0 ? -1 : 1;
}

int gr__sq_lease_grant(void *be, int64_t ttl, int64_t *id, gr_error_t *err)
{
	struct gr__sq *q = be;
	struct gr__sq_write w;
	if (gr__sq_expire(q, err) < 0 || gr__sq_write_begin(q, &w, err) < 0)
		return -1;
	int64_t want = *id;
	if (!want) {
		if (gr__sq_meta_get(q, "lease_next", &want, err) < 0)
			goto fail;
		int r;
		while ((r = lease_lookup(q, want, NULL, NULL, err)) == 1)
			want++;
		if (r < 0 || gr__sq_meta_set(q, "lease_next", want + 1, err) < 0)
			goto fail;
	} else {
		int r = lease_lookup(q, want, NULL, NULL, err);
		if (r < 0)
			goto fail;
		if (r) {
			gr_error_set(err, EEXIST, "lease %lld already exists", (long long)want);
			goto fail;
		}
	}
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_LEASE_INSERT, err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, want);
	sqlite3_bind_int64(st, 2, ttl);
	sqlite3_bind_int64(st, 3, gr__sq_now(q) + ttl * 1000);
	if (gr__sq_exec(q, st, err, "granting lease") < 0)
		goto fail;
	if (gr__sq_write_end(q, &w, err) < 0)
		return -1;
	*id = want;
	return 0;
fail:
	gr__sq_write_abort(q);
	return -1;
}

int gr__sq_lease_keepalive(void *be, int64_t id, struct gr_store_lease_info *info, gr_error_t *err)
{
	struct gr__sq *q = be;
	struct gr__sq_write w;
	if (gr__sq_expire(q, err) < 0 || gr__sq_write_begin(q, &w, err) < 0)
		return -1;
	int64_t ttl = 0;
	int r = lease_lookup(q, id, &ttl, NULL, err);
	if (r <= 0) {
		if (r == 0)
			gr_error_set(err, ENOENT, "lease %lld not found (expired or revoked)", (long long)id);
		goto fail;
	}
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_LEASE_TOUCH, err);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, gr__sq_now(q) + ttl * 1000);
	if (gr__sq_exec(q, st, err, "renewing lease") < 0)
		goto fail;
	if (gr__sq_write_end(q, &w, err) < 0)
		return -1;
	info->id = id;
	info->ttl = ttl;
	info->remaining_ms = ttl * 1000;
	return 0;
fail:
	gr__sq_write_abort(q);
	return -1;
}

int gr__sq_lease_revoke(void *be, int64_t id, gr_error_t *err)
{
	struct gr__sq *q = be;
	struct gr__sq_write w;
	if (gr__sq_expire(q, err) < 0 || gr__sq_write_begin(q, &w, err) < 0)
		return -1;
	int r = gr__sq_lease_drop(q, &w, id, err);
	if (r <= 0) {
		if (r == 0)
			gr_error_set(err, ENOENT, "lease %lld not found (expired or revoked)", (long long)id);
		gr__sq_write_abort(q);
		return -1;
	}
	return gr__sq_write_end(q, &w, err);
}

int gr__sq_lease_info(void *be, int64_t id, struct gr_store_lease_info *info, gr_error_t *err)
{
	struct gr__sq *q = be;
	if (gr__sq_expire(q, err) < 0)
		return -1;
	int64_t ttl = 0, expires = 0;
	int r = lease_lookup(q, id, &ttl, &expires, err);
	if (r <= 0)
		return r < 0 ? -1 : gr_error_set(err, ENOENT, "lease %lld not found (expired or revoked)",
						 (long long)id);
	int64_t left = expires - gr__sq_now(q);
	info->id = id;
	info->ttl = ttl;
	info->remaining_ms = left > 0 ? left : 0;
	return 0;
}

/* ---- change feed ------------------------------------------------------------------- */

static int collect_events(struct gr__sq *q, int64_t from, const char *prefix, size_t limit,
			  struct gr_store_events *out, gr_error_t *err)
{
	_cleanup_free_ char *end = prefix_end(prefix);
	sqlite3_stmt *st = gr__sq_stmt(q, SQ_EV_SINCE, err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, end, -1, SQLITE_STATIC);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t rev = sqlite3_column_int64(st, 0);
		/* Never split a revision: stop only between two. */
		if (limit && out->n >= limit && rev != out->events[out->n - 1].kv.mod_revision) {
			out->more = true;
			break;
		}
		const unsigned char *key = sqlite3_column_text(st, 2);
		const void *val = sqlite3_column_blob(st, 3);
		int n = sqlite3_column_bytes(st, 3);
		if (!key || (!val && n > 0)) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->events = xrealloc(out->events, cap * sizeof *out->events);
		}
		struct gr_store_event *e = &out->events[out->n++];
		memset(e, 0, sizeof *e);
		e->type = sqlite3_column_int(st, 1) == GR_EV_DELETE ? GR_EV_DELETE : GR_EV_PUT;
		e->kv.key = xstrdup((const char *)key);
		e->kv.value = xmalloc((size_t)n + 1);
		if (n)
			memcpy(e->kv.value, val, (size_t)n);
		e->kv.value[n] = '\0';
		e->kv.value_len = (size_t)n;
		e->kv.create_revision = sqlite3_column_int64(st, 4);
		e->kv.mod_revision = sqlite3_column_int64(st, 5);
		e->kv.version = sqlite3_column_int64(st, 6);
		e->kv.lease = sqlite3_column_int64(st, 7);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gr__sq_error(q, rc, err, "reading changes since %lld", (long long)from);
	return 0;
}

int gr__sq_changes_since(void *be, int64_t from_rev, const char *prefix, size_t limit,
			 struct gr_store_events *out, gr_error_t *err)
{
	struct gr__sq *q = be;
	if (gr__sq_expire(q, err) < 0 || gr__sq_read_begin(q, err) < 0)
		return -1;
	int ret = -1;
	if (gr__sq_meta_get(q, "revision", &out->revision, err) < 0 ||
	    gr__sq_meta_get(q, "compact_revision", &out->compact_revision, err) < 0)
		goto done;
	if (from_rev == 0)
		from_rev = out->compact_revision;
	if (from_rev < out->compact_revision) {
		gr_error_set(err, ESTALE, "changes since revision %lld: compacted (oldest kept is %lld); "
			     "re-read and continue from that revision", (long long)from_rev,
			     (long long)out->compact_revision);
		goto done;
	}
	ret = collect_events(q, from_rev, prefix, limit, out, err);
done:
	gr__sq_read_end(q);
	if (ret < 0) {
		int64_t compact = out->compact_revision;
		gr_store_events_clear(out);
		out->compact_revision = compact;
	}
	return ret;
}

int gr__sq_compact(void *be, int64_t rev, gr_error_t *err)
{
	struct gr__sq *q = be;
	struct gr__sq_write w;
	if (gr__sq_expire(q, err) < 0 || gr__sq_write_begin(q, &w, err) < 0)
		return -1;
	int64_t compact = 0;
	if (gr__sq_meta_get(q, "compact_revision", &compact, err) < 0)
		goto fail;
	if (rev > w.rev) {
		gr_error_set(err, EINVAL, "compact %lld: beyond the current revision %lld", (long long)rev,
			     (long long)w.rev);
		goto fail;
	}
	if (rev > compact) {
		sqlite3_stmt *st = gr__sq_stmt(q, SQ_EV_COMPACT, err);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, rev);
		if (gr__sq_exec(q, st, err, "compacting events") < 0 ||
		    gr__sq_meta_set(q, "compact_revision", rev, err) < 0)
			goto fail;
	}
	return gr__sq_write_end(q, &w, err);
fail:
	gr__sq_write_abort(q);
	return -1;
}
