/*
 * policy_least_instances.c - "least-instances", the seeds' VMQS: the host
 * that runs the fewest instances; ties go to the lower load, then the lower
 * index, so the answer is deterministic.
 */
#include "sched/sched-internal.h"

static int li_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		    struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	int best = -1;
	uint32_t best_n = 0;
	double best_load = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		if (best >= 0 && hs->n_instances > best_n)
			continue; /* cannot win: skip the filters */
		int why = gr__fit_host(s, &f, (int)h);
		if (why >= 0) {
			d->rejected[why]++;
			continue;
		}
		double load = gr_sched_host_load(hs);
		if (best < 0 || hs->n_instances < best_n || load < best_load) {
			best = (int)h;
			best_n = hs->n_instances;
			best_load = load;
		}
	}
	d->considered = (uint32_t)s->n_hosts;
	if (best < 0) {
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	gr__decision_placed(d, s, best, best_n, "fewest instances (%u)", best_n);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_least_instances = {
	.name = "least-instances",
	.summary = "fewest running instances (VMQS)",
	.place = li_place,
};
