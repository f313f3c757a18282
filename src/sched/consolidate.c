/*
 * consolidate.c - dynamic VM consolidation as CloudSim 3.0.3 implements
 * Beloglazov & Buyya (2012) (PowerVmAllocationPolicyMigrationAbstract):
 *
 *  1. every host the detector calls overloaded gives up VMs (vmsel.c) until
 *     it is not overloaded any more;
 *  2. those VMs, largest demand first, go where the power increase is least
 *     (PABFD), never to an overloaded host nor to one the VM would overload;
 *  3. under-load: repeatedly the least utilised remaining host tries to move
 *     all its VMs away (same PABFD, switched-off hosts excluded); if one does
 *     not fit, that host keeps them all.
 *
 * Decisions see utilisation as of the decision time; tentative placements
 * change host lists only (the engine restores them and starts migrations).
 * The quirks of the reference are kept on purpose so the published figures
 * can be reproduced: the power baseline of a candidate host is its power at
 * the last update (P(0) for an idle host, so empty hosts look cheap), and
 * hosts that just received VMs from overloaded hosts may still be chosen as
 * under-loaded in the same round.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sim-internal.h"
#include "util/alloc.h"

static double host_max_mig_time(const struct gr_sim *s, const struct sim_host *h, int extra)
{
	double ram = extra >= 0 ? s->vms[extra].ram : -1;
	for (int i = 0; i < h->n; i++)
		if (s->vms[h->vms[i]].ram > ram)
			ram = s->vms[h->vms[i]].ram;
	return ram / (h->bw / (2 * 8000.0));
}

/* isHostOverUtilized of the configured detector, with VM extra added (-1: none) */
static bool overloaded(struct gr_sim *s, int hi, int extra)
{
	struct sim_host *h = &s->hosts[hi];
	double req = h->req + (extra >= 0 ? s->vms[extra].demand : 0);
	const struct gr_sim_policy *p = s->p;
	if (s->instantiating) {
		/* CloudSim at t = 0: VMs already created ask 0 MIPS until their
		 * cloudlets start, so only the VM being placed counts, and no
		 * history exists (adaptive detectors use the fallback). */
		req = extra >= 0 ? s->vms[extra].demand : 0;
		return req / h->total > (p->detector == GR_SIM_THR ? p->param : s->c->fallback_thr);
	}
	double util = req / h->total;
	if (p->detector == GR_SIM_THR)
		return util > p->param;
	double hist[SIM_HIST_MAX];
	size_t n = gr__sim_host_history(s, hi, extra, hist);
	if (p->detector == GR_SIM_IQR || p->detector == GR_SIM_MAD) {
		double thr;
		if (gr_sim_adaptive_threshold(p->detector, p->param, hist, n, &thr) < 0)
			return util > s->c->fallback_thr;
		return util > thr;
	}
	double ahead = ceil(host_max_mig_time(s, h, extra) / s->c->interval);
	double pred;
	if (gr_sim_lr_predict(hist, n, p->param, ahead, &pred) < 0)
		return util > s->c->fallback_thr;
	return pred >= 1;
}

/* PABFD: least power increase; excluded may be NULL */
static int find_host(struct gr_sim *s, int v, const char *excluded)
{
	double min_power = DBL_MAX;
	int best = -1;
	double d = s->vms[v].demand;
	for (size_t hi = 0; hi < s->n_hosts; hi++) {
		struct sim_host *h = &s->hosts[hi];
		if ((excluded && excluded[hi]) || !gr__sim_host_suitable(s, (int)hi, v))
			continue;
		double used = gr__sim_host_alloc(h);
		double after = (used + d) / h->total;
		if (after > 1)
			continue;
		double diff = gr_sched_power_at(h->pm, after) - gr_sched_power_at(h->pm, gr__sim_host_util_now(h));
		if (!(diff < min_power))
			continue; /* cannot win: skip the costlier overload test */
		if (used != 0 && overloaded(s, (int)hi, v))
			continue;
		min_power = diff;
		best = (int)hi;
	}
	return best;
}

