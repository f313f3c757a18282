/*
 * etcd.c - the cluster store back-end: struct gr_store_ops on an etcd 3.4
 * cluster through its v3 JSON gateway.  This file owns the URL, the handle and
 * the key-value and lease operations; etcd_watch.c the change feed and the
 * subscriber thread, etcd_http.c the transport, etcd_json.c the wire format.
 *
 *   etcd://host:port[,host:port...][?options]     plain HTTP
 *   etcds://host:port[,...]?cacert=F&cert=F&key=F TLS (cert/key: client certificate)
 *   options: timeout=MS (one request, fail-over included; default 5000),
 *            cacert= cert= key= (also turn TLS on with etcd://),
 *            token=T | user=U&password=P, history=N (revisions kept by tick's
 *            compaction; default 100000, 0 = never), values percent-decoded.
 *
 * The mapping is one-to-one: get/range -> /v3/kv/range, txn -> /v3/kv/txn
 * (compares and ops are etcd's), leases -> /v3/lease/..., compact ->
 * /v3/kv/compaction.  Reads are linearizable (etcd's default).  etcd expires
 * leases itself (its leader, every 500 ms), so tick only compacts and reports
 * other writers; the clock option cannot apply (ENOTSUP).  Where etcd differs
 * from the SQLite back-end: docs/ARCHITECTURE.md, "etcd back-end".
 */
#include "store/etcd-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ETCD_DEFAULT_TIMEOUT_MS 5000
#define ETCD_DEFAULT_HISTORY 100000

/* ---- URL --------------------------------------------------------------------------------- */

static int unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode in place; -1 on a bad escape or an encoded NUL. */
static int pct_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '%') {
			int h = p[1] ? unhex(p[1]) : -1, l = h >= 0 && p[2] ? unhex(p[2]) : -1;
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			*o++ = (char)(h * 16 + l);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return 0;
}

static int check_endpoint(const char *ep, gr_error_t *err)
{
	const char *colon = strrchr(ep, ':');
	if (!colon || colon == ep)
		return gr_error_set(err, EINVAL, "etcd URL: endpoint '%s' is not host:port", ep);
	if (ep[0] == '[' && colon[-1] != ']')
		return gr_error_set(err, EINVAL, "etcd URL: endpoint '%s': IPv6 address needs [brackets]:port", ep);
	for (const char *p = ep; p < colon; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]", *p))
			return gr_error_set(err, EINVAL, "etcd URL: endpoint '%s': bad character '%c' in the host",
					    ep, *p);
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		return gr_error_set(err, EINVAL, "etcd URL: endpoint '%s': port '%s' is not 1..65535", ep,
				    colon + 1);
	return 0;
}

