/*
 * host.c - what this host offers QEMU, probed once per process: a usable KVM (the device
 * opens, KVM_CREATE_VM works and the CPU advertises vmx/svm — a /dev/kvm that merely
 * opens is not enough: sandboxes expose one whose guests never run), whether QEMU was
 * built with seccomp (-sandbox on), and the host TSC frequency for TCG guests.
 */
#include "vm/vm.h"
#include "util/alloc.h"
#include "util/proc.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gr_vm_host cached;
static int cached_ok;

static int cpu_has_virt(void)
{
	_cleanup_free_ char *info = NULL;
	if (gr_read_file("/proc/cpuinfo", 8 << 20, &info, NULL, NULL) < 0)
		return 0;
	char *flags = strstr(info, "\nflags");
	if (!flags)
		return 0;
	char *end = strchr(flags + 1, '\n');
	if (end)
		*end = 0;
	return strstr(flags, " vmx") != NULL || strstr(flags, " svm") != NULL;
}

static int kvm_usable(void)
{
	const char *force = getenv("GR_VM_KVM");
	if (force)
		return atoi(force) > 0;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int ok = ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
	if (ok) {
		int vm = ioctl(fd, KVM_CREATE_VM, 0);
		ok = vm >= 0;
		if (vm >= 0)
			close(vm);
	}
	close(fd);
	return ok && cpu_has_virt();
}

static unsigned long tsc_khz(void)
{
	_cleanup_free_ char *info = NULL;
	if (gr_read_file("/proc/cpuinfo", 8 << 20, &info, NULL, NULL) < 0)
		return 0;
	const char *m = strstr(info, "cpu MHz");
	if (!m || !(m = strchr(m, ':')))
		return 0;
	double mhz = strtod(m + 1, NULL);
	return mhz > 0 ? (unsigned long)(mhz * 1000.0) : 0;
}

/* `qemu -sandbox on -version`: options are parsed in order, so a QEMU built without
 * seccomp rejects -sandbox (exit 1) before -version prints and exits 0. */
static int qemu_has_seccomp(const char *qemu)
{
	char *argv[] = {(char *)qemu, "-sandbox", "on", "-version", NULL};
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_NULL, .fd_err = GR_PROC_NULL };
	return gr_proc_run(&p, NULL) == 0;
}

int gr_vm_host_probe(struct gr_vm_host *h, gr_error_t *err)
{
	pthread_mutex_lock(&probe_lock);
	if (!cached_ok) {
		memset(&cached, 0, sizeof cached);
		const char *q = getenv("GR_QEMU");
		snprintf(cached.qemu, sizeof cached.qemu, "%s", q && *q ? q : "qemu-system-x86_64");
		cached.kvm = kvm_usable();
		cached.tsc_khz = tsc_khz();
		cached.seccomp = qemu_has_seccomp(cached.qemu);
		cached_ok = 1;
	}
	*h = cached;
	pthread_mutex_unlock(&probe_lock);
	(void)err;
	return 0;
}
