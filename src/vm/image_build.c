/*
 * image_build.c - the "debian-vm" recipe: a bootable VM master made offline from this host's
 * Debian packages (linux-image-cloud-amd64, busybox-static), without root-only loop
 * mounts: the root disk is `mke2fs -d <tree>` then `qemu-img convert` to qcow2, the
 * initramfs is a newc cpio written here, the PVH kernel (vmlinux) is the bzImage's
 * compressed payload run through its decompressor (the kernel's extract-vmlinux idea).
 * See image_build.h for the layout of the result.  Work happens inside dest_dir and is
 * removed on every path; a failed build leaves only what the caller's stage held.
 */
#include "vm/image_build.h"
#include "vm/image_guest.h"
#include "util/alloc.h"
#include "util/proc.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Programs of the build, through the process runner (their output's tail in the error). */
static int run(char *const argv[], gr_error_t *err)
{
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE, .fd_err = GR_PROC_PIPE };
	return gr_proc_run(&p, err);
}

static int run_capture(char *const argv[], size_t max, char **out, gr_error_t *err)
{
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE, .fd_err = GR_PROC_PIPE,
			     .capture = out, .capture_max = max };
	return gr_proc_run(&p, err);
}

#define BUSYBOX_BIN "/bin/busybox"
#define ROOT_DISK_SIZE "256M"
#define VM_CMDLINE "console=ttyS0 panic=-1 quiet"
/* where a qcow2 recipe leaves its disk in the stage (the image module's recipe contract) */
#define GR__DISK "disk.qcow2"

/* Modules the initramfs loads (plus their dependencies from modules.dep). */
static const char *const initrd_modules[] = {
	"virtio_pci", "virtio_mmio", "virtio_blk", "virtio_net", "virtio_console", "vfat",
	"nls_cp437", "nls_ascii", "nls_iso8859-1", "isofs", "button", "evdev", "virtio_balloon", NULL,
};

static int newest_kernel(char **version, gr_error_t *err)
{
	static const char *const pats[] = {"/boot/vmlinuz-*-cloud-amd64", "/boot/vmlinuz-*"};
	for (size_t p = 0; p < 2; p++) {
		glob_t g;
		if (glob(pats[p], 0, NULL, &g) != 0)
			continue;
		/* glob sorts; pick the last by version order */
		const char *best = NULL;
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (!best || strverscmp(g.gl_pathv[i], best) > 0)
				best = g.gl_pathv[i];
		if (best)
			*version = xstrdup(best + strlen("/boot/vmlinuz-"));
		globfree(&g);
		if (best)
			return 0;
	}
	return gr_error_set(err, ENOENT, "no kernel in /boot/vmlinuz-*: install linux-image-cloud-amd64");
}

/* Copy a regular file (mode given). */
static int copy_file(const char *src, const char *dst, mode_t mode, gr_error_t *err)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return gr_error_sys(err, "cannot open %s", src);
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		return gr_error_sys(err, "cannot create %s", dst);
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return gr_error_sys(err, "cannot read %s", src);
		if (n == 0)
			break;
		if (gr_write_all(out, buf, (size_t)n) < 0)
			return gr_error_sys(err, "cannot write %s", dst);
	}
	if (fchmod(out, mode) < 0)
		return gr_error_sys(err, "cannot chmod %s", dst);
	return 0;
}

/* ---- newc cpio writer -------------------------------------------------------------- */

struct cpio {
	FILE *f;
	unsigned ino;
};

static int cpio_entry(struct cpio *c, const char *name, mode_t mode, const void *data, size_t len)
{
	size_t namesz = strlen(name) + 1;
	fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ++c->ino, (unsigned)mode,
		0u, 0u, 1u, 0u, len, 0u, 0u, 0u, 0u, namesz, 0u);
	fwrite(name, 1, namesz, c->f);
	static const char zeros[4] = {0};
	fwrite(zeros, 1, (4 - ((110 + namesz) & 3)) & 3, c->f);
	if (len) {
		fwrite(data, 1, len, c->f);
		fwrite(zeros, 1, (4 - (len & 3)) & 3, c->f);
	}
	return ferror(c->f) ? -1 : 0;
}

