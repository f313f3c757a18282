/*
 * index.c - the instance records: the only code that reads or writes
 * /gureum/instances/<name>, and the in-memory index of them.
 *
 * The store is the truth; the index is a cache of it, kept current from the
 * store's change feed (gr__index_feed, run by the loop when the feed's fd
 * fires) and, for this daemon's own writes, at once (write-through), so a
 * read after a write sees it.  Every entry keeps the record's text as stored
 * (a listing is a concatenation, no parse) and the decoded struct; a record
 * is decoded once per change, whoever made it.  Each entry carries the
 * record's mod_revision: older news is ignored, and a record deleted here is
 * kept as a tombstone until the feed has passed its revision, so a stale PUT
 * coming late through the feed cannot bring it back.  Writes are
 * compare-and-swap on the mod_revision the writer read: an index that is
 * stale (another daemon wrote, in a cluster) makes the write fail, never
 * lose an update.  The placer (host usage) follows every change.  While
 * this daemon writes a record, the feed stops before that record's events
 * and resumes after the write-through, so our own writes are never parsed
 * back.
 *
 * Threads: any; one mutex guards the index (held only for memory work,
 * never across a store call).  The feed runs on the loop thread.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"
#include "util/log.h"

#define FEED_BATCH 1000

struct entry {
	struct entry *next;         /* hash chain */
	struct gr_instance in;      /* valid unless deleted */
	char *text;                 /* the record as stored */
	size_t len;
	int64_t rev;                /* mod_revision of the record, or the delete's revision */
	bool deleted;               /* tombstone */
	bool seen;                  /* re-list bookkeeping */
};

struct gr__index {
	pthread_mutex_t lock;
	char **writing;             /* names whose record this daemon is writing now */
	size_t n_writing;
	struct entry **buckets;
	size_t n_buckets, n_entries, n_tombstones;
	int64_t feed_rev;           /* the feed is applied up to this revision */
	pthread_mutex_t feed_lock;  /* one feed at a time (the loop, a routed call's wait) */
	struct gr__placer *placer;
};

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct entry *find(struct gr__index *x, const char *name)
{
	for (struct entry *e = x->buckets[hash(name) & (x->n_buckets - 1)]; e; e = e->next)
		if (!strcmp(e->in.name, name))
			return e;
	return NULL;
}

static bool is_writing(struct gr__index *x, const char *name)
{
	for (size_t i = 0; i < x->n_writing; i++)
		if (!strcmp(x->writing[i], name))
			return true;
	return false;
}

static void writing_begin(struct gr_control *c, const char *name)
{
	struct gr__index *x = c->index;
	pthread_mutex_lock(&x->lock);
	x->writing = xrealloc(x->writing, (x->n_writing + 1) * sizeof *x->writing);
	x->writing[x->n_writing++] = xstrdup(name);
	pthread_mutex_unlock(&x->lock);
}

static void writing_end(struct gr_control *c, const char *name)
{
	struct gr__index *x = c->index;
	pthread_mutex_lock(&x->lock);
	for (size_t i = 0; i < x->n_writing; i++)
		if (!strcmp(x->writing[i], name)) {
			free(x->writing[i]);
			x->writing[i] = x->writing[--x->n_writing];
			break;
		}
	pthread_mutex_unlock(&x->lock);
}

static void grow(struct gr__index *x)
{
	size_t nb = x->n_buckets * 2;
	struct entry **b = xcalloc(nb, sizeof *b);
	for (size_t i = 0; i < x->n_buckets; i++)
		for (struct entry *e = x->buckets[i], *next; e; e = next) {
			next = e->next;
			size_t k = hash(e->in.name) & (nb - 1);
			e->next = b[k];
			b[k] = e;
		}
	free(x->buckets);
	x->buckets = b;
	x->n_buckets = nb;
}

static struct entry *insert(struct gr__index *x, const char *name)
{
	if (x->n_entries + 1 > x->n_buckets)
		grow(x);
	struct entry *e = xcalloc(1, sizeof *e);
	snprintf(e->in.name, sizeof e->in.name, "%s", name);
	size_t k = hash(name) & (x->n_buckets - 1);
	e->next = x->buckets[k];
	x->buckets[k] = e;
	x->n_entries++;
	return e;
}

