/*
 * instance.c - instance records and the per-host aggregates (cpu_alloc,
 * mem_alloc, cpu_used, n_instances, members[]) kept exact on every change, so
 * policies never recompute them; groups; utilisation history; applying
 * decisions, recording running instances, unplacing, removing and moving.
 * Invariants: an instance with host >= 0 is in hosts[host].members[host_pos];
 * a live instance with a group is in that group's members[group_pos]; a group
 * with no member is freed; the aggregates equal the sums over members; every
 * change to a host's aggregates is followed by gr__host_refresh().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

/* ---- records --------------------------------------------------------------- */

void gr__instance_release(struct gr_sched_instance *in)
{
	free(in->name);
	for (size_t r = 0; r < in->n_rules; r++)
		free((char *)in->rules[r].name);
	free(in->rules);
	free(in->util);
	free(in->need_labels);
	memset(in, 0, sizeof(*in));
	in->host = -1;
	in->group = -1;
}

/* ---- membership ---------------------------------------------------------- */

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
	gr__host_refresh(s, hi);
}

static void host_detach(struct gr_sched_snapshot *s, int inst)
{
	struct gr_sched_instance *in = &s->instances[inst];
	if (in->host < 0)
		return;
	int hi = in->host;
	struct gr_sched_host *h = &s->hosts[hi];
	int last = h->members[--h->n_instances];
	h->members[in->host_pos] = last;
	s->instances[last].host_pos = in->host_pos;
	h->cpu_alloc -= in->cpu;
	h->mem_alloc -= (double)in->mem_mib;
	h->cpu_used -= in->cpu * in->util_now;
	if (h->n_instances == 0) /* shed rounding drift */
		h->cpu_alloc = h->mem_alloc = h->cpu_used = 0;
	in->host = -1;
	gr__host_refresh(s, hi);
}

static int group_intern(struct gr_sched_snapshot *s, const char *name)
{
	int g = gr__map_get(&s->names->groups, name);
	if (g >= 0)
		return g;
	if (s->n_free_groups) {
		g = s->free_groups[--s->n_free_groups];
	} else {
		if (s->n_groups == s->groups_cap) {
			s->groups_cap = s->groups_cap ? s->groups_cap * 2 : 8;
			s->groups = xrealloc(s->groups, s->groups_cap * sizeof(*s->groups));
		}
		g = (int)s->n_groups++;
		s->groups[g] = (struct gr_sched_group){ 0 };
	}
	struct gr_sched_group *gp = &s->groups[g];
	gp->name = xstrdup(name);
	gp->n = 0;
	gr__map_put(&s->names->groups, gp->name, g);
	return g;
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

/* Take an instance out of its group; a group left empty is freed (its slot
 * and member buffer are reused by the next new group). */
static void group_detach(struct gr_sched_snapshot *s, int inst)
{
	struct gr_sched_instance *in = &s->instances[inst];
	if (in->group < 0)
		return;
	int g = in->group;
	struct gr_sched_group *gp = &s->groups[g];
	int last = gp->members[--gp->n];
	gp->members[in->group_pos] = last;
	s->instances[last].group_pos = in->group_pos;
	in->group = -1;
	if (gp->n)
		return;
	gr__map_del(&s->names->groups, gp->name);
	free(gp->name);
	gp->name = NULL;
	if (s->n_free_groups == s->free_groups_cap) {
		s->free_groups_cap = s->free_groups_cap ? 2 * s->free_groups_cap : 8;
		s->free_groups = xrealloc(s->free_groups, s->free_groups_cap * sizeof(int));
	}
	s->free_groups[s->n_free_groups++] = g;
}

/* ---- utilisation history ---------------------------------------------- */

static void util_append(struct gr_sched_snapshot *s, struct gr_sched_instance *in, double u)
{
	size_t win = s->params.util_window ? s->params.util_window : 1;
	if (!(u >= 0)) /* NaN too */
		u = 0;
	if (u > 1)
		u = 1;
	if (in->n_util >= win) {
		size_t drop = in->n_util - win + 1; /* the window may have shrunk */
		memmove(in->util, in->util + drop, (in->n_util - drop) * sizeof(double));
		in->n_util -= drop;
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
		gr__host_refresh(s, in->host);
	}
}

double gr_sched_util_get(const struct gr_sched_instance *in, size_t i)
{
	return i < in->n_util ? in->util[i] : in->util_now;
}

/* ---- requests ------------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Drop what an unplaced record asked for (labels, rules, group). */
static void request_clear(struct gr_sched_snapshot *s, int idx)
{
	struct gr_sched_instance *in = &s->instances[idx];
	for (uint32_t i = 0; i < in->n_need_labels; i++)
		gr__label_unref(s, in->need_labels[i]);
	free(in->need_labels);
	in->need_labels = NULL;
	in->n_need_labels = 0;
	for (size_t r = 0; r < in->n_rules; r++)
		free((char *)in->rules[r].name);
	free(in->rules);
	in->rules = NULL;
	in->n_rules = 0;
	group_detach(s, idx);
}

/* Give an unplaced record what req asks for (req checked already).  req may
 * borrow the record's own strings (gr_sched_instance_request()), so the new
 * labels, rules and group are taken before the old ones are dropped. */
static void request_set(struct gr_sched_snapshot *s, int idx, const struct gr_sched_request *req)
{
	uint32_t *need = NULL, n_need = 0;
	if (req->n_labels) {
		/* required labels are interned too, so the record gives back the
		 * same request even for a label no host carries yet */
		need = xcalloc(req->n_labels, sizeof(uint32_t));
		for (size_t i = 0; i < req->n_labels; i++) {
			uint32_t id = gr__label_ref(s, req->labels[i]);
			bool dup = false;
			for (uint32_t j = 0; j < n_need && !dup; j++)
				dup = need[j] == id;
			if (dup)
				gr__label_unref(s, id);
			else
				need[n_need++] = id;
		}
		qsort(need, n_need, sizeof(uint32_t), cmp_u32);
	}
	struct gr_sched_rule *rules = NULL;
	if (req->n_rules) {
		rules = xcalloc(req->n_rules, sizeof(*rules));
		for (size_t r = 0; r < req->n_rules; r++) {
			rules[r] = req->rules[r];
			rules[r].name = xstrdup(req->rules[r].name);
		}
	}
	int group = req->group ? group_intern(s, req->group) : -1;
	struct gr_sched_instance *in = &s->instances[idx];
	if (group != in->group) {
		group_detach(s, idx);
		if (group >= 0)
			group_attach(s, idx, group);
	}
	for (uint32_t i = 0; i < in->n_need_labels; i++)
		gr__label_unref(s, in->need_labels[i]);
	free(in->need_labels);
	for (size_t r = 0; r < in->n_rules; r++)
		free((char *)in->rules[r].name);
	free(in->rules);
	in->need_labels = need;
	in->n_need_labels = n_need;
	in->rules = rules;
	in->n_rules = req->n_rules;
	in->vcpus = req->vcpus;
	in->mips_per_vcpu = req->mips_per_vcpu;
	in->cpu = (double)req->vcpus * req->mips_per_vcpu;
	in->mem_mib = req->mem_mib;
	in->pinned = req->pinned_host != NULL;
}

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
	request_set(s, idx, req);
	for (size_t i = 0; i < req->n_util; i++)
		util_append(s, in, req->util[i]);
	if (in->name)
		gr__map_put(&s->names->instances, in->name, idx);
	s->n_live++;
	return idx;
}

