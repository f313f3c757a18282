/*
 * userns.c - user namespaces held by an fd, and idmapped bind mounts
 * (userns.h).  The child that owns the new namespace is cloned without
 * CLONE_VM and only reads a pipe until its parent closes it.
 */
#include "util/userns.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mount.h>

static int write_map(pid_t pid, const char *file, uint32_t host, uint32_t count, gr_error_t *err)
{
	char path[64], line[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	int n = snprintf(line, sizeof line, "0 %u %u\n", host, count);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return gr_error_sys(err, "cannot write %s (0 %u %u)", path, host, count);
	return 0;
}

int gr_userns_open(uint32_t host_uid, uint32_t host_gid, uint32_t count, gr_error_t *err)
{
	if (count == 0 || (uint64_t)host_uid + count > UINT32_MAX || (uint64_t)host_gid + count > UINT32_MAX)
		return gr_error_set(err, EINVAL, "user namespace: bad ID range %u/%u +%u", host_uid, host_gid,
				    count);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return gr_error_sys(err, "pipe");
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0);
	if (pid == 0) {
		char c;
		close(p[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return gr_error_sys(err, "cannot create a user namespace");
	}
	int fd = -1;
	if (write_map(pid, "uid_map", host_uid, count, err) == 0 &&
	    write_map(pid, "gid_map", host_gid, count, err) == 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			gr_error_sys(err, "cannot open %s", path);
	}
	close(p[1]); /* the child reads EOF and exits */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return fd;
}

int gr_idmapped_bind(const char *source, const char *target, int userns_fd, gr_error_t *err)
{
	_cleanup_close_ int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source,
						OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return gr_error_sys(err, "cannot clone the mount of %s (open_tree)", source);
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
		int e = errno;
		return gr_error_set(err, e == ENOSYS ? ENOSYS : e,
				    "idmapped mounts are not available for %s on this kernel or file "
				    "system (mount_setattr: %s)", source, strerror(e));
	}
	if (syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return gr_error_sys(err, "cannot attach the idmapped mount of %s at %s", source, target);
	return 0;
}
