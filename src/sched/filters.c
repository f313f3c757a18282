/*
 * filters.c - the filter pipeline every policy runs before it scores hosts:
 * host state, labels, anti-affinity and affinity rules, cores, CPU and memory
 * capacity (gr__fit_host() in sched-internal.h is the per-host check).  Rules
 * are resolved once per decision into per-host marks stamped with an epoch,
 * so checking a host is O(1).  Also builds the decision reasons: which filter
 * turned away how many hosts.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

int gr__request_check(const struct gr_sched_request *req, gr_error_t *err)
{
	const char *n = req->name ? req->name : "request";
	if (req->name && !*req->name)
		return gr_error_set(err, EINVAL, "request.name: empty");
	if (req->vcpus < 1)
		return gr_error_set(err, EINVAL, "%s: vcpus: must be >= 1", n);
	if (!isfinite(req->mips_per_vcpu) || req->mips_per_vcpu <= 0)
		return gr_error_set(err, EINVAL, "%s: mips_per_vcpu: must be > 0", n);
	if (req->mem_mib < 1)
		return gr_error_set(err, EINVAL, "%s: mem_mib: must be >= 1", n);
	if (req->group && !*req->group)
		return gr_error_set(err, EINVAL, "%s: group: empty", n);
	for (size_t i = 0; i < req->n_labels; i++)
		if (!req->labels || !req->labels[i] || !*req->labels[i])
			return gr_error_set(err, EINVAL, "%s: labels[%zu]: empty", n, i);
	for (size_t i = 0; i < req->n_rules; i++) {
		const struct gr_sched_rule *r = &req->rules[i];
		if (!r->name || !*r->name)
			return gr_error_set(err, EINVAL, "%s: rules[%zu].name: empty", n, i);
		if ((unsigned)r->kind > GR_SCHED_ANTI_AFFINITY)
			return gr_error_set(err, EINVAL, "%s: rules[%zu].kind: unknown value %d", n, i,
					    (int)r->kind);
		if ((unsigned)r->target > GR_SCHED_TARGET_GROUP)
			return gr_error_set(err, EINVAL, "%s: rules[%zu].target: unknown value %d", n, i,
					    (int)r->target);
		if (r->target == GR_SCHED_TARGET_INSTANCE && req->name && !strcmp(r->name, req->name))
			return gr_error_set(err, EINVAL, "%s: rules[%zu]: a rule cannot name the instance itself",
					    n, i);
	}
	for (size_t i = 0; i < req->n_util; i++)
		if (!(req->util[i] >= 0 && req->util[i] <= 1))
			return gr_error_set(err, EINVAL, "%s: util[%zu]: %g is not in 0..1", n, i, req->util[i]);
	return 0;
}

static uint32_t next_epoch(const struct gr_sched_snapshot *s)
{
	struct gr_sched_scratch *w = s->scratch;
	if (++w->epoch == 0) {
		memset(w->marks, 0, w->cap * sizeof(*w->marks));
		w->epoch = 1;
	}
	return w->epoch;
}

/* Mark host h for a rule; the hosts satisfying the first affinity rule are
 * also listed in scratch->cand (the only candidates of the decision). */
static void mark_host(const struct gr_sched_snapshot *s, struct gr__fit *f,
		      enum gr_sched_rule_kind kind, int h, uint32_t rule_id)
{
	struct gr_sched_scratch *w = s->scratch;
	struct gr__mark *m = &w->marks[h];
	if (kind == GR_SCHED_ANTI_AFFINITY) {
		m->forbid_epoch = f->epoch;
		return;
	}
	if (m->allow_epoch != f->epoch) {
		m->allow_epoch = f->epoch;
		m->allow_n = 0;
		m->allow_rule = 0;
	}
	if (m->allow_rule != rule_id) {
		m->allow_rule = rule_id;
		m->allow_n++;
		if (rule_id == 1) {
			if (w->n_cand == w->cand_cap) {
				w->cand_cap = w->cand_cap ? 2 * w->cand_cap : 64;
				w->cand = xrealloc(w->cand, w->cand_cap * sizeof(int));
			}
			w->cand[w->n_cand++] = h;
		}
	}
}

/* Resolve rules into marks; a rule whose target is not placed anywhere is vacuous. */
static void fit_rules(const struct gr_sched_snapshot *s, const struct gr_sched_rule *rules,
		      size_t n, struct gr__fit *f)
{
	f->epoch = next_epoch(s);
	f->forbid = false;
	f->n_allow = 0;
	s->scratch->n_cand = 0;
	for (size_t i = 0; i < n; i++) {
		const struct gr_sched_rule *r = &rules[i];
		uint32_t rule_id = f->n_allow + 1;
		bool active = false;
		if (r->target == GR_SCHED_TARGET_INSTANCE) {
			int t = gr_sched_instance_find(s, r->name);
			if (t >= 0 && t != f->self && s->instances[t].host >= 0) {
				mark_host(s, f, r->kind, s->instances[t].host, rule_id);
				active = true;
			}
		} else {
			int g = gr__map_get(&s->names->groups, r->name);
			if (g >= 0) {
				const struct gr_sched_group *gp = &s->groups[g];
				for (size_t k = 0; k < gp->n; k++) {
					int m = gp->members[k];
					if (m == f->self || s->instances[m].host < 0)
						continue;
					mark_host(s, f, r->kind, s->instances[m].host, rule_id);
					active = true;
				}
			}
		}
		if (active) {
			if (r->kind == GR_SCHED_ANTI_AFFINITY)
				f->forbid = true;
			else
				f->n_allow++;
		}
	}
}

