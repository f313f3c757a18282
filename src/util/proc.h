/*
 * proc.h - the one way gureum runs a child process.
 *
 * No shell: argv is exec'd directly (argv[0] without a '/' is looked up in
 * PATH by the parent, before the fork).  Everything the child needs (the
 * resolved path, /dev/null, pipes, cgroup.procs files) is opened in the
 * parent, so between fork and exec the child only calls async-signal-safe
 * functions; that keeps it safe in a multi-threaded daemon.  The child gets
 * only fds 0-2 (and nothing else of the caller's), the default signal mask
 * and default signal dispositions.
 *
 * gr_proc_run() waits, with an optional deadline, and on failure puts the
 * last lines of the child's piped output into the error, so "qemu-img
 * failed with exit status 1: <why>" reaches the user.  gr_proc_spawn() only
 * starts (for long-lived children such as QEMU) and hands back a pidfd.
 * gr_proc_call() runs a function of ours in a forked child (for work that
 * must happen in another process, e.g. a container init inheriting stdio)
 * and brings its result and error back through a pipe.
 *
 * Threads: every function may be called from any thread.  Children are
 * waited for by pid, so a daemon that reaps stray children must leave the
 * pids it is told about (gr_proc_owned()) alone.
 */
#ifndef GR_UTIL_PROC_H
#define GR_UTIL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"

#define GR_PROC_NULL (-1)  /* the child's fd is /dev/null */
#define GR_PROC_PIPE (-2)  /* stdout/stderr: read by gr_proc_run (lines, tail, capture) */

typedef void (*gr_proc_line_fn)(const char *line, void *ud);

struct gr_proc {
	char *const *argv;            /* program and arguments, NULL-terminated */
	char *const *envp;            /* NULL = the caller's environment */
	const char *cwd;              /* NULL = unchanged */
	/* What the child gets as fds 0, 1, 2: an fd of the caller (borrowed),
	 * GR_PROC_NULL, or GR_PROC_PIPE (1 and 2 only; gr_proc_run only).  A
	 * zero-initialised struct means fd 0 for all three, so set them. */
	int fd_in, fd_out, fd_err;
	const void *input;            /* written to the child's stdin (fd_in unused) */
	size_t input_len;
	char *const *cgroup_procs;    /* cgroup.procs files the child joins before exec */
	bool new_session;             /* setsid() in the child */
	bool die_with_parent;         /* SIGKILL the child when the calling thread's process dies */
	int timeout_ms;               /* gr_proc_run: > 0 kill (SIGKILL) after this long: ETIMEDOUT */
	gr_proc_line_fn on_line;      /* each line of piped output ('\n' or '\r' ended) */
	void *ud;
	char **capture;               /* piped stdout collected here (malloc'd, NUL-terminated);
				       * stderr then only feeds on_line and the tail */
	size_t capture_max;           /* bytes kept in *capture (0 = 1 MiB) */
	int *exit_status;             /* non-NULL: a non-zero exit is no error; exit code,
				       * or 128 + signal, lands here */
};

/* Run p to its end.  0 on exit 0 (or any exit when p->exit_status is set);
 * -1 with err: ENOENT the program is not found (naming it), ETIMEDOUT the
 * deadline passed (the child was killed), EIO a non-zero exit or a signal,
 * with the last lines of piped output. */
int gr_proc_run(const struct gr_proc *p, gr_error_t *err);
/* Start p and return at once: the child's pid (> 0), and when pidfd is not
 * NULL a pidfd for it (O_CLOEXEC; -1 when the kernel has none).  Neither
 * GR_PROC_PIPE nor input may be used.  -1 with err on failure. */
pid_t gr_proc_spawn(const struct gr_proc *p, int *pidfd, gr_error_t *err);
/* Wait for a child started by gr_proc_spawn (timeout_ms <= 0: no deadline;
 * on timeout the child is left running and ETIMEDOUT is returned).  *status
 * gets the exit code or 128 + signal. */
int gr_proc_wait(pid_t pid, int timeout_ms, int *status, gr_error_t *err);

/* gr_proc_call: run fn(ud, reply, err) in a forked child whose fds 0-2 are
 * in/out/errfd (GR_PROC_NULL allowed) and which keeps no other fd of the
 * caller.  The child dies with the caller (PR_SET_PDEATHSIG).  fn fills
 * `reply` (reply_len bytes, copied back to the caller's buffer) and returns
 * < 0 with err set on failure; that error comes back as the call's.  A child
 * that dies without answering is EIO naming `what`. */
typedef int (*gr_proc_call_fn)(void *ud, void *reply, gr_error_t *err);
int gr_proc_call(const char *what, gr_proc_call_fn fn, void *ud, int in, int out, int errfd,
		 void *reply, size_t reply_len, gr_error_t *err);

/* Pids some thread of this process is about to wait for by pid (children of
 * gr_proc_run/gr_proc_call between fork and wait).  A reaper of stray
 * children (a subreaper daemon) asks gr_proc_owned() first. */
bool gr_proc_owned(pid_t pid);
void gr_proc_own(pid_t pid);
void gr_proc_disown(pid_t pid);

/* Reap every exited child of this process that nobody waits for by pid
 * (not owned): for a child subreaper, whose re-parented orphans (e.g. the
 * intermediate process of a daemonizing program) would stay zombies.
 * keep(pid, ud) may veto a pid (return true to leave it for its own
 * waiter); may be NULL.  Returns how many were reaped. */
int gr_proc_reap_strays(bool (*keep)(pid_t pid, void *ud), void *ud);

#endif
