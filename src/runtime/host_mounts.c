/*
 * host_mounts.c - mounts a container makes in the runtime's own mount namespace.
 *
 * A config without a mount namespace (config-linux.md: a namespace not listed
 * is inherited from the runtime) has its init mount the rootfs bind, /proc,
 * /dev, ... in the caller's mount namespace, where they outlive the init.  The
 * parent lists the mounts under the rootfs before the clone and again once the
 * init is ready (or has failed); the difference is the container's, saved in
 * <root>/<id>/host-mounts ("<mount id> <mount point>" per line, the mount
 * point escaped as in mountinfo).  delete (and a failed create) unmounts them
 * deepest and newest first, each only while the mount at its path still has
 * the recorded mount id (statx STATX_MNT_ID on an O_PATH|O_NOFOLLOW fd), so a
 * path that changed meanwhile never unmounts something else.  Runs in the
 * parent only (allocates).
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U
#endif

void gr__mnts_free(struct gr__mnts *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static void mnts_add(struct gr__mnts *m, int id, const char *path)
{
	m->v = xrealloc(m->v, (m->n + 1) * sizeof *m->v);
	m->v[m->n].id = id;
	m->v[m->n++].path = xstrdup(path);
}

/* mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash) */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);
	if (n == 1 && root[0] == '/')
		return true;
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

int gr__mounts_under(const char *root, struct gr__mnts *out, gr_error_t *err)
{
	memset(out, 0, sizeof *out);
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return gr_error_sys(err, "cannot read /proc/self/mountinfo");
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		int id;
		char *mp = NULL;
		/* id parent maj:min root mountpoint ... */
		if (sscanf(line, "%d %*d %*s %*s %ms", &id, &mp) == 2) {
			unescape(mp);
			if (under(mp, root))
				mnts_add(out, id, mp);
		}
		free(mp);
	}
	free(line);
	return 0;
}

void gr__mnts_diff(const struct gr__mnts *before, const struct gr__mnts *after, struct gr__mnts *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < after->n; i++) {
		bool old = false;
		for (size_t k = 0; k < before->n && !old; k++)
			old = before->v[k].id == after->v[i].id;
		if (!old)
			mnts_add(out, after->v[i].id, after->v[i].path);
	}
}

int gr__mnts_save(const char *file, const struct gr__mnts *m, gr_error_t *err)
{
	size_t cap = 64, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	for (size_t i = 0; i < m->n; i++) {
		size_t need = len + 16 + 4 * strlen(m->v[i].path) + 2;
		if (need > cap) {
			cap = need * 2;
			buf = xrealloc(buf, cap);
		}
		len += (size_t)snprintf(buf + len, cap - len, "%d ", m->v[i].id);
		for (const unsigned char *p = (const unsigned char *)m->v[i].path; *p; p++) {
			if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
				len += (size_t)snprintf(buf + len, cap - len, "\\%03o", *p);
			else
				buf[len++] = (char)*p;
		}
		buf[len++] = '\n';
	}
	return gr_write_file_atomic(file, buf, len, 0600, err);
}

int gr__mnts_load(const char *file, struct gr__mnts *m, gr_error_t *err)
{
	memset(m, 0, sizeof *m);
	_cleanup_free_ char *text = NULL;
	gr_error_t e = { 0 };
	if (gr_read_file(file, 16 << 20, &text, NULL, &e) < 0) {
		if (e.code == ENOENT)
			return 0;
		if (err)
			*err = e;
		return -1;
	}
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		unescape(sp + 1);
		mnts_add(m, atoi(l), sp + 1);
	}
	return 0;
}

static int deepest_newest_first(const void *a, const void *b)
{
	const struct gr__mnt *x = a, *y = b;
	size_t lx = strlen(x->path), ly = strlen(y->path);
	if (lx != ly)
		return lx < ly ? 1 : -1;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

/* The id of the mount at path (the top one when stacked), without following a last symlink. */
static int mount_id_at(const char *path, int *fd_out)
{
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0 ||
	    !(sx.stx_mask & STATX_MNT_ID)) {
		close(fd);
		return -1;
	}
	*fd_out = fd;
	return (int)sx.stx_mnt_id;
}

int gr__mnts_unmount(const struct gr__mnts *m, gr_error_t *err)
{
	if (!m->n)
		return 0;
	struct gr__mnt *v = xmalloc(m->n * sizeof *v);
	memcpy(v, m->v, m->n * sizeof *v);
	qsort(v, m->n, sizeof *v, deepest_newest_first);
	_cleanup_free_ bool *done = xcalloc(m->n, sizeof *done);
	/* a pass per stacking level: a mount below another one is reachable once that one is gone */
	for (bool progress = true; progress;) {
		progress = false;
		for (size_t i = 0; i < m->n; i++) {
			int fd = -1;
			if (done[i] || mount_id_at(v[i].path, &fd) != v[i].id) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			char self[64];
			snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
			if (umount2(self, MNT_DETACH) == 0)
				done[i] = progress = true;
			close(fd);
		}
	}
	/* what is still mounted (detaching a parent takes its children along) */
	struct gr__mnts now;
	int rc = 0;
	if (gr__mounts_under("/", &now, NULL) == 0) {
		for (size_t i = 0; i < m->n && rc == 0; i++)
			for (size_t k = 0; k < now.n; k++)
				if (now.v[k].id == v[i].id && !strcmp(now.v[k].path, v[i].path)) {
					rc = gr_error_set(err, EBUSY, "cannot unmount %s", v[i].path);
					break;
				}
		gr__mnts_free(&now);
	}
	free(v);
	return rc;
}
