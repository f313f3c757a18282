/*
 * policy_best_fit.c - "best-fit": the host left with the least free room
 * after placement, room being the free CPU fraction plus the free memory
 * fraction of the allocatable capacity.  Packs hosts tightly so others stay
 * empty; ties go to the lower index.
 */
#include "sched/sched-internal.h"

static int bf_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		    struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	int best = -1;
	double best_room = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		double room = (hs->cpu_cap - hs->cpu_alloc - f.cpu) * hs->inv_cpu_cap +
			      (hs->mem_cap - hs->mem_alloc - f.mem) * hs->inv_mem_cap;
		if (best >= 0 && room >= best_room)
			continue; /* cannot win: skip the filters */
		int why = gr__fit_host(s, &f, (int)h);
		if (why >= 0) {
			d->rejected[why]++;
			continue;
		}
		best = (int)h;
		best_room = room;
	}
	d->considered = (uint32_t)s->n_hosts;
	if (best < 0) {
		gr__decision_not_placed(d, &f, NULL);
		return 0;
	}
	gr__decision_placed(d, s, best, best_room, "best fit (%.1f %% CPU + %.1f %% memory left)",
			    100 * (s->hosts[best].cpu_cap - s->hosts[best].cpu_alloc - f.cpu) /
				    s->hosts[best].cpu_cap,
			    100 * (s->hosts[best].mem_cap - s->hosts[best].mem_alloc - f.mem) /
				    s->hosts[best].mem_cap);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_best_fit = {
	.name = "best-fit",
	.summary = "the host left with the least free CPU + memory after placement",
	.place = bf_place,
};
