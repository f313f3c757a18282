/*
 * userns.h - a user namespace with a given ID mapping, held by an fd: what
 * an idmapped mount (mount_setattr(MOUNT_ATTR_IDMAP)) is given.
 *
 * The namespace is made by a short-lived child (clone(CLONE_NEWUSER)) that
 * only blocks on a pipe; the caller writes its uid_map and gid_map (root may
 * map any range), opens /proc/<child>/ns/user and lets the child go.  The
 * child does nothing but read() and _exit(), so this is safe in a
 * multi-threaded caller.  Any thread.
 */
#ifndef GR_UTIL_USERNS_H
#define GR_UTIL_USERNS_H

#include <stdint.h>
#include "util/error.h"

/* An O_CLOEXEC fd of a new user namespace mapping IDs 0..count-1 inside to
 * host_uid.. / host_gid.. outside; the caller closes it.  -1 with err. */
int gr_userns_open(uint32_t host_uid, uint32_t host_gid, uint32_t count, gr_error_t *err);

/* Attach at `target` (an existing folder) an idmapped copy of the mount tree
 * at `source` (recursive), IDs shifted by the namespace userns_fd.  EINVAL or
 * ENOSYS when the kernel or the file system cannot idmap it (the message
 * says so).  The attached mount is the caller's to unmount. */
int gr_idmapped_bind(const char *source, const char *target, int userns_fd, gr_error_t *err);

#endif
