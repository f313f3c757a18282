/*
 * policy_best_fit.c - "best-fit": the host left with the least free room
 * after placement, room being the free CPU fraction plus the free memory
 * fraction of the allocatable capacity.  Packs hosts tightly so others stay
 * empty; ties go to the lower index.
 */
#include "sched/sched-internal.h"


/* room after = room now - what the request takes, both as fractions */
static bool bf_key(const struct gr_sched_snapshot *s, const struct gr__fit *f, int h,
		   struct gr__key *k)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	k->a = hs->room - (f->cpu * hs->inv_cpu_cap + f->mem * hs->inv_mem_cap);
	k->b = 0;
	return true;
}

/* Only hosts with the free memory and the free CPU the request needs can
 * take it: the least room among each set, less the most the request can take
 * from a host of the block (the thresholds are lowered by more than rounding,
 * so a host that fits is never left out). */
static bool bf_bound(const struct gr_sched_snapshot *s, uint32_t blk, const struct gr__fit *f,
		     struct gr__key *k)
{
	const struct gr__block *b = &s->scratch->blocks[blk];
	const struct gr__order *om = gr__block_order(s, blk, GR__ORDER_FREE_MEM);
	double room_m = om->m1[gr__order_find(om, f->mem - 1e-7 * (1 + f->mem))];
	const struct gr__order *oc = gr__block_order(s, blk, GR__ORDER_FREE_CPU);
	double room_c = oc->m1[gr__order_find(oc, f->cpu - 1e-7 * (1 + f->cpu))];
	if (room_m == INFINITY || room_c == INFINITY)
		return false;
	k->a = (room_m > room_c ? room_m : room_c) -
	       (f->cpu * b->max_inv_cpu_cap + f->mem * b->max_inv_mem_cap);
	k->b = 0;
	return true;
}

/* below 2,048 hosts a plain scan is cheaper than the two orders per block
 * (bench/place: 1,000 hosts) */
static const struct gr__rank bf_rank = { .key = bf_key, .bound = bf_bound,
					 .unusable = GR_SCHED_REJ__COUNT, .scan_below = 2048 };

static int bf_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		    struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	struct gr__key k;
	int best = gr__search_best(s, &f, &bf_rank, d, &k);
	if (best < 0) {
		gr__count_rejections(s, &f, NULL, d);
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	const struct gr_sched_host *hs = &s->hosts[best];
	gr__decision_placed(d, s, best, k.a, "best fit (%.1f %% CPU + %.1f %% memory left)",
			    100 * (hs->cpu_cap - hs->cpu_alloc - f.cpu) / hs->cpu_cap,
			    100 * (hs->mem_cap - hs->mem_alloc - f.mem) / hs->mem_cap);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_best_fit = {
	.name = "best-fit",
	.summary = "the host left with the least free CPU + memory after placement",
	.place = bf_place,
};
