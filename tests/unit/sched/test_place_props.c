/*
 * test_place_props.c - randomised (seeded) properties of every policy on
 * generated clusters, checked against an independent oracle written here from
 * the public fields: a placed host passes every filter, no host is ever over
 * capacity, aggregates equal the sums over instances, maintenance/down/
 * draining hosts are never chosen, anti-affinity and labels hold, a request
 * is placed whenever some host fits (for policies with a whole-cluster view)
 * or carries a reason, scoring policies pick an optimal host, and the same
 * seed gives the same decisions.  Rebalancing plans keep every invariant.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "sched/sched.h"
#include "tap.h"

#define N_HOSTS 40
#define N_REQ 400

static const char *const label_pool[] = { "disk=ssd", "zone=a", "zone=b", "gpu=yes" };
static gr_error_t err;

struct gen_req {
	struct gr_sched_request r;
	char name[24], group[16];
	const char *labels[1];
	struct gr_sched_rule rule;
	double util[3];
};

static struct gr_sched_snapshot *gen_cluster(uint64_t seed)
{
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(seed);
	struct gr_sched_rng rng;
	gr_sched_rng_seed(&rng, seed ^ 0xc1u);
	for (int i = 0; i < N_HOSTS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "h%02d", i);
		const char *labels[2];
		size_t nl = 0;
		if (gr_sched_rng_below(&rng, 2))
			labels[nl++] = label_pool[gr_sched_rng_below(&rng, 3)];
		if (gr_sched_rng_below(&rng, 5) == 0)
			labels[nl++] = "gpu=yes";
		static const double oc[] = { 1, 1.5, 2 };
		uint64_t st = gr_sched_rng_below(&rng, 10);
		struct gr_sched_host h = {
			.name = name,
			.cores = 2 + (uint32_t)gr_sched_rng_below(&rng, 15),
			.mips_per_core = 1000 + 500 * (double)gr_sched_rng_below(&rng, 4),
			.mem_mib = 4096 * (1 + gr_sched_rng_below(&rng, 16)),
			.cpu_overcommit = oc[gr_sched_rng_below(&rng, 3)],
			.state = st == 0 ? GR_SCHED_HOST_MAINTENANCE : st == 1 ? GR_SCHED_HOST_DOWN
					: st == 2 ? GR_SCHED_HOST_DRAINING : GR_SCHED_HOST_UP,
			.labels = labels,
			.n_labels = nl,
			.power = gr_sched_rng_below(&rng, 4) ? gr_sched_power_by_name(i % 2 ? "hp-ml110-g4" : "hp-ml110-g5")
							   : NULL,
		};
		if (gr_sched_add_host(s, &h, &err) < 0)
			ok(0, "gen_cluster: add_host %s: %s", name, err.msg);
	}
	return s;
}

static void gen_request(struct gr_sched_rng *rng, int i, struct gen_req *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "i%d", i);
	g->r.name = gr_sched_rng_below(rng, 4) ? g->name : NULL;
	g->r.vcpus = 1 + (uint32_t)gr_sched_rng_below(rng, 4);
	g->r.mips_per_vcpu = 250 * (1 + (double)gr_sched_rng_below(rng, 8));
	g->r.mem_mib = 256 * (1 + gr_sched_rng_below(rng, 32));
	if (gr_sched_rng_below(rng, 6) == 0) {
		g->labels[0] = label_pool[gr_sched_rng_below(rng, 4)];
		g->r.labels = g->labels;
		g->r.n_labels = 1;
	}
	uint64_t kind = gr_sched_rng_below(rng, 8);
	if (kind == 0) { /* spread group */
		snprintf(g->group, sizeof(g->group), "g%d", (int)gr_sched_rng_below(rng, 5));
		g->r.group = g->group;
		g->rule = (struct gr_sched_rule){ GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_GROUP, g->group };
		g->r.rules = &g->rule;
		g->r.n_rules = 1;
	} else if (kind == 1 && i > 0) { /* keep away from an earlier instance */
		snprintf(g->group, sizeof(g->group), "i%d", (int)gr_sched_rng_below(rng, (uint64_t)i));
		g->rule = (struct gr_sched_rule){ GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_INSTANCE, g->group };
		g->r.rules = &g->rule;
		g->r.n_rules = 1;
	} else if (kind == 2 && i > 0) { /* join an earlier instance */
		snprintf(g->group, sizeof(g->group), "i%d", (int)gr_sched_rng_below(rng, (uint64_t)i));
		g->rule = (struct gr_sched_rule){ GR_SCHED_AFFINITY, GR_SCHED_TARGET_INSTANCE, g->group };
		g->r.rules = &g->rule;
		g->r.n_rules = 1;
	}
	size_t nu = gr_sched_rng_below(rng, 4);
	for (size_t k = 0; k < nu; k++)
		g->util[k] = gr_sched_rng_double(rng);
	g->r.util = nu ? g->util : NULL;
	g->r.n_util = nu;
}

