/*
 * snapshot.c - the cluster snapshot: hosts, instances, groups, labels and the
 * name index, with per-host aggregates (cpu_alloc, mem_alloc, cpu_used,
 * n_instances, members[]) kept exact on every change, so policies never
 * recompute them.  Invariants: an instance with host >= 0 is in
 * hosts[host].members[host_pos]; a live instance with a group is in that
 * group's members[group_pos]; the aggregates equal the sums over members.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

/* ---- name index --------------------------------------------------------- */

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

/* ---- snapshot ----------------------------------------------------------- */

static void host_power_refresh(struct gr_sched_host *h);

struct gr_sched_snapshot *gr_sched_snapshot_new(uint64_t seed)
{
	struct gr_sched_snapshot *s = xcalloc(1, sizeof(*s));
	s->params = (struct gr_sched_params){
		.cpu_overcommit = 1.0,
		.mem_overcommit = 1.0,
		.overload = 0.8,
		.min_gain = 0.05,
		.mig_bandwidth_mib_s = 125,
		.mig_cost_per_s = 0.002,
		.neighbour_radius = 2,
		.max_moves = 64,
		.util_window = 64,
	};
	gr_sched_rng_seed(&s->rng, seed);
	s->names = xcalloc(1, sizeof(*s->names));
	s->scratch = xcalloc(1, sizeof(*s->scratch));
	return s;
}

static void instance_release(struct gr_sched_instance *in)
{
	free(in->name);
	for (size_t r = 0; r < in->n_rules; r++)
		free((char *)in->rules[r].name);
	free(in->rules);
	free(in->util);
	memset(in, 0, sizeof(*in));
	in->host = -1;
	in->group = -1;
}

void gr_sched_snapshot_free(struct gr_sched_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_hosts; i++) {
		struct gr_sched_host *h = &s->hosts[i];
		free((char *)h->name);
		free((void *)h->labels);
		free((void *)h->neighbours);
		free(h->members);
	}
	free(s->hosts);
	for (size_t i = 0; i < s->n_instances; i++)
		instance_release(&s->instances[i]);
	free(s->instances);
	for (size_t i = 0; i < s->n_labels; i++)
		free(s->labels[i]);
	for (size_t i = 0; i < s->n_groups; i++) {
		free(s->groups[i].name);
		free(s->groups[i].members);
	}
	free(s->groups);
	gr__map_free(&s->names->hosts);
	gr__map_free(&s->names->instances);
	gr__map_free(&s->names->groups);
	free(s->names);
	free(s->free_slots);
	struct gr_sched_scratch *w = s->scratch;
	free(w->marks);
	free(w->load);
	free(w->cpu_alloc);
	free(w->mem_alloc);
	free(w->n_inst);
	free(w->where);
	for (size_t i = 0; i < w->n_curves; i++)
		free(w->curves[i]);
	free(w->curves);
	free(w);
	free(s);
}

static int label_intern(struct gr_sched_snapshot *s, const char *label, gr_error_t *err)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (!strcmp(s->labels[i], label))
			return (int)i;
	if (s->n_labels >= GR_SCHED_MAX_LABELS)
		return gr_error_set(err, EINVAL, "label '%s': more than %d distinct labels in the cluster",
				    label, GR_SCHED_MAX_LABELS);
	s->labels[s->n_labels] = xstrdup(label);
	return (int)s->n_labels++;
}

/* Hosts with the same curve share one copy, so scoring by power stays in cache. */
static const struct gr_sched_power_model *curve_intern(struct gr_sched_snapshot *s,
						 const struct gr_sched_power_model *m)
{
	struct gr_sched_scratch *w = s->scratch;
	for (size_t i = 0; i < w->n_curves; i++)
		if (!memcmp(w->curves[i]->watts, m->watts, sizeof(m->watts)) &&
		    w->curves[i]->name == m->name)
			return w->curves[i];
	w->curves = xrealloc(w->curves, (w->n_curves + 1) * sizeof(*w->curves));
	struct gr_sched_power_model *copy = xmalloc(sizeof(*copy));
	*copy = *m;
	w->curves[w->n_curves++] = copy;
	return copy;
}

static bool valid_ratio(double r)
{
	return r == 0 || (isfinite(r) && r >= 1 && r <= 64);
}

