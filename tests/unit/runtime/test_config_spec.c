/*
 * Unit tests for gr_oci_spec_default(): the default and rootless specs parse
 * with gr_oci_config_parse and carry the hardening promised in docs/RUNTIME.md
 * (capabilities, noNewPrivileges, masked/read-only paths, namespaces, mounts,
 * seccomp allowlist).  The seccomp profile is also compiled with libseccomp
 * and loaded into a forked child to check on the running kernel that denied
 * calls fail with EPERM, clone3 with ENOSYS, and ordinary calls still work.
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "runtime/config.h"
#include "util/alloc.h"

/* Calls that must not be allowed by the default profile. */
static const char *const denied[] = {
	"kexec_load", "kexec_file_load", "mount", "umount2", "pivot_root", "ptrace", "bpf",
	"keyctl", "add_key", "request_key", "perf_event_open", "init_module", "finit_module",
	"delete_module", "swapon", "swapoff", "reboot", "setns", "unshare", "open_by_handle_at",
	"userfaultfd", "process_vm_readv", "process_vm_writev", "io_uring_setup", "acct",
	"settimeofday", "clock_settime", "syslog", "iopl", "ioperm", "fsopen", "move_mount",
	"pidfd_getfd", "kcmp", "quotactl", NULL,
};

/* Allowed names newer than the libseccomp this tree is tested with. */
static const char *const newer_than_libseccomp[] = {
	"cachestat", "map_shadow_stack", "futex_wait", "futex_wake", "futex_requeue",
	"fchmodat2", NULL,
};

static bool in(const char *const *v, const char *s)
{
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static const struct gr_oci_seccomp_rule *allow_rule_for(const struct gr_oci_seccomp *s,
							 const char *name)
{
	for (size_t i = 0; i < s->n_syscalls; i++)
		if (s->syscalls[i].action == GR_SCMP_ALLOW && in((const char *const *)s->syscalls[i].names, name))
			return &s->syscalls[i];
	return NULL;
}

static uint64_t bit(const char *cap)
{
	return UINT64_C(1) << gr_cap_from_name(cap);
}

static struct gr_oci_config *parse_default(int rootless)
{
	_cleanup_free_ char *text = gr_oci_spec_default(rootless);
	gr_error_t err = {0};
	struct gr_oci_config *cfg = NULL;
	if (!ok(gr_oci_config_parse(text, strlen(text), &cfg, &err) == 0,
		"%s default spec parses", rootless ? "rootless" : "rootful"))
		diag("%s", err.msg);
	return cfg;
}

/* Build the profile with libseccomp as an engine would (unknown names skipped). */
static scmp_filter_ctx build_filter(const struct gr_oci_seccomp *s)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(s->default_errno));
	if (!ctx)
		return NULL;
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct gr_oci_seccomp_rule *r = &s->syscalls[i];
		uint32_t act = r->action == GR_SCMP_ALLOW ? SCMP_ACT_ALLOW :
			       SCMP_ACT_ERRNO(r->has_errno_ret ? r->errno_ret : 1);
		struct scmp_arg_cmp cmp[6];
		for (size_t a = 0; a < r->n_args && a < 6; a++) {
			static const enum scmp_compare ops[] = {
				[GR_SCMP_NE] = SCMP_CMP_NE, [GR_SCMP_LT] = SCMP_CMP_LT,
				[GR_SCMP_LE] = SCMP_CMP_LE, [GR_SCMP_EQ] = SCMP_CMP_EQ,
				[GR_SCMP_GE] = SCMP_CMP_GE, [GR_SCMP_GT] = SCMP_CMP_GT,
				[GR_SCMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
			};
			cmp[a] = (struct scmp_arg_cmp){ r->args[a].index, ops[r->args[a].op],
							r->args[a].value, r->args[a].value_two };
		}
		for (size_t k = 0; r->names[k]; k++) {
			int nr = seccomp_syscall_resolve_name(r->names[k]);
			if (nr == __NR_SCMP_ERROR)
				continue;
			if (seccomp_rule_add_array(ctx, act, nr, (unsigned)r->n_args, cmp) < 0 &&
			    nr >= 0) {
				diag("rule for %s rejected", r->names[k]);
				seccomp_release(ctx);
				return NULL;
			}
		}
	}
	return ctx;
}

/* In a child: load the filter, then probe. Exit code = bitmask of failures. */
static int probe_child(scmp_filter_ctx ctx)
{
	int fails = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(ctx) < 0)
		_exit(255);
	errno = 0;
	if (!(mount("none", "/", NULL, MS_REMOUNT, NULL) < 0 && errno == EPERM))
		fails |= 1;
	errno = 0;
	if (!(unshare(CLONE_NEWNS) < 0 && errno == EPERM))
		fails |= 2;
	errno = 0;
	if (!(syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS))
		fails |= 4;
	if (getpid() <= 0 || write(-1, "", 0) != -1 || errno != EBADF)
		fails |= 8;
	pid_t p = fork();   /* glibc fork = clone without namespace flags */
	if (p == 0)
		_exit(0);
	int st;
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
		fails |= 16;
	errno = 0;
	if (!(syscall(SYS_personality, 0x0400000UL /* ADDR_NO_RANDOMIZE */) < 0 && errno == EPERM))
		fails |= 32;
	if (syscall(SYS_personality, 0xffffffffUL) < 0)
		fails |= 64;
	_exit(fails);
}