static void unlink_entry(struct gr__index *x, struct entry *gone)
{
	struct entry **pp = &x->buckets[hash(gone->in.name) & (x->n_buckets - 1)];
	while (*pp != gone)
		pp = &(*pp)->next;
	*pp = gone->next;
	x->n_entries--;
	if (gone->deleted)
		x->n_tombstones--;
	gr__inst_clear(&gone->in);
	free(gone->text);
	free(gone);
}

/* Make e say: the record `in` (stolen) with text (stolen) at rev. */
static void set_live(struct gr__index *x, struct entry *e, struct gr_instance *in, char *text,
		     size_t len, int64_t rev)
{
	if (e->deleted)
		x->n_tombstones--;
	gr__inst_clear(&e->in);
	free(e->text);
	e->in = *in;
	memset(in, 0, sizeof *in);
	e->text = text;
	e->len = len;
	e->rev = rev;
	e->deleted = false;
	gr__placer_track(x->placer, e->in.name, &e->in);
}

static void set_deleted(struct gr__index *x, struct entry *e, int64_t rev)
{
	gr__placer_track(x->placer, e->in.name, NULL);
	char name[GR_INST_NAME_MAX];
	memcpy(name, e->in.name, sizeof name);
	gr__inst_clear(&e->in);
	memcpy(e->in.name, name, sizeof name);
	free(e->text);
	e->text = NULL;
	e->len = 0;
	e->rev = rev;
	if (!e->deleted)
		x->n_tombstones++;
	e->deleted = true;
}

/* Apply one record (decoded by the caller: in and text stolen) at rev. */
static void apply_put(struct gr__index *x, struct gr_instance *in, char *text, size_t len, int64_t rev)
{
	struct entry *e = find(x, in->name);
	if (e && e->rev >= rev) {
		gr__inst_clear(in);
		free(text);
		return;
	}
	if (!e)
		e = insert(x, in->name);
	in->mod_revision = rev;
	set_live(x, e, in, text, len, rev);
}

static void apply_delete(struct gr__index *x, const char *name, int64_t rev)
{
	struct entry *e = find(x, name);
	if (!e) {
		e = insert(x, name);
		e->deleted = true;
		e->rev = rev;
		x->n_tombstones++;
		return;
	}
	if (e->rev >= rev)
		return;
	set_deleted(x, e, rev);
}

/* Tombstones the feed has passed are no longer needed. */
static void drop_tombstones(struct gr__index *x)
{
	if (!x->n_tombstones)
		return;
	for (size_t i = 0; i < x->n_buckets; i++)
		for (struct entry *e = x->buckets[i], *next; e; e = next) {
			next = e->next;
			if (e->deleted && e->rev <= x->feed_rev)
				unlink_entry(x, e);
		}
}

static const char *name_of_key(const char *key)
{
	return key + strlen(GR_KEY_INSTANCES);
}

/* Decode a stored record into a new (in, text) pair; NULL text on a bad
 * record (logged: a record that is not an instance is left out). */
static int decode_kv(const char *key, const void *value, size_t len, struct gr_instance *in,
		     char **text)
{
	gr_error_t err;
	if (gr__inst_decode(value, len, in, &err) < 0) {
		gr_log_warn("%s: %s (left out of the index)", key, err.msg);
		return -1;
	}
	if (strcmp(in->name, name_of_key(key))) {
		gr_log_warn("%s: the record names '%s' (left out of the index)", key, in->name);
		gr__inst_clear(in);
		return -1;
	}
	*text = xmalloc(len + 1);
	memcpy(*text, value, len);
	(*text)[len] = '\0';
	return 0;
}

/* Rebuild from a full listing (at open, or when the feed was compacted past
 * the index's position). */
