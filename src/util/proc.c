/*
 * proc.c - running child processes (proc.h has the contract).
 *
 * Child side: between fork() and execve() only async-signal-safe calls
 * (write, open was done by the parent, dup2/fcntl, setsid, prctl, chdir,
 * sigaction, sigprocmask, close_range, execve, _exit).  The parent resolves
 * the program in PATH, opens /dev/null, the pipes and the cgroup.procs files
 * first.  A failure in the child before exec is reported through a CLOEXEC
 * "exec pipe" (step + errno), so "cannot run X" and "cannot join cgroup Y"
 * are told apart from an exit status of the program.
 *
 * gr_proc_call runs a function of ours in a forked child (in sanitized
 * builds a child sharing our memory: see GR_PROC_CALL_SHARED below).
 *
 * The owned-pid set (gr_proc_own) is a small mutex-guarded array: children
 * between fork and their waitpid, so that a stray-child reaper running on
 * another thread leaves them to their waiter.
 */
#include "util/proc.h"

#if defined(__SANITIZE_ADDRESS__)
#define GR_PROC_CALL_SHARED 1
#include <sanitizer/asan_interface.h>
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"

extern char **environ;

#define TAIL_LINES 6
#define LINE_MAX_BYTES 8192

/* ---- owned pids ---- */

static pthread_mutex_t owned_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *owned;
static size_t n_owned, cap_owned;

void gr_proc_own(pid_t pid)
{
	pthread_mutex_lock(&owned_lock);
	if (n_owned == cap_owned) {
		cap_owned = cap_owned ? 2 * cap_owned : 16;
		owned = xrealloc(owned, cap_owned * sizeof *owned);
	}
	owned[n_owned++] = pid;
	pthread_mutex_unlock(&owned_lock);
}

void gr_proc_disown(pid_t pid)
{
	pthread_mutex_lock(&owned_lock);
	for (size_t i = 0; i < n_owned; i++)
		if (owned[i] == pid) {
			owned[i] = owned[--n_owned];
			break;
		}
	pthread_mutex_unlock(&owned_lock);
}

/* fork() with the child's pid in the owned set before any other thread can
 * look: a reaper never sees a child of ours that is not marked yet.  The
 * child (single-threaded from here) starts with a fresh, empty set. */
static pid_t fork_owned(void)
{
	pthread_mutex_lock(&owned_lock);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
		owned_lock = fresh;
		n_owned = 0;
		return 0;
	}
	if (pid > 0) {
		if (n_owned == cap_owned) {
			cap_owned = cap_owned ? 2 * cap_owned : 16;
			owned = xrealloc(owned, cap_owned * sizeof *owned);
		}
		owned[n_owned++] = pid;
	}
	pthread_mutex_unlock(&owned_lock);
	return pid;
}

bool gr_proc_owned(pid_t pid)
{
	bool r = false;
	pthread_mutex_lock(&owned_lock);
	for (size_t i = 0; i < n_owned && !r; i++)
		r = owned[i] == pid;
	pthread_mutex_unlock(&owned_lock);
	return r;
}

/* ---- parent-side preparation ---- */

/* argv[0] resolved in PATH (malloc'd), or NULL when not found. */
static char *resolve(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? xstrdup(prog) : NULL;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path;;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		char *cand = n ? xasprintf("%.*s/%s", (int)n, p, prog) : xasprintf("./%s", prog);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!colon)
			return NULL;
		p = colon + 1;
	}
}

struct prep {
	char *exe;
	int devnull;
	int out_pipe[2], err_pipe[2], in_pipe[2];
	int exec_pipe[2];          /* child -> parent: step and errno of a failure before exec */
	int *cg_fds;
	size_t n_cg;
};

enum child_step { STEP_CGROUP = 1, STEP_CHDIR, STEP_FDS, STEP_EXEC };

static void prep_close(struct prep *pr)
{
	free(pr->exe);
	int *fds[] = { &pr->devnull, &pr->out_pipe[0], &pr->out_pipe[1], &pr->err_pipe[0],
		       &pr->err_pipe[1], &pr->in_pipe[0], &pr->in_pipe[1], &pr->exec_pipe[0],
		       &pr->exec_pipe[1] };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	for (size_t i = 0; i < pr->n_cg; i++)
		if (pr->cg_fds[i] >= 0)
			close(pr->cg_fds[i]);
	free(pr->cg_fds);
	pr->cg_fds = NULL;
	pr->n_cg = 0;
	pr->exe = NULL;
}

