/*
 * policy_local.c - "local" balancing (seed 003): a host only knows its
 * neighbours.  Placement: work arrives round-robin; the receiver keeps it
 * unless that would overload it (load after > params.overload), then offers
 * it to its least-loaded neighbour that stays under the threshold; when the
 * neighbours are busy too it keeps the work overloaded if it fits, else the
 * request is not placed (the approach's known weakness: no global view).
 * Rebalancing: every overloaded host moves instances, cheapest migration
 * first, to neighbours that stay under the threshold, while each move's gain
 * (drop of the pair's peak load) minus its migration cost clears
 * params.min_gain (hysteresis).
 */
#include <stdio.h>
#include <stdlib.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

#define MAX_NEIGHBOURS 64

static int local_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		       struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	size_t n = s->n_hosts;
	double limit = s->params.overload;
	int arrival = (int)(s->rr_cursor % n);
	d->arrival = arrival;
	d->set_cursor = true;
	d->cursor_after = (uint32_t)((arrival + 1) % n);

	d->considered = 1;
	int why = gr__fit_host(s, &f, arrival);
	double arrival_load = gr__load_with(&s->hosts[arrival], &f);
	if (why < 0 && arrival_load <= limit) {
		gr__decision_placed(d, s, arrival, arrival_load, "arrived here, load after %.1f %%",
				    arrival_load * 100);
		return 0;
	}
	if (why >= 0)
		d->rejected[why]++;
	else
		d->rejected[GR_SCHED_REJ_OVERLOAD]++;

	int nb[MAX_NEIGHBOURS];
	size_t nn = gr__neighbours(s, arrival, nb, MAX_NEIGHBOURS);
	int best = -1, best_over = -1;
	double best_load = 0, best_over_load = 0;
	for (size_t k = 0; k < nn; k++) {
		int h = nb[k];
		d->considered++;
		int w = gr__fit_host(s, &f, h);
		if (w >= 0) {
			d->rejected[w]++;
			continue;
		}
		double load = gr__load_with(&s->hosts[h], &f);
		if (load > limit) {
			d->rejected[GR_SCHED_REJ_OVERLOAD]++;
			if (best_over < 0 || load < best_over_load) {
				best_over = h;
				best_over_load = load;
			}
			continue;
		}
		if (best < 0 || load < best_load) {
			best = h;
			best_load = load;
		}
	}
	if (best >= 0) {
		gr__decision_placed(d, s, best, best_load,
				    "%s would be overloaded, offloaded to a neighbour (load after %.1f %%)",
				    s->hosts[arrival].name, best_load * 100);
		return 0;
	}
	if (why < 0) {
		gr__decision_placed(d, s, arrival, arrival_load,
				    "kept although overloaded (load after %.1f %%): neighbours are busy too",
				    arrival_load * 100);
		return 0;
	}
	if (best_over >= 0) {
		gr__decision_placed(d, s, best_over, best_over_load,
				    "%s is full and neighbours are busy: least-loaded neighbour (load after %.1f %%)",
				    s->hosts[arrival].name, best_over_load * 100);
		return 0;
	}
	char scope[128];
	snprintf(scope, sizeof(scope), "known to %s (itself and %zu neighbours)", s->hosts[arrival].name,
		 nn);
	gr__decision_not_placed(d, &f, scope);
	return 0;
}

struct cand {
	int inst;
	uint64_t mem;
};

static int cmp_cheapest(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->mem != y->mem)
		return x->mem < y->mem ? -1 : 1;
	return x->inst - y->inst;
}

static int local_rebalance(const struct gr_sched_snapshot *s, struct gr_sched_plan *plan,
			   gr_error_t *err)
{
	const struct gr_sched_scratch *w = s->scratch;
	double limit = s->params.overload;
	for (size_t a = 0; a < s->n_hosts && plan->n < s->params.max_moves; a++) {
		const struct gr_sched_host *ha = &s->hosts[a];
		if (w->load[a] <= limit || ha->n_instances == 0)
			continue;
		_cleanup_free_ struct cand *c = xcalloc(ha->n_instances, sizeof(*c));
		size_t nc = 0;
		for (uint32_t k = 0; k < ha->n_instances; k++) {
			int i = ha->members[k];
			if (gr__movable(s, i) && w->where[i] == (int)a)
				c[nc++] = (struct cand){ i, s->instances[i].mem_mib };
		}
		qsort(c, nc, sizeof(*c), cmp_cheapest);
		int nb[MAX_NEIGHBOURS];
		size_t nn = gr__neighbours(s, (int)a, nb, MAX_NEIGHBOURS);
		for (size_t k = 0; k < nc && w->load[a] > limit && plan->n < s->params.max_moves; k++) {
			int i = c[k].inst;
			double use = s->instances[i].cpu * s->instances[i].util_now;
			double from_after = w->load[a] - use / ha->cpu_phys;
			int best = -1;
			double best_after = 0;
			for (size_t j = 0; j < nn; j++) {
				int b = nb[j];
				if (!gr__work_fits(s, i, b))
					continue;
				double after = w->load[b] + use / s->hosts[b].cpu_phys;
				if (after > limit)
					continue;
				if (best < 0 || after < best_after) {
					best = b;
					best_after = after;
				}
			}
			if (best < 0)
				continue;
			double peak_before = w->load[a] > w->load[best] ? w->load[a] : w->load[best];
			double peak_after = from_after > best_after ? from_after : best_after;
			double gain = peak_before - peak_after;
			double cost = gr__migration_cost(s, i);
			if (gain - cost < s->params.min_gain)
				continue;
			gr__plan_add(plan, i, (int)a, best, gain, cost,
				     "%s overloaded (%.1f %% > %.1f %%): to neighbour %s, peak %.1f -> %.1f %%",
				     ha->name, w->load[a] * 100, limit * 100, s->hosts[best].name,
				     peak_before * 100, peak_after * 100);
			gr__work_move(s, i, (int)a, best);
		}
	}
	return 0;
}

const struct gr_sched_policy_ops gr__policy_local = {
	.name = "local",
	.summary = "overloaded hosts offload to neighbours they know",
	.place = local_place,
	.rebalance = local_rebalance,
};
