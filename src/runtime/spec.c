/*
 * spec.c - gr_oci_spec_default(): the hardened config.json `gureum-oci spec`
 * writes.  Shaped like `runc spec` (rootfs "rootfs", args ["sh"], terminal),
 * hardened like the usual container default: 14 capabilities, no inheritable
 * or ambient ones, noNewPrivileges, masked and read-only /proc and /sys
 * paths, a device cgroup that denies everything not created by the runtime,
 * and a seccomp allowlist (everything else fails with EPERM).
 *
 * The rootless variant adds a user namespace mapping container root to the
 * caller's uid/gid, bind-mounts /sys instead of mounting sysfs and cgroupfs
 * (neither may be mounted by an unprivileged user namespace here), drops the
 * devpts gid=5 (unmapped) and the device cgroup rules (no cgroup access).
 * The result always parses with gr_oci_config_parse (checked by unit tests).
 */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "runtime/config.h"
#include <stdlib.h>

static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};

static const char *const readonly_paths[] = {
	"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/*
 * Allowed for everyone.  Left out on purpose (they fail with EPERM): module and
 * kexec loading, mount/umount2/pivot_root/move_mount & co, ptrace and
 * process_vm_*, kcmp, pidfd_getfd, bpf, perf_event_open, keyctl/add_key/
 * request_key, swapon/swapoff, reboot, setns/unshare, open_by_handle_at,
 * userfaultfd, io_uring_*, acct, quotactl, syslog, clock/time setting,
 * iopl/ioperm, lookup_dcookie, nfsservctl, uselib, vhangup, fanotify_init,
 * NUMA policy calls, personality other than the harmless values, clone with
 * namespace flags, and clone3 (ENOSYS, so libc falls back to clone).
 */
static const char *const allowed_syscalls[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat",
	"capget", "capset", "chdir", "chmod", "chown", "chown32", "chroot", "clock_getres",
	"clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
	"clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
	"dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
	"epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
	"execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
	"fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
	"fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
	"fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
	"fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
	"futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
	"futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
	"getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
	"getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
	"getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
	"getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt",
	"gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
	"inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy",
	"io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit",
	"ioctl", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
	"link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr",
	"lseek", "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier",
	"memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
	"mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
	"mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
	"mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd",
	"msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep",
	"newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
	"pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
	"ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
	"process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2",
	"read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
	"recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
	"renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
	"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
	"sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
	"sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
	"semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
	"set_robust_list", "set_thread_area", "set_tid_address", "setdomainname", "setfsgid",
	"setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
	"sethostname", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
	"setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
	"setrlimit", "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "shmat", "shmctl",
	"shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
	"sigreturn", "socket", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
	"statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
	"sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
	"timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
	"timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
	"timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask",
	"uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
	"vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
	/* x86 only */
	"arch_prctl", "modify_ldt",
	NULL,
};

/* CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET */
#define CLONE_NS_MASK 0x7E020000ULL

static json_t *strv(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *mnt(const char *dst, const char *type, const char *src,
		     const char *const *opts)
{
	json_t *m = json_object();
	json_object_set_new(m, "destination", json_string(dst));
	json_object_set_new(m, "type", json_string(type));
	json_object_set_new(m, "source", json_string(src));
	json_object_set_new(m, "options", strv(opts));
	return m;
}

static json_t *rule(const char *name, const char *action, json_t *args)
{
	json_t *r = json_object();
	json_t *names = json_array();
	json_array_append_new(names, json_string(name));
	json_object_set_new(r, "names", names);
	json_object_set_new(r, "action", json_string(action));
	if (args)
		json_object_set_new(r, "args", args);
	return r;
}

static json_t *arg(unsigned idx, unsigned long long value, unsigned long long two,
		   const char *op)
{
	json_t *a = json_object();
	json_object_set_new(a, "index", json_integer(idx));
	json_object_set_new(a, "value", json_integer((json_int_t)value));
	json_object_set_new(a, "valueTwo", json_integer((json_int_t)two));
	json_object_set_new(a, "op", json_string(op));
	return a;
}

static json_t *seccomp(void)
{
	json_t *s = json_object();
	json_object_set_new(s, "defaultAction", json_string("SCMP_ACT_ERRNO"));
	json_object_set_new(s, "defaultErrnoRet", json_integer(1));   /* EPERM */
	json_object_set_new(s, "architectures",
			    strv((const char *const[]){ "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
							"SCMP_ARCH_X32", NULL }));
	json_t *rules = json_array();
	json_t *allow = json_object();
	json_object_set_new(allow, "names", strv(allowed_syscalls));
	json_object_set_new(allow, "action", json_string("SCMP_ACT_ALLOW"));
	json_array_append_new(rules, allow);

	/* personality(2): only the values programs use to query or pick 32-bit layouts */
	static const unsigned long long personas[] = { 0x0, 0x0008, 0x20000, 0x20008, 0xffffffff };
	for (size_t i = 0; i < sizeof(personas) / sizeof(personas[0]); i++) {
		json_t *args = json_array();
		json_array_append_new(args, arg(0, personas[i], 0, "SCMP_CMP_EQ"));
		json_array_append_new(rules, rule("personality", "SCMP_ACT_ALLOW", args));
	}
	/* clone(2) without namespace flags */
	json_t *args = json_array();
	json_array_append_new(args, arg(0, CLONE_NS_MASK, 0, "SCMP_CMP_MASKED_EQ"));
	json_array_append_new(rules, rule("clone", "SCMP_ACT_ALLOW", args));
	/* clone3 passes flags in memory seccomp cannot see: ENOSYS makes libc use clone */
	json_t *c3 = rule("clone3", "SCMP_ACT_ERRNO", NULL);
	json_object_set_new(c3, "errnoRet", json_integer(38));   /* ENOSYS */
	json_array_append_new(rules, c3);
	json_object_set_new(s, "syscalls", rules);
	return s;
}

static json_t *ns(const char *type)
{
	json_t *n = json_object();
	json_object_set_new(n, "type", json_string(type));
	return n;
}

static json_t *idmap(unsigned host)
{
	json_t *a = json_array(), *m = json_object();
	json_object_set_new(m, "containerID", json_integer(0));
	json_object_set_new(m, "hostID", json_integer(host));
	json_object_set_new(m, "size", json_integer(1));
	json_array_append_new(a, m);
	return a;
}

static json_t *process(void)
{
	json_t *p = json_object();
	json_object_set_new(p, "terminal", json_true());
	json_t *user = json_object();
	json_object_set_new(user, "uid", json_integer(0));
	json_object_set_new(user, "gid", json_integer(0));
	json_object_set_new(p, "user", user);
	json_object_set_new(p, "args", strv((const char *const[]){ "sh", NULL }));
	json_object_set_new(p, "env", strv((const char *const[]){
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"TERM=xterm", NULL }));
	json_object_set_new(p, "cwd", json_string("/"));
	json_t *caps = json_object();
	json_object_set_new(caps, "bounding", strv(default_caps));
	json_object_set_new(caps, "effective", strv(default_caps));
	json_object_set_new(caps, "permitted", strv(default_caps));
	json_object_set_new(caps, "inheritable", json_array());
	json_object_set_new(caps, "ambient", json_array());
	json_object_set_new(p, "capabilities", caps);
	json_t *rl = json_object();
	json_object_set_new(rl, "type", json_string("RLIMIT_NOFILE"));
	json_object_set_new(rl, "hard", json_integer(1024));
	json_object_set_new(rl, "soft", json_integer(1024));
	json_t *rls = json_array();
	json_array_append_new(rls, rl);
	json_object_set_new(p, "rlimits", rls);
	json_object_set_new(p, "noNewPrivileges", json_true());
	return p;
}

char *gr_oci_spec_default(int rootless)
{
	json_t *s = json_object();
	json_object_set_new(s, "ociVersion", json_string("1.0.2"));
	json_object_set_new(s, "process", process());
	json_t *root = json_object();
	json_object_set_new(root, "path", json_string("rootfs"));
	json_object_set_new(root, "readonly", json_true());
	json_object_set_new(s, "root", root);
	json_object_set_new(s, "hostname", json_string("gureum"));

	static const char *const nosuid_noexec_nodev[] = { "nosuid", "noexec", "nodev", NULL };
	json_t *mounts = json_array();
	json_array_append_new(mounts, mnt("/proc", "proc", "proc", nosuid_noexec_nodev));
	json_array_append_new(mounts, mnt("/dev", "tmpfs", "tmpfs", (const char *const[]){
		"nosuid", "strictatime", "mode=755", "size=65536k", NULL }));
	json_array_append_new(mounts, mnt("/dev/pts", "devpts", "devpts", rootless ?
		(const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666",
				       "mode=0620", NULL } :
		(const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666",
				       "mode=0620", "gid=5", NULL }));
	json_array_append_new(mounts, mnt("/dev/shm", "tmpfs", "shm", (const char *const[]){
		"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL }));
	json_array_append_new(mounts, mnt("/dev/mqueue", "mqueue", "mqueue", nosuid_noexec_nodev));
	if (rootless) {
		json_array_append_new(mounts, mnt("/sys", "none", "/sys", (const char *const[]){
			"rbind", "nosuid", "noexec", "nodev", "ro", NULL }));
	} else {
		json_array_append_new(mounts, mnt("/sys", "sysfs", "sysfs", (const char *const[]){
			"nosuid", "noexec", "nodev", "ro", NULL }));
		json_array_append_new(mounts, mnt("/sys/fs/cgroup", "cgroup", "cgroup",
			(const char *const[]){ "nosuid", "noexec", "nodev", "relatime", "ro", NULL }));
	}
	json_object_set_new(s, "mounts", mounts);

	json_t *lx = json_object();
	json_t *nss = json_array();
	static const char *const ns_types[] = { "pid", "network", "ipc", "uts", "mount", "cgroup" };
	for (size_t i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++)
		json_array_append_new(nss, ns(ns_types[i]));
	if (rootless) {
		json_array_append_new(nss, ns("user"));
		json_object_set_new(lx, "uidMappings", idmap((unsigned)getuid()));
		json_object_set_new(lx, "gidMappings", idmap((unsigned)getgid()));
	} else {
		json_t *res = json_object(), *devs = json_array(), *deny = json_object();
		json_object_set_new(deny, "allow", json_false());
		json_object_set_new(deny, "access", json_string("rwm"));
		json_array_append_new(devs, deny);
		json_object_set_new(res, "devices", devs);
		json_object_set_new(lx, "resources", res);
	}
	json_object_set_new(lx, "namespaces", nss);
	json_object_set_new(lx, "maskedPaths", strv(masked_paths));
	json_object_set_new(lx, "readonlyPaths", strv(readonly_paths));
	json_object_set_new(lx, "seccomp", seccomp());
	json_object_set_new(s, "linux", lx);

	char *text = json_dumps(s, JSON_INDENT(2) | JSON_PRESERVE_ORDER);   /* malloc'd */
	json_decref(s);
	if (!text)
		abort();   /* json_dumps only fails on out-of-memory */
	return text;
}