static bool host_has_label(const struct gr_sched_host *h, const char *l)
{
	for (size_t i = 0; i < h->n_labels; i++)
		if (!strcmp(h->labels[i], l))
			return true;
	return false;
}

/* Test-side record of each instance slot's group (the oracle does not use
 * the snapshot's internal group index). */
static char slot_group[N_REQ * 2][16];
static int stat_placed, stat_unplaced, stat_moves;

/* Independent oracle: does req fit on host h? */
static bool oracle_fits(const struct gr_sched_snapshot *s, const struct gr_sched_request *r, int h)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	if (hs->state != GR_SCHED_HOST_UP)
		return false;
	for (size_t i = 0; i < r->n_labels; i++)
		if (!host_has_label(hs, r->labels[i]))
			return false;
	if (r->vcpus > hs->cores || r->mips_per_vcpu > hs->mips_per_core)
		return false;
	double cpu = 0, mem = 0;
	for (size_t i = 0; i < s->n_instances; i++) {
		const struct gr_sched_instance *in = &s->instances[i];
		if (!in->live || in->host != h)
			continue;
		cpu += in->cpu;
		mem += (double)in->mem_mib;
	}
	if (cpu + r->vcpus * r->mips_per_vcpu > hs->cores * hs->mips_per_core * hs->cpu_overcommit + 1e-6)
		return false;
	if (mem + (double)r->mem_mib > (double)hs->mem_mib * hs->mem_overcommit + 1e-6)
		return false;
	for (size_t k = 0; k < r->n_rules; k++) {
		const struct gr_sched_rule *rule = &r->rules[k];
		bool any_placed = false, on_h = false;
		for (size_t i = 0; i < s->n_instances; i++) {
			const struct gr_sched_instance *in = &s->instances[i];
			if (!in->live || in->host < 0)
				continue;
			bool match = rule->target == GR_SCHED_TARGET_INSTANCE
					     ? in->name && !strcmp(in->name, rule->name)
					     : !strcmp(slot_group[i], rule->name);
			if (!match)
				continue;
			any_placed = true;
			on_h |= in->host == h;
		}
		if (rule->kind == GR_SCHED_ANTI_AFFINITY && on_h)
			return false;
		if (rule->kind == GR_SCHED_AFFINITY && any_placed && !on_h)
			return false;
	}
	return true;
}

/* Invariants over the whole snapshot; returns the number of violations. */
static int check_invariants(const struct gr_sched_snapshot *s, const char *policy)
{
	int bad = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		double cpu = 0, mem = 0, used = 0;
		uint32_t n = 0;
		for (size_t i = 0; i < s->n_instances; i++) {
			const struct gr_sched_instance *in = &s->instances[i];
			if (!in->live || in->host != (int)h)
				continue;
			cpu += in->cpu;
			mem += (double)in->mem_mib;
			used += in->cpu * in->util_now;
			n++;
		}
		if (cpu > hs->cpu_cap + 1e-6 || mem > hs->mem_cap + 1e-6) {
			diag("%s: host %s over capacity: cpu %g/%g mem %g/%g", policy, hs->name, cpu,
			     hs->cpu_cap, mem, hs->mem_cap);
			bad++;
		}
		if (n != hs->n_instances || fabs(cpu - hs->cpu_alloc) > 1e-6 ||
		    fabs(mem - hs->mem_alloc) > 1e-6 || fabs(used - hs->cpu_used) > 1e-6) {
			diag("%s: host %s aggregates drifted", policy, hs->name);
			bad++;
		}
	}
	/* anti-affinity of every placed instance */
	for (size_t i = 0; i < s->n_instances; i++) {
		const struct gr_sched_instance *in = &s->instances[i];
		if (!in->live || in->host < 0)
			continue;
		for (size_t k = 0; k < in->n_rules; k++) {
			if (in->rules[k].kind != GR_SCHED_ANTI_AFFINITY)
				continue;
			for (size_t j = 0; j < s->n_instances; j++) {
				const struct gr_sched_instance *o = &s->instances[j];
				if (j == i || !o->live || o->host != in->host)
					continue;
				bool match = in->rules[k].target == GR_SCHED_TARGET_INSTANCE
						     ? o->name && !strcmp(o->name, in->rules[k].name)
						     : !strcmp(slot_group[j], in->rules[k].name);
				if (match) {
					diag("%s: anti-affinity broken: %s with %s on %s", policy,
					     in->name ? in->name : "?", o->name ? o->name : "?",
					     s->hosts[in->host].name);
					bad++;
				}
			}
		}
	}
	return bad;
}

