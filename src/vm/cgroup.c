/*
 * cgroup.c - the cgroup a QEMU process runs in: <parent>/<name> with a CPU quota and a
 * memory limit.  cgroup v2 when /sys/fs/cgroup is a unified mount (cpu.max, memory.max,
 * cpu.stat usage_usec); otherwise v1 (hybrid hosts like this one): cpu (cfs quota),
 * cpuacct (usage) and memory (limit_in_bytes), each its own hierarchy or co-mounted.
 * The group's CPU weight is that of `threads` ordinary tasks (vCPUs + QEMU's main loop):
 * under contention a VM is not squeezed into the share of a single task, which is what a
 * group of default weight would get against the tasks of its parent.
 * QEMU joins by its forked child writing "0" to every cgroup.procs before exec, so all
 * its threads are born inside.  Removal only succeeds once the group is empty.
 */
#include "vm/vm.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#define CG_ROOT "/sys/fs/cgroup"
#define CFS_PERIOD 100000

static int is_v2(void)
{
	struct statfs s;
	return statfs(CG_ROOT, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

/* v1 controller folders in use, deduplicated ("cpu,cpuacct" co-mounts). */
static const char *const v1_ctrls[] = {"cpu", "cpuacct", "memory"};

static char *v1_dir(const char *ctrl, const char *parent, const char *name)
{
	char *base = xasprintf(CG_ROOT "/%s", ctrl);
	char real[4096];
	if (!realpath(base, real)) {
		free(base);
		return NULL;
	}
	free(base);
	return name ? xasprintf("%s/%s/%s", real, parent, name) : xasprintf("%s/%s", real, parent);
}

static int write_knob(const char *dir, const char *knob, const char *val, gr_error_t *err)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, knob);
	return gr_write_str(p, val, err);
}

int gr_vm_cgroup_create(const char *parent, const char *name, double cpus, unsigned threads, uint64_t mem_bytes,
			gr_error_t *err)
{
	char buf[64];
	if (threads < 1)
		threads = 1;
	if (is_v2()) {
		_cleanup_free_ char *pdir = xasprintf(CG_ROOT "/%s", parent);
		_cleanup_free_ char *dir = xasprintf("%s/%s", pdir, name);
		if (gr_mkdir_p(pdir, 0755, err) < 0)
			return -1;
		/* enable cpu+memory for children of the root and the parent (best effort) */
		gr_write_str(CG_ROOT "/cgroup.subtree_control", "+cpu +memory", NULL);
		write_knob(pdir, "cgroup.subtree_control", "+cpu +memory", NULL);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return gr_error_sys(err, "cannot create cgroup %s", dir);
		if (cpus > 0)
			snprintf(buf, sizeof buf, "%lld %d", (long long)(cpus * CFS_PERIOD), CFS_PERIOD);
		else
			snprintf(buf, sizeof buf, "max %d", CFS_PERIOD);
		if (write_knob(dir, "cpu.max", buf, err) < 0)
			goto fail2;
		snprintf(buf, sizeof buf, "%u", threads * 100 > 10000 ? 10000 : threads * 100);
		if (write_knob(dir, "cpu.weight", buf, err) < 0)
			goto fail2;
		if (mem_bytes)
			snprintf(buf, sizeof buf, "%llu", (unsigned long long)mem_bytes);
		else
			snprintf(buf, sizeof buf, "max");
		if (write_knob(dir, "memory.max", buf, err) < 0)
			goto fail2;
		return 0;
fail2:
		rmdir(dir);
		return gr_error_prefix(err, "cgroup %s/%s", parent, name);
	}
	for (size_t i = 0; i < sizeof v1_ctrls / sizeof v1_ctrls[0]; i++) {
		_cleanup_free_ char *dir = v1_dir(v1_ctrls[i], parent, name);
		if (!dir)
			continue; /* controller not mounted */
		if (gr_mkdir_p(dir, 0755, err) < 0)
			goto fail1;
		if (!strcmp(v1_ctrls[i], "cpu")) {
			snprintf(buf, sizeof buf, "%d", CFS_PERIOD);
			if (write_knob(dir, "cpu.cfs_period_us", buf, err) < 0)
				goto fail1;
			snprintf(buf, sizeof buf, "%lld", cpus > 0 ? (long long)(cpus * CFS_PERIOD) : -1LL);
			if (write_knob(dir, "cpu.cfs_quota_us", buf, err) < 0)
				goto fail1;
			snprintf(buf, sizeof buf, "%u", threads * 1024);
			if (write_knob(dir, "cpu.shares", buf, err) < 0)
				goto fail1;
		} else if (!strcmp(v1_ctrls[i], "memory")) {
			snprintf(buf, sizeof buf, "%lld", mem_bytes ? (long long)mem_bytes : -1LL);
			if (write_knob(dir, "memory.limit_in_bytes", buf, err) < 0)
				goto fail1;
		}
	}
	return 0;
fail1:
	gr_vm_cgroup_remove(parent, name, NULL);
	return gr_error_prefix(err, "cgroup %s/%s", parent, name);
}

int gr_vm_cgroup_set_memory(const char *parent, const char *name, uint64_t bytes, gr_error_t *err)
{
	char buf[64];
	if (is_v2()) {
		_cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s/%s", parent, name);
		if (bytes)
			snprintf(buf, sizeof buf, "%llu", (unsigned long long)bytes);
		else
			snprintf(buf, sizeof buf, "max");
		return write_knob(dir, "memory.max", buf, err);
	}
	_cleanup_free_ char *dir = v1_dir("memory", parent, name);
	if (!dir)
		return gr_error_set(err, ENOENT, "cgroup v1 memory controller is not mounted");
	snprintf(buf, sizeof buf, "%lld", bytes ? (long long)bytes : -1LL);
	return write_knob(dir, "memory.limit_in_bytes", buf, err);
}

