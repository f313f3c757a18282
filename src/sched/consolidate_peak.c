/*
 * consolidate_peak.c - "peak": our consolidation policy (docs/SCHEDULER.md
 * "Consolidation: the peak policy").
 *
 * Idea (seed 002): size a host by the peak of the *sum* of its VMs' recent
 * demand, not by the sum of their peaks.  VMs whose peaks come at different
 * times then share a host safely, and a host only needs to move VMs when that
 * joint peak really approaches its capacity.  The policy
 *
 *  - keeps, per host, the joint demand series of its VMs over the last W
 *    samples (MIPS); a VM fits a host when the joint series with the VM stays
 *    under target x capacity at every sample, and the VM's nominal MIPS fit
 *    one core (so it can never be starved by the per-core cap);
 *  - relieves a host only when its current demand passes the high mark
 *    (target + 0.1): it moves the cheapest VM (least RAM) whose departure is
 *    enough, or the largest one, to the tightest-fitting host;
 *  - consolidates with hysteresis: a host whose joint peak is under the low
 *    mark is emptied only if every VM fits on other active hosts, and a VM
 *    that moved in the last H steps stays put unless its host overloads;
 *  - prefers the efficient host type (least watts per MIPS at full load) both
 *    when it powers a host on and when it picks a target, and empties the
 *    less efficient hosts first.
 *
 * It sees only the past: the demand history up to the decision time.  At
 * t = 0, when nothing is known, VMs are packed at their nominal MIPS
 * (first fit decreasing, efficient hosts first), which needs no migration to
 * be safe.  Pure computation over the simulator state; state kept between
 * steps: when each VM last moved.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sim-internal.h"
#include "util/alloc.h"

#define PEAK_W 12        /* samples in the joint-peak window (1 h) */
#define PEAK_HOLD 12     /* steps a moved VM is not consolidated again */
#define PEAK_LOW 0.45    /* joint peak under which a host is worth emptying */

struct peak_state {
	int *last_moved;     /* step of the VM's last move, -1000 if never */
	double *win;         /* n_hosts x PEAK_W joint demand, MIPS */
	double *eff;         /* watts per MIPS at full load, per host */
	int *order;          /* scratch */
};

static struct peak_state *state(struct gr_sim *s)
{
	struct peak_state *ps = s->priv;
	if (ps)
		return ps;
	ps = xcalloc(1, sizeof *ps);
	ps->last_moved = xmalloc(s->n_vms * sizeof *ps->last_moved);
	for (size_t v = 0; v < s->n_vms; v++)
		ps->last_moved[v] = -1000;
	ps->win = xcalloc(s->n_hosts * PEAK_W, sizeof *ps->win);
	ps->eff = xmalloc(s->n_hosts * sizeof *ps->eff);
	for (size_t h = 0; h < s->n_hosts; h++)
		ps->eff[h] = s->hosts[h].pm->watts[GR_SCHED_POWER_STEPS - 1] / s->hosts[h].total;
	ps->order = xmalloc((s->n_hosts > s->n_vms ? s->n_hosts : s->n_vms) * sizeof *ps->order);
	s->priv = ps;
	return ps;
}

void gr__sim_peak_free(struct gr_sim *s)
{
	struct peak_state *ps = s->priv;
	if (!ps)
		return;
	free(ps->last_moved);
	free(ps->win);
	free(ps->eff);
	free(ps->order);
	free(ps);
	s->priv = NULL;
}

static size_t window(const struct gr_sim *s)
{
	return s->k + 1 < PEAK_W ? s->k + 1 : PEAK_W;
}

/* demand of v, i samples ago (i = 0: now) */
static double vm_at(const struct gr_sim *s, int v, size_t i)
{
	if (i == 0)
		return s->vms[v].demand;
	return (double)s->vms[v].u[s->k - i] * s->vms[v].mips;
}

