/*
 * image.h - master images and thin per-instance layers (seed 003: master -> user -> run).
 *
 * A master image is a read-only, checksummed thing under ctx->images_dir:
 *     <images_dir>/<name>/image.json      manifest (gr_image_info as JSON, incl. checksum)
 *     <images_dir>/<name>/rootfs/         kind "rootfs": a container root file system
 *     <images_dir>/<name>/disk.qcow2      kind "qcow2":  a VM disk (raw input is converted)
 * The image folder is made mode 0555 and the manifest 0444 once finished; a master is only
 * ever used as an overlayfs lowerdir or a qcow2 backing file, never written.
 * gr_image_verify() recomputes the checksum and detects tampering.
 *
 * An instance's layers live under ctx->layers_dir:
 *     <layers_dir>/<instance>/layer.json            which image, kind, mount state
 *     rootfs kind:  user/{upper,work}  run/{upper,work}  snapshots/<snap>/upper
 *     qcow2 kind:   user.qcow2 (backing: master)  run.qcow2 (backing: user.qcow2)
 * Creating a user layer is O(1) in the master's size (empty upper dir / empty qcow2 overlay).
 * An ephemeral start adds a run layer on top of the user layer; stopping drops it, so the
 * next start sees the user layer again.
 *
 * Errors follow docs/ERRORS.md (return < 0, fill err): EINVAL bad name/input, ENOENT no such
 * image/layer, EEXIST already exists, EBUSY in use (mounted, or an instance uses the image).
 * A failed call leaves nothing behind (staging folders and half layers are removed).
 *
 * External tools (qemu-img, debootstrap, dpkg-query) run as child processes that these
 * functions wait for by pid: a daemon must not reap all children (waitpid(-1)) meanwhile.
 *
 * Threads: every function is reentrant; calls on *different* images/instances may run in
 * parallel.  Calls on the same image or instance must be serialized by the caller (the
 * daemon); creation is still atomic (rename) so two racing imports of one name give one
 * image and one EEXIST.  Long calls (import, build, verify) report progress through the
 * callback, on the calling thread.
 */
#ifndef GR_IMAGE_IMAGE_H
#define GR_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util/error.h"

#define GR_IMAGE_KIND_ROOTFS "rootfs"
#define GR_IMAGE_KIND_QCOW2 "qcow2"

/* Hook: does an instance use this image?  Return 1 (and optionally write the user's name
 * into who[who_len]) if so, 0 if not, < 0 on error.  Called by gr_image_delete(). */
typedef int (*gr_image_in_use_fn)(const char *image, char *who, size_t who_len, void *ud);

struct gr_image_ctx {
	const char *images_dir;       /* masters; created on demand */
	const char *layers_dir;       /* per-instance layers; created on demand */
	gr_image_in_use_fn in_use;    /* optional; delete also refuses while a layer uses it */
	void *in_use_ud;
	const char *mirror;           /* optional debootstrap "URL [SUITE]"; NULL = from apt sources */
};

struct gr_image_info {
	char *name;
	char *kind;          /* "rootfs" | "qcow2" */
	char *checksum;      /* "sha256:<64 hex>" (tree hash for rootfs, file hash for qcow2) */
	char *path;          /* absolute: the rootfs folder or the qcow2 file */
	uint64_t size_bytes; /* apparent size of the content */
	uint64_t files;      /* entries in the tree (1 for qcow2) */
	long long created;   /* unix seconds */
	char *source;        /* where it came from: "import:/path", "build:busybox 1:1.35.0-4" */
	json_t *defaults;    /* a container's defaults from an OCI image config, NULL if none:
			      * {"env": [...], "entrypoint": [...], "cmd": [...], "working_dir",
			      *  "user"} (each optional) */
};

/* Progress of a long call. phase: "copy", "extract", "convert", "checksum", "debootstrap",
 * ...; bytes_total/files_total are 0 when unknown. message may be NULL (a tool's line). */
struct gr_image_progress {
	const char *phase;
	uint64_t bytes_done, bytes_total;
	uint64_t files_done, files_total;
	const char *message;
};
typedef void (*gr_image_progress_fn)(const struct gr_image_progress *p, void *ud);

/* [a-z0-9][a-z0-9._-]{0,62} */
int gr_image_name_valid(const char *name);

/* Import a rootfs folder, a tarball (.tar, .tar.gz, .tar.xz, .tar.zst, .tar.bz2; detected by
 * content, not by suffix), or a VM disk (qcow2 by magic, raw MBR/GPT/ext disk: converted to
 * qcow2).  On success fills *info (caller frees with gr_image_info_clear) if info != NULL.
 * progress may be NULL. */
