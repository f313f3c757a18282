/*
 * init.c - the child side of create: the container's init until it execs.
 *
 * Started by clone() with the new namespaces; talks to the parent over a
 * SOCK_SEQPACKET pair (runtime-internal.h: GR__SYNC_*):
 *   parent: uid/gid maps, oom_score_adj -> 'g'[state JSON]; then cgroup.procs
 *           writes (slow: an RCU grace period) -> 'c', overlapping the child's work
 *   child:  lo up in a new network namespace, setns joins, hostname, sysctl, mounts, /dev
 *           [hooks: -> 'p', parent runs prestart+createRuntime -> 'g';
 *            child runs createContainer]
 *           pivot_root, masked/ro paths, terminal, finds the program,
 *           [waits for 'c'], unshare(CLONE_NEWCGROUP), credentials tried in a
 *           vfork()ed copy (caps.c) -> 'r'
 *   parent: state.json, pid file -> 'd'
 *   then it waits on the exec fifo for `start`, runs startContainer hooks and
 *   execs the program (caps.c).  Any failure sends 'e'+struct gr__sync_err
 *   and exits; the parent then removes everything.  The child first closes
 *   every inherited fd it does not use (the parent's end of the socket among
 *   them), so if the parent dies before 'd' the child reads EOF and exits.
 *
 * CVE-2019-5736: the first thing the child does is PR_SET_DUMPABLE 0, so no
 * process in the container can open /proc/<init>/exe (the runtime binary)
 * while init still runs runtime code; after execve the mapping is the user's
 * program.  Nothing here allocates (the parent may be multi-threaded).
 */
#include "runtime/runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void gr__child_fail(int fd, int code, const char *fmt, ...)
{
	struct {
		char type;
		struct gr__sync_err e;
	} msg;
	memset(&msg, 0, sizeof msg);
	msg.type = GR__SYNC_ERROR;
	msg.e.code = code ? code : EIO;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg.e.msg, sizeof msg.e.msg, fmt, ap);
	va_end(ap);
	if (fd < 0 || send(fd, &msg, sizeof msg, MSG_NOSIGNAL) < 0) {
		char line[1100];
		int n = snprintf(line, sizeof line, "gureum-oci: %s\n", msg.e.msg);
		if (write(2, line, (size_t)n) < 0)
			_exit(127);
	}
	_exit(127);
}

static const int ns_clone_flag[GR_NS_COUNT] = {
	[GR_NS_PID] = CLONE_NEWPID, [GR_NS_NET] = CLONE_NEWNET, [GR_NS_MNT] = CLONE_NEWNS,
	[GR_NS_IPC] = CLONE_NEWIPC, [GR_NS_UTS] = CLONE_NEWUTS, [GR_NS_USER] = CLONE_NEWUSER,
	[GR_NS_CGROUP] = CLONE_NEWCGROUP, [GR_NS_TIME] = 0x80 /* CLONE_NEWTIME */,
};

int gr__ns_flag(enum gr_ns_type t)
{
	return t < GR_NS_COUNT ? ns_clone_flag[t] : 0;
}

/* Wait for one message of `want` type; the payload (if any) lands in plan->hook_state.
 * GR__SYNC_CGROUP may arrive in between (the parent sends it as soon as the slow
 * cgroup.procs writes are done); it is noted and skipped. */
static void wait_msg(struct gr__plan *plan, char want)
{
	char *buf = plan->hook_state;
	for (;;) {
		ssize_t n;
		do
			n = recv(plan->sync_fd, buf, GR__HOOK_STATE_MAX, 0);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			_exit(127); /* the parent went away: it cleans up */
		if (buf[0] == GR__SYNC_CGROUP && want != GR__SYNC_CGROUP) {
			plan->cg_joined = true;
			continue;
		}
		if (buf[0] != want)
			gr__child_fail(plan->sync_fd, EPROTO, "sync: expected '%c', got '%c'", want, buf[0]);
		memmove(buf, buf + 1, (size_t)n - 1);
		buf[n - 1] = '\0';
		return;
	}
}

