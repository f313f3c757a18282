/*
 * test_import.c - real imports as root: a rootfs folder with every kind of entry, the
 * same tree as .tar/.tar.gz/.tar.xz/.tar.zst/.tar.bz2 (all must give the folder's
 * checksum), broken and hostile tarballs (clear error, nothing left behind), raw and
 * qcow2 disks, list/get/delete, verify catching tampering, and progress reports.
 */
#include "image/image.h"
#include "util/alloc.h"
#include "tap.h"
#include "common.h"

#include <sys/xattr.h>

struct prog {
	int calls;
	char phases[256];
	uint64_t max_files;
};

static void on_progress(const struct gr_image_progress *p, void *ud)
{
	struct prog *pr = ud;
	pr->calls++;
	if (!strstr(pr->phases, p->phase) && strlen(pr->phases) + strlen(p->phase) + 2 < sizeof pr->phases) {
		strcat(pr->phases, p->phase);
		strcat(pr->phases, " ");
	}
	if (p->files_done > pr->max_files)
		pr->max_files = p->files_done;
}

static int stage_empty(const char *images)
{
	/* nothing but published images: no .stage-* or .trash-* left */
	char cmd[600];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '^\\.'", images);
	return system(cmd) != 0;
}

int main(void)
{
	if (geteuid() != 0) {
		skip("imports need root (owners, device nodes)");
		return tap_done();
	}
	const char *root = t_scratch("import");
	char images[512], layers[512], src[512];
	snprintf(images, sizeof images, "%s/images", root);
	snprintf(layers, sizeof layers, "%s/layers", root);
	snprintf(src, sizeof src, "%s/src", root);
	struct gr_image_ctx ctx = {.images_dir = images, .layers_dir = layers};
	gr_error_t err = {0};
#define E (gr_error_clear(&err), &err)
	struct gr_image_info info = {0};

	/* a source tree with every entry kind */
	int rc = t_sh("set -e; cd %s; mkdir -p src/bin src/etc src/dev src/empty src/deep/a/b/c;"
		      "printf 'hello\\n' > src/etc/motd; head -c 300000 /dev/urandom > src/bin/blob;"
		      "ln src/bin/blob src/bin/blob-hardlink; ln -s ../etc/motd src/bin/motd-link;"
		      "mkfifo src/dev/fifo; mknod src/dev/null c 1 3; cp /bin/busybox src/bin/busybox;"
		      "chmod 4755 src/bin/busybox; chown 1000:1000 src/etc/motd; echo deep > src/deep/a/b/c/f;"
		      "chmod 0700 src/empty; setfattr -n user.gr -v yes src/etc/motd 2>/dev/null || true",
		      root);
	is_int(rc, 0, "source tree made");

	struct prog pr = {0};
	ok(gr_image_import(&ctx, "fromdir", src, on_progress, &pr, &info, E) == 0, "import a folder (%s)",
	   err.msg);
	is_str(info.kind, "rootfs", "folder import is a rootfs image");
	ok(info.checksum && !strncmp(info.checksum, "sha256:", 7), "it has a checksum (%s)", info.checksum);
	ok(info.files >= 14, "it counts its entries (%llu)", (unsigned long long)info.files);
	ok(info.size_bytes > 300000, "it counts its bytes (%llu)", (unsigned long long)info.size_bytes);
	ok(pr.calls > 0 && strstr(pr.phases, "copy") && strstr(pr.phases, "checksum"),
	   "progress reported (%d calls, phases: %s)", pr.calls, pr.phases);
	char *want = xstrdup(info.checksum ? info.checksum : "");
	char path[1024];
	snprintf(path, sizeof path, "%s", info.path ? info.path : "");
	struct stat st1, st2;
	ok(t_exists(path, "dev/fifo") && t_exists(path, "dev/null") && t_exists(path, "bin/motd-link"),
	   "fifo, device and symlink copied");
	char a[1100], b[1100];
	snprintf(a, sizeof a, "%s/bin/blob", path);
	snprintf(b, sizeof b, "%s/bin/blob-hardlink", path);
	ok(stat(a, &st1) == 0 && stat(b, &st2) == 0 && st1.st_ino == st2.st_ino, "hard link kept");
	snprintf(a, sizeof a, "%s/bin/busybox", path);
	ok(stat(a, &st1) == 0 && (st1.st_mode & 07777) == 04755, "setuid bit kept");
	snprintf(a, sizeof a, "%s/etc/motd", path);
	ok(stat(a, &st1) == 0 && st1.st_uid == 1000, "owner kept");
	char parent[1024];
	snprintf(parent, sizeof parent, "%s/fromdir", images);
	ok(stat(parent, &st1) == 0 && (st1.st_mode & 0777) == 0555, "image folder is read-only (0555)");
	gr_image_info_clear(&info);

	ok(gr_image_import(&ctx, "fromdir", src, NULL, NULL, NULL, E) < 0 && err.code == EEXIST,
	   "importing an existing name is EEXIST (%s)", err.msg);
	ok(gr_image_import(&ctx, "Bad/Name", src, NULL, NULL, NULL, E) < 0 && err.code == EINVAL,
	   "bad name refused (%s)", err.msg);
	ok(gr_image_import(&ctx, "nosrc", "/nonexistent/x", NULL, NULL, NULL, E) < 0 && err.code == ENOENT,
	   "missing source is ENOENT (%s)", err.msg);

	/* tarballs of the same tree */
	static const struct { const char *name, *file, *flag; } tars[] = {
		{"tar", "r.tar", ""}, {"targz", "r.tar.gz", "-z"}, {"tarxz", "r.tar.xz", "-J"},
		{"tarzst", "r.tar.zst", "--zstd"}, {"tarbz2", "r.tar.bz2", "-j"},
	};
	for (size_t i = 0; i < sizeof tars / sizeof tars[0]; i++) {
		if (t_sh("cd %s/src && tar --xattrs --xattrs-include='*' --numeric-owner %s -cf ../%s . 2>/dev/null",
			 root, tars[i].flag, tars[i].file)) {
			skip("cannot make %s here (compressor missing)", tars[i].file);
			continue;
		}
		char f[600];
		snprintf(f, sizeof f, "%s/%s", root, tars[i].file);
		memset(&pr, 0, sizeof pr);
		ok(gr_image_import(&ctx, tars[i].name, f, on_progress, &pr, &info, E) == 0, "import %s (%s)",
		   tars[i].file, err.msg);
		is_str(info.checksum, want, "%s gives the same checksum as the folder", tars[i].file);
		ok(strstr(pr.phases, "extract") != NULL, "%s reports extract progress (%s)", tars[i].file, pr.phases);
		gr_image_info_clear(&info);
	}

	/* broken and hostile inputs: clear error, nothing left behind */
	t_sh("cd %s && head -c 20000 r.tar.gz > trunc.tar.gz && head -c 5000 /dev/urandom > garbage.bin"
	     " && python3 -c \"import tarfile,io; t=tarfile.open('evil.tar','w'); ti=tarfile.TarInfo('../../escape');"
	     " d=b'x'; ti.size=1; t.addfile(ti, io.BytesIO(d)); t.close()\"",
	     root);
	char f[600];
	snprintf(f, sizeof f, "%s/trunc.tar.gz", root);
	ok(gr_image_import(&ctx, "trunc", f, NULL, NULL, NULL, E) < 0 && err.code == EINVAL &&
		   strstr(err.msg, "trunc.tar.gz"),
	   "truncated tarball fails naming the file (%s)", err.msg);
	snprintf(path, sizeof path, "%s/trunc", images);
	ok(!t_exists(images, "trunc") && stage_empty(images), "truncated tarball leaves nothing behind");
	snprintf(f, sizeof f, "%s/garbage.bin", root);
	ok(gr_image_import(&ctx, "garbage", f, NULL, NULL, NULL, E) < 0 && err.code == EINVAL &&
		   strstr(err.msg, "not a rootfs folder"),
	   "garbage file is refused clearly (%s)", err.msg);
	ok(!t_exists(images, "garbage") && stage_empty(images), "garbage leaves nothing behind");
	snprintf(f, sizeof f, "%s/evil.tar", root);
	ok(gr_image_import(&ctx, "evil", f, NULL, NULL, NULL, E) < 0 && strstr(err.msg, "outside"),
	   "tarball with ../ entries is refused (%s)", err.msg);
	ok(!t_exists(root, "escape") && !t_exists(images, "escape") && stage_empty(images),
	   "nothing escaped, nothing left behind");
	/* a symlink to a folder outside, then a file "through" it */
	t_sh("mkdir -p %s/outside && cd %s && python3 -c \"import tarfile,io; t=tarfile.open('link.tar','w');"
	     " l=tarfile.TarInfo('up'); l.type=tarfile.SYMTYPE; l.linkname='%s/outside'; t.addfile(l);"
	     " f=tarfile.TarInfo('up/planted'); f.size=1; t.addfile(f, io.BytesIO(b'x')); t.close()\"",
	     root, root, root);
	snprintf(f, sizeof f, "%s/link.tar", root);
	int lrc = gr_image_import(&ctx, "linkevil", f, NULL, NULL, NULL, E);
	snprintf(path, sizeof path, "%s/outside", root);
	ok(!t_exists(path, "planted") && stage_empty(images), "a file 'through' a planted symlink does not escape");
	ok(lrc < 0 || t_exists(images, "linkevil/rootfs/up/planted"),
	   "... it is refused or lands inside the image (%s)", lrc < 0 ? err.msg : "inside");

	/* disks: raw (boot signature) is converted, qcow2 kept, backing files refused */
	int have_qemu_img = t_sh("command -v qemu-img >/dev/null") == 0;
	if (have_qemu_img) {
		t_sh("cd %s && truncate -s 8M raw.img && printf '\\125\\252' | dd of=raw.img bs=1 seek=510 conv=notrunc"
		     " 2>/dev/null && qemu-img create -q -f qcow2 base.qcow2 16M && qemu-img create -q -f qcow2 -F qcow2"
		     " -b %s/base.qcow2 child.qcow2",
		     root, root);
		snprintf(f, sizeof f, "%s/raw.img", root);
		ok(gr_image_import(&ctx, "rawdisk", f, NULL, NULL, &info, E) == 0, "import a raw disk (%s)", err.msg);
		is_str(info.kind, "qcow2", "raw disk becomes a qcow2 master");
		ok(t_sh("qemu-img info -U %s | grep -q 'file format: qcow2'", info.path ? info.path : "/x") == 0,
		   "the master really is qcow2");
		gr_image_info_clear(&info);
		snprintf(f, sizeof f, "%s/base.qcow2", root);
		ok(gr_image_import(&ctx, "qdisk", f, NULL, NULL, &info, E) == 0, "import a qcow2 disk (%s)", err.msg);
		is_str(info.kind, "qcow2", "qcow2 stays qcow2");
		gr_image_info_clear(&info);
		snprintf(f, sizeof f, "%s/child.qcow2", root);
		ok(gr_image_import(&ctx, "child", f, NULL, NULL, NULL, E) < 0 && strstr(err.msg, "backing file"),
		   "qcow2 with a backing file is refused (%s)", err.msg);
		ok(gr_image_verify(&ctx, "qdisk", NULL, NULL, E) == 0, "qcow2 master verifies (%s)", err.msg);
	} else {
		skip("qemu-img not installed");
	}

	/* a crashed import's staging folder (dead pid) is swept by the next import */
	t_sh("mkdir -p %s/.stage-crashed-999999999-1/rootfs/x && chmod 555 %s/.stage-crashed-999999999-1", images,
	     images);
	t_sh("mkdir -p %s/.stage-live-%d-1", images, (int)getpid());
	ok(gr_image_import(&ctx, "afterc", src, NULL, NULL, NULL, E) == 0, "import after a crash (%s)", err.msg);
	ok(!t_exists(images, ".stage-crashed-999999999-1"), "stale staging folder of a dead process swept");
	char live[64];
	snprintf(live, sizeof live, ".stage-live-%d-1", (int)getpid());
	ok(t_exists(images, live), "staging folder of a live process kept");
	t_sh("rmdir %s/%s", images, live);

	/* list / get / delete */
	struct gr_image_info *list = NULL;
	size_t n = 0;
	ok(gr_image_list(&ctx, &list, &n, E) == 0, "list images");
	int sorted = 1, has_fromdir = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(list[i - 1].name, list[i].name) >= 0)
			sorted = 0;
		has_fromdir |= !strcmp(list[i].name, "fromdir");
	}
	ok(n >= 6 && sorted && has_fromdir, "list is sorted and complete (%zu images)", n);
	gr_image_info_list_free(list, n);
	ok(gr_image_get(&ctx, "tarzst", &info, E) == 0 && !strcmp(info.checksum, want), "get by name");
	gr_image_info_clear(&info);
	ok(gr_image_delete(&ctx, "tarzst", E) == 0, "delete (%s)", err.msg);
	ok(gr_image_get(&ctx, "tarzst", &info, E) < 0 && err.code == ENOENT, "deleted image is gone");
	ok(gr_image_delete(&ctx, "tarzst", E) < 0 && err.code == ENOENT, "deleting twice is ENOENT");

	/* verify catches tampering */
	memset(&pr, 0, sizeof pr);
	ok(gr_image_verify(&ctx, "tar", on_progress, &pr, E) == 0, "untouched image verifies (%s)", err.msg);
	ok(pr.calls > 0 && strstr(pr.phases, "verify"), "verify reports progress");
	t_sh("echo evil >> %s/tar/rootfs/etc/motd", images);
	ok(gr_image_verify(&ctx, "tar", NULL, NULL, E) < 0 && err.code == EIO && strstr(err.msg, "tampered"),
	   "changed content is detected (%s)", err.msg);
	t_sh("chmod 0777 %s/targz/rootfs/empty", images);
	ok(gr_image_verify(&ctx, "targz", NULL, NULL, E) < 0 && err.code == EIO, "changed mode is detected");
	t_sh("touch %s/tarbz2/rootfs/etc/new-file", images);
	ok(gr_image_verify(&ctx, "tarbz2", NULL, NULL, E) < 0 && err.code == EIO, "added file is detected");
	free(want);
	return tap_done();
}
