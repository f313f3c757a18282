/*
 * copy.c - faithful tree copy for rootfs import and user-layer snapshots.
 *
 * Preserves owners, modes (incl. setuid, applied after chown), times, xattrs (overlayfs'
 * trusted.overlay.* included, so whiteouts and opaque dirs of an upper dir survive),
 * hardlinks, symlinks, device nodes, fifos and sockets.  Regular files are reflinked
 * (FICLONE) when the file system can, else copied with copy_file_range.  The copy never
 * crosses into another mount (a mounted /proc in a source rootfs stays an empty dir).
 * The destination must not exist; on failure the caller removes it.
 */
#include "image/image-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *dst;
};

struct copy {
	dev_t root_dev;
	struct gr__progress *pr;
	struct link_seen *links;
	size_t nlinks, caplinks;
};

static int copy_xattrs(const char *src, const char *dst, gr_error_t *err)
{
	ssize_t n = llistxattr(src, NULL, 0);
	if (n <= 0)
		return (n < 0 && errno != ENOTSUP) ? gr_error_sys(err, "cannot list xattrs of %s", src) : 0;
	_cleanup_free_ char *names = xmalloc((size_t)n + 1);
	n = llistxattr(src, names, (size_t)n);
	if (n < 0)
		return gr_error_sys(err, "cannot list xattrs of %s", src);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *name = names + i;
		ssize_t vl = lgetxattr(src, name, NULL, 0);
		if (vl < 0)
			return gr_error_sys(err, "cannot read xattr %s of %s", name, src);
		_cleanup_free_ char *val = xmalloc((size_t)vl + 1);
		vl = lgetxattr(src, name, val, (size_t)vl);
		if (vl < 0)
			return gr_error_sys(err, "cannot read xattr %s of %s", name, src);
		if (lsetxattr(dst, name, val, (size_t)vl, 0) < 0 && errno != ENOTSUP)
			return gr_error_sys(err, "cannot set xattr %s on %s", name, dst);
	}
	return 0;
}

/* Owner, mode, xattrs, times: in that order (chown clears setuid bits). */
static int copy_meta(const char *src, const char *dst, const struct stat *st, gr_error_t *err)
{
	if (lchown(dst, st->st_uid, st->st_gid) < 0)
		return gr_error_sys(err, "cannot chown %s", dst);
	if (!S_ISLNK(st->st_mode) && chmod(dst, st->st_mode & 07777) < 0)
		return gr_error_sys(err, "cannot chmod %s", dst);
	if (copy_xattrs(src, dst, err) < 0)
		return -1;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return gr_error_sys(err, "cannot set times of %s", dst);
	return 0;
}

static int copy_data(const char *src, const char *dst, const struct stat *st, struct gr__progress *pr,
		     gr_error_t *err)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return gr_error_sys(err, "cannot open %s", src);
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return gr_error_sys(err, "cannot create %s", dst);
	if (st->st_size > 0 && ioctl(out, FICLONE, in) == 0) {
		if (pr)
			pr->p.bytes_done += (uint64_t)st->st_size;
		return 0;
	}
	int use_cfr = 1;
	for (;;) {
		ssize_t n;
		if (use_cfr) {
			n = copy_file_range(in, NULL, out, NULL, 1 << 24, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
				use_cfr = 0;
				continue;
			}
		} else {
			char buf[1 << 16];
			n = read(in, buf, sizeof buf);
			if (n > 0 && gr_write_all(out, buf, (size_t)n) != n)
				return gr_error_sys(err, "cannot write %s", dst);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return gr_error_sys(err, "cannot copy %s to %s", src, dst);
		}
		if (n == 0)
			break;
		if (pr) {
			pr->p.bytes_done += (uint64_t)n;
			gr__progress_emit(pr, 0);
		}
	}
	return 0;
}

static int copy_entry(struct copy *c, const char *src, const char *dst, gr_error_t *err)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return gr_error_sys(err, "cannot stat %s", src);
	if (c->pr) {
		c->pr->p.files_done++;
		gr__progress_emit(c->pr, 0);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0700) < 0)
			return gr_error_sys(err, "cannot create %s", dst);
		if (st.st_dev == c->root_dev) {
			DIR *d = opendir(src);
			if (!d)
				return gr_error_sys(err, "cannot open %s", src);
			struct dirent *de;
			int rc = 0;
			errno = 0;
			while (rc == 0 && (de = readdir(d))) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				_cleanup_free_ char *s = xasprintf("%s/%s", src, de->d_name);
				_cleanup_free_ char *t = xasprintf("%s/%s", dst, de->d_name);
				rc = copy_entry(c, s, t, err);
				errno = 0;
			}
			if (rc == 0 && errno)
				rc = gr_error_sys(err, "cannot read %s", src);
			closedir(d);
			if (rc < 0)
				return -1;
		}
		return copy_meta(src, dst, &st, err);
	}
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < c->nlinks; i++)
			if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino) {
				if (link(c->links[i].dst, dst) < 0)
					return gr_error_sys(err, "cannot link %s", dst);
				return 0;
			}
		if (c->nlinks == c->caplinks) {
			c->caplinks = c->caplinks ? 2 * c->caplinks : 64;
			c->links = xrealloc(c->links, c->caplinks * sizeof(*c->links));
		}
		c->links[c->nlinks++] = (struct link_seen){st.st_dev, st.st_ino, xstrdup(dst)};
	}
	if (S_ISREG(st.st_mode)) {
		if (copy_data(src, dst, &st, c->pr, err) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlink(src, target, PATH_MAX);
		if (n < 0)
			return gr_error_sys(err, "cannot read link %s", src);
		target[n] = '\0';
		if (symlink(target, dst) < 0)
			return gr_error_sys(err, "cannot create symlink %s", dst);
	} else {
		if (mknod(dst, st.st_mode, st.st_rdev) < 0)
			return gr_error_sys(err, "cannot create node %s", dst);
	}
	return copy_meta(src, dst, &st, err);
}

int gr__copy_tree(const char *src, const char *dst, struct gr__progress *pr, gr_error_t *err)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return gr_error_sys(err, "cannot stat %s", src);
	if (!S_ISDIR(st.st_mode))
		return gr_error_set(err, ENOTDIR, "%s is not a folder", src);
	struct copy c = {.root_dev = st.st_dev, .pr = pr};
	int rc = copy_entry(&c, src, dst, err);
	for (size_t i = 0; i < c.nlinks; i++)
		free(c.links[i].dst);
	free(c.links);
	gr__progress_emit(pr, 1);
	return rc;
}

static __thread uint64_t walk_bytes, walk_files, walk_blocks;

static int count_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	walk_files++;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		walk_bytes += (uint64_t)st->st_size;
	if (flag != FTW_NS)
		walk_blocks += (uint64_t)st->st_blocks;
	return 0;
}

void gr__tree_count(const char *root, uint64_t *bytes, uint64_t *files)
{
	walk_bytes = walk_files = walk_blocks = 0;
	nftw(root, count_cb, 64, FTW_PHYS | FTW_MOUNT);
	if (bytes)
		*bytes = walk_bytes;
	if (files)
		*files = walk_files;
}

uint64_t gr__tree_disk_usage(const char *root)
{
	walk_bytes = walk_files = walk_blocks = 0;
	nftw(root, count_cb, 64, FTW_PHYS | FTW_MOUNT);
	return walk_blocks * 512;
}
