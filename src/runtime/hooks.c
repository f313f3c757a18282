/*
 * hooks.c - running OCI hooks: the state JSON on stdin, a timeout, the exit status.
 *
 * Used by the parent (prestart, createRuntime, poststart, poststop) and by the
 * container's init (createContainer, startContainer), so it does not allocate:
 * the hook is started with vfork + execve and waited on through a pidfd.  A
 * failing poststart or poststop hook is a warning in the process's log
 * (util/log.h), never a write to stderr: in gureumd that is an instance's console.
 */
#include "runtime/runtime-internal.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const char *gr__hook_kind_name(enum gr_hook_kind k)
{
	static const char *const names[GR_HOOK_NKINDS] = {
		"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
	};
	return k < GR_HOOK_NKINDS ? names[k] : "?";
}

static int run_one(const struct gr_oci_hook *h, const char *state, const char *kind, size_t i,
		   gr_error_t *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return gr_error_sys(err, "hooks.%s[%zu]: pipe", kind, i);
	char *fallback_args[] = { h->path, NULL };
	char *empty_env[] = { NULL };
	char *const *args = h->args && h->args[0] ? h->args : fallback_args;
	char *const *env = h->env ? h->env : empty_env;
	pid_t pid = vfork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return gr_error_sys(err, "hooks.%s[%zu]: fork", kind, i);
	}
	if (pid == 0) {
		if (dup2(pfd[0], 0) < 0)
			_exit(127);
		execve(h->path, args, env);
		_exit(127);
	}
	close(pfd[0]);
	fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	size_t len = strlen(state);
	/* a hook that does not read its stdin is fine: EPIPE, not SIGPIPE */
	sigset_t pipe_set, old_set;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old_set);
	ssize_t w = write(pfd[1], state, len);
	(void)w;
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	sigprocmask(SIG_SETMASK, &old_set, NULL);
	close(pfd[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (h->timeout > 0 && pidfd >= 0) {
		struct pollfd p = { pidfd, POLLIN, 0 };
		int r;
		do
			r = poll(&p, 1, h->timeout * 1000);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(pidfd);
			return gr_error_set(err, ETIMEDOUT, "hooks.%s[%zu]: %s timed out after %d s", kind, i,
					    h->path, h->timeout);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return gr_error_sys(err, "hooks.%s[%zu]: waitpid", kind, i);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return gr_error_set(err, EIO, "hooks.%s[%zu]: %s exited with status %d", kind, i, h->path,
				    WEXITSTATUS(status));
	return gr_error_set(err, EIO, "hooks.%s[%zu]: %s killed by signal %d", kind, i, h->path,
			    WTERMSIG(status));
}

void gr__run_hooks_warn(const struct gr_oci_hook *h, size_t n, const char *state_json, const char *kind,
			const char *id)
{
	for (size_t i = 0; i < n; i++) {
		gr_error_t e = { 0 };
		if (run_one(&h[i], state_json, kind, i, &e) < 0)
			gr_log_warn("container '%s': %s", id, e.msg);
	}
}

int gr__run_hooks(const struct gr_oci_hook *h, size_t n, const char *state_json, const char *kind,
		  gr_error_t *err)
{
	for (size_t i = 0; i < n; i++)
		if (run_one(&h[i], state_json, kind, i, err) < 0)
			return -1;
	return 0;
}