static int prep_open(const struct gr_proc *p, bool piped_ok, struct prep *pr, gr_error_t *err)
{
	memset(pr, 0, sizeof *pr);
	pr->devnull = pr->out_pipe[0] = pr->out_pipe[1] = pr->err_pipe[0] = pr->err_pipe[1] = -1;
	pr->in_pipe[0] = pr->in_pipe[1] = pr->exec_pipe[0] = pr->exec_pipe[1] = -1;
	if (!p->argv || !p->argv[0] || !*p->argv[0])
		return gr_error_set(err, EINVAL, "no program to run");
	if (!piped_ok && (p->fd_out == GR_PROC_PIPE || p->fd_err == GR_PROC_PIPE || p->input))
		return gr_error_set(err, EINVAL, "%s: output pipes and input need gr_proc_run",
				    p->argv[0]);
	if (p->fd_in == GR_PROC_PIPE)
		return gr_error_set(err, EINVAL, "%s: stdin cannot be GR_PROC_PIPE (use input)",
				    p->argv[0]);
	pr->exe = resolve(p->argv[0]);
	if (!pr->exe)
		return gr_error_set(err, ENOENT, "cannot run %s: not found (not installed?)", p->argv[0]);
	pr->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (pr->devnull < 0)
		return gr_error_sys(err, "/dev/null");
	if ((p->fd_out == GR_PROC_PIPE && pipe2(pr->out_pipe, O_CLOEXEC) < 0) ||
	    (p->fd_err == GR_PROC_PIPE && (p->capture || p->fd_out != GR_PROC_PIPE) &&
	     pipe2(pr->err_pipe, O_CLOEXEC) < 0) ||
	    (p->input && pipe2(pr->in_pipe, O_CLOEXEC) < 0) || pipe2(pr->exec_pipe, O_CLOEXEC) < 0)
		return gr_error_sys(err, "pipe");
	pr->n_cg = gr_strv_len(p->cgroup_procs);
	pr->cg_fds = xcalloc(pr->n_cg + 1, sizeof *pr->cg_fds);
	for (size_t i = 0; i < pr->n_cg; i++) {
		pr->cg_fds[i] = open(p->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
		if (pr->cg_fds[i] < 0)
			return gr_error_sys(err, "%s", p->cgroup_procs[i]);
	}
	return 0;
}

/* ---- child ---- */

static void __attribute__((noreturn)) child_fail(int fd, int step)
{
	int msg[2] = { step, errno };
	ssize_t w = write(fd, msg, sizeof msg);
	(void)w;
	_exit(127);
}

/* The fd the child gets at position i. */
static int child_src(const struct gr_proc *p, const struct prep *pr, int i)
{
	int want = i == 0 ? p->fd_in : i == 1 ? p->fd_out : p->fd_err;
	if (i == 0 && p->input)
		return pr->in_pipe[0];
	if (want == GR_PROC_PIPE) {
		/* stderr joins stdout's pipe unless it has its own (stdout captured
		 * apart, or not piped at all) */
		if (i == 2 && pr->err_pipe[1] >= 0)
			return pr->err_pipe[1];
		return pr->out_pipe[1];
	}
	return want >= 0 ? want : pr->devnull;
}

static void __attribute__((noreturn)) child(const struct gr_proc *p, const struct prep *pr)
{
	int ep = pr->exec_pipe[1];
	for (size_t i = 0; i < pr->n_cg; i++)
		if (write(pr->cg_fds[i], "0", 1) != 1)
			child_fail(ep, STEP_CGROUP);
	if (p->new_session)
		setsid();
	if (p->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* move the sources above 2 first, so dup2 never clobbers one */
	int src[3];
	for (int i = 0; i < 3; i++) {
		src[i] = fcntl(child_src(p, pr, i), F_DUPFD_CLOEXEC, 3);
		if (src[i] < 0)
			child_fail(ep, STEP_FDS);
	}
	for (int i = 0; i < 3; i++)
		if (dup2(src[i], i) < 0)
			child_fail(ep, STEP_FDS);
	/* keep the exec pipe (CLOEXEC) just above stdio, close the rest */
	if (ep != 3) {
		if (dup3(ep, 3, O_CLOEXEC) < 0)
			child_fail(ep, STEP_FDS);
		ep = 3;
	}
	syscall(SYS_close_range, 4U, ~0U, 0U);
	if (p->cwd && chdir(p->cwd) < 0)
		child_fail(ep, STEP_CHDIR);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(pr->exe, p->argv, p->envp ? p->envp : environ);
	child_fail(ep, STEP_EXEC);
}

/* After fork: read the exec pipe.  0 = exec happened, -1 = err set. */
static int exec_result(const struct gr_proc *p, struct prep *pr, pid_t pid, gr_error_t *err)
{
	close(pr->exec_pipe[1]);
	pr->exec_pipe[1] = -1;
	int msg[2];
	ssize_t n;
	while ((n = read(pr->exec_pipe[0], msg, sizeof msg)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof msg)
		return 0;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	errno = msg[1];
	switch (msg[0]) {
	case STEP_CGROUP:
		return gr_error_sys(err, "%s: cannot join the cgroup", p->argv[0]);
	case STEP_CHDIR:
		return gr_error_sys(err, "%s: cannot change to %s", p->argv[0], p->cwd);
	case STEP_FDS:
		return gr_error_sys(err, "%s: cannot set up its stdio", p->argv[0]);
	default:
		return gr_error_sys(err, "cannot run %s", pr->exe);
	}
}

static pid_t start(const struct gr_proc *p, struct prep *pr, gr_error_t *err)
{
	pid_t pid = fork_owned();
	if (pid < 0)
		return gr_error_sys(err, "cannot fork for %s", p->argv[0]);
	if (pid == 0)
		child(p, pr);
	if (exec_result(p, pr, pid, err) < 0) {
		gr_proc_disown(pid);
		return -1;
	}
	return pid;
}

pid_t gr_proc_spawn(const struct gr_proc *p, int *pidfd, gr_error_t *err)
{
	struct prep pr;
	if (pidfd)
		*pidfd = -1;
	if (prep_open(p, false, &pr, err) < 0) {
		prep_close(&pr);
		return -1;
	}
	pid_t pid = start(p, &pr, err);
	prep_close(&pr);
	if (pid < 0)
		return -1;
	if (pidfd) {
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (*pidfd >= 0)
			fcntl(*pidfd, F_SETFD, FD_CLOEXEC);
	}
	/* the caller waits by pid from here on (gr_proc_wait), still owned */
	return pid;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int decode_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return -1;
}

int gr_proc_wait(pid_t pid, int timeout_ms, int *status, gr_error_t *err)
{
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		int ws;
		pid_t r = waitpid(pid, &ws, deadline ? WNOHANG : 0);
		if (r == pid) {
			if (pfd >= 0)
				close(pfd);
			gr_proc_disown(pid);
			if (status)
				*status = decode_status(ws);
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			int e = errno;
			if (pfd >= 0)
				close(pfd);
			gr_proc_disown(pid);
			errno = e;
			return gr_error_sys(err, "waiting for process %d", (int)pid);
		}
		if (r == 0) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				if (pfd >= 0)
					close(pfd);
				return gr_error_set(err, ETIMEDOUT, "process %d still runs after %d ms",
						    (int)pid, timeout_ms);
			}
			if (pfd >= 0) {
				struct pollfd pp = { pfd, POLLIN, 0 };
				poll(&pp, 1, (int)(left > 1000 ? 1000 : left));
			} else {
				usleep(10000);
			}
		}
	}
}

