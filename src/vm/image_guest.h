/*
 * image_guest.h - the two shell scripts baked into the debian-vm image (internal to
 * image_build.c): the initramfs /init and the guest init /sbin/gureum-init.  Bump
 * GR__VM_GUEST_REV whenever a script or the recipe's output changes (it is part of the
 * image's inputs key, which keys the test suite's image cache).
 */
#ifndef GR_VM_IMAGE_GUEST_H
#define GR_VM_IMAGE_GUEST_H

#define GR__VM_GUEST_REV "6"

/* initramfs /init: load the modules listed in /lib/modules/load.order (dependencies
 * first), wait for the root disk, mount it and switch_root into the guest init.
 * gureum.root=/dev/vdX on the kernel command line overrides the root disk. */
static const char gr__vm_initrd_init[] =
	"#!/bin/busybox sh\n"
	"# gureum initramfs: load virtio modules, mount the root disk, switch_root.\n"
	"B=/bin/busybox\n"
	"$B mount -t proc proc /proc\n"
	"$B mount -t sysfs sys /sys\n"
	"$B mount -t devtmpfs dev /dev\n"
	"while read -r m; do $B insmod /lib/modules/$m 2>/dev/null; done </lib/modules/load.order\n"
	"root=/dev/vda\n"
	"for a in $($B cat /proc/cmdline); do\n"
	"\tcase $a in gureum.root=/dev/*) root=${a#gureum.root=} ;; esac\n"
	"done\n"
	"i=0\n"
	"while [ ! -b $root ] && [ $i -lt 500 ]; do $B usleep 20000; i=$((i + 1)); done\n"
	"if ! $B mount -t ext4 -o rw $root /newroot; then\n"
	"\techo \"gureum-initrd: cannot mount the root disk $root\"\n"
	"\texec $B sh\n"
	"fi\n"
	"$B umount /proc /sys\n"
	"$B mount --move /dev /newroot/dev\n"
	"exec $B switch_root /newroot /sbin/gureum-init\n";

/* /sbin/gureum-init (PID 1 of the guest). */
static const char gr__vm_guest_init[] =
	"#!/bin/sh\n"
	"# gureum-init: PID 1 of gureum's debian-vm guests.  Reads the NoCloud seed (label\n"
	"# cidata), sets the hostname, applies a static address from network-config, starts\n"
	"# acpid (power button -> clean poweroff), starts the guest agent, prints the readiness line, keeps a root\n"
	"# shell on the serial console.\n"
	"export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sys /sys\n"
	"mount -t devtmpfs dev /dev 2>/dev/null\n"
	"mkdir -p /dev/pts /dev/shm\n"
	"mount -t devpts devpts /dev/pts\n"
	"mount -t tmpfs tmpfs /run\n"
	"mount -t tmpfs tmpfs /tmp\n"
	"mount -o remount,rw /\n"
	"hn=gureum\n"
	"seed=$(findfs LABEL=cidata 2>/dev/null || findfs LABEL=CIDATA 2>/dev/null)\n"
	"mkdir -p /run/cidata\n"
	"if [ -n \"$seed\" ] && { mount -o ro -t vfat \"$seed\" /mnt/seed 2>/dev/null ||\n"
	"\tmount -o ro -t iso9660 \"$seed\" /mnt/seed 2>/dev/null; }; then\n"
	"\tcp /mnt/seed/* /run/cidata/ 2>/dev/null\n"
	"\tumount /mnt/seed\n"
	"fi\n"
	"if [ -f /run/cidata/meta-data ]; then\n"
	"\tv=$(sed -n 's/^local-hostname:[ \\t]*//p' /run/cidata/meta-data | head -n 1 | tr -d \"\\r\\\"'\")\n"
	"\t[ -n \"$v\" ] && hn=$v\n"
	"fi\n"
	"if [ -f /run/cidata/user-data ]; then\n"
	"\tmkdir -p /root/.ssh\n"
	"\tchmod 700 /root/.ssh\n"
	"\tsed -n 's/^[ \\t]*-[ \\t]*[\"]*\\(ssh-[a-z0-9]* [^\"]*\\|ecdsa-[^\"]*\\)[\"]*[ \\t]*$/\\1/p' \\\n"
	"\t\t/run/cidata/user-data >/root/.ssh/authorized_keys\n"
	"fi\n"
	"hostname \"$hn\"\n"
	"echo \"$hn\" >/etc/hostname\n"
	"ip link set lo up\n"
	"for n in /sys/class/net/eth*; do [ -e \"$n\" ] && ip link set \"${n##*/}\" up; done\n"
	"if [ -f /run/cidata/network-config ]; then\n"
	"\tad=$(sed -n 's/.*address[es]*:[ \\t\\[\"-]*\\([0-9.]*\\/[0-9]*\\).*/\\1/p' /run/cidata/network-config | head -n 1)\n"
	"\tgw=$(sed -n 's/.*gateway[4]*:[ \\t\"]*\\([0-9.]*\\).*/\\1/p' /run/cidata/network-config | head -n 1)\n"
	"\t[ -n \"$ad\" ] && [ -e /sys/class/net/eth0 ] && ip addr add \"$ad\" dev eth0\n"
	"\t[ -n \"$gw\" ] && [ -e /sys/class/net/eth0 ] && ip route add default via \"$gw\"\n"
	"fi\n"
	"# dhcp4 (alone, or beside a static address of a gureum network, whose dnsmasq hands out\n"
	"# that same address): busybox udhcpc in the background, applying what it is given\n"
	"if grep -q 'dhcp4: *true' /run/cidata/network-config 2>/dev/null && [ -e /sys/class/net/eth0 ]; then\n"
	"\tprintf '%s\\n' '#!/bin/sh' 'case \"$1\" in bound|renew)' \\\n"
	"\t\t'  ip addr replace \"$ip/$mask\" dev \"$interface\"' \\\n"
	"\t\t'  [ -n \"$router\" ] && ip route replace default via \"${router%% *}\";;' 'esac' 'exit 0' \\\n"
	"\t\t>/run/gureum-dhcp\n"
	"\tchmod 755 /run/gureum-dhcp\n"
	"\t( udhcpc -i eth0 -f -q -n -t 20 -T 2 -s /run/gureum-dhcp >/run/udhcpc.log 2>&1 ) &\n"
	"fi\n"
	"acpid -c /etc/acpi -l /dev/null\n"
	"# the guest agent serves exec on the virtio-serial port org.gureum.agent.0\n"
	"( while :; do /sbin/gureum-guest-agent >>/run/gureum-guest-agent.log 2>&1; sleep 1; done ) &\n"
	"echo \"gureum-guest: ready hostname=$hn\"\n"
	"while :; do\n"
	"\tsetsid -c sh -l </dev/ttyS0 >/dev/ttyS0 2>&1\n"
	"done\n";

/* /etc/acpi/PWRF/00000080: busybox acpid runs it on the ACPI power button. */
static const char gr__vm_power_button[] =
	"#!/bin/sh\n"
	"# power button (QMP system_powerdown): flush and power off.\n"
	"echo \"gureum-guest: powering off\" >/dev/console\n"
	"sync\n"
	"mount -o remount,ro / 2>/dev/null\n"
	"poweroff -f\n";

#endif
