/*
 * etcd_watch.c - the etcd back-end's change feed and subscriber thread, both
 * on /v3/watch (a stream of {"result": WatchResponse} lines).
 *
 * changes_since(from) opens a watch over every key from revision `from`,
 * takes the store revision R from the "created" reply, reads events until it
 * has seen revision R (every revision has at least one event, and etcd never
 * splits a revision over two replies), filters by prefix here, and closes the
 * stream.  A start below the compaction is refused by etcd with the compact
 * revision: ESTALE, as the interface says (the watch starts one revision early
 * for that; etcd-internal.h).  etcd reports its compact revision
 * only then, so a successful read's compact_revision is the highest this
 * handle has seen (from its own compactions and refusals), at least 1.
 *
 * Subscribers: the first gr_store_subscribe starts one thread per handle that
 * keeps a watch stream over every key open (push, not polling) and calls the
 * store's wake function for every revision that is not this handle's own (own
 * commits wake subscribers synchronously, in store.c).  When the member it
 * reads from dies, the thread reopens the watch on the next member from the
 * revision after the last one it saw; when that revision has been compacted
 * meanwhile it wakes the subscribers (their changes_since then says ESTALE and
 * they re-list) and goes on from the compact revision.
 *
 * The subscriber thread also keeps the events it reads (e->log: every event of
 * the revisions log_from..log_hw, at most LOG_MAX_EVENTS / LOG_MAX_BYTES, the
 * oldest whole revisions dropped first; reset when its stream restarts with a
 * gap, e.g. after a compaction).  changes_since(from >= log_from) then reads
 * the store revision R (one linearizable range, so every write that returned
 * before the call is included), waits (bounded by LOG_WAIT_MS) until the log
 * holds R and answers from memory; otherwise, and for a start below the
 * compaction, it reads a watch from etcd as above.  A watch from a past
 * revision is answered by etcd's watch sync loop, every 100 ms, while the
 * subscriber's stream is a synced watch that gets each commit as it applies.
 */
#include "store/etcd-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#define LOG_MAX_EVENTS 8192
#define LOG_MAX_BYTES (16u << 20)
#define LOG_WAIT_MS 300

/* ---- changes_since ------------------------------------------------------------------ */

struct feed {
	const char *prefix;
	size_t plen, limit;
	int64_t start;             /* ours */
	int64_t target;            /* store revision when the watch was created */
	int64_t max_rev;           /* highest revision seen */
	bool created, canceled, more;
	int64_t compact;           /* from a refusal */
	char reason[160];
	struct gr_store_events *out;
	size_t cap;
};

/* One line of a watch stream: an error reply (as the error it names) or a watch message. */
static int read_watch_msg(const char *line, size_t len, struct gr__etcd_watch_msg *m, gr_error_t *err)
{
	int code;
	char msg[512];
	if (gr__etcd_parse_error(line, len, &code, msg, sizeof msg))
		return gr__etcd_error(code, msg, "watch", err);
	return gr__etcd_parse_watch(line, len, m, err);
}

static int feed_line(void *ud, const char *line, size_t len, gr_error_t *err)
{
	struct feed *f = ud;
	struct gr__etcd_watch_msg m;
	if (read_watch_msg(line, len, &m, err) < 0)
		return -1;
	int r = 0;
	if (m.created && !f->created) {
		f->created = true;
		f->target = m.revision;
	}
	if (m.canceled) {
		f->canceled = true;
		f->compact = m.compact_revision;
		snprintf(f->reason, sizeof f->reason, "%s", m.reason);
		r = 1;
		goto out;
	}
	if (!f->created) {
		r = gr_error_set(err, EPROTO, "malformed etcd reply: watch events before the watch was created");
		goto out;
	}
	for (size_t i = 0; i < m.n; i++) {
		struct gr_store_event *ev = &m.events[i];
		int64_t rev = ev->kv.mod_revision;
		if (rev < f->start - 1 || rev < f->max_rev) {
			r = gr_error_set(err, EPROTO, "malformed etcd reply: watch event at revision %" PRId64
					 " out of order (after %" PRId64 ", from %" PRId64 ")", rev, f->max_rev, f->start);
			goto out;
		}
		f->max_rev = rev;
		if (rev < f->start)
			continue; /* the revision before: read only to have etcd check the compaction */
		if (strncmp(ev->kv.key, f->prefix, f->plen))
			continue;
		struct gr_store_events *o = f->out;
		if (f->limit && o->n >= f->limit && rev != o->events[o->n - 1].kv.mod_revision) {
			f->more = true;
			r = 1;
			goto out;
		}
		if (o->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 16;
			o->events = xrealloc(o->events, f->cap * sizeof *o->events);
		}
		o->events[o->n++] = *ev;
		memset(&ev->kv, 0, sizeof ev->kv);
	}
	if (f->max_rev >= f->target || f->start > f->target)
		r = 1;
out:
	gr__etcd_watch_msg_clear(&m);
	return r;
}