/* ---- gr_proc_run: output handling ---- */

struct out_state {
	const struct gr_proc *p;
	char *tail[TAIL_LINES];
	size_t ntail;
	char line[LINE_MAX_BYTES];
	size_t len;
	char *cap;
	size_t caplen, capmax;
};

static void emit_line(struct out_state *o, const char *line)
{
	if (!*line)
		return;
	if (o->p->on_line)
		o->p->on_line(line, o->p->ud);
	free(o->tail[o->ntail % TAIL_LINES]);
	o->tail[o->ntail % TAIL_LINES] = xstrdup(line);
	o->ntail++;
}

static void feed_lines(struct out_state *o, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = buf[i];
		if (ch == '\n' || ch == '\r' || o->len == sizeof o->line - 1) {
			o->line[o->len] = '\0';
			emit_line(o, o->line);
			o->len = 0;
			if (ch == '\n' || ch == '\r')
				continue;
		}
		o->line[o->len++] = ch;
	}
}

static void feed_capture(struct out_state *o, const char *buf, size_t n)
{
	if (o->caplen >= o->capmax)
		return;
	if (n > o->capmax - o->caplen)
		n = o->capmax - o->caplen;
	o->cap = xrealloc(o->cap, o->caplen + n + 1);
	memcpy(o->cap + o->caplen, buf, n);
	o->caplen += n;
	o->cap[o->caplen] = '\0';
}

