/*
 * netlimit.c - an instance's network rate limits (docs/NETWORK.md):
 *
 *   /gureum/netlimits/<instance>   {"in": bit/s, "out": bit/s}   (0: none)
 *
 * "in" is traffic towards the instance, "out" from it, each a token bucket
 * on the link that direction leaves by (net/limit.c): the host end of each
 * veth (or tap) for "in", eth<i> inside a container's namespace for "out".
 * A VM's "out" would need ingress policing on its tap, which is not built
 * (and this kernel has no tc police action): refused.  A change is applied
 * at once to a running instance of this host, then recorded.  The links
 * are made again at each start, so gr__netlimit_sync (the daemon loop,
 * every 2 s, and at start) puts the buckets back wherever a limited
 * instance's host link is not the one it last limited (a new ifindex: a
 * restart; none known: this daemon just started).  The record goes with
 * the instance (gr__net_release).
 */
#include "control/control-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"
#include "util/log.h"

#define KEY_LIMITS "/gureum/netlimits/"

struct limit {
	uint64_t in, out;
};

/* The host link each limited instance had when its buckets were put on. */
static pthread_mutex_t applied_lock = PTHREAD_MUTEX_INITIALIZER;
static struct applied {
	char name[GR_NET_NAME_MAX];
	int ifindex;
} *applied;
static size_t n_applied;

static struct applied *applied_find(const char *name)
{
	for (size_t i = 0; i < n_applied; i++)
		if (!strcmp(applied[i].name, name))
			return &applied[i];
	return NULL;
}

static void applied_set(const char *name, int ifindex)
{
	pthread_mutex_lock(&applied_lock);
	struct applied *a = applied_find(name);
	if (!a) {
		applied = xrealloc(applied, (n_applied + 1) * sizeof *applied);
		a = &applied[n_applied++];
		snprintf(a->name, sizeof a->name, "%s", name);
	}
	a->ifindex = ifindex;
	pthread_mutex_unlock(&applied_lock);
}

static int applied_get(const char *name)
{
	pthread_mutex_lock(&applied_lock);
	struct applied *a = applied_find(name);
	int r = a ? a->ifindex : 0;
	pthread_mutex_unlock(&applied_lock);
	return r;
}

static int limit_read(struct gr_control *c, const char *name, struct limit *l, gr_error_t *err)
{
	_cleanup_free_ char *k = xasprintf(KEY_LIMITS "%s", name);
	json_t *d = NULL;
	int r = gr_store_get_json(c->store, k, &d, NULL, err);
	if (r < 0)
		return -1;
	*l = (struct limit){ 0 };
	if (r) {
		json_int_t in = json_integer_value(json_object_get(d, "in"));
		json_int_t out = json_integer_value(json_object_get(d, "out"));
		l->in = in > 0 ? (uint64_t)in : 0;
		l->out = out > 0 ? (uint64_t)out : 0;
	}
	json_decref(d);
	return 0;
}

static char *host_link(const struct gr_instance *in, unsigned i, char *buf)
{
	return in->backend == GR_BACKEND_VM ? gr_net_tap_name(in->name, i, buf) : gr_net_host_if(in->name, i, buf);
}

static bool runs_here(struct gr_control *c, const struct gr_instance *in)
{
	return in->state == GR_ST_RUNNING && in->n_nics && (!in->host[0] || !strcmp(in->host, c->hostname));
}

/* Put l on every NIC of in (running here); *ifindex gets NIC 0's host link. */
static int apply(struct gr_control *c, const struct gr_instance *in, const struct limit *l, int *ifindex,
		 gr_error_t *err)
{
	_cleanup_free_ char *ns = xasprintf("%s/netns/%s", c->run_dir, in->name);
	for (unsigned i = 0; i < in->n_nics; i++) {
		char dev[16], eth[16];
		if (gr_net_limit_apply(host_link(in, i, dev), NULL, l->in, err) < 0)
			return gr_error_prefix(err, "net.limit.in");
		if (in->backend == GR_BACKEND_VM)
			continue;
		snprintf(eth, sizeof eth, "eth%u", i);
		if (gr_net_limit_apply(eth, ns, l->out, err) < 0)
			return gr_error_prefix(err, "net.limit.out");
	}
	struct gr_nl nl;
	*ifindex = 0;
	if (gr_nl_open(&nl, -1, NULL) == 0) {
		char dev[16];
		gr_nl_link_index(&nl, host_link(in, 0, dev), ifindex, NULL);
		gr_nl_close(&nl);
	}
	return 0;
}

static json_t *limit_doc(const char *name, const struct limit *l)
{
	char a[24], b[24];
	return json_pack("{s:s,s:o,s:o}", "instance", name, "in",
			 l->in ? json_string(gr_net_rate_format(l->in, a)) : json_null(), "out",
			 l->out ? json_string(gr_net_rate_format(l->out, b)) : json_null());
}

int gr_control_instance_net_limit_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	gr__inst_clear(&in);
	struct limit l;
	if (limit_read(c, name, &l, err) < 0)
		return -1;
	*out = limit_doc(name, &l);
	return 0;
}

