/*
 * layers.c - per-instance thin clones of a master (seed 003: master -> user -> run).
 *
 * rootfs images: the user layer is an overlayfs upper dir over the master; mounting the
 * root stacks overlay(lower=master, upper=user).  An ephemeral mount adds a fresh run
 * layer instead: overlay(lower=user_upper:master, upper=run), dropped on unmount.  The
 * user upper dir is never the upper of one mount and the lower of another at the same
 * time: only one root mount per instance exists (EBUSY otherwise).
 * qcow2 images: user.qcow2 is an overlay backed by the master; an ephemeral start adds
 * run.qcow2 backed by user.qcow2.
 * layer.json records the image, the kind and the current mount/disk state; the mount
 * state is checked against /proc/self/mountinfo, so a stale record (after a reboot)
 * does not block anything.
 *
 * Shifted layers (unprivileged containers, gr_layer_shift): layer.json also records an
 * ID shift {uid, gid, size}.  The user (and run) layer then holds host IDs (container
 * ID + shift, chowned once), and the master is seen through an idmapped bind mount
 * attached at <layer>/lower just long enough for overlayfs to take its private clone
 * (overlayfs itself cannot be idmapped, its layers can: Linux >= 5.19).  The master on
 * disk is never changed, so every instance shares it whatever its range.  Where idmapped
 * mounts are refused, a shifted copy of the master (<layer>/lower-shifted) is used instead.
 */
#include "image/image-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <ftw.h>
#include "util/userns.h"

struct layer_state {
	char *image, *kind, *mounted_at;
	int ephemeral, disk_open;
	long long created;
	uint32_t shift_uid, shift_gid, shift_size; /* shift_size 0 = not shifted */
};

static void state_clear(struct layer_state *s)
{
	free(s->image);
	free(s->kind);
	free(s->mounted_at);
	memset(s, 0, sizeof(*s));
}

static char *layer_dir(const struct gr_image_ctx *ctx, const char *id)
{
	return xasprintf("%s/%s", ctx->layers_dir, id);
}

static int check_id(const struct gr_image_ctx *ctx, const char *id, gr_error_t *err)
{
	if (!ctx || !ctx->layers_dir || ctx->layers_dir[0] != '/' || strpbrk(ctx->layers_dir, ",:\\"))
		return gr_error_set(err, EINVAL, "image context: layers_dir must be an absolute path without ',:\\'");
	if (!gr_layer_id_valid(id))
		return gr_error_set(err, EINVAL, "instance id '%s' is invalid (want [A-Za-z0-9][A-Za-z0-9._-]{0,127})",
				    id ? id : "");
	return 0;
}

static int state_read(const struct gr_image_ctx *ctx, const char *id, struct layer_state *s, gr_error_t *err)
{
	memset(s, 0, sizeof(*s));
	_cleanup_free_ char *path = xasprintf("%s/%s/layer.json", ctx->layers_dir, id);
	_cleanup_free_ char *text = NULL;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return gr_error_set(err, ENOENT, "instance '%s' has no layers", id);
	if (gr_read_file(path, 1 << 16, &text, NULL, err) < 0)
		return -1;
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	const char *image = json_string_value(json_object_get(o, "image"));
	const char *kind = json_string_value(json_object_get(o, "kind"));
	if (!o || !image || !kind || !gr_image_name_valid(image) ||
	    (strcmp(kind, GR_IMAGE_KIND_ROOTFS) && strcmp(kind, GR_IMAGE_KIND_QCOW2))) {
		json_decref(o);
		return gr_error_set(err, EINVAL, "%s: expected {\"image\": name, \"kind\": \"rootfs\"|\"qcow2\"}", path);
	}
	s->image = xstrdup(image);
	s->kind = xstrdup(kind);
	const char *m = json_string_value(json_object_get(o, "mounted_at"));
	s->mounted_at = m ? xstrdup(m) : NULL;
	s->ephemeral = json_is_true(json_object_get(o, "ephemeral"));
	s->disk_open = json_is_true(json_object_get(o, "disk_open"));
	s->created = json_integer_value(json_object_get(o, "created"));
	json_t *sh = json_object_get(o, "shift");
	if (json_is_object(sh)) {
		s->shift_uid = (uint32_t)json_integer_value(json_object_get(sh, "uid"));
		s->shift_gid = (uint32_t)json_integer_value(json_object_get(sh, "gid"));
		s->shift_size = (uint32_t)json_integer_value(json_object_get(sh, "size"));
	}
	json_decref(o);
	return 0;
}

