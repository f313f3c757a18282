/*
 * store.c - the masters on disk: staging, publishing, list/get/delete/verify.
 *
 * Invariants: images_dir/<name>/ exists only complete (content + manifest), because it
 * appears by one renameat2(RENAME_NOREPLACE) of a finished staging folder; a published
 * image folder is mode 0555 with a 0444 manifest and is never written again.  Deletion
 * first renames the folder away (the image disappears atomically), then removes it.
 * Hidden entries (".stage-*", ".trash-*") are work in progress and never listed.
 */
#include "image/image-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static unsigned long next_seq(void)
{
	static unsigned long seq;
	return __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
}

char *gr__image_dir(const struct gr_image_ctx *ctx, const char *name)
{
	return xasprintf("%s/%s", ctx->images_dir, name);
}

int gr__rm_tree(const char *path, gr_error_t *err)
{
	chmod(path, 0700);
	return gr_rm_rf(path, err);
}

void gr__image_stage_discard(const char *stage)
{
	if (stage)
		gr__rm_tree(stage, NULL);
}

static int check_ctx(const struct gr_image_ctx *ctx, gr_error_t *err)
{
	if (!ctx || !ctx->images_dir || !ctx->layers_dir || ctx->images_dir[0] != '/' || ctx->layers_dir[0] != '/')
		return gr_error_set(err, EINVAL, "image context: images_dir and layers_dir must be absolute paths");
	if (strpbrk(ctx->images_dir, ",:\\") || strpbrk(ctx->layers_dir, ",:\\"))
		return gr_error_set(err, EINVAL, "image context: folders may not contain ',', ':' or '\\' "
						 "(they become overlayfs options)");
	return 0;
}

static int check_name(const struct gr_image_ctx *ctx, const char *name, gr_error_t *err)
{
	if (check_ctx(ctx, err) < 0)
		return -1;
	if (!gr_image_name_valid(name))
		return gr_error_set(err, EINVAL, "image name '%s' is invalid (want [a-z0-9][a-z0-9._-]{0,62})",
				    name ? name : "");
	return 0;
}

/* Remove ".stage-<name>-<pid>-<n>" / ".trash-…" folders whose process is gone (a crash
 * mid-import).  Folders of live processes (this one included) are left alone. */
void gr__sweep_stale(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ".stage-", 7) && strncmp(de->d_name, ".trash-", 7))
			continue;
		/* the pid is the second-to-last '-' field */
		const char *last = strrchr(de->d_name, '-');
		if (!last || last == de->d_name)
			continue;
		const char *p = last - 1;
		while (p > de->d_name && *p != '-')
			p--;
		long pid = strtol(p + 1, NULL, 10);
		if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH)) {
			_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
			gr__rm_tree(path, NULL);
		}
	}
	closedir(d);
}

int gr__image_stage(const struct gr_image_ctx *ctx, const char *name, char **stage, gr_error_t *err)
{
	if (check_name(ctx, name, err) < 0)
		return -1;
	if (gr_mkdir_p(ctx->images_dir, 0755, err) < 0)
		return -1;
	gr__sweep_stale(ctx->images_dir);
	_cleanup_free_ char *dir = gr__image_dir(ctx, name);
	if (access(dir, F_OK) == 0)
		return gr_error_set(err, EEXIST, "image '%s' already exists", name);
	char *s = xasprintf("%s/.stage-%s-%d-%lu", ctx->images_dir, name, (int)getpid(), next_seq());
	if (mkdir(s, 0700) < 0) {
		gr_error_sys(err, "cannot create %s", s);
		free(s);
		return -1;
	}
	*stage = s;
	return 0;
}

/* Companion files of a disk image (disk, kernel, initrd...) become 0444. */
static void make_files_read_only(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_type == DT_REG)
			fchmodat(dirfd(d), de->d_name, 0444, 0);
	closedir(d);
}

