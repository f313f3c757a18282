/*
 * policy_shortest_queue.c - "shortest-queue" (seed 003): the least loaded
 * host now (current CPU use / physical CPU), ties to fewer instances, then the
 * lower index.  Load is measured, not allocated: an idle big instance weighs
 * little; use best-fit to pack by allocation.  "Work may move while running"
 * (seed 003): its rebalancing is the global one, from the longest queue to
 * the shortest.
 */
#include "sched/sched-internal.h"

/* now: (load, instances); after placement: (load with the request, instances) */
static bool ll_key_now(const struct gr_sched_snapshot *s, const struct gr__fit *f, int h,
		       struct gr__key *k)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	k->a = hs->cpu_used * hs->inv_phys;
	k->b = hs->n_instances;
	return true;
}

static bool ll_bound_now(const struct gr_sched_snapshot *s, uint32_t blk, const struct gr__fit *f,
			 struct gr__key *k)
{
	const struct gr__block *b = &s->scratch->blocks[blk];
	k->a = b->min_load;
	k->b = b->min_load_n;
	return true;
}

static bool ll_key_with(const struct gr_sched_snapshot *s, const struct gr__fit *f, int h,
			struct gr__key *k)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	k->a = (hs->cpu_used + f->cpu_use) * hs->inv_phys;
	k->b = hs->n_instances;
	return true;
}

/* exact when the block's hosts share one size; a lower bound otherwise
 * (rounding is monotonic, so neither needs a margin) */
static bool ll_bound_with(const struct gr_sched_snapshot *s, uint32_t blk, const struct gr__fit *f,
			  struct gr__key *k)
{
	const struct gr__block *b = &s->scratch->blocks[blk];
	k->a = (b->min_used + f->cpu_use) * b->min_inv_phys;
	k->b = b->min_n;
	return true;
}

static const struct gr__rank ll_now = { .key = ll_key_now, .bound = ll_bound_now,
					.unusable = GR_SCHED_REJ__COUNT };
static const struct gr__rank ll_with = { .key = ll_key_with, .bound = ll_bound_with,
					 .unusable = GR_SCHED_REJ__COUNT };

int gr__place_least_loaded(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
			   struct gr_sched_decision *d, int with_request, const char *reason)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	struct gr__key k;
	int best = gr__search_best(s, &f, with_request ? &ll_with : &ll_now, d, &k);
	if (best < 0) {
		gr__count_rejections(s, &f, NULL, d);
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	gr__decision_placed(d, s, best, k.a, reason, k.a * 100);
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
