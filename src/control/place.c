/*
 * place.c - admission of a start and the choice of a host through the
 * scheduler (src/sched), on a snapshot of the pool's hosts that lives as long
 * as the daemon.
 *
 * The placer keeps one gr_sched_snapshot: the hosts (this machine from the
 * start; every pool member once gr__placer_hosts saw its record: cores, CPU
 * overcommitted GR_PLACE_CPU_OVERCOMMIT times, memory not overcommitted; up
 * while its alive key lives, down otherwise) and every instance that holds
 * host resources (starting, running, stopping; pending once the leader
 * assigned it a host), on the host its record names, kept in step with the records by the index (gr__placer_track on
 * every change), so a placement costs O(hosts), not a walk over every
 * instance.  gr__placer_choose asks the pool's policy (or pins a --target);
 * gr__placer_place admits a start on one given host (this daemon's: a start
 * runs where the instance is defined).  Both reserve the instance's share at
 * once (two starts racing cannot both take the last room); the reservation
 * turns into the running instance's share, or is dropped when the record
 * says the instance does not run.  An instance without a memory limit counts
 * GR_PLACE_DEFAULT_MIB, one without a CPU limit a hundredth of a core (idle
 * containers are dense: 200 of them must fit a small host).
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
	const struct gr_sched_policy_ops *pin;  /* static: admission on one named host */
	char *self;
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

static struct gr_sched_host host_of(const struct gr__place_host *ph)
{
	return (struct gr_sched_host){
		.state = ph->online ? GR_SCHED_HOST_UP : GR_SCHED_HOST_DOWN,
		.cores = ph->cores ? ph->cores : 1,
		.mips_per_core = GR_PLACE_MIPS,
		.mem_mib = ph->mem_mib ? ph->mem_mib : 1,
		.cpu_overcommit = GR_PLACE_CPU_OVERCOMMIT,
		.mem_overcommit = 1.0,
		.name = ph->name,
	};
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
	p->pin = gr_sched_policy_by_name("static");
	p->self = xstrdup(hostname);
	struct gr__place_host self = { .name = hostname, .online = true,
				       .cores = (uint32_t)(cores > 0 ? cores : 1),
				       .mem_mib = (uint64_t)si.totalram * si.mem_unit >> 20 };
	struct gr_sched_host h = host_of(&self);
	if (!p->pin) {
		gr_error_set(err, ENOSYS, "scheduler: no static policy");
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
	free(p->self);
	free(p);
}

/* The host slot named name, added (down, until its record is seen) when new. */
static int host_slot(struct gr__placer *p, const char *name)
{
	int h = gr_sched_host_find(p->s, name);
	if (h >= 0)
		return h;
	struct gr__place_host ph = { .name = name };
	struct gr_sched_host sh = host_of(&ph);
	return gr_sched_add_host(p->s, &sh, NULL);
}

void gr__placer_hosts(struct gr__placer *p, const struct gr__place_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct gr__place_host ph = hosts[i];
		if (!strcmp(ph.name, p->self) && !ph.excluded)
			ph.online = true; /* we are answering: up, whatever the store said a moment ago */
		int h = host_slot(p, ph.name);
		if (h < 0)
			continue;
		struct gr_sched_host sh = host_of(&ph);
		gr_sched_update_host(p->s, h, &sh, NULL);
	}
}

void gr__placer_track(struct gr__placer *p, const char *name, const struct gr_instance *in)
{
	int idx = gr_sched_instance_find(p->s, name);
	/* a pending instance the leader assigned holds its share on that host
	 * until the host claims it (pending.c): the next choice sees it taken */
	bool want = in && (gr__state_active(in->state) ||
			   (in->state == GR_ST_PENDING && in->host[0]));
	struct gr_sched_request rq;
	/* what runs is a fact: it counts on its host as it is, also beyond
	 * what the scheduler would have allowed (a live resize, an adopted
	 * instance), so the next placement sees the host as full as it is */
	int host = -1;
	if (want) {
		request_of(name, in, &rq);
		host = host_slot(p, in->host[0] ? in->host : p->self);
		if (host < 0)
			host = 0;
	}
	if (idx >= 0) {
		const struct gr_sched_instance *si = &p->s->instances[idx];
		if (want && si->host == host && si->vcpus == rq.vcpus && si->mem_mib == rq.mem_mib &&
		    fabs(si->mips_per_vcpu - rq.mips_per_vcpu) < 1e-9)
			return; /* placed as it is */
		gr_sched_remove(p->s, idx, NULL);
	}
	if (!want)
		return;
	gr_sched_add_instance(p->s, &rq, host, NULL);
}

