/*
 * netns.c - network namespaces kept as files: a namespace made by a
 * short-lived thread (unshare(CLONE_NEWNET) affects only the calling
 * thread) and bind-mounted from /proc/thread-self/ns/net onto a file, so it
 * lives on without any process in it.  A container joins it through its OCI
 * config ({"type":"network","path":...}), so its links and addresses
 * survive a restart of the container; the file is removed (unmounted,
 * unlinked) when the instance's host state is cleaned up.
 *
 * The new namespace allows ICMP echo sockets to every group
 * (net.ipv4.ping_group_range), so ping works in unprivileged containers.
 *
 * Invariant: a path is either absent, an empty file (a create cut short:
 * made again), or a live nsfs mount.
 */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static bool is_nsfs(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == NSFS_MAGIC;
}

struct create_arg {
	const char *path;
	int err;
	const char *what;
};

static void *create_thread(void *p)
{
	struct create_arg *a = p;
	if (unshare(CLONE_NEWNET) < 0) {
		a->err = errno;
		a->what = "unshare";
		return NULL;
	}
	/* ICMP echo sockets for every group (as Docker does): an unprivileged
	 * container's root has no CAP_NET_RAW in a namespace it does not own,
	 * so this is what lets its ping work.  /proc/sys/net is the calling
	 * thread's namespace. */
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		static const char range[] = "0 2147483647";
		if (write(fd, range, sizeof range - 1) < 0) {
			/* older kernels cap the range; ping then needs privileges */
		}
		close(fd);
	}
	if (mount("/proc/thread-self/ns/net", a->path, NULL, MS_BIND, NULL) < 0) {
		a->err = errno;
		a->what = "bind mount";
	}
	return NULL; /* the thread ends; the mount keeps the namespace */
}

int gr_netns_create(const char *path, gr_error_t *err)
{
	if (is_nsfs(path))
		return 0;
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
	if (fd < 0)
		return gr_error_sys(err, "network namespace file %s", path);
	close(fd);
	struct create_arg a = { path, 0, NULL };
	pthread_t t;
	int r = pthread_create(&t, NULL, create_thread, &a);
	if (r) {
		unlink(path);
		return gr_error_set(err, r, "network namespace %s: thread: %s", path, strerror(r));
	}
	pthread_join(t, NULL);
	if (a.err) {
		unlink(path);
		return gr_error_set(err, a.err, "network namespace %s: %s: %s", path, a.what,
				    strerror(a.err));
	}
	return 0;
}

int gr_netns_open(const char *path, gr_error_t *err)
{
	if (!is_nsfs(path))
		return gr_error_set(err, ENOENT, "network namespace %s: not there", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "network namespace %s", path);
	return fd;
}

int gr_netns_remove(const char *path, gr_error_t *err)
{
	/* a file can hold stacked mounts (two creates racing a crash): all go */
	while (is_nsfs(path))
		if (umount2(path, MNT_DETACH) < 0)
			return gr_error_sys(err, "unmounting network namespace %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return gr_error_sys(err, "removing network namespace %s", path);
	return 0;
}