int gr_vm_cgroup_set_cpu(const char *parent, const char *name, double cpus, gr_error_t *err)
{
	char buf[64];
	if (is_v2()) {
		_cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s/%s", parent, name);
		if (cpus > 0)
			snprintf(buf, sizeof buf, "%lld %d", (long long)(cpus * CFS_PERIOD), CFS_PERIOD);
		else
			snprintf(buf, sizeof buf, "max %d", CFS_PERIOD);
		return write_knob(dir, "cpu.max", buf, err);
	}
	_cleanup_free_ char *dir = v1_dir("cpu", parent, name);
	if (!dir)
		return gr_error_set(err, ENOENT, "cgroup v1 cpu controller is not mounted");
	snprintf(buf, sizeof buf, "%lld", cpus > 0 ? (long long)(cpus * CFS_PERIOD) : -1LL);
	return write_knob(dir, "cpu.cfs_quota_us", buf, err);
}

char **gr_vm_cgroup_procs_files(const char *parent, const char *name)
{
	char **v = xcalloc(4, sizeof(char *));
	size_t n = 0;
	if (is_v2()) {
		v[n++] = xasprintf(CG_ROOT "/%s/%s/cgroup.procs", parent, name);
		return v;
	}
	for (size_t i = 0; i < sizeof v1_ctrls / sizeof v1_ctrls[0]; i++) {
		char *dir = v1_dir(v1_ctrls[i], parent, name);
		if (!dir)
			continue;
		char *f = xasprintf("%s/cgroup.procs", dir);
		free(dir);
		int dup = 0;
		for (size_t j = 0; j < n; j++)
			dup |= !strcmp(v[j], f);
		if (dup)
			free(f);
		else
			v[n++] = f;
	}
	return v;
}

pid_t *gr_vm_cgroup_pids(const char *parent, const char *name)
{
	_cleanup_strv_ char **files = gr_vm_cgroup_procs_files(parent, name);
	pid_t *pids = NULL;
	size_t n = 0;
	for (size_t i = 0; files && files[i]; i++) {
		_cleanup_free_ char *text = NULL;
		if (gr_read_file(files[i], 1 << 20, &text, NULL, NULL) < 0)
			continue;
		for (char *p = text, *end; *p; p = end) {
			long v = strtol(p, &end, 10);
			if (end == p) {
				end = p + 1;
				continue;
			}
			int dup = v <= 0;
			for (size_t j = 0; j < n && !dup; j++)
				dup = pids[j] == (pid_t)v;
			if (dup)
				continue;
			pids = xrealloc(pids, (n + 2) * sizeof *pids);
			pids[n++] = (pid_t)v;
			pids[n] = 0;
		}
	}
	return pids;
}

static int read_u64(const char *path, const char *key, uint64_t *out, gr_error_t *err)
{
	_cleanup_free_ char *text = NULL;
	if (gr_read_file(path, 1 << 20, &text, NULL, err) < 0)
		return -1;
	const char *p = text;
	if (key) {
		size_t kl = strlen(key);
		for (p = text; p; p = strchr(p, '\n')) {
			if (*p == '\n')
				p++;
			if (!strncmp(p, key, kl) && p[kl] == ' ')
				break;
		}
		if (!p)
			return gr_error_set(err, ENOENT, "%s: no %s", path, key);
		p += kl + 1;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p)
		return gr_error_set(err, EIO, "%s: not a number", path);
	*out = v;
	return 0;
}

int gr_vm_cgroup_cpu_ns(const char *parent, const char *name, uint64_t *ns, gr_error_t *err)
{
	if (is_v2()) {
		_cleanup_free_ char *p = xasprintf(CG_ROOT "/%s/%s/cpu.stat", parent, name);
		uint64_t us;
		if (read_u64(p, "usage_usec", &us, err) < 0)
			return -1;
		*ns = us * 1000;
		return 0;
	}
	_cleanup_free_ char *dir = v1_dir("cpuacct", parent, name);
	if (!dir)
		return gr_error_set(err, ENOENT, "cgroup v1 cpuacct controller is not mounted");
	_cleanup_free_ char *p = xasprintf("%s/cpuacct.usage", dir);
	return read_u64(p, NULL, ns, err);
}

int gr_vm_cgroup_memory(const char *parent, const char *name, uint64_t *bytes, gr_error_t *err)
{
	if (is_v2()) {
		_cleanup_free_ char *p = xasprintf(CG_ROOT "/%s/%s/memory.current", parent, name);
		return read_u64(p, NULL, bytes, err);
	}
	_cleanup_free_ char *dir = v1_dir("memory", parent, name);
	if (!dir)
		return gr_error_set(err, ENOENT, "cgroup v1 memory controller is not mounted");
	_cleanup_free_ char *p = xasprintf("%s/memory.usage_in_bytes", dir);
	return read_u64(p, NULL, bytes, err);
}

int gr_vm_cgroup_remove(const char *parent, const char *name, gr_error_t *err)
{
	int rc = 0;
	if (is_v2()) {
		_cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s/%s", parent, name);
		if (rmdir(dir) < 0 && errno != ENOENT)
			rc = gr_error_sys(err, "cannot remove cgroup %s", dir);
		return rc;
	}
	for (size_t i = 0; i < sizeof v1_ctrls / sizeof v1_ctrls[0]; i++) {
		_cleanup_free_ char *dir = v1_dir(v1_ctrls[i], parent, name);
		if (dir && rmdir(dir) < 0 && errno != ENOENT)
			rc = gr_error_sys(err, "cannot remove cgroup %s", dir);
	}
	return rc;
}