/* Place in with policy pol (pinned to pin when not NULL) and reserve. */
static int place_with(struct gr__placer *p, const struct gr_sched_policy_ops *pol, const char *pin,
		      const struct gr_instance *in, char *host, size_t len, gr_error_t *err)
{
	struct gr_sched_request rq;
	struct gr_sched_decision dc;
	request_of(in->name, in, &rq);
	rq.pinned_host = pin;
	if (gr_sched_place(p->s, pol, &rq, &dc, err) < 0)
		return gr_error_prefix(err, "scheduler");
	if (dc.host < 0)
		return gr_error_set(err, EAGAIN, "no room to start '%s' (%u vCPU, %llu MiB)%s%s: %s",
				    in->name, rq.vcpus, (unsigned long long)rq.mem_mib,
				    pin ? " on host " : "", pin ? pin : "", dc.reason);
	if (gr_sched_apply(p->s, &rq, &dc, err) < 0)
		return gr_error_prefix(err, "scheduler");
	snprintf(host, len, "%s", p->s->hosts[dc.host].name);
	return 0;
}

int gr__placer_place(struct gr__placer *p, const struct gr_instance *in, char *host, size_t len,
		     gr_error_t *err)
{
	int idx = gr_sched_instance_find(p->s, in->name);
	int self = gr_sched_host_find(p->s, p->self);
	if (idx >= 0 && p->s->instances[idx].host >= 0 && p->s->instances[idx].host == self) {
		snprintf(host, len, "%s", p->self);
		return 0;
	}
	if (idx >= 0)
		gr_sched_remove(p->s, idx, NULL);
	return place_with(p, p->pin, p->self, in, host, len, err);
}

int gr__placer_choose(struct gr__placer *p, const struct gr_sched_policy_ops *policy,
		      const char *target, const struct gr_instance *in, char *host, size_t len,
		      gr_error_t *err)
{
	int idx = gr_sched_instance_find(p->s, in->name);
	if (idx >= 0)
		gr_sched_remove(p->s, idx, NULL);
	if (target)
		return place_with(p, p->pin, target, in, host, len, err);
	return place_with(p, policy, NULL, in, host, len, err);
}

void gr__placer_why(const struct gr__placer *p, const struct gr_instance *in, char *buf, size_t len)
{
	struct gr_sched_request rq;
	request_of(in->name, in, &rq);
	double need_cpu = rq.vcpus * rq.mips_per_vcpu;
	size_t off = 0;
	buf[0] = '\0';
	for (size_t h = 0; h < p->s->n_hosts && off < len; h++) {
		const struct gr_sched_host *sh = &p->s->hosts[h];
		double mem_free = sh->mem_cap - sh->mem_alloc, cpu_free = sh->cpu_cap - sh->cpu_alloc;
		const char *sep = off ? "; " : "";
		int w;
		if (sh->state != GR_SCHED_HOST_UP)
			w = snprintf(buf + off, len - off, "%s%s: down", sep, sh->name);
		else
			w = snprintf(buf + off, len - off, "%s%s: %.0f of %.0f MiB free%s, %.2f of %.0f CPUs free%s",
				     sep, sh->name, mem_free > 0 ? mem_free : 0, sh->mem_cap,
				     mem_free < rq.mem_mib ? " (too little)" : "",
				     cpu_free > 0 ? cpu_free / GR_PLACE_MIPS : 0, sh->cpu_cap / GR_PLACE_MIPS,
				     cpu_free < need_cpu ? " (too little)" : "");
		if (w < 0)
			break;
		off += (size_t)w;
	}
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
		return gr_error_set(err, EINVAL, "memory: %llu MiB is more than any host has (the "
				    "largest: %llu MiB)", (unsigned long long)rq.mem_mib,
				    (unsigned long long)mem_max);
	if (rq.vcpus > cores_max)
		return gr_error_set(err, EINVAL, "cpu: %g CPUs is more than any host has (the largest: "
				    "%u cores)", in->cpu, cores_max);
	return 0;
}
