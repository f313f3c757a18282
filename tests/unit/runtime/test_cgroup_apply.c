/*
 * test_cgroup_apply.c - what the cgroup back-ends refuse instead of dropping in
 * silence, on a pure cgroup v2 layout (a scratch folder stands for the cgroup2
 * tree: the refusals happen before any file is written): kernel memory limits,
 * network classes and priorities (v1 only), unified keys without cgroup2, and
 * the org.gureum.ignore-unsupported opt-out.
 */
#include "runtime/runtime-internal.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/gr-test-rt-cgapply.XXXXXX";

static void v2_layout(struct gr_cgroup *cg)
{
	memset(cg, 0, sizeof *cg);
	snprintf(cg->path, sizeof cg->path, "/c");
	cg->n_hier = 1;
	cg->hier[0].v2 = true;
	cg->hier[0].ctrls = (1u << GR_CG_MEMORY) | (1u << GR_CG_PIDS) | (1u << GR_CG_CPU);
	snprintf(cg->hier[0].mount, sizeof cg->hier[0].mount, "%s", tmp);
	snprintf(cg->hier[0].name, sizeof cg->hier[0].name, "unified");
	cg->ops[0] = &gr__cgroup_v2_ops;
	cg->want = cg->hier[0].ctrls;
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	char dir[300];
	snprintf(dir, sizeof dir, "%s/c", tmp);
	mkdir(dir, 0755);
	struct gr_cgroup cg;
	gr_error_t err = { 0 };

	struct gr_oci_resources r = { .has_mem_kernel = true, .mem_kernel = 50593792 };
	v2_layout(&cg);
	ok(gr__cgroup_apply(&cg, &r, &err) < 0 && strstr(err.msg, "linux.resources.memory.kernel:") &&
	   strstr(err.msg, "cgroup v2"), "v2: memory.kernel refused, naming the field (%s)", err.msg);
	r.ignore_unsupported = GR_OPT_MEM_KERNEL;
	ok(gr__cgroup_apply(&cg, &r, &err) == 0, "v2: memory.kernel skipped when the annotation lists it");
	r = (struct gr_oci_resources){ .has_mem_kernel = true, .mem_kernel = -1 };
	ok(gr__cgroup_apply(&cg, &r, &err) == 0, "v2: memory.kernel -1 (no limit) needs nothing");

	r = (struct gr_oci_resources){ .has_mem_kernel_tcp = true, .mem_kernel_tcp = 1 << 20 };
	ok(gr__cgroup_apply(&cg, &r, &err) < 0 && strstr(err.msg, "linux.resources.memory.kernelTCP:"),
	   "v2: memory.kernelTCP refused (%s)", err.msg);

	r = (struct gr_oci_resources){ .has_net_class_id = true, .net_class_id = 0x100001 };
	ok(gr__cgroup_apply(&cg, &r, &err) < 0 && strstr(err.msg, "linux.resources.network.classID:") &&
	   strstr(err.msg, "net_cls"), "no net_cls hierarchy: classID refused (%s)", err.msg);
	struct gr_oci_net_priority prio = { .name = "lo", .priority = 10 };
	r = (struct gr_oci_resources){ .net_priorities = &prio, .n_net_priorities = 1 };
	ok(gr__cgroup_apply(&cg, &r, &err) < 0 && strstr(err.msg, "linux.resources.network.priorities:"),
	   "no net_prio hierarchy: priorities refused (%s)", err.msg);
	r.ignore_unsupported = GR_OPT_NET_PRIORITIES;
	ok(gr__cgroup_apply(&cg, &r, &err) == 0, "priorities skipped when the annotation lists them");

	r = (struct gr_oci_resources){ .n_hugepage_limits = 1 };
	struct gr_oci_hugepage_limit hp = { .page_size = "2MB", .limit = 1 << 21 };
	r.hugepage_limits = &hp;
	ok(gr__cgroup_apply(&cg, &r, &err) < 0 && strstr(err.msg, "hugepageLimits") &&
	   strstr(err.msg, "hugetlb"), "no hierarchy carries hugetlb: hugepageLimits refused (%s)", err.msg);

	/* v1 only: unified keys need cgroup2 */
	cg.hier[0].v2 = false;
	cg.ops[0] = &gr__cgroup_v1_ops;
	struct gr_oci_kv kv = { "memory.high", "1000000" };
	r = (struct gr_oci_resources){ .unified = &kv, .n_unified = 1 };
	ok(gr__cgroup_apply(&cg, &r, &err) < 0 && strstr(err.msg, "linux.resources.unified"),
	   "no cgroup2: unified refused (%s)", err.msg);

	is_str(gr_oci_optional_name(GR_OPT_MOUNT_LABEL), "linux.mountLabel", "optional field names");
	is_str(gr_oci_optional_name(3), "?", "not one bit: no name");

	rmdir(dir);
	rmdir(tmp);
	return tap_done();
}