/* Score the oracle expects a scoring policy to minimise on host h (before
 * placing r); NAN when the policy has no single score. */
static double expected_score(const struct gr_sched_snapshot *s, const char *policy,
			     const struct gr_sched_request *r, int h)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	double cpu = r->vcpus * r->mips_per_vcpu;
	double use = cpu * (r->n_util ? r->util[r->n_util - 1] : 1.0);
	double phys = hs->cores * hs->mips_per_core;
	if (!strcmp(policy, "least-instances"))
		return hs->n_instances;
	if (!strcmp(policy, "shortest-queue"))
		return hs->cpu_used / phys;
	if (!strcmp(policy, "global"))
		return (hs->cpu_used + use) / phys;
	if (!strcmp(policy, "best-fit"))
		return (hs->cpu_cap - hs->cpu_alloc - cpu) / hs->cpu_cap +
		       (hs->mem_cap - hs->mem_alloc - (double)r->mem_mib) / hs->mem_cap;
	if (!strcmp(policy, "pabfd"))
		return hs->power ? gr_sched_power_at(hs->power, (hs->cpu_used + use) / phys) -
					   gr_sched_power_at(hs->power, hs->cpu_used / phys)
				 : INFINITY;
	return NAN;
}

/* Run N_REQ requests through a policy; returns a hash of the decisions. */
static uint64_t run_policy(const char *policy, uint64_t seed, int *violations, int *missed,
			   int *not_optimal, int *no_reason, int *bad_state)
{
	const struct gr_sched_policy_ops *p = gr_sched_policy_by_name(policy);
	struct gr_sched_snapshot *s = gen_cluster(seed);
	struct gr_sched_rng rng;
	gr_sched_rng_seed(&rng, seed);
	memset(slot_group, 0, sizeof(slot_group));
	bool whole_view = strcmp(policy, "local") && strcmp(policy, "static");
	uint64_t hash = 1469598103934665603ULL;
	for (int i = 0; i < N_REQ; i++) {
		struct gen_req g;
		gen_request(&rng, i, &g);
		if (!strcmp(policy, "static") && !g.r.name)
			g.r.pinned_host = s->hosts[gr_sched_rng_below(&rng, N_HOSTS)].name;
		struct gr_sched_decision d;
		if (gr_sched_place(s, p, &g.r, &d, &err) < 0) {
			diag("%s: request %d: %s", policy, i, err.msg);
			(*violations)++;
			continue;
		}
		hash = (hash ^ (uint64_t)(d.host + 7)) * 1099511628211ULL;
		bool any = false;
		double best = INFINITY;
		for (size_t h = 0; h < s->n_hosts; h++)
			if (oracle_fits(s, &g.r, (int)h)) {
				any = true;
				double sc = expected_score(s, policy, &g.r, (int)h);
				if (sc < best)
					best = sc;
			}
		stat_placed += d.host >= 0;
		stat_unplaced += d.host < 0;
		if (d.host < 0) {
			if (strncmp(d.reason, "no host", 7))
				(*no_reason)++;
			bool pabfd_any = false;
			if (!strcmp(policy, "pabfd"))
				pabfd_any = best < INFINITY;
			if (whole_view && (strcmp(policy, "pabfd") ? any : pabfd_any)) {
				diag("%s: request %d not placed though a host fits: %s", policy, i, d.reason);
				(*missed)++;
			}
		} else {
			if (s->hosts[d.host].state != GR_SCHED_HOST_UP)
				(*bad_state)++;
			if (!oracle_fits(s, &g.r, d.host)) {
				diag("%s: request %d placed on %s which the oracle refuses", policy, i,
				     s->hosts[d.host].name);
				(*violations)++;
			}
			double sc = expected_score(s, policy, &g.r, d.host);
			if (!isnan(sc) && sc > best + 1e-9) {
				diag("%s: request %d: score %g, best possible %g", policy, i, sc, best);
				(*not_optimal)++;
			}
			int idx = gr_sched_apply(s, &g.r, &d, &err);
			if (idx < 0) {
				diag("%s: apply: %s", policy, err.msg);
				(*violations)++;
			} else {
				snprintf(slot_group[idx], sizeof(slot_group[idx]), "%s", g.r.group ? g.r.group : "");
			}
		}
		if (i % 7 == 6 && s->n_live) { /* churn: remove a random live instance */
			int victim = (int)gr_sched_rng_below(&rng, s->n_instances);
			if (s->instances[victim].live) {
				gr_sched_remove(s, victim, &err);
				slot_group[victim][0] = '\0';
			}
		}
		if (i % 5 == 0 && s->n_live) { /* utilisation changes */
			int k = (int)gr_sched_rng_below(&rng, s->n_instances);
			gr_sched_util_push(s, k, gr_sched_rng_double(&rng));
		}
		if (i % 50 == 49)
			*violations += check_invariants(s, policy);
	}
	*violations += check_invariants(s, policy);

	/* rebalancing keeps every invariant and each move clears the hysteresis */
	if (p->rebalance) {
		struct gr_sched_plan plan = { 0 };
		for (int round = 0; round < 3; round++) {
			if (gr_sched_rebalance(s, p, &plan, &err) < 0) {
				diag("%s: rebalance: %s", policy, err.msg);
				(*violations)++;
				break;
			}
			stat_moves += (int)plan.n;
			for (size_t m = 0; m < plan.n; m++) {
				const struct gr_sched_migration *mv = &plan.moves[m];
				bool evac = s->hosts[mv->from].state == GR_SCHED_HOST_DRAINING;
				if (!evac && mv->gain - mv->cost < s->params.min_gain - 1e-12) {
					diag("%s: move %zu gains %g - %g", policy, m, mv->gain, mv->cost);
					(*violations)++;
				}
				if (s->hosts[mv->to].state != GR_SCHED_HOST_UP)
					(*bad_state)++;
				hash = (hash ^ (uint64_t)(mv->instance * 131 + mv->to)) * 1099511628211ULL;
			}
			if (gr_sched_apply_plan(s, &plan, &err) < 0) {
				diag("%s: apply_plan: %s", policy, err.msg);
				(*violations)++;
			}
			*violations += check_invariants(s, policy);
		}
		gr_sched_plan_free(&plan);
	}
	gr_sched_snapshot_free(s);
	return hash;
}

