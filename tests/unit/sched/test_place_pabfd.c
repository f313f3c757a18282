/*
 * test_place_pabfd.c - pabfd's indexed search against a reference: the
 * exhaustive choice as pabfd made it before the block index (every host in
 * index order through the filters, the power increase computed by a copy of
 * that key kept here, lowest increase wins, ties to the lower index).  On
 * random pools (hosts of many sizes, the built-in curves, a curve with flat
 * and steep steps, hosts without a curve, all states, labels, anti-affinity
 * groups, affinity, requests from tiny to wider than a curve step, hosts
 * near 100 %) under churn (placements, removals, utilisation changes, state
 * and size changes), and on a bench-like pool of 10,000 alike hosts where
 * ties are everywhere: every decision picks the reference's host with the
 * reference's increase, and refuses exactly when it does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "tap.h"

static gr_error_t err;

/* ---- the reference: pabfd's key as it was, every host examined ---------- */

static double ref_power_delta(const double *w, double x0, double x1)
{
	if (x0 >= 10)
		return 0;
	if (x1 > 10)
		x1 = 10;
	int i0 = (int)x0, i1 = (int)x1;
	if (i1 > 9)
		i1 = 9;
	if (i0 == i1)
		return (w[i0 + 1] - w[i0]) * (x1 - x0);
	double p0 = w[i0] + (w[i0 + 1] - w[i0]) * (x0 - i0);
	double p1 = w[i1] + (w[i1 + 1] - w[i1]) * (x1 - i1);
	return p1 - p0;
}

static bool ref_key(const struct gr_sched_host *hs, double c, double *key)
{
	if (!hs->power)
		return false;
	double gap = hs->pw_segment_end - hs->cpu_used;
	if (c <= gap) {
		*key = hs->pw_watts_per_mips * c;
		return true;
	}
	double x0 = hs->cpu_used * hs->inv_phys * 10;
	double a = ref_power_delta(hs->power->watts, x0 > 0 ? x0 : 0, x0 + c * hs->inv_phys * 10);
	double head = hs->cpu_phys - hs->cpu_used, width = hs->cpu_phys / 10;
	double slope = c <= width ? hs->pw_slope2 : hs->pw_min_rest;
	double lo = slope * (c < head ? c : head > 0 ? head : 0);
	if (lo > a)
		a = lo;
	if (c <= width && c <= head) {
		lo = hs->pw_next * c + (hs->pw_watts_per_mips - hs->pw_next) * gap;
		if (lo > a)
			a = lo;
	}
	*key = a;
	return true;
}

/* The host every-host pabfd picks for req, or -1; its increase in *key. */
static int ref_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req, double *key)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	if (f.missing_label)
		return -1;
	int best = -1;
	for (size_t h = 0; h < s->n_hosts; h++) {
		double k;
		if (gr__fit_host(s, &f, (int)h) >= 0 || !ref_key(&s->hosts[h], f.cpu_use, &k))
			continue;
		if (best < 0 || k < *key) {
			best = (int)h;
			*key = k;
		}
	}
	return best;
}

/* ---- random pools ---------------------------------------------------------- */

/* flat and steep steps, so runs of every shape (next flatter, steeper, equal) */
static const struct gr_sched_power_model odd_curve = {
	"odd-steps", { 50, 50, 60, 61, 61, 90, 91, 91, 120, 121, 140 }
};
static const char *const curves[] = { "hp-ml110-g4", "hp-ml110-g5", "linear-250" };

static void gen_host(struct gr_sched_rng *rng, int i, struct gr_sched_host *h, const char **labels,
		     char bufs[2][24])
{
	size_t nl = 0;
	snprintf(bufs[0], 24, "zone=z%d", (int)gr_sched_rng_below(rng, 3));
	labels[nl++] = bufs[0];
	snprintf(bufs[1], 24, "rack=r%d", i / 50);
	labels[nl++] = bufs[1];
	if (gr_sched_rng_below(rng, 3) == 0)
		labels[nl++] = "disk=ssd";
	static const double oc[] = { 0, 1, 1.5, 2 };
	uint64_t st = gr_sched_rng_below(rng, 25), pw = gr_sched_rng_below(rng, 12);
	*h = (struct gr_sched_host){
		.cores = 2 + (uint32_t)gr_sched_rng_below(rng, 31),
		.mips_per_core = 1000 + 500 * (double)gr_sched_rng_below(rng, 4),
		.mem_mib = 4096 * (1 + gr_sched_rng_below(rng, 32)),
		.cpu_overcommit = oc[gr_sched_rng_below(rng, 4)],
		.state = st == 0 ? GR_SCHED_HOST_MAINTENANCE : st == 1 ? GR_SCHED_HOST_DOWN
			 : st == 2 ? GR_SCHED_HOST_DRAINING : GR_SCHED_HOST_UP,
		.labels = labels,
		.n_labels = nl,
		.power = pw == 0 ? NULL : pw == 1 ? &odd_curve : gr_sched_power_by_name(curves[pw % 3]),
	};
	if (gr_sched_rng_below(rng, 3) == 0) { /* a third alike: ties across blocks */
		h->cores = 16;
		h->mips_per_core = 2000;
		h->mem_mib = 65536;
		h->cpu_overcommit = 1;
		h->power = gr_sched_power_by_name(curves[i % 2]);
	}
}

