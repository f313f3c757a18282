/*
 * sim.c - the simulator engine: data centre state, the event timeline of one
 * day, and the accounting of energy and SLA metrics (CloudSim 3.0.3 model,
 * docs/SCHEDULER.md "Simulator").
 *
 * Timeline: decisions at t_k = k * interval for k = 1..n_samples-1; the
 * migrations a decision starts complete RAM / (BW/2) seconds later (well
 * inside the interval).  Between events the model evaluates every host at
 * each event time: a VM asks u(t) * MIPS (trace linearly interpolated),
 * capped to one PE; a migrating VM gets 90 % on its source and reserves 10 %
 * on its target; an over-subscribed host scales every allocation down.
 * Energy of [a, b] = (P(u(a+)) + P(u(b-))) / 2 * (b - a), zero for a host
 * idle at a (switched off).  SLATAH counts active host time with allocated <
 * requested; PDM counts the MIPS a VM loses while its migration runs.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "sched/sim-internal.h"
#include "util/alloc.h"

#define EPS 1e-9

void gr_sim_config_default(struct gr_sim_config *c)
{
	memset(c, 0, sizeof *c);
	c->n_hosts = 800;
	c->n_host_types = 2;
	c->host_types[0] = (struct gr_sim_host_type){ 1860, 2, 4096, 1000000, "hp-ml110-g4" };
	c->host_types[1] = (struct gr_sim_host_type){ 2660, 2, 4096, 1000000, "hp-ml110-g5" };
	c->n_vm_types = 4;
	c->vm_types[0] = (struct gr_sim_vm_type){ 2500, 870, 100000 };
	c->vm_types[1] = (struct gr_sim_vm_type){ 2000, 1740, 100000 };
	c->vm_types[2] = (struct gr_sim_vm_type){ 1000, 1740, 100000 };
	c->vm_types[3] = (struct gr_sim_vm_type){ 500, 613, 100000 };
	c->interval = 300;
	c->history = 30;
	c->fallback_thr = 0.7;
	c->degradation = 0.1;
	c->seed = 1;
	c->time_offset = 0.1;
	c->idle_vm_ends = 1;
}

/* ---- policy names --------------------------------------------------------- */

static const char *const det_names[] = { "thr", "iqr", "mad", "lr", "lrr" };
static const double det_default[] = { 0.8, 1.5, 2.5, 1.2, 1.2 };
static const char *const sel_names[] = { "mmt", "rs", "mc", "mu" };

