/*
 * store.c - the store's front door: URL -> back-end, argument checks, the
 * mutex that serializes every call, commit notification (eventfd subscribers)
 * and the convenience writes built on gr_store_txn().
 *
 * Invariants: every public call validates its arguments before the back-end
 * sees them (keys: 1..GR_STORE_KEY_MAX bytes; values <= GR_STORE_VALUE_MAX), and
 * holds s->lock while calling the back-end, so back-ends need no locking of
 * their own -- except a back-end that says it is `concurrent` (etcd: a pool of
 * connections; its calls wait on the network, and etcd orders them), which
 * is called without the lock.  Subscribers are woken after any call that committed (the
 * back-end's commit counter moved) and after a tick that saw another
 * connection's commit.  The convenience writes (put, put_if, create, delete,
 * delete_if) resolve a write whose outcome the back-end could not tell
 * (write_resolved), so their callers keep the txn rule: an error means
 * nothing was applied.
 */
#include "store/store.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct gr_store {
	const struct gr_store_ops *ops;
	void *be;
	pthread_mutex_t lock;
	pthread_mutex_t subs_lock; /* guards subs: a back-end thread may wake them */
	int *subs;       /* subscriber eventfds */
	size_t n_subs;
	bool watching;   /* the back-end's watch was started */
};

static const struct gr_store_ops *const backends[] = {
	&gr__store_sqlite_ops, &gr__store_etcd_ops, &gr__store_etcds_ops,
};

void gr_kv_clear(struct gr_kv *kv)
{
	if (!kv)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof *kv);
}

void gr_kv_list_clear(struct gr_kv_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		gr_kv_clear(&l->kvs[i]);
	free(l->kvs);
	memset(l, 0, sizeof *l);
}

void gr_store_events_clear(struct gr_store_events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->n; i++)
		gr_kv_clear(&ev->events[i].kv);
	free(ev->events);
	memset(ev, 0, sizeof *ev);
}

/* ---- open / close ------------------------------------------------------------ */

int gr_store_open(const char *url, const struct gr_store_options *opts, struct gr_store **out,
		  gr_error_t *err)
{
	*out = NULL;
	if (!url || !*url)
		return gr_error_set(err, EINVAL, "store URL is empty (want sqlite:///path/state.db)");
	const char *sep = strstr(url, "://");
	if (!sep)
		return gr_error_set(err, EINVAL, "store URL '%s': missing scheme (want sqlite:///path/state.db)",
				    url);
	size_t slen = (size_t)(sep - url);
	const char *location = sep + 3;
	const struct gr_store_ops *ops = NULL;
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (strlen(backends[i]->scheme) == slen && !strncmp(url, backends[i]->scheme, slen))
			ops = backends[i];
	if (!ops)
		return gr_error_set(err, EINVAL, "store URL '%s': unknown scheme '%.*s' (known: sqlite, etcd, etcds)",
				    url, (int)slen, url);
	void *be = NULL;
	struct gr_store_options none = {0};
	if (ops->open(location, opts ? opts : &none, &be, err) < 0)
		return gr_error_prefix(err, "opening store %s", url);
	struct gr_store *s = xcalloc(1, sizeof *s);
	s->ops = ops;
	s->be = be;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->subs_lock, NULL);
	*out = s;
	return 0;
}

void gr_store_close(struct gr_store *s)
{
	if (!s)
		return;
	s->ops->close(s->be); /* stops the back-end's watch thread: no wake after this */
	for (size_t i = 0; i < s->n_subs; i++)
		close(s->subs[i]);
	free(s->subs);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->subs_lock);
	free(s);
}

const char *gr_store_backend(const struct gr_store *s)
{
	return s->ops->scheme;
}

/* ---- locking and notification ------------------------------------------------ */

static void notify_locked(struct gr_store *s)
{
	uint64_t one = 1;
	pthread_mutex_lock(&s->subs_lock);
	for (size_t i = 0; i < s->n_subs; i++) {
		/* EAGAIN means the counter is saturated: it is readable anyway. */
		ssize_t r = write(s->subs[i], &one, sizeof one);
		(void)r;
	}
	pthread_mutex_unlock(&s->subs_lock);
}

/* From a back-end thread (ops->watch): another writer committed. */
static void wake_subscribers(void *ctx)
{
	notify_locked(ctx);
}

/* Run `call` under the lock (none for a concurrent back-end); wake
 * subscribers if it committed (with concurrent calls, also if another
 * thread's call did meanwhile: one wake-up too many, never one too few). */
