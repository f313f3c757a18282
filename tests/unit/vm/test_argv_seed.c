/*
 * test_argv_seed.c - pure parts of the VM driver: the QEMU argv for given configs and
 * host capabilities (TCG vs KVM, microvm vs q35, seed, tap, sandbox, escaping, bad
 * fields named), the NoCloud documents (and that hostile values are refused), and a real
 * seed image written with mkfs.vfat + mcopy read back with mtools.
 */
#include "tap.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "vm/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static char *joined(char **v)
{
	size_t n = 1;
	for (size_t i = 0; v[i]; i++)
		n += strlen(v[i]) + 1;
	char *s = xcalloc(1, n);
	for (size_t i = 0; v[i]; i++) {
		strcat(s, v[i]);
		strcat(s, v[i + 1] ? " " : "");
	}
	return s;
}

/* does argv have opt followed by val? */
static int has_pair(char **v, const char *opt, const char *val)
{
	for (size_t i = 0; v[i] && v[i + 1]; i++)
		if (!strcmp(v[i], opt) && !strcmp(v[i + 1], val))
			return 1;
	return 0;
}

static int has(char **v, const char *s)
{
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

static const struct gr_vm_config base = {
	.name = "vm1", .kernel = "/img/vmlinux", .initrd = "/img/initrd.img", .cmdline = "console=ttyS0",
	.disk = "/l/vm1/user.qcow2", .qmp_sock = "/run/g/vm1/qmp.sock", .serial_sock = "/run/g/vm1/serial.sock",
	.console_log = "/var/g/vm1/console.log", .pidfile = "/var/g/vm1/qemu.pid", .sandbox = -1, .daemonize = 1,
	.cpus = 2, .memory_mb = 512,
};

static void test_argv(void)
{
	struct gr_vm_host tcg = {.kvm = 0, .seccomp = 1, .tsc_khz = 2596096, .qemu = "qemu-system-x86_64"};
	struct gr_vm_host kvm = {.kvm = 1, .seccomp = 0, .tsc_khz = 0, .qemu = "/usr/bin/qemu-system-x86_64"};
	gr_error_t e = {0};
	char **v = NULL;
	ok(gr_vm_argv_build(&base, &tcg, &v, &e) == 0, "microvm/TCG argv builds");
	_cleanup_free_ char *s = joined(v);
	diag("%s", s);
	is_str(v[0], "qemu-system-x86_64", "argv[0] is the QEMU binary");
	ok(has_pair(v, "-machine", "microvm,acpi=on,pcie=off,rtc=on,isa-serial=on"), "microvm machine");
	ok(has_pair(v, "-accel", "tcg") && has_pair(v, "-cpu", "qemu64"), "TCG with -cpu qemu64");
	ok(has_pair(v, "-append", "console=ttyS0 pci=off tsc_early_khz=2596096 tsc=reliable"),
	   "kernel told the TSC rate under TCG");
	ok(has_pair(v, "-smp", "2") && has_pair(v, "-m", "512"), "cpus and memory");
	ok(has(v, "-nodefaults") && has(v, "-no-user-config") && has_pair(v, "-display", "none"), "no defaults");
	ok(has_pair(v, "-blockdev",
		    "{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\"/l/vm1/user.qcow2\"},"
		    "\"node-name\":\"root\",\"read-only\":false}"),
	   "root disk as JSON blockdev");
	ok(has_pair(v, "-device", "virtio-blk-device,drive=root,serial=root"), "virtio-blk (mmio) for the root disk");
	ok(!strstr(s, "node-name\":\"seed"), "no seed disk when none given");
	ok(!strstr(s, "-netdev"), "no network without a tap");
	ok(has_pair(v, "-chardev",
		    "socket,id=console,path=/run/g/vm1/serial.sock,server=on,wait=off,logfile=/var/g/vm1/console.log,"
		    "logappend=on"),
	   "serial console on a unix socket, logged");
	ok(has_pair(v, "-serial", "chardev:console"), "serial wired to the chardev");
	ok(has_pair(v, "-chardev", "socket,id=qmp,path=/run/g/vm1/qmp.sock,server=on,wait=off") &&
		   has_pair(v, "-mon", "chardev=qmp,mode=control"),
	   "QMP on a unix socket");
	ok(has_pair(v, "-sandbox", "on,obsolete=deny,resourcecontrol=deny"), "sandbox when QEMU has seccomp");
	ok(has_pair(v, "-pidfile", "/var/g/vm1/qemu.pid") && has(v, "-daemonize"), "pidfile + daemonize");
	ok(has_pair(v, "-name", "guest=vm1,debug-threads=on"), "-name");
	gr_strv_free(v);

	struct gr_vm_config c = base;
	c.machine = "q35";
	c.kernel = "/img/bzImage";
	c.seed = "/var/g/vm1/seed.img";
	c.tap = "gtap0";
	c.serial_sock = "/run/a,b/serial.sock";
	c.console_log = NULL;
	c.sandbox = -1;
	c.daemonize = 0;
	ok(gr_vm_argv_build(&c, &kvm, &v, &e) == 0, "q35/KVM argv builds");
	is_str(v[0], "/usr/bin/qemu-system-x86_64", "QEMU path from the host probe");
	ok(has_pair(v, "-machine", "q35") && has_pair(v, "-accel", "kvm") && has_pair(v, "-cpu", "host"),
	   "q35 + kvm + -cpu host");
	ok(has_pair(v, "-append", "console=ttyS0"), "no TCG/microvm additions to the cmdline");
	ok(has_pair(v, "-device", "virtio-blk-pci,drive=root,serial=root") &&
		   has_pair(v, "-device", "virtio-blk-pci,drive=seed,serial=cidata"),
	   "virtio-blk-pci for root and seed");
	_cleanup_free_ char *s2 = joined(v);
	ok(strstr(s2, "\"node-name\":\"seed\",\"read-only\":true") != NULL, "seed disk is read-only");
	ok(has_pair(v, "-netdev", "tap,id=net0,ifname=gtap0,script=no,downscript=no"), "tap netdev");
	ok(strstr(s2, "virtio-net-pci,netdev=net0,mac=52:54:00:") != NULL, "virtio-net with a derived MAC");
	ok(has_pair(v, "-chardev", "socket,id=console,path=/run/a,,b/serial.sock,server=on,wait=off"),
	   "commas in paths are escaped");
	ok(!has(v, "-sandbox") && !has(v, "-daemonize"), "no sandbox without seccomp; no daemonize when not asked");
	gr_strv_free(v);

	c = base;
	c.accel = "tcg";
	ok(gr_vm_argv_build(&c, &kvm, &v, &e) == 0 && has_pair(v, "-accel", "tcg"), "accel=tcg forces TCG");
	gr_strv_free(v);
	is_str(gr_vm_accel_pick(&base, &kvm), "kvm", "auto picks kvm when usable");
	is_str(gr_vm_accel_pick(&base, &tcg), "tcg", "auto picks tcg otherwise");

	struct {
		const char *what, *field;
		void (*mut)(struct gr_vm_config *);
	} bad[] = {
		{"machine pc", "machine", NULL}, {"accel xen", "accel", NULL}, {"kvm unusable", "accel", NULL},
		{"no kernel", "kernel", NULL},   {"no disk", "disk", NULL},     {"long socket", "qmp_sock", NULL},
		{"bad mac", "mac", NULL},        {"bad tap", "tap", NULL},      {"bad name", "name", NULL},
		{"memory", "memory_mb", NULL},   {"sandbox w/o seccomp", "sandbox", NULL},
	};
	char longp[200];
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = 0;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = base;
		const struct gr_vm_host *h = &tcg;
		switch (i) {
		case 0: c.machine = "pc"; break;
		case 1: c.accel = "xen"; break;
		case 2: c.accel = "kvm"; break;
		case 3: c.kernel = NULL; break;
		case 4: c.disk = ""; break;
		case 5: c.qmp_sock = longp; break;
		case 6: c.mac = "52:54:00:zz:00:01"; break;
		case 7: c.tap = "tap;rm"; break;
		case 8: c.name = "a b"; break;
		case 9: c.memory_mb = 8; break;
		case 10: c.sandbox = 1; h = &kvm; break;
		}
		gr_error_clear(&e);
		v = NULL;
		int rc = gr_vm_argv_build(&c, h, &v, &e);
		ok(rc < 0 && v == NULL && strstr(e.msg, bad[i].field) == e.msg, "%s refused naming '%s' (%s)", bad[i].what,
		   bad[i].field, e.msg);
		gr_strv_free(v);
	}
}

