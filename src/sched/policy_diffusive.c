/*
 * policy_diffusive.c - "diffusive" (seed 003): work arrives round-robin,
 * then the receiving host hands it to a less-loaded host it knows (its
 * neighbours: host.neighbours, or the ring of +-params.neighbour_radius).
 * The receiver keeps it unless a neighbour would end up strictly less loaded.
 * When neither the receiver nor its neighbours fit, the work keeps diffusing
 * until the least-loaded fitting host anywhere takes it.  The arrival cursor
 * advances on apply, whether or not the receiver kept the work.
 */
#include "sched/sched-internal.h"

#define MAX_NEIGHBOURS 64

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
	for (size_t k = 0; k < n; k++) {
		int h = (int)((arrival + k) % n);
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
	if (best < 0) {
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
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