static int read_defaults(const char *stage, struct gr_image_info *info, gr_error_t *err)
{
	_cleanup_free_ char *dpath = xasprintf("%s/" GR__DEFAULTS, stage);
	if (access(dpath, F_OK) < 0)
		return 0;
	json_error_t je;
	info->defaults = json_load_file(dpath, 0, &je);
	if (!info->defaults)
		return gr_error_set(err, EINVAL, "%s: %s", dpath, je.text);
	if (gr__defaults_check(info->defaults, err) < 0)
		return gr_error_prefix(err, "%s", dpath);
	return 0;
}

int gr__image_publish(const struct gr_image_ctx *ctx, const char *name, const char *stage,
		      const char *kind, const char *source, struct gr__progress *pr,
		      struct gr_image_info *out, gr_error_t *err)
{
	return gr__image_publish_expect(ctx, name, stage, kind, source, NULL, pr, out, err);
}

int gr__image_publish_expect(const struct gr_image_ctx *ctx, const char *name, const char *stage,
			     const char *kind, const char *source, const char *expect,
			     struct gr__progress *pr, struct gr_image_info *out, gr_error_t *err)
{
	int qcow = !strcmp(kind, GR_IMAGE_KIND_QCOW2);
	_cleanup_free_ char *content = xasprintf("%s/%s", stage, qcow ? GR__DISK : GR__ROOTFS);
	_cleanup_free_ char *dir = gr__image_dir(ctx, name);
	struct gr_image_info info = {.name = xstrdup(name), .kind = xstrdup(kind),
				     .source = source ? xstrdup(source) : NULL, .created = (long long)time(NULL)};
	struct stat st;
	if (lstat(content, &st) < 0) {
		gr_error_sys(err, "image content %s missing", content);
		goto fail;
	}
	if (pr) {
		pr->p.phase = "checksum";
		pr->p.bytes_done = pr->p.files_done = 0;
		pr->p.message = NULL;
		gr__tree_count(qcow ? stage : content, &pr->p.bytes_total, &pr->p.files_total);
		gr__progress_emit(pr, 1);
	}
	if (qcow) {
		if (gr__sha256_disk_dir(stage, pr, &info.checksum, &info.size_bytes, &info.files, err) < 0)
			goto fail;
		make_files_read_only(stage);
	} else if (gr__sha256_tree(content, pr, &info.checksum, &info.size_bytes, &info.files, err) < 0) {
		goto fail;
	}
	/* a received master must be the one its sender published, bit for bit */
	if (expect && strcmp(expect, info.checksum)) {
		gr_error_set(err, EIO, "checksum mismatch: the content is %s, expected %s", info.checksum,
			     expect);
		goto fail;
	}
	/* an OCI image's defaults (oci.c; a received master carries the file too) */
	if (read_defaults(stage, &info, err) < 0)
		goto fail;
	if (gr__manifest_write(stage, &info, err) < 0)
		goto fail;
	if (chmod(stage, 0555) < 0) {
		gr_error_sys(err, "cannot make %s read-only", stage);
		goto fail;
	}
	if (renameat2(AT_FDCWD, stage, AT_FDCWD, dir, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			gr_error_set(err, EEXIST, "image '%s' already exists", name);
		else
			gr_error_sys(err, "cannot publish image %s", dir);
		goto fail;
	}
	if (pr) {
		pr->p.phase = "done";
		gr__progress_emit(pr, 1);
	}
	info.path = xasprintf("%s/%s", dir, qcow ? GR__DISK : GR__ROOTFS);
	if (out)
		*out = info;
	else
		gr_image_info_clear(&info);
	return 0;
fail:
	gr_image_info_clear(&info);
	gr__image_stage_discard(stage);
	return -1;
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct gr_image_info *)a)->name, ((const struct gr_image_info *)b)->name);
}

