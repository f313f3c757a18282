/*
 * test_place_rebalance.c - known answers for the rebalancing policies
 * (global, local): moves relieve the most loaded host, hysteresis and the
 * migration-cost model suppress small or expensive moves, pinned and
 * affinity-bound instances stay, anti-affinity and neighbourhoods are
 * honoured, draining hosts are evacuated, plans are proposals only.
 */
#include <errno.h>
#include <string.h>
#include "sched/sched.h"
#include "tap.h"

static struct gr_sched_snapshot *s;
static gr_error_t err;

static void fresh(int n_hosts, uint32_t cores)
{
	gr_sched_snapshot_free(s);
	s = gr_sched_snapshot_new(7);
	for (int i = 0; i < n_hosts; i++) {
		char name[8];
		snprintf(name, sizeof(name), "h%d", i);
		struct gr_sched_host h = { .name = name, .cores = cores, .mips_per_core = 1000,
					   .mem_mib = 65536 };
		if (gr_sched_add_host(s, &h, &err) < 0)
			ok(0, "add_host %s: %s", name, err.msg);
	}
}

/* Put an instance straight on a host with a utilisation. */
static int put(const char *name, int host, uint32_t vcpus, uint64_t mem, double util,
	       const struct gr_sched_rule *rule, const char *group, const char *pin)
{
	struct gr_sched_request r = { .name = name, .vcpus = vcpus, .mips_per_vcpu = 1000,
				      .mem_mib = mem, .util = &util, .n_util = 1, .group = group,
				      .rules = rule, .n_rules = rule ? 1 : 0, .pinned_host = pin };
	struct gr_sched_decision d = { .host = host };
	int i = gr_sched_apply(s, &r, &d, &err);
	if (i < 0)
		ok(0, "put %s: %s", name, err.msg);
	return i;
}

static double max_load(void)
{
	double m = 0;
	for (size_t h = 0; h < s->n_hosts; h++)
		if (gr_sched_host_load(&s->hosts[h]) > m)
			m = gr_sched_host_load(&s->hosts[h]);
	return m;
}