static int relist(struct gr_control *c, gr_error_t *err)
{
	struct gr__index *x = c->index;
	struct gr_kv_list l = { 0 };
	if (gr_store_list(c->store, GR_KEY_INSTANCES, 0, &l, err) < 0)
		return -1;
	pthread_mutex_lock(&x->lock);
	for (size_t i = 0; i < x->n_buckets; i++)
		for (struct entry *e = x->buckets[i]; e; e = e->next)
			e->seen = false;
	for (size_t i = 0; i < l.n; i++) {
		struct gr_instance in;
		char *text;
		if (decode_kv(l.kvs[i].key, l.kvs[i].value, l.kvs[i].value_len, &in, &text) < 0)
			continue;
		in.create_revision = l.kvs[i].create_revision;
		char name[GR_INST_NAME_MAX];
		memcpy(name, in.name, sizeof name);
		apply_put(x, &in, text, l.kvs[i].value_len, l.kvs[i].mod_revision);
		struct entry *e = find(x, name);
		if (e)
			e->seen = true;
	}
	for (size_t i = 0; i < x->n_buckets; i++)
		for (struct entry *e = x->buckets[i]; e; e = e->next)
			if (!e->seen && !e->deleted && e->rev <= l.revision)
				set_deleted(x, e, l.revision);
	if (l.revision > x->feed_rev)
		x->feed_rev = l.revision;
	drop_tombstones(x);
	pthread_mutex_unlock(&x->lock);
	gr_kv_list_clear(&l);
	return 0;
}

static void feed(struct gr_control *c);

void gr__index_feed(struct gr_control *c)
{
	pthread_mutex_lock(&c->index->feed_lock);
	feed(c);
	pthread_mutex_unlock(&c->index->feed_lock);
}

static void feed(struct gr_control *c)
{
	struct gr__index *x = c->index;
	for (;;) {
		struct gr_store_events ev = { 0 };
		gr_error_t err;
		int64_t from = x->feed_rev + 1;
		if (gr_store_changes_since(c->store, from, GR_KEY_INSTANCES, FEED_BATCH, &ev, &err) < 0) {
			if (err.code == ESTALE && relist(c, &err) == 0)
				continue;
			gr_log_warn("instance feed: %s", err.msg);
			return;
		}
		pthread_mutex_lock(&x->lock);
		int64_t upto = ev.n ? ev.events[ev.n - 1].kv.mod_revision : ev.revision;
		bool stopped = false;
		for (size_t i = 0; i < ev.n; i++) {
			const struct gr_kv *kv = &ev.events[i].kv;
			if (is_writing(x, name_of_key(kv->key))) {
				/* our own write in flight: resume after its write-through */
				upto = kv->mod_revision - 1;
				stopped = true;
				break;
			}
			if (ev.events[i].type == GR_EV_DELETE) {
				apply_delete(x, name_of_key(kv->key), kv->mod_revision);
				continue;
			}
			/* our own writes are in the index already: no second parse */
			struct entry *e = find(x, name_of_key(kv->key));
			if (e && e->rev >= kv->mod_revision)
				continue;
			struct gr_instance in;
			char *text;
			if (decode_kv(kv->key, kv->value, kv->value_len, &in, &text) < 0)
				continue;
			in.create_revision = kv->create_revision;
			apply_put(x, &in, text, kv->value_len, kv->mod_revision);
		}
		if (!stopped && !ev.more && ev.revision > upto)
			upto = ev.revision;
		if (upto > x->feed_rev)
			x->feed_rev = upto;
		drop_tombstones(x);
		pthread_mutex_unlock(&x->lock);
		bool more = ev.more && !stopped;
		gr_store_events_clear(&ev);
		if (!more)
			return;
	}
}

int gr__index_open(struct gr_control *c, gr_error_t *err)
{
	struct gr__index *x = xcalloc(1, sizeof *x);
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->feed_lock, NULL);
	x->n_buckets = 64;
	x->buckets = xcalloc(x->n_buckets, sizeof *x->buckets);
	x->placer = gr__placer_new(c->hostname, err);
	c->index = x;
	if (!x->placer)
		return -1;
	return relist(c, err);
}

void gr__index_close(struct gr_control *c)
{
	struct gr__index *x = c->index;
	if (!x)
		return;
	for (size_t i = 0; i < x->n_buckets; i++)
		for (struct entry *e = x->buckets[i], *next; e; e = next) {
			next = e->next;
			gr__inst_clear(&e->in);
			free(e->text);
			free(e);
		}
	free(x->buckets);
	for (size_t i = 0; i < x->n_writing; i++)
		free(x->writing[i]);
	free(x->writing);
	gr__placer_free(x->placer);
	pthread_mutex_destroy(&x->lock);
	pthread_mutex_destroy(&x->feed_lock);
	free(x);
	c->index = NULL;
}

