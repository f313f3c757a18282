/*
 * cgroup_v1.c - the cgroup v1 back-end: one directory per hierarchy.
 *
 * Invariant: create() makes every missing level of the path; cpuset levels get
 * cpuset.cpus/mems copied from their parent (v1 refuses tasks in an empty
 * cpuset).  apply() writes only the files of the controllers this hierarchy
 * carries; a limit the config leaves out keeps the kernel's default.
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool has(const struct gr_cg_hier *h, enum gr_cg_ctrl c)
{
	return h->ctrls & (1u << c);
}

static int copy_parent(const char *dir, const char *file, gr_error_t *err)
{
	char path[1100], parent[1024], buf[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "cgroup file %s", path);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 1)
		return 0; /* already set */
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof path, "%s/%s", parent, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "cgroup file %s", path);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return gr_error_sys(err, "cannot read %s", path);
	buf[n] = '\0';
	return gr__cg_write(dir, file, buf, err);
}

/* after each level's mkdir: a new cpuset cgroup starts with no CPUs or memory nodes */
static int v1_level(struct gr_cgroup *cg, const struct gr_cg_hier *h, const char *dir, bool made,
		    gr_error_t *err)
{
	if (!made || !has(h, GR_CG_CPUSET))
		return 0;
	return copy_parent(dir, "cpuset.cpus", err) < 0 || copy_parent(dir, "cpuset.mems", err) < 0 ? -1 : 0;
}

static int v1_create(struct gr_cgroup *cg, const struct gr_cg_hier *h, gr_error_t *err)
{
	return gr__cg_make_levels(cg, h, v1_level, err);
}

static int device_rule(const char *dir, const struct gr_oci_device_rule *d, gr_error_t *err)
{
	char rule[96], maj[24], min[24];
	if (d->major < 0)
		snprintf(maj, sizeof maj, "*");
	else
		snprintf(maj, sizeof maj, "%lld", (long long)d->major);
	if (d->minor < 0)
		snprintf(min, sizeof min, "*");
	else
		snprintf(min, sizeof min, "%lld", (long long)d->minor);
	if (d->type == 'a')
		snprintf(rule, sizeof rule, "a");
	else
		snprintf(rule, sizeof rule, "%c %s:%s %s", d->type, maj, min,
			 d->access[0] ? d->access : "rwm");
	return gr__cg_write(dir, d->allow ? "devices.allow" : "devices.deny", rule, err);
}

/* The devices every container needs (as runc and crun allow them). */
static const char *const default_allow[] = {
	"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm",
	"c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c *:* m", "b *:* m", NULL,
};

static int throttle(const char *dir, const char *file, const struct gr_oci_throttle *t, size_t n,
		    gr_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		char b[96];
		snprintf(b, sizeof b, "%lld:%lld %llu", (long long)t[i].major, (long long)t[i].minor,
			 (unsigned long long)t[i].rate);
		if (gr__cg_write(dir, file, b, err) < 0)
			return -1;
	}
	return 0;
}

