/*
 * policy_shortest_queue.c - "shortest-queue" (seed 003): the least loaded
 * host now (current CPU use / physical CPU), ties to fewer instances, then the
 * lower index.  Load is measured, not allocated: an idle big instance weighs
 * little; use best-fit to pack by allocation.  "Work may move while running"
 * (seed 003): its rebalancing is the global one, from the longest queue to
 * the shortest.
 */
#include "sched/sched-internal.h"

int gr__place_least_loaded(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
			   struct gr_sched_decision *d, int with_request, const char *reason)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	int best = -1;
	double best_load = 0;
	uint32_t best_n = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		double load = with_request ? gr__load_with(hs, &f) : gr_sched_host_load(hs);
		if (best >= 0 && load > best_load)
			continue; /* cannot win */
		int why = gr__fit_host(s, &f, (int)h);
		if (why >= 0) {
			d->rejected[why]++;
			continue;
		}
		if (best < 0 || load < best_load || hs->n_instances < best_n) {
			best = (int)h;
			best_load = load;
			best_n = hs->n_instances;
		}
	}
	d->considered = (uint32_t)s->n_hosts;
	if (best < 0) {
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	gr__decision_placed(d, s, best, best_load, reason, best_load * 100);
	return 0;
}

static int sq_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		    struct gr_sched_decision *d, gr_error_t *err)
{
	return gr__place_least_loaded(s, req, d, 0, "least loaded now (%.1f %% CPU)");
}

const struct gr_sched_policy_ops gr__policy_shortest_queue = {
	.name = "shortest-queue",
	.summary = "least loaded host now (measured CPU use)",
	.place = sq_place,
	.rebalance = gr__rebalance_global,
};