/* ---- reads ---- */

int gr__inst_get(struct gr_control *c, const char *name, struct gr_instance *out, gr_error_t *err)
{
	if (gr_name_valid("name", name, err) < 0)
		return -1;
	struct gr__index *x = c->index;
	pthread_mutex_lock(&x->lock);
	struct entry *e = find(x, name);
	bool live = e && !e->deleted;
	if (live)
		gr__inst_copy(out, &e->in);
	pthread_mutex_unlock(&x->lock);
	if (!live)
		return gr_error_set(err, ENOENT, "instance '%s' does not exist", name);
	return 0;
}

bool gr__index_known(const char *name, void *ud)
{
	struct gr_control *c = ud;
	pthread_mutex_lock(&c->index->lock);
	struct entry *e = find(c->index, name);
	bool live = e && !e->deleted;
	pthread_mutex_unlock(&c->index->lock);
	return live;
}

static int by_name(const void *a, const void *b)
{
	const struct entry *ea = *(struct entry *const *)a, *eb = *(struct entry *const *)b;
	return strcmp(ea->in.name, eb->in.name);
}

/* Live entries sorted by name (caller holds the lock; frees the array). */
static struct entry **sorted(struct gr__index *x, size_t *n)
{
	struct entry **v = xcalloc(x->n_entries + 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < x->n_buckets; i++)
		for (struct entry *e = x->buckets[i]; e; e = e->next)
			if (!e->deleted)
				v[k++] = e;
	qsort(v, k, sizeof *v, by_name);
	*n = k;
	return v;
}

char **gr__index_names(struct gr_control *c)
{
	pthread_mutex_lock(&c->index->lock);
	size_t n;
	struct entry **v = sorted(c->index, &n);
	char **names = xcalloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++)
		names[i] = xstrdup(v[i]->in.name);
	pthread_mutex_unlock(&c->index->lock);
	free(v);
	return names;
}

void gr__index_list_text(struct gr_control *c, char **out, size_t *len)
{
	pthread_mutex_lock(&c->index->lock);
	size_t n;
	struct entry **v = sorted(c->index, &n);
	size_t total = sizeof "{\"instances\":[]}\n";
	for (size_t i = 0; i < n; i++)
		total += v[i]->len + 1;
	char *t = xmalloc(total), *p = t;
	p = stpcpy(p, "{\"instances\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, v[i]->text, v[i]->len);
		p += v[i]->len;
	}
	p = stpcpy(p, "]}\n");
	pthread_mutex_unlock(&c->index->lock);
	free(v);
	*out = t;
	*len = (size_t)(p - t);
}

void gr__index_count(struct gr_control *c, size_t counts[GR_ST__COUNT])
{
	memset(counts, 0, GR_ST__COUNT * sizeof *counts);
	struct gr__index *x = c->index;
	pthread_mutex_lock(&x->lock);
	for (size_t i = 0; i < x->n_buckets; i++)
		for (struct entry *e = x->buckets[i]; e; e = e->next)
			if (!e->deleted && (unsigned)e->in.state < GR_ST__COUNT)
				counts[e->in.state]++;
	pthread_mutex_unlock(&x->lock);
}

size_t gr__index_image_users(struct gr_control *c, const char *image, char *who, size_t len)
{
	pthread_mutex_lock(&c->index->lock);
	size_t n, users = 0;
	struct entry **v = sorted(c->index, &n);
	who[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i]->in.image, image))
			continue;
		size_t l = strlen(who);
		if (l + strlen(v[i]->in.name) + 8 < len)
			snprintf(who + l, len - l, "%s%s", users ? ", " : "", v[i]->in.name);
		else if (l + 5 < len && !strstr(who, "..."))
			snprintf(who + l, len - l, ", ...");
		users++;
	}
	pthread_mutex_unlock(&c->index->lock);
	free(v);
	return users;
}

int gr__index_place(struct gr_control *c, const struct gr_instance *in, char *host, size_t len,
		    gr_error_t *err)
{
	pthread_mutex_lock(&c->index->lock);
	int r = gr__placer_place(c->index->placer, in, host, len, err);
	pthread_mutex_unlock(&c->index->lock);
	return r;
}

