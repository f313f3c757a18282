/*
 * image_build.h - the "debian-vm" master image, built offline from this host's Debian
 * packages.  The VM module owns it; the agent offers it to the image module as a recipe
 * (the VM driver's `recipes`), which checksums and publishes what this writes.
 *
 * A debian-vm image folder holds, besides the image module's image.json:
 *     disk.qcow2   ext4 root file system (label gureum-root): static busybox, applet links,
 *                  /sbin/gureum-init (the guest init), /etc/acpi power-button handler
 *     vmlinux      the cloud kernel uncompressed (ELF with a PVH note: -M microvm boots it
 *                  directly, no firmware)
 *     bzImage      the same kernel as packaged (q35, or microvm through qboot)
 *     initrd.img   newc cpio: busybox + the virtio/vfat/button modules of that kernel; its
 *                  /init loads them, mounts /dev/vda and switch_roots to /sbin/gureum-init
 *     vm.json      {"kernel","bzimage","initrd","cmdline","kernel_version","machine",
 *                   "guest_init"}: what gr_vm_* need to boot the image
 * The guest init mounts proc/sys/dev, reads the NoCloud seed (vfat or iso9660 labelled
 * "cidata": meta-data local-hostname, user-data ssh_authorized_keys), sets the hostname,
 * starts busybox acpid (power button -> sync, poweroff), prints
 *     gureum-guest: ready hostname=<h>
 * on the serial console, then keeps a root shell on it.
 */
#ifndef GR_VM_IMAGE_BUILD_H
#define GR_VM_IMAGE_BUILD_H

#include "util/error.h"

#define GR_VM_IMAGE_MANIFEST "vm.json"
#define GR_VM_READY_LINE "gureum-guest: ready hostname="

/* Each step of the build: phase ("kernel", "initrd", "rootfs", "mke2fs", "convert",
 * "done") and what it does (may be NULL). */
typedef void (*gr_vm_build_progress_fn)(const char *phase, const char *message, void *ud);

/* Write the files above (but image.json) into dest_dir, which must exist and be empty of
 * them.  kernel_version NULL = the newest /boot/vmlinuz-*-cloud-amd64 (else any vmlinuz).
 * progress may be NULL.  Reentrant; temporary work stays inside dest_dir and is removed. */
int gr_vm_image_build(const char *dest_dir, const char *kernel_version, gr_vm_build_progress_fn progress,
		      void *ud, gr_error_t *err);

/* A string that changes whenever the build's inputs change (kernel version and its package
 * version, busybox version, the guest-init revision): for caching built images in tests. */
char *gr_vm_image_inputs_key(void);
/* Where the static guest agent (src/guest/gureum-guest-agent) to install is: malloc'd
 * path, NULL when not found ($GR_GUEST_AGENT, beside the running program, build/bin). */
char *gr_vm_image_agent_path(void);

#endif
