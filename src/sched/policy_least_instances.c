/*
 * policy_least_instances.c - "least-instances", the seeds' VMQS: the host
 * that runs the fewest instances; ties go to the lower load, then the lower
 * index, so the answer is deterministic.
 */
#include "sched/sched-internal.h"

static bool li_key(const struct gr_sched_snapshot *s, const struct gr__fit *f, int h,
		   struct gr__key *k)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	k->a = hs->n_instances;
	k->b = hs->cpu_used * hs->inv_phys;
	return true;
}

static bool li_bound(const struct gr_sched_snapshot *s, uint32_t blk, const struct gr__fit *f,
		     struct gr__key *k)
{
	const struct gr__block *b = &s->scratch->blocks[blk];
	k->a = b->min_n;
	k->b = b->min_n_load;
	return true;
}

static const struct gr__rank li_rank = { .key = li_key, .bound = li_bound,
					 .unusable = GR_SCHED_REJ__COUNT };

static int li_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		    struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	int best = gr__search_best(s, &f, &li_rank, d, NULL);
	if (best < 0) {
		gr__count_rejections(s, &f, NULL, d);
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	uint32_t n = s->hosts[best].n_instances;
	gr__decision_placed(d, s, best, n, "fewest instances (%u)", n);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_least_instances = {
	.name = "least-instances",
	.summary = "fewest running instances (VMQS)",
	.place = li_place,
};