int gr__index_choose(struct gr_control *c, const struct gr_sched_policy_ops *policy,
		      const char *target, const struct gr__place_host *hosts, size_t n_hosts,
		      const struct gr_instance *in, char *host, size_t len, gr_error_t *err)
{
	pthread_mutex_lock(&c->index->lock);
	gr__placer_hosts(c->index->placer, hosts, n_hosts);
	int r = gr__placer_choose(c->index->placer, policy, target, in, host, len, err);
	pthread_mutex_unlock(&c->index->lock);
	return r;
}

int gr__index_choose_except(struct gr_control *c, const struct gr_sched_policy_ops *policy,
			    const struct gr__place_host *hosts, size_t n_hosts, const json_t *except,
			    const struct gr_instance *in, char *host, size_t len, gr_error_t *err)
{
	struct gr__place_host *hs = xcalloc(n_hosts + 1, sizeof *hs);
	for (size_t i = 0; i < n_hosts; i++) {
		size_t k;
		json_t *v;
		hs[i] = hosts[i];
		json_array_foreach(except, k, v)
			if (json_is_string(v) && !strcmp(json_string_value(v), hosts[i].name))
				hs[i].online = false, hs[i].excluded = true;
	}
	pthread_mutex_lock(&c->index->lock);
	gr__placer_hosts(c->index->placer, hs, n_hosts);
	int r = gr__placer_choose(c->index->placer, policy, NULL, in, host, len, err);
	gr__placer_hosts(c->index->placer, hosts, n_hosts);
	pthread_mutex_unlock(&c->index->lock);
	free(hs);
	return r;
}

void gr__index_why(struct gr_control *c, const struct gr_instance *in, char *buf, size_t len)
{
	pthread_mutex_lock(&c->index->lock);
	gr__placer_why(c->index->placer, in, buf, len);
	pthread_mutex_unlock(&c->index->lock);
}

int gr__index_check_fits(struct gr_control *c, const struct gr_instance *in, gr_error_t *err)
{
	pthread_mutex_lock(&c->index->lock);
	int r = gr__placer_check(c->index->placer, in, err);
	pthread_mutex_unlock(&c->index->lock);
	return r;
}

/* Forget a reservation the record does not back (a start refused before it
 * was recorded): the placer follows the record again. */
void gr__index_retrack(struct gr_control *c, const char *name)
{
	struct gr__index *x = c->index;
	pthread_mutex_lock(&x->lock);
	struct entry *e = find(x, name);
	gr__placer_track(x->placer, name, e && !e->deleted ? &e->in : NULL);
	pthread_mutex_unlock(&x->lock);
}

/* ---- writes ---- */

static char *key_of(const char *name)
{
	return xasprintf("%s%s", GR_KEY_INSTANCES, name);
}

/* After a write of in (as text) at rev: the index has it at once. */
static void write_through(struct gr_control *c, const struct gr_instance *in, char *text, size_t len,
			  int64_t rev)
{
	struct gr_instance copy;
	gr__inst_copy(&copy, in);
	pthread_mutex_lock(&c->index->lock);
	apply_put(c->index, &copy, text, len, rev);
	pthread_mutex_unlock(&c->index->lock);
}

/* replace 0: a new record (compare absent); else the mod_revision of the
 * pending record it replaces (pending.c's claim) */
static int inst_create(struct gr_control *c, struct gr_instance *in, int64_t replace, gr_error_t *err)
{
	_cleanup_free_ char *key = key_of(in->name);
	in->updated = (int64_t)time(NULL);
	size_t len;
	char *text = gr__inst_encode(in, &len);
	int64_t rev = 0;
	writing_begin(c, in->name);
	int r = gr_store_put_if(c->store, key, text, len, 0, replace, &rev, err);
	if (r > 0) {
		in->mod_revision = in->create_revision = rev;
		write_through(c, in, text, len, rev);
	}
	writing_end(c, in->name);
	if (r <= 0) {
		free(text);
		if (r == 0 && replace)
			return gr_error_set(err, EALREADY, "instance '%s' changed before this host "
					    "claimed it (deleted, or claimed already)", in->name);
		if (r == 0)
			return gr_error_set(err, EEXIST, "instance '%s' already exists", in->name);
		return gr_error_prefix(err, "recording instance '%s'", in->name);
	}
	in->mod_revision = in->create_revision = rev;
	in->op_id[0] = in->op_kind[0] = '\0';
	gr__event(c, "state", in->name, gr__state_name(in->state), NULL);
	return 0;
}

