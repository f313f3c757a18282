/*
 * place.c - admission of a start through the scheduler (src/sched).
 *
 * A single host still asks the placement code, so the cluster version only
 * adds hosts to the snapshot: gr__place() builds a one-host snapshot (this
 * machine's cores and memory; CPU overcommitted GR_PLACE_CPU_OVERCOMMIT
 * times, memory not at all), places the instances that are running or
 * starting, then asks the "best-fit" policy for the new one.  No room: EAGAIN
 * (503) with the scheduler's reason.  An instance without a memory limit
 * counts GR_PLACE_DEFAULT_MIB, one without a CPU limit a hundredth of a core
 * (idle containers are dense: 200 of them must fit a small host).
 * Pure computation on a private snapshot: any thread.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include "sched/sched.h"
#include "util/alloc.h"

#define GR_PLACE_CPU_OVERCOMMIT 8.0
#define GR_PLACE_DEFAULT_MIB 16
#define GR_PLACE_DEFAULT_CPU 0.01
#define GR_PLACE_MIPS 1000.0

static void request_of(const json_t *doc, struct gr_sched_request *r)
{
	double cpu = json_number_value(json_object_get(doc, "cpu"));
	uint64_t mem = (uint64_t)json_integer_value(json_object_get(doc, "memory"));
	memset(r, 0, sizeof *r);
	r->name = json_string_value(json_object_get(doc, "name"));
	if (cpu <= 0)
		cpu = GR_PLACE_DEFAULT_CPU;
	r->vcpus = (uint32_t)ceil(cpu);
	r->mips_per_vcpu = GR_PLACE_MIPS * cpu / r->vcpus;
	r->mem_mib = mem ? (mem + (1 << 20) - 1) >> 20 : GR_PLACE_DEFAULT_MIB;
}

int gr__place(struct gr_control *c, const json_t *doc, char **host, gr_error_t *err)
{
	struct sysinfo si;
	char hostname[256] = "localhost";
	gethostname(hostname, sizeof hostname - 1);
	if (sysinfo(&si) < 0)
		return gr_error_sys(err, "sysinfo");
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(1);
	struct gr_sched_host h = {
		.state = GR_SCHED_HOST_UP,
		.cores = (uint32_t)(cores > 0 ? cores : 1),
		.mips_per_core = GR_PLACE_MIPS,
		.mem_mib = (uint64_t)si.totalram * si.mem_unit >> 20,
		.cpu_overcommit = GR_PLACE_CPU_OVERCOMMIT,
		.mem_overcommit = 1.0,
		.name = hostname,
	};
	int r = -1;
	if (gr_sched_add_host(s, &h, err) < 0)
		goto out;
	const struct gr_sched_policy_ops *p = gr_sched_policy_by_name("best-fit");
	if (!p) {
		gr_error_set(err, ENOSYS, "scheduler: no best-fit policy");
		goto out;
	}
	json_t *arr = NULL;
	if (gr_store_list_json(c->store, GR_KEY_INSTANCES, &arr, err) < 0)
		goto out;
	const char *me = json_string_value(json_object_get(doc, "name"));
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		json_t *d = json_object_get(e, "value");
		const char *st = json_string_value(json_object_get(d, "state"));
		const char *n = json_string_value(json_object_get(d, "name"));
		if (!st || !n || (me && !strcmp(n, me)) || (strcmp(st, "running") && strcmp(st, "starting")))
			continue;
		struct gr_sched_request rq;
		struct gr_sched_decision dc;
		request_of(d, &rq);
		/* what already runs counts where it fits (an overcommit made
		 * outside the scheduler is not counted twice) */
		if (gr_sched_place(s, p, &rq, &dc, NULL) == 0 && dc.host >= 0)
			gr_sched_apply(s, &rq, &dc, NULL);
	}
	json_decref(arr);
	struct gr_sched_request rq;
	struct gr_sched_decision dc;
	request_of(doc, &rq);
	if (gr_sched_place(s, p, &rq, &dc, err) < 0) {
		gr_error_prefix(err, "scheduler");
		goto out;
	}
	if (dc.host < 0) {
		gr_error_set(err, EAGAIN, "no room to start '%s' (%u vCPU, %llu MiB): %s", me ? me : "?",
			     rq.vcpus, (unsigned long long)rq.mem_mib, dc.reason);
		goto out;
	}
	*host = xstrdup(s->hosts[dc.host].name);
	r = 0;
out:
	gr_sched_snapshot_free(s);
	return r;
}
