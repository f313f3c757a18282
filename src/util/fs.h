/*
 * fs.h - small file-system helpers shared by every module.
 * All return < 0 and fill err on failure; none keeps state.
 */
#ifndef GR_UTIL_FS_H
#define GR_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"

/* Read a whole file (at most max bytes; 0 = no limit) into a NUL-terminated
 * malloc'd buffer owned by the caller. */
int gr_read_file(const char *path, size_t max, char **out, size_t *len, gr_error_t *err);
/* Write data to path atomically (temp file in the same folder, fsync, rename). */
int gr_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, gr_error_t *err);
/* Write a string to an existing file (cgroup and /proc knobs): open O_WRONLY, one write. */
int gr_write_str(const char *path, const char *s, gr_error_t *err);
/* mkdir -p with mode for the created folders. */
int gr_mkdir_p(const char *path, mode_t mode, gr_error_t *err);
/* rm -rf that does not cross mount points. ENOENT is success. */
int gr_rm_rf(const char *path, gr_error_t *err);
/* Full-buffer write/read loops that retry on EINTR. */
ssize_t gr_write_all(int fd, const void *buf, size_t len);
ssize_t gr_read_all(int fd, void *buf, size_t len);

#endif