int gr_image_list(const struct gr_image_ctx *ctx, struct gr_image_info **out, size_t *n, gr_error_t *err)
{
	if (check_ctx(ctx, err) < 0)
		return -1;
	*out = NULL;
	*n = 0;
	DIR *d = opendir(ctx->images_dir);
	if (!d)
		return errno == ENOENT ? 0 : gr_error_sys(err, "cannot open %s", ctx->images_dir);
	struct gr_image_info *list = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !gr_image_name_valid(de->d_name))
			continue;
		_cleanup_free_ char *dir = gr__image_dir(ctx, de->d_name);
		struct gr_image_info info;
		if (gr__manifest_read(dir, &info, NULL) < 0)
			continue;
		if (strcmp(info.name, de->d_name)) {
			gr_image_info_clear(&info);
			continue;
		}
		if (cnt == cap) {
			cap = cap ? 2 * cap : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		list[cnt++] = info;
	}
	closedir(d);
	if (cnt)
		qsort(list, cnt, sizeof(*list), cmp_info);
	*out = list;
	*n = cnt;
	return 0;
}

int gr_image_get(const struct gr_image_ctx *ctx, const char *name, struct gr_image_info *info,
		 gr_error_t *err)
{
	if (check_name(ctx, name, err) < 0)
		return -1;
	_cleanup_free_ char *dir = gr__image_dir(ctx, name);
	if (access(dir, F_OK) < 0)
		return gr_error_set(err, ENOENT, "no image named '%s'", name);
	if (gr__manifest_read(dir, info, err) < 0)
		return gr_error_prefix(err, "image '%s'", name);
	if (strcmp(info->name, name)) {
		gr_error_set(err, EINVAL, "image '%s': manifest names '%s'", name, info->name);
		gr_image_info_clear(info);
		return -1;
	}
	return 0;
}

int gr_image_delete(const struct gr_image_ctx *ctx, const char *name, gr_error_t *err)
{
	struct gr_image_info info;
	if (gr_image_get(ctx, name, &info, err) < 0)
		return -1;
	gr_image_info_clear(&info);
	if (ctx->in_use) {
		char who[256] = "";
		int r = ctx->in_use(name, who, sizeof who, ctx->in_use_ud);
		if (r < 0)
			return gr_error_set(err, EIO, "cannot tell whether image '%s' is in use", name);
		if (r > 0)
			return gr_error_set(err, EBUSY, "image '%s' is in use%s%s", name, who[0] ? " by " : "", who);
	}
	_cleanup_strv_ char **users = NULL;
	if (gr_layer_list(ctx, name, &users, err) < 0)
		return -1;
	if (users[0])
		return gr_error_set(err, EBUSY, "image '%s' is in use by instance '%s'%s", name, users[0],
				    users[1] ? " and others" : "");
	_cleanup_free_ char *dir = gr__image_dir(ctx, name);
	_cleanup_free_ char *trash = xasprintf("%s/.trash-%s-%d-%lu", ctx->images_dir, name, (int)getpid(),
					       next_seq());
	if (rename(dir, trash) < 0)
		return gr_error_sys(err, "cannot remove image %s", dir);
	return gr__rm_tree(trash, err);
}

int gr_image_verify(const struct gr_image_ctx *ctx, const char *name, gr_image_progress_fn progress,
		    void *ud, gr_error_t *err)
{
	struct gr_image_info info;
	if (gr_image_get(ctx, name, &info, err) < 0)
		return -1;
	struct gr__progress pr;
	gr__progress_init(&pr, progress, ud, "verify");
	int qcow = !strcmp(info.kind, GR_IMAGE_KIND_QCOW2);
	pr.p.bytes_total = info.size_bytes;
	pr.p.files_total = info.files;
	gr__progress_emit(&pr, 1);
	_cleanup_free_ char *sum = NULL;
	_cleanup_free_ char *dir = gr__image_dir(ctx, name);
	int rc = qcow ? gr__sha256_disk_dir(dir, &pr, &sum, NULL, NULL, err)
		      : gr__sha256_tree(info.path, &pr, &sum, NULL, NULL, err);
	if (rc == 0 && strcmp(sum, info.checksum))
		rc = gr_error_set(err, EIO, "image '%s' was tampered with: content is %s, manifest says %s", name,
				  sum, info.checksum);
	else if (rc < 0)
		gr_error_prefix(err, "verifying image '%s'", name);
	gr_image_info_clear(&info);
	return rc;
}
