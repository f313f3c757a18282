/*
 * hosts.c - membership: this daemon's host record and lease, the leader
 * lease, the leader's guarded writes, and the host list the API shows.
 *
 * Keys (control-internal.h):
 *   /gureum/hosts/<name>        the host record: name, address, version,
 *                               capacity, load, started, updated; no lease,
 *                               so it stays when the host goes away
 *                               (the leader adds offline_since then)
 *   /gureum/hosts/<name>/alive  {"lease","granted"} on the host's lease: the
 *                               host is online exactly while this key lives
 *   /gureum/leases/leader       {"host","lease","since"} on the leader's host
 *                               lease, created by a txn comparing it absent
 *
 * Invariants: a name is online on one daemon at a time (the alive key is
 * created by compare-absent, or taken over only from the lease id this state
 * folder saved in host.lease, i.e. our own previous run); a leader write
 * carries a compare on the leader key's mod_revision it won with, so a
 * deposed leader's write fails (gr__leader_txn).  One thread (started by
 * gr__hosts_start) renews the lease, refreshes the record, campaigns and runs
 * the leader's loop; the API's readers only read the store.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"

struct gr__hosts {
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;       /* protects stop and the fields below it */
	pthread_cond_t cond;
	bool stop;
	int64_t lease;              /* this host's lease */
	int64_t leader_rev;         /* mod_revision of our leader key, 0 = not leader */
	char *load_text;            /* load as last written to the record */
};

static char *record_key(const char *name)
{
	return xasprintf("%s%s", GR_KEY_HOSTS, name);
}

static char *alive_key(const char *name)
{
	return xasprintf("%s%s/alive", GR_KEY_HOSTS, name);
}

static char *lease_file(struct gr_control *c)
{
	return xasprintf("%s/host.lease", c->state_dir);
}

/* Instances on host `name` (all, and those running), from the index. */
static void instance_counts(struct gr_control *c, const char *name, size_t *total, size_t *running)
{
	*total = *running = 0;
	char **names = gr__index_names(c);
	for (size_t i = 0; names[i]; i++) {
		struct gr_instance in;
		if (gr__inst_get(c, names[i], &in, NULL) < 0)
			continue;
		if (!strcmp(in.host, name)) {
			++*total;
			if (in.state == GR_ST_RUNNING)
				++*running;
		}
		gr__inst_clear(&in);
	}
	gr_strv_free(names);
}

/* memory in use: MemTotal - MemAvailable (bytes), 0 when unreadable */
static uint64_t memory_used(void)
{
	_cleanup_free_ char *text = NULL;
	if (gr_read_file("/proc/meminfo", 1 << 16, &text, NULL, NULL) < 0)
		return 0;
	unsigned long long total = 0, avail = 0;
	const char *p = strstr(text, "MemTotal:"), *q = strstr(text, "MemAvailable:");
	if (!p || !q || sscanf(p, "MemTotal: %llu", &total) != 1 ||
	    sscanf(q, "MemAvailable: %llu", &avail) != 1 || avail > total)
		return 0;
	return (uint64_t)(total - avail) * 1024;
}

static json_t *load_now(struct gr_control *c)
{
	size_t total, running;
	instance_counts(c, c->hostname, &total, &running);
	double l1 = 0;
	_cleanup_free_ char *la = NULL;
	if (gr_read_file("/proc/loadavg", 4096, &la, NULL, NULL) == 0)
		l1 = strtod(la, NULL);
	/* rounded, so the record is rewritten on real change only */
	uint64_t mem = memory_used() / (16u << 20) * (16u << 20);
	return json_pack("{s:I,s:I,s:f,s:I}", "instances", (json_int_t)total, "instances_running",
			 (json_int_t)running, "cpu_load", (double)(int)(l1 * 10) / 10, "memory_used",
			 (json_int_t)mem);
}

