/*
 * place_bench.c - placement decisions per second for every policy on a
 * 1,000-host, 10,000-instance snapshot.  Each timed step is one full
 * decision as the daemon makes it: gr_sched_place() + gr_sched_apply() of a
 * new named instance, then gr_sched_remove() of the oldest one so the
 * snapshot stays at 10,000 instances.  The rate is per second of this
 * process's CPU time (the machine is shared; wall time is printed too).
 * Prints one line per policy and, last, placements_per_s_min=<n>.  Usage: place_bench [decisions-per-policy] [seed]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sched/sched.h"

#define N_HOSTS 1000
#define N_INST 10000

static const char *const zones[] = { "zone=a", "zone=b", "zone=c", "zone=d" };

static double clock_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_request(struct gr_sched_rng *rng, uint64_t id, char *name, size_t n,
			 struct gr_sched_request *r, const char **label, double *util)
{
	snprintf(name, n, "bench-%llu", (unsigned long long)id);
	*util = gr_sched_rng_double(rng);
	*r = (struct gr_sched_request){
		.name = name,
		.vcpus = 1 + (uint32_t)gr_sched_rng_below(rng, 4),
		.mips_per_vcpu = 500 + 250 * (double)gr_sched_rng_below(rng, 4),
		.mem_mib = 1024 * (1 + gr_sched_rng_below(rng, 8)),
		.util = util,
		.n_util = 1,
	};
	if (gr_sched_rng_below(rng, 10) == 0) {
		*label = zones[gr_sched_rng_below(rng, 4)];
		r->labels = label;
		r->n_labels = 1;
	}
}

int main(int argc, char **argv)
{
	long steps = argc > 1 ? atol(argv[1]) : 200000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	if (steps < 1) {
		fprintf(stderr, "usage: place_bench [decisions-per-policy >= 1] [seed]\n");
		return 2;
	}
	double min_rate = -1;
	for (size_t k = 0; gr_sched_policies[k]; k++) {
		const struct gr_sched_policy_ops *p = gr_sched_policies[k];
		gr_error_t err;
		struct gr_sched_snapshot *s = gr_sched_snapshot_new(seed);
		struct gr_sched_rng rng;
		gr_sched_rng_seed(&rng, seed);
		for (int i = 0; i < N_HOSTS; i++) {
			char name[16];
			snprintf(name, sizeof(name), "host%04d", i);
			const char *labels[] = { zones[i % 4] };
			struct gr_sched_host h = {
				.name = name, .cores = 32, .mips_per_core = 2500, .mem_mib = 131072,
				.cpu_overcommit = 2, .labels = labels, .n_labels = 1,
				.state = i % 50 == 0 ? GR_SCHED_HOST_MAINTENANCE : GR_SCHED_HOST_UP,
				.power = gr_sched_power_by_name(i % 2 ? "hp-ml110-g4" : "hp-ml110-g5"),
			};
			if (gr_sched_add_host(s, &h, &err) < 0) {
				fprintf(stderr, "place_bench: %s\n", err.msg);
				return 1;
			}
		}
		/* fill: 10,000 instances spread by least-instances */
		int *ring = calloc(N_INST, sizeof(int));
		const struct gr_sched_policy_ops *fill = gr_sched_policy_by_name("least-instances");
		uint64_t id = 0;
		for (int i = 0; i < N_INST; i++) {
			char name[32];
			const char *label;
			double util;
			struct gr_sched_request r;
			struct gr_sched_decision d;
			make_request(&rng, id++, name, sizeof(name), &r, &label, &util);
			if (gr_sched_place(s, fill, &r, &d, &err) < 0 || d.host < 0 ||
			    (ring[i] = gr_sched_apply(s, &r, &d, &err)) < 0) {
				fprintf(stderr, "place_bench: fill %d: %s\n", i, d.host < 0 ? d.reason : err.msg);
				return 1;
			}
		}
		long placed = 0;
		size_t oldest = 0;
		double t0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
		for (long step = 0; step < steps; step++) {
			char name[32];
			const char *label;
			double util;
			struct gr_sched_request r;
			struct gr_sched_decision d;
			make_request(&rng, id++, name, sizeof(name), &r, &label, &util);
			if (!strcmp(p->name, "static"))
				r.pinned_host = s->hosts[gr_sched_rng_below(&rng, N_HOSTS)].name;
			if (gr_sched_place(s, p, &r, &d, &err) < 0) {
				fprintf(stderr, "place_bench: %s: %s\n", p->name, err.msg);
				return 1;
			}
			if (d.host < 0)
				continue;
			int idx = gr_sched_apply(s, &r, &d, &err);
			if (idx < 0) {
				fprintf(stderr, "place_bench: %s: apply: %s\n", p->name, err.msg);
				return 1;
			}
			placed++;
			gr_sched_remove(s, ring[oldest], &err);
			ring[oldest] = idx;
			oldest = (oldest + 1) % N_INST;
		}
		double dt = clock_s(CLOCK_PROCESS_CPUTIME_ID) - t0, wall = clock_s(CLOCK_MONOTONIC) - w0;
		double rate = steps / dt;
		printf("%-16s %10.0f decisions/s  (%ld decisions, %ld placed, %.3f s CPU, %.3f s wall, %zu hosts, %zu instances)\n",
		       p->name, rate, steps, placed, dt, wall, s->n_hosts, s->n_live);
		if (min_rate < 0 || rate < min_rate)
			min_rate = rate;
		free(ring);
		gr_sched_snapshot_free(s);
	}
	printf("placements_per_s_min=%.0f\n", min_rate);
	return 0;
}
