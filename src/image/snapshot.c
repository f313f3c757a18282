/*
 * snapshot.c - snapshots of an instance's user layer.
 *
 * rootfs: layers/<id>/snapshots/<snap>/upper is a faithful copy of user/upper (copy.c:
 * reflinks where possible, overlay whiteouts and xattrs kept).  Snapshots are taken and
 * restored only while the root is not mounted (an upper dir must not change under a
 * live overlay).  A snapshot appears by rename of a finished copy; restore copies the
 * snapshot next to user/upper, swaps the two by rename, resets the work dir and drops a
 * leftover run layer.  The snapshot itself is kept.
 * qcow2: internal snapshots of user.qcow2 with qemu-img (the VM must be stopped; qemu-img
 * cannot take the image lock of a running VM and says so).
 */
#include "image/image-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct snap_ctx {
	char *dir;    /* layers/<id> */
	int qcow;
};

static void snap_ctx_clear(struct snap_ctx *s)
{
	free(s->dir);
}

/* Validate, load the layer, refuse while in use. */
static int snap_open(const struct gr_image_ctx *ctx, const char *id, const char *snap, int need_idle,
		     struct snap_ctx *s, gr_error_t *err)
{
	memset(s, 0, sizeof(*s));
	if (snap && !gr_image_name_valid(snap))
		return gr_error_set(err, EINVAL, "snapshot name '%s' is invalid (want [a-z0-9][a-z0-9._-]{0,62})", snap);
	struct gr_layer_info li;
	if (gr_layer_get(ctx, id, &li, err) < 0)
		return -1;
	int busy = li.mounted_at != NULL;
	s->qcow = !strcmp(li.kind, GR_IMAGE_KIND_QCOW2);
	gr_layer_info_clear(&li);
	if (need_idle && busy)
		return gr_error_set(err, EBUSY, "the root of '%s' is mounted; stop the instance first", id);
	s->dir = xasprintf("%s/%s", ctx->layers_dir, id);
	return 0;
}

static int snap_exists(const struct snap_ctx *s, const char *snap, int *exists, gr_error_t *err)
{
	if (s->qcow) {
		_cleanup_free_ char *disk = xasprintf("%s/user.qcow2", s->dir);
		_cleanup_strv_ char **names = NULL;
		if (gr__qcow2_snapshot_list(disk, &names, err) < 0)
			return -1;
		*exists = 0;
		for (char **n = names; *n; n++)
			if (!strcmp(*n, snap))
				*exists = 1;
		return 0;
	}
	_cleanup_free_ char *p = xasprintf("%s/snapshots/%s", s->dir, snap);
	*exists = access(p, F_OK) == 0;
	return 0;
}

static int rootfs_snapshot(const struct snap_ctx *s, const char *snap, gr_error_t *err)
{
	_cleanup_free_ char *snaps = xasprintf("%s/snapshots", s->dir);
	_cleanup_free_ char *tmp = xasprintf("%s/.new-%s-%d", snaps, snap, (int)getpid());
	_cleanup_free_ char *tmp_upper = xasprintf("%s/upper", tmp);
	_cleanup_free_ char *dst = xasprintf("%s/%s", snaps, snap);
	_cleanup_free_ char *user = xasprintf("%s/user/upper", s->dir);
	if (gr_mkdir_p(snaps, 0700, err) < 0 || gr_rm_rf(tmp, err) < 0)
		return -1;
	if (mkdir(tmp, 0700) < 0) {
		gr_error_sys(err, "cannot create %s", tmp);
		return -1;
	}
	if (gr__copy_tree(user, tmp_upper, NULL, err) < 0 || rename(tmp, dst) < 0) {
		if (!err || !err->code)
			gr_error_sys(err, "cannot create snapshot %s", dst);
		gr_rm_rf(tmp, NULL);
		return -1;
	}
	return 0;
}

int gr_layer_snapshot_create(const struct gr_image_ctx *ctx, const char *instance_id, const char *snap,
			     gr_error_t *err)
{
	struct snap_ctx s;
	int rc = -1, exists = 0;
	if (!snap)
		return gr_error_set(err, EINVAL, "snapshot name: missing");
	if (snap_open(ctx, instance_id, snap, 1, &s, err) < 0 || snap_exists(&s, snap, &exists, err) < 0)
		goto out;
	if (exists) {
		gr_error_set(err, EEXIST, "instance '%s' already has a snapshot '%s'", instance_id, snap);
		goto out;
	}
	if (s.qcow) {
		_cleanup_free_ char *disk = xasprintf("%s/user.qcow2", s.dir);
		rc = gr__qcow2_snapshot("create", disk, snap, err);
		goto out;
	}
	rc = rootfs_snapshot(&s, snap, err);
out:
	if (rc < 0)
		gr_error_prefix(err, "snapshot '%s' of '%s'", snap, instance_id ? instance_id : "");
	snap_ctx_clear(&s);
	return rc;
}

