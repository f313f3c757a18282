/*
 * caps.c - the process's last steps before execve: rlimits, user and groups,
 * the five capability sets, no_new_privs, seccomp, cwd, and the exec itself.
 *
 * Runs in the child (container init or exec'd process), so nothing here
 * allocates: capabilities go through capset(2)/prctl(2) directly.  Order
 * matters and follows runc: rlimits; seccomp now if no_new_privs is off (it
 * then needs CAP_SYS_ADMIN); bounding set; keep-caps + setgroups/setgid/setuid;
 * capset; ambient; cwd; no_new_privs; seccomp (last); execve.
 */
#include "runtime/runtime-internal.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

static int capset_sets(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
	};
	return (int)syscall(SYS_capset, &h, d);
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
	if (setgroups(u->n_additional_gids, u->additional_gids) < 0 &&
	    !(errno == EPERM && u->n_additional_gids == 0))
		return gr_error_sys(err, "process.user.additionalGids: setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return gr_error_sys(err, "process.user.gid: setresgid(%u)", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return gr_error_sys(err, "process.user.uid: setresuid(%u)", (unsigned)u->uid);
	if (p->has_caps) {
		if (capset_sets(p->caps[GR_CAP_EFFECTIVE], p->caps[GR_CAP_PERMITTED],
				p->caps[GR_CAP_INHERITABLE]) < 0)
			return gr_error_sys(err, "process.capabilities: capset");
		for (int c = 0; c < 64; c++)
			if ((p->caps[GR_CAP_AMBIENT] & (1ull << c)) &&
			    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
				return gr_error_sys(err, "process.capabilities.ambient: raising %d", c);
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

void gr__exec_process(struct gr__process_plan *pp, int errfd)
{
	const struct gr_oci_process *p = pp->p;
	gr_error_t err = { 0 };
	if (gr__apply_rlimits(p, &err) < 0)
		gr__child_fail(errfd, err.code, "%s", err.msg);
	if (pp->has_bpf && !p->no_new_privileges && gr__seccomp_install(&pp->bpf) < 0)
		gr__child_fail(errfd, errno, "linux.seccomp: cannot load the filter: %s", strerror(errno));
	if (gr__apply_user_caps(p, &err) < 0)
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
