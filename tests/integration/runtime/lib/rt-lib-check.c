/*
 * rt-lib-check.c - drives the runtime library the way gureumd does (in-process,
 * no gureum-oci): create with the container's stdio sent to a file, start, exec
 * with its own stdio, update a limit live, cgroup path, usage figures, OOM count, wait, delete.
 * usage: rt-lib-check ROOT BUNDLE OUTDIR ; prints TAP lines.
 */
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	char out[512], eout[512];
	snprintf(out, sizeof out, "%s/init.out", argv[3]);
	snprintf(eout, sizeof eout, "%s/exec.out", argv[3]);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct gr_rt_opts o = { .root = argv[1], .stdio = { 0, fd, fd } };
	gr_error_t err = { 0 };
	const char *id = "gr-test-rt-lib";
	ok(gr_rt_create(&o, id, argv[2], NULL, &err) == 0, "create in-process (%s)", err.msg);
	close(fd);
	struct gr_rt_state st;
	ok(gr_rt_state(&o, id, &st, &err) == 0 && st.status == GR_RT_CREATED && st.pid > 0, "created");
	pid_t pid = st.pid;
	gr_rt_state_clear(&st);
	ok(gr_rt_start(&o, id, &err) == 0, "start (%s)", err.msg);

	int efd = open(eout, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct gr_rt_opts eo = { .root = argv[1], .stdio = { 0, efd, efd } };
	char *args[] = { "sh", "-c", "echo exec-out; cat /sys/fs/cgroup/pids/pids.max", NULL };
	char *env[] = { "PATH=/bin", NULL };
	struct gr_oci_process p = { .args = args, .env = env, .cwd = "/" };
	int status = -1;
	struct gr_oci_resources r = { .has_pids_limit = true, .pids_limit = 17 };
	ok(gr_rt_update(&o, id, &r, &err) == 0, "update pids limit live (%s)", err.msg);
	ok(gr_rt_exec(&eo, id, &p, false, NULL, &status, &err) == 0 && status == 0, "exec (%s)", err.msg);
	close(efd);
	const char *e = slurp(eout);
	ok(strstr(e, "exec-out") != NULL, "exec's stdout went to the given fd");
	ok(strstr(e, "17") != NULL, "the live update is visible inside (%s)", e);
	char *cg = NULL;
	ok(gr_rt_cgroup_path(&o, id, &cg, &err) == 0 && cg && strstr(cg, id), "cgroup path (%s)", cg ? cg : "");
	free(cg);
	struct gr_rt_stats stats;
	ok(gr_rt_stats(&o, id, &stats, &err) == 0, "stats (%s)", err.msg);
	ok(stats.pids >= 1 && stats.memory_bytes > 0 && stats.cpu_ns > 0,
	   "stats: %llu pids, %llu bytes of memory, %llu ns of CPU", stats.pids, stats.memory_bytes, stats.cpu_ns);
	long long ooms = -1;
	ok(gr_rt_oom_kills(&o, id, &ooms, &err) == 0 && ooms == 0, "no OOM kill so far");
	for (int i = 0; i < 500 && !strstr(slurp(out), "init-out"); i++)
		usleep(10000); /* the program may not have printed yet on a loaded machine */
	ok(gr_rt_kill(&o, id, SIGKILL, false, &err) == 0, "kill");
	int ws;
	ok(waitpid(pid, &ws, 0) == pid && WIFSIGNALED(ws), "the init is our child and was killed");
	ok(gr_rt_state(&o, id, &st, &err) == 0 && st.status == GR_RT_STOPPED, "stopped");
	gr_rt_state_clear(&st);
	ok(strstr(slurp(out), "init-out") != NULL, "the init's stdout went to the given fd");
	ok(gr_rt_delete(&o, id, false, &err) == 0, "delete (%s)", err.msg);
	ok(gr_rt_state(&o, id, &st, &err) < 0 && err.code == ENOENT, "gone: ENOENT");
	struct gr_rt_state *list;
	size_t n;
	ok(gr_rt_list(&o, &list, &n, &err) == 0 && n == 0, "list is empty");
	free(list);
	return tap_done();
}
