/*
 * policy.c - the policy registry and the entry points every caller uses:
 * gr_sched_place() (validate, then ask the policy), gr_sched_place_all()
 * (batch in the policy's order, applying as it goes), gr_sched_rebalance()
 * and gr_sched_apply_plan(); plus the working state rebalancing policies use
 * to try moves without touching the snapshot (loads, allocations and
 * instance positions copied into scratch, changed as moves are planned).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

extern const struct gr_sched_policy_ops gr__policy_static, gr__policy_round_robin,
	gr__policy_least_instances, gr__policy_shortest_queue, gr__policy_diffusive,
	gr__policy_local, gr__policy_global, gr__policy_best_fit, gr__policy_pabfd;

const struct gr_sched_policy_ops *const gr_sched_policies[] = {
	&gr__policy_static,         &gr__policy_round_robin, &gr__policy_least_instances,
	&gr__policy_shortest_queue, &gr__policy_diffusive,   &gr__policy_local,
	&gr__policy_global,         &gr__policy_best_fit,    &gr__policy_pabfd,
	NULL,
};

const struct gr_sched_policy_ops *gr_sched_policy_by_name(const char *name)
{
	for (size_t i = 0; name && gr_sched_policies[i]; i++)
		if (!strcmp(gr_sched_policies[i]->name, name))
			return gr_sched_policies[i];
	return NULL;
}

int gr_sched_place(const struct gr_sched_snapshot *s, const struct gr_sched_policy_ops *p,
		   const struct gr_sched_request *req, struct gr_sched_decision *d, gr_error_t *err)
{
	if (!p || !p->place)
		return gr_error_set(err, EINVAL, "policy %s: cannot place", p ? p->name : "(none)");
	if (gr__request_check(req, err) < 0)
		return -1;
	if (req->name) {
		int idx = gr_sched_instance_find(s, req->name);
		if (idx >= 0 && s->instances[idx].host >= 0)
			return gr_error_set(err, EEXIST, "instance %s: already placed on %s", req->name,
					    s->hosts[s->instances[idx].host].name);
	}
	gr__decision_init(d);
	if (s->n_hosts == 0) {
		snprintf(d->reason, sizeof(d->reason), "no host: the snapshot has no hosts");
		return 0;
	}
	if (p->place(s, req, d, err) < 0)
		return gr_error_prefix(err, "policy %s", p->name);
	return 0;
}

struct order_key {
	double cpu;
	size_t i;
};

static int cmp_decreasing(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;
	if (x->cpu != y->cpu)
		return x->cpu > y->cpu ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

int gr_sched_place_all(struct gr_sched_snapshot *s, const struct gr_sched_policy_ops *p,
		       const struct gr_sched_request *req, size_t n, struct gr_sched_decision *d,
		       gr_error_t *err)
{
	_cleanup_free_ struct order_key *order = xcalloc(n ? n : 1, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = (struct order_key){ (double)req[i].vcpus * req[i].mips_per_vcpu, i };
	if (p && (p->flags & GR_SCHED_POLICY_DECREASING))
		qsort(order, n, sizeof(*order), cmp_decreasing);
	int placed = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k].i;
		if (gr_sched_place(s, p, &req[i], &d[i], err) < 0)
			return gr_error_prefix(err, "request %zu", i);
		if (d[i].host < 0)
			continue;
		if (gr_sched_apply(s, &req[i], &d[i], err) < 0)
			return gr_error_prefix(err, "request %zu", i);
		placed++;
	}
	return placed;
}

/* ---- plans and rebalancing ---------------------------------------------- */

void gr_sched_plan_free(struct gr_sched_plan *p)
{
	free(p->moves);
	memset(p, 0, sizeof(*p));
}

void gr__plan_add(struct gr_sched_plan *p, int inst, int from, int to, double gain, double cost,
		  const char *fmt, ...)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->moves = xrealloc(p->moves, p->cap * sizeof(*p->moves));
	}
	struct gr_sched_migration *m = &p->moves[p->n++];
	*m = (struct gr_sched_migration){ .instance = inst, .from = from, .to = to, .gain = gain,
					  .cost = cost };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
	va_end(ap);
}

int gr_sched_rebalance(const struct gr_sched_snapshot *s, const struct gr_sched_policy_ops *p,
		       struct gr_sched_plan *plan, gr_error_t *err)
{
	plan->n = 0;
	if (!p)
		return gr_error_set(err, EINVAL, "no policy given");
	if (!p->rebalance)
		return gr_error_set(err, EINVAL, "policy %s: places only; the rebalancing policies are local, global and shortest-queue",
				    p->name);
	if (s->n_hosts == 0)
		return 0;
	gr__work_init(s);
	if (p->rebalance(s, plan, err) < 0)
		return gr_error_prefix(err, "policy %s", p->name);
	return 0;
}