int gr_sim_policy_parse(const char *s, struct gr_sim_policy *p, gr_error_t *err)
{
	memset(p, 0, sizeof *p);
	char buf[64];
	/* 40: the name keeps the text as given and must fit p->name */
	if (!s || !*s || strlen(s) >= 40)
		return gr_error_set(err, EINVAL, "policy '%.60s': empty or longer than 39 characters",
				    s ? s : "");
	for (size_t i = 0; s[i]; i++)
		buf[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	buf[strlen(s)] = 0;
	if (!strcmp(buf, "npa") || !strcmp(buf, "dvfs")) {
		p->kind = buf[0] == 'n' ? GR_SIM_NPA : GR_SIM_DVFS;
		snprintf(p->name, sizeof p->name, "%s", buf);
		return 0;
	}
	char *parts[4] = { 0 };
	int np = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, "-", &save); tok; tok = strtok_r(NULL, "-", &save)) {
		if (np == 3)
			return gr_error_set(err, EINVAL, "policy '%s': too many '-' parts", s);
		parts[np++] = tok;
	}
	char *param_s = NULL;
	if (np >= 1 && !strcmp(parts[0], "peak")) {
		if (np > 2)
			return gr_error_set(err, EINVAL, "policy '%s': use peak or peak-<target load>", s);
		p->kind = GR_SIM_PEAK;
		p->param = 0.85;
		param_s = np == 2 ? parts[1] : NULL;
	} else {
		if (np < 2)
			return gr_error_set(err, EINVAL,
					    "policy '%s': unknown (want npa, dvfs, peak or <detector>-<selector>[-<param>])", s);
		int d = -1, v = -1;
		for (int i = 0; i < 5; i++)
			if (!strcmp(parts[0], det_names[i]))
				d = i;
		for (int i = 0; i < 4; i++)
			if (!strcmp(parts[1], sel_names[i]))
				v = i;
		if (d < 0)
			return gr_error_set(err, EINVAL,
					    "policy '%s': unknown detector '%s' (thr, iqr, mad, lr, lrr)", s, parts[0]);
		if (v < 0)
			return gr_error_set(err, EINVAL,
					    "policy '%s': unknown VM selector '%s' (mmt, rs, mc, mu)", s, parts[1]);
		p->kind = GR_SIM_MIGRATION;
		p->detector = (enum gr_sim_detector)d;
		p->selector = (enum gr_sim_selector)v;
		p->param = det_default[d];
		param_s = np == 3 ? parts[2] : NULL;
	}
	if (param_s) {
		char *e = NULL;
		errno = 0;
		double x = strtod(param_s, &e);
		if (e == param_s || *e || errno || !isfinite(x) || x <= 0 || x > 10)
			return gr_error_set(err, EINVAL, "policy '%s': parameter '%s' is not a number in (0, 10]",
					    s, param_s);
		if ((p->kind == GR_SIM_PEAK || p->detector == GR_SIM_THR) && x > 1)
			return gr_error_set(err, EINVAL, "policy '%s': threshold %s is above 1", s, param_s);
		p->param = x;
	}
	/* the name shows the parameter as the user wrote it ("thr-mmt-1.0" stays
	 * "thr-mmt-1.0"), or the default when none was given */
	char dflt[32];
	snprintf(dflt, sizeof dflt, "%g", p->param);
	if (p->kind == GR_SIM_PEAK)
		snprintf(p->name, sizeof p->name, "peak-%s", param_s ? param_s : dflt);
	else
		snprintf(p->name, sizeof p->name, "%s-%s-%s", det_names[p->detector],
			 sel_names[p->selector], param_s ? param_s : dflt);
	return 0;
}

/* ---- host lists -------------------------------------------------------------- */

static void host_resum(struct gr_sim *s, struct sim_host *h)
{
	h->capped = h->req = h->ram_used = h->bw_used = 0;
	for (int i = 0; i < h->n; i++) {
		const struct sim_vm *v = &s->vms[h->vms[i]];
		h->capped += v->demand < h->pe_mips ? v->demand : h->pe_mips;
		h->req += v->demand;
		h->ram_used += v->ram;
		h->bw_used += v->bw;
	}
	h->hist_ok = false;
}

void gr__sim_host_add(struct gr_sim *s, int hi, int v)
{
	struct sim_host *h = &s->hosts[hi];
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 8;
		h->vms = xrealloc(h->vms, (size_t)h->cap * sizeof *h->vms);
	}
	h->vms[h->n++] = v;
	host_resum(s, h);
}

void gr__sim_host_remove(struct gr_sim *s, int hi, int v)
{
	struct sim_host *h = &s->hosts[hi];
	for (int i = 0; i < h->n; i++)
		if (h->vms[i] == v) {
			memmove(h->vms + i, h->vms + i + 1, (size_t)(h->n - i - 1) * sizeof *h->vms);
			h->n--;
			break;
		}
	host_resum(s, h);
}

bool gr__sim_host_suitable(const struct gr_sim *s, int hi, int v)
{
	const struct sim_host *h = &s->hosts[hi];
	const struct sim_vm *vm = &s->vms[v];
	if (h->pe_mips < vm->demand || gr__sim_host_avail(h) < vm->demand)
		return false;
	if (s->instantiating && h->bw_used + vm->bw > h->bw)
		return false;
	return true;
}

