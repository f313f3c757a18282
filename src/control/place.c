/*
 * place.c - admission of a start through the scheduler (src/sched), on a
 * snapshot of the hosts that lives as long as the daemon.
 *
 * The placer keeps one gr_sched_snapshot: the hosts (this machine today: its
 * cores, CPU overcommitted GR_PLACE_CPU_OVERCOMMIT times, its memory not
 * overcommitted) and every instance that holds host resources (starting,
 * running, stopping), kept in step with the records by the index
 * (gr__placer_track on every change), so a placement costs O(hosts), not a
 * walk over every instance.  A placement reserves the instance's share at
 * once (two starts racing cannot both take the last room); the reservation
 * turns into the running instance's share, or is dropped when the record
 * says the instance does not run.  An instance without a memory limit
 * counts GR_PLACE_DEFAULT_MIB, one without a CPU limit a hundredth of a core
 * (idle containers are dense: 200 of them must fit a small host).
 *
 * Not thread-safe: the index calls it under its lock.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include "sched/sched.h"
#include "util/alloc.h"

#define GR_PLACE_CPU_OVERCOMMIT 8.0
#define GR_PLACE_DEFAULT_MIB 16
#define GR_PLACE_DEFAULT_CPU 0.01
#define GR_PLACE_MIPS 1000.0

struct gr__placer {
	struct gr_sched_snapshot *s;
	const struct gr_sched_policy_ops *policy;
};

static void request_of(const char *name, const struct gr_instance *in, struct gr_sched_request *r)
{
	double cpu = in->cpu;
	memset(r, 0, sizeof *r);
	r->name = name;
	if (cpu <= 0)
		cpu = GR_PLACE_DEFAULT_CPU;
	r->vcpus = (uint32_t)ceil(cpu);
	r->mips_per_vcpu = GR_PLACE_MIPS * cpu / r->vcpus;
	r->mem_mib = in->memory ? (in->memory + (1 << 20) - 1) >> 20 : GR_PLACE_DEFAULT_MIB;
}

struct gr__placer *gr__placer_new(const char *hostname, gr_error_t *err)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0) {
		gr_error_sys(err, "sysinfo");
		return NULL;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct gr__placer *p = xcalloc(1, sizeof *p);
	p->s = gr_sched_snapshot_new(1);
	p->policy = gr_sched_policy_by_name("best-fit");
	struct gr_sched_host h = {
		.state = GR_SCHED_HOST_UP,
		.cores = (uint32_t)(cores > 0 ? cores : 1),
		.mips_per_core = GR_PLACE_MIPS,
		.mem_mib = (uint64_t)si.totalram * si.mem_unit >> 20,
		.cpu_overcommit = GR_PLACE_CPU_OVERCOMMIT,
		.mem_overcommit = 1.0,
		.name = hostname,
	};
	if (!p->policy) {
		gr_error_set(err, ENOSYS, "scheduler: no best-fit policy");
		gr__placer_free(p);
		return NULL;
	}
	if (gr_sched_add_host(p->s, &h, err) < 0) {
		gr__placer_free(p);
		return NULL;
	}
	return p;
}

void gr__placer_free(struct gr__placer *p)
{
	if (!p)
		return;
	gr_sched_snapshot_free(p->s);
	free(p);
}

void gr__placer_track(struct gr__placer *p, const char *name, const struct gr_instance *in)
{
	int idx = gr_sched_instance_find(p->s, name);
	bool want = in && gr__state_active(in->state);
	struct gr_sched_request rq;
	if (want)
		request_of(name, in, &rq);
	if (idx >= 0) {
		const struct gr_sched_instance *si = &p->s->instances[idx];
		if (want && si->host >= 0 && si->vcpus == rq.vcpus && si->mem_mib == rq.mem_mib &&
		    fabs(si->mips_per_vcpu - rq.mips_per_vcpu) < 1e-9)
			return; /* placed as it is */
		gr_sched_remove(p->s, idx, NULL);
	}
	if (!want)
		return;
	/* what runs is a fact: it counts on its host as it is, also beyond
	 * what the scheduler would have allowed (a live resize, an adopted
	 * instance), so the next placement sees the host as full as it is */
	int host = in->host[0] ? gr_sched_host_find(p->s, in->host) : -1;
	if (host < 0)
		host = 0;
	gr_sched_add_instance(p->s, &rq, host, NULL);
}

int gr__placer_place(struct gr__placer *p, const struct gr_instance *in, char *host, size_t len,
		     gr_error_t *err)
{
	int idx = gr_sched_instance_find(p->s, in->name);
	if (idx >= 0 && p->s->instances[idx].host >= 0) {
		snprintf(host, len, "%s", p->s->hosts[p->s->instances[idx].host].name);
		return 0;
	}
	if (idx >= 0)
		gr_sched_remove(p->s, idx, NULL);
	struct gr_sched_request rq;
	struct gr_sched_decision dc;
	request_of(in->name, in, &rq);
	if (gr_sched_place(p->s, p->policy, &rq, &dc, err) < 0)
		return gr_error_prefix(err, "scheduler");
	if (dc.host < 0)
		return gr_error_set(err, EAGAIN, "no room to start '%s' (%u vCPU, %llu MiB): %s", in->name,
				    rq.vcpus, (unsigned long long)rq.mem_mib, dc.reason);
	if (gr_sched_apply(p->s, &rq, &dc, err) < 0)
		return gr_error_prefix(err, "scheduler");
	snprintf(host, len, "%s", p->s->hosts[dc.host].name);
	return 0;
}

int gr__placer_check(const struct gr__placer *p, const struct gr_instance *in, gr_error_t *err)
{
	struct gr_sched_request rq;
	request_of(in->name, in, &rq);
	uint64_t mem_max = 0;
	uint32_t cores_max = 0;
	for (size_t h = 0; h < p->s->n_hosts; h++) {
		const struct gr_sched_host *host = &p->s->hosts[h];
		if ((uint64_t)host->mem_cap > mem_max)
			mem_max = (uint64_t)host->mem_cap;
		if (host->cores > cores_max)
			cores_max = host->cores;
	}
	if (rq.mem_mib > mem_max)
		return gr_error_set(err, EINVAL, "memory: %llu MiB is more than any host has (this host: "
				    "%llu MiB)", (unsigned long long)rq.mem_mib, (unsigned long long)mem_max);
	if (rq.vcpus > cores_max)
		return gr_error_set(err, EINVAL, "cpu: %g CPUs is more than any host has (this host: %u "
				    "cores)", in->cpu, cores_max);
	return 0;
}