static void check_common(struct gr_oci_config *cfg, int rootless)
{
	const char *tag = rootless ? "rootless" : "rootful";
	struct gr_oci_process *p = cfg->process;
	ok(p && p->terminal && p->args && !strcmp(p->args[0], "sh") && !p->args[1], "%s: args [sh], terminal", tag);
	is_str(cfg->root_path, "rootfs", "root.path rootfs");
	ok(p->no_new_privileges, "%s: noNewPrivileges", tag);
	static const char *const caps14[] = {
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL };
	uint64_t want = 0;
	for (size_t i = 0; caps14[i]; i++)
		want |= bit(caps14[i]);
	ok(p->caps[GR_CAP_BOUNDING] == want && p->caps[GR_CAP_EFFECTIVE] == want &&
	   p->caps[GR_CAP_PERMITTED] == want, "%s: the 14 default capabilities", tag);
	ok(!p->caps[GR_CAP_INHERITABLE] && !p->caps[GR_CAP_AMBIENT], "%s: no inheritable/ambient", tag);
	ok(!(p->caps[GR_CAP_BOUNDING] & (bit("CAP_SYS_ADMIN") | bit("CAP_NET_ADMIN") | bit("CAP_SYS_PTRACE") |
					 bit("CAP_SYS_MODULE"))), "%s: no admin capabilities", tag);

	static const char *const masked[] = { "/proc/acpi", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap", NULL };
	static const char *const ro[] = { "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq",
		"/proc/sys", "/proc/sysrq-trigger", NULL };
	int all = 1;
	for (size_t i = 0; masked[i]; i++)
		all = all && cfg->masked_paths && in((const char *const *)cfg->masked_paths, masked[i]);
	ok(all, "%s: masked paths", tag);
	all = 1;
	for (size_t i = 0; ro[i]; i++)
		all = all && cfg->readonly_paths && in((const char *const *)cfg->readonly_paths, ro[i]);
	ok(all, "%s: read-only paths", tag);

	enum gr_ns_type nss[] = { GR_NS_PID, GR_NS_NET, GR_NS_IPC, GR_NS_UTS, GR_NS_MNT, GR_NS_CGROUP };
	all = 1;
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++)
		all = all && gr_oci_config_ns(cfg, nss[i]) && !gr_oci_config_ns(cfg, nss[i])->path;
	ok(all, "%s: pid/network/ipc/uts/mount/cgroup namespaces", tag);

	static const char *const dests[] = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", NULL };
	all = 1;
	for (size_t i = 0; dests[i]; i++) {
		int found = 0;
		for (size_t k = 0; k < cfg->n_mounts; k++)
			found |= !strcmp(cfg->mounts[k].destination, dests[i]);
		all = all && found;
	}
	ok(all, "%s: standard mounts", tag);
	for (size_t k = 0; k < cfg->n_mounts; k++)
		if (!strcmp(cfg->mounts[k].destination, "/sys"))
			ok(cfg->mounts[k].flags & MS_RDONLY, "%s: /sys read-only", tag);

	struct gr_oci_seccomp *s = cfg->seccomp;
	if (!ok(s != NULL, "%s: seccomp present", tag))
		return;
	ok(s->default_action == GR_SCMP_ERRNO && s->default_errno == EPERM, "%s: default EPERM", tag);
	static const char *const common[] = { "read", "write", "openat", "close", "execve", "mmap",
		"exit_group", "rt_sigaction", "futex", "socket", "getpid", "wait4", "epoll_wait", NULL };
	all = 1;
	for (size_t i = 0; common[i]; i++)
		all = all && allow_rule_for(s, common[i]);
	ok(all, "%s: common syscalls allowed", tag);
	for (size_t i = 0; denied[i]; i++)
		ok(!allow_rule_for(s, denied[i]), "%s: %s not allowed", tag, denied[i]);
	const struct gr_oci_seccomp_rule *cl = allow_rule_for(s, "clone");
	ok(cl && cl->n_args == 1 && cl->args[0].op == GR_SCMP_MASKED_EQ &&
	   (cl->args[0].value & CLONE_NEWUSER) && (cl->args[0].value & CLONE_NEWNS),
	   "%s: clone allowed only without namespace flags", tag);

	/* every allowed name is a real syscall (catches typos) */
	int unknown = 0;
	for (size_t i = 0; i < s->n_syscalls; i++)
		for (size_t k = 0; s->syscalls[i].names[k]; k++) {
			const char *n = s->syscalls[i].names[k];
			if (seccomp_syscall_resolve_name(n) == __NR_SCMP_ERROR && !in(newer_than_libseccomp, n)) {
				diag("unknown syscall name %s", n);
				unknown++;
			}
		}
	is_int(unknown, 0, "%s: every syscall name is known to libseccomp", tag);
}

