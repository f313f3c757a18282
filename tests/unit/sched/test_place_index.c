/*
 * test_place_index.c - the block index that lets a decision skip hosts:
 * on generated clusters of 2,112 hosts (33 blocks: mixed sizes, overcommit,
 * states, power curves, common and rare labels; half the hosts alike, so
 * scores tie across blocks), filled until it refuses, then under churn
 * (removals, utilisation changes, state and capacity changes, recorded
 * instances): every policy must decide exactly as when it examines every host
 * (same host, same score, same reason), no host that fits may score below
 * its block's bound, and the snapshot's indexes (aggregates, label host lists
 * and counts, groups) must stay exact.  Then: ties across blocks go to
 * the lowest index, and on a 4,096-host cluster the scoring policies examine
 * a small fraction of the hosts (a count, not a timing).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "tap.h"

#define N_HOSTS 2112 /* 33 blocks; best-fit scans below 2,048 hosts */
#define N_STEPS 3000

static gr_error_t err;
static const char *const curves[] = { "hp-ml110-g4", "hp-ml110-g5", "linear-250" };

static void gen_host(struct gr_sched_rng *rng, int i, struct gr_sched_host *h, const char **labels,
		     char bufs[3][24])
{
	size_t nl = 0;
	snprintf(bufs[0], 24, "zone=z%d", (int)gr_sched_rng_below(rng, 4));
	labels[nl++] = bufs[0];
	snprintf(bufs[1], 24, "rack=r%d", i / 60);
	labels[nl++] = bufs[1];
	if (gr_sched_rng_below(rng, 100) == 0)
		labels[nl++] = "gpu=yes";
	else if (gr_sched_rng_below(rng, 3) == 0)
		labels[nl++] = "disk=ssd";
	static const double oc[] = { 0, 1, 1.5, 2 };
	uint64_t st = gr_sched_rng_below(rng, 20);
	uint64_t pw = gr_sched_rng_below(rng, 10);
	if (gr_sched_rng_below(rng, 2)) { /* half the hosts alike: ties across blocks */
		*h = (struct gr_sched_host){
			.cores = 16, .mips_per_core = 2000, .mem_mib = 65536, .cpu_overcommit = 1,
			.state = st == 0 ? GR_SCHED_HOST_MAINTENANCE : GR_SCHED_HOST_UP,
			.labels = labels, .n_labels = nl,
			.power = gr_sched_power_by_name(curves[i % 2]),
		};
		return;
	}
	*h = (struct gr_sched_host){
		.cores = 2 + (uint32_t)gr_sched_rng_below(rng, 15),
		.mips_per_core = 1000 + 500 * (double)gr_sched_rng_below(rng, 5),
		.mem_mib = 4096 * (1 + gr_sched_rng_below(rng, 16)),
		.cpu_overcommit = oc[gr_sched_rng_below(rng, 4)],
		.state = st == 0 ? GR_SCHED_HOST_MAINTENANCE : st == 1 ? GR_SCHED_HOST_DOWN
				: st == 2 ? GR_SCHED_HOST_DRAINING : GR_SCHED_HOST_UP,
		.labels = labels,
		.n_labels = nl,
		.power = pw == 0 ? NULL : gr_sched_power_by_name(curves[pw % 3]),
	};
}

struct gen_req {
	struct gr_sched_request r;
	char name[24], group[24], target[24];
	const char *labels[2];
	char label_buf[24];
	struct gr_sched_rule rule;
	double util[3];
};

