/*
 * caps.c - the process's last steps before execve: rlimits, user and groups,
 * the five capability sets, no_new_privs, seccomp, cwd, and the exec itself.
 *
 * Runs in the child (container init or exec'd process), so nothing here
 * allocates: capabilities go through capset(2)/prctl(2) directly, and the
 * credential calls are raw system calls (they change the calling task only;
 * glibc's wrappers would also signal the threads of the process the init was
 * cloned from, which do not exist in it).  Order matters and follows runc:
 * rlimits; seccomp now if no_new_privs is off (it then needs CAP_SYS_ADMIN);
 * bounding set; keep-caps + setgroups/setgid/setuid; capset; ambient; AppArmor /
 * SELinux exec labels (lsm.c); cwd; no_new_privs; seccomp (last); execve.
 *
 * The init runs the credential steps once more before it reports ready, in a
 * vfork()ed child (credentials belong to the task, so the init keeps its own):
 * what the kernel refuses - a capability set outside what the runtime holds, a
 * user not mapped, an rlimit above the hard limit - fails create, as with crun
 * and runc, instead of the program's start.  gr__check_caps_known (parent)
 * refuses capabilities the running kernel does not know, which capset(2)
 * would drop without a word.
 */
#include "runtime/runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int gr__apply_stdio(const struct gr__process_plan *pp)
{
	for (int i = 0; i < 3; i++)
		if (pp->stdio[i] > 0 && pp->stdio[i] != i && dup2(pp->stdio[i], i) < 0)
			return -1;
	return 0;
}

int gr__apply_rlimits(const struct gr_oci_process *p, gr_error_t *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { p->rlimits[i].soft, p->rlimits[i].hard };
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return gr_error_sys(err, "process.rlimits[%zu]: setrlimit", i);
	}
	return 0;
}

static const char *const set_names[GR_CAP_NSETS] = {
	[GR_CAP_BOUNDING] = "bounding", [GR_CAP_EFFECTIVE] = "effective",
	[GR_CAP_INHERITABLE] = "inheritable", [GR_CAP_PERMITTED] = "permitted", [GR_CAP_AMBIENT] = "ambient",
};

static int lowest_cap(uint64_t bits)
{
	return bits ? __builtin_ctzll(bits) : -1;
}

static const char *cap_label(int c, char *buf, size_t len)
{
	const char *n = gr_cap_name(c);
	if (n)
		return n;
	snprintf(buf, len, "capability %d", c);
	return buf;
}

int gr__check_caps_known(const struct gr_oci_process *p, gr_error_t *err)
{
	if (!p->has_caps)
		return 0;
	int last = GR_CAP_LAST;
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			last = atoi(buf);
		}
	}
	if (last < 0 || last >= 63)
		return 0;
	for (int s = 0; s < GR_CAP_NSETS; s++) {
		int c = lowest_cap(p->caps[s] >> (last + 1));
		if (c >= 0) {
			char lb[32], cb[32];
			return gr_error_set(err, EINVAL,
					    "process.capabilities.%s: %s is not known to the running kernel (its last "
					    "capability is %s)", set_names[s], cap_label(c + last + 1, cb, sizeof cb),
					    cap_label(last, lb, sizeof lb));
		}
	}
	return 0;
}

static int capset_sets(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
	};
	return (int)syscall(SYS_capset, &h, d);
}