static json_t *record_now(struct gr_control *c, json_t *load)
{
	struct sysinfo si;
	uint64_t mem = sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	json_t *r = json_pack("{s:s,s:s,s:{s:I,s:I},s:f,s:f,s:I,s:I}", "name", c->hostname, "version",
			      c->host_version ? c->host_version : "", "capacity", "cores",
			      (json_int_t)(cores > 0 ? cores : 1), "memory", (json_int_t)mem, "started",
			      c->started, "updated", gr_wall_s(), "lease", (json_int_t)c->hosts->lease,
			      "ttl", (json_int_t)c->host_ttl);
	json_object_set_new(r, "address", c->host_address ? json_string(c->host_address) : json_null());
	json_object_set(r, "load", load);
	if (c->peer) /* the peer channel's address and identity (api/peer.h, distrib.c) */
		json_object_set(r, "peer", c->peer);
	return r;
}

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

/* ---- registration ---- */

static int64_t saved_lease(struct gr_control *c)
{
	_cleanup_free_ char *path = lease_file(c), *text = NULL;
	if (gr_read_file(path, 64, &text, NULL, NULL) < 0)
		return 0;
	return strtoll(text, NULL, 10);
}

static int save_lease(struct gr_control *c, int64_t id, gr_error_t *err)
{
	_cleanup_free_ char *path = lease_file(c), *text = xasprintf("%" PRId64 "\n", id);
	return gr_write_file_atomic(path, text, strlen(text), 0600, err);
}

int gr__hosts_register(struct gr_control *c, gr_error_t *err)
{
	struct gr__hosts *h = xcalloc(1, sizeof *h);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	c->hosts = h;
	c->started = gr_wall_s();
	if (gr_name_valid("host name", c->hostname, err) < 0) {
		gr_error_prefix(err, "--host-name");
		return -1;
	}
	int64_t ttl = c->host_ttl, old = saved_lease(c);
	h->lease = 0;
	if (gr_store_lease_grant(c->store, ttl, &h->lease, err) < 0) {
		gr_error_prefix(err, "host lease");
		return -1;
	}
	_cleanup_free_ char *akey = alive_key(c->hostname), *rkey = record_key(c->hostname);
	json_t *load = load_now(c);
	json_t *rec = record_now(c, load);
	json_t *alive = json_pack("{s:I,s:f}", "lease", (json_int_t)h->lease, "granted", gr_wall_s());
	_cleanup_free_ char *rtext = dump(rec), *atext = dump(alive);
	h->load_text = dump(load);
	json_decref(rec);
	json_decref(alive);
	json_decref(load);
	const struct gr_store_op ops[] = {
		{ .type = GR_OP_PUT, .key = akey, .value = atext, .value_len = strlen(atext), .lease = h->lease },
		{ .type = GR_OP_PUT, .key = rkey, .value = rtext, .value_len = strlen(rtext) },
	};
	/* absent: ours.  Held by the lease our previous run saved: ours too (a
	 * restart after a crash, before that lease lapsed). */
	struct gr_store_cmp absent = { .key = akey, .target = GR_CMP_VERSION, .op = GR_CMP_EQUAL, .number = 0 };
	struct gr_store_cmp mine = { .key = akey, .target = GR_CMP_LEASE, .op = GR_CMP_EQUAL, .number = old };
	struct gr_store_txn_result res;
	for (int k = 0; k < 2; k++) {
		if (k == 1 && !old)
			break;
		struct gr_store_txn t = { .cmps = k ? &mine : &absent, .n_cmps = 1, .success = ops, .n_success = 2 };
		if (gr_store_txn(c->store, &t, &res, err) < 0) {
			gr_error_prefix(err, "registering host '%s'", c->hostname);
			goto fail;
		}
		if (res.succeeded)
			break;
	}
	if (!res.succeeded) {
		struct gr_kv kv = { 0 };
		struct gr_store_lease_info li = { 0 };
		int64_t other = 0;
		if (gr_store_get(c->store, akey, &kv, NULL) == 1)
			other = kv.lease;
		gr_kv_clear(&kv);
		if (other)
			gr_store_lease_info(c->store, other, &li, NULL);
		gr_error_set(err, EEXIST,
			     "host name '%s' is already online: another gureumd holds it (lease %" PRId64
			     ", %" PRId64 " s left); give this daemon another --host-name, or stop the other "
			     "one and wait until its lease lapses",
			     c->hostname, other, li.remaining_ms / 1000);
		goto fail;
	}
	if (old && old != h->lease) /* our previous run's lease: what it still holds (a leader key) goes */
		gr_store_lease_revoke(c->store, old, NULL);
	if (save_lease(c, h->lease, err) < 0)
		goto fail;
	gr_log_info("host %s online (lease %" PRId64 ", ttl %d s)", c->hostname, h->lease, c->host_ttl);
	return 0;
fail:
	gr_store_lease_revoke(c->store, h->lease, NULL);
	h->lease = 0;
	return -1;
}

