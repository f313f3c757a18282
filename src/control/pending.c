/*
 * pending.c - instances queued until a host has room: the record a refused
 * `launch|create --queue` leaves, the leader's placement of them, and the
 * chosen host's claim.
 *
 * Life of a queued instance (one record, /gureum/instances/<name>):
 *
 *   1. queue (any daemon, gr__pending_queue): the pool's policy refused
 *      every host; the record is written with state "pending", host null and
 *      "pending": {"request" (the create body), "start" (launch or create),
 *      "queued" (epoch s), "reasons" (the scheduler's refusal, per host),
 *      "refused_by" (hosts that could not define it, see 3), and once one
 *      did, "last_error" (its message)}.  Nothing is
 *      done on any host.
 *   2. assign (the leader, gr__pending_round, from its round in hosts.c):
 *      oldest first (created, then create_revision), the same policy and
 *      src/sched functions a launch takes (gr__index_choose) pick a host;
 *      the record is rewritten with host = that host, still "pending", by a
 *      gr__leader_txn that also compares the record's mod_revision.  A
 *      deposed leader's write fails; a leader that dies after it leaves
 *      nothing to redo (the record says where it goes).  A refusal only
 *      refreshes "reasons" when they changed.  An assignment to a host that
 *      went offline before claiming is taken back (host null again).
 *   3. claim (the chosen host's request thread, gr__pending_claims): a
 *      pending record naming this host is created through the same local
 *      function a direct call takes (gr__instance_create_claim), whose first
 *      write replaces the pending record by the "defining" one comparing its
 *      mod_revision: that swap is the claim, so the instance is made at most
 *      once, and a daemon restarted before it finds the record still pending
 *      and claims it then (not lost).  A host that cannot even start the
 *      create (e.g. the image is missing there: nothing written) gives the
 *      instance back: host null, reasons naming it, and its name in
 *      "refused_by", which the leader treats as down for this instance.
 *
 * The placer counts a pending instance with a host on that host (place.c),
 * so the leader's next choice sees the room taken before the claim.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sched/sched.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

static char *inst_key(const char *name)
{
	return xasprintf("%s%s", GR_KEY_INSTANCES, name);
}

/* ---- 1. queue ---- */

int gr__pending_queue(struct gr_control *c, json_t *req, bool start, const char *reasons,
		      json_t **out, gr_error_t *err)
{
	struct gr_instance in;
	const char *cls, *type;
	if (gr__inst_from_request(req, &in, &cls, &type, err) < 0)
		return -1;
	int r = -1;
	/* bigger than any host: waiting would never end */
	if (gr__index_check_fits(c, &in, err) < 0)
		goto out;
	in.state = GR_ST_PENDING;
	in.host[0] = '\0';
	snprintf(in.backend_reason, sizeof in.backend_reason,
		 "not chosen yet: the host that defines it chooses");
	in.pending = json_pack("{s:O,s:b,s:f,s:s,s:[]}", "request", req, "start", start, "queued",
			       gr_wall_s(), "reasons", reasons, "refused_by");
	char name[GR_INST_NAME_MAX];
	memcpy(name, in.name, sizeof name);
	gr__lock_name(c, name);
	r = gr__inst_create(c, &in, err);
	gr__unlock_name(c, name);
	if (r == 0) {
		gr_log_info("%s %s queued (pending): %s", start ? "launch" : "create", name, reasons);
		if (out)
			r = gr_control_instance_get(c, name, out, err);
	}
out:
	gr__inst_clear(&in);
	return r;
}

/* ---- 2. the leader's assignment ---- */

struct queued {
	char name[GR_INST_NAME_MAX];
	int64_t created, create_revision;
};