int gr_image_import(const struct gr_image_ctx *ctx, const char *name, const char *src_path,
		    gr_image_progress_fn progress, void *ud, struct gr_image_info *info, gr_error_t *err);

/* Build a default image by recipe name (see gr_image_recipes()): "busybox" (from the
 * busybox-static package, seconds), "debian-base" (debootstrap --variant=minbase from the apt
 * mirror, minutes).  The image gets the recipe's name. */
int gr_image_build(const struct gr_image_ctx *ctx, const char *name, gr_image_progress_fn progress,
		   void *ud, struct gr_image_info *info, gr_error_t *err);

/* A build recipe: fill stage_dir/rootfs/ (kind rootfs) or write stage_dir/disk.qcow2 (kind
 * qcow2), set *source (malloc'd, may stay NULL).  The module checksums, writes the manifest
 * and publishes; on error it removes stage_dir. */
typedef int (*gr_image_recipe_fn)(const struct gr_image_ctx *ctx, const char *stage_dir,
				  gr_image_progress_fn progress, void *ud, char **source,
				  gr_error_t *err);
struct gr_image_recipe {
	const char *name;
	const char *kind;
	const char *description;
	gr_image_recipe_fn build;
};
/* The table of known recipes, terminated by an entry with name == NULL. */
const struct gr_image_recipe *gr_image_recipes(void);
/* Add a back-end's recipe (the VM driver's debian-vm) to the table, at start-up before any
 * build (r is copied; its strings must live on).  Registering the same recipe again is
 * success; EEXIST when another one has the name; ENOSPC when the table is full. */
int gr_image_recipe_register(const struct gr_image_recipe *r, gr_error_t *err);

/* List all images (sorted by name); *out is an array of *n infos, free with
 * gr_image_info_list_free.  Folders without a valid manifest are skipped. */
int gr_image_list(const struct gr_image_ctx *ctx, struct gr_image_info **out, size_t *n, gr_error_t *err);
int gr_image_get(const struct gr_image_ctx *ctx, const char *name, struct gr_image_info *info,
		 gr_error_t *err);
/* Delete; EBUSY if ctx->in_use says so or a layer under layers_dir uses it. */
int gr_image_delete(const struct gr_image_ctx *ctx, const char *name, gr_error_t *err);
/* Recompute the checksum; 0 if it matches the manifest, < 0 with EIO ("tampered") if not. */
int gr_image_verify(const struct gr_image_ctx *ctx, const char *name, gr_image_progress_fn progress,
		    void *ud, gr_error_t *err);

void gr_image_info_clear(struct gr_image_info *info);
void gr_image_info_list_free(struct gr_image_info *list, size_t n);
/* JSON object with the fields above (new reference). */
json_t *gr_image_info_to_json(const struct gr_image_info *info);
/* Parse such an object (manifest or API); names the bad field in err. */
int gr_image_info_from_json(const json_t *obj, struct gr_image_info *info, gr_error_t *err);

/* Moving a master between hosts.  The export form is an uncompressed pax tar of the image
 * folder without its manifest ("rootfs/..." for kind rootfs; "disk.qcow2" and companion
 * files for kind qcow2), owners numeric, xattrs kept: what the checksum covers.
 * gr_image_export writes it to fd (a pipe or socket: written in order, never seeked).
 * gr_image_receive imports such a tar file (tar_path) as image `name` of `kind` in a staging
 * folder and publishes it only if its checksum is `checksum` ("sha256:<hex>"): a short,
 * corrupted or foreign stream gives EIO/EINVAL naming the image and leaves nothing behind.
 * source is recorded in the manifest (e.g. "fetch:h1"). */
int gr_image_export(const struct gr_image_ctx *ctx, const char *name, int fd, gr_error_t *err);
int gr_image_receive(const struct gr_image_ctx *ctx, const char *name, const char *kind,
		     const char *checksum, const char *tar_path, const char *source,
		     gr_image_progress_fn progress, void *ud, struct gr_image_info *info, gr_error_t *err);

/* ---- layers (per instance) ---------------------------------------------------------- */

/* Instance ids: [A-Za-z0-9][A-Za-z0-9._-]{0,127}. */
int gr_layer_id_valid(const char *instance_id);