int main(void)
{
	const struct gr_sched_policy_ops *global = gr_sched_policy_by_name("global");
	const struct gr_sched_policy_ops *local = gr_sched_policy_by_name("local");
	struct gr_sched_plan plan = { 0 };

	/* a placement-only policy cannot rebalance */
	fresh(2, 8);
	ok(gr_sched_rebalance(s, gr_sched_policy_by_name("best-fit"), &plan, &err) < 0 && err.code == EINVAL,
	   "best-fit has no rebalance: %s", err.msg);

	/* global: one hot host, two idle */
	fresh(3, 8);
	for (int i = 0; i < 4; i++) {
		char n[8];
		snprintf(n, sizeof(n), "v%d", i);
		put(n, 0, 2, 1024, 0.9, NULL, NULL, NULL);
	}
	is_int(gr_sched_rebalance(s, global, &plan, &err), 0, "global rebalance runs");
	ok(plan.n >= 2, "global proposes moves off the hot host (%zu)", plan.n);
	is_int(s->hosts[0].n_instances, 4, "a plan is only a proposal: snapshot unchanged");
	int to_h1 = 0, to_h2 = 0, bad = 0;
	for (size_t m = 0; m < plan.n; m++) {
		bad += plan.moves[m].from != 0;
		to_h1 += plan.moves[m].to == 1;
		to_h2 += plan.moves[m].to == 2;
		bad += plan.moves[m].gain - plan.moves[m].cost < s->params.min_gain;
	}
	ok(!bad && to_h1 && to_h2, "moves go from h0 to both idle hosts, each clears the hysteresis");
	diag("first move: %s", plan.n ? plan.moves[0].reason : "-");
	double before = max_load();
	is_int(gr_sched_apply_plan(s, &plan, &err), 0, "plan applies");
	ok(max_load() < before - 0.2, "peak load falls (%.2f -> %.2f)", before, max_load());
	is_int(gr_sched_rebalance(s, global, &plan, &err), 0, "second round");
	is_int(plan.n, 0, "balanced cluster: no further moves (hysteresis)");
	struct gr_sched_plan stale = { 0 };
	fresh(2, 8);
	put("x", 0, 4, 1024, 1.0, NULL, NULL, NULL);
	put("y", 0, 4, 1024, 1.0, NULL, NULL, NULL);
	gr_sched_rebalance(s, global, &stale, &err);
	ok(stale.n == 1, "two full instances on h0: one move");
	gr_sched_migrate(s, stale.moves[0].instance, 1, &err);
	ok(gr_sched_apply_plan(s, &stale, &err) < 0 && err.code == EBUSY, "a stale plan is refused: %s", err.msg);
	gr_sched_plan_free(&stale);

	/* small imbalance: below min_gain, nothing moves */
	fresh(2, 10);
	put("a", 0, 1, 1024, 1.0, NULL, NULL, NULL);
	put("b", 0, 1, 1024, 0.2, NULL, NULL, NULL);
	put("c", 1, 1, 1024, 0.9, NULL, NULL, NULL);
	gr_sched_rebalance(s, global, &plan, &err);
	is_int(plan.n, 0, "imbalance of 3 %% stays (min_gain 5 %%)");

	/* migration cost: a huge-memory instance is not worth moving */
	fresh(2, 4);
	put("huge1", 0, 2, 30000, 1.0, NULL, NULL, NULL); /* 30000/125 s * 0.002 = 0.48 cost */
	put("huge2", 0, 2, 30000, 1.0, NULL, NULL, NULL);
	gr_sched_rebalance(s, global, &plan, &err);
	is_int(plan.n, 0, "expensive migration (gain 0.5 - cost 0.48 < min_gain 0.05) not proposed");
	s->params.mig_cost_per_s = 0;
	gr_sched_rebalance(s, global, &plan, &err);
	is_int(plan.n, 1, "free migration: proposed");

	/* pinned and affinity-bound instances stay */
	fresh(2, 4);
	struct gr_sched_rule with_p = { GR_SCHED_AFFINITY, GR_SCHED_TARGET_INSTANCE, "p" };
	put("p", 0, 2, 1024, 1.0, NULL, NULL, "h0");
	put("q", 0, 2, 1024, 1.0, &with_p, NULL, NULL);
	gr_sched_rebalance(s, global, &plan, &err);
	is_int(plan.n, 0, "pinned and affinity-bound instances are not moved");

	/* anti-affinity: the move avoids the host of the spread group's member */
	fresh(3, 8);
	struct gr_sched_rule spread = { GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_GROUP, "g" };
	put("g1", 0, 4, 1024, 1.0, &spread, "g", NULL);
	put("filler", 0, 4, 1024, 1.0, NULL, NULL, "h0"); /* pinned: only g1 can move */
	put("g2", 1, 1, 1024, 0.1, &spread, "g", NULL);
	put("warm", 2, 2, 1024, 1.0, NULL, NULL, NULL);
	gr_sched_rebalance(s, global, &plan, &err);
	int g1 = gr_sched_instance_find(s, "g1");
	int violated = 0;
	for (size_t m = 0; m < plan.n; m++)
		violated += plan.moves[m].instance == g1 && plan.moves[m].to == 1;
	ok(plan.n >= 1 && !violated && plan.moves[0].instance == g1 && plan.moves[0].to == 2,
	   "anti-affinity: g1 goes to h2, not to the idler h1 holding g2 (%s)", plan.n ? plan.moves[0].reason : "-");

	/* draining host evacuated by global, even at low load */
	fresh(3, 8);
	put("d1", 0, 1, 1024, 0.1, NULL, NULL, NULL);
	put("d2", 0, 1, 1024, 0.1, NULL, NULL, NULL);
	put("other", 1, 1, 1024, 0.5, NULL, NULL, NULL);
	gr_sched_set_host_state(s, 0, GR_SCHED_HOST_DRAINING, &err);
	gr_sched_rebalance(s, global, &plan, &err);
	ok(plan.n == 2 && plan.moves[0].to == 2 && strstr(plan.moves[0].reason, "draining"),
	   "draining host: both instances moved, first to the idle h2 (%s)", plan.n ? plan.moves[0].reason : "-");
	gr_sched_apply_plan(s, &plan, &err);
	is_int(s->hosts[0].n_instances, 0, "draining host is empty after the plan");

	/* local: only neighbours are considered */
	fresh(6, 4);
	s->params.neighbour_radius = 1; /* h0 knows h1 and h5 */
	put("o1", 0, 2, 1024, 1.0, NULL, NULL, NULL);
	put("o2", 0, 2, 1024, 1.0, NULL, NULL, NULL);
	put("n1", 1, 3, 1024, 1.0, NULL, NULL, NULL);
	put("n5", 5, 3, 1024, 1.0, NULL, NULL, NULL);
	gr_sched_rebalance(s, local, &plan, &err);
	is_int(plan.n, 0, "local: neighbours busy -> no move although h2..h4 are idle");
	gr_sched_remove(s, gr_sched_instance_find(s, "n5"), &err);
	gr_sched_rebalance(s, local, &plan, &err);
	ok(plan.n == 1 && plan.moves[0].to == 5, "local: overloaded h0 offloads to neighbour h5 (%s)",
	   plan.n ? plan.moves[0].reason : "-");
	gr_sched_apply_plan(s, &plan, &err);
	ok(gr_sched_host_load(&s->hosts[0]) <= s->params.overload, "h0 no longer overloaded");

	/* explicit neighbour lists */
	gr_sched_snapshot_free(s);
	s = gr_sched_snapshot_new(1);
	int nb0[] = { 2 };
	for (int i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "e%d", i);
		struct gr_sched_host h = { .name = name, .cores = 4, .mips_per_core = 1000, .mem_mib = 8192,
					   .neighbours = i == 0 ? nb0 : NULL, .n_neighbours = i == 0 };
		gr_sched_add_host(s, &h, &err);
	}
	put("e-a", 0, 2, 1024, 1.0, NULL, NULL, NULL);
	put("e-b", 0, 2, 1024, 1.0, NULL, NULL, NULL);
	gr_sched_rebalance(s, local, &plan, &err);
	ok(plan.n == 1 && plan.moves[0].to == 2, "local: host with an explicit neighbour list uses it");

	gr_sched_plan_free(&plan);
	gr_sched_snapshot_free(s);
	return tap_done();
}
