/* fs.c - file helpers; see fs.h. */
#include "util/fs.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

ssize_t gr_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)done;
}

ssize_t gr_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t r = read(fd, p + done, len - done);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int gr_read_file(const char *path, size_t max, char **out, size_t *len, gr_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "cannot open %s", path);
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return gr_error_sys(err, "cannot read %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (max && n > max)
			return gr_error_set(err, EFBIG, "%s is larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

int gr_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, gr_error_t *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return gr_error_sys(err, "cannot create %s", tmp);
	if (gr_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		gr_error_sys(err, "cannot write %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		gr_error_sys(err, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int gr_write_str(const char *path, const char *s, gr_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "cannot open %s", path);
	size_t len = strlen(s);
	ssize_t w;
	do
		w = write(fd, s, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return gr_error_sys(err, "cannot write '%s' to %s", s, path);
	return 0;
}

int gr_mkdir_p(const char *path, mode_t mode, gr_error_t *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof buf)
		return gr_error_set(err, ENAMETOOLONG, "bad path '%s'", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return gr_error_sys(err, "cannot create folder %s", buf);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev, gr_error_t *err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : gr_error_sys(err, "cannot stat %s", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return gr_error_sys(err, "cannot remove %s", name);
		return 0;
	}
	if (st.st_dev != dev)
		return gr_error_set(err, EBUSY, "%s is a mount point; not removing", name);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "cannot open %s", name);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return gr_error_sys(err, "cannot read %s", name);
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rm_rf_at(fd, de->d_name, dev, err) < 0) {
			rc = -1;
			break;
		}
	}
	closedir(d);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return gr_error_sys(err, "cannot remove folder %s", name);
	return rc;
}

int gr_rm_rf(const char *path, gr_error_t *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : gr_error_sys(err, "cannot stat %s", path);
	if (rm_rf_at(AT_FDCWD, path, st.st_dev, err) < 0)
		return gr_error_prefix(err, "removing %s", path);
	return 0;
}