static void tail_text(const struct out_state *o, char *out, size_t len)
{
	out[0] = '\0';
	size_t first = o->ntail > 3 ? o->ntail - 3 : 0;
	for (size_t i = first; i < o->ntail; i++) {
		size_t dl = strlen(out);
		snprintf(out + dl, len - dl, "%s%s", dl ? " | " : ": ", o->tail[i % TAIL_LINES]);
	}
}

int gr_proc_run(const struct gr_proc *p, gr_error_t *err)
{
	struct prep pr;
	struct out_state o = { .p = p, .capmax = p->capture_max ? p->capture_max : (1u << 20) };
	if (p->capture)
		*p->capture = NULL;
	if (prep_open(p, true, &pr, err) < 0) {
		prep_close(&pr);
		return -1;
	}
	pid_t pid = start(p, &pr, err);
	/* the parent keeps only the read ends (and stdin's write end) */
	int rd_out = pr.out_pipe[0], rd_err = pr.err_pipe[0], wr_in = pr.in_pipe[1];
	pr.out_pipe[0] = pr.err_pipe[0] = pr.in_pipe[1] = -1;
	prep_close(&pr);
	if (pid < 0) {
		if (rd_out >= 0)
			close(rd_out);
		if (rd_err >= 0)
			close(rd_err);
		if (wr_in >= 0)
			close(wr_in);
		return -1;
	}
	if (wr_in >= 0) {
		fcntl(wr_in, F_SETFL, O_NONBLOCK);
	}
	size_t in_off = 0;
	long long deadline = p->timeout_ms > 0 ? now_ms() + p->timeout_ms : 0;
	bool timed_out = false;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	while (rd_out >= 0 || rd_err >= 0 || wr_in >= 0) {
		struct pollfd fds[3];
		int nf = 0, i_out = -1, i_err = -1, i_in = -1;
		if (rd_out >= 0) {
			i_out = nf;
			fds[nf++] = (struct pollfd){ rd_out, POLLIN, 0 };
		}
		if (rd_err >= 0) {
			i_err = nf;
			fds[nf++] = (struct pollfd){ rd_err, POLLIN, 0 };
		}
		if (wr_in >= 0) {
			i_in = nf;
			fds[nf++] = (struct pollfd){ wr_in, POLLOUT, 0 };
		}
		int wait = -1;
		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				timed_out = true;
				kill(pid, SIGKILL);
				break;
			}
			wait = (int)(left > 1000 ? 1000 : left);
		}
		int r = poll(fds, (nfds_t)nf, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		char buf[8192];
		if (i_in >= 0 && fds[i_in].revents) {
			ssize_t w = write(wr_in, (const char *)p->input + in_off, p->input_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == p->input_len) {
				close(wr_in);
				wr_in = -1;
			}
		}
		int *rds[2] = { &rd_out, &rd_err };
		int idx[2] = { i_out, i_err };
		for (int k = 0; k < 2; k++) {
			if (idx[k] < 0 || !fds[idx[k]].revents)
				continue;
			ssize_t n = read(*rds[k], buf, sizeof buf);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(*rds[k]);
				*rds[k] = -1;
				continue;
			}
			if (k == 0 && p->capture)
				feed_capture(&o, buf, (size_t)n);
			else
				feed_lines(&o, buf, (size_t)n);
		}
	}
	if (rd_out >= 0)
		close(rd_out);
	if (rd_err >= 0)
		close(rd_err);
	if (wr_in >= 0)
		close(wr_in);
	if (o.len) {
		o.line[o.len] = '\0';
		emit_line(&o, o.line);
	}
	/* output closed (or the deadline passed): wait for the exit itself */
	int status = -1, rc = 0;
	for (;;) {
		if (!timed_out && deadline && now_ms() >= deadline) {
			timed_out = true;
			kill(pid, SIGKILL);
		}
		int ws;
		pid_t w = waitpid(pid, &ws, timed_out || !deadline ? 0 : WNOHANG);
		if (w == pid) {
			status = decode_status(ws);
			break;
		}
		if (w < 0 && errno != EINTR) {
			rc = gr_error_sys(err, "waiting for %s", p->argv[0]);
			break;
		}
		if (w == 0) {
			struct pollfd pp = { pfd, POLLIN, 0 };
			long long left = deadline - now_ms();
			if (pfd >= 0)
				poll(&pp, 1, (int)(left > 1000 ? 1000 : left < 0 ? 0 : left));
			else
				usleep(10000);
		}
	}
	if (pfd >= 0)
		close(pfd);
	gr_proc_disown(pid);
	char detail[700];
	tail_text(&o, detail, sizeof detail);
	if (rc == 0 && timed_out)
		rc = gr_error_set(err, ETIMEDOUT, "%s did not finish within %d ms%s", p->argv[0],
				  p->timeout_ms, detail);
	else if (rc == 0 && p->exit_status)
		*p->exit_status = status;
	else if (rc == 0 && status > 128)
		rc = gr_error_set(err, EIO, "%s killed by signal %d%s", p->argv[0], status - 128, detail);
	else if (rc == 0 && status != 0)
		rc = gr_error_set(err, EIO, "%s failed with exit status %d%s", p->argv[0], status, detail);
	for (size_t i = 0; i < TAIL_LINES; i++)
		free(o.tail[i]);
	if (rc == 0 && p->capture)
		*p->capture = o.cap ? o.cap : xstrdup("");
	else
		free(o.cap);
	return rc;
}

