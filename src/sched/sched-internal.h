/*
 * sched-internal.h - what the scheduler's own files share: the name index
 * (names.c), the label table (labels.c), groups and instance records
 * (instance.c), the per-block host summaries and the best-host search
 * (hostindex.c), per-decision scratch, and the filter pipeline every policy
 * runs (filters.c).  Not for other modules; they use sched.h.
 */
#ifndef GR_SCHED_INTERNAL_H
#define GR_SCHED_INTERNAL_H

#include <math.h>
#include "sched/sched.h"

/* ---- names (names.c) ------------------------------------------------------ */

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

/* ---- labels (labels.c) ------------------------------------------------------ */

/* An interned "key=value" label: the hosts carrying it (ascending indices)
 * and a count of its users (hosts carrying it, instances requiring it); the
 * slot is freed and its id reused when the count drops to 0. */
struct gr__label {
	char *name;      /* NULL = free slot */
	uint32_t refs;
	int *hosts;
	uint32_t n_hosts, hosts_cap;
};

struct gr_sched_names {
	struct gr__map hosts, instances, groups, labels;
	struct gr__label *label;
	uint32_t n_label, label_cap;   /* slots, in use or free */
	uint32_t *free_label;
	uint32_t n_free_label, free_label_cap;
};

/* Id of a label, -1 if no host or instance uses it. */
int gr__label_find(const struct gr_sched_snapshot *s, const char *label);
/* Id of a label, interned (one more reference). */
uint32_t gr__label_ref(struct gr_sched_snapshot *s, const char *label);
void gr__label_unref(struct gr_sched_snapshot *s, uint32_t id);
/* Give host h the labels of in (ascending ids, bits, posting lists); the
 * host's previous labels are dropped. */
void gr__host_set_labels(struct gr_sched_snapshot *s, int h, const char *const *labels, size_t n);
void gr__host_drop_labels(struct gr_sched_snapshot *s, int h);
void gr__labels_free(struct gr_sched_snapshot *s);
/* Does host hs carry every label id of need[0..n) (ascending)? */
static inline bool gr__host_has_labels(const struct gr_sched_host *hs, const uint32_t *need, uint32_t n)
{
	uint32_t j = 0;
	for (uint32_t i = 0; i < n; i++) {
		while (j < hs->n_label_ids && hs->label_ids[j] < need[i])
			j++;
		if (j == hs->n_label_ids || hs->label_ids[j] != need[i])
			return false;
	}
	return true;
}
static inline uint64_t gr__label_bit(uint32_t id)
{
	return 1ULL << (id & 63);
}

/* ---- groups and instance records (instance.c) -------------------------------- */

/* Free what an instance record owns and reset it (slot free). */
void gr__instance_release(struct gr_sched_instance *in);

struct gr_sched_group {
	char *name;   /* NULL = free slot */
	int *members; /* instance indices, placed or not */
	size_t n, cap;
};

/* ---- per-decision scratch and block summaries (hostindex.c) ----------------- */

/* A host's score under a policy: lower wins, compared on a, then b, then the
 * host index (ties go to the lower index). */
struct gr__key {
	double a, b;
};

/* Per-host marks for rule evaluation, valid when the epoch matches. */
struct gr__mark {
	uint32_t forbid_epoch;
	uint32_t allow_epoch;
	uint32_t allow_rule;
	uint32_t allow_n;
};

#define GR__BLOCK_SHIFT 6
#define GR__BLOCK (1 << GR__BLOCK_SHIFT) /* hosts per block */

/* What a decision needs to know about a block of GR__BLOCK hosts to skip it:
 * bounds over its hosts that are up (the only ones that take work).  Kept
 * lazily: a change to a host marks its block dirty, and the next search
 * recomputes the dirty blocks (O(GR__BLOCK) each). */
