/*
 * sched.h - the scheduler: pure placement and rebalancing policies over a
 * cluster snapshot (docs/SCHEDULER.md).
 *
 * A snapshot holds hosts (capacity, overcommit, state, labels, power curve)
 * and instances (resource request, host, utilisation history).  It keeps
 * per-host aggregates (allocated CPU/memory, current CPU use, instance count)
 * up to date incrementally as decisions are applied, and a summary of every
 * block of 64 hosts, so a decision skips the blocks that cannot hold the
 * answer.  Nothing here does I/O (but the trace loader of sim.h) or keeps
 * globals: the same snapshot, request and seed give the same decision in the
 * daemon, the simulator and the tests.
 *
 * A LONG-LIVED SNAPSHOT.  The daemon keeps one snapshot of the cluster for its
 * whole life and changes it as the cluster changes; nothing has to be rebuilt:
 *   hosts:      gr_sched_add_host(), gr_sched_host_find(),
 *               gr_sched_update_host() (capacity, overcommit, labels, power,
 *               neighbours, state; its instances stay), gr_sched_set_host_state().
 *               A host that leaves is set down; its slot and name stay.
 *   instances:  gr_sched_place() + gr_sched_apply() to start one where the
 *               policy says; gr_sched_add_instance() to record one already
 *               running on a known host (start-up, adoption: no filter is
 *               checked); gr_sched_instance_find() + gr_sched_remove() when it
 *               stops or is deleted; gr_sched_unplace() when its host went down
 *               (the record stays; place it again under the same name);
 *               gr_sched_unplace() + gr_sched_add_instance() to record a live
 *               resize on the same host; gr_sched_migrate() after a move.
 * Costs (n = hosts, k = hosts a decision examines, r = members of the groups
 * and instances its rules name, l = labels involved):
 *   O(1) expected: *_find, gr_sched_remove, gr_sched_unplace, gr_sched_migrate,
 *       gr_sched_set_host_state, gr_sched_util_push (O(params.util_window));
 *   O(r + l): gr_sched_apply, gr_sched_add_instance, gr_sched_instance_request;
 *   O(l + hosts carrying a changed label): gr_sched_add_host, gr_sched_update_host;
 *   O(n / 64 + k + r + l): gr_sched_place.  k is usually a few blocks of 64
 *       (bench/place: 10,000 hosts); a request that nothing fits examines all n
 *       hosts to say why;
 *   O(n + instances) and up: gr_sched_rebalance.
 * Memory stays bounded over any number of decisions: instance slots, names,
 * groups (freed with their last member) and labels (freed with the last host
 * or instance carrying them) are reused; scratch buffers grow to the largest
 * cluster seen and no further.
 * Ownership: every add/apply/update copies what its arguments point to; the
 * snapshot owns its hosts, instances and strings, all freed by
 * gr_sched_snapshot_free().  Pointers into the snapshot (host and instance
 * records, strings lent by gr_sched_instance_request()) stay valid until the
 * next call that changes the snapshot.
 * Threads: a snapshot is not thread-safe, and gr_sched_place() and
 * gr_sched_rebalance() write its internal caches although they take a const
 * snapshot: one thread at a time for every call on one snapshot (the daemon
 * holds its lock around each).  Different snapshots are independent.
 *
 * Units: CPU in MIPS (host capacity = cores x mips_per_core; a request asks
 * vcpus x mips_per_vcpu; containers that think in shares use 1000 MIPS per
 * core), memory in MiB, utilisation as a fraction 0..1 of the requested CPU.
 * Host "load" = current CPU use / physical CPU capacity (may exceed 1 with
 * overcommit).  Indices of hosts and instances are stable for the snapshot's
 * life (an instance slot is reused only after gr_sched_remove(), so keep
 * names, not indices, across removals).
 */
#ifndef GR_SCHED_SCHED_H
#define GR_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

/* ---- power model (shared with the simulator) ------------------------- */

#define GR_SCHED_POWER_STEPS 11 /* 0 %, 10 %, ..., 100 % CPU utilisation */

/* Watts drawn at 0..100 % CPU utilisation in 10 % steps; linear in between
 * (the SPECpower-based model of CloudSim / Beloglazov & Buyya 2012). */
struct gr_sched_power_model {
	const char *name;            /* static string or NULL */
	double watts[GR_SCHED_POWER_STEPS];
};