#define LOCKED(s, call)                                                         \
	({                                                                      \
		bool l__ = !(s)->ops->concurrent;                               \
		if (l__)                                                        \
			pthread_mutex_lock(&(s)->lock);                         \
		uint64_t c0__ = (s)->ops->commits((s)->be);                     \
		int r__ = (call);                                               \
		if ((s)->ops->commits((s)->be) != c0__)                         \
			notify_locked(s);                                       \
		if (l__)                                                        \
			pthread_mutex_unlock(&(s)->lock);                       \
		r__;                                                            \
	})

int gr_store_subscribe(struct gr_store *s, gr_error_t *err)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "store subscriber eventfd");
	pthread_mutex_lock(&s->lock);
	if (!s->watching && s->ops->watch) {
		if (s->ops->watch(s->be, wake_subscribers, s, err) < 0) {
			pthread_mutex_unlock(&s->lock);
			close(fd);
			return -1;
		}
		s->watching = true;
	}
	pthread_mutex_lock(&s->subs_lock);
	s->subs = xrealloc(s->subs, (s->n_subs + 1) * sizeof *s->subs);
	s->subs[s->n_subs++] = fd;
	pthread_mutex_unlock(&s->subs_lock);
	pthread_mutex_unlock(&s->lock);
	return fd;
}

void gr_store_subscriber_drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof v);
	(void)r;
}

void gr_store_unsubscribe(struct gr_store *s, int fd)
{
	pthread_mutex_lock(&s->subs_lock);
	for (size_t i = 0; i < s->n_subs; i++) {
		if (s->subs[i] == fd) {
			close(fd);
			s->subs[i] = s->subs[--s->n_subs];
			break;
		}
	}
	pthread_mutex_unlock(&s->subs_lock);
}

/* ---- argument checks --------------------------------------------------------- */

static int check_key(const char *key, const char *what, gr_error_t *err)
{
	if (!key || !*key)
		return gr_error_set(err, EINVAL, "%s: key is empty", what);
	size_t n = strnlen(key, GR_STORE_KEY_MAX + 1);
	if (n > GR_STORE_KEY_MAX)
		return gr_error_set(err, ENAMETOOLONG, "%s: key '%.40s...' is longer than %d bytes", what,
				    key, GR_STORE_KEY_MAX);
	return 0;
}

static int check_prefix(const char *prefix, const char *what, gr_error_t *err)
{
	if (prefix && strnlen(prefix, GR_STORE_KEY_MAX + 1) > GR_STORE_KEY_MAX)
		return gr_error_set(err, ENAMETOOLONG, "%s: prefix is longer than %d bytes", what,
				    GR_STORE_KEY_MAX);
	return 0;
}

/* Like etcd, one branch may not touch a key twice (a put and a delete range
 * covering it included): the result would depend on op order. */
static bool op_covers(const struct gr_store_op *a, const struct gr_store_op *b)
{
	bool a_range = a->type == GR_OP_DELETE && a->prefix;
	if (a_range)
		return !strncmp(b->key, a->key, strlen(a->key));
	bool b_range = b->type == GR_OP_DELETE && b->prefix;
	return !b_range && !strcmp(a->key, b->key);
}

static int check_overlap(const struct gr_store_op *ops, size_t n, const char *branch,
			 gr_error_t *err)
{
	for (size_t j = 1; j < n; j++)
		for (size_t i = 0; i < j; i++)
			if (ops[i].key && ops[j].key &&
			    (op_covers(&ops[i], &ops[j]) || op_covers(&ops[j], &ops[i])))
				return gr_error_set(err, EINVAL, "txn %s[%zu] on %s%s overlaps %s[%zu] on %s%s "
						    "(a branch may touch a key once)", branch, j, ops[j].key,
						    ops[j].prefix ? "*" : "", branch, i, ops[i].key,
						    ops[i].prefix ? "*" : "");
	return 0;
}