int gr_sched_add_host(struct gr_sched_snapshot *s, const struct gr_sched_host *in, gr_error_t *err)
{
	if (!in->name || !*in->name)
		return gr_error_set(err, EINVAL, "host.name: required");
	const char *n = in->name;
	if (gr__map_get(&s->names->hosts, n) >= 0)
		return gr_error_set(err, EEXIST, "host %s: already in the snapshot", n);
	if (in->cores < 1)
		return gr_error_set(err, EINVAL, "host %s: cores: must be >= 1", n);
	if (!isfinite(in->mips_per_core) || in->mips_per_core <= 0)
		return gr_error_set(err, EINVAL, "host %s: mips_per_core: must be > 0", n);
	if (in->mem_mib < 1)
		return gr_error_set(err, EINVAL, "host %s: mem_mib: must be >= 1", n);
	if (!valid_ratio(in->cpu_overcommit))
		return gr_error_set(err, EINVAL, "host %s: cpu_overcommit: %g is not 0 (default) or 1..64",
				    n, in->cpu_overcommit);
	if (!valid_ratio(in->mem_overcommit))
		return gr_error_set(err, EINVAL, "host %s: mem_overcommit: %g is not 0 (default) or 1..64",
				    n, in->mem_overcommit);
	if ((unsigned)in->state > GR_SCHED_HOST_DRAINING)
		return gr_error_set(err, EINVAL, "host %s: state: unknown value %d", n, (int)in->state);
	if (in->power && gr_sched_power_check(in->power, err) < 0)
		return gr_error_prefix(err, "host %s", n);
	for (size_t i = 0; i < in->n_neighbours; i++)
		if (in->neighbours[i] < 0)
			return gr_error_set(err, EINVAL, "host %s: neighbours[%zu]: negative index", n, i);
	if (s->n_hosts >= INT32_MAX / 2)
		return gr_error_set(err, E2BIG, "host %s: too many hosts", n);
	uint64_t bits = 0;
	_cleanup_free_ const char **labels = in->n_labels ? xcalloc(in->n_labels, sizeof(char *)) : NULL;
	for (size_t i = 0; i < in->n_labels; i++) {
		if (!in->labels[i] || !*in->labels[i])
			return gr_error_set(err, EINVAL, "host %s: labels[%zu]: empty", n, i);
		int b = label_intern(s, in->labels[i], err);
		if (b < 0)
			return gr_error_prefix(err, "host %s", n);
		bits |= 1ULL << b;
		labels[i] = s->labels[b];
	}

	if (s->n_hosts == s->hosts_cap) {
		s->hosts_cap = s->hosts_cap ? s->hosts_cap * 2 : 16;
		s->hosts = xrealloc(s->hosts, s->hosts_cap * sizeof(*s->hosts));
	}
	struct gr_sched_host *h = &s->hosts[s->n_hosts];
	*h = *in;
	h->name = xstrdup(in->name);
	h->labels = TAKE_PTR(labels);
	h->label_bits = bits;
	if (in->power)
		h->power = curve_intern(s, in->power);
	if (in->n_neighbours) {
		int *nb = xmalloc(in->n_neighbours * sizeof(int));
		memcpy(nb, in->neighbours, in->n_neighbours * sizeof(int));
		h->neighbours = nb;
	} else {
		h->neighbours = NULL;
	}
	h->cpu_overcommit = in->cpu_overcommit ? in->cpu_overcommit : s->params.cpu_overcommit;
	h->mem_overcommit = in->mem_overcommit ? in->mem_overcommit : s->params.mem_overcommit;
	h->cpu_phys = (double)in->cores * in->mips_per_core;
	h->inv_phys = 1 / h->cpu_phys;
	h->cpu_cap = h->cpu_phys * h->cpu_overcommit;
	h->mem_cap = (double)in->mem_mib * h->mem_overcommit;
	h->inv_cpu_cap = 1 / h->cpu_cap;
	h->inv_mem_cap = 1 / h->mem_cap;
	h->cpu_alloc = h->mem_alloc = h->cpu_used = 0;
	host_power_refresh(h);
	h->n_instances = 0;
	h->members = NULL;
	h->members_cap = 0;
	gr__map_put(&s->names->hosts, h->name, (int)s->n_hosts);

	struct gr_sched_scratch *w = s->scratch;
	if (w->cap < s->hosts_cap) {
		w->marks = xrealloc(w->marks, s->hosts_cap * sizeof(*w->marks));
		memset(w->marks + w->cap, 0, (s->hosts_cap - w->cap) * sizeof(*w->marks));
		w->cap = s->hosts_cap;
	}
	return (int)s->n_hosts++;
}

