/*
 * policy_diffusive.c - "diffusive" (seed 003): work arrives round-robin,
 * then the receiving host hands it to a less-loaded host it knows (its
 * neighbours: host.neighbours, or the ring of +-params.neighbour_radius).
 * The receiver keeps it unless a neighbour would end up strictly less loaded.
 * When neither the receiver nor its neighbours fit, the work keeps diffusing
 * until the least-loaded fitting host anywhere takes it (ties: the first in
 * ring order from the receiver), found through the block index.  The arrival
 * cursor advances on apply, whether or not the receiver kept the work.
 */
#include "sched/sched-internal.h"

#define MAX_NEIGHBOURS 64

/* The fallback's ranking: load after placement, ties to the first host in
 * ring order from the arrival host (f->origin). */
static bool df_key(const struct gr_sched_snapshot *s, const struct gr__fit *f, int h,
		   struct gr__key *k)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	k->a = (hs->cpu_used + f->cpu_use) * hs->inv_phys;
	k->b = h >= f->origin ? h - f->origin : h + (int)s->n_hosts - f->origin;
	return true;
}

static bool df_bound(const struct gr_sched_snapshot *s, uint32_t blk, const struct gr__fit *f,
		     struct gr__key *k)
{
	const struct gr__block *b = &s->scratch->blocks[blk];
	int first = (int)(blk << GR__BLOCK_SHIFT), last = first + GR__BLOCK - 1;
	k->a = (b->min_used + f->cpu_use) * b->min_inv_phys;
	k->b = first <= f->origin && f->origin <= last ? 0
	       : first > f->origin ? first - f->origin : first + (int)s->n_hosts - f->origin;
	return true;
}

static const struct gr__rank df_rank = { .key = df_key, .bound = df_bound,
					 .unusable = GR_SCHED_REJ__COUNT };

static int diffusive_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
			   struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	size_t n = s->n_hosts;
	int arrival = (int)(s->rr_cursor % n);
	d->arrival = arrival;
	d->set_cursor = true;
	d->cursor_after = (uint32_t)((arrival + 1) % n);

	int nb[MAX_NEIGHBOURS];
	size_t nn = gr__neighbours(s, arrival, nb, MAX_NEIGHBOURS);
	int best = -1;
	double best_load = 0;
	for (size_t k = 0; k <= nn; k++) {
		int h = k == 0 ? arrival : nb[k - 1];
		d->considered++;
		int why = gr__fit_host(s, &f, h);
		if (why >= 0) {
			d->rejected[why]++;
			continue;
		}
		double load = gr__load_with(&s->hosts[h], &f);
		if (best < 0 || load < best_load) {
			best = h;
			best_load = load;
		}
	}
	if (best == arrival) {
		gr__decision_placed(d, s, best, best_load, "arrived here and kept (load after %.1f %%)",
				    best_load * 100);
		return 0;
	}
	if (best >= 0) {
		gr__decision_placed(d, s, best, best_load,
				    "arrived at %s, handed to a less-loaded neighbour (load after %.1f %%)",
				    s->hosts[arrival].name, best_load * 100);
		return 0;
	}
	/* the neighbourhood is full: diffuse to the least-loaded host anywhere */
	gr__decision_init(d);
	d->arrival = arrival;
	d->set_cursor = true;
	d->cursor_after = (uint32_t)((arrival + 1) % n);
	f.origin = arrival;
	struct gr__key k;
	best = gr__search_best(s, &f, &df_rank, d, &k);
	if (best < 0) {
		gr__count_rejections(s, &f, NULL, d);
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	best_load = k.a;
	gr__decision_placed(d, s, best, best_load,
			    "arrived at %s whose neighbourhood is full, diffused further (load after %.1f %%)",
			    s->hosts[arrival].name, best_load * 100);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_diffusive = {
	.name = "diffusive",
	.summary = "round-robin arrival, handed to a less-loaded neighbour",
	.place = diffusive_place,
};