/* Power at utilisation u (clamped to [0,1]), linearly interpolated. */
double gr_sched_power_at(const struct gr_sched_power_model *m, double u);
/* Check watts are finite, >= 0 and non-decreasing; names the step at fault. */
int gr_sched_power_check(const struct gr_sched_power_model *m, gr_error_t *err);
/* Built-in curves: "hp-ml110-g4" (Xeon 3040), "hp-ml110-g5" (Xeon 3075),
 * "linear-250" (175 W idle .. 250 W, the Beloglazov 2010 linear model).
 * Returns NULL for an unknown name. */
const struct gr_sched_power_model *gr_sched_power_by_name(const char *name);

/* ---- deterministic PRNG (xoshiro256**, seeded by splitmix64) --------- */

struct gr_sched_rng {
	uint64_t s[4];
};
void gr_sched_rng_seed(struct gr_sched_rng *r, uint64_t seed);
uint64_t gr_sched_rng_next(struct gr_sched_rng *r);
double gr_sched_rng_double(struct gr_sched_rng *r);            /* [0, 1) */
uint64_t gr_sched_rng_below(struct gr_sched_rng *r, uint64_t n); /* [0, n), n > 0 */

/* ---- hosts ------------------------------------------------------------ */

enum gr_sched_host_state {
	GR_SCHED_HOST_UP = 0,
	GR_SCHED_HOST_MAINTENANCE, /* takes nothing new; instances stay */
	GR_SCHED_HOST_DOWN,        /* takes nothing; its instances need a new home */
	GR_SCHED_HOST_DRAINING,    /* takes nothing new; rebalancing moves its instances away */
};
const char *gr_sched_host_state_name(enum gr_sched_host_state st);
/* "up", "maintenance", "down", "draining" -> state; -1 if unknown. */
int gr_sched_host_state_parse(const char *s);

struct gr_sched_host {
	/* Fields marked (c) are configuration, filled by the caller for
	 * gr_sched_add_host() and gr_sched_update_host(), which copy what they
	 * point to; the others are maintained by the snapshot and read-only for
	 * callers.  The fields the filters and the block summaries read come first
 * (three cache lines).  In
	 * the snapshot, name, labels and neighbours are owned copies and power
	 * points at a curve shared by every host with the same figures (all freed
	 * with the snapshot). */
	enum gr_sched_host_state state; /* (c) change with gr_sched_set_host_state() */
	uint32_t cores;        /* (c) */
	uint32_t n_instances;
	uint32_t n_label_ids;
	uint64_t label_bits;   /* bit (id % 64) of each label id: a quick "may carry" test */
	double cpu_cap;        /* cores*mips*cpu_overcommit, MIPS */
	double cpu_alloc;      /* sum of placed requests, MIPS */
	double mem_cap;        /* mem*mem_overcommit, MiB */
	double mem_alloc;      /* sum of placed requests, MiB */
	double cpu_used;       /* sum of requested MIPS x current utilisation */
	double mips_per_core;  /* (c) */
	double cpu_phys;       /* cores*mips */
	double inv_phys;       /* 1 / cpu_phys */
	double inv_cpu_cap;    /* 1 / cpu_cap */
	double inv_mem_cap;    /* 1 / mem_cap */
	double room;           /* free CPU fraction + free memory fraction (best-fit) */
	const struct gr_sched_power_model *power; /* (c) NULL: no power curve */
	double pw_watts_per_mips; /* power curve slope at cpu_used, W per MIPS of use */
	double pw_segment_end;    /* cpu_used where that slope's 10 % step ends */
	double pw_next;           /* slope of the next 10 % step (this one's at the last) */
	double pw_slope2;         /* smaller slope of this 10 % step and the next */
	double pw_min_rest;       /* smallest slope from cpu_used to 100 %, W per MIPS */
	const uint32_t *label_ids; /* snapshot label ids of labels[], ascending */
	uint64_t mem_mib;      /* (c) */
	double cpu_overcommit; /* (c) 0 = snapshot default */
	double mem_overcommit; /* (c) 0 = snapshot default */
	const char *name;      /* (c) unique */
	const char *const *labels; /* (c) "key=value" strings */
	size_t n_labels;       /* (c) */
	const int *neighbours; /* (c) host indices this host knows (local, diffusive);
				  NULL = the ring of +-params.neighbour_radius around its index */
	size_t n_neighbours;   /* (c) */
	int *members;          /* instance indices placed here (unordered) */
	uint32_t members_cap;
};