static int set_path(char **dst, const char *name, const char *v, gr_error_t *err)
{
	if (!*v)
		return gr_error_set(err, EINVAL, "etcd URL: %s is empty", name);
	if (access(v, R_OK) < 0)
		return gr_error_sys(err, "etcd URL: %s file %s", name, v);
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

static int parse_location(struct gr__etcd *e, const char *loc, gr_error_t *err)
{
	const char *q = strchr(loc, '?');
	_cleanup_free_ char *hosts = q ? xstrndup(loc, (size_t)(q - loc)) : xstrdup(loc);
	if (!*hosts)
		return gr_error_set(err, EINVAL, "etcd URL: no endpoint (want etcd://host:port[,host:port...])");
	if (strchr(hosts, '/') && strchr(hosts, '/')[1])
		return gr_error_set(err, EINVAL, "etcd URL: '%s': a path is not allowed after the endpoints", hosts);
	char *slash = strchr(hosts, '/');
	if (slash)
		*slash = '\0';
	char *save = NULL;
	for (char *ep = strtok_r(hosts, ",", &save); ep; ep = strtok_r(NULL, ",", &save)) {
		if (check_endpoint(ep, err) < 0)
			return -1;
		if (e->n_endpoints == 64)
			return gr_error_set(err, EINVAL, "etcd URL: more than 64 endpoints");
		e->endpoints = xrealloc(e->endpoints, (e->n_endpoints + 2) * sizeof *e->endpoints);
		e->endpoints[e->n_endpoints++] = xstrdup(ep);
		e->endpoints[e->n_endpoints] = NULL;
	}
	if (!e->n_endpoints)
		return gr_error_set(err, EINVAL, "etcd URL: no endpoint (want etcd://host:port[,host:port...])");
	_cleanup_free_ char *query = q ? xstrdup(q + 1) : NULL;
	save = NULL;
	for (char *kv = query ? strtok_r(query, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return gr_error_set(err, EINVAL, "etcd URL: option '%s' has no value", kv);
		*eq = '\0';
		char *v = eq + 1;
		if (pct_decode(v) < 0)
			return gr_error_set(err, EINVAL, "etcd URL: option %s: bad %%-escape", kv);
		if (!strcmp(kv, "timeout")) {
			char *end;
			long ms = strtol(v, &end, 10);
			if (!*v || *end || ms < 100 || ms > 600000)
				return gr_error_set(err, EINVAL, "etcd URL: timeout '%s' is not 100..600000 ms", v);
			e->timeout_ms = (int)ms;
		} else if (!strcmp(kv, "history")) {
			char *end;
			long long h = strtoll(v, &end, 10);
			if (!*v || *end || h < 0)
				return gr_error_set(err, EINVAL, "etcd URL: history '%s' is not a revision count >= 0", v);
			e->history = h;
		} else if (!strcmp(kv, "cacert") || !strcmp(kv, "cert") || !strcmp(kv, "key")) {
			char **dst = kv[0] == 'c' ? (kv[1] == 'a' ? &e->cacert : &e->cert) : &e->key;
			if (set_path(dst, kv, v, err) < 0)
				return -1;
			e->tls = true;
		} else if (!strcmp(kv, "token")) {
			if (!*v || strpbrk(v, "\r\n"))
				return gr_error_set(err, EINVAL, "etcd URL: token is empty or has a line break");
			free(e->token);
			e->token = xstrdup(v);
			e->static_token = true;
		} else if (!strcmp(kv, "user")) {
			if (!*v)
				return gr_error_set(err, EINVAL, "etcd URL: user is empty");
			free(e->user);
			e->user = xstrdup(v);
		} else if (!strcmp(kv, "password")) {
			free(e->password);
			e->password = xstrdup(v);
		} else {
			return gr_error_set(err, EINVAL, "etcd URL: unknown option '%s' (known: timeout, cacert, cert, "
					    "key, token, user, password, history)", kv);
		}
	}
	if (e->password && !e->user)
		return gr_error_set(err, EINVAL, "etcd URL: password without user");
	if (e->user && e->static_token)
		return gr_error_set(err, EINVAL, "etcd URL: give either token or user/password, not both");
	if (!e->cert != !e->key)
		return gr_error_set(err, EINVAL, "etcd URL: cert and key go together (the client certificate)");
	return 0;
}

/* ---- handle ---------------------------------------------------------------------------- */

static void etcd_close(void *be)
{
	struct gr__etcd *e = be;
	if (!e)
		return;
	gr__etcd_watch_stop(e);
	gr__etcd_curl_pool_free(e);
	free(e->idle);
	gr__etcd_log_free(e);
	pthread_mutex_destroy(&e->log_mu);
	pthread_cond_destroy(&e->log_cond);
	for (size_t i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	free(e->endpoints);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e->user);
	if (e->password)
		memset(e->password, 0, strlen(e->password));
	free(e->password);
	free(e->token);
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->pool_mu);
	free(e);
}

static int etcd_revision(void *be, int64_t *rev, gr_error_t *err);

static int open_common(const char *location, const struct gr_store_options *opts, bool tls,
		       void **be, gr_error_t *err)
{
	if (opts->clock)
		return gr_error_set(err, ENOTSUP, "etcd back-end: lease time is etcd's own; a custom clock "
				    "cannot apply");
	if (gr__etcd_http_init(err) < 0)
		return -1;
	struct gr__etcd *e = xcalloc(1, sizeof *e);
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_init(&e->pool_mu, NULL);
	pthread_mutex_init(&e->log_mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&e->log_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	e->idle = xcalloc(GR__ETCD_IDLE_MAX, sizeof *e->idle);
	e->tls = tls;
	e->timeout_ms = ETCD_DEFAULT_TIMEOUT_MS;
	e->history = ETCD_DEFAULT_HISTORY;
	e->known_compact = 1;
	atomic_init(&e->watch_stop, false);
	if (parse_location(e, location, err) < 0)
		goto fail;
	if (e->user && gr__etcd_authenticate(e, err) < 0)
		goto fail;
	/* One read proves the cluster answers (and the credentials work). */
	if (etcd_revision(e, &e->tick_rev, err) < 0)
		goto fail;
	e->own_rev = e->tick_rev;
	*be = e;
	return 0;
fail:
	etcd_close(e);
	return -1;
}

static int etcd_open(const char *location, const struct gr_store_options *opts, void **be,
		     gr_error_t *err)
{
	return open_common(location, opts, false, be, err);
}

static int etcds_open(const char *location, const struct gr_store_options *opts, void **be,
		      gr_error_t *err)
{
	return open_common(location, opts, true, be, err);
}

void gr__etcd_write_begin(struct gr__etcd *e)
{
	pthread_mutex_lock(&e->mu);
	e->writers++;
	pthread_mutex_unlock(&e->mu);
}

void gr__etcd_write_end(struct gr__etcd *e, int64_t rev, bool changed)
{
	pthread_mutex_lock(&e->mu);
	e->writers--;
	if (changed) {
		e->commits++;
		if (rev > e->own_rev)
			e->own_rev = rev;
	}
	/* The watch thread saw revisions during the writes that were not ours:
	 * decided when the last write in flight ends (until then a revision it
	 * saw may be one of those writes').  A commit of ours wakes the
	 * subscribers anyway, and they read every change since their last. */
	if (!e->writers) {
		if (e->pending_rev > e->own_rev && e->pending_rev > e->woken_rev) {
			e->woken_rev = e->pending_rev;
			e->external_seen = true;
			if (!changed)
				e->commits++; /* the store wakes subscribers when commits moves */
		}
		e->pending_rev = 0;
	}
	pthread_mutex_unlock(&e->mu);
}

/* ---- key-value ------------------------------------------------------------------------- */

static int range_call(struct gr__etcd *e, const char *body, bool keys_only, struct gr_kv_list *out,
		      gr_error_t *err)
{
	struct gr__etcd_buf reply;
	int r = gr__etcd_call(e, NULL, "/v3/kv/range", body, true, &reply, err);
	if (r == 0)
		r = gr__etcd_parse_range(reply.data, reply.len, keys_only, out, err);
	gr__etcd_buf_free(&reply);
	return r;
}

static int etcd_revision(void *be, int64_t *rev, gr_error_t *err)
{
	struct gr__etcd *e = be;
	/* Any range reply carries the revision; a count of one key is the cheapest. */
	json_t *o = json_pack("{s:s, s:b}", "key", "AA==", "count_only", 1);
	char *body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	struct gr__etcd_buf reply;
	int r = gr__etcd_call(e, NULL, "/v3/kv/range", body, true, &reply, err);
	free(body);
	if (r == 0)
		r = gr__etcd_parse_header(reply.data, reply.len, rev, err);
	gr__etcd_buf_free(&reply);
	return r;
}

static int etcd_get(void *be, const char *key, struct gr_kv *out, gr_error_t *err)
{
	struct gr__etcd *e = be;
	_cleanup_free_ char *body = gr__etcd_req_get(key);
	struct gr_kv_list l;
	if (range_call(e, body, false, &l, err) < 0)
		return -1;
	int found = 0;
	if (l.n > 1 || (l.n == 1 && strcmp(l.kvs[0].key, key))) {
		found = gr_error_set(err, EPROTO, "malformed etcd reply: get %s returned %zu keys (first %s)",
				     key, l.n, l.kvs[0].key);
	} else if (l.n == 1) {
		found = 1;
		if (out) {
			*out = l.kvs[0];
			memset(&l.kvs[0], 0, sizeof l.kvs[0]);
		}
	}
	gr_kv_list_clear(&l);
	return found;
}

static int etcd_range(void *be, const struct gr_store_range *r, struct gr_kv_list *out,
		      gr_error_t *err)
{
	struct gr__etcd *e = be;
	const char *prefix = r->prefix ? r->prefix : "";
	_cleanup_free_ char *body = gr__etcd_req_range(prefix, r->start_after, r->limit, r->keys_only);
	if (range_call(e, body, r->keys_only, out, err) < 0)
		return -1;
	for (size_t i = 0; i < out->n; i++) {
		const char *k = out->kvs[i].key;
		if (strncmp(k, prefix, strlen(prefix)) || (r->start_after && strcmp(k, r->start_after) <= 0) ||
		    (r->limit && i >= r->limit)) {
			gr_error_set(err, EPROTO, "malformed etcd reply: range %s returned key %s outside it", prefix, k);
			gr_kv_list_clear(out);
			return -1;
		}
		if (r->keys_only) {
			free(out->kvs[i].value);
			out->kvs[i].value = NULL;
			out->kvs[i].value_len = 0;
		}
	}
	return 0;
}

static int etcd_txn(void *be, const struct gr_store_txn *txn, struct gr_store_txn_result *res,
		    gr_error_t *err)
{
	struct gr__etcd *e = be;
	_cleanup_free_ char *body = gr__etcd_req_txn(txn);
	struct gr__etcd_buf reply;
	gr__etcd_write_begin(e);
	int r = gr__etcd_call(e, NULL, "/v3/kv/txn", body, false, &reply, err);
	if (r == 0)
		r = gr__etcd_parse_txn(reply.data, reply.len, res, err);
	gr__etcd_buf_free(&reply);
	/* The branch that ran changed the store iff it put something or deleted a key. */
	bool changed = false;
	if (r == 0) {
		const struct gr_store_op *ops = res->succeeded ? txn->success : txn->failure;
		size_t n = res->succeeded ? txn->n_success : txn->n_failure;
		changed = res->deleted > 0;
		for (size_t i = 0; i < n; i++)
			changed |= ops[i].type == GR_OP_PUT;
	}
	gr__etcd_write_end(e, r == 0 ? res->revision : 0, changed);
	return r;
}

/* ---- leases ----------------------------------------------------------------------------- */

static char *lease_body(int64_t id, int64_t ttl)
{
	char body[96];
	if (ttl)
		snprintf(body, sizeof body, "{\"TTL\":\"%" PRId64 "\",\"ID\":\"%" PRId64 "\"}", ttl, id);
	else
		snprintf(body, sizeof body, "{\"ID\":\"%" PRId64 "\"}", id);
	return xstrdup(body);
}

static int etcd_lease_grant(void *be, int64_t ttl, int64_t *id, gr_error_t *err)
{
	struct gr__etcd *e = be;
	_cleanup_free_ char *body = lease_body(*id, ttl);
	struct gr__etcd_buf reply;
	int64_t got = 0, granted = 0;
	/* A grant is not idempotent when etcd picks the id: never resent blindly. */
	int r = gr__etcd_call(e, NULL, "/v3/lease/grant", body, false, &reply, err);
	if (r == 0)
		r = gr__etcd_parse_grant(reply.data, reply.len, &got, &granted, err);
	gr__etcd_buf_free(&reply);
	if (r < 0)
		return -1;
	if (*id && got != *id)
		return gr_error_set(err, EPROTO, "malformed etcd reply: lease grant for id %" PRId64
				    " answered id %" PRId64, *id, got);
	*id = got;
	return 0;
}

struct keepalive_ctx {
	int64_t ttl;
	bool seen;
};

static int keepalive_line(void *ud, const char *line, size_t len, gr_error_t *err)
{
	struct keepalive_ctx *k = ud;
	int code;
	char msg[512];
	if (gr__etcd_parse_error(line, len, &code, msg, sizeof msg))
		return gr__etcd_error(code, msg, "lease keepalive", err);
	int64_t granted;
	if (gr__etcd_parse_lease(line, len, true, &k->ttl, &granted, err) < 0)
		return -1;
	k->seen = true;
	return 1;
}

static int etcd_lease_keepalive(void *be, int64_t id, struct gr_store_lease_info *info,
				gr_error_t *err)
{
	struct gr__etcd *e = be;
	_cleanup_free_ char *body = lease_body(id, 0);
	struct keepalive_ctx k = {0};
	if (gr__etcd_stream(e, NULL, NULL, "/v3/lease/keepalive", body, e->timeout_ms, NULL,
			    keepalive_line, &k, NULL, err) < 0)
		return -1;
	if (!k.seen)
		return gr_error_set(err, EPROTO, "malformed etcd reply: lease keepalive %" PRId64
				    ": the stream ended without an answer", id);
	if (k.ttl <= 0)
		return gr_error_set(err, ENOENT, "lease %" PRId64 " not found (expired or revoked)", id);
	info->id = id;
	info->ttl = k.ttl;
	info->remaining_ms = k.ttl * 1000;
	return 0;
}

static int etcd_lease_revoke(void *be, int64_t id, gr_error_t *err)
{
	struct gr__etcd *e = be;
	_cleanup_free_ char *body = lease_body(id, 0);
	struct gr__etcd_buf reply;
	int64_t rev = 0;
	gr__etcd_write_begin(e);
	int r = gr__etcd_call(e, NULL, "/v3/lease/revoke", body, false, &reply, err);
	if (r == 0)
		r = gr__etcd_parse_header(reply.data, reply.len, &rev, err);
	gr__etcd_buf_free(&reply);
	/* Its keys, if it had any, are gone in one revision. */
	gr__etcd_write_end(e, rev, r == 0);
	if (r < 0 && err && err->code == ENOENT)
		gr_error_set(err, ENOENT, "lease %" PRId64 " not found (expired or revoked)", id);
	return r;
}

static int etcd_lease_info(void *be, int64_t id, struct gr_store_lease_info *info, gr_error_t *err)
{
	struct gr__etcd *e = be;
	_cleanup_free_ char *body = lease_body(id, 0);
	struct gr__etcd_buf reply;
	int64_t ttl = 0, granted = 0;
	int r = gr__etcd_call(e, NULL, "/v3/lease/timetolive", body, true, &reply, err);
	if (r == 0)
		r = gr__etcd_parse_lease(reply.data, reply.len, false, &ttl, &granted, err);
	gr__etcd_buf_free(&reply);
	if (r < 0)
		return -1;
	if (ttl < 0 || granted <= 0)
		return gr_error_set(err, ENOENT, "lease %" PRId64 " not found (expired or revoked)", id);
	info->id = id;
	info->ttl = granted;
	info->remaining_ms = ttl * 1000;
	return 0;
}

/* ---- tick, compaction ------------------------------------------------------------------ */

static int etcd_compact(void *be, int64_t rev, gr_error_t *err)
{
	struct gr__etcd *e = be;
	int64_t cur;
	if (etcd_revision(e, &cur, err) < 0)
		return -1;
	if (rev > cur)
		return gr_error_set(err, EINVAL, "compact %" PRId64 ": beyond the current revision %" PRId64, rev,
				    cur);
	pthread_mutex_lock(&e->mu);
	int64_t known = e->known_compact;
	pthread_mutex_unlock(&e->mu);
	if (rev <= known)
		return 0;
	char body[96];
	/* etcd at our rev - 1: keeps our rev whole (etcd-internal.h). */
	snprintf(body, sizeof body, "{\"revision\":\"%" PRId64 "\",\"physical\":false}", rev);
	struct gr__etcd_buf reply;
	int r = gr__etcd_call(e, NULL, "/v3/kv/compaction", body, true, &reply, err);
	gr__etcd_buf_free(&reply);
	if (r < 0) {
		if (!err || err->code != ESTALE)
			return -1;
		gr_error_clear(err); /* compacted further already: a no-op */
	}
	pthread_mutex_lock(&e->mu);
	if (rev > e->known_compact)
		e->known_compact = rev;
	pthread_mutex_unlock(&e->mu);
	return 0;
}

static int etcd_tick(void *be, bool *external, gr_error_t *err)
{
	struct gr__etcd *e = be;
	int64_t rev;
	if (etcd_revision(e, &rev, err) < 0)
		return -1;
	pthread_mutex_lock(&e->mu);
	int64_t seen = e->tick_rev > e->own_rev ? e->tick_rev : e->own_rev;
	*external = rev > seen || e->external_seen;
	e->external_seen = false;
	e->tick_rev = rev;
	int64_t compact = e->known_compact;
	pthread_mutex_unlock(&e->mu);
	if (e->history > 0) {
		int64_t target = rev - e->history + 1, batch = e->history / 100 ? e->history / 100 : 1;
		if (target - compact >= batch && etcd_compact(e, target, err) < 0)
			return gr_error_prefix(err, "automatic compaction");
	}
	return 0; /* etcd expires leases itself: none expired here */
}

static uint64_t etcd_commits(void *be)
{
	struct gr__etcd *e = be;
	pthread_mutex_lock(&e->mu);
	uint64_t n = e->commits;
	pthread_mutex_unlock(&e->mu);
	return n;
}

#define ETCD_OPS(name, opener)                                                       \
	{                                                                            \
		.scheme = name, .open = opener, .close = etcd_close,                 \
		.revision = etcd_revision, .get = etcd_get, .range = etcd_range,     \
		.txn = etcd_txn, .lease_grant = etcd_lease_grant,                    \
		.lease_keepalive = etcd_lease_keepalive,                             \
		.lease_revoke = etcd_lease_revoke, .lease_info = etcd_lease_info,    \
		.tick = etcd_tick, .changes_since = gr__etcd_changes_since,          \
		.compact = etcd_compact, .commits = etcd_commits,                    \
		.watch = gr__etcd_watch, .concurrent = true,                         \
	}

const struct gr_store_ops gr__store_etcd_ops = ETCD_OPS("etcd", etcd_open);
const struct gr_store_ops gr__store_etcds_ops = ETCD_OPS("etcds", etcds_open);