/* ---- the leader ---- */

int gr__leader_txn(struct gr_control *c, const struct gr_store_cmp *cmps, size_t n_cmps,
		   const struct gr_store_op *ops, size_t n_ops, gr_error_t *err)
{
	struct gr__hosts *h = c->hosts;
	pthread_mutex_lock(&h->lock);
	int64_t rev = h->leader_rev;
	pthread_mutex_unlock(&h->lock);
	if (!rev)
		return 0;
	struct gr_store_cmp *all = xcalloc(n_cmps + 1, sizeof *all);
	if (n_cmps)
		memcpy(all, cmps, n_cmps * sizeof *all);
	all[n_cmps] = (struct gr_store_cmp){ .key = GR_KEY_LEADER, .target = GR_CMP_MOD_REVISION,
					     .op = GR_CMP_EQUAL, .number = rev };
	struct gr_store_txn t = { .cmps = all, .n_cmps = n_cmps + 1, .success = ops, .n_success = n_ops };
	struct gr_store_txn_result res;
	int r = gr_store_txn(c->store, &t, &res, err);
	free(all);
	return r < 0 ? -1 : res.succeeded ? 1 : 0;
}

bool gr__is_leader(struct gr_control *c)
{
	pthread_mutex_lock(&c->hosts->lock);
	bool l = c->hosts->leader_rev != 0;
	pthread_mutex_unlock(&c->hosts->lock);
	return l;
}

int64_t gr__hosts_lease(struct gr_control *c)
{
	if (!c->hosts)
		return 0;
	pthread_mutex_lock(&c->hosts->lock);
	int64_t l = c->hosts->lease;
	pthread_mutex_unlock(&c->hosts->lock);
	return l;
}

static void set_leader_rev(struct gr_control *c, int64_t rev)
{
	struct gr__hosts *h = c->hosts;
	pthread_mutex_lock(&h->lock);
	bool was = h->leader_rev != 0;
	h->leader_rev = rev;
	pthread_mutex_unlock(&h->lock);
	if (was != (rev != 0))
		gr_log_info("host %s: %s", c->hostname, rev ? "now the leader" : "no longer the leader");
}

/* Hold or win the leader key. */
static void campaign(struct gr_control *c)
{
	struct gr__hosts *h = c->hosts;
	gr_error_t err;
	struct gr_kv kv = { 0 };
	int r = gr_store_get(c->store, GR_KEY_LEADER, &kv, &err);
	if (r < 0) {
		gr_log_warn("leader key: %s", err.msg);
		return; /* keep what we believe until the store answers */
	}
	if (r == 1) {
		set_leader_rev(c, kv.lease == h->lease ? kv.mod_revision : 0);
		gr_kv_clear(&kv);
		return;
	}
	json_t *doc = json_pack("{s:s,s:I,s:f}", "host", c->hostname, "lease", (json_int_t)h->lease, "since",
				gr_wall_s());
	_cleanup_free_ char *text = dump(doc);
	json_decref(doc);
	struct gr_store_cmp absent = { .key = GR_KEY_LEADER, .target = GR_CMP_VERSION, .op = GR_CMP_EQUAL };
	struct gr_store_op put = { .type = GR_OP_PUT, .key = GR_KEY_LEADER, .value = text,
				   .value_len = strlen(text), .lease = h->lease };
	struct gr_store_txn t = { .cmps = &absent, .n_cmps = 1, .success = &put, .n_success = 1 };
	struct gr_store_txn_result res;
	if (gr_store_txn(c->store, &t, &res, &err) < 0) {
		gr_log_warn("leader campaign: %s", err.msg);
		set_leader_rev(c, 0); /* outcome unknown: the next round reads it back */
		return;
	}
	set_leader_rev(c, res.succeeded ? res.revision : 0);
}