static int check_txn(const struct gr_store_txn *t, gr_error_t *err)
{
	if ((t->n_cmps && !t->cmps) || (t->n_success && !t->success) || (t->n_failure && !t->failure))
		return gr_error_set(err, EINVAL, "txn: NULL array with a non-zero count");
	if (t->n_cmps > GR_STORE_TXN_MAX_OPS || t->n_success > GR_STORE_TXN_MAX_OPS ||
	    t->n_failure > GR_STORE_TXN_MAX_OPS)
		return gr_error_set(err, E2BIG, "txn: more than %d compares or operations in one list",
				    GR_STORE_TXN_MAX_OPS);
	char what[64];
	for (size_t i = 0; i < t->n_cmps; i++) {
		const struct gr_store_cmp *c = &t->cmps[i];
		snprintf(what, sizeof what, "txn compare[%zu]", i);
		if (check_key(c->key, what, err) < 0)
			return -1;
		if ((unsigned)c->target > GR_CMP_VALUE || (unsigned)c->op > GR_CMP_GREATER)
			return gr_error_set(err, EINVAL, "%s: bad target or operator", what);
		if (c->target == GR_CMP_VALUE && c->value_len && !c->value)
			return gr_error_set(err, EINVAL, "%s: NULL value with value_len %zu", what,
					    c->value_len);
	}
	for (int branch = 0; branch < 2; branch++) {
		const struct gr_store_op *ops = branch ? t->failure : t->success;
		size_t n = branch ? t->n_failure : t->n_success;
		if (check_overlap(ops, n, branch ? "failure" : "success", err) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			const struct gr_store_op *o = &ops[i];
			snprintf(what, sizeof what, "txn %s[%zu]", branch ? "failure" : "success", i);
			if (o->type == GR_OP_DELETE && o->prefix) {
				if (!o->key || check_prefix(o->key, what, err) < 0)
					return o->key ? -1 : gr_error_set(err, EINVAL, "%s: NULL prefix", what);
				continue;
			}
			if (check_key(o->key, what, err) < 0)
				return -1;
			if (o->type == GR_OP_PUT) {
				if (o->value_len > GR_STORE_VALUE_MAX)
					return gr_error_set(err, EMSGSIZE, "%s: value of %s is %zu bytes (max %d)",
							    what, o->key, o->value_len, GR_STORE_VALUE_MAX);
				if (o->value_len && !o->value)
					return gr_error_set(err, EINVAL, "%s: NULL value with value_len %zu",
							    what, o->value_len);
				if (o->lease < 0)
					return gr_error_set(err, EINVAL, "%s: negative lease id", what);
			} else if (o->type != GR_OP_DELETE) {
				return gr_error_set(err, EINVAL, "%s: unknown operation type %d", what,
						    (int)o->type);
			}
		}
	}
	return 0;
}

/* ---- reads -------------------------------------------------------------------- */

int gr_store_revision(struct gr_store *s, int64_t *rev, gr_error_t *err)
{
	return LOCKED(s, s->ops->revision(s->be, rev, err));
}

int gr_store_get(struct gr_store *s, const char *key, struct gr_kv *out, gr_error_t *err)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (check_key(key, "get", err) < 0)
		return -1;
	return LOCKED(s, s->ops->get(s->be, key, out, err));
}

int gr_store_range(struct gr_store *s, const struct gr_store_range *r, struct gr_kv_list *out,
		   gr_error_t *err)
{
	memset(out, 0, sizeof *out);
	if (check_prefix(r->prefix, "range", err) < 0 || check_prefix(r->start_after, "range", err) < 0)
		return -1;
	return LOCKED(s, s->ops->range(s->be, r, out, err));
}

int gr_store_list(struct gr_store *s, const char *prefix, size_t limit, struct gr_kv_list *out,
		  gr_error_t *err)
{
	struct gr_store_range r = { .prefix = prefix, .limit = limit };
	return gr_store_range(s, &r, out, err);
}

/* ---- writes ------------------------------------------------------------------- */

int gr_store_txn(struct gr_store *s, const struct gr_store_txn *txn,
		 struct gr_store_txn_result *res, gr_error_t *err)
{
	struct gr_store_txn_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	if (check_txn(txn, err) < 0)
		return -1;
	return LOCKED(s, s->ops->txn(s->be, txn, res, err));
}

/* Name the key in an error, unless the back-end already did. */
static int key_context(gr_error_t *err, const char *verb, const char *key)
{
	if (err && key && strstr(err->msg, key))
		return -1;
	return gr_error_prefix(err, "%s %s", verb, key ? key : "(null)");
}

/* A write the back-end sent but could not see answered (etcd: the connection
 * broke or timed out after the request went out, e.g. while the cluster was
 * electing a leader): it may or may not have been applied, now or later. */
static bool outcome_unknown(const gr_error_t *e)
{
	return e->code == ETIMEDOUT || e->code == ECONNRESET;
}

/* No member took the write within the back-end's request timeout (etcd: all
 * refused, or none had a leader: an election can outlast one timeout on a
 * loaded machine).  Nothing was applied, so sending it again is safe. */
static bool not_answered(const gr_error_t *e)
{
	return e->code == ECONNREFUSED;
}

#define GR_STORE_WRITE_TRIES 4 /* one write plus retries (unknown outcome, no answer) */

