/*
 * route.c - per-instance calls for an instance another pool member holds,
 * and the pool's choice of a host for a new instance.
 *
 * When the owner publishes a peer address (it runs --peer-listen) the API
 * forwards per-instance calls to it over the peer channel (api/forward.c asks
 * gr_control_instance_owner who that is) and a create placed there goes
 * through the daemon's peer_create hook (forward_create); control never links
 * the channel.  Otherwise the store is the shared, trusted channel: a call
 * (start/stop/restart/kill, delete, config, create/launch) whose instance's
 * record names another pool member as its `host` becomes a request record
 *
 *   /gureum/requests/<owner>/<id> = {"op","name","args","from","created",
 *                                    "state":"new"}
 *
 * put on the requester's host lease (a requester that dies takes its
 * requests with it).  The owner's request thread sees it (a store subscriber
 * fd, and a 1 s fallback poll), claims it with a transaction comparing the
 * record's mod_revision (state "claimed", by and run = the owner's start
 * time; exactly one claim can win, so a request is acted on at most once),
 * runs it on a worker thread through the same local calls (name locks
 * included) a call sent to the owner would take, and writes the result
 * (state "done", ok, code, message, instance) comparing the claim's
 * mod_revision.  The requester waits for "done" (subscriber fd, bounded by
 * GUREUM_ROUTE_TIMEOUT seconds, default 60), deletes the request and answers
 * as the owner did.  An owner that is offline refuses at once (EHOSTDOWN,
 * nothing written); one that goes offline or does not claim within the
 * timeout has the unclaimed request withdrawn (nothing was changed); a
 * claimed one that times out says the outcome is unknown.  A request the
 * owner claimed in a previous run (it crashed meanwhile) is answered with an
 * error naming that, never run again.
 *
 * A call for this host's instance (or one with no host, or a host name with
 * no record: this machine renamed) runs here, as before: on SQLite with one
 * host nothing is ever written under /gureum/requests/.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "sched/sched.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#define GR_ROUTE_TIMEOUT_S 60

static int route_timeout(void)
{
	const char *e = getenv("GUREUM_ROUTE_TIMEOUT");
	int t = e ? atoi(e) : 0;
	return t > 0 && t <= 3600 ? t : GR_ROUTE_TIMEOUT_S;
}

static void when_text(double t, char *buf, size_t len)
{
	if (t <= 0) {
		snprintf(buf, len, "a moment ago");
		return;
	}
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* 0 when host is online; EHOSTDOWN naming it (and since when) otherwise. */
static int need_online(struct gr_control *c, const char *host, const char *what, gr_error_t *err)
{
	bool online = false;
	double since = 0;
	int r = gr__host_state(c, host, &online, &since, err);
	if (r < 0)
		return gr_error_prefix(err, "host %s", host);
	if (r == 0)
		return gr_error_set(err, ENOENT, "host '%s' not found (see gureum host list)", host);
	if (online)
		return 0;
	char when[64];
	when_text(since, when, sizeof when);
	return gr_error_set(err, EHOSTDOWN, "%s host %s, which is offline (since %s); nothing was "
			    "changed", what, host, when);
}

/* ---- the requester ---- */

static char *request_key(const char *host, const char *id)
{
	return xasprintf("%s%s/%s", GR_KEY_REQUESTS, host, id);
}

/* Take the owner's answer out of a done request. */
static int take_result(json_t *doc, const char *host, bool prefix, json_t **out, gr_error_t *err)
{
	json_t *inst = json_object_get(doc, "instance");
	if (out && json_is_object(inst))
		*out = json_incref(inst);
	if (json_is_true(json_object_get(doc, "ok")))
		return 0;
	int code = (int)json_integer_value(json_object_get(doc, "code"));
	const char *msg = json_string_value(json_object_get(doc, "message"));
	if (prefix)
		return gr_error_set(err, code > 0 ? code : EIO, "host %s: %s", host, msg ? msg : "failed");
	return gr_error_set(err, code > 0 ? code : EIO, "%s", msg ? msg : "failed on the owner host");
}

/* Send op for name to host's daemon and wait for its answer.  prefix: the
 * owner's error is prefixed with its name (a create: the image may be
 * missing there). */