static void send_msg(struct gr__plan *plan, char type)
{
	if (send(plan->sync_fd, &type, 1, MSG_NOSIGNAL) < 0)
		_exit(127);
}

static void apply_sysctls(struct gr__plan *plan)
{
	const struct gr_oci_config *cfg = plan->cfg;
	for (size_t i = 0; i < cfg->n_sysctl; i++) {
		char path[512];
		const char *k = cfg->sysctl[i].key;
		if (strstr(k, ".."))
			gr__child_fail(plan->sync_fd, EINVAL, "linux.sysctl: bad key '%s'", k);
		int o = snprintf(path, sizeof path, "/proc/sys/");
		for (const char *c = k; *c && o < (int)sizeof path - 1; c++)
			path[o++] = *c == '.' ? '/' : *c;
		path[o] = '\0';
		gr_error_t err;
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, cfg->sysctl[i].value, strlen(cfg->sysctl[i].value)) < 0)
			gr__child_fail(plan->sync_fd, errno, "linux.sysctl[%s]: cannot write %s: %s", k, path,
				       strerror(errno));
		close(fd);
		(void)err;
	}
}

/* A new network namespace starts with lo down, and the container's program usually lacks
 * CAP_NET_ADMIN to raise it: bring it up, as crun does, while the init still holds the
 * caller's capabilities (or full ones in its new user namespace, which then owns the
 * network namespace).  Namespaces joined by path are left as they are. */
static void loopback_up(int fd)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) /* no IPv4: any socket reaches the device ioctls */
		s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		gr__child_fail(fd, errno, "linux.namespaces: network: socket for lo: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		gr__child_fail(fd, errno, "linux.namespaces: network: reading the flags of lo: %s", strerror(errno));
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			gr__child_fail(fd, errno, "linux.namespaces: network: cannot bring lo up in the new network "
				       "namespace: %s", strerror(errno));
	}
	close(s);
}

