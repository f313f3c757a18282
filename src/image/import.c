/*
 * import.c - gr_image_import: a rootfs folder, a rootfs tarball or a VM disk becomes a
 * read-only master.  The input kind is detected by content: a folder is copied
 * faithfully (copy.c); a file with the qcow2 magic is a disk; otherwise libarchive tries
 * it as a (compressed) tarball; an OCI image layout or a docker-save archive (folder
 * or tarball) has its layers applied in order (oci.c); a file with a boot sector / GPT / ext or ISO superblock
 * is a raw disk converted to qcow2.  Everything happens in a staging folder that is
 * published atomically or removed, so a failed import leaves nothing behind.
 */
#include "image/image-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gr_image_import(const struct gr_image_ctx *ctx, const char *name, const char *src_path,
		    gr_image_progress_fn progress, void *ud, struct gr_image_info *info, gr_error_t *err)
{
	if (!src_path || !*src_path)
		return gr_error_set(err, EINVAL, "import source: missing path");
	char src[PATH_MAX];
	if (!realpath(src_path, src))
		return gr_error_sys(err, "import source %s", src_path);
	struct stat st;
	if (stat(src, &st) < 0)
		return gr_error_sys(err, "import source %s", src_path);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return gr_error_set(err, EINVAL, "import source %s: not a folder, tarball or disk image", src_path);
	_cleanup_free_ char *stage = NULL;
	if (gr__image_stage(ctx, name, &stage, err) < 0)
		return -1;
	struct gr__progress pr;
	gr__progress_init(&pr, progress, ud, "copy");
	_cleanup_free_ char *rootfs = xasprintf("%s/" GR__ROOTFS, stage);
	_cleanup_free_ char *disk = xasprintf("%s/" GR__DISK, stage);
	_cleanup_free_ char *source = NULL;
	const char *kind = GR_IMAGE_KIND_ROOTFS;

	if (S_ISDIR(st.st_mode) && gr__oci_is_layout(src)) {
		source = xasprintf("import:%s (OCI layout)", src);
		if (gr__oci_import(src, stage, &pr, err) < 0)
			goto fail;
	} else if (S_ISREG(st.st_mode) && gr__oci_is_layout_tar(src)) {
		/* an OCI layout or docker-save tarball: unpacked beside the rootfs, then applied */
		_cleanup_free_ char *unpacked = xasprintf("%s/.layout", stage);
		source = xasprintf("import:%s (OCI archive)", src);
		if (mkdir(unpacked, 0700) < 0) {
			gr_error_sys(err, "cannot create %s", unpacked);
			goto fail;
		}
		int r = gr__tar_extract(src, unpacked, &pr, err);
		if (r == 0)
			r = gr__oci_import(unpacked, stage, &pr, err);
		gr__rm_tree(unpacked, NULL);
		if (r != 0)
			goto fail;
	} else if (S_ISDIR(st.st_mode)) {
		gr__tree_count(src, &pr.p.bytes_total, &pr.p.files_total);
		gr__progress_emit(&pr, 1);
		if (gr__copy_tree(src, rootfs, &pr, err) < 0)
			goto fail;
	} else {
		enum gr__disk_format fmt = gr__disk_detect(src);
		if (fmt == GR__DISK_NONE && S_ISBLK(st.st_mode))
			fmt = GR__DISK_RAW;
		if (fmt == GR__DISK_NONE) {
			if (mkdir(rootfs, 0755) < 0) {
				gr_error_sys(err, "cannot create %s", rootfs);
				goto fail;
			}
			int r = gr__tar_extract(src, rootfs, &pr, err);
			if (r < 0)
				goto fail;
			if (r == 1) {
				gr_error_set(err, EINVAL, "import source %s: not a rootfs folder, a tarball, "
							  "a qcow2 or a raw disk image", src_path);
				goto fail;
			}
		}
		if (fmt != GR__DISK_NONE) {
			kind = GR_IMAGE_KIND_QCOW2;
			if (gr__qcow2_import(src, fmt, disk, &pr, err) < 0)
				goto fail;
		}
	}
	if (!source)
		source = xasprintf("import:%s", src);
	return gr__image_publish(ctx, name, stage, kind, source, &pr, info, err);
fail:
	gr__image_stage_discard(stage);
	return gr_error_prefix(err, "importing image '%s'", name);
}
