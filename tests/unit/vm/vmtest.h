/*
 * vmtest.h - shared by the VM test programs that boot real guests: the debian-vm image
 * built once into a cache under the build folder (keyed by the build's inputs), a
 * scratch folder under /tmp with short socket paths, and cleanup that runs even when a
 * test fails (atexit + signals): kill our QEMU, remove cgroups and files.
 */
#ifndef GR_TESTS_VMTEST_H
#define GR_TESTS_VMTEST_H

#include "vm/image_build.h"
#include "image/image-internal.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "vm/vm.h"
#include "vm/vm-internal.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char vt_scratch[256];
static char vt_cgparent[64];
static char vt_images[512];
static struct gr_image_ctx vt_ctx;
#define VT_MAX 4
static struct gr_vm_spec *vt_specs[VT_MAX];

static void vt_cleanup(void)
{
	for (int i = 0; i < VT_MAX; i++) {
		if (!vt_specs[i])
			continue;
		struct gr__vm_run r;
		if (gr__vm_run_read(vt_specs[i], &r, NULL) == 0 && gr__vm_alive(&r)) {
			kill(r.pid, SIGKILL);
			gr__vm_wait_gone(&r, 5000);
		}
		for (int k = 0; k < 50 && gr_vm_cgroup_remove(gr__vm_cg_parent(vt_specs[i]), vt_specs[i]->name, NULL) < 0;
		     k++)
			usleep(20000);
		vt_specs[i] = NULL;
	}
	if (vt_cgparent[0]) {
		static const char *const ctrls[] = {"cpu", "cpuacct", "memory", NULL};
		for (int i = 0; ctrls[i]; i++) {
			char p[256];
			snprintf(p, sizeof p, "/sys/fs/cgroup/%s/%s", ctrls[i], vt_cgparent);
			rmdir(p);
		}
		char p2[256];
		snprintf(p2, sizeof p2, "/sys/fs/cgroup/%s", vt_cgparent);
		rmdir(p2);
	}
	if (vt_scratch[0])
		gr_rm_rf(vt_scratch, NULL);
	vt_scratch[0] = 0;
}