static void win_apply(struct gr_sim *s, struct peak_state *ps, int h, int v, double sign)
{
	size_t w = window(s);
	for (size_t i = 0; i < w; i++)
		ps->win[(size_t)h * PEAK_W + i] += sign * vm_at(s, v, i);
}

static void move(struct gr_sim *s, struct peak_state *ps, int from, int to, int v)
{
	gr__sim_host_remove(s, from, v);
	win_apply(s, ps, from, v, -1);
	gr__sim_host_add(s, to, v);
	win_apply(s, ps, to, v, +1);
}

/* joint peak of host h with v added, as a fraction of capacity */
static double peak_with(const struct gr_sim *s, const struct peak_state *ps, int h, int v)
{
	size_t w = window(s);
	double m = 0;
	for (size_t i = 0; i < w; i++) {
		double x = ps->win[(size_t)h * PEAK_W + i] + (v >= 0 ? vm_at(s, v, i) : 0);
		if (x > m)
			m = x;
	}
	return m / s->hosts[h].total;
}

static bool fits(const struct gr_sim *s, const struct peak_state *ps, int h, int v, double target)
{
	const struct sim_host *ho = &s->hosts[h];
	if (s->vms[v].mips > ho->pe_mips)
		return false;
	if ((ho->req + s->vms[v].demand) > target * ho->total)
		return false;
	return peak_with(s, ps, h, v) <= target;
}

/* Tightest active host that fits v (not `avoid`, not marked); with
 * allow_new, the most efficient empty host otherwise.  -1 if none. */
static int find_target(struct gr_sim *s, struct peak_state *ps, int v, int avoid, double target,
		       bool allow_new)
{
	int best = -1;
	double best_score = -DBL_MAX;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct sim_host *ho = &s->hosts[h];
		if ((int)h == avoid || ho->mark || ho->n == 0)
			continue;
		if (!fits(s, ps, (int)h, v, target))
			continue;
		/* tightest fit, efficient type first */
		double score = peak_with(s, ps, (int)h, v) - 10 * ps->eff[h] * ho->total / 100;
		if (score > best_score) {
			best_score = score;
			best = (int)h;
		}
	}
	if (best >= 0 || !allow_new)
		return best;
	double best_eff = DBL_MAX;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct sim_host *ho = &s->hosts[h];
		if ((int)h == avoid || ho->n != 0 || s->vms[v].mips > ho->pe_mips)
			continue;
		if (ps->eff[h] < best_eff) {
			best_eff = ps->eff[h];
			best = (int)h;
		}
	}
	return best;
}

int gr__sim_peak_initial(struct gr_sim *s)
{
	struct peak_state *ps = state(s);
	/* first fit decreasing by nominal MIPS onto the most efficient hosts */
	int *vo = ps->order;
	for (size_t v = 0; v < s->n_vms; v++)
		vo[v] = (int)v;
	for (size_t i = 1; i < s->n_vms; i++) {
		int x = vo[i];
		size_t j = i;
		while (j > 0 && s->vms[vo[j - 1]].mips < s->vms[x].mips) {
			vo[j] = vo[j - 1];
			j--;
		}
		vo[j] = x;
	}
	int *ho = xmalloc(s->n_hosts * sizeof *ho);
	for (size_t h = 0; h < s->n_hosts; h++)
		ho[h] = (int)h;
	for (size_t i = 1; i < s->n_hosts; i++) {
		int x = ho[i];
		size_t j = i;
		while (j > 0 && ps->eff[ho[j - 1]] > ps->eff[x]) {
			ho[j] = ho[j - 1];
			j--;
		}
		ho[j] = x;
	}
	for (size_t i = 0; i < s->n_vms; i++) {
		int v = vo[i];
		size_t j;
		for (j = 0; j < s->n_hosts; j++)
			if (s->vms[v].mips <= s->hosts[ho[j]].pe_mips && gr__sim_host_suitable(s, ho[j], v))
				break;
		if (j == s->n_hosts) {
			s->vms[v].gone = true;
			s->not_created++;
			continue;
		}
		gr__sim_host_add(s, ho[j], v);
		s->vms[v].host = ho[j];
	}
	free(ho);
	return 0;
}