struct gen_req {
	struct gr_sched_request r;
	char name[24], group[24], target[24], label[24];
	const char *labels[1];
	struct gr_sched_rule rule;
	double util[3];
};

static void gen_request(struct gr_sched_rng *rng, int i, int n_racks, struct gen_req *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "p%d", i);
	g->r.name = g->name;
	g->r.vcpus = 1 + (uint32_t)gr_sched_rng_below(rng, 8);
	g->r.mips_per_vcpu = 250 * (1 + (double)gr_sched_rng_below(rng, 8));
	g->r.mem_mib = 512 * (1 + gr_sched_rng_below(rng, 32));
	uint64_t l = gr_sched_rng_below(rng, 100);
	if (l < 15)
		snprintf(g->label, sizeof(g->label), "zone=z%d", (int)gr_sched_rng_below(rng, 3));
	else if (l < 20)
		snprintf(g->label, sizeof(g->label), "rack=r%d", (int)gr_sched_rng_below(rng, (uint64_t)n_racks));
	else if (l < 30)
		snprintf(g->label, sizeof(g->label), "disk=ssd");
	if (l < 30) {
		g->labels[0] = g->label;
		g->r.labels = g->labels;
		g->r.n_labels = 1;
	}
	uint64_t k = gr_sched_rng_below(rng, 10);
	if (k < 3) {
		snprintf(g->group, sizeof(g->group), "spread%d", (int)gr_sched_rng_below(rng, 60));
		g->r.group = g->group;
		g->rule = (struct gr_sched_rule){ GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_GROUP, g->group };
		g->r.rules = &g->rule;
		g->r.n_rules = 1;
	} else if (k == 3 && i > 0) {
		snprintf(g->target, sizeof(g->target), "p%d", (int)gr_sched_rng_below(rng, (uint64_t)i));
		g->rule = (struct gr_sched_rule){ GR_SCHED_AFFINITY, GR_SCHED_TARGET_INSTANCE, g->target };
		g->r.rules = &g->rule;
		g->r.n_rules = 1;
	}
	size_t nu = gr_sched_rng_below(rng, 4);
	for (size_t u = 0; u < nu; u++)
		g->util[u] = gr_sched_rng_double(rng);
	g->r.util = nu ? g->util : NULL;
	g->r.n_util = nu;
}

struct tally {
	int decisions, placed, refused, mismatch;
};

/* One decision by pabfd and by the reference, compared; applied if placed. */
static void decide(struct gr_sched_snapshot *s, const struct gr_sched_policy_ops *p, struct gen_req *g,
		   struct tally *t, const char *pool, int step)
{
	struct gr_sched_decision d;
	double key = 0;
	int want = ref_place(s, &g->r, &key);
	if (gr_sched_place(s, p, &g->r, &d, &err) < 0) {
		diag("%s step %d: %s", pool, step, err.msg);
		t->mismatch++;
		return;
	}
	t->decisions++;
	if (d.host != want || (want >= 0 && d.score != key)) {
		if (t->mismatch < 5)
			diag("%s step %d: indexed -> host %d (%.17g), reference -> host %d (%.17g)", pool, step,
			     d.host, d.score, want, key);
		t->mismatch++;
	}
	if (d.host < 0) {
		t->refused++;
		return;
	}
	t->placed++;
	if (gr_sched_apply(s, &g->r, &d, &err) < 0) {
		diag("%s step %d: apply: %s", pool, step, err.msg);
		t->mismatch++;
	}
}

static void mixed_pool(uint64_t seed, int n_hosts, int steps, struct tally *t)
{
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(seed);
	struct gr_sched_rng rng;
	gr_sched_rng_seed(&rng, seed * 104729);
	for (int i = 0; i < n_hosts; i++) {
		struct gr_sched_host h;
		const char *labels[3];
		char bufs[2][24], name[16];
		gen_host(&rng, i, &h, labels, bufs);
		snprintf(name, sizeof(name), "m%05d", i);
		h.name = name;
		if (gr_sched_add_host(s, &h, &err) < 0)
			ok(0, "add_host %s: %s", name, err.msg);
	}
	const struct gr_sched_policy_ops *p = gr_sched_policy_by_name("pabfd");
	const struct gr_sched_policy_ops *fill = gr_sched_policy_by_name("least-instances");
	/* half the steps fill with least-instances (hosts at every utilisation),
	 * then pabfd decides under churn */
	for (int i = 0; i < steps; i++) {
		struct gen_req g;
		gen_request(&rng, i, n_hosts / 50, &g);
		if (i < steps / 2) {
			struct gr_sched_decision d;
			if (gr_sched_place(s, fill, &g.r, &d, &err) == 0 && d.host >= 0)
				gr_sched_apply(s, &g.r, &d, &err);
			continue;
		}
		decide(s, p, &g, t, "mixed", i);
		int v = (int)gr_sched_rng_below(&rng, s->n_instances);
		if (i % 3 && s->instances[v].live)
			gr_sched_remove(s, v, &err);
		v = (int)gr_sched_rng_below(&rng, s->n_instances);
		if (s->instances[v].live)
			gr_sched_util_push(s, v, gr_sched_rng_double(&rng));
		if (i % 71 == 0)
			gr_sched_set_host_state(s, (int)gr_sched_rng_below(&rng, (uint64_t)n_hosts),
						(enum gr_sched_host_state)gr_sched_rng_below(&rng, 4), &err);
		if (i % 83 == 0) {
			int h = (int)gr_sched_rng_below(&rng, (uint64_t)n_hosts);
			struct gr_sched_host c;
			const char *labels[3];
			char bufs[2][24];
			gen_host(&rng, h, &c, labels, bufs);
			if (gr_sched_update_host(s, h, &c, &err) < 0) {
				diag("update_host: %s", err.msg);
				t->mismatch++;
			}
		}
	}
	gr_sched_snapshot_free(s);
}