/* The leader's round: hosts whose lease lapsed get offline_since in their
 * record, by a leader-guarded txn that also compares the record. */
static void leader_round(struct gr_control *c)
{
	struct gr_kv_list l = { 0 };
	gr_error_t err;
	if (gr_store_list(c->store, GR_KEY_HOSTS, 0, &l, &err) < 0) {
		gr_log_warn("leader: listing hosts: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.kvs[i].key + strlen(GR_KEY_HOSTS);
		if (strchr(name, '/'))
			continue; /* an alive key */
		_cleanup_free_ char *akey = alive_key(name);
		bool alive = false;
		for (size_t k = 0; k < l.n; k++)
			alive = alive || !strcmp(l.kvs[k].key, akey);
		json_t *rec = json_loads(l.kvs[i].value, 0, NULL);
		if (alive || !json_is_object(rec) || json_object_get(rec, "offline_since")) {
			json_decref(rec);
			continue;
		}
		json_object_set_new(rec, "offline_since", json_real(gr_wall_s()));
		_cleanup_free_ char *text = dump(rec);
		json_decref(rec);
		struct gr_store_cmp cmps[] = {
			{ .key = l.kvs[i].key, .target = GR_CMP_MOD_REVISION, .op = GR_CMP_EQUAL,
			  .number = l.kvs[i].mod_revision },
			{ .key = akey, .target = GR_CMP_VERSION, .op = GR_CMP_EQUAL, .number = 0 },
		};
		struct gr_store_op put = { .type = GR_OP_PUT, .key = l.kvs[i].key, .value = text,
					   .value_len = strlen(text) };
		int r = gr__leader_txn(c, cmps, 2, &put, 1, &err);
		if (r < 0)
			gr_log_warn("leader: marking host %s offline: %s", name, err.msg);
		else if (r > 0)
			gr_log_info("leader: host %s is offline (its lease lapsed)", name);
	}
	gr_kv_list_clear(&l);
}

/* ---- the membership thread ---- */

/* Our lease is gone (we were stopped or cut off longer than the TTL): a new
 * lease and the alive key again, if the name is still free. */
static void rejoin(struct gr_control *c)
{
	struct gr__hosts *h = c->hosts;
	gr_error_t err;
	set_leader_rev(c, 0);
	int64_t id = 0;
	if (gr_store_lease_grant(c->store, c->host_ttl, &id, &err) < 0) {
		gr_log_warn("host lease: %s", err.msg);
		return;
	}
	_cleanup_free_ char *akey = alive_key(c->hostname);
	json_t *alive = json_pack("{s:I,s:f}", "lease", (json_int_t)id, "granted", gr_wall_s());
	_cleanup_free_ char *atext = dump(alive);
	json_decref(alive);
	int r = gr_store_create(c->store, akey, atext, strlen(atext), id, NULL, &err);
	if (r <= 0) {
		gr_log_error("host %s: lease lapsed; taking the name again: %s", c->hostname,
			     r < 0 ? err.msg : "still held (retrying)");
		gr_store_lease_revoke(c->store, id, NULL);
		return;
	}
	pthread_mutex_lock(&h->lock);
	h->lease = id;
	pthread_mutex_unlock(&h->lock);
	free(h->load_text);
	h->load_text = NULL; /* rewrite the record (lease, no offline_since) */
	save_lease(c, id, NULL);
	gr_log_warn("host %s: lease lapsed; online again with lease %" PRId64, c->hostname, id);
}

static void refresh_record(struct gr_control *c)
{
	struct gr__hosts *h = c->hosts;
	if (atomic_load(&c->left_pool))
		return;
	json_t *load = load_now(c);
	char *text = dump(load);
	if (h->load_text && !strcmp(text, h->load_text)) {
		free(text);
		json_decref(load);
		return;
	}
	json_t *rec = record_now(c, load);
	_cleanup_free_ char *key = record_key(c->hostname);
	gr_error_t err;
	if (gr_store_put_json(c->store, key, rec, 0, NULL, &err) < 0) {
		gr_log_warn("host record: %s", err.msg);
		free(text);
	} else {
		free(h->load_text);
		h->load_text = text;
	}
	json_decref(rec);
	json_decref(load);
}

static void *hosts_main(void *p)
{
	struct gr_control *c = p;
	struct gr__hosts *h = c->hosts;
	/* renew at a third of the TTL at most, and look at the leader key at
	 * least every second: a lapsed leader is replaced within about 1 s */
	int period_ms = c->host_ttl * 1000 / 3;
	if (period_ms > 1000)
		period_ms = 1000;
	if (period_ms < 500)
		period_ms = 500;
	for (;;) {
		gr_error_t err;
		struct gr_store_lease_info li;
		if (gr_store_lease_keepalive(c->store, h->lease, &li, &err) < 0) {
			if (err.code == ENOENT)
				rejoin(c);
			else
				gr_log_warn("host lease renewal: %s", err.msg);
		} else {
			campaign(c);
			if (gr__is_leader(c)) {
				leader_round(c);
				if (c->leader_work)
					c->leader_work(c);
			}
			refresh_record(c);
		}
		struct timespec until = gr__deadline_ms(period_ms);
		pthread_mutex_lock(&h->lock);
		while (!h->stop && pthread_cond_timedwait(&h->cond, &h->lock, &until) != ETIMEDOUT)
			;
		bool stop = h->stop;
		pthread_mutex_unlock(&h->lock);
		if (stop)
			break;
	}
	return NULL;
}

int gr__hosts_start(struct gr_control *c, gr_error_t *err)
{
	campaign(c); /* a lone daemon is the leader before it serves */
	if (pthread_create(&c->hosts->thread, NULL, hosts_main, c))
		return gr_error_set(err, EAGAIN, "cannot start the membership thread");
	c->hosts->running = true;
	return 0;
}

void gr__hosts_stop(struct gr_control *c)
{
	struct gr__hosts *h = c->hosts;
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	if (h->running)
		pthread_join(h->thread, NULL);
	/* a clean stop: offline at once, and the leader key (on the same lease)
	 * goes, so another daemon takes over without waiting for the TTL */
	if (h->lease && c->store)
		gr_store_lease_revoke(c->store, h->lease, NULL);
	free(h->load_text);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
	c->hosts = NULL;
}

/* ---- the host list ---- */

/* The record of kvs[i] as the API shows it: state, leader, lease, instances. */
static json_t *host_view(struct gr_control *c, const struct gr_kv_list *l, size_t i,
			 const char *leader, double now)
{
	json_t *rec = json_loads(l->kvs[i].value, 0, NULL);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return NULL;
	}
	const char *name = l->kvs[i].key + strlen(GR_KEY_HOSTS);
	_cleanup_free_ char *akey = alive_key(name);
	const struct gr_kv *alive = NULL;
	for (size_t k = 0; k < l->n; k++)
		if (!strcmp(l->kvs[k].key, akey))
			alive = &l->kvs[k];
	json_object_set_new(rec, "state", json_string(alive ? "online" : "offline"));
	json_object_set_new(rec, "leader", json_boolean(leader && !strcmp(leader, name)));
	json_object_del(rec, "lease");
	if (alive) {
		json_t *a = json_loads(alive->value, 0, NULL);
		double granted = json_number_value(json_object_get(a, "granted"));
		struct gr_store_lease_info li;
		json_t *lease = json_pack("{s:I,s:f}", "id", (json_int_t)alive->lease, "age",
					  granted > 0 && now > granted ? now - granted : 0.0);
		if (gr_store_lease_info(c->store, alive->lease, &li, NULL) == 0) {
			json_object_set_new(lease, "ttl", json_integer(li.ttl));
			json_object_set_new(lease, "remaining_ms", json_integer(li.remaining_ms));
		}
		json_object_set_new(rec, "lease", lease);
		json_object_del(rec, "offline_since");
		json_decref(a);
	} else {
		json_object_set_new(rec, "lease", json_null());
		if (!json_object_get(rec, "offline_since"))
			json_object_set_new(rec, "offline_since", json_null());
	}
	size_t total, running;
	instance_counts(c, name, &total, &running);
	json_object_set_new(rec, "instances", json_integer((json_int_t)total));
	return rec;
}

