/*
 * hostindex.c - the per-block host summaries and the best-host search the
 * scoring policies share.  Hosts are grouped in blocks of GR__BLOCK by index;
 * each block keeps bounds over its up hosts (most free CPU and memory, widest
 * cores, labels carried, fewest instances, lowest load, room, power slopes).
 * A change to a host marks its block dirty (gr__host_changed()); the next
 * search recomputes the dirty blocks, so applying or removing an instance
 * costs O(1) and a search O(n / GR__BLOCK + dirty blocks x GR__BLOCK).
 *
 * The search is exact: a block is skipped only when no host of it can fit
 * (gr__block_may_fit(), conservative) or when its bound cannot beat the best
 * host found so far, ties included (ties go to the lower index), so the
 * answer is always the one a scan of every host in index order would give.
 * The block with the lowest bound is scanned first, which usually finds the
 * answer at once.  Decisions that find nothing rescan every host to count the
 * reasons.  Everything here lives in the snapshot's scratch: no globals.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

void gr__scratch_grow(struct gr_sched_snapshot *s)
{
	struct gr_sched_scratch *w = s->scratch;
	if (w->cap < s->hosts_cap) {
		w->marks = xrealloc(w->marks, s->hosts_cap * sizeof(*w->marks));
		memset(w->marks + w->cap, 0, (s->hosts_cap - w->cap) * sizeof(*w->marks));
		w->cap = s->hosts_cap;
	}
	size_t nb = (s->hosts_cap + GR__BLOCK - 1) / GR__BLOCK;
	if (w->blocks_cap < nb) {
		w->blocks = xrealloc(w->blocks, nb * sizeof(*w->blocks));
		memset(w->blocks + w->blocks_cap, 0, (nb - w->blocks_cap) * sizeof(*w->blocks));
		w->dirty = xrealloc(w->dirty, nb);
		memset(w->dirty + w->blocks_cap, 0, nb - w->blocks_cap);
		w->dirty_list = xrealloc(w->dirty_list, nb * sizeof(uint32_t));
		w->bounds = xrealloc(w->bounds, nb * sizeof(*w->bounds));
		w->order_dirty = xrealloc(w->order_dirty, nb);
		memset(w->order_dirty + w->blocks_cap, 0xff, nb - w->blocks_cap);
		w->blocks_cap = nb;
	}
}

void gr__scratch_free(struct gr_sched_scratch *w)
{
	free(w->marks);
	free(w->load);
	free(w->cpu_alloc);
	free(w->mem_alloc);
	free(w->n_inst);
	free(w->where);
	for (size_t i = 0; i < w->n_curves; i++)
		free(w->curves[i]);
	free(w->curves);
	free(w->blocks);
	free(w->dirty);
	free(w->dirty_list);
	free(w->bounds);
	free(w->orders);
	free(w->order_dirty);
	free(w->cand);
	free(w->need);
	free(w);
}

/* fmin/fmax without the NaN rules (and the library call): none of these
 * figures is NaN */
static inline double min2(double a, double b)
{
	return b < a ? b : a;
}
static inline double max2(double a, double b)
{
	return b > a ? b : a;
}