struct gr_layer_info {
	char *instance_id;
	char *image;          /* master image name */
	char *kind;           /* "rootfs" | "qcow2" */
	char *user_path;      /* user upper dir, or user.qcow2 */
	char *mounted_at;     /* rootfs: current mount target, NULL when not mounted */
	int ephemeral;        /* the current mount/disk has a run layer */
	uint64_t user_bytes;  /* disk used by the user layer (blocks * 512) */
};

/* Make the user layer of instance_id over image: O(1) (empty upper dir, or a qcow2 overlay
 * with the master as backing file).  EEXIST if the instance already has layers. */
int gr_layer_create_user(const struct gr_image_ctx *ctx, const char *image, const char *instance_id,
			 gr_error_t *err);
/* rootfs: mount the instance root at target_dir (must exist): overlay lowerdir=master,
 * upperdir=user; with ephemeral a fresh run layer: lowerdir=user_upper:master,
 * upperdir=run.  image may be NULL (use the recorded one); otherwise it must match. */
int gr_layer_mount_root(const struct gr_image_ctx *ctx, const char *image, const char *instance_id,
			int ephemeral, const char *target_dir, gr_error_t *err);
/* Shift the user layer of a rootfs instance to host IDs: IDs 0..size-1 of its files become
 * host_uid.. / host_gid.. (one chown pass; a new layer holds only its root), recorded in
 * layer.json; from then on gr_layer_mount_root shows the master through an idmapped mount
 * with the same shift (the master on disk is never changed), or, where the kernel or file
 * system refuses idmapped mounts (or GUREUM_NO_IDMAP=1), through a shifted copy made once.  The same shift again is a
 * no-op; another one is EBUSY; EBUSY also while the root is mounted. */
int gr_layer_shift(const struct gr_image_ctx *ctx, const char *instance_id, uint32_t host_uid,
		   uint32_t host_gid, uint32_t size, gr_error_t *err);
/* Unmount the instance root (target_dir NULL = the recorded target); drop_run_layer removes
 * the run layer (always done for ephemeral mounts when != 0). */
int gr_layer_umount_root(const struct gr_image_ctx *ctx, const char *instance_id, const char *target_dir,
			 int drop_run_layer, gr_error_t *err);
/* qcow2: the disk QEMU should open.  Not ephemeral: the user layer.  Ephemeral: a fresh
 * run.qcow2 backed by user.qcow2.  *disk_path is malloc'd. */
int gr_layer_disk_open(const struct gr_image_ctx *ctx, const char *instance_id, int ephemeral,
		       char **disk_path, gr_error_t *err);
/* qcow2: the VM stopped; drop_run_layer removes run.qcow2. */
int gr_layer_disk_close(const struct gr_image_ctx *ctx, const char *instance_id, int drop_run_layer,
			gr_error_t *err);
/* Remove all layers and snapshots of the instance; EBUSY while its root is mounted.
 * ENOENT is success. */
int gr_layer_delete(const struct gr_image_ctx *ctx, const char *instance_id, gr_error_t *err);
int gr_layer_get(const struct gr_image_ctx *ctx, const char *instance_id, struct gr_layer_info *info,
		 gr_error_t *err);
void gr_layer_info_clear(struct gr_layer_info *info);
/* Instance ids that have layers over image (NULL = all); sorted, NULL-terminated strv the
 * caller frees with gr_strv_free (util/alloc.h). */
int gr_layer_list(const struct gr_image_ctx *ctx, const char *image, char ***ids, gr_error_t *err);

/* Snapshots of the user layer (names follow gr_image_name_valid).  rootfs: a copy of the
 * user upper dir (reflink where the file system can), only while not mounted (EBUSY);
 * restore swaps the copy back in (the snapshot is kept).  qcow2: internal qcow2 snapshots
 * of user.qcow2 (qemu-img snapshot), only while the VM is stopped. */
int gr_layer_snapshot_create(const struct gr_image_ctx *ctx, const char *instance_id, const char *snap,
			     gr_error_t *err);
int gr_layer_snapshot_restore(const struct gr_image_ctx *ctx, const char *instance_id, const char *snap,
			      gr_error_t *err);
int gr_layer_snapshot_delete(const struct gr_image_ctx *ctx, const char *instance_id, const char *snap,
			     gr_error_t *err);
/* Sorted, NULL-terminated strv of snapshot names; free with gr_strv_free. */
int gr_layer_snapshot_list(const struct gr_image_ctx *ctx, const char *instance_id, char ***names,
			   gr_error_t *err);

#endif