int gr_sched_host_find(const struct gr_sched_snapshot *s, const char *name)
{
	return gr__map_get(&s->names->hosts, name);
}

int gr_sched_instance_find(const struct gr_sched_snapshot *s, const char *name)
{
	return gr__map_get(&s->names->instances, name);
}

const struct gr_sched_power_model *gr_sched_host_power(const struct gr_sched_snapshot *s, int host)
{
	if (host < 0 || (size_t)host >= s->n_hosts)
		return NULL;
	return s->hosts[host].power;
}

int gr_sched_set_host_state(struct gr_sched_snapshot *s, int host, enum gr_sched_host_state st,
			    gr_error_t *err)
{
	if (host < 0 || (size_t)host >= s->n_hosts)
		return gr_error_set(err, ENOENT, "host index %d: no such host", host);
	if ((unsigned)st > GR_SCHED_HOST_DRAINING)
		return gr_error_set(err, EINVAL, "host %s: state: unknown value %d", s->hosts[host].name,
				    (int)st);
	s->hosts[host].state = st;
	return 0;
}

static const char *const state_names[] = { "up", "maintenance", "down", "draining" };

const char *gr_sched_host_state_name(enum gr_sched_host_state st)
{
	return (unsigned)st <= GR_SCHED_HOST_DRAINING ? state_names[st] : "unknown";
}

int gr_sched_host_state_parse(const char *str)
{
	for (int i = 0; i <= GR_SCHED_HOST_DRAINING; i++)
		if (str && !strcmp(str, state_names[i]))
			return i;
	return -1;
}

/* ---- membership ---------------------------------------------------------- */

/* Refresh the cached power-curve step of a host after cpu_used changed. */
static void host_power_refresh(struct gr_sched_host *h)
{
	if (!h->power) {
		h->pw_watts_per_mips = 0;
		h->pw_segment_end = INFINITY;
		return;
	}
	double x = h->cpu_used * h->inv_phys * 10;
	if (!(x < 10)) {
		h->pw_watts_per_mips = 0; /* at the 100 % figure: no increase */
		h->pw_segment_end = INFINITY;
		return;
	}
	int i = x > 0 ? (int)x : 0;
	if (i > 9)
		i = 9;
	h->pw_watts_per_mips = (h->power->watts[i + 1] - h->power->watts[i]) * 10 * h->inv_phys;
	h->pw_segment_end = (double)(i + 1) / 10 * h->cpu_phys;
}

static void host_attach(struct gr_sched_snapshot *s, int inst, int hi)
{
	struct gr_sched_instance *in = &s->instances[inst];
	struct gr_sched_host *h = &s->hosts[hi];
	if (h->n_instances == h->members_cap) {
		h->members_cap = h->members_cap ? h->members_cap * 2 : 8;
		h->members = xrealloc(h->members, h->members_cap * sizeof(int));
	}
	in->host = hi;
	in->host_pos = h->n_instances;
	h->members[h->n_instances++] = inst;
	h->cpu_alloc += in->cpu;
	h->mem_alloc += (double)in->mem_mib;
	h->cpu_used += in->cpu * in->util_now;
	host_power_refresh(h);
}

static void host_detach(struct gr_sched_snapshot *s, int inst)
{
	struct gr_sched_instance *in = &s->instances[inst];
	if (in->host < 0)
		return;
	struct gr_sched_host *h = &s->hosts[in->host];
	int last = h->members[--h->n_instances];
	h->members[in->host_pos] = last;
	s->instances[last].host_pos = in->host_pos;
	h->cpu_alloc -= in->cpu;
	h->mem_alloc -= (double)in->mem_mib;
	h->cpu_used -= in->cpu * in->util_now;
	if (h->n_instances == 0) /* shed rounding drift */
		h->cpu_alloc = h->mem_alloc = h->cpu_used = 0;
	host_power_refresh(h);
	in->host = -1;
}

static int group_intern(struct gr_sched_snapshot *s, const char *name)
{
	int g = gr__map_get(&s->names->groups, name);
	if (g >= 0)
		return g;
	if (s->n_groups == s->groups_cap) {
		s->groups_cap = s->groups_cap ? s->groups_cap * 2 : 8;
		s->groups = xrealloc(s->groups, s->groups_cap * sizeof(*s->groups));
	}
	struct gr_sched_group *gp = &s->groups[s->n_groups];
	*gp = (struct gr_sched_group){ .name = xstrdup(name) };
	gr__map_put(&s->names->groups, gp->name, (int)s->n_groups);
	return (int)s->n_groups++;
}