/* One watch from `start` (ours).  0 done, 1 refused as compacted (f->compact), -1 error. */
static int read_feed(struct gr__etcd *e, struct feed *f, gr_error_t *err)
{
	/* etcd's revision f->start is our f->start - 1: one revision early (see etcd-internal.h). */
	_cleanup_free_ char *body = gr__etcd_req_watch(f->start);
	if (gr__etcd_stream(e, NULL, NULL, "/v3/watch", body, e->timeout_ms, NULL, feed_line, f, NULL,
			    err) < 0)
		return -1;
	if (f->canceled) {
		if (f->compact <= 0)
			return gr_error_set(err, EIO, "etcd canceled the watch from revision %" PRId64 ": %s",
					    f->start, f->reason[0] ? f->reason : "(no reason given)");
		return 1;
	}
	if (!f->created || (!f->more && f->max_rev < f->target && f->start <= f->target))
		return gr_error_set(err, EPROTO, "malformed etcd reply: the watch stream ended at revision %" PRId64
				    " before the store revision %" PRId64, f->max_rev, f->target);
	return 0;
}

static size_t kv_bytes(const struct gr_kv *kv)
{
	return strlen(kv->key) + kv->value_len + sizeof *kv;
}

static void kv_copy(struct gr_kv *dst, const struct gr_kv *src)
{
	*dst = *src;
	dst->key = xstrdup(src->key);
	dst->value = xmalloc(src->value_len + 1);
	if (src->value_len)
		memcpy(dst->value, src->value, src->value_len);
	dst->value[src->value_len] = '\0';
}

void gr__etcd_log_free(struct gr__etcd *e)
{
	pthread_mutex_lock(&e->log_mu);
	for (size_t i = 0; i < e->log_n; i++)
		gr_kv_clear(&e->log[i].kv);
	free(e->log);
	e->log = NULL;
	e->log_n = e->log_cap = e->log_bytes = 0;
	e->log_from = e->log_hw = 0;
	pthread_mutex_unlock(&e->log_mu);
}

/* Served from the kept events: 1 done (out filled), 0 not possible (use etcd). */
static int log_read(struct gr__etcd *e, int64_t from, const char *prefix, size_t limit,
		    struct gr_store_events *out, int64_t known)
{
	pthread_mutex_lock(&e->log_mu);
	bool usable = e->log_from && from >= e->log_from;
	pthread_mutex_unlock(&e->log_mu);
	if (!usable)
		return 0;
	/* The store revision, read at etcd's revision `from` (our from - 1): etcd
	 * refuses that read exactly when the watch below would be refused (from is
	 * below the compaction, perhaps done by another handle), and when from is
	 * in the future; the watch then says what is wrong. */
	char body[128];
	snprintf(body, sizeof body, "{\"key\":\"AA==\",\"count_only\":true,\"revision\":\"%" PRId64 "\"}", from);
	struct gr__etcd_buf reply;
	gr_error_t rerr = {0};
	int64_t target = 0;
	int r = gr__etcd_call(e, NULL, "/v3/kv/range", body, true, &reply, &rerr);
	if (r == 0)
		r = gr__etcd_parse_header(reply.data, reply.len, &target, &rerr);
	gr__etcd_buf_free(&reply);
	if (r < 0)
		return 0;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)LOG_WAIT_MS * 1000000;
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	pthread_mutex_lock(&e->log_mu);
	while (e->log_from && from >= e->log_from && e->log_hw < target)
		if (pthread_cond_timedwait(&e->log_cond, &e->log_mu, &until) != 0)
			break;
	if (!e->log_from || from < e->log_from || e->log_hw < target) {
		pthread_mutex_unlock(&e->log_mu);
		return 0;
	}
	size_t plen = strlen(prefix), cap = 0;
	int64_t next_rev = 0;
	/* the first event at or after from (revisions ascend) */
	size_t lo = 0, hi = e->log_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->log[mid].kv.mod_revision < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < e->log_n; i++) {
		const struct gr_store_event *ev = &e->log[i];
		if (ev->kv.mod_revision > target)
			break;
		if (strncmp(ev->kv.key, prefix, plen))
			continue;
		if (limit && out->n >= limit && ev->kv.mod_revision != out->events[out->n - 1].kv.mod_revision) {
			next_rev = ev->kv.mod_revision;
			break;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->events = xrealloc(out->events, cap * sizeof *out->events);
		}
		out->events[out->n].type = ev->type;
		kv_copy(&out->events[out->n].kv, &ev->kv);
		out->n++;
	}
	pthread_mutex_unlock(&e->log_mu);
	out->more = next_rev != 0;
	out->revision = next_rev ? next_rev : target;
	out->compact_revision = known;
	return 1;
}