int main(void)
{
	for (size_t k = 0; gr_sched_policies[k]; k++) {
		const char *name = gr_sched_policies[k]->name;
		int violations = 0, missed = 0, not_optimal = 0, no_reason = 0, bad_state = 0;
		uint64_t h1 = 0;
		for (uint64_t seed = 1; seed <= 4; seed++)
			h1 ^= run_policy(name, seed, &violations, &missed, &not_optimal, &no_reason,
					 &bad_state) * seed;
		diag("%s: %d placed, %d not placed, %d migrations proposed", name, stat_placed,
		     stat_unplaced, stat_moves);
		ok(stat_placed > N_REQ && stat_unplaced > 0, "%s: the generated load both places and overflows", name);
		stat_placed = stat_unplaced = stat_moves = 0;
		int v2 = 0, m2 = 0, o2 = 0, r2 = 0, b2 = 0;
		uint64_t h2 = 0;
		for (uint64_t seed = 1; seed <= 4; seed++)
			h2 ^= run_policy(name, seed, &v2, &m2, &o2, &r2, &b2) * seed;
		stat_placed = stat_unplaced = stat_moves = 0;
		is_int(violations, 0, "%s: no filter violated, no host over capacity, aggregates exact", name);
		is_int(bad_state, 0, "%s: maintenance/down/draining hosts never chosen", name);
		is_int(missed, 0, "%s: placed whenever some host fits (within the policy's view)", name);
		is_int(no_reason, 0, "%s: every unplaced request has a reason", name);
		is_int(not_optimal, 0, "%s: chosen host is optimal for the policy's score", name);
		ok(h1 == h2, "%s: same seed gives the same decisions", name);
	}
	return tap_done();
}