/* Run the one-op txn t (a put or a delete of key), resolving an unknown
 * outcome instead of handing it to the caller, who could not tell either.
 * The same txn is sent again: its compare (mod_revision or absence) lets at
 * most one of the copies apply, even one still in flight; without a compare
 * the op is idempotent (the same value, or the key gone).  If a retry's
 * compare fails, an earlier copy may be what changed the key: a put whose
 * value and lease are in the key now, or a delete whose key is gone, was
 * ours, and is reported applied; anything else is a compare failure.
 * Returns 1 applied / 0 compare failed / -1 error (res filled on 1). */
static int write_resolved(struct gr_store *s, const struct gr_store_txn *t, const char *key,
			  const struct gr_store_op *op, struct gr_store_txn_result *res, gr_error_t *err)
{
	gr_error_t e = { 0 };
	bool maybe_applied = false; /* an earlier copy may have been applied */
	for (int attempt = 1;; attempt++) {
		memset(&e, 0, sizeof e);
		if (gr_store_txn(s, t, res, &e) == 0) {
			if (res->succeeded || !maybe_applied)
				return res->succeeded ? 1 : 0;
			struct gr_kv kv = { 0 };
			int g = gr_store_get(s, key, &kv, &e);
			if (g < 0)
				break;
			bool ours = op->type == GR_OP_DELETE
					    ? g == 0
					    : g > 0 && kv.value_len == op->value_len && kv.lease == op->lease &&
						      !memcmp(kv.value, op->value, op->value_len);
			if (ours) {
				res->succeeded = true;
				if (op->type == GR_OP_PUT)
					res->revision = kv.mod_revision;
				else
					res->deleted = res->deleted ? res->deleted : 1;
			}
			gr_kv_clear(&kv);
			return ours ? 1 : 0;
		}
		if (!(outcome_unknown(&e) || not_answered(&e)) || attempt >= GR_STORE_WRITE_TRIES)
			break;
		gr_log_warn("store: %s %s: %s; sending it again (attempt %d of %d: at most one copy "
			    "can apply)", op->type == GR_OP_PUT ? "put" : "delete", key, e.msg, attempt + 1,
			    GR_STORE_WRITE_TRIES);
		maybe_applied |= outcome_unknown(&e);
	}
	if (err)
		*err = e;
	return -1;
}

/* One put, optionally guarded by a compare on key. */
static int put_guarded(struct gr_store *s, const char *key, const void *value, size_t len,
		       int64_t lease, const struct gr_store_cmp *cmp, int64_t *rev, gr_error_t *err)
{
	struct gr_store_op op = { .type = GR_OP_PUT, .key = key, .value = value, .value_len = len,
				  .lease = lease };
	struct gr_store_txn t = { .cmps = cmp, .n_cmps = cmp ? 1 : 0, .success = &op, .n_success = 1 };
	struct gr_store_txn_result res;
	int r = write_resolved(s, &t, key, &op, &res, err);
	if (r < 0)
		return key_context(err, "put", key);
	if (rev)
		*rev = res.revision;
	return r;
}

int gr_store_put(struct gr_store *s, const char *key, const void *value, size_t len,
		 int64_t lease, int64_t *rev, gr_error_t *err)
{
	return put_guarded(s, key, value, len, lease, NULL, rev, err) < 0 ? -1 : 0;
}

int gr_store_put_if(struct gr_store *s, const char *key, const void *value, size_t len,
		    int64_t lease, int64_t mod_revision, int64_t *rev, gr_error_t *err)
{
	if (mod_revision < 0)
		return gr_error_set(err, EINVAL, "put_if %s: negative mod_revision", key ? key : "");
	struct gr_store_cmp c = { .key = key, .target = GR_CMP_MOD_REVISION, .op = GR_CMP_EQUAL,
				  .number = mod_revision };
	return put_guarded(s, key, value, len, lease, &c, rev, err);
}

int gr_store_create(struct gr_store *s, const char *key, const void *value, size_t len,
		    int64_t lease, int64_t *rev, gr_error_t *err)
{
	struct gr_store_cmp c = { .key = key, .target = GR_CMP_VERSION, .op = GR_CMP_EQUAL, .number = 0 };
	return put_guarded(s, key, value, len, lease, &c, rev, err);
}