int gr__inst_create(struct gr_control *c, struct gr_instance *in, gr_error_t *err)
{
	return inst_create(c, in, 0, err);
}

int gr__inst_replace_pending(struct gr_control *c, struct gr_instance *in, int64_t pending_rev,
			     gr_error_t *err)
{
	return inst_create(c, in, pending_rev, err);
}

int gr__inst_move(struct gr_control *c, struct gr_instance *in, enum gr_inst_state to,
		  gr_error_t *err)
{
	enum gr_inst_state from = in->state;
	if (!gr__state_may(from, to))
		return gr_error_set(err, EBUSY, "instance '%s' is %s and cannot become %s", in->name,
				    gr__state_name(from), gr__state_name(to));
	_cleanup_free_ char *key = key_of(in->name);
	in->state = to;
	in->updated = (int64_t)time(NULL);
	size_t len;
	char *text = gr__inst_encode(in, &len);
	int64_t rev = 0;
	writing_begin(c, in->name);
	int r = gr_store_put_if(c->store, key, text, len, 0, in->mod_revision, &rev, err);
	if (r > 0) {
		int64_t was = in->mod_revision;
		in->mod_revision = rev;
		write_through(c, in, text, len, rev);
		in->mod_revision = was;
	}
	writing_end(c, in->name);
	if (r < 0) {
		free(text);
		in->state = from;
		gr__index_retrack(c, in->name);
		return gr_error_prefix(err, "instance '%s': %s -> %s", in->name, gr__state_name(from),
				       gr__state_name(to));
	}
	if (r == 0) {
		/* someone else wrote it: the caller gets the record as it is now */
		free(text);
		struct gr_kv kv = { 0 };
		gr_error_t e2;
		int found = gr_store_get(c->store, key, &kv, &e2);
		struct gr_instance now;
		if (found > 0 && gr__inst_decode(kv.value, kv.value_len, &now, &e2) == 0) {
			now.mod_revision = kv.mod_revision;
			now.create_revision = kv.create_revision;
			char *t = xmalloc(kv.value_len + 1);
			memcpy(t, kv.value, kv.value_len);
			t[kv.value_len] = '\0';
			write_through(c, &now, t, kv.value_len, kv.mod_revision);
			gr__inst_clear(in);
			*in = now;
		} else {
			in->state = from;
		}
		gr_kv_clear(&kv);
		gr__index_retrack(c, in->name);
		return gr_error_set(err, EBUSY, "instance '%s' is %s, not %s", in->name,
				    found > 0 ? gr__state_name(in->state) : "gone", gr__state_name(from));
	}
	in->mod_revision = rev;
	in->op_id[0] = in->op_kind[0] = '\0';
	gr__event(c, "state", in->name, gr__state_name(to), NULL);
	return 0;
}

int gr__inst_remove(struct gr_control *c, const struct gr_instance *in, gr_error_t *err)
{
	_cleanup_free_ char *key = key_of(in->name);
	int64_t rev = 0;
	writing_begin(c, in->name);
	int r = gr_store_delete_if(c->store, key, in->mod_revision, &rev, err);
	if (r > 0) {
		pthread_mutex_lock(&c->index->lock);
		apply_delete(c->index, in->name, rev);
		pthread_mutex_unlock(&c->index->lock);
	}
	writing_end(c, in->name);
	if (r < 0)
		return gr_error_prefix(err, "removing the record of '%s'", in->name);
	if (r == 0) {
		struct gr_kv kv = { 0 };
		int found = gr_store_get(c->store, key, &kv, err);
		gr_kv_clear(&kv);
		if (found < 0)
			return -1;
		if (found > 0)
			return gr_error_set(err, EBUSY, "instance '%s' changed while it was being removed",
					    in->name);
		gr_store_revision(c->store, &rev, NULL);
		pthread_mutex_lock(&c->index->lock);
		apply_delete(c->index, in->name, rev);
		pthread_mutex_unlock(&c->index->lock);
	}
	gr__event(c, "deleted", in->name, NULL, NULL);
	return 0;
}
