/*
 * test_sweep.c - what belongs to no instance is removed (sweep.c), on real
 * cgroups and processes (root): an instance cgroup whose name has no record
 * loses its processes (also those in a group nested inside it) and is
 * removed, its folder too; a known instance's cgroup, processes and folder
 * stay; gr_agent_cgroup_remove of an absent group is success.  The driver
 * table's own answers (defaults, option checks) are checked here too.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "agent/driver.h"
#include "tap.h"
#include "util/alloc.h"
#include "util/fs.h"

static const char *root; /* the hierarchy the test uses */

static pid_t sleeper_in(const char *group)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *procs = xasprintf("%s/cgroup.procs", group);
		FILE *f = fopen(procs, "w");
		if (!f || fprintf(f, "0\n") < 0 || fclose(f) != 0)
			_exit(1);
		pause();
		_exit(0);
	}
	/* wait until it is in */
	char *procs = xasprintf("%s/cgroup.procs", group);
	for (int i = 0; i < 500; i++) {
		char *t = NULL;
		if (gr_read_file(procs, 1 << 16, &t, NULL, NULL) == 0 && t[0]) {
			free(t);
			break;
		}
		free(t);
		usleep(10000);
	}
	free(procs);
	return pid;
}

static bool gone(pid_t pid)
{
	int st;
	return waitpid(pid, &st, WNOHANG) == pid || kill(pid, 0) < 0;
}

static bool known(const char *name, void *ud)
{
	return !strcmp(name, "kept");
}

int main(void)
{
	gr_error_t err = { 0 };
	/* the table */
	ok(gr_driver_of(GR_BACKEND_VM) == &gr_driver_vm && gr_driver_of(GR_BACKEND_CONTAINER) ==
	   &gr_driver_container, "drivers found by backend");
	ok(gr_driver_vm.default_cpu == 1 && gr_driver_vm.default_memory == 256u << 20,
	   "a VM asking for no limit gets 1 vCPU and 256 MiB");
	ok(gr_driver_container.default_cpu == 0 && gr_driver_container.default_memory == 0,
	   "a container asking for no limit has none");
	json_t *opt = json_pack("{s:s}", "colour", "red");
	ok(gr_driver_container.check_options(opt, &err) < 0 && !strncmp(err.msg, "options.colour", 14),
	   "containers refuse an option, naming it: %s", err.msg);
	ok(gr_driver_vm.check_options(opt, &err) < 0 && !strncmp(err.msg, "options.colour", 14),
	   "VMs refuse an unknown option, naming it: %s", err.msg);
	json_decref(opt);
	for (size_t i = 0; gr_drivers[i]; i++)
		ok(gr_drivers[i]->define && gr_drivers[i]->start && gr_drivers[i]->stop &&
		   gr_drivers[i]->cleanup && gr_drivers[i]->delete && gr_drivers[i]->state &&
		   gr_drivers[i]->reattach && gr_drivers[i]->sweep && gr_drivers[i]->snapshot_create &&
		   gr_drivers[i]->snapshot_restore && gr_drivers[i]->snapshot_delete,
		   "driver %s has every op control calls", gr_drivers[i]->name);

	if (getuid() != 0) {
		skip("sweeping cgroups needs root");
		return tap_done();
	}
	if (access("/sys/fs/cgroup/memory/cgroup.procs", W_OK) == 0)
		root = "/sys/fs/cgroup/memory";
	else if (access("/sys/fs/cgroup/cgroup.procs", W_OK) == 0)
		root = "/sys/fs/cgroup";
	else {
		skip("no writable cgroup hierarchy");
		return tap_done();
	}
	char tmpl[] = "/tmp/gr-test-sweep.XXXXXX";
	char *dir = mkdtemp(tmpl);
	char *prefix = xasprintf("gr-test-sweep-%d", (int)getpid());
	char *state = xasprintf("%s/state", dir), *run = xasprintf("%s/run", dir);
	char *rt = xasprintf("%s/oci", run);
	struct gr_agent a = { .state_dir = state, .run_dir = run, .rt_root = rt, .cgroup_prefix = prefix };
	char *top = xasprintf("%s/%s", root, prefix);
	char *orphan = xasprintf("%s/orphan", top), *nested = xasprintf("%s/orphan/inner", top);
	char *kept = xasprintf("%s/kept", top);
	mkdir(top, 0755);
	mkdir(orphan, 0755);
	mkdir(nested, 0755);
	mkdir(kept, 0755);
	char *f1 = xasprintf("%s/instances/orphan", state), *f2 = xasprintf("%s/instances/kept", state);
	gr_mkdir_p(f1, 0700, NULL);
	gr_mkdir_p(f2, 0700, NULL);
	gr_mkdir_p(rt, 0700, NULL);
	pid_t p1 = sleeper_in(orphan), p2 = sleeper_in(nested), p3 = sleeper_in(kept);

	int n = gr_agent_sweep(&a, known, NULL);
	ok(n >= 2, "sweep removed what has no record (%d objects)", n);
	ok(gone(p1) && gone(p2), "the orphan's processes are killed, also in its nested group");
	ok(access(orphan, F_OK) < 0, "its cgroup is gone");
	ok(access(f1, F_OK) < 0, "its folder is gone");
	ok(!gone(p3) && access(kept, F_OK) == 0 && access(f2, F_OK) == 0,
	   "the known instance keeps its process, cgroup and folder");
	is_int(gr_agent_cgroup_remove(&a, "kept", &err), 0, "removing the known one's cgroup: %s", err.msg);
	ok(gone(p3) && access(kept, F_OK) < 0, "... kills its process and removes it");
	is_int(gr_agent_cgroup_remove(&a, "never-was", &err), 0, "an absent group is success");
	rmdir(top);
	gr_rm_rf(dir, NULL);
	char *owned[] = {prefix, state, run, rt, top, orphan, nested, kept, f1, f2};
	for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
		free(owned[i]);
	return tap_done();
}
