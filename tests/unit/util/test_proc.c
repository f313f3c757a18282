/*
 * test_proc.c - the process runner (util/proc.h) on real programs: exit
 * codes, missing programs, output lines and tail in the error, capture,
 * stdin input, deadlines, fd hygiene, cgroup join failure, spawn + wait,
 * gr_proc_call's reply and error, and the stray-child reaper leaving owned
 * and vetoed children alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "util/alloc.h"
#include "util/proc.h"

#define P(...) ((char *const[]){ __VA_ARGS__, NULL })

struct lines {
	int n;
	char last[128];
};

static void on_line(const char *line, void *ud)
{
	struct lines *l = ud;
	l->n++;
	snprintf(l->last, sizeof l->last, "%s", line);
}

static int call_ok(void *ud, void *reply, gr_error_t *err)
{
	*(int *)reply = *(int *)ud * 2;
	/* the child keeps no fd of the caller but stdio */
	return fcntl(*((int *)ud + 1), F_GETFD) < 0 ? 0 : gr_error_set(err, EBADF, "fd leaked");
}

static int call_fail(void *ud, void *reply, gr_error_t *err)
{
	return gr_error_set(err, EPERM, "refused by %s", (const char *)ud);
}

static int call_die(void *ud, void *reply, gr_error_t *err)
{
	_exit(3);
}

static bool keep_it(pid_t pid, void *ud)
{
	return pid == *(pid_t *)ud;
}