static int route_call(struct gr_control *c, const char *host, const char *op, const char *name,
		      json_t *args, bool prefix, json_t **out, gr_error_t *err)
{
	char what[512];
	snprintf(what, sizeof what, "instance '%s' is on", name);
	if (!strcmp(op, "create"))
		snprintf(what, sizeof what, "instance '%s' was to be placed on", name);
	if (need_online(c, host, what, err) < 0)
		return -1;
	uint8_t raw[8];
	if (getrandom(raw, sizeof raw, 0) != sizeof raw)
		return gr_error_sys(err, "getrandom");
	char id[32];
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	_cleanup_free_ char *key = request_key(host, id);
	json_t *doc = json_pack("{s:s,s:s,s:O,s:s,s:f,s:s}", "op", op, "name", name, "args",
				args ? args : json_null(), "from", c->hostname, "created", gr_wall_s(),
				"state", "new");
	int fd = gr_store_subscribe(c->store, err);
	if (fd < 0) {
		json_decref(doc);
		return -1;
	}
	int64_t rev = 0;
	int r = gr_store_put_json_if(c->store, key, doc, gr__hosts_lease(c), 0, &rev, err);
	json_decref(doc);
	if (r <= 0) {
		gr_store_unsubscribe(c->store, fd);
		return r < 0 ? gr_error_prefix(err, "sending the request to host %s", host)
			     : gr_error_set(err, EEXIST, "request %s exists already", key);
	}
	int timeout = route_timeout();
	double deadline = gr_mono_s() + timeout;
	bool claimed = false;
	r = -1;
	for (;;) {
		json_t *cur = NULL;
		int64_t mod = 0;
		gr_error_t e2;
		int g = gr_store_get_json(c->store, key, &cur, &mod, &e2);
		if (g == 0) {
			gr_error_set(err, EIO, "the request to host %s vanished before its answer (this "
				     "host's lease lapsed?); the outcome is unknown: see gureum list", host);
			break;
		}
		if (g > 0) {
			const char *st = json_string_value(json_object_get(cur, "state"));
			claimed = st && strcmp(st, "new");
			if (st && !strcmp(st, "done")) {
				r = take_result(cur, host, prefix, out, err);
				json_decref(cur);
				gr_store_delete_if(c->store, key, mod, NULL, NULL);
				break;
			}
			json_decref(cur);
		}
		double left = deadline - gr_mono_s();
		bool owner_gone = false;
		if (left > 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int ms = left > 1.0 ? 1000 : (int)(left * 1000) + 1;
			if (poll(&p, 1, ms) > 0) {
				gr_store_subscriber_drain(fd);
				continue;
			}
			bool online = true;
			double since;
			if (gr__host_state(c, host, &online, &since, NULL) == 1 && !online)
				owner_gone = true;
			else if (gr_mono_s() < deadline)
				continue;
		}
		/* timed out, or the owner went offline: withdraw it if unclaimed */
		if (!claimed && g > 0 && gr_store_delete_if(c->store, key, mod, NULL, NULL) == 1) {
			gr_error_set(err, owner_gone ? EHOSTDOWN : ETIMEDOUT,
				     "instance '%s': host %s %s; nothing was changed", name, host,
				     owner_gone ? "went offline before taking the request"
						: "did not take the request in time");
			break;
		}
		if (claimed) {
			gr_store_delete(c->store, key, NULL, NULL);
			gr_error_set(err, ETIMEDOUT,
				     "instance '%s': host %s took the request but %s; the outcome is "
				     "unknown (see gureum list)", name, host,
				     owner_gone ? "went offline before answering"
						: "did not answer in time");
			break;
		}
		/* claimed between our read and the delete: wait for its answer */
		if (gr_mono_s() > deadline + 5) {
			gr_store_delete(c->store, key, NULL, NULL);
			gr_error_set(err, ETIMEDOUT, "instance '%s': no answer from host %s", name, host);
			break;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 200) > 0)
			gr_store_subscriber_drain(fd);
	}
	gr_store_unsubscribe(c->store, fd);
	/* the owner's writes came before its answer: the index sees them now */
	gr__index_feed(c);
	return r;
}