/* bench/place's 10k cluster in small: alike hosts, two curves, a steady load */
static void alike_pool(uint64_t seed, int n_hosts, int fill_n, int steps, struct tally *t)
{
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(seed);
	struct gr_sched_rng rng;
	gr_sched_rng_seed(&rng, seed);
	for (int i = 0; i < n_hosts; i++) {
		char name[16], rack[24];
		snprintf(name, sizeof(name), "a%05d", i);
		snprintf(rack, sizeof(rack), "rack=r%d", i / 50);
		const char *labels[3] = { i / 2500 % 3 == 0 ? "zone=z0" : i / 2500 % 3 == 1 ? "zone=z1" : "zone=z2",
					  rack, "disk=ssd" };
		struct gr_sched_host h = {
			.name = name, .cores = 32, .mips_per_core = 2500, .mem_mib = 131072,
			.cpu_overcommit = 2, .labels = labels, .n_labels = (i / 50) % 2 ? 2 : 3,
			.state = i % 50 == 7 ? GR_SCHED_HOST_MAINTENANCE : GR_SCHED_HOST_UP,
			.power = gr_sched_power_by_name(i % 2 ? "hp-ml110-g4" : "hp-ml110-g5"),
		};
		if (gr_sched_add_host(s, &h, &err) < 0)
			ok(0, "add_host %s: %s", name, err.msg);
	}
	const struct gr_sched_policy_ops *p = gr_sched_policy_by_name("pabfd");
	const struct gr_sched_policy_ops *fill = gr_sched_policy_by_name("least-instances");
	int *ring = calloc((size_t)fill_n, sizeof(int));
	for (int i = 0; i < fill_n; i++) {
		struct gen_req g;
		gen_request(&rng, i, n_hosts / 50, &g);
		g.r.rules = NULL;
		g.r.n_rules = 0;
		struct gr_sched_decision d;
		ring[i] = -1;
		if (gr_sched_place(s, fill, &g.r, &d, &err) == 0 && d.host >= 0)
			ring[i] = gr_sched_apply(s, &g.r, &d, &err);
	}
	for (int i = 0; i < steps; i++) {
		struct gen_req g;
		gen_request(&rng, fill_n + i, n_hosts / 50, &g);
		if (g.r.n_rules && g.rule.kind == GR_SCHED_AFFINITY) {
			g.r.rules = NULL;
			g.r.n_rules = 0;
		}
		int before = t->placed;
		decide(s, p, &g, t, "alike", i);
		if (t->placed == before)
			continue;
		/* the oldest leaves, as in bench/place */
		int old = ring[i % fill_n];
		if (old >= 0 && s->instances[old].live)
			gr_sched_remove(s, old, &err);
		ring[i % fill_n] = gr_sched_instance_find(s, g.name);
	}
	free(ring);
	gr_sched_snapshot_free(s);
}

int main(void)
{
	struct tally mixed = { 0 }, alike = { 0 };
	for (uint64_t seed = 1; seed <= 3; seed++)
		mixed_pool(seed, 2500 + 700 * (int)seed, 8000, &mixed);
	diag("mixed pools: %d decisions, %d placed, %d refused", mixed.decisions, mixed.placed, mixed.refused);
	ok(mixed.placed > 5000 && mixed.refused > 50, "the mixed pools place (%d) and refuse (%d)",
	   mixed.placed, mixed.refused);
	is_int(mixed.mismatch, 0, "mixed pools: pabfd picks the reference's host and increase (%d decisions)",
	       mixed.decisions);

	alike_pool(42, 10000, 60000, 3000, &alike);
	diag("alike pool: %d decisions, %d placed, %d refused", alike.decisions, alike.placed, alike.refused);
	ok(alike.placed > 2500, "the 10,000-host alike pool places (%d)", alike.placed);
	is_int(alike.mismatch, 0, "10,000 alike hosts: pabfd picks the reference's host and increase (%d decisions)",
	       alike.decisions);
	return tap_done();
}