int gr__etcd_changes_since(void *be, int64_t from_rev, const char *prefix, size_t limit,
			   struct gr_store_events *out, gr_error_t *err)
{
	struct gr__etcd *e = be;
	pthread_mutex_lock(&e->mu);
	int64_t known = e->known_compact;
	pthread_mutex_unlock(&e->mu);
	if (from_rev >= known && log_read(e, from_rev, prefix, limit, out, known) == 1)
		return 0;
	int64_t start = from_rev ? from_rev : known;
	for (int attempt = 0; attempt < 5; attempt++) {
		struct feed f = { .prefix = prefix, .plen = strlen(prefix), .limit = limit, .start = start,
				  .out = out };
		int r = read_feed(e, &f, err);
		if (r < 0 && err && err->code == ECONNRESET && attempt < 4) {
			gr_store_events_clear(out); /* the member died mid-stream: read again elsewhere */
			continue;
		}
		if (r < 0)
			goto fail;
		if (r == 1) {
			pthread_mutex_lock(&e->mu);
			if (f.compact > e->known_compact)
				e->known_compact = f.compact;
			known = e->known_compact;
			pthread_mutex_unlock(&e->mu);
			gr_store_events_clear(out);
			if (from_rev == 0 && f.compact > start) {
				start = f.compact; /* "from the oldest kept": try again from there */
				continue;
			}
			out->compact_revision = f.compact;
			return gr_error_set(err, ESTALE, "changes since revision %" PRId64 ": compacted (oldest kept "
					    "is %" PRId64 "); re-read and continue from that revision", from_rev,
					    f.compact);
		}
		out->more = f.more;
		out->revision = f.more ? f.max_rev : (f.target > f.max_rev ? f.target : f.max_rev);
		out->compact_revision = known;
		return 0;
	}
	gr_error_set(err, EAGAIN, "changes since revision %" PRId64 ": compaction kept moving ahead", from_rev);
fail:
	gr_store_events_clear(out);
	return -1;
}

/* ---- the subscriber thread ----------------------------------------------------------- */

struct watcher {
	struct gr__etcd *e;
	int64_t next;              /* ours: the first revision not seen yet */
	bool compacted;
};

static void saw(struct gr__etcd *e, int64_t rev)
{
	pthread_mutex_lock(&e->mu);
	bool wake = false;
	if (e->writers) {
		if (rev > e->pending_rev)
			e->pending_rev = rev; /* decided when the write ends */
	} else if (rev > e->own_rev && rev > e->woken_rev) {
		e->woken_rev = rev;
		e->external_seen = true;
		wake = true;
	}
	pthread_mutex_unlock(&e->mu);
	if (wake)
		e->wake(e->wake_ctx);
}

/* Drop the oldest whole revisions until the log is at most half its bounds. */
static void log_trim(struct gr__etcd *e)
{
	if (e->log_n <= LOG_MAX_EVENTS && e->log_bytes <= LOG_MAX_BYTES)
		return;
	size_t k = 0;
	while (k < e->log_n && (e->log_n - k > LOG_MAX_EVENTS / 2 || e->log_bytes > LOG_MAX_BYTES / 2)) {
		e->log_bytes -= kv_bytes(&e->log[k].kv);
		gr_kv_clear(&e->log[k].kv);
		k++;
	}
	while (k < e->log_n && k > 0 && e->log[k].kv.mod_revision == e->log[k - 1].kv.mod_revision) {
		e->log_bytes -= kv_bytes(&e->log[k].kv);
		gr_kv_clear(&e->log[k].kv);
		k++;
	}
	memmove(e->log, e->log + k, (e->log_n - k) * sizeof *e->log);
	e->log_n -= k;
	/* every revision has an event: the first kept one starts the log */
	e->log_from = e->log_n ? e->log[0].kv.mod_revision : e->log_hw + 1;
}

/* A stream (re)starts at revision next: the log goes on if it ends just
 * before, else it starts over from there. */
static void log_stream_start(struct gr__etcd *e, int64_t next)
{
	pthread_mutex_lock(&e->log_mu);
	if (!e->log_from || e->log_hw + 1 != next) {
		for (size_t i = 0; i < e->log_n; i++)
			gr_kv_clear(&e->log[i].kv);
		e->log_n = e->log_bytes = 0;
		e->log_from = next;
		e->log_hw = next - 1;
		pthread_cond_broadcast(&e->log_cond);
	}
	pthread_mutex_unlock(&e->log_mu);
}