/* The instance's owner when it is another pool member, in host (else ""). */
static int owner_of(struct gr_control *c, const char *name, char *host, size_t len,
		    gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	host[0] = '\0';
	if (gr__host_elsewhere(c, in.host))
		snprintf(host, len, "%s", in.host);
	gr__inst_clear(&in);
	return 0;
}

/* host's record's "peer" object when it publishes an address (new reference), else NULL. */
static json_t *peer_of(struct gr_control *c, const char *host)
{
	_cleanup_free_ char *key = xasprintf("%s%s", GR_KEY_HOSTS, host);
	json_t *rec = NULL;
	if (gr_store_get_json(c->store, key, &rec, NULL, NULL) <= 0)
		return NULL;
	json_t *peer = json_object_get(rec, "peer");
	json_t *r = json_is_string(json_object_get(peer, "address")) &&
				    json_is_string(json_object_get(peer, "pin"))
			    ? json_incref(peer)
			    : NULL;
	json_decref(rec);
	return r;
}

int gr_control_instance_owner(struct gr_control *c, const char *name, char *host, size_t len,
			      json_t **peer, gr_error_t *err)
{
	*peer = NULL;
	host[0] = '\0';
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	if (in.host[0] && strcmp(in.host, c->hostname))
		snprintf(host, len, "%s", in.host);
	gr__inst_clear(&in);
	if (!host[0])
		return 0;
	/* the host record once (every forwarded call pays these reads): no record is this
	 * machine under an old name (ours), as gr__host_elsewhere judges */
	_cleanup_free_ char *key = xasprintf("%s%s", GR_KEY_HOSTS, host);
	json_t *rec = NULL;
	int r = gr_store_get_json(c->store, key, &rec, NULL, err);
	if (r < 0)
		return gr_error_prefix(err, "host %s", host);
	if (r == 0) {
		host[0] = '\0';
		return 0;
	}
	json_t *p = json_object_get(rec, "peer");
	if (!json_is_string(json_object_get(p, "address")) || !json_is_string(json_object_get(p, "pin"))) {
		json_decref(rec);
		return 1; /* no channel: the local calls route (request records) or refuse */
	}
	_cleanup_free_ char *akey = xasprintf("%s%s/alive", GR_KEY_HOSTS, host);
	r = gr_store_get(c->store, akey, NULL, err);
	if (r <= 0) {
		double since = json_number_value(json_object_get(rec, "offline_since"));
		json_decref(rec);
		if (r < 0)
			return gr_error_prefix(err, "host %s", host);
		char when[64];
		when_text(since, when, sizeof when);
		return gr_error_set(err, EHOSTDOWN, "instance '%s' is on host %s, which is offline (since "
				    "%s); nothing was changed", name, host, when);
	}
	*peer = json_incref(p);
	json_decref(rec);
	return 1;
}

/* A create placed on host carried out there over the peer channel: as a create with host
 * as its target, which the receiver acts on locally. */
static int forward_create(struct gr_control *c, const char *host, json_t *peer, json_t *local, bool start,
			  json_t **out, gr_error_t *err)
{
	const char *name = json_string_value(json_object_get(local, "name"));
	char what[512];
	snprintf(what, sizeof what, "instance '%s' was to be placed on", name ? name : "");
	if (need_online(c, host, what, err) < 0)
		return -1;
	json_t *req = json_deep_copy(local);
	json_object_set_new(req, "target", json_string(host));
	json_object_set_new(req, "start", json_boolean(start));
	int r = c->peer_create(c->peer_ud, c->hostname, host, peer, req, out, err);
	json_decref(req);
	if (r < 0)
		gr_error_prefix(err, "host %s", host);
	/* the owner's writes came before its answer: the index sees them now */
	gr__index_feed(c);
	return r;
}

int gr_control_instance_action(struct gr_control *c, const char *name, const char *action,
			       json_t *opts, json_t **out, gr_error_t *err)
{
	char host[GR_INST_HOST_MAX];
	if (gr_name_valid("name", name, err) < 0 || owner_of(c, name, host, sizeof host, err) < 0)
		return -1;
	if (!host[0])
		return gr__instance_action(c, name, action, opts, out, err);
	json_t *args = json_pack("{s:s,s:O}", "action", action, "opts", opts ? opts : json_null());
	int r = route_call(c, host, "action", name, args, false, out, err);
	json_decref(args);
	return r;
}