size_t gr__sim_host_history(struct gr_sim *s, int hi, int extra, double *out)
{
	struct sim_host *h = &s->hosts[hi];
	size_t len = s->k < s->c->history ? s->k : s->c->history;
	if (!h->hist_ok) {
		memset(h->hist, 0, sizeof h->hist);
		for (int j = 0; j < h->n; j++) {
			const struct sim_vm *vm = &s->vms[h->vms[j]];
			for (size_t i = 0; i < len; i++)
				h->hist[i] += (double)vm->u[s->k - i] * vm->mips;
		}
		h->hist_ok = true;
	}
	for (size_t i = 0; i < len; i++) {
		double x = h->hist[i];
		if (extra >= 0)
			x += (double)s->vms[extra].u[s->k - i] * s->vms[extra].mips;
		out[i] = x / h->total;
	}
	return len;
}

void gr__sim_plan_add(struct gr_sim *s, int v, int to)
{
	if (s->n_plan == s->plan_cap) {
		s->plan_cap = s->plan_cap ? 2 * s->plan_cap : 256;
		s->plan_vm = xrealloc(s->plan_vm, s->plan_cap * sizeof *s->plan_vm);
		s->plan_to = xrealloc(s->plan_to, s->plan_cap * sizeof *s->plan_to);
	}
	s->plan_vm[s->n_plan] = v;
	s->plan_to[s->n_plan++] = to;
}

/* ---- first fit (NPA, DVFS: CloudSim PowerVmAllocationPolicySimple) --------- */

int gr__sim_first_fit_initial(struct gr_sim *s)
{
	for (size_t v = 0; v < s->n_vms; v++) {
		size_t h;
		for (h = 0; h < s->n_hosts; h++)
			if (gr__sim_host_suitable(s, (int)h, (int)v))
				break;
		if (h == s->n_hosts) {
			s->vms[v].gone = true;
			s->not_created++;
			continue;
		}
		gr__sim_host_add(s, (int)h, (int)v);
		s->vms[v].host = (int)h;
	}
	return 0;
}

/* ---- state evaluation and accounting -------------------------------------- */

struct eval {
	double *util;   /* host utilisation MIPS */
	double *req;    /* host requested MIPS */
	double *fsum;   /* scratch */
	double *vreq;   /* VM requested MIPS (resident side) */
	int *nin;       /* migrations into the host in flight */
};

struct timeline {
	struct sim_mig *m;
	size_t n, cap;
};

static double demand_at(const struct gr_sim *s, int v, double tau)
{
	double x = tau / s->c->interval;
	size_t k0 = (size_t)x;
	if (k0 >= s->t->n_samples)
		k0 = s->t->n_samples - 1;
	double f = x - (double)k0;
	const float *u = s->vms[v].u;
	double w = (double)u[k0] + ((double)u[k0 + 1] - (double)u[k0]) * f;
	return w * s->vms[v].mips;
}

static void evaluate(struct gr_sim *s, const struct timeline *tl, double tau, struct eval *e)
{
	double deg = s->c->degradation;
	for (size_t h = 0; h < s->n_hosts; h++) {
		e->util[h] = e->req[h] = e->fsum[h] = 0;
		e->nin[h] = 0;
	}
	for (size_t v = 0; v < s->n_vms; v++) {
		if (s->vms[v].gone) {
			e->vreq[v] = 0;
			s->vms[v].alloc = 0;
			continue;
		}
		const struct sim_host *h = &s->hosts[s->vms[v].host];
		double d = demand_at(s, (int)v, tau);
		e->vreq[v] = d;
		e->fsum[s->vms[v].host] += d < h->pe_mips ? d : h->pe_mips;
		e->req[s->vms[v].host] += d;
	}
	for (size_t i = 0; i < tl->n; i++) {
		const struct sim_host *h = &s->hosts[tl->m[i].to];
		double d = e->vreq[tl->m[i].vm];
		e->fsum[tl->m[i].to] += deg * (d < h->pe_mips ? d : h->pe_mips);
		e->nin[tl->m[i].to]++;
		e->req[tl->m[i].to] += d;
	}
	for (size_t v = 0; v < s->n_vms; v++) {
		struct sim_vm *vm = &s->vms[v];
		if (vm->gone)
			continue;
		const struct sim_host *h = &s->hosts[vm->host];
		double f = e->fsum[vm->host];
		double scale = f > h->total ? h->total / f : 1;
		double d = e->vreq[v];
		double a = (d < h->pe_mips ? d : h->pe_mips) * scale;
		if (vm->out) {
			a *= 1 - deg;
			vm->alloc = a;
			e->util[vm->host] += a / (1 - deg);
		} else {
			vm->alloc = a;
			e->util[vm->host] += a;
		}
	}
	for (size_t i = 0; i < tl->n; i++) {
		const struct sim_host *h = &s->hosts[tl->m[i].to];
		double f = e->fsum[tl->m[i].to];
		double scale = f > h->total ? h->total / f : 1;
		double d = e->vreq[tl->m[i].vm];
		e->util[tl->m[i].to] += deg * (d < h->pe_mips ? d : h->pe_mips) * scale;
	}
}

