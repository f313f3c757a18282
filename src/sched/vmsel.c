/*
 * vmsel.c - VM selection of Beloglazov & Buyya (2012): which VM leaves an
 * overloaded host.  MMT (minimum migration time = least RAM), MU (minimum
 * utilisation), RS (random, seeded), MC (maximum correlation: the VM whose
 * history the others explain best, R^2 of a multiple regression; falls back
 * to MMT when there are too few samples).  Ties go to the first VM in the
 * host's list, as in CloudSim.
 */
#include <float.h>
#include <stdlib.h>
#include "sched/sim-internal.h"
#include "util/alloc.h"

static int select_mmt(struct gr_sim *s, const struct sim_host *h)
{
	int best = -1;
	double min = DBL_MAX;
	for (int i = 0; i < h->n; i++) {
		const struct sim_vm *vm = &s->vms[h->vms[i]];
		if (vm->out)
			continue;
		if (vm->ram < min) {
			min = vm->ram;
			best = h->vms[i];
		}
	}
	return best;
}

static int select_mu(struct gr_sim *s, const struct sim_host *h)
{
	int best = -1;
	double min = DBL_MAX;
	for (int i = 0; i < h->n; i++) {
		const struct sim_vm *vm = &s->vms[h->vms[i]];
		if (vm->out)
			continue;
		double m = vm->demand / vm->mips;
		if (m < min) {
			min = m;
			best = h->vms[i];
		}
	}
	return best;
}

static int select_rs(struct gr_sim *s, const struct sim_host *h)
{
	int cand[h->n ? h->n : 1], n = 0;
	for (int i = 0; i < h->n; i++)
		if (!s->vms[h->vms[i]].out)
			cand[n++] = h->vms[i];
	if (!n)
		return -1;
	return cand[gr_sched_rng_below(&s->rng, (uint64_t)n)];
}

static int select_mc(struct gr_sim *s, const struct sim_host *h)
{
	int cand[h->n ? h->n : 1], n = 0;
	for (int i = 0; i < h->n; i++)
		if (!s->vms[h->vms[i]].out)
			cand[n++] = h->vms[i];
	if (!n)
		return -1;
	size_t cols = s->k < s->c->history ? s->k : s->c->history;
	if (cols == 0)
		return select_mmt(s, h);
	double *m = xmalloc((size_t)n * cols * sizeof *m);
	for (int r = 0; r < n; r++)
		for (size_t c = 0; c < cols; c++)
			m[(size_t)r * cols + c] = s->vms[cand[r]].u[s->k - c];
	int best = 0;
	double max = DBL_MIN;
	for (int r = 0; r < n; r++) {
		double r2 = gr_sim_r2_against_others(m, (size_t)n, cols, (size_t)r);
		if (r2 < 0 && n > 1) {
			free(m);
			return select_mmt(s, h);
		}
		if (r2 > max) {
			max = r2;
			best = r;
		}
	}
	free(m);
	return cand[best];
}

int gr__sim_select_vm(struct gr_sim *s, int hi)
{
	const struct sim_host *h = &s->hosts[hi];
	switch (s->p->selector) {
	case GR_SIM_MU:
		return select_mu(s, h);
	case GR_SIM_RS:
		return select_rs(s, h);
	case GR_SIM_MC:
		return select_mc(s, h);
	default:
		return select_mmt(s, h);
	}
}