static long long read_i64(const char *dir, const char *file)
{
	char path[1100], buf[64];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/* memory.kmem[.tcp].limit_in_bytes: written, then read back, because kernels that
 * dropped kernel memory limits keep the file and accept writes without effect. */
static int kmem_limit(const char *dir, const char *file, unsigned bit, int64_t v,
		      const struct gr_oci_resources *r, gr_error_t *err)
{
	char path[1100];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (access(path, F_OK) < 0)
		return v < 0 ? 0 /* unlimited: nothing to enforce */
			     : gr__unsupported(r->ignore_unsupported, bit, err,
					       "this kernel has no %s (no kernel memory accounting)", file);
	if (gr__cg_write_i64(dir, file, v, err) < 0) {
		if (err && (err->code == EOPNOTSUPP || err->code == 524 /* ENOTSUPP */))
			return gr__unsupported(r->ignore_unsupported, bit, err,
					       "this kernel refuses writes to %s", file);
		return gr_error_prefix(err, "%s", gr_oci_optional_name(bit));
	}
	if (v < 0)
		return 0;
	/* the kernel rounds down to whole pages and caps at its maximum */
	long long page = sysconf(_SC_PAGESIZE), got = read_i64(dir, file);
	if (got == v / page * page || (got > (1LL << 62) && got <= v))
		return 0;
	return gr__unsupported(r->ignore_unsupported, bit, err,
			       "this kernel accepts %s but does not enforce it (it reads back %lld, not %lld): "
			       "kernel memory is charged to memory.limit_in_bytes",
			       file, got, (long long)v);
}

static int v1_memory(const char *dir, const struct gr_oci_resources *r, gr_error_t *err)
{
	if (r->has_mem_limit && gr__cg_write_i64(dir, "memory.limit_in_bytes", r->mem_limit, err) < 0) {
		/* lowering below memsw: set memsw first */
		if (!r->has_mem_swap || gr__cg_write_i64(dir, "memory.memsw.limit_in_bytes", r->mem_swap, err) < 0 ||
		    gr__cg_write_i64(dir, "memory.limit_in_bytes", r->mem_limit, err) < 0)
			return -1;
	}
	if (r->has_mem_swap) {
		char p[1100];
		snprintf(p, sizeof p, "%s/memory.memsw.limit_in_bytes", dir);
		if (access(p, F_OK) == 0 && gr__cg_write_i64(dir, "memory.memsw.limit_in_bytes", r->mem_swap, err) < 0)
			return -1;
	}
	if (r->has_mem_reservation &&
	    gr__cg_write_i64(dir, "memory.soft_limit_in_bytes", r->mem_reservation, err) < 0)
		return -1;
	if (r->has_mem_swappiness &&
	    gr__cg_write_i64(dir, "memory.swappiness", (long long)r->mem_swappiness, err) < 0)
		return -1;
	if (r->disable_oom_killer && gr__cg_write(dir, "memory.oom_control", "1", err) < 0)
		return -1;
	if (r->has_mem_kernel &&
	    kmem_limit(dir, "memory.kmem.limit_in_bytes", GR_OPT_MEM_KERNEL, r->mem_kernel, r, err) < 0)
		return -1;
	if (r->has_mem_kernel_tcp &&
	    kmem_limit(dir, "memory.kmem.tcp.limit_in_bytes", GR_OPT_MEM_KERNEL_TCP, r->mem_kernel_tcp, r,
		       err) < 0)
		return -1;
	return 0;
}

static int v1_apply(struct gr_cgroup *cg, const struct gr_cg_hier *h, const struct gr_oci_resources *r,
		    gr_error_t *err)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s%s", h->mount, cg->path);
	if (has(h, GR_CG_MEMORY) && v1_memory(dir, r, err) < 0)
		return -1;
	if (has(h, GR_CG_CPU)) {
		if (r->has_cpu_shares && gr__cg_write_i64(dir, "cpu.shares", (long long)r->cpu_shares, err) < 0)
			return -1;
		if (r->has_cpu_period && gr__cg_write_i64(dir, "cpu.cfs_period_us", (long long)r->cpu_period, err) < 0)
			return -1;
		if (r->has_cpu_quota && gr__cg_write_i64(dir, "cpu.cfs_quota_us", r->cpu_quota, err) < 0)
			return -1;
	}
	if (has(h, GR_CG_CPUSET)) {
		if (r->cpu_cpus && r->cpu_cpus[0] && gr__cg_write(dir, "cpuset.cpus", r->cpu_cpus, err) < 0)
			return -1;
		if (r->cpu_mems && r->cpu_mems[0] && gr__cg_write(dir, "cpuset.mems", r->cpu_mems, err) < 0)
			return -1;
	}
	if (has(h, GR_CG_PIDS) && r->has_pids_limit) {
		if (r->pids_limit <= 0 ? gr__cg_write(dir, "pids.max", "max", err) < 0
				       : gr__cg_write_i64(dir, "pids.max", r->pids_limit, err) < 0)
			return -1;
	}
	if (has(h, GR_CG_BLKIO)) {
		if (r->has_blkio_weight && gr__cg_write_i64(dir, "blkio.weight", r->blkio_weight, NULL) < 0 &&
		    gr__cg_write_i64(dir, "blkio.bfq.weight", r->blkio_weight, err) < 0)
			return gr_error_prefix(err, "blockIO.weight (no blkio.weight or blkio.bfq.weight)");
		if (throttle(dir, "blkio.throttle.read_bps_device", r->throttle_read_bps,
			     r->n_throttle_read_bps, err) < 0 ||
		    throttle(dir, "blkio.throttle.write_bps_device", r->throttle_write_bps,
			     r->n_throttle_write_bps, err) < 0 ||
		    throttle(dir, "blkio.throttle.read_iops_device", r->throttle_read_iops,
			     r->n_throttle_read_iops, err) < 0 ||
		    throttle(dir, "blkio.throttle.write_iops_device", r->throttle_write_iops,
			     r->n_throttle_write_iops, err) < 0)
			return -1;
	}
	if (has(h, GR_CG_HUGETLB)) {
		for (size_t i = 0; i < r->n_hugepage_limits; i++) {
			char f[128];
			snprintf(f, sizeof f, "hugetlb.%s.limit_in_bytes", r->hugepage_limits[i].page_size);
			if (gr__cg_write_i64(dir, f, (long long)r->hugepage_limits[i].limit, err) < 0)
				return gr_error_prefix(err, "hugepageLimits[%zu]", i);
		}
	}
	if (has(h, GR_CG_NET_CLS) && r->has_net_class_id &&
	    gr__cg_write_i64(dir, "net_cls.classid", (long long)r->net_class_id, err) < 0)
		return gr_error_prefix(err, "network.classID");
	for (size_t i = 0; has(h, GR_CG_NET_PRIO) && i < r->n_net_priorities; i++) {
		char b[64];
		snprintf(b, sizeof b, "%s %u", r->net_priorities[i].name, (unsigned)r->net_priorities[i].priority);
		if (gr__cg_write(dir, "net_prio.ifpriomap", b, err) < 0)
			return gr_error_prefix(err, "network.priorities[%zu]", i);
	}
	if (has(h, GR_CG_DEVICES) && r->n_devices) {
		for (size_t i = 0; i < r->n_devices; i++)
			if (device_rule(dir, &r->devices[i], err) < 0)
				return gr_error_prefix(err, "devices[%zu]", i);
		for (size_t i = 0; default_allow[i]; i++)
			if (gr__cg_write(dir, "devices.allow", default_allow[i], err) < 0)
				return -1;
	}
	return 0;
}