/* ---- instances and requests ------------------------------------------ */

enum gr_sched_rule_kind { GR_SCHED_AFFINITY = 0, GR_SCHED_ANTI_AFFINITY };
enum gr_sched_rule_target { GR_SCHED_TARGET_INSTANCE = 0, GR_SCHED_TARGET_GROUP };

/* Affinity: share a host with the named instance (or with at least one
 * placed member of the group; vacuous while none is placed).
 * Anti-affinity: share no host with it (or with any member of the group;
 * naming the request's own group spreads the group one per host). */
struct gr_sched_rule {
	enum gr_sched_rule_kind kind;
	enum gr_sched_rule_target target;
	const char *name;
};

struct gr_sched_request {
	const char *name;        /* instance name, unique in the snapshot; NULL = anonymous */
	const char *group;       /* NULL = none */
	uint32_t vcpus;          /* >= 1 */
	double mips_per_vcpu;    /* > 0; must fit one host core */
	uint64_t mem_mib;        /* >= 1 */
	const char *const *labels; /* host must carry every "key=value" */
	size_t n_labels;
	const struct gr_sched_rule *rules;
	size_t n_rules;
	const char *pinned_host; /* static policy: this host (else a stable hash of name) */
	const double *util;      /* utilisation history, oldest first; NULL = assume 1.0 */
	size_t n_util;
};

struct gr_sched_instance {
	char *name;              /* owned; NULL = anonymous */
	int group;               /* snapshot group id, -1 = none */
	uint32_t vcpus;
	double mips_per_vcpu;
	double cpu;              /* vcpus * mips_per_vcpu */
	uint64_t mem_mib;
	uint32_t *need_labels;   /* owned: snapshot label ids the host must carry, ascending */
	uint32_t n_need_labels;
	struct gr_sched_rule *rules; /* owned copies (names owned) */
	size_t n_rules;
	bool pinned;             /* placed by static pin: rebalancing never moves it */
	bool live;               /* slot in use */
	int host;                /* host index, -1 = not placed */
	uint32_t host_pos;       /* position in the host's members[] */
	uint32_t group_pos;      /* position in the group's members */
	double *util;            /* owned history ring, oldest first (see gr_sched_util_*) */
	size_t n_util, util_cap;
	double util_now;         /* last sample, 1.0 when none */
};

/* ---- snapshot --------------------------------------------------------- */

struct gr_sched_params {
	double cpu_overcommit;     /* default for hosts that give 0; default 1.0 */
	double mem_overcommit;     /* default 1.0 */
	double overload;           /* load above which a host is overloaded; default 0.8 */
	double min_gain;           /* hysteresis: smallest net gain worth a move; default 0.05 */
	double mig_bandwidth_mib_s;/* migration cost model: seconds = mem / bandwidth; default 125 */
	double mig_cost_per_s;     /* gain units a second of migration costs; default 0.002 */
	uint32_t neighbour_radius; /* ring neighbourhood when a host lists none; default 2 */
	uint32_t max_moves;        /* migrations proposed per rebalance; default 64 */
	size_t util_window;        /* utilisation samples kept per instance; default 64 */
};

struct gr_sched_group;   /* internal */
struct gr_sched_names;   /* internal */
struct gr_sched_scratch; /* internal */

struct gr_sched_snapshot {
	struct gr_sched_host *hosts;
	size_t n_hosts, hosts_cap;
	struct gr_sched_instance *instances;
	size_t n_instances, instances_cap; /* n_instances counts slots, live or not */
	size_t n_live;
	struct gr_sched_params params;
	uint32_t rr_cursor;        /* next arrival host for round-robin / diffusive / local */
	struct gr_sched_rng rng;
	/* internal */
	struct gr_sched_group *groups;
	size_t n_groups, groups_cap; /* n_groups counts slots, in use or free */
	int *free_groups;
	size_t n_free_groups, free_groups_cap;
	struct gr_sched_names *names; /* name indexes and the label table */
	int *free_slots;
	size_t n_free, free_cap;
	struct gr_sched_scratch *scratch;
};

/* New empty snapshot with default params and the PRNG seeded with seed.
 * Free with gr_sched_snapshot_free(). */