int gr_control_instance_delete(struct gr_control *c, const char *name, bool force, gr_error_t *err)
{
	char host[GR_INST_HOST_MAX];
	if (owner_of(c, name, host, sizeof host, err) < 0)
		return -1;
	if (!host[0])
		return gr__instance_delete(c, name, force, err);
	json_t *args = json_pack("{s:b}", "force", force);
	int r = route_call(c, host, "delete", name, args, false, NULL, err);
	json_decref(args);
	return r;
}

int gr_control_instance_config(struct gr_control *c, const char *name, json_t *changes,
			       json_t **out, gr_error_t *err)
{
	char host[GR_INST_HOST_MAX];
	if (owner_of(c, name, host, sizeof host, err) < 0)
		return -1;
	if (!host[0])
		return gr__instance_config(c, name, changes, out, err);
	json_t *args = json_pack("{s:O}", "changes", changes ? changes : json_null());
	int r = route_call(c, host, "config", name, args, false, out, err);
	json_decref(args);
	return r;
}

/* ---- placement across the pool ---- */

/* Where a new instance goes: target (checked) or the pool policy's choice
 * among the online hosts.  host "" when the pool is this host alone (*pool
 * false: no other host record). */
static int choose_host(struct gr_control *c, json_t *req, const char *target, bool queue,
		       char *host, size_t len, bool *pool, gr_error_t *err)
{
	struct gr__place_host *hs = NULL;
	size_t n = 0;
	if (gr__hosts_for_placement(c, &hs, &n, err) < 0)
		return -1;
	int r = -1;
	bool others = false;
	for (size_t i = 0; i < n; i++)
		others = others || strcmp(hs[i].name, c->hostname);
	*pool = others;
	if (target) {
		if (gr_name_valid("target", target, err) < 0)
			goto out;
		bool found = !strcmp(target, c->hostname);
		for (size_t i = 0; i < n; i++)
			found = found || !strcmp(hs[i].name, target);
		if (!found) {
			gr_error_set(err, ENOENT, "target: no host named '%s' in the pool (see gureum "
				     "host list)", target);
			goto out;
		}
		if (strcmp(target, c->hostname) && need_online(c, target, "target:", err) < 0)
			goto out;
	}
	if (!others && !queue) { /* one host: as before, the start's admission decides */
		host[0] = '\0';
		r = 0;
		goto out;
	}
	struct gr_instance in;
	const char *cls, *type;
	if (gr__inst_from_request(req, &in, &cls, &type, err) < 0)
		goto out;
	const struct gr_sched_policy_ops *pol;
	if (gr__cluster_policy(c, &pol, err) == 0)
		r = gr__index_choose(c, pol, target, hs, n, &in, host, len, err);
	if (r == 0 && !others)
		host[0] = '\0'; /* alone (a --queue that fits): defined here as before */
	if (r < 0 && err && err->code == EAGAIN) { /* refused: what each host has */
		char why[GR_ERROR_MSG_MAX], msg[GR_ERROR_MSG_MAX];
		snprintf(msg, sizeof msg, "%s", err->msg);
		gr__index_why(c, &in, why, sizeof why);
		gr_error_set(err, EAGAIN, "%s; per host: %s", msg, why);
	}
	gr__inst_clear(&in);
out:
	gr__place_hosts_free(hs, n);
	return r;
}