static void block_compute(const struct gr_sched_snapshot *s, uint32_t b)
{
	struct gr__block *k = &s->scratch->blocks[b];
	*k = (struct gr__block){
		.max_free_cpu = -INFINITY, .max_free_mem = -INFINITY,
		.min_load = INFINITY, .min_n_load = INFINITY, .min_used = INFINITY,
		.min_inv_phys = INFINITY, .min_room = INFINITY,
		.min_slope = INFINITY, .min_gap = INFINITY, .min_rest = INFINITY,
		.min_slope2 = INFINITY, .min_width = INFINITY,
		.min_headroom = INFINITY,
	};
	size_t first = (size_t)b << GR__BLOCK_SHIFT, end = first + GR__BLOCK;
	if (end > s->n_hosts)
		end = s->n_hosts;
	for (size_t h = first; h < end; h++) {
		const struct gr_sched_host *hs = &s->hosts[h];
		if (hs->state != GR_SCHED_HOST_UP)
			continue;
		k->label_bits |= hs->label_bits;
		if (hs->cores > k->max_cores)
			k->max_cores = hs->cores;
		k->max_mips_per_core = max2(k->max_mips_per_core, hs->mips_per_core);
		k->max_free_cpu = max2(k->max_free_cpu, hs->cpu_cap * (1 + 1e-9) - hs->cpu_alloc);
		k->max_free_mem = max2(k->max_free_mem, hs->mem_cap * (1 + 1e-9) - hs->mem_alloc);
		double load = hs->cpu_used * hs->inv_phys;
		if (!k->n_up || hs->n_instances < k->min_n) {
			k->min_n = hs->n_instances;
			k->min_n_load = load;
		} else if (hs->n_instances == k->min_n && load < k->min_n_load) {
			k->min_n_load = load;
		}
		if (!k->n_up || load < k->min_load) {
			k->min_load = load;
			k->min_load_n = hs->n_instances;
		} else if (load == k->min_load && hs->n_instances < k->min_load_n) {
			k->min_load_n = hs->n_instances;
		}
		k->min_used = min2(k->min_used, hs->cpu_used);
		k->min_inv_phys = min2(k->min_inv_phys, hs->inv_phys);
		k->min_room = min2(k->min_room, hs->room);
		k->max_inv_cpu_cap = max2(k->max_inv_cpu_cap, hs->inv_cpu_cap);
		k->max_inv_mem_cap = max2(k->max_inv_mem_cap, hs->inv_mem_cap);
		if (hs->power) {
			k->n_power++;
			k->min_slope = min2(k->min_slope, hs->pw_watts_per_mips);
			k->min_gap = min2(k->min_gap, hs->pw_segment_end - hs->cpu_used);
			k->min_slope2 = min2(k->min_slope2, hs->pw_slope2);
			k->min_rest = min2(k->min_rest, hs->pw_min_rest);
			k->min_width = min2(k->min_width, hs->cpu_phys / 10);
			k->min_headroom = min2(k->min_headroom, max2(0, hs->cpu_phys - hs->cpu_used));
		}
		k->n_up++;
	}
}

void gr__blocks_refresh(const struct gr_sched_snapshot *s)
{
	struct gr_sched_scratch *w = s->scratch;
	for (size_t i = 0; i < w->n_dirty; i++) {
		uint32_t b = w->dirty_list[i];
		block_compute(s, b);
		w->dirty[b] = 0;
		w->order_dirty[b] = 0xff;
	}
	w->n_dirty = 0;
}

/* The figure an order sorts by and the parts of its running arrays (see
 * struct gr__order); false when the host has no place in the order. */
static inline bool order_figures(const struct gr_sched_host *hs, int kind, double *val, double p[4])
{
	if (hs->state != GR_SCHED_HOST_UP)
		return false;
	switch (kind) {
	case GR__ORDER_FREE_MEM:
	case GR__ORDER_FREE_CPU:
		*val = kind == GR__ORDER_FREE_MEM ? hs->mem_cap * (1 + 1e-9) - hs->mem_alloc
						  : hs->cpu_cap * (1 + 1e-9) - hs->cpu_alloc;
		p[0] = hs->room;
		p[1] = hs->power ? hs->pw_slope2 : INFINITY;
		return true;
	default:
		if (!hs->power)
			return false;
		*val = hs->pw_segment_end - hs->cpu_used;
		p[0] = hs->pw_watts_per_mips;
		p[1] = hs->pw_slope2;
		p[2] = hs->pw_next;
		p[3] = (hs->pw_watts_per_mips - hs->pw_next) * *val;
		return true;
	}
}

