/*
 * test_build_debian.c - the debian-base recipe for real: debootstrap minbase from the
 * host's apt mirror, then the result verifies, has a working dpkg/apt, and a shell runs
 * in a clone of it.  It takes minutes and needs the mirror, so it only runs with
 * GR_SLOW_TESTS=1 (docs/ARCHITECTURE.md, image section).
 */
#include "image/image.h"
#include "image/image-internal.h"
#include "util/alloc.h"
#include "tap.h"
#include "common.h"

#include <sched.h>

static int phases_seen;
static void on_progress(const struct gr_image_progress *p, void *ud)
{
	static const char *last;
	if (p->phase != last) {
		diag("phase %s (%llu lines)%s%s", p->phase, (unsigned long long)p->files_done,
		     p->message ? ": " : "", p->message ? p->message : "");
		last = p->phase;
		phases_seen++;
	}
}

int main(void)
{
	char *mirror = NULL, *suite = NULL;
	gr_error_t err = {0};
	int rc = gr__apt_mirror(&mirror, &suite, &err);
	ok(rc == 0 && mirror && suite, "mirror found in apt sources: %s %s", mirror ? mirror : err.msg,
	   suite ? suite : "");
	free(mirror);
	free(suite);
	const char *slow = getenv("GR_SLOW_TESTS");
	if (!slow || strcmp(slow, "1")) {
		skip("debootstrap takes minutes; set GR_SLOW_TESTS=1 to run it");
		return tap_done();
	}
	if (geteuid() != 0) {
		skip("debootstrap needs root");
		return tap_done();
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		skip("cannot make a private mount namespace");
		return tap_done();
	}
	const char *root = t_scratch("debian");
	char images[512], layers[512], mnt[512];
	snprintf(images, sizeof images, "%s/images", root);
	snprintf(layers, sizeof layers, "%s/layers", root);
	snprintf(mnt, sizeof mnt, "%s/mnt", root);
	mkdir(mnt, 0755);
	struct gr_image_ctx ctx = {.images_dir = images, .layers_dir = layers};
	struct gr_image_info info = {0};
	ok(gr_image_build(&ctx, "debian-base", on_progress, NULL, &info, &err) == 0, "build debian-base (%s)",
	   err.msg);
	ok(phases_seen >= 3, "progress went through %d phases", phases_seen);
	diag("source: %s, %llu files, %llu bytes, %s", info.source ? info.source : "?",
	     (unsigned long long)info.files, (unsigned long long)info.size_bytes, info.checksum ? info.checksum : "?");
	char path[600];
	snprintf(path, sizeof path, "%s", info.path ? info.path : "/x");
	ok(t_exists(path, "usr/bin/apt-get") && t_exists(path, "usr/bin/dpkg") && t_exists(path, "etc/debian_version"),
	   "it is a Debian root with dpkg and apt");
	ok(info.size_bytes > 50u << 20, "it has a plausible size (%llu bytes)", (unsigned long long)info.size_bytes);
	gr_image_info_clear(&info);
	ok(t_sh("ls %s/var/cache/apt/archives/*.deb >/dev/null 2>&1", path) != 0, "the package cache is not kept");
	ok(gr_image_verify(&ctx, "debian-base", NULL, NULL, &err) == 0, "it verifies (%s)", err.msg);
	ok(gr_layer_create_user(&ctx, "debian-base", "gr-test-deb1", &err) == 0, "clone it (%s)", err.msg);
	ok(gr_layer_mount_root(&ctx, NULL, "gr-test-deb1", 1, mnt, &err) == 0, "mount an ephemeral root (%s)", err.msg);
	ok(t_sh("chroot %s /bin/sh -c 'dpkg -s base-files >/dev/null && cat /etc/debian_version'", mnt) == 0,
	   "dpkg works inside the clone");
	ok(gr_layer_umount_root(&ctx, "gr-test-deb1", NULL, 1, &err) == 0, "unmount (%s)", err.msg);
	ok(gr_layer_delete(&ctx, "gr-test-deb1", &err) == 0 && gr_image_delete(&ctx, "debian-base", &err) == 0,
	   "clean up");
	return tap_done();
}