int gr_control_instance_create(struct gr_control *c, json_t *req, bool start, json_t **out,
			       gr_error_t *err)
{
	if (!json_is_object(req))
		return gr_error_set(err, EINVAL, "expected a JSON object");
	json_t *t = json_object_get(req, "target");
	if (t && !json_is_string(t) && !json_is_null(t))
		return gr_error_set(err, EINVAL, "target: expected a host name");
	_cleanup_free_ char *target = json_is_string(t) ? xstrdup(json_string_value(t)) : NULL;
	json_t *q = json_object_get(req, "queue");
	if (q && !json_is_boolean(q) && !json_is_null(q))
		return gr_error_set(err, EINVAL, "queue: expected true or false");
	bool queue = json_is_true(q);
	if (queue && target)
		return gr_error_set(err, EINVAL, "queue: not with target (a queued instance goes "
				    "where the pool's policy places it)");
	json_t *local = json_deep_copy(req);
	json_object_del(local, "target");
	json_object_del(local, "queue");
	char host[GR_INST_HOST_MAX];
	bool pool = false;
	int r = choose_host(c, local, target, queue, host, sizeof host, &pool, err);
	if (r < 0 && queue && err && err->code == EAGAIN) {
		/* every host refused it now: record it pending (pending.c), the
		 * leader places it when one has room */
		char reasons[sizeof err->msg];
		snprintf(reasons, sizeof reasons, "%s", err->msg);
		r = gr__pending_queue(c, local, start, reasons, out, err);
		json_decref(local);
		return r;
	}
	const char *name = json_string_value(json_object_get(local, "name"));
	char nm[GR_INST_NAME_MAX];
	snprintf(nm, sizeof nm, "%s", name ? name : "");
	if (r == 0 && (!host[0] || !strcmp(host, c->hostname))) {
		r = gr__instance_create(c, local, start, pool, out, err);
	} else if (r == 0) {
		json_t *peer = c->peer_create ? peer_of(c, host) : NULL;
		if (peer) {
			r = forward_create(c, host, peer, local, start, out, err);
			json_decref(peer);
		} else {
			json_t *args = json_pack("{s:O,s:b}", "request", local, "start", start);
			r = route_call(c, host, "create", nm, args, true, out, err);
			json_decref(args);
		}
	}
	/* the record is the truth: a reservation none backs (a refused
	 * create, here or on the owner) goes */
	if ((pool || queue) && nm[0])
		gr__index_retrack(c, nm);
	json_decref(local);
	return r;
}

/* ---- the owner ---- */

struct job {
	struct gr_control *c;
	char *key;
	json_t *doc;     /* the claimed request */
	int64_t rev;     /* its mod_revision after the claim */
	int64_t lease;   /* the requester's lease the record is on */
};

static int run_request(struct gr_control *c, json_t *doc, json_t **out, gr_error_t *err)
{
	const char *op = json_string_value(json_object_get(doc, "op"));
	const char *name = json_string_value(json_object_get(doc, "name"));
	json_t *args = json_object_get(doc, "args");
	if (!op || !name)
		return gr_error_set(err, EINVAL, "request: op and name are required");
	if (!strcmp(op, "create")) {
		json_t *req = json_object_get(args, "request");
		if (!json_is_object(req))
			return gr_error_set(err, EINVAL, "request: args.request: expected an object");
		return gr__instance_create(c, req, json_is_true(json_object_get(args, "start")), true,
					   out, err);
	}
	/* the instance must still be ours (not moved meanwhile) */
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	bool elsewhere = gr__host_elsewhere(c, in.host);
	char owner[GR_INST_HOST_MAX];
	snprintf(owner, sizeof owner, "%s", in.host);
	gr__inst_clear(&in);
	if (elsewhere)
		return gr_error_set(err, EREMOTE, "instance '%s' is on host %s now, not on %s", name,
				    owner, c->hostname);
	if (!strcmp(op, "action")) {
		const char *action = json_string_value(json_object_get(args, "action"));
		json_t *opts = json_object_get(args, "opts");
		return gr__instance_action(c, name, action ? action : "", json_is_object(opts) ? opts : NULL,
					   out, err);
	}
	if (!strcmp(op, "delete"))
		return gr__instance_delete(c, name, json_is_true(json_object_get(args, "force")), err);
	if (!strcmp(op, "config"))
		return gr__instance_config(c, name, json_object_get(args, "changes"), out, err);
	return gr_error_set(err, EINVAL, "request: unknown op '%s'", op);
}

static void answer(struct gr_control *c, const char *key, json_t *doc, int64_t rev, int64_t lease,
		   int r, const gr_error_t *e, json_t *inst)
{
	json_object_set_new(doc, "state", json_string("done"));
	json_object_set_new(doc, "ok", json_boolean(r == 0));
	json_object_set_new(doc, "finished", json_real(gr_wall_s()));
	if (r < 0) {
		json_object_set_new(doc, "code", json_integer(e->code));
		json_object_set_new(doc, "message", json_string(e->msg));
	}
	if (inst)
		json_object_set(doc, "instance", inst);
	gr_error_t err;
	int w = gr_store_put_json_if(c->store, key, doc, lease, rev, NULL, &err);
	if (w < 0)
		gr_log_warn("request %s: writing the answer: %s", key, err.msg);
	else if (w == 0)
		gr_log_warn("request %s: its requester went away before the answer", key);
}