struct acct {
	double energy_j, step_energy_j;
	double active_time, viol_time, viol_mig_time;
	double vm_req, vm_alloc, vm_mig_loss;
	uint64_t shutdowns;
	bool *prev_active;
};

static double host_u(const struct sim_host *h, double util_mips)
{
	double u = util_mips / h->total;
	return u < 0 ? 0 : (u > 1 ? 1 : u);
}

/* account [a, b]: start state st (a+), end utilisation en (b-) */
static void account(struct gr_sim *s, struct acct *ac, const struct eval *st, const struct eval *en,
		    double dt)
{
	if (dt <= 0)
		return;
	bool npa = s->p->kind == GR_SIM_NPA;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct sim_host *ho = &s->hosts[h];
		double e;
		if (npa)
			e = ho->pm->watts[GR_SCHED_POWER_STEPS - 1] * dt;
		else if (st->util[h] <= 0)
			e = 0;
		else
			e = (gr_sched_power_at(ho->pm, host_u(ho, st->util[h])) +
			     gr_sched_power_at(ho->pm, host_u(ho, en->util[h]))) / 2 * dt;
		ac->energy_j += e;
		ac->step_energy_j += e;
		if (st->util[h] > 0) {
			ac->active_time += dt;
			if (st->util[h] < st->req[h] * (1 - EPS)) {
				ac->viol_time += dt;
				if (st->nin[h])
					ac->viol_mig_time += dt;
			}
		}
	}
	for (size_t v = 0; v < s->n_vms; v++) {
		const struct sim_vm *vm = &s->vms[v];
		double d = st->vreq[v], a = vm->alloc;
		ac->vm_req += d * dt;
		ac->vm_alloc += a * dt;
		if (vm->out && a < d * (1 - EPS))
			ac->vm_mig_loss += (d - a) * dt;
	}
}

static void note_states(struct gr_sim *s, struct acct *ac, const struct eval *st)
{
	for (size_t h = 0; h < s->n_hosts; h++) {
		bool active = st->util[h] > 0;
		if (ac->prev_active[h] && !active)
			ac->shutdowns++;
		ac->prev_active[h] = active;
	}
}

/* vm->alloc belongs to the last evaluate(); keep the start state's copy */
static void save_alloc(struct gr_sim *s, double *dst)
{
	for (size_t v = 0; v < s->n_vms; v++)
		dst[v] = s->vms[v].alloc;
}
static void load_alloc(struct gr_sim *s, const double *src)
{
	for (size_t v = 0; v < s->n_vms; v++)
		s->vms[v].alloc = src[v];
}

