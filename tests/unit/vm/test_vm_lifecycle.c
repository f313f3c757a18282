/*
 * test_vm_lifecycle.c - a real guest under QEMU (TCG here, KVM where usable): define,
 * start, the guest reports the hostname from its NoCloud seed, stats, a memory snapshot
 * restores a file's content, system_powerdown stops it cleanly, the user layer keeps
 * writes across boots, a killed QEMU is noticed (pidfd, status stopped) and cleaned up,
 * disk-only snapshots on a stopped VM, delete.
 */
#include "tap.h"
#include "vmtest.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>

#define BOOT_MS 90000
#define CMD_MS 20000
/* call, then report with the error message of that call */
#define OK_CALL(call, what) do { gr_error_clear(&e); int r__ = (call); ok(r__ == 0, what ": %s", r__ == 0 ? "ok" : e.msg); } while (0)

static int run(struct gr_vm_spec *s, const char *cmd, char **out)
{
	gr_error_t e = {0};
	int rc = gr_vm_console_run(s, cmd, CMD_MS, out, &e);
	if (rc < 0)
		diag("console '%s': %s", cmd, e.msg);
	return rc;
}

static int has_snap(struct gr_vm_spec *s, const char *name, long long *state_size)
{
	json_t *list = NULL;
	if (gr_vm_snapshot_list(s, &list, NULL) < 0)
		return 0;
	int found = 0;
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) if (!strcmp(json_string_value(json_object_get(e, "name")), name))
	{
		found = 1;
		if (state_size)
			*state_size = json_integer_value(json_object_get(e, "vm_state_size"));
	}
	json_decref(list);
	return found;
}