static int state_write(const struct gr_image_ctx *ctx, const char *id, const struct layer_state *s,
		       gr_error_t *err)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:b, s:b}", "image", s->image, "kind", s->kind, "created",
			      (json_int_t)s->created, "ephemeral", s->ephemeral, "disk_open", s->disk_open);
	json_object_set_new(o, "mounted_at", s->mounted_at ? json_string(s->mounted_at) : json_null());
	if (s->shift_size)
		json_object_set_new(o, "shift", json_pack("{s:I,s:I,s:I}", "uid", (json_int_t)s->shift_uid,
							  "gid", (json_int_t)s->shift_gid, "size",
							  (json_int_t)s->shift_size));
	char *text = json_dumps(o, JSON_SORT_KEYS);
	json_decref(o);
	_cleanup_free_ char *path = xasprintf("%s/%s/layer.json", ctx->layers_dir, id);
	int rc = gr_write_file_atomic(path, text, strlen(text), 0644, err);
	free(text);
	return rc;
}

/* Is there a mount at path (as this process sees mounts)? Unescapes mountinfo octal. */
static int is_mount_point(const char *path)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		return 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (!found && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX * 4];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		char *w = mp;
		for (char *r = mp; *r; r++) {
			if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
				*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
				r += 3;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		found = !strcmp(mp, real);
	}
	free(line);
	fclose(f);
	return found;
}

/* Give dir the owner and mode of ref (the overlay root takes its upper dir's). */
static int match_root(const char *ref, const char *dir, gr_error_t *err)
{
	struct stat st;
	if (stat(ref, &st) < 0)
		return gr_error_sys(err, "cannot stat %s", ref);
	if (chown(dir, st.st_uid, st.st_gid) < 0 || chmod(dir, st.st_mode & 07777) < 0)
		return gr_error_sys(err, "cannot set owner/mode of %s", dir);
	return 0;
}

static int make_upper(const char *dir, const char *ref, gr_error_t *err)
{
	_cleanup_free_ char *upper = xasprintf("%s/upper", dir);
	_cleanup_free_ char *work = xasprintf("%s/work", dir);
	if (mkdir(dir, 0700) < 0 || mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
		return gr_error_sys(err, "cannot create layer %s", dir);
	return match_root(ref, upper, err);
}

int gr_layer_create_user(const struct gr_image_ctx *ctx, const char *image, const char *instance_id,
			 gr_error_t *err)
{
	if (check_id(ctx, instance_id, err) < 0)
		return -1;
	struct gr_image_info info;
	if (gr_image_get(ctx, image, &info, err) < 0)
		return -1;
	struct layer_state s = {.image = xstrdup(image), .kind = xstrdup(info.kind), .created = (long long)time(NULL)};
	_cleanup_free_ char *dir = layer_dir(ctx, instance_id);
	_cleanup_free_ char *user = xasprintf("%s/user", dir);
	_cleanup_free_ char *disk = xasprintf("%s/user.qcow2", dir);
	int rc = -1;
	if (gr_mkdir_p(ctx->layers_dir, 0700, err) < 0)
		goto out;
	gr__sweep_stale(ctx->layers_dir);
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			gr_error_set(err, EEXIST, "instance '%s' already has layers", instance_id);
		else
			gr_error_sys(err, "cannot create %s", dir);
		goto out;
	}
	if (!strcmp(info.kind, GR_IMAGE_KIND_ROOTFS))
		rc = make_upper(user, info.path, err);
	else
		rc = gr__qcow2_overlay(info.path, disk, err);
	if (rc == 0)
		rc = state_write(ctx, instance_id, &s, err);
	if (rc < 0) {
		gr_rm_rf(dir, NULL);
		gr_error_prefix(err, "creating the user layer of '%s'", instance_id);
	}
out:
	state_clear(&s);
	gr_image_info_clear(&info);
	return rc;
}

/* nftw has no user pointer: the shift being applied, per thread */
static __thread uint32_t walk_uid, walk_gid, walk_size;
static __thread int walk_errno;

