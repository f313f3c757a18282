/*
 * test_cgroup_layout.c - the cgroup manager's choice of back-end per controller
 * on v1, v2 and hybrid layouts, from mountinfo snapshots (no real cgroup is
 * touched), plus the guards on cgroup paths.
 */
#include "runtime/runtime-internal.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/gr-test-rt-cglayout.XXXXXX";

static const char *write_mountinfo(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/mountinfo-%s", tmp, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static int find(const struct gr_cgroup *cg, enum gr_cg_ctrl c, const char **ops)
{
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->hier[i].ctrls & (1u << c)) {
			*ops = cg->ops[i]->name;
			return (int)i;
		}
	*ops = "none";
	return -1;
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	char v2dir[300], v2only[300], line[4096];
	snprintf(v2dir, sizeof v2dir, "%s/unified", tmp);
	mkdir(v2dir, 0755);
	FILE *f = fopen(strcat(strcpy(line, v2dir), "/cgroup.controllers"), "w");
	fputs("hugetlb\n", f);
	fclose(f);
	snprintf(v2only, sizeof v2only, "%s/v2", tmp);
	mkdir(v2only, 0755);
	f = fopen(strcat(strcpy(line, v2only), "/cgroup.controllers"), "w");
	fputs("cpuset cpu io memory hugetlb pids rdma misc\n", f);
	fclose(f);

	/* hybrid: v1 controllers, cgroup2 holding only hugetlb (this project's CI machine) */
	char text[8192];
	snprintf(text, sizeof text,
		 "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		 "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		 "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
		 "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
		 "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
		 "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
		 "41 31 0:38 / %s rw,relatime - cgroup2 cgroup2 rw\n", v2dir);
	struct gr_cgroup cg;
	gr_error_t err = { 0 };
	const char *ops;
	is_int(gr__cgroup_init_from(&cg, "/gureum/x", write_mountinfo("hybrid", text), &err), 0,
	       "hybrid layout accepted");
	is_int(cg.n_hier, 5, "4 v1 hierarchies (name=systemd skipped) + cgroup2");
	ok(find(&cg, GR_CG_MEMORY, &ops) >= 0 && !strcmp(ops, "v1"), "hybrid: memory on v1");
	ok(find(&cg, GR_CG_PIDS, &ops) >= 0 && !strcmp(ops, "v1"), "hybrid: pids on v1");
	ok(find(&cg, GR_CG_HUGETLB, &ops) >= 0 && !strcmp(ops, "v2"), "hybrid: hugetlb on cgroup2");
	ok(find(&cg, GR_CG_CPUSET, &ops) < 0, "hybrid: cpuset not mounted anywhere");
	char dir[1024];
	gr__cg_dir(&cg, 0, dir, sizeof dir);
	is_str(dir, "/sys/fs/cgroup/cpu/gureum/x", "cgroup dir joins mount and path");

	/* combined v1 hierarchy cpu,cpuacct */
	snprintf(text, sizeof text,
		 "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
		 "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
	is_int(gr__cgroup_init_from(&cg, "/a", write_mountinfo("v1", text), &err), 0, "pure v1 accepted");
	is_int(cg.n_hier, 2, "two v1 hierarchies");
	is_str(cg.hier[0].name, "cpu,cpuacct", "combined hierarchy named after its controllers");
	ok(find(&cg, GR_CG_CPUACCT, &ops) == 0, "cpuacct shares the cpu hierarchy");

	/* pure v2 */
	snprintf(text, sizeof text, "30 23 0:26 / %s rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n", v2only);
	is_int(gr__cgroup_init_from(&cg, "/gureum/y", write_mountinfo("v2", text), &err), 0, "pure v2 accepted");
	ok(find(&cg, GR_CG_MEMORY, &ops) == 0 && !strcmp(ops, "v2"), "v2: memory on cgroup2");
	ok(find(&cg, GR_CG_BLKIO, &ops) == 0, "v2: io maps to blkio");

	/* a bind of a sub-cgroup (inside a container) is not a hierarchy root */
	snprintf(text, sizeof text, "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n");
	ok(gr__cgroup_init_from(&cg, "/a", write_mountinfo("sub", text), &err) < 0, "no usable hierarchy: error");

	/* an existing container: only the hierarchies of its create (state.json's record) */
	snprintf(text, sizeof text,
		 "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
		 "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
		 "44 31 0:39 / /sys/fs/cgroup/hugetlb rw - cgroup none rw,hugetlb\n"
		 "45 31 0:40 / /run/x/net rw - cgroup none rw,net_cls,net_prio\n"
		 "41 31 0:38 / %s rw,relatime - cgroup2 cgroup2 rw\n", v2dir);
	struct gr__meta meta;
	memset(&meta, 0, sizeof meta);
	snprintf(meta.cgroup, sizeof meta.cgroup, "/gureum/c");
	const char *names[] = { "memory", "unified", "pids" }; /* pids: unmounted since create */
	for (int i = 0; i < 3; i++) {
		snprintf(meta.cg_parents[i].name, sizeof meta.cg_parents[i].name, "%s", names[i]);
		meta.cg_parents[i].levels = i + 1;
	}
	meta.n_cg_parents = 3;
	const char *mi = write_mountinfo("later", text);
	is_int(gr__cgroup_load_from(&cg, &meta, mi, &err), 0, "load an existing container's cgroup");
	is_int(cg.n_hier, 2, "only memory and unified: cpu, hugetlb and net_cls,net_prio are not the container's");
	ok(cg.n_hier == 2 && !strcmp(cg.hier[0].name, "memory") && !strcmp(cg.hier[1].name, "unified") &&
	   cg.own_parents[0] == 1 && cg.own_parents[1] == 2, "matched by name, each with its own parent count");
	ok(find(&cg, GR_CG_HUGETLB, &ops) < 0, "a hierarchy mounted after create is skipped");
	is_str(cg.gone, "pids", "a hierarchy unmounted since create is named in gone");
	is_int(cg.created_mask, 3, "delete may remove the leaf in both");
	meta.n_cg_parents = 1; /* a state from before per-hierarchy counts */
	snprintf(meta.cg_parents[0].name, sizeof meta.cg_parents[0].name, "*");
	is_int(gr__cgroup_load_from(&cg, &meta, mi, &err), 0, "legacy state loads");
	is_int(cg.n_hier, 5, "legacy state: every hierarchy mounted now");
	ok(find(&cg, GR_CG_NET_PRIO, &ops) >= 0, "net_cls,net_prio is one v1 hierarchy");
	is_str(cg.hier[3].name, "net_cls,net_prio", "named after both controllers");

	/* path guards */
	ok(gr__cgroup_init_from(&cg, "relative", write_mountinfo("v1b", "32 31 0:29 / /x rw - cgroup cgroup rw,cpu\n"),
				&err) < 0 && strstr(err.msg, "cgroupsPath"), "relative path refused, names cgroupsPath");
	ok(gr__cgroup_init_from(&cg, "/a/../../etc", write_mountinfo("v1c", "32 31 0:29 / /x rw - cgroup cgroup rw,cpu\n"),
				&err) < 0, "'..' refused");
	ok(gr__cgroup_init_from(&cg, "/", write_mountinfo("v1d", "32 31 0:29 / /x rw - cgroup cgroup rw,cpu\n"),
				&err) < 0, "the root cgroup refused");

	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		diag("cleanup of %s failed", tmp);
	return tap_done();
}
