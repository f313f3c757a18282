/*
 * snapshot.c - the cluster snapshot and its hosts: creation and release,
 * adding hosts, changing a host's configuration or state in place, and the
 * per-host figures derived from the aggregates (room, power-curve slope).
 * Instances, groups and the aggregates themselves are instance.c's; labels
 * labels.c's; block summaries hostindex.c's.  Invariant: after any change to
 * a host, gr__host_refresh() has run on it (derived figures current, its
 * block marked for recomputation).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "util/alloc.h"

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

void gr_sched_snapshot_free(struct gr_sched_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_hosts; i++) {
		struct gr_sched_host *h = &s->hosts[i];
		free((char *)h->name);
		free((void *)h->labels);
		free((void *)h->label_ids);
		free((void *)h->neighbours);
		free(h->members);
	}
	free(s->hosts);
	for (size_t i = 0; i < s->n_instances; i++)
		gr__instance_release(&s->instances[i]);
	free(s->instances);
	for (size_t i = 0; i < s->n_groups; i++) {
		free(s->groups[i].name);
		free(s->groups[i].members);
	}
	free(s->groups);
	free(s->free_groups);
	gr__labels_free(s);
	gr__map_free(&s->names->hosts);
	gr__map_free(&s->names->instances);
	gr__map_free(&s->names->groups);
	free(s->names);
	free(s->free_slots);
	gr__scratch_free(s->scratch);
	free(s);
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

/* Check the configuration fields of a host (n names it in messages). */
static int host_check(const struct gr_sched_host *in, const char *n, gr_error_t *err)
{
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
	for (size_t i = 0; i < in->n_labels; i++)
		if (!in->labels || !in->labels[i] || !*in->labels[i])
			return gr_error_set(err, EINVAL, "host %s: labels[%zu]: empty", n, i);
	return 0;
}

/* Copy the configuration of in into host h (checked already) and refresh it. */
static void host_configure(struct gr_sched_snapshot *s, int h, const struct gr_sched_host *in)
{
	struct gr_sched_host *hs = &s->hosts[h];
	hs->state = in->state;
	hs->cores = in->cores;
	hs->mips_per_core = in->mips_per_core;
	hs->mem_mib = in->mem_mib;
	hs->power = in->power ? curve_intern(s, in->power) : NULL;
	/* in may be a copy of the host's own record: lists that did not change
	 * are kept as they are, so its pointers stay valid for the next update */
	if (in->n_neighbours != hs->n_neighbours ||
	    (in->n_neighbours && memcmp(in->neighbours, hs->neighbours, in->n_neighbours * sizeof(int)))) {
		int *nb = NULL;
		if (in->n_neighbours) {
			nb = xmalloc(in->n_neighbours * sizeof(int));
			memcpy(nb, in->neighbours, in->n_neighbours * sizeof(int));
		}
		free((void *)hs->neighbours);
		hs->neighbours = nb;
		hs->n_neighbours = in->n_neighbours;
	}
	hs->cpu_overcommit = in->cpu_overcommit ? in->cpu_overcommit : s->params.cpu_overcommit;
	hs->mem_overcommit = in->mem_overcommit ? in->mem_overcommit : s->params.mem_overcommit;
	hs->cpu_phys = (double)in->cores * in->mips_per_core;
	hs->inv_phys = 1 / hs->cpu_phys;
	hs->cpu_cap = hs->cpu_phys * hs->cpu_overcommit;
	hs->mem_cap = (double)in->mem_mib * hs->mem_overcommit;
	hs->inv_cpu_cap = 1 / hs->cpu_cap;
	hs->inv_mem_cap = 1 / hs->mem_cap;
	bool same = in->n_labels == hs->n_labels;
	for (size_t i = 0; same && i < in->n_labels; i++)
		same = !strcmp(in->labels[i], hs->labels[i]);
	if (!same) {
		/* a private copy of the pointers: in may point at the host's own
		 * list, which gr__host_set_labels() frees */
		const char **labels = in->n_labels ? xmalloc(in->n_labels * sizeof(char *)) : NULL;
		if (in->n_labels)
			memcpy(labels, in->labels, in->n_labels * sizeof(char *));
		gr__host_set_labels(s, h, labels, in->n_labels);
		free(labels);
	}
	gr__host_refresh(s, h);
}

