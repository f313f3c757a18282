/*
 * qcow2.c - VM disk masters and their thin clones, through qemu-img.
 *
 * A disk master is always a standalone qcow2 (raw input is converted; qcow2 input is
 * rewritten by `qemu-img convert`, which also drops unused clusters).  Inputs with a
 * backing file or an external data file are refused: they would make the master read a
 * file outside the image store.  Clones are qcow2 overlays whose backing file is the
 * absolute path of the layer below (-F qcow2 pins the backing format, so a guest cannot
 * make QEMU probe it as something else).
 */
#include "image/image-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum gr__disk_format gr__disk_detect(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return GR__DISK_NONE;
	unsigned char b[34816];
	memset(b, 0, sizeof b);
	ssize_t n = pread(fd, b, sizeof b, 0);
	if (n < 4)
		return GR__DISK_NONE;
	if (!memcmp(b, "QFI\xfb", 4))
		return GR__DISK_QCOW2;
	if (n >= 512 && b[510] == 0x55 && b[511] == 0xaa)
		return GR__DISK_RAW; /* MBR / boot sector */
	if (n >= 520 && !memcmp(b + 512, "EFI PART", 8))
		return GR__DISK_RAW; /* GPT */
	if (n >= 1082 && b[1080] == 0x53 && b[1081] == 0xef)
		return GR__DISK_RAW; /* ext2/3/4 file system image */
	if (n >= 32774 && !memcmp(b + 32769, "CD001", 5))
		return GR__DISK_RAW; /* ISO 9660 */
	return GR__DISK_NONE;
}

/* `qemu-img info --output=json`: parsed object (new reference). */
static int disk_info(const char *path, const char *fmt, json_t **out, gr_error_t *err)
{
	char *argv[] = {"qemu-img", "info", "--output=json", "-U", "-f", (char *)fmt, (char *)path, NULL};
	_cleanup_free_ char *text = NULL;
	if (gr__run_capture(argv, 1 << 22, &text, err) < 0)
		return gr_error_prefix(err, "%s", path);
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return gr_error_set(err, EIO, "qemu-img info %s: unreadable output", path);
	}
	*out = o;
	return 0;
}

struct convert_ud {
	struct gr__progress *pr;
};

static void convert_line(const char *line, void *ud)
{
	struct convert_ud *c = ud;
	double pct;
	if (!c->pr || sscanf(line, " (%lf/100%%)", &pct) != 1)
		return;
	c->pr->p.bytes_done = (uint64_t)(pct / 100.0 * (double)c->pr->p.bytes_total);
	gr__progress_emit(c->pr, 0);
}

int gr__qcow2_import(const char *src, enum gr__disk_format fmt, const char *dst, struct gr__progress *pr,
		     gr_error_t *err)
{
	const char *f = fmt == GR__DISK_QCOW2 ? "qcow2" : "raw";
	json_t *info = NULL;
	if (disk_info(src, f, &info, err) < 0)
		return -1;
	int rc = 0;
	json_t *data_file = json_object_get(json_object_get(json_object_get(info, "format-specific"), "data"),
					    "data-file");
	if (json_object_get(info, "backing-filename"))
		rc = gr_error_set(err, EINVAL, "%s has a backing file (%s); import a flattened disk", src,
				  json_string_value(json_object_get(info, "backing-filename")));
	else if (data_file)
		rc = gr_error_set(err, EINVAL, "%s uses an external data file; import a self-contained disk", src);
	json_int_t vsize = json_integer_value(json_object_get(info, "virtual-size"));
	json_decref(info);
	if (rc < 0)
		return -1;
	if (pr) {
		pr->p.phase = "convert";
		pr->p.bytes_total = vsize > 0 ? (uint64_t)vsize : 0;
		pr->p.bytes_done = 0;
		gr__progress_emit(pr, 1);
	}
	char *argv[] = {"qemu-img", "convert", "-p", "-f", (char *)f, "-O", "qcow2", (char *)src, (char *)dst, NULL};
	struct convert_ud ud = {pr};
	if (gr__run(argv, convert_line, &ud, err) < 0) {
		unlink(dst);
		return gr_error_prefix(err, "converting %s", src);
	}
	if (pr) {
		pr->p.bytes_done = pr->p.bytes_total;
		gr__progress_emit(pr, 1);
	}
	return 0;
}

int gr__qcow2_overlay(const char *backing, const char *path, gr_error_t *err)
{
	char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", (char *)backing,
			(char *)path, NULL};
	if (gr__run(argv, NULL, NULL, err) < 0) {
		unlink(path);
		return gr_error_prefix(err, "creating overlay %s", path);
	}
	return 0;
}

int gr__qcow2_snapshot(const char *op, const char *disk, const char *snap, gr_error_t *err)
{
	char flag[3] = {'-', op[0], '\0'}; /* c(reate), a(pply), d(elete) */
	char *argv[] = {"qemu-img", "snapshot", flag, (char *)snap, (char *)disk, NULL};
	if (gr__run(argv, NULL, NULL, err) < 0)
		return gr_error_prefix(err, "snapshot %s of %s", snap, disk);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int gr__qcow2_snapshot_list(const char *disk, char ***names, gr_error_t *err)
{
	json_t *info = NULL;
	if (disk_info(disk, "qcow2", &info, err) < 0)
		return -1;
	json_t *snaps = json_object_get(info, "snapshots");
	size_t n = json_is_array(snaps) ? json_array_size(snaps) : 0, k = 0;
	char **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_object_get(json_array_get(snaps, i), "name"));
		if (name)
			v[k++] = xstrdup(name);
	}
	json_decref(info);
	qsort(v, k, sizeof(*v), cmp_str);
	*names = v;
	return 0;
}