struct gr_sched_snapshot *gr_sched_snapshot_new(uint64_t seed);
void gr_sched_snapshot_free(struct gr_sched_snapshot *s);
/* Add a host (copies the (c) fields and what they point to); returns its
 * index or < 0 (bad field: EINVAL naming it; duplicate name: EEXIST). */
int gr_sched_add_host(struct gr_sched_snapshot *s, const struct gr_sched_host *h, gr_error_t *err);
/* Change the configuration of host `host` to the (c) fields of h: cores,
 * mips_per_core, mem_mib, overcommits, state, labels, power, neighbours
 * (h->name must be NULL or the host's name).  h may be a copy of
 * s->hosts[host] with some fields changed; lists that did not change keep
 * their storage, so such a copy stays usable for the next update.  Its
 * instances stay where they are even if they no longer fit (a smaller host is
 * simply full until they leave).  0, or < 0 with nothing changed (EINVAL bad
 * field, ENOENT host). */
int gr_sched_update_host(struct gr_sched_snapshot *s, int host, const struct gr_sched_host *h,
			 gr_error_t *err);
/* Host index by name, -1 if none. */
int gr_sched_host_find(const struct gr_sched_snapshot *s, const char *name);
int gr_sched_set_host_state(struct gr_sched_snapshot *s, int host, enum gr_sched_host_state st,
			    gr_error_t *err);
/* Instance index by name, -1 if none (anonymous instances cannot be found). */
int gr_sched_instance_find(const struct gr_sched_snapshot *s, const char *name);
/* Host power curve or NULL. */
const struct gr_sched_power_model *gr_sched_host_power(const struct gr_sched_snapshot *s, int host);
/* Current load of a host: cpu_used / cpu_phys. */
static inline double gr_sched_host_load(const struct gr_sched_host *h)
{
	return h->cpu_used / h->cpu_phys;
}
/* Append a utilisation sample (0..1, clamped) to an instance; keeps the last
 * params.util_window samples and updates its host's cpu_used. */
void gr_sched_util_push(struct gr_sched_snapshot *s, int inst, double u);
/* Sample i of the instance's history, 0 = oldest kept. */
double gr_sched_util_get(const struct gr_sched_instance *in, size_t i);

/* ---- decisions ----------------------------------------------------------- */

enum gr_sched_reject {
	GR_SCHED_REJ_MAINTENANCE = 0,
	GR_SCHED_REJ_DOWN,
	GR_SCHED_REJ_DRAINING,
	GR_SCHED_REJ_LABELS,
	GR_SCHED_REJ_ANTI_AFFINITY,
	GR_SCHED_REJ_AFFINITY,
	GR_SCHED_REJ_CORES,    /* a vCPU is faster than a core, or more vCPUs than cores */
	GR_SCHED_REJ_CPU,
	GR_SCHED_REJ_MEMORY,
	GR_SCHED_REJ_POWER,    /* policy needs a power curve */
	GR_SCHED_REJ_OVERLOAD, /* would be overloaded after placement (local) */
	GR_SCHED_REJ__COUNT
};

#define GR_SCHED_REASON_MAX 320

struct gr_sched_decision {
	int host;                 /* chosen host index, -1 = not placed */
	double score;             /* policy's figure for the chosen host (lower was better) */
	uint32_t considered;      /* hosts examined (a placed decision skips the hosts
				     and blocks of hosts that cannot beat its choice;
				     "not placed" examines every host the policy sees) */
	uint32_t rejected[GR_SCHED_REJ__COUNT]; /* examined hosts each filter rejected */
	int arrival;              /* diffusive/local: host the request arrived at, else -1 */
	bool set_cursor;          /* gr_sched_apply() moves rr_cursor to cursor_after */
	uint32_t cursor_after;
	char reason[GR_SCHED_REASON_MAX]; /* why this host, or why nothing */
};

struct gr_sched_migration {
	int instance;
	int from, to;
	double gain;      /* policy's load gain before cost */
	double cost;      /* migration cost in gain units */
	char reason[200];
};

struct gr_sched_plan {
	struct gr_sched_migration *moves;
	size_t n, cap;
};
void gr_sched_plan_free(struct gr_sched_plan *p);

/* ---- policies ----------------------------------------------------------- */

#define GR_SCHED_POLICY_DECREASING 0x1 /* batch order: largest CPU request first */
#define GR_SCHED_POLICY_NEEDS_POWER 0x2