int gr_sched_add_host(struct gr_sched_snapshot *s, const struct gr_sched_host *in, gr_error_t *err)
{
	if (!in->name || !*in->name)
		return gr_error_set(err, EINVAL, "host.name: required");
	const char *n = in->name;
	if (gr__map_get(&s->names->hosts, n) >= 0)
		return gr_error_set(err, EEXIST, "host %s: already in the snapshot", n);
	if (host_check(in, n, err) < 0)
		return -1;
	if (s->n_hosts >= INT32_MAX / 2)
		return gr_error_set(err, E2BIG, "host %s: too many hosts", n);
	if (s->n_hosts == s->hosts_cap) {
		s->hosts_cap = s->hosts_cap ? s->hosts_cap * 2 : 16;
		s->hosts = xrealloc(s->hosts, s->hosts_cap * sizeof(*s->hosts));
	}
	gr__scratch_grow(s);
	int h = (int)s->n_hosts++;
	struct gr_sched_host *hs = &s->hosts[h];
	*hs = (struct gr_sched_host){ .name = xstrdup(n) };
	gr__map_put(&s->names->hosts, hs->name, h);
	host_configure(s, h, in);
	return h;
}

int gr_sched_update_host(struct gr_sched_snapshot *s, int host, const struct gr_sched_host *in,
			 gr_error_t *err)
{
	if (host < 0 || (size_t)host >= s->n_hosts)
		return gr_error_set(err, ENOENT, "host index %d: no such host", host);
	const char *n = s->hosts[host].name;
	if (in->name && strcmp(in->name, n))
		return gr_error_set(err, EINVAL, "host %s: name: cannot become '%s' (add a new host)", n,
				    in->name);
	if (host_check(in, n, err) < 0)
		return -1;
	host_configure(s, host, in);
	return 0;
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
	gr__host_changed(s, host);
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

void gr__host_refresh(const struct gr_sched_snapshot *s, int h)
{
	struct gr_sched_host *hs = &s->hosts[h];
	hs->room = (hs->cpu_cap - hs->cpu_alloc) * hs->inv_cpu_cap +
		   (hs->mem_cap - hs->mem_alloc) * hs->inv_mem_cap;
	gr__host_changed(s, h);
	if (!hs->power) {
		hs->pw_watts_per_mips = hs->pw_next = hs->pw_slope2 = hs->pw_min_rest = 0;
		hs->pw_segment_end = INFINITY;
		return;
	}
	double x = hs->cpu_used * hs->inv_phys * 10;
	if (!(x < 10)) {
		/* at the 100 % figure: no increase */
		hs->pw_watts_per_mips = hs->pw_next = hs->pw_slope2 = hs->pw_min_rest = 0;
		hs->pw_segment_end = INFINITY;
		return;
	}
	int i = x > 0 ? (int)x : 0;
	if (i > 9)
		i = 9;
	const double *w = hs->power->watts;
	hs->pw_watts_per_mips = (w[i + 1] - w[i]) * 10 * hs->inv_phys;
	hs->pw_segment_end = (double)(i + 1) / 10 * hs->cpu_phys;
	double rest = w[i + 1] - w[i], next = i < 9 ? w[i + 2] - w[i + 1] : rest;
	double two = next < rest ? next : rest;
	hs->pw_next = next * 10 * hs->inv_phys;
	for (int j = i + 1; j < 10; j++)
		if (w[j + 1] - w[j] < rest)
			rest = w[j + 1] - w[j];
	hs->pw_slope2 = two * 10 * hs->inv_phys;
	hs->pw_min_rest = rest * 10 * hs->inv_phys;
}