static int shift_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	uid_t u = st->st_uid < walk_size ? st->st_uid + walk_uid : st->st_uid;
	gid_t g = st->st_gid < walk_size ? st->st_gid + walk_gid : st->st_gid;
	if (u == st->st_uid && g == st->st_gid)
		return 0;
	if (lchown(path, u, g) < 0) {
		walk_errno = errno;
		return 1;
	}
	/* chown drops setuid/setgid bits: put them back */
	if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) && chmod(path, st->st_mode & 07777) < 0) {
		walk_errno = errno;
		return 1;
	}
	return 0;
}

/* Shift IDs 0..size-1 of every entry of the tree at path (not crossing mounts). */
static int shift_tree(const char *path, uint32_t uid, uint32_t gid, uint32_t size, gr_error_t *err)
{
	walk_uid = uid;
	walk_gid = gid;
	walk_size = size;
	walk_errno = 0;
	if (nftw(path, shift_one, 32, FTW_PHYS | FTW_MOUNT) != 0) {
		errno = walk_errno ? walk_errno : errno;
		return gr_error_sys(err, "cannot shift the IDs of %s", path);
	}
	return 0;
}

/* Fallback where the kernel or file system refuses idmapped mounts (or
 * GUREUM_NO_IDMAP=1 asks for it): a copy of the master with shifted IDs, made
 * once per instance at <layer>/lower-shifted (staged, then renamed: a crash
 * leaves a stage that the next try replaces).  Costs the master's size. */
static int shifted_copy(const char *dir, const char *master, const struct layer_state *s, char **out,
			gr_error_t *err)
{
	_cleanup_free_ char *dst = xasprintf("%s/lower-shifted", dir);
	_cleanup_free_ char *stage = xasprintf("%s/.lower-shifted.stage", dir);
	struct stat st;
	if (stat(dst, &st) == 0) {
		*out = TAKE_PTR(dst);
		return 0;
	}
	int rc = 0;
	if (gr_rm_rf(stage, err) < 0 || gr__copy_tree(master, stage, NULL, err) < 0 ||
	    shift_tree(stage, s->shift_uid, s->shift_gid, s->shift_size, err) < 0)
		rc = -1;
	else if (rename(stage, dst) < 0)
		rc = gr_error_sys(err, "cannot publish %s", dst);
	if (rc < 0) {
		gr_rm_rf(stage, NULL);
		return gr_error_prefix(err, "shifted copy of the master");
	}
	*out = TAKE_PTR(dst);
	return 0;
}

int gr_layer_shift(const struct gr_image_ctx *ctx, const char *instance_id, uint32_t host_uid,
		   uint32_t host_gid, uint32_t size, gr_error_t *err)
{
	if (check_id(ctx, instance_id, err) < 0)
		return -1;
	if (size == 0 || (uint64_t)host_uid + size > UINT32_MAX || (uint64_t)host_gid + size > UINT32_MAX)
		return gr_error_set(err, EINVAL, "ID shift %u/%u +%u is out of range", host_uid, host_gid, size);
	struct layer_state s;
	if (state_read(ctx, instance_id, &s, err) < 0)
		return -1;
	int rc = -1;
	_cleanup_free_ char *upper = xasprintf("%s/%s/user/upper", ctx->layers_dir, instance_id);
	if (strcmp(s.kind, GR_IMAGE_KIND_ROOTFS)) {
		gr_error_set(err, EINVAL, "instance '%s' has a disk (qcow2) image: only root file systems shift",
			     instance_id);
		goto out;
	}
	if (s.shift_size) {
		if (s.shift_uid == host_uid && s.shift_gid == host_gid && s.shift_size == size)
			rc = 0;
		else
			gr_error_set(err, EBUSY, "the layers of '%s' are already shifted to %u/%u +%u", instance_id,
				     s.shift_uid, s.shift_gid, s.shift_size);
		goto out;
	}
	if (s.mounted_at && is_mount_point(s.mounted_at)) {
		gr_error_set(err, EBUSY, "the root of '%s' is mounted at %s; unmount it first", instance_id,
			     s.mounted_at);
		goto out;
	}
	/* one pass over the user layer (empty for a new instance: its root only) */
	if (shift_tree(upper, host_uid, host_gid, size, err) < 0)
		goto out;
	s.shift_uid = host_uid;
	s.shift_gid = host_gid;
	s.shift_size = size;
	rc = state_write(ctx, instance_id, &s, err);
out:
	state_clear(&s);
	return rc;
}