static void vt_on_signal(int sig)
{
	vt_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void vt_track(struct gr_vm_spec *s)
{
	for (int i = 0; i < VT_MAX; i++)
		if (!vt_specs[i]) {
			vt_specs[i] = s;
			return;
		}
}

/* FNV-1a of the inputs key, as a folder name. */
static char *vt_key_dir(void)
{
	char *key = gr_vm_image_inputs_key();
	uint64_t h = 1469598103934665603ull;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	free(key);
	return xasprintf("%016llx", (unsigned long long)h);
}

/* Build (or reuse) the debian-vm master under <build>/vm-cache/<key>/images/debian-vm. */
static int vt_setup(gr_error_t *err)
{
	snprintf(vt_scratch, sizeof vt_scratch, "/tmp/gr-test-vm-%d", (int)getpid());
	snprintf(vt_cgparent, sizeof vt_cgparent, "gr-test-vm-%d", (int)getpid());
	gr_rm_rf(vt_scratch, NULL);
	if (gr_mkdir_p(vt_scratch, 0700, err) < 0)
		return -1;
	atexit(vt_cleanup);
	signal(SIGINT, vt_on_signal);
	signal(SIGTERM, vt_on_signal);
	signal(SIGABRT, vt_on_signal);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		return gr_error_sys(err, "readlink /proc/self/exe");
	exe[n] = 0;
	/* <build>/tests/vm/test_x -> <build> */
	char *build = dirname(dirname(dirname(exe)));
	const char *env = getenv("GR_VM_CACHE");
	_cleanup_free_ char *key = vt_key_dir();
	snprintf(vt_images, sizeof vt_images, "%s/%s/images", env ? env : build, key);
	if (!env) {
		char tmp[600];
		snprintf(tmp, sizeof tmp, "%s/vm-cache/%s/images", build, key);
		snprintf(vt_images, sizeof vt_images, "%s", tmp);
	}
	static char layers[600];
	snprintf(layers, sizeof layers, "%s/layers", vt_scratch);
	vt_ctx.images_dir = vt_images;
	vt_ctx.layers_dir = layers;
	struct gr_image_info info = {0};
	if (gr_image_get(&vt_ctx, "debian-vm", &info, NULL) == 0) {
		gr_image_info_clear(&info);
		return 0;
	}
	if (gr_mkdir_p(vt_images, 0755, err) < 0)
		return -1;
	_cleanup_free_ char *stage = NULL, *source = NULL;
	if (gr__image_stage(&vt_ctx, "debian-vm", &stage, err) < 0)
		return -1;
	if (gr_vm_image_build(stage, NULL, NULL, NULL, err) < 0) {
		gr__image_stage_discard(stage);
		return -1;
	}
	_cleanup_free_ char *inputs = gr_vm_image_inputs_key();
	source = xasprintf("build:debian-vm %s", inputs);
	gr_error_t e2 = {0};
	struct gr__progress pr;
	gr__progress_init(&pr, NULL, NULL, "checksum");
	if (gr__image_publish(&vt_ctx, "debian-vm", stage, GR_IMAGE_KIND_QCOW2, source, &pr, NULL, &e2) < 0 &&
	    e2.code != EEXIST) {
		*err = e2;
		return -1;
	}
	return 0;
}

/* The disks of a test VM: layers of vt_ctx (what the agent does for the daemon); ud is
 * the instance name. */
static int vt_disk_create(void *ud, gr_error_t *err) { return gr_layer_create_user(&vt_ctx, "debian-vm", ud, err); }
static int vt_disk_remove(void *ud, gr_error_t *err) { return gr_layer_delete(&vt_ctx, ud, err); }
static int vt_disk_open(void *ud, int eph, char **path, gr_error_t *err)
{
	return gr_layer_disk_open(&vt_ctx, ud, eph, path, err);
}
static int vt_disk_close(void *ud, int drop, gr_error_t *err) { return gr_layer_disk_close(&vt_ctx, ud, drop, err); }
static int vt_disk_user_path(void *ud, char **path, gr_error_t *err)
{
	struct gr_layer_info li = {0};
	if (gr_layer_get(&vt_ctx, ud, &li, err) < 0)
		return -1;
	*path = li.user_path ? xstrdup(li.user_path) : NULL;
	gr_layer_info_clear(&li);
	return 0;
}
static int vt_snap_create(void *ud, const char *n, gr_error_t *err) { return gr_layer_snapshot_create(&vt_ctx, ud, n, err); }
static int vt_snap_restore(void *ud, const char *n, gr_error_t *err) { return gr_layer_snapshot_restore(&vt_ctx, ud, n, err); }
static int vt_snap_delete(void *ud, const char *n, gr_error_t *err) { return gr_layer_snapshot_delete(&vt_ctx, ud, n, err); }

/* A spec for instance <prefix>-<pid> in the scratch folder (strings owned by the spec's
 * static storage: one spec per prefix). */
static void vt_spec(struct gr_vm_spec *s, const char *prefix, const char *hostname)
{
	memset(s, 0, sizeof(*s));
	s->name = xasprintf("gr-test-vm-%s-%d", prefix, (int)getpid());
	s->image = "debian-vm";
	struct gr_vm_disks *d = xcalloc(1, sizeof *d);
	*d = (struct gr_vm_disks){ .ud = (void *)s->name, .create = vt_disk_create, .remove = vt_disk_remove,
				   .open = vt_disk_open, .close = vt_disk_close, .user_path = vt_disk_user_path,
				   .snap_create = vt_snap_create, .snap_restore = vt_snap_restore,
				   .snap_delete = vt_snap_delete };
	s->disks = d;
	struct gr_image_info info = {0};
	if (gr_image_get(&vt_ctx, "debian-vm", &info, NULL) == 0) {
		char *dir = xstrdup(info.path), *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		s->boot_dir = dir;
		gr_image_info_clear(&info);
	}
	s->dir = xasprintf("%s/%s", vt_scratch, prefix);
	s->sock_dir = xasprintf("%s/s-%s", vt_scratch, prefix);
	s->hostname = hostname;
	s->memory_mb = 256;
	s->cpus = 1;
	s->cpu_limit = 1.0;
	s->cgroup_parent = vt_cgparent;
	vt_track(s);
}

#endif