/* ---- gr_proc_call ---- */

struct call_head {
	int rc;
	gr_error_t err;
};

/* What the child of gr_proc_call needs (all set before it starts). */
struct call_child {
	pid_t parent;
	int src[3], reply_fd;
	gr_proc_call_fn fn;
	void *ud, *msg;
	size_t total;
};

/* The child's side: stdio, the reply pipe as fd 3, nothing else; run fn. */
static int call_child_main(void *arg)
{
	struct call_child *k = arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != k->parent)
		return 1;
	int src[3];
	for (int i = 0; i < 3; i++)
		src[i] = fcntl(k->src[i], F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < 3; i++)
		dup2(src[i], i);
	if (dup3(k->reply_fd, 3, O_CLOEXEC) < 0)
		return 1;
	syscall(SYS_close_range, 4U, ~0U, 0U);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct call_head *h = k->msg;
	h->rc = k->fn(k->ud, (char *)k->msg + sizeof *h, &h->err);
	gr_write_all(3, k->msg, k->total);
	return h->rc < 0 ? 1 : 0;
}

#ifdef GR_PROC_CALL_SHARED
/* Sanitized builds: the child shares our memory (CLONE_VM) and we wait,
 * suspended, until it exits (CLONE_VFORK).  A forked copy of this
 * multi-threaded process would inherit the sanitizer allocator's locks as
 * other threads held them at the fork (its runtime here takes none of them
 * around fork, unlike glibc's malloc), and fn allocates: the child would
 * wait on such a lock for ever.  Sharing the memory, it waits for the real
 * holder instead.  Its stack is a part of this thread's own (a local
 * array), so the sanitizer's idea of the stack's bounds holds there and in
 * a vfork() the child makes.  Exit signal 0, so a stray-child reaper's
 * waitid (no __WCLONE) never takes it; waited for here with __WCLONE. */
