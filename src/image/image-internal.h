/*
 * image-internal.h - helpers shared by the files of src/image/ (not a public API).
 *
 * Paths: images_dir/<name>/{image.json,rootfs,disk.qcow2}; work in progress lives in
 * images_dir/.stage-<name>-<pid>-<n>/ and is renamed into place by gr__image_publish().
 */
#ifndef GR_IMAGE_INTERNAL_H
#define GR_IMAGE_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>
#include "image/image.h"

#define GR__MANIFEST "image.json"
#define GR__ROOTFS "rootfs"
#define GR__DISK "disk.qcow2"
#define GR__DEFAULTS "defaults.json" /* a container's defaults (env, entrypoint, cmd, ...) */

/* Progress reporting with a rate limit (at most every 1/8 s or on force). */
struct gr__progress {
	gr_image_progress_fn fn;
	void *ud;
	struct gr_image_progress p;
	uint64_t last_ns;
};
void gr__progress_init(struct gr__progress *pr, gr_image_progress_fn fn, void *ud, const char *phase);
void gr__progress_emit(struct gr__progress *pr, int force);

/* checksum.c: "sha256:<hex>" of a file, and of a tree (names, types, modes, owners,
 * contents, link targets, device numbers, xattrs; not times).  Counts bytes/files. */
int gr__sha256_file(const char *path, struct gr__progress *pr, char **out, gr_error_t *err);
int gr__sha256_tree(const char *root, struct gr__progress *pr, char **out, uint64_t *bytes,
		    uint64_t *files, gr_error_t *err);

/* A qcow2 image folder: the disk's file hash, or with companion files (kernel, initrd...)
 * a hash over all regular files but the manifest. */
int gr__sha256_disk_dir(const char *dir, struct gr__progress *pr, char **out, uint64_t *bytes, uint64_t *files,
			gr_error_t *err);

/* copy.c: copy a tree preserving owners, modes, times, xattrs, hardlinks, devices;
 * dst must not exist.  Regular files are reflinked when the file system can. */
int gr__copy_tree(const char *src, const char *dst, struct gr__progress *pr, gr_error_t *err);
/* Count entries and apparent bytes of a tree (for progress totals); best effort. */
void gr__tree_count(const char *root, uint64_t *bytes, uint64_t *files);
/* Disk use of a tree in bytes (st_blocks * 512), not following mounts. */
uint64_t gr__tree_disk_usage(const char *root);

/* exec.c: run argv (no shell), stdin /dev/null.  Each output line (stdout+stderr, split
 * on '\n' and '\r') goes to line_fn if given; the last lines are kept for the error
 * message.  Fails (EIO) unless the exit status is 0. */
typedef void (*gr__line_fn)(const char *line, void *ud);
int gr__run(char *const argv[], gr__line_fn line_fn, void *ud, gr_error_t *err);
/* Run argv and capture its stdout (at most max bytes) into *out. */
int gr__run_capture(char *const argv[], size_t max, char **out, gr_error_t *err);

/* manifest.c */
/* manifest.c: a defaults object (GR__DEFAULTS, the manifest's "defaults") is well formed */
int gr__defaults_check(const json_t *d, gr_error_t *err);
int gr__manifest_write(const char *image_dir, const struct gr_image_info *info, gr_error_t *err);
int gr__manifest_read(const char *image_dir, struct gr_image_info *info, gr_error_t *err);

/* store.c: a staging folder for a new image (malloc'd path), and publishing it: checksum
 * the content in stage/rootfs or stage/disk.qcow2, write the manifest, make it read-only,
 * rename to images_dir/<name>.  On failure the stage is removed. */
int gr__image_stage(const struct gr_image_ctx *ctx, const char *name, char **stage, gr_error_t *err);
int gr__image_publish(const struct gr_image_ctx *ctx, const char *name, const char *stage,
		      const char *kind, const char *source, struct gr__progress *pr,
		      struct gr_image_info *info, gr_error_t *err);
/* The same, refusing (EIO, nothing published) unless the checksum is `expect` (if not NULL). */
int gr__image_publish_expect(const struct gr_image_ctx *ctx, const char *name, const char *stage,
			     const char *kind, const char *source, const char *expect,
			     struct gr__progress *pr, struct gr_image_info *info, gr_error_t *err);
void gr__image_stage_discard(const char *stage);
/* Remove the stage and trash folders in dir left by processes that no longer exist. */
void gr__sweep_stale(const char *dir);
char *gr__image_dir(const struct gr_image_ctx *ctx, const char *name);
/* Make a tree writable again (chmod u+w on folders) so it can be removed. */
int gr__rm_tree(const char *path, gr_error_t *err);

/* qcow2.c */
enum gr__disk_format { GR__DISK_NONE, GR__DISK_QCOW2, GR__DISK_RAW };
/* By magic: qcow2 header, MBR/GPT boot signature, ext2/3/4 or ISO9660 superblock. */
enum gr__disk_format gr__disk_detect(const char *path);
/* Convert/copy src to a standalone qcow2 at dst (rejects backing files), with progress. */
int gr__qcow2_import(const char *src, enum gr__disk_format fmt, const char *dst, struct gr__progress *pr,
		     gr_error_t *err);
int gr__qcow2_overlay(const char *backing, const char *path, gr_error_t *err);
int gr__qcow2_snapshot(const char *op, const char *disk, const char *snap, gr_error_t *err);
int gr__qcow2_snapshot_list(const char *disk, char ***names, gr_error_t *err);

/* tar.c: extract a tarball (any compression libarchive reads) into dst (must exist).
 * Returns 1 if path is not a tarball at all (nothing written), 0 on success. */
int gr__tar_extract(const char *path, const char *dst, struct gr__progress *pr, gr_error_t *err);
/* The same for an image layer: its whiteout entries (".wh.*") are skipped. */
int gr__tar_extract_layer(const char *path, const char *dst, struct gr__progress *pr, gr_error_t *err);

/* oci.c: OCI image layouts and docker-save archives.  is_layout: DIR is one (folder);
 * is_layout_tar: PATH is one as a tarball (reads headers only while they look like one);
 * import: DIR's image applied into STAGE/rootfs, its config's defaults in
 * STAGE/GR__DEFAULTS. */
int gr__oci_is_layout(const char *dir);
int gr__oci_is_layout_tar(const char *path);
int gr__oci_import(const char *dir, const char *stage, struct gr__progress *pr, gr_error_t *err);

/* build.c: the mirror and suite for debootstrap from /etc/apt/sources.list*. */
int gr__apt_mirror(char **mirror, char **suite, gr_error_t *err);

#endif
