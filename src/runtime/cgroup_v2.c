/*
 * cgroup_v2.c - the cgroup v2 back-end (the unified tree).
 *
 * Invariant: the controllers this tree carries for us (h->ctrls, decided by
 * cgroup.c) AND that the resources use (cg->want) are enabled in
 * cgroup.subtree_control of every level above the leaf; the leaf itself never
 * enables any (it holds processes).  Device rules become an eBPF program
 * attached to the leaf (devices_bpf.c) when no v1 hierarchy carries the
 * devices controller.
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool has(const struct gr_cg_hier *h, enum gr_cg_ctrl c)
{
	return h->ctrls & (1u << c);
}

static const char *v2_name(enum gr_cg_ctrl c)
{
	return c == GR_CG_BLKIO ? "io" : gr__cg_ctrl_name(c);
}

static int enable_ctrls(const char *dir, unsigned ctrls, gr_error_t *err)
{
	for (int c = 0; c < GR_CG_NCTRL; c++) {
		if (!(ctrls & (1u << c)) || c == GR_CG_CPUACCT || c == GR_CG_DEVICES || c == GR_CG_FREEZER)
			continue;
		char b[32];
		snprintf(b, sizeof b, "+%s", v2_name((enum gr_cg_ctrl)c));
		if (gr__cg_write(dir, "cgroup.subtree_control", b, err) < 0)
			return -1;
	}
	return 0;
}

/* before each level's mkdir: its parent enables the controllers it will use */
static int v2_level(struct gr_cgroup *cg, const struct gr_cg_hier *h, const char *dir, bool made,
		    gr_error_t *err)
{
	if (made)
		return 0;
	char parent[1024];
	size_t base = strlen(h->mount);
	snprintf(parent, sizeof parent, "%s", dir);
	*strrchr(parent, '/') = '\0';
	if (!parent[0] || strlen(parent) < base)
		snprintf(parent, sizeof parent, "%s", h->mount);
	return enable_ctrls(parent, h->ctrls & cg->want, err);
}

static int v2_create(struct gr_cgroup *cg, const struct gr_cg_hier *h, gr_error_t *err)
{
	return gr__cg_make_levels(cg, h, v2_level, err);
}

