/*
 * policy_global.c - "global" balancing (seed 003): all host state in one
 * place.  Placement: the host with the lowest load after placement, over the
 * whole cluster.  Rebalancing works on a copy of the loads (the snapshot is
 * not changed) in two phases: first every movable instance on a draining host
 * goes to the least-loaded host that fits (evacuation ignores hysteresis);
 * then, repeatedly, the most loaded host gives the instance whose move to the
 * least-loaded fitting host lowers the pair's peak load most net of its
 * migration cost; a host whose best move gains less than params.min_gain is
 * left alone (hysteresis), and it stops when the most loaded host is within
 * min_gain of the mean or after params.max_moves moves.
 */
#include "sched/sched-internal.h"
#include "util/alloc.h"

static int global_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
			struct gr_sched_decision *d, gr_error_t *err)
{
	return gr__place_least_loaded(s, req, d, 1, "lowest load in the cluster after placement (%.1f %%)");
}

/* Least-loaded host (working loads) that instance i can move to, or -1. */
static int least_loaded_target(const struct gr_sched_snapshot *s, int i, double use)
{
	const double *load = s->scratch->load;
	int best = -1;
	double best_after = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		double after = load[h] + use / s->hosts[h].cpu_phys;
		if (best >= 0 && after >= best_after)
			continue;
		if (!gr__work_fits(s, i, (int)h))
			continue;
		best = (int)h;
		best_after = after;
	}
	return best;
}

static void evacuate_draining(const struct gr_sched_snapshot *s, struct gr_sched_plan *plan)
{
	const struct gr_sched_scratch *w = s->scratch;
	for (size_t a = 0; a < s->n_hosts; a++) {
		const struct gr_sched_host *ha = &s->hosts[a];
		if (ha->state != GR_SCHED_HOST_DRAINING)
			continue;
		for (uint32_t k = 0; k < ha->n_instances && plan->n < s->params.max_moves; k++) {
			int i = ha->members[k];
			if (!gr__movable(s, i) || w->where[i] != (int)a)
				continue;
			double use = s->instances[i].cpu * s->instances[i].util_now;
			int b = least_loaded_target(s, i, use);
			if (b < 0)
				continue;
			double gain = use / ha->cpu_phys;
			gr__plan_add(plan, i, (int)a, b, gain, gr__migration_cost(s, i),
				     "%s is draining: to %s (least loaded that fits, %.1f %%)", ha->name,
				     s->hosts[b].name, w->load[b] * 100);
			gr__work_move(s, i, (int)a, b);
		}
	}
}

int gr__rebalance_global(const struct gr_sched_snapshot *s, struct gr_sched_plan *plan,
			 gr_error_t *err)
{
	const struct gr_sched_scratch *w = s->scratch;
	evacuate_draining(s, plan);
	_cleanup_free_ bool *done = xcalloc(s->n_hosts, sizeof(bool));
	while (plan->n < s->params.max_moves) {
		int a = -1;
		double sum = 0;
		size_t up = 0;
		for (size_t h = 0; h < s->n_hosts; h++) {
			if (s->hosts[h].state != GR_SCHED_HOST_UP)
				continue;
			sum += w->load[h];
			up++;
			if (!done[h] && (a < 0 || w->load[h] > w->load[a]))
				a = (int)h;
		}
		if (a < 0 || w->load[a] - sum / up < s->params.min_gain)
			break;
		const struct gr_sched_host *ha = &s->hosts[a];
		int best_i = -1, best_b = -1;
		double best_net = 0, best_gain = 0, best_cost = 0, best_peak = 0;
		for (uint32_t k = 0; k < ha->n_instances; k++) {
			int i = ha->members[k];
			if (!gr__movable(s, i) || w->where[i] != a)
				continue;
			double use = s->instances[i].cpu * s->instances[i].util_now;
			if (use <= 0)
				continue;
			int b = least_loaded_target(s, i, use);
			if (b < 0)
				continue;
			double from_after = w->load[a] - use / ha->cpu_phys;
			double to_after = w->load[b] + use / s->hosts[b].cpu_phys;
			double peak_before = w->load[a] > w->load[b] ? w->load[a] : w->load[b];
			double peak_after = from_after > to_after ? from_after : to_after;
			double gain = peak_before - peak_after;
			double cost = gr__migration_cost(s, i);
			if (best_i < 0 || gain - cost > best_net) {
				best_i = i;
				best_b = b;
				best_net = gain - cost;
				best_gain = gain;
				best_cost = cost;
				best_peak = peak_after;
			}
		}
		if (best_i < 0 || best_net < s->params.min_gain) {
			done[a] = true;
			continue;
		}
		gr__plan_add(plan, best_i, a, best_b, best_gain, best_cost,
			     "%s most loaded (%.1f %%, mean %.1f %%): to %s, peak -> %.1f %%", ha->name,
			     w->load[a] * 100, sum / up * 100, s->hosts[best_b].name, best_peak * 100);
		gr__work_move(s, best_i, a, best_b);
	}
	return 0;
}

const struct gr_sched_policy_ops gr__policy_global = {
	.name = "global",
	.summary = "whole-cluster view: lowest load after placement; rebalances across all hosts",
	.place = global_place,
	.rebalance = gr__rebalance_global,
};