static int host_views(struct gr_control *c, const char *only, json_t **out, gr_error_t *err)
{
	struct gr_kv_list l = { 0 };
	if (gr_store_list(c->store, GR_KEY_HOSTS, 0, &l, err) < 0)
		return -1;
	char *leader = NULL;
	struct gr_kv kv = { 0 };
	if (gr_store_get(c->store, GR_KEY_LEADER, &kv, NULL) == 1) {
		json_t *d = json_loads(kv.value, 0, NULL);
		const char *s = json_string_value(json_object_get(d, "host"));
		leader = s ? xstrdup(s) : NULL;
		json_decref(d);
	}
	gr_kv_clear(&kv);
	double now = gr_wall_s();
	json_t *arr = json_array();
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.kvs[i].key + strlen(GR_KEY_HOSTS);
		if (strchr(name, '/') || (only && strcmp(only, name)))
			continue;
		json_t *v = host_view(c, &l, i, leader, now);
		if (v)
			json_array_append_new(arr, v);
	}
	free(leader);
	gr_kv_list_clear(&l);
	*out = arr;
	return 0;
}

int gr_control_host_list(struct gr_control *c, json_t **out, gr_error_t *err)
{
	json_t *arr;
	if (host_views(c, NULL, &arr, err) < 0)
		return -1;
	*out = json_pack("{s:o}", "hosts", arr);
	return 0;
}

