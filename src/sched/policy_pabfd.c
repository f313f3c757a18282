/*
 * policy_pabfd.c - "pabfd", power-aware best-fit decreasing (Beloglazov &
 * Buyya 2012): each instance goes to the host whose power draw rises least,
 * power read from the host's curve at its CPU utilisation before and after
 * (current use, not allocation).  "Decreasing" is the batch order: with
 * gr_sched_place_all() the largest CPU requests are placed first.  Hosts
 * without a power curve are rejected; ties go to the lower index.
 */
#include "sched/sched-internal.h"

static int pabfd_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		       struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	int best = -1;
	double best_delta = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		int why = gr__fit_host(s, &f, (int)h);
		if (why < 0 && !hs->power)
			why = GR_SCHED_REJ_POWER;
		if (why >= 0) {
			d->rejected[why]++;
			continue;
		}
		double before = hs->cpu_used / hs->cpu_phys;
		double after = (hs->cpu_used + f.cpu_use) / hs->cpu_phys;
		double delta = gr_power_at(hs->power, after) - gr_power_at(hs->power, before);
		if (best < 0 || delta < best_delta) {
			best = (int)h;
			best_delta = delta;
		}
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
