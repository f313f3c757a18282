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

static int pabfd_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		       struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	int best = -1;
	double best_delta = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		double delta = 0;
		if (hs->power) {
			/* within the current 10 % step the increase is the cached
			 * slope times the added use; crossing a step is exact */
			if (hs->cpu_used + f.cpu_use <= hs->pw_segment_end) {
				delta = hs->pw_watts_per_mips * f.cpu_use;
			} else {
				double x0 = hs->cpu_used * hs->inv_phys * 10;
				delta = power_delta(hs->power->watts, x0 > 0 ? x0 : 0,
						    x0 + f.cpu_use * hs->inv_phys * 10);
			}
			if (best >= 0 && delta >= best_delta)
				continue; /* cannot win: skip the filters */
		}
		int why = gr__fit_host(s, &f, (int)h);
		if (why < 0 && !hs->power)
			why = GR_SCHED_REJ_POWER;
		if (why >= 0) {
			d->rejected[why]++;
			continue;
		}
		best = (int)h;
		best_delta = delta;
	}
	d->considered = (uint32_t)s->n_hosts;
	if (best < 0) {
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	gr__decision_placed(d, s, best, best_delta, "least power increase (+%.2f W)", best_delta);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_pabfd = {
	.name = "pabfd",
	.summary = "power-aware best-fit decreasing: least power increase, largest first",
	.flags = GR_SCHED_POLICY_DECREASING | GR_SCHED_POLICY_NEEDS_POWER,
	.place = pabfd_place,
};
