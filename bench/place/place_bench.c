/*
 * place_bench.c - placement decisions per second for every policy, in two
 * clusters:
 *   1k:  1,000 hosts, 10,000 instances, 10 % of requests asking for a zone;
 *   10k: 10,000 hosts (zones of 2,500, racks of 40, SSD racks, a GPU rack in
 *        50, 2 % in maintenance), 100,000 instances, a realistic mix: 30 % of
 *        instances in anti-affinity groups of 2-5 members, 15 % asking for a
 *        zone, 5 % for a rack, 10 % for SSD, 1 % for a GPU.
 * Each timed step is one full decision as the daemon makes it on its
 * long-lived snapshot: gr_sched_place() + gr_sched_apply() of a new named
 * instance, then gr_sched_remove() of the oldest one, so the snapshot stays
 * at its size.  The rate is per second of this process's CPU time (the
 * machine is shared; wall time is printed too).  Last line:
 *   placements_per_s_min=<1k> placements_per_s_min_10k=<10k>
 *   kube_sched_threshold_pods_per_s=1100 ratio_vs_kube_sched_threshold=<10k / 1100>
 * (minimum over the policies; 1,100 pods/s is the upper end of the
 * kube-scheduler CI throughput thresholds at 5,000 nodes, a published figure,
 * not a run on this machine).
 * Usage: place_bench [decisions-per-policy-1k] [seed] [decisions-per-policy-10k]
 * (PLACE_POLICY=<name> in the environment runs that policy only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sched/sched.h"

#define KUBE_SCHED_THRESHOLD 1100.0

static const char *const zones[] = { "zone=a", "zone=b", "zone=c", "zone=d" };

struct scenario {
	const char *tag;
	int hosts, instances;
	bool realistic;  /* the 10k mix: racks, SSD, GPU, groups */
};

/* A request and the storage it points to. */
struct req {
	struct gr_sched_request r;
	char name[32], group[32], label[32];
	const char *labels[1];
	struct gr_sched_rule rule;
	double util;
};

struct gen {
	struct gr_sched_rng rng;
	uint64_t id;
	uint64_t group;      /* current anti-affinity group */
	int group_left;      /* members it still takes */
};

static double clock_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_request(const struct scenario *sc, struct gen *g, struct req *q)
{
	struct gr_sched_rng *rng = &g->rng;
	snprintf(q->name, sizeof(q->name), "bench-%llu", (unsigned long long)g->id++);
	q->util = gr_sched_rng_double(rng);
	q->r = (struct gr_sched_request){
		.name = q->name,
		.vcpus = 1 + (uint32_t)gr_sched_rng_below(rng, 4),
		.mips_per_vcpu = 500 + 250 * (double)gr_sched_rng_below(rng, 4),
		.mem_mib = 1024 * (1 + gr_sched_rng_below(rng, 8)),
		.util = &q->util,
		.n_util = 1,
	};
	if (!sc->realistic) {
		if (gr_sched_rng_below(rng, 10) == 0) {
			q->labels[0] = zones[gr_sched_rng_below(rng, 4)];
			q->r.labels = q->labels;
			q->r.n_labels = 1;
		}
		return;
	}
	uint64_t l = gr_sched_rng_below(rng, 100);
	if (l < 15)
		snprintf(q->label, sizeof(q->label), "%s", zones[gr_sched_rng_below(rng, 4)]);
	else if (l < 20)
		snprintf(q->label, sizeof(q->label), "rack=r%llu",
			 (unsigned long long)gr_sched_rng_below(rng, (uint64_t)sc->hosts / 40));
	else if (l < 30)
		snprintf(q->label, sizeof(q->label), "disk=ssd");
	else if (l < 31)
		snprintf(q->label, sizeof(q->label), "gpu=yes");
	if (l < 31) {
		q->labels[0] = q->label;
		q->r.labels = q->labels;
		q->r.n_labels = 1;
	}
	if (gr_sched_rng_below(rng, 10) < 3) { /* a member of a spread group */
		if (g->group_left == 0) {
			g->group++;
			g->group_left = 2 + (int)gr_sched_rng_below(rng, 4);
		}
		g->group_left--;
		snprintf(q->group, sizeof(q->group), "svc-%llu", (unsigned long long)g->group);
		q->r.group = q->group;
		q->rule = (struct gr_sched_rule){ GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_GROUP, q->group };
		q->r.rules = &q->rule;
		q->r.n_rules = 1;
	}
}