int gr__sim_cloudsim_initial(struct gr_sim *s)
{
	for (size_t v = 0; v < s->n_vms; v++) {
		int h = find_host(s, (int)v, NULL);
		if (h < 0) {
			/* CloudSim: "Creation of VM #v failed"; the VM never runs */
			s->vms[v].gone = true;
			s->not_created++;
			continue;
		}
		gr__sim_host_add(s, h, (int)v);
		s->vms[v].host = h;
	}
	return 0;
}

/* stable sort of VM indices by demand, largest first */
static void sort_by_demand(const struct gr_sim *s, int *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int x = v[i];
		size_t j = i;
		while (j > 0 && s->vms[v[j - 1]].demand < s->vms[x].demand) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

void gr__sim_cloudsim_optimize(struct gr_sim *s)
{
	size_t nh = s->n_hosts;
	char *over = xcalloc(nh, 1), *excl_under = xcalloc(nh, 1), *excl_place = xcalloc(nh, 1);
	int *moving = xmalloc(s->n_vms * sizeof *moving);
	size_t n_moving = 0;

	/* 1. overloaded hosts give up VMs */
	for (size_t h = 0; h < nh; h++)
		over[h] = overloaded(s, (int)h, -1);
	for (size_t h = 0; h < nh; h++) {
		if (!over[h])
			continue;
		for (;;) {
			int v = gr__sim_select_vm(s, (int)h);
			if (v < 0)
				break;
			moving[n_moving++] = v;
			gr__sim_host_remove(s, (int)h, v);
			if (!overloaded(s, (int)h, -1))
				break;
		}
	}
	/* 2. place them (PABFD), overloaded hosts excluded */
	sort_by_demand(s, moving, n_moving);
	for (size_t i = 0; i < n_moving; i++) {
		int h = find_host(s, moving[i], over);
		if (h < 0)
			continue;
		gr__sim_host_add(s, h, moving[i]);
		gr__sim_plan_add(s, moving[i], h);
	}
	/* 3. under-loaded hosts */
	size_t n_excl = 0;
	for (size_t h = 0; h < nh; h++) {
		bool off = s->hosts[h].util_mips == 0;
		excl_under[h] = excl_place[h] = over[h] || off;
		n_excl += excl_under[h];
	}
	int *placed_vm = xmalloc(s->n_vms * sizeof *placed_vm), *placed_to = xmalloc(s->n_vms * sizeof *placed_to);
	while (n_excl < nh) {
		int u = -1;
		double min_u = 1;
		for (size_t h = 0; h < nh; h++) {
			if (excl_under[h])
				continue;
			double x = s->hosts[h].util_mips / s->hosts[h].total;
			if (x > 0 && x < min_u && s->hosts[h].n > 0) {
				min_u = x;
				u = (int)h;
			}
		}
		if (u < 0)
			break;
		excl_under[u] = excl_place[u] = 1;
		n_excl++;
		struct sim_host *hu = &s->hosts[u];
		if (hu->n == 0)
			continue;
		size_t nv = (size_t)hu->n;
		memcpy(moving, hu->vms, nv * sizeof *moving);
		sort_by_demand(s, moving, nv);
		size_t np = 0;
		for (size_t i = 0; i < nv; i++) {
			int h = find_host(s, moving[i], excl_place);
			if (h < 0) {
				for (size_t j = 0; j < np; j++)
					gr__sim_host_remove(s, placed_to[j], placed_vm[j]);
				np = 0;
				break;
			}
			gr__sim_host_add(s, h, moving[i]);
			placed_vm[np] = moving[i];
			placed_to[np++] = h;
		}
		for (size_t j = 0; j < np; j++) {
			if (!excl_under[placed_to[j]]) {
				excl_under[placed_to[j]] = 1;
				n_excl++;
			}
			gr__sim_plan_add(s, placed_vm[j], placed_to[j]);
		}
	}
	free(placed_vm);
	free(placed_to);
	free(moving);
	free(over);
	free(excl_under);
	free(excl_place);
}