/* Fill the label part of a fit from ids (ascending) and note the label the
 * fewest hosts carry. */
static void fit_labels(const struct gr_sched_snapshot *s, struct gr__fit *f, const uint32_t *ids,
		       uint32_t n)
{
	f->need = ids;
	f->n_need = n;
	f->need_bits = 0;
	f->rare_label = -1;
	uint32_t fewest = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct gr__label *l = &s->names->label[ids[i]];
		f->need_bits |= gr__label_bit(ids[i]);
		if (!l->n_hosts && !f->missing_label)
			f->missing_label = l->name;
		if (f->rare_label < 0 || l->n_hosts < fewest) {
			f->rare_label = (int)ids[i];
			fewest = l->n_hosts;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void gr__fit_request(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		     struct gr__fit *f)
{
	f->vcpus = req->vcpus;
	f->mips_per_vcpu = req->mips_per_vcpu;
	f->cpu = (double)req->vcpus * req->mips_per_vcpu;
	f->mem = (double)req->mem_mib;
	f->util = req->n_util ? req->util[req->n_util - 1] : 1.0;
	f->cpu_use = f->cpu * f->util;
	f->missing_label = NULL;
	f->self = -1;
	f->origin = 0;
	struct gr_sched_scratch *w = s->scratch;
	if (w->need_cap < req->n_labels) {
		w->need_cap = req->n_labels;
		w->need = xrealloc(w->need, w->need_cap * sizeof(uint32_t));
	}
	uint32_t n = 0;
	for (size_t i = 0; i < req->n_labels; i++) {
		int id = gr__label_find(s, req->labels[i]);
		if (id < 0) {
			if (!f->missing_label)
				f->missing_label = req->labels[i];
			continue;
		}
		bool dup = false;
		for (uint32_t j = 0; j < n && !dup; j++)
			dup = w->need[j] == (uint32_t)id;
		if (!dup)
			w->need[n++] = (uint32_t)id;
	}
	if (n > 1)
		qsort(w->need, n, sizeof(uint32_t), cmp_u32);
	fit_labels(s, f, w->need, n);
	if (req->n_rules)
		fit_rules(s, req->rules, req->n_rules, f);
	else {
		f->forbid = false;
		f->n_allow = 0;
		f->epoch = 0;
	}
}

void gr__fit_instance(const struct gr_sched_snapshot *s, int inst, struct gr__fit *f)
{
	const struct gr_sched_instance *in = &s->instances[inst];
	f->vcpus = in->vcpus;
	f->mips_per_vcpu = in->mips_per_vcpu;
	f->cpu = in->cpu;
	f->mem = (double)in->mem_mib;
	f->util = in->util_now;
	f->cpu_use = in->cpu * in->util_now;
	f->missing_label = NULL;
	f->self = inst;
	f->origin = 0;
	fit_labels(s, f, in->need_labels, in->n_need_labels);
	if (in->n_rules)
		fit_rules(s, in->rules, in->n_rules, f);
	else {
		f->forbid = false;
		f->n_allow = 0;
		f->epoch = 0;
	}
}

bool gr_sched_instance_fits(const struct gr_sched_snapshot *s, int inst, int h,
			    enum gr_sched_reject *why)
{
	if (inst < 0 || (size_t)inst >= s->n_instances || !s->instances[inst].live || h < 0 ||
	    (size_t)h >= s->n_hosts) {
		if (why)
			*why = GR_SCHED_REJ_DOWN;
		return false;
	}
	const struct gr_sched_instance *in = &s->instances[inst];
	struct gr__fit f;
	gr__fit_instance(s, inst, &f);
	/* as if it were not placed where it is: its own share is already counted */
	if (in->host == h)
		f.cpu = f.mem = 0;
	int r = gr__fit_host(s, &f, h);
	if (why)
		*why = r < 0 ? GR_SCHED_REJ__COUNT : (enum gr_sched_reject)r;
	return r < 0;
}

static const char *const reject_text[GR_SCHED_REJ__COUNT] = {
	[GR_SCHED_REJ_MAINTENANCE] = "in maintenance",
	[GR_SCHED_REJ_DOWN] = "down",
	[GR_SCHED_REJ_DRAINING] = "draining",
	[GR_SCHED_REJ_LABELS] = "without the required labels",
	[GR_SCHED_REJ_ANTI_AFFINITY] = "excluded by anti-affinity",
	[GR_SCHED_REJ_AFFINITY] = "excluded by affinity",
	[GR_SCHED_REJ_CORES] = "with too few or too slow cores",
	[GR_SCHED_REJ_CPU] = "too small in CPU",
	[GR_SCHED_REJ_MEMORY] = "too small in memory",
	[GR_SCHED_REJ_POWER] = "without a power curve",
	[GR_SCHED_REJ_OVERLOAD] = "would be overloaded",
};

const char *gr__reject_text(int why)
{
	return why >= 0 && why < GR_SCHED_REJ__COUNT ? reject_text[why] : "fits";
}

void gr__decision_init(struct gr_sched_decision *d)
{
	memset(d->rejected, 0, sizeof(d->rejected));
	d->host = -1;
	d->arrival = -1;
	d->score = 0;
	d->considered = 0;
	d->set_cursor = false;
	d->cursor_after = 0;
	d->reason[0] = '\0';
}

void gr__decision_not_placed(struct gr_sched_decision *d, const struct gr__fit *f, const char *scope)
{
	char *p = d->reason, *end = d->reason + sizeof(d->reason);
	d->host = -1;
	/* "has ... free" when only capacity turned hosts away, else "can take" */
	bool cpu = d->rejected[GR_SCHED_REJ_CPU] || d->rejected[GR_SCHED_REJ_CORES];
	bool mem = d->rejected[GR_SCHED_REJ_MEMORY];
	bool other = false;
	for (int r = GR_SCHED_REJ_LABELS; r < GR_SCHED_REJ__COUNT; r++)
		if (d->rejected[r] && r != GR_SCHED_REJ_CPU && r != GR_SCHED_REJ_CORES &&
		    r != GR_SCHED_REJ_MEMORY)
			other = true;
	const char *sp = scope ? " " : "", *sc = scope ? scope : "";
	if (!other && cpu && !mem)
		p += snprintf(p, end - p, "no host%s%s has %u x %.0f MIPS free", sp, sc, f->vcpus,
			      f->mips_per_vcpu);
	else if (!other && mem && !cpu)
		p += snprintf(p, end - p, "no host%s%s has %.0f MiB free", sp, sc, f->mem);
	else if (!other && mem && cpu)
		p += snprintf(p, end - p, "no host%s%s has %u x %.0f MIPS and %.0f MiB free", sp, sc,
			      f->vcpus, f->mips_per_vcpu, f->mem);
	else
		p += snprintf(p, end - p, "no host%s%s can take %u x %.0f MIPS and %.0f MiB", sp, sc,
			      f->vcpus, f->mips_per_vcpu, f->mem);
	if (f->missing_label && p < end)
		p += snprintf(p, end - p, "; label '%s' is on no host", f->missing_label);
	if (d->considered == 0 && p < end) {
		snprintf(p, end - p, " (no host to consider)");
		return;
	}
	bool first = true;
	for (int r = 0; r < GR_SCHED_REJ__COUNT && p < end; r++) {
		if (!d->rejected[r])
			continue;
		p += snprintf(p, end - p, "%s%u%s %s", first ? " (" : ", ", d->rejected[r],
			      first ? (d->rejected[r] == 1 ? " host" : " hosts") : "", reject_text[r]);
		first = false;
	}
	if (!first && p < end)
		snprintf(p, end - p, ")");
}

void gr__decision_placed(struct gr_sched_decision *d, const struct gr_sched_snapshot *s, int h,
			 double score, const char *fmt, ...)
{
	d->host = h;
	d->score = score;
	int n = snprintf(d->reason, sizeof(d->reason), "%s: ", s->hosts[h].name);
	if (n < 0 || (size_t)n >= sizeof(d->reason))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason + n, sizeof(d->reason) - n, fmt, ap);
	va_end(ap);
}

size_t gr__neighbours(const struct gr_sched_snapshot *s, int h, int *out, size_t max)
{
	const struct gr_sched_host *hs = &s->hosts[h];
	size_t n = 0;
	if (hs->neighbours) {
		for (size_t i = 0; i < hs->n_neighbours && n < max; i++) {
			int nb = hs->neighbours[i];
			if (nb != h && (size_t)nb < s->n_hosts)
				out[n++] = nb;
		}
		return n;
	}
	size_t nh = s->n_hosts;
	for (uint32_t k = 1; k <= s->params.neighbour_radius && n < max; k++) {
		int cand[2] = { (int)((h + k) % nh), (int)((h + nh - k % nh) % nh) };
		for (int c = 0; c < 2 && n < max; c++) {
			bool dup = cand[c] == h;
			for (size_t j = 0; j < n && !dup; j++)
				dup = out[j] == cand[c];
			if (!dup)
				out[n++] = cand[c];
		}
	}
	return n;
}