static void gen_request(struct gr_sched_rng *rng, int i, struct gen_req *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "i%d", i);
	g->r.name = g->name;
	g->r.vcpus = 1 + (uint32_t)gr_sched_rng_below(rng, 4);
	g->r.mips_per_vcpu = 250 * (1 + (double)gr_sched_rng_below(rng, 8));
	g->r.mem_mib = 256 * (1 + gr_sched_rng_below(rng, 64));
	uint64_t l = gr_sched_rng_below(rng, 100);
	if (l < 20) {
		snprintf(g->label_buf, sizeof(g->label_buf), "zone=z%d", (int)gr_sched_rng_below(rng, 4));
		g->labels[g->r.n_labels++] = g->label_buf;
	} else if (l < 25) {
		snprintf(g->label_buf, sizeof(g->label_buf), "rack=r%d", (int)gr_sched_rng_below(rng, 35));
		g->labels[g->r.n_labels++] = g->label_buf;
	} else if (l < 27) {
		g->labels[g->r.n_labels++] = "gpu=yes";
	} else if (l < 28) {
		g->labels[g->r.n_labels++] = "zone=nowhere";
	}
	if (l % 7 == 0 && g->r.n_labels < 2)
		g->labels[g->r.n_labels++] = "disk=ssd";
	g->r.labels = g->r.n_labels ? g->labels : NULL;
	uint64_t k = gr_sched_rng_below(rng, 20);
	if (k < 2) { /* spread a small group */
		snprintf(g->group, sizeof(g->group), "g%d", (int)gr_sched_rng_below(rng, 40));
		g->r.group = g->group;
		g->rule = (struct gr_sched_rule){ GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_GROUP, g->group };
		g->r.rules = &g->rule;
		g->r.n_rules = 1;
	} else if (k == 2 && i > 0) {
		snprintf(g->target, sizeof(g->target), "i%d", (int)gr_sched_rng_below(rng, (uint64_t)i));
		g->rule = (struct gr_sched_rule){ GR_SCHED_AFFINITY, GR_SCHED_TARGET_INSTANCE, g->target };
		g->r.rules = &g->rule;
		g->r.n_rules = 1;
	} else if (k == 3 && i > 0) {
		snprintf(g->target, sizeof(g->target), "i%d", (int)gr_sched_rng_below(rng, (uint64_t)i));
		g->rule = (struct gr_sched_rule){ GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_INSTANCE, g->target };
		g->r.rules = &g->rule;
		g->r.n_rules = 1;
	}
	size_t nu = gr_sched_rng_below(rng, 4);
	for (size_t u = 0; u < nu; u++)
		g->util[u] = gr_sched_rng_double(rng);
	g->r.util = nu ? g->util : NULL;
	g->r.n_util = nu;
}

/* Aggregates, label host lists and counts, groups: all exact. */
static int check_indexes(const struct gr_sched_snapshot *s)
{
	int bad = 0;
	const struct gr_sched_names *nm = s->names;
	uint32_t *refs = calloc(nm->n_label ? nm->n_label : 1, sizeof(uint32_t));
	for (size_t h = 0; h < s->n_hosts; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		double cpu = 0, mem = 0, used = 0;
		for (uint32_t k = 0; k < hs->n_instances; k++) {
			const struct gr_sched_instance *in = &s->instances[hs->members[k]];
			bad += in->host != (int)h || in->host_pos != k;
			cpu += in->cpu;
			mem += (double)in->mem_mib;
			used += in->cpu * in->util_now;
		}
		bad += fabs(cpu - hs->cpu_alloc) > 1e-6 || fabs(mem - hs->mem_alloc) > 1e-6 ||
		       fabs(used - hs->cpu_used) > 1e-6;
		uint64_t bits = 0;
		for (uint32_t i = 0; i < hs->n_label_ids; i++) {
			uint32_t id = hs->label_ids[i];
			const struct gr__label *l = &nm->label[id];
			bool listed = false;
			for (uint32_t j = 0; j < l->n_hosts; j++)
				listed |= l->hosts[j] == (int)h;
			bad += !listed || (i && hs->label_ids[i - 1] >= id);
			bits |= gr__label_bit(id);
			refs[id]++;
		}
		bad += bits != hs->label_bits;
	}
	size_t live = 0;
	for (size_t i = 0; i < s->n_instances; i++) {
		const struct gr_sched_instance *in = &s->instances[i];
		if (!in->live)
			continue;
		live++;
		for (uint32_t k = 0; k < in->n_need_labels; k++)
			refs[in->need_labels[k]]++;
		if (in->group >= 0) {
			const struct gr_sched_group *gp = &s->groups[in->group];
			bad += !gp->name || gp->members[in->group_pos] != (int)i;
		}
		if (in->name)
			bad += gr_sched_instance_find(s, in->name) != (int)i;
	}
	bad += live != s->n_live;
	for (uint32_t id = 0; id < nm->n_label; id++) {
		const struct gr__label *l = &nm->label[id];
		if (!l->name) {
			bad += refs[id] != 0;
			continue;
		}
		bad += refs[id] != l->refs || gr__label_find(s, l->name) != (int)id;
		for (uint32_t j = 1; j < l->n_hosts; j++)
			bad += l->hosts[j - 1] >= l->hosts[j];
	}
	for (size_t g = 0; g < s->n_groups; g++)
		bad += s->groups[g].name && s->groups[g].n == 0; /* empty groups are freed */
	free(refs);
	return bad;
}

static bool same_decision(const struct gr_sched_decision *a, const struct gr_sched_decision *b)
{
	if (a->host != b->host)
		return false;
	if (a->host >= 0)
		return a->score == b->score && !strcmp(a->reason, b->reason);
	return !strcmp(a->reason, b->reason) &&
	       !memcmp(a->rejected, b->rejected, sizeof(a->rejected));
}