static long long v1_oom_kills(struct gr_cgroup *cg, const struct gr_cg_hier *h)
{
	return gr__cg_oom_kill_count(cg, h, "memory.oom_control");
}

static void v1_stats(struct gr_cgroup *cg, const struct gr_cg_hier *h, struct gr_rt_stats *out)
{
	long long v;
	if (has(h, GR_CG_CPUACCT) && (v = gr__cg_read_num(cg, h, "cpuacct.usage", "")) > 0)
		out->cpu_ns = (unsigned long long)v;
	if (has(h, GR_CG_MEMORY)) {
		if ((v = gr__cg_read_num(cg, h, "memory.usage_in_bytes", "")) > 0)
			out->memory_bytes = (unsigned long long)v;
		/* the kernel shows "no limit" as its page counter maximum */
		if ((v = gr__cg_read_num(cg, h, "memory.limit_in_bytes", "")) > 0 && v < (1LL << 62))
			out->memory_limit = (unsigned long long)v;
	}
	if (has(h, GR_CG_PIDS) && (v = gr__cg_read_num(cg, h, "pids.current", "")) > 0)
		out->pids = (unsigned long long)v;
}

const struct gr_cgroup_ops gr__cgroup_v1_ops = {
	.name = "v1",
	.create = v1_create,
	.apply = v1_apply,
	.enter = gr__cg_enter_pid,
	.destroy = gr__cg_rmdir,
	.oom_kills = v1_oom_kills,
	.stats = v1_stats,
};