static int cmp_mig_end(const void *a, const void *b)
{
	const struct sim_mig *x = a, *y = b;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* CloudSim ends a VM that asks 0 MIPS at an event and is not migrating
 * (HostDynamicWorkload.getCompletedVms); reproduction needs it. */
static void retire_idle(struct gr_sim *s, const struct timeline *tl, double tau)
{
	if (!s->c->idle_vm_ends)
		return;
	for (size_t v = 0; v < s->n_vms; v++) {
		struct sim_vm *vm = &s->vms[v];
		if (vm->gone || vm->out || demand_at(s, (int)v, tau) != 0)
			continue;
		bool incoming = false;
		for (size_t i = 0; i < tl->n && !incoming; i++)
			incoming = tl->m[i].vm == (int)v;
		if (incoming)
			continue;
		gr__sim_host_remove(s, vm->host, (int)v);
		vm->gone = true;
		vm->demand = 0;
	}
}

/* Run the interval from t0 to t1 (t1 < 0: only until the last migration). */
static void run_interval(struct gr_sim *s, struct timeline *tl, struct acct *ac, struct eval *cur,
			 struct eval *nxt, double *cur_alloc, double t0, double t1)
{
	/* migrations complete in end order, ties in plan order (stable) */
	size_t n = tl->n;
	struct sim_mig *order = xmalloc((n ? n : 1) * sizeof *order);
	if (n)
		memcpy(order, tl->m, n * sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i].from = (int)i; /* reuse as sequence number for stability */
	/* insertion sort keeps ties stable */
	for (size_t i = 1; i < n; i++) {
		struct sim_mig x = order[i];
		size_t j = i;
		while (j > 0 && cmp_mig_end(&order[j - 1], &x) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = x;
	}
	double a = t0;
	size_t i = 0;
	while (i < n) {
		double e = order[i].end;
		evaluate(s, tl, e, nxt);
		load_alloc(s, cur_alloc);
		account(s, ac, cur, nxt, e - a);
		for (; i < n && order[i].end == e; i++) {
			struct sim_vm *vm = &s->vms[order[i].vm];
			gr__sim_host_remove(s, vm->host, order[i].vm);
			gr__sim_host_add(s, order[i].to, order[i].vm);
			vm->host = order[i].to;
			vm->out--;
			/* drop this record from the in-flight list */
			for (size_t j = 0; j < tl->n; j++)
				if (tl->m[j].vm == order[i].vm && tl->m[j].to == order[i].to &&
				    tl->m[j].end == e) {
					memmove(tl->m + j, tl->m + j + 1, (tl->n - j - 1) * sizeof *tl->m);
					tl->n--;
					break;
				}
		}
		retire_idle(s, tl, e);
		evaluate(s, tl, e, cur);
		save_alloc(s, cur_alloc);
		note_states(s, ac, cur);
		a = e;
	}
	free(order);
	if (t1 >= 0) {
		evaluate(s, tl, t1, nxt);
		load_alloc(s, cur_alloc);
		account(s, ac, cur, nxt, t1 - a);
	}
}

/* ---- run ------------------------------------------------------------------ */

/* Load (demand / capacity at the decision time) of every host the plan sends
 * a VM to, with the plan applied; the maximum goes to r->max_target_load. */
static void check_targets(struct gr_sim *s, struct gr_sim_result *r)
{
	if (!s->n_plan)
		return;
	int *final = xmalloc(s->n_vms * sizeof *final);
	double *load = xcalloc(s->n_hosts, sizeof *load);
	char *target = xcalloc(s->n_hosts, 1);
	for (size_t v = 0; v < s->n_vms; v++)
		final[v] = s->vms[v].gone ? -1 : s->vms[v].host;
	for (size_t i = 0; i < s->n_plan; i++) {
		final[s->plan_vm[i]] = s->plan_to[i];
		target[s->plan_to[i]] = 1;
	}
	for (size_t v = 0; v < s->n_vms; v++)
		if (final[v] >= 0)
			load[final[v]] += s->vms[v].demand;
	for (size_t h = 0; h < s->n_hosts; h++)
		if (target[h] && load[h] / s->hosts[h].total > r->max_target_load)
			r->max_target_load = load[h] / s->hosts[h].total;
	free(final);
	free(load);
	free(target);
}

static void sim_free(struct gr_sim *s)
{
	if (s->p && s->p->kind == GR_SIM_PEAK)
		gr__sim_peak_free(s);
	for (size_t h = 0; h < s->n_hosts; h++) {
		free(s->hosts[h].vms);
		if (s->saved)
			free(s->saved[h]);
	}
	free(s->saved);
	free(s->saved_n);
	free(s->hosts);
	free(s->vms);
	free(s->plan_vm);
	free(s->plan_to);
}

static void save_lists(struct gr_sim *s)
{
	for (size_t h = 0; h < s->n_hosts; h++) {
		struct sim_host *ho = &s->hosts[h];
		s->saved[h] = xrealloc(s->saved[h], (size_t)(ho->n ? ho->n : 1) * sizeof(int));
		if (ho->n)
			memcpy(s->saved[h], ho->vms, (size_t)ho->n * sizeof(int));
		s->saved_n[h] = ho->n;
	}
}

static void restore_lists(struct gr_sim *s)
{
	for (size_t h = 0; h < s->n_hosts; h++) {
		struct sim_host *ho = &s->hosts[h];
		if (ho->cap < s->saved_n[h]) {
			ho->cap = s->saved_n[h];
			ho->vms = xrealloc(ho->vms, (size_t)ho->cap * sizeof *ho->vms);
		}
		if (s->saved_n[h])
			memcpy(ho->vms, s->saved[h], (size_t)s->saved_n[h] * sizeof(int));
		ho->n = s->saved_n[h];
		host_resum(s, ho);
	}
}

static int check_config(const struct gr_sim_config *c, const struct gr_sim_trace *t, gr_error_t *err)
{
	if (c->n_hosts == 0)
		return gr_error_set(err, EINVAL, "config.n_hosts: must be at least 1");
	if (c->n_host_types == 0 || c->n_host_types > GR_SIM_MAX_TYPES)
		return gr_error_set(err, EINVAL, "config.n_host_types: %zu not in 1..%d",
				    c->n_host_types, GR_SIM_MAX_TYPES);
	if (c->n_vm_types == 0 || c->n_vm_types > GR_SIM_MAX_TYPES)
		return gr_error_set(err, EINVAL, "config.n_vm_types: %zu not in 1..%d", c->n_vm_types,
				    GR_SIM_MAX_TYPES);
	for (size_t i = 0; i < c->n_host_types; i++) {
		const struct gr_sim_host_type *ht = &c->host_types[i];
		if (!(ht->mips_per_pe > 0) || ht->pes < 1 || !(ht->ram_mb > 0) || !(ht->bw > 0))
			return gr_error_set(err, EINVAL, "config.host_types[%zu]: MIPS, PEs, RAM, BW must be > 0", i);
		if (!gr_sched_power_by_name(ht->power))
			return gr_error_set(err, EINVAL, "config.host_types[%zu].power: unknown model '%s'", i,
					    ht->power ? ht->power : "(null)");
	}
	for (size_t i = 0; i < c->n_vm_types; i++)
		if (!(c->vm_types[i].mips > 0) || !(c->vm_types[i].ram_mb > 0) || c->vm_types[i].bw < 0)
			return gr_error_set(err, EINVAL, "config.vm_types[%zu]: MIPS and RAM must be > 0", i);
	if (!(c->interval > 0))
		return gr_error_set(err, EINVAL, "config.interval: must be > 0");
	if (c->history < 1 || c->history > SIM_HIST_MAX)
		return gr_error_set(err, EINVAL, "config.history: %zu not in 1..%d", c->history, SIM_HIST_MAX);
	if (!(c->degradation >= 0 && c->degradation < 1))
		return gr_error_set(err, EINVAL, "config.degradation: %g not in [0, 1)", c->degradation);
	if (!t || t->n_vms == 0 || t->n_samples < 2)
		return gr_error_set(err, EINVAL, "trace: no VMs or fewer than 2 samples");
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int gr_sim_run(const struct gr_sim_trace *t, const struct gr_sim_config *c,
	       const struct gr_sim_policy *p, struct gr_sim_result *r, gr_error_t *err)
{
	memset(r, 0, sizeof *r);
	if (check_config(c, t, err) < 0)
		return -1;
	double t_start = now_s();
	struct gr_sim s = { .c = c, .p = p, .t = t, .n_vms = t->n_vms, .n_hosts = c->n_hosts };
	gr_sched_rng_seed(&s.rng, c->seed);
	s.hosts = xcalloc(s.n_hosts, sizeof *s.hosts);
	s.vms = xcalloc(s.n_vms, sizeof *s.vms);
	s.saved = xcalloc(s.n_hosts, sizeof *s.saved);
	s.saved_n = xcalloc(s.n_hosts, sizeof *s.saved_n);
	for (size_t h = 0; h < s.n_hosts; h++) {
		const struct gr_sim_host_type *ht = &c->host_types[h % c->n_host_types];
		struct sim_host *ho = &s.hosts[h];
		ho->type = (int)(h % c->n_host_types);
		ho->pe_mips = ht->mips_per_pe;
		ho->total = ht->mips_per_pe * ht->pes;
		ho->ram = ht->ram_mb;
		ho->bw = ht->bw;
		ho->pm = gr_sched_power_by_name(ht->power);
	}
	size_t block = (s.n_vms + c->n_vm_types - 1) / c->n_vm_types;
	size_t stride = t->n_samples + 1;
	for (size_t v = 0; v < s.n_vms; v++) {
		struct sim_vm *vm = &s.vms[v];
		vm->type = (int)(v / block);
		vm->mips = c->vm_types[vm->type].mips;
		vm->ram = c->vm_types[vm->type].ram_mb;
		vm->bw = c->vm_types[vm->type].bw;
		vm->u = t->util + v * stride;
		vm->demand = vm->mips; /* being instantiated: full MIPS */
		vm->gone = false;
		vm->host = -1;
	}
	/* initial placement at t = 0 */
	s.instantiating = true;
	int rc;
	switch (p->kind) {
	case GR_SIM_NPA:
	case GR_SIM_DVFS:
		rc = gr__sim_first_fit_initial(&s);
		break;
	case GR_SIM_MIGRATION:
		rc = gr__sim_cloudsim_initial(&s);
		break;
	default:
		rc = gr__sim_peak_initial(&s);
		break;
	}
	s.instantiating = false;
	if (rc < 0) {
		sim_free(&s);
		return gr_error_set(err, ENOSPC, "%s: the %zu VMs of %s do not fit on %zu hosts",
				    p->name, s.n_vms, t->dir ? t->dir : "the trace", s.n_hosts);
	}

	size_t K = t->n_samples - 1;
	struct eval e1, e2;
	struct eval *cur = &e1, *nxt = &e2;
	for (int i = 0; i < 2; i++) {
		struct eval *e = i ? &e2 : &e1;
		e->util = xcalloc(s.n_hosts, sizeof(double));
		e->req = xcalloc(s.n_hosts, sizeof(double));
		e->fsum = xcalloc(s.n_hosts, sizeof(double));
		e->vreq = xcalloc(s.n_vms, sizeof(double));
		e->nin = xcalloc(s.n_hosts, sizeof(int));
	}
	double *cur_alloc = xcalloc(s.n_vms, sizeof(double));
	struct acct ac = { 0 };
	ac.prev_active = xmalloc(s.n_hosts * sizeof(bool));
	for (size_t h = 0; h < s.n_hosts; h++)
		ac.prev_active[h] = true;
	struct timeline tl = { 0 };
	r->n_steps = K;
	r->active_hosts = xcalloc(K, sizeof(double));
	r->step_energy_kwh = xcalloc(K, sizeof(double));

	double off = c->time_offset;
	for (size_t v = 0; v < s.n_vms; v++)
		s.vms[v].demand = s.vms[v].gone ? 0 : demand_at(&s, (int)v, off);
	for (size_t h = 0; h < s.n_hosts; h++)
		host_resum(&s, &s.hosts[h]);
	evaluate(&s, &tl, off, cur);
	save_alloc(&s, cur_alloc);
	note_states(&s, &ac, cur);
	double active_sum = 0;
	for (size_t k = 1; k <= K; k++) {
		double t0 = (double)(k - 1) * c->interval + off, t1 = (double)k * c->interval + off;
		ac.step_energy_j = 0;
		run_interval(&s, &tl, &ac, cur, nxt, cur_alloc, t0, t1);
		r->step_energy_kwh[k - 1] = ac.step_energy_j / 3.6e6;
		retire_idle(&s, &tl, t1);
		/* decision at t_k on the state just before it */
		s.k = k;
		for (size_t v = 0; v < s.n_vms; v++)
			s.vms[v].demand = s.vms[v].gone ? 0 : demand_at(&s, (int)v, t1);
		for (size_t h = 0; h < s.n_hosts; h++) {
			s.hosts[h].util_mips = nxt->util[h];
			host_resum(&s, &s.hosts[h]);
		}
		s.n_plan = 0;
		if (p->kind == GR_SIM_MIGRATION || p->kind == GR_SIM_PEAK) {
			save_lists(&s);
			if (p->kind == GR_SIM_MIGRATION)
				gr__sim_cloudsim_optimize(&s);
			else
				gr__sim_peak_optimize(&s);
			restore_lists(&s);
		}
		check_targets(&s, r);
		for (size_t i = 0; i < s.n_plan; i++) {
			struct sim_vm *vm = &s.vms[s.plan_vm[i]];
			const struct sim_host *to = &s.hosts[s.plan_to[i]];
			if (tl.n == tl.cap) {
				tl.cap = tl.cap ? 2 * tl.cap : 256;
				tl.m = xrealloc(tl.m, tl.cap * sizeof *tl.m);
			}
			tl.m[tl.n++] = (struct sim_mig){ s.plan_vm[i], vm->host, s.plan_to[i],
							 t1 + vm->ram / (to->bw / (2 * 8000.0)) };
			vm->out++;
		}
		r->migrations += s.n_plan;
		evaluate(&s, &tl, t1, cur);
		save_alloc(&s, cur_alloc);
		note_states(&s, &ac, cur);
		size_t active = 0;
		for (size_t h = 0; h < s.n_hosts; h++)
			active += cur->util[h] > 0;
		r->active_hosts[k - 1] = (double)active;
		active_sum += (double)active;
	}
	/* the last decision's migrations still complete before the day ends */
	run_interval(&s, &tl, &ac, cur, nxt, cur_alloc, (double)K * c->interval + off, -1);

	snprintf(r->policy, sizeof r->policy, "%s", p->name);
	snprintf(r->trace, sizeof r->trace, "%s", t->dir ? t->dir : "");
	r->n_vms = s.n_vms;
	r->vms_not_created = s.not_created;
	r->n_hosts = s.n_hosts;
	r->energy_kwh = ac.energy_j / 3.6e6;
	r->slatah = ac.active_time > 0 ? ac.viol_time / ac.active_time : 0;
	r->pdm = ac.vm_req > 0 ? ac.vm_mig_loss / ac.vm_req : 0;
	r->slav = r->slatah * r->pdm;
	r->slatah_migration = ac.active_time > 0 ? ac.viol_mig_time / ac.active_time : 0;
	r->esv = r->energy_kwh * r->slav;
	r->sla_overall = ac.vm_req > 0 ? (ac.vm_req - ac.vm_alloc) / ac.vm_req : 0;
	r->shutdowns = ac.shutdowns;
	r->mean_active_hosts = active_sum / (double)K;
	for (int i = 0; i < 2; i++) {
		struct eval *e = i ? &e2 : &e1;
		free(e->util);
		free(e->req);
		free(e->fsum);
		free(e->vreq);
		free(e->nin);
	}
	free(cur_alloc);
	free(ac.prev_active);
	free(tl.m);
	sim_free(&s);
	r->wall_s = now_s() - t_start;
	return 0;
}

void gr_sim_result_free(struct gr_sim_result *r)
{
	free(r->active_hosts);
	free(r->step_energy_kwh);
	r->active_hosts = r->step_energy_kwh = NULL;
}
