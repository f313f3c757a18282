/*
 * lxcfs.h - the host's lxcfs: /proc/meminfo, cpuinfo, stat, uptime, ... and
 * /sys/devices/system/cpu/online computed from the reading process's cgroup
 * limits, so `free` and `top` in a container see its limits, not the host.
 *
 * gureumd runs one lxcfs per state folder, mounted at <state_dir>/lxcfs
 * (FUSE, allow_other), pid in <state_dir>/lxcfs.pid.  It is started detached
 * (its own session), because running containers read through it: a daemon
 * restart adopts the running one (same pid file, live mount), and a daemon
 * that stops leaves it running while containers run, else stops it and
 * unmounts.  If it dies, gr_lxcfs_check() (every tick) removes the dead
 * mount and starts a new one; containers started meanwhile or before keep
 * their binds to the dead mount (reads fail with ENOTCONN) until they are
 * restarted.  A host without lxcfs runs containers without it (a warning).
 * The container driver binds the files at each start when the mount is live
 * (gr_lxcfs_live).  One thread (the daemon's loop) uses the handle.
 */
#ifndef GR_AGENT_LXCFS_H
#define GR_AGENT_LXCFS_H

#include <stdbool.h>
#include "util/error.h"

struct gr_lxcfs;

/* <state_dir>/lxcfs (malloc'd). */
char *gr_lxcfs_mount_dir(const char *state_dir);
/* Is an lxcfs mount answering at mount_dir? (statfs says FUSE and
 * proc/meminfo opens.)  Any thread. */
bool gr_lxcfs_live(const char *mount_dir);

/* Adopt the running lxcfs of state_dir or start `program` (NULL = "lxcfs"
 * from PATH) and wait (up to 10 s) for its mount.  rt_root: the container
 * runtime's root, to see at stop whether containers still run.  -1 with err
 * when it cannot run (the caller warns and goes on without); *out is then
 * still a handle that check() retries with. */
int gr_lxcfs_start(const char *state_dir, const char *rt_root, const char *program,
		   struct gr_lxcfs **out, gr_error_t *err);
/* Restart a dead lxcfs (at most once per 10 s after a failure). */
void gr_lxcfs_check(struct gr_lxcfs *l);
/* Stop it and unmount, unless containers still run (then it stays for them
 * and the next daemon adopts it); frees the handle. */
void gr_lxcfs_stop(struct gr_lxcfs *l);
/* Free the handle and leave lxcfs as it is (a daemon that could not start:
 * another one may be using this lxcfs). */
void gr_lxcfs_release(struct gr_lxcfs *l);

#endif
