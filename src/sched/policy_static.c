/*
 * policy_static.c - "static" (seed 003): a client always goes to the same
 * server.  The request's pinned_host names it; without one, a stable hash of
 * the instance name picks it, so the same name lands on the same host while
 * the host list is unchanged.  Only that host is considered; if it does not
 * fit, the request is not placed (static never spills over).
 */
#include <errno.h>
#include <stdio.h>
#include "sched/sched-internal.h"

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static int static_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
			struct gr_sched_decision *d, gr_error_t *err)
{
	int h;
	const char *how;
	if (req->pinned_host) {
		h = gr_sched_host_find(s, req->pinned_host);
		if (h < 0)
			return gr_error_set(err, ENOENT, "pinned_host: no host named '%s'", req->pinned_host);
		how = "pinned";
	} else if (req->name) {
		h = (int)(name_hash(req->name) % s->n_hosts);
		how = "hashed from the name";
	} else {
		return gr_error_set(err, EINVAL, "pinned_host: required by the static policy for an anonymous request");
	}
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	d->considered = 1;
	int why = gr__fit_host(s, &f, h);
	if (why >= 0) {
		d->rejected[why]++;
		char scope[160];
		snprintf(scope, sizeof(scope), "%s by the static policy (%s)", how, s->hosts[h].name);
		gr__decision_not_placed(d, &f, scope);
		return 0;
	}
	gr__decision_placed(d, s, h, 0, "static: %s", how);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_static = {
	.name = "static",
	.summary = "always the same host: the pinned one, or a stable hash of the name",
	.place = static_place,
};
