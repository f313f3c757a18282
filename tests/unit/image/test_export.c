/*
 * test_export.c - a master in transit (export.c): a rootfs with every entry kind exported
 * as a tar and received under another name gives the same checksum; a received stream that
 * is cut short, has a flipped byte, claims another checksum or is not a tar at all is
 * refused with a clear error, and nothing is left in the images folder (no image, no
 * stage).
 */
#include "image/image.h"
#include "util/alloc.h"
#include "tap.h"
#include "common.h"

#include <fcntl.h>

static int only_images(const char *images)
{
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
	const char *root = t_scratch("export");
	char images[512], layers[512], tar[600], bad[600];
	snprintf(images, sizeof images, "%s/images", root);
	snprintf(layers, sizeof layers, "%s/layers", root);
	snprintf(tar, sizeof tar, "%s/busy.tar", root);
	snprintf(bad, sizeof bad, "%s/bad.tar", root);
	struct gr_image_ctx ctx = {.images_dir = images, .layers_dir = layers};
	gr_error_t err = {0};
#define E (gr_error_clear(&err), &err)
	int rc = t_sh("set -e; cd %s; mkdir -p src/bin src/etc src/dev src/empty;"
		      "printf 'hello\\n' > src/etc/motd; head -c 300000 /dev/urandom > src/bin/blob;"
		      "ln src/bin/blob src/bin/blob-hardlink; ln -s ../etc/motd src/bin/motd-link;"
		      "mknod src/dev/null c 1 3; chown 1234:567 src/etc/motd; chmod 4711 src/bin/blob;"
		      "setfattr -n user.gr -v x src/etc/motd 2>/dev/null || true",
		      root);
	ok(rc == 0, "source tree made");
	char src[512];
	snprintf(src, sizeof src, "%s/src", root);
	struct gr_image_info a = {0}, b = {0};
	ok(gr_image_import(&ctx, "orig", src, NULL, NULL, &a, E) == 0, "import (%s)", err.msg);

	int fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok(gr_image_export(&ctx, "orig", fd, E) == 0, "export (%s)", err.msg);
	close(fd);
	ok(gr_image_export(&ctx, "nosuch", 1, E) < 0 && err.code == ENOENT, "export of a missing image: ENOENT");

	ok(gr_image_receive(&ctx, "copy", "rootfs", a.checksum, tar, "fetch:test", NULL, NULL, &b, E) == 0,
	   "receive (%s)", err.msg);
	ok(b.checksum && !strcmp(a.checksum, b.checksum), "same checksum (%s)", b.checksum);
	ok(b.source && !strcmp(b.source, "fetch:test"), "source recorded");
	gr_image_info_clear(&b);
	ok(gr_image_verify(&ctx, "copy", NULL, NULL, E) == 0, "the copy verifies (%s)", err.msg);
	ok(gr_image_receive(&ctx, "copy", "rootfs", a.checksum, tar, NULL, NULL, NULL, NULL, E) < 0 &&
	   err.code == EEXIST, "receiving an existing name: EEXIST");

	/* cut short: half the bytes */
	ok(t_sh("head -c $(( $(stat -c %%s %s) / 2 )) %s > %s", tar, tar, bad) == 0, "short stream made");
	ok(gr_image_receive(&ctx, "short", "rootfs", a.checksum, bad, NULL, NULL, NULL, NULL, E) < 0 &&
	   strstr(err.msg, "'short'"), "short stream refused (%s)", err.msg);
	ok(!t_exists(images, "short") && only_images(images), "nothing left after the short stream");

	/* one byte flipped inside the blob's data (well past the headers) */
	ok(t_sh("cp %s %s && printf 'Z' | dd of=%s bs=1 seek=200000 conv=notrunc status=none", tar, bad, bad) == 0,
	   "corrupted stream made");
	ok(gr_image_receive(&ctx, "flip", "rootfs", a.checksum, bad, NULL, NULL, NULL, NULL, E) < 0 &&
	   err.code == EIO && strstr(err.msg, "checksum mismatch"), "corrupted stream refused (%s)", err.msg);
	ok(!t_exists(images, "flip") && only_images(images), "nothing left after the corrupted stream");

	ok(gr_image_receive(&ctx, "other", "rootfs",
			    "sha256:0000000000000000000000000000000000000000000000000000000000000000", tar, NULL,
			    NULL, NULL, NULL, E) < 0 && err.code == EIO,
	   "a stream of another image refused (%s)", err.msg);
	ok(t_sh("head -c 5000 /dev/urandom > %s", bad) == 0, "garbage made");
	ok(gr_image_receive(&ctx, "junk", "rootfs", a.checksum, bad, NULL, NULL, NULL, NULL, E) < 0,
	   "garbage refused (%s)", err.msg);
	ok(gr_image_receive(&ctx, "kind", "qcow2", a.checksum, tar, NULL, NULL, NULL, NULL, E) < 0 &&
	   strstr(err.msg, "disk.qcow2"), "a rootfs stream received as qcow2 refused (%s)", err.msg);
	ok(gr_image_receive(&ctx, "badsum", "rootfs", "md5:1", tar, NULL, NULL, NULL, NULL, E) < 0 &&
	   err.code == EINVAL && strstr(err.msg, "checksum"), "bad checksum syntax refused");
	ok(!t_exists(images, "junk") && !t_exists(images, "kind") && !t_exists(images, "other") &&
	   only_images(images), "nothing left behind at all");
	gr_image_info_clear(&a);
	return tap_done();
}
