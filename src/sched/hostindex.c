/*
 * hostindex.c - the per-block host summaries and the best-host search the
 * scoring policies share.  Hosts are grouped in blocks of GR__BLOCK by index;
 * each block keeps bounds over its up hosts (most free CPU and memory, widest
 * cores, labels carried, fewest instances, lowest load, room; pabfd's runs of
 * power slopes, struct gr__runs).
 * A change to a host marks its block dirty (gr__host_changed()); the next
 * search recomputes the dirty blocks, so applying or removing an instance
 * costs O(1) and a search O(n / GR__BLOCK + dirty blocks x GR__BLOCK).
 *
 * The search is exact: a block is skipped only when no host of it can fit
 * (gr__block_may_fit(), conservative) or when its bound cannot beat the best
 * host found so far, ties included (ties go to the lower index), so the
 * answer is always the one a scan of every host in index order would give.
 * Blocks are taken best first from a heap ordered by (bound, index): the
 * block on top has its bound tightened once (the rank's refine(), if any) and
 * goes back, or is scanned when already tightened; the search ends when the
 * top block cannot beat the best host found, so it scans only the blocks
 * whose bound is below the answer (or ties it at a lower index).  Decisions
 * that find nothing rescan every host to count the reasons.  Everything here
 * lives in the snapshot's scratch: no globals.
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
		w->runs = xrealloc(w->runs, nb * sizeof(*w->runs));
		memset(w->blocks + w->blocks_cap, 0, (nb - w->blocks_cap) * sizeof(*w->blocks));
		w->dirty = xrealloc(w->dirty, nb);
		memset(w->dirty + w->blocks_cap, 0, nb - w->blocks_cap);
		w->dirty_list = xrealloc(w->dirty_list, nb * sizeof(uint32_t));
		w->bounds = xrealloc(w->bounds, nb * sizeof(*w->bounds));
		w->heap = xrealloc(w->heap, nb * sizeof(*w->heap));
		w->order_changed = xrealloc(w->order_changed, nb * GR__ORDER__COUNT * sizeof(uint64_t));
		memset(w->order_changed + w->blocks_cap * GR__ORDER__COUNT, 0xff,
		       (nb - w->blocks_cap) * GR__ORDER__COUNT * sizeof(uint64_t));
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
	free(w->runs);
	free(w->dirty);
	free(w->dirty_list);
	free(w->bounds);
	free(w->heap);
	free(w->orders);
	free(w->order_changed);
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

/* Host hs into the runs of its block: the run of its (slope, next slope),
 * new if none has them yet (a block holds few kinds of host). */
static inline void runs_add(struct gr__runs *ru, const struct gr_sched_host *hs)
{
	double gap = hs->pw_segment_end - hs->cpu_used;
	uint32_t r = 0;
	while (r < ru->n && (ru->slope[r] != hs->pw_watts_per_mips || ru->next[r] != hs->pw_next))
		r++;
	if (r == ru->n) {
		ru->n++;
		ru->slope[r] = hs->pw_watts_per_mips;
		ru->next[r] = hs->pw_next;
		ru->gap_min[r] = ru->gap_max[r] = gap;
		ru->rest[r] = hs->pw_min_rest;
		return;
	}
	ru->gap_min[r] = min2(ru->gap_min[r], gap);
	ru->gap_max[r] = max2(ru->gap_max[r], gap);
	ru->rest[r] = min2(ru->rest[r], hs->pw_min_rest);
}

static void block_compute(const struct gr_sched_snapshot *s, uint32_t b)
{
	struct gr__block *k = &s->scratch->blocks[b];
	struct gr__runs *ru = &s->scratch->runs[b];
	ru->n = 0;
	*k = (struct gr__block){
		.max_free_cpu = -INFINITY, .max_free_mem = -INFINITY,
		.min_load = INFINITY, .min_n_load = INFINITY, .min_used = INFINITY,
		.min_inv_phys = INFINITY, .min_room = INFINITY,
		.min_width = INFINITY, .min_headroom = INFINITY,
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
			k->min_width = min2(k->min_width, hs->cpu_phys / 10);
			k->min_headroom = min2(k->min_headroom, max2(0, hs->cpu_phys - hs->cpu_used));
			runs_add(ru, hs);
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
	}
	w->n_dirty = 0;
}

/* The figure an order sorts by (free memory or CPU) and the figures it keeps
 * per host (room, slope2).  False when the host has no place in the order. */
static inline bool order_figures(const struct gr_sched_host *hs, int kind, double *val, double p[2])
{
	if (hs->state != GR_SCHED_HOST_UP)
		return false;
	*val = kind == GR__ORDER_FREE_MEM ? hs->mem_cap * (1 + 1e-9) - hs->mem_alloc
					  : hs->cpu_cap * (1 + 1e-9) - hs->cpu_alloc;
	p[0] = hs->room;
	p[1] = hs->power ? hs->pw_slope2 : INFINITY;
	return true;
}