int main(void)
{
	gr_error_t err;
	int st = -1;

	/* exit status */
	struct gr_proc p = { .argv = P("true"), .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_NULL,
			     .fd_err = GR_PROC_NULL };
	is_int(gr_proc_run(&p, &err), 0, "true runs");
	p.argv = P("sh", "-c", "echo first; echo second >&2; exit 3");
	p.fd_out = p.fd_err = GR_PROC_PIPE;
	is_int(gr_proc_run(&p, &err), -1, "exit 3 is an error");
	is_int(err.code, EIO, "... EIO");
	ok(strstr(err.msg, "exit status 3") && strstr(err.msg, "second"),
	   "... with the status and the output tail: %s", err.msg);
	p.exit_status = &st;
	is_int(gr_proc_run(&p, &err), 0, "with exit_status, a non-zero exit is no error");
	is_int(st, 3, "... and is reported");
	p.exit_status = NULL;

	p.argv = P("sh", "-c", "kill -TERM $$");
	is_int(gr_proc_run(&p, &err), -1, "a killed child is an error");
	ok(strstr(err.msg, "signal 15") != NULL, "... naming the signal: %s", err.msg);

	/* a missing program */
	p.argv = P("gr-no-such-program-here");
	is_int(gr_proc_run(&p, &err), -1, "a missing program fails");
	is_int(err.code, ENOENT, "... ENOENT");
	ok(strstr(err.msg, "gr-no-such-program-here") != NULL, "... naming it: %s", err.msg);
	p.argv = P("/nonexistent/bin/x");
	is_int(gr_proc_run(&p, &err), -1, "a missing absolute path fails");

	/* lines (\n and \r), capture */
	struct lines l = { 0 };
	p.argv = P("printf", "a\\nb\\rc\\nlast-without-newline");
	p.on_line = on_line;
	p.ud = &l;
	is_int(gr_proc_run(&p, &err), 0, "printf runs");
	is_int(l.n, 4, "four lines seen ('\\n' and '\\r' end lines, the last one flushed)");
	is_str(l.last, "last-without-newline", "... the last one");
	char *out = NULL;
	p.argv = P("sh", "-c", "echo captured; echo noise >&2");
	p.capture = &out;
	l.n = 0;
	is_int(gr_proc_run(&p, &err), 0, "capture runs");
	is_str(out, "captured\n", "stdout captured apart from stderr");
	is_int(l.n, 1, "stderr still reaches on_line");
	free(out);
	out = NULL;
	p.capture_max = 4;
	is_int(gr_proc_run(&p, &err), 0, "capture with a cap");
	is_str(out, "capt", "capture stops at capture_max");
	free(out);
	p.capture = NULL;
	p.on_line = NULL;

	/* input */
	char *big = xmalloc(300000);
	memset(big, 'x', 300000);
	out = NULL;
	struct gr_proc pi = { .argv = P("wc", "-c"), .input = big, .input_len = 300000,
			      .fd_out = GR_PROC_PIPE, .fd_err = GR_PROC_NULL, .capture = &out };
	is_int(gr_proc_run(&pi, &err), 0, "input larger than a pipe buffer");
	ok(out && atoi(out) == 300000, "... arrives whole: %s", out ? out : "(null)");
	free(out);
	free(big);

	/* stderr piped alone (stdout to /dev/null): its lines still arrive */
	l.n = 0;
	struct gr_proc pe = { .argv = P("sh", "-c", "echo out; echo err-line >&2"), .fd_in = GR_PROC_NULL,
			      .fd_out = GR_PROC_NULL, .fd_err = GR_PROC_PIPE, .on_line = on_line, .ud = &l };
	is_int(gr_proc_run(&pe, &err), 0, "stderr piped, stdout not: runs (%s)", err.msg);
	ok(l.n == 1 && !strcmp(l.last, "err-line"), "... only stderr's line arrives (%d: %s)", l.n, l.last);

	/* a deadline */
	struct gr_proc pt = { .argv = P("sleep", "30"), .fd_in = GR_PROC_NULL,
			      .fd_out = GR_PROC_PIPE, .fd_err = GR_PROC_PIPE, .timeout_ms = 200 };
	is_int(gr_proc_run(&pt, &err), -1, "sleep 30 with a 200 ms deadline fails");
	is_int(err.code, ETIMEDOUT, "... ETIMEDOUT");

	/* fd hygiene: an fd of ours without CLOEXEC does not reach the child */
	int leak = open("/dev/null", O_RDONLY);
	char fdpath[64];
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", leak);
	struct gr_proc pf = { .argv = P("test", "-e", fdpath), .fd_in = GR_PROC_NULL,
			      .fd_out = GR_PROC_NULL, .fd_err = GR_PROC_NULL, .exit_status = &st };
	is_int(gr_proc_run(&pf, &err), 0, "test runs");
	is_int(st, 1, "the caller's fd %d is closed in the child", leak);

	/* stdio given as fds, including fds below 3 swapped around */
	char tmpl[] = "/tmp/gr-test-proc.XXXXXX";
	int tf = mkstemp(tmpl);
	struct gr_proc ps = { .argv = P("sh", "-c", "echo to-err >&2"), .fd_in = GR_PROC_NULL,
			      .fd_out = GR_PROC_NULL, .fd_err = tf };
	is_int(gr_proc_run(&ps, &err), 0, "stderr to a file");
	struct stat sb;
	fstat(tf, &sb);
	is_int(sb.st_size, 7, "... lands in the file");
	close(tf);
	unlink(tmpl);

	/* cwd and env */
	out = NULL;
	char *envp[] = { "GR_X=42", NULL };
	struct gr_proc pc = { .argv = P("sh", "-c", "echo $GR_X $(pwd)"), .envp = envp, .cwd = "/tmp",
			      .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE, .fd_err = GR_PROC_NULL,
			      .capture = &out };
	is_int(gr_proc_run(&pc, &err), 0, "env and cwd");
	is_str(out, "42 /tmp\n", "... both applied");
	free(out);
	pc.cwd = "/nonexistent-dir";
	is_int(gr_proc_run(&pc, &err), -1, "a bad cwd fails before exec");
	ok(strstr(err.msg, "/nonexistent-dir") != NULL, "... naming it: %s", err.msg);

	/* a cgroup.procs file that does not exist: refused before fork */
	char *procs[] = { "/nonexistent/cgroup.procs", NULL };
	struct gr_proc pg = { .argv = P("true"), .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_NULL,
			      .fd_err = GR_PROC_NULL, .cgroup_procs = procs };
	is_int(gr_proc_run(&pg, &err), -1, "a missing cgroup.procs fails");
	ok(strstr(err.msg, "cgroup.procs") != NULL, "... naming it: %s", err.msg);

	/* spawn + wait */
	int pidfd = -1;
	struct gr_proc pw = { .argv = P("sh", "-c", "exit 7"), .fd_in = GR_PROC_NULL,
			      .fd_out = GR_PROC_NULL, .fd_err = GR_PROC_NULL };
	pid_t pid = gr_proc_spawn(&pw, &pidfd, &err);
	ok(pid > 0 && pidfd >= 0, "spawn gives a pid and a pidfd");
	ok(gr_proc_owned(pid), "a spawned child is owned until waited for");
	is_int(gr_proc_wait(pid, 0, &st, &err), 0, "wait");
	is_int(st, 7, "... exit code 7");
	ok(!gr_proc_owned(pid), "... and no longer owned");
	close(pidfd);
	pw.fd_out = GR_PROC_PIPE;
	ok(gr_proc_spawn(&pw, NULL, &err) < 0 && err.code == EINVAL, "spawn refuses output pipes");
	pw.fd_out = GR_PROC_NULL;
	pw.argv = P("sleep", "30");
	pid = gr_proc_spawn(&pw, NULL, &err);
	is_int(gr_proc_wait(pid, 100, &st, &err), -1, "wait with a deadline on a sleeper");
	is_int(err.code, ETIMEDOUT, "... ETIMEDOUT, child left running");
	kill(pid, SIGKILL);
	is_int(gr_proc_wait(pid, 0, &st, &err), 0, "then it is reaped");
	is_int(st, 128 + SIGKILL, "... killed");

	/* gr_proc_call */
	int nul = open("/dev/null", O_RDONLY);
	int arg[2] = { 21, nul };
	int reply = 0;
	is_int(gr_proc_call("doubling", call_ok, arg, GR_PROC_NULL, GR_PROC_NULL, GR_PROC_NULL, &reply,
			    sizeof reply, &err), 0, "call: fn runs in a child");
	is_int(reply, 42, "... its reply comes back");
	close(nul);
	is_int(gr_proc_call("x", call_fail, "the test", GR_PROC_NULL, GR_PROC_NULL, GR_PROC_NULL, NULL,
			    0, &err), -1, "call: fn's error");
	is_int(err.code, EPERM, "... keeps its code");
	is_str(err.msg, "refused by the test", "... and message");
	is_int(gr_proc_call("dying helper", call_die, NULL, GR_PROC_NULL, GR_PROC_NULL, GR_PROC_NULL,
			    NULL, 0, &err), -1, "call: a child that dies without answering");
	ok(strstr(err.msg, "dying helper") && strstr(err.msg, "exit status 3"), "... EIO naming it: %s",
	   err.msg);

	/* reaping strays: an unowned exited child is reaped, a vetoed one is not */
	pid_t stray = fork();
	if (stray == 0)
		_exit(0);
	pid_t kept = fork();
	if (kept == 0)
		_exit(0);
	usleep(100000);
	int n = 0;
	for (int i = 0; i < 50 && n < 1; i++) {
		n += gr_proc_reap_strays(keep_it, &kept);
		usleep(20000);
	}
	is_int(n, 1, "one stray reaped");
	ok(waitpid(stray, NULL, WNOHANG) < 0 && errno == ECHILD, "the stray is gone");
	ok(waitpid(kept, NULL, 0) == kept, "the vetoed child was left for its waiter");
	return tap_done();
}
