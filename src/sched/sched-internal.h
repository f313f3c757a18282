/*
 * sched-internal.h - what the scheduler's own files share: the name index,
 * groups, per-decision scratch, and the filter pipeline every policy runs
 * (filters.c).  Not for other modules; they use sched.h.
 */
#ifndef GR_SCHED_INTERNAL_H
#define GR_SCHED_INTERNAL_H

#include "sched/sched.h"

/* Open-addressing string -> int index; keys are borrowed from the records. */
struct gr__map {
	const char **keys; /* NULL = empty; gr__map_tomb = deleted */
	int *vals;
	size_t cap, used, tombs;
};
extern const char gr__map_tomb[];
int gr__map_get(const struct gr__map *m, const char *key);
void gr__map_put(struct gr__map *m, const char *key, int val);
void gr__map_del(struct gr__map *m, const char *key);
void gr__map_free(struct gr__map *m);

struct gr_sched_names {
	struct gr__map hosts, instances, groups;
};

struct gr_sched_group {
	char *name;
	int *members; /* instance indices, placed or not */
	size_t n, cap;
};

/* Per-host marks for rule evaluation, valid when the epoch matches. */
struct gr__mark {
	uint32_t forbid_epoch;
	uint32_t allow_epoch;
	uint32_t allow_rule;
	uint32_t allow_n;
};

struct gr_sched_scratch {
	struct gr__mark *marks; /* n_hosts entries */
	size_t cap;
	uint32_t epoch;
	double *load;           /* rebalance working copies, n_hosts entries */
	double *cpu_alloc, *mem_alloc;
	uint32_t *n_inst;
	size_t work_cap;
	int *where;             /* rebalance: working host of each instance */
	size_t where_cap;
	struct gr_sched_power_model **curves; /* distinct power curves, shared by hosts */
	size_t n_curves;
};

/* A request (or a placed instance) turned into what the filters need. */
struct gr__fit {
	double cpu, cpu_use, mem, util;
	double mips_per_vcpu;
	uint32_t vcpus;
	uint64_t need_labels;
	const char *missing_label; /* a required label no host carries, or NULL */
	uint32_t epoch;            /* marks epoch of this fit */
	bool forbid;               /* some host is forbidden by anti-affinity */
	uint32_t n_allow;          /* active affinity rules a host must satisfy */
	int self;                  /* instance being moved (excluded from rules), or -1 */
};

/* Validate a request (names the field at fault). */
int gr__request_check(const struct gr_sched_request *req, gr_error_t *err);
/* Build a fit for a request: labels, rules (marks), resources. */
void gr__fit_request(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		     struct gr__fit *f);
/* Build a fit for an existing instance (rebalance / migrate). */
void gr__fit_instance(const struct gr_sched_snapshot *s, int inst, struct gr__fit *f);

/* Does the fit pass every filter on host h?  Returns -1 when it does, else
 * the enum gr_sched_reject of the first filter that refuses. */
static inline int gr__fit_host(const struct gr_sched_snapshot *s, const struct gr__fit *f, int h)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	if (hs->state != GR_SCHED_HOST_UP)
		return hs->state == GR_SCHED_HOST_MAINTENANCE ? GR_SCHED_REJ_MAINTENANCE
		       : hs->state == GR_SCHED_HOST_DOWN      ? GR_SCHED_REJ_DOWN
							      : GR_SCHED_REJ_DRAINING;
	if ((hs->label_bits & f->need_labels) != f->need_labels || f->missing_label)
		return GR_SCHED_REJ_LABELS;
	if (f->forbid || f->n_allow) {
		const struct gr__mark *m = &s->scratch->marks[h];
		if (f->forbid && m->forbid_epoch == f->epoch)
			return GR_SCHED_REJ_ANTI_AFFINITY;
		if (f->n_allow && (m->allow_epoch != f->epoch || m->allow_n != f->n_allow))
			return GR_SCHED_REJ_AFFINITY;
	}
	if (f->vcpus > hs->cores || f->mips_per_vcpu > hs->mips_per_core * (1 + 1e-9))
		return GR_SCHED_REJ_CORES;
	if (hs->cpu_alloc + f->cpu > hs->cpu_cap * (1 + 1e-9))
		return GR_SCHED_REJ_CPU;
	if (hs->mem_alloc + f->mem > hs->mem_cap * (1 + 1e-9))
		return GR_SCHED_REJ_MEMORY;
	return -1;
}

/* Short text for a reject reason: "in maintenance", "too small in memory". */
const char *gr__reject_text(int why);

/* Start a decision: host -1, counters zero, arrival -1. */
void gr__decision_init(struct gr_sched_decision *d);
/* Write "no host has ... (3 hosts in maintenance, 12 too small in memory)"
 * into d->reason; scope (may be NULL) says which hosts were looked at. */
void gr__decision_not_placed(struct gr_sched_decision *d, const struct gr__fit *f,
			     const char *scope);
/* d->host = h and reason = "<host>: <why>". */
void gr__decision_placed(struct gr_sched_decision *d, const struct gr_sched_snapshot *s, int h,
			 double score, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Hosts host h knows: writes up to max indices into out, returns the count. */
size_t gr__neighbours(const struct gr_sched_snapshot *s, int h, int *out, size_t max);

/* Load of host h if the fit were added. */
static inline double gr__load_with(const struct gr_sched_host *h, const struct gr__fit *f)
{
	return (h->cpu_used + f->cpu_use) / h->cpu_phys;
}

/* The least-loaded host that fits (ties: fewer instances, then lower index),
 * loads counted with the request when with_request, else as they are now.
 * Fills d; reason is a printf format taking the chosen load in percent.
 * Shared by shortest-queue (load now) and global (load after placement). */
int gr__place_least_loaded(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
			   struct gr_sched_decision *d, int with_request, const char *reason);

/* May rebalancing move this instance?  Placed, not pinned, no affinity rule
 * (moving it alone would break the rule). */
static inline bool gr__movable(const struct gr_sched_snapshot *s, int inst)
{
	const struct gr_sched_instance *in = &s->instances[inst];
	if (!in->live || in->host < 0 || in->pinned)
		return false;
	for (size_t r = 0; r < in->n_rules; r++)
		if (in->rules[r].kind == GR_SCHED_AFFINITY)
			return false;
	return true;
}

/* The global rebalancer (policy_global.c), also shortest-queue's. */
int gr__rebalance_global(const struct gr_sched_snapshot *s, struct gr_sched_plan *plan,
			 gr_error_t *err);

/* Rebalancing working state (policy_local.c, policy_global.c). */
void gr__work_init(const struct gr_sched_snapshot *s);
/* Migration cost in gain units for moving instance inst. */
double gr__migration_cost(const struct gr_sched_snapshot *s, int inst);
/* Can inst move to host to in the working state (state, labels, rules, capacity)? */
bool gr__work_fits(const struct gr_sched_snapshot *s, int inst, int to);
void gr__work_move(const struct gr_sched_snapshot *s, int inst, int from, int to);
void gr__plan_add(struct gr_sched_plan *p, int inst, int from, int to, double gain, double cost,
		  const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#endif