struct gr__block {
	uint32_t n_up;          /* up hosts; 0 = the block takes nothing */
	uint32_t n_power;       /* up hosts with a power curve */
	uint32_t min_n;         /* fewest instances */
	uint32_t min_load_n;    /* fewest instances among the hosts at min_load */
	uint32_t max_cores;
	uint64_t label_bits;    /* OR of label_bits */
	double max_mips_per_core;
	double max_free_cpu;    /* cpu_cap * (1 + 1e-9) - cpu_alloc */
	double max_free_mem;
	double min_load;        /* cpu_used * inv_phys */
	double min_n_load;      /* lowest load among the hosts with min_n instances */
	double min_used;        /* cpu_used */
	double min_inv_phys;
	double min_room;        /* room (best-fit) */
	double max_inv_cpu_cap, max_inv_mem_cap;
	double min_width;       /* cpu_phys / 10: one step of the curve, MIPS */
	double min_headroom;    /* max(0, cpu_phys - cpu_used) */
};

/* pabfd's summary of a block, kept with the block (block_compute()): its up
 * hosts with a power curve in runs of equal (slope, next slope), per run the
 * least and greatest distance to the end of the step and the least slope left
 * to 100 %.  Whether some host of a run stays in its step for a use c, or
 * leaves it, is then one comparison each, so pabfd's bound is exact per run
 * at the cost of a few runs (hosts of one kind at a few utilisation steps). */
struct gr__runs {
	uint32_t n;
	double slope[GR__BLOCK], next[GR__BLOCK];
	double gap_min[GR__BLOCK], gap_max[GR__BLOCK];
	double rest[GR__BLOCK];
};

/* The up hosts of a block in ascending order of free memory or CPU, with
 * suffix minima of room (best-fit) and of slope2 (pabfd) over the hosts with
 * at least that much free, so a bound can leave out the hosts a request
 * cannot use.  Kept on demand: the hosts that changed since an order was last
 * used are taken out and put back in place, the others are not read again. */
enum gr__order_kind { GR__ORDER_FREE_MEM = 0, GR__ORDER_FREE_CPU, GR__ORDER__COUNT };
struct gr__order {
	uint32_t n;
	uint8_t host[GR__BLOCK];          /* offsets in the block */
	double val[GR__BLOCK];            /* ascending */
	double fig[2][GR__BLOCK];         /* per position: room, slope2 */
	double m1[GR__BLOCK + 1];         /* over positions >= i (entry n: none): min room */
	double m2[GR__BLOCK + 1];         /* min slope2, +inf: no curve */
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
	struct gr__block *blocks;
	struct gr__runs *runs;  /* per block, with the block */
	size_t blocks_cap;
	uint8_t *dirty;         /* per block: in dirty_list */
	uint32_t *dirty_list;
	size_t n_dirty;
	struct gr__key *bounds; /* per block, one search's bounds */
	uint32_t *heap;         /* one search's blocks, best bound first */
	struct gr__order *orders; /* per block x GR__ORDER__COUNT, allocated on first use */
	uint64_t *order_changed;  /* per block x kind: hosts (bit = offset) changed since */
	size_t orders_cap;        /* blocks the orders cover */
	int *cand;              /* candidate hosts of one decision (affinity targets) */
	size_t n_cand, cand_cap;
	uint32_t *need;         /* label ids a request needs */
	size_t need_cap;
	bool exhaustive;        /* tests: gr__search_best() examines every host */
	bool check_bounds;      /* tests: gr__search_best() checks every block's bounds */
	uint64_t bound_violations; /* tests: hosts that fit below their block's bound */
};

/* Mark host h's block for recomputation (after any change to h). */
static inline void gr__host_changed(const struct gr_sched_snapshot *s, int h)
{
	struct gr_sched_scratch *w = s->scratch;
	uint32_t b = (uint32_t)h >> GR__BLOCK_SHIFT;
	uint64_t bit = 1ULL << (h & (GR__BLOCK - 1));
	for (int k = 0; k < GR__ORDER__COUNT; k++)
		w->order_changed[(size_t)b * GR__ORDER__COUNT + k] |= bit;
	if (!w->dirty[b]) {
		w->dirty[b] = 1;
		w->dirty_list[w->n_dirty++] = b;
	}
}
/* Grow the per-host and per-block scratch to the snapshot's host capacity. */
void gr__scratch_grow(struct gr_sched_snapshot *s);
void gr__scratch_free(struct gr_sched_scratch *w);
/* Recompute room and the power-curve figures of host h from its aggregates,
 * and mark its block. */