struct gr_sched_policy_ops {
	const char *name;
	const char *summary;
	unsigned flags;
	/* Decide for one request; does not change the snapshot's visible state
	 * (only gr_sched_apply() does).  0 with d filled (placed or not), < 0 on
	 * bad input. */
	int (*place)(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		     struct gr_sched_decision *d, gr_error_t *err);
	/* Propose migrations into plan (not applied); NULL = placement only. */
	int (*rebalance)(const struct gr_sched_snapshot *s, struct gr_sched_plan *plan,
			 gr_error_t *err);
};

/* Policy by name ("static", "round-robin", "least-instances", "shortest-queue",
 * "diffusive", "local", "global", "best-fit", "pabfd"); NULL if unknown. */
const struct gr_sched_policy_ops *gr_sched_policy_by_name(const char *name);
/* NULL-terminated table of every policy. */
extern const struct gr_sched_policy_ops *const gr_sched_policies[];

/* Validate req and ask the policy.  Returns 0 with d filled, < 0 on bad
 * request (err names the field) or unusable policy. */
int gr_sched_place(const struct gr_sched_snapshot *s, const struct gr_sched_policy_ops *p,
		   const struct gr_sched_request *req, struct gr_sched_decision *d, gr_error_t *err);
/* Record a placed decision: creates the instance from req on d->host (or, if
 * req->name names an unplaced instance, places that record with req's
 * request, keeping its utilisation history), updates the host aggregates and
 * the round-robin cursor.  Returns the instance index or < 0 (decision not
 * placed, host no longer fits: EBUSY, name already placed: EEXIST). */
int gr_sched_apply(struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		   const struct gr_sched_decision *d, gr_error_t *err);
/* Place a batch in the policy's order (DECREASING: by CPU request, stable),
 * applying each placed decision.  d[i] answers req[i].  Returns how many were
 * placed, or < 0 on bad input (nothing after the bad request is applied). */
int gr_sched_place_all(struct gr_sched_snapshot *s, const struct gr_sched_policy_ops *p,
		       const struct gr_sched_request *req, size_t n, struct gr_sched_decision *d,
		       gr_error_t *err);
/* Take an instance off its host but keep its record and history (its host
 * went down, or it stopped); place it again with a request of the same name. */
int gr_sched_unplace(struct gr_sched_snapshot *s, int inst, gr_error_t *err);
/* Fill req from an instance (pointers borrow the snapshot's strings and
 * history; valid until the instance changes).  Labels are the instance's
 * required labels, rules its rules, pinned_host its current host if pinned. */
int gr_sched_instance_request(const struct gr_sched_snapshot *s, int inst,
			      struct gr_sched_request *req, const char **labels, size_t max_labels,
			      gr_error_t *err);
/* Unplace an instance and free its slot, its name and (if it was their last
 * user) its group and labels. */
int gr_sched_remove(struct gr_sched_snapshot *s, int inst, gr_error_t *err);
/* Record an instance as it is, on host `host` (or unplaced with -1), without
 * asking a policy or checking a filter: what already runs is a fact (start-up,
 * adoption, a live resize after gr_sched_unplace()).  req is validated as for
 * gr_sched_place(); a name already placed is EEXIST; the name of an unplaced
 * record takes req's request and keeps its utilisation history.  Returns the
 * instance index or < 0. */
int gr_sched_add_instance(struct gr_sched_snapshot *s, const struct gr_sched_request *req, int host,
			  gr_error_t *err);
/* Move an instance (checks the target's state and capacity). */
int gr_sched_migrate(struct gr_sched_snapshot *s, int inst, int to, gr_error_t *err);
/* Ask the policy for migrations (plan is reset first). */
int gr_sched_rebalance(const struct gr_sched_snapshot *s, const struct gr_sched_policy_ops *p,
		       struct gr_sched_plan *plan, gr_error_t *err);
/* Apply every move of a plan in order; stops at the first that no longer fits. */
int gr_sched_apply_plan(struct gr_sched_snapshot *s, const struct gr_sched_plan *plan,
			gr_error_t *err);

/* Would instance inst fit on host h (state, labels, rules, capacity), as if
 * it were not placed where it is?  Fills *why with the filter that rejects. */
bool gr_sched_instance_fits(const struct gr_sched_snapshot *s, int inst, int h,
			    enum gr_sched_reject *why);

#endif