int main(void)
{
	gr_error_t e = {0};
	if (geteuid() != 0) {
		skip("needs root (cgroups for QEMU)");
		return tap_done();
	}
	if (vt_setup(&e) < 0) {
		ok(0, "debian-vm image is built: %s", e.msg);
		return tap_done();
	}
	ok(1, "debian-vm image is built (cache %s)", vt_images);

	static struct gr_vm_spec s;
	char host[64];
	snprintf(host, sizeof host, "guest-%d", (int)getpid());
	vt_spec(&s, "life", host);

	struct gr_vm_state st;
	ok(gr_vm_state_get(&s, &st, &e) == 0 && st.status == GR_VM_ABSENT, "undefined VM is absent");
	OK_CALL(gr_vm_define(&s, &e), "define");
	ok(gr_vm_define(&s, &e) < 0 && e.code == EEXIST, "define twice is EEXIST");
	ok(gr_vm_state_get(&s, &st, &e) == 0 && st.status == GR_VM_DEFINED, "defined VM is defined");

	pid_t pid = 0;
	gr_error_clear(&e);
	int leak = open("/proc/self/exe", O_RDONLY); /* inheritable on purpose */
	if (!ok(gr_vm_start(&s, &pid, &e) == 0 && pid > 0, "start: %s", e.msg))
		return tap_done();
	{
		char fdd[64], target[4096], mine[4096];
		snprintf(fdd, sizeof fdd, "/proc/%d/fd", (int)pid);
		ssize_t ml = readlink("/proc/self/exe", mine, sizeof mine - 1);
		mine[ml > 0 ? ml : 0] = 0;
		int leaked = 0;
		DIR *d = opendir(fdd);
		for (struct dirent *de; d && (de = readdir(d));) {
			char l[512];
			snprintf(l, sizeof l, "%s/%s", fdd, de->d_name);
			ssize_t n = readlink(l, target, sizeof target - 1);
			if (n > 0) {
				target[n] = 0;
				leaked |= !strcmp(target, mine);
			}
		}
		if (d)
			closedir(d);
		ok(d && !leaked, "no descriptor of the caller leaks into QEMU");
		close(leak);
	}
	ok(gr_vm_start(&s, NULL, &e) < 0 && e.code == EBUSY, "start while running is EBUSY");
	int rc = gr_vm_state_get(&s, &st, &e);
	ok(rc == 0 && st.status == GR_VM_RUNNING && st.pid == pid, "state running, pid %d (qmp %s)", (int)st.pid,
	   st.qmp_status);
	char *got = NULL;
	gr_error_clear(&e);
	OK_CALL(gr_vm_wait_ready(&s, BOOT_MS, &got, &e), "guest ready");
	is_str(got, host, "guest reports the hostname from the seed");
	free(got);

	/* QEMU drops to the gureum-qemu user when it exists (and GR_VM_RUNAS does not say otherwise) */
	{
		struct passwd *pw = getpwnam(GR_VM_DEFAULT_USER);
		const char *env = getenv("GR_VM_RUNAS");
		char path[64], want[64];
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
		_cleanup_free_ char *status = NULL;
		gr_read_file(path, 0, &status, NULL, NULL);
		const char *uid = status ? strstr(status, "\nUid:") : NULL;
		unsigned ruid = 1, euid = 1;
		if (uid)
			sscanf(uid, "\nUid: %u %u", &ruid, &euid);
		if (pw && !env) {
			snprintf(want, sizeof want, "%u", (unsigned)pw->pw_uid);
			ok(euid == pw->pw_uid && ruid == pw->pw_uid, "QEMU runs as %s (uid %u, got %u)", GR_VM_DEFAULT_USER,
			   (unsigned)pw->pw_uid, euid);
		} else if (env && !*env) {
			ok(euid == 0, "GR_VM_RUNAS='' keeps QEMU as root");
		} else {
			skip("no %s user on this host (useradd --system %s) and no GR_VM_RUNAS", GR_VM_DEFAULT_USER,
			     GR_VM_DEFAULT_USER);
		}
	}
	/* QEMU runs in its own cgroup with the instance's limits */
	{
		int v1 = access("/sys/fs/cgroup/cpu/cgroup.procs", F_OK) == 0;
		_cleanup_free_ char *procs = v1 ? xasprintf("/sys/fs/cgroup/cpu/%s/%s/cgroup.procs", vt_cgparent, s.name)
						: xasprintf("/sys/fs/cgroup/%s/%s/cgroup.procs", vt_cgparent, s.name);
		_cleanup_free_ char *quota = v1 ? xasprintf("/sys/fs/cgroup/cpu/%s/%s/cpu.cfs_quota_us", vt_cgparent, s.name)
						: xasprintf("/sys/fs/cgroup/%s/%s/cpu.max", vt_cgparent, s.name);
		_cleanup_free_ char *p = NULL, *q = NULL;
		char want[32];
		snprintf(want, sizeof want, "%d\n", (int)pid);
		gr_read_file(procs, 0, &p, NULL, NULL);
		gr_read_file(quota, 0, &q, NULL, NULL);
		if (q)
			q[strcspn(q, "\n")] = 0;
		ok(p && (strstr(p, want) == p || strstr(p, want + 0) != NULL), "QEMU (pid %d) is in the instance cgroup", (int)pid);
		ok(q && !strncmp(q, "100000", 6), "CPU quota of 1 CPU (%s)", q ? q : "?");
		_cleanup_free_ char *wf = v1 ? xasprintf("/sys/fs/cgroup/cpu/%s/%s/cpu.shares", vt_cgparent, s.name)
					     : xasprintf("/sys/fs/cgroup/%s/%s/cpu.weight", vt_cgparent, s.name);
		_cleanup_free_ char *w = NULL;
		gr_read_file(wf, 0, &w, NULL, NULL);
		ok(w && atoi(w) == (v1 ? 2048 : 200), "CPU weight of 2 tasks (1 vCPU + main loop): %d", w ? atoi(w) : -1);
	}

	struct gr_vm_stats stats;
	OK_CALL(gr_vm_stats_get(&s, &stats, &e), "stats");
	ok(stats.cpu_ns > 0, "cgroup CPU time %llu ns", (unsigned long long)stats.cpu_ns);
	ok(stats.rss_bytes > 0 && stats.guest_ram_rss > 0 && stats.overhead_bytes > 0 &&
		   stats.guest_ram_rss < stats.rss_bytes,
	   "rss %llu = guest RAM %llu + QEMU %llu", (unsigned long long)stats.rss_bytes,
	   (unsigned long long)stats.guest_ram_rss, (unsigned long long)stats.overhead_bytes);

	/* QMP controls: what QEMU reports, pause, resume */
	int vcpus = 0;
	uint64_t ram = 0;
	OK_CALL(gr_vm_info(&s, &vcpus, &ram, &e), "QMP query-cpus-fast + query-memory-size-summary");
	ok(vcpus == 1 && ram == 256ull << 20, "QEMU reports 1 vCPU and 256 MiB (%d, %llu)", vcpus, (unsigned long long)ram);
	OK_CALL(gr_vm_pause(&s, &e), "pause (QMP stop)");
	rc = gr_vm_state_get(&s, &st, &e);
	ok(rc == 0 && st.status == GR_VM_PAUSED && !strcmp(st.qmp_status, "paused"), "state paused (%s)", st.qmp_status);
	OK_CALL(gr_vm_resume(&s, &e), "resume (QMP cont)");
	rc = gr_vm_state_get(&s, &st, &e);
	ok(rc == 0 && st.status == GR_VM_RUNNING, "state running again (%s)", st.qmp_status);

	/* live CPU quota change; RAM beyond what QEMU was started with refused while running */
	{
		struct gr_vm_spec n = s;
		n.cpu_limit = 0.5;
		OK_CALL(gr_vm_update(&s, &n, &e), "update the CPU quota to 0.5 CPU");
		int v1 = access("/sys/fs/cgroup/cpu/cgroup.procs", F_OK) == 0;
		_cleanup_free_ char *quota = v1 ? xasprintf("/sys/fs/cgroup/cpu/%s/%s/cpu.cfs_quota_us", vt_cgparent, s.name)
						: xasprintf("/sys/fs/cgroup/%s/%s/cpu.max", vt_cgparent, s.name);
		_cleanup_free_ char *q = NULL;
		gr_read_file(quota, 0, &q, NULL, NULL);
		ok(q && !strncmp(q, "50000", 5), "quota is 50000 us per 100000");
		n.cpu_limit = 1.0;
		gr_vm_update(&s, &n, NULL);
		n.memory_mb = 512;
		ok(gr_vm_update(&s, &n, &e) < 0 && e.code == EINVAL && strstr(e.msg, "max_memory"),
		   "RAM beyond the VM's maximum refused naming max_memory (%s)", e.msg);
	}

	/* memory snapshot: write, snapshot, change, restore, read back */
	char *out = NULL;
	is_int(run(&s, "echo one >/root/f && hostname", &out), 0, "console command runs");
	if (out)
		out[strcspn(out, "\n")] = 0;
	ok(out && !strcmp(out, host), "console output is the hostname ('%s')", out ? out : "");
	free(out);
	out = NULL;
	OK_CALL(gr_vm_snapshot_create(&s, "s1", &e), "snapshot s1 of the running VM");
	ok(gr_vm_snapshot_create(&s, "s1", &e) < 0 && e.code == EEXIST, "snapshot name reuse is EEXIST");
	long long vmsize = 0;
	int listed = has_snap(&s, "s1", &vmsize);
	ok(listed && vmsize > 0, "s1 listed with memory state (%lld bytes)", vmsize);
	run(&s, "echo two >/root/f", NULL);
	run(&s, "cat /root/f", &out);
	is_str(out, "two\n", "file changed after the snapshot");
	free(out);
	out = NULL;
	OK_CALL(gr_vm_snapshot_restore(&s, "s1", &e), "restore s1");
	run(&s, "cat /root/f", &out);
	is_str(out, "one\n", "restore brought the file's content back");
	free(out);
	out = NULL;
	ok(gr_vm_snapshot_restore(&s, "nope", &e) < 0 && e.code == ENOENT, "restore of a missing snapshot is ENOENT");
	ok(gr_vm_snapshot_delete(&s, "s1", &e) == 0 && !has_snap(&s, "s1", NULL), "delete s1: %s", e.msg);
	run(&s, "sync", NULL);

	/* clean powerdown through ACPI, even from a paused VM (stop resumes it first) */
	OK_CALL(gr_vm_pause(&s, &e), "pause before stop");
	gr_error_clear(&e);
	OK_CALL(gr_vm_stop(&s, 30000, 0, &e), "stop");
	rc = gr_vm_state_get(&s, &st, &e);
	ok(rc == 0 && st.status == GR_VM_STOPPED, "state stopped after stop (%s)", gr_vm_status_name(st.status));
	_cleanup_free_ char *con = gr_vm_path(&s, "console.log");
	_cleanup_free_ char *log = NULL;
	gr_read_file(con, 0, &log, NULL, NULL);
	ok(log && strstr(log, "gureum-guest: powering off"), "the guest powered itself off (ACPI power button)");
	struct stat sb;
	_cleanup_free_ char *cg1 = xasprintf("/sys/fs/cgroup/memory/%s/%s", vt_cgparent, s.name);
	_cleanup_free_ char *cg2 = xasprintf("/sys/fs/cgroup/%s/%s", vt_cgparent, s.name);
	ok(stat(cg1, &sb) < 0 && stat(cg2, &sb) < 0, "cgroup removed after stop");

	/* persistent: the user layer keeps writes */
	gr_error_clear(&e);
	OK_CALL(gr_vm_start(&s, &pid, &e), "start again");
	OK_CALL(gr_vm_wait_ready(&s, BOOT_MS, NULL, &e), "ready again");
	run(&s, "cat /root/f", &out);
	is_str(out, "one\n", "the file survived a reboot (persistent user layer)");
	free(out);
	out = NULL;

	/* a QEMU that dies is noticed */
	int pfd = gr_vm_pidfd(&s, &e);
	ok(pfd >= 0, "pidfd: %s", e.msg);
	kill(pid, SIGKILL);
	struct pollfd p = {pfd, POLLIN, 0};
	ok(poll(&p, 1, 10000) == 1, "pidfd readable after QEMU was killed");
	if (pfd >= 0)
		close(pfd);
	rc = gr_vm_state_get(&s, &st, &e);
	ok(rc == 0 && st.status == GR_VM_STOPPED, "killed QEMU -> state stopped (%s)", gr_vm_status_name(st.status));
	OK_CALL(gr_vm_cleanup(&s, &e), "cleanup after the crash");
	ok(gr_vm_stats_get(&s, &stats, &e) < 0 && e.code == ESRCH, "stats of a stopped VM is ESRCH");

	/* disk-only snapshot on the stopped VM */
	OK_CALL(gr_vm_snapshot_create(&s, "d1", &e), "disk snapshot of the stopped VM");
	vmsize = -1;
	ok(has_snap(&s, "d1", &vmsize) && vmsize == 0, "d1 listed without memory state");
	OK_CALL(gr_vm_snapshot_restore(&s, "d1", &e), "restore d1");
	OK_CALL(gr_vm_snapshot_delete(&s, "d1", &e), "delete d1");
	ok(gr_vm_snapshot_create(&s, "Bad Name", &e) < 0 && e.code == EINVAL, "bad snapshot name is EINVAL");

	OK_CALL(gr_vm_delete(&s, 0, &e), "delete");
	ok(access(s.dir, F_OK) < 0, "instance folder removed");
	ok(gr_vm_state_get(&s, &st, &e) == 0 && st.status == GR_VM_ABSENT, "deleted VM is absent");

	/* q35 + bzImage, ephemeral, with an ssh key in the seed */
	static struct gr_vm_spec q;
	char *keys[] = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrTestKey test@gureum", NULL};
	vt_spec(&q, "q35", "q35-guest");
	q.machine = "q35";
	q.ephemeral = 1;
	q.ssh_keys = keys;
	OK_CALL(gr_vm_define(&q, &e), "define a q35 ephemeral VM");
	OK_CALL(gr_vm_start(&q, &pid, &e), "start q35");
	got = NULL;
	OK_CALL(gr_vm_wait_ready(&q, BOOT_MS, &got, &e), "q35 guest ready");
	is_str(got, "q35-guest", "q35 guest reports its hostname");
	free(got);
	_cleanup_free_ char *qcmd = xasprintf("/proc/%d/cmdline", (int)pid);
	_cleanup_free_ char *cmdl = NULL;
	size_t cl = 0;
	gr_read_file(qcmd, 0, &cmdl, &cl, NULL);
	for (size_t i = 0; cmdl && i < cl; i++)
		if (!cmdl[i])
			cmdl[i] = ' ';
	ok(cmdl && strstr(cmdl, "-machine q35") && strstr(cmdl, "bzImage") && strstr(cmdl, "virtio-blk-pci"),
	   "q35 runs the bzImage with virtio-pci disks");
	run(&q, "cat /root/.ssh/authorized_keys", &out);
	ok(out && strstr(out, "AAAAC3NzaC1lZDI1NTE5AAAAIGrTestKey test@gureum"), "ssh key from user-data installed");
	free(out);
	out = NULL;
	run(&q, "echo scratch >/root/eph && sync", NULL);
	struct gr_layer_info li = {0};
	gr_layer_get(&vt_ctx, q.name, &li, NULL);
	_cleanup_free_ char *runl = li.user_path ? xasprintf("%s", li.user_path) : NULL;
	if (runl)
		strcpy(strrchr(runl, '/') + 1, "run.qcow2");
	gr_layer_info_clear(&li);
	ok(runl && access(runl, F_OK) == 0, "ephemeral VM runs on a run layer");
	OK_CALL(gr_vm_stop(&q, 30000, 0, &e), "stop q35 (ACPI)");
	ok(runl && access(runl, F_OK) < 0, "run layer dropped on stop");
	gr_rm_rf(q.sock_dir, NULL); /* as after a host reboot emptied /run */
	OK_CALL(gr_vm_start(&q, &pid, &e), "start q35 again (socket folder recreated)");
	OK_CALL(gr_vm_wait_ready(&q, BOOT_MS, NULL, &e), "ready again");
	is_int(run(&q, "test -e /root/eph", NULL), 1, "the ephemeral write is gone after a restart");
	OK_CALL(gr_vm_delete(&q, 1, &e), "force-delete a running VM");
	ok(gr_vm_state_get(&q, &st, &e) == 0 && st.status == GR_VM_ABSENT, "force-deleted VM is absent");
	return tap_done();
}