static void index_matches_exhaustive(uint64_t seed, int *mismatch, int *bad_index,
				     int *bound_violations, int *placed, int *unplaced)
{
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(seed);
	struct gr_sched_rng rng;
	gr_sched_rng_seed(&rng, seed * 7919);
	for (int i = 0; i < N_HOSTS; i++) {
		struct gr_sched_host h;
		const char *labels[3];
		char bufs[3][24], name[16];
		gen_host(&rng, i, &h, labels, bufs);
		snprintf(name, sizeof(name), "h%04d", i);
		h.name = name;
		if (gr_sched_add_host(s, &h, &err) < 0)
			ok(0, "add_host %s: %s", name, err.msg);
	}
	/* fill the cluster until it refuses, so bounds and full hosts matter */
	const struct gr_sched_policy_ops *rr = gr_sched_policy_by_name("round-robin");
	for (int i = 0, refused = 0; refused < 200; i++) {
		struct gen_req g;
		gen_request(&rng, 100000 + i, &g);
		g.r.n_rules = 0;
		g.r.group = NULL;
		struct gr_sched_decision d;
		if (gr_sched_place(s, rr, &g.r, &d, &err) < 0 || d.host < 0 ||
		    gr_sched_apply(s, &g.r, &d, &err) < 0)
			refused++;
	}
	double mem = 0, cap = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		mem += s->hosts[h].mem_alloc;
		cap += s->hosts[h].mem_cap;
	}
	diag("seed %llu: %zu instances fill %.0f %% of the memory", (unsigned long long)seed, s->n_live,
	     100 * mem / cap);
	int n_pol = 0;
	while (gr_sched_policies[n_pol])
		n_pol++;
	for (int i = 0; i < N_STEPS; i++) {
		const struct gr_sched_policy_ops *p = gr_sched_policies[i % n_pol];
		struct gen_req g;
		gen_request(&rng, i, &g);
		if (!strcmp(p->name, "static"))
			g.r.pinned_host = s->hosts[gr_sched_rng_below(&rng, N_HOSTS)].name;
		struct gr_sched_decision d1, d2;
		int r1 = gr_sched_place(s, p, &g.r, &d1, &err);
		s->scratch->exhaustive = s->scratch->check_bounds = true;
		int r2 = gr_sched_place(s, p, &g.r, &d2, &err);
		s->scratch->exhaustive = s->scratch->check_bounds = false;
		if (r1 != r2 || (r1 == 0 && !same_decision(&d1, &d2))) {
			if (*mismatch < 5)
				diag("seed %llu step %d %s: index -> %d (%s), every host -> %d (%s)",
				     (unsigned long long)seed, i, p->name, d1.host, d1.reason, d2.host, d2.reason);
			(*mismatch)++;
		}
		if (r1 == 0 && d1.host >= 0) {
			if (gr_sched_apply(s, &g.r, &d1, &err) < 0) {
				diag("apply %s: %s", g.name, err.msg);
				(*mismatch)++;
			}
			(*placed)++;
		} else {
			(*unplaced)++;
		}
		/* churn */
		for (int k = 0; k < 2; k++) { /* about as many leave as arrive */
			int v = (int)gr_sched_rng_below(&rng, s->n_instances);
			if (s->instances[v].live)
				gr_sched_remove(s, v, &err);
		}
		if (i % 2 == 0 && s->n_instances) {
			int v = (int)gr_sched_rng_below(&rng, s->n_instances);
			gr_sched_util_push(s, v, gr_sched_rng_double(&rng));
		}
		if (i % 97 == 0)
			gr_sched_set_host_state(s, (int)gr_sched_rng_below(&rng, N_HOSTS),
						(enum gr_sched_host_state)gr_sched_rng_below(&rng, 4), &err);
		if (i % 89 == 0) { /* a host is resized and relabelled in place */
			int h = (int)gr_sched_rng_below(&rng, N_HOSTS);
			struct gr_sched_host c;
			const char *labels[3];
			char bufs[3][24];
			gen_host(&rng, h, &c, labels, bufs);
			if (gr_sched_update_host(s, h, &c, &err) < 0) {
				diag("update_host: %s", err.msg);
				(*bad_index)++;
			}
		}
		if (i % 53 == 0) { /* an instance found running, recorded as it is */
			char name[24];
			snprintf(name, sizeof(name), "found%d", i);
			struct gr_sched_request fr = { .name = name, .vcpus = 2, .mips_per_vcpu = 1000,
						       .mem_mib = 2048 };
			if (gr_sched_add_instance(s, &fr, (int)gr_sched_rng_below(&rng, N_HOSTS), &err) < 0) {
				diag("add_instance: %s", err.msg);
				(*bad_index)++;
			}
		}
		if (i % 250 == 249)
			*bad_index += check_indexes(s);
	}
	*bad_index += check_indexes(s);
	*bound_violations += (int)s->scratch->bound_violations;
	gr_sched_snapshot_free(s);
}