/* Recompute the suffix minima of o. */
static void order_derive(struct gr__order *o)
{
	uint32_t n = o->n;
	o->m1[n] = o->m2[n] = INFINITY;
	for (uint32_t i = n; i-- > 0;) {
		o->m1[i] = min2(o->fig[0][i], o->m1[i + 1]);
		o->m2[i] = min2(o->fig[1][i], o->m2[i + 1]);
	}
}

const struct gr__order *gr__block_order(const struct gr_sched_snapshot *s, uint32_t b, int kind)
{
	struct gr_sched_scratch *w = s->scratch;
	if (w->orders_cap < w->blocks_cap) {
		w->orders = xrealloc(w->orders, w->blocks_cap * GR__ORDER__COUNT * sizeof(*w->orders));
		memset(w->orders + w->orders_cap * GR__ORDER__COUNT, 0,
		       (w->blocks_cap - w->orders_cap) * GR__ORDER__COUNT * sizeof(*w->orders));
		for (size_t i = w->orders_cap * GR__ORDER__COUNT; i < w->blocks_cap * GR__ORDER__COUNT; i++)
			w->order_changed[i] = ~0ULL; /* never built: every host */
		w->orders_cap = w->blocks_cap;
	}
	size_t slot = (size_t)b * GR__ORDER__COUNT + kind;
	struct gr__order *o = &w->orders[slot];
	uint64_t changed = w->order_changed[slot];
	if (!changed)
		return o;
	w->order_changed[slot] = 0;
	size_t first = (size_t)b << GR__BLOCK_SHIFT;
	uint32_t size = (uint32_t)(s->n_hosts - first < GR__BLOCK ? s->n_hosts - first : GR__BLOCK);
	if (size < GR__BLOCK)
		changed |= ~0ULL << size; /* (hosts past the end: none) */
	/* take the changed hosts out */
	uint32_t n = 0;
	for (uint32_t i = 0; i < o->n; i++) {
		if (changed & (1ULL << o->host[i]))
			continue;
		o->host[n] = o->host[i];
		o->val[n] = o->val[i];
		for (int f = 0; f < 2; f++)
			o->fig[f][n] = o->fig[f][i];
		n++;
	}
	/* and put them back where they now belong */
	for (uint64_t m = changed & (size < GR__BLOCK ? (1ULL << size) - 1 : ~0ULL); m; m &= m - 1) {
		uint32_t off = (uint32_t)__builtin_ctzll(m);
		double v, p[2] = { 0, 0 };
		if (!order_figures(&s->hosts[first + off], kind, &v, p))
			continue;
		uint32_t j = n;
		while (j > 0 && v < o->val[j - 1])
			j--;
		memmove(o->host + j + 1, o->host + j, n - j);
		memmove(o->val + j + 1, o->val + j, (n - j) * sizeof(double));
		for (int f = 0; f < 2; f++) {
			memmove(o->fig[f] + j + 1, o->fig[f] + j, (n - j) * sizeof(double));
			o->fig[f][j] = p[f];
		}
		o->host[j] = (uint8_t)off;
		o->val[j] = v;
		n++;
	}
	o->n = n;
	order_derive(o);
	return o;
}

void gr__check_bounds(const struct gr_sched_snapshot *s, const struct gr__fit *f,
		      const struct gr__rank *r)
{
	struct gr_sched_scratch *w = s->scratch;
	if (f->missing_label)
		return;
	gr__blocks_refresh(s);
	size_t nb = (s->n_hosts + GR__BLOCK - 1) / GR__BLOCK;
	for (uint32_t b = 0; b < nb; b++) {
		struct gr__key lb[2];
		bool fits = gr__block_may_fit(&w->blocks[b], f);
		bool has[2] = { fits && r->bound(s, b, f, &lb[0]), fits && r->refine && r->refine(s, b, f, &lb[1]) };
		size_t end = ((size_t)b + 1) << GR__BLOCK_SHIFT;
		for (size_t h = (size_t)b << GR__BLOCK_SHIFT; h < end && h < s->n_hosts; h++) {
			struct gr__key k;
			if (gr__fit_host(s, f, (int)h) >= 0 || !r->key(s, f, (int)h, &k))
				continue;
			for (int i = 0; i < (r->refine ? 2 : 1); i++)
				if (!has[i] || k.a < lb[i].a || (k.a == lb[i].a && k.b < lb[i].b))
					w->bound_violations++;
		}
	}
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