int gr_control_host_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err)
{
	if (gr_name_valid("host name", name, err) < 0)
		return -1;
	json_t *arr;
	if (host_views(c, name, &arr, err) < 0)
		return -1;
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return gr_error_set(err, ENOENT, "host '%s' not found", name);
	}
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}

/* ---- for routing and placement ---- */

int gr__hosts_for_placement(struct gr_control *c, struct gr__place_host **out, size_t *n,
			    gr_error_t *err)
{
	struct gr_kv_list l = { 0 };
	if (gr_store_list(c->store, GR_KEY_HOSTS, 0, &l, err) < 0)
		return gr_error_prefix(err, "reading the host records");
	struct gr__place_host *hs = xcalloc(l.n + 1, sizeof *hs);
	size_t k = 0;
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.kvs[i].key + strlen(GR_KEY_HOSTS);
		if (strchr(name, '/'))
			continue;
		json_t *rec = json_loads(l.kvs[i].value, 0, NULL);
		json_t *cap = json_object_get(rec, "capacity");
		_cleanup_free_ char *akey = alive_key(name);
		bool alive = false;
		for (size_t j = 0; j < l.n; j++)
			alive = alive || !strcmp(l.kvs[j].key, akey);
		json_int_t cores = json_integer_value(json_object_get(cap, "cores"));
		json_int_t mem = json_integer_value(json_object_get(cap, "memory"));
		hs[k++] = (struct gr__place_host){ .name = xstrdup(name), .online = alive,
						   .cores = cores > 0 ? (uint32_t)cores : 1,
						   .mem_mib = mem > 0 ? (uint64_t)mem >> 20 : 1 };
		json_decref(rec);
	}
	gr_kv_list_clear(&l);
	*out = hs;
	*n = k;
	return 0;
}

void gr__place_hosts_free(struct gr__place_host *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++)
		free((char *)h[i].name);
	free(h);
}