void gr__host_refresh(const struct gr_sched_snapshot *s, int h);

/* ---- filters (filters.c) ----------------------------------------------------- */

/* A request (or a placed instance) turned into what the filters need. */
struct gr__fit {
	double cpu, cpu_use, mem, util;
	double mips_per_vcpu;
	uint32_t vcpus;
	uint64_t need_bits;        /* gr__label_bit() of every needed label */
	const uint32_t *need;      /* needed label ids, ascending */
	uint32_t n_need;
	int rare_label;            /* needed label carried by the fewest hosts, or -1 */
	const char *missing_label; /* a required label no host carries, or NULL */
	uint32_t epoch;            /* marks epoch of this fit */
	bool forbid;               /* some host is forbidden by anti-affinity */
	uint32_t n_allow;          /* active affinity rules a host must satisfy */
	int self;                  /* instance being moved (excluded from rules), or -1 */
	int origin;                /* diffusive: ties go to the first host from here on */
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
	if ((f->n_need || f->missing_label) &&
	    (f->missing_label || (hs->label_bits & f->need_bits) != f->need_bits ||
	     !gr__host_has_labels(hs, f->need, f->n_need)))
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

/* ---- best-host search (hostindex.c) ------------------------------------------ */

/* How a scoring policy ranks hosts.  key() scores host h for the fit (false:
 * the policy cannot use h at all, counted as reject `unusable` when h passes
 * the filters); bound() gives a key no up host of block b that fits can beat
 * (false: no host of the block is usable).  A bound must never exceed the key
 * of a fitting host of the block, else the search could miss the best host;
 * computed with the same floating-point operations as the key on the block's
 * extreme values, it is exact, so ties are pruned too. */
struct gr__rank {
	bool (*key)(const struct gr_sched_snapshot *s, const struct gr__fit *f, int h,
		    struct gr__key *k);
	bool (*bound)(const struct gr_sched_snapshot *s, uint32_t b, const struct gr__fit *f,
		      struct gr__key *k);
	/* optional: a tighter, dearer bound, asked only for a block the first
	 * one could not rule out */
	bool (*refine)(const struct gr_sched_snapshot *s, uint32_t b, const struct gr__fit *f,
		       struct gr__key *k);
	int unusable;
	/* below this many hosts a plain scan is cheaper than the bounds */
	uint32_t scan_below;
};

/* Block b's order of one kind (rebuilt first if its hosts changed). */
const struct gr__order *gr__block_order(const struct gr_sched_snapshot *s, uint32_t b, int kind);
/* First position in [lo, hi) of o whose value is >= v (hi if none). */
static inline uint32_t gr__order_find_in(const struct gr__order *o, uint32_t lo, uint32_t hi, double v)
{
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (o->val[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
static inline uint32_t gr__order_find(const struct gr__order *o, double v)
{
	/* at once when every host has at least v (the usual case) */
	if (o->n && !(o->val[0] < v))
		return 0;
	return gr__order_find_in(o, 0, o->n, v);
}

/* Every host in index order through the filters, counting each rejection
 * (and `unusable` for hosts rank->key refuses; rank may be NULL): the complete
 * counts for a "not placed" reason.  Returns the first host that passes, or -1. */
int gr__count_rejections(const struct gr_sched_snapshot *s, const struct gr__fit *f,
			 const struct gr__rank *r, struct gr_sched_decision *d);
/* Can any up host of block b take the fit (state, labels, cores, CPU, memory)?
 * Conservative: true when unsure. */
static inline bool gr__block_may_fit(const struct gr__block *b, const struct gr__fit *f)
{
	if (!b->n_up)
		return false;
	if ((b->label_bits & f->need_bits) != f->need_bits)
		return false;
	if (f->vcpus > b->max_cores || f->mips_per_vcpu > b->max_mips_per_core * (1 + 1e-9))
		return false;
	/* more than the most free, beyond what rounding could explain */
	if (f->cpu - b->max_free_cpu > 1e-7 * (1 + fabs(f->cpu)) ||
	    f->mem - b->max_free_mem > 1e-7 * (1 + fabs(f->mem)))
		return false;
	return true;
}
/* Recompute the blocks marked dirty. */
void gr__blocks_refresh(const struct gr_sched_snapshot *s);
/* Tests: count in scratch->bound_violations every host that passes the
 * filters with a key below its block's bound (or in a block said not to fit). */
void gr__check_bounds(const struct gr_sched_snapshot *s, const struct gr__fit *f,
		      const struct gr__rank *r);

static inline bool gr__key_less(const struct gr__key *x, int hx, const struct gr__key *y, int hy)
{
	if (x->a != y->a)
		return x->a < y->a;
	if (x->b != y->b)
		return x->b < y->b;
	return hx < hy;
}

struct gr__search {
	const struct gr_sched_snapshot *s;
	const struct gr__fit *f;
	const struct gr__rank *r;
	struct gr_sched_decision *d;
	int best;
	struct gr__key best_key;
};

static inline __attribute__((always_inline)) void gr__consider(struct gr__search *q, int h)
{
	struct gr__key k;
	const struct gr_sched_host *hs = &q->s->hosts[h];
	/* too full to take it: cannot beat anything (a placed decision does not
	 * examine it; a "not placed" one counts every host, gr__count_rejections) */
	if (hs->cpu_alloc + q->f->cpu > hs->cpu_cap * (1 + 1e-9) ||
	    hs->mem_alloc + q->f->mem > hs->mem_cap * (1 + 1e-9))
		return;
	q->d->considered++;
	if (!q->r->key(q->s, q->f, h, &k)) {
		int why = gr__fit_host(q->s, q->f, h);
		q->d->rejected[why >= 0 ? why : q->r->unusable]++;
		return;
	}
	if (q->best >= 0 && !gr__key_less(&k, h, &q->best_key, q->best))
		return; /* cannot win: skip the filters */
	int why = gr__fit_host(q->s, q->f, h);
	if (why >= 0) {
		q->d->rejected[why]++;
		return;
	}
	q->best = h;
	q->best_key = k;
}

static inline __attribute__((always_inline)) void gr__scan_block(struct gr__search *q, uint32_t b)
{
	size_t first = (size_t)b << GR__BLOCK_SHIFT, end = first + GR__BLOCK;
	if (end > q->s->n_hosts)
		end = q->s->n_hosts;
	for (size_t h = first; h < end; h++)
		gr__consider(q, (int)h);
}

/* May block b (bound lb) hold a host that beats the best so far? */
static inline bool gr__may_beat(const struct gr__search *q, const struct gr__key *lb, uint32_t b)
{
	if (q->best < 0)
		return true;
	int first = (int)((size_t)b << GR__BLOCK_SHIFT);
	/* the block's best conceivable host: key lb at its lowest index */
	return gr__key_less(lb, first, &q->best_key, q->best);
}

/* Does some host of block b carry label l?  (Its host list is ascending.) */
static inline bool gr__label_in_block(const struct gr__label *l, uint32_t b)
{
	int first = (int)((size_t)b << GR__BLOCK_SHIFT);
	uint32_t lo = 0, hi = l->n_hosts;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (l->hosts[mid] < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n_hosts && l->hosts[lo] < first + GR__BLOCK;
}

/* The search's heap of blocks: block indices ordered by (bound, index),
 * GR__HEAP_REFINED set once the rank's refine() has tightened the bound. */
#define GR__HEAP_REFINED 0x80000000u
static inline void gr__heap_down(const struct gr__key *lb, uint32_t *heap, uint32_t n, uint32_t i)
{
	uint32_t e = heap[i], eb = e & ~GR__HEAP_REFINED;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		uint32_t cb = heap[c] & ~GR__HEAP_REFINED;
		if (c + 1 < n) {
			uint32_t db = heap[c + 1] & ~GR__HEAP_REFINED;
			if (gr__key_less(&lb[db], (int)db, &lb[cb], (int)cb)) {
				c++;
				cb = db;
			}
		}
		if (!gr__key_less(&lb[cb], (int)cb, &lb[eb], (int)eb))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = e;
}

/* The host with the lowest key that passes every filter, or -1; fills
 * d->considered and d->rejected[] for the hosts it examined.  Takes the blocks
 * best bound first (a heap), stops at the first that cannot beat the best
 * host so far, and skips the hosts whose key cannot;
 * when the request carries affinity rules or a label few hosts carry, looks
 * only at those hosts.  Returns exactly what a scan of every host would.
 * Inline, so each policy's key and bound are compiled into its own copy. */
static inline __attribute__((always_inline)) int
gr__search_best(const struct gr_sched_snapshot *s, const struct gr__fit *f, const struct gr__rank *r,
		struct gr_sched_decision *d, struct gr__key *best_key)
{
	struct gr__search q = { .s = s, .f = f, .r = r, .d = d, .best = -1 };
	if (f->missing_label)
		return -1;
	const struct gr_sched_scratch *w = s->scratch;
	/* few candidates: the hosts of the first affinity rule, or of the
	 * rarest label the request needs */
	const int *cand = NULL;
	size_t n_cand = 0;
	if (f->n_allow) {
		cand = w->cand;
		n_cand = w->n_cand;
	}
	if (f->rare_label >= 0) {
		const struct gr__label *l = &s->names->label[f->rare_label];
		if (!cand || l->n_hosts < n_cand) {
			cand = l->hosts;
			n_cand = l->n_hosts;
		}
	}
	if (w->check_bounds)
		gr__check_bounds(s, f, r);
	if (w->exhaustive || s->n_hosts < r->scan_below) {
		for (size_t h = 0; h < s->n_hosts; h++)
			gr__consider(&q, (int)h);
	} else if (cand && n_cand <= s->n_hosts / 8) {
		for (size_t i = 0; i < n_cand; i++)
			gr__consider(&q, cand[i]);
	} else {
		gr__blocks_refresh(s);
		size_t nb = (s->n_hosts + GR__BLOCK - 1) / GR__BLOCK;
		struct gr__key *lb = w->bounds;
		uint32_t *heap = w->heap, n = 0;
		/* the blocks that may fit, by first bound */
		for (uint32_t b = 0; b < nb; b++)
			if (gr__block_may_fit(&w->blocks[b], f) && r->bound(s, b, f, &lb[b]))
				heap[n++] = b;
		for (uint32_t i = n / 2; i-- > 0;)
			gr__heap_down(lb, heap, n, i);
		/* best first: the block with the lowest bound (lowest index among
		 * ties) is refined, put back with the tighter bound, or scanned
		 * when refined already; done when it cannot beat the best host */
		const struct gr__label *need = f->rare_label >= 0 ? &s->names->label[f->rare_label] : NULL;
		while (n) {
			uint32_t top = heap[0], b = top & ~GR__HEAP_REFINED;
			if (!gr__may_beat(&q, &lb[b], b))
				break;
			if (need && !(top & GR__HEAP_REFINED) && !gr__label_in_block(need, b)) {
				/* its label bits matched by chance */
				heap[0] = heap[--n];
			} else if (r->refine && !(top & GR__HEAP_REFINED)) {
				struct gr__key tight;
				if (r->refine(s, b, f, &tight)) {
					if (gr__key_less(&lb[b], 0, &tight, 0))
						lb[b] = tight;
					heap[0] = b | GR__HEAP_REFINED;
				} else {
					heap[0] = heap[--n];
				}
			} else {
				gr__scan_block(&q, b);
				heap[0] = heap[--n];
			}
			gr__heap_down(lb, heap, n, 0);
		}
	}
	if (q.best >= 0 && best_key)
		*best_key = q.best_key;
	return q.best;
}

/* The least-loaded host that fits (ties: fewer instances, then lower index),
 * loads counted with the request when with_request, else as they are now.
 * Fills d; reason is a printf format taking the chosen load in percent.
 * Shared by shortest-queue (load now) and global (load after placement). */
int gr__place_least_loaded(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
			   struct gr_sched_decision *d, int with_request, const char *reason);

/* ---- rebalancing (policy.c) ---------------------------------------------------- */

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
