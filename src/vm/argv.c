/*
 * argv.c - the QEMU command line for one instance, from struct gr_vm_config and the
 * host probe.  Pure: no I/O, so unit tests check it exactly.
 *
 * Choices (docs/VM.md): microvm by default (no firmware, no PCI: virtio-mmio devices
 * described in ACPI, the PVH vmlinux boots directly), q35 on request; KVM with -cpu host
 * when usable, else TCG with -cpu qemu64 (a stable model, needed for migration) and the
 * kernel told the TSC rate (tsc_early_khz, tsc=reliable: calibration under TCG is slow
 * and wrong); -nodefaults -no-user-config -display none; block devices with JSON
 * -blockdev (file names need no escaping); chardev sockets with server=on,wait=off for
 * the serial console (also logged to a file), for QMP and for the guest agent's
 * virtio-serial port; a virtio balloon; -sandbox when QEMU has seccomp.  With a maximum
 * above the launch size, QEMU gets the maximum (vCPUs, RAM) and the guest is held to the
 * launch size (kernel maxcpus=, balloon target set after start).
 */
#include "vm/vm.h"
#include "vm/agent_proto.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

struct argv_buf {
	char **v;
	size_t n, cap;
};

static void add(struct argv_buf *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xrealloc(a->v, a->cap * sizeof(char *));
	}
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void add2(struct argv_buf *a, const char *opt, const char *val)
{
	add(a, opt);
	add(a, val);
}

__attribute__((format(printf, 3, 4))) static void addf(struct argv_buf *a, const char *opt, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (opt)
		add(a, opt);
	add(a, s);
	free(s);
}

/* QEMU option values escape ',' as ",,". */
static char *opt_escape(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += *p == ',' ? 2 : 1;
	char *out = xmalloc(n + 1), *o = out;
	for (const char *p = s; *p; p++) {
		*o++ = *p;
		if (*p == ',')
			*o++ = ',';
	}
	*o = 0;
	return out;
}

static char *blockdev_json(const char *node, const char *fmt, const char *file, int read_only)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:{s:s, s:s}}", "node-name", node, "driver", fmt, "read-only",
			      read_only, "file", "driver", "file", "filename", file);
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static int name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			return 0;
	return 1;
}

