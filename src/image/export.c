/*
 * export.c - a master in transit: gr_image_export writes the image folder (without the
 * manifest) as an uncompressed pax tar to an fd; gr_image_receive extracts such a tar into
 * a staging folder and publishes it only when the recomputed checksum is the one the
 * sender's host published.  The checksum (tree hash for rootfs, file hash for qcow2) is the
 * proof: the tar itself is not trusted beyond what gr__tar_extract already refuses (paths
 * outside the image).  Nothing here knows about hosts or networks.
 */
#include "image/image-internal.h"
#include "util/alloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static la_ssize_t write_fd(struct archive *a, void *ud, const void *buf, size_t len)
{
	int fd = *(int *)ud;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, (const char *)buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			archive_set_error(a, errno, "write: %s", strerror(errno));
			return -1;
		}
		done += (size_t)w;
	}
	return (la_ssize_t)len;
}

/* Add the tree at dir/rel to the archive under the name rel. */
static int add_tree(struct archive *out, const char *dir, const char *rel, gr_error_t *err)
{
	_cleanup_free_ char *top = xasprintf("%s/%s", dir, rel);
	struct archive *disk = archive_read_disk_new();
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	int rc = 0;
	if (archive_read_disk_open(disk, top) != ARCHIVE_OK) {
		rc = gr_error_set(err, EIO, "%s: %s", top, archive_error_string(disk));
		goto out;
	}
	size_t cut = strlen(dir) + 1;
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		int r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r < ARCHIVE_WARN) {
			rc = gr_error_set(err, EIO, "%s: %s", top, archive_error_string(disk));
			archive_entry_free(e);
			break;
		}
		archive_read_disk_descend(disk);
		const char *path = archive_entry_sourcepath(e);
		archive_entry_set_pathname(e, path + cut);
		/* numeric owners only: the ids belong to the image */
		archive_entry_set_uname(e, NULL);
		archive_entry_set_gname(e, NULL);
		r = archive_write_header(out, e);
		if (r < ARCHIVE_WARN) {
			rc = gr_error_set(err, EIO, "%s: %s", path, archive_error_string(out));
			archive_entry_free(e);
			break;
		}
		if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0 &&
		    !archive_entry_hardlink(e)) {
			_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0) {
				rc = gr_error_sys(err, "cannot open %s", path);
				archive_entry_free(e);
				break;
			}
			char buf[1 << 16];
			ssize_t n;
			while ((n = read(fd, buf, sizeof buf)) > 0)
				if (archive_write_data(out, buf, (size_t)n) < 0) {
					n = -1;
					errno = EIO;
					break;
				}
			if (n < 0) {
				rc = gr_error_set(err, EIO, "%s: %s", path, archive_error_string(out));
				archive_entry_free(e);
				break;
			}
		}
		archive_entry_free(e);
	}
out:
	archive_read_close(disk);
	archive_read_free(disk);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int gr_image_export(const struct gr_image_ctx *ctx, const char *name, int fd, gr_error_t *err)
{
	struct gr_image_info info;
	if (gr_image_get(ctx, name, &info, err) < 0)
		return -1;
	gr_image_info_clear(&info);
	_cleanup_free_ char *dir = gr__image_dir(ctx, name);
	DIR *d = opendir(dir);
	if (!d)
		return gr_error_sys(err, "cannot open %s", dir);
	/* sorted, so two exports of one master are the same bytes */
	_cleanup_strv_ char **names = xcalloc(1, sizeof *names);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, GR__MANIFEST))
			continue;
		names = xrealloc(names, (n + 2) * sizeof *names);
		names[n++] = xstrdup(de->d_name);
		names[n] = NULL;
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_names);
	struct archive *out = archive_write_new();
	archive_write_set_format_pax_restricted(out);
	archive_write_set_bytes_in_last_block(out, 1);
	int rc = 0;
	if (archive_write_open(out, &fd, NULL, write_fd, NULL) != ARCHIVE_OK) {
		rc = gr_error_set(err, EIO, "%s", archive_error_string(out));
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_tree(out, dir, names[i], err);
	if (archive_write_close(out) != ARCHIVE_OK && rc == 0)
		rc = gr_error_set(err, EIO, "%s", archive_error_string(out));
out:
	archive_write_free(out);
	return rc < 0 ? gr_error_prefix(err, "exporting image '%s'", name) : 0;
}

int gr_image_receive(const struct gr_image_ctx *ctx, const char *name, const char *kind,
		     const char *checksum, const char *tar_path, const char *source,
		     gr_image_progress_fn progress, void *ud, struct gr_image_info *info, gr_error_t *err)
{
	if (!kind || (strcmp(kind, GR_IMAGE_KIND_ROOTFS) && strcmp(kind, GR_IMAGE_KIND_QCOW2)))
		return gr_error_set(err, EINVAL, "receiving image '%s': kind '%s' is not rootfs or qcow2", name,
				    kind ? kind : "");
	if (!checksum || strncmp(checksum, "sha256:", 7) || strlen(checksum) != 7 + 64)
		return gr_error_set(err, EINVAL, "receiving image '%s': checksum: want sha256:<64 hex>", name);
	_cleanup_free_ char *stage = NULL, *manifest = NULL, *content = NULL;
	if (gr__image_stage(ctx, name, &stage, err) < 0)
		return -1;
	manifest = xasprintf("%s/" GR__MANIFEST, stage);
	content = xasprintf("%s/%s", stage, strcmp(kind, GR_IMAGE_KIND_QCOW2) ? GR__ROOTFS : GR__DISK);
	struct gr__progress pr;
	gr__progress_init(&pr, progress, ud, "extract");
	int r = gr__tar_extract(tar_path, stage, &pr, err);
	if (r == 1)
		gr_error_set(err, EINVAL, "not a tar stream");
	if (r != 0)
		goto fail;
	struct stat st;
	if (lstat(manifest, &st) == 0) {
		gr_error_set(err, EINVAL, "the stream carries a manifest of its own");
		goto fail;
	}
	if (lstat(content, &st) < 0 || (!strcmp(kind, GR_IMAGE_KIND_QCOW2) ? !S_ISREG(st.st_mode)
									    : !S_ISDIR(st.st_mode))) {
		gr_error_set(err, EINVAL, "the stream has no %s", strrchr(content, '/') + 1);
		goto fail;
	}
	/* publish discards the stage itself on failure */
	if (gr__image_publish_expect(ctx, name, stage, kind, source, checksum, &pr, info, err) < 0)
		return gr_error_prefix(err, "receiving image '%s'", name);
	return 0;
fail:
	gr__image_stage_discard(stage);
	return gr_error_prefix(err, "receiving image '%s'", name);
}