const struct gr__order *gr__block_order(const struct gr_sched_snapshot *s, uint32_t b, int kind)
{
	struct gr_sched_scratch *w = s->scratch;
	if (w->orders_cap < w->blocks_cap) {
		w->orders = xrealloc(w->orders, w->blocks_cap * GR__ORDER__COUNT * sizeof(*w->orders));
		memset(w->orders + w->orders_cap * GR__ORDER__COUNT, 0,
		       (w->blocks_cap - w->orders_cap) * GR__ORDER__COUNT * sizeof(*w->orders));
		w->orders_cap = w->blocks_cap;
	}
	struct gr__order *o = &w->orders[(size_t)b * GR__ORDER__COUNT + kind];
	if (!(w->order_dirty[b] & (1u << kind)))
		return o;
	w->order_dirty[b] &= (uint8_t)~(1u << kind);
	size_t first = (size_t)b << GR__BLOCK_SHIFT;
	size_t size = s->n_hosts - first < GR__BLOCK ? s->n_hosts - first : GR__BLOCK;
	/* the previous order first (hosts that still belong), then the others */
	uint64_t seen = 0;
	uint32_t n = 0;
	double part[GR__BLOCK][4];
	for (uint32_t i = 0; i < o->n; i++) {
		uint32_t off = o->host[i];
		if (off < size && order_figures(&s->hosts[first + off], kind, &o->val[n], part[n])) {
			o->host[n++] = (uint8_t)off;
			seen |= 1ULL << off;
		}
	}
	for (uint32_t off = 0; off < size; off++)
		if (!(seen & (1ULL << off)) && order_figures(&s->hosts[first + off], kind, &o->val[n], part[n]))
			o->host[n++] = (uint8_t)off;
	/* insertion sort: cheap on an almost sorted list */
	for (uint32_t i = 1; i < n; i++) {
		double v = o->val[i], pt[4];
		memcpy(pt, part[i], sizeof(pt));
		uint8_t hh = o->host[i];
		uint32_t j = i;
		for (; j > 0 && o->val[j - 1] > v; j--) {
			o->val[j] = o->val[j - 1];
			memcpy(part[j], part[j - 1], sizeof(pt));
			o->host[j] = o->host[j - 1];
		}
		o->val[j] = v;
		memcpy(part[j], pt, sizeof(pt));
		o->host[j] = hh;
	}
	o->n = n;
	o->m1[n] = INFINITY;
	for (uint32_t i = n; i-- > 0;)
		o->m1[i] = min2(part[i][0], o->m1[i + 1]);
	if (kind != GR__ORDER_GAP) {
		o->m2[n] = INFINITY;
		for (uint32_t i = n; i-- > 0;)
			o->m2[i] = min2(part[i][1], o->m2[i + 1]);
		return o;
	}
	o->m2[0] = o->m3d[0] = o->m4d[0] = o->m3a[0] = o->m4a[0] = INFINITY;
	for (uint32_t i = 0; i < n; i++) {
		bool flatter = part[i][3] >= 0; /* (this - next) x distance */
		o->m2[i + 1] = min2(o->m2[i], part[i][1]);
		o->m3d[i + 1] = flatter ? min2(o->m3d[i], part[i][2]) : o->m3d[i];
		o->m4d[i + 1] = flatter ? min2(o->m4d[i], part[i][3]) : o->m4d[i];
		o->m3a[i + 1] = flatter ? o->m3a[i] : min2(o->m3a[i], part[i][2]);
		o->m4a[i + 1] = flatter ? o->m4a[i] : min2(o->m4a[i], part[i][3]);
	}
	return o;
}

/* Is need more than have, beyond what rounding could explain? */
static inline bool clearly_above(double need, double have)
{
	return need - have > 1e-7 * (1 + fabs(need));
}

bool gr__block_may_fit(const struct gr__block *b, const struct gr__fit *f)
{
	if (!b->n_up)
		return false;
	if ((b->label_bits & f->need_bits) != f->need_bits)
		return false;
	if (f->vcpus > b->max_cores || f->mips_per_vcpu > b->max_mips_per_core * (1 + 1e-9))
		return false;
	if (clearly_above(f->cpu, b->max_free_cpu) || clearly_above(f->mem, b->max_free_mem))
		return false;
	return true;
}