static int delete_guarded(struct gr_store *s, const char *key, bool prefix,
			  const struct gr_store_cmp *cmp, int64_t *deleted, int64_t *rev,
			  gr_error_t *err)
{
	struct gr_store_op op = { .type = GR_OP_DELETE, .key = key, .prefix = prefix };
	struct gr_store_txn t = { .cmps = cmp, .n_cmps = cmp ? 1 : 0, .success = &op, .n_success = 1 };
	struct gr_store_txn_result res;
	/* a prefix delete is sent once: whether an earlier copy ran cannot be read back */
	int r = prefix ? gr_store_txn(s, &t, &res, err) : write_resolved(s, &t, key, &op, &res, err);
	if (r < 0)
		return key_context(err, prefix ? "delete prefix" : "delete", key);
	if (rev)
		*rev = res.revision;
	if (deleted)
		*deleted = res.deleted;
	return res.succeeded && res.deleted > 0 ? 1 : 0;
}

int gr_store_delete(struct gr_store *s, const char *key, int64_t *rev, gr_error_t *err)
{
	return delete_guarded(s, key, false, NULL, NULL, rev, err);
}

int gr_store_delete_if(struct gr_store *s, const char *key, int64_t mod_revision, int64_t *rev,
		       gr_error_t *err)
{
	if (mod_revision <= 0)
		return gr_error_set(err, EINVAL, "delete_if %s: mod_revision must be > 0", key ? key : "");
	struct gr_store_cmp c = { .key = key, .target = GR_CMP_MOD_REVISION, .op = GR_CMP_EQUAL,
				  .number = mod_revision };
	return delete_guarded(s, key, false, &c, NULL, rev, err);
}

int gr_store_delete_prefix(struct gr_store *s, const char *prefix, int64_t *deleted,
			   int64_t *rev, gr_error_t *err)
{
	if (!prefix)
		return gr_error_set(err, EINVAL, "delete_prefix: NULL prefix");
	return delete_guarded(s, prefix, true, NULL, deleted, rev, err) < 0 ? -1 : 0;
}

/* ---- leases ------------------------------------------------------------------- */

int gr_store_lease_grant(struct gr_store *s, int64_t ttl, int64_t *id, gr_error_t *err)
{
	if (ttl < 1)
		return gr_error_set(err, EINVAL, "lease grant: ttl %lld must be >= 1 second",
				    (long long)ttl);
	if (ttl > 365LL * 24 * 3600)
		return gr_error_set(err, EINVAL, "lease grant: ttl %lld is longer than a year",
				    (long long)ttl);
	if (*id < 0)
		return gr_error_set(err, EINVAL, "lease grant: negative lease id %lld", (long long)*id);
	return LOCKED(s, s->ops->lease_grant(s->be, ttl, id, err));
}

int gr_store_lease_keepalive(struct gr_store *s, int64_t id, struct gr_store_lease_info *info,
			     gr_error_t *err)
{
	struct gr_store_lease_info local;
	return LOCKED(s, s->ops->lease_keepalive(s->be, id, info ? info : &local, err));
}

int gr_store_lease_revoke(struct gr_store *s, int64_t id, gr_error_t *err)
{
	return LOCKED(s, s->ops->lease_revoke(s->be, id, err));
}

int gr_store_lease_info(struct gr_store *s, int64_t id, struct gr_store_lease_info *info,
			gr_error_t *err)
{
	return LOCKED(s, s->ops->lease_info(s->be, id, info, err));
}

int gr_store_tick(struct gr_store *s, gr_error_t *err)
{
	bool external = false;
	bool locked = !s->ops->concurrent;
	if (locked)
		pthread_mutex_lock(&s->lock);
	uint64_t c0 = s->ops->commits(s->be);
	int r = s->ops->tick(s->be, &external, err);
	if (s->ops->commits(s->be) != c0 || external)
		notify_locked(s);
	if (locked)
		pthread_mutex_unlock(&s->lock);
	return r;
}

/* ---- change feed -------------------------------------------------------------- */

int gr_store_changes_since(struct gr_store *s, int64_t from_rev, const char *prefix, size_t limit,
			   struct gr_store_events *out, gr_error_t *err)
{
	memset(out, 0, sizeof *out);
	if (from_rev < 0)
		return gr_error_set(err, EINVAL, "changes since %lld: negative revision",
				    (long long)from_rev);
	if (check_prefix(prefix, "changes", err) < 0)
		return -1;
	return LOCKED(s, s->ops->changes_since(s->be, from_rev, prefix ? prefix : "", limit, out, err));
}

int gr_store_compact(struct gr_store *s, int64_t rev, gr_error_t *err)
{
	if (rev < 0)
		return gr_error_set(err, EINVAL, "compact %lld: negative revision", (long long)rev);
	return LOCKED(s, s->ops->compact(s->be, rev, err));
}