static int cpio_file(struct cpio *c, const char *name, const char *src, mode_t mode, gr_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (gr_read_file(src, 0, &data, &len, err) < 0)
		return -1;
	if (cpio_entry(c, name, S_IFREG | mode, data, len) < 0)
		return gr_error_sys(err, "cannot write the initramfs entry %s", name);
	return 0;
}

/* modules.dep: "kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko" (deps listed so that the last
 * one is loaded first).  Appends path's deps then path to order (no duplicates). */
static void add_module(json_t *dep, const char *path, char ***order, size_t *n, int depth)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*order)[i], path))
			return;
	json_t *deps = json_object_get(dep, path);
	if (deps && depth < 16)
		for (size_t i = json_array_size(deps); i-- > 0;)
			add_module(dep, json_string_value(json_array_get(deps, i)), order, n, depth + 1);
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*order)[i], path))
			return;
	*order = xrealloc(*order, (*n + 2) * sizeof(char *));
	(*order)[(*n)++] = xstrdup(path);
	(*order)[*n] = NULL;
}

static int module_order(const char *kver, char ***order, gr_error_t *err)
{
	_cleanup_free_ char *path = xasprintf("/lib/modules/%s/modules.dep", kver);
	_cleanup_free_ char *text = NULL;
	if (gr_read_file(path, 64 << 20, &text, NULL, err) < 0)
		return gr_error_prefix(err, "kernel %s modules", kver);
	json_t *dep = json_object(); /* path -> [deps] */
	json_t *byname = json_object(); /* short name -> path */
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = 0;
		json_t *list = json_array();
		char *s2 = NULL;
		for (char *d = strtok_r(colon + 1, " ", &s2); d; d = strtok_r(NULL, " ", &s2))
			json_array_append_new(list, json_string(d));
		json_object_set_new(dep, line, list);
		const char *base = strrchr(line, '/');
		base = base ? base + 1 : line;
		_cleanup_free_ char *nm = xstrdup(base);
		char *dot = strstr(nm, ".ko");
		if (dot)
			*dot = 0;
		for (char *p = nm; *p; p++)
			if (*p == '-')
				*p = '_';
		json_object_set_new(byname, nm, json_string(line));
	}
	size_t n = 0;
	*order = NULL;
	int rc = 0;
	for (size_t i = 0; initrd_modules[i]; i++) {
		_cleanup_free_ char *nm = xstrdup(initrd_modules[i]);
		for (char *p = nm; *p; p++)
			if (*p == '-')
				*p = '_';
		const char *p = json_string_value(json_object_get(byname, nm));
		if (!p)
			continue; /* built into this kernel */
		add_module(dep, p, order, &n, 0);
	}
	if (!*order)
		*order = xcalloc(1, sizeof(char *));
	json_decref(dep);
	json_decref(byname);
	return rc;
}

static int build_initrd(const char *kver, const char *out, gr_error_t *err)
{
	_cleanup_strv_ char **order = NULL;
	if (module_order(kver, &order, err) < 0)
		return -1;
	FILE *f = fopen(out, "we");
	if (!f)
		return gr_error_sys(err, "cannot create %s", out);
	struct cpio c = {f, 0};
	static const char *const dirs[] = {"bin", "dev", "proc", "sys", "newroot", "lib", "lib/modules"};
	int rc = 0;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == 0; i++)
		rc = cpio_entry(&c, dirs[i], S_IFDIR | 0755, NULL, 0);
	if (rc == 0)
		rc = cpio_entry(&c, "init", S_IFREG | 0755, gr__vm_initrd_init, strlen(gr__vm_initrd_init));
	if (rc < 0)
		gr_error_sys(err, "cannot write %s", out);
	if (rc == 0)
		rc = cpio_file(&c, "bin/busybox", BUSYBOX_BIN, 0755, err);
	size_t cap = 1;
	for (size_t i = 0; order[i]; i++)
		cap += strlen(order[i]) + 2;
	_cleanup_free_ char *list = xcalloc(1, cap);
	for (size_t i = 0; order[i] && rc == 0; i++) {
		const char *base = strrchr(order[i], '/');
		base = base ? base + 1 : order[i];
		_cleanup_free_ char *src = xasprintf("/lib/modules/%s/%s", kver, order[i]);
		_cleanup_free_ char *dst = xasprintf("lib/modules/%s", base);
		rc = cpio_file(&c, dst, src, 0644, err);
		strcat(list, base);
		strcat(list, "\n");
	}
	if (rc == 0 && (cpio_entry(&c, "lib/modules/load.order", S_IFREG | 0644, list, strlen(list)) < 0 ||
			cpio_entry(&c, "TRAILER!!!", 0, NULL, 0) < 0))
		rc = gr_error_sys(err, "cannot write %s", out);
	if (fclose(f) != 0 && rc == 0)
		rc = gr_error_sys(err, "cannot write %s", out);
	return rc;
}

