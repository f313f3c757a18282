/*
 * test_sim_select.c - VM selection (MMT, MU, RS, MC) on a hand-made host:
 * known answers, CloudSim's tie rule (first in the host's list), VMs already
 * migrating are never picked, RS is seeded.
 */
#include <string.h>
#include "sched/sim-internal.h"
#include "tap.h"

#define NV 4
#define NS 40

static float util[NV][NS + 1];

static void setup(struct gr_sim *s, struct sim_vm *vms, struct sim_host *h, int *list,
		  struct gr_sim_config *c, struct gr_sim_policy *p)
{
	memset(s, 0, sizeof *s);
	memset(vms, 0, NV * sizeof *vms);
	memset(h, 0, sizeof *h);
	gr_sim_config_default(c);
	s->c = c;
	s->p = p;
	s->vms = vms;
	s->hosts = h;
	s->n_vms = NV;
	s->n_hosts = 1;
	s->k = NS - 1;
	gr_sched_rng_seed(&s->rng, 7);
	static const double ram[NV] = { 1740, 613, 870, 613 };
	static const double mips[NV] = { 1000, 500, 2500, 500 };
	static const double now[NV] = { 0.5, 0.4, 0.1, 0.9 };
	for (int v = 0; v < NV; v++) {
		vms[v].ram = ram[v];
		vms[v].mips = mips[v];
		vms[v].u = util[v];
		vms[v].demand = now[v] * mips[v];
		list[v] = v;
	}
	h->vms = list;
	h->n = NV;
	h->total = 5320;
	h->pe_mips = 2660;
}

int main(void)
{
	/* histories: VM 3 = (VM 0 + VM 1) / 2 exactly, VM 2 independent noise */
	for (int k = 0; k <= NS; k++) {
		util[0][k] = (float)((k % 7) / 10.0);
		util[1][k] = (float)(((k * 3) % 5) / 10.0);
		util[2][k] = (float)(((k * k) % 11) / 20.0);
		util[3][k] = (util[0][k] + util[1][k]) / 2;
	}
	struct gr_sim s;
	struct sim_vm vms[NV];
	struct sim_host h;
	int list[NV];
	struct gr_sim_config c;
	struct gr_sim_policy p = { .kind = GR_SIM_MIGRATION, .detector = GR_SIM_THR, .param = 0.8 };

	p.selector = GR_SIM_MMT;
	setup(&s, vms, &h, list, &c, &p);
	is_int(gr__sim_select_vm(&s, 0), 1, "MMT: least RAM (613 MB), first of the two in the list");
	vms[1].out = 1;
	is_int(gr__sim_select_vm(&s, 0), 3, "MMT: a VM already migrating is skipped");

	p.selector = GR_SIM_MU;
	setup(&s, vms, &h, list, &c, &p);
	is_int(gr__sim_select_vm(&s, 0), 2, "MU: least utilisation (0.1 of its MIPS)");

	p.selector = GR_SIM_RS;
	setup(&s, vms, &h, list, &c, &p);
	int a = gr__sim_select_vm(&s, 0), b = gr__sim_select_vm(&s, 0);
	setup(&s, vms, &h, list, &c, &p);
	ok(a >= 0 && a < NV && gr__sim_select_vm(&s, 0) == a && gr__sim_select_vm(&s, 0) == b,
	   "RS: picks a VM of the host, same seed same picks (%d, %d)", a, b);

	p.selector = GR_SIM_MC;
	setup(&s, vms, &h, list, &c, &p);
	int mc = gr__sim_select_vm(&s, 0);
	ok(mc == 0 || mc == 1 || mc == 3, "MC: one of the linearly dependent VMs (R^2 = 1), got %d", mc);
	s.k = 2; /* 2 samples, 4 VMs: not enough for the regression */
	is_int(gr__sim_select_vm(&s, 0), 1, "MC: too little history falls back to MMT");

	h.n = 0;
	is_int(gr__sim_select_vm(&s, 0), -1, "no VM on the host: -1");
	return tap_done();
}