/* Keep a message's events (moved out of m); etcd never splits a revision
 * over two messages, so the log then holds every revision up to the last. */
static void log_keep(struct gr__etcd *e, struct gr__etcd_watch_msg *m)
{
	pthread_mutex_lock(&e->log_mu);
	if (!e->log_from || m->events[0].kv.mod_revision <= e->log_hw) {
		pthread_mutex_unlock(&e->log_mu); /* not contiguous (cannot happen): keep nothing new */
		return;
	}
	if (e->log_n + m->n > e->log_cap) {
		while (e->log_n + m->n > e->log_cap)
			e->log_cap = e->log_cap ? e->log_cap * 2 : 256;
		e->log = xrealloc(e->log, e->log_cap * sizeof *e->log);
	}
	for (size_t i = 0; i < m->n; i++) {
		e->log[e->log_n++] = m->events[i];
		e->log_bytes += kv_bytes(&m->events[i].kv);
		memset(&m->events[i].kv, 0, sizeof m->events[i].kv);
	}
	e->log_hw = e->log[e->log_n - 1].kv.mod_revision;
	log_trim(e);
	pthread_cond_broadcast(&e->log_cond);
	pthread_mutex_unlock(&e->log_mu);
}

static int watch_line(void *ud, const char *line, size_t len, gr_error_t *err)
{
	struct watcher *w = ud;
	struct gr__etcd_watch_msg m;
	if (read_watch_msg(line, len, &m, err) < 0)
		return -1;
	int r = 0;
	if (m.canceled) {
		if (m.compact_revision > 0 && m.compact_revision > w->next)
			w->next = m.compact_revision;
		w->compacted = m.compact_revision > 0;
		r = 1;
	} else if (m.n) {
		int64_t last = m.events[m.n - 1].kv.mod_revision;
		if (last >= w->next)
			w->next = last + 1;
		log_keep(w->e, &m);
		saw(w->e, last);
	}
	gr__etcd_watch_msg_clear(&m);
	return r;
}

static void pause_ms(struct gr__etcd *e, int ms)
{
	if (!atomic_load(&e->watch_stop))
		curl_multi_poll(e->watch_multi, NULL, 0, ms, NULL); /* curl_multi_wakeup ends it early */
}

static void *watch_main(void *arg)
{
	struct gr__etcd *e = arg;
	gr_error_t err = {0};
	CURL *curl = gr__etcd_curl_new(e, &err);
	pthread_mutex_lock(&e->mu);
	struct watcher w = { .e = e, .next = (e->own_rev > e->tick_rev ? e->own_rev : e->tick_rev) + 1 };
	pthread_mutex_unlock(&e->mu);
	int backoff = 100;
	while (curl && !atomic_load(&e->watch_stop)) {
		_cleanup_free_ char *body = gr__etcd_req_watch(gr__etcd_rev_out(w.next));
		bool got = false;
		w.compacted = false;
		log_stream_start(e, w.next);
		int r = gr__etcd_stream(e, curl, e->watch_multi, "/v3/watch", body, 0, &e->watch_stop,
					watch_line, &w, &got, &err);
		if (atomic_load(&e->watch_stop))
			break;
		if (w.compacted) {
			/* Revisions we never saw are gone: subscribers must re-list. */
			pthread_mutex_lock(&e->mu);
			e->external_seen = true;
			pthread_mutex_unlock(&e->mu);
			e->wake(e->wake_ctx);
			continue;
		}
		if (r == 0 || got)
			backoff = 100;
		pause_ms(e, backoff);
		if (backoff < 2000)
			backoff *= 2;
	}
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

int gr__etcd_watch(void *be, void (*wake)(void *ctx), void *ctx, gr_error_t *err)
{
	struct gr__etcd *e = be;
	if (e->watching)
		return 0;
	e->watch_multi = curl_multi_init();
	if (!e->watch_multi)
		return gr_error_set(err, ENOMEM, "curl_multi_init failed");
	e->wake = wake;
	e->wake_ctx = ctx;
	atomic_store(&e->watch_stop, false);
	int rc = pthread_create(&e->watch_thread, NULL, watch_main, e);
	if (rc) {
		curl_multi_cleanup(e->watch_multi);
		e->watch_multi = NULL;
		errno = rc;
		return gr_error_sys(err, "starting the etcd watch thread");
	}
	e->watching = true;
	return 0;
}

void gr__etcd_watch_stop(struct gr__etcd *e)
{
	if (!e->watching)
		return;
	atomic_store(&e->watch_stop, true);
	curl_multi_wakeup(e->watch_multi);
	pthread_join(e->watch_thread, NULL);
	curl_multi_cleanup(e->watch_multi);
	e->watch_multi = NULL;
	e->watching = false;
}