/* ---- vmlinux from bzImage -------------------------------------------------------------- */

/* Run argv with stdin from in_path and stdout to out_path; returns the exit status
 * (-1 when it could not run). */
static int run_filter(char *const argv[], const char *in_path, const char *out_path)
{
	_cleanup_close_ int in = open(in_path, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || out < 0)
		return -1;
	int status = 0;
	struct gr_proc p = { .argv = argv, .fd_in = in, .fd_out = out, .fd_err = GR_PROC_NULL,
			     .exit_status = &status };
	return gr_proc_run(&p, NULL) < 0 ? -1 : status;
}

static int is_elf64(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char h[5];
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && st.st_size > (1 << 20) && read(fd, h, 5) == 5 &&
	       !memcmp(h, "\177ELF\2", 5);
}

static int extract_vmlinux(const char *bzimage, const char *out, const char *workdir, gr_error_t *err)
{
	static const struct { const char *magic; size_t len; const char *tool; } fmts[] = {
		{"\x02\x21\x4c\x18", 4, "lz4"}, {"\x1f\x8b\x08", 3, "gzip"}, {"\xfd" "7zXZ\x00", 6, "xz"},
		{"\x28\xb5\x2f\xfd", 4, "zstd"}, {"BZh", 3, "bzip2"}, {"\x5d\x00\x00", 3, "lzma"},
	};
	_cleanup_free_ char *img = NULL;
	size_t len = 0;
	if (gr_read_file(bzimage, 256 << 20, &img, &len, err) < 0)
		return -1;
	_cleanup_free_ char *payload = xasprintf("%s/.payload", workdir);
	for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
		int tries = 0;
		for (size_t off = 0; off + fmts[f].len <= len && tries < 8; off++) {
			if (memcmp(img + off, fmts[f].magic, fmts[f].len))
				continue;
			tries++;
			gr_error_t e2 = {0};
			if (gr_write_file_atomic(payload, img + off, len - off, 0600, &e2) < 0)
				return gr_error_set(err, e2.code, "%s", e2.msg);
			char *argv[] = {(char *)fmts[f].tool, "-dc", NULL};
			/* Trailing bytes after the stream make some tools exit 1: the ELF check decides. */
			run_filter(argv, payload, out);
			unlink(payload);
			if (is_elf64(out))
				return 0;
		}
	}
	unlink(out);
	return gr_error_set(err, EINVAL, "%s: no compressed kernel payload that decompresses to an ELF vmlinux "
			    "(tried lz4, gzip, xz, zstd, bzip2, lzma)", bzimage);
}

/* ---- the guest agent ------------------------------------------------------------------ */

/* The static gureum-guest-agent (src/guest/): $GR_GUEST_AGENT, else beside the running
 * program (gureumd in build/bin), else build/bin seen from a unit test in
 * build/tests/<module>/, else the installed copy (PREFIX/libexec/gureum/ beside
 * PREFIX/bin/gureumd, or /usr/libexec/gureum/).  malloc'd path or NULL. */
char *gr_vm_image_agent_path(void)
{
	const char *env = getenv("GR_GUEST_AGENT");
	if (env && *env)
		return access(env, R_OK) == 0 ? xstrdup(env) : NULL;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		static const char *const rel[] = {"gureum-guest-agent", "../../bin/gureum-guest-agent",
						  "../libexec/gureum/gureum-guest-agent"};
		for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
			char *p = xasprintf("%s/%s", exe, rel[i]);
			if (access(p, R_OK) == 0)
				return p;
			free(p);
		}
	}
	if (access("/usr/libexec/gureum/gureum-guest-agent", R_OK) == 0)
		return xstrdup("/usr/libexec/gureum/gureum-guest-agent");
	return NULL;
}

