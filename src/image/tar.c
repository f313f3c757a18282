/*
 * tar.c - extracting rootfs tarballs with libarchive (tar/pax/gnutar, compressed with
 * gzip, xz, zstd, bzip2, lz4; detected by content).
 *
 * Safety: entry names are made relative (leading '/' stripped), names with a ".."
 * component are refused, the destination is resolved with realpath() first and
 * ARCHIVE_EXTRACT_SECURE_SYMLINKS refuses to write through a symlink the archive planted,
 * so nothing lands outside dst.  Owners are kept numerically (no name lookup: the ids
 * belong to the image, not to this host); file flags (chattr) are not applied, so masters
 * stay removable.
 */
#include "image/image-internal.h"
#include "util/alloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int has_dotdot(const char *p)
{
	for (const char *s = p; *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 1;
		if (!e)
			break;
		s = e + 1;
	}
	return 0;
}

/* dst/<name without leading slashes>, or NULL if unsafe. */
static char *place(const char *dst, const char *name)
{
	while (*name == '/')
		name++;
	if (has_dotdot(name))
		return NULL;
	return *name ? xasprintf("%s/%s", dst, name) : xstrdup(dst);
}

static int copy_data(struct archive *in, struct archive *out, const char *src, const char *name,
		     gr_error_t *err)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return gr_error_set(err, EINVAL, "%s: entry '%s': %s", src, name, archive_error_string(in));
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
			return gr_error_set(err, EIO, "%s: entry '%s': %s", src, name, archive_error_string(out));
	}
}

static int extract(const char *src, const char *dst_in, struct gr__progress *pr, int layer, gr_error_t *err)
{
	char dst[PATH_MAX];
	if (!realpath(dst_in, dst))
		return gr_error_sys(err, "cannot resolve %s", dst_in);
	struct archive *in = archive_read_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	if (archive_read_open_filename(in, src, 1 << 16) != ARCHIVE_OK) {
		if (archive_errno(in) == EILSEQ /* libarchive: unrecognised format */) {
			archive_read_free(in);
			return 1; /* no filter or format recognised it */
		}
		gr_error_set(err, archive_errno(in) > 0 ? archive_errno(in) : EINVAL, "%s: %s", src,
			     archive_error_string(in));
		archive_read_free(in);
		return -1;
	}
	struct archive *out = archive_write_disk_new();
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
						    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_UNLINK);
	struct stat st;
	if (pr) {
		pr->p.phase = "extract";
		pr->p.bytes_total = stat(src, &st) == 0 ? (uint64_t)st.st_size : 0;
		gr__progress_emit(pr, 1);
	}
	int rc = 0, entries = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			/* Nothing recognised at all: not a tarball, let the caller try disk formats. */
			if (entries == 0 && archive_filter_count(in) <= 1 && archive_format(in) == 0) {
				rc = 1;
				break;
			}
			rc = gr_error_set(err, EINVAL, "%s: %s%s", src,
					  entries ? "" : "not a valid tar archive: ", archive_error_string(in));
			break;
		}
		entries++;
		const char *name = archive_entry_pathname(e);
		if (layer && name) {
			/* an image layer's whiteouts were applied before (oci.c): not files */
			const char *base = strrchr(name, '/');
			if (!strncmp(base ? base + 1 : name, ".wh.", 4))
				continue;
		}
		_cleanup_free_ char *path = name ? place(dst, name) : NULL;
		if (!path) {
			rc = gr_error_set(err, EINVAL, "%s: entry '%s' points outside the image", src, name ? name : "");
			break;
		}
		archive_entry_set_pathname(e, path);
		const char *hl = archive_entry_hardlink(e);
		if (hl) {
			_cleanup_free_ char *hpath = place(dst, hl);
			if (!hpath) {
				rc = gr_error_set(err, EINVAL, "%s: hard link '%s' points outside the image", src, hl);
				break;
			}
			archive_entry_set_hardlink(e, hpath);
		}
		r = archive_write_header(out, e);
		if (r < ARCHIVE_WARN) {
			rc = gr_error_set(err, EINVAL, "%s: entry '%s': %s", src, name, archive_error_string(out));
			break;
		}
		if (archive_entry_size(e) > 0 && !hl && copy_data(in, out, src, name, err) < 0) {
			rc = -1;
			break;
		}
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			rc = gr_error_set(err, EIO, "%s: entry '%s': %s", src, name, archive_error_string(out));
			break;
		}
		if (pr) {
			pr->p.files_done++;
			pr->p.bytes_done = (uint64_t)archive_filter_bytes(in, -1);
			gr__progress_emit(pr, 0);
		}
	}
	if (archive_write_close(out) < ARCHIVE_WARN && rc == 0)
		rc = gr_error_set(err, EIO, "%s: %s", src, archive_error_string(out));
	archive_write_free(out);
	archive_read_free(in);
	if (rc == 0 && pr)
		gr__progress_emit(pr, 1);
	return rc;
}

int gr__tar_extract(const char *src, const char *dst, struct gr__progress *pr, gr_error_t *err)
{
	return extract(src, dst, pr, 0, err);
}

int gr__tar_extract_layer(const char *src, const char *dst, struct gr__progress *pr, gr_error_t *err)
{
	return extract(src, dst, pr, 1, err);
}