/* Configs written by other runtimes' `spec` commands must parse too. */
static void other_runtimes(void)
{
	static const char *const cmds[][2] = {
		{ "runc", "spec" }, { "runc", "spec --rootless" },
		{ "crun", "spec" }, { "crun", "spec --rootless" },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		_cleanup_free_ char *probe = xasprintf("command -v %s >/dev/null 2>&1", cmds[i][0]);
		if (system(probe) != 0) {
			skip("%s is not installed (deps/runtime.txt installs it)", cmds[i][0]);
			continue;
		}
		char dir[] = "/tmp/gr-test-cfgspec-XXXXXX";
		if (!ok(mkdtemp(dir) != NULL, "temp bundle"))
			continue;
		_cleanup_free_ char *cmd = xasprintf("cd %s && %s %s", dir, cmds[i][0], cmds[i][1]);
		gr_error_t err = {0};
		struct gr_oci_config *cfg = NULL;
		if (ok(system(cmd) == 0, "`%s %s` ran", cmds[i][0], cmds[i][1])) {
			if (!ok(gr_oci_config_load(dir, &cfg, &err) == 0, "`%s %s` output parses",
				cmds[i][0], cmds[i][1]))
				diag("%s", err.msg);
			ok(cfg && cfg->process && cfg->process->has_caps && cfg->n_mounts > 0 &&
			   gr_oci_config_ns(cfg, GR_NS_MNT), "`%s %s`: process, caps, mounts, mount ns",
			   cmds[i][0], cmds[i][1]);
			gr_oci_config_free(cfg);
		}
		_cleanup_free_ char *rm = xasprintf("rm -rf %s", dir);
		if (system(rm) != 0)
			diag("could not remove %s", dir);
	}
}

int main(void)
{
	other_runtimes();
	struct gr_oci_config *cfg = parse_default(0);
	if (cfg) {
		check_common(cfg, 0);
		ok(!gr_oci_config_ns(cfg, GR_NS_USER) && !cfg->n_uid_mappings, "rootful: no user namespace");
		ok(cfg->has_resources && cfg->resources.n_devices == 1 && !cfg->resources.devices[0].allow &&
		   cfg->resources.devices[0].type == 'a', "rootful: device cgroup denies all");
		int cg = 0;
		for (size_t k = 0; k < cfg->n_mounts; k++)
			cg |= !strcmp(cfg->mounts[k].destination, "/sys/fs/cgroup") &&
			      (cfg->mounts[k].flags & MS_RDONLY);
		ok(cg, "rootful: /sys/fs/cgroup mounted read-only");

		scmp_filter_ctx ctx = build_filter(cfg->seccomp);
		if (ok(ctx != NULL, "default profile compiles with libseccomp")) {
			pid_t pid = fork();
			if (pid == 0)
				probe_child(ctx);
			int st = 0;
			waitpid(pid, &st, 0);
			ok(WIFEXITED(st) && WEXITSTATUS(st) != 255, "filter loads in a child");
			int f = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
			ok(f != 255 && !(f & 1), "loaded profile: mount fails with EPERM");
			ok(f != 255 && !(f & 2), "loaded profile: unshare fails with EPERM");
			ok(f != 255 && !(f & 4), "loaded profile: clone3 fails with ENOSYS");
			ok(f != 255 && !(f & 8), "loaded profile: getpid/write still work");
			ok(f != 255 && !(f & 16), "loaded profile: fork works");
			ok(f != 255 && !(f & 32), "loaded profile: personality(ADDR_NO_RANDOMIZE) refused");
			ok(f != 255 && !(f & 64), "loaded profile: personality query allowed");
			seccomp_release(ctx);
		}
		gr_oci_config_free(cfg);
	}

	cfg = parse_default(1);
	if (cfg) {
		check_common(cfg, 1);
		const struct gr_oci_namespace *u = gr_oci_config_ns(cfg, GR_NS_USER);
		ok(u && !u->path, "rootless: new user namespace");
		ok(cfg->n_uid_mappings == 1 && cfg->uid_mappings[0].container_id == 0 &&
		   cfg->uid_mappings[0].host_id == getuid() && cfg->uid_mappings[0].size == 1,
		   "rootless: uid 0 maps to the caller");
		ok(cfg->n_gid_mappings == 1 && cfg->gid_mappings[0].host_id == getgid(),
		   "rootless: gid 0 maps to the caller's gid");
		int gid5 = 0;
		for (size_t k = 0; k < cfg->n_mounts; k++)
			gid5 |= cfg->mounts[k].data && strstr(cfg->mounts[k].data, "gid=5") != NULL;
		ok(!gid5, "rootless: devpts has no unmapped gid=5");
		gr_oci_config_free(cfg);
	}
	return tap_done();
}
