/*
 * exec.c - gr_rt_exec: another process in a running container.
 *
 * One clone(): the calling thread enters the container's pid namespace via
 * its pid_for_children just around the clone, so the new process is our direct
 * child (waitable) and pid-namespaced.  The child drops dumpable first
 * (CVE-2019-5736: the container cannot open its /proc/<pid>/exe while it still
 * runs runtime code), joins the other namespaces (user first, mount last) while
 * the parent moves it into the cgroup, waits for that ('c'), then applies the process
 * (caps.c) including the container's seccomp filter and execs.  The sync
 * socket is close-on-exec, so EOF on it tells the parent the exec happened.
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The network namespace before the user namespace: a container may have
 * joined one its user namespace does not own (a namespace file made by the
 * daemon, src/net), which only the caller's credentials may enter. */
static const enum gr_ns_type join_order[] = { GR_NS_NET, GR_NS_USER, GR_NS_IPC, GR_NS_UTS,
					      GR_NS_CGROUP, GR_NS_TIME, GR_NS_MNT };

__attribute__((noreturn)) static void exec_child(struct gr__process_plan *pp, const int *fds, int rootfd, int sync)
{
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	char go;
	if (recv(sync, &go, 1, 0) != 1 || go != GR__SYNC_GO)
		_exit(127);
	gr_error_t err;
	if (gr__lsm_open(&pp->lsm, &err) < 0) /* the host's /proc, before the mount namespace */
		gr__child_fail(sync, err.code, "%s", err.msg);
	for (size_t i = 0; i < sizeof join_order / sizeof join_order[0]; i++) {
		enum gr_ns_type t = join_order[i];
		if (fds[t] >= 0 && setns(fds[t], gr__ns_flag(t)) < 0)
			gr__child_fail(sync, errno, "cannot join the container's %s namespace: %s",
				       gr_ns_name(t), strerror(errno));
	}
	/* a container without its own mount namespace is chroot'ed in ours: enter its root */
	if (rootfd >= 0 && (fchdir(rootfd) < 0 || chroot(".") < 0))
		gr__child_fail(sync, errno, "cannot enter the container's root: %s", strerror(errno));
	if (chdir("/") < 0)
		gr__child_fail(sync, errno, "chdir /: %s", strerror(errno));
	if (gr__apply_stdio(pp) < 0)
		gr__child_fail(sync, errno, "stdio: %s", strerror(errno));
	if (pp->p->terminal) {
		if (gr__setup_terminal(pp->console_fd, pp->p, &err) < 0)
			gr__child_fail(sync, err.code, "%s", err.msg);
	}
	char cgmsg;
	if (recv(sync, &cgmsg, 1, 0) != 1 || cgmsg != GR__SYNC_CGROUP)
		_exit(127); /* the parent could not move us into the cgroup; it reports why */
	gr__exec_process(pp, sync);
}

static char *default_env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			       NULL };