static void group_attach(struct gr_sched_snapshot *s, int inst, int g)
{
	struct gr_sched_group *gp = &s->groups[g];
	if (gp->n == gp->cap) {
		gp->cap = gp->cap ? gp->cap * 2 : 8;
		gp->members = xrealloc(gp->members, gp->cap * sizeof(int));
	}
	s->instances[inst].group = g;
	s->instances[inst].group_pos = (uint32_t)gp->n;
	gp->members[gp->n++] = inst;
}

static void group_detach(struct gr_sched_snapshot *s, int inst)
{
	struct gr_sched_instance *in = &s->instances[inst];
	if (in->group < 0)
		return;
	struct gr_sched_group *gp = &s->groups[in->group];
	int last = gp->members[--gp->n];
	gp->members[in->group_pos] = last;
	s->instances[last].group_pos = in->group_pos;
	in->group = -1;
}

/* ---- utilisation history ---------------------------------------------- */

static void util_append(struct gr_sched_snapshot *s, struct gr_sched_instance *in, double u)
{
	size_t win = s->params.util_window ? s->params.util_window : 1;
	if (!(u >= 0)) /* NaN too */
		u = 0;
	if (u > 1)
		u = 1;
	if (in->n_util == win) {
		memmove(in->util, in->util + 1, (win - 1) * sizeof(double));
		in->n_util--;
	}
	if (in->n_util == in->util_cap) {
		in->util_cap = in->util_cap ? in->util_cap * 2 : 8;
		if (in->util_cap > win)
			in->util_cap = win;
		in->util = xrealloc(in->util, in->util_cap * sizeof(double));
	}
	in->util[in->n_util++] = u;
	in->util_now = u;
}

void gr_sched_util_push(struct gr_sched_snapshot *s, int inst, double u)
{
	if (inst < 0 || (size_t)inst >= s->n_instances || !s->instances[inst].live)
		return;
	struct gr_sched_instance *in = &s->instances[inst];
	double before = in->util_now;
	util_append(s, in, u);
	if (in->host >= 0) {
		struct gr_sched_host *h = &s->hosts[in->host];
		h->cpu_used += in->cpu * (in->util_now - before);
		if (h->cpu_used < 0)
			h->cpu_used = 0;
		host_power_refresh(h);
	}
}

double gr_sched_util_get(const struct gr_sched_instance *in, size_t i)
{
	return i < in->n_util ? in->util[i] : in->util_now;
}

/* ---- applying decisions --------------------------------------------------- */

static int instance_new(struct gr_sched_snapshot *s, const struct gr_sched_request *req)
{
	int idx;
	if (s->n_free) {
		idx = s->free_slots[--s->n_free];
	} else {
		if (s->n_instances == s->instances_cap) {
			s->instances_cap = s->instances_cap ? s->instances_cap * 2 : 64;
			s->instances = xrealloc(s->instances, s->instances_cap * sizeof(*s->instances));
		}
		idx = (int)s->n_instances++;
	}
	struct gr_sched_instance *in = &s->instances[idx];
	*in = (struct gr_sched_instance){ .host = -1, .group = -1, .live = true, .util_now = 1.0 };
	in->name = req->name ? xstrdup(req->name) : NULL;
	in->vcpus = req->vcpus;
	in->mips_per_vcpu = req->mips_per_vcpu;
	in->cpu = (double)req->vcpus * req->mips_per_vcpu;
	in->mem_mib = req->mem_mib;
	for (size_t i = 0; i < req->n_labels; i++)
		for (size_t b = 0; b < s->n_labels; b++)
			if (!strcmp(s->labels[b], req->labels[i]))
				in->need_labels |= 1ULL << b;
	if (req->n_rules) {
		in->rules = xcalloc(req->n_rules, sizeof(*in->rules));
		for (size_t r = 0; r < req->n_rules; r++) {
			in->rules[r] = req->rules[r];
			in->rules[r].name = xstrdup(req->rules[r].name);
		}
		in->n_rules = req->n_rules;
	}
	for (size_t i = 0; i < req->n_util; i++)
		util_append(s, in, req->util[i]);
	if (in->name)
		gr__map_put(&s->names->instances, in->name, idx);
	if (req->group)
		group_attach(s, idx, group_intern(s, req->group));
	s->n_live++;
	return idx;
}