static void test_seed(void)
{
	char *keys[] = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host", NULL};
	struct gr_vm_seed s = {.instance_id = "vm1", .hostname = "web1", .user = "ops", .ssh_keys = keys,
			       .address = "10.0.0.5/24", .gateway = "10.0.0.1"};
	char *md = NULL, *ud = NULL, *nc = NULL;
	gr_error_t e = {0};
	ok(gr_vm_seed_render(&s, &md, &ud, &nc, &e) == 0, "seed renders");
	is_str(md, "instance-id: vm1\nlocal-hostname: web1\n", "meta-data");
	ok(ud && !strncmp(ud, "#cloud-config\n", 14) && strstr(ud, "hostname: web1\n") &&
		   strstr(ud, "ssh_authorized_keys:\n  - \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host\"\n") &&
		   strstr(ud, "  - name: ops\n"),
	   "user-data: cloud-config with hostname, keys, user");
	ok(nc && strstr(nc, "version: 2\n") && strstr(nc, "addresses: [10.0.0.5/24]") && strstr(nc, "gateway4: 10.0.0.1"),
	   "network-config: static address and gateway");
	free(md);
	free(ud);
	free(nc);
	struct gr_vm_seed d = {.instance_id = "vm2", .hostname = "db-1.example"};
	ok(gr_vm_seed_render(&d, &md, &ud, &nc, &e) == 0 && strstr(nc, "dhcp4: true") && !strstr(ud, "ssh_"),
	   "no keys, dhcp");
	free(md);
	free(ud);
	free(nc);
	/* a gureum network's NIC: the static address and dhcp4 (same address by reservation) */
	struct gr_vm_seed nd = {.instance_id = "vm3", .hostname = "vm3", .address = "10.207.0.4/24",
				.gateway = "10.207.0.1", .mac = "02:00:00:00:00:01", .dhcp = true};
	ok(gr_vm_seed_render(&nd, &md, &ud, &nc, &e) == 0 && strstr(nc, "addresses: [10.207.0.4/24]") &&
		   strstr(nc, "gateway4: 10.207.0.1") && strstr(nc, "dhcp4: true") && strstr(nc, "02:00:00:00:00:01"),
	   "network NIC: static address, gateway and dhcp4");
	free(md);
	free(ud);
	free(nc);

	const char *bad_hosts[] = {"", "-a", "a-", "a..b", "a_b", "a\nlocal-hostname: evil", "x y", NULL};
	for (size_t i = 0; bad_hosts[i]; i++) {
		struct gr_vm_seed b = {.instance_id = "vm", .hostname = bad_hosts[i]};
		md = NULL;
		ok(gr_vm_seed_render(&b, &md, &ud, &nc, &e) < 0 && e.code == EINVAL && strstr(e.msg, "seed.hostname") &&
			   !md,
		   "hostname #%zu refused", i);
	}
	char *evil_keys[] = {"ssh-rsa AAAA\"\nusers: [root]", NULL};
	struct gr_vm_seed k = {.instance_id = "vm", .hostname = "h", .ssh_keys = evil_keys};
	ok(gr_vm_seed_render(&k, &md, &ud, &nc, &e) < 0 && strstr(e.msg, "seed.ssh_keys[0]"), "YAML injection in a key refused");
	struct gr_vm_seed a = {.instance_id = "vm", .hostname = "h", .address = "10.0.0.300/24"};
	ok(gr_vm_seed_render(&a, &md, &ud, &nc, &e) < 0 && strstr(e.msg, "seed.address"), "bad address refused");
	struct gr_vm_seed g = {.instance_id = "vm", .hostname = "h", .gateway = "10.0.0.1"};
	ok(gr_vm_seed_render(&g, &md, &ud, &nc, &e) < 0 && strstr(e.msg, "seed.gateway"), "gateway without address refused");
	struct gr_vm_seed i = {.instance_id = "vm/../x", .hostname = "h"};
	ok(gr_vm_seed_render(&i, &md, &ud, &nc, &e) < 0 && strstr(e.msg, "seed.instance_id"), "bad instance id refused");

	/* a real image */
	char dir[] = "/tmp/gr-test-vm-seed-XXXXXX";
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	_cleanup_free_ char *img = xasprintf("%s/seed.img", dir);
	ok(gr_vm_seed_write(&s, img, &e) == 0, "seed image written: %s", e.msg);
	_cleanup_free_ char *cmd = xasprintf("mlabel -s -i %s :: 2>/dev/null | grep -q CIDATA && "
					     "mtype -i %s ::/meta-data | grep -q 'local-hostname: web1' && "
					     "mtype -i %s ::/user-data | grep -q ops && mdir -i %s -b ::/ | grep -q network-config",
					     img, img, img, img);
	ok(system(cmd) == 0, "image is vfat labelled CIDATA with the three documents");
	_cleanup_free_ char *left = xasprintf("%s.d", img);
	ok(access(left, F_OK) < 0, "no temporary files left");
	struct gr_vm_seed b = {.instance_id = "vm", .hostname = "bad host"};
	_cleanup_free_ char *img2 = xasprintf("%s/bad.img", dir);
	ok(gr_vm_seed_write(&b, img2, &e) < 0 && access(img2, F_OK) < 0, "invalid seed writes nothing");
	gr_rm_rf(dir, NULL);
}

int main(void)
{
	test_argv();
	test_seed();
	return tap_done();
}