static int rootfs_restore(const struct snap_ctx *s, const char *snap, gr_error_t *err)
{
	_cleanup_free_ char *src = xasprintf("%s/snapshots/%s/upper", s->dir, snap);
	_cleanup_free_ char *fresh = xasprintf("%s/user/.restore-upper", s->dir);
	_cleanup_free_ char *old = xasprintf("%s/user/.old-upper", s->dir);
	_cleanup_free_ char *user = xasprintf("%s/user/upper", s->dir);
	_cleanup_free_ char *work = xasprintf("%s/user/work", s->dir);
	_cleanup_free_ char *run = xasprintf("%s/run", s->dir);
	if (gr_rm_rf(fresh, err) < 0 || gr_rm_rf(old, err) < 0)
		return -1;
	if (gr__copy_tree(src, fresh, NULL, err) < 0) {
		gr_rm_rf(fresh, NULL);
		return -1;
	}
	if (rename(user, old) < 0) {
		gr_error_sys(err, "cannot move %s aside", user);
		gr_rm_rf(fresh, NULL);
		return -1;
	}
	if (rename(fresh, user) < 0) {
		gr_error_sys(err, "cannot put the snapshot in place at %s", user);
		rename(old, user);
		gr_rm_rf(fresh, NULL);
		return -1;
	}
	/* Past the point of no return: the user layer is the snapshot now. */
	gr_rm_rf(old, NULL);
	gr_rm_rf(run, NULL);
	if (gr_rm_rf(work, err) < 0 || mkdir(work, 0700) < 0) {
		if (!err || !err->code)
			gr_error_sys(err, "cannot reset %s", work);
		return -1;
	}
	return 0;
}

/* snap_open, then ENOENT unless the instance has snapshot snap.  s must be
 * cleared by the caller either way. */
static int snap_open_existing(const struct gr_image_ctx *ctx, const char *instance_id, const char *snap,
			      int flag, struct snap_ctx *s, gr_error_t *err)
{
	int exists = 0;
	if (snap_open(ctx, instance_id, snap, flag, s, err) < 0 || snap_exists(s, snap, &exists, err) < 0)
		return -1;
	if (!exists)
		return gr_error_set(err, ENOENT, "instance '%s' has no snapshot '%s'", instance_id, snap);
	return 0;
}

int gr_layer_snapshot_restore(const struct gr_image_ctx *ctx, const char *instance_id, const char *snap,
			      gr_error_t *err)
{
	struct snap_ctx s;
	int rc = -1;
	if (!snap)
		return gr_error_set(err, EINVAL, "snapshot name: missing");
	if (snap_open_existing(ctx, instance_id, snap, 1, &s, err) < 0)
		goto out;
	if (s.qcow) {
		_cleanup_free_ char *disk = xasprintf("%s/user.qcow2", s.dir);
		_cleanup_free_ char *run = xasprintf("%s/run.qcow2", s.dir);
		unlink(run);
		rc = gr__qcow2_snapshot("apply", disk, snap, err);
		goto out;
	}
	rc = rootfs_restore(&s, snap, err);
out:
	if (rc < 0)
		gr_error_prefix(err, "restoring snapshot '%s' of '%s'", snap, instance_id ? instance_id : "");
	snap_ctx_clear(&s);
	return rc;
}

int gr_layer_snapshot_delete(const struct gr_image_ctx *ctx, const char *instance_id, const char *snap,
			     gr_error_t *err)
{
	struct snap_ctx s;
	int rc = -1;
	if (!snap)
		return gr_error_set(err, EINVAL, "snapshot name: missing");
	if (snap_open_existing(ctx, instance_id, snap, 0, &s, err) < 0)
		goto out;
	if (s.qcow) {
		_cleanup_free_ char *disk = xasprintf("%s/user.qcow2", s.dir);
		rc = gr__qcow2_snapshot("delete", disk, snap, err);
		goto out;
	}
	char *p = xasprintf("%s/snapshots/%s", s.dir, snap);
	rc = gr_rm_rf(p, err);
	free(p);
out:
	snap_ctx_clear(&s);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int gr_layer_snapshot_list(const struct gr_image_ctx *ctx, const char *instance_id, char ***names,
			   gr_error_t *err)
{
	struct snap_ctx s;
	int rc = -1;
	if (snap_open(ctx, instance_id, NULL, 0, &s, err) < 0)
		goto out;
	if (s.qcow) {
		_cleanup_free_ char *disk = xasprintf("%s/user.qcow2", s.dir);
		rc = gr__qcow2_snapshot_list(disk, names, err);
		goto out;
	}
	char *snaps = xasprintf("%s/snapshots", s.dir);
	size_t n = 0, cap = 8;
	char **v = xcalloc(cap, sizeof(*v));
	DIR *d = opendir(snaps);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || !gr_image_name_valid(de->d_name))
				continue;
			if (n + 1 >= cap) {
				cap *= 2;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = xstrdup(de->d_name);
		}
		closedir(d);
	}
	free(snaps);
	v[n] = NULL;
	qsort(v, n, sizeof(*v), cmp_str);
	*names = v;
	rc = 0;
out:
	snap_ctx_clear(&s);
	return rc;
}
