/*
 * logcap.c - keeps an instance's console.log bounded.
 *
 * The main process (container) or QEMU's serial chardev (VM, logappend=on)
 * appends to console.log with O_APPEND, for as long as the instance lives;
 * without a bound it would fill the disk.  Two measures, both safe against a
 * writer that keeps appending:
 *   - at start, a log over the limit is renamed to console.log.1 (replacing
 *     an older one) and the instance starts a fresh file;
 *   - while it runs, the daemon's tick calls gr_inst_log_cap(): past the limit
 *     the oldest part is cut away in place with FALLOC_FL_COLLAPSE_RANGE (whole
 *     file-system blocks, done under the inode lock, so O_APPEND writers just
 *     continue at the new end), leaving about half the limit.  File systems
 *     without collapse support (tmpfs, overlay) keep the file; it is then
 *     rotated at the next start.
 */
#include "agent/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/alloc.h"

int gr_inst_log_rotate(const char *path, off_t max, gr_error_t *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : gr_error_sys(err, "%s", path);
	if (st.st_size <= max)
		return 0;
	_cleanup_free_ char *old = xasprintf("%s.1", path);
	if (rename(path, old) < 0)
		return gr_error_sys(err, "rotating %s", path);
	return 1;
}

int gr_inst_log_cap(const char *path, off_t max, gr_error_t *err)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : gr_error_sys(err, "%s", path);
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0) {
		r = gr_error_sys(err, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= max)
		goto out;
	off_t blk = st.st_blksize > 0 ? st.st_blksize : 4096;
	off_t cut = (st.st_size - max / 2) / blk * blk;
	if (cut <= 0 || cut >= st.st_size)
		goto out;
	if (fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, cut) < 0) {
		/* a writer appended past a block boundary meanwhile is fine; an fs
		 * without collapse support keeps the file (rotated at next start) */
		if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS)
			r = gr_error_sys(err, "cutting %s", path);
		goto out;
	}
	r = 1;
out:
	close(fd);
	return r;
}
