/*
 * lxcfs.c - running the host's lxcfs for gureumd (lxcfs.h).
 *
 * lxcfs runs in the foreground of its own session (`lxcfs -f --enable-cfs
 * -p <pidfile> <mount>`): --enable-cfs makes cpuinfo, stat and cpu/online
 * count the CPUs of the cgroup's CFS quota.  Its exit is seen through a
 * pidfd, which also works for an lxcfs adopted from an earlier daemon (not
 * our child).  Its output goes to <state_dir>/lxcfs.log.
 */
#include "agent/lxcfs.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define FUSE_MAGIC 0x65735546

struct gr_lxcfs {
	char *mount_dir, *pid_file, *log_file, *rt_root, *program;
	pid_t pid;
	int pidfd;
	time_t last_try;
};

char *gr_lxcfs_mount_dir(const char *state_dir)
{
	return xasprintf("%s/lxcfs", state_dir);
}

bool gr_lxcfs_live(const char *mount_dir)
{
	struct statfs sf;
	if (statfs(mount_dir, &sf) < 0 || (unsigned long)sf.f_type != FUSE_MAGIC)
		return false;
	_cleanup_free_ char *p = xasprintf("%s/proc/meminfo", mount_dir);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static bool exited(int pidfd)
{
	struct pollfd p = { pidfd, POLLIN, 0 };
	return pidfd < 0 || poll(&p, 1, 0) != 0;
}

/* A dead lxcfs leaves its mount answering ENOTCONN: lazily unmount it (and
 * anything stacked there). */
static void drop_mount(const char *dir)
{
	for (int i = 0; i < 8 && umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
		;
}

/* The lxcfs of the pid file, if it still runs: its pid. */
static pid_t recorded(const struct gr_lxcfs *l)
{
	_cleanup_free_ char *text = NULL;
	if (gr_read_file(l->pid_file, 64, &text, NULL, NULL) < 0)
		return 0;
	pid_t pid = (pid_t)atoi(text);
	if (pid <= 1)
		return 0;
	char path[64];
	_cleanup_free_ char *comm = NULL;
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	if (gr_read_file(path, 64, &comm, NULL, NULL) < 0 || strncmp(comm, "lxcfs", 5))
		return 0;
	return pid;
}

static int launch(struct gr_lxcfs *l, gr_error_t *err)
{
	l->last_try = time(NULL);
	drop_mount(l->mount_dir);
	if (gr_mkdir_p(l->mount_dir, 0755, err) < 0)
		return -1;
	unlink(l->pid_file);
	_cleanup_close_ int log = open(l->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	char *argv[] = { l->program, "-f", "--enable-cfs", "-p", l->pid_file, l->mount_dir, NULL };
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = log >= 0 ? log : GR_PROC_NULL,
			     .fd_err = log >= 0 ? log : GR_PROC_NULL, .new_session = true };
	int pidfd = -1;
	pid_t pid = gr_proc_spawn(&p, &pidfd, err);
	if (pid < 0)
		return gr_error_prefix(err, "starting lxcfs");
	/* ready when its mount answers; it may also fail and exit */
	for (int waited = 0; !gr_lxcfs_live(l->mount_dir); waited += 10) {
		if (exited(pidfd) || waited >= 10000) {
			kill(pid, SIGKILL);
			if (pidfd >= 0)
				close(pidfd);
			drop_mount(l->mount_dir);
			return gr_error_set(err, EIO, "lxcfs did not mount %s (see %s)", l->mount_dir, l->log_file);
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	l->pid = pid;
	l->pidfd = pidfd;
	gr_log_info("lxcfs: pid %d serves %s", (int)pid, l->mount_dir);
	return 0;
}

int gr_lxcfs_start(const char *state_dir, const char *rt_root, const char *program,
		   struct gr_lxcfs **out, gr_error_t *err)
{
	struct gr_lxcfs *l = xcalloc(1, sizeof *l);
	l->mount_dir = gr_lxcfs_mount_dir(state_dir);
	l->pid_file = xasprintf("%s/lxcfs.pid", state_dir);
	l->log_file = xasprintf("%s/lxcfs.log", state_dir);
	l->rt_root = xstrdup(rt_root);
	l->program = xstrdup(program ? program : "lxcfs");
	l->pidfd = -1;
	*out = l;
	pid_t pid = recorded(l);
	if (pid > 0 && gr_lxcfs_live(l->mount_dir)) {
		l->pid = pid;
		l->pidfd = pidfd_of(pid);
		gr_log_info("lxcfs: adopting pid %d at %s", (int)pid, l->mount_dir);
		return 0;
	}
	if (pid > 0) /* running but not answering: replace it */
		kill(pid, SIGKILL);
	return launch(l, err);
}

void gr_lxcfs_check(struct gr_lxcfs *l)
{
	if (!l || (l->pid > 0 && !exited(l->pidfd)))
		return;
	if (l->pid > 0) {
		gr_log_warn("lxcfs (pid %d) exited: restarting it; running containers keep reading the old "
			    "mount (ENOTCONN) until they restart", (int)l->pid);
		close(l->pidfd);
		l->pidfd = -1;
		l->pid = 0;
		l->last_try = 0;
	}
	if (time(NULL) - l->last_try < 10)
		return;
	gr_error_t err;
	if (launch(l, &err) < 0)
		gr_log_warn("%s", err.msg);
}

/* Does any container still run? (an entry other than .cache in the runtime root) */
static bool containers_run(const char *rt_root)
{
	DIR *d = opendir(rt_root);
	if (!d)
		return false;
	struct dirent *de;
	bool any = false;
	while (!any && (de = readdir(d)))
		any = de->d_name[0] != '.';
	closedir(d);
	return any;
}

void gr_lxcfs_release(struct gr_lxcfs *l)
{
	if (!l)
		return;
	if (l->pidfd >= 0)
		close(l->pidfd);
	free(l->mount_dir);
	free(l->pid_file);
	free(l->log_file);
	free(l->rt_root);
	free(l->program);
	free(l);
}

void gr_lxcfs_stop(struct gr_lxcfs *l)
{
	if (!l)
		return;
	if (l->pid > 0 && containers_run(l->rt_root)) {
		gr_log_info("lxcfs: left running for the running containers (pid %d)", (int)l->pid);
	} else if (l->pid > 0) {
		kill(l->pid, SIGTERM);
		struct pollfd p = { l->pidfd, POLLIN, 0 };
		if (l->pidfd < 0 || poll(&p, 1, 5000) <= 0)
			kill(l->pid, SIGKILL);
		drop_mount(l->mount_dir);
		unlink(l->pid_file);
		gr_log_info("lxcfs: stopped");
	}
	gr_lxcfs_release(l);
}
