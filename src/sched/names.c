/*
 * names.c - the snapshot's name indexes: an open-addressing hash map from a
 * name to an index (hosts, instances, groups, labels).  Keys are borrowed from
 * the records they index and must outlive their entry.  Deleted entries leave
 * tombstones; the table is rebuilt (same size, or doubled when half full)
 * once entries and tombstones fill 70 %, so a map under constant churn stays
 * at a size set by its live entries.
 */
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

const char gr__map_tomb[] = "";

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int gr__map_get(const struct gr__map *m, const char *key)
{
	if (!m->cap || !key)
		return -1;
	size_t mask = m->cap - 1;
	for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
		const char *k = m->keys[i];
		if (!k)
			return -1;
		if (k != gr__map_tomb && !strcmp(k, key))
			return m->vals[i];
	}
}

static void map_grow(struct gr__map *m)
{
	struct gr__map old = *m;
	m->cap = old.cap ? (old.used * 2 > old.cap / 2 ? old.cap * 2 : old.cap) : 16;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xcalloc(m->cap, sizeof(*m->vals));
	m->used = m->tombs = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i] && old.keys[i] != gr__map_tomb)
			gr__map_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

void gr__map_put(struct gr__map *m, const char *key, int val)
{
	if ((m->used + m->tombs + 1) * 10 >= m->cap * 7)
		map_grow(m);
	size_t mask = m->cap - 1;
	for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
		const char *k = m->keys[i];
		if (!k || k == gr__map_tomb) {
			if (k == gr__map_tomb)
				m->tombs--;
			m->keys[i] = key;
			m->vals[i] = val;
			m->used++;
			return;
		}
		if (!strcmp(k, key)) {
			m->keys[i] = key;
			m->vals[i] = val;
			return;
		}
	}
}

void gr__map_del(struct gr__map *m, const char *key)
{
	if (!m->cap || !key)
		return;
	size_t mask = m->cap - 1;
	for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
		const char *k = m->keys[i];
		if (!k)
			return;
		if (k != gr__map_tomb && !strcmp(k, key)) {
			m->keys[i] = gr__map_tomb;
			m->used--;
			m->tombs++;
			return;
		}
	}
}

void gr__map_free(struct gr__map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