static int mac_ok(const char *m)
{
	if (strlen(m) != 17)
		return 0;
	for (int i = 0; i < 17; i++) {
		char c = m[i];
		if (i % 3 == 2 ? c != ':' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

const char *gr_vm_accel_pick(const struct gr_vm_config *c, const struct gr_vm_host *h)
{
	if (c->accel && !strcmp(c->accel, "kvm"))
		return "kvm";
	if (c->accel && !strcmp(c->accel, "tcg"))
		return "tcg";
	return h->kvm ? "kvm" : "tcg";
}

/* A stable locally administered MAC from the name: 52:54:00:xx:xx:xx (FNV-1a). */
static void mac_from_name(const char *name, char out[18])
{
	uint32_t hsh = 2166136261u;
	for (const char *p = name; *p; p++)
		hsh = (hsh ^ (unsigned char)*p) * 16777619u;
	snprintf(out, 18, "52:54:00:%02x:%02x:%02x", (hsh >> 16) & 0xff, (hsh >> 8) & 0xff, hsh & 0xff);
}

int gr_vm_argv_build(const struct gr_vm_config *c, const struct gr_vm_host *h, char ***argv_out, gr_error_t *err)
{
	const char *machine = c->machine ? c->machine : "microvm";
	int microvm = !strcmp(machine, "microvm");
	if (!microvm && strcmp(machine, "q35"))
		return gr_error_set(err, EINVAL, "machine: '%s' is not supported (microvm or q35)", machine);
	if (c->accel && strcmp(c->accel, "auto") && strcmp(c->accel, "kvm") && strcmp(c->accel, "tcg"))
		return gr_error_set(err, EINVAL, "accel: '%s' is not one of auto, kvm, tcg", c->accel);
	if (c->accel && !strcmp(c->accel, "kvm") && !h->kvm)
		return gr_error_set(err, ENODEV, "accel: kvm requested but /dev/kvm is not usable on this host");
	if (!name_ok(c->name))
		return gr_error_set(err, EINVAL, "name: '%s' must be 1-128 of [A-Za-z0-9._-]", c->name ? c->name : "");
	if (!c->kernel || !*c->kernel)
		return gr_error_set(err, EINVAL, "kernel: required");
	if (!c->disk || !*c->disk)
		return gr_error_set(err, EINVAL, "disk: required");
	if (!c->qmp_sock || !c->serial_sock)
		return gr_error_set(err, EINVAL, "%s: required", !c->qmp_sock ? "qmp_sock" : "serial_sock");
	size_t maxsun = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	if (strlen(c->qmp_sock) > maxsun || strlen(c->serial_sock) > maxsun)
		return gr_error_set(err, EINVAL, "%s: unix socket path longer than %zu bytes",
				    strlen(c->qmp_sock) > maxsun ? "qmp_sock" : "serial_sock", maxsun);
	unsigned cpus = c->cpus ? c->cpus : 1;
	uint64_t mem = c->memory_mb ? c->memory_mb : 256;
	if (cpus > 255)
		return gr_error_set(err, EINVAL, "cpus: %u is more than 255", cpus);
	unsigned vcpus = c->max_cpus > cpus ? c->max_cpus : cpus;
	if (vcpus > 255)
		return gr_error_set(err, EINVAL, "max_cpus: %u is more than 255", vcpus);
	uint64_t ram = c->max_memory_mb > mem ? c->max_memory_mb : mem;
	if (ram > (1u << 22))
		return gr_error_set(err, EINVAL, "max_memory_mb: %llu is more than 4194304", (unsigned long long)ram);
	if (c->agent_sock && strlen(c->agent_sock) > maxsun)
		return gr_error_set(err, EINVAL, "agent_sock: unix socket path longer than %zu bytes", maxsun);
	if (mem < 32 || mem > (1u << 22))
		return gr_error_set(err, EINVAL, "memory_mb: %llu is outside 32..4194304", (unsigned long long)mem);
	if (c->mac && !mac_ok(c->mac))
		return gr_error_set(err, EINVAL, "mac: '%s' is not xx:xx:xx:xx:xx:xx", c->mac);
	if (c->tap && (!name_ok(c->tap) || strlen(c->tap) > 15))
		return gr_error_set(err, EINVAL, "tap: '%s' is not a valid interface name", c->tap);
	if (c->cmdline && strchr(c->cmdline, '\n'))
		return gr_error_set(err, EINVAL, "cmdline: contains a newline");

	const char *accel = gr_vm_accel_pick(c, h);
	int tcg = !strcmp(accel, "tcg");
	struct argv_buf a = {0};
	add(&a, h->qemu[0] ? h->qemu : "qemu-system-x86_64");
	addf(&a, "-name", "guest=%s,debug-threads=on", c->name);
	if (microvm)
		add2(&a, "-machine", "microvm,acpi=on,pcie=off,rtc=on,isa-serial=on");
	else
		add2(&a, "-machine", "q35");
	add2(&a, "-accel", tcg ? "tcg" : "kvm");
	add2(&a, "-cpu", tcg ? "qemu64" : "host");
	/* every vCPU a resize may reach exists from the start (microvm has no CPU hotplug);
	 * the kernel boots `cpus` of them (maxcpus=), the guest agent onlines the others */
	addf(&a, "-smp", "%u", vcpus);
	addf(&a, "-m", "%llu", (unsigned long long)ram);
	add(&a, "-nodefaults");
	add(&a, "-no-user-config");
	add2(&a, "-display", "none");
	add2(&a, "-kernel", c->kernel);
	if (c->initrd)
		add2(&a, "-initrd", c->initrd);
	char append[2048];
	int n = snprintf(append, sizeof append, "%s", c->cmdline ? c->cmdline : "console=ttyS0");
	if (microvm && n > 0 && (size_t)n < sizeof append)
		n += snprintf(append + n, sizeof append - n, " pci=off");
	if (vcpus > cpus && n > 0 && (size_t)n < sizeof append)
		n += snprintf(append + n, sizeof append - n, " maxcpus=%u", cpus);
	if (tcg && h->tsc_khz && n > 0 && (size_t)n < sizeof append)
		n += snprintf(append + n, sizeof append - n, " tsc_early_khz=%lu tsc=reliable", h->tsc_khz);
	if (n < 0 || (size_t)n >= sizeof append) {
		gr_strv_free(a.v);
		return gr_error_set(err, EINVAL, "cmdline: longer than %zu bytes", sizeof append - 1);
	}
	add2(&a, "-append", append);

	const char *blk = microvm ? "virtio-blk-device" : "virtio-blk-pci";
	char *bd = blockdev_json("root", "qcow2", c->disk, 0);
	add2(&a, "-blockdev", bd);
	free(bd);
	addf(&a, "-device", "%s,drive=root,serial=root", blk);
	if (c->seed) {
		bd = blockdev_json("seed", "raw", c->seed, 1);
		add2(&a, "-blockdev", bd);
		free(bd);
		addf(&a, "-device", "%s,drive=seed,serial=cidata", blk);
	}
	if (c->tap) {
		char mac[18];
		if (c->mac)
			snprintf(mac, sizeof mac, "%s", c->mac);
		else
			mac_from_name(c->name, mac);
		addf(&a, "-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no", c->tap);
		addf(&a, "-device", "%s,netdev=net0,mac=%s", microvm ? "virtio-net-device" : "virtio-net-pci", mac);
	}
	if (c->balloon)
		add2(&a, "-device", microvm ? "virtio-balloon-device,id=balloon0" : "virtio-balloon-pci,id=balloon0");
	if (c->agent_sock) {
		char *ag = opt_escape(c->agent_sock);
		add2(&a, "-device", microvm ? "virtio-serial-device,id=vser0" : "virtio-serial-pci,id=vser0");
		addf(&a, "-chardev", "socket,id=agent,path=%s,server=on,wait=off", ag);
		add2(&a, "-device", "virtserialport,bus=vser0.0,chardev=agent,name=" GR_VM_AGENT_PORT);
		free(ag);
	}
	char *ser = opt_escape(c->serial_sock);
	if (c->console_log) {
		char *log = opt_escape(c->console_log);
		addf(&a, "-chardev", "socket,id=console,path=%s,server=on,wait=off,logfile=%s,logappend=on", ser, log);
		free(log);
	} else {
		addf(&a, "-chardev", "socket,id=console,path=%s,server=on,wait=off", ser);
	}
	free(ser);
	add2(&a, "-serial", "chardev:console");
	char *qmp = opt_escape(c->qmp_sock);
	addf(&a, "-chardev", "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	free(qmp);
	add2(&a, "-mon", "chardev=qmp,mode=control");
	if (c->pidfile)
		add2(&a, "-pidfile", c->pidfile);
	int sandbox = c->sandbox < 0 ? h->seccomp : c->sandbox;
	if (sandbox && !h->seccomp) {
		gr_strv_free(a.v);
		return gr_error_set(err, ENOTSUP, "sandbox: this QEMU was built without seccomp");
	}
	/* spawn=deny would forbid -daemonize's fork, elevateprivileges=deny its setsid and
	 * -runas's setuid (QEMU applies the filter before both). */
	if (sandbox)
		add2(&a, "-sandbox", "on,obsolete=deny,resourcecontrol=deny");
	if (c->runas) {
		if (!name_ok(c->runas)) {
			gr_strv_free(a.v);
			return gr_error_set(err, EINVAL, "runas: '%s' is not a valid user name", c->runas);
		}
		add2(&a, "-runas", c->runas);
	}
	if (c->incoming)
		add2(&a, "-incoming", c->incoming);
	if (c->daemonize)
		add(&a, "-daemonize");
	*argv_out = a.v;
	return 0;
}