static int capget_sets(uint64_t *eff, uint64_t *perm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

/* capset(2) said EPERM: name the set and the capability the kernel's rules refuse. */
static int capset_refused(const struct gr_oci_process *p, gr_error_t *err)
{
	uint64_t eff = 0, perm = 0, inh = 0, bset = 0;
	capget_sets(&eff, &perm, &inh);
	for (int c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			bset |= 1ull << c;
	const uint64_t *want = p->caps;
	char cb[32];
	int c;
	if ((c = lowest_cap(want[GR_CAP_PERMITTED] & ~perm)) >= 0)
		return gr_error_set(err, EPERM, "process.capabilities.permitted: %s is not in the runtime's "
				    "permitted set (capset: Operation not permitted)", cap_label(c, cb, sizeof cb));
	if ((c = lowest_cap(want[GR_CAP_EFFECTIVE] & ~want[GR_CAP_PERMITTED])) >= 0)
		return gr_error_set(err, EPERM, "process.capabilities.effective: %s is not in "
				    "process.capabilities.permitted (capset: Operation not permitted)",
				    cap_label(c, cb, sizeof cb));
	if ((c = lowest_cap(want[GR_CAP_INHERITABLE] & ~(inh | bset))) >= 0)
		return gr_error_set(err, EPERM, "process.capabilities.inheritable: %s is not in the bounding "
				    "set (capset: Operation not permitted)", cap_label(c, cb, sizeof cb));
	if ((c = lowest_cap(want[GR_CAP_INHERITABLE] & ~(inh | perm))) >= 0)
		return gr_error_set(err, EPERM, "process.capabilities.inheritable: %s is not in the runtime's "
				    "permitted set (capset: Operation not permitted)", cap_label(c, cb, sizeof cb));
	return gr_error_set(err, EPERM, "process.capabilities: capset: Operation not permitted");
}

int gr__apply_user_caps(const struct gr_oci_process *p, gr_error_t *err)
{
	const struct gr_oci_user *u = &p->user;
	if (p->has_caps) {
		for (int c = 0; c < 64; c++) {
			int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
			if (r < 0)
				break; /* past the kernel's last capability */
			if (r == 1 && !(p->caps[GR_CAP_BOUNDING] & (1ull << c)) &&
			    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
				return gr_error_sys(err, "process.capabilities.bounding: dropping %d", c);
		}
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return gr_error_sys(err, "prctl(PR_SET_KEEPCAPS)");
	}
	if (syscall(SYS_setgroups, u->n_additional_gids, u->additional_gids) < 0 &&
	    !(errno == EPERM && u->n_additional_gids == 0))
		return gr_error_sys(err, "process.user.additionalGids: setgroups");
	if (syscall(SYS_setresgid, u->gid, u->gid, u->gid) < 0)
		return gr_error_sys(err, "process.user.gid: setresgid(%u)", (unsigned)u->gid);
	if (syscall(SYS_setresuid, u->uid, u->uid, u->uid) < 0)
		return gr_error_sys(err, "process.user.uid: setresuid(%u)", (unsigned)u->uid);
	if (p->has_caps) {
		if (capset_sets(p->caps[GR_CAP_EFFECTIVE], p->caps[GR_CAP_PERMITTED],
				p->caps[GR_CAP_INHERITABLE]) < 0)
			return errno == EPERM ? capset_refused(p, err) : gr_error_sys(err, "process.capabilities: capset");
		for (int c = 0; c < 64; c++) {
			char cb[32];
			if ((p->caps[GR_CAP_AMBIENT] & (1ull << c)) &&
			    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
				return gr_error_sys(err, "process.capabilities.ambient: raising %s (an ambient "
						    "capability must be permitted and inheritable)",
						    cap_label(c, cb, sizeof cb));
		}
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (u->has_umask)
		umask(u->umask);
	return 0;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

int gr__find_exe(char *const *env, const char *arg0, char *out, size_t len)
{
	if (strchr(arg0, '/')) {
		snprintf(out, len, "%s", arg0);
		struct stat st;
		if (stat(out, &st) < 0)
			return -1;
		if (!S_ISREG(st.st_mode) || access(out, X_OK) < 0)
			return errno = EACCES, -1;
		return 0;
	}
	const char *path = env_get(env, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(out, len, "%.*s/%s", (int)n, n ? path : ".", arg0);
		struct stat st;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		path += n;
		if (*path)
			path++;
	}
	errno = ENOENT;
	return -1;
}

/* rlimits, the early seccomp filter, user and capabilities: what the trial repeats. */
static int apply_creds(const struct gr__process_plan *pp, gr_error_t *err)
{
	const struct gr_oci_process *p = pp->p;
	if (gr__apply_rlimits(p, err) < 0)
		return -1;
	if (pp->has_bpf && !p->no_new_privileges && gr__seccomp_install(&pp->bpf) < 0)
		return gr_error_sys(err, "linux.seccomp: cannot load the filter");
	return gr__apply_user_caps(p, err);
}

int gr__check_creds(const struct gr__process_plan *pp, gr_error_t *err)
{
	gr_error_t child_err = { 0 };
	gr_error_t *volatile ce = &child_err;
	pid_t pid = vfork();
	if (pid == 0) /* shares our memory until _exit, but has its own credentials */
		_exit(apply_creds(pp, ce) < 0 ? 1 : 0);
	if (pid < 0)
		return gr_error_sys(err, "checking the process's credentials: vfork");
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return gr_error_sys(err, "checking the process's credentials: waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && ce->msg[0]) {
		*err = *ce;
		return -1;
	}
	return gr_error_set(err, EIO, "checking the process's rlimits, seccomp filter and capabilities: the "
			    "check ended with status 0x%x", status);
}

void gr__exec_process(struct gr__process_plan *pp, int errfd)
{
	const struct gr_oci_process *p = pp->p;
	gr_error_t err = { 0 };
	if (apply_creds(pp, &err) < 0 || gr__lsm_apply(&pp->lsm, &err) < 0)
		gr__child_fail(errfd, err.code, "%s", err.msg);
	if (p->cwd && chdir(p->cwd) < 0)
		gr__child_fail(errfd, errno, "process.cwd: cannot enter %s: %s", p->cwd, strerror(errno));
	if (!pp->exe[0] && gr__find_exe(pp->env, p->args[0], pp->exe, sizeof pp->exe) < 0)
		gr__child_fail(errfd, ENOENT, "process.args[0]: '%s' not found in the container's PATH",
			       p->args[0]);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		gr__child_fail(errfd, errno, "process.noNewPrivileges: %s", strerror(errno));
	if (pp->has_bpf && p->no_new_privileges && gr__seccomp_install(&pp->bpf) < 0)
		gr__child_fail(errfd, errno, "linux.seccomp: cannot load the filter: %s", strerror(errno));
	execve(pp->exe, p->args, pp->env);
	gr__child_fail(errfd, errno, "process.args[0]: cannot execute %s: %s", pp->exe, strerror(errno));
}