static int v2_apply(struct gr_cgroup *cg, const struct gr_cg_hier *h_in, const struct gr_oci_resources *r,
		    gr_error_t *err)
{
	/* only the controllers enabled at create (a live update may not add one) */
	struct gr_cg_hier hc = *h_in;
	if (cg->want)
		hc.ctrls &= cg->want;
	const struct gr_cg_hier *h = &hc;
	char dir[1024];
	snprintf(dir, sizeof dir, "%s%s", h->mount, cg->path);
	if (has(h, GR_CG_MEMORY)) {
		if (r->has_mem_limit &&
		    (r->mem_limit < 0 ? gr__cg_write(dir, "memory.max", "max", err)
				      : gr__cg_write_i64(dir, "memory.max", r->mem_limit, err)) < 0)
			return -1;
		if (r->has_mem_reservation && gr__cg_write_i64(dir, "memory.low", r->mem_reservation, err) < 0)
			return -1;
		if (r->has_mem_swap) {
			/* OCI's swap is memory+swap; v2's memory.swap.max is swap alone */
			long long sw = r->mem_swap < 0 ? -1 : r->mem_swap - (r->has_mem_limit ? r->mem_limit : 0);
			if ((sw < 0 ? gr__cg_write(dir, "memory.swap.max", "max", err)
				    : gr__cg_write_i64(dir, "memory.swap.max", sw, err)) < 0)
				return -1;
		}
		if (r->disable_oom_killer && gr__cg_write(dir, "memory.oom.group", "0", err) < 0)
			return -1;
		/* no kernel memory limits on cgroup v2: kernel memory counts against memory.max */
		if (r->has_mem_kernel && r->mem_kernel >= 0 &&
		    gr__unsupported(r->ignore_unsupported, GR_OPT_MEM_KERNEL, err,
				    "cgroup v2 has no kernel memory limit (kernel memory counts against memory.max)") < 0)
			return -1;
		if (r->has_mem_kernel_tcp && r->mem_kernel_tcp >= 0 &&
		    gr__unsupported(r->ignore_unsupported, GR_OPT_MEM_KERNEL_TCP, err,
				    "cgroup v2 has no TCP buffer limit (socket memory counts against memory.max)") < 0)
			return -1;
	}
	if (has(h, GR_CG_CPU)) {
		if (r->has_cpu_shares) {
			unsigned long long w = 1 + ((r->cpu_shares - 2) * 9999) / 262142;
			if (gr__cg_write_i64(dir, "cpu.weight", (long long)w, err) < 0)
				return -1;
		}
		if (r->has_cpu_quota || r->has_cpu_period) {
			char b[64];
			unsigned long long period = r->has_cpu_period ? r->cpu_period : 100000;
			if (r->has_cpu_quota && r->cpu_quota > 0)
				snprintf(b, sizeof b, "%lld %llu", (long long)r->cpu_quota, period);
			else
				snprintf(b, sizeof b, "max %llu", period);
			if (gr__cg_write(dir, "cpu.max", b, err) < 0)
				return -1;
		}
	}
	if (has(h, GR_CG_CPUSET)) {
		if (r->cpu_cpus && r->cpu_cpus[0] && gr__cg_write(dir, "cpuset.cpus", r->cpu_cpus, err) < 0)
			return -1;
		if (r->cpu_mems && r->cpu_mems[0] && gr__cg_write(dir, "cpuset.mems", r->cpu_mems, err) < 0)
			return -1;
	}
	if (has(h, GR_CG_PIDS) && r->has_pids_limit &&
	    (r->pids_limit <= 0 ? gr__cg_write(dir, "pids.max", "max", err)
				: gr__cg_write_i64(dir, "pids.max", r->pids_limit, err)) < 0)
		return -1;
	if (has(h, GR_CG_BLKIO) && r->has_blkio_weight) {
		char b[32];
		snprintf(b, sizeof b, "default %u", 1 + ((unsigned)r->blkio_weight - 10) * 9999 / 990);
		if (gr__cg_write(dir, "io.weight", b, err) < 0)
			return -1;
	}
	if (has(h, GR_CG_HUGETLB)) {
		for (size_t i = 0; i < r->n_hugepage_limits; i++) {
			char f[128];
			snprintf(f, sizeof f, "hugetlb.%s.max", r->hugepage_limits[i].page_size);
			if (gr__cg_write_i64(dir, f, (long long)r->hugepage_limits[i].limit, err) < 0)
				return gr_error_prefix(err, "hugepageLimits[%zu]", i);
		}
	}
	if (r->n_devices) {
		bool v1_devices = false;
		for (size_t i = 0; i < cg->n_hier; i++)
			v1_devices |= !cg->hier[i].v2 && (cg->hier[i].ctrls & (1u << GR_CG_DEVICES));
		if (!v1_devices && gr__devices_bpf_attach(dir, r->devices, r->n_devices, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->n_unified; i++) {
		if (strchr(r->unified[i].key, '/') || r->unified[i].key[0] == '.')
			return gr_error_set(err, EINVAL, "unified: bad key '%s'", r->unified[i].key);
		if (gr__cg_write(dir, r->unified[i].key, r->unified[i].value, err) < 0)
			return gr_error_prefix(err, "unified[%s]", r->unified[i].key);
	}
	return 0;
}

static long long v2_oom_kills(struct gr_cgroup *cg, const struct gr_cg_hier *h)
{
	return gr__cg_oom_kill_count(cg, h, "memory.events");
}

static void v2_stats(struct gr_cgroup *cg, const struct gr_cg_hier *h, struct gr_rt_stats *out)
{
	long long v;
	/* cpu.stat is in every cgroup2 folder; a v1 cpuacct hierarchy, when there is one, wins */
	if (!out->cpu_ns && (v = gr__cg_read_num(cg, h, "cpu.stat", "usage_usec")) > 0)
		out->cpu_ns = (unsigned long long)v * 1000;
	if (has(h, GR_CG_MEMORY)) {
		if ((v = gr__cg_read_num(cg, h, "memory.current", "")) > 0)
			out->memory_bytes = (unsigned long long)v;
		if ((v = gr__cg_read_num(cg, h, "memory.max", "")) > 0)
			out->memory_limit = (unsigned long long)v;
	}
	if (has(h, GR_CG_PIDS) && (v = gr__cg_read_num(cg, h, "pids.current", "")) > 0)
		out->pids = (unsigned long long)v;
}

const struct gr_cgroup_ops gr__cgroup_v2_ops = {
	.name = "v2",
	.create = v2_create,
	.apply = v2_apply,
	.enter = gr__cg_enter_pid,
	.destroy = gr__cg_rmdir,
	.oom_kills = v2_oom_kills,
	.stats = v2_stats,
};