static int add_hosts(const struct scenario *sc, struct gr_sched_snapshot *s)
{
	gr_error_t err;
	for (int i = 0; i < sc->hosts; i++) {
		char name[16], rack[24];
		const char *labels[4];
		size_t nl = 0;
		snprintf(name, sizeof(name), "host%05d", i);
		enum gr_sched_host_state st = GR_SCHED_HOST_UP;
		if (!sc->realistic) {
			labels[nl++] = zones[i % 4];
			st = i % 50 == 0 ? GR_SCHED_HOST_MAINTENANCE : GR_SCHED_HOST_UP;
		} else {
			int r = i / 40;
			labels[nl++] = zones[(i / 2500) % 4];
			snprintf(rack, sizeof(rack), "rack=r%d", r);
			labels[nl++] = rack;
			if (r % 2 == 0)
				labels[nl++] = "disk=ssd";
			if (r % 50 == 7)
				labels[nl++] = "gpu=yes";
			st = i % 50 == 7 ? GR_SCHED_HOST_MAINTENANCE : GR_SCHED_HOST_UP;
		}
		struct gr_sched_host h = {
			.name = name, .cores = 32, .mips_per_core = 2500, .mem_mib = 131072,
			.cpu_overcommit = 2, .labels = labels, .n_labels = nl, .state = st,
			.power = gr_sched_power_by_name(i % 2 ? "hp-ml110-g4" : "hp-ml110-g5"),
		};
		if (gr_sched_add_host(s, &h, &err) < 0) {
			fprintf(stderr, "place_bench: %s\n", err.msg);
			return -1;
		}
	}
	return 0;
}

/* Decisions per CPU second of policy p on a fresh snapshot of scenario sc;
 * < 0 on error. */
static double run(const struct scenario *sc, const struct gr_sched_policy_ops *p, long steps,
		  uint64_t seed)
{
	gr_error_t err;
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(seed);
	struct gen g = { .id = 0 };
	gr_sched_rng_seed(&g.rng, seed);
	if (add_hosts(sc, s) < 0)
		return -1;
	/* fill: the instances spread by least-instances */
	int *ring = calloc((size_t)sc->instances, sizeof(int));
	const struct gr_sched_policy_ops *fill = gr_sched_policy_by_name("least-instances");
	for (int i = 0; i < sc->instances; i++) {
		struct req q;
		struct gr_sched_decision d;
		make_request(sc, &g, &q);
		if (gr_sched_place(s, fill, &q.r, &d, &err) < 0 || d.host < 0 ||
		    (ring[i] = gr_sched_apply(s, &q.r, &d, &err)) < 0) {
			fprintf(stderr, "place_bench: %s fill %d: %s\n", sc->tag, i, d.host < 0 ? d.reason : err.msg);
			return -1;
		}
	}
	long placed = 0;
	double examined = 0;
	size_t oldest = 0;
	double t0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
	for (long step = 0; step < steps; step++) {
		struct req q;
		struct gr_sched_decision d;
		make_request(sc, &g, &q);
		if (!strcmp(p->name, "static"))
			q.r.pinned_host = s->hosts[gr_sched_rng_below(&g.rng, (uint64_t)sc->hosts)].name;
		if (gr_sched_place(s, p, &q.r, &d, &err) < 0) {
			fprintf(stderr, "place_bench: %s %s: %s\n", sc->tag, p->name, err.msg);
			return -1;
		}
		examined += d.considered;
		if (d.host < 0)
			continue;
		int idx = gr_sched_apply(s, &q.r, &d, &err);
		if (idx < 0) {
			fprintf(stderr, "place_bench: %s %s: apply: %s\n", sc->tag, p->name, err.msg);
			return -1;
		}
		placed++;
		gr_sched_remove(s, ring[oldest], &err);
		ring[oldest] = idx;
		oldest = (oldest + 1) % (size_t)sc->instances;
	}
	double dt = clock_s(CLOCK_PROCESS_CPUTIME_ID) - t0, wall = clock_s(CLOCK_MONOTONIC) - w0;
	double rate = steps / dt;
	printf("%-3s %-16s %10.0f decisions/s  (%ld decisions, %ld placed, %.0f hosts examined each, %.3f s CPU, %.3f s wall, %zu hosts, %zu instances)\n",
	       sc->tag, p->name, rate, steps, placed, examined / steps, dt, wall, s->n_hosts, s->n_live);
	fflush(stdout);
	free(ring);
	gr_sched_snapshot_free(s);
	return rate;
}

int main(int argc, char **argv)
{
	long steps = argc > 1 ? atol(argv[1]) : 200000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	long steps_10k = argc > 3 ? atol(argv[3]) : 50000;
	if (steps < 1 || steps_10k < 1) {
		fprintf(stderr, "usage: place_bench [decisions-per-policy >= 1] [seed] [decisions-per-policy-10k >= 1]\n");
		return 2;
	}
	static const struct scenario scenarios[] = {
		{ "1k", 1000, 10000, false },
		{ "10k", 10000, 100000, true },
	};
	const char *only = getenv("PLACE_POLICY"); /* one policy, for profiling */
	double min_rate[2] = { -1, -1 };
	for (size_t c = 0; c < 2; c++)
		for (size_t k = 0; gr_sched_policies[k]; k++) {
			if (only && strcmp(only, gr_sched_policies[k]->name))
				continue;
			double rate = run(&scenarios[c], gr_sched_policies[k], c ? steps_10k : steps, seed);
			if (rate < 0)
				return 1;
			if (min_rate[c] < 0 || rate < min_rate[c])
				min_rate[c] = rate;
		}
	printf("placements_per_s_min=%.0f placements_per_s_min_10k=%.0f kube_sched_threshold_pods_per_s=%.0f ratio_vs_kube_sched_threshold=%.1f\n",
	       min_rate[0], min_rate[1], KUBE_SCHED_THRESHOLD, min_rate[1] / KUBE_SCHED_THRESHOLD);
	return 0;
}