void gr__sim_peak_optimize(struct gr_sim *s)
{
	struct peak_state *ps = state(s);
	double target = s->p->param, high = target + 0.1 < 1 ? target + 0.1 : 1;
	int k = (int)s->k;
	memset(ps->win, 0, s->n_hosts * PEAK_W * sizeof *ps->win);
	for (size_t h = 0; h < s->n_hosts; h++) {
		s->hosts[h].mark = 0;
		for (int j = 0; j < s->hosts[h].n; j++)
			win_apply(s, ps, (int)h, s->hosts[h].vms[j], +1);
	}

	/* 1. relieve hosts whose demand passes the high mark */
	for (size_t h = 0; h < s->n_hosts; h++) {
		struct sim_host *ho = &s->hosts[h];
		int guard = 0;
		while (ho->n > 0 && ho->req > high * ho->total && guard++ < 32) {
			double excess = ho->req - target * ho->total;
			int pick = -1, big = -1;
			for (int j = 0; j < ho->n; j++) {
				int v = ho->vms[j];
				if (s->vms[v].demand >= excess && (pick < 0 || s->vms[v].ram < s->vms[pick].ram))
					pick = v;
				if (big < 0 || s->vms[v].demand > s->vms[big].demand)
					big = v;
			}
			int v = pick >= 0 ? pick : big;
			int to = find_target(s, ps, v, (int)h, target, true);
			if (to < 0)
				break;
			move(s, ps, (int)h, to, v);
			gr__sim_plan_add(s, v, to);
			ps->last_moved[v] = k;
		}
	}

	/* 2. empty under-used hosts, least efficient and least loaded first */
	int *cand = ps->order;
	size_t nc = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct sim_host *ho = &s->hosts[h];
		if (ho->n == 0 || peak_with(s, ps, (int)h, -1) >= PEAK_LOW)
			continue;
		bool held = false;
		for (int j = 0; j < ho->n && !held; j++)
			held = k - ps->last_moved[ho->vms[j]] < PEAK_HOLD;
		if (!held)
			cand[nc++] = (int)h;
	}
	/* order: less efficient first, then lower joint peak */
	for (size_t i = 1; i < nc; i++) {
		int x = cand[i];
		size_t j = i;
		while (j > 0) {
			int y = cand[j - 1];
			bool before = ps->eff[x] > ps->eff[y] ||
				      (ps->eff[x] == ps->eff[y] && peak_with(s, ps, x, -1) < peak_with(s, ps, y, -1));
			if (!before)
				break;
			cand[j] = y;
			j--;
		}
		cand[j] = x;
	}
	int moved_vm[64], moved_to[64];
	for (size_t i = 0; i < nc; i++) {
		int h = cand[i];
		struct sim_host *ho = &s->hosts[h];
		if (ho->n == 0 || ho->n > 64 || ho->mark)
			continue;
		ho->mark = 1; /* no VM may land here while it empties */
		int vms[64], n = ho->n, np = 0;
		memcpy(vms, ho->vms, (size_t)n * sizeof *vms);
		bool ok = true;
		for (int j = 0; j < n && ok; j++) {
			int to = find_target(s, ps, vms[j], h, target, false);
			if (to < 0) {
				ok = false;
				break;
			}
			move(s, ps, h, to, vms[j]);
			moved_vm[np] = vms[j];
			moved_to[np++] = to;
		}
		if (!ok) {
			for (int j = np - 1; j >= 0; j--)
				move(s, ps, moved_to[j], h, moved_vm[j]);
			/* restore the original order of the host's list */
			memcpy(ho->vms, vms, (size_t)n * sizeof *vms);
			continue;
		}
		for (int j = 0; j < np; j++) {
			gr__sim_plan_add(s, moved_vm[j], moved_to[j]);
			ps->last_moved[moved_vm[j]] = k;
		}
	}
}
