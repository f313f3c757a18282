/*
 * policy_pabfd.c - "pabfd", power-aware best-fit decreasing (Beloglazov &
 * Buyya 2012): each instance goes to the host whose power draw rises least,
 * power read from the host's curve at its CPU utilisation before and after
 * (current use, not allocation).  "Decreasing" is the batch order: with
 * gr_sched_place_all() the largest CPU requests are placed first.  Hosts
 * without a power curve are rejected; ties go to the lower index.
 */
#include "sched/sched-internal.h"


/* Watts added by raising utilisation from x0 to x1 tenths (0 <= x0 <= x1)
 * on curve w: one segment's slope when both fall in the same 10 % step (the
 * common case for one instance), else the difference of two interpolations. */
static inline double power_delta(const double *w, double x0, double x1)
{
	if (x0 >= 10)
		return 0; /* already at the 100 % figure */
	if (x1 > 10)
		x1 = 10;
	int i0 = (int)x0, i1 = (int)x1;
	if (i1 > 9)
		i1 = 9;
	if (i0 == i1)
		return (w[i0 + 1] - w[i0]) * (x1 - x0);
	double p0 = w[i0] + (w[i0 + 1] - w[i0]) * (x0 - i0);
	double p1 = w[i1] + (w[i1 + 1] - w[i1]) * (x1 - i1);
	return p1 - p0;
}

/* Lower bounds of the increase on a host that leaves its step, used by the
 * block bounds: with a use c within one step's width and under 100 %, exactly
 * the next step's slope times c plus the difference of the two slopes over
 * the distance to the step's end (slope_gap: may be negative); in any case
 * the flatter of the two steps (the flattest left for a longer use) times the
 * use up to 100 %. */
static inline double leave_exact(double next, double slope_gap, double c)
{
	return next * c + slope_gap;
}
static inline double leave_floor(double slope, double c, double head)
{
	return slope * (c < head ? c : head > 0 ? head : 0);
}

/* The increase of host h's draw: the cached slope times the added use while
 * it stays in its 10 % step (the test matches the block bounds' distance
 * order), else the exact difference, raised to the lower bounds the block
 * bounds use, so that rounding never puts a host below its block's bound. */
static bool pabfd_key(const struct gr_sched_snapshot *s, const struct gr__fit *f, int h,
		      struct gr__key *k)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	if (!hs->power)
		return false;
	double c = f->cpu_use, gap = hs->pw_segment_end - hs->cpu_used;
	k->b = 0;
	if (c <= gap) {
		k->a = hs->pw_watts_per_mips * c;
		return true;
	}
	double x0 = hs->cpu_used * hs->inv_phys * 10;
	double a = power_delta(hs->power->watts, x0 > 0 ? x0 : 0, x0 + c * hs->inv_phys * 10);
	double head = hs->cpu_phys - hs->cpu_used, width = hs->cpu_phys / 10;
	double lo = leave_floor(c <= width ? hs->pw_slope2 : hs->pw_min_rest, c, head);
	if (lo > a)
		a = lo;
	if (c <= width && c <= head) {
		lo = leave_exact(hs->pw_next, (hs->pw_watts_per_mips - hs->pw_next) * gap, c);
		if (lo > a)
			a = lo;
	}
	k->a = a;
	return true;
}

/* Per run of hosts with the same slope and next slope (struct gr__runs):
 * those that stay in their step (distance to its end >= the added use c)
 * rise by exactly the slope times c, as pabfd_key() computes it; those that
 * leave it by at least the bounds above, whose exact form is smallest at the
 * run's largest distance below c (next step steeper) or its smallest (next
 * step flatter).  Distances of a run lie in [gap_min, gap_max]: some host
 * stays when gap_max >= c, some leaves when gap_min < c.  With a host that
 * stays and a steeper next step the exact form cannot lower the bound (it
 * is then at least slope * c = the floor, c being within every headroom);
 * without one, the largest distance below c is gap_max. */
static inline __attribute__((always_inline)) double runs_bound(const struct gr__block *b, const struct gr__runs *ru, double c)
{
	bool within = c <= b->min_width, exact = within && c <= b->min_headroom;
	double a = INFINITY;
	for (uint32_t r = 0; r < ru->n; r++) {
		double slope = ru->slope[r], next = ru->next[r];
		bool stay = !(ru->gap_max[r] < c);
		if (stay && slope * c < a)
			a = slope * c;
		if (!(ru->gap_min[r] < c))
			continue;
		double leave = leave_floor(within ? (next < slope ? next : slope) : ru->rest[r], c,
					   b->min_headroom);
		if (exact && !(next > slope && stay)) {
			double gap = next > slope ? ru->gap_max[r] : ru->gap_min[r];
			double e = leave_exact(next, (slope - next) * gap, c);
			if (e > leave)
				leave = e;
		}
		if (leave < a)
			a = leave;
	}
	return a;
}

/* First, from the block's runs: no host rises by less than its run's bound. */
static inline __attribute__((always_inline)) bool pabfd_bound(const struct gr_sched_snapshot *s, uint32_t blk, const struct gr__fit *f,
			struct gr__key *k)
{
	const struct gr__block *b = &s->scratch->blocks[blk];
	if (!b->n_power)
		return false;
	double c = f->cpu_use;
	k->b = 0;
	k->a = c > 0 ? runs_bound(b, &s->scratch->runs[blk], c) : 0;
	return true;
}

/* Then, for a block the runs could not rule out: only hosts with the free
 * CPU and memory the request asks can take it, each rising by at least its
 * slope2 times the use (a use within one step). */
static bool pabfd_refine(const struct gr_sched_snapshot *s, uint32_t blk, const struct gr__fit *f,
			 struct gr__key *k)
{
	const struct gr__block *b = &s->scratch->blocks[blk];
	if (!b->n_power)
		return false;
	double c = f->cpu_use;
	k->a = k->b = 0;
	if (!(c > 0) || !(c <= b->min_width))
		return true;
	const struct gr__order *oc = gr__block_order(s, blk, GR__ORDER_FREE_CPU);
	const struct gr__order *om = gr__block_order(s, blk, GR__ORDER_FREE_MEM);
	double s2c = oc->m2[gr__order_find(oc, f->cpu - 1e-7 * (1 + f->cpu))];
	double s2m = om->m2[gr__order_find(om, f->mem - 1e-7 * (1 + f->mem))];
	if (s2c == INFINITY || s2m == INFINITY)
		return false;
	k->a = leave_floor(s2c > s2m ? s2c : s2m, c, b->min_headroom);
	return true;
}

static const struct gr__rank pabfd_rank = { .key = pabfd_key, .bound = pabfd_bound,
					    .refine = pabfd_refine, .unusable = GR_SCHED_REJ_POWER };

static int pabfd_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		       struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	struct gr__key k;
	int best = gr__search_best(s, &f, &pabfd_rank, d, &k);
	if (best < 0) {
		gr__count_rejections(s, &f, &pabfd_rank, d);
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	gr__decision_placed(d, s, best, k.a, "least power increase (+%.2f W)", k.a);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_pabfd = {
	.name = "pabfd",
	.summary = "power-aware best-fit decreasing: least power increase, largest first",
	.flags = GR_SCHED_POLICY_DECREASING | GR_SCHED_POLICY_NEEDS_POWER,
	.place = pabfd_place,
};