static void wait_start(struct gr__plan *plan)
{
	for (;;) {
		struct pollfd p = { plan->fifo_fd, POLLIN, 0 };
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(127);
		}
		char c;
		ssize_t n = read(plan->fifo_fd, &c, 1);
		if (n == 1)
			return;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			_exit(127);
		if (n == 0 && (p.revents & POLLHUP)) {
			/* a writer came and went without starting us: reopen to clear the hangup */
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
}

/* Close every inherited descriptor the init does not use: the parent's end of our sync
 * socket (so the parent's death is EOF here) and, in a multi-threaded caller, ends of
 * other containers' sync sockets cloned meanwhile (which would keep their inits from
 * seeing EOF).  Kept: stdio, the preserved fds, and the ones the plan holds. */
static void close_stray_fds(struct gr__plan *plan)
{
	int keep[GR_NS_COUNT + 8];
	size_t n = 0;
	keep[n++] = plan->sync_fd;
	keep[n++] = plan->fifo_fd;
	keep[n++] = plan->proc.console_fd;
	for (int i = 0; i < 3; i++)
		keep[n++] = plan->proc.stdio[i];
	for (int i = 0; i < GR_NS_COUNT; i++)
		keep[n++] = plan->join_fds[i];
	for (size_t i = 1; i < n; i++) /* insertion sort, no allocation */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned lo = 3u + (unsigned)plan->preserve_fds;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < lo)
			continue;
		if ((unsigned)keep[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
	if (plan->parent_sync_fd >= 3 && plan->parent_sync_fd < 3 + plan->preserve_fds)
		close(plan->parent_sync_fd); /* cannot be a preserved fd: it is ours */
}

void gr__init_main(struct gr__plan *plan)
{
	const struct gr_oci_config *cfg = plan->cfg;
	int fd = plan->sync_fd;
	gr_error_t err = { 0 };

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	close_stray_fds(plan);
	wait_msg(plan, GR__SYNC_GO);
	if (plan->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		gr__child_fail(fd, errno, "linux.uidMappings: container root is not mapped: %s",
			       strerror(errno));
	if (plan->clone_flags & CLONE_NEWNET)
		loopback_up(fd);
	if (gr__lsm_open(&plan->proc.lsm, &err) < 0) /* the host's /proc, before any pivot */
		gr__child_fail(fd, err.code, "%s", err.msg);
	static const enum gr_ns_type order[] = { GR_NS_USER, GR_NS_IPC, GR_NS_UTS, GR_NS_NET,
						 GR_NS_CGROUP, GR_NS_TIME, GR_NS_MNT };
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		int nsfd = plan->join_fds[order[i]];
		if (nsfd >= 0 && setns(nsfd, gr__ns_flag(order[i])) < 0)
			gr__child_fail(fd, errno, "linux.namespaces: cannot join the %s namespace: %s",
				       gr_ns_name(order[i]), strerror(errno));
	}
	if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		gr__child_fail(fd, errno, "hostname: %s", strerror(errno));
	if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
		gr__child_fail(fd, errno, "domainname: %s", strerror(errno));
	apply_sysctls(plan);
	if (gr__setup_mounts(plan, &err) < 0)
		gr__child_fail(fd, err.code, "%s", err.msg);
	if (plan->has_runtime_hooks) {
		send_msg(plan, GR__SYNC_PREPIVOT);
		wait_msg(plan, GR__SYNC_GO);
	}
	if (cfg->n_hooks[GR_HOOK_CREATE_CONTAINER] &&
	    gr__run_hooks(cfg->hooks[GR_HOOK_CREATE_CONTAINER], cfg->n_hooks[GR_HOOK_CREATE_CONTAINER],
			  plan->hook_state, "createContainer", &err) < 0)
		gr__child_fail(fd, err.code, "%s", err.msg);
	if (gr__pivot_root(plan, &err) < 0 || gr__finish_rootfs(plan, &err) < 0)
		gr__child_fail(fd, err.code, "%s", err.msg);
	if (gr__apply_stdio(&plan->proc) < 0)
		gr__child_fail(fd, errno, "stdio: %s", strerror(errno));
	if (cfg->process->terminal) {
		if (gr__setup_terminal(plan->proc.console_fd, cfg->process, &err) < 0)
			gr__child_fail(fd, err.code, "%s", err.msg);
	} else if (cfg->process->cwd && chdir(cfg->process->cwd) < 0) {
		gr__child_fail(fd, errno, "process.cwd: cannot enter %s: %s", cfg->process->cwd,
			       strerror(errno));
	}
	if (gr__find_exe(plan->proc.env, cfg->process->args[0], plan->proc.exe, sizeof plan->proc.exe) < 0)
		gr__child_fail(fd, ENOENT, "process.args[0]: '%s' not found in the container",
			       cfg->process->args[0]);
	/* the cgroup namespace is rooted at the container's cgroup, so it is made
	 * only once the parent has moved us there */
	if (!plan->cg_joined)
		wait_msg(plan, GR__SYNC_CGROUP);
	if (plan->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
		gr__child_fail(fd, errno, "linux.namespaces: cannot create the cgroup namespace: %s",
			       strerror(errno));
	if (plan->new_timens && unshare(gr__ns_flag(GR_NS_TIME)) < 0)
		gr__child_fail(fd, errno, "linux.namespaces: cannot create the time namespace: %s",
			       strerror(errno));
	/* what the kernel would refuse at the exec (capset, setuid, rlimits) fails create now */
	if (gr__check_creds(&plan->proc, &err) < 0)
		gr__child_fail(fd, err.code, "%s", err.msg);
	send_msg(plan, GR__SYNC_READY);
	/* the state is saved only now; EOF instead of 'd' = create failed or died: exit */
	wait_msg(plan, GR__SYNC_DONE);
	close(fd);

	wait_start(plan);
	/* fifo_fd stays open (close-on-exec) so `start` can see the exec happen */
	if (cfg->n_hooks[GR_HOOK_START_CONTAINER] &&
	    gr__run_hooks(cfg->hooks[GR_HOOK_START_CONTAINER], cfg->n_hooks[GR_HOOK_START_CONTAINER],
			  plan->hook_state, "startContainer", &err) < 0)
		gr__child_fail(-1, err.code, "%s", err.msg);
	syscall(SYS_close_range, 3 + plan->preserve_fds, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
	gr__exec_process(&plan->proc, -1);
}
