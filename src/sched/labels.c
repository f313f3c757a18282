/*
 * labels.c - the snapshot's label table.  Every "key=value" label a host
 * carries or an instance requires is interned once, with an id, a reference
 * count (hosts carrying it + instances requiring it) and the ascending list
 * of hosts carrying it (so a request for a rare label looks only at those
 * hosts).  A label whose count drops to 0 is freed and its id reused, so the
 * table is bounded by the labels in use, whatever the churn.  Invariants:
 * host h is in label L's host list iff L is in h's label_ids; label_bits of a
 * host is the OR of gr__label_bit() of its ids, and its labels[] point at the
 * interned names (given order, duplicates dropped).
 */
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

int gr__label_find(const struct gr_sched_snapshot *s, const char *label)
{
	return gr__map_get(&s->names->labels, label);
}

uint32_t gr__label_ref(struct gr_sched_snapshot *s, const char *label)
{
	struct gr_sched_names *nm = s->names;
	int id = gr__map_get(&nm->labels, label);
	if (id >= 0) {
		nm->label[id].refs++;
		return (uint32_t)id;
	}
	uint32_t n;
	if (nm->n_free_label) {
		n = nm->free_label[--nm->n_free_label];
	} else {
		if (nm->n_label == nm->label_cap) {
			nm->label_cap = nm->label_cap ? 2 * nm->label_cap : 16;
			nm->label = xrealloc(nm->label, nm->label_cap * sizeof(*nm->label));
		}
		n = nm->n_label++;
	}
	struct gr__label *l = &nm->label[n];
	*l = (struct gr__label){ .name = xstrdup(label), .refs = 1 };
	gr__map_put(&nm->labels, l->name, (int)n);
	return n;
}

void gr__label_unref(struct gr_sched_snapshot *s, uint32_t id)
{
	struct gr_sched_names *nm = s->names;
	struct gr__label *l = &nm->label[id];
	if (--l->refs)
		return;
	gr__map_del(&nm->labels, l->name);
	free(l->name);
	free(l->hosts);
	*l = (struct gr__label){ 0 };
	if (nm->n_free_label == nm->free_label_cap) {
		nm->free_label_cap = nm->free_label_cap ? 2 * nm->free_label_cap : 16;
		nm->free_label = xrealloc(nm->free_label, nm->free_label_cap * sizeof(uint32_t));
	}
	nm->free_label[nm->n_free_label++] = id;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Insert h into the ascending host list of label l (hosts are mostly added
 * in index order, so this is usually an append). */
static void posting_add(struct gr__label *l, int h)
{
	if (l->n_hosts == l->hosts_cap) {
		l->hosts_cap = l->hosts_cap ? 2 * l->hosts_cap : 8;
		l->hosts = xrealloc(l->hosts, l->hosts_cap * sizeof(int));
	}
	uint32_t i = l->n_hosts;
	while (i > 0 && l->hosts[i - 1] > h) {
		l->hosts[i] = l->hosts[i - 1];
		i--;
	}
	l->hosts[i] = h;
	l->n_hosts++;
}

static void posting_del(struct gr__label *l, int h)
{
	uint32_t i = 0;
	while (i < l->n_hosts && l->hosts[i] != h)
		i++;
	if (i == l->n_hosts)
		return;
	memmove(l->hosts + i, l->hosts + i + 1, (l->n_hosts - i - 1) * sizeof(int));
	l->n_hosts--;
}

void gr__host_drop_labels(struct gr_sched_snapshot *s, int h)
{
	struct gr_sched_host *hs = &s->hosts[h];
	for (uint32_t i = 0; i < hs->n_label_ids; i++) {
		uint32_t id = hs->label_ids[i];
		posting_del(&s->names->label[id], h);
		gr__label_unref(s, id);
	}
	free((void *)hs->labels);
	free((void *)hs->label_ids);
	hs->labels = NULL;
	hs->label_ids = NULL;
	hs->n_labels = 0;
	hs->n_label_ids = 0;
	hs->label_bits = 0;
	gr__host_changed(s, h);
}

void gr__host_set_labels(struct gr_sched_snapshot *s, int h, const char *const *labels, size_t n)
{
	/* reference the new labels before dropping the old, so a label kept
	 * across the change keeps its id */
	uint32_t *ids = n ? xcalloc(n, sizeof(uint32_t)) : NULL;
	const char **names = n ? xcalloc(n, sizeof(char *)) : NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t id = gr__label_ref(s, labels[i]);
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = ids[j] == id;
		if (dup) { /* the same label twice counts once */
			gr__label_unref(s, id);
			continue;
		}
		ids[k] = id;
		names[k++] = s->names->label[id].name; /* lives while the host holds it */
	}
	gr__host_drop_labels(s, h);
	struct gr_sched_host *hs = &s->hosts[h];
	qsort(ids, k, sizeof(uint32_t), cmp_u32);
	for (size_t i = 0; i < k; i++) {
		posting_add(&s->names->label[ids[i]], h);
		hs->label_bits |= gr__label_bit(ids[i]);
	}
	hs->label_ids = ids;
	hs->n_label_ids = (uint32_t)k;
	hs->labels = names;
	hs->n_labels = k;
	gr__host_changed(s, h);
}

void gr__labels_free(struct gr_sched_snapshot *s)
{
	struct gr_sched_names *nm = s->names;
	for (uint32_t i = 0; i < nm->n_label; i++) {
		free(nm->label[i].name);
		free(nm->label[i].hosts);
	}
	free(nm->label);
	free(nm->free_label);
	gr__map_free(&nm->labels);
}