int gr_sched_apply(struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		   const struct gr_sched_decision *d, gr_error_t *err)
{
	if (d->host < 0 || (size_t)d->host >= s->n_hosts)
		return gr_error_set(err, EINVAL, "%s: decision is not placed",
				    req->name ? req->name : "request");
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	int why = gr__fit_host(s, &f, d->host);
	if (why >= 0)
		return gr_error_set(err, EBUSY, "%s: host %s no longer fits: %s",
				    req->name ? req->name : "request", s->hosts[d->host].name,
				    gr__reject_text(why));
	int idx = req->name ? gr_sched_instance_find(s, req->name) : -1;
	if (idx >= 0) {
		if (s->instances[idx].host >= 0)
			return gr_error_set(err, EEXIST, "instance %s: already placed on %s", req->name,
					    s->hosts[s->instances[idx].host].name);
	} else {
		idx = instance_new(s, req);
	}
	s->instances[idx].pinned = req->pinned_host != NULL;
	host_attach(s, idx, d->host);
	if (d->set_cursor)
		s->rr_cursor = d->cursor_after;
	return idx;
}

int gr_sched_unplace(struct gr_sched_snapshot *s, int inst, gr_error_t *err)
{
	if (inst < 0 || (size_t)inst >= s->n_instances || !s->instances[inst].live)
		return gr_error_set(err, ENOENT, "instance index %d: no such instance", inst);
	host_detach(s, inst);
	return 0;
}

int gr_sched_instance_request(const struct gr_sched_snapshot *s, int inst,
			      struct gr_sched_request *req, const char **labels, size_t max_labels,
			      gr_error_t *err)
{
	if (inst < 0 || (size_t)inst >= s->n_instances || !s->instances[inst].live)
		return gr_error_set(err, ENOENT, "instance index %d: no such instance", inst);
	const struct gr_sched_instance *in = &s->instances[inst];
	*req = (struct gr_sched_request){
		.name = in->name,
		.group = in->group >= 0 ? s->groups[in->group].name : NULL,
		.vcpus = in->vcpus,
		.mips_per_vcpu = in->mips_per_vcpu,
		.mem_mib = in->mem_mib,
		.rules = in->rules,
		.n_rules = in->n_rules,
		.pinned_host = in->pinned && in->host >= 0 ? s->hosts[in->host].name : NULL,
		.util = in->n_util ? in->util : NULL,
		.n_util = in->n_util,
		.labels = labels,
	};
	for (size_t b = 0; b < s->n_labels; b++) {
		if (!(in->need_labels & (1ULL << b)))
			continue;
		if (req->n_labels == max_labels)
			return gr_error_set(err, E2BIG, "instance %s: more than %zu labels",
					    in->name ? in->name : "(anonymous)", max_labels);
		labels[req->n_labels++] = s->labels[b];
	}
	return 0;
}

int gr_sched_remove(struct gr_sched_snapshot *s, int inst, gr_error_t *err)
{
	if (inst < 0 || (size_t)inst >= s->n_instances || !s->instances[inst].live)
		return gr_error_set(err, ENOENT, "instance index %d: no such instance", inst);
	struct gr_sched_instance *in = &s->instances[inst];
	host_detach(s, inst);
	group_detach(s, inst);
	if (in->name)
		gr__map_del(&s->names->instances, in->name);
	instance_release(in);
	if (s->n_free == s->free_cap) {
		s->free_cap = s->free_cap ? s->free_cap * 2 : 64;
		s->free_slots = xrealloc(s->free_slots, s->free_cap * sizeof(int));
	}
	s->free_slots[s->n_free++] = inst;
	s->n_live--;
	return 0;
}

int gr_sched_migrate(struct gr_sched_snapshot *s, int inst, int to, gr_error_t *err)
{
	if (inst < 0 || (size_t)inst >= s->n_instances || !s->instances[inst].live)
		return gr_error_set(err, ENOENT, "instance index %d: no such instance", inst);
	if (to < 0 || (size_t)to >= s->n_hosts)
		return gr_error_set(err, ENOENT, "host index %d: no such host", to);
	struct gr_sched_instance *in = &s->instances[inst];
	const char *iname = in->name ? in->name : "instance";
	if (in->host == to)
		return 0;
	enum gr_sched_reject why;
	if (!gr_sched_instance_fits(s, inst, to, &why))
		return gr_error_set(err, EBUSY, "%s: cannot move to %s: %s", iname,
				    s->hosts[to].name, gr__reject_text((int)why));
	host_detach(s, inst);
	host_attach(s, inst, to);
	return 0;
}
