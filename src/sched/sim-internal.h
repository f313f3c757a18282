/*
 * sim-internal.h - state shared by the simulator's files (sim.c engine,
 * consolidate.c CloudSim policies, vmsel.c selectors, consolidate_peak.c our
 * policy).  Not part of the public API.
 *
 * During a decision at step k every VM has a demand (requested MIPS at t_k)
 * and sits in its host's list; policies move VMs between host lists
 * tentatively (gr__sim_host_add/gr__sim_host_remove keep the per-host sums right) and
 * record (vm, target) pairs with gr__sim_plan_add.  The engine then restores the
 * lists and turns the plan into live migrations that complete after
 * RAM / (BW/2) seconds, exactly like CloudSim's optimizeAllocation contract.
 */
#ifndef GR_SCHED_SIM_INTERNAL_H
#define GR_SCHED_SIM_INTERNAL_H

#include <stdbool.h>
#include "sched/sched.h"
#include "sched/sim.h"

#define SIM_HIST_MAX 64

struct sim_vm {
	int type;
	double mips, ram, bw;
	const float *u;          /* trace fractions (n_samples + 1) */
	int host;                /* resident host (the source while migrating) */
	int out;                 /* outgoing migrations in flight */
	bool gone;               /* ended (CloudSim: idle VM counted as finished) */
	double demand;           /* requested MIPS at the decision time */
	double alloc;            /* scratch: allocated MIPS at the last state evaluation */
};

struct sim_host {
	int type;
	double pe_mips, total;   /* per PE, whole host */
	double ram, bw;
	const struct gr_sched_power_model *pm;
	int *vms;                /* resident VMs in insertion order */
	int n, cap;
	double capped;           /* sum of min(demand, pe_mips) over vms */
	double req;              /* sum of demand over vms */
	double ram_used, bw_used;/* nominal, only while instantiating (t = 0) */
	double util_mips;        /* utilisation (MIPS) at t_k before the decision */
	double hist[SIM_HIST_MAX]; /* scratch: sum of mips*u over vms, most recent first */
	bool hist_ok;
	int mark;                /* scratch for policies */
};

struct sim_mig {
	int vm, from, to;
	double end;              /* completion time, seconds */
};

struct gr_sim {
	const struct gr_sim_config *c;
	const struct gr_sim_policy *p;
	const struct gr_sim_trace *t;
	struct sim_vm *vms;
	struct sim_host *hosts;
	size_t n_vms, n_hosts;
	size_t k;                /* current step */
	bool instantiating;      /* t = 0: VMs ask their full MIPS, and BW counts */
	size_t not_created;      /* VMs no host could take at t = 0 */
	struct gr_sched_rng rng;
	/* plan of the current decision */
	int *plan_vm, *plan_to;
	size_t n_plan, plan_cap;
	/* saved host lists */
	int **saved;
	int *saved_n;
	/* policy private state */
	void *priv;
};

/* demand of VM v at step k (fraction of its MIPS times MIPS) */
static inline double gr__sim_demand_at(const struct gr_sim *s, int v, size_t k)
{
	return (double)s->vms[v].u[k] * s->vms[v].mips;
}
static inline double gr__sim_host_alloc(const struct sim_host *h)
{
	return h->capped < h->total ? h->capped : h->total;
}
static inline double gr__sim_host_avail(const struct sim_host *h)
{
	return h->capped > h->total ? 0 : h->total - h->capped;
}
static inline double gr__sim_host_util_now(const struct sim_host *h)
{
	double u = h->util_mips / h->total;
	return u > 1 ? 1 : u;
}

void gr__sim_host_add(struct gr_sim *s, int h, int v);
void gr__sim_host_remove(struct gr_sim *s, int h, int v);
/* CloudSim isSuitableForVm: PE and free MIPS (and RAM/BW while instantiating) */
bool gr__sim_host_suitable(const struct gr_sim *s, int h, int v);
/* history of host h (MIPS-weighted sum of its VMs' samples / host MIPS, most
 * recent first) into out; returns its length.  extra >= 0 adds that VM. */
size_t gr__sim_host_history(struct gr_sim *s, int h, int extra, double *out);
void gr__sim_plan_add(struct gr_sim *s, int v, int to);

/* CloudSim policies (consolidate.c) */
int gr__sim_cloudsim_initial(struct gr_sim *s);
void gr__sim_cloudsim_optimize(struct gr_sim *s);
int gr__sim_first_fit_initial(struct gr_sim *s);
/* VM selection (vmsel.c): a VM of host h that is not migrating, or -1 */
int gr__sim_select_vm(struct gr_sim *s, int h);
/* our policy (consolidate_peak.c) */
int gr__sim_peak_initial(struct gr_sim *s);
void gr__sim_peak_optimize(struct gr_sim *s);
void gr__sim_peak_free(struct gr_sim *s);

#endif