/* FNV-1a of the agent binary (part of the image's inputs key), "none" when missing. */
static char *agent_hash(void)
{
	_cleanup_free_ char *path = gr_vm_image_agent_path();
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (!path || gr_read_file(path, 64 << 20, &data, &len, NULL) < 0)
		return xstrdup("none");
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)data[i]) * 1099511628211ull;
	return xasprintf("%016llx", (unsigned long long)h);
}

/* ---- root disk ------------------------------------------------------------------------ */

static int write_text(const char *root, const char *rel, const char *text, mode_t mode, gr_error_t *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", root, rel);
	return gr_write_file_atomic(path, text, strlen(text), mode, err);
}

static int fill_root(const char *root, gr_error_t *err)
{
	static const struct { const char *path; mode_t mode; } dirs[] = {
		{"", 0755}, {"bin", 0755}, {"sbin", 0755}, {"usr", 0755}, {"usr/bin", 0755},
		{"usr/sbin", 0755}, {"etc", 0755}, {"etc/acpi", 0755}, {"etc/acpi/PWRF", 0755},
		{"proc", 0555}, {"sys", 0555}, {"dev", 0755}, {"tmp", 01777}, {"root", 0700},
		{"home", 0755}, {"var", 0755}, {"var/tmp", 01777}, {"var/log", 0755}, {"run", 0755},
		{"mnt", 0755}, {"mnt/seed", 0755}, {"lib", 0755},
	};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", root, dirs[i].path);
		if ((mkdir(d, 0755) < 0 && errno != EEXIST) || chmod(d, dirs[i].mode) < 0)
			return gr_error_sys(err, "cannot create %s", d);
	}
	_cleanup_free_ char *bb = xasprintf("%s/bin/busybox", root);
	if (copy_file(BUSYBOX_BIN, bb, 0755, err) < 0)
		return gr_error_prefix(err, "install busybox-static");
	/* applet links, e.g. /bin/sh -> /bin/busybox */
	char *argv[] = {BUSYBOX_BIN, "--list-full", NULL};
	_cleanup_free_ char *list = NULL;
	if (run_capture(argv, 1 << 20, &list, err) < 0)
		return gr_error_prefix(err, "busybox --list-full");
	char *save = NULL;
	for (char *l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!*l || strstr(l, "..") || !strcmp(l, "bin/busybox"))
			continue;
		_cleanup_free_ char *link = xasprintf("%s/%s", root, l);
		if (symlink("/bin/busybox", link) < 0 && errno != EEXIST)
			return gr_error_sys(err, "cannot link %s", link);
	}
	if (write_text(root, "sbin/gureum-init", gr__vm_guest_init, 0755, err) < 0 ||
	    write_text(root, "etc/acpi/PWRF/00000080", gr__vm_power_button, 0755, err) < 0 ||
	    write_text(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644, err) < 0 ||
	    write_text(root, "etc/group", "root:x:0:\n", 0644, err) < 0 ||
	    write_text(root, "etc/shadow", "root:*:19000:0:99999:7:::\n", 0600, err) < 0 ||
	    write_text(root, "etc/hostname", "gureum\n", 0644, err) < 0 ||
	    write_text(root, "etc/profile", "export PATH=/sbin:/bin:/usr/sbin:/usr/bin\nPS1='\\h:\\w# '\n", 0644,
		       err) < 0 ||
	    write_text(root, "etc/gureum-release", "gureum debian-vm guest " GR__VM_GUEST_REV "\n", 0644, err) < 0)
		return -1;
	_cleanup_free_ char *agent = gr_vm_image_agent_path();
	if (!agent)
		return gr_error_set(err, ENOENT, "gureum-guest-agent not found (beside this program, or $GR_GUEST_AGENT): "
				    "build it with `make`");
	_cleanup_free_ char *agent_dst = xasprintf("%s/sbin/gureum-guest-agent", root);
	if (copy_file(agent, agent_dst, 0755, err) < 0)
		return gr_error_prefix(err, "install the guest agent");
	_cleanup_free_ char *init = xasprintf("%s/sbin/init", root);
	if (symlink("/sbin/gureum-init", init) < 0 && errno != EEXIST)
		return gr_error_sys(err, "cannot link %s", init);
	return 0;
}