/* A field of the request: absent (keeps *bps), a rate string, "none" or 0. */
static int rate_field(const json_t *req, const char *key, const char *field, uint64_t *bps, gr_error_t *err)
{
	json_t *v = json_object_get(req, key);
	if (!v)
		return 0;
	if (json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == 0)) {
		*bps = 0;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		char s[32];
		snprintf(s, sizeof s, "%lld", (long long)json_integer_value(v));
		return gr_net_rate_parse(field, s, bps, err);
	}
	const char *s = json_string_value(v);
	if (s && (!strcmp(s, "none") || !strcmp(s, "")))
		s = "0";
	return gr_net_rate_parse(field, s, bps, err);
}

int gr_control_instance_net_limit_set(struct gr_control *c, const char *name, json_t *req, json_t **out,
				      gr_error_t *err)
{
	if (!json_is_object(req))
		return gr_error_set(err, EINVAL, "body: expected a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v)
		if (strcmp(key, "limit") && strcmp(key, "in") && strcmp(key, "out"))
			return gr_error_set(err, EINVAL, "%s: unknown field (limit, in, out)", key);
	struct limit l;
	if (limit_read(c, name, &l, err) < 0)
		return -1;
	uint64_t both = 0;
	bool has_both = json_object_get(req, "limit") != NULL;
	if (rate_field(req, "limit", "net.limit", &both, err) < 0)
		return -1;
	if (has_both)
		l.in = l.out = both;
	if (rate_field(req, "in", "net.limit.in", &l.in, err) < 0 ||
	    rate_field(req, "out", "net.limit.out", &l.out, err) < 0)
		return -1;
	_cleanup_free_ char *k = xasprintf(KEY_LIMITS "%s", name);
	gr__lock_name(c, name);
	struct gr_instance in;
	int r = -1;
	if (gr__inst_get(c, name, &in, err) < 0)
		goto unlock;
	if (!in.n_nics) {
		gr_error_set(err, EINVAL, "net.limit: instance '%s' has no NIC", name);
		goto out;
	}
	if (in.backend == GR_BACKEND_VM && l.out) {
		gr_error_set(err, EINVAL, "%s: a VM's outgoing traffic cannot be limited yet (only net.limit.in, "
			     "towards the VM)", json_object_get(req, "out") ? "net.limit.out" : "net.limit");
		goto out;
	}
	int ifindex = 0;
	if (runs_here(c, &in) && apply(c, &in, &l, &ifindex, err) < 0)
		goto out;
	if (!l.in && !l.out) {
		if (gr_store_delete(c->store, k, NULL, err) < 0)
			goto out;
	} else {
		json_t *doc = json_pack("{s:I,s:I}", "in", (json_int_t)l.in, "out", (json_int_t)l.out);
		int w = gr_store_put_json(c->store, k, doc, 0, NULL, err);
		json_decref(doc);
		if (w < 0)
			goto out;
	}
	applied_set(name, ifindex);
	char a[24], b[24], what[64];
	snprintf(what, sizeof what, "net.limit in=%s out=%s", gr_net_rate_format(l.in, a), gr_net_rate_format(l.out, b));
	gr__event(c, "config", name, gr__state_name(in.state), what);
	*out = limit_doc(name, &l);
	r = 0;
out:
	gr__inst_clear(&in);
unlock:
	gr__unlock_name(c, name);
	return r;
}

void gr__netlimit_sync(struct gr_control *c)
{
	struct gr_kv_list l = { 0 };
	gr_error_t e;
	if (gr_store_list(c->store, KEY_LIMITS, 0, &l, &e) < 0) {
		gr_log_warn("net limits: %s", e.msg);
		return;
	}
	struct gr_nl nl;
	if (l.n == 0 || gr_nl_open(&nl, -1, &e) < 0) {
		gr_kv_list_clear(&l);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.kvs[i].key + strlen(KEY_LIMITS);
		struct gr_instance in;
		if (gr__inst_get(c, name, &in, NULL) < 0)
			continue;
		char dev[16];
		int ifindex = 0;
		if (runs_here(c, &in) && gr_nl_link_index(&nl, host_link(&in, 0, dev), &ifindex, NULL) == 0 &&
		    ifindex != applied_get(name)) {
			struct limit lim;
			if (limit_read(c, name, &lim, &e) == 0 && apply(c, &in, &lim, &ifindex, &e) == 0) {
				applied_set(name, ifindex);
				gr_log_info("%s: network rate limits put back on its links", name);
			} else
				gr_log_warn("%s: network rate limits: %s", name, e.msg);
		}
		gr__inst_clear(&in);
	}
	gr_nl_close(&nl);
	gr_kv_list_clear(&l);
}

void gr__netlimit_forget(struct gr_control *c, const char *name)
{
	_cleanup_free_ char *k = xasprintf(KEY_LIMITS "%s", name);
	gr_error_t e;
	if (gr_store_delete(c->store, k, NULL, &e) < 0)
		gr_log_warn("%s: removing its network limits: %s", name, e.msg);
	applied_set(name, 0);
}