int gr_rt_exec(const struct gr_rt_opts *o, const char *id, const struct gr_oci_process *proc,
	       bool detach, pid_t *pid_out, int *exit_status, gr_error_t *err)
{
	struct gr_rt_state st;
	struct gr__meta meta;
	if (gr__state_read(o, id, &st, &meta, err) < 0)
		return -1;
	int rc = -1, fds[GR_NS_COUNT], sv[2] = { -1, -1 }, saved_pidns = -1, rootfd = -1;
	for (int i = 0; i < GR_NS_COUNT; i++)
		fds[i] = -1;
	struct gr_oci_config *cfg = NULL;
	struct gr__process_plan pp;
	memset(&pp, 0, sizeof pp);
	pp.console_fd = -1;
	pp.lsm.apparmor_fd = pp.lsm.selinux_fd = -1;
	pid_t pid = -1;
	if (st.status != GR_RT_RUNNING && st.status != GR_RT_CREATED) {
		gr_error_set(err, ESRCH, "container '%s' is %s", id, gr_rt_status_name(st.status));
		goto out;
	}
	if (!proc || !proc->args || !proc->args[0]) {
		gr_error_set(err, EINVAL, "process.args: empty");
		goto out;
	}
	if (gr__check_caps_known(proc, err) < 0)
		goto out;
	if (gr_oci_config_load(st.bundle, &cfg, err) < 0) {
		gr_error_prefix(err, "reading the container's config");
		goto out;
	}
	pp.p = proc;
	if (gr__lsm_plan(proc, cfg->ignore_unsupported, &pp.lsm, err) < 0)
		goto out;
	for (int i = 0; o && i < 3; i++)
		pp.stdio[i] = o->stdio[i];
	pp.env = proc->env ? proc->env : default_env;
	if (cfg->seccomp) {
		_cleanup_free_ char *cache = xasprintf("%s/.cache", gr__root(o));
		if (gr__seccomp_compile_cached(cfg->seccomp, cache, &pp.bpf, err) < 0)
			goto out;
		pp.has_bpf = true;
	}
	if (proc->terminal) {
		if (!o || !o->console_socket) {
			gr_error_set(err, EINVAL, "--tty needs --console-socket");
			goto out;
		}
		if ((pp.console_fd = gr__console_connect(o->console_socket, err)) < 0)
			goto out;
	}
	for (int t = 0; t < GR_NS_COUNT; t++) {
		char mine[64], theirs[64];
		struct stat a, b;
		snprintf(mine, sizeof mine, "/proc/self/ns/%s", gr_ns_proc_name((enum gr_ns_type)t));
		snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)st.pid, gr_ns_proc_name((enum gr_ns_type)t));
		if (stat(theirs, &b) < 0 || (stat(mine, &a) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev))
			continue;
		fds[t] = open(theirs, O_RDONLY | O_CLOEXEC);
		if (fds[t] < 0) {
			gr_error_sys(err, "cannot open %s", theirs);
			goto out;
		}
	}
	if (fds[GR_NS_MNT] < 0) { /* same mount namespace as ours: the init is chroot'ed */
		char root[64];
		snprintf(root, sizeof root, "/proc/%d/root", (int)st.pid);
		rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0) {
			gr_error_sys(err, "cannot open %s", root);
			goto out;
		}
	}
	struct gr_cgroup cg; /* the hierarchies of create: not one mounted since */
	if (gr__cgroup_load(&cg, &meta, err) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		gr_error_sys(err, "socketpair");
		goto out;
	}
	if (fds[GR_NS_PID] >= 0) {
		saved_pidns = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (saved_pidns < 0 || setns(fds[GR_NS_PID], CLONE_NEWPID) < 0) {
			gr_error_sys(err, "cannot enter the container's pid namespace");
			goto out;
		}
	}
	pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0) {
		close(sv[0]);
		exec_child(&pp, fds, rootfd, sv[1]);
	}
	int saved_errno = errno;
	if (saved_pidns >= 0)
		setns(saved_pidns, CLONE_NEWPID);
	if (pid < 0) {
		errno = saved_errno;
		gr_error_sys(err, "clone");
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	/* GO first: the child joins the namespaces while we pay the cgroup.procs write
	 * (an RCU grace period); it waits for 'c' before it applies the process */
	char go = GR__SYNC_GO, cgmsg = GR__SYNC_CGROUP;
	if (send(sv[0], &go, 1, MSG_NOSIGNAL) < 0) {
		gr_error_sys(err, "sync with the exec'd process");
		goto out;
	}
	gr_error_t cgerr = { 0 };
	int cgrc = gr__cgroup_enter(&cg, pid, &cgerr);
	if (cgrc == 0)
		send(sv[0], &cgmsg, 1, MSG_NOSIGNAL); /* a failed child has its error queued */
	struct {
		char type;
		struct gr__sync_err e;
	} msg;
	ssize_t n;
	int resets = 0;
	do /* ECONNRESET: the child exited with 'c' unread; its error message is still queued */
		n = recv(sv[0], &msg, sizeof msg, cgrc < 0 ? MSG_DONTWAIT : 0);
	while (n < 0 && (errno == EINTR || (errno == ECONNRESET && ++resets < 3)));
	if (cgrc < 0 && (n <= 0 || msg.type != GR__SYNC_ERROR)) {
		*err = cgerr;
		goto out;
	}
	if (n > 0) {
		msg.e.msg[sizeof msg.e.msg - 1] = '\0';
		gr_error_set(err, msg.type == GR__SYNC_ERROR ? msg.e.code : EPROTO, "%s",
			     msg.type == GR__SYNC_ERROR ? msg.e.msg : "sync: unexpected message");
		goto out;
	}
	if (detach) {
		if (pid_out)
			*pid_out = pid;
		pid = -1;
		rc = 0;
		goto out;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			gr_error_sys(err, "waiting for the exec'd process");
			goto out;
		}
	}
	pid = -1;
	if (exit_status)
		*exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (pid_out)
		*pid_out = 0;
	rc = 0;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (saved_pidns >= 0)
		close(saved_pidns);
	if (rootfd >= 0)
		close(rootfd);
	for (int i = 0; i < GR_NS_COUNT; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (pp.console_fd >= 0)
		close(pp.console_fd);
	gr__bpf_free(&pp.bpf);
	gr__lsm_free(&pp.lsm);
	gr_oci_config_free(cfg);
	gr_rt_state_clear(&st);
	if (rc < 0)
		gr_error_prefix(err, "exec in container '%s'", id);
	return rc;
}