static void *job_main(void *p)
{
	struct job *j = p;
	gr_error_t err = { 0 };
	json_t *out = NULL;
	const char *op = json_string_value(json_object_get(j->doc, "op"));
	const char *name = json_string_value(json_object_get(j->doc, "name"));
	const char *from = json_string_value(json_object_get(j->doc, "from"));
	gr_log_info("request from %s: %s %s", from ? from : "?", op ? op : "?", name ? name : "?");
	int r = run_request(j->c, j->doc, &out, &err);
	answer(j->c, j->key, j->doc, j->rev, j->lease, r, &err, out);
	json_decref(out);
	json_decref(j->doc);
	free(j->key);
	free(j);
	return NULL;
}

/* One pass over the requests addressed to this host. */
static void scan(struct gr_control *c)
{
	_cleanup_free_ char *prefix = xasprintf("%s%s/", GR_KEY_REQUESTS, c->hostname);
	struct gr_kv_list l = { 0 };
	gr_error_t err;
	if (gr_store_list(c->store, prefix, 0, &l, &err) < 0) {
		gr_log_warn("requests: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < l.n && !atomic_load(&c->closing); i++) {
		const struct gr_kv *kv = &l.kvs[i];
		json_t *doc = json_loads(kv->value, 0, NULL);
		const char *st = json_string_value(json_object_get(doc, "state"));
		double run = json_number_value(json_object_get(doc, "run"));
		bool fresh = st && !strcmp(st, "new");
		bool orphan = st && !strcmp(st, "claimed") && run != c->started;
		if (!json_is_object(doc) || (!fresh && !orphan)) {
			json_decref(doc);
			continue;
		}
		if (orphan) { /* claimed by our previous run, which died: never run twice */
			gr_error_t e;
			gr_error_set(&e, EIO, "host %s restarted while working on this request; it was not "
				     "retried (see gureum list for the instance's state)", c->hostname);
			answer(c, kv->key, doc, kv->mod_revision, kv->lease, -1, &e, NULL);
			json_decref(doc);
			continue;
		}
		json_object_set_new(doc, "state", json_string("claimed"));
		json_object_set_new(doc, "by", json_string(c->hostname));
		json_object_set_new(doc, "run", json_real(c->started));
		int64_t rev = 0;
		int w = gr_store_put_json_if(c->store, kv->key, doc, kv->lease, kv->mod_revision, &rev,
					     &err);
		if (w <= 0) { /* gone, or changed: not ours to run */
			if (w < 0)
				gr_log_warn("request %s: claiming: %s", kv->key, err.msg);
			json_decref(doc);
			continue;
		}
		struct job *j = xmalloc(sizeof *j);
		*j = (struct job){ c, xstrdup(kv->key), doc, rev, kv->lease };
		gr__spawn(c, job_main, j);
	}
	gr_kv_list_clear(&l);
}

static void *route_main(void *p)
{
	struct gr_control *c = p;
	while (!atomic_load(&c->closing)) {
		scan(c);
		gr__pending_claims(c); /* pending.c: queued instances assigned here */
		struct pollfd pf = { .fd = c->route_fd, .events = POLLIN };
		if (poll(&pf, 1, 500) > 0)
			gr_store_subscriber_drain(c->route_fd);
	}
	return NULL;
}

int gr__route_start(struct gr_control *c, gr_error_t *err)
{
	c->route_fd = gr_store_subscribe(c->store, err);
	if (c->route_fd < 0)
		return -1;
	if (pthread_create(&c->route_thread, NULL, route_main, c)) {
		gr_store_unsubscribe(c->store, c->route_fd);
		c->route_fd = -1;
		return gr_error_set(err, EAGAIN, "cannot start the request thread");
	}
	c->route_running = true;
	return 0;
}

void gr__route_stop(struct gr_control *c)
{
	if (!c->route_running)
		return;
	atomic_store(&c->closing, true);
	pthread_join(c->route_thread, NULL);
	c->route_running = false;
}