/* The record req names, refreshed from req if it exists unplaced (EEXIST if
 * it is placed), else a new one. */
static int instance_for(struct gr_sched_snapshot *s, const struct gr_sched_request *req,
			gr_error_t *err)
{
	int idx = req->name ? gr_sched_instance_find(s, req->name) : -1;
	if (idx < 0)
		return instance_new(s, req);
	if (s->instances[idx].host >= 0)
		return gr_error_set(err, EEXIST, "instance %s: already placed on %s", req->name,
				    s->hosts[s->instances[idx].host].name);
	request_set(s, idx, req);
	return idx;
}

/* ---- applying decisions --------------------------------------------------- */

int gr_sched_apply(struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		   const struct gr_sched_decision *d, gr_error_t *err)
{
	const char *n = req->name ? req->name : "request";
	if (d->host < 0 || (size_t)d->host >= s->n_hosts)
		return gr_error_set(err, EINVAL, "%s: decision is not placed", n);
	if (gr__request_check(req, err) < 0)
		return -1;
	int idx = req->name ? gr_sched_instance_find(s, req->name) : -1;
	if (idx >= 0 && s->instances[idx].host >= 0)
		return gr_error_set(err, EEXIST, "instance %s: already placed on %s", req->name,
				    s->hosts[s->instances[idx].host].name);
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	int why = gr__fit_host(s, &f, d->host);
	if (why >= 0)
		return gr_error_set(err, EBUSY, "%s: host %s no longer fits: %s", n, s->hosts[d->host].name,
				    gr__reject_text(why));
	idx = instance_for(s, req, err);
	host_attach(s, idx, d->host);
	if (d->set_cursor)
		s->rr_cursor = d->cursor_after;
	return idx;
}

int gr_sched_add_instance(struct gr_sched_snapshot *s, const struct gr_sched_request *req, int host,
			  gr_error_t *err)
{
	if (host < -1 || (host >= 0 && (size_t)host >= s->n_hosts))
		return gr_error_set(err, ENOENT, "%s: host index %d: no such host",
				    req->name ? req->name : "request", host);
	if (gr__request_check(req, err) < 0)
		return -1;
	int idx = instance_for(s, req, err);
	if (idx < 0)
		return -1;
	if (host >= 0)
		host_attach(s, idx, host);
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
	if (in->n_need_labels > max_labels)
		return gr_error_set(err, E2BIG, "instance %s: more than %zu labels",
				    in->name ? in->name : "(anonymous)", max_labels);
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
		.n_labels = in->n_need_labels,
	};
	for (uint32_t i = 0; i < in->n_need_labels; i++)
		labels[i] = s->names->label[in->need_labels[i]].name;
	return 0;
}

int gr_sched_remove(struct gr_sched_snapshot *s, int inst, gr_error_t *err)
{
	if (inst < 0 || (size_t)inst >= s->n_instances || !s->instances[inst].live)
		return gr_error_set(err, ENOENT, "instance index %d: no such instance", inst);
	struct gr_sched_instance *in = &s->instances[inst];
	host_detach(s, inst);
	request_clear(s, inst);
	if (in->name)
		gr__map_del(&s->names->instances, in->name);
	gr__instance_release(in);
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