static char *pkg_version(const char *pkg)
{
	char *argv[] = {"dpkg-query", "-W", "-f=${Version}", (char *)pkg, NULL};
	char *out = NULL;
	if (run_capture(argv, 256, &out, NULL) < 0 || !out || !*out) {
		free(out);
		return xstrdup("unknown");
	}
	return out;
}

char *gr_vm_image_inputs_key(void)
{
	_cleanup_free_ char *kver = NULL;
	if (newest_kernel(&kver, NULL) < 0)
		kver = xstrdup("none");
	_cleanup_free_ char *pkg = xasprintf("linux-image-%s", kver);
	_cleanup_free_ char *kv = pkg_version(pkg);
	_cleanup_free_ char *bv = pkg_version("busybox-static");
	_cleanup_free_ char *ah = agent_hash();
	return xasprintf("kernel=%s/%s busybox=%s guest=%s agent=%s", kver, kv, bv, GR__VM_GUEST_REV, ah);
}

struct progress {
	gr_vm_build_progress_fn fn;
	void *ud;
};

static void step(struct progress *pr, const char *phase, const char *msg)
{
	if (pr->fn)
		pr->fn(phase, msg, pr->ud);
}

int gr_vm_image_build(const char *dest, const char *kernel_version, gr_vm_build_progress_fn progress, void *ud,
		      gr_error_t *err)
{
	struct progress pr = { progress, ud };
	struct stat st;
	if (stat(BUSYBOX_BIN, &st) < 0)
		return gr_error_set(err, ENOENT, "%s not found: install the busybox-static package", BUSYBOX_BIN);
	_cleanup_free_ char *kver = kernel_version ? xstrdup(kernel_version) : NULL;
	if (!kver && newest_kernel(&kver, err) < 0)
		return -1;
	_cleanup_free_ char *bz_src = xasprintf("/boot/vmlinuz-%s", kver);
	_cleanup_free_ char *bz = xasprintf("%s/bzImage", dest);
	_cleanup_free_ char *vmlinux = xasprintf("%s/vmlinux", dest);
	_cleanup_free_ char *initrd = xasprintf("%s/initrd.img", dest);
	_cleanup_free_ char *disk = xasprintf("%s/" GR__DISK, dest);
	_cleanup_free_ char *raw = xasprintf("%s/.root.ext4", dest);
	_cleanup_free_ char *tree = xasprintf("%s/.root", dest);
	_cleanup_free_ char *manifest = xasprintf("%s/" GR_VM_IMAGE_MANIFEST, dest);

	step(&pr, "kernel", bz_src);
	if (copy_file(bz_src, bz, 0644, err) < 0)
		goto fail;
	if (extract_vmlinux(bz, vmlinux, dest, err) < 0)
		goto fail;
	step(&pr, "initrd", "virtio, vfat, button modules + busybox");
	if (build_initrd(kver, initrd, err) < 0)
		goto fail;
	step(&pr, "rootfs", "busybox root file system");
	if (fill_root(tree, err) < 0)
		goto fail;
	step(&pr, "mke2fs", "ext4 root disk from the tree (mke2fs -d)");
	char *mk[] = {"mke2fs", "-q", "-F", "-t", "ext4", "-L", "gureum-root", "-E", "root_owner=0:0", "-d", tree,
		      raw, ROOT_DISK_SIZE, NULL};
	if (run(mk, err) < 0)
		goto fail;
	step(&pr, "convert", "qemu-img convert to qcow2");
	char *cv[] = {"qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, disk, NULL};
	if (run(cv, err) < 0)
		goto fail;
	json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kernel", "vmlinux", "bzimage",
			      "bzImage", "initrd", "initrd.img", "disk", GR__DISK, "cmdline", VM_CMDLINE,
			      "kernel_version", kver, "machine", "microvm", "guest_init",
			      "gureum-init " GR__VM_GUEST_REV);
	char *text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(m);
	int rc = gr_write_file_atomic(manifest, text, strlen(text), 0644, err);
	free(text);
	if (rc < 0)
		goto fail;
	unlink(raw);
	gr_rm_rf(tree, NULL);
	step(&pr, "done", NULL);
	return 0;
fail:
	gr_error_prefix(err, "building the debian-vm image");
	unlink(raw);
	gr_rm_rf(tree, NULL);
	unlink(bz);
	unlink(vmlinux);
	unlink(initrd);
	unlink(disk);
	unlink(manifest);
	return -1;
}