static int oldest_first(const void *a, const void *b)
{
	const struct queued *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	if (x->create_revision != y->create_revision)
		return x->create_revision < y->create_revision ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Rewrite the pending record as in (host, pending) by a leader txn comparing
 * its mod_revision.  1 written / 0 not (changed, or not the leader) / -1. */
static int leader_write(struct gr_control *c, struct gr_instance *in, gr_error_t *err)
{
	_cleanup_free_ char *key = inst_key(in->name);
	in->updated = (int64_t)time(NULL);
	size_t len;
	_cleanup_free_ char *text = gr__inst_encode(in, &len);
	struct gr_store_cmp cmp = { .key = key, .target = GR_CMP_MOD_REVISION, .op = GR_CMP_EQUAL,
				    .number = in->mod_revision };
	struct gr_store_op put = { .type = GR_OP_PUT, .key = key, .value = text, .value_len = len };
	return gr__leader_txn(c, &cmp, 1, &put, 1, err);
}

/* One pending instance: 1 assigned, 0 left waiting. */
static int assign_one(struct gr_control *c, const struct gr_sched_policy_ops *pol,
		      struct gr__place_host *hs, size_t n, struct gr_instance *in)
{
	gr_error_t err;
	if (in->host[0]) {
		/* assigned earlier (by us or a leader before us): the host claims it,
		 * unless it went offline meanwhile, then it is placed again */
		for (size_t i = 0; i < n; i++)
			if (!strcmp(hs[i].name, in->host) && hs[i].online)
				return 0;
		char was[GR_INST_HOST_MAX];
		snprintf(was, sizeof was, "%s", in->host);
		in->host[0] = '\0';
		json_t *why = json_sprintf("host %s went offline before taking it", was);
		json_object_set_new(in->pending, "reasons", why);
		if (leader_write(c, in, &err) > 0)
			gr_log_info("leader: pending %s taken back from offline host %s", in->name, was);
		gr__index_retrack(c, in->name);
		return 0;
	}
	/* hosts that could not define it count as down for it */
	char host[GR_INST_HOST_MAX];
	int r = gr__index_choose_except(c, pol, hs, n, json_object_get(in->pending, "refused_by"), in,
					host, sizeof host, &err);
	if (r < 0) {
		const char *old = json_string_value(json_object_get(in->pending, "reasons"));
		char why[2048];
		gr__index_why(c, in, why, sizeof why);
		_cleanup_free_ char *text = xasprintf("%s; per host: %s", err.msg, why);
		if (err.code != EAGAIN)
			gr_log_warn("leader: placing pending %s: %s", in->name, err.msg);
		else if (!old || strcmp(old, text)) {
			json_object_set_new(in->pending, "reasons", json_string(text));
			if (leader_write(c, in, &err) < 0)
				gr_log_warn("leader: pending %s: %s", in->name, err.msg);
		}
		return 0;
	}
	snprintf(in->host, sizeof in->host, "%s", host);
	json_object_set_new(in->pending, "assigned", json_real(gr_wall_s()));
	json_object_set_new(in->pending, "reasons", json_sprintf("assigned to host %s", host));
	r = leader_write(c, in, &err);
	if (r < 0)
		gr_log_warn("leader: assigning pending %s to %s: %s", in->name, host, err.msg);
	else if (r == 0)
		gr_log_info("leader: pending %s changed, or this host no longer leads: not assigned",
			    in->name);
	else
		gr_log_info("leader: pending %s assigned to host %s", in->name, host);
	if (r <= 0)
		gr__index_retrack(c, in->name); /* the reservation no record backs */
	return r > 0;
}

void gr__pending_round(struct gr_control *c)
{
	gr__index_feed(c); /* every record up to now: the oldest are first */
	char **names = gr__index_names(c);
	struct queued *q = NULL;
	size_t nq = 0;
	for (size_t i = 0; names[i]; i++) {
		struct gr_instance in;
		if (gr__inst_get(c, names[i], &in, NULL) < 0)
			continue;
		if (in.state == GR_ST_PENDING) {
			q = xrealloc(q, (nq + 1) * sizeof *q);
			memcpy(q[nq].name, in.name, sizeof q[nq].name);
			q[nq].created = in.created;
			q[nq].create_revision = in.create_revision;
			nq++;
		}
		gr__inst_clear(&in);
	}
	gr_strv_free(names);
	if (!nq)
		return;
	qsort(q, nq, sizeof *q, oldest_first);
	struct gr__place_host *hs = NULL;
	size_t n = 0;
	const struct gr_sched_policy_ops *pol;
	gr_error_t err;
	if (gr__hosts_for_placement(c, &hs, &n, &err) < 0 || gr__cluster_policy(c, &pol, &err) < 0) {
		gr_log_warn("leader: pending instances: %s", err.msg);
		goto out;
	}
	for (size_t i = 0; i < nq && gr__is_leader(c) && !atomic_load(&c->closing); i++) {
		struct gr_instance in;
		if (gr__inst_get(c, q[i].name, &in, NULL) < 0)
			continue;
		if (in.state == GR_ST_PENDING)
			assign_one(c, pol, hs, n, &in);
		gr__inst_clear(&in);
	}
out:
	gr__place_hosts_free(hs, n);
	free(q);
}

/* ---- 3. the chosen host's claim ---- */

/* Nothing was written (the create failed before its first write): give it
 * back to the leader, naming why and this host. */
static void give_back(struct gr_control *c, struct gr_instance *in, const char *why)
{
	json_t *rb = json_object_get(in->pending, "refused_by");
	if (!json_is_array(rb)) {
		rb = json_array();
		json_object_set_new(in->pending, "refused_by", rb);
	}
	size_t i;
	json_t *v;
	bool listed = false;
	json_array_foreach(rb, i, v)
		listed = listed || (json_is_string(v) && !strcmp(json_string_value(v), c->hostname));
	if (!listed)
		json_array_append_new(rb, json_string(c->hostname));
	json_object_set_new(in->pending, "reasons", json_sprintf("host %s: %s", c->hostname, why));
	/* reasons is rewritten by the leader's next refusal; this stays */
	json_object_set_new(in->pending, "last_error", json_sprintf("host %s: %s", c->hostname, why));
	json_object_del(in->pending, "assigned");
	in->host[0] = '\0';
	in->updated = (int64_t)time(NULL);
	_cleanup_free_ char *key = inst_key(in->name);
	size_t len;
	_cleanup_free_ char *text = gr__inst_encode(in, &len);
	gr_error_t err;
	int r = gr_store_put_if(c->store, key, text, len, 0, in->mod_revision, NULL, &err);
	if (r < 0)
		gr_log_warn("pending %s: giving it back: %s", in->name, err.msg);
	gr__index_feed(c);
	gr__index_retrack(c, in->name);
}

static void claim_one(struct gr_control *c, struct gr_instance *in)
{
	json_t *req = json_incref(json_object_get(in->pending, "request"));
	bool start = json_is_true(json_object_get(in->pending, "start"));
	gr_error_t err;
	gr_log_info("pending %s: assigned to this host; %s", in->name,
		    start ? "defining and starting it" : "defining it");
	int r = gr__instance_create_claim(c, req, start, in->mod_revision, NULL, &err);
	json_decref(req);
	if (r == 0) {
		gr_log_info("pending %s: %s here", in->name, start ? "running" : "defined");
		return;
	}
	if (err.code == EALREADY) {
		gr_log_info("pending %s: %s", in->name, err.msg);
		return;
	}
	struct gr_instance now = { 0 };
	gr_error_t e2;
	if (gr__inst_get(c, in->name, &now, &e2) == 0 && now.state == GR_ST_PENDING &&
	    now.mod_revision == in->mod_revision) {
		gr_log_warn("pending %s: cannot create it here, given back: %s", in->name, err.msg);
		give_back(c, &now, err.msg);
	} else {
		/* claimed: what a direct call would have left (a launch that did
		 * not start stays defined/stopped with its error) */
		gr_log_warn("pending %s: %s", in->name, err.msg);
	}
	gr__inst_clear(&now);
}

void gr__pending_claims(struct gr_control *c)
{
	gr__index_feed(c); /* the leader's assignment may be the change that woke us */
	char **names = gr__index_names(c);
	for (size_t i = 0; names[i] && !atomic_load(&c->closing); i++) {
		struct gr_instance in;
		if (gr__inst_get(c, names[i], &in, NULL) < 0)
			continue;
		if (in.state == GR_ST_PENDING && !strcmp(in.host, c->hostname))
			claim_one(c, &in);
		gr__inst_clear(&in);
	}
	gr_strv_free(names);
}