/* A leftover idmapped master (a crash between its attach and detach) goes. */
static void detach_lower(const char *dir)
{
	_cleanup_free_ char *lower = xasprintf("%s/lower", dir);
	while (is_mount_point(lower) && umount2(lower, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		;
}

int gr_layer_mount_root(const struct gr_image_ctx *ctx, const char *image, const char *instance_id,
			int ephemeral, const char *target_dir, gr_error_t *err)
{
	if (check_id(ctx, instance_id, err) < 0)
		return -1;
	struct layer_state s;
	if (state_read(ctx, instance_id, &s, err) < 0)
		return -1;
	struct gr_image_info info = {0};
	_cleanup_free_ char *dir = layer_dir(ctx, instance_id);
	_cleanup_free_ char *user = xasprintf("%s/user/upper", dir);
	_cleanup_free_ char *user_work = xasprintf("%s/user/work", dir);
	_cleanup_free_ char *run = xasprintf("%s/run", dir);
	_cleanup_free_ char *lower = xasprintf("%s/lower", dir);
	_cleanup_free_ char *shifted = NULL;
	_cleanup_free_ char *opts = NULL;
	char target[PATH_MAX];
	int rc = -1;
	struct stat st;
	if (image && strcmp(image, s.image)) {
		gr_error_set(err, EINVAL, "instance '%s' is a clone of '%s', not of '%s'", instance_id, s.image, image);
		goto out;
	}
	if (strcmp(s.kind, GR_IMAGE_KIND_ROOTFS)) {
		gr_error_set(err, EINVAL, "instance '%s' has a disk (qcow2) image; use its disk, not a root mount",
			     instance_id);
		goto out;
	}
	if (!target_dir || !realpath(target_dir, target) || stat(target, &st) < 0 || !S_ISDIR(st.st_mode)) {
		gr_error_set(err, ENOENT, "mount target '%s' is not an existing folder", target_dir ? target_dir : "");
		goto out;
	}
	if (strpbrk(target, ",:\\")) {
		gr_error_set(err, EINVAL, "mount target '%s' may not contain ',', ':' or '\\'", target);
		goto out;
	}
	if (s.mounted_at && is_mount_point(s.mounted_at)) {
		gr_error_set(err, EBUSY, "the root of '%s' is already mounted at %s", instance_id, s.mounted_at);
		goto out;
	}
	if (gr_image_get(ctx, s.image, &info, err) < 0)
		goto out;
	const char *master = info.path;
	if (s.shift_size) {
		/* the master as the container's IDs see it; overlayfs clones it at mount time */
		detach_lower(dir);
		if (mkdir(lower, 0700) < 0 && errno != EEXIST) {
			gr_error_sys(err, "cannot create %s", lower);
			goto out;
		}
		const char *no_idmap = getenv("GUREUM_NO_IDMAP");
		gr_error_t ie = { 0 };
		_cleanup_close_ int ns = -1;
		if (no_idmap && !strcmp(no_idmap, "1"))
			gr_error_set(&ie, ENOTSUP, "idmapped mounts turned off (GUREUM_NO_IDMAP=1)");
		else if ((ns = gr_userns_open(s.shift_uid, s.shift_gid, s.shift_size, err)) < 0)
			goto out;
		if (ns >= 0 && gr_idmapped_bind(info.path, lower, ns, &ie) == 0) {
			master = lower;
		} else if (ie.code == EINVAL || ie.code == ENOSYS || ie.code == EPERM || ie.code == ENOTSUP ||
			   ie.code == EOPNOTSUPP) {
			/* no idmapped mounts here: a shifted copy of the master instead */
			if (shifted_copy(dir, info.path, &s, &shifted, err) < 0) {
				gr_error_prefix(err, "the root of '%s' runs unprivileged (%s)", instance_id, ie.msg);
				goto out;
			}
			master = shifted;
		} else {
			*err = ie;
			gr_error_prefix(err, "the root of '%s' runs unprivileged", instance_id);
			goto out;
		}
	}
	if (ephemeral) {
		if (gr_rm_rf(run, err) < 0 || make_upper(run, user, err) < 0) {
			if (s.shift_size)
				detach_lower(dir);
			goto out;
		}
		opts = xasprintf("lowerdir=%s:%s,upperdir=%s/upper,workdir=%s/work,index=off", user, master, run, run);
	} else {
		opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s,index=off", master, user, user_work);
	}
	int mrc = mount("overlay", target, "overlay", 0, opts);
	int merr = errno;
	if (s.shift_size)
		detach_lower(dir);
	if (mrc < 0) {
		errno = merr;
		gr_error_sys(err, "cannot mount the root of '%s' at %s", instance_id, target);
		if (ephemeral)
			gr_rm_rf(run, NULL);
		goto out;
	}
	free(s.mounted_at);
	s.mounted_at = xstrdup(target);
	s.ephemeral = !!ephemeral;
	if (state_write(ctx, instance_id, &s, err) < 0) {
		umount2(target, MNT_DETACH);
		if (ephemeral)
			gr_rm_rf(run, NULL);
		goto out;
	}
	rc = 0;
out:
	gr_image_info_clear(&info);
	state_clear(&s);
	return rc;
}

int gr_layer_umount_root(const struct gr_image_ctx *ctx, const char *instance_id, const char *target_dir,
			 int drop_run_layer, gr_error_t *err)
{
	if (check_id(ctx, instance_id, err) < 0)
		return -1;
	struct layer_state s;
	if (state_read(ctx, instance_id, &s, err) < 0)
		return -1;
	int rc = -1;
	const char *target = target_dir ? target_dir : s.mounted_at;
	_cleanup_free_ char *run = xasprintf("%s/%s/run", ctx->layers_dir, instance_id);
	_cleanup_free_ char *ldir = layer_dir(ctx, instance_id);
	if (target && is_mount_point(target) && umount2(target, UMOUNT_NOFOLLOW) < 0) {
		if (errno == EBUSY)
			gr_error_set(err, EBUSY, "the root of '%s' at %s is still in use", instance_id, target);
		else
			gr_error_sys(err, "cannot unmount the root of '%s' at %s", instance_id, target);
		goto out;
	}
	detach_lower(ldir);
	if ((drop_run_layer || s.ephemeral) && gr_rm_rf(run, err) < 0)
		goto out;
	free(s.mounted_at);
	s.mounted_at = NULL;
	s.ephemeral = 0;
	rc = state_write(ctx, instance_id, &s, err);
out:
	state_clear(&s);
	return rc;
}

int gr_layer_disk_open(const struct gr_image_ctx *ctx, const char *instance_id, int ephemeral,
		       char **disk_path, gr_error_t *err)
{
	if (check_id(ctx, instance_id, err) < 0)
		return -1;
	struct layer_state s;
	if (state_read(ctx, instance_id, &s, err) < 0)
		return -1;
	int rc = -1;
	_cleanup_free_ char *user = xasprintf("%s/%s/user.qcow2", ctx->layers_dir, instance_id);
	_cleanup_free_ char *run = xasprintf("%s/%s/run.qcow2", ctx->layers_dir, instance_id);
	if (strcmp(s.kind, GR_IMAGE_KIND_QCOW2)) {
		gr_error_set(err, EINVAL, "instance '%s' has a rootfs image; mount its root instead", instance_id);
		goto out;
	}
	if (ephemeral) {
		if (unlink(run) < 0 && errno != ENOENT) {
			gr_error_sys(err, "cannot remove %s", run);
			goto out;
		}
		if (gr__qcow2_overlay(user, run, err) < 0)
			goto out;
	}
	s.disk_open = 1;
	s.ephemeral = !!ephemeral;
	if (state_write(ctx, instance_id, &s, err) < 0) {
		if (ephemeral)
			unlink(run);
		goto out;
	}
	*disk_path = xstrdup(ephemeral ? run : user);
	rc = 0;
out:
	state_clear(&s);
	return rc;
}

int gr_layer_disk_close(const struct gr_image_ctx *ctx, const char *instance_id, int drop_run_layer,
			gr_error_t *err)
{
	if (check_id(ctx, instance_id, err) < 0)
		return -1;
	struct layer_state s;
	if (state_read(ctx, instance_id, &s, err) < 0)
		return -1;
	int rc = -1;
	_cleanup_free_ char *run = xasprintf("%s/%s/run.qcow2", ctx->layers_dir, instance_id);
	if ((drop_run_layer || s.ephemeral) && unlink(run) < 0 && errno != ENOENT) {
		gr_error_sys(err, "cannot remove %s", run);
		goto out;
	}
	s.disk_open = 0;
	s.ephemeral = 0;
	rc = state_write(ctx, instance_id, &s, err);
out:
	state_clear(&s);
	return rc;
}

int gr_layer_delete(const struct gr_image_ctx *ctx, const char *instance_id, gr_error_t *err)
{
	if (check_id(ctx, instance_id, err) < 0)
		return -1;
	struct layer_state s;
	gr_error_t e2 = {0};
	if (state_read(ctx, instance_id, &s, &e2) < 0 && e2.code != ENOENT && e2.code != EINVAL) {
		*err = e2;
		return -1;
	}
	_cleanup_free_ char *dir = layer_dir(ctx, instance_id);
	int busy = s.mounted_at && is_mount_point(s.mounted_at);
	if (busy) {
		gr_error_set(err, EBUSY, "the root of '%s' is mounted at %s; unmount it first", instance_id,
			     s.mounted_at);
		state_clear(&s);
		return -1;
	}
	state_clear(&s);
	if (access(dir, F_OK) < 0)
		return 0;
	detach_lower(dir);
	static unsigned long seq;
	_cleanup_free_ char *trash = xasprintf("%s/.trash-%s-%d-%lu", ctx->layers_dir, instance_id, (int)getpid(),
					       __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	if (rename(dir, trash) < 0)
		return gr_error_sys(err, "cannot remove layers %s", dir);
	return gr_rm_rf(trash, err);
}

void gr_layer_info_clear(struct gr_layer_info *info)
{
	if (!info)
		return;
	free(info->instance_id);
	free(info->image);
	free(info->kind);
	free(info->user_path);
	free(info->mounted_at);
	memset(info, 0, sizeof(*info));
}

int gr_layer_get(const struct gr_image_ctx *ctx, const char *instance_id, struct gr_layer_info *info,
		 gr_error_t *err)
{
	memset(info, 0, sizeof(*info));
	if (check_id(ctx, instance_id, err) < 0)
		return -1;
	struct layer_state s;
	if (state_read(ctx, instance_id, &s, err) < 0)
		return -1;
	int qcow = !strcmp(s.kind, GR_IMAGE_KIND_QCOW2);
	info->instance_id = xstrdup(instance_id);
	info->image = TAKE_PTR(s.image);
	info->kind = TAKE_PTR(s.kind);
	info->user_path = xasprintf("%s/%s/%s", ctx->layers_dir, instance_id, qcow ? "user.qcow2" : "user/upper");
	if (s.mounted_at && is_mount_point(s.mounted_at))
		info->mounted_at = TAKE_PTR(s.mounted_at);
	info->ephemeral = (info->mounted_at || s.disk_open) && s.ephemeral;
	struct stat st;
	if (qcow)
		info->user_bytes = stat(info->user_path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
	else
		info->user_bytes = gr__tree_disk_usage(info->user_path);
	state_clear(&s);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int gr_layer_list(const struct gr_image_ctx *ctx, const char *image, char ***ids, gr_error_t *err)
{
	size_t n = 0, cap = 8;
	char **v = xcalloc(cap, sizeof(*v));
	DIR *d = opendir(ctx->layers_dir);
	if (!d) {
		if (errno == ENOENT) {
			*ids = v;
			return 0;
		}
		free(v);
		return gr_error_sys(err, "cannot open %s", ctx->layers_dir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !gr_layer_id_valid(de->d_name))
			continue;
		struct layer_state s;
		if (state_read(ctx, de->d_name, &s, NULL) < 0)
			continue;
		if (!image || !strcmp(image, s.image)) {
			if (n + 1 >= cap) {
				cap *= 2;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = xstrdup(de->d_name);
		}
		state_clear(&s);
	}
	closedir(d);
	v[n] = NULL;
	qsort(v, n, sizeof(*v), cmp_str);
	*ids = v;
	return 0;
}