int gr_sched_apply_plan(struct gr_sched_snapshot *s, const struct gr_sched_plan *plan,
			gr_error_t *err)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct gr_sched_migration *m = &plan->moves[i];
		if (m->instance < 0 || (size_t)m->instance >= s->n_instances ||
		    s->instances[m->instance].host != m->from)
			return gr_error_set(err, EBUSY, "move %zu: instance %d is no longer on host %d", i,
					    m->instance, m->from);
		if (gr_sched_migrate(s, m->instance, m->to, err) < 0)
			return gr_error_prefix(err, "move %zu", i);
	}
	return 0;
}

static void *grow(void *p, size_t n, size_t size)
{
	return xrealloc(p, (n ? n : 1) * size);
}

void gr__work_init(const struct gr_sched_snapshot *s)
{
	struct gr_sched_scratch *w = s->scratch;
	if (w->work_cap < s->n_hosts) {
		w->load = grow(w->load, s->n_hosts, sizeof(double));
		w->cpu_alloc = grow(w->cpu_alloc, s->n_hosts, sizeof(double));
		w->mem_alloc = grow(w->mem_alloc, s->n_hosts, sizeof(double));
		w->n_inst = grow(w->n_inst, s->n_hosts, sizeof(uint32_t));
		w->work_cap = s->n_hosts;
	}
	if (w->where_cap < s->n_instances) {
		w->where = grow(w->where, s->n_instances, sizeof(int));
		w->where_cap = s->n_instances;
	}
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		w->load[h] = gr_sched_host_load(hs);
		w->cpu_alloc[h] = hs->cpu_alloc;
		w->mem_alloc[h] = hs->mem_alloc;
		w->n_inst[h] = hs->n_instances;
	}
	for (size_t i = 0; i < s->n_instances; i++)
		w->where[i] = s->instances[i].live ? s->instances[i].host : -1;
}

double gr__migration_cost(const struct gr_sched_snapshot *s, int inst)
{
	double bw = s->params.mig_bandwidth_mib_s > 0 ? s->params.mig_bandwidth_mib_s : 1;
	return (double)s->instances[inst].mem_mib / bw * s->params.mig_cost_per_s;
}

bool gr__work_fits(const struct gr_sched_snapshot *s, int inst, int to)
{
	const struct gr_sched_scratch *w = s->scratch;
	const struct gr_sched_instance *in = &s->instances[inst];
	const struct gr_sched_host *h = &s->hosts[to];
	if (h->state != GR_SCHED_HOST_UP || w->where[inst] == to)
		return false;
	if (in->n_need_labels && !gr__host_has_labels(h, in->need_labels, in->n_need_labels))
		return false;
	if (in->vcpus > h->cores || in->mips_per_vcpu > h->mips_per_core * (1 + 1e-9))
		return false;
	if (w->cpu_alloc[to] + in->cpu > h->cpu_cap * (1 + 1e-9) ||
	    w->mem_alloc[to] + (double)in->mem_mib > h->mem_cap * (1 + 1e-9))
		return false;
	for (size_t r = 0; r < in->n_rules; r++) {
		const struct gr_sched_rule *rule = &in->rules[r];
		if (rule->kind != GR_SCHED_ANTI_AFFINITY)
			continue;
		if (rule->target == GR_SCHED_TARGET_INSTANCE) {
			int t = gr_sched_instance_find(s, rule->name);
			if (t >= 0 && w->where[t] == to)
				return false;
		} else {
			int g = gr__map_get(&s->names->groups, rule->name);
			if (g < 0)
				continue;
			const struct gr_sched_group *gp = &s->groups[g];
			for (size_t k = 0; k < gp->n; k++)
				if (gp->members[k] != inst && w->where[gp->members[k]] == to)
					return false;
		}
	}
	return true;
}

void gr__work_move(const struct gr_sched_snapshot *s, int inst, int from, int to)
{
	struct gr_sched_scratch *w = s->scratch;
	const struct gr_sched_instance *in = &s->instances[inst];
	double use = in->cpu * in->util_now;
	w->load[from] -= use / s->hosts[from].cpu_phys;
	w->load[to] += use / s->hosts[to].cpu_phys;
	w->cpu_alloc[from] -= in->cpu;
	w->cpu_alloc[to] += in->cpu;
	w->mem_alloc[from] -= (double)in->mem_mib;
	w->mem_alloc[to] += (double)in->mem_mib;
	w->n_inst[from]--;
	w->n_inst[to]++;
	w->where[inst] = to;
}
