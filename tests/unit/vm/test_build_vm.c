/*
 * test_build_vm.c - the debian-vm recipe's output, without booting it: every file is
 * there, vmlinux is an ELF with a PVH (Xen) note, the initramfs holds /init, busybox and
 * the modules in dependency order, the root disk is qcow2 with an ext4 file system
 * holding the guest init and the power-button handler, vm.json names all of it; a
 * failed build leaves nothing behind.
 */
#include "tap.h"
#include <jansson.h>
#include "vm/image_build.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *capture(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return xstrdup("");
	size_t cap = 1 << 16, len = 0;
	char *buf = xmalloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = xrealloc(buf, cap *= 2);
	}
	buf[len] = 0;
	pclose(p);
	return buf;
}

static long pos(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);
	return p ? p - hay : -1;
}

int main(void)
{
	char dir[] = "/tmp/gr-test-vm-build-XXXXXX";
	if (!ok(mkdtemp(dir) != NULL, "scratch folder"))
		return tap_done();
	gr_error_t e = {0};
	ok(gr_vm_image_build(dir, NULL, NULL, NULL, &e) == 0, "build: %s", e.code ? e.msg : "ok");
	const char *files[] = {"disk.qcow2", "vmlinux", "bzImage", "initrd.img", "vm.json", NULL};
	for (int i = 0; files[i]; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, files[i]);
		struct stat st;
		ok(stat(p, &st) == 0 && st.st_size > 0, "%s exists", files[i]);
	}
	_cleanup_free_ char *leftover = xasprintf("%s/.root", dir);
	ok(access(leftover, F_OK) < 0, "no work files left");

	_cleanup_free_ char *cmd = xasprintf("readelf -h -n %s/vmlinux 2>/dev/null", dir);
	_cleanup_free_ char *elf = capture(cmd);
	ok(strstr(elf, "ELF64") && strstr(elf, "Xen"), "vmlinux is an ELF64 with Xen/PVH notes");

	free(cmd);
	cmd = xasprintf("cpio -it --quiet < %s/initrd.img", dir);
	_cleanup_free_ char *list = capture(cmd);
	ok(strstr(list, "\ninit\n") && strstr(list, "bin/busybox\n"), "initramfs has /init and busybox");
	ok(strstr(list, "lib/modules/virtio_blk.ko") && strstr(list, "lib/modules/virtio_mmio.ko") &&
		   strstr(list, "lib/modules/vfat.ko") && strstr(list, "lib/modules/button.ko"),
	   "initramfs has the virtio, vfat and button modules");
	free(cmd);
	cmd = xasprintf("cd %s && cpio -i --quiet --to-stdout lib/modules/load.order < initrd.img", dir);
	_cleanup_free_ char *order = capture(cmd);
	long ring = pos(order, "virtio_ring.ko"), virtio = pos(order, "virtio.ko"), blk = pos(order, "virtio_blk.ko");
	long fat = pos(order, "fat.ko"), vfat = pos(order, "vfat.ko");
	ok(ring >= 0 && virtio > ring && blk > virtio, "load order: virtio_ring, virtio, virtio_blk");
	ok(fat >= 0 && vfat > fat, "load order: fat before vfat");

	free(cmd);
	cmd = xasprintf("qemu-img info --output=json %s/disk.qcow2", dir);
	_cleanup_free_ char *info = capture(cmd);
	ok(strstr(info, "\"format\": \"qcow2\"") && !strstr(info, "backing-filename"), "disk is a standalone qcow2");
	free(cmd);
	cmd = xasprintf("qemu-img convert -O raw %s/disk.qcow2 %s/r.img && debugfs -R 'cat /sbin/gureum-init' %s/r.img 2>/dev/null; "
			"debugfs -R 'cat /etc/acpi/PWRF/00000080' %s/r.img 2>/dev/null; debugfs -R 'stat /bin/sh' %s/r.img 2>/dev/null",
			dir, dir, dir, dir, dir);
	_cleanup_free_ char *root = capture(cmd);
	ok(strstr(root, GR_VM_READY_LINE "$hn") != NULL, "root disk has the guest init printing the readiness line");
	ok(strstr(root, "poweroff -f") != NULL, "root disk has the power-button handler");
	ok(strstr(root, "Type: symlink") != NULL, "/bin/sh is a busybox applet link");

	_cleanup_free_ char *mp = xasprintf("%s/vm.json", dir);
	json_t *m = json_load_file(mp, 0, NULL);
	ok(m && !strcmp(json_string_value(json_object_get(m, "kernel")), "vmlinux") &&
		   !strcmp(json_string_value(json_object_get(m, "initrd")), "initrd.img") &&
		   !strcmp(json_string_value(json_object_get(m, "machine")), "microvm") &&
		   strstr(json_string_value(json_object_get(m, "cmdline")), "console=ttyS0"),
	   "vm.json names kernel, initrd, machine, cmdline");
	json_decref(m);
	_cleanup_free_ char *key = gr_vm_image_inputs_key();
	ok(strstr(key, "kernel=") && strstr(key, "busybox=") && strstr(key, "guest="), "inputs key: %s", key);
	gr_rm_rf(dir, NULL);

	/* a failing build (unknown kernel) leaves nothing */
	char dir2[] = "/tmp/gr-test-vm-build-XXXXXX";
	mkdtemp(dir2);
	gr_error_clear(&e);
	ok(gr_vm_image_build(dir2, "0.0.0-none", NULL, NULL, &e) < 0 && strstr(e.msg, "vmlinuz-0.0.0-none"),
	   "unknown kernel fails naming it (%s)", e.msg);
	_cleanup_free_ char *ls = xasprintf("ls -A %s | wc -l", dir2);
	_cleanup_free_ char *count = capture(ls);
	is_int(atoi(count), 0, "failed build leaves the folder empty");
	gr_rm_rf(dir2, NULL);
	return tap_done();
}