#define CALL_STACK (2u << 20)

static int call_child_entry(void *arg)
{
	syscall(SYS_exit_group, call_child_main(arg));
	return 0;
}

/* Runs the child to its end: its pid (*ws its status), or -1. */
static pid_t call_run(struct call_child *k, int *ws)
{
	char stack[CALL_STACK] __attribute__((aligned(64)));
	pid_t pid = clone(call_child_entry, stack + sizeof stack, CLONE_VM | CLONE_VFORK, k);
	int e = errno;
	while (pid > 0 && waitpid(pid, ws, __WCLONE) < 0 && errno == EINTR)
		;
	ASAN_UNPOISON_MEMORY_REGION(stack, sizeof stack);
	errno = e;
	return pid;
}

static void call_wait(pid_t pid, int *ws)
{
}
#else
/* Starts the child: its pid, or -1. */
static pid_t call_run(struct call_child *k, int *ws)
{
	pid_t pid = fork_owned();
	if (pid == 0)
		_exit(call_child_main(k));
	return pid;
}

static void call_wait(pid_t pid, int *ws)
{
	while (waitpid(pid, ws, 0) < 0 && errno == EINTR)
		;
	gr_proc_disown(pid);
}
#endif

int gr_proc_call(const char *what, gr_proc_call_fn fn, void *ud, int in, int out, int errfd,
		 void *reply, size_t reply_len, gr_error_t *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return gr_error_sys(err, "pipe");
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		close(p[0]);
		close(p[1]);
		return gr_error_sys(err, "/dev/null");
	}
	size_t total = sizeof(struct call_head) + reply_len;
	void *msg = xcalloc(1, total);
	struct call_child k = { .parent = getpid(),
				.src = { in >= 0 ? in : devnull, out >= 0 ? out : devnull,
					 errfd >= 0 ? errfd : devnull },
				.reply_fd = p[1], .fn = fn, .ud = ud, .msg = msg, .total = total };
	int ws = 0;
	pid_t pid = call_run(&k, &ws);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		close(devnull);
		free(msg);
		return gr_error_sys(err, "cannot fork for %s", what);
	}
	close(p[1]);
	close(devnull);
	ssize_t n = gr_read_all(p[0], msg, total);
	close(p[0]);
	call_wait(pid, &ws);
	int rc;
	struct call_head *h = msg;
	if (n != (ssize_t)total)
		rc = gr_error_set(err, EIO, "%s: helper process died (%s %d)", what,
				  WIFSIGNALED(ws) ? "signal" : "exit status",
				  WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
	else if (h->rc < 0) {
		if (err)
			*err = h->err;
		rc = -1;
	} else {
		if (reply && reply_len)
			memcpy(reply, (char *)msg + sizeof *h, reply_len);
		rc = h->rc;
	}
	free(msg);
	return rc;
}

/* ---- reaping strays ---- */

/* Children of this process, from /proc/self/task/<tid>/children. */
static size_t list_children(pid_t **out)
{
	size_t n = 0, cap = 0;
	pid_t *v = NULL;
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "/proc/self/task/%s/children", de->d_name);
		char *text = NULL;
		if (gr_read_file(path, 1 << 20, &text, NULL, NULL) < 0)
			continue;
		for (char *s = text, *end; *s; s = end) {
			long pid = strtol(s, &end, 10);
			if (end == s)
				break;
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				v = xrealloc(v, cap * sizeof *v);
			}
			v[n++] = (pid_t)pid;
		}
		free(text);
	}
	if (d)
		closedir(d);
	*out = v;
	return n;
}

int gr_proc_reap_strays(bool (*keep)(pid_t pid, void *ud), void *ud)
{
	pid_t *kids = NULL;
	size_t n = list_children(&kids);
	int reaped = 0;
	for (size_t i = 0; i < n; i++) {
		if (gr_proc_owned(kids[i]) || (keep && keep(kids[i], ud)))
			continue;
		siginfo_t si = { 0 };
		if (waitid(P_PID, (id_t)kids[i], &si, WEXITED | WNOHANG) == 0 && si.si_pid == kids[i])
			reaped++;
	}
	free(kids);
	return reaped;
}