/* n identical empty hosts */
static struct gr_sched_snapshot *uniform(int n, uint32_t cores, uint64_t mem)
{
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(3);
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "u%05d", i);
		struct gr_sched_host h = { .name = name, .cores = cores, .mips_per_core = 2500,
					   .mem_mib = mem, .cpu_overcommit = 2,
					   .power = gr_sched_power_by_name(i % 2 ? "hp-ml110-g4" : "hp-ml110-g5") };
		if (gr_sched_add_host(s, &h, &err) < 0)
			ok(0, "add_host %s: %s", name, err.msg);
	}
	return s;
}

int main(void)
{
	int mismatch = 0, bad_index = 0, violations = 0, placed = 0, unplaced = 0;
	for (uint64_t seed = 1; seed <= 3; seed++)
		index_matches_exhaustive(seed, &mismatch, &bad_index, &violations, &placed, &unplaced);
	diag("%d placed, %d not placed", placed, unplaced);
	ok(placed > 1000 && unplaced > 100, "the generated load places (%d) and refuses (%d)", placed,
	   unplaced);
	is_int(mismatch, 0, "every policy decides as when it examines every host (9 policies x 3 x %d requests)",
	       N_STEPS);
	is_int(violations, 0, "no host that fits scores below its block's bound (every block, every decision)");
	is_int(bad_index, 0, "aggregates, label host lists and counts, groups stay exact under churn");

	/* ties across blocks go to the lowest index */
	static const char *const spread[] = { "least-instances", "global" };
	for (size_t k = 0; k < 2; k++) {
		struct gr_sched_snapshot *s = uniform(200, 8, 16384);
		const struct gr_sched_policy_ops *p = gr_sched_policy_by_name(spread[k]);
		int wrong = 0;
		for (int i = 0; i < 200; i++) {
			char name[16];
			snprintf(name, sizeof(name), "t%d", i);
			struct gr_sched_request r = { .name = name, .vcpus = 1, .mips_per_vcpu = 1000,
						      .mem_mib = 1024 };
			struct gr_sched_decision d;
			if (gr_sched_place(s, p, &r, &d, &err) < 0 || d.host != i ||
			    gr_sched_apply(s, &r, &d, &err) < 0)
				wrong++;
		}
		is_int(wrong, 0, "%s: the i-th instance on 200 identical hosts goes to host i (4 blocks)",
		       spread[k]);
		gr_sched_snapshot_free(s);
	}

	/* on 4,096 hosts the scoring policies examine a small fraction of them */
	static const char *const scoring[] = { "least-instances", "shortest-queue", "global", "best-fit" };
	for (size_t k = 0; k < 4; k++) {
		struct gr_sched_snapshot *s = uniform(4096, 32, 131072);
		struct gr_sched_rng rng;
		gr_sched_rng_seed(&rng, 11);
		const struct gr_sched_policy_ops *fill = gr_sched_policy_by_name("least-instances");
		const struct gr_sched_policy_ops *p = gr_sched_policy_by_name(scoring[k]);
		int fails = 0;
		double examined = 0;
		for (int i = 0; i < 24576 + 2000; i++) {
			char name[16];
			snprintf(name, sizeof(name), "w%d", i);
			double u = gr_sched_rng_double(&rng);
			struct gr_sched_request r = {
				.name = name, .vcpus = 1 + (uint32_t)gr_sched_rng_below(&rng, 4),
				.mips_per_vcpu = 500 + 250 * (double)gr_sched_rng_below(&rng, 4),
				.mem_mib = 1024 * (1 + gr_sched_rng_below(&rng, 8)), .util = &u, .n_util = 1,
			};
			struct gr_sched_decision d;
			bool timed = i >= 24576;
			if (gr_sched_place(s, timed ? p : fill, &r, &d, &err) < 0 || d.host < 0 ||
			    gr_sched_apply(s, &r, &d, &err) < 0) {
				fails++;
				continue;
			}
			if (timed) {
				examined += d.considered;
				/* one of the first fill instances leaves: the load stays */
				if (gr_sched_remove(s, i - 24576, &err) < 0)
					fails++;
			}
		}
		examined /= 2000;
		ok(fails == 0 && examined < 4096 / 10,
		   "%s on 4,096 hosts, 24,576 instances: %.0f hosts examined per decision (< 10 %%)",
		   scoring[k], examined);
		gr_sched_snapshot_free(s);
	}
	return tap_done();
}