static inline bool key_less(const struct gr__key *x, int hx, const struct gr__key *y, int hy)
{
	if (x->a != y->a)
		return x->a < y->a;
	if (x->b != y->b)
		return x->b < y->b;
	return hx < hy;
}

struct search {
	const struct gr_sched_snapshot *s;
	const struct gr__fit *f;
	const struct gr__rank *r;
	struct gr_sched_decision *d;
	int best;
	struct gr__key best_key;
};

static inline void consider(struct search *q, int h)
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
	if (q->best >= 0 && !key_less(&k, h, &q->best_key, q->best))
		return; /* cannot win: skip the filters */
	int why = gr__fit_host(q->s, q->f, h);
	if (why >= 0) {
		q->d->rejected[why]++;
		return;
	}
	q->best = h;
	q->best_key = k;
}

static void scan_block(struct search *q, uint32_t b)
{
	size_t first = (size_t)b << GR__BLOCK_SHIFT, end = first + GR__BLOCK;
	if (end > q->s->n_hosts)
		end = q->s->n_hosts;
	for (size_t h = first; h < end; h++)
		consider(q, (int)h);
}

/* May block b (bound lb) hold a host that beats the best so far? */
static inline bool may_beat(const struct search *q, const struct gr__key *lb, uint32_t b)
{
	if (q->best < 0)
		return true;
	int first = (int)((size_t)b << GR__BLOCK_SHIFT);
	/* the block's best conceivable host: key lb at its lowest index */
	return key_less(lb, first, &q->best_key, q->best);
}

int gr__search_best(const struct gr_sched_snapshot *s, const struct gr__fit *f,
		    const struct gr__rank *r, struct gr_sched_decision *d, struct gr__key *best_key)
{
	struct search q = { .s = s, .f = f, .r = r, .d = d, .best = -1 };
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
	if (w->exhaustive) {
		for (size_t h = 0; h < s->n_hosts; h++)
			consider(&q, (int)h);
	} else if (cand && n_cand <= s->n_hosts / 8) {
		for (size_t i = 0; i < n_cand; i++)
			consider(&q, cand[i]);
	} else {
		gr__blocks_refresh(s);
		size_t nb = (s->n_hosts + GR__BLOCK - 1) / GR__BLOCK;
		struct gr__key *lb = w->bounds;
		/* bounds of the blocks that may fit (a = +inf: skip); then the
		 * block with the lowest bound first, the others in order */
		uint32_t first = UINT32_MAX;
		for (uint32_t b = 0; b < nb; b++) {
			if (!gr__block_may_fit(&w->blocks[b], f) || !r->bound(s, b, f, &lb[b])) {
				lb[b].a = INFINITY;
				continue;
			}
			if (first == UINT32_MAX || key_less(&lb[b], (int)b, &lb[first], (int)first))
				first = b;
		}
		if (first != UINT32_MAX) {
			scan_block(&q, first);
			for (uint32_t b = 0; b < nb; b++)
				if (b != first && lb[b].a != INFINITY && may_beat(&q, &lb[b], b))
					scan_block(&q, b);
		}
	}
	if (q.best >= 0 && best_key)
		*best_key = q.best_key;
	return q.best;
}

int gr__count_rejections(const struct gr_sched_snapshot *s, const struct gr__fit *f,
			 const struct gr__rank *r, struct gr_sched_decision *d)
{
	int found = -1;
	memset(d->rejected, 0, sizeof(d->rejected));
	d->considered = 0;
	for (size_t h = 0; h < s->n_hosts; h++) {
		d->considered++;
		int why = gr__fit_host(s, f, (int)h);
		struct gr__key k;
		if (why < 0 && r && !r->key(s, f, (int)h, &k))
			why = r->unusable;
		if (why >= 0)
			d->rejected[why]++;
		else if (found < 0)
			found = (int)h;
	}
	return found;
}
